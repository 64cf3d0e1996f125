"""SOM kernels: batch map, online and mini-batch rules, best-matching units.

Every function here is stateless: NumPy arrays (or iterables of NumPy chunks)
go in, NumPy arrays come out, and no TensorFlow object is handed back to the
caller. Compiled functions are cached at module level, keyed by dtype and by
the neighbourhood name, and declare input signatures with unknown dimensions
so that new data sizes, feature counts and map sizes do not trigger a retrace.
"""

import functools
import itertools
import os

import numpy as np
import tensorflow as tf

from .._data import working_origin
from .._topology import NEIGHBORHOODS, squared_distances_to
from .device import scope as _scope


# -- compiled kernels ----------------------------------------------------------


def _matrix(dtype):
    return tf.TensorSpec([None, None], dtype)


def _vector(dtype):
    return tf.TensorSpec([None], dtype)


def centre(W):
    """The point the kernels take as origin: near the units (see :func:`sksom._data.working_origin`).

    Every rule here is the same in any origin (units move toward samples;
    distances and errors do not change), but not its arithmetic: the
    distances' matmul form ``2 x.w - ||w||^2`` and the batch sums lose the
    digits that tell units apart when the data sit far from the origin. On
    data 5e5 from it with a spread of 20 (say, UTM coordinates) in float32,
    the batch map's error rose by 30 % and batch neural gas's by 50 %, and
    predictions agreed with the nearest unit for 25-62 % of the rows.
    Around the units the terms are of the size of the data's spread. The
    passes over the data, the batch and mini-batch rules, the online rule
    (whose product form needs it), batch neural gas and the exported
    SavedModel move the chunks and the codebook there, and any codebook they
    return back (see :func:`moved_back`); the rules that work on differences
    ``x - w`` (the online rules of the gases, PLSOM) need not. The Keras
    layer and the recursive SOM's kernels do not move (yet).
    """
    return working_origin(W)


def recentred(chunks, c, device=None):
    """Chunks ``(X, ...)`` with ``X - c``: a NumPy array on the host, a tensor on ``device``."""
    for X, *rest in chunks:
        if isinstance(X, np.ndarray):
            yield (X - c, *rest)
        else:
            with _scope(device):
                moved = X - tf.constant(c)
            yield (moved, *rest)


def moved_back(new, old, c, W):
    """``new + c``, with the entries the kernel left unchanged (``new == old``) exactly ``W``'s.

    ``old`` is ``W - c``, the codebook the kernel started from: a unit that
    won no sample keeps its place to the last bit, not to rounding.
    """
    return np.where(new == old, W, new + c)


def _row_sq_norms(X):
    return tf.reduce_sum(X * X, axis=1)


def _similarity(X, W):
    """``2 x.w - ||w||^2``: minus the squared distance up to the per-row ``||x||^2``.

    The best-matching unit maximises it. Written as a matmul plus a bias, CPU
    kernels fuse the two, leaving one pass over the (n_samples, n_units) block
    besides the matmul itself.
    """
    return tf.nn.bias_add(tf.matmul(X, 2.0 * W, transpose_b=True), -_row_sq_norms(W))


def _prepared(W, masked=False):
    """The codebook's operands of :func:`_similarity_of`, once per pass.

    ``W^T`` and ``-||w||^2``; with missing values, ``W^T`` and ``(W * W)^T``.
    The factor 2 of ``2 x.w`` goes on the chunk (exact in floating point)
    rather than on a copy of the codebook. A pass over data in several
    chunks computes these once and hands them to every chunk's call:
    recomputing them per chunk reads and writes the whole codebook each
    time, and a product with a transposed operand repacks it, which on a
    large map costs more than a small chunk's product itself. Called eagerly
    (a few ops once per pass): tracing it would cost more on small fits than
    it saves.
    """
    if masked:
        return tf.transpose(W), tf.transpose(W * W)
    return tf.transpose(W), -_row_sq_norms(W)


def _prepared_specs(dtype, masked):
    """Input signature of the :func:`_prepared` operands."""
    return [_matrix(dtype), _matrix(dtype) if masked else _vector(dtype)]


