"""NeuralGas and GrowingNeuralGas: prototype maps whose topology is learned.

Where the SOM fixes its units on a lattice, a neural gas ranks its units by
distance to each sample (Martinetz & Schulten 1991), and learns a graph of
its units by competitive Hebbian learning: each sample connects its nearest
and second-nearest units (Martinetz & Schulten 1994). The growing neural gas
(Fritzke 1995) starts from two units and inserts units where the accumulated
error is largest. Both share :class:`~sksom._base.BaseMap` with the SOM; the
graph, ``edges_``, takes the lattice's place for the topographic error, the
``n_clusters`` stage and the plots.
"""

import time
import warnings
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ._base import BaseMap, engine, initial_codebook, scan_step
from ._data import has_nan
from ._progress import report_epoch
from ._topology import DECAYS

# Edge ages of the online neural gas without ``max_age``: Martinetz &
# Schulten's (1994) schedule T(t) = T_i (T_f / T_i)^(t / t_max), from
# 0.1 n_units to 2 n_units signals.
_MAX_AGE_START_PER_UNIT = 0.1
_MAX_AGE_END_PER_UNIT = 2.0

_exponential = DECAYS["exponential"]


def _edges_from_ages(ages):
    """Symmetric boolean CSR adjacency of a dense age matrix (``-1``: no edge)."""
    return sparse.csr_matrix(ages >= 0)


def _ages_to_sparse(ages):
    """Dense ages as CSR holding ``age + 1`` (so that age 0 is stored)."""
    return sparse.csr_matrix(np.where(ages >= 0, ages + 1.0, 0.0))


def _ages_to_dense(ages, capacity, dtype):
    """Inverse of :func:`_ages_to_sparse`, padded to ``capacity`` units."""
    dense = np.full((capacity, capacity), -1.0, dtype=dtype)
    n = ages.shape[0]
    dense[:n, :n] = ages.toarray() - 1.0
    return dense


def _hebbian_edges(first, second, n_units):
    """Competitive Hebbian graph: an edge between each sample's first and second unit."""
    graph = sparse.coo_matrix((np.ones(len(first), dtype=bool), (first, second)), shape=(n_units, n_units))
    graph = (graph + graph.T).tocsr()
    graph.setdiag(False)
    graph.eliminate_zeros()
    return graph.astype(bool)


