"""The parameterless SOM (PLSOM; Berglund & Sitte 2006), one sample at a time.

For each sample ``x`` with best-matching unit ``c``, the normalised error
``eps = ||x - w_c||^2 / r`` replaces the learning rate and sets the
neighbourhood width ``Theta(eps) = (beta - theta_min) ln(1 + eps (e - 1)) +
theta_min``; every unit moves by ``eps exp(-d_i^2 / Theta^2) (x - w_i)``, with
``d_i`` its lattice distance to ``c``. ``r`` is either the largest error seen
so far (PLSOM, updated before ``eps`` is taken, so that ``eps <= 1``) or a
fixed normaliser given by the caller: PLSOM2's data diameter, with ``eps =
||x - w_c|| / r`` (the distance, not its square, as in Berglund's own
implementation) capped at 1.

The lattice distances come from the BMU's coordinates at each step
(:func:`sksom._topology.squared_distances_to`): nothing of size
(n_units, n_units) is built.
"""

import functools
import math

import numpy as np
import tensorflow as tf

from .._topology import squared_distances_to
from .device import scope as _scope
from .som import _matrix, _observed, _padded, _padded_length, _vector


@functools.cache
def _plsom_fn(dtype, masked=False, adaptive=True):
    """The PLSOM loop over the first ``n`` rows of a padded chunk, compiled with XLA.

    ``weights`` are the relative sample weights (``w n / sum(w)``): a weight
    scales the step of its sample, the step capped at 1 so that no unit passes
    the sample; a zero weight leaves the map and ``r`` untouched. With
    ``adaptive``, ``r`` grows to the largest error of the samples seen.
    """
    scalar = tf.TensorSpec([], dtype)

    @tf.function(
        input_signature=[
            _matrix(dtype), _matrix(dtype), _matrix(dtype), _vector(dtype), _vector(dtype),
            scalar, scalar, scalar, tf.TensorSpec([], tf.int32),
        ],
        jit_compile=True,
        # Written with tf.while_loop already: AutoGraph would only add tracing time.
        autograph=False,
    )
    def plsom(X, W, coordinates, periods, weights, r, beta, theta_min, n):
        X0, M = _observed(X, masked)
        e_minus_1 = tf.constant(math.e - 1.0, dtype)
        zero = tf.constant(0.0, dtype)

        def body(i, W, r, theta):
            diff = W - X0[i][None, :]
            if M is not None:
                diff = diff * M[i][None, :]
            errors = tf.reduce_sum(diff * diff, axis=1)
            bmu = tf.argmin(errors, output_type=tf.int32)
            error = tf.gather(errors, bmu)
            weight = weights[i]
            if adaptive:
                r = tf.where(weight > 0, tf.maximum(r, error), r)
            # PLSOM2 compares the distance itself (not its square) with the diameter.
            size = error if adaptive else tf.sqrt(error)
            eps = tf.where(r > 0, tf.minimum(size / tf.where(r > 0, r, 1.0), 1.0), zero)
            theta = (beta - theta_min) * tf.math.log1p(eps * e_minus_1) + theta_min
            # tf.gather, not coordinates[bmu]: a slice at a data-dependent
            # index makes XLA recompile the loop for every chunk.
            centre = tf.gather(coordinates, bmu[None])
            d2 = squared_distances_to(coordinates, centre, periods, tf)[0]
            step = tf.minimum(eps * tf.exp(-d2 / (theta * theta)) * weight, 1.0)
            return i + 1, W - step[:, None] * diff, r, theta

        _, W, r, theta = tf.while_loop(
            lambda i, *_: i < n, body, (tf.constant(0), W, r, theta_min)
        )
        return W, r, theta

    return plsom


def plsom_epoch(chunks, W, coordinates, periods, r, beta, theta_min, adaptive=True, device=None, masked=False):
    """PLSOM updates over an iterable of ``(X, relative_weights)`` chunks.

    Rows are visited in the order given. ``r`` is the normaliser at the start
    (0 before any sample: the first sample then sets it). Returns the new
    codebook, the final ``r`` and the last neighbourhood width ``Theta``.
    """
    dtype = tf.as_dtype(W.dtype)
    run = _plsom_fn(dtype, masked, adaptive)
    theta = float(theta_min)
    with _scope(device):
        W_t = tf.constant(W)
        r_t = tf.constant(r, dtype)
        beta_t, theta_min_t = tf.constant(beta, dtype), tf.constant(theta_min, dtype)
        coordinates_t = tf.constant(np.asarray(coordinates, dtype=W.dtype))
        periods_t = tf.constant(np.asarray(periods, dtype=W.dtype))
        for X, weights in chunks:
            n = X.shape[0]
            # One XLA compilation per padded length; padded rows are never visited.
            length = _padded_length(n)
            W_t, r_t, theta_t = run(
                _padded(X, length, 0, W.dtype), W_t, coordinates_t, periods_t, _padded(weights, length, 0, W.dtype),
                r_t, beta_t, theta_min_t, tf.constant(n, tf.int32),
            )
            theta = float(theta_t.numpy())
        return W_t.numpy(), float(r_t.numpy()), theta
