"""Tests of sksom.metrics: reference values on hand-computable data, scorers."""

import math

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksom import SOMClusterer
from sksom.metrics import (
    combined_error,
    distortion,
    map_size_scorer,
    mixture_bic,
    quantization_error,
    topographic_error,
)

# Four well-separated Gaussian blobs (std 1) at the corners of a square.
BLOB_CENTERS = np.array([[0.0, 0.0], [0.0, 20.0], [20.0, 0.0], [20.0, 20.0]])
X_BLOBS, Y_BLOBS = make_blobs(400, centers=BLOB_CENTERS, random_state=0)
RNG = np.random.RandomState(0)
X_SMALL = RNG.normal(size=(30, 3))
CODEBOOK_SMALL = RNG.normal(size=(6, 3))


def test_quantization_error_reference():
    """Check that the quantization error is the (weighted) mean BMU distance."""
    X = [[0.0], [3.0], [10.0]]
    codebook = [[1.0], [2.0]]
    assert quantization_error(X, codebook) == pytest.approx((1 + 1 + 8) / 3)
    assert quantization_error(X, codebook, sample_weight=[1, 1, 0]) == pytest.approx(1.0)


# A 2 x 2 map whose codebook makes units 1 and 2 the two BMUs of the sample:
# diagonal on a rectangular lattice, neighbours on a hexagonal one (unit 2 is
# shifted half a unit right). A 1 x 4 map whose BMUs are the two end units:
# adjacent only across the seam of a torus.
@pytest.mark.parametrize(
    "map_size, codebook, topology, periodic, expected",
    [
        ((2, 2), [[5.0], [0.1], [-0.1], [9.0]], "rectangular", False, 1.0),
        ((2, 2), [[5.0], [0.1], [-0.1], [9.0]], "hexagonal", False, 0.0),
        ((2, 2), [[5.0], [0.1], [-0.1], [9.0]], "rectangular", True, 1.0),
        ((1, 4), [[0.1], [5.0], [9.0], [-0.1]], "rectangular", False, 1.0),
        ((1, 4), [[0.1], [5.0], [9.0], [-0.1]], "rectangular", True, 0.0),
        ((2, 4), [[0.1], [5], [6], [-0.1], [7], [8], [9], [10]], "hexagonal", True, 0.0),
        ((2, 4), [[0.1], [5], [6], [-0.1], [7], [8], [9], [10]], "hexagonal", False, 1.0),
    ],
)
def test_topographic_error_per_lattice(map_size, codebook, topology, periodic, expected):
    """Check that the topographic error uses the lattice's one adjacency definition."""
    error = topographic_error([[0.0]], codebook, map_size, topology=topology, periodic=periodic)
    assert error == expected


def test_distortion_reference():
    """Check the SOM energy against values computed by hand."""
    X = [[0.0], [3.0]]
    codebook = [[0.0], [2.0]]
    # sample 0: BMU 0, sample 1: BMU 1; squared distances (0, 4) and (9, 1)
    assert distortion(X, codebook, (1, 2), neighborhood="bubble", radius=0.5) == pytest.approx(0.5)
    assert distortion(X, codebook, (1, 2), neighborhood="bubble", radius=1.0) == pytest.approx(7.0)
    h = math.exp(-0.5)
    expected = ((0 + 4 * h) + (1 + 9 * h)) / 2
    assert distortion(X, codebook, (1, 2), neighborhood="gaussian", radius=1.0) == pytest.approx(expected)
    weighted = distortion(X, codebook, (1, 2), neighborhood="bubble", radius=1.0, sample_weight=[3, 1])
    assert weighted == pytest.approx((3 * 4 + 10) / 4)


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
@pytest.mark.parametrize("periodic", [False, True])
def test_distortion_small_radius_is_squared_quantization_error(topology, periodic):
    """Check that a vanishing neighbourhood leaves the mean squared BMU distance."""
    energy = distortion(X_SMALL, CODEBOOK_SMALL, (2, 3), topology=topology, periodic=periodic, radius=1e-3)
    squared = np.min(((X_SMALL[:, None] - CODEBOOK_SMALL[None]) ** 2).sum(-1), axis=1)
    assert energy == pytest.approx(squared.mean())
    # a wider neighbourhood adds the distances to the neighbours
    assert distortion(X_SMALL, CODEBOOK_SMALL, (2, 3), topology=topology, periodic=periodic) > energy


