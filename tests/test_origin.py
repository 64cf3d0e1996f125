"""Data far from the origin train and predict as they do near it.

Every rule is the same in any origin, but the distances' matmul form
``2 x.w - ||w||^2`` and the batch sums lose the digits that tell units apart
when the data sit far from the origin; the engine computes around the
codebook's mean instead (``sksom._engine.som.centre``). The expected values
here are the same fit on the data near the origin, and the exact nearest
unit computed in float64.
"""

import numpy as np
import pytest

from sksom import GrowingNeuralGas, NeuralGas, SOMClusterer

# Eight blobs of spread 1 in a 20 x 20 box, float32; moved 1e4 away, where
# float32 keeps 3 decimals of each coordinate but a squared norm of 2e8
# keeps none below 16.
_rng = np.random.default_rng(0)
NEAR = (_rng.random((8, 2))[_rng.integers(0, 8, 2000)] * 20 + _rng.standard_normal((2000, 2))).astype(np.float32)
OFFSET = np.float32(1e4)
FAR = NEAR + OFFSET

ESTIMATORS = {
    "som-batch": lambda: SOMClusterer(map_size=(4, 4), max_iter=10, random_state=0),
    "som-batch-chunks": lambda: SOMClusterer(map_size=(4, 4), max_iter=10, batch_size=300, random_state=0),
    "som-online": lambda: SOMClusterer(map_size=(4, 4), algorithm="online", max_iter=3, random_state=0),
    "som-minibatch": lambda: SOMClusterer(map_size=(4, 4), algorithm="minibatch", max_iter=3, random_state=0),
    "som-plsom": lambda: SOMClusterer(map_size=(4, 4), algorithm="plsom", max_iter=3, random_state=0),
    "ng-batch": lambda: NeuralGas(n_units=16, max_iter=10, random_state=0),
    "ng-batch-chunks": lambda: NeuralGas(n_units=16, max_iter=10, batch_size=300, random_state=0),
    "ng-online": lambda: NeuralGas(n_units=16, algorithm="online", max_iter=2, random_state=0),
    "gng": lambda: GrowingNeuralGas(max_units=16, max_iter=3, insertion_interval=50, random_state=0),
}


def _qe(X, W):
    """Mean distance to the nearest unit, in float64."""
    X, W = np.asarray(X, np.float64), np.asarray(W, np.float64)
    return np.sqrt(((X[:, None] - W[None]) ** 2).sum(-1)).min(axis=1).mean()


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_data_far_from_the_origin_train_as_near_it(name):
    """Check the fit on data moved 1e4 away: the same error as near the origin, and exact predictions."""
    near = ESTIMATORS[name]().fit(NEAR)
    far = ESTIMATORS[name]().fit(FAR)
    assert far.cluster_centers_.dtype == np.float32
    # Within 0.2 %: the data far away are the data near, rounded to 1e-3.
    assert _qe(FAR, far.cluster_centers_) == pytest.approx(_qe(NEAR, near.cluster_centers_), rel=2e-3)
    assert far.quantization_error_ == pytest.approx(_qe(FAR, far.cluster_centers_), rel=1e-3)
    # predict and transform against the nearest unit and the distances in float64.
    W = far.cluster_centers_.astype(np.float64)
    exact = np.sqrt(((FAR.astype(np.float64)[:, None] - W[None]) ** 2).sum(-1))
    units = far.best_matching_unit(FAR)
    assert np.mean(units == exact.argmin(axis=1)) >= 0.995
    np.testing.assert_allclose(far.transform(FAR), exact, atol=1e-2)


def test_online_product_form_far_from_the_origin():
    """Check the online rule's product form (large codebooks) on data moved 1e3 away.

    It carries the units' squared norms from step to step: far from the
    origin they are huge, and the BMUs drift (the error grew by 0.4 %).
    256 units of 257 features take that form.
    """
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((6, 257)) * 3
    near = (centres[rng.integers(0, 6, 1500)] + rng.standard_normal((1500, 257))).astype(np.float32)
    far = near + np.float32(1e3)
    params = dict(map_size=(16, 16), algorithm="online", max_iter=1, random_state=0)
    fitted_near = SOMClusterer(**params).fit(near)
    fitted_far = SOMClusterer(**params).fit(far)
    assert fitted_far.cluster_centers_.size > 2**16  # the product form
    assert _qe(far, fitted_far.cluster_centers_) == pytest.approx(_qe(near, fitted_near.cluster_centers_), rel=1e-4)


