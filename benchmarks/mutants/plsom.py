"""Planted bugs in the parameterless SOM that ``tests/test_plsom.py`` must catch."""

_TESTS = ["tests/test_plsom.py"]

MUTANTS = [
    {
        "name": "PLSOM: r is not updated by the samples (stays at its start value)",
        "file": "sksom/_engine/plsom.py",
        "old": "r = tf.where(weight > 0, tf.maximum(r, error), r)",
        "new": "r = r",
        "tests": _TESTS,
    },
    {
        "name": "PLSOM: the ln term of Theta dropped (Theta = beta - theta_min + theta_min)",
        "file": "sksom/_engine/plsom.py",
        "old": "theta = (beta - theta_min) * tf.math.log1p(eps * e_minus_1) + theta_min",
        "new": "theta = (beta - theta_min) + theta_min",
        "tests": _TESTS,
    },
    {
        "name": "PLSOM: Theta uses radius_start for theta_min",
        "file": "sksom/_plsom.py",
        "old": "estimator._plsom_r, beta, theta_min,",
        "new": "estimator._plsom_r, beta, beta,",
        "tests": _TESTS,
    },
    {
        "name": "PLSOM: r reset on partial_fit",
        "file": "sksom/_plsom.py",
        "old": 'previous = 0.0 if fresh else float(getattr(estimator, "_plsom_r", 0.0))',
        "new": "previous = 0.0",
        "tests": _TESTS,
    },
    {
        "name": "PLSOM: the step is not capped at 1 (a heavy sample overshoots)",
        "file": "sksom/_engine/plsom.py",
        "old": "step = tf.minimum(eps * tf.exp(-d2 / (theta * theta)) * weight, 1.0)",
        "new": "step = eps * tf.exp(-d2 / (theta * theta)) * weight",
        "tests": _TESTS,
    },
    {
        "name": "PLSOM: the neighbourhood is the package's exp(-d^2 / 2 Theta^2), not the paper's",
        "file": "sksom/_engine/plsom.py",
        "old": "tf.exp(-d2 / (theta * theta))",
        "new": "tf.exp(-d2 / (2.0 * theta * theta))",
        "tests": _TESTS,
    },
    {
        "name": "PLSOM2: normalised by the diameter, not its square",
        "file": "sksom/_plsom.py",
        "old": "rows = extreme_rows(data, step)\n    diameter = float(np.sqrt(squared_diameter(rows)))",
        "new": "rows = extreme_rows(data, step)\n    diameter = float(squared_diameter(rows))",
        "tests": _TESTS,
    },
    {
        "name": "PLSOM: sample weights relative to the largest, not to the mean",
        "file": "sksom/_base.py",
        "old": "    return scaled / scaled.mean()",
        "new": "    return scaled",
        "tests": _TESTS,
    },
    {
        "name": "PLSOM: lattice distance ignores the torus",
        "file": "sksom/_plsom.py",
        "old": "lattice_periods(map_size, estimator.topology, estimator.periodic),",
        "new": "lattice_periods(map_size, estimator.topology, False),",
        "tests": _TESTS,
    },
    {
        "name": "plsom2: a call without spread keeps the earlier diameter (a single-sample stream never learns)",
        "file": "sksom/_plsom.py",
        "old": "if diameter == 0.0 and kept is not None and kept.shape[1] == rows.shape[1]:",
        "new": "if False:",
        "tests": ["tests/test_plsom.py::test_plsom2_learns_from_a_stream_of_single_samples"],
    },
]