def _similarity_of(X0, M, W, prepared):
    """:func:`_masked_similarity`, from the :func:`_prepared` operands if given.

    Both put the factor 2 on one operand of the product, the chunk here and
    the codebook there; scaling by 2 is exact, so the products are equal.
    """
    if prepared is None:
        return _masked_similarity(X0, M, W)
    Wt, other = prepared
    product = tf.matmul(2.0 * X0, Wt)
    return tf.nn.bias_add(product, other) if M is None else product - tf.matmul(M, other)


# Missing values: with NaN in the data, distances and updates use only the
# observed components of each sample, as the SOM Toolbox does. The squared
# distance is the sum over observed features, and each codebook component is
# the neighbourhood-weighted mean of the samples that observed it. Every kernel
# takes a ``masked`` flag fixed when it is compiled; without NaN it costs
# nothing.


def _observed(X, masked):
    """``X`` with NaN set to 0, and the 0/1 mask of observed entries (None if unmasked)."""
    if not masked:
        return X, None
    mask = tf.math.is_finite(X)
    return tf.where(mask, X, tf.zeros_like(X)), tf.cast(mask, X.dtype)


def _masked_similarity(X0, M, W):
    """:func:`_similarity` over each row's observed features (``M`` is the mask)."""
    if M is None:
        return _similarity(X0, W)
    return tf.matmul(X0, 2.0 * W, transpose_b=True) - tf.matmul(M, W * W, transpose_b=True)


def _accumulate(X, W, weights, *rows_operands, masked=False, neighborhood=None, prepared=None, into=None):
    """Per-unit weighted sums and counts of the samples each unit wins, and the QE sum.

    With ``masked``, counts are per unit *and feature*: how much observed
    weight each component of each unit received.

    With a ``neighborhood`` (the per-sample form of the batch map),
    ``rows_operands`` are the unit coordinates, the lattice periods and the
    radius; each sample then adds to every unit, weighted by the
    neighbourhood of its BMU, and the sums come out already smoothed: the
    (n_chunk, n_units) neighbourhood rows cost what the distance block costs.
    ``prepared`` optionally holds :func:`_prepared` of ``W`` (then ``W`` is
    not read).

    With ``into``, the handles of two resource variables holding running
    sums and counts, the chunk's shares are added to them in place and only
    the QE sum is returned: a multi-chunk epoch then holds one chunk's sums
    besides its totals, not the old and new totals as well.
    """
    X0, M = _observed(X, masked)
    similarity = _similarity_of(X0, M, W, prepared)
    bmu = tf.argmax(similarity, axis=1, output_type=tf.int32)
    weighted = X0 * weights[:, None]
    mass = weights if M is None else M * weights[:, None]
    if neighborhood is None:
        n_units = tf.shape(similarity)[1]
        sums = tf.math.unsorted_segment_sum(weighted, bmu, n_units)
        counts = tf.math.unsorted_segment_sum(mass, bmu, n_units)
    else:
        coordinates, periods, radius = rows_operands
        d2 = squared_distances_to(coordinates, tf.gather(coordinates, bmu), periods, tf)
        h = NEIGHBORHOODS[neighborhood](d2, radius, tf)  # (n_chunk, n_units)
        sums = tf.matmul(h, weighted, transpose_a=True)
        counts = tf.linalg.matvec(h, mass, transpose_a=True) if M is None else tf.matmul(h, mass, transpose_a=True)
    if into is not None:
        # Not a scatter-add into the totals: on CPU it runs in parallel and
        # its sums would change in the last bit from run to run.
        for handle, part in zip(into, (sums, counts)):
            tf.raw_ops.AssignAddVariableOp(resource=handle, value=part)
    best = tf.gather(similarity, bmu, batch_dims=1)
    sq_err = tf.maximum(_row_sq_norms(X0) - best, 0.0)
    qe_sum = tf.reduce_sum(weights * tf.sqrt(sq_err))
    return qe_sum if into is not None else (sums, counts, qe_sum)


def _separable_smooth(V, rows, columns):
    """``H @ V`` for a Gaussian ``H`` given by its per-axis factors.

    ``rows`` and ``columns`` are the neighbourhood of the per-axis squared
    distances of :func:`sksom._topology.separable_squared_distances`, shapes
    (P, P, R, R) and (P, P, C, C). ``V`` (n_units, k) is padded to P R C
    rows and read as (R, P, C, k): one product along the columns for each
    (target, source) row parity, then one along the rows. Every entry stays
    a sum of non-negative terms, as with the dense ``H``.
    """
    n_groups, per_group, n_columns = tf.shape(rows)[0], tf.shape(rows)[2], tf.shape(columns)[2]
    n_units = tf.shape(V)[0]
    V = tf.pad(V, [[0, n_groups * per_group * n_columns - n_units], [0, 0]])
    V = tf.reshape(V, [per_group, n_groups, n_columns, -1])
    along_columns = tf.einsum("pqcd,jqdk->pqjck", columns, V)
    smoothed = tf.einsum("pqij,pqjck->ipck", rows, along_columns)
    return tf.reshape(smoothed, [n_groups * per_group * n_columns, -1])[:n_units]


