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
