"""SOMClusterer: Kohonen's self-organizing map as a scikit-learn estimator."""

import math
import time
from numbers import Integral

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from . import _plsom
from ._base import BaseMap, LATTICE_PARAMETER_CONSTRAINTS, LatticeMixin, check_memory, engine, initial_codebook, scan_step
from ._data import weighted_statistics
from ._progress import report_epoch
from ._topology import (
    SIGNED_NEIGHBORHOODS,
    BatchSmoothing,
    adjacency,
    check_map_size,
    smoothing_elements,
    smoothing_form,
    unit_coordinates,
)

ALGORITHMS = ("batch", "online", "minibatch", *_plsom.PLSOM_ALGORITHMS)
INITS = ("pca", "random", "sample")

_MINIBATCH_SIZE = 128
# In-memory data up to this size stays on the GPU for all epochs of the batch map.
_RESIDENT_MAX_BYTES = 4 * 2**30
# On the CPU, up to this size (256 MiB): converting each chunk to a tensor
# every epoch costs a copy of the data per epoch; holding the tensors costs one
# copy of memory. Beyond it the copies are small next to an epoch's arithmetic.
_HOST_RESIDENT_MAX_BYTES = 2**28


def _auto_map_size(n_samples, variances, topology):
    """SOM Toolbox heuristic: about ``5 sqrt(n_samples)`` units.

    The side ratio is the square root of the ratio of the two largest
    principal variances, the longer side (rows) along the first component.
    ``n_samples`` is the sum of the sample weights: weights count as sample
    frequencies, so a weight of 2 sizes the map as a repeated sample would.
    """
    n_units = max(1, math.ceil(5.0 * math.sqrt(n_samples)))
    ratio = math.sqrt(variances[0] / variances[1]) if len(variances) > 1 and variances[1] > 0 else float(n_units)
    ratio = min(ratio, float(n_units))
    # Hexagonal rows are sqrt(3)/2 apart, so more rows fit the same height.
    row_step = math.sqrt(0.75) if topology == "hexagonal" else 1.0
    n_columns = max(1, round(math.sqrt(n_units / ratio * row_step)))
    n_rows = max(1, round(n_units / n_columns))
    return n_rows, n_columns


