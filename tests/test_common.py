"""scikit-learn's estimator checks on several configurations of each estimator."""

import pytest
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from sksom import GrowingNeuralGas, NeuralGas, RecursiveSOM, SOMClusterer

# Few epochs keep the ~60 checks per instance fast; the checks test the API
# contract, not the quality of the map.
INSTANCES = [
    SOMClusterer(max_iter=5, random_state=0),
    SOMClusterer(map_size=(1, 3), max_iter=5, random_state=0),
    SOMClusterer(map_size=(4, 3), topology="hexagonal", periodic=True, max_iter=5, random_state=0),
    SOMClusterer(map_size=(3, 3), n_clusters=2, max_iter=5, random_state=0),
    NeuralGas(max_iter=5, random_state=0),
    NeuralGas(algorithm="online", max_iter=2, random_state=0),
    GrowingNeuralGas(max_units=16, max_iter=2, insertion_interval=20, random_state=0),
    # With lengths=None, X is one sequence. The merge context shares all the
    # API code; the kernels of both are checked in test_sequence.py.
    RecursiveSOM(map_size=(2, 3), max_iter=3, random_state=0),
]

# A sequence map's BMU depends on the steps before it: these checks shuffle,
# subsample or repeat rows, which changes the sequence itself.
_SEQUENCE_FAILURES = {
    "check_clustering": (
        "the check's blobs come in random order, so each step's context is an "
        "unrelated previous sample and the BMUs do not follow the blobs"
    ),
    "check_clustering(readonly_memmap=True)": "as check_clustering: the rows are not a sequence",
    "check_methods_sample_order_invariance": "reordering the rows changes every step's context",
    "check_methods_subset_invariance": "a subset of the rows is another sequence, with other contexts",
    "check_sample_weight_equivalence_on_dense_data": (
        "repeating a step changes the sequence, and the sequential rule weighs a step "
        "relative to the mean weight (w * n / sum(w)), not as a repetition"
    ),
}


def _expected_failed_checks(estimator):
    if isinstance(estimator, RecursiveSOM):
        return _SEQUENCE_FAILURES
    if isinstance(estimator, (NeuralGas, GrowingNeuralGas)):
        reason = (
            "init='sample' draws the starting units at random, and repeating a row "
            "changes the draw; from the same units, batch NG equals repetition "
            "exactly (tests/test_gas.py) and the sequential rules weight steps instead."
        )
        return {
            "check_sample_weight_equivalence_on_dense_data": reason,
            "check_sample_weight_equivalence_on_sparse_data": reason,
        }
    if estimator.get_params().get("map_size") == (1, 3):
        return {
            "check_clustering": (
                "check_clustering asks for 3 clusters, which on a 1x3 map are its "
                "3 units; with the default final radius of 1 the middle unit stays "
                "between the outer blobs, wins no sample, and the labels skip id 1."
            )
        }
    return {}


@parametrize_with_checks(INSTANCES, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    """Check that the estimators pass scikit-learn's estimator checks."""
    check(estimator)


# Checks that check_estimator does not yield itself.
EXTRA_CHECKS = [
    "check_param_validation",
    "check_dataframe_column_names_consistency",
    "check_get_feature_names_out_error",
    "check_transformer_get_feature_names_out",
    "check_transformer_get_feature_names_out_pandas",
    "check_set_output_transform",
    "check_set_output_transform_pandas",
    "check_global_output_transform_pandas",
]


# One instance of each estimator.
EXTRA_INSTANCES = [INSTANCES[0], INSTANCES[4], INSTANCES[6]]


@pytest.mark.parametrize("estimator", EXTRA_INSTANCES, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("check_name", EXTRA_CHECKS)
def test_extra_sklearn_checks(check_name, estimator):
    """Check that feature names, get_feature_names_out and set_output work."""
    pytest.importorskip("pandas")
    check = getattr(estimator_checks, check_name)
    check(type(estimator).__name__, estimator)
