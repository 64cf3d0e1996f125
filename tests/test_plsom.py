"""The parameterless SOM (``algorithm="plsom"`` and ``"plsom2"``).

The compiled loop is compared with a NumPy transcription of Berglund & Sitte's
equations on a tiny map of every lattice; then the properties the algorithm
is for: insensitivity to its one size parameter, and re-adaptation to a
shifted distribution in :meth:`partial_fit`.
"""

import math
import pickle

import numpy as np
import pytest
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from sksom import SOMClusterer
from sksom._base import engine

MAP_SIZE = (4, 3)  # even rows, so the hexagonal torus is allowed
N_UNITS = MAP_SIZE[0] * MAP_SIZE[1]
rng = np.random.default_rng(7)
X = rng.normal(size=(29, 3))
X_NEXT = 0.5 * rng.normal(size=(23, 3)) + 0.3
WEIGHTS = rng.uniform(0.2, 3.0, size=X.shape[0])
W0 = rng.normal(size=(N_UNITS, 3))
LATTICES = [(t, p) for t in ("rectangular", "hexagonal") for p in (False, True)]


# -- NumPy transcription of the equations ---------------------------------------


def lattice_d2(map_size, topology, periodic, centre):
    """Squared lattice distance of every unit to unit ``centre``, spelled out."""
    n_rows, n_columns = map_size
    row, column = np.divmod(np.arange(n_rows * n_columns), n_columns)
    step = math.sqrt(3) / 2 if topology == "hexagonal" else 1.0
    y = row * step
    x = column + (0.5 * (row % 2) if topology == "hexagonal" else 0.0)
    dy, dx = np.abs(y - y[centre]), np.abs(x - x[centre])
    if periodic:
        dy = np.minimum(dy, n_rows * step - dy)
        dx = np.minimum(dx, n_columns - dx)
    return dy**2 + dx**2


def reference_plsom(X, W, map_size, topology, periodic, beta, theta_min, r=0.0, weights=None, fixed_r=False):
    """Berglund & Sitte (2006), one sample at a time; returns the codebook and ``r``.

    ``eps = |x - w_c|^2 / r`` with ``r = max(r, |x - w_c|^2)`` (or, with
    ``fixed_r``, PLSOM2's ``eps = |x - w_c| / r`` for a fixed diameter ``r``,
    capped at 1), ``Theta = (beta - theta_min) ln(1 + eps (e - 1))
    + theta_min``, ``w_i += min(1, eps exp(-d_i^2 / Theta^2) v) (x - w_i)``
    where ``v`` is the sample's weight over the mean weight.
    """
    W = W.copy()
    n = len(X)
    v = np.ones(n) if weights is None else weights * n / weights.sum()
    for x, vi in zip(X, v):
        observed = ~np.isnan(x)
        errors = (((W - np.where(observed, x, 0.0)) * observed) ** 2).sum(axis=1)
        c = np.argmin(errors)
        if not fixed_r and vi > 0:
            r = max(r, errors[c])
        size = np.sqrt(errors[c]) if fixed_r else errors[c]
        eps = min(size / r, 1.0) if r > 0 else 0.0
        theta = (beta - theta_min) * np.log(1 + eps * (np.e - 1)) + theta_min
        h = np.exp(-lattice_d2(map_size, topology, periodic, c) / theta**2)
        step = np.minimum(eps * h * vi, 1.0)
        W += (step[:, None] * (np.where(observed, x, W) - W))
    return W, r


def _plsom(**params):
    defaults = {"map_size": MAP_SIZE, "algorithm": "plsom", "init": W0, "random_state": 0,
                "radius_start": 2.5, "radius_end": 0.5, "max_iter": 1}
    defaults.update(params)
    return SOMClusterer(**defaults)


def _order(n, seed=0):
    return check_random_state(seed).permutation(n)


# -- the kernel against the equations --------------------------------------------


@pytest.mark.parametrize("topology, periodic", LATTICES)
def test_plsom_epoch_is_the_paper_rule(topology, periodic):
    """Check that a one-epoch fit applies the PLSOM rule in a seeded order on every lattice."""
    som = _plsom(topology=topology, periodic=periodic).fit(X)
    expected, r = reference_plsom(X[_order(len(X))], W0, MAP_SIZE, topology, periodic, 2.5, 0.5)
    np.testing.assert_allclose(som.cluster_centers_, expected, rtol=1e-9, atol=1e-11)
    assert som._plsom_r == pytest.approx(r, rel=1e-12)