class _GasMixin:
    """What the two gases share: data checks, the graph's clusters, the fitted state."""

    def _check_values(self, X, dtype):
        # Ranks and the edges of a sample are undefined without all its
        # features; we reject NaN rather than guess.
        if has_nan(X, scan_step(X.shape[1])):
            raise ValueError(
                f"Input X contains NaN. {type(self).__name__} needs every feature of every "
                "sample; impute missing values first (e.g. sklearn.impute.SimpleImputer)."
            )
        return super()._check_values(X, dtype)

    def _check_cluster_count(self, most_units):
        """Reject an int ``n_clusters`` the gas can never reach, before training."""
        self._check_n_clusters()
        if isinstance(self.n_clusters, Integral) and self.n_clusters > most_units:
            raise ValueError(
                f"n_clusters={self.n_clusters} is larger than the number of units the gas can have "
                f"({most_units})."
            )

    def _cluster_units(self, codebook, adjacent):
        if isinstance(self.n_clusters, str):
            return connected_components(adjacent, directed=False)[1].astype(np.intp)
        n_units = codebook.shape[0]
        if isinstance(self.n_clusters, Integral) and self.n_clusters > n_units:
            # Only a growing gas gets here (see _check_cluster_count): it has
            # not grown enough yet, for example after a first partial_fit.
            warnings.warn(
                f"{type(self).__name__} has {n_units} units, fewer than n_clusters={self.n_clusters}; "
                "each unit is its own cluster until the gas grows.",
                UserWarning,
                stacklevel=2,
            )
            return np.arange(n_units, dtype=np.intp)
        return super()._cluster_units(codebook, adjacent)

    def _ordered_chunks(self, data, step, dtype, rng):
        """``(X, weights)`` chunks, shuffled if ``shuffle``."""
        if self.shuffle:
            return ((X, w) for X, w, _ in data.shuffled_chunks(step, dtype, rng))
        return data.chunks(step, dtype)

    def _signals(self, data, dtype, rng):
        """``(X, weights, positions)`` chunks of the sequential rules, as if the zero-weight samples were absent.

        Those samples are dropped; the others' weights are taken relative to
        the mean of the positive weights, and their positions in the epoch
        (which drive the schedules) count the kept samples only. So a fit
        with some weights 0 equals the fit on the other samples alone (in
        the same order, with ``shuffle=False``).
        """
        step = engine().SIGNAL_CHUNK if self.batch_size == "auto" else int(self.batch_size)
        n_kept = int(np.count_nonzero(data.sample_weight))
        # data.sample_weight is relative to the mean over all rows.
        scale = n_kept / data.n_samples
        done = 0
        for X, w in self._ordered_chunks(data, step, dtype, rng):
            keep = w > 0
            kept = int(np.count_nonzero(keep))
            if kept:
                weights = w[keep] if n_kept == data.n_samples else (w[keep] * scale).astype(dtype)
                yield X[keep], weights, (done + np.arange(kept)) / n_kept
                done += kept

    def _check_finite(self, codebook):
        if not np.all(np.isfinite(codebook)):
            raise FloatingPointError(
                "Training produced a non-finite codebook; the data may be badly scaled."
            )

    def _report(self, epoch, n_epochs, value, data, codebook, device, start, last, label):
        qe = self._map_quality(data, codebook, device, sparse.csr_matrix(codebook.shape[:1] * 2, dtype=bool))[1]
        report_epoch(type(self).__name__, epoch, n_epochs, value, qe, time.perf_counter() - start, last=last, label=label)

    def _set_fitted(self, data, codebook, edges, device, **state):
        """Compute every fitted attribute first, then assign them together."""
        bmus, quantization_error, topographic_error = self._map_quality(data, codebook, device, edges)
        unit_labels = self._cluster_units(codebook, edges)
        self.cluster_centers_ = codebook
        self.edges_ = edges
        self.quantization_error_ = quantization_error
        self.topographic_error_ = topographic_error
        for name, value in state.items():
            setattr(self, name, value)
        self._set_labels(bmus, unit_labels)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


_GAS_DOC_COMMON = """
    n_clusters : int, "connected", clusterer or None, default=None
        Second-stage clustering of the units. ``None``: each unit is a
        cluster. ``"connected"``: the connected components of ``edges_``.
        An int: agglomerative (Ward) clustering of the units into that many
        clusters, with ``edges_`` as connectivity. A scikit-learn clusterer:
        fitted on the codebook. :meth:`predict` then returns the cluster of
        each sample's nearest unit.
    device : str, default=None
        TensorFlow device to compute on (``"cpu"``, ``"gpu"``, ``"/GPU:1"``).
        ``None`` lets TensorFlow place the computation.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation and sample order.
    verbose : int, default=0
        If positive, print one line per epoch with the quantization error.
"""


