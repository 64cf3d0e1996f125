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
distortion
    The energy that the SOM minimises: the neighbourhood-weighted squared
    distance of each sample to every unit, around the sample's BMU, averaged
    over the samples (see :func:`distortion`).
combined error
    Kaski and Lagus' measure of quantization and topology together: the
    distance from each sample to its BMU plus the length of the shortest path
    on the map from the BMU to the second BMU, where stepping between two
    adjacent units costs the distance between their weight vectors
    (see :func:`combined_error`).
temporal quantization error
    For sequences: TQE(j), the RMS distance of the input ``j`` steps back
    to the mean of those inputs over the steps the same unit wins (see
    :func:`temporal_quantization_error`).
mixture BIC
    The Bayesian information criterion of the codebook read as a Gaussian
    mixture; unlike the errors above it does not always favour a larger map,
    so it can select the map size (see :func:`mixture_bic` and
    :func:`map_size_scorer`).
"""

import numbers

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import shortest_path
from scipy.special import logsumexp
from sklearn.utils import check_array

from ._data import working_origin
from ._topology import (
    NEIGHBORHOODS,
    adjacency,
    are_adjacent,
    lattice_edges,
    lattice_periods,
    squared_distances_to,
    unit_coordinates,
)
from .utils import map_input

_CHUNK_ELEMENTS = 2**22  # distance-matrix entries computed at once


def _chunks(n_samples, n_units):
    step = max(1, _CHUNK_ELEMENTS // max(1, n_units))
    for start in range(0, n_samples, step):
        yield slice(start, min(start + step, n_samples))


def _moved(codebook):
    """The codebook around a point near its units, and that point.

    Distances are computed around it, as the estimators compute them: far
    from the origin the matmul form loses the digits that tell units apart.
    Once per call; each chunk of rows then moves by the same point.
    """
    origin = working_origin(codebook)
    return codebook - origin, origin


def _squared_distances(X, moved, origin):
    """Squared distances from the rows of ``X`` to the units of ``moved`` (see :func:`_moved`)."""
    X = X - origin
    sq = (X * X).sum(axis=1)[:, None] - 2.0 * X @ moved.T + (moved * moved).sum(axis=1)[None, :]
    return np.maximum(sq, 0.0)


def _bmus(X, codebook, k):
    """Indices of the ``k`` nearest units (nearest first) and the nearest distance."""
    X = check_array(X, dtype=[np.float64, np.float32])
    codebook = check_array(codebook, dtype=X.dtype)
    if X.shape[1] != codebook.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but the codebook has {codebook.shape[1]}.")
    k = min(k, codebook.shape[0])
    order = np.empty((X.shape[0], k), dtype=np.intp)
    nearest = np.empty(X.shape[0], dtype=X.dtype)
    moved = _moved(codebook)
    for rows in _chunks(X.shape[0], codebook.shape[0]):
        sq = _squared_distances(X[rows], *moved)
        part = np.argpartition(sq, k - 1, axis=1)[:, :k] if k < sq.shape[1] else np.tile(np.arange(k), (sq.shape[0], 1))
        part_d = np.take_along_axis(sq, part, axis=1)
        # ties broken by unit index, as argmin does
        idx = np.lexsort((part, part_d), axis=1)
        order[rows] = np.take_along_axis(part, idx, axis=1)
        nearest[rows] = np.sqrt(np.take_along_axis(sq, order[rows, :1], axis=1)[:, 0])
    return order, nearest


def _check_codebook(codebook, map_size):
    """The codebook as a 2-D array, checked against ``map_size``."""
    codebook = np.asarray(codebook)
    if codebook.ndim != 2:
        raise ValueError(f"codebook must be 2-D (n_units, n_features); got shape {codebook.shape}.")
    if len(tuple(map_size)) != 2 or int(np.prod(map_size)) != codebook.shape[0]:
        raise ValueError(
            f"map_size={tuple(map_size)} has {int(np.prod(map_size))} units but "
            f"the codebook has {codebook.shape[0]} rows."
        )
    return codebook


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
    adjacent : {ndarray, sparse matrix} of shape (n_units, n_units), dtype=bool
        Adjacency of the units: the lattice's (:func:`sksom._topology.adjacency`,
        sparse) or a gas's ``edges_``; a dense boolean array is accepted too.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples.

    Returns
    -------
    error : float
        Share of samples whose two BMUs are not adjacent.
    """
    if adjacent.shape[0] < 2:
        return 0.0
    return _weighted_mean(~are_adjacent(adjacent, first, second), sample_weight)


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
    codebook = _check_codebook(codebook, map_size)
    order, _ = _bmus(X, codebook, k=2)
    adjacent = adjacency(map_size, topology, periodic)
    return topographic_error_from_bmus(order[:, 0], order[:, -1], adjacent, sample_weight=sample_weight)


