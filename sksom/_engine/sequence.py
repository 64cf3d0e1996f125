"""Sequence-map kernels: the recursive SOM and the merge SOM, in lockstep over sequences.

Sequences arrive as a block of shape (n_steps, n_sequences, n_features):
step ``t`` of every sequence is processed together, inside one compiled
``tf.while_loop`` over time. A sequence shorter than the block is padded at
its end with steps of weight 0, which move nothing. Every sequence starts
from the empty context (zeros) at step 0 of its first block; the caller
carries the context from one block to the next.

Two contexts (``kind``):

``"recursive"`` (Voegtlin 2002)
    ``E_i = alpha ||x(t) - w_i||^2 + beta ||y(t-1) - c_i||^2`` and
    ``y(t) = exp(-E(t))``; the context of a step is the previous activation
    ``y(t-1)``, a vector of n_units entries.
``"merge"`` (Strickert & Hammer 2005)
    ``d_i = (1 - a) ||x(t) - w_i||^2 + a ||c(t) - c_i||^2`` with the merge
    context ``c(t) = (1 - gamma) w_bmu(t-1) + gamma c_bmu(t-1)``, a vector
    of the input space.

Update of one step (the sequential rule of every map in the package): unit
``i`` moves towards the sample and its context by the step factor
``a_si = min(1, rate * h(d(bmu_s, i), sigma) * weight_s)`` of each sequence
``s``. In lockstep several sequences can pull the same unit at once: the unit
moves to the step-weighted mean of their targets by ``min(1, sum_s a_si)``.
With one sequence this is exactly ``w += a (x - w)``.
"""

import functools

import numpy as np
import tensorflow as tf

from .._topology import NEIGHBORHOODS, squared_distances_to
from .device import scope as _scope

KINDS = ("recursive", "merge")
# XLA compiles the loop once per block shape, which takes seconds; below this
# many steps per block the plain graph runs the whole data faster than that.
XLA_MIN_STEPS = 1024


def _squared_distances(A, B):
    """``||a - b||^2`` for every row pair, through one matmul (clipped at 0)."""
    d = (
        tf.reduce_sum(A * A, axis=1)[:, None]
        - 2.0 * tf.matmul(A, B, transpose_b=True)
        + tf.reduce_sum(B * B, axis=1)[None, :]
    )
    return tf.maximum(d, 0.0)


def _energies(x, context_sq, W, context_dots, context_norms, p1, p2):
    """Combined squared distances (n_sequences, n_units) of one step.

    ``p1, p2`` are ``alpha, beta`` (recursive) or ``1 - a, a`` (merge). The
    context part comes from ``context_sq`` (each sequence's squared context
    norm), ``context_dots`` (``context @ C^T``) and the units' squared
    context norms ``context_norms``, which the caller keeps.
    """
    to_context = tf.maximum(
        context_sq[:, None] - 2.0 * context_dots + context_norms[None, :], 0.0
    )
    return p1 * _squared_distances(x, W) + p2 * to_context


def _context_dots(context, C, single):
    """``context @ C^T``; for one sequence a matrix-vector product.

    With ``C`` fixed (prediction), XLA's CPU code runs that faster than the
    (1, k) x (k, n_units) product; in training, where ``C`` changes every
    step, the product is faster.
    """
    if single:
        return tf.linalg.matvec(C, context[0])[None, :]
    return tf.matmul(context, C, transpose_b=True)


def _next_context(kind, E, bmu, W, C, gamma):
    """The context the next step sees."""
    if kind == "recursive":
        return tf.exp(-E)
    return (1.0 - gamma) * tf.gather(W, bmu) + gamma * tf.gather(C, bmu)


def _spec(rank, dtype):
    return tf.TensorSpec([None] * rank, dtype)