@pytest.mark.parametrize(
    "codebook, map_size, periodic, expected",
    [
        # ordered: BMU 0 (distance 0), second BMU 1, one step of cost 1
        ([[0.0], [1.0], [3.0]], (1, 3), False, 1.0),
        # folded: second BMU is unit 2, reached through unit 1: 3 + 2
        ([[0.0], [3.0], [1.0]], (1, 3), False, 5.0),
        # adjacent units with the same weights: a step of cost 0
        ([[0.0], [0.0], [1.0]], (1, 3), False, 0.0),
        # BMU 0 and second BMU 3 of a 1 x 4 map: 5 + 1 + 5 the long way,
        # one step of cost 1 across the seam of a torus
        ([[0.0], [5.0], [6.0], [1.0]], (1, 4), False, 11.0),
        ([[0.0], [5.0], [6.0], [1.0]], (1, 4), True, 1.0),
    ],
)
def test_combined_error_reference(codebook, map_size, periodic, expected):
    """Check the Kaski-Lagus error against paths computed by hand."""
    assert combined_error([[0.0]], codebook, map_size, periodic=periodic) == pytest.approx(expected)
    # the BMU distance is added to the path
    assert combined_error([[-0.5]], codebook, map_size, periodic=periodic) == pytest.approx(expected + 0.5)


def test_combined_error_bounds():
    """Check that the combined error is at least the quantization error, and equals it for one unit."""
    assert combined_error(X_SMALL, CODEBOOK_SMALL, (2, 3)) >= quantization_error(X_SMALL, CODEBOOK_SMALL)
    one = X_SMALL.mean(axis=0, keepdims=True)
    assert combined_error(X_SMALL, one, (1, 1)) == pytest.approx(quantization_error(X_SMALL, one))


def test_mixture_bic_single_unit_reference():
    """Check the BIC of one unit against the closed form of a single isotropic Gaussian."""
    n, d = X_SMALL.shape
    mean = X_SMALL.mean(axis=0, keepdims=True)
    variance = ((X_SMALL - mean) ** 2).sum() / (n * d)
    expected = n * d * (math.log(2 * math.pi * variance) + 1) + (d + 1) * math.log(n)
    assert mixture_bic(X_SMALL, mean) == pytest.approx(expected)


def test_mixture_bic_weights_are_repetitions():
    """Check that integer sample weights count as repeated samples."""
    weights = np.arange(len(X_SMALL)) % 3
    repeated = np.repeat(X_SMALL, weights, axis=0)
    assert mixture_bic(X_SMALL, CODEBOOK_SMALL, sample_weight=weights) == pytest.approx(
        mixture_bic(repeated, CODEBOOK_SMALL), rel=1e-6
    )


def test_mixture_bic_prefers_one_unit_per_blob():
    """Check that splitting a Gaussian blob between two units is penalised."""
    one = BLOB_CENTERS
    split = np.concatenate([BLOB_CENTERS - [0.5, 0.0], BLOB_CENTERS + [0.5, 0.0]])
    assert mixture_bic(X_BLOBS, one) < mixture_bic(X_BLOBS, split)
    # while the quantization error prefers the split
    assert quantization_error(X_BLOBS, split) < quantization_error(X_BLOBS, one)


def test_map_size_scorer_on_training_data_is_minus_bic_per_sample():
    """Check the documented identity between the scorer and the BIC."""
    som = SOMClusterer((3, 3), random_state=0).fit(X_BLOBS)
    expected = -mixture_bic(X_BLOBS, som.cluster_centers_) / len(X_BLOBS)
    assert map_size_scorer(som, X_BLOBS) == pytest.approx(expected)