def distortion(
    X,
    codebook,
    map_size,
    *,
    topology="rectangular",
    periodic=False,
    neighborhood="gaussian",
    radius=1.0,
    sample_weight=None,
):
    """SOM energy: neighbourhood-weighted squared distances around the BMU.

    For samples :math:`x_i` with best-matching units :math:`c_i`,

    .. math::

        E = \\frac{1}{\\sum_i s_i} \\sum_i s_i \\sum_j h(d(c_i, j), r)
            \\, \\lVert x_i - w_j \\rVert^2

    where :math:`h` is the neighbourhood function, :math:`d` the lattice
    distance, :math:`r` the radius and :math:`s_i` the sample weights (all 1
    by default, giving the mean over samples). The neighbourhood weights are
    not normalised, so a bubble of radius 0 < r < 1 gives the mean squared
    quantization error. This is the energy that the batch map decreases at a
    fixed radius; pass the final radius of training (``radius_end``) to
    measure a fitted map.

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
    neighborhood : {"gaussian", "bubble", "triangle", "cut_gaussian", \
            "mexican_hat"}, default="gaussian"
        Neighbourhood function, as in :class:`~sksom.SOMClusterer`.
    radius : float, default=1.0
        Neighbourhood radius in lattice units.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples.

    Returns
    -------
    energy : float
        Weighted mean over samples of the neighbourhood-weighted sum of
        squared distances.

    Examples
    --------
    >>> from sksom.metrics import distortion
    >>> X = [[0.0], [3.0]]
    >>> codebook = [[0.0], [2.0]]
    >>> distortion(X, codebook, (1, 2), neighborhood="bubble", radius=0.5)
    0.5
    >>> distortion(X, codebook, (1, 2), neighborhood="bubble", radius=1.0)
    7.0
    """
    if neighborhood not in NEIGHBORHOODS:
        raise ValueError(f"neighborhood must be one of {sorted(NEIGHBORHOODS)}; got {neighborhood!r}.")
    if not (np.isscalar(radius) and np.isreal(radius) and radius > 0):
        raise ValueError(f"radius must be a positive number; got {radius!r}.")
    codebook = _check_codebook(codebook, map_size)
    X = check_array(X, dtype=[np.float64, np.float32])
    codebook = check_array(codebook, dtype=np.float64)
    if X.shape[1] != codebook.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but the codebook has {codebook.shape[1]}.")
    coordinates = unit_coordinates(map_size, topology)
    periods = lattice_periods(map_size, topology, periodic)
    energy = np.empty(X.shape[0])
    moved = _moved(codebook)
    for rows in _chunks(X.shape[0], codebook.shape[0]):
        sq = _squared_distances(X[rows].astype(np.float64), *moved)
        # ties broken by unit index, as everywhere else in sksom; the
        # neighbourhood rows of the chunk's BMUs only, never all of H
        centres = coordinates[sq.argmin(axis=1)]
        h = NEIGHBORHOODS[neighborhood](squared_distances_to(coordinates, centres, periods), float(radius))
        energy[rows] = (h * sq).sum(axis=1)
    return _weighted_mean(energy, sample_weight)


