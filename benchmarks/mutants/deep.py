"""Planted bugs in the deep SOM (``sksom/keras/deep.py``) that the tests named must catch.

Each mutant names the few tests written to catch it (pytest node ids), so
that a run of all of them stays short.
"""

_T = "tests/test_keras.py::"

MUTANTS = [
    {
        "name": "deep SOM: codebook initialised from random samples of the features instead of the fitted core SOM",
        "file": "sksom/keras/deep.py",
        "old": "return self._som_layer(init_som.cluster_centers_.astype(np.float32), tuple(init_som.map_size_))",
        "new": (
            "return self._som_layer(Z[rng.choice(len(Z), init_som.cluster_centers_.shape[0], replace=False)]"
            ".astype(np.float32), tuple(init_som.map_size_))"
        ),
        "tests": [
            _T + "test_codebook_starts_from_the_core_som_on_the_pretrained_features",
            "tests/test_keras_quality.py::test_deep_som_codebook_starts_from_a_som_fitted_on_the_features",
            "tests/test_keras_quality.py::test_deep_som_beats_a_som_on_pca_features_on_digits",
        ],
    },
    {
        "name": "deep SOM: reconstruction term dropped from the training loss",
        "file": "sksom/keras/deep.py",
        "old": "loss = reconstruction_weight * reconstruction + som_weight * som_term",
        "new": "loss = som_weight * som_term",
        "tests": [
            _T + "test_training_step_descends_each_term",
            _T + "test_som_term_alone_collapses_features_but_joint_loss_does_not",
        ],
    },
    {
        "name": "deep SOM: neighbour term's sign flipped in the training loss",
        "file": "sksom/keras/deep.py",
        "old": "+ neighbor_weight * neighbor_term",
        "new": "- neighbor_weight * neighbor_term",
        "tests": [_T + "test_training_step_descends_each_term"],
    },
    {
        "name": "deep SOM: fit without rollback (a failed or interrupted fit keeps its partial state)",
        "file": "sksom/keras/deep.py",
        "old": "with rollback_on_error(self):",
        "new": "if True:  # no rollback",
        "tests": [
            _T + "test_failed_refit_for_another_width_keeps_the_fitted_model",
            _T + "test_diverging_refit_keeps_the_fitted_model",
            _T + "test_interrupted_refit_keeps_the_fitted_model",
            _T + "test_interrupted_fresh_fit_leaves_the_estimator_unfitted",
        ],
    },
    {
        "name": "deep SOM: divergence not detected (NaN features reach the core SOM, which blames X)",
        "file": "sksom/keras/deep.py",
        "old": "if not np.all(np.isfinite(values)):",
        "new": "if False:",
        "tests": [_T + "test_diverging_fit_says_so", _T + "test_diverging_refit_keeps_the_fitted_model"],
    },
    {
        "name": "deep SOM: input magnitudes not checked (float32 data near 1e30 trains into NaN)",
        "file": "sksom/keras/deep.py",
        "old": "if largest > limit:",
        "new": "if False:",
        "tests": [_T + "test_huge_values_are_rejected_before_training"],
    },
]
