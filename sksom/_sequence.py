"""RecursiveSOM: self-organizing maps of sequences (recursive and merge contexts).

Sequences follow hmmlearn's convention: ``X`` holds the concatenated
sequences, one time step per row, and ``lengths`` the length of each
(``None``: ``X`` is one sequence). Training processes step ``t`` of every
sequence together (see :mod:`sksom._engine.sequence`), so many short
sequences train in parallel and one long sequence runs as one compiled loop
over time.
"""

import time
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._base import (
    BaseMap,
    LATTICE_PARAMETER_CONSTRAINTS,
    LatticeMixin,
    check_sample_weight,
    check_value_range,
    engine,
    relative_weights,
    rollback_on_error,
    scan_step,
)
from ._data import max_abs
from ._progress import report_epoch
from ._topology import check_map_size, lattice_periods, unit_coordinates

CONTEXTS = ("recursive", "merge")
INITS = ("random", "sample")

# The recursive context codebook is n_units x n_units; training holds a few
# arrays of that size, so the codebook alone may take at most this much.
_RECURSIVE_MAX_BYTES = 2**30
# Entries of one padded time block (steps x sequences x features) handed to
# the engine at once; it bounds the memory of the padding.
_BLOCK_ELEMENTS = 2**22
_BLOCK_MAX_STEPS = 2**13


def check_lengths(lengths, n_samples):
    """Validated sequence lengths (int64) summing to ``n_samples``.

    ``None`` means one sequence of all the rows.
    """
    if lengths is None:
        return np.array([n_samples], dtype=np.int64)
    array = np.asarray(lengths)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"lengths must be a non-empty 1-D array of sequence lengths; got shape {array.shape}."
        )
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"lengths must be integers (one length per sequence); got dtype {array.dtype}.")
    if (array <= 0).any():
        bad = int(array[array <= 0][0])
        raise ValueError(f"lengths must be positive: every sequence has at least one step; got {bad}.")
    # Each length at most n_samples and at most n_samples of them: the sum
    # cannot overflow int64 (it would wrap round to a value that may match).
    if array.size > n_samples or (array > n_samples).any():
        raise ValueError(
            f"lengths sum to more than the {n_samples} rows of X; lengths must add up to "
            "the number of rows of X (the concatenated sequences)."
        )
    total = int(array.astype(np.int64).sum())
    if total != n_samples:
        raise ValueError(
            f"lengths sum to {total}, but X has {n_samples} rows; lengths must add up to "
            "the number of rows of X (the concatenated sequences)."
        )
    return array.astype(np.int64)


def step_positions(lengths):
    """Position of each row within its sequence (0 at every sequence start)."""
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(int(lengths.sum())) - starts