def test_equal_distances_on_integer_data_go_to_the_lower_unit():
    """Check that moving the origin keeps exact ties exact: the lower unit index wins, as argmin.

    The origin is rounded to a power of two at or below the units' spread,
    so integer coordinates move exactly.
    """
    import sksom._engine as engine
    from sksom.metrics import quantization_error

    rng = np.random.default_rng(2)
    W = rng.integers(-5, 6, (12, 3)).astype(np.float64)
    X = rng.integers(-5, 6, (4000, 3)).astype(np.float64)
    d2 = ((X[:, None] - W[None]) ** 2).sum(-1)
    assert (np.sort(d2, axis=1)[:, 0] == np.sort(d2, axis=1)[:, 1]).sum() > 100  # many exact ties
    first, second, errors = engine.best_matching_units([X[:2000], X[2000:]], W)
    np.testing.assert_array_equal(first, d2.argmin(axis=1))
    np.testing.assert_allclose(errors, np.sqrt(d2.min(axis=1)), atol=1e-12)
    np.testing.assert_array_equal(engine.best_matching_units([X], W)[0], d2.argmin(axis=1))
    assert quantization_error(X, W) == pytest.approx(np.sqrt(d2.min(axis=1)).mean(), rel=1e-12)


def test_metrics_far_from_the_origin_equal_float64():
    """Check sksom.metrics on float32 data 1e4 away against the same errors in float64."""
    from sksom.metrics import quantization_error, topographic_error

    som = SOMClusterer(map_size=(4, 4), max_iter=5, random_state=0).fit(FAR)
    W = som.cluster_centers_
    assert quantization_error(FAR, W) == pytest.approx(quantization_error(FAR.astype(np.float64), W.astype(np.float64)), rel=1e-4)
    assert topographic_error(FAR, W, (4, 4)) == pytest.approx(topographic_error(FAR.astype(np.float64), W.astype(np.float64), (4, 4)), abs=2e-3)
    assert quantization_error(FAR, W) == pytest.approx(som.quantization_error_, rel=1e-4)


def test_batch_ng_from_units_far_from_the_data():
    """Check batch NG in one chunk when the starting units are near the origin and the data 1e4 away.

    Its epochs run in one compiled call around one origin, taken near the
    data (the units' mean would stay 1e4 from them for the whole call, and
    the error came out 19 % above float64's): the error is float64's within
    1 % (float32 and float64 runs part a little from the first epoch on).
    """
    init = np.random.default_rng(3).random((16, 2)).astype(np.float32) * 20
    far = NeuralGas(n_units=16, max_iter=10, init=init).fit(FAR)
    exact = NeuralGas(n_units=16, max_iter=10, init=init.astype(np.float64)).fit(FAR.astype(np.float64))
    assert _qe(FAR, far.cluster_centers_) == pytest.approx(_qe(FAR, exact.cluster_centers_), rel=1e-2)


def test_a_unit_without_samples_keeps_its_place_exactly():
    """Check that moving the origin and back leaves an idle unit's coordinates to the last bit.

    The idle unit sits at 1e-7 while the others are about 1e4 away: moved to
    an origin near them, its coordinates round, and moving back restores
    them only because unchanged entries are taken from the codebook as it was.
    """
    init = np.vstack([FAR[:15], [[1e-7, 3e-7]]]).astype(np.float32)
    som = SOMClusterer(map_size=(4, 4), init=init, neighborhood="bubble", radius_start=0.5, radius_end=0.5,
                       max_iter=3).fit(FAR)
    np.testing.assert_array_equal(som.cluster_centers_[15], init[15])
