"""What every map estimator of the package shares.

:class:`BaseMap` holds the parts of a prototype-based clusterer that do not
depend on how the prototypes are trained: input validation into chunk-readable
data (:class:`~sksom._data.ArrayData`), the rollback of a failed fit, sample
weights, best-matching units computed chunk by chunk, the fitted errors, the
optional second-stage clustering (``n_clusters``) and the scikit-learn API
(``predict``, ``transform``, ``score``, tags). A member of the family (the SOM,
the gases, the sequence maps) implements ``_fit(data, partial)`` and
``_unit_adjacency()``, and stores its codebook in ``cluster_centers_``.
"""

import contextlib
import math
import os
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    clone,
)
from sklearn.cluster import AgglomerativeClustering
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._data import (
    ArrayData,
    check_finite_chunks,
    feature_ranges,
    check_rows_observed,
    has_nan,
    is_sliceable_dataset,
    max_abs,
)
from ._persistence import VersionStampMixin
from ._topology import DECAYS, NEIGHBORHOODS, TOPOLOGIES, fitted_lattice
from .metrics import topographic_error_from_bmus

# Default rows per chunk: the distance block of one chunk holds at most
# CHUNK_ELEMENTS entries (64 MiB in float32), or up to twice that where the
# smaller block would have fewer than CHUNK_ROWS rows, and a chunk has at
# least 256 rows. On large maps, fewer and larger chunks keep the products
# efficient (a 200 x 200 map on MNIST, 2-core EPYC without AVX-512: 9.1 s an
# epoch with 838-row chunks, 11.2 s with 419; on one with AVX-512, about 5 %
# apart, and 419 rows peak 480 MB lower: oneDNN's buffers for the 838-row
# products stay in the C library's heap). Past a few
# thousand rows a larger chunk only costs memory: a 40 x 40 map on 200,000
# rows peaked 260 MB higher with 2**25 entries than with 2**24, in the same
# time.
CHUNK_ELEMENTS = 2**24
CHUNK_ROWS = 4096
# Rows per chunk when scanning the data (validation, statistics), whatever the
# training chunk size: 16 MiB of float64, since the statistics hold a few
# temporary copies of a chunk.
_SCAN_ELEMENTS = 2**21
# Smallest neighbourhood radius: its square stays a normal float32 and the
# lattice distances of any map divided by it stay finite.
MIN_RADIUS = 1e-6