def _batch_update(sums, counts, W, learning_rate, *operands, form):
    """Kohonen's batch map from the accumulated sums.

    ``W_new = (H @ sums) / (H @ counts)``, with ``H`` applied as ``form``
    says: ``"dense"`` (``operands`` is ``H``), ``"separable"`` (the row and
    column factors of a Gaussian ``H``, see :func:`_separable_smooth`) or
    ``"per_sample"`` (the sums are smoothed already). A unit (or, with
    missing values, a unit's component) whose denominator is zero, because
    no sample won any unit of its neighbourhood, keeps its weights.
    """
    if counts.shape.rank == 1:
        counts = counts[:, None]
    if form == "dense":
        (H,) = operands
        numerator, denominator = tf.matmul(H, sums), tf.matmul(H, counts)
    elif form == "separable":
        # Sums and counts apart: side by side, their concatenation and the
        # slices of the result would be three more codebook-sized blocks.
        numerator, denominator = _separable_smooth(sums, *operands), _separable_smooth(counts, *operands)
    else:
        numerator, denominator = sums, counts
    has_data = denominator > 0
    safe = tf.where(has_data, denominator, tf.ones_like(denominator))
    target = tf.where(has_data, numerator / safe, W)
    return W + learning_rate * (target - W)


def _counts_spec(dtype, masked):
    return _matrix(dtype) if masked else _vector(dtype)


def _scalar(dtype):
    return tf.TensorSpec([], dtype)


# The operands of each form of the batch map: (accumulation, update).
def _form_specs(form, dtype):
    if form == "dense":
        return [], [_matrix(dtype)]
    if form == "separable":
        return [], [tf.TensorSpec([None] * 4, dtype)] * 2
    return [_matrix(dtype), _vector(dtype), _scalar(dtype)], []


@functools.cache
def _accumulate_fn(dtype, masked=False, form="separable", neighborhood=None, in_place=True):
    """:func:`_accumulate`, compiled: one call per chunk of a multi-chunk epoch.

    Takes ``X, Wt, other, weights``, then (``in_place``) the handles of the
    sums and counts variables it adds to, then the form's operands;
    ``Wt, other`` are the epoch's :func:`_prepared` codebook. Returns the QE
    sum; without ``in_place`` (the replicas of a distributed epoch), the
    chunk's sums, counts and QE sum.
    """
    accumulate_specs, _ = _form_specs(form, dtype)
    handles = [tf.TensorSpec([], tf.resource)] * 2 if in_place else []
    n_handles = len(handles)

    def accumulate(X, Wt, other, weights, *operands):
        return _accumulate(
            X, None, weights, *operands[n_handles:], masked=masked,
            neighborhood=neighborhood if form == "per_sample" else None, prepared=(Wt, other),
            into=operands[:n_handles] if in_place else None,
        )

    return tf.function(
        accumulate,
        input_signature=[
            _matrix(dtype), *_prepared_specs(dtype, masked), _vector(dtype), *handles, *accumulate_specs,
        ],
        autograph=False,
    )


@functools.cache
def _batch_update_fn(dtype, masked=False, form="separable"):
    """:func:`_batch_update`, compiled: closes a multi-chunk epoch."""
    _, update_specs = _form_specs(form, dtype)
    return tf.function(
        functools.partial(_batch_update, form=form),
        input_signature=[_matrix(dtype), _counts_spec(dtype, masked), _matrix(dtype), _scalar(dtype), *update_specs],
        autograph=False,
    )