@functools.cache
def _train_fn(kind, neighborhood, dtype, jit, single=False, gram=True):
    """The training loop over the first ``n`` steps of a block.

    The contexts ``C`` are the large operand (n_units x n_units for the
    recursive SOM), and a step touches them twice: once for the products
    ``context @ C^T`` and once for the update. Their squared norms, which
    the distances also need, are carried from step to step instead of read
    again: ``c' = b c + g p`` (``p`` the sequences' pull on the unit) has
    ``|c'|^2 = b^2 |c|^2 + 2 b g (c . p) + g^2 |p|^2``, where ``c . p`` comes
    from the products already taken and ``|p|^2`` from the contexts' Gram
    matrix (``gram``, few sequences: n_sequences^2 entries) or from the pulls
    themselves (many sequences: one more pass over an array of the
    contexts' size). They are computed afresh at each block's start, so
    that rounding cannot build up over more than one block. With ``single``
    (one sequence) the pull is ``a_i y`` and the update one fused pass,
    without the outer product of the general form.
    """
    h_fn = NEIGHBORHOODS[neighborhood]

    @tf.function(
        input_signature=[
            _spec(3, dtype), _spec(2, dtype), _spec(1, dtype), _spec(1, dtype), _spec(2, dtype),
            _spec(2, dtype), _spec(2, dtype), _spec(2, dtype), _spec(2, dtype), _spec(1, dtype),
            _spec(0, dtype), tf.TensorSpec([], tf.int32),
        ],
        jit_compile=jit,
        autograph=False,
    )
    def train(X, weights, sigmas, rates, mix, W, C, context, coordinates, periods, gamma, n):
        def body(t, W, C, context, norms):
            x = X[t]
            dots = tf.matmul(context, C, transpose_b=True)
            context_sq = tf.reduce_sum(context * context, axis=1)
            E = _energies(x, context_sq, W, dots, norms, mix[t, 0], mix[t, 1])
            bmu = tf.argmin(E, axis=1, output_type=tf.int32)
            d2 = squared_distances_to(coordinates, tf.gather(coordinates, bmu), periods, tf)
            # Padded steps have weight 0 and so a step factor of 0.
            a = tf.minimum(rates[t] * h_fn(d2, sigmas[t], tf) * weights[t][:, None], 1.0)
            if single:
                # Each factor is at most 1: w += a (x - w), c += a (y - c).
                a, y = a[0], context[0]
                b = 1.0 - a
                new_W = W + a[:, None] * (x[0][None, :] - W)
                new_C = b[:, None] * C + a[:, None] * y[None, :]
                norms = b * b * norms + 2.0 * a * b * dots[0] + a * a * context_sq[0]
            else:
                total = tf.reduce_sum(a, axis=0)
                g = tf.where(total > 1.0, 1.0 / tf.maximum(total, 1.0), tf.ones_like(total))
                b = 1.0 - g * total
                new_W = W + g[:, None] * (tf.matmul(a, x, transpose_a=True) - total[:, None] * W)
                pull = tf.matmul(a, context, transpose_a=True)
                new_C = b[:, None] * C + g[:, None] * pull
                if gram:
                    pull_sq = tf.reduce_sum(a * tf.matmul(tf.matmul(context, context, transpose_b=True), a), axis=0)
                else:
                    pull_sq = tf.reduce_sum(pull * pull, axis=1)
                norms = b * b * norms + 2.0 * b * g * tf.reduce_sum(a * dots, axis=0) + g * g * pull_sq
            return t + 1, new_W, new_C, _next_context(kind, E, bmu, W, C, gamma), norms

        _, W, C, context, _ = tf.while_loop(
            lambda t, *_: t < n, body, (tf.constant(0), W, C, context, tf.reduce_sum(C * C, axis=1))
        )
        return W, C, context

    return train


