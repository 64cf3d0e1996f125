"""Planted bugs in the sequence maps that tests/test_sequence.py must catch."""

_SEQ = "sksom/_sequence.py"
_ENGINE = "sksom/_engine/sequence.py"
_TESTS = ["tests/test_sequence.py"]

MUTANTS = [
    {
        "name": "context not reset between sequences: lengths ignored, the sequences run on as one",
        "file": _SEQ,
        "old": "    return array.astype(np.int64)\n",
        "new": "    return np.array([n_samples], dtype=np.int64)\n",
        "tests": _TESTS,
    },
    {
        "name": "sequences start from a non-empty context",
        "file": _ENGINE,
        "old": "return np.zeros((n_sequences, C.shape[1]), dtype=W.dtype)",
        "new": "return np.ones((n_sequences, C.shape[1]), dtype=W.dtype)",
        "tests": _TESTS,
    },
    {
        "name": "TQE lags cross sequence boundaries",
        "file": "sksom/metrics.py",
        "old": "steps = np.flatnonzero(positions >= lag)",
        "new": "steps = np.arange(lag, X.shape[0])",
        "tests": _TESTS,
    },
    {
        "name": "merge context: gamma and 1 - gamma swapped",
        "file": _ENGINE,
        "old": "return (1.0 - gamma) * tf.gather(W, bmu) + gamma * tf.gather(C, bmu)",
        "new": "return gamma * tf.gather(W, bmu) + (1.0 - gamma) * tf.gather(C, bmu)",
        "tests": _TESTS,
    },
    {
        "name": "recursive distance: alpha and beta swapped",
        "file": _SEQ,
        "old": "np.full_like(progress, self.alpha), np.full_like(progress, self.beta)",
        "new": "np.full_like(progress, self.beta), np.full_like(progress, self.alpha)",
        "tests": _TESTS,
    },
    {
        "name": "mask ignored: padded steps of short sequences train the map",
        "file": _SEQ,
        "old": "                out[~valid] = 0\n",
        "new": "",
        "tests": _TESTS,
    },
    {
        "name": "lockstep: units pulled by several sequences overshoot (no cap at 1)",
        "file": _ENGINE,
        "old": "g = tf.where(total > 1.0, 1.0 / tf.maximum(total, 1.0), tf.ones_like(total))",
        "new": "g = tf.ones_like(total)",
        "tests": _TESTS,
    },
    {
        "name": "sample weights used raw instead of relative to their mean",
        "file": _SEQ,
        "old": "relative = relative_weights(sample_weight)",
        "new": "relative = sample_weight",
        "tests": _TESTS,
    },
    {
        "name": "lengths summed without the overflow guard (an int64 sum wraps round)",
        "file": _SEQ,
        "old": "if array.size > n_samples or (array > n_samples).any():",
        "new": "if False:",
        "tests": ["tests/test_sequence.py::test_bad_lengths"],
    },
    {
        "name": "a changed context is not checked against the fitted one",
        "file": _SEQ,
        "old": "        if self.context != fitted:",
        "new": "        if False:",
        "tests": ["tests/test_sequence.py::test_changed_context_is_refused_until_refit"],
    },
    {
        "name": "prediction computed in X's dtype instead of the wider one",
        "file": _SEQ,
        "old": "dtype = np.promote_types(X.dtype, self.cluster_centers_.dtype)",
        "new": "dtype = X.dtype",
        "tests": ["tests/test_sequence.py::test_transform_is_computed_in_the_wider_dtype_and_returned_in_xs"],
    },
    {
        "name": "RecursiveSOM skips the value-range check",
        "file": _SEQ,
        "old": "check_value_range(max_abs(X, scan_step(X.shape[1])), compute, X.shape[1])",
        "new": "pass",
        "tests": ["tests/test_sequence.py::test_values_whose_squares_overflow_or_underflow_are_rejected"],
    },
    {
        "name": "blocks keep every sequence to the end (padding to the longest)",
        "file": _SEQ,
        "old": "            width = int(running[start])",
        "new": "            width = len(ordered)",
        "tests": ["tests/test_sequence.py::test_lockstep_work_stays_below_twice_the_steps"],
    },
    {
        "name": "prediction runs the whole block, so a block cut short hands on a later context",
        "file": _ENGINE,
        "old": "size = tf.shape(X)[0] if jit else n",
        "new": "size = tf.shape(X)[0]\n        n = size",
        "tests": ["tests/test_sequence.py::test_uneven_lengths_follow_the_equations_in_narrowing_blocks"],
    },
    {
        "name": "many sequences: the pull's squared norm without the square",
        "file": _ENGINE,
        "old": "pull_sq = tf.reduce_sum(pull * pull, axis=1)",
        "new": "pull_sq = tf.reduce_sum(pull, axis=1)",
        "tests": ["tests/test_sequence.py::test_uneven_lengths_follow_the_equations_in_narrowing_blocks"],
    },
    {
        "name": "few sequences: the Gram form without the Gram matrix",
        "file": _ENGINE,
        "old": "pull_sq = tf.reduce_sum(a * tf.matmul(tf.matmul(context, context, transpose_b=True), a), axis=0)",
        "new": "pull_sq = tf.reduce_sum(a * a, axis=0)",
        "tests": ["tests/test_sequence.py"],
    },
    {
        "name": "plot_clusters tells a RecursiveSOM user to set n_clusters, which it does not have",
        "file": "sksom/plotting.py",
        "old": '    if "n_clusters" not in som.get_params():\n',
        "new": "    if False:\n",
        "tests": ["tests/test_sequence.py::test_plot_clusters_says_a_sequence_map_has_no_clusters"],
    },
    {
        "name": "RecursiveSOM partial_fit continues on another topology or map size",
        "file": "sksom/_sequence.py",
        "old": "            self._check_fitted_lattice(map_size)\n",
        "new": "",
        "tests": ["tests/test_sequence.py::test_partial_fit_refuses_another_lattice"],
    },
]