@functools.cache
def _single_chunk_epoch_fn(dtype, masked=False, form="separable", neighborhood=None):
    """A whole batch-map epoch over data that fits one chunk, in one call.

    Small data sets are one chunk; for them the cost of a second compiled
    function (tracing, then a call per epoch) is a large share of the fit.
    """
    accumulate_specs, update_specs = _form_specs(form, dtype)
    n_accumulate = len(accumulate_specs)

    @tf.function(
        input_signature=[
            _matrix(dtype), _vector(dtype), _matrix(dtype), _scalar(dtype), *accumulate_specs, *update_specs
        ],
        autograph=False,
    )
    def epoch(X, weights, W, learning_rate, *operands):
        sums, counts, qe_sum = _accumulate(
            X, W, weights, *operands[:n_accumulate], masked=masked,
            neighborhood=neighborhood if form == "per_sample" else None,
        )
        return _batch_update(sums, counts, W, learning_rate, *operands[n_accumulate:], form=form), qe_sum

    return epoch


# Codebooks with more entries than this take the sequential rule's
# product form (see _online_fn). Measured on one CPU core, per step: twice as
# fast for 900 units x 784 features and for 1600 units x 64 features; a third
# slower for 400 units x 64 features, whose codebook stays in cache anyway.
_ONLINE_PRODUCT_FORM_MIN = 2**16


@functools.cache
def _online_fn(neighborhood, dtype, masked=False, product_form=False):
    """Kohonen's sequential rule, one sample at a time, compiled with XLA.

    The loop runs over the first ``n`` rows only, so that chunks padded to a
    common length (see :func:`online_epoch`) share one XLA compilation. With
    ``masked``, a sample moves only the components it observed.

    ``product_form`` (without ``masked``) finds the BMU from ``W @ x`` and
    the units' squared norms, which are carried from step to step instead of
    recomputed: with ``a`` the step of a unit, ``w' = (1 - a) w + a x`` has
    ``|w'|^2 = (1-a)^2 |w|^2 + 2a(1-a) w.x + a^2 |x|^2``, all known. A step
    then reads the codebook twice and writes it once, where the difference
    form also writes and reads the differences ``W - x``: on large codebooks,
    which do not stay in cache, that traffic is the cost of a step.
    """
    h_fn = NEIGHBORHOODS[neighborhood]
    compile_loop = tf.function(
        input_signature=[
            _matrix(dtype), _matrix(dtype), _matrix(dtype), _vector(dtype), _vector(dtype), _vector(dtype),
            tf.TensorSpec([], tf.int32),
        ],
        jit_compile=True,
        # The loop is written with tf.while_loop already; converting the
        # Python source with AutoGraph would only cost time on the first call.
        autograph=False,
    )

    def neighbourhood_of(bmu, coordinates, periods, sigma):
        # O(n_units) per step, from the BMU's lattice position. tf.gather, not
        # coordinates[bmu]: XLA lowers a slice at a data-dependent index by
        # treating X as a compile-time constant, which recompiles the loop
        # for every new chunk of data.
        centre = tf.gather(coordinates, bmu[None])
        return h_fn(squared_distances_to(coordinates, centre, periods, tf)[0], sigma, tf)

    if product_form:

        def online(X, W, coordinates, periods, sigmas, rates, n):
            def body(i, W, norms):
                x = X[i]
                dots = tf.linalg.matvec(W, x)
                bmu = tf.argmin(norms - 2.0 * dots, output_type=tf.int32)
                # Capped at 1: no unit moves past the sample (heavy weights).
                a = tf.minimum(rates[i] * neighbourhood_of(bmu, coordinates, periods, sigmas[i]), 1.0)
                b = 1.0 - a
                norms = b * b * norms + 2.0 * a * b * dots + a * a * tf.reduce_sum(x * x)
                return i + 1, b[:, None] * W + a[:, None] * x[None, :], norms

            _, W, _ = tf.while_loop(lambda i, *_: i < n, body, (tf.constant(0), W, _row_sq_norms(W)))
            return W

    else:

        def online(X, W, coordinates, periods, sigmas, rates, n):
            X0, M = _observed(X, masked)

            def body(i, W):
                diff = W - X0[i][None, :]
                if M is not None:
                    diff = diff * M[i][None, :]
                bmu = tf.argmin(tf.reduce_sum(diff * diff, axis=1), output_type=tf.int32)
                a = tf.minimum(rates[i] * neighbourhood_of(bmu, coordinates, periods, sigmas[i]), 1.0)
                return i + 1, W - a[:, None] * diff

            _, W = tf.while_loop(lambda i, W: i < n, body, (tf.constant(0), W))
            return W

    return compile_loop(online)


