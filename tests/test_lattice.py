"""Maps of any size: sparse adjacency, exact cheap batch smoothing, the memory guard.

Every expected value is computed here from the definitions (unit positions,
the short way round on a torus, the neighbourhood formulas), with dense
(n_units, n_units) arrays on small maps only.
"""

import re
import tracemalloc

import numpy as np
import pytest
from sklearn.datasets import make_blobs

import sksom._topology as topology_module
from sksom import SOMClusterer, maps, metrics
from sksom._engine import som as tf_engine
from sksom._topology import BatchSmoothing, adjacency, are_adjacent, lattice_edges, smoothing_form
from sksom.plotting import _boundary_segments

LATTICES = [(t, p) for t in ("rectangular", "hexagonal") for p in (False, True)]

# Degenerate sizes included: a single unit, one row, one column, 2 x 2 and
# 2 x 3 tori (whose seams offer the same neighbour twice), odd row counts.
SIZES = [(1, 1), (1, 6), (6, 1), (2, 2), (2, 3), (3, 2), (4, 6), (5, 3), (2, 1), (4, 2)]


def _allowed(size, topology, periodic):
    return not (periodic and topology == "hexagonal" and size[0] % 2)


def dense_squared_distances(map_size, topology, periodic):
    """Squared lattice distances between all units, from the module docstring's geometry."""
    n_rows, n_columns = map_size
    row, column = np.divmod(np.arange(n_rows * n_columns), n_columns)
    step = np.sqrt(3.0) / 2.0 if topology == "hexagonal" else 1.0
    y = row * step
    x = column + (0.5 * (row % 2) if topology == "hexagonal" else 0.0)
    dy = np.abs(y[:, None] - y[None, :])
    dx = np.abs(x[:, None] - x[None, :])
    if periodic:
        dy = np.minimum(dy, n_rows * step - dy)
        dx = np.minimum(dx, n_columns - dx)
    return dy**2 + dx**2


def neighbourhood(name, d2, radius):
    """The neighbourhood functions, written out."""
    d = np.sqrt(d2)
    if name == "gaussian":
        return np.exp(-d2 / (2 * radius**2))
    if name == "bubble":
        return (d <= radius).astype(float)
    if name == "triangle":
        return np.clip(1 - d / radius, 0, None)
    if name == "cut_gaussian":
        return np.where(d <= radius, np.exp(-d2 / (2 * radius**2)), 0.0)
    raise AssertionError(name)


# -- adjacency -----------------------------------------------------------------


@pytest.mark.parametrize("topology, periodic", LATTICES)
def test_sparse_adjacency_equals_dense_definition(topology, periodic):
    """Check that the sparse adjacency is exactly 'distinct units at lattice distance 1' on every size."""
    for size in SIZES + [(6, 7)]:
        if not _allowed(size, topology, periodic):
            continue
        d2 = dense_squared_distances(size, topology, periodic)
        expected = np.isclose(d2, 1.0) & ~np.eye(len(d2), dtype=bool)
        A = adjacency(size, topology, periodic)
        assert A.shape == expected.shape and A.dtype == bool
        np.testing.assert_array_equal(A.toarray(), expected, err_msg=f"{size}")
        first, second = lattice_edges(size, topology, periodic)
        assert np.all(first < second) and len(set(zip(first, second))) == len(first)
        assert len(first) == expected.sum() // 2
        # Pair look-ups agree with the dense matrix, from the sparse or the dense form.
        i, j = np.divmod(np.arange(d2.size), len(d2))
        np.testing.assert_array_equal(are_adjacent(A, i, j), expected[i, j])
        np.testing.assert_array_equal(are_adjacent(expected, i, j), expected[i, j])


def test_topographic_error_accepts_sparse_and_dense_adjacency():
    """Check that the topographic error reads either adjacency form the same way."""
    size = (4, 6)
    dense = np.isclose(dense_squared_distances(size, "hexagonal", True), 1.0)
    rng = np.random.default_rng(0)
    first, second = rng.integers(0, 24, 50), rng.integers(0, 24, 50)
    expected = np.mean(~dense[first, second])
    sparse_te = metrics.topographic_error_from_bmus(first, second, adjacency(size, "hexagonal", True))
    assert sparse_te == pytest.approx(expected)
    assert metrics.topographic_error_from_bmus(first, second, dense) == pytest.approx(expected)


# -- the batch map's smoothing -------------------------------------------------

X_small = np.random.default_rng(3).normal(size=(40, 3))
X_small_nan = X_small.copy()
X_small_nan[np.random.default_rng(4).uniform(size=X_small.shape) < 0.25] = np.nan
X_small_nan[np.isnan(X_small_nan).all(axis=1), 0] = 0.5
WEIGHTS = np.random.default_rng(5).uniform(0.1, 2.0, size=X_small.shape[0])