def test_map_size_scorer_pipeline():
    """Check that a pipeline's data goes through its first steps before scoring."""
    pipe = make_pipeline(StandardScaler(), SOMClusterer((3, 3), random_state=0)).fit(X_BLOBS)
    som = pipe[-1]
    assert map_size_scorer(pipe, X_BLOBS) == pytest.approx(map_size_scorer(som, pipe[0].transform(X_BLOBS)))


def test_map_size_scorer_picks_one_free_unit_per_blob():
    """Check on four blobs that the scorer picks 4 x 4 while score() picks the largest map.

    With the final radius 1, adjacent units pull each other: a 2 x 2 map sits
    between the blobs, a 4 x 4 map is the smallest with a unit on every blob,
    and larger maps only split blobs or fill the gaps between them.
    """
    sizes = [(2, 2), (4, 4), (8, 8), (12, 12)]
    search = GridSearchCV(SOMClusterer(random_state=0), {"map_size": sizes}, scoring=map_size_scorer, cv=3)
    search.fit(X_BLOBS)
    assert search.best_params_["map_size"] == (4, 4)
    default = GridSearchCV(SOMClusterer(random_state=0), {"map_size": sizes}, cv=3).fit(X_BLOBS)
    assert default.best_params_["map_size"] == (12, 12)
    # the reason: distance from each blob centre to its nearest unit
    for size, (low, high) in [((2, 2), (3.0, np.inf)), ((4, 4), (0.0, 1.0))]:
        som = SOMClusterer(size, random_state=0).fit(X_BLOBS)
        gaps = np.sqrt(((BLOB_CENTERS[:, None] - som.cluster_centers_[None]) ** 2).sum(-1)).min(axis=1)
        assert np.all((gaps > low) & (gaps < high)), (size, gaps)


def test_map_size_scorer_grows_with_data_on_a_manifold():
    """Check on a uniform square (no clusters) that the chosen map grows with the sample size, short of the largest."""
    sizes = [(2, 2), (4, 4), (8, 8), (16, 16)]
    chosen = []
    for n in (200, 2000):
        X = np.random.RandomState(0).uniform(size=(n, 2))
        search = GridSearchCV(SOMClusterer(random_state=0), {"map_size": sizes}, scoring=map_size_scorer, cv=3)
        chosen.append(sizes.index(search.fit(X).best_params_["map_size"]))
    assert chosen[0] < chosen[1] < len(sizes) - 1


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: distortion(X_SMALL, CODEBOOK_SMALL, (2, 3), neighborhood="cone"), ValueError, "neighborhood"),
        (lambda: distortion(X_SMALL, CODEBOOK_SMALL, (2, 3), radius=0), ValueError, "radius"),
        (lambda: distortion(X_SMALL, CODEBOOK_SMALL, (2, 2)), ValueError, "4 units"),
        (lambda: combined_error(X_SMALL, CODEBOOK_SMALL, (3, 3)), ValueError, "9 units"),
        (lambda: combined_error(X_SMALL[:, :2], CODEBOOK_SMALL, (2, 3)), ValueError, "2 features"),
        (lambda: mixture_bic(X_SMALL[:, :2], CODEBOOK_SMALL), ValueError, "2 features"),
        (lambda: mixture_bic(X_SMALL, CODEBOOK_SMALL, sample_weight=-np.ones(30)), ValueError, "non-negative"),
        (lambda: map_size_scorer(SOMClusterer(), X_SMALL), NotFittedError, "not fitted"),
        (lambda: map_size_scorer(LinearRegression(), X_SMALL), TypeError, "SOMClusterer"),
    ],
)
def test_bad_input(call, error, match):
    """Check that bad input raises a clear error."""
    with pytest.raises(error, match=match):
        call()
