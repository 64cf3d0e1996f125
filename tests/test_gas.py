"""Tests for NeuralGas and GrowingNeuralGas.

The expected values come from NumPy transcriptions of the published rules
written out below (Martinetz & Schulten 1991 and 1994; Cottrell, Hammer,
Hasenfuss & Villmann 2006; Fritzke 1995), never from sksom's own code.
"""

import pickle
import re

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sklearn.cluster import KMeans
from sklearn.datasets import make_circles, make_moons
from sklearn.metrics import adjusted_rand_score

import sksom
from sksom import SOMClusterer, GrowingNeuralGas, NeuralGas
from sksom.metrics import topographic_error_from_bmus

# The issue's clustered data: 200 points around each of 15 centres.
_rng = np.random.default_rng(1)
CENTRES = _rng.random((15, 2)) * 10
BLOBS = np.concatenate([c + 0.3 * _rng.standard_normal((200, 2)) for c in CENTRES])
TINY = np.random.default_rng(3).random((12, 2))
RING = make_circles(n_samples=(300, 0), noise=0.03, random_state=0)[0]


def _mse(X, W):
    """Mean squared distance from each sample to its nearest unit."""
    return ((X[:, None, :] - W[None]) ** 2).sum(-1).min(axis=1).mean()


def _ranks(x, W):
    """Rank of each unit by distance to ``x`` (0: nearest; ties to the lower index)."""
    order = np.argsort(((W - x) ** 2).sum(axis=1), kind="stable")
    ranks = np.empty(len(W), dtype=int)
    ranks[order] = np.arange(len(W))
    return ranks, order


def _edges(ages):
    return ages >= 0


# -- NumPy transcriptions ----------------------------------------------------


def batch_ng_reference(X, W, lambdas, weights=None):
    """Batch neural gas with full ranks: w_i = sum_j h(k_ij) x_j / sum_j h(k_ij)."""
    weights = np.ones(len(X)) if weights is None else weights
    for lam in lambdas:
        K = np.array([_ranks(x, W)[0] for x in X])  # (n_samples, n_units)
        H = np.exp(-K / lam) * weights[:, None]
        W = H.T @ X / H.sum(axis=0)[:, None]
    return W


def online_ng_reference(X, W, lambdas, rates, max_ages, weights):
    """Sequential neural gas with competitive Hebbian learning, in the order of X."""
    W = W.copy()
    n = len(W)
    A = -np.ones((n, n))
    for x, lam, eps, T, r in zip(X, lambdas, rates, max_ages, weights):
        k, order = _ranks(x, W)
        W += np.minimum(eps * r * np.exp(-k / lam), 1.0)[:, None] * (x - W)
        s1, s2 = order[0], order[1]
        A[s1, A[s1] >= 0] += 1
        A[:, s1] = A[s1]
        A[s1, s2] = A[s2, s1] = 0
        old = A[s1] > T
        A[s1, old] = A[old, s1] = -1
    return W, A


def gng_reference(X, W0, capacity, eb, en, lam, amax, alpha, d, weights=None):
    """Fritzke's (1995) growing neural gas, steps 2 to 9, one signal per row of X."""
    weights = np.ones(len(X)) if weights is None else weights
    dim = X.shape[1]
    W = np.zeros((capacity, dim))
    W[: len(W0)] = W0
    active = np.arange(capacity) < len(W0)
    E = np.zeros(capacity)
    A = -np.ones((capacity, capacity))
    removed_units = 0
    for signal, (x, r) in enumerate(zip(X, weights), start=1):
        dist = np.where(active, ((W - x) ** 2).sum(axis=1), np.inf)
        s1 = int(np.argmin(dist))
        s2 = int(np.argmin(np.where(np.arange(capacity) == s1, np.inf, dist)))
        A[s1, A[s1] >= 0] += 1  # 3. age the winner's edges
        A[:, s1] = A[s1]
        E[s1] += r * dist[s1]  # 4. error
        neighbours = A[s1] >= 0  # 5. move winner and neighbours
        W[s1] += min(eb * r, 1) * (x - W[s1])
        W[neighbours] += min(en * r, 1) * (x - W[neighbours])
        A[s1, s2] = A[s2, s1] = 0  # 6. connect
        had_edges = (A >= 0).any(axis=1)
        A[A > amax] = -1  # 7. drop old edges, then units left without edges
        isolated = active & had_edges & ~(A >= 0).any(axis=1)
        removed_units += isolated.sum()
        active &= ~isolated
        if signal % lam == 0 and not active.all():  # 8. insert
            q = int(np.argmax(np.where(active, E, -np.inf)))
            if (A[q] >= 0).any():
                f = int(np.argmax(np.where(A[q] >= 0, E, -np.inf)))
                new = int(np.argmin(active))
                W[new] = (W[q] + W[f]) / 2
                A[q, f] = A[f, q] = -1
                A[q, new] = A[new, q] = A[new, f] = A[f, new] = 0
                E[q] *= alpha
                E[f] *= alpha
                E[new] = E[q]
                active[new] = True
        E *= d  # 9. decay
    units = np.flatnonzero(active)
    return W[units], A[np.ix_(units, units)], E[units], removed_units