def _padded_length(n):
    """Chunk length rounded up to a power of two (at least 256).

    XLA compiles once per input shape; padding every chunk to one of a few
    lengths keeps compilations to one or two per fit instead of one per
    distinct chunk size.
    """
    return max(256, 1 << (int(n) - 1).bit_length())


def _padded(values, length, fill, dtype):
    """``values`` as a tensor of ``length`` rows, the rows past its own filled with ``fill``.

    The sequential kernels stop at the true row count: padded rows are never visited.
    """
    out = np.full((length,) + values.shape[1:], fill, dtype=dtype)
    out[: len(values)] = values
    return tf.constant(out)


@functools.cache
def _minibatch_fn(neighborhood, dtype, masked=False):
    """The averaged online rule over a stack of equal-sized mini-batches.

    One call runs a loop over the stack, so that the per-call cost of a
    compiled function is paid once per stack, not once per mini-batch.
    """
    h_fn = NEIGHBORHOODS[neighborhood]

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None, None], dtype), _matrix(dtype), _matrix(dtype), _matrix(dtype),
            _vector(dtype), _vector(dtype), _vector(dtype),
        ],
        autograph=False,
    )
    def minibatches(Xs, weights, W, coordinates, periods, sigmas, rates):
        def body(i, W):
            X0, M = _observed(Xs[i], masked)
            w = weights[i]
            bmu = tf.argmax(_masked_similarity(X0, M, W), axis=1, output_type=tf.int32)
            d2 = squared_distances_to(coordinates, tf.gather(coordinates, bmu), periods, tf)
            h = h_fn(d2, sigmas[i], tf) * w[:, None]  # (batch, units)
            received = tf.reduce_sum(h, axis=0)[:, None] if M is None else tf.matmul(h, M, transpose_a=True)
            pull = tf.matmul(h, X0, transpose_a=True) - received * W
            total = tf.maximum(tf.reduce_sum(w), tf.constant(1e-12, dtype))
            return i + 1, W + rates[i] * pull / total

        n = tf.shape(Xs)[0]
        _, W = tf.while_loop(lambda i, W: i < n, body, (tf.constant(0), W))
        return W

    return minibatches


# Mini-batches stacked into one call of the compiled loop (bounded by memory).
_STACK_BATCHES = 64
_STACK_ELEMENTS = 2**22


def _pass_fn(body, dtype, prepared, masked=False):
    """``body(X, W, prepared)`` compiled, for a pass over the data with a fixed codebook.

    With ``prepared``, the function takes the codebook's :func:`_prepared`
    operands instead of the codebook: a pass over several chunks computes
    them once. Without, it computes them itself: a single chunk then needs
    no eager op besides the call, which on small data is a visible share of
    a fit.
    """
    if prepared:
        return tf.function(
            lambda X, Wt, other: body(X, None, (Wt, other)),
            input_signature=[_matrix(dtype), *_prepared_specs(dtype, masked)],
            autograph=False,
        )
    return tf.function(lambda X, W: body(X, W, None), input_signature=[_matrix(dtype), _matrix(dtype)], autograph=False)


@functools.cache
def _two_bmus_fn(dtype, masked=False, prepared=True):
    """First and second best-matching units and the distance to the first."""

    def two_bmus(X, W, operands):
        # Two argmax passes instead of top_k, which is several times slower on
        # CPU. Ties go to the lower unit index in both, as with argmin. With a
        # single unit, the second BMU is the first.
        X0, M = _observed(X, masked)
        similarity = _similarity_of(X0, M, W, operands)
        first = tf.argmax(similarity, axis=1, output_type=tf.int32)
        best = tf.gather(similarity, first, batch_dims=1)
        is_first = tf.one_hot(first, tf.shape(similarity)[1], on_value=True, off_value=False)
        second = tf.argmax(
            tf.where(is_first, tf.constant(-np.inf, dtype), similarity), axis=1, output_type=tf.int32
        )
        sq = tf.maximum(_row_sq_norms(X0) - best, 0.0)
        return first, second, tf.sqrt(sq)

    return _pass_fn(two_bmus, dtype, prepared, masked)


@functools.cache
def _distances_fn(dtype, masked=False, prepared=True):
    def distances(X, W, operands):
        X0, M = _observed(X, masked)
        sq = _row_sq_norms(X0)[:, None] - _similarity_of(X0, M, W, operands)
        return tf.sqrt(tf.maximum(sq, 0.0))

    return _pass_fn(distances, dtype, prepared, masked)


