"""Planted bugs in the SOM: its kernels, schedules, fitted state and helpers.

Read by ``benchmarks/mutations.py`` (see there for the format). The first five
are the bugs of issue 15 that the suite used to miss (the sixth, the deep
SOM's initialisation, is in ``deep.py``); keep them on code that
outlives rewrites of the kernels (schedules, ``_base.py``, signatures).
"""

# Node ids rather than whole files where one test is the one that should
# catch the bug: a surviving mutant then costs seconds, not the whole file.
_SOM = "tests/test_som.py::"
_ALG = "tests/test_algorithms.py::"

MUTANTS = [
    {
        "name": "kernels compute around the origin, not the codebook's mean (data far from it lose precision)",
        "file": "sksom/_engine/som.py",
        "old": "    return working_origin(W)",
        "new": "    return np.zeros(W.shape[1], W.dtype)",
        "tests": ["tests/test_origin.py"],
        "check": "test_data_far_from_the_origin_train_as_near_it",
    },
    {
        "name": "batch epoch returns the codebook around the moved origin",
        "file": "sksom/_engine/som.py",
        "old": "    return moved_back(new_W, moved, c, W), qe_sum",
        "new": "    return new_W, qe_sum",
        "tests": ["tests/test_origin.py", "tests/test_algorithms.py"],
        "check": "test_data_far_from_the_origin_train_as_near_it",
    },
    {
        "name": "passes over the data move the chunks but not the codebook to the origin",
        "file": "sksom/_engine/som.py",
        "old": "    c = centre(W)\n    W = W - c\n",
        "new": "    c = centre(W)\n",
        "tests": ["tests/test_origin.py", "tests/test_som.py"],
        "check": "test_data_far_from_the_origin_train_as_near_it",
    },
    {
        "name": "batch NG over several chunks keeps the origin (data far from it lose precision)",
        "file": "sksom/_engine/gas.py",
        "old": "        for X, weights in recentred(chunks, origin):",
        "new": "        for X, weights in recentred(chunks, 0 * origin):",
        "tests": ["tests/test_origin.py"],
        "check": "test_data_far_from_the_origin_train_as_near_it",
    },
    {
        "name": "the batch map over several chunks keeps the origin (data far from it lose precision)",
        "file": "sksom/_engine/som.py",
        "old": "        recentred(itertools.chain([first], chunks), c, device), moved, form,",
        "new": "        recentred(itertools.chain([first], chunks), 0 * c, device), W, form,",
        "tests": ["tests/test_origin.py"],
        "check": "test_data_far_from_the_origin_train_as_near_it",
    },
    {
        "name": "the mini-batch rule keeps the origin (data far from it lose precision)",
        "file": "sksom/_engine/som.py",
        "old": "    c = centre(W)\n    moved = W - c\n    batches = recentred(batches, c)\n",
        "new": "    c = 0 * centre(W)\n    moved = W - c\n    batches = recentred(batches, c)\n",
        "tests": ["tests/test_origin.py"],
        "check": "test_data_far_from_the_origin_train_as_near_it",
    },
    {
        "name": "the online rule keeps the origin (its product form loses precision far from it)",
        "file": "sksom/_engine/som.py",
        "old": "    online = _online_fn(neighborhood, dtype, masked, not masked and W.size > _ONLINE_PRODUCT_FORM_MIN)\n    c = centre(W)\n",
        "new": "    online = _online_fn(neighborhood, dtype, masked, not masked and W.size > _ONLINE_PRODUCT_FORM_MIN)\n    c = 0 * centre(W)\n",
        "tests": ["tests/test_origin.py"],
        "check": "test_online_product_form_far_from_the_origin",
    },
    {
        "name": "the exported model computes around the origin (ids differ from predict far from it)",
        "file": "sksom/_engine/som.py",
        "old": "        self.centre = tf.Variable(centre(codebook), trainable=False, name=\"centre\")",
        "new": "        self.centre = tf.Variable(0 * centre(codebook), trainable=False, name=\"centre\")",
        "tests": ["tests/test_persistence.py"],
        "check": "test_exported_model_predicts_the_same_ids",
    },
    {
        "name": "the working origin is not rounded (exact ties on integer data go to another unit)",
        "file": "sksom/_data.py",
        "old": "        mean = np.round(mean / step) * step",
        "new": "        mean = mean",
        "tests": ["tests/test_origin.py"],
        "check": "test_equal_distances_on_integer_data_go_to_the_lower_unit",
    },
    {
        "name": "sksom.metrics computes around the origin",
        "file": "sksom/metrics.py",
        "old": "    origin = working_origin(codebook)\n    return codebook - origin, origin",
        "new": "    origin = 0 * working_origin(codebook)\n    return codebook - origin, origin",
        "tests": ["tests/test_origin.py"],
        "check": "test_metrics_far_from_the_origin_equal_float64",
    },
    {
        "name": "one-chunk batch NG takes the units' mean as origin for all its epochs",
        "file": "sksom/_engine/gas.py",
        "old": "    c = working_origin(X)\n",
        "new": "    c = working_origin(W)\n",
        "tests": ["tests/test_origin.py"],
        "check": "test_batch_ng_from_units_far_from_the_data",
    },
    {
        "name": "moving back rounds the coordinates of units the kernel left alone",
        "file": "sksom/_engine/som.py",
        "old": "    return np.where(new == old, W, new + c)",
        "new": "    return new + c",
        "tests": ["tests/test_origin.py"],
        "check": "test_a_unit_without_samples_keeps_its_place_exactly",
    },
    {
        "name": "batch NG returns the codebook around the moved origin",
        "file": "sksom/_engine/gas.py",
        "old": "        return moved_back(_ng_update(sums, counts, W_t).numpy(), moved, origin, W)",
        "new": "        return _ng_update(sums, counts, W_t).numpy()",
        "tests": ["tests/test_origin.py", "tests/test_gas.py"],
        "check": "test_data_far_from_the_origin_train_as_near_it",
    },
    # -- issue 15 ------------------------------------------------------------------
    {
        "name": "fitted topographic error ignores sample_weight",
        "file": "sksom/_base.py",
        "old": "topographic_error_from_bmus(b1, b2, adjacent, sample_weight=w) * w.sum()",
        "new": "topographic_error_from_bmus(b1, b2, adjacent) * w.sum()",
        "tests": [_SOM + "test_fitted_errors_are_weighted_by_sample_weight"],
    },
    {
        "name": "mini-batch: every batch takes the schedule of the epoch's end",
        "file": "sksom/_som.py",
        "old": "batches = ((X, w, float(r[0]), float(lr[0])) for X, w, r, lr in chunks)",
        "new": (
            "end_r, end_lr = self._schedule((epoch + 1) / self.max_iter, map_size)\n"
            "            batches = ((X, w, float(end_r), float(end_lr)) for X, w, r, lr in chunks)"
        ),
        "tests": [_ALG + "test_minibatch_schedule_advances_batch_by_batch"],
    },
    {
        "name": "linear decay bent inside (p -> p**2)",
        "file": "sksom/_topology.py",
        "old": "return start + (end - start) * p\n",
        "new": "return start + (end - start) * p**2\n",
        "tests": [_ALG + "test_decays_match_their_closed_forms", _ALG + "test_batch_schedule_follows_the_closed_form"],
    },
    {
        "name": "inverse decay bent inside (p -> p**2)",
        "file": "sksom/_topology.py",
        "old": "return start / (1.0 + (start / end - 1.0) * p)",
        "new": "return start / (1.0 + (start / end - 1.0) * p**2)",
        "tests": [_ALG + "test_decays_match_their_closed_forms", _ALG + "test_batch_schedule_follows_the_closed_form"],
    },
    {
        "name": "single-chunk batch kernel without input signature (retrace per shape)",
        "file": "sksom/_engine/som.py",
        "old": (
            "    @tf.function(\n"
            "        input_signature=[\n"
            "            _matrix(dtype), _vector(dtype), _matrix(dtype), _scalar(dtype), *accumulate_specs, *update_specs\n"
            "        ],\n"
            "        autograph=False,\n"
            "    )\n"
            "    def epoch("
        ),
        "new": "    @tf.function(autograph=False)\n    def epoch(",
        "tests": [_SOM + "test_no_retracing_across_map_sizes_and_data_sizes"],
    },
    # -- kernels -------------------------------------------------------------------
    {
        "name": "BMU kernel without input signature (retrace per shape)",
        "file": "sksom/_engine/som.py",
        "old": "tf.function(lambda X, W: body(X, W, None), input_signature=[_matrix(dtype), _matrix(dtype)], autograph=False)",
        "new": "tf.function(lambda X, W: body(X, W, None), autograph=False)",
        "tests": [_SOM + "test_no_retracing_across_map_sizes_and_data_sizes"],
    },
    {
        "name": "online rule ignores the learning rate",
        "file": "sksom/_engine/som.py",
        "old": (
            "a = tf.minimum(rates[i] * neighbourhood_of(bmu, coordinates, periods, sigmas[i]), 1.0)\n"
            "                return i + 1, W - a[:, None] * diff"
        ),
        "new": (
            "a = tf.minimum(neighbourhood_of(bmu, coordinates, periods, sigmas[i]), 1.0)\n"
            "                return i + 1, W - a[:, None] * diff"
        ),
        "tests": [_ALG + "test_online_epoch_matches_numpy"],
    },
    {
        "name": "online product form: squared norms not updated",
        "file": "sksom/_engine/som.py",
        "old": "norms = b * b * norms + 2.0 * a * b * dots + a * a * tf.reduce_sum(x * x)",
        "new": "norms = norms",
        "tests": [_ALG + "test_online_epoch_matches_numpy"],
    },
    {
        "name": "first BMU ties go to the highest unit index",
        "file": "sksom/_engine/som.py",
        "old": (
            "        first = tf.argmax(similarity, axis=1, output_type=tf.int32)\n"
            "        best = tf.gather(similarity, first, batch_dims=1)"
        ),
        "new": (
            "        first = tf.shape(W)[0] - 1 - tf.argmax(tf.reverse(similarity, [1]), axis=1, output_type=tf.int32)\n"
            "        best = tf.gather(similarity, first, batch_dims=1)"
        ),
        "tests": [_SOM + "test_ties_go_to_the_lowest_unit_index"],
    },
    {
        "name": "second BMU may be the first BMU",
        "file": "sksom/_engine/som.py",
        "old": "tf.where(is_first, tf.constant(-np.inf, dtype), similarity), axis=1",
        "new": "similarity, axis=1",
        "tests": [_SOM + "test_fitted_errors_are_weighted_by_sample_weight", _SOM + "test_outputs_are_consistent"],
    },
    {
        "name": "masked distances count the units' missing features",
        "file": "sksom/_engine/som.py",
        "old": "    if M is None:\n        return _similarity(X0, W)\n",
        "new": "    if True:\n        return _similarity(X0, W)\n",
        "tests": ["tests/test_scale.py"],
    },
    {
        "name": "batch map sums ignore sample weights",
        "file": "sksom/_engine/som.py",
        "old": "sums = tf.math.unsorted_segment_sum(weighted, bmu, n_units)",
        "new": "sums = tf.math.unsorted_segment_sum(X0, bmu, n_units)",
        "tests": [_ALG + "test_batch_epoch_matches_numpy", _SOM + "test_sample_weight_zero_equals_removal_and_integer_equals_repetition"],
    },
    {
        "name": "a multi-chunk epoch scatter-adds the samples into its totals (parallel on CPU, not reproducible)",
        "file": "sksom/_engine/som.py",
        "old": (
            "        for handle, part in zip(into, (sums, counts)):\n"
            "            tf.raw_ops.AssignAddVariableOp(resource=handle, value=part)\n"
        ),
        "new": (
            "        for handle, rows in zip(into, (weighted, mass)):\n"
            "            tf.raw_ops.ResourceScatterAdd(resource=handle, indices=bmu, updates=rows)\n"
        ),
        "tests": ["tests/test_scale.py::test_batch_map_over_several_chunks_is_reproducible"],
    },
    {
        "name": "a multi-chunk epoch keeps only the last chunk's sums",
        "file": "sksom/_engine/som.py",
        "old": "            tf.raw_ops.AssignAddVariableOp(resource=handle, value=part)\n",
        "new": "            tf.raw_ops.AssignVariableOp(resource=handle, value=part)\n",
        "tests": ["tests/test_lattice.py::test_every_smoothing_form_equals_the_dense_formula"],
    },
    {
        "name": "masked passes over several chunks compare with the squared codebook's wrong operand",
        "file": "sksom/_engine/som.py",
        "old": "        return tf.transpose(W), tf.transpose(W * W)\n",
        "new": "        return tf.transpose(W), tf.transpose(W)\n",
        "tests": ["tests/test_lattice.py::test_every_smoothing_form_equals_the_dense_formula", "tests/test_scale.py"],
    },
    {
        "name": "mini-batch divides by the batch size, not the weight total",
        "file": "sksom/_engine/som.py",
        "old": "total = tf.maximum(tf.reduce_sum(w), tf.constant(1e-12, dtype))",
        "new": "total = tf.cast(tf.shape(w)[0], dtype)",
        "tests": [_ALG + "test_minibatch_steps_match_numpy"],
    },
    # -- lattice -------------------------------------------------------------------
    {
        "name": "hexagonal lattice shifts even rows instead of odd rows",
        "file": "sksom/_topology.py",
        "old": "columns = columns + 0.5 * (rows % 2)",
        "new": "columns = columns + 0.5 * ((rows + 1) % 2)",
        "tests": [_ALG + "test_hexagonal_neighbours_of_even_and_odd_rows"],
    },
    {
        "name": "periodic map does not wrap",
        "file": "sksom/_topology.py",
        "old": "return xp.where(period > 0, xp.minimum(delta, period - delta), delta)",
        "new": "return xp.where(period > 0, delta, delta)",
        "tests": [_ALG + "test_adjacency_counts_on_each_lattice"],
    },
    {
        "name": "gaussian neighbourhood without the factor 2",
        "file": "sksom/_topology.py",
        "old": "return xp.exp(-d2 / (2.0 * sigma * sigma))",
        "new": "return xp.exp(-d2 / (sigma * sigma))",
        "tests": [_ALG + "test_neighborhood_functions_match_their_closed_forms", _ALG + "test_batch_epoch_matches_numpy"],
    },
    # -- schedules and estimator ------------------------------------------------------
    {
        "name": "batch schedule reaches its end one epoch late",
        "file": "sksom/_som.py",
        "old": "progress = epoch / (self.max_iter - 1) if self.max_iter > 1 else 1.0",
        "new": "progress = epoch / self.max_iter",
        "tests": [_ALG + "test_batch_schedule_follows_the_closed_form"],
    },
    {
        "name": "partial_fit restarts the schedule every call",
        "file": "sksom/_som.py",
        "old": "            n_iter = self.n_iter_\n",
        "new": "            n_iter = 0\n",
        "tests": [_SOM + "test_fit_equals_repeated_partial_fit", _SOM + "test_partial_fit_continues_the_radius_schedule"],
    },
    {
        "name": "PCA init puts the first component along the shorter side",
        "file": "sksom/_som.py",
        "old": 'axes = np.argsort(-extent, kind="stable")',
        "new": 'axes = np.argsort(extent, kind="stable")',
        "tests": [_SOM + "test_auto_map_size_follows_the_toolbox_heuristic"],
    },
    {
        "name": "n_clusters ignores the lattice connectivity",
        "file": "sksom/_base.py",
        "old": 'linkage="ward", connectivity=sparse.csr_matrix(adjacent)',
        "new": 'linkage="ward", connectivity=None',
        "tests": ["tests/test_clusters.py"],
    },
    {
        "name": "fitted quantization error ignores sample_weight",
        "file": "sksom/_base.py",
        "old": "qe_sum += float(w @ qe)",
        "new": "qe_sum += float(qe.sum())",
        "tests": [_SOM + "test_fitted_errors_are_weighted_by_sample_weight"],
    },
    {
        "name": "a failed fit is not rolled back",
        "file": "sksom/_base.py",
        "old": "        estimator.__dict__.clear()\n        estimator.__dict__.update(saved)\n",
        "new": "        pass\n",
        "tests": [_SOM + "test_failed_or_interrupted_fit_leaves_model_unchanged"],
    },
    {
        "name": "a pass over several chunks prepares a different codebook than it compares with",
        "file": "sksom/_engine/som.py",
        "old": "fn, operands = make_fn(True), _prepared(tf.constant(W), masked)\n",
        "new": "fn, operands = make_fn(True), _prepared(tf.constant(W * 1.01), masked)\n",
        "tests": [_SOM + "test_outputs_are_consistent"],
    },
    {
        "name": "a single-chunk pass takes the several-chunk function with a wrong prepared codebook",
        "file": "sksom/_engine/som.py",
        "old": "fn, operands = make_fn(False), (tf.constant(W),)\n",
        "new": "fn, operands = make_fn(True), _prepared(tf.constant(W * 1.01), masked)\n",
        "tests": [_SOM + "test_outputs_are_consistent"],
    },
    {
        "name": "the statistics' one-thread BLAS limit is set and never lifted",
        "file": "sksom/_data.py",
        "old": '    return blas_controller().limit(limits=1, user_api="blas")\n',
        "new": (
            '    blas_controller().select(user_api="blas").lib_controllers[0].set_num_threads(1)\n'
            "    return nullcontext()\n"
        ),
        "tests": [_SOM + "test_fit_gives_the_blas_threads_back"],
    },
    {
        "name": "partial_fit continues on a lattice other than the fitted one",
        "file": "sksom/_som.py",
        "old": "            self._check_fitted_lattice(None if isinstance(self.map_size, str) else self.map_size)\n",
        "new": "",
        "tests": [_SOM + "test_partial_fit_refuses_another_lattice"],
    },
    {
        "name": "the lattice check compares map sizes only",
        "file": "sksom/_base.py",
        "old": '        asked = {"topology": self.topology, "periodic": bool(self.periodic)}\n',
        "new": "        asked = {}\n",
        "tests": [_SOM + "test_partial_fit_refuses_another_lattice"],
    },
]