# -- quality -----------------------------------------------------------------


def test_batch_ng_quality_on_the_issue_blobs():
    """Check the issue's figure: 15 units, 10 seeds, mean MSE <= 0.17 and max <= 0.175."""
    errors = [_mse(BLOBS, NeuralGas(n_units=15, random_state=seed).fit(BLOBS).cluster_centers_) for seed in range(10)]
    assert np.mean(errors) <= 0.17
    assert np.max(errors) <= 0.175
    # k-means with random init (Lloyd), for scale: neural gas is the better of the two.
    kmeans = [
        _mse(BLOBS, KMeans(15, init="random", n_init=1, random_state=s).fit(BLOBS).cluster_centers_)
        for s in range(10)
    ]
    assert np.max(errors) < np.max(kmeans)


def test_batch_ng_quality_on_the_unit_square():
    """Check the issue's figure: 100 units on 5,000 points of U[0,1]^2 give MSE <= 0.00165."""
    X = np.random.default_rng(0).random((5000, 2))
    assert _mse(X, NeuralGas(n_units=100, random_state=0).fit(X).cluster_centers_) <= 0.00165


# -- neural gas against its transcriptions -----------------------------------


@pytest.mark.parametrize("n_features", [2, 12], ids=["rank-by-rank", "weight-block"])
@pytest.mark.parametrize("batch_size", ["auto", 5])
def test_batch_ng_matches_transcription(batch_size, n_features):
    """Check that batch NG equals the full-rank NumPy rule, one or several chunks.

    The engine sums rank by rank while k (n_features + 1) is small (here 4 x
    3) and through the (n_samples, n_units) weight block otherwise (4 x 13).
    """
    X = np.random.default_rng(3).random((12, n_features))
    W0 = X[:4] + 0.01
    # lambda_end stays large: with a small one the last epoch is k-means,
    # whose result forgets the ranks of the epochs before.
    gas = NeuralGas(n_units=4, max_iter=4, lambda_start=3.0, lambda_end=1.0, init=W0, batch_size=batch_size)
    gas.fit(X)
    lambdas = 3.0 * (1.0 / 3.0) ** (np.arange(4) / 3)
    np.testing.assert_allclose(gas.cluster_centers_, batch_ng_reference(X, W0, lambdas), rtol=1e-10)
    assert gas.n_iter_ == 4
    # Each id runs the way of summing it names (k = 4 ranks here).
    assert (4 * (n_features + 1) <= sksom._engine.gas._BY_RANK_WIDTH) == (n_features == 2)


def test_batch_ng_truncated_ranks_are_exact():
    """Check that truncating the ranks at small lambda leaves the full-rank result (float tolerance).

    The epochs keep 19 ranks (weight block), 3 and 2 (rank by rank; the
    last one would keep 1 without the floor of two).
    """
    X = np.random.default_rng(4).random((300, 2))
    W0 = X[:60]
    gas = NeuralGas(n_units=60, max_iter=3, lambda_start=0.5, lambda_end=0.01, init=W0).fit(X)
    lambdas = 0.5 * 0.02 ** (np.arange(3) / 2)
    assert [sksom._engine.rank_cutoff(60, lam, np.float64) for lam in lambdas] == [19, 3, 2]
    np.testing.assert_allclose(gas.cluster_centers_, batch_ng_reference(X, W0, lambdas), rtol=1e-12)


