"""Neural gas kernels: batch neural gas, the online rule with competitive
Hebbian learning, and Fritzke's growing neural gas.

As in :mod:`.som`, every public function takes and returns NumPy arrays.
The sequential rules run one compiled ``tf.while_loop`` (XLA) per chunk of
samples, over chunks padded to a few lengths so that a fit compiles once or
twice, not once per chunk.

Edges are held as a dense ``(capacity, capacity)`` matrix of ages, ``-1``
meaning no edge, kept symmetric. A signal touches only the row and column of
its winner, so a step costs ``O(capacity * n_features)``; the matrix bounds
the supported number of units (:data:`MAX_CAPACITY`).
"""

import functools

import numpy as np
import tensorflow as tf

from .device import scope as _scope
from .._data import working_origin
from .som import _matrix, _padded, _padded_length, _similarity, _vector, centre, moved_back, recentred

# Largest number of units of a gas: its edge ages are a dense square matrix,
# 64 MiB in float32 at this size.
MAX_CAPACITY = 4096


def _scalar(dtype):
    return tf.TensorSpec([], dtype)


# -- batch neural gas --------------------------------------------------------


def rank_cutoff(n_units, lam, dtype):
    """Ranks kept by the batch rule: beyond them ``exp(-k / lam)`` is below float resolution.

    ``exp(-k/lam) < eps`` for ``k > lam * ln(1/eps)``; such a term changes no
    sum of terms of size 1 (the rank-0 term), so for a unit that is the
    nearest to some sample, truncating the ranks there is exact to float
    tolerance. The ranks kept are ``0 .. floor(lam * ln(1/eps))``, and at
    least the two nearest: a unit nearest to no sample still moves, by its
    terms within the kept ranks (those of the samples it is second for, at
    least). A unit among no sample's kept ranks keeps its place, where the
    full rule would move it by weights that are all below float resolution.
    """
    eps = np.finfo(dtype).eps
    return int(min(n_units, max(2, np.floor(lam * np.log(1.0 / eps)) + 1)))


@functools.cache
def _ng_accumulate_fn(dtype):
    @tf.function(
        input_signature=[_matrix(dtype), _vector(dtype), _matrix(dtype), _scalar(dtype), _scalar(tf.int32)],
        autograph=False,
    )
    def accumulate(X, weights, W, lam, k):
        return _ng_sums(X, weights, W, lam, k)

    return accumulate


