"""Tests of the second-stage clustering of the units (``n_clusters``)."""

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from sksom import SOMClusterer
from sksom._topology import adjacency

X_BLOBS, Y_BLOBS = make_blobs(200, centers=4, n_features=3, cluster_std=0.5, random_state=0)
X_NEW, _ = make_blobs(50, centers=4, n_features=3, cluster_std=0.5, random_state=1)

LATTICES = [
    ((6, 7), "rectangular", False),
    ((6, 7), "hexagonal", False),
    ((6, 7), "rectangular", True),
    ((6, 7), "hexagonal", True),
]


def n_regions(map_size, topology, periodic, unit_labels):
    """Number of connected regions of each cluster on the lattice."""
    adjacent = adjacency(map_size, topology, periodic)
    regions = []
    for cluster in np.unique(unit_labels):
        members = np.flatnonzero(unit_labels == cluster)
        sub = sparse.csr_matrix(adjacent[np.ix_(members, members)])
        regions.append(connected_components(sub, directed=False)[0])
    return regions


@pytest.mark.parametrize("map_size, topology, periodic", LATTICES)
@pytest.mark.parametrize("n_clusters", [3, 5])
def test_clusters_are_connected_regions(map_size, topology, periodic, n_clusters):
    """Check that every cluster of units is one connected region of the map."""
    som = SOMClusterer(map_size, topology=topology, periodic=periodic, n_clusters=n_clusters, random_state=0)
    som.fit(X_BLOBS)
    assert som.unit_labels_.shape == (map_size[0] * map_size[1],)
    assert set(som.unit_labels_) == set(range(n_clusters))
    assert n_regions(map_size, topology, periodic, som.unit_labels_) == [1] * n_clusters


def test_clusters_connected_after_partial_fit():
    """Check that partial_fit also clusters the units into connected regions."""
    som = SOMClusterer((5, 6), topology="hexagonal", n_clusters=4, random_state=0)
    for chunk in np.array_split(X_BLOBS, 3):
        som.partial_fit(chunk)
    assert n_regions((5, 6), "hexagonal", False, som.unit_labels_) == [1] * 4


def test_clusters_recover_separated_blobs():
    """Check that four clusters of the units recover four well-separated blobs."""
    som = SOMClusterer((6, 6), n_clusters=4, random_state=0).fit(X_BLOBS)
    assert adjusted_rand_score(Y_BLOBS, som.labels_) == 1.0
    assert adjusted_rand_score(Y_BLOBS, som.predict(X_BLOBS)) == 1.0


@pytest.mark.parametrize("n_clusters", [4, KMeans(n_clusters=4, n_init=3, random_state=0)])
def test_predict_is_cluster_of_bmu(n_clusters):
    """Check that predict returns the cluster of each sample's BMU, and labels_ those of the training data."""
    som = SOMClusterer((5, 5), n_clusters=n_clusters, random_state=0).fit(X_BLOBS)
    assert np.array_equal(som.predict(X_NEW), som.unit_labels_[som.best_matching_unit(X_NEW)])
    assert np.array_equal(som.labels_, som.predict(X_BLOBS))
    # the distances to the units do not depend on the second stage
    plain = SOMClusterer((5, 5), random_state=0).fit(X_BLOBS)
    assert np.allclose(som.transform(X_NEW), plain.transform(X_NEW))


def test_clusterer_passed_in_is_cloned_and_fitted_on_codebook():
    """Check that a scikit-learn clusterer is cloned and clusters the codebook."""
    kmeans = KMeans(n_clusters=3, n_init=3, random_state=0)
    som = SOMClusterer((4, 5), n_clusters=kmeans, random_state=0).fit(X_BLOBS)
    assert not hasattr(kmeans, "cluster_centers_")
    expected = KMeans(n_clusters=3, n_init=3, random_state=0).fit(som.cluster_centers_).labels_
    assert np.array_equal(som.unit_labels_, expected)


class FitOnlyClusterer(BaseEstimator):
    """A clusterer with fit and labels_ but no fit_predict: splits on feature 0."""

    def fit(self, X, y=None):
        self.labels_ = (X[:, 0] > np.median(X[:, 0])).astype(int)
        return self


def test_clusterer_without_fit_predict():
    """Check that a clusterer exposing only fit and labels_ is used too."""
    som = SOMClusterer((3, 4), n_clusters=FitOnlyClusterer(), random_state=0).fit(X_BLOBS)
    expected = (som.cluster_centers_[:, 0] > np.median(som.cluster_centers_[:, 0])).astype(int)
    assert np.array_equal(som.unit_labels_, expected)


def test_as_many_clusters_as_units():
    """Check that n_clusters equal to the number of units gives each unit its own cluster."""
    som = SOMClusterer((2, 3), n_clusters=6, random_state=0).fit(X_BLOBS)
    assert sorted(som.unit_labels_) == list(range(6))


def test_single_unit_map():
    """Check that a one-unit map has one cluster."""
    som = SOMClusterer((1, 1), n_clusters=1, random_state=0).fit(X_BLOBS)
    assert np.array_equal(som.unit_labels_, [0])
    assert np.array_equal(som.predict(X_NEW), np.zeros(len(X_NEW)))


def test_no_second_stage_predicts_units():
    """Check that without n_clusters there is no unit_labels_ and predict returns units."""
    som = SOMClusterer((3, 3), n_clusters=2, random_state=0).fit(X_BLOBS)
    som.set_params(n_clusters=None).fit(X_BLOBS)
    assert not hasattr(som, "unit_labels_")
    assert np.array_equal(som.predict(X_NEW), som.best_matching_unit(X_NEW))


def test_more_clusters_than_units():
    """Check that n_clusters above the number of units raises a clear error, leaving the map unfitted."""
    som = SOMClusterer((2, 3), n_clusters=7, random_state=0)
    with pytest.raises(ValueError, match=r"n_clusters=7 is larger than the number of units of the map \(6\)"):
        som.fit(X_BLOBS)
    assert not hasattr(som, "cluster_centers_")


@pytest.mark.parametrize("n_clusters", [0, -1, 2.5, "four"])
def test_bad_n_clusters(n_clusters):
    """Check that an invalid n_clusters is rejected by parameter validation."""
    with pytest.raises((ValueError, TypeError), match="n_clusters"):
        SOMClusterer((3, 3), n_clusters=n_clusters).fit(X_BLOBS)
