"""Planted bugs in the lattice code of issue 11 (sparse adjacency, batch smoothing, guard).

Each entry is applied alone to a copy of the package by ``benchmarks/mutations.py``;
``tests`` are the test files expected to fail with it.
"""

MUTANTS = [
    {
        "name": "hexagonal column offset of odd rows shifted the wrong way in the separable factors",
        "file": "sksom/_topology.py",
        "old": "column_position = np.arange(n_columns)[None, :] + shift * np.arange(n_groups)[:, None]",
        "new": "column_position = np.arange(n_columns)[None, :] - shift * np.arange(n_groups)[:, None]",
        "tests": ["tests/test_lattice.py", "tests/test_algorithms.py"],
    },
    {
        "name": "periodic wrap dropped on the column axis of the separable factors",
        "file": "sksom/_topology.py",
        "old": "column_position[None, :, None, :], column_period) ** 2",
        "new": "column_position[None, :, None, :], 0.0) ** 2",
        "tests": ["tests/test_lattice.py", "tests/test_algorithms.py"],
    },
    {
        "name": "separable row factor built from d instead of d^2",
        "file": "sksom/_topology.py",
        "old": "row_position[None, :, None, :], row_period) ** 2",
        "new": "row_position[None, :, None, :], row_period)",
        "tests": ["tests/test_lattice.py", "tests/test_algorithms.py"],
    },
    {
        "name": "adjacency candidates do not wrap across the row seam of a torus",
        "file": "sksom/_topology.py",
        "old": "r, c = r % n_rows, c % n_columns",
        "new": "r, c = r, c % n_columns",
        "tests": ["tests/test_lattice.py", "tests/test_algorithms.py"],
    },
    {
        "name": "separable batch map divides the smoothed sums by unsmoothed counts",
        "file": "sksom/_engine/som.py",
        "old": "numerator, denominator = _separable_smooth(sums, *operands), _separable_smooth(counts, *operands)",
        "new": "numerator, denominator = _separable_smooth(sums, *operands), counts",
        "tests": ["tests/test_lattice.py::test_every_smoothing_form_equals_the_dense_formula"],
    },
    {
        "name": "per-sample smoothing ignores the sample weights",
        "file": "sksom/_engine/som.py",
        "old": "sums = tf.matmul(h, weighted, transpose_a=True)",
        "new": "sums = tf.matmul(h, X0, transpose_a=True)",
        "tests": ["tests/test_lattice.py", "tests/test_algorithms.py"],
    },
    {
        "name": "online neighbourhood measured from unit 0 instead of the BMU",
        "file": "sksom/_engine/som.py",
        "old": "centre = tf.gather(coordinates, bmu[None])",
        "new": "centre = tf.gather(coordinates, bmu[None] * 0)",
        "tests": ["tests/test_algorithms.py"],
    },
    {
        "name": "memory guard underestimates the bytes by a factor of 8",
        "file": "sksom/_som.py",
        "old": "needed = elements * np.dtype(data.dtype).itemsize + 8 * n_units * n_features",
        "new": "needed = (elements * np.dtype(data.dtype).itemsize + 8 * n_units * n_features) // 8",
        "tests": ["tests/test_lattice.py"],
    },
    {
        "name": "dense neighbourhood matrix chosen for large maps",
        "file": "sksom/_topology.py",
        "old": 'return "dense" if n_units <= min(DENSE_MAX_UNITS, n_samples) else "per_sample"',
        "new": 'return "dense" if n_units <= max(DENSE_MAX_UNITS, n_samples) else "per_sample"',
        "tests": ["tests/test_lattice.py"],
    },
    {
        "name": "sparse pair look-up accepts the next stored neighbour",
        "file": "sksom/_topology.py",
        "old": "    return keys[position] == wanted\n",
        "new": "    return keys[position] >= wanted\n",
        "tests": ["tests/test_lattice.py", "tests/test_algorithms.py"],
    },
    {
        "name": "SOMLayer neighbourhood ignores the torus",
        "file": "sksom/keras/layer.py",
        "old": "periods = ops.convert_to_tensor(self._lattice_periods, dtype=d2.dtype)",
        "new": "periods = ops.convert_to_tensor(0.0 * self._lattice_periods, dtype=d2.dtype)",
        "tests": ["tests/test_keras.py"],
    },
    {
        "name": "U-matrix groups the neighbour distances without sorting them by unit",
        "file": "sksom/maps.py",
        "old": "    units, neighbours = units[order], neighbours[order]\n",
        "new": "",
        "tests": ["tests/test_maps.py"],
    },
    {
        "name": "maps and plots read the lattice from the parameters, not the fitted map",
        "file": "sksom/_topology.py",
        "old": '    fitted = getattr(som, "_fitted_lattice", None)\n    if fitted is None:\n',
        "new": "    fitted = None\n    if fitted is None:\n",
        "tests": ["tests/test_maps.py::test_pictures_keep_the_fitted_lattice_after_set_params"],
    },
    {
        "name": "auto chunks take the doubled block whatever their rows (more peak memory on mid-sized maps)",
        "file": "sksom/_base.py",
        "old": "        if rows < CHUNK_ROWS:\n",
        "new": "        if True:\n",
        "tests": ["tests/test_scale.py::test_auto_chunk_rows"],
    },
    {
        "name": "the BLAS controller of small fits is made after TensorFlow loads (25-40 ms instead of 10)",
        "file": "sksom/_engine/device.py",
        "old": "\nblas_controller()\n",
        "new": "\n",
        "tests": ["tests/test_som.py::test_engine_finds_the_blas_libraries_before_loading_tensorflow"],
    },
]