class NeuralGas(_GasMixin, BaseMap):
    """Neural gas (Martinetz & Schulten) as a clusterer and transformer.

    Every sample moves every unit towards it by a step that decays with the
    unit's distance *rank* ``k`` among the units: ``h(k) = exp(-k / lambda)``,
    with ``lambda`` annealed from ``lambda_start`` to ``lambda_end``
    (``lambda(t) = lambda_start (lambda_end / lambda_start) ** (t / T)``).
    Unlike k-means, far units are pulled into the data early on, which
    avoids dead units and poor local minima. The graph ``edges_`` connects
    each sample's nearest and second-nearest units (competitive Hebbian
    learning), which gives the gas a topology.

    Parameters
    ----------
    n_units : int, default=10
        Number of units (prototypes).
    algorithm : {"batch", "online"}, default="batch"
        ``"batch"`` (Cottrell, Hammer, Hasenfuss & Villmann 2006): each epoch
        sets ``w_i = sum_j h(k_ij) x_j / sum_j h(k_ij)``, ranks computed
        against the previous codebook; ``edges_`` is the competitive Hebbian
        graph of the final codebook over the training data (Martinetz &
        Schulten's induced Delaunay triangulation). ``"online"``: the
        sequential rule ``w_i += eps h(k_i) (x - w_i)``, one sample at a
        time, with edges aged during training (see ``max_age``).
    max_iter : int, default=30
        Epochs (passes over the data); the schedules span them.
    lambda_start : float, default=None
        Neighbourhood range in ranks at the start; ``None`` means
        ``n_units / 2``.
    lambda_end : float, default=0.01
        Neighbourhood range at the end (0.01 makes the last epochs k-means).
    learning_rate_start : float, default=0.5
        Step ``eps`` at the start; ``"online"`` only.
    learning_rate_end : float, default=0.005
        Step at the end; ``"online"`` only.
    max_age : int or None, default=None
        ``"online"`` only. Each sample ages the edges of its nearest unit by
        one, sets its edge to the second-nearest to age 0, and removes the
        nearest unit's edges older than ``max_age``. ``None`` follows
        Martinetz & Schulten (1994): the limit grows from ``0.1 n_units`` to
        ``2 n_units`` with the same exponential schedule.
    init : {"sample", "random"} or array-like of shape (n_units, n_features), \
            default="sample"
        ``"sample"``: samples drawn with probabilities proportional to
        ``sample_weight``. ``"random"``: uniform in the bounding box of the
        data. An array gives the units.
    batch_size : int or "auto", default="auto"
        Rows processed at once (bounds memory). ``"auto"``: as many as keep a
        chunk's block of distances under 2**24 entries (2**25 where that
        allows up to 4096 rows), at least 256.
    shuffle : bool, default=True
        ``"online"``: whether each epoch visits the samples in a random order
        (otherwise in the order given).
""" + _GAS_DOC_COMMON + """
    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_units, n_features)
        The units.
    edges_ : scipy.sparse.csr_matrix of shape (n_units, n_units), dtype=bool
        Symmetric adjacency of the units learned by competitive Hebbian
        learning.
    unit_labels_ : ndarray of shape (n_units,)
        Cluster of each unit; only with ``n_clusters``.
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample.
    n_iter_ : int
        Epochs run; :meth:`partial_fit` adds one per call.
    quantization_error_ : float
        Mean distance from the training samples to their nearest unit.
    topographic_error_ : float
        Share of training samples whose two nearest units share no edge
        (0 for ``"batch"``, whose graph is built from these very pairs).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    GrowingNeuralGas : A gas that inserts units where the error is largest.
    sklearn.cluster.KMeans : The same objective without ranks.

    Examples
    --------
    >>> import numpy as np
    >>> from sksom import NeuralGas
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    >>> gas = NeuralGas(n_units=2, random_state=0).fit(X)
    >>> np.round(gas.cluster_centers_[np.argsort(gas.cluster_centers_[:, 0])], 2)
    array([[0.05, 0.  ],
           [5.05, 5.  ]])
    >>> gas.edges_.toarray()
    array([[False,  True],
           [ True, False]])
    """

    _parameter_constraints = {
        "n_units": [Interval(Integral, 2, None, closed="left")],
        "algorithm": [StrOptions({"batch", "online"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "lambda_start": [Interval(Real, 0, None, closed="neither"), None],
        "lambda_end": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_start": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_end": [Interval(Real, 0, None, closed="neither")],
        "max_age": [Interval(Integral, 0, None, closed="left"), None],
        "init": [StrOptions({"sample", "random"}), "array-like"],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "shuffle": ["boolean"],
        "n_clusters": [Interval(Integral, 1, None, closed="left"), StrOptions({"connected"}), HasMethods(["fit"]), None],
        "device": [str, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_units=10,
        *,
        algorithm="batch",
        max_iter=30,
        lambda_start=None,
        lambda_end=0.01,
        learning_rate_start=0.5,
        learning_rate_end=0.005,
        max_age=None,
        init="sample",
        batch_size="auto",
        shuffle=True,
        n_clusters=None,
        device=None,
        random_state=None,
        verbose=0,
    ):
        self.n_units = n_units
        self.algorithm = algorithm
        self.max_iter = max_iter
        self.lambda_start = lambda_start
        self.lambda_end = lambda_end
        self.learning_rate_start = learning_rate_start
        self.learning_rate_end = learning_rate_end
        self.max_age = max_age
        self.init = init
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.n_clusters = n_clusters
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _schedule(self, progress):
        """Lambda, learning rate and edge age limit at training progress in [0, 1]."""
        progress = np.minimum(progress, 1.0)
        lam_start = self.n_units / 2.0 if self.lambda_start is None else float(self.lambda_start)
        lam = _exponential(lam_start, float(self.lambda_end), progress)
        rate = _exponential(float(self.learning_rate_start), float(self.learning_rate_end), progress)
        if self.max_age is None:
            max_age = _exponential(
                _MAX_AGE_START_PER_UNIT * self.n_units, _MAX_AGE_END_PER_UNIT * self.n_units, progress
            )
        else:
            max_age = np.full_like(np.asarray(progress, dtype=float), float(self.max_age))
        return lam, rate, max_age

    def _batch_lambdas(self, epochs):
        """Lambda of each batch epoch: the schedule spans epochs 0 to ``max_iter - 1``."""
        progress = np.asarray(epochs, dtype=float) / (self.max_iter - 1) if self.max_iter > 1 else np.ones(len(epochs))
        return self._schedule(progress)[0]

    def _fit(self, data, partial):
        device = self._resolve_device()
        online = self.algorithm == "online"
        if online and self.n_units > engine().MAX_CAPACITY:
            raise ValueError(
                f"n_units={self.n_units} exceeds the {engine().MAX_CAPACITY} units supported by "
                "algorithm='online': its edge ages are a dense (n_units, n_units) matrix. "
                "algorithm='batch' has no such limit."
            )
        self._check_cluster_count(self.n_units)
        if partial and self.__sklearn_is_fitted__():
            if self.n_units != self.cluster_centers_.shape[0]:
                raise ValueError(
                    f"n_units={self.n_units} differs from the {self.cluster_centers_.shape[0]} units of the "
                    "fitted gas; partial_fit continues the fitted gas. Call fit to start a new one."
                )
            rng, codebook, n_iter = self._random_state, self.cluster_centers_, self.n_iter_
        else:
            rng = check_random_state(self.random_state)
            codebook = initial_codebook(self.init, self.n_units, data, rng)
            n_iter = 0
        # Only the online rule ages edges while it trains; the batch rule
        # draws its graph at the end, and never holds a dense matrix.
        if not online:
            ages = None
        elif partial and self.__sklearn_is_fitted__():
            ages = _ages_to_dense(self._edge_ages, self.n_units, codebook.dtype)
        else:
            ages = np.full((self.n_units, self.n_units), -1.0, dtype=codebook.dtype)
        epochs = 1 if partial else self.max_iter
        start = time.perf_counter()
        kernels = engine()
        dtype = codebook.dtype
        step = self._chunk_size(self.n_units, data.n_features)
        if self.algorithm == "batch" and epochs > 1 and not self.verbose and data.n_samples <= step:
            # One chunk: every epoch in one compiled call.
            X, w = next(data.chunks(step, dtype))
            codebook = kernels.neural_gas_batch_epochs(X, w, codebook, self._batch_lambdas(range(n_iter, n_iter + epochs)), device)
            self._check_finite(codebook)
            epochs_left = ()
        else:
            epochs_left = range(n_iter, n_iter + epochs)
        for epoch in epochs_left:
            if self.algorithm == "batch":
                lam = float(self._batch_lambdas([epoch])[0])
                codebook = kernels.neural_gas_batch_epoch(data.chunks(step, dtype), codebook, lam, device)
            else:
                last = [0.0]

                def scheduled(chunks, epoch=epoch):
                    for X, r, positions in chunks:
                        lam, rate, max_age = self._schedule((epoch + positions) / self.max_iter)
                        last[0] = float(lam[-1])
                        yield X, r, lam.astype(dtype), rate.astype(dtype), max_age.astype(dtype)

                codebook, ages = kernels.neural_gas_online(
                    scheduled(self._signals(data, dtype, rng)), codebook, ages, device
                )
                lam = last[0]
            self._check_finite(codebook)
            if self.verbose:
                self._report(
                    epoch + 1, max(self.max_iter, epoch + 1), lam, data, codebook, device, start,
                    epoch + 1 == n_iter + epochs, "lambda",
                )
        if self.algorithm == "batch":
            keep = (X[w > 0] for X, w in data.chunks(step, dtype))
            first, second, _ = kernels.best_matching_units(keep, codebook, device)
            edges = _hebbian_edges(first, second, self.n_units)
            # Every edge at age 0, stored as age + 1 (see _ages_to_sparse).
            edge_ages = edges.astype(dtype)
        else:
            edges = _edges_from_ages(ages)
            edge_ages = _ages_to_sparse(ages)
        self._set_fitted(
            data, codebook, edges, device, n_iter_=n_iter + epochs, _random_state=rng, _edge_ages=edge_ages,
        )
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Train the gas on ``X`` for ``max_iter`` epochs, from a fresh start.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; sparse matrices are densified chunk by chunk.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample. ``"batch"`` uses them
            exactly (a weight of 2 counts a sample twice); ``"online"``
            multiplies a sample's step by its weight relative to the mean
            positive weight, each step capped at 1. A weight of 0 is the
            sample's absence (in ``"online"``, the schedules run over the
            other samples).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit_checked(X, sample_weight, partial=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Run one epoch on ``X``, continuing the schedules of earlier calls.

        The first call initialises the units from ``X``. Each call advances
        the schedules by one of ``max_iter`` epochs, so ``max_iter`` calls
        on the same data equal :meth:`fit` (with ``shuffle=False`` for
        ``"online"``); after that the schedules stay at their end values.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample.

        Returns
        -------
        self : object
            Updated estimator.
        """
        return self._fit_checked(X, sample_weight, partial=True)


class GrowingNeuralGas(_GasMixin, BaseMap):
    """Growing neural gas (Fritzke 1995) as a clusterer and transformer.

    The gas starts with two units. Each sample (signal) finds its nearest
    unit ``s1`` and second-nearest ``s2``; ``s1`` accumulates the squared
    distance as error and moves by ``eps_winner`` towards the sample, its
    graph neighbours by ``eps_neighbor``; ``s1``'s edges age, the ``s1--s2``
    edge is set to age 0, edges older than ``max_age`` are removed and so
    are units left without edges. Every ``insertion_interval`` signals a unit
    is inserted halfway between the unit ``q`` of largest error and its
    neighbour ``f`` of largest error, whose errors are multiplied by
    ``error_decay``; every error is multiplied by ``global_error_decay``
    after each signal. The whole loop runs compiled in TensorFlow, over
    units preallocated up to ``max_units``.

    Parameters
    ----------
    max_units : int, default=100
        Most units the gas grows to (at most 4096: the edge ages are a
        dense square matrix).
    max_iter : int, default=10
        Epochs (passes over the data) of :meth:`fit`; each sample is one signal.
    eps_winner : float, default=0.2
        Step of the nearest unit.
    eps_neighbor : float, default=0.006
        Step of the nearest unit's neighbours.
    insertion_interval : int, default=100
        Signals between insertions (Fritzke's lambda).
    max_age : int, default=50
        Edges older than this are removed (a_max).
    error_decay : float, default=0.5
        Factor of the errors of ``q`` and ``f`` at an insertion (alpha).
    global_error_decay : float, default=0.995
        Factor of every error after each signal (d).
    init : "sample" or array-like of shape (n_start, n_features), \
            default="sample"
        ``"sample"``: two samples drawn with probabilities proportional to
        ``sample_weight``. An array gives the starting units (at least 2,
        without edges).
    batch_size : int or "auto", default="auto"
        Signals per compiled call (bounds memory).
    shuffle : bool, default=True
        Whether each epoch presents the samples in a random order (otherwise
        in the order given).
""" + _GAS_DOC_COMMON + """
    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_units_, n_features)
        The units, numbered compactly (removed units leave no gap).
    n_units_ : int
        Number of units.
    edges_ : scipy.sparse.csr_matrix of shape (n_units_, n_units_), dtype=bool
        Symmetric adjacency of the units.
    unit_labels_ : ndarray of shape (n_units_,)
        Cluster of each unit; only with ``n_clusters``.
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample.
    n_iter_ : int
        Epochs run; :meth:`partial_fit` adds one per call.
    n_signals_ : int
        Signals (samples) presented so far.
    quantization_error_ : float
        Mean distance from the training samples to their nearest unit.
    topographic_error_ : float
        Share of training samples whose two nearest units share no edge.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    NeuralGas : A gas with a fixed number of units.

    Examples
    --------
    >>> import numpy as np
    >>> from sksom import GrowingNeuralGas
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 0.1, (200, 2)), rng.normal(3, 0.1, (200, 2))])
    >>> gng = GrowingNeuralGas(max_units=10, insertion_interval=50, n_clusters="connected",
    ...                        random_state=0).fit(X)
    >>> gng.n_units_
    10
    >>> len(np.unique(gng.unit_labels_))
    2
    """

    _parameter_constraints = {
        "max_units": [Interval(Integral, 2, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "eps_winner": [Interval(Real, 0, 1, closed="right")],
        "eps_neighbor": [Interval(Real, 0, 1, closed="both")],
        # Counted in int64 by the kernel.
        "insertion_interval": [Interval(Integral, 1, np.iinfo(np.int64).max, closed="both")],
        "max_age": [Interval(Integral, 0, None, closed="left")],
        "error_decay": [Interval(Real, 0, 1, closed="both")],
        "global_error_decay": [Interval(Real, 0, 1, closed="right")],
        "init": [StrOptions({"sample"}), "array-like"],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "shuffle": ["boolean"],
        "n_clusters": [Interval(Integral, 1, None, closed="left"), StrOptions({"connected"}), HasMethods(["fit"]), None],
        "device": [str, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        max_units=100,
        *,
        max_iter=10,
        eps_winner=0.2,
        eps_neighbor=0.006,
        insertion_interval=100,
        max_age=50,
        error_decay=0.5,
        global_error_decay=0.995,
        init="sample",
        batch_size="auto",
        shuffle=True,
        n_clusters=None,
        device=None,
        random_state=None,
        verbose=0,
    ):
        self.max_units = max_units
        self.max_iter = max_iter
        self.eps_winner = eps_winner
        self.eps_neighbor = eps_neighbor
        self.insertion_interval = insertion_interval
        self.max_age = max_age
        self.error_decay = error_decay
        self.global_error_decay = global_error_decay
        self.init = init
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.n_clusters = n_clusters
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _initial_state(self, data, rng, capacity):
        """Preallocated units, errors, ages and active mask for a fresh start."""
        if isinstance(self.init, str):
            start = initial_codebook("sample", 2, data, rng)
        else:
            start = np.asarray(self.init)
            if start.ndim != 2 or start.shape[0] < 2 or start.shape[0] > self.max_units:
                raise ValueError(
                    f"init has shape {start.shape}; expected (n_start, n_features) with "
                    f"2 <= n_start <= max_units={self.max_units}."
                )
            start = initial_codebook(start, start.shape[0], data, rng)
        W = np.zeros((capacity, data.n_features), dtype=start.dtype)
        W[: len(start)] = start
        active = np.zeros(capacity, dtype=bool)
        active[: len(start)] = True
        ages = np.full((capacity, capacity), -1.0, dtype=start.dtype)
        return W, np.zeros(capacity, dtype=start.dtype), ages, active, 0

    def _continued_state(self, capacity):
        """The fitted state laid out in ``capacity`` slots, units first."""
        n, dtype = self.n_units_, self.cluster_centers_.dtype
        if n > self.max_units:
            raise ValueError(f"max_units={self.max_units} is below the {n} units of the fitted gas.")
        W = np.zeros((capacity, self.n_features_in_), dtype=dtype)
        W[:n] = self.cluster_centers_
        errors = np.zeros(capacity, dtype=dtype)
        errors[:n] = self._unit_errors
        active = np.arange(capacity) < n
        return W, errors, _ages_to_dense(self._edge_ages, capacity, dtype), active, self.n_signals_

    def _fit(self, data, partial):
        device = self._resolve_device()
        if self.max_units > engine().MAX_CAPACITY:
            raise ValueError(
                f"max_units={self.max_units} exceeds the {engine().MAX_CAPACITY} units supported: "
                "the edge ages are held as a dense (max_units, max_units) matrix."
            )
        self._check_cluster_count(self.max_units)
        capacity = engine().gas_capacity(self.max_units)
        if partial and self.__sklearn_is_fitted__():
            rng, n_iter = self._random_state, self.n_iter_
            W, errors, ages, active, signals = self._continued_state(capacity)
        else:
            rng, n_iter = check_random_state(self.random_state), 0
            W, errors, ages, active, signals = self._initial_state(data, rng, capacity)
        params = (
            self.eps_winner, self.eps_neighbor, self.max_age, self.error_decay, self.global_error_decay, self.max_units
        )
        epochs = 1 if partial else self.max_iter
        start = time.perf_counter()
        for epoch in range(n_iter, n_iter + epochs):
            chunks = ((X, r) for X, r, _ in self._signals(data, W.dtype, rng))
            W, errors, ages, active, signals = engine().growing_neural_gas(
                chunks, W, errors, ages, active, signals, params, int(self.insertion_interval), device
            )
            self._check_finite(W[active])
            if self.verbose:
                self._report(
                    epoch + 1, max(self.max_iter, epoch + 1), int(active.sum()), data, W[active], device,
                    start, epoch + 1 == n_iter + epochs, "units",
                )
        # Compact numbering: removed units leave no gap.
        units = np.flatnonzero(active)
        ages = ages[np.ix_(units, units)]
        self._set_fitted(
            data, W[units], _edges_from_ages(ages), device,
            n_units_=len(units), n_iter_=n_iter + epochs, n_signals_=signals, _random_state=rng,
            _unit_errors=errors[units], _edge_ages=_ages_to_sparse(ages),
        )
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Grow the gas on ``X`` for ``max_iter`` epochs, from two units.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; sparse matrices are densified chunk by chunk.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample: it multiplies the sample's
            steps (each capped at 1) and the error it adds, relative to the
            mean positive weight of ``X``. A weight of 0 is the sample's
            absence: it is not a signal.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit_checked(X, sample_weight, partial=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Present ``X`` once more, continuing to grow from the fitted state.

        Units, edges with their ages, errors and the signal count carry
        over, so with ``shuffle=False`` calls on consecutive pieces of a
        stream follow the same steps as one pass over the whole stream,
        given the same starting units (an ``init`` array: ``"sample"``
        draws them from the first call's data).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample.

        Returns
        -------
        self : object
            Updated estimator.
        """
        return self._fit_checked(X, sample_weight, partial=True)