def test_plsom_r_is_carried_across_partial_fit():
    """Check that partial_fit continues from the largest error of earlier calls."""
    som = _plsom().fit(X)
    rng = check_random_state(0)
    W, r = reference_plsom(X[rng.permutation(len(X))], W0, MAP_SIZE, "rectangular", False, 2.5, 0.5)
    som.partial_fit(X_NEXT)
    W, r = reference_plsom(X_NEXT[rng.permutation(len(X_NEXT))], W, MAP_SIZE, "rectangular", False, 2.5, 0.5, r=r)
    np.testing.assert_allclose(som.cluster_centers_, W, rtol=1e-9, atol=1e-11)
    assert som._plsom_r == pytest.approx(r, rel=1e-12)
    # A later fit starts afresh: r is the largest error of that fit only.
    som.fit(X_NEXT)
    _, r_fresh = reference_plsom(X_NEXT[_order(len(X_NEXT))], W0, MAP_SIZE, "rectangular", False, 2.5, 0.5)
    assert som._plsom_r == pytest.approx(r_fresh, rel=1e-12)


def test_plsom_sample_weight_scales_the_step_capped_at_one():
    """Check that a weight multiplies eps relative to the mean weight, the step capped at 1."""
    # A heavy sample far from everything: its error is the largest so far, so
    # eps = 1 and its relative weight (about 15) would overshoot without the cap.
    X_far = np.vstack([X, [[6.0, -6.0, 6.0]]])
    weights = np.append(WEIGHTS, 40.0)
    weights[5] = 0.0
    order = _order(len(X_far))
    som = _plsom(radius_start=1.5).fit(X_far, sample_weight=weights)
    expected, r = reference_plsom(X_far[order], W0, MAP_SIZE, "rectangular", False, 1.5, 0.5, weights=weights[order])
    np.testing.assert_allclose(som.cluster_centers_, expected, rtol=1e-9, atol=1e-11)
    assert som._plsom_r == pytest.approx(r, rel=1e-12)


@pytest.mark.parametrize("algorithm", ["plsom", "plsom2"])
def test_plsom_chunked_epoch_equals_one_chunk(algorithm):
    """Check that the codebook and r carry across the chunks of an epoch."""
    whole = _plsom(algorithm=algorithm, max_iter=2).fit(X)
    chunked = _plsom(algorithm=algorithm, max_iter=2, batch_size=7).fit(X)
    np.testing.assert_allclose(chunked.cluster_centers_, whole.cluster_centers_, rtol=1e-12, atol=1e-14)
    assert chunked._plsom_r == whole._plsom_r


def test_plsom2_single_sample_call_keeps_the_normaliser():
    """Check that a partial_fit whose data has diameter 0 keeps the earlier diameter."""
    som = _plsom(algorithm="plsom2").fit(X)
    r = som._plsom_r
    som.partial_fit(X[:1])
    assert som._plsom_r == r > 0


@pytest.mark.parametrize("value, dtype", [(7.5, np.float64), (1e39, np.float32), (1e-39, np.float32), (1e-310, np.float64)])
@pytest.mark.parametrize("algorithm", ["plsom", "plsom2"])
def test_plsom_uniform_weights_of_any_size_change_nothing(algorithm, value, dtype):
    """Check that uniform weights of any size give exactly the unweighted result (float32 too)."""
    plain = _plsom(algorithm=algorithm, max_iter=2).fit(X.astype(dtype))
    weighted = _plsom(algorithm=algorithm, max_iter=2).fit(X.astype(dtype), sample_weight=np.full(len(X), value))
    np.testing.assert_array_equal(weighted.cluster_centers_, plain.cluster_centers_)


def test_plsom2_learns_from_a_stream_of_single_samples():
    """Check that plsom2 fed one sample per partial_fit normalises by the spread seen so far.

    One feature: PLSOM2's diameter estimate is then exactly max - min.
    """
    stream = np.random.default_rng(4).uniform(-2.0, 3.0, size=(60, 1))
    som = SOMClusterer((1, 5), algorithm="plsom2", random_state=0)
    som.partial_fit(stream[:1])
    assert som._plsom_r == 0.0  # one sample: no spread yet
    for k in range(2, len(stream) + 1):
        som.partial_fit(stream[k - 1 : k])
        seen = stream[:k]
        assert som._plsom_r == pytest.approx(seen.max() - seen.min(), rel=1e-12)
    # The units spread over the data instead of staying on the first sample.
    centers = som.cluster_centers_[:, 0]
    assert np.ptp(centers) > 0.5 * np.ptp(stream)
    # A later call with spread of its own uses its own diameter again.
    som.partial_fit(stream[:10])
    assert som._plsom_r == pytest.approx(np.ptp(stream[:10]), rel=1e-12)