def _ng_sums(X, weights, W, lam, k):
    """Rank-weighted sums of the samples and total weight of each unit, over ``k`` ranks."""
    dtype = W.dtype
    n_samples, n_units, n_features = tf.shape(X)[0], tf.shape(W)[0], tf.shape(X)[1]
    # TensorFlow's CPU top_k is slower for k from half the units up to all
    # but one than for all of them (100 units, 100,000 rows: 192-275 ms
    # against 125-166 ms; also at 1,000 and 4,000 units), so those sort all;
    # the ranks beyond ``k`` only add terms below float resolution.
    k = tf.where(2 * k > n_units, n_units, k)
    # top_k of minus the distance orders units from nearest; equal
    # distances go to the lower unit index first.
    _, nearest = tf.math.top_k(_similarity(X, W), k)
    h = tf.exp(-tf.cast(tf.range(k), dtype) / lam)

    def by_rank():
        # One segment sum of the weighted samples (and their weights) per
        # rank: cheaper than the (n_samples, n_units) block while k times
        # the row width is small.
        rows = tf.concat([X * weights[:, None], weights[:, None]], axis=1)

        def add(p, total):
            return p + 1, total + h[p] * tf.math.unsorted_segment_sum(rows, nearest[:, p], n_units)

        total = tf.while_loop(
            lambda p, _: p < k, add, (tf.constant(0), tf.zeros([n_units, n_features + 1], dtype))
        )[1]
        return total[:, :-1], total[:, -1]

    def by_block():
        # The (n_samples, n_units) weight block, then one matmul: cheaper
        # than gathering k copies of every sample when the features are
        # many. The block is a segment sum over flat indices (each index
        # occurs once), twice as fast on the CPU as scatter_nd with (row,
        # unit) index pairs.
        hw = weights[:, None] * h[None, :]
        flat = tf.range(n_samples)[:, None] * n_units + nearest
        H = tf.reshape(
            tf.math.unsorted_segment_sum(tf.reshape(hw, [-1]), tf.reshape(flat, [-1]), n_samples * n_units),
            [n_samples, n_units],
        )
        return tf.matmul(H, X, transpose_a=True), tf.reduce_sum(H, axis=0)

    # On 100,000 rows and 100 units the per-rank sums win up to k (n_features
    # + 1) of about 30: 5-19 ms against 28-33 ms at 2 features and 2 <= k <=
    # 9, 16 against 33 at 10 features and k = 2. (k <= width // (n_features
    # + 1) says k (n_features + 1) <= width without the product, which
    # overflows int32 for very wide data.)
    return tf.cond(k <= _BY_RANK_WIDTH // (n_features + 1), by_rank, by_block)


# Largest k (n_features + 1) for which the batch rule sums rank by rank.
_BY_RANK_WIDTH = 32


def _ng_update(sums, counts, W):
    """The batch rule from the sums; a unit with no weight at all keeps its place."""
    has = counts > 0
    return tf.where(has[:, None], sums / tf.where(has, counts, tf.ones_like(counts))[:, None], W)


@functools.cache
def _ng_epochs_fn(dtype):
    """Several batch epochs over data held in one chunk, in one call.

    Small data sets are one chunk; for them the per-epoch cost of calling a
    compiled function from Python is a large share of the fit.
    """

    @tf.function(
        input_signature=[_matrix(dtype), _vector(dtype), _matrix(dtype), _vector(dtype), _vector(tf.int32)],
        autograph=False,
    )
    def epochs(X, weights, W, lams, ks):
        def body(e, W):
            return e + 1, _ng_update(*_ng_sums(X, weights, W, lams[e], ks[e]), W)

        return tf.while_loop(lambda e, W: e < tf.shape(lams)[0], body, (tf.constant(0), W))[1]

    return epochs


def neural_gas_batch_epochs(X, weights, W, lams, device=None):
    """:func:`neural_gas_batch_epoch` once per entry of ``lams``, on one in-memory chunk."""
    dtype = tf.as_dtype(W.dtype)
    ks = np.array([rank_cutoff(W.shape[0], lam, W.dtype) for lam in lams], dtype=np.int32)
    # The origin of the arithmetic (see sksom._engine.som.centre): here near
    # the data, which are all at hand, as the units may start far from them
    # and the origin stays for every epoch of the call.
    c = working_origin(X)
    moved = W - c
    with _scope(device):
        new = _ng_epochs_fn(dtype)(
            tf.constant(X - c), tf.constant(weights), tf.constant(moved), tf.constant(np.asarray(lams, W.dtype)),
            tf.constant(ks),
        ).numpy()
    return moved_back(new, moved, c, W)


def neural_gas_batch_epoch(chunks, W, lam, device=None):
    """One epoch of batch neural gas over ``(X, weights)`` chunks.

    ``w_i = sum_j h(k_ij) w_j x_j / sum_j h(k_ij) w_j`` with
    ``h(k) = exp(-k / lam)`` and ``k_ij`` the rank of unit ``i`` among the
    units nearest to sample ``j`` (Cottrell et al. 2006). A unit with no
    weight at all keeps its place.
    """
    dtype = tf.as_dtype(W.dtype)
    fn = _ng_accumulate_fn(dtype)
    k = rank_cutoff(W.shape[0], lam, W.dtype)
    origin = centre(W)  # the origin of the arithmetic (see sksom._engine.som.centre)
    moved = W - origin
    with _scope(device):
        W_t = tf.constant(moved)
        lam_t, k_t = tf.constant(lam, dtype), tf.constant(k, tf.int32)
        sums = counts = None
        for X, weights in recentred(chunks, origin):
            s, c = fn(tf.constant(X), tf.constant(weights), W_t, lam_t, k_t)
            sums, counts = (s, c) if sums is None else (sums + s, counts + c)
        return moved_back(_ng_update(sums, counts, W_t).numpy(), moved, origin, W)


# -- competitive Hebbian learning ---------------------------------------------


def _set_row_and_column(A, i, row):
    """``A`` with row and column ``i`` set to ``row`` (keeps ``A`` symmetric)."""
    n = tf.shape(A)[0]
    A = tf.tensor_scatter_nd_update(A, [[i]], row[None, :])
    return tf.tensor_scatter_nd_update(A, tf.stack([tf.range(n), tf.fill([n], i)], axis=1), row)


def _hebbian_row(row, second, max_age):
    """The winner's ages ``row`` after one signal, and the units it lost.

    Fritzke's order (GNG steps 3, 6 and 7): the winner's edges age by one,
    the winner--runner-up edge is set to age 0 (created if missing), and the
    winner's edges older than ``max_age`` are removed (age ``-1``).
    """
    row = tf.where(row >= 0, row + 1, row)
    row = tf.tensor_scatter_nd_update(row, [[second]], tf.zeros([1], row.dtype))
    removed = row > max_age
    return tf.where(removed, -tf.ones_like(row), row), removed


def _hebbian_step(A, winner, second, max_age):
    """:func:`_hebbian_row` applied to the winner's row and column of the ages ``A``."""
    row, removed = _hebbian_row(tf.gather(A, winner), second, max_age)
    return _set_row_and_column(A, winner, row), removed


def _zero_after(*tensors):
    """0, computed from ``tensors``: orders a write of the ages after their reads.

    XLA writes the winner's row and column into the ages matrix in place
    only where it can tell that every read of the old matrix comes first;
    otherwise it copies the whole matrix, every signal. Reads fused into the
    other updates of a signal are not ordered, so the written row is made to
    depend on their results. ``0.0 * x`` stays in the compiled code (it is
    NaN for infinite ``x``); here every ``x`` is finite.
    """
    return 0.0 * tf.add_n([tf.cast(tf.reshape(t, [-1])[0], tensors[0].dtype) for t in tensors])


# -- online neural gas ------------------------------------------------------------


# Most units for which the online rule ranks by counting pairs (its cost
# grows with the square of the units) rather than by XLA's sort. Per signal
# on the CPU: 4.7 against 11.2 us at 100 units, 32 against 46 at 400, 171
# against 137 at 1000.
COUNT_RANKS_UP_TO = 512


@functools.cache
def _ng_online_fn(dtype, count_ranks):
    @tf.function(
        input_signature=[
            _matrix(dtype), _matrix(dtype), _matrix(dtype), _vector(dtype), _vector(dtype), _vector(dtype),
            _vector(dtype), _scalar(tf.int32),
        ],
        jit_compile=True,
        autograph=False,
    )
    def online(X, W, A, weights, lams, rates, max_ages, n):
        n_units = tf.shape(W)[0]
        ranks_base = tf.range(n_units)

        def body(i, W, A):
            x = X[i]
            diff = x[None, :] - W
            d2 = tf.reduce_sum(diff * diff, axis=1)
            if count_ranks:
                # Unit i's rank: the units nearer than it, and those as near
                # with a lower index (a stable sort's order). Counting
                # compares all pairs, but in one fused pass.
                lower = ranks_base[None, :] < ranks_base[:, None]
                before = (d2[None, :] < d2[:, None]) | ((d2[None, :] == d2[:, None]) & lower)
                ranks = tf.reduce_sum(tf.cast(before, tf.int32), axis=1)
                # The units of rank 0 and 1: the ranks are a permutation, so
                # neither depends on how argmin breaks ties.
                first = tf.argmin(ranks, output_type=tf.int32)
                second = tf.argmin(tf.where(tf.equal(ranks, 0), n_units, ranks), output_type=tf.int32)
            else:
                order = tf.argsort(d2, stable=True)
                ranks = tf.scatter_nd(order[:, None], ranks_base, [n_units])
                first, second = order[0], order[1]
            # The step of a unit is capped at 1: it never passes the sample.
            step = tf.minimum(rates[i] * weights[i] * tf.exp(-tf.cast(ranks, dtype) / lams[i]), 1.0)
            W = W + step[:, None] * diff
            A, _ = _hebbian_step(A, first, second, max_ages[i])
            return i + 1, W, A

        _, W, A = tf.while_loop(lambda i, *_: i < n, body, (tf.constant(0), W, A))
        return W, A

    return online


# Rows of the sequential rules per compiled call. Every chunk is padded to a
# fixed length (at least this), so that a fit, and fits on data of other
# sizes, share one XLA compilation per shape of the state.
SIGNAL_CHUNK = 1024


def _signal_length(n):
    return _padded_length(max(n, SIGNAL_CHUNK))


def neural_gas_online(chunks, W, A, device=None):
    """Martinetz & Schulten's sequential rule with competitive Hebbian learning.

    ``chunks`` yields ``(X, relative_weights, lambdas, rates, max_ages)``, one
    value per row, visited in order. Each sample moves unit ``i`` by
    ``min(1, rate * weight * exp(-k_i / lambda)) (x - w_i)``, then ages and
    connects edges as :func:`_hebbian_step`. Returns the codebook and ages.
    """
    dtype = tf.as_dtype(W.dtype)
    fn = _ng_online_fn(dtype, W.shape[0] <= COUNT_RANKS_UP_TO)
    with _scope(device):
        W_t, A_t = tf.constant(W), tf.constant(A)
        for X, weights, lams, rates, ages in chunks:
            n = X.shape[0]
            length = _signal_length(n)
            W_t, A_t = fn(
                _padded(X, length, 0, W.dtype), W_t, A_t, _padded(weights, length, 0, W.dtype),
                _padded(lams, length, 1, W.dtype), _padded(rates, length, 0, W.dtype),
                _padded(ages, length, 0, W.dtype), tf.constant(n, tf.int32),
            )
        return W_t.numpy(), A_t.numpy()


# -- growing neural gas -----------------------------------------------------------


def gas_capacity(max_units):
    """Preallocated units for ``max_units``: a power of two, at least 16.

    XLA compiles the loop once per shape; rounding the capacity up lets gases
    of similar ``max_units`` share one compilation (``max_units`` itself is
    an argument of the loop, not a shape).
    """
    return max(16, 1 << (int(max_units) - 1).bit_length())


@functools.cache
def _gng_fn(dtype):
    @tf.function(
        input_signature=[
            _matrix(dtype), _vector(dtype), _scalar(tf.int32),  # X, weights, n
            _matrix(dtype), _vector(dtype), _matrix(dtype), tf.TensorSpec([None], tf.bool),
            _scalar(tf.int64),  # W, errors, ages, active, signals so far
            _vector(dtype),  # eps_winner, eps_neighbor, max_age, alpha, d, max_units
            _scalar(tf.int64),  # insertion interval
        ],
        jit_compile=True,
        autograph=False,
    )
    def gng(X, weights, n, W, E, A, active, signals, params, interval):
        eps_b, eps_n, max_age, alpha, decay, max_units = (params[j] for j in range(6))
        max_units = tf.cast(max_units, tf.int32)
        inf = tf.constant(np.inf, dtype)

        def insert(W, E, A, active, degree, signals):
            # Fritzke step 8, when the signals reach a multiple of the
            # interval: a unit r halfway between the unit q of largest error
            # and its neighbour f of largest error. Written as updates that
            # keep the old values when there is no insertion, not as a
            # branch: XLA copies the whole ages matrix into and out of a
            # conditional.
            q = tf.argmax(tf.where(active, E, -inf), output_type=tf.int32)
            linked = tf.gather(A, q) >= 0
            f = tf.argmax(tf.where(linked, E, -inf), output_type=tf.int32)
            r = tf.argmin(tf.cast(active, tf.int32), output_type=tf.int32)
            grow = (
                tf.equal(signals % interval, 0)
                & (tf.reduce_sum(tf.cast(active, tf.int32)) < max_units)
                & tf.reduce_any(linked)
            )
            W = tf.tensor_scatter_nd_update(
                W, [[r]], tf.where(grow, 0.5 * (tf.gather(W, q) + tf.gather(W, f)), tf.gather(W, r))[None, :]
            )
            # q and f trade their edge for one to r each; r has two.
            pairs = tf.stack([tf.stack(p) for p in ((q, f), (f, q), (q, r), (r, q), (r, f), (f, r))])
            A = tf.tensor_scatter_nd_update(
                A, pairs, tf.where(grow, tf.constant([-1, -1, 0, 0, 0, 0], dtype), tf.gather_nd(A, pairs))
            )
            degree = tf.tensor_scatter_nd_add(degree, [[r]], [2 * tf.cast(grow, tf.int32)])
            e_q, e_f = alpha * tf.gather(E, q), alpha * tf.gather(E, f)
            E = tf.tensor_scatter_nd_update(
                E, [[q], [f], [r]], tf.where(grow, tf.stack([e_q, e_f, e_q]), tf.gather(E, [q, f, r]))
            )
            active = tf.tensor_scatter_nd_update(active, [[r]], [tf.gather(active, r) | grow])
            return W, E, A, active, degree

        def signal(i, W, E, A, active, degree, end):
            x, weight = X[i], weights[i]
            diff = x[None, :] - W
            d2 = tf.where(active, tf.reduce_sum(diff * diff, axis=1), inf)
            s1 = tf.argmin(d2, output_type=tf.int32)
            s2 = tf.argmin(tf.tensor_scatter_nd_update(d2, [[s1]], [inf]), output_type=tf.int32)
            # Steps 4-5: weighted error at the winner; the winner and its
            # current neighbours move (each step capped at 1).
            E = tf.tensor_scatter_nd_add(E, [[s1]], [weight * tf.gather(d2, s1)])
            row = tf.gather(A, s1)
            step = tf.where(row >= 0, tf.minimum(eps_n * weight, 1.0), tf.zeros_like(E))
            step = tf.tensor_scatter_nd_update(step, [[s1]], [tf.minimum(eps_b * weight, 1.0)])
            W = W + step[:, None] * diff
            # Steps 3, 6, 7: edge ageing; a unit left without edges is removed.
            # ``degree`` counts each unit's edges, so that finding the units
            # left alone reads the winner's row only.
            new_edge = tf.cast(tf.gather(row, s2) < 0, tf.int32)
            row, removed = _hebbian_row(row, s2, max_age)
            lost = tf.cast(removed, tf.int32)
            degree = degree - lost + new_edge * tf.one_hot(s2, tf.shape(degree)[0], dtype=tf.int32)
            degree = tf.tensor_scatter_nd_add(degree, [[s1]], [new_edge - tf.reduce_sum(lost)])
            active = active & ~(removed & (degree == 0))
            A = _set_row_and_column(A, s1, row + _zero_after(W, degree, active))
            # Step 9: every error decays; the group's last signal decays
            # after the insertion that may follow it (step 8).
            E = E * tf.where(i + 1 < end, decay, tf.ones_like(decay))
            return i + 1, W, E, A, active, degree, end

        def group(i, W, E, A, active, signals, degree):
            # The signals up to the next multiple of the interval (or the
            # chunk's end), then the insertion check of the last one: the
            # per-signal loop carries no insertion branch.
            left = interval - signals % interval  # in int64: the interval may exceed int32
            end = i + tf.cast(tf.minimum(tf.cast(n - i, tf.int64), left), tf.int32)
            i_end, W, E, A, active, degree, _ = tf.while_loop(
                lambda j, *_: j < end, signal, (i, W, E, A, active, degree, end)
            )
            signals = signals + tf.cast(i_end - i, tf.int64)
            W, E, A, active, degree = insert(W, E, A, active, degree, signals)
            return i_end, W, E * decay, A, active, signals, degree

        degree = tf.reduce_sum(tf.cast(A >= 0, tf.int32), axis=1)
        _, W, E, A, active, signals, _ = tf.while_loop(
            lambda i, *_: i < n, group, (tf.constant(0), W, E, A, active, signals, degree)
        )
        return W, E, A, active, signals

    return gng


def growing_neural_gas(chunks, W, E, A, active, signals, params, interval, device=None):
    """Fritzke's growing neural gas over ``(X, relative_weights)`` chunks.

    The state is preallocated to a capacity ``W.shape[0]`` of at least
    ``max_units`` (see :func:`gas_capacity`): ``active`` marks the units in use, ``A`` holds the edge ages (``-1``: no edge) and
    ``E`` the accumulated errors; ``signals`` counts the samples presented so
    far (insertion happens when it is a multiple of ``interval``).
    ``params`` is ``(eps_winner, eps_neighbor, max_age, alpha, d, max_units)``.
    Returns the new ``(W, E, A, active, signals)``.
    """
    dtype = tf.as_dtype(W.dtype)
    fn = _gng_fn(dtype)
    with _scope(device):
        state = (tf.constant(W), tf.constant(E), tf.constant(A), tf.constant(active), tf.constant(signals, tf.int64))
        params_t = tf.constant(np.asarray(params, dtype=W.dtype))
        interval_t = tf.constant(interval, tf.int64)
        for X, weights in chunks:
            n = X.shape[0]
            length = _signal_length(n)
            state = fn(
                _padded(X, length, 0, W.dtype), _padded(weights, length, 0, W.dtype), tf.constant(n, tf.int32),
                *state, params_t, interval_t,
            )
        W, E, A, active, signals = (t.numpy() for t in state)
        return W, E, A, active, int(signals)