class _Layout:
    """Where each row of the concatenated sequences sits in the lockstep blocks.

    Sequences are ordered longest first, so that the sequences still running
    at any step are a prefix of that order. Step ``t`` of the ``j``-th
    sequence in it is row ``starts[j] + t`` of ``X`` while ``t`` is below
    its length (:meth:`block_index`; computed per block, so that memory
    stays within a block's size, however uneven the lengths).

    Time is cut into blocks of :meth:`block_steps` steps (a power of two,
    so that XLA compiles for a few shapes only). A block holds only the
    sequences still running at its first step, its width, and it ends early
    where the sequences still running fall to half its width or fewer: the
    next block is then narrower (and may be longer). Sequences that have
    ended are left out, not padded, which changes nothing in the results
    (their padded steps move nothing) but keeps the cost near the number of
    steps, however uneven the lengths.
    """

    def __init__(self, lengths, n_features):
        self.lengths = lengths
        self.n_steps = int(lengths.max())
        # Longest first; ties keep the order of X (a stable sort).
        self.order = np.argsort(-lengths, kind="stable")
        ordered = self._ordered = lengths[self.order]
        self._starts = (np.cumsum(lengths) - lengths)[self.order]
        self._n_features = max(1, n_features)
        # (start, steps, width) of each block. running[t]: sequences at step t.
        running = np.searchsorted(-ordered, -np.arange(self.n_steps), side="left")
        self.spans = []
        start = 0
        while start < self.n_steps:
            width = int(running[start])
            stop = min(start + self.block_steps(width), self.n_steps)
            if width > 1:
                # The first step from which half the width or fewer still run.
                stop = min(stop, start + 1 + int(np.searchsorted(-running[start + 1 : stop], -(width // 2), side="left")))
            self.spans.append((start, stop - start, width))
            start = stop

    def block_steps(self, width):
        """Steps of a block of ``width`` sequences: a power of two, its arrays within ``_BLOCK_ELEMENTS``.

        Narrower blocks run longer, so that a long sequence left alone runs
        in long (compiled) blocks.
        """
        per_step = width * self._n_features
        largest = max(8, 1 << (max(1, _BLOCK_ELEMENTS // per_step)).bit_length() - 1)
        return min(_BLOCK_MAX_STEPS, largest, max(8, 1 << (self.n_steps - 1).bit_length()))

    def block_index(self, start, n, width):
        """Rows of X of steps ``start`` to ``start + n`` of the first ``width`` sequences (-1 past an end)."""
        t = np.arange(start, start + n)[:, None]
        return np.where(t < self._ordered[None, :width], self._starts[None, :width] + t, -1)

    def blocks(self, *arrays):
        """For each time block: ``(start, n, gathered)``, each array gathered to
        (block, width, ...) and zero on padding."""
        for start, n, width in self.spans:
            index = self.block_index(start, n, width)
            padded = np.full((self.block_steps(width), width), -1)
            padded[:n] = index
            valid = padded >= 0
            gathered = []
            for array in arrays:
                out = array[np.maximum(padded, 0)]
                out[~valid] = 0
                gathered.append(out)
            yield start, n, gathered

    def unpad(self, per_block, n_rows):
        """Rows of the concatenated sequences from per-block (n, width, ...) outputs."""
        first = per_block[0]
        out = np.empty((n_rows,) + first.shape[2:], dtype=first.dtype)
        for (start, n, width), values in zip(self.spans, per_block):
            index = self.block_index(start, len(values), width)
            valid = index >= 0
            out[index[valid]] = values[valid]
        return out


class RecursiveSOM(LatticeMixin, BaseMap):
    """Self-organizing map of sequences, with a recursive or a merge context.

    Each unit has a weight vector in the input space and a context vector.
    At every step of a sequence the best-matching unit (BMU) is the unit whose
    weight best matches the current input *and* whose context best matches
    a summary of the past, so units come to stand for input histories (the
    unit that wins ``a`` after ``b``, another for ``a`` after ``c``). Training
    pulls the BMU and its lattice neighbours towards the input and the
    context, with the radius and learning-rate schedules of
    :class:`SOMClusterer`'s online rule. Every sequence starts from an empty
    (zero) context.

    Sequences are passed as in hmmlearn: ``X`` holds the concatenated
    sequences, one time step per row, and ``lengths`` the length of each.
    The sequences train in lockstep, step ``t`` of all of them at once, in one
    compiled TensorFlow loop over time. Sequences that have ended leave the
    loop (see the user guide), so that uneven lengths cost less than twice
    their total.

    Parameters
    ----------
    map_size : tuple of (int, int), default=(10, 10)
        ``(n_rows, n_columns)`` of the map.
    context : {"recursive", "merge"}, default="recursive"
        ``"recursive"``: Voegtlin's recursive SOM (RecSOM, 2002). The
        distance of unit ``i`` is ``E_i = alpha ||x(t) - w_i||^2 + beta
        ||y(t-1) - c_i||^2``, where the context ``y(t-1)`` is the previous
        activation of the whole map, ``y_j = exp(-E_j)``. Contexts therefore
        have one entry per unit: the context codebook is n_units x n_units
        (a 20 x 20 map has 160,000 context entries; a 100 x 100 map
        10^8), and :meth:`fit` raises ``ValueError`` when it would exceed
        1 GiB. ``"merge"``: the merge SOM (MSOM; Strickert and Hammer
        2005). The context lives in the input space, ``c(t) = (1 - gamma)
        w_bmu(t-1) + gamma c_bmu(t-1)``, and the distance is ``d_i = (1 - a)
        ||x(t) - w_i||^2 + a ||c(t) - c_i||^2``; it scales to large maps.
    alpha : float, default=2.0
        Weight of the input term of the recursive distance.
    beta : float, default=0.5
        Weight of the context term of the recursive distance.
    gamma : float, default=0.5
        Merge parameter of the merge context: the share of the previous
        BMU's context (the rest is its weight vector).
    context_weight : float, default=0.5
        ``a`` of the merge distance at the end of training. It grows
        linearly from 0 to ``context_weight`` over the first half of
        :meth:`fit` (so the weights order first, as in Strickert and Hammer's
        schedule) and stays there; :meth:`predict` uses the final value.
    topology : {"rectangular", "hexagonal"}, default="rectangular"
        Lattice of the map.
    periodic : bool, default=False
        Whether the map wraps around its edges (a torus).
    neighborhood : {"gaussian", "bubble", "triangle", "cut_gaussian", \
            "mexican_hat"}, default="gaussian"
        Neighbourhood function of the lattice distance, as in
        :class:`SOMClusterer`.
    radius_start : float, default=None
        Neighbourhood radius at the start of training; ``None`` means half
        the longer side of the map.
    radius_end : float, default=0.5
        Neighbourhood radius at the end of training.
    radius_decay : {"linear", "exponential", "inverse"}, default="exponential"
        How the radius goes from start to end.
    learning_rate_start : float, default=None
        Learning rate at the start (``None``: 0.5).
    learning_rate_end : float, default=None
        Learning rate at the end (``None``: 0.01).
    learning_rate_decay : {"linear", "exponential", "inverse"}, \
            default="inverse"
        How the learning rate goes from start to end.
    max_iter : int, default=10
        Epochs (passes over all the sequences) of :meth:`fit`.
    init : {"random", "sample"}, default="random"
        Initial weights: uniform in the bounding box of the data, or random
        steps of the data. Merge contexts are initialised the same way;
        recursive contexts uniformly in [0, 1).
    device : str, default=None
        TensorFlow device (``"cpu"``, ``"gpu"``, ``"/GPU:1"``); ``None``
        lets TensorFlow choose.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation.
    verbose : int, default=0
        If positive, print one line per epoch.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_units, n_features)
        Weight vector of each unit, in row-major grid order.
    contexts_ : ndarray of shape (n_units, n_units) or (n_units, n_features)
        Context vector of each unit: n_units entries for ``"recursive"``,
        n_features for ``"merge"``.
    map_size_ : tuple of (int, int)
        ``(n_rows, n_columns)``.
    unit_coordinates_ : ndarray of shape (n_units, 2)
        Position of each unit in the plane.
    labels_ : ndarray of shape (n_samples,)
        BMU of each training step (of the last call for :meth:`partial_fit`).
    n_iter_ : int
        Epochs run so far; :meth:`partial_fit` adds one per call.
    quantization_error_ : float
        Mean Euclidean distance from each training step to the weight vector
        of its BMU.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SOMClusterer : The map of independent samples.
    sksom.metrics.temporal_quantization_error : How much of the past a map's
        units capture.

    Notes
    -----
    ``sample_weight`` weighs the steps: the step factor of a step is
    multiplied by its weight relative to the mean weight of the call's data
    and capped at 1, so uniform weights change nothing. In lockstep, units
    pulled by several sequences at once move to the step-weighted mean of
    their targets, by at most the full distance.

    References
    ----------
    T. Voegtlin, "Recursive self-organizing maps", *Neural Networks* 15
    (2002) 979-991. M. Strickert and B. Hammer, "Merge SOM for temporal
    data", *Neurocomputing* 64 (2005) 39-71.

    Examples
    --------
    >>> import numpy as np
    >>> from sksom import RecursiveSOM
    >>> X = np.tile([[0.0], [1.0], [1.0]], (30, 1))  # 0, 1, 1, 0, 1, 1, ...
    >>> som = RecursiveSOM(map_size=(1, 3), max_iter=5, random_state=0).fit(X)
    >>> som.predict(X)[:6]
    array([0, 2, 2, 0, 2, 2])
    >>> som.contexts_.shape  # recursive contexts: one entry per unit
    (3, 3)
    >>> som.generate(4).shape
    (4, 1)
    """

    _parameter_constraints = {
        "map_size": [tuple, list],
        "context": [StrOptions(set(CONTEXTS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "gamma": [Interval(Real, 0, 1, closed="both")],
        "context_weight": [Interval(Real, 0, 1, closed="both")],
        **LATTICE_PARAMETER_CONSTRAINTS,
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions(set(INITS))],
        "device": [str, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        map_size=(10, 10),
        *,
        context="recursive",
        alpha=2.0,
        beta=0.5,
        gamma=0.5,
        context_weight=0.5,
        topology="rectangular",
        periodic=False,
        neighborhood="gaussian",
        radius_start=None,
        radius_end=0.5,
        radius_decay="exponential",
        learning_rate_start=None,
        learning_rate_end=None,
        learning_rate_decay="inverse",
        max_iter=10,
        init="random",
        device=None,
        random_state=None,
        verbose=0,
    ):
        self.map_size = map_size
        self.context = context
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
        self.context_weight = context_weight
        self.topology = topology
        self.periodic = periodic
        self.neighborhood = neighborhood
        self.radius_start = radius_start
        self.radius_end = radius_end
        self.radius_decay = radius_decay
        self.learning_rate_start = learning_rate_start
        self.learning_rate_end = learning_rate_end
        self.learning_rate_decay = learning_rate_decay
        self.max_iter = max_iter
        self.init = init
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- validation -----------------------------------------------------------

    def _default_learning_rates(self):
        return 0.5, 0.01

    def _check_map_size(self):
        size = tuple(self.map_size)
        if len(size) != 2 or not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in size):
            raise ValueError(f"map_size must be a pair of positive ints (n_rows, n_columns); got {self.map_size!r}.")
        check_map_size(size, self.topology, self.periodic)
        n_units = size[0] * size[1]
        if self.context == "recursive":
            needed = n_units * n_units * 4
            if needed > _RECURSIVE_MAX_BYTES:
                raise ValueError(
                    f"context='recursive' keeps an n_units x n_units context codebook: a "
                    f"{size[0]}x{size[1]} map ({n_units} units) needs {needed:,} bytes in "
                    f"float32 (limit {_RECURSIVE_MAX_BYTES:,}). Use a smaller map or "
                    "context='merge', whose contexts have n_features entries."
                )
        return size

    def _check_sequences(self, X, lengths, reset, dtype=None):
        """Validated ``X`` (float32 or float64, else ``dtype``) and lengths."""
        if dtype is None:
            dtype = [np.float64, np.float32] if reset else self.cluster_centers_.dtype
        X = validate_data(self, X, reset=reset, dtype=dtype, ensure_min_samples=1)
        lengths = check_lengths(lengths, X.shape[0])
        compute = X.dtype if reset else np.promote_types(X.dtype, self.cluster_centers_.dtype)
        # The distances are squared in the compute dtype.
        check_value_range(max_abs(X, scan_step(X.shape[1])), compute, X.shape[1])
        return X, lengths

    def _check_fitted_context(self):
        """Reject a ``context`` other than the fitted map's: its contexts mean something else."""
        fitted = getattr(self, "_fitted_context", self.context)
        if self.context != fitted:
            raise ValueError(
                f"context={self.context!r} differs from the fitted map's context={fitted!r}: its "
                f"contexts_ (shape {self.contexts_.shape}) belong to that model. Set context={fitted!r} "
                "back, or call fit to train a new map."
            )

    # -- fitting --------------------------------------------------------------

    def _initial_state(self, X, map_size, rng):
        n_units = map_size[0] * map_size[1]
        low, high = X.min(axis=0), X.max(axis=0)

        def draw(n_columns):
            if self.init == "sample":
                return X[rng.choice(X.shape[0], size=n_units, replace=n_units > X.shape[0])].astype(X.dtype)
            return (low + rng.uniform(size=(n_units, n_columns)) * (high - low)).astype(X.dtype)

        W = draw(X.shape[1])
        if self.context == "recursive":
            C = rng.uniform(size=(n_units, n_units)).astype(X.dtype)
        else:
            C = draw(X.shape[1])
        return W, C

    def _mix(self, progress):
        """The two factors of the combined distance at training progress (array)."""
        progress = np.minimum(np.asarray(progress, dtype=np.float64), 1.0)
        if self.context == "recursive":
            return np.stack([np.full_like(progress, self.alpha), np.full_like(progress, self.beta)], axis=-1)
        a = self.context_weight * np.minimum(1.0, 2.0 * progress)
        return np.stack([1.0 - a, a], axis=-1)

    def _fit(self, X, lengths, sample_weight, partial):
        map_size = self._check_map_size()
        self._check_radii()
        device = self._resolve_device()
        fresh = not (partial and self.__sklearn_is_fitted__())
        if fresh:
            rng = check_random_state(self.random_state)
            W, C = self._initial_state(X, map_size, rng)
            n_iter = 0
            coordinates = unit_coordinates(map_size, self.topology)
        else:
            self._check_fitted_context()
            self._check_fitted_lattice(map_size)
            W, C, n_iter, coordinates = self.cluster_centers_, self.contexts_, self.n_iter_, self.unit_coordinates_
        periods = lattice_periods(map_size, self.topology, self.periodic)
        relative = relative_weights(sample_weight)
        layout = _Layout(lengths, X.shape[1])
        epochs = 1 if partial else self.max_iter
        dtype = X.dtype
        start_time = time.perf_counter()
        for epoch in range(n_iter, n_iter + epochs):

            def blocks(epoch=epoch):
                for start, n, (Xb, wb) in layout.blocks(X, relative.astype(dtype)):
                    progress = (epoch + np.arange(start, start + len(Xb)) / layout.n_steps) / self.max_iter
                    sigmas, rates = self._schedule(progress, map_size)
                    yield Xb, wb, sigmas.astype(dtype), rates.astype(dtype), self._mix(progress).astype(dtype), n

            W, C = engine().train_blocks(
                self.context, blocks(), W, C, coordinates, periods, self.neighborhood, float(self.gamma), device
            )
            if not (np.all(np.isfinite(W)) and np.all(np.isfinite(C))):
                raise FloatingPointError(
                    "Training produced a non-finite codebook; the learning rate may be too large "
                    "or the data badly scaled."
                )
            if self.verbose:
                bmus = self._predict_steps(X, layout, W, C, device)[0]
                qe = float(np.mean(np.linalg.norm(X - W[bmus], axis=1)))
                report_epoch(
                    type(self).__name__, epoch + 1, max(self.max_iter, epoch + 1),
                    float(self._schedule(min(1.0, (epoch + 1) / self.max_iter), map_size)[0]),
                    qe, time.perf_counter() - start_time, last=epoch + 1 == n_iter + epochs,
                )
        bmus = self._predict_steps(X, layout, W, C, device)[0]
        quantization_error = float(np.average(np.linalg.norm(X - W[bmus], axis=1), weights=sample_weight))
        self.cluster_centers_ = W
        self.contexts_ = C
        self._fitted_context = self.context
        self._fitted_lattice = self._fitted_lattice_state(map_size)
        self.map_size_ = map_size
        self.unit_coordinates_ = coordinates
        self.n_iter_ = n_iter + epochs
        self.labels_ = bmus
        self.quantization_error_ = quantization_error
        return self

    def _fit_sequences(self, X, lengths, sample_weight, partial):
        with rollback_on_error(self):
            reset = not (partial and self.__sklearn_is_fitted__())
            X, lengths = self._check_sequences(X, lengths, reset)
            sample_weight = check_sample_weight(sample_weight, X)
            return self._fit(X, lengths, sample_weight, partial)

    def _predict_steps(self, X, layout, W, C, device, full=False):
        """BMU and combined squared distance(s) of every row of ``X``."""
        p1, p2 = self._mix(1.0)
        blocks = ((Xb, n) for _, n, (Xb,) in layout.blocks(X))
        out = engine().predict_blocks(
            self.context, blocks, W, C, float(p1), float(p2), float(self.gamma), full, device
        )
        bmus = layout.unpad([b for b, _ in out], X.shape[0])
        energies = layout.unpad([e for _, e in out], X.shape[0])
        return bmus.astype(np.intp), energies

    def _test_steps(self, X, lengths, full=False):
        """``X`` as given, its lengths, and the BMUs and combined distances of its steps.

        Computed in the wider of X's dtype and the map's, as the other
        estimators do; :meth:`transform` returns X's dtype.
        """
        check_is_fitted(self)
        self._check_fitted_context()
        X, lengths = self._check_sequences(X, lengths, reset=False, dtype=[np.float64, np.float32])
        dtype = np.promote_types(X.dtype, self.cluster_centers_.dtype)
        W = self.cluster_centers_.astype(dtype, copy=False)
        C = self.contexts_.astype(dtype, copy=False)
        layout = _Layout(lengths, X.shape[1])
        return X, lengths, self._predict_steps(X.astype(dtype, copy=False), layout, W, C, self._resolve_device(), full)

    # -- public API -----------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, lengths=None, sample_weight=None):
        """Train the map on the sequences of ``X`` for ``max_iter`` epochs, from a fresh start.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The concatenated sequences, one time step per row.
        y : Ignored
            Not used, present for API consistency by convention.
        lengths : array-like of int of shape (n_sequences,), default=None
            Length of each sequence; they sum to ``n_samples``. ``None``:
            ``X`` is one sequence.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each step (see Notes of the class).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit_sequences(X, lengths, sample_weight, partial=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, *, lengths=None, sample_weight=None):
        """Run one epoch on the sequences of ``X``, continuing earlier calls' schedule.

        The first call initialises the map. Each call advances the schedules
        by one of ``max_iter`` epochs; after ``max_iter`` calls they stay at
        their end values. Sequences do not continue across calls: each starts
        from the empty context. The map stays the fitted one: a ``context``,
        ``map_size``, ``topology`` or ``periodic`` changed since is a
        ``ValueError``; call :meth:`fit` to train another.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The concatenated sequences.
        y : Ignored
            Not used, present for API consistency by convention.
        lengths : array-like of int of shape (n_sequences,), default=None
            Length of each sequence; ``None``: one sequence.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each step.

        Returns
        -------
        self : object
            Updated estimator.
        """
        return self._fit_sequences(X, lengths, sample_weight, partial=True)

    def fit_predict(self, X, y=None, *, lengths=None, sample_weight=None):
        """Fit, then return the BMU of each training step (``labels_``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The concatenated sequences.
        y : Ignored
            Not used, present for API consistency by convention.
        lengths : array-like of int of shape (n_sequences,), default=None
            Length of each sequence; ``None``: one sequence.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each step.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            BMU of each step.
        """
        return self.fit(X, lengths=lengths, sample_weight=sample_weight).labels_

    def fit_transform(self, X, y=None, *, lengths=None, sample_weight=None):
        """Fit, then return :meth:`transform` of the training sequences.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The concatenated sequences.
        y : Ignored
            Not used, present for API consistency by convention.
        lengths : array-like of int of shape (n_sequences,), default=None
            Length of each sequence; ``None``: one sequence.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each step.

        Returns
        -------
        distances : ndarray of shape (n_samples, n_units)
            See :meth:`transform`.
        """
        return self.fit(X, lengths=lengths, sample_weight=sample_weight).transform(X, lengths=lengths)

    def best_matching_unit(self, X, lengths=None):
        """BMU of each time step, given the context of the steps before it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The concatenated sequences.
        lengths : array-like of int of shape (n_sequences,), default=None
            Length of each sequence; ``None``: one sequence.

        Returns
        -------
        units : ndarray of shape (n_samples,)
            Unit index (row-major grid order) of each step.
        """
        return self._test_steps(X, lengths)[2][0]

    def predict(self, X, lengths=None):
        """BMU of each time step (the same as :meth:`best_matching_unit`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The concatenated sequences.
        lengths : array-like of int of shape (n_sequences,), default=None
            Length of each sequence; ``None``: one sequence.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Unit index of each step.
        """
        return self.best_matching_unit(X, lengths)

    def transform(self, X, lengths=None):
        """Combined distance of each time step to every unit.

        The square root of the quantity the BMU minimises: ``sqrt(E_i)``
        (recursive) or ``sqrt(d_i)`` (merge), so that the BMU of a step is
        the argmin of its row. For ``context="recursive"`` the activations
        of the map are ``exp(-transform(X) ** 2)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The concatenated sequences.
        lengths : array-like of int of shape (n_sequences,), default=None
            Length of each sequence; ``None``: one sequence.

        Returns
        -------
        distances : ndarray of shape (n_samples, n_units)
            In the dtype of ``X`` (float32 stays float32).
        """
        X, _, (_, energies) = self._test_steps(X, lengths, full=True)
        return np.sqrt(energies).astype(X.dtype, copy=False)

    def score(self, X, y=None, lengths=None, sample_weight=None):
        """Minus the mean combined distance of each step to its BMU (higher is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The concatenated sequences.
        y : Ignored
            Not used, present for API consistency by convention.
        lengths : array-like of int of shape (n_sequences,), default=None
            Length of each sequence; ``None``: one sequence.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the steps in the mean.

        Returns
        -------
        score : float
            Minus the weighted mean of the BMU's :meth:`transform` value.
        """
        X, _, (_, energies) = self._test_steps(X, lengths)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        return -float(np.average(np.sqrt(energies.astype(np.float64)), weights=sample_weight))

    def receptive_fields(self, X, lengths=None, max_depth=10, names=None):
        """The input history each unit stands for, on sequences of symbols.

        A step's symbol is its row of ``X`` (one-hot codes, or any repeated
        vectors); symbols are numbered by first appearance. The receptive
        field of a unit is the longest suffix shared by the histories of all
        the steps it wins (its current symbol, the one before, ...), up to
        ``max_depth``. A history cut by the start of its sequence agrees with
        any continuation, so it does not shorten the field.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The concatenated symbol sequences.
        lengths : array-like of int of shape (n_sequences,), default=None
            Length of each sequence; ``None``: one sequence.
        max_depth : int, default=10
            Longest suffix considered.
        names : sequence of str, default=None
            A name per symbol (in order of first appearance); fields are then
            strings, oldest symbol first (``"cba"``: ``a`` after ``b`` after
            ``c``).

        Returns
        -------
        result : :class:`~sklearn.utils.Bunch`
            ``fields``: list with, for each unit, a tuple of symbol ids (or a
            string with ``names``), oldest first; empty for units that win no
            step. ``depths``: ndarray of shape (n_units,), the length of each
            field. ``hits``: ndarray of shape (n_units,), steps won.
            ``mean_depth``: the mean depth weighted by hits. ``symbols``:
            ndarray of shape (n_symbols, n_features), the row of each symbol.
        """
        if not (isinstance(max_depth, Integral) and not isinstance(max_depth, (bool, np.bool_)) and max_depth >= 1):
            raise ValueError(f"max_depth must be a positive int; got {max_depth!r}.")
        X, lengths, (bmus, _) = self._test_steps(X, lengths)
        rows, first, codes = np.unique(X, axis=0, return_index=True, return_inverse=True)
        order = np.argsort(first)
        symbols = np.empty_like(order)
        symbols[order] = np.arange(len(order))
        codes = symbols[codes.ravel()]
        if names is not None and len(names) < len(order):
            raise ValueError(f"names has {len(names)} entries, but X has {len(order)} distinct symbols.")
        n_units = self.cluster_centers_.shape[0]
        hits = np.bincount(bmus, minlength=n_units)
        positions = step_positions(lengths)
        depths = np.zeros(n_units, dtype=np.intp)
        alive = hits > 0
        fields = [[] for _ in range(n_units)]
        big = len(order)
        for lag in range(max_depth):
            reach = positions >= lag
            if not reach.any():
                break
            units, past = bmus[reach], codes[np.flatnonzero(reach) - lag]
            low = np.full(n_units, big)
            high = np.full(n_units, -1)
            np.minimum.at(low, units, past)
            np.maximum.at(high, units, past)
            alive &= (low == high) & (high >= 0)
            if not alive.any():
                break
            depths[alive] += 1
            for unit in np.flatnonzero(alive):
                fields[unit].append(int(low[unit]))
        fields = [tuple(reversed(f)) for f in fields]
        if names is not None:
            fields = ["".join(str(names[s]) for s in f) for f in fields]
        mean_depth = float(np.average(depths, weights=hits)) if hits.sum() else 0.0
        return Bunch(fields=fields, depths=depths, hits=hits, mean_depth=mean_depth, symbols=rows[order])

    def generate(self, n_steps, start=None):
        """Run the map without input: emit a unit's weights, move to the unit whose context matches.

        After unit ``k`` the next unit is the one whose context best matches
        the context ``k`` leaves: the map's activation with input ``w_k``
        (recursive) or the merge context ``(1 - gamma) w_k + gamma c_k``.

        Parameters
        ----------
        n_steps : int
            Steps to generate.
        start : int, default=None
            First unit. ``None``: the unit whose context best matches the
            empty context, where every sequence starts.

        Returns
        -------
        sequence : ndarray of shape (n_steps, n_features)
            The weight vector of the unit of each step.
        """
        check_is_fitted(self)
        self._check_fitted_context()
        if not (isinstance(n_steps, Integral) and not isinstance(n_steps, (bool, np.bool_)) and n_steps >= 1):
            raise ValueError(f"n_steps must be a positive int; got {n_steps!r}.")
        W = self.cluster_centers_.astype(np.float64)
        C = self.contexts_.astype(np.float64)
        n_units = W.shape[0]
        c_norms = np.einsum("ij,ij->i", C, C)

        def best_context(context):
            return int(np.argmin(c_norms - 2.0 * C @ context))

        activation = np.zeros(C.shape[1])
        if start is None:
            unit = best_context(activation)
        elif isinstance(start, Integral) and not isinstance(start, (bool, np.bool_)) and 0 <= start < n_units:
            unit = int(start)
        else:
            raise ValueError(f"start must be a unit index in [0, {n_units}) or None; got {start!r}.")
        units = np.empty(n_steps, dtype=np.intp)
        for step in range(n_steps):
            units[step] = unit
            if self.context == "recursive":
                E = self.alpha * np.sum((W - W[unit]) ** 2, axis=1) + self.beta * np.sum((C - activation) ** 2, axis=1)
                activation = np.exp(-E)
            else:
                activation = (1.0 - self.gamma) * W[unit] + self.gamma * C[unit]
            unit = best_context(activation)
        return self.cluster_centers_[units]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags
