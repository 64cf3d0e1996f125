"""The three training algorithms against plain NumPy references.

Each compiled kernel of :mod:`sksom._engine` is compared with a few lines of
NumPy that spell out the textbook rule, on every lattice (rectangular and
hexagonal, planar and toroidal) and every neighbourhood; then the estimator is
checked to feed those kernels the documented schedules.
"""

import itertools

import numpy as np
import pytest
from sklearn.utils import check_random_state

from sksom import SOMClusterer
from sksom._topology import (
    DECAYS,
    NEIGHBORHOODS,
    SIGNED_NEIGHBORHOODS,
    BatchSmoothing,
    adjacency,
    lattice_periods,
    squared_grid_distances,
    unit_coordinates,
)
from sksom._engine import som as tf_engine
from sksom.metrics import topographic_error

MAP_SIZE = (4, 5)  # even rows, so the hexagonal torus is allowed
N_UNITS = MAP_SIZE[0] * MAP_SIZE[1]
rng = np.random.default_rng(42)
X = rng.normal(size=(37, 3))
WEIGHTS = rng.uniform(0.2, 2.0, size=X.shape[0])
W0 = rng.normal(size=(N_UNITS, 3))
LATTICES = [(t, p) for t in ("rectangular", "hexagonal") for p in (False, True)]
UNSIGNED = [name for name in NEIGHBORHOODS if name not in SIGNED_NEIGHBORHOODS]

# The decays written out, so that expected schedules do not come from the
# package's own DECAYS.
CLOSED_FORMS = {
    "linear": lambda start, end, p: start + (end - start) * p,
    "exponential": lambda start, end, p: start * (end / start) ** p,
    "inverse": lambda start, end, p: start / (1.0 + (start / end - 1.0) * p),
}


# The neighbourhood functions written out (d2 is the squared lattice distance).
NEIGHBORHOOD_FORMS = {
    "gaussian": lambda d2, s: np.exp(-d2 / (2 * s**2)),
    "bubble": lambda d2, s: (np.sqrt(d2) <= s).astype(float),
    "triangle": lambda d2, s: np.clip(1 - np.sqrt(d2) / s, 0, None),
    "cut_gaussian": lambda d2, s: np.where(np.sqrt(d2) <= s, np.exp(-d2 / (2 * s**2)), 0.0),
    "mexican_hat": lambda d2, s: (1 - d2 / s**2) * np.exp(-d2 / (2 * s**2)),
}


@pytest.mark.parametrize("neighborhood", sorted(NEIGHBORHOOD_FORMS))
def test_neighborhood_functions_match_their_closed_forms(neighborhood):
    """Check each neighbourhood function against its formula, written here, at and between lattice distances."""
    d2 = np.array([0.0, 0.25, 0.75, 1.0, 2.0, 3.0, 4.0, 6.25, 9.0, 16.0])
    for sigma in (0.7, 1.5, 2.5):
        np.testing.assert_allclose(
            NEIGHBORHOODS[neighborhood](d2, sigma), NEIGHBORHOOD_FORMS[neighborhood](d2, sigma), rtol=1e-12, atol=1e-15
        )


# -- NumPy references -----------------------------------------------------------


def _bmu(X, W):
    return np.argmin(((X[:, None, :] - W[None, :, :]) ** 2).sum(axis=2), axis=1)


def reference_batch_epoch(X, weights, W, H, learning_rate):
    """Kohonen's batch map, blended with the old codebook by the learning rate."""
    bmu = _bmu(X, W)
    sums = np.zeros_like(W)
    np.add.at(sums, bmu, X * weights[:, None])
    counts = np.bincount(bmu, weights=weights, minlength=W.shape[0])
    numerator, denominator = H @ sums, H @ counts
    target = np.where(denominator[:, None] > 0, numerator / np.where(denominator > 0, denominator, 1)[:, None], W)
    return W + learning_rate * (target - W)


def reference_online_epoch(X, W, D2, neighborhood, sigmas, rates):
    """The sequential rule ``w += min(lr * h, 1) * (x - w)``, one row at a time."""
    W = W.copy()
    h_fn = NEIGHBORHOODS[neighborhood]
    for x, sigma, rate in zip(X, sigmas, rates):
        bmu = np.argmin(((W - x) ** 2).sum(axis=1))
        W += np.minimum(rate * h_fn(D2[bmu], sigma), 1.0)[:, None] * (x - W)
    return W


def reference_minibatch_step(X, weights, W, D2, neighborhood, sigma, rate):
    """The online rule averaged over a mini-batch (weighted by sample weight)."""
    h = NEIGHBORHOODS[neighborhood](D2[_bmu(X, W)], sigma) * weights[:, None]  # (batch, units)
    pull = (h[:, :, None] * (X[:, None, :] - W[None, :, :])).sum(axis=0)
    return W + rate * pull / weights.sum()


# -- kernels against the references ------------------------------------------------


def _lattice(topology, periodic):
    """Unit coordinates and lattice periods, as the sequential kernels take them."""
    return unit_coordinates(MAP_SIZE, topology), lattice_periods(MAP_SIZE, topology, periodic)


@pytest.mark.parametrize("topology, periodic", LATTICES)
@pytest.mark.parametrize("neighborhood", UNSIGNED)
@pytest.mark.parametrize("n_chunks", [1, 2])
@pytest.mark.parametrize("n_samples", [1, 10**6])  # the form a fit on that many samples takes
def test_batch_epoch_matches_numpy(topology, periodic, neighborhood, n_chunks, n_samples):
    """Check that one batch epoch, in one chunk or two, equals the NumPy batch map."""
    D2 = squared_grid_distances(MAP_SIZE, topology, periodic)
    H = NEIGHBORHOODS[neighborhood](D2, 1.7)
    edges = [0, 20, X.shape[0]] if n_chunks == 2 else [0, X.shape[0]]
    chunks = [(X[a:b], WEIGHTS[a:b]) for a, b in itertools.pairwise(edges)]
    smoothing = BatchSmoothing(MAP_SIZE, topology, periodic, neighborhood, n_samples)
    got, qe_sum = tf_engine.batch_epoch(
        chunks, W0, smoothing.form, smoothing.operands(1.7, W0.dtype), 0.7, neighborhood=neighborhood
    )
    np.testing.assert_allclose(got, reference_batch_epoch(X, WEIGHTS, W0, H, 0.7), rtol=1e-10, atol=1e-12)
    distances = np.sqrt(((X[:, None, :] - W0[None]) ** 2).sum(axis=2)).min(axis=1)
    np.testing.assert_allclose(qe_sum, WEIGHTS @ distances, rtol=1e-10)


@pytest.mark.parametrize("topology, periodic", LATTICES)
@pytest.mark.parametrize("neighborhood", list(NEIGHBORHOODS))
@pytest.mark.parametrize("product_form", [False, True])
def test_online_epoch_matches_numpy(topology, periodic, neighborhood, product_form, monkeypatch):
    """Check that the compiled sequential loop (either form) equals the NumPy loop, row by row."""
    # The product form is otherwise kept for codebooks too large for a fast test.
    monkeypatch.setattr(tf_engine, "_ONLINE_PRODUCT_FORM_MIN", 0 if product_form else np.inf)
    D2 = squared_grid_distances(MAP_SIZE, topology, periodic)
    sigmas = np.linspace(2.5, 0.8, X.shape[0])
    rates = np.linspace(0.5, 0.05, X.shape[0])
    # Uneven chunks: the padded tails must leave the codebook untouched.
    chunks = [(X[:30], sigmas[:30], rates[:30]), (X[30:], sigmas[30:], rates[30:])]
    got = tf_engine.online_epoch(chunks, W0, *_lattice(topology, periodic), neighborhood)
    expected = reference_online_epoch(X, W0, D2, neighborhood, sigmas, rates)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("topology, periodic", LATTICES)
@pytest.mark.parametrize("neighborhood", list(NEIGHBORHOODS))
def test_minibatch_steps_match_numpy(topology, periodic, neighborhood):
    """Check that each mini-batch step equals the averaged online rule in NumPy."""
    D2 = squared_grid_distances(MAP_SIZE, topology, periodic)
    # Three equal batches share one stacked call; the shorter last one its own.
    edges = [0, 8, 16, 24, X.shape[0]]
    batches = [(X[a:b], WEIGHTS[a:b], 2.0 - 0.3 * k, 0.4 - 0.1 * k) for k, (a, b) in enumerate(itertools.pairwise(edges))]
    got = tf_engine.minibatch_epoch(batches, W0, *_lattice(topology, periodic), neighborhood)
    expected = W0
    for Xb, wb, sigma, rate in batches:
        expected = reference_minibatch_step(Xb, wb, expected, D2, neighborhood, sigma, rate)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("algorithm", ["online", "minibatch"])
