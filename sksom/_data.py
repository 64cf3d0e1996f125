"""Training data read in chunks: arrays, memory maps, sparse matrices, streams.

Training never needs the whole data set in memory at once: every pass over the
data (statistics for the initialisation, each epoch, the final errors) reads
it ``batch_size`` rows at a time. A chunk is handed to the engine as a dense,
C-contiguous array of the compute dtype; NaN marks a missing value.
"""

from contextlib import nullcontext

import numpy as np
import scipy.linalg
from scipy import sparse
from scipy.sparse.linalg import LinearOperator, eigsh
from threadpoolctl import ThreadpoolController

# Above this many features the covariance matrix is not formed; its leading
# eigenvectors are found by Lanczos iterations, one data pass per product.
_DENSE_COVARIANCE_MAX_FEATURES = 2048
# From this many features the eigensolver runs on one BLAS thread.
_ONE_THREAD_EIGH_MIN = 256
# Data of at most this many entries has all its statistics computed on one
# BLAS thread. Its products take milliseconds, but a threaded call wakes
# OpenBLAS's workers, which then spin for about a tenth of a second and take
# a core from the fit's first epochs: repeated fits of digits on a 20 x 20
# map took 0.19 s each instead of 0.13 s on two cores.
_ONE_THREAD_MAX_ENTRIES = 2**21
_blas_controller = None


def blas_controller():
    """The process's controller of NumPy's and SciPy's BLAS thread pools, made once.

    Making it reads the path of every loaded shared library: about 10 ms
    before TensorFlow is imported, 25-40 ms after (TensorFlow loads a few
    hundred), so the engine makes it just before it imports TensorFlow. A
    limit afterwards takes well under 1 ms.
    """
    global _blas_controller
    if _blas_controller is None:
        _blas_controller = ThreadpoolController()
    return _blas_controller


def one_blas_thread():
    """A context in which NumPy's and SciPy's BLAS run on the calling thread only."""
    return blas_controller().limit(limits=1, user_api="blas")


def to_dense(X, dtype):
    """A chunk as a dense C-contiguous array of ``dtype``."""
    if sparse.issparse(X):
        X = X.toarray()
    return np.ascontiguousarray(X, dtype=dtype)


def max_abs(X, step):
    """Largest absolute value of ``X``, ignoring NaN, without a full-size copy."""
    if sparse.issparse(X):
        return float(np.nanmax(np.abs(X.data))) if X.nnz else 0.0
    best = 0.0
    for start in range(0, X.shape[0], step):
        chunk = X[start : start + step]
        if np.isnan(chunk).all():
            continue
        best = max(best, float(np.nanmax(chunk)), -float(np.nanmin(chunk)))
    return best


def has_nan(X, step):
    """Whether ``X`` has a NaN, read in chunks."""
    if sparse.issparse(X):
        return bool(np.isnan(X.data).any())
    return any(np.isnan(X[start : start + step]).any() for start in range(0, X.shape[0], step))


def check_rows_observed(X, step):
    """Raise if a row of ``X`` has no observed (non-NaN) value."""
    for start in range(0, X.shape[0], step):
        chunk = to_dense(X[start : start + step], np.float64)
        empty = np.flatnonzero(np.isnan(chunk).all(axis=1))
        if empty.size:
            raise ValueError(
                f"Row {start + empty[0]} of X is all NaN: a sample needs at least one "
                "observed feature to be placed on the map."
            )


def is_sliceable_dataset(X):
    """Whether ``X`` is a 2-D array-like read by slicing, such as an HDF5 dataset.

    Such objects (``h5py.Dataset``, zarr arrays) have ``shape``, ``dtype`` and
    ``__getitem__`` but are not NumPy arrays: converting them with
    ``np.asarray`` would read them whole, so they are only ever sliced.
    """
    return (
        not isinstance(X, np.ndarray)
        and not sparse.issparse(X)
        and not hasattr(X, "columns")
        and all(hasattr(X, name) for name in ("shape", "dtype", "__getitem__"))
        and len(X.shape) == 2
    )


def check_finite_chunks(X, step, dtype):
    """Reject infinity and non-numeric data in a sliceable dataset, chunk by chunk."""
    if np.dtype(X.dtype).kind not in "biuf":
        raise ValueError(f"X has dtype {X.dtype}; a numeric dtype is expected.")
    for start in range(0, X.shape[0], step):
        chunk = np.asarray(X[start : start + step], dtype=dtype)
        if np.isinf(chunk).any():
            raise ValueError(f"Input X contains infinity or a value too large for {np.dtype(dtype)} (rows from {start}).")


def working_origin(points):
    """A point near ``points`` (rows) to compute distances around, in their dtype.

    The matmul form of squared distances, ``||x||^2 - 2 x.w + ||w||^2``, and
    sums of samples lose the digits that tell units apart when the data sit
    far from the origin; moved to this point, their terms are of the size of
    the points' spread. It is their mean rounded to a multiple of the power
    of two at or below their spread, so that moving coordinates on a coarser
    grid (integers, say) is exact and equal distances stay equal (ties keep
    going to the lower unit index).
    """
    points = np.asarray(points)
    if not points.size:
        return np.zeros(points.shape[1:], points.dtype)
    mean = points.mean(axis=0, dtype=np.float64)
    spread = float(np.max(np.ptp(points, axis=0)))
    if spread > 0 and np.isfinite(spread):
        step = 2.0 ** np.floor(np.log2(spread))
        mean = np.round(mean / step) * step
    return mean.astype(points.dtype)