def test_plsom_missing_values_use_observed_features():
    """Check that NaN entries are left out of the distances and the updates."""
    X_nan = X.copy()
    X_nan[[1, 4, 4, 10], [0, 1, 2, 2]] = np.nan
    som = _plsom().fit(X_nan)
    expected, _ = reference_plsom(X_nan[_order(len(X))], W0, MAP_SIZE, "rectangular", False, 2.5, 0.5)
    np.testing.assert_allclose(som.cluster_centers_, expected, rtol=1e-9, atol=1e-11)


def _extreme_diameter(X):
    """PLSOM2's estimate: the largest distance between feature-wise extreme samples."""
    extremes = X[np.unique(np.concatenate([X.argmin(axis=0), X.argmax(axis=0)]))]
    return max(math.dist(a, b) for a in extremes for b in extremes)


def test_plsom2_normalises_by_the_diameter_of_the_call_data():
    """Check that plsom2 divides the distance to the BMU by the diameter of each call's data, not the largest error."""
    som = _plsom(algorithm="plsom2").fit(X)
    rng = check_random_state(0)
    r = _extreme_diameter(X)
    W, _ = reference_plsom(X[rng.permutation(len(X))], W0, MAP_SIZE, "rectangular", False, 2.5, 0.5, r=r, fixed_r=True)
    np.testing.assert_allclose(som.cluster_centers_, W, rtol=1e-9, atol=1e-11)
    # A later call normalises by its own data, whatever came before.
    som.partial_fit(X_NEXT)
    r = _extreme_diameter(X_NEXT)
    W, _ = reference_plsom(X_NEXT[rng.permutation(len(X_NEXT))], W, MAP_SIZE, "rectangular", False, 2.5, 0.5, r=r, fixed_r=True)
    np.testing.assert_allclose(som.cluster_centers_, W, rtol=1e-9, atol=1e-11)
    assert som._plsom_r == pytest.approx(r, rel=1e-12)


def test_plsom_ignores_learning_rates_and_decays():
    """Check that the learning-rate and decay parameters do not change a PLSOM fit."""
    plain = _plsom(max_iter=2).fit(X)
    other = _plsom(max_iter=2, learning_rate_start=0.01, learning_rate_end=0.001,
                   learning_rate_decay="linear", radius_decay="inverse").fit(X)
    np.testing.assert_array_equal(other.cluster_centers_, plain.cluster_centers_)


# -- what PLSOM is for -----------------------------------------------------------------

# Two noisy 2-D rings: an ordered map has to bend to fit them.
_t = np.random.default_rng(0).uniform(0, 2 * np.pi, 600)
RINGS = np.column_stack([np.cos(_t), np.sin(_t)]) * np.where(np.arange(600) % 2, 1.0, 2.0)[:, None]
RINGS = RINGS + np.random.default_rng(1).normal(scale=0.05, size=RINGS.shape)


# The unit square, Berglund & Sitte's own test distribution.
SQUARE = np.random.default_rng(2).uniform(size=(1000, 2))


def test_plsom_final_error_is_insensitive_to_beta():
    """Check that over beta from half the map side to twice it the QE varies by under 10%."""
    side = 8
    betas = side * np.array([0.5, 0.75, 1.0, 1.5, 2.0])
    errors = np.array([
        SOMClusterer((side, side), algorithm="plsom", radius_start=b, init="random", max_iter=5, random_state=0)
        .fit(SQUARE).quantization_error_
        for b in betas
    ])
    spread = (errors.max() - errors.min()) / errors.mean()
    assert spread < 0.10, (errors, spread)


