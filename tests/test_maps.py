"""Tests of sksom.maps: the arrays behind the pictures."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer, StandardScaler

from sksom import SOMClusterer, maps
from sksom._topology import unit_coordinates

X_BLOBS, Y_BLOBS = make_blobs(150, centers=3, n_features=4, random_state=0)
X_IMAGES = np.random.RandomState(0).uniform(size=(60, 12))


def handmade_som(codebook, map_size, topology="rectangular", periodic=False):
    """A SOMClusterer with the given codebook, as if fitted."""
    som = SOMClusterer(map_size, topology=topology, periodic=periodic)
    som.cluster_centers_ = np.asarray(codebook, dtype=np.float64)
    som.map_size_ = map_size
    som.unit_coordinates_ = unit_coordinates(map_size, topology)
    som.n_features_in_ = som.cluster_centers_.shape[1]
    som.labels_ = np.zeros(1, dtype=np.intp)
    return som


# Codebook [0, 1, 3, 7]. On a 2 x 2 rectangular map the neighbours of unit 0
# are units 1 and 2, and so on; on a hexagonal map units 1 and 2 are
# neighbours too; on a 1 x 4 torus units 0 and 3 are.
@pytest.mark.parametrize(
    "map_size, topology, periodic, expected",
    [
        ((2, 2), "rectangular", False, [[(1 + 3) / 2, (1 + 6) / 2], [(3 + 4) / 2, (6 + 4) / 2]]),
        ((2, 2), "hexagonal", False, [[(1 + 3) / 2, (1 + 2 + 6) / 3], [(3 + 2 + 4) / 3, (6 + 4) / 2]]),
        ((1, 4), "rectangular", False, [[1, (1 + 2) / 2, (2 + 4) / 2, 4]]),
        ((1, 4), "rectangular", True, [[(1 + 7) / 2, (1 + 2) / 2, (2 + 4) / 2, (4 + 7) / 2]]),
    ],
)
def test_u_matrix_reference(map_size, topology, periodic, expected):
    """Check the U-matrix against neighbour distances computed by hand."""
    som = handmade_som([[0.0], [1.0], [3.0], [7.0]], map_size, topology, periodic)
    assert np.allclose(maps.u_matrix(som), expected)


def test_u_matrix_reductions():
    """Check the median, max and min summaries of the neighbour distances."""
    som = handmade_som([[0.0], [1.0], [3.0], [7.0]], (2, 2), "hexagonal")
    assert np.allclose(maps.u_matrix(som, reduce="max"), [[3, 6], [4, 6]])
    assert np.allclose(maps.u_matrix(som, reduce="min"), [[1, 1], [2, 4]])
    assert np.allclose(maps.u_matrix(som, reduce="median"), [[2, 2], [3, 5]])


def test_u_matrix_single_unit():
    """Check that a unit without neighbours has a U-matrix value of 0."""
    assert np.array_equal(maps.u_matrix(handmade_som([[1.0, 2.0]], (1, 1))), [[0.0]])


def test_hit_map_counts_and_weights():
    """Check that hits count BMUs, and weights sum like repeated samples."""
    som = SOMClusterer((3, 4), random_state=0).fit(X_BLOBS)
    hits = maps.hit_map(som, X_BLOBS)
    assert hits.shape == (3, 4)
    assert hits.sum() == len(X_BLOBS)
    assert np.array_equal(hits.ravel(), np.bincount(som.predict(X_BLOBS), minlength=12))
    weights = np.arange(len(X_BLOBS)) % 3
    assert np.allclose(
        maps.hit_map(som, X_BLOBS, sample_weight=weights), maps.hit_map(som, np.repeat(X_BLOBS, weights, axis=0))
    )


def test_hit_map_pipeline_transforms_data():
    """Check that a pipeline's data goes through its first steps."""
    pipe = make_pipeline(StandardScaler(), SOMClusterer((3, 4), random_state=0)).fit(X_BLOBS)
    expected = maps.hit_map(pipe[-1], pipe[0].transform(X_BLOBS))
    assert np.array_equal(maps.hit_map(pipe, X_BLOBS), expected)


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
def test_component_planes_layout(topology):
    """Check that plane k, row r, column c holds feature k of unit r * n_columns + c."""
    som = SOMClusterer((3, 5), topology=topology, random_state=0).fit(X_BLOBS)
    planes = maps.component_planes(som)
    assert planes.shape == (4, 3, 5)
    assert planes[2, 1, 3] == som.cluster_centers_[1 * 5 + 3, 2]
    assert np.array_equal(planes.reshape(4, -1).T, som.cluster_centers_)


def test_component_planes_inverse_transform():
    """Check that inverse_transform undoes the pipeline's scaling."""
    pipe = make_pipeline(StandardScaler(), SOMClusterer((3, 4), random_state=0)).fit(X_BLOBS)
    raw = pipe[0].inverse_transform(pipe[-1].cluster_centers_)
    assert np.allclose(maps.component_planes(pipe, inverse_transform=True).reshape(4, -1).T, raw)
    assert np.allclose(maps.component_planes(pipe).reshape(4, -1).T, pipe[-1].cluster_centers_)


