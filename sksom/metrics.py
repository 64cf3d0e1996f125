"""Quality measures of a self-organizing map.

All functions are array-first, like :mod:`sklearn.metrics`: they take the data,
the codebook (``cluster_centers_``, one row per unit in row-major grid order)
and, where the lattice matters, its ``map_size``, ``topology`` and
``periodic`` flag. They are plain NumPy and work in chunks of rows, so memory
stays bounded on large data.

Definitions
-----------
quantization error
    Mean Euclidean distance from each sample to its best-matching unit (BMU),
    the unit whose weight vector is closest.
topographic error
    Share of samples whose first and second BMUs are not adjacent on the
    lattice. Adjacent means one lattice step apart: the 4 edge neighbours on a
    rectangular lattice, the 6 neighbours on a hexagonal one, wrapping around
    on a torus (see :func:`sksom._topology.adjacency`). A map with a single
    unit has a topographic error of 0.
"""

import numpy as np
from sklearn.utils import check_array

from ._topology import adjacency

_CHUNK_ELEMENTS = 2**22  # distance-matrix entries computed at once


def _chunks(n_samples, n_units):
    step = max(1, _CHUNK_ELEMENTS // max(1, n_units))
    for start in range(0, n_samples, step):
        yield slice(start, min(start + step, n_samples))


def _squared_distances(X, codebook):
    sq = (X * X).sum(axis=1)[:, None] - 2.0 * X @ codebook.T + (codebook * codebook).sum(axis=1)[None, :]
    return np.maximum(sq, 0.0)


def _bmus(X, codebook, k):
    """Indices of the ``k`` nearest units (nearest first) and the nearest distance."""
    X = check_array(X, dtype=[np.float64, np.float32])
    codebook = check_array(codebook, dtype=X.dtype)
    if X.shape[1] != codebook.shape[1]:
        raise ValueError(
            f"X has {X.shape[1]} features but the codebook has {codebook.shape[1]}."
        )
    k = min(k, codebook.shape[0])
    order = np.empty((X.shape[0], k), dtype=np.intp)
    nearest = np.empty(X.shape[0], dtype=X.dtype)
    for rows in _chunks(X.shape[0], codebook.shape[0]):
        sq = _squared_distances(X[rows], codebook)
        part = np.argpartition(sq, k - 1, axis=1)[:, :k] if k < sq.shape[1] else np.tile(np.arange(k), (sq.shape[0], 1))
        part_d = np.take_along_axis(sq, part, axis=1)
        # ties broken by unit index, as argmin does
        idx = np.lexsort((part, part_d), axis=1)
        order[rows] = np.take_along_axis(part, idx, axis=1)
        nearest[rows] = np.sqrt(np.take_along_axis(sq, order[rows, :1], axis=1)[:, 0])
    return order, nearest


def _weighted_mean(values, sample_weight):
    return float(np.average(values, weights=sample_weight))


def quantization_error(X, codebook, *, sample_weight=None):
    """Mean distance from each sample to its best-matching unit.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data.
    codebook : array-like of shape (n_units, n_features)
        Unit weight vectors.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples in the mean.

    Returns
    -------
    error : float
        The (weighted) mean Euclidean distance.

    Examples
    --------
    >>> from sksom.metrics import quantization_error
    >>> quantization_error([[0.0], [3.0]], [[1.0], [2.0]])
    1.0
    """
    _, nearest = _bmus(X, codebook, k=1)
    return _weighted_mean(nearest, sample_weight)


def topographic_error_from_bmus(first, second, adjacent, *, sample_weight=None):
    """Topographic error from precomputed first and second BMUs.

    Parameters
    ----------
    first, second : ndarray of shape (n_samples,)
        Indices of the first and second best-matching units.
    adjacent : ndarray of shape (n_units, n_units), dtype=bool
        Lattice adjacency, as returned by :func:`sksom._topology.adjacency`.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples.

    Returns
    -------
    error : float
        Share of samples whose two BMUs are not adjacent.
    """
    if adjacent.shape[0] < 2:
        return 0.0
    return _weighted_mean(~adjacent[first, second], sample_weight)


def topographic_error(X, codebook, map_size, *, topology="rectangular", periodic=False, sample_weight=None):
    """Share of samples whose first and second BMUs are not adjacent.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data.
    codebook : array-like of shape (n_units, n_features)
        Unit weight vectors in row-major grid order.
    map_size : tuple of (int, int)
        ``(n_rows, n_columns)`` with ``n_rows * n_columns == n_units``.
    topology : {"rectangular", "hexagonal"}, default="rectangular"
        Lattice type.
    periodic : bool, default=False
        Whether the map wraps around its edges.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples.

    Returns
    -------
    error : float
        In [0, 1].

    Examples
    --------
    >>> from sksom.metrics import topographic_error
    >>> codebook = [[0.0], [1.0], [2.0]]
    >>> topographic_error([[0.4], [1.6]], codebook, (1, 3))
    0.0
    >>> topographic_error([[0.4], [1.6]], [[0.0], [2.0], [1.0]], (1, 3))
    0.5
    """
    codebook = np.asarray(codebook)
    if int(np.prod(map_size)) != codebook.shape[0]:
        raise ValueError(
            f"map_size={tuple(map_size)} has {int(np.prod(map_size))} units but "
            f"the codebook has {codebook.shape[0]} rows."
        )
    order, _ = _bmus(X, codebook, k=2)
    adjacent = adjacency(map_size, topology, periodic)
    return topographic_error_from_bmus(order[:, 0], order[:, -1], adjacent, sample_weight=sample_weight)