def dense_batch_map(X, weights, W, H):
    """``(H @ S) / (H @ N)`` with per-feature counts of the observed entries."""
    observed = ~np.isnan(X)
    X0 = np.where(observed, X, 0.0)
    sq = np.where(observed[:, None, :], (X0[:, None, :] - W[None]) ** 2, 0.0).sum(axis=2)
    bmu = sq.argmin(axis=1)
    one_hot = np.zeros((len(X), len(W)))
    one_hot[np.arange(len(X)), bmu] = weights
    S, N = one_hot.T @ X0, one_hot.T @ observed
    numerator, denominator = H @ S, H @ N
    return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), W)


@pytest.mark.parametrize("topology, periodic", LATTICES)
@pytest.mark.parametrize("neighborhood", ["gaussian", "bubble", "triangle", "cut_gaussian"])
@pytest.mark.parametrize("masked", [False, True])
def test_every_smoothing_form_equals_the_dense_formula(topology, periodic, neighborhood, masked):
    """Check that each form of the batch update equals (H @ S) / (H @ N), on small and large radii, in 1 or 3 chunks."""
    X = X_small_nan if masked else X_small
    forms = (["separable"] if neighborhood == "gaussian" else []) + ["dense", "per_sample"]
    for size in [(4, 6), (5, 3), (1, 7), (6, 1)]:
        if not _allowed(size, topology, periodic):
            continue
        n_units = size[0] * size[1]
        W = np.random.default_rng(n_units).normal(size=(n_units, X.shape[1]))
        d2 = dense_squared_distances(size, topology, periodic)
        for radius in (0.6, 1.5, 7.0):
            expected = dense_batch_map(X, WEIGHTS, W, neighbourhood(neighborhood, d2, radius))
            for form in forms:
                smoothing = BatchSmoothing(size, topology, periodic, neighborhood, n_samples=1)
                smoothing.form = form  # every form is exact; the sizes only pick the cheapest
                if form == "dense":
                    smoothing._d2 = d2
                operands = smoothing.operands(radius, np.float64)
                # One chunk, and three that the epoch adds up (a duplicate
                # BMU within a chunk must count twice).
                for bounds in ([0, 40], [0, 13, 29, 40]):
                    chunks = [(X[a:b], WEIGHTS[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
                    got, _ = tf_engine.batch_epoch(
                        chunks, W, form, operands, 1.0, masked=masked, neighborhood=neighborhood
                    )
                    np.testing.assert_allclose(
                        got, expected, rtol=1e-10, atol=1e-12, err_msg=f"{form} {size} {radius} {len(chunks)} chunks"
                    )


def test_batch_epoch_over_no_chunks_keeps_the_codebook():
    """Check that an epoch given no data leaves the codebook as it was, with no error."""
    W = np.random.default_rng(0).normal(size=(6, 3))
    smoothing = BatchSmoothing((2, 3), "rectangular", False, "gaussian", 1)
    got, qe_sum = tf_engine.batch_epoch(iter([]), W, "separable", smoothing.operands(1.0, np.float64))
    np.testing.assert_array_equal(got, W)
    assert got is not W and qe_sum == 0.0


def test_separable_form_keeps_units_far_from_the_data_accurate():
    """Check that a unit whose neighbourhood weight of the data is tiny still gets the weighted mean."""
    size = (1, 30)
    X = np.array([[0.0], [1.0]])
    W = np.zeros((30, 1))
    W[0], W[1] = 0.0, 1.0  # sample 0 wins unit 0, sample 1 wins unit 1
    d2 = dense_squared_distances(size, "rectangular", False)
    expected = dense_batch_map(X, np.ones(2), W, neighbourhood("gaussian", d2, 1.0))
    smoothing = BatchSmoothing(size, "rectangular", False, "gaussian", 2)
    got, _ = tf_engine.batch_epoch([(X, np.ones(2))], W, "separable", smoothing.operands(1.0, np.float64))
    # The far end sees weights around exp(-28^2 / 2) = 1e-170: the ratio must still be right.
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert got[-1, 0] == pytest.approx(1.0)


def test_smoothing_form_follows_the_sizes():
    """Check the form chosen: separable Gaussian; dense only for small maps with more samples than units."""
    assert smoothing_form("gaussian", 10**6, 10) == "separable"
    assert smoothing_form("bubble", 100, 1000) == "dense"
    assert smoothing_form("bubble", 100, 50) == "per_sample"
    assert smoothing_form("triangle", 4096, 10**6) == "per_sample"


# -- nothing grows with n_units^2 ----------------------------------------------

X_blobs, _ = make_blobs(n_samples=40, centers=4, n_features=4, random_state=0)
BIG = (80, 60)  # 4800 units: an (n_units, n_units) boolean array is 23 MB, float64 184 MB


@pytest.mark.parametrize(
    "params",
    [
        dict(algorithm="batch", neighborhood="gaussian", topology="hexagonal", periodic=True),
        dict(algorithm="batch", neighborhood="bubble"),
        dict(algorithm="minibatch", neighborhood="triangle", periodic=True),
    ],
)
def test_large_map_never_builds_a_units_squared_array(params, monkeypatch):
    """Check that fit, predict, score, metrics, maps and plots of a 4800-unit map stay below n_units^2 bytes."""

    def refuse(*args, **kwargs):
        raise AssertionError("squared_grid_distances called on a large map")

    monkeypatch.setattr(topology_module, "squared_grid_distances", refuse)
    n_units = BIG[0] * BIG[1]
    som = SOMClusterer(BIG, max_iter=2, random_state=0, **params)
    som.fit(X_blobs)  # the first fit compiles: measure the second
    som.set_params(n_clusters=4)  # Ward's connectivity on the lattice
    tracemalloc.start()
    try:
        som.fit(X_blobs)
        som.predict(X_blobs)
        som.score(X_blobs)
        lattice = dict(topology=som.topology, periodic=som.periodic)
        metrics.topographic_error(X_blobs, som.cluster_centers_, BIG, **lattice)
        metrics.distortion(X_blobs, som.cluster_centers_, BIG, **lattice)
        metrics.combined_error(X_blobs, som.cluster_centers_, BIG, **lattice)
        maps.u_matrix(som)
        _boundary_segments(som, som.unit_labels_)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Below even a boolean (n_units, n_units) array, such as a dense adjacency.
    assert peak < n_units * n_units, f"peak {peak} bytes"


# -- the memory guard ------------------------------------------------------------


def test_memory_guard_names_the_bytes_before_allocating(monkeypatch):
    """Check that a map too large for the memory left raises ValueError naming the bytes, and leaves the model as it was."""
    import sksom._base as base

    size, n_features = (30, 40), X_blobs.shape[1]
    # At least the codebook's five working copies and its float64 initialisation.
    floor = (5 * 8 + 8) * size[0] * size[1] * n_features
    monkeypatch.setattr(base, "available_host_memory", lambda: floor - 1)
    som = SOMClusterer(size, max_iter=1)
    with pytest.raises(ValueError, match=r"host memory.*30 x 40 map.*needs about.*bytes.*are available.*map_size") as info:
        som.fit(X_blobs)
    assert not hasattr(som, "cluster_centers_")
    needed, available = map(int, re.findall(r"\((\d+) bytes\)", str(info.value)))
    assert available == floor - 1 and needed >= floor
    # Enough memory: the same fit runs.
    monkeypatch.setattr(base, "available_host_memory", lambda: 10 * needed)
    assert som.fit(X_blobs).cluster_centers_.shape == (1200, n_features)


def test_memory_guard_checks_the_gpu(monkeypatch):
    """Check that the guard compares with the device's free memory as well (a GPU, simulated)."""
    import sksom._engine as engine_module

    monkeypatch.setattr(engine_module, "free_device_memory", lambda device: 1000)
    with pytest.raises(ValueError, match="Not enough GPU memory"):
        SOMClusterer((5, 5), max_iter=1).fit(X_blobs)


def test_som_layer_on_a_large_map_measures_neighbourhoods_from_the_bmus():
    """Check that SOMLayer keeps no (n_units, n_units) array and its neighbourhood rows follow the lattice."""
    from sksom.keras import SOMLayer

    n_units = BIG[0] * BIG[1]
    tracemalloc.start()
    try:
        layer = SOMLayer(BIG, topology="hexagonal", periodic=True, radius=3.0)
        Z = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
        layer(Z)  # builds the codebook
        h = np.asarray(layer.neighborhood_weights(layer.squared_distances(Z)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < n_units * n_units, f"peak {peak} bytes"
    # Expected rows from the BMUs' positions, the short way round the torus.
    W = np.asarray(layer.codebook)
    bmus = ((Z[:, None, :] - W[None]) ** 2).sum(axis=2).argmin(axis=1)
    row, column = np.divmod(np.arange(n_units), BIG[1])
    y, x = row * np.sqrt(3.0) / 2.0, column + 0.5 * (row % 2)
    dy = np.abs(y[bmus, None] - y[None, :])
    dx = np.abs(x[bmus, None] - x[None, :])
    dy, dx = np.minimum(dy, BIG[0] * np.sqrt(3.0) / 2.0 - dy), np.minimum(dx, BIG[1] - dx)
    np.testing.assert_allclose(h, np.exp(-(dy**2 + dx**2) / (2 * 3.0**2)), rtol=1e-5, atol=1e-6)