class ArrayData:
    """Validated in-memory, memory-mapped, sparse or sliceable data with weights."""

    def __init__(self, X, sample_weight, masked, dtype=None, weight_total=None):
        self.X = X.tocsr() if sparse.issparse(X) else X
        self.sample_weight = sample_weight
        # The sum of the weights as the user gave them (``sample_weight`` may
        # be rescaled): weights count as sample frequencies, e.g. in sizing a map.
        self.weight_total = float(sample_weight.sum()) if weight_total is None else float(weight_total)
        self.masked = masked
        self.n_samples, self.n_features = X.shape
        self.dtype = np.dtype(X.dtype if dtype is None else dtype)
        self._sliced = is_sliceable_dataset(X)

    def rows(self, index, dtype):
        """Dense copy of the rows at ``index`` (a slice or an index array)."""
        if self._sliced and not isinstance(index, slice):
            # Datasets read by slicing accept only increasing row indices: read
            # them sorted, then put them back in the order asked for.
            index = np.asarray(index)
            ordered = np.unique(index)
            return to_dense(self.X[ordered], dtype)[np.searchsorted(ordered, index)]
        return to_dense(self.X[index], dtype)

    def chunks(self, step, dtype):
        """Consecutive ``(X, sample_weight)`` chunks of at most ``step`` rows."""
        for start in range(0, self.n_samples, step):
            rows = slice(start, start + step)
            yield self.rows(rows, dtype), np.ascontiguousarray(self.sample_weight[rows], dtype=dtype)

    def shuffled_chunks(self, step, dtype, rng):
        """``(X, sample_weight, positions)`` chunks in a random order of all rows.

        ``positions`` is each row's place in the epoch as a fraction in [0, 1).
        """
        order = rng.permutation(self.n_samples)
        for start in range(0, self.n_samples, step):
            rows = order[start : start + step]
            positions = (start + np.arange(len(rows))) / self.n_samples
            yield self.rows(rows, dtype), np.ascontiguousarray(self.sample_weight[rows], dtype=dtype), positions


def weighted_statistics(data, step, n_components=2):
    """Weighted mean and leading principal axes of the data, in one or more passes.

    Missing values are replaced by the feature's weighted mean for the
    covariance. Returns ``(mean, variances, axes, total_weight)`` with
    ``axes`` of shape ``(n_components, n_features)``, each signed so that its
    largest-magnitude entry is positive (a deterministic initialisation).
    """
    small = data.n_samples * data.n_features <= _ONE_THREAD_MAX_ENTRIES
    with one_blas_thread() if small else nullcontext():
        return _weighted_statistics(data, step, n_components, one_thread_eigh=small)


def _weighted_statistics(data, step, n_components, one_thread_eigh):
    """:func:`weighted_statistics`; ``one_thread_eigh``: the BLAS is limited to one thread already."""
    d = data.n_features
    # float32 data is read and multiplied in float32 (twice as fast; the
    # principal axes only place the initial map), the sums kept in float64.
    compute = np.float32 if data.dtype == np.float32 else np.float64
    total = 0.0
    sums = np.zeros(d)
    observed = np.zeros(d)
    for X, w in data.chunks(step, compute):
        total += w.sum()
        if data.masked:
            mask = ~np.isnan(X)
            sums += w @ np.where(mask, X, 0.0)
            observed += w @ mask
        else:
            sums += w @ X
            observed += w.sum()
    mean = np.divide(sums, observed, out=np.zeros(d), where=observed > 0)

    def centred(X):
        X = X - mean.astype(X.dtype)
        return np.where(np.isnan(X), 0.0, X) if data.masked else X

    k = min(n_components, d)
    if d <= _DENSE_COVARIANCE_MAX_FEATURES:
        cov = np.zeros((d, d))
        for X, w in data.chunks(step, compute):
            Xc = centred(X)
            cov += (Xc * w[:, None]).T @ Xc
        # Only the k leading pairs: LAPACK's subset driver skips most of the
        # work of a full decomposition. Large matrices on one thread: the many
        # small steps gain nothing from more, and on a busy machine threads
        # waiting for each other made 784 features take 0.65 s instead of
        # 0.02 s. (Small data has the whole pass on one thread already.)
        limit = one_blas_thread() if d >= _ONE_THREAD_EIGH_MIN and not one_thread_eigh else nullcontext()
        with limit:
            values, vectors = scipy.linalg.eigh(cov / total, subset_by_index=[d - k, d - 1], driver="evr")
        order = np.argsort(values)[::-1][:k]
        values, vectors = values[order], vectors[:, order].T
    else:

        def matvec(v):
            out = np.zeros(d)
            for X, w in data.chunks(step, np.float64):
                Xc = centred(X)
                out += Xc.T @ (w * (Xc @ np.ravel(v)))
            return out / total

        operator = LinearOperator((d, d), matvec=matvec, dtype=np.float64)
        values, vectors = eigsh(operator, k=k, which="LA", v0=np.ones(d))
        order = np.argsort(values)[::-1]
        values, vectors = values[order], vectors[:, order].T
    values = np.maximum(values, 0.0)
    signs = np.sign(vectors[np.arange(k), np.abs(vectors).argmax(axis=1)])
    vectors = vectors * np.where(signs == 0, 1.0, signs)[:, None]
    return mean, values, vectors, total


def feature_ranges(data, step):
    """Per-feature minimum and maximum over rows with positive weight, ignoring NaN."""
    low = np.full(data.n_features, np.inf)
    high = np.full(data.n_features, -np.inf)
    for X, w in data.chunks(step, np.float64):
        X = X[w > 0]
        if X.size:
            low = np.fmin(low, np.nanmin(np.where(np.isnan(X), np.inf, X), axis=0))
            high = np.fmax(high, np.nanmax(np.where(np.isnan(X), -np.inf, X), axis=0))
    # A feature never observed spans nothing.
    unseen = ~np.isfinite(low)
    low[unseen] = 0.0
    high[unseen] = 0.0
    return low, high