class SOMClusterer(LatticeMixin, BaseMap):
    """Self-organizing map (Kohonen map) as a clusterer and transformer.

    The map is a grid of units, each with a weight vector in the input space.
    Training pulls the best-matching unit (BMU) of each sample, and its
    neighbours on the grid, towards the sample, so that nearby units come to
    represent nearby regions of the data. The computation runs in TensorFlow,
    on a GPU when TensorFlow sees one.

    Parameters
    ----------
    map_size : "auto" or tuple of (int, int), default="auto"
        ``(n_rows, n_columns)`` of the map. ``"auto"`` uses the SOM Toolbox
        heuristic: about ``5 * sqrt(n_samples)`` units, with the side ratio
        given by the square root of the ratio of the two largest principal
        variances of the data.
    topology : {"rectangular", "hexagonal"}, default="rectangular"
        Lattice of the map. Hexagonal maps shift odd rows by half a unit.
    periodic : bool, default=False
        Whether the map wraps around its edges (a torus). A periodic
        hexagonal map needs an even number of rows.
    neighborhood : {"gaussian", "bubble", "triangle", "cut_gaussian", \
            "mexican_hat"}, default="gaussian"
        Neighbourhood function of the lattice distance ``d`` and radius
        ``r``: ``exp(-d^2 / 2r^2)``; 1 for ``d <= r``; ``max(0, 1 - d / r)``;
        the Gaussian set to 0 beyond ``r``; ``(1 - d^2/r^2) exp(-d^2/2r^2)``.
        ``"mexican_hat"`` takes negative values, so it cannot be used with
        ``algorithm="batch"``.
    radius_start : float, default=None
        Neighbourhood radius at the start of training, in lattice units.
        ``None`` means a quarter of the longer side with ``init="pca"`` (the
        map starts ordered) and half of it otherwise; never below
        ``radius_end``. For ``"plsom"`` and ``"plsom2"``, the largest
        neighbourhood width beta, with the same default.
    radius_end : float, default=1.0
        Neighbourhood radius at the end of training. Radii below ``1e-6`` are
        rejected (their square underflows); any radius below 0.1 already
        confines the updates to the best-matching unit. For ``"plsom"`` and
        ``"plsom2"``, the smallest neighbourhood width theta_min.
    radius_decay : {"linear", "exponential", "inverse"}, default="exponential"
        How the radius goes from ``radius_start`` to ``radius_end``. The
        geometric (exponential) default orders the map in the first epochs
        and spends more of them at small radii, where the map fits the data:
        against the linear decay, it lowered the quantization error on the
        four data sets of ``benchmarks/bench_peers.py`` and the topographic
        error on three of them.
    learning_rate_start : float, default=None
        Learning rate at the start. For ``"online"`` and ``"minibatch"`` it
        scales each update (``None`` means 0.5). For ``"batch"`` it blends the
        batch map with the old codebook: ``W <- W + lr * (W_batch - W)``;
        ``None`` means 1, the plain batch map, where the learning rate has no
        effect.
    learning_rate_end : float, default=None
        Learning rate at the end (``None``: 0.01 for ``"online"`` and
        ``"minibatch"``, 1 for ``"batch"``).
    learning_rate_decay : {"linear", "exponential", "inverse"}, \
            default="inverse"
        How the learning rate goes from start to end.
    algorithm : {"batch", "online", "minibatch", "plsom", "plsom2"}, \
            default="batch"
        ``"batch"``: Kohonen's batch map, each unit set to the
        neighbourhood-weighted mean of the data. ``"online"``: the sequential
        rule ``w += lr * h * (x - w)``, one sample at a time in random order.
        ``"minibatch"``: the online rule averaged over mini-batches of
        ``batch_size`` samples. ``"plsom"``: the parameterless SOM (Berglund
        & Sitte 2006), one sample at a time in random order: with ``c`` the
        BMU, ``eps = |x - w_c|^2 / r``, ``r`` the largest such squared error
        seen so far (kept in the private fitted attribute ``_plsom_r``, so
        that :meth:`partial_fit` continues it; a new :meth:`fit` starts
        afresh),
        sets both the step and the width ``Theta = (radius_start -
        radius_end) ln(1 + eps (e - 1)) + radius_end`` of the paper's
        Gaussian: ``w_i += eps exp(-d_i^2 / Theta^2) (x - w_i)``.
        ``"plsom2"`` (Berglund 2010): ``eps = |x - w_c| / r``, the distance
        itself over ``r`` the diameter of the data of each call (the largest
        distance between samples extreme along some feature; ``eps`` capped
        at 1), as in the author's implementation, so that the errors of a
        past transient, such as a shift of the data, do not keep the steps
        small, and small errors still give useful steps.
        Neither resists a far outlier (see the user guide). Both need
        ``neighborhood="gaussian"``, ignore ``learning_rate_start``,
        ``learning_rate_end``, ``learning_rate_decay`` and
        ``radius_decay``, and run ``max_iter`` epochs in :meth:`fit`. A
        sample weight multiplies the sample's step by its weight over the
        mean weight of the call's data, the step capped at 1.
    max_iter : int, default=20
        Number of epochs (passes over the data) of :meth:`fit`; also the
        length of the radius and learning-rate schedules (which
        ``"plsom"`` and ``"plsom2"`` do not have).
    batch_size : int or "auto", default="auto"
        Rows processed at once; bounds memory, since the data is never
        processed whole. For ``"minibatch"`` it is the mini-batch size
        (``"auto"``: 128); otherwise the chunk size (``"auto"``: as many rows
        as keep both the chunk and its block of distances to the units under
        2**24 entries, or 2**25 where that allows up to 4096 rows, and at
        least 256).
    init : {"pca", "random", "sample"} or array-like of shape \
            (n_units, n_features), default="pca"
        ``"pca"``: the plane of the two leading (weighted) principal
        components, deterministic. ``"random"``: uniform in the bounding box
        of the data. ``"sample"``: random samples drawn with probabilities
        proportional to ``sample_weight``. An array gives the codebook.
    n_clusters : int, clusterer or None, default=None
        Second-stage clustering of the codebook. ``None``: each unit is a
        cluster. An int: agglomerative (Ward) clustering of the units into
        that many clusters, each a connected region of the map. A scikit-learn
        clusterer: fitted on the codebook. :meth:`predict` then returns the
        cluster of each sample's BMU.
    device : str, default=None
        TensorFlow device to compute on (``"cpu"``, ``"gpu"``, ``"/GPU:1"``).
        ``None`` lets TensorFlow place the computation (a GPU when visible).
        Asking for a device TensorFlow does not see raises ``ValueError``.
    strategy : {"mirrored", "multi_worker"} or callable, default=None
        Distribute the batch map with ``tf.distribute``: each replica
        accumulates the sums of its share of every chunk and an all-reduce
        adds them, so the codebook equals the one-device result up to float
        rounding. ``"mirrored"``: ``MirroredStrategy`` over all local GPUs;
        ``"multi_worker"``: ``MultiWorkerMirroredStrategy`` across machines,
        configured by ``TF_CONFIG`` (every worker runs the same ``fit`` on the
        same data). A callable (e.g. ``functools.partial`` of a strategy
        class) is called in :meth:`fit` and must return a strategy; the
        strategy is never stored, so the estimator still clones and pickles.
        ``algorithm="batch"`` only.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation and sample order. Pass an int for reproducible
        results.
    verbose : int, default=0
        If positive, print one line per epoch with elapsed time and
        quantization error; on a terminal the lines of one call are redrawn
        as a single progress bar.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_units, n_features)
        Codebook: the weight vector of each unit, in row-major grid order.
    map_size_ : tuple of (int, int)
        Resolved ``(n_rows, n_columns)``.
    unit_coordinates_ : ndarray of shape (n_units, 2)
        Position of each unit in the plane (row, column), hexagonal offsets
        included.
    unit_labels_ : ndarray of shape (n_units,)
        Cluster of each unit; only when ``n_clusters`` is set.
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample (of the last batch for
        :meth:`partial_fit`).
    n_iter_ : int
        Epochs run so far; :meth:`partial_fit` adds one per call.
    quantization_error_ : float
        Mean distance from training samples to their BMU after training.
    topographic_error_ : float
        Share of training samples whose first and second BMUs are not adjacent.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.cluster.KMeans : Clustering without a map topology.
    sksom.metrics.topographic_error : The topographic error of any codebook.

    Examples
    --------
    >>> import numpy as np
    >>> from sksom import SOMClusterer
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    >>> som = SOMClusterer(map_size=(1, 2), random_state=0).fit(X)
    >>> som.predict([[0.0, 0.1], [5.0, 5.1]])
    array([0, 1])
    >>> som.transform([[0.0, 0.0]]).shape
    (1, 2)
    """

    _parameter_constraints = {
        "map_size": [StrOptions({"auto"}), tuple, list],
        **LATTICE_PARAMETER_CONSTRAINTS,
        "algorithm": [StrOptions(set(ALGORITHMS))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "init": [StrOptions(set(INITS)), "array-like"],
        "n_clusters": [Interval(Integral, 1, None, closed="left"), HasMethods(["fit"]), None],
        "device": [str, None],
        "strategy": [StrOptions({"mirrored", "multi_worker"}), callable, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        map_size="auto",
        *,
        topology="rectangular",
        periodic=False,
        neighborhood="gaussian",
        radius_start=None,
        radius_end=1.0,
        radius_decay="exponential",
        learning_rate_start=None,
        learning_rate_end=None,
        learning_rate_decay="inverse",
        algorithm="batch",
        max_iter=20,
        batch_size="auto",
        init="pca",
        n_clusters=None,
        device=None,
        strategy=None,
        random_state=None,
        verbose=0,
    ):
        self.map_size = map_size
        self.topology = topology
        self.periodic = periodic
        self.neighborhood = neighborhood
        self.radius_start = radius_start
        self.radius_end = radius_end
        self.radius_decay = radius_decay
        self.learning_rate_start = learning_rate_start
        self.learning_rate_end = learning_rate_end
        self.learning_rate_decay = learning_rate_decay
        self.algorithm = algorithm
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.init = init
        self.n_clusters = n_clusters
        self.device = device
        self.strategy = strategy
        self.random_state = random_state
        self.verbose = verbose

    # -- validation -----------------------------------------------------------

    def _check_params(self):
        """Checks that ``_parameter_constraints`` cannot express."""
        if self.algorithm == "batch" and self.neighborhood in SIGNED_NEIGHBORHOODS:
            raise ValueError(
                f"neighborhood={self.neighborhood!r} takes negative values, so the "
                "batch map's weighted mean is undefined; use algorithm='online' or "
                "'minibatch', or another neighborhood."
            )
        if self.algorithm in _plsom.PLSOM_ALGORITHMS and self.neighborhood != "gaussian":
            raise ValueError(
                f"algorithm={self.algorithm!r} uses its own Gaussian neighbourhood "
                f"exp(-d^2 / Theta^2); got neighborhood={self.neighborhood!r}. Leave "
                "neighborhood='gaussian' or choose another algorithm."
            )
        self._check_radii()
        self._check_n_clusters()
        if self.strategy is not None and self.algorithm != "batch":
            raise ValueError(
                f"strategy={self.strategy!r} distributes the batch map only; got "
                f"algorithm={self.algorithm!r}, whose updates are sequential."
            )
        if not (isinstance(self.map_size, str)):
            size = tuple(self.map_size)
            if len(size) != 2 or not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in size):
                raise ValueError(
                    "map_size must be 'auto' or a pair of positive ints (n_rows, "
                    f"n_columns); got {self.map_size!r}."
                )
        return self._resolve_device()

    # -- set-up ---------------------------------------------------------------

    def _initial_state(self, data, rng):
        """Map size, unit coordinates and initial codebook for a fresh start."""
        step = scan_step(data.n_features)
        stats = None
        if isinstance(self.map_size, str):
            if not isinstance(self.init, str):
                rows = np.asarray(self.init).shape[0]
                raise ValueError(
                    f"init is an array of {rows} units but map_size='auto'; give "
                    "map_size explicitly with n_rows * n_columns equal to that."
                )
            stats = weighted_statistics(data, step)
            variances = stats[1]
            map_size = _auto_map_size(data.weight_total, variances, self.topology)
        else:
            map_size = tuple(int(s) for s in self.map_size)
        check_map_size(map_size, self.topology, self.periodic)
        self._check_memory(map_size, data)
        coordinates = unit_coordinates(map_size, self.topology)
        n_units = map_size[0] * map_size[1]
        dtype = data.dtype
        if not (isinstance(self.init, str) and self.init == "pca"):
            codebook = initial_codebook(self.init, n_units, data, rng)
        else:
            # "pca": spread the units over the plane of the two leading
            # components, one standard deviation each way, the first component
            # along the longer side of the map.
            mean, values, vectors, _ = stats if stats is not None else weighted_statistics(data, step)
            extent = np.ptp(coordinates, axis=0)
            unit_pos = np.zeros_like(coordinates)
            spread = extent > 0
            unit_pos[:, spread] = (coordinates[:, spread] - coordinates[:, spread].min(axis=0)) / extent[spread] * 2 - 1
            axes = np.argsort(-extent, kind="stable")
            codebook = np.tile(mean, (n_units, 1))
            for component, axis in enumerate(axes[: len(values)]):
                codebook += np.outer(unit_pos[:, axis] * np.sqrt(values[component]), vectors[component])
            codebook = codebook.astype(dtype)
        return map_size, coordinates, codebook

    def _check_memory(self, map_size, data):
        """Raise ValueError, before anything is allocated, if the map cannot fit in memory.

        Counts the codebook (the host copy, its float64 initialisation, the
        device copy and the kernels' new codebook, target and sums), a
        chunk's block of distances to the units and its copies, and the batch
        map's smoothing temporaries (see
        :func:`sksom._topology.smoothing_elements`).
        """
        n_units = map_size[0] * map_size[1]
        n_features = data.n_features
        step = min(self._chunk_size(n_units, n_features), data.n_samples)
        elements = 5 * n_units * n_features + 3 * step * n_units + 3 * step * n_features
        if self.algorithm == "batch":
            form = smoothing_form(self.neighborhood, n_units, data.n_samples)
            elements += smoothing_elements(form, map_size, n_features, step)
        needed = elements * np.dtype(data.dtype).itemsize + 8 * n_units * n_features
        check_memory(
            needed, self._resolve_device(),
            f"a {map_size[0]} x {map_size[1]} map of {n_features} features (chunks of {step} rows)",
            "use a smaller map_size, a smaller batch_size, or float32 data",
        )

    def _default_learning_rates(self):
        return (1.0, 1.0) if self.algorithm == "batch" else (0.5, 0.01)

    def _chunk_size(self, n_units, n_features):
        if self.batch_size == "auto" and self.algorithm == "minibatch":
            return _MINIBATCH_SIZE
        return super()._chunk_size(n_units, n_features)

    # -- training -------------------------------------------------------------

    def _run_epoch(self, data, codebook, map_size, smoothing, epoch, rng, device, strategy, resident=None):
        """One pass over the data starting at ``epoch``.

        ``smoothing`` is the fit's :class:`~sksom._topology.BatchSmoothing`
        (the lattice and, for the batch map, how its neighbourhood is
        applied); ``resident`` optionally holds the batch map's chunks already
        on the device.

        Returns
        -------
        codebook : ndarray of shape (n_units, n_features)
            The codebook after the epoch.
        radius : float
            The neighbourhood radius the epoch ended with.
        """
        kernels = engine()
        step = self._chunk_size(codebook.shape[0], data.n_features)
        dtype = codebook.dtype
        if self.algorithm in _plsom.PLSOM_ALGORITHMS:
            return _plsom.run_epoch(self, kernels, data, codebook, map_size, step, rng, device)
        if self.algorithm == "batch":
            progress = epoch / (self.max_iter - 1) if self.max_iter > 1 else 1.0
            radius, rate = self._schedule(progress, map_size)
            chunks = resident if resident is not None else data.chunks(step, dtype)
            codebook, _ = kernels.batch_epoch(
                chunks, codebook, smoothing.form, smoothing.operands(float(radius), dtype), rate, device,
                data.masked, self.neighborhood, strategy,
            )
            return codebook, float(radius)

        def scheduled(chunks):
            for X, weights, positions in chunks:
                radius, rate = self._schedule((epoch + positions) / self.max_iter, map_size)
                yield X, weights, radius.astype(dtype), rate.astype(dtype)

        chunks = scheduled(data.shuffled_chunks(step, dtype, rng))
        lattice = smoothing.coordinates, smoothing.periods
        if self.algorithm == "online":
            # A sample's step is scaled by its weight, relative to the mean
            # weight of this call's data (as validated; the kernel caps each
            # step at 1).
            rows = ((X, r, lr * w) for X, w, r, lr in chunks)
            codebook = kernels.online_epoch(rows, codebook, *lattice, self.neighborhood, device, data.masked)
        else:
            batches = ((X, w, float(r[0]), float(lr[0])) for X, w, r, lr in chunks)
            codebook = kernels.minibatch_epoch(batches, codebook, *lattice, self.neighborhood, device, data.masked)
        # The radius of the epoch's last row (at position (n - 1) / n).
        last = (epoch + (data.n_samples - 1) / data.n_samples) / self.max_iter
        return codebook, float(self._schedule(last, map_size)[0])

    def _fit(self, data, partial):
        """Shared by :meth:`fit` and :meth:`partial_fit`: set up if needed, train."""
        device = self._check_params()
        strategy = None if self.strategy is None else engine().make_strategy(self.strategy)
        fresh = not (partial and self.__sklearn_is_fitted__())
        if fresh:
            rng = check_random_state(self.random_state)
            map_size, coordinates, codebook = self._initial_state(data, rng)
            n_iter = 0
        else:
            self._check_fitted_lattice(None if isinstance(self.map_size, str) else self.map_size)
            rng = self._random_state
            map_size = self.map_size_
            coordinates = self.unit_coordinates_
            codebook = self.cluster_centers_
            n_iter = self.n_iter_
        if self.algorithm in _plsom.PLSOM_ALGORITHMS:
            _plsom.start_normaliser(self, data, scan_step(data.n_features), fresh)
        # Sparse, O(n_units): nothing of the lattice grows with n_units^2.
        adjacent = adjacency(map_size, self.topology, self.periodic)
        smoothing = BatchSmoothing(map_size, self.topology, self.periodic, self.neighborhood, data.n_samples)
        epochs = 1 if partial else self.max_iter
        resident = self._resident_chunks(data, codebook, device, strategy, epochs)
        start = time.perf_counter()
        for epoch in range(n_iter, n_iter + epochs):
            codebook, radius = self._run_epoch(
                data, codebook, map_size, smoothing, epoch, rng, device, strategy, resident
            )
            if not np.all(np.isfinite(codebook)):
                raise FloatingPointError(
                    "Training produced a non-finite codebook; the learning rate may be "
                    "too large or the data badly scaled."
                )
            if self.verbose:
                qe = self._map_quality(data, codebook, device, adjacent)[1]
                report_epoch(
                    "SOMClusterer", epoch + 1, max(self.max_iter, epoch + 1), radius,
                    qe, time.perf_counter() - start,
                    last=epoch + 1 == n_iter + epochs,
                )
        self._set_fitted(data, codebook, map_size, coordinates, adjacent, n_iter + epochs, rng, device)
        return self

    def _resident_chunks(self, data, codebook, device, strategy, epochs):
        """The batch map's chunks kept on the device across epochs, or None.

        Only for in-memory arrays up to ``_RESIDENT_MAX_BYTES`` on a GPU
        (``_HOST_RESIDENT_MAX_BYTES`` on the CPU): a memory map or sparse
        matrix is read chunk by chunk precisely to bound memory.
        """
        X = data.X
        if (
            self.algorithm != "batch" or strategy is not None or epochs < 2
            or not isinstance(X, np.ndarray) or isinstance(X, np.memmap)
            or X.nbytes > (_RESIDENT_MAX_BYTES if engine().on_gpu(device) else _HOST_RESIDENT_MAX_BYTES)
        ):
            return None
        step = self._chunk_size(codebook.shape[0], data.n_features)
        return engine().resident_chunks(data.chunks(step, codebook.dtype), device)

    def _set_fitted(self, data, codebook, map_size, coordinates, adjacent, n_iter, rng, device):
        """Compute every fitted attribute first, then assign them together."""
        bmus, quantization_error, topographic_error = self._map_quality(data, codebook, device, adjacent)
        unit_labels = self._cluster_units(codebook, adjacent)
        self.cluster_centers_ = codebook
        self.map_size_ = map_size
        self._fitted_lattice = self._fitted_lattice_state(map_size)
        self.unit_coordinates_ = coordinates
        self.n_iter_ = n_iter
        self._random_state = rng
        self.quantization_error_ = quantization_error
        self.topographic_error_ = topographic_error
        self._set_labels(bmus, unit_labels)

    # -- public API -----------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Train the map on ``X`` for ``max_iter`` epochs, from a fresh start.

        ``X`` is read ``batch_size`` rows at a time, so a :class:`numpy.memmap`
        larger than memory trains with bounded memory; sparse matrices are
        densified one chunk at a time; NaN marks a missing value.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. NaN entries are missing values: distances and
            updates use only each sample's observed features.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample: in the batch map a weight of 2
            counts a sample twice, and a weight of 0 ignores it. The online
            rule multiplies a sample's step by its weight relative to the mean
            weight of ``X``, capping each unit's step at 1 so that no unit
            moves past the sample; uniform weights of any size give the
            unweighted result. Mini-batches average their samples' pulls with
            these weights.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit_checked(X, sample_weight, partial=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Run one epoch on ``X``, continuing the schedule of earlier calls.

        The first call initialises the map from ``X``. Each call advances the
        radius and learning-rate schedules by one of ``max_iter`` epochs, so
        calling it ``max_iter`` times on the same data equals :meth:`fit`;
        after that the schedule stays at its end values. To stream one pass
        over ``k`` chunks with the schedule spanning the stream, set
        ``max_iter=k`` and call ``partial_fit`` once per chunk. ``"plsom"``
        has no schedule: each call continues from the largest error of the
        earlier ones (``"plsom2"``: normalises by this call's data). The
        lattice stays the fitted one: a ``map_size`` (other than ``"auto"``),
        ``topology`` or ``periodic`` changed since is a ``ValueError``; call
        :meth:`fit` to train a map on another lattice.

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

    def best_matching_unit(self, X):
        """Index of each sample's best-matching unit (row-major grid order).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        units : ndarray of shape (n_samples,)
            Unit indices; ``np.unravel_index(units, som.map_size_)`` gives the
            grid row and column.
        """
        return super().best_matching_unit(X)

    def best_matching_coordinates(self, X):
        """Position on the map of each sample's best-matching unit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        coordinates : ndarray of shape (n_samples, 2)
            Rows of :attr:`unit_coordinates_` (row, column; hexagonal offsets
            included).
        """
        return self.unit_coordinates_[self.best_matching_unit(X)]