def test_batch_ng_unit_nearest_to_no_sample_moves_to_where_it_is_second():
    """Check the truncation's floor of two ranks on units far from the data.

    At lambda = 0.02 one rank would be kept; unit 1 is nearest to no sample
    but second to every one, and the full rule moves it (by the sample
    weights of rank 1, all equal) to the samples' mean. Units 2 and 3 are
    among no sample's two nearest: the truncated rule leaves them in place,
    where the full rule moves them by weights below float resolution (the
    limitation the docs state).
    """
    X = np.random.default_rng(16).random((50, 2))
    W0 = np.array([[0.5, 0.5], [3.0, 3.0], [10.0, 10.0], [20.0, 20.0]])
    gas = NeuralGas(n_units=4, max_iter=1, lambda_end=0.02, init=W0).fit(X)
    assert sksom._engine.rank_cutoff(4, 0.02, np.float64) == 2
    np.testing.assert_allclose(gas.cluster_centers_[:2], batch_ng_reference(X, W0, [0.02])[:2], rtol=1e-12)
    np.testing.assert_allclose(gas.cluster_centers_[1], X.mean(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(gas.cluster_centers_[2:], W0[2:])


@pytest.mark.parametrize("n_units", [6, 600], ids=["counted-ranks", "sorted-ranks"])
def test_online_ng_matches_transcription(n_units):
    """Check the sequential rule and its edge ageing against NumPy, one epoch in order.

    The engine ranks by counting pairs up to ``COUNT_RANKS_UP_TO`` units, by
    sorting above.
    """
    X = np.random.default_rng(5).random((60, 2))
    W0 = np.random.default_rng(13).random((n_units, 2))
    W0[:6] = X[:6] + 0.05
    weights = np.random.default_rng(6).uniform(0.5, 4.0, 60)
    gas = NeuralGas(
        n_units=n_units, algorithm="online", max_iter=1, lambda_start=2.0, lambda_end=0.1,
        learning_rate_start=0.6, learning_rate_end=0.05, init=W0, shuffle=False,
    ).fit(X, sample_weight=weights)
    p = np.arange(60) / 60
    W, A = online_ng_reference(
        X, W0, 2.0 * 0.05**p, 0.6 * (0.05 / 0.6) ** p, 0.1 * n_units * 20**p, weights / weights.mean()
    )
    np.testing.assert_allclose(gas.cluster_centers_, W, rtol=1e-10)
    np.testing.assert_array_equal(gas.edges_.toarray(), _edges(A))
    assert (n_units <= sksom._engine.gas.COUNT_RANKS_UP_TO) == (n_units == 6)  # both ways of ranking run


def test_online_ng_breaks_distance_ties_by_unit_index():
    """Check that units at equal distance rank in index order, as a stable sort.

    Units 0 and 2 start at the same place, so every signal before they part
    sees them tied; the lower index must rank first and win.
    """
    X = np.random.default_rng(12).random((30, 2))
    W0 = np.array([[0.5, 0.5], [0.1, 0.9], [0.5, 0.5], [0.9, 0.1]])
    gas = NeuralGas(
        n_units=4, algorithm="online", max_iter=1, lambda_start=1.0, lambda_end=0.5,
        learning_rate_start=0.5, learning_rate_end=0.1, init=W0, shuffle=False,
    ).fit(X)
    p = np.arange(30) / 30
    W, A = online_ng_reference(X, W0, 1.0 * 0.5**p, 0.5 * 0.2**p, 0.4 * 20**p, np.ones(30))
    np.testing.assert_allclose(gas.cluster_centers_, W, rtol=1e-10)
    np.testing.assert_array_equal(gas.edges_.toarray(), _edges(A))


def test_online_ng_ties_at_every_signal_go_to_the_lower_index():
    """Check winner, runner-up and ranks when all units tie at every signal.

    A learning rate of 100 caps the steps of the units of rank 0 to 4 at 1:
    the five units land on each sample, so every later signal finds them at
    one place, and the winner, the runner-up (their edge) and the ranks must
    follow the unit index, as a stable sort's order.
    """
    X = np.random.default_rng(12).random((30, 2))
    W0 = np.random.default_rng(1).random((5, 2))
    gas = NeuralGas(
        n_units=5, algorithm="online", max_iter=1, lambda_start=1.0, lambda_end=1.0, learning_rate_start=100.0,
        learning_rate_end=100.0, max_age=3, init=W0, shuffle=False,
    ).fit(X)
    W, A = online_ng_reference(X, W0, np.ones(30), np.full(30, 100.0), np.full(30, 3.0), np.ones(30))
    assert np.ptp(W, axis=0).max() == 0  # the units end at one place: the ties were real
    np.testing.assert_allclose(gas.cluster_centers_, W, rtol=1e-12)
    np.testing.assert_array_equal(gas.edges_.toarray(), _edges(A))


def test_online_ng_fixed_max_age_drops_edges():
    """Check that a fixed max_age of 0 keeps only the edges refreshed at each unit's last win."""
    X = np.random.default_rng(7).random((40, 2))
    W0 = X[:6] + 0.01
    gas = NeuralGas(n_units=6, algorithm="online", max_iter=1, max_age=0, init=W0, shuffle=False).fit(X)
    p = np.arange(40) / 40
    W, A = online_ng_reference(
        X, W0, 3.0 * (0.01 / 3.0) ** p, 0.5 * 0.01**p, np.zeros(40), np.ones(40)
    )
    np.testing.assert_array_equal(gas.edges_.toarray(), _edges(A))


# -- growing neural gas --------------------------------------------------------


@pytest.mark.parametrize("batch_size", ["auto", 7])
def test_gng_matches_fritzke_transcription(batch_size):
    """Check units, edges and errors after 300 signals against Fritzke's steps in NumPy.

    With ``batch_size=7`` the compiled loop runs over chunks of 7 signals,
    whose ends fall between insertions (every 10 signals).
    """
    W0 = RING[:2]
    params = dict(eps_winner=0.2, eps_neighbor=0.05, insertion_interval=10, max_age=2,
                  error_decay=0.5, global_error_decay=0.99)
    weights = np.random.default_rng(8).uniform(0.2, 3.0, len(RING))
    gng = GrowingNeuralGas(max_units=12, max_iter=1, init=W0, shuffle=False, batch_size=batch_size, **params)
    gng.fit(RING, sample_weight=weights)
    W, A, E, removed = gng_reference(
        RING, W0, 12, 0.2, 0.05, 10, 2, 0.5, 0.99, weights=weights / weights.mean()
    )
    assert removed > 0  # the removal of isolated units is exercised
    assert gng.n_units_ == len(W)
    np.testing.assert_allclose(gng.cluster_centers_, W, rtol=1e-9)
    np.testing.assert_array_equal(gng.edges_.toarray(), _edges(A))
    np.testing.assert_allclose(gng._unit_errors, E, rtol=1e-9)
    assert gng.n_signals_ == len(RING)


@pytest.mark.parametrize(
    "X, y",
    [make_moons(n_samples=600, noise=0.05, random_state=0), make_circles(n_samples=600, factor=0.4, noise=0.03, random_state=0)],
    ids=["moons", "rings"],
)
def test_gng_finds_the_two_shapes(X, y):
    """Check that the connected components of the graph are the two shapes."""
    gng = GrowingNeuralGas(max_units=60, max_iter=20, insertion_interval=50, n_clusters="connected", random_state=0)
    gng.fit(X)
    assert gng.n_units_ <= 60
    assert connected_components(gng.edges_, directed=False)[0] == 2
    assert adjusted_rand_score(y, gng.predict(X)) == 1.0


def test_gng_error_falls_as_units_are_added():
    """Check that the quantization error falls epoch by epoch as the gas grows."""
    X = make_moons(n_samples=400, noise=0.05, random_state=1)[0]
    gng = GrowingNeuralGas(max_units=60, insertion_interval=40, shuffle=False, random_state=0)
    units, errors = [], []
    for _ in range(4):
        gng.partial_fit(X)
        units.append(gng.n_units_)
        errors.append(gng.quantization_error_)
    assert units == sorted(units) and units[-1] > units[0]
    assert np.all(np.diff(errors) < 0)


def test_gng_partial_fit_continues_the_stream():
    """Check that partial_fit over two halves equals one pass over the whole, in order."""
    X = np.random.default_rng(9).random((400, 2))
    params = dict(max_units=16, insertion_interval=20, init=X[:2], shuffle=False, max_iter=1)
    whole = GrowingNeuralGas(**params).fit(X)
    halves = GrowingNeuralGas(**params).partial_fit(X[:200])
    first_units = halves.n_units_
    halves.partial_fit(X[200:])
    assert halves.n_units_ > first_units
    assert halves.n_iter_ == 2 and halves.n_signals_ == 400
    np.testing.assert_allclose(halves.cluster_centers_, whole.cluster_centers_, rtol=1e-10)
    np.testing.assert_array_equal(halves.edges_.toarray(), whole.edges_.toarray())


def test_gng_stops_at_max_units_and_removes_units_compactly():
    """Check that the gas stops growing at max_units and keeps its numbering compact."""
    gng = GrowingNeuralGas(max_units=7, max_iter=3, insertion_interval=10, max_age=3, random_state=0).fit(RING)
    assert gng.n_units_ <= 7
    assert gng.cluster_centers_.shape == (gng.n_units_, 2)
    assert gng.edges_.shape == (gng.n_units_, gng.n_units_)
    assert (gng.edges_ != gng.edges_.T).nnz == 0
    assert gng.labels_.max() < gng.n_units_


# -- sample weights -----------------------------------------------------------


@pytest.mark.parametrize(
    "estimator",
    [
        NeuralGas(n_units=4, max_iter=3, random_state=0),
        NeuralGas(n_units=6, algorithm="online", max_iter=2, random_state=0),
        GrowingNeuralGas(max_units=6, max_iter=2, insertion_interval=5, random_state=0),
    ],
    ids=["batch", "online", "gng"],
)
@pytest.mark.parametrize("dtype, value", [(np.float64, 100.0), (np.float32, 1e39), (np.float32, 1e-39)])
def test_uniform_weights_give_the_unweighted_result(estimator, dtype, value):
    """Check that uniform weights of any size give the unweighted fit.

    Also weights beyond the float32 range (1e39) and below its normal range
    (1e-39) with float32 data: weights are made relative before any cast.
    """
    X = np.random.default_rng(10).random((40, 2)).astype(dtype)
    plain = estimator.fit(X).cluster_centers_.copy()
    weighted = estimator.fit(X, sample_weight=np.full(40, value)).cluster_centers_
    # Relative weights of exactly 1.
    np.testing.assert_array_equal(weighted, plain)


@pytest.mark.parametrize(
    "estimator",
    [
        SOMClusterer((2, 2), init="random", max_iter=2),
        NeuralGas(n_units=4, max_iter=2),
        GrowingNeuralGas(max_units=5, max_iter=2, insertion_interval=5),
    ],
    ids=["som", "ng", "gng"],
)
def test_failed_fit_keeps_the_users_random_state_object(estimator, monkeypatch):
    """Check that a failed fit puts the random state back into the very object the user passed."""
    rng = np.random.RandomState(0)
    estimator.set_params(random_state=rng)
    engine = sksom._base.engine()
    for name in ("batch_epoch", "neural_gas_batch_epoch", "neural_gas_batch_epochs", "growing_neural_gas"):
        monkeypatch.setattr(engine, name, _fail)
    with pytest.raises(RuntimeError, match="device lost"):
        estimator.fit(TINY)  # the initial units were drawn from rng
    assert estimator.get_params()["random_state"] is rng
    assert not hasattr(estimator, "cluster_centers_")
    np.testing.assert_array_equal(rng.random_sample(3), np.random.RandomState(0).random_sample(3))


@pytest.mark.parametrize("n_features", [2, 12], ids=["rank-by-rank", "weight-block"])
def test_batch_ng_weight_two_equals_a_duplicated_row(n_features):
    """Check that an integer weight of 2 in batch NG counts the sample twice (both ways of summing)."""
    X = np.random.default_rng(11).random((20, n_features))
    W0 = X[:5] + 0.02
    weights = np.ones(20)
    weights[3] = 2
    gas = NeuralGas(n_units=5, max_iter=3, init=W0)
    weighted = gas.fit(X, sample_weight=weights).cluster_centers_.copy()
    duplicated = gas.fit(np.vstack([X, X[3:4]])).cluster_centers_
    np.testing.assert_allclose(weighted, duplicated, rtol=1e-12)


def test_zero_weight_ignores_the_sample():
    """Check that a weight of 0 in the sequential rules is the sample's absence.

    The other samples keep their weights relative to the mean of the positive
    weights, and the schedules run over them alone: the fit equals the fit
    on the kept rows, and both equal the transcriptions on those rows.
    """
    X = np.random.default_rng(12).random((30, 2))
    weights = np.random.default_rng(14).uniform(0.5, 2.0, 30)
    weights[[4, 17, 18]] = 0
    kept, kept_weights = np.delete(X, [4, 17, 18], axis=0), np.delete(weights, [4, 17, 18])
    relative = kept_weights / kept_weights.mean()
    W0 = X[:6] + 0.01
    params = dict(n_units=6, algorithm="online", max_iter=1, max_age=3, shuffle=False, init=W0)
    gas = NeuralGas(**params).fit(X, sample_weight=weights)
    alone = NeuralGas(**params).fit(kept, sample_weight=kept_weights)
    p = np.arange(27) / 27
    W, A = online_ng_reference(kept, W0, 3.0 * (0.01 / 3.0) ** p, 0.5 * 0.01**p, np.full(27, 3.0), relative)
    np.testing.assert_allclose(gas.cluster_centers_, W, rtol=1e-10)
    np.testing.assert_allclose(alone.cluster_centers_, W, rtol=1e-10)
    params = dict(max_units=5, max_iter=1, insertion_interval=7, shuffle=False, init=X[:2])
    gng = GrowingNeuralGas(**params).fit(X, sample_weight=weights)
    alone = GrowingNeuralGas(**params).fit(kept, sample_weight=kept_weights)
    W, A, E, _ = gng_reference(kept, X[:2], 5, 0.2, 0.006, 7, 50, 0.5, 0.995, weights=relative)
    for fitted in (gng, alone):
        np.testing.assert_allclose(fitted.cluster_centers_, W, rtol=1e-10)
        np.testing.assert_allclose(fitted._unit_errors, E, rtol=1e-10)
    assert gng.n_signals_ == 27


# -- the estimator API -------------------------------------------------------


def test_n_clusters_options():
    """Check "connected", an int (Ward along the edges) and a clusterer as second stage."""
    X = make_moons(n_samples=300, noise=0.05, random_state=0)[0]
    gng = GrowingNeuralGas(max_units=40, max_iter=10, insertion_interval=30, random_state=0)
    connected = gng.set_params(n_clusters="connected").fit(X)
    n_components, components = connected_components(connected.edges_, directed=False)
    np.testing.assert_array_equal(connected.unit_labels_, components)
    np.testing.assert_array_equal(connected.labels_, components[connected.best_matching_unit(X)])
    ward = GrowingNeuralGas(max_units=40, max_iter=10, insertion_interval=30, n_clusters=3, random_state=0).fit(X)
    assert len(np.unique(ward.unit_labels_)) == 3
    km = NeuralGas(n_units=8, n_clusters=KMeans(2, n_init=1, random_state=0), random_state=0).fit(X)
    assert set(km.predict(X)) == {0, 1}


def test_topographic_error_uses_the_edges():
    """Check that topographic_error_ is the share of samples whose two nearest units share no edge."""
    X = np.random.default_rng(13).random((200, 2))
    gas = NeuralGas(n_units=6, algorithm="online", max_iter=2, max_age=1, random_state=0).fit(X)
    d = ((X[:, None] - gas.cluster_centers_[None]) ** 2).sum(-1)
    first, second = np.argsort(d, axis=1, kind="stable")[:, :2].T
    expected = np.mean(~gas.edges_.toarray()[first, second])
    assert gas.topographic_error_ == pytest.approx(expected)
    assert topographic_error_from_bmus(first, second, gas.edges_) == pytest.approx(expected)
    assert expected > 0  # an ageing graph misses some pairs
    batch = NeuralGas(n_units=6, random_state=0).fit(X)
    assert batch.topographic_error_ == 0.0  # its graph is built from these pairs


def test_partial_fit_equals_fit_for_batch_ng():
    """Check that max_iter calls of partial_fit on the same data equal fit."""
    gas = NeuralGas(n_units=5, max_iter=4, random_state=0)
    fitted = gas.fit(TINY).cluster_centers_.copy()
    stream = NeuralGas(n_units=5, max_iter=4, random_state=0)
    for _ in range(4):
        stream.partial_fit(TINY)
    np.testing.assert_allclose(stream.cluster_centers_, fitted, rtol=1e-10)


@pytest.mark.parametrize("estimator", [NeuralGas(n_units=4, max_iter=2, random_state=0),
                                       GrowingNeuralGas(max_units=5, max_iter=2, insertion_interval=5, random_state=0)],
                         ids=["ng", "gng"])
def test_sparse_input_equals_dense(estimator):
    """Check that a sparse matrix gives the fit of its dense copy."""
    X = sparse.random(50, 2, density=0.5, random_state=0, format="csr")
    dense = estimator.fit(X.toarray()).cluster_centers_.copy()
    np.testing.assert_allclose(estimator.fit(X).cluster_centers_, dense, rtol=1e-12)


@pytest.mark.parametrize("cls", [NeuralGas, GrowingNeuralGas])
def test_nan_input_is_rejected(cls):
    """Check that NaN in fit or predict raises a ValueError that says what to do."""
    X = TINY.copy()
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match="contains NaN.*impute"):
        cls(6, random_state=0, max_iter=1).fit(X)
    fitted = cls(6, random_state=0, max_iter=1).fit(TINY)
    with pytest.raises(ValueError, match="contains NaN"):
        fitted.predict(X)


@pytest.mark.parametrize("estimator", [NeuralGas(n_units=6, algorithm="online", max_iter=1, random_state=0),
                                       GrowingNeuralGas(max_units=5, max_iter=1, insertion_interval=5, random_state=0)],
                         ids=["ng", "gng"])
def test_pickle_keeps_the_fit_and_the_version(estimator):
    """Check that a pickled gas predicts the same, carries the version and can continue."""
    estimator.fit(TINY)
    assert estimator.__getstate__()["_sksom_version"] == sksom.__version__
    loaded = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(loaded.predict(TINY), estimator.predict(TINY))
    np.testing.assert_array_equal(loaded.edges_.toarray(), estimator.edges_.toarray())
    loaded.partial_fit(TINY)
    estimator.partial_fit(TINY)
    np.testing.assert_array_equal(loaded.cluster_centers_, estimator.cluster_centers_)


def _fail(*args, **kwargs):
    raise RuntimeError("device lost")


@pytest.mark.parametrize("estimator", [NeuralGas(n_units=4, max_iter=2, random_state=0),
                                       GrowingNeuralGas(max_units=5, max_iter=2, insertion_interval=5, random_state=0)],
                         ids=["ng", "gng"])
def test_failed_partial_fit_leaves_the_estimator_unchanged(estimator, monkeypatch):
    """Check that an error inside training restores every attribute."""
    estimator.fit(TINY)
    before = {k: (v.copy() if hasattr(v, "copy") else v) for k, v in estimator.__dict__.items()}
    engine = sksom._base.engine()
    for name in ("neural_gas_batch_epoch", "neural_gas_batch_epochs", "growing_neural_gas"):
        monkeypatch.setattr(engine, name, _fail)
    with pytest.raises(RuntimeError, match="device lost"):
        estimator.partial_fit(TINY)
    assert estimator.__dict__.keys() == before.keys()
    np.testing.assert_array_equal(estimator.cluster_centers_, before["cluster_centers_"])
    assert estimator.n_iter_ == before["n_iter_"]
    with pytest.raises(ValueError, match="features"):
        estimator.partial_fit(TINY[:, :1])
    np.testing.assert_array_equal(estimator.cluster_centers_, before["cluster_centers_"])


def test_verbose_reports_each_epoch(capsys):
    """Check that verbose prints one line per epoch with the schedule's value."""
    NeuralGas(n_units=3, max_iter=2, verbose=1, random_state=0).fit(TINY)
    GrowingNeuralGas(max_units=4, max_iter=2, verbose=1, random_state=0).fit(TINY)
    out = capsys.readouterr().out
    assert len(re.findall(r"\[NeuralGas\] epoch \d/2 .*lambda", out)) == 2
    assert len(re.findall(r"\[GrowingNeuralGas\] epoch \d/2 .*units", out)) == 2


BAD_PARAMS = [
    (NeuralGas, dict(n_units=1), r"n_units"),
    (NeuralGas, dict(algorithm="sgd"), r"algorithm"),
    (NeuralGas, dict(lambda_end=0), r"lambda_end"),
    (NeuralGas, dict(max_age=-1), r"max_age"),
    (NeuralGas, dict(n_clusters="components"), r"n_clusters"),
    (NeuralGas, dict(n_units=3, init=np.zeros((2, 2))), r"init has shape \(2, 2\); expected .*\(3, 2\)"),
    (NeuralGas, dict(n_units=3, init=np.full((3, 2), 1e200)), r"init has values up to 1e\+200, too large .* float64"),
    (GrowingNeuralGas, dict(init=np.full((2, 2), 1e200)), r"init has values up to 1e\+200, too large .* float64"),
    (NeuralGas, dict(n_units=3, n_clusters=4), r"n_clusters=4 is larger than the number of units"),
    (NeuralGas, dict(device="/TPU:7"), r"device='/TPU:7'"),
    (NeuralGas, dict(n_units=5000, algorithm="online"), r"n_units=5000 exceeds the 4096 units supported by algorithm='online'"),
    (GrowingNeuralGas, dict(max_units=1), r"max_units"),
    (GrowingNeuralGas, dict(max_units=5000), r"max_units=5000 exceeds the 4096 units supported"),
    (GrowingNeuralGas, dict(eps_winner=1.5), r"eps_winner"),
    (GrowingNeuralGas, dict(error_decay=-0.1), r"error_decay"),
    (GrowingNeuralGas, dict(global_error_decay=0), r"global_error_decay"),
    (GrowingNeuralGas, dict(insertion_interval=0), r"insertion_interval"),
    (GrowingNeuralGas, dict(init=np.zeros((1, 2))), r"init has shape \(1, 2\); expected \(n_start, n_features\)"),
    (GrowingNeuralGas, dict(init="random"), r"init"),
    (GrowingNeuralGas, dict(insertion_interval=2**70), r"insertion_interval"),
    (GrowingNeuralGas, dict(max_units=4, n_clusters=5), r"n_clusters=5 is larger than the number of units .*\(4\)"),
    (NeuralGas, dict(n_clusters=True), r"n_clusters .*bool"),
    (GrowingNeuralGas, dict(n_clusters=True), r"n_clusters .*bool"),
]


@pytest.mark.parametrize("cls, params, message", BAD_PARAMS)
def test_bad_parameters_raise(cls, params, message):
    """Check that each bad parameter raises a ValueError naming it."""
    with pytest.raises(ValueError, match=message):
        cls(max_iter=1, **params).fit(TINY)


@pytest.mark.parametrize(
    "estimator",
    [SOMClusterer((2, 2), max_iter=1), SOMClusterer((2, 2), algorithm="plsom", max_iter=1),
     NeuralGas(n_units=3, max_iter=1), GrowingNeuralGas(max_units=4, max_iter=1)],
    ids=["som", "plsom", "ng", "gng"],
)
def test_values_whose_squares_underflow_are_rejected(estimator):
    """Check a clear error, not all-zero distances and wrong BMUs, for float32 data near 1e-20.

    Zero data (constant) and the same values in float64 still fit.
    """
    with pytest.raises(ValueError, match="too small to compute squared distances in float32"):
        estimator.fit((TINY * 1e-20).astype(np.float32))
    assert not hasattr(estimator, "cluster_centers_")
    fitted = estimator.fit(TINY * 1e-20)
    assert np.unique(fitted.predict(TINY * 1e-20)).size > 1
    estimator.fit(np.zeros((12, 2), dtype=np.float32))


def test_batch_ng_holds_no_dense_unit_by_unit_matrix():
    """Check that batch NG with many units allocates nothing of size n_units^2 on the host.

    3,000 units: a dense (n_units, n_units) float64 matrix would be 72 MB;
    the NumPy allocations of the whole fit stay far below. Its edges are all
    at age 0.
    """
    import tracemalloc

    X = np.random.default_rng(15).random((60, 2))
    gas = NeuralGas(n_units=3000, max_iter=1, init="random", random_state=0)
    tracemalloc.start()
    try:
        gas.fit(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6
    assert gas.edges_.nnz > 0
    np.testing.assert_array_equal(gas._edge_ages.toarray(), gas.edges_.toarray().astype(float))


def test_float64_init_beyond_float32_data_range_names_the_range():
    """Check that a float64 init too large for float32 data is called too large, not NaN or infinity."""
    with pytest.raises(ValueError, match=r"init has values up to 1e\+39, too large .* float32 .* pass float64"):
        NeuralGas(n_units=3, max_iter=1, init=np.full((3, 2), 1e39)).fit(TINY.astype(np.float32))


def test_n_clusters_that_is_not_a_clusterer_is_a_type_error():
    """Check that n_clusters=PCA() (an estimator without labels) says it is not a clusterer."""
    from sklearn.decomposition import PCA

    ng = NeuralGas(n_units=4, max_iter=1, n_clusters=PCA(1), random_state=0)
    with pytest.raises(TypeError, match="not a clusterer"):
        ng.fit(TINY)
    assert not hasattr(ng, "cluster_centers_")


def test_gng_streams_with_n_clusters_before_it_has_the_units():
    """Check that partial_fit with an int n_clusters works while the gas has fewer units than clusters.

    Until it grows, each unit is its own cluster (with a warning); then the
    units are grouped into n_clusters regions.
    """
    gng = GrowingNeuralGas(max_units=12, insertion_interval=5, n_clusters=3, random_state=0)
    with pytest.warns(UserWarning, match="2 units, fewer than n_clusters=3"):
        gng.partial_fit(RING[:4])
    assert gng.n_units_ == 2
    np.testing.assert_array_equal(gng.unit_labels_, [0, 1])
    np.testing.assert_array_equal(gng.labels_, gng.best_matching_unit(RING[:4]))
    for start in range(4, len(RING), 4):
        gng.partial_fit(RING[start : start + 4])
    assert gng.n_units_ >= 3
    assert len(np.unique(gng.unit_labels_)) == 3
    np.testing.assert_array_equal(gng.predict(RING), gng.unit_labels_[gng.best_matching_unit(RING)])


@pytest.mark.parametrize("n_units", [3, 6])
@pytest.mark.parametrize("algorithm", ["batch", "online"])
def test_ng_partial_fit_with_another_n_units_raises(n_units, algorithm):
    """Check that partial_fit after set_params(n_units=...) is refused and the fit is kept."""
    ng = NeuralGas(n_units=4, max_iter=2, algorithm=algorithm, random_state=0).fit(TINY)
    centers = ng.cluster_centers_.copy()
    with pytest.raises(ValueError, match=f"n_units={n_units} differs from the 4 units of the fitted gas"):
        ng.set_params(n_units=n_units).partial_fit(TINY)
    np.testing.assert_array_equal(ng.cluster_centers_, centers)
    assert ng.edges_.shape == (4, 4) and ng.n_iter_ == 2


def test_partial_fit_with_fewer_max_units_than_fitted_raises():
    """Check that continuing with max_units below the fitted units is refused."""
    gng = GrowingNeuralGas(max_units=8, insertion_interval=3, max_iter=2, random_state=0).fit(RING)
    with pytest.raises(ValueError, match="max_units=3 is below"):
        gng.set_params(max_units=3).partial_fit(RING)
    assert gng.max_units == 3 and gng.n_units_ > 3


def test_gas_plot_data_and_plot():
    """Check the plot data (edges as segments, PCA plane beyond 2-D) and that plot_gas draws them."""
    from sksom.maps import gas_plot_data
    from sksom.plotting import plot_gas

    X = np.random.default_rng(14).random((80, 3))
    gas = NeuralGas(n_units=6, n_clusters="connected", random_state=0).fit(X)
    data = gas_plot_data(gas, X)
    W = gas.cluster_centers_
    centred = W - W.mean(axis=0)
    # The projection keeps the codebook's two largest principal variances.
    top = np.sort(np.linalg.eigvalsh(centred.T @ centred))[::-1][:2]
    np.testing.assert_allclose(np.sort((data.positions**2).sum(axis=0))[::-1], top, rtol=1e-10)
    i, j = data.edges
    assert len(i) == gas.edges_.nnz // 2 and np.all(i < j)
    np.testing.assert_allclose(data.segments[:, 0], data.positions[i])
    np.testing.assert_allclose(data.points, (X - W.mean(axis=0)) @ data.components.T)
    ax = plot_gas(gas, X)
    assert len(ax.collections[1].get_segments()) == len(i)
    with pytest.raises(TypeError, match="NeuralGas or GrowingNeuralGas"):
        gas_plot_data(KMeans(2, n_init=1).fit(X))
    # X goes through the gas's own checks: the wrong width is an error, sparse rows become points.
    with pytest.raises(ValueError, match="X has 2 features, but NeuralGas is expecting 3"):
        gas_plot_data(gas, X[:, :2])
    np.testing.assert_allclose(gas_plot_data(gas, sparse.csr_matrix(X)).points, data.points)