@pytest.mark.parametrize("algorithm", ["plsom", "plsom2"])
def test_plsom_readapts_to_a_shifted_distribution(algorithm):
    """Check that two partial_fit epochs on translated data move the map there, faster than the online SOM.

    (Within 1.2x of a fresh fit is not reached: see the PLSOM section of the
    user guide for the figures.)
    """
    shifted = RINGS + [3.0, 0.0]
    errors, before = {}, {}
    for name in (algorithm, "online"):
        som = SOMClusterer((8, 8), algorithm=name, max_iter=5, random_state=0).fit(RINGS)
        before[name] = -som.score(shifted)
        som.partial_fit(shifted).partial_fit(shifted)
        errors[name] = -som.score(shifted)
    assert errors[algorithm] < before[algorithm] / 4
    assert errors[algorithm] < 0.8 * errors["online"], errors


def test_plsom2_absorbs_a_drift_within_two_epochs():
    """Check that after a drift by half the data's width, two plsom2 partial_fit epochs come within 1.2x of a fresh fit.

    (The online SOM, whose schedule has ended, stays above 1.35x: the
    comparison can fail.)
    """
    drifted = SQUARE + [0.5, 0.0]
    ratios = {}
    for name in ("plsom2", "online"):
        params = {"map_size": (8, 8), "algorithm": name, "max_iter": 5, "random_state": 0}
        som = SOMClusterer(**params).fit(SQUARE).partial_fit(drifted).partial_fit(drifted)
        fresh = SOMClusterer(**params).fit(drifted)
        ratios[name] = som.score(drifted) / fresh.score(drifted)
    assert ratios["plsom2"] < 1.2, ratios
    assert ratios["online"] > 1.35, ratios


# -- the estimator contract --------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["plsom", "plsom2"])
def test_plsom_pickle_round_trip_continues_identically(algorithm):
    """Check that a pickled map keeps its normaliser, so partial_fit continues the same way."""
    som = _plsom(algorithm=algorithm).fit(X)
    copy = pickle.loads(pickle.dumps(som))
    assert copy._plsom_r == som._plsom_r
    som.partial_fit(X_NEXT * 3)
    copy.partial_fit(X_NEXT * 3)
    np.testing.assert_array_equal(copy.cluster_centers_, som.cluster_centers_)
    assert copy._plsom_r == som._plsom_r


@pytest.mark.parametrize("algorithm", ["plsom", "plsom2"])
def test_plsom_failed_partial_fit_leaves_the_state(algorithm, monkeypatch):
    """Check that a partial_fit that fails mid-training restores the codebook and normaliser."""
    som = _plsom(algorithm=algorithm).fit(X)
    def snapshot(value):
        # A random state is compared by its state, since a rollback may restore a copy.
        if isinstance(value, np.random.RandomState):
            return value.get_state()[1].copy()
        return value.copy() if isinstance(value, np.ndarray) else value

    saved = {k: snapshot(v) for k, v in som.__dict__.items()}

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(engine(), "plsom_epoch", fail)
    with pytest.raises(KeyboardInterrupt):
        som.partial_fit(X_NEXT * 10)  # far data: would raise r and widen the diameter
    assert som.__dict__.keys() == saved.keys()
    for key, value in saved.items():
        np.testing.assert_array_equal(snapshot(som.__dict__[key]), value, err_msg=key)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"algorithm": "plsom", "neighborhood": "bubble"}, ValueError, "own Gaussian neighbourhood"),
        ({"algorithm": "plsom2", "neighborhood": "mexican_hat"}, ValueError, "neighborhood='gaussian'"),
        ({"algorithm": "plsom", "strategy": "mirrored"}, ValueError, "distributes the batch map only"),
        ({"algorithm": "plsom", "radius_end": 0.0}, InvalidParameterError, "radius_end"),
        ({"algorithm": "plsom3"}, InvalidParameterError, "algorithm"),
    ],
)
def test_plsom_bad_parameters(params, error, match):
    """Check that invalid PLSOM settings raise a clear error before training."""
    with pytest.raises(error, match=match):
        SOMClusterer(map_size=(2, 2), **params).fit(X)


@parametrize_with_checks(
    [SOMClusterer(algorithm="plsom", max_iter=3, random_state=0)],
    expected_failed_checks=lambda estimator: {
        name: (
            "A sequential rule cannot make a weight of 2 equal a repeated sample: "
            "the weight scales the sample's step (relative to the mean weight, "
            "capped at 1), as in every online rule of the package."
        )
        for name in ("check_sample_weight_equivalence_on_dense_data", "check_sample_weight_equivalence_on_sparse_data")
    },
)
def test_plsom_sklearn_compatible_estimator(estimator, check):
    """Check that PLSOM passes scikit-learn's estimator checks (PLSOM2 differs only in r)."""
    check(estimator)