@functools.cache
def _predict_fn(kind, dtype, full, jit, single=False):
    @tf.function(
        input_signature=[
            _spec(3, dtype), _spec(2, dtype), _spec(2, dtype), _spec(2, dtype), _spec(0, dtype),
            _spec(0, dtype), _spec(0, dtype), tf.TensorSpec([], tf.int32),
        ],
        jit_compile=jit,
        autograph=False,
    )
    def predict(X, W, C, context, p1, p2, gamma, n):
        # The first ``n`` steps of the block, so that the context returned is
        # the one after them. XLA needs outputs of a fixed size (the block;
        # the rows past ``n`` stay zero), the plain graph takes ``n`` rows.
        size = tf.shape(X)[0] if jit else n
        bmus = tf.TensorArray(tf.int32, size=size)
        energies = tf.TensorArray(X.dtype, size=size)
        norms = tf.reduce_sum(C * C, axis=1)

        def body(t, context, bmus, energies):
            context_sq = tf.reduce_sum(context * context, axis=1)
            E = _energies(X[t], context_sq, W, _context_dots(context, C, single), norms, p1, p2)
            bmu = tf.argmin(E, axis=1, output_type=tf.int32)
            kept = E if full else tf.reduce_min(E, axis=1)
            return t + 1, _next_context(kind, E, bmu, W, C, gamma), bmus.write(t, bmu), energies.write(t, kept)

        _, context, bmus, energies = tf.while_loop(
            lambda t, *_: t < n, body, (tf.constant(0), context, bmus, energies)
        )
        return bmus.stack(), energies.stack(), context

    return predict


def empty_context(n_sequences, W, C):
    """The context every sequence starts from: zeros of the context's size."""
    return np.zeros((n_sequences, C.shape[1]), dtype=W.dtype)


def train_blocks(kind, blocks, W, C, coordinates, periods, neighborhood, gamma, device=None):
    """One pass of training over an iterable of time blocks.

    Each block is ``(X, weights, sigmas, rates, mix, n)``: ``X`` of shape
    (block_steps, n_sequences, n_features), ``weights`` (block_steps,
    n_sequences) the relative weights (0 on padding), ``sigmas`` and
    ``rates`` (block_steps,), ``mix`` (block_steps, 2) the two factors of
    the combined distance, ``n`` the steps to run. Blocks follow each other
    in time; the first starts every sequence from the empty context. A
    block may hold fewer sequences than the one before: the first ones of
    it, whose contexts carry on (the others have ended).
    """
    dtype = tf.as_dtype(W.dtype)
    with _scope(device):
        W_t, C_t = tf.constant(W), tf.constant(C)
        coordinates_t = tf.constant(coordinates.astype(W.dtype))
        periods_t = tf.constant(periods.astype(W.dtype))
        gamma_t = tf.constant(gamma, dtype)
        context = None
        for X, weights, sigmas, rates, mix, n in blocks:
            if context is None:
                single = X.shape[1] == 1
                context = tf.constant(empty_context(X.shape[1], W, C))
            # The Gram matrix of the contexts while it is smaller than they are.
            train = _train_fn(
                kind, neighborhood, dtype, X.shape[0] >= XLA_MIN_STEPS, single, X.shape[1] ** 2 <= C.size
            )
            # A narrower block: the sequences that ended are left out (the
            # running ones are the first ones).
            context = context[: X.shape[1]]
            W_t, C_t, context = train(
                tf.constant(X), tf.constant(weights), tf.constant(sigmas), tf.constant(rates),
                tf.constant(mix), W_t, C_t, context, coordinates_t, periods_t, gamma_t,
                tf.constant(n, tf.int32),
            )
        return W_t.numpy(), C_t.numpy()


def predict_blocks(kind, blocks, W, C, p1, p2, gamma, full=False, device=None):
    """BMUs and combined squared distances of every step of an iterable of blocks.

    Returns a list with, for each block ``(X, n)``, ``(bmus, energies)`` of
    its first ``n`` steps: ``bmus`` (n, n_sequences); ``energies`` (n,
    n_sequences, n_units) with ``full``, else the BMU's (n, n_sequences).
    """
    dtype = tf.as_dtype(W.dtype)
    out = []
    with _scope(device):
        W_t, C_t = tf.constant(W), tf.constant(C)
        scalars = [tf.constant(v, dtype) for v in (p1, p2, gamma)]
        context = None
        for X, n in blocks:
            if context is None:
                predict = _predict_fn(kind, dtype, full, X.shape[0] >= XLA_MIN_STEPS, X.shape[1] == 1)
                context = tf.constant(empty_context(X.shape[1], W, C))
            context = context[: X.shape[1]]
            bmus, energies, context = predict(tf.constant(X), W_t, C_t, context, *scalars, tf.constant(n, tf.int32))
            out.append((bmus.numpy()[:n], energies.numpy()[:n]))
    return out