def _per_chunk(chunks, W, make_fn, device, masked=False):
    """``make_fn(prepared)``'s results for each chunk, as NumPy.

    One chunk goes through the function that prepares the codebook itself;
    several share one :func:`_prepared` of it, and only that stays on the
    device. Each chunk's results leave the device before the next chunk is
    sent.
    """
    c = centre(W)
    W = W - c
    chunks = (X - c for X in chunks)  # bare arrays, not the (X, ...) of recentred
    first = next(chunks, None)
    second = next(chunks, None) if first is not None else None
    with _scope(device):
        if second is None:
            fn, operands = make_fn(False), (tf.constant(W),)
        else:
            fn, operands = make_fn(True), _prepared(tf.constant(W), masked)
        chunks = itertools.chain([chunk for chunk in (first, second) if chunk is not None], chunks)
        return [tf.nest.map_structure(lambda t: t.numpy(), fn(tf.constant(X), *operands)) for X in chunks]


# -- public, NumPy-facing functions -------------------------------------------
# ``masked=True`` is for data with NaN (missing) entries.


def batch_epoch(
    chunks, W, form, operands, learning_rate=1.0, device=None, masked=False, neighborhood=None, strategy=None
):
    """One epoch of the batch map over an iterable of ``(X, weights)`` chunks.

    ``form`` and ``operands`` say how the neighbourhood smooths the sums:
    ``"separable"`` with the row and column factors of a Gaussian (see
    :func:`_separable_smooth`), ``"dense"`` with the (n_units, n_units)
    matrix ``H`` (small maps), or ``"per_sample"`` with the unit
    coordinates, lattice periods and radius of ``neighborhood``. With a
    ``tf.distribute`` ``strategy``, each chunk is split across the replicas,
    each accumulates its share and an all-reduce adds them up; the update
    (the smoothing included) then runs once on the totals, so the codebook
    equals the one-device result up to float rounding.

    Returns the new codebook and the weighted sum of quantization errors of the
    samples against the *old* codebook (what the epoch started from); with no
    chunks at all, the codebook unchanged and 0.
    """
    dtype = tf.as_dtype(W.dtype)
    n_accumulate = len(_form_specs(form, dtype)[0])
    accumulate_operands, update_operands = operands[:n_accumulate], operands[n_accumulate:]
    chunks = iter(chunks)
    first = next(chunks, None)
    if first is None:
        return W.copy(), 0.0
    c = centre(W)
    moved = W - c
    new_W, qe_sum = _batch_epoch(
        recentred(itertools.chain([first], chunks), c, device), moved, form, accumulate_operands, update_operands,
        operands, learning_rate, device, masked, neighborhood, strategy,
    )
    return moved_back(new_W, moved, c, W), qe_sum


def _batch_epoch(
    chunks, W, form, accumulate_operands, update_operands, operands, learning_rate, device, masked, neighborhood,
    strategy,
):
    """:func:`batch_epoch` around the origin its caller chose (see :func:`centre`)."""
    dtype = tf.as_dtype(W.dtype)
    chunks = iter(chunks)
    first = next(chunks)
    second = next(chunks, None)
    if strategy is None and second is None:
        with _scope(device):
            X, weights = first
            new_W, qe_sum = _single_chunk_epoch_fn(dtype, masked, form, neighborhood)(
                tf.convert_to_tensor(X), tf.convert_to_tensor(weights), tf.constant(W),
                tf.constant(learning_rate, dtype), *[tf.constant(a, dtype) for a in operands],
            )
            return new_W.numpy(), float(qe_sum.numpy())
    chunks = itertools.chain([c for c in (first, second) if c is not None], chunks)
    del first, second  # (moved copies: the chain holds them until they are used)
    with _scope(device) if strategy is None else strategy.scope():
        # Only the prepared codebook and the running totals stay on the
        # device through the chunks; the codebook itself comes back for the
        # update. On a large map W^T and the sums are codebook-sized blocks
        # (with missing values, (W*W)^T and the counts too), and the
        # allocator keeps what the epoch's peak needed.
        prepared = _prepared(tf.constant(W), masked)
        accumulate_t = [tf.constant(a, dtype) for a in accumulate_operands]
        if strategy is None:
            accumulate = _accumulate_fn(dtype, masked, form, neighborhood)
            sums = tf.Variable(tf.zeros(W.shape, dtype), trainable=False)
            counts = tf.Variable(tf.zeros(W.shape if masked else W.shape[:1], dtype), trainable=False)
            qe_sums = [
                accumulate(
                    tf.convert_to_tensor(X), *prepared, tf.convert_to_tensor(weights),
                    sums.handle, counts.handle, *accumulate_t,
                )
                for X, weights in chunks
            ]
            qe_sum = tf.add_n(qe_sums)
        else:
            accumulate = _accumulate_fn(dtype, masked, form, neighborhood, in_place=False)
            totals = None
            for X, weights in chunks:
                parts = _accumulate_distributed(strategy, accumulate, X, weights, prepared, accumulate_t)
                totals = parts if totals is None else [a + b for a, b in zip(totals, parts)]
            sums, counts, qe_sum = totals
            del parts, totals
        del prepared
        new_W = _batch_update_fn(dtype, masked, form)(
            sums, counts, tf.constant(W), tf.constant(learning_rate, dtype),
            *[tf.constant(a, dtype) for a in update_operands],
        )
        return new_W.numpy(), float(qe_sum.numpy())