def combined_error(X, codebook, map_size, *, topology="rectangular", periodic=False, sample_weight=None):
    """Kaski and Lagus' combined quantization and topology error.

    For each sample, the distance to its BMU plus the length of the shortest
    path on the map from the BMU to the second BMU, where a step between two
    adjacent units (see :func:`sksom._topology.adjacency`) costs the
    Euclidean distance between their weight vectors; averaged over samples.
    A folded map, whose second BMU lies far away on the grid, pays for the
    whole detour through the codebook, so the error grows with folds even
    when the quantization error is small. On a map with a single unit it
    equals the quantization error.

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
        Weighted mean over samples; in the units of ``X``.

    References
    ----------
    S. Kaski and K. Lagus, "Comparing self-organizing maps", ICANN 1996.

    Examples
    --------
    >>> from sksom.metrics import combined_error
    >>> codebook = [[0.0], [1.0], [3.0]]
    >>> combined_error([[0.0]], codebook, (1, 3))
    1.0
    >>> combined_error([[0.0]], [[0.0], [3.0], [1.0]], (1, 3))
    5.0
    """
    codebook = _check_codebook(codebook, map_size)
    order, nearest = _bmus(X, codebook, k=2)
    if codebook.shape[0] < 2:
        return _weighted_mean(nearest, sample_weight)
    codebook = np.asarray(codebook, dtype=np.float64)
    i, j = lattice_edges(map_size, topology, periodic)
    # A sparse graph keeps edges between identical units, whose cost is 0.
    costs = np.linalg.norm(codebook[i] - codebook[j], axis=1)
    graph = sparse.csr_matrix((costs, (i, j)), shape=(codebook.shape[0],) * 2)
    first, second = order[:, 0], order[:, -1]
    sources, inverse = np.unique(first, return_inverse=True)
    paths = shortest_path(graph, directed=False, indices=sources)
    # A connected lattice always has a path; a 1-row periodic map too.
    return _weighted_mean(nearest + paths[inverse, second], sample_weight)


def mixture_bic(X, codebook, *, sample_weight=None, max_iter=100, tol=1e-6):
    """Bayesian information criterion of the codebook read as a Gaussian mixture.

    Each unit is taken as the mean of an isotropic Gaussian component; the
    components share one variance :math:`\\sigma^2`. With the means fixed to
    the codebook, the mixing weights and the variance are fitted to ``X`` by
    expectation-maximisation, starting from the hit frequencies and the mean
    squared quantization error. The criterion is

    .. math::

        \\mathrm{BIC} = -2 \\log L + p \\log n, \\qquad
        p = n_\\mathrm{units} (n_\\mathrm{features} + 1),

    counting the codebook, the ``n_units - 1`` free mixing weights and the
    variance; ``n`` is the sum of the sample weights (the number of samples
    by default). Lower is better.

    Adding units always lowers the quantization error, but it only raises
    the likelihood where the data has structure at a finer scale than the
    current units resolve: splitting a Gaussian blob between two units, or
    placing units in the empty space between blobs, buys little likelihood
    and pays ``(n_features + 1) log n`` per unit. The criterion therefore has
    a minimum at a finite map size.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data.
    codebook : array-like of shape (n_units, n_features)
        Unit weight vectors.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights, counted as repetitions of the samples.
    max_iter : int, default=100
        Most EM iterations.
    tol : float, default=1e-6
        Stop when the mean log-likelihood per sample changes by less.

    Returns
    -------
    bic : float
        The criterion; lower is better.

    See Also
    --------
    map_size_scorer : This criterion as a scorer for model selection.
    sklearn.mixture.GaussianMixture.bic : The same criterion for a mixture
        whose means are fitted too.

    Examples
    --------
    >>> import numpy as np
    >>> from sksom.metrics import mixture_bic
    >>> rng = np.random.RandomState(0)
    >>> X = np.concatenate([rng.normal(0, 1, (100, 2)), rng.normal(10, 1, (100, 2))])
    >>> one_per_blob = [[0.0, 0.0], [10.0, 10.0]]
    >>> two_per_blob = [[-0.5, 0.0], [0.5, 0.0], [9.5, 10.0], [10.5, 10.0]]
    >>> bool(mixture_bic(X, one_per_blob) < mixture_bic(X, two_per_blob))
    True
    """
    mean_log_lik, total = _mixture_log_likelihood(X, codebook, sample_weight, max_iter, tol)
    return -2.0 * mean_log_lik * total + _mixture_n_params(codebook) * np.log(total)