def test_label_map_reference():
    """Check majority labels, shares and empty units on a hand-made map."""
    som = handmade_som([[0.0], [10.0], [20.0]], (1, 3))
    X = [[0.0], [0.1], [0.2], [20.0], [19.0], [21.0], [20.5]]
    y = ["b", "a", "b", "a", "c", "c", "a"]
    result = maps.label_map(som, X, y)
    assert list(result.classes) == ["a", "b", "c"]
    assert np.array_equal(result.counts[0], [[1, 2, 0], [0, 0, 0], [2, 0, 2]])
    # unit 2 is a tie between "a" and "c": the first class wins
    assert np.array_equal(result.majority, [[1, -1, 0]])
    assert np.allclose(result.share, [[2 / 3, np.nan, 0.5]], equal_nan=True)
    weighted = maps.label_map(som, X, y, sample_weight=[1, 5, 1, 1, 1, 1, 1])
    assert np.array_equal(weighted.majority, [[0, -1, 0]])
    assert weighted.share[0, 0] == pytest.approx(5 / 7)


def test_codebook_images_layout():
    """Check that each tile is the unit's weight vector reshaped to the image."""
    som = SOMClusterer((2, 3), random_state=0).fit(X_IMAGES)
    images = maps.codebook_images(som, image_shape=(3, 4))
    assert images.shape == (2, 3, 3, 4)
    assert np.array_equal(images[1, 2].ravel(), som.cluster_centers_[5])
    square = SOMClusterer((2, 2), random_state=0).fit(np.random.RandomState(1).uniform(size=(20, 16)))
    assert maps.codebook_images(square).shape == (2, 2, 4, 4)


def test_codebook_images_inverse_transform():
    """Check that the images can be shown in the raw pixels of a pipeline."""
    pipe = make_pipeline(PCA(5, random_state=0), SOMClusterer((2, 2), random_state=0)).fit(X_IMAGES)
    images = maps.codebook_images(pipe, image_shape=(3, 4), inverse_transform=True)
    assert np.allclose(images.reshape(4, -1), pipe[0].inverse_transform(pipe[-1].cluster_centers_))


SOM_IMAGES = SOMClusterer((2, 3), random_state=0)
NO_INVERSE = make_pipeline(Normalizer(), SOMClusterer((2, 2), random_state=0))


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: maps.u_matrix(SOMClusterer()), NotFittedError, "not fitted"),
        (lambda: maps.u_matrix(LinearRegression()), TypeError, "SOMClusterer"),
        (lambda: maps.u_matrix(SOM_IMAGES.fit(X_IMAGES), reduce="sum"), ValueError, "reduce"),
        (lambda: maps.codebook_images(SOM_IMAGES.fit(X_IMAGES)), ValueError, "not a square"),
        (lambda: maps.codebook_images(SOM_IMAGES.fit(X_IMAGES), image_shape=(5, 5)), ValueError, "25 values"),
        (lambda: maps.hit_map(SOM_IMAGES.fit(X_IMAGES), X_IMAGES[:, :3]), ValueError, "features"),
        (lambda: maps.label_map(SOM_IMAGES.fit(X_IMAGES), X_IMAGES, [0, 1]), ValueError, "inconsistent"),
        (lambda: maps.codebook(NO_INVERSE.fit(X_IMAGES), inverse_transform=True), TypeError, "inverse_transform"),
    ],
)
def test_bad_input(call, error, match):
    """Check that bad input raises a clear error."""
    with pytest.raises(error, match=match):
        call()


def test_pictures_keep_the_fitted_lattice_after_set_params():
    """Check that the U-matrix, the cells and the CLI summary read the lattice the map was fitted on.

    Changing ``topology`` or ``periodic`` without a new fit leaves the units
    where they are: their neighbours are still the fitted lattice's.
    """
    import io

    import matplotlib

    matplotlib.use("Agg")
    from sksom import plotting
    from sksom._cli import _print_metrics

    X = np.random.RandomState(0).rand(200, 3)
    som = SOMClusterer((4, 6), topology="hexagonal", max_iter=3, random_state=0).fit(X)
    u = maps.u_matrix(som)
    cells = plotting.plot_u_matrix(som).collections[0].get_paths()
    som.set_params(topology="rectangular", periodic=True)
    np.testing.assert_array_equal(maps.u_matrix(som), u)
    # Six corners per cell (a closed path has one vertex more), as fitted.
    assert [len(p.vertices) for p in plotting.plot_u_matrix(som).collections[0].get_paths()] == [
        len(p.vertices) for p in cells
    ]
    assert len(cells[0].vertices) == 7
    summary = io.StringIO()
    _print_metrics(som, summary)
    assert "map size: 4x6 (hexagonal)" in summary.getvalue()