def _accumulate_distributed(strategy, accumulate, X, weights, prepared, operands):
    """Sums, counts and QE of one chunk split across the replicas, all-reduced.

    ``prepared`` holds the codebook's :func:`_prepared` operands.
    """
    shares = np.array_split(np.arange(X.shape[0]), strategy.num_replicas_in_sync)

    def share(array):
        return strategy.experimental_distribute_values_from_function(
            lambda context: tf.constant(np.asarray(array)[shares[context.replica_id_in_sync_group]])
        )

    # A plain Python callable: the strategy then hands each replica its own
    # tensors (a tf.function would be given the PerReplica values).
    per_replica = strategy.run(lambda X, w: accumulate(X, *prepared, w, *operands), args=(share(X), share(weights)))
    return [strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None) for value in per_replica]


def online_epoch(chunks, W, coordinates, periods, neighborhood, device=None, masked=False):
    """Sequential updates over an iterable of ``(X, sigmas, rates)`` chunks.

    Rows are visited in the order given; each row has its own radius and
    learning rate (already multiplied by its relative weight). A unit's step
    ``rate * h`` is capped at 1, so that no unit moves past the sample.
    ``coordinates`` and ``periods`` are the lattice's (see
    :func:`sksom._topology.unit_coordinates` and ``lattice_periods``).
    """
    dtype = tf.as_dtype(W.dtype)
    online = _online_fn(neighborhood, dtype, masked, not masked and W.size > _ONLINE_PRODUCT_FORM_MIN)
    c = centre(W)
    moved = W - c
    with _scope(device):
        W_t = tf.constant(moved)
        lattice = tf.constant(coordinates, dtype), tf.constant(periods, dtype)
        for X, sigmas, rates in recentred(chunks, c):
            n = X.shape[0]
            length = _padded_length(n)
            W_t = online(
                _padded(X, length, 0, W.dtype), W_t, *lattice,
                _padded(sigmas, length, 1, W.dtype), _padded(rates, length, 0, W.dtype),
                tf.constant(n, tf.int32),
            )
        return moved_back(W_t.numpy(), moved, c, W)


def minibatch_epoch(batches, W, coordinates, periods, neighborhood, device=None, masked=False):
    """Averaged online updates over an iterable of ``(X, weights, sigma, rate)``."""
    dtype = tf.as_dtype(W.dtype)
    run = _minibatch_fn(neighborhood, dtype, masked)
    c = centre(W)
    moved = W - c
    batches = recentred(batches, c)
    with _scope(device):
        W_t = tf.constant(moved)
        lattice = tf.constant(coordinates, dtype), tf.constant(periods, dtype)
        stack = []

        def flush(W_t):
            Xs = np.stack([b[0] for b in stack])
            weights = np.stack([b[1] for b in stack])
            sigmas = np.array([b[2] for b in stack], dtype=W.dtype)
            rates = np.array([b[3] for b in stack], dtype=W.dtype)
            stack.clear()
            return run(tf.constant(Xs), tf.constant(weights), W_t, *lattice, tf.constant(sigmas), tf.constant(rates))

        for batch in batches:
            # Consecutive batches of one shape share a stack; the epoch's
            # shorter last batch starts a stack of its own.
            if stack and (batch[0].shape != stack[0][0].shape or len(stack) >= _stack_limit(batch[0])):
                W_t = flush(W_t)
            stack.append(batch)
        if stack:
            W_t = flush(W_t)
        return moved_back(W_t.numpy(), moved, c, W)