def scan_step(n_features):
    """Rows per chunk for a validation or statistics pass over the data."""
    return max(256, _SCAN_ELEMENTS // max(1, n_features))


def engine():
    """The TensorFlow engine, imported on first use (never by ``import sksom``)."""
    from . import _engine

    return _engine


@contextlib.contextmanager
def rollback_on_error(estimator):
    """Restore the estimator's attributes if the block fails or is interrupted.

    A random state (the user's ``random_state`` object, or a fitted one) is
    advanced in place by the failed call: its state is put back into the
    same object, which stays the one the user passed.
    """
    saved = dict(estimator.__dict__)
    states = {key: value.get_state() for key, value in saved.items() if isinstance(value, np.random.RandomState)}
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        for key, state in states.items():
            saved[key].set_state(state)
        raise


def available_host_memory():
    """Bytes of host memory available to a new allocation, or None if unknown.

    ``MemAvailable`` of ``/proc/meminfo`` (free memory plus caches the kernel
    can drop), else the free physical pages.
    """
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(needed, device, what, advice):
    """Raise ValueError when ``needed`` bytes exceed the host's (or the GPU's) free memory.

    ``what`` names the allocation, ``advice`` what to change; both go into
    the message, with the bytes needed and available.
    """
    places = [("host memory", available_host_memory()), ("GPU memory", engine().free_device_memory(device))]
    for place, available in places:
        if available is not None and needed > available:
            raise ValueError(
                f"Not enough {place} for {what}: it needs about {needed / 2**30:.2f} GiB "
                f"({needed} bytes) for the codebook and the working set, and "
                f"{available / 2**30:.2f} GiB ({available} bytes) are available; {advice}."
            )


def check_value_range(largest, dtype, n_features):
    """Reject data whose squared distances would over- or underflow in ``dtype``.

    ``largest`` is the largest absolute value of the data. Too large, the
    squared distances overflow to inf; too small (but not all zero), they
    underflow to 0 (CPUs flush subnormals to zero), every unit is equally
    near and the BMUs are wrong. Either way the result would be silently
    wrong, so the data must be scaled first.
    """
    dtype = np.dtype(dtype)
    info = np.finfo(dtype)
    advice = "scale the data" + (" or pass float64." if dtype == np.float32 else ".")
    high = math.sqrt(info.max / (8.0 * max(1, n_features)))
    if largest > high:
        raise ValueError(
            f"X has values up to {largest:.3g}, too large to compute squared "
            f"distances in {dtype} (limit {high:.3g}); {advice}"
        )
    low = 100.0 * math.sqrt(info.tiny)
    if 0.0 < largest < low:
        raise ValueError(
            f"X has values of at most {largest:.3g}, too small to compute squared distances "
            f"in {dtype}: they underflow to 0 below {low:.3g}; {advice}"
        )


def relative_weights(sample_weight):
    """Float64 weights scaled to mean 1 (each one relative to the mean weight).

    Scaled by their largest value first, so that neither tiny weights (whose
    sum is subnormal) nor huge ones (above the float32 range) over- or
    underflow on the way; the kernels then cast weights of about 1.
    """
    scaled = sample_weight / sample_weight.max()
    return scaled / scaled.mean()


def check_sample_weight(sample_weight, X):
    """Non-negative float64 weights with a positive, finite sum."""
    sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    with np.errstate(over="ignore"):
        total = sample_weight.sum()
    if not np.isfinite(total):
        raise ValueError(
            f"sample_weight sums to infinity in float64 (weights up to {sample_weight.max():.3g}); "
            "scale them down, for example divide them by their mean."
        )
    if not total > 0:
        raise ValueError("sample_weight must have a positive sum; all weights are zero.")
    return sample_weight


def initial_codebook(init, n_units, data, rng):
    """Initial units from ``init``: ``"sample"``, ``"random"`` or an array.

    ``"sample"`` draws rows with probabilities proportional to the sample
    weights (without replacement while there are enough); ``"random"`` draws
    uniformly in the bounding box of the data; an array must have shape
    ``(n_units, n_features)``. The codebook has the data's compute dtype.
    """
    dtype = data.dtype
    if not isinstance(init, str):
        # Checked in float64 first: a float64 value beyond the float32 range
        # is too large, not NaN or infinity.
        codebook = np.array(init, dtype=np.float64)
        if codebook.shape != (n_units, data.n_features):
            raise ValueError(
                f"init has shape {codebook.shape}; expected (n_units, n_features) = "
                f"({n_units}, {data.n_features})."
            )
        if not np.all(np.isfinite(codebook)):
            raise ValueError("init contains NaN or infinity.")
        largest = float(np.abs(codebook).max()) if codebook.size else 0.0
        high = math.sqrt(np.finfo(dtype).max / (8.0 * max(1, data.n_features)))
        if largest > high:
            advice = "scale the data and init" + (" or pass float64." if dtype == np.float32 else ".")
            raise ValueError(
                f"init has values up to {largest:.3g}, too large to compute squared distances "
                f"in {dtype} (limit {high:.3g}); {advice}"
            )
        return codebook.astype(dtype)
    if init == "sample":
        weights = data.sample_weight
        rows = rng.choice(data.n_samples, size=n_units, replace=n_units > np.count_nonzero(weights), p=weights / weights.sum())
        codebook = data.rows(rows, np.float64)
        # A missing entry of a drawn sample takes the mean of the drawn units.
        if data.masked:
            fill = np.nan_to_num(np.nanmean(np.where(np.isnan(codebook).all(axis=0), 0.0, codebook), axis=0))
            codebook = np.where(np.isnan(codebook), fill, codebook)
        return codebook.astype(dtype)
    if init == "random":
        low, high = feature_ranges(data, scan_step(data.n_features))
        return (low + rng.uniform(size=(n_units, data.n_features)) * (high - low)).astype(dtype)
    raise ValueError(f"init={init!r} is not 'sample', 'random' or an array.")


class BaseMap(VersionStampMixin, ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, BaseEstimator):
    """Validation, prediction and the fitted state shared by the map estimators.

    Subclasses define ``_parameter_constraints``, ``_fit(data, partial)``
    (which ends by calling :meth:`_set_fitted`) and ``_unit_adjacency()`` (the
    sparse adjacency of the fitted units, for the topographic error and the
    ``n_clusters`` stage), and may override :meth:`_chunk_size`. They have the
    parameters ``batch_size``, ``device`` and ``n_clusters``.
    """

    # -- fitting ----------------------------------------------------------------

    def _fit_checked(self, X, sample_weight, partial):
        """Validate and train; on any failure or interruption the estimator is unchanged."""
        with rollback_on_error(self):
            reset = not (partial and self.__sklearn_is_fitted__())
            data = self._validate(X, sample_weight, reset=reset)
            return self._fit(data, partial=partial)

    def _resolve_device(self):
        return engine().resolve_device(self.device)

    # -- validation -------------------------------------------------------------

    def _validate(self, X, sample_weight, reset):
        """Validate training data; returns it as chunk-readable :class:`ArrayData`."""
        dtype = [np.float64, np.float32] if reset else self.cluster_centers_.dtype
        X, dtype, masked = self._check_input(X, reset, dtype)
        sample_weight = check_sample_weight(sample_weight, X)
        # Relative weights: the rules depend on the weights' ratios only (the
        # automatic map size on their total, kept as given).
        return ArrayData(X, relative_weights(sample_weight), masked, dtype, weight_total=sample_weight.sum())

    def _check_input(self, X, reset, dtype):
        """Validate ``X`` without reading a sliceable dataset whole.

        Returns ``X`` (converted unless it is a sliceable dataset), the compute
        dtype and whether ``X`` has missing values. The compute dtype is the
        wider of X's and a fitted codebook's: a float64 codebook cast to
        float32 data could overflow where the data alone does not.
        """
        if is_sliceable_dataset(X):
            if X.shape[0] < 1:
                raise ValueError(f"Found array with 0 sample(s) (shape={tuple(X.shape)}) while a minimum of 1 is required.")
            # The first row sets or checks n_features_in_ and the dtype rules.
            first_row = validate_data(self, X[:1], reset=reset, dtype=dtype, ensure_all_finite="allow-nan")
            check_finite_chunks(X, scan_step(X.shape[1]), first_row.dtype)
            compute = self._compute_dtype(first_row.dtype, reset)
            return X, compute, self._check_values(X, compute)
        X = validate_data(
            self, X, reset=reset, dtype=dtype, accept_sparse=("csr", "csc"),
            ensure_all_finite="allow-nan", ensure_min_samples=1,
        )
        compute = self._compute_dtype(X.dtype, reset)
        return X, compute, self._check_values(X, compute)

    def _compute_dtype(self, dtype, reset):
        if reset:
            return np.dtype(dtype)
        return np.promote_types(dtype, self.cluster_centers_.dtype)

    def _check_values(self, X, dtype):
        """Reject all-NaN rows and values too large for ``dtype``; report NaN."""
        step = scan_step(X.shape[1])
        masked = has_nan(X, step)
        if masked:
            check_rows_observed(X, step)
        # Squared distances are computed in the data's dtype: values so large
        # that they overflow would give an inf codebook, not an error.
        check_value_range(max_abs(X, step), dtype, X.shape[1])
        return masked

    def _check_test_data(self, X):
        """Validate data for prediction; returns it with the codebook in the compute dtype."""
        check_is_fitted(self)
        X, dtype, masked = self._check_input(X, reset=False, dtype=[np.float64, np.float32])
        return ArrayData(X, np.ones(X.shape[0]), masked, dtype), self.cluster_centers_.astype(dtype, copy=False)

    def _chunk_size(self, n_units, n_features):
        """Rows per chunk: ``batch_size``, or as many as keep a chunk's blocks small."""
        if self.batch_size != "auto":
            return int(self.batch_size)
        width = max(n_units, n_features, 1)
        rows = CHUNK_ELEMENTS // width
        if rows < CHUNK_ROWS:
            rows = min(CHUNK_ROWS, 2 * CHUNK_ELEMENTS // width)
        return max(256, rows)

    # -- best-matching units and the fitted state -------------------------------

    def _row_chunks(self, data, codebook):
        """``(first row, X)`` for consecutive chunks of ``data``, in the codebook's dtype."""
        step = self._chunk_size(codebook.shape[0], data.n_features)
        for start, (X, _) in zip(range(0, data.n_samples, step), data.chunks(step, codebook.dtype)):
            yield start, X

    def _bmus_and_errors(self, data, codebook, device):
        """First BMU, second BMU and quantization error of every sample."""
        chunks = (X for _, X in self._row_chunks(data, codebook))
        return engine().best_matching_units(chunks, codebook, device, data.masked)

    def _map_quality(self, data, codebook, device, adjacent):
        """Each sample's BMU, and the weighted mean quantization and topographic errors.

        Chunk by chunk, so that beyond the BMUs (which ``labels_`` keeps)
        memory does not grow with the number of samples.
        """
        bmus = np.empty(data.n_samples, dtype=np.intp)
        qe_sum = te_sum = 0.0
        total = data.sample_weight.sum()
        for start, X in self._row_chunks(data, codebook):
            b1, b2, qe = engine().best_matching_units([X], codebook, device, data.masked)
            bmus[start : start + len(b1)] = b1
            # Shares of the total weight: huge weights cannot overflow the sums.
            w = data.sample_weight[start : start + len(b1)] / total
            if w.sum() > 0:
                qe_sum += float(w @ qe)
                te_sum += topographic_error_from_bmus(b1, b2, adjacent, sample_weight=w) * w.sum()
        return bmus, qe_sum, te_sum

    def _check_n_clusters(self):
        """Reject ``n_clusters=True``: a bool is an int to Python, not a number of clusters."""
        if isinstance(self.n_clusters, (bool, np.bool_)):
            raise ValueError(
                f"n_clusters must be None, a positive int or a clusterer; got the bool {self.n_clusters!r}."
            )

    def _cluster_units(self, codebook, adjacent):
        """Second-stage cluster of each unit, or None without ``n_clusters``."""
        if self.n_clusters is None:
            return None
        if isinstance(self.n_clusters, Integral):
            n_units = codebook.shape[0]
            if self.n_clusters > n_units:
                raise ValueError(
                    f"n_clusters={self.n_clusters} is larger than the number of units "
                    f"of the map ({n_units})."
                )
            if n_units == 1:
                return np.zeros(1, dtype=np.intp)
            model = AgglomerativeClustering(
                n_clusters=self.n_clusters, linkage="ward", connectivity=sparse.csr_matrix(adjacent)
            )
        else:
            model = clone(self.n_clusters)
        if hasattr(model, "fit_predict"):
            labels = model.fit_predict(codebook)
        else:
            labels = getattr(model.fit(codebook), "labels_", None)
            if labels is None:
                raise TypeError(
                    f"n_clusters={self.n_clusters!r} is not a clusterer: it has neither fit_predict "
                    "nor labels_ after fit. Pass None, an int, or a clusterer such as KMeans(8)."
                )
        return np.asarray(labels).astype(np.intp, copy=False)

    def _set_labels(self, bmus, unit_labels):
        """``labels_`` (and ``unit_labels_`` with a second stage) from the BMUs."""
        if unit_labels is None:
            self.__dict__.pop("unit_labels_", None)
            self.labels_ = bmus
        else:
            self.unit_labels_ = unit_labels
            self.labels_ = unit_labels[bmus]

    # -- public API -------------------------------------------------------------

    def best_matching_unit(self, X):
        """Index of each sample's best-matching unit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        units : ndarray of shape (n_samples,)
            Indices into :attr:`cluster_centers_`.
        """
        data, codebook = self._check_test_data(X)
        return self._bmus_and_errors(data, codebook, self._resolve_device())[0]

    def predict(self, X):
        """Cluster of each sample: its BMU, or the BMU's cluster with ``n_clusters``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster ids.
        """
        units = self.best_matching_unit(X)
        return self.unit_labels_[units] if hasattr(self, "unit_labels_") else units

    def transform(self, X):
        """Euclidean distance from each sample to every unit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data. With NaN entries, distances use the observed features only.

        Returns
        -------
        distances : ndarray of shape (n_samples, n_units)
            In the dtype of ``X`` (float32 stays float32).
        """
        data, codebook = self._check_test_data(X)
        chunks = (X for _, X in self._row_chunks(data, codebook))
        distances = engine().distances(chunks, codebook, self._resolve_device(), data.masked)
        # Computed in the wider dtype; returned in X's (float32 stays float32).
        return distances.astype(np.float32 if data.X.dtype == np.float32 else np.float64, copy=False)

    def score(self, X, y=None, sample_weight=None):
        """Minus the mean quantization error of ``X`` (higher is better).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the mean.

        Returns
        -------
        score : float
            ``-quantization_error``.
        """
        data, codebook = self._check_test_data(X)
        sample_weight = check_sample_weight(sample_weight, data.X)
        qe = self._bmus_and_errors(data, codebook, self._resolve_device())[2]
        return -float((sample_weight / sample_weight.sum()) @ qe)

    @property
    def _n_features_out(self):
        return self.cluster_centers_.shape[0]

    def __sklearn_is_fitted__(self):
        return hasattr(self, "cluster_centers_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags


# The lattice and schedule parameters of the maps built on LatticeMixin.
LATTICE_PARAMETER_CONSTRAINTS = {
    "topology": [StrOptions(set(TOPOLOGIES))],
    "periodic": ["boolean"],
    "neighborhood": [StrOptions(set(NEIGHBORHOODS))],
    "radius_start": [Interval(Real, 0, None, closed="neither"), None],
    "radius_end": [Interval(Real, 0, None, closed="neither")],
    "radius_decay": [StrOptions(set(DECAYS))],
    "learning_rate_start": [Interval(Real, 0, None, closed="neither"), None],
    "learning_rate_end": [Interval(Real, 0, None, closed="neither"), None],
    "learning_rate_decay": [StrOptions(set(DECAYS))],
}


class LatticeMixin:
    """Radius and learning-rate schedules of the maps whose units sit on a lattice.

    Shared by the SOM and the sequence maps. Uses the parameters ``init``,
    ``radius_start``, ``radius_end``, ``radius_decay``,
    ``learning_rate_start``, ``learning_rate_end`` and
    ``learning_rate_decay``; a subclass gives its default learning rates with
    ``_default_learning_rates()``.
    """

    def _check_radii(self):
        """Reject radii so small that the neighbourhood's squared radius underflows."""
        for name in ("radius_start", "radius_end"):
            value = getattr(self, name)
            if value is not None and value < MIN_RADIUS:
                raise ValueError(
                    f"{name}={value!r} is below {MIN_RADIUS:g}: the neighbourhood divides by the "
                    "squared radius, which would underflow to 0. A radius of 0.1 already confines "
                    "each update to the best-matching unit (the Gaussian is below 1e-21 at the "
                    f"nearest neighbour); use {name}=0.1 or more."
                )

    def _check_fitted_lattice(self, map_size=None):
        """Reject, in ``partial_fit``, a lattice other than the fitted map's.

        ``map_size`` (the size asked for, when it is explicit), ``topology``
        and ``periodic`` define the lattice the fitted units and their
        coordinates live on; continuing on another would train one lattice
        with another's coordinates. (A model fitted before the lattice was
        recorded is checked on its ``map_size_`` only: see
        :func:`~sksom._topology.fitted_lattice`.)
        """
        fitted = dict(zip(("map_size", "topology", "periodic"), fitted_lattice(self)))
        asked = {"topology": self.topology, "periodic": bool(self.periodic)}
        if map_size is not None:
            asked["map_size"] = tuple(int(s) for s in map_size)
        for name, value in asked.items():
            if value != fitted[name]:
                raise ValueError(
                    f"{name}={getattr(self, name)!r} differs from the fitted map's {name}={fitted[name]!r}; "
                    f"partial_fit continues the fitted map. Set {name}={fitted[name]!r} back, or call fit "
                    "to train a new map."
                )

    def _fitted_lattice_state(self, map_size):
        """What :meth:`_check_fitted_lattice` compares with, for the fitted state."""
        return {"map_size": tuple(int(s) for s in map_size), "topology": self.topology, "periodic": bool(self.periodic)}

    def _radius_range(self, map_size):
        end = float(self.radius_end)
        start = self.radius_start
        if start is None:
            # A map initialised on the principal plane starts ordered, so it
            # needs a smaller starting radius than a random one.
            fraction = 0.25 if (isinstance(self.init, str) and self.init == "pca") else 0.5
            start = max(end, fraction * max(map_size))
        return float(start), end

    def _learning_rate_range(self):
        default = self._default_learning_rates()
        start = default[0] if self.learning_rate_start is None else float(self.learning_rate_start)
        end = default[1] if self.learning_rate_end is None else float(self.learning_rate_end)
        return start, end

    def _schedule(self, progress, map_size):
        """Radius and learning rate at training progress in [0, 1]."""
        progress = np.minimum(progress, 1.0)
        radius = DECAYS[self.radius_decay](*self._radius_range(map_size), progress)
        rate = DECAYS[self.learning_rate_decay](*self._learning_rate_range(), progress)
        return radius, rate