def _mixture_n_params(codebook):
    # means, n_units - 1 free mixing weights and the shared variance
    n_units, n_features = np.shape(codebook)
    return n_units * (n_features + 1)


def _mixture_log_likelihood(X, codebook, sample_weight=None, max_iter=100, tol=1e-6):
    """Mean log-likelihood per sample of the mixture of :func:`mixture_bic`.

    Returns the (weighted) mean log-likelihood and the total sample weight.
    """
    X = check_array(X, dtype=np.float64)
    codebook = check_array(codebook, dtype=np.float64)
    if X.shape[1] != codebook.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but the codebook has {codebook.shape[1]}.")
    n_units, n_features = codebook.shape
    weights = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if weights.shape != (X.shape[0],) or np.any(weights < 0) or not weights.sum() > 0:
        raise ValueError("sample_weight must be non-negative, of shape (n_samples,), with a positive sum.")
    total = weights.sum()
    moved = _moved(codebook)
    sq = np.vstack([_squared_distances(X[rows], *moved) for rows in _chunks(X.shape[0], n_units)])
    bmu = sq.argmin(axis=1)
    mixing = np.bincount(bmu, weights=weights, minlength=n_units) / total
    # A floor keeps the likelihood finite when every sample sits on a unit.
    floor = np.finfo(np.float64).eps * max(1.0, float(np.average((X * X).sum(axis=1), weights=weights)))
    variance = max(float(weights @ sq[np.arange(X.shape[0]), bmu]) / (total * n_features), floor)
    previous = -np.inf
    # Units without responsibility get a mixing weight of 0: log(0) = -inf is
    # what logsumexp expects there.
    with np.errstate(divide="ignore"):
        for _ in range(max_iter):
            log_resp = np.log(mixing) - sq / (2.0 * variance) - 0.5 * n_features * np.log(2.0 * np.pi * variance)
            log_lik = logsumexp(log_resp, axis=1)
            mean_log_lik = float(weights @ log_lik) / total
            if mean_log_lik - previous < tol:
                break
            previous = mean_log_lik
            resp = np.exp(log_resp - log_lik[:, None]) * weights[:, None]
            mixing = resp.sum(axis=0) / total
            variance = max(float((resp * sq).sum()) / (total * n_features), floor)
    return mean_log_lik, total


def map_size_scorer(estimator, X, y=None):
    """Scorer that selects the map size: a per-sample BIC of the codebook.

    Use it as ``GridSearchCV(som, {"map_size": [...]}, scoring=map_size_scorer)``.
    The estimator's own :meth:`~sksom.SOMClusterer.score` (minus the
    quantization error) improves with every unit added, so it always picks
    the largest map. This scorer reads the codebook as a Gaussian mixture
    (see :func:`mixture_bic`) and returns

    .. math::

        2 \\bar\\ell(X) - p \\frac{\\log n}{n}

    where :math:`\\bar\\ell(X)` is the mean log-likelihood of the samples
    in ``X`` (in cross-validation, the held-out fold), :math:`p` the number
    of parameters and :math:`n` the number of samples the map was trained on
    (the length of ``labels_``). That is minus the BIC of the training set
    divided by its size, with the likelihood measured on ``X``; on the
    training data it equals ``-mixture_bic(X, codebook) / n``.

    It prefers the smallest map that resolves the structure of the data. On
    well-separated Gaussian blobs it picks the smallest map that can put a
    unit on every blob despite the pull of the final neighbourhood (with
    the default ``radius_end=1`` that is a 4 x 4 map for four blobs, not
    2 x 2, whose units are pulled between the blobs); larger maps only split
    blobs or fill the empty space between them. On data spread over a
    continuum (a 2-D manifold, digits) the best map grows with the number of
    samples, since more data pays for more detail.

    Parameters
    ----------
    estimator : SOMClusterer or Pipeline
        A fitted map, or a pipeline ending in one; ``X`` goes through the
        preceding steps first.
    X : array-like of shape (n_samples, n_features)
        Evaluation data.
    y : Ignored
        Not used, present for API consistency by convention.

    Returns
    -------
    score : float
        Higher is better.

    Notes
    -----
    After :meth:`~sksom.SOMClusterer.partial_fit`, ``labels_`` holds only the
    last batch, so the penalty is that of a training set of that size.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sksom import SOMClusterer
    >>> from sksom.metrics import map_size_scorer
    >>> centers = [[0, 0], [0, 20], [20, 0], [20, 20]]
    >>> X, _ = make_blobs(400, centers=centers, random_state=0)
    >>> search = GridSearchCV(
    ...     SOMClusterer(random_state=0),
    ...     {"map_size": [(2, 2), (4, 4), (8, 8), (12, 12)]},
    ...     scoring=map_size_scorer,
    ... ).fit(X)
    >>> search.best_params_["map_size"]
    (4, 4)
    """
    som, X = map_input(estimator, X)
    mean_log_lik, _ = _mixture_log_likelihood(X, som.cluster_centers_)
    n_train = np.shape(som.labels_)[0]
    return 2.0 * mean_log_lik - _mixture_n_params(som.cluster_centers_) * np.log(n_train) / n_train