def _stack_limit(X):
    return max(1, min(_STACK_BATCHES, _STACK_ELEMENTS // max(1, X.size)))


def best_matching_units(chunks, W, device=None, masked=False):
    """First BMU, second BMU and quantization error for each row of the chunks."""
    dtype = tf.as_dtype(W.dtype)
    parts = _per_chunk(chunks, W, lambda prepared: _two_bmus_fn(dtype, masked, prepared), device, masked)
    first, second, errors = zip(*parts)
    return (
        np.concatenate(first).astype(np.intp),
        np.concatenate(second).astype(np.intp),
        np.concatenate(errors),
    )


def distances(chunks, W, device=None, masked=False):
    """Euclidean distances from each row of the chunks to every unit."""
    dtype = tf.as_dtype(W.dtype)
    parts = _per_chunk(chunks, W, lambda prepared: _distances_fn(dtype, masked, prepared), device, masked)
    return np.concatenate(parts)


# -- export --------------------------------------------------------------------


class _ServableSOM(tf.Module):
    """A fitted map as a TensorFlow module: float32 rows in, cluster ids out."""

    def __init__(self, codebook, unit_labels):
        super().__init__(name="sksom")
        # Distances around the units, as the passes over the data compute
        # them (see centre): the same ids as predict, far from the origin too.
        self.codebook = tf.Variable(codebook, trainable=False, name="codebook")
        self.centre = tf.Variable(centre(codebook), trainable=False, name="centre")
        self.unit_labels = tf.Variable(unit_labels, trainable=False, name="unit_labels")
        # Any shape gets into the graph, where it is checked with a message
        # that says what is expected (a fixed-shape signature fails with a
        # bare shape error).
        spec = tf.TensorSpec(None, tf.float32, name="X")
        self.predict = tf.function(self._predict, input_signature=[spec])

    def _predict(self, X):
        n_features = self.codebook.shape[1]
        rank = tf.debugging.assert_equal(
            tf.rank(X), 2, message=f"X must be 2-D, (n_samples, {n_features}): one row per sample"
        )
        with tf.control_dependencies([rank]):
            width = tf.debugging.assert_equal(
                tf.shape(X)[-1], n_features, message=f"X must have {n_features} features (columns), as the fitted map"
            )
        # (No static reshape here: TensorFlow infers shapes from the actual
        # input before running anything, and would fail first, unclearly.)
        with tf.control_dependencies([width]):
            X = X - self.centre
        # The same distance scores as ``predict``, so the ids match: over all
        # features for complete rows, over the observed ones when NaN occur.
        moved = self.codebook - self.centre
        similarity = tf.cond(
            tf.reduce_all(tf.math.is_finite(X)),
            lambda: _similarity(X, moved),
            lambda: _masked_similarity(*_observed(X, True), moved),
        )
        units = tf.argmax(similarity, axis=1, output_type=tf.int64)
        # A row with no observed value has no best-matching unit: -1, never unit 0.
        observed = tf.reduce_any(tf.logical_not(tf.math.is_nan(X)), axis=1)
        missing = tf.constant(-1, tf.int64)
        units = tf.where(observed, units, missing)
        cluster_ids = tf.where(observed, tf.gather(self.unit_labels, tf.maximum(units, 0)), missing)
        return {"cluster_id": cluster_ids, "unit": units}


def export_saved_model(codebook, unit_labels, path):
    """Write a SavedModel whose ``serving_default`` maps rows to cluster ids.

    ``codebook`` is cast to float32 and ``unit_labels`` (the cluster of each
    unit) to int64. The signature takes ``X`` of shape (n, n_features), NaN
    marking missing values, and returns ``cluster_id`` and ``unit`` (the
    best-matching unit), both int64.
    """
    module = _ServableSOM(
        np.ascontiguousarray(codebook, dtype=np.float32), np.asarray(unit_labels, dtype=np.int64)
    )
    tf.saved_model.save(module, os.fspath(path), signatures={"serving_default": module.predict})