def test_float32_kernels_agree_with_float64(algorithm):
    """Check that float32 training stays close to float64 training."""
    results = []
    for dtype in (np.float32, np.float64):
        W, Xd = W0.astype(dtype), X.astype(dtype)
        if algorithm == "online":
            n = X.shape[0]
            chunk = (Xd, np.full(n, 1.5, dtype), np.full(n, 0.1, dtype))
            results.append(tf_engine.online_epoch([chunk], W, *_lattice("rectangular", False), "gaussian"))
        else:
            batch = (Xd, np.ones(X.shape[0], dtype), 1.5, 0.3)
            results.append(tf_engine.minibatch_epoch([batch], W, *_lattice("rectangular", False), "gaussian"))
    assert results[0].dtype == np.float32
    np.testing.assert_allclose(results[0], results[1], rtol=1e-4, atol=1e-5)


def test_online_chunk_padding_lengths():
    """Check that chunk lengths are padded to a few powers of two."""
    lengths = [tf_engine._padded_length(n) for n in (1, 37, 256, 257, 1797, 2048, 10485)]
    assert lengths == [256, 256, 256, 512, 2048, 2048, 16384]


# -- the estimator drives the kernels with the documented schedules ------------------


def _estimator(algorithm, **params):
    defaults = {
        "map_size": MAP_SIZE, "algorithm": algorithm, "init": W0, "random_state": 0,
        "radius_start": 2.5, "radius_end": 0.5, "learning_rate_start": 0.6, "learning_rate_end": 0.05,
        "radius_decay": "linear", "learning_rate_decay": "linear",
    }
    defaults.update(params)
    return SOMClusterer(**defaults)


@pytest.mark.parametrize("topology, periodic", LATTICES)
@pytest.mark.parametrize("neighborhood", ["gaussian", "bubble", "mexican_hat"])
def test_online_fit_is_the_sequential_rule_in_random_order(topology, periodic, neighborhood):
    """Check that a one-epoch online fit visits rows in a seeded permutation with the schedule."""
    som = _estimator("online", topology=topology, periodic=periodic, neighborhood=neighborhood, max_iter=1)
    som.fit(X)
    n = X.shape[0]
    order = check_random_state(0).permutation(n)
    progress = np.arange(n) / n
    sigmas = CLOSED_FORMS["linear"](2.5, 0.5, progress)
    rates = CLOSED_FORMS["linear"](0.6, 0.05, progress)
    D2 = squared_grid_distances(MAP_SIZE, topology, periodic)
    expected = reference_online_epoch(X[order], W0, D2, neighborhood, sigmas, rates)
    np.testing.assert_allclose(som.cluster_centers_, expected, rtol=1e-9, atol=1e-11)