def temporal_quantization_error(X, labels, *, max_lag, lengths=None):
    """How well the units of a sequence map stand for the inputs before them.

    For lag ``j``, take every step ``t`` that has a step ``t - j`` in its
    sequence; each unit's mean of ``x(t - j)`` over the steps ``t`` it wins
    is its receptive field at lag ``j``. TQE(j) is the root mean square
    distance of ``x(t - j)`` to the field of the unit of ``t``. TQE(0) is the
    RMS quantization error against the mean of each unit's inputs; a map
    that remembers the past keeps TQE(j) low for ``j > 0`` (Voegtlin 2002).
    Lags never cross a sequence boundary.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The concatenated sequences, one step per row.
    labels : array-like of shape (n_samples,)
        Unit (BMU) of each step, e.g. ``RecursiveSOM.predict(X, lengths)``.
    max_lag : int
        Largest lag ``j``.
    lengths : array-like of int of shape (n_sequences,), default=None
        Length of each sequence, summing to ``n_samples``; ``None``: one
        sequence.

    Returns
    -------
    tqe : ndarray of shape (max_lag + 1,)
        TQE(j) for j = 0 ... max_lag; NaN for a lag longer than every
        sequence.

    Examples
    --------
    >>> from sksom.metrics import temporal_quantization_error
    >>> X = [[0.0], [1.0], [0.0], [3.0]]
    >>> temporal_quantization_error(X, [0, 1, 0, 1], max_lag=1)
    array([0.70710678, 0.        ])
    """
    from ._sequence import check_lengths, step_positions

    X = check_array(X, dtype=np.float64)
    labels = np.asarray(labels)
    if labels.shape != (X.shape[0],):
        raise ValueError(f"labels has shape {labels.shape}; expected ({X.shape[0]},), one unit per row of X.")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integer unit indices; got dtype {labels.dtype}.")
    if not (isinstance(max_lag, numbers.Integral) and not isinstance(max_lag, (bool, np.bool_)) and max_lag >= 0):
        raise ValueError(f"max_lag must be a non-negative int; got {max_lag!r}.")
    if max_lag >= X.shape[0]:
        # No step has a past that far back; the result would be all NaN there.
        raise ValueError(
            f"max_lag={max_lag} is not below the {X.shape[0]} steps of X: no step has a past "
            f"that far back. Use max_lag < {X.shape[0]} (the longest sequence minus 1 at most)."
        )
    positions = step_positions(check_lengths(lengths, X.shape[0]))
    _, units = np.unique(labels, return_inverse=True)
    n_units = units.max() + 1
    tqe = np.full(max_lag + 1, np.nan)
    for lag in range(max_lag + 1):
        steps = np.flatnonzero(positions >= lag)
        if steps.size == 0:
            break
        past, owner = X[steps - lag], units[steps]
        counts = np.bincount(owner, minlength=n_units)
        sums = np.zeros((n_units, X.shape[1]))
        np.add.at(sums, owner, past)
        means = sums / np.maximum(counts, 1)[:, None]
        tqe[lag] = np.sqrt(np.mean(np.sum((past - means[owner]) ** 2, axis=1)))
    return tqe