def test_online_sample_weight_scales_the_step_by_the_relative_weight():
    """Check that a sample's step is lr * h * w * n / sum(w), capped at 1."""
    n = X.shape[0]
    weights = WEIGHTS.copy()
    weights[:3] = 40.0  # relative weights near 20: capped steps
    som = _estimator("online", max_iter=1, learning_rate_start=0.3, learning_rate_end=0.3).fit(X, sample_weight=weights)
    order = check_random_state(0).permutation(n)
    sigmas = CLOSED_FORMS["linear"](2.5, 0.5, np.arange(n) / n)
    relative = weights * n / weights.sum()
    expected = reference_online_epoch(X[order], W0, squared_grid_distances(MAP_SIZE), "gaussian", sigmas, 0.3 * relative[order])
    np.testing.assert_allclose(som.cluster_centers_, expected, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("value, dtype", [(0.1, np.float64), (100.0, np.float64), (1000.0, np.float64),
                                          (1e39, np.float32), (1e-39, np.float32), (1e-310, np.float64)])
def test_online_uniform_weights_give_the_unweighted_result(value, dtype):
    """Check that uniform weights of any size leave the online fit unchanged, bit for bit.

    Also beyond the float32 range with float32 data, and subnormal float64
    weights (whose n / sum would overflow).
    """
    # A given initial codebook: the PCA start weighs the data, with its own rounding.
    plain = _estimator("online", max_iter=3).fit(X.astype(dtype))
    weighted = _estimator("online", max_iter=3).fit(X.astype(dtype), sample_weight=np.full(X.shape[0], value))
    np.testing.assert_array_equal(weighted.cluster_centers_, plain.cluster_centers_)


def test_online_large_weights_do_not_overshoot():
    """Check that huge relative weights are capped: no divergence, units stay in the data's hull."""
    weights = np.ones(X.shape[0])
    weights[::4] = 1e6
    som = _estimator("online", max_iter=3, learning_rate_start=0.9).fit(X, sample_weight=weights)
    # A step of at most 1 moves a unit along the segment towards the sample,
    # so every unit stays in the bounding box of the initial units and the data.
    points = np.vstack([W0, X])
    assert np.all(som.cluster_centers_ >= points.min(axis=0) - 1e-12)
    assert np.all(som.cluster_centers_ <= points.max(axis=0) + 1e-12)


def test_online_heavier_sample_pulls_its_unit_closer():
    """Check that raising one sample's weight brings its BMU nearer to it."""
    params = dict(map_size=(3, 3), algorithm="online", max_iter=2, random_state=0)
    weights = np.ones(X.shape[0])
    weights[5] = 8.0
    light = SOMClusterer(**params).fit(X)
    heavy = SOMClusterer(**params).fit(X, sample_weight=weights)

    def gap(som):
        return np.sqrt(((som.cluster_centers_ - X[5]) ** 2).sum(axis=1)).min()

    assert gap(heavy) < 0.5 * gap(light)


@pytest.mark.parametrize("decay", list(DECAYS))
def test_batch_schedule_follows_the_closed_form(decay):
    """Check that a three-epoch batch fit uses the start values, the closed form at 1/2, then the end values."""
    som = _estimator(
        "batch", max_iter=3, radius_decay=decay, learning_rate_decay=decay,
        learning_rate_start=0.8, learning_rate_end=0.3,
    ).fit(X)
    D2 = squared_grid_distances(MAP_SIZE)
    ones = np.ones(X.shape[0])
    W = W0
    for p in (0.0, 0.5, 1.0):
        H = NEIGHBORHOODS["gaussian"](D2, CLOSED_FORMS[decay](2.5, 0.5, p))
        W = reference_batch_epoch(X, ones, W, H, CLOSED_FORMS[decay](0.8, 0.3, p))
    np.testing.assert_allclose(som.cluster_centers_, W, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("decay", list(DECAYS))
def test_minibatch_schedule_advances_batch_by_batch(decay):
    """Check that each mini-batch takes the radius and rate of its own place in the epoch."""
    n, batch_size, max_iter = 1000, 64, 2
    X_many = np.random.default_rng(7).normal(size=(n, 3))
    som = _estimator(
        "minibatch", max_iter=max_iter, batch_size=batch_size, radius_decay=decay, learning_rate_decay=decay,
    ).fit(X_many)
    D2 = squared_grid_distances(MAP_SIZE)
    rng_state = check_random_state(0)
    W = W0
    for epoch in range(max_iter):
        order = rng_state.permutation(n)
        for start in range(0, n, batch_size):
            # A batch's schedule is that of its first sample.
            p = (epoch + start / n) / max_iter
            rows = order[start : start + batch_size]
            W = reference_minibatch_step(
                X_many[rows], np.ones(len(rows)), W, D2, "gaussian",
                CLOSED_FORMS[decay](2.5, 0.5, p), CLOSED_FORMS[decay](0.6, 0.05, p),
            )
    np.testing.assert_allclose(som.cluster_centers_, W, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("decay", list(DECAYS))
def test_decays_match_their_closed_forms(decay):
    """Check each decay against its formula at interior points, not only at the ends."""
    progress = np.array([0.0, 0.1, 0.25, 0.5, 0.8, 1.0])
    np.testing.assert_allclose(DECAYS[decay](5.0, 0.5, progress), CLOSED_FORMS[decay](5.0, 0.5, progress), rtol=1e-12)
    np.testing.assert_allclose(DECAYS[decay](0.5, 5.0, progress), CLOSED_FORMS[decay](0.5, 5.0, progress), rtol=1e-12)


def test_partial_fit_ends_on_the_end_values_and_stays_there():
    """Check that partial_fit past max_iter keeps the end radius and learning rate."""
    som = _estimator("minibatch", max_iter=2, batch_size=X.shape[0])
    for _ in range(3):
        som.partial_fit(X)
    before = som.cluster_centers_.copy()
    som.partial_fit(X)
    D2 = squared_grid_distances(MAP_SIZE)
    rng_state = check_random_state(0)
    for _ in range(4):  # the estimator drew one permutation per call
        order = rng_state.permutation(X.shape[0])
    expected = reference_minibatch_step(X[order], np.ones(X.shape[0]), before, D2, "gaussian", 0.5, 0.05)
    np.testing.assert_allclose(som.cluster_centers_, expected, rtol=1e-9, atol=1e-11)


def test_mexican_hat_with_batch_is_a_clear_error():
    """Check that the batch map refuses the sign-changing mexican_hat neighbourhood."""
    with pytest.raises(ValueError, match="mexican_hat.*batch"):
        SOMClusterer(map_size=(2, 2), neighborhood="mexican_hat", algorithm="batch").fit(X)
    # The sequential and mini-batch rules accept it.
    for algorithm in ("online", "minibatch"):
        som = SOMClusterer(map_size=(2, 2), neighborhood="mexican_hat", algorithm=algorithm, max_iter=2, random_state=0)
        assert np.all(np.isfinite(som.fit(X).cluster_centers_))


# -- lattices: adjacency and the topographic error ------------------------------------


@pytest.mark.parametrize(
    "topology, periodic, interior, corner",
    [("rectangular", False, 4, 2), ("rectangular", True, 4, 4), ("hexagonal", False, 6, 2), ("hexagonal", True, 6, 6)],
)
def test_adjacency_counts_on_each_lattice(topology, periodic, interior, corner):
    """Check the number of adjacent units of an interior unit and of unit 0 on each lattice."""
    size = (6, 7)
    A = adjacency(size, topology, periodic).toarray()
    assert (A == A.T).all() and not A.diagonal().any()
    assert A[2 * 7 + 3].sum() == interior
    assert A[0].sum() == corner
    if periodic:
        assert (A.sum(axis=1) == interior).all()
        assert A[0, 6] and A[0, 5 * 7]  # wraps across both seams


def test_hexagonal_neighbours_of_even_and_odd_rows():
    """Check that odd rows are shifted right: their diagonal neighbours are one column further."""
    A = adjacency((4, 4), "hexagonal").toarray()
    # unit (1, 1) in an odd row touches (0, 1), (0, 2), (2, 1), (2, 2); not (0, 0)
    assert [A[5, k] for k in (1, 2, 9, 10, 0, 8)] == [True, True, True, True, False, False]
    # unit (2, 1) in an even row touches (1, 0), (1, 1), (3, 0), (3, 1); not (1, 2)
    assert [A[9, k] for k in (4, 5, 12, 13, 6, 14)] == [True, True, True, True, False, False]
    coords = unit_coordinates((4, 4), "hexagonal")
    np.testing.assert_allclose(np.linalg.norm(coords[5] - coords[[1, 2, 9, 10]], axis=1), 1.0)


@pytest.mark.parametrize("topology, periodic", LATTICES)
def test_topographic_error_uses_the_lattice_adjacency(topology, periodic):
    """Check that the topographic error counts exactly the samples whose two BMUs are not adjacent."""
    A = adjacency(MAP_SIZE, topology, periodic).toarray()
    codebook = np.eye(N_UNITS) * 10.0
    pairs = [(0, 1), (0, 5), (0, 6), (0, 4), (7, 19), (12, 13)]
    # A sample between units i and j (a bit closer to i) has BMUs i then j.
    samples = np.array([0.55 * codebook[i] + 0.45 * codebook[j] for i, j in pairs])
    expected = np.mean([not A[i, j] for i, j in pairs])
    assert topographic_error(samples, codebook, MAP_SIZE, topology=topology, periodic=periodic) == pytest.approx(expected)
    som = SOMClusterer(map_size=MAP_SIZE, topology=topology, periodic=periodic, init=codebook, max_iter=1,
                       learning_rate_start=1e-12, learning_rate_end=1e-12, algorithm="minibatch").fit(samples)
    assert som.topographic_error_ == pytest.approx(expected)
