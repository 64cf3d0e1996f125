"""Missing values, sparse input, chunked and memory-mapped data, tf.distribute."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import make_blobs

from sksom import SOMClusterer
from sksom._topology import gaussian, squared_grid_distances

X_blobs, _ = make_blobs(n_samples=150, centers=4, n_features=5, random_state=1)
rng = np.random.RandomState(0)
X_nan = X_blobs.copy()
X_nan[rng.uniform(size=X_nan.shape) < 0.2] = np.nan
X_nan[np.isnan(X_nan).all(axis=1), 0] = 0.0
W0 = rng.normal(size=(12, 5)) * 3


def _masked_sq_distances(X, W):
    """Squared distances over each sample's observed features, in plain NumPy."""
    diff = X[:, None, :] - W[None, :, :]
    return np.nansum(diff**2, axis=2)


def _reference_masked_batch_epoch(X, W, map_size, radius):
    """SOM Toolbox batch map with missing values: per-feature denominators."""
    bmu = _masked_sq_distances(X, W).argmin(axis=1)
    h = gaussian(squared_grid_distances(map_size), radius)[:, bmu]  # (units, samples)
    observed = ~np.isnan(X)
    numerator = h @ np.where(observed, X, 0.0)
    denominator = h @ observed
    return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), W)


def test_missing_values_batch_map_matches_numpy_reference():
    """Check that NaN entries are skipped in distances and in the updates."""
    som = SOMClusterer(map_size=(3, 4), init=W0, radius_start=2.0, radius_end=1.0, max_iter=2).fit(X_nan)
    W = _reference_masked_batch_epoch(X_nan, W0, (3, 4), 2.0)
    W = _reference_masked_batch_epoch(X_nan, W, (3, 4), 1.0)
    np.testing.assert_allclose(som.cluster_centers_, W, rtol=1e-10, atol=1e-10)


def test_predict_and_transform_with_missing_values():
    """Check that predict and transform on rows with NaN use observed features."""
    som = SOMClusterer(map_size=(3, 4), max_iter=3, random_state=0).fit(X_blobs)
    expected = np.sqrt(_masked_sq_distances(X_nan, som.cluster_centers_))
    np.testing.assert_allclose(som.transform(X_nan), expected, rtol=1e-8, atol=1e-8)
    np.testing.assert_array_equal(som.predict(X_nan), expected.argmin(axis=1))
    assert som.score(X_nan) == pytest.approx(-expected.min(axis=1).mean())
    with pytest.raises(ValueError, match="all NaN"):
        som.predict(np.array([[np.nan] * 5]))


@pytest.mark.parametrize("algorithm", ["online", "minibatch"])
def test_sequential_algorithms_train_with_missing_values(algorithm):
    """Check that online and mini-batch training with NaN give a finite, useful map."""
    som = SOMClusterer(map_size=(4, 4), algorithm=algorithm, max_iter=5, random_state=0).fit(X_nan)
    assert np.all(np.isfinite(som.cluster_centers_))
    clean = SOMClusterer(map_size=(4, 4), algorithm=algorithm, max_iter=5, random_state=0).fit(X_blobs)
    # Missing a fifth of the entries costs little quantization error on blobs.
    assert som.score(X_blobs) > 1.5 * clean.score(X_blobs)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("algorithm", ["batch", "online"])
def test_sparse_input_matches_dense(fmt, algorithm):
    """Check that sparse input trains and predicts as the same dense data."""
    X = np.where(np.abs(X_blobs) < 4, 0.0, X_blobs)
    X_sparse = sparse.csr_matrix(X).asformat(fmt)
    params = dict(map_size=(3, 3), algorithm=algorithm, max_iter=3, batch_size=40, random_state=0)
    dense = SOMClusterer(**params).fit(X)
    sparse_som = SOMClusterer(**params).fit(X_sparse)
    np.testing.assert_allclose(sparse_som.cluster_centers_, dense.cluster_centers_, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(sparse_som.predict(X_sparse), dense.predict(X))
    np.testing.assert_allclose(sparse_som.transform(X_sparse), dense.transform(X), rtol=1e-9, atol=1e-9)


def test_chunks_never_exceed_batch_size(monkeypatch):
    """Check that the engine only ever sees batch_size rows at a time."""
    import sksom._engine as _tf_engine

    seen = []
    real = _tf_engine.batch_epoch

    def spy(chunks, *args, **kwargs):
        def record():
            for X, w in chunks:
                seen.append(len(X))
                yield X, w

        return real(record(), *args, **kwargs)

    monkeypatch.setattr(_tf_engine, "batch_epoch", spy)
    SOMClusterer(map_size=(3, 3), max_iter=2, batch_size=32).fit(X_blobs)
    assert max(seen) == 32 and sum(seen) == 2 * len(X_blobs)


@pytest.mark.parametrize(
    "map_size, rows",
    [
        ((40, 40), 10485),  # 2**24 // 1600: a chunk of many rows needs no larger block
        ((100, 100), 3355),  # 2**25 // 10000: below 4096 rows, the block may double
        ((200, 200), 838),  # 2**25 // 40000
        ((700, 700), 256),  # the floor
    ],
)
def test_auto_chunk_rows(map_size, rows):
    """Check the documented auto chunk: 2**24 distance entries, 2**25 below 4096 rows, at least 256."""
    som = SOMClusterer(map_size=map_size)
    assert som._chunk_size(map_size[0] * map_size[1], 64) == rows


def test_streamed_epoch_equals_in_memory_epoch(tmp_path):
    """Check that a memmap read in small chunks trains as the in-memory array."""
    path = tmp_path / "X.dat"
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=X_blobs.shape)
    mm[:] = X_blobs
    mm.flush()
    mm = np.memmap(path, dtype=np.float32, mode="r", shape=X_blobs.shape)
    params = dict(map_size=(3, 4), max_iter=3)
    streamed = SOMClusterer(batch_size=16, **params).fit(mm)
    in_memory = SOMClusterer(batch_size=len(X_blobs), **params).fit(np.asarray(X_blobs, dtype=np.float32))
    np.testing.assert_allclose(streamed.cluster_centers_, in_memory.cluster_centers_, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(streamed.predict(mm), in_memory.predict(mm))


@pytest.mark.parametrize("source", ["arrays", "tf.data"])
def test_partial_fit_over_a_stream_of_chunks(source):
    """Check that partial_fit over k chunks (arrays or a tf.data.Dataset) runs the schedule once."""
    if source == "tf.data":
        import tensorflow as tf

        chunks = tf.data.Dataset.from_tensor_slices(X_blobs).batch(30).as_numpy_iterator()
    else:
        chunks = np.array_split(X_blobs, 5)
    som = SOMClusterer(map_size=(3, 3), max_iter=5, radius_start=2.0, random_state=0)
    for chunk in chunks:
        som.partial_fit(chunk)
    assert som.n_iter_ == 5
    # One streamed pass comes within 20% of the quantization error of five
    # full epochs over all the data.
    full = SOMClusterer(map_size=(3, 3), max_iter=5, radius_start=2.0, random_state=0).fit(X_blobs)
    assert som.score(X_blobs) > 1.2 * full.score(X_blobs)


def test_strategy_requires_the_batch_algorithm():
    """Check that asking to distribute a sequential algorithm is an error."""
    with pytest.raises(ValueError, match="distributes the batch map only"):
        SOMClusterer(algorithm="online", strategy="mirrored").fit(X_blobs)
    with pytest.raises(ValueError, match="The 'strategy' parameter"):
        SOMClusterer(strategy="ring").fit(X_blobs)


MIRRORED_SCRIPT = textwrap.dedent(
    """
    import functools, pickle
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 4)
    from sklearn.base import clone
    from sklearn.datasets import make_blobs
    from sksom import SOMClusterer

    X, _ = make_blobs(n_samples=403, centers=5, n_features=6, random_state=0)
    devices = [f"/cpu:{i}" for i in range(4)]
    factory = functools.partial(tf.distribute.MirroredStrategy, devices=devices)
    params = dict(map_size=(5, 4), max_iter=4, batch_size=100, random_state=0)
    one = SOMClusterer(**params).fit(X)
    som = SOMClusterer(strategy=factory, **params)
    many = clone(pickle.loads(pickle.dumps(som))).fit(X)
    print("max_abs_diff", np.abs(one.cluster_centers_ - many.cluster_centers_).max())
    print("same_labels", bool((one.labels_ == many.labels_).all()))
    """
)


def test_mirrored_strategy_on_four_virtual_devices_matches_one_device():
    """Check that a MirroredStrategy over 4 virtual CPUs gives the one-device codebook."""
    out = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    values = dict(line.split() for line in out.stdout.splitlines() if line.split()[0] in {"max_abs_diff", "same_labels"})
    assert float(values["max_abs_diff"]) < 1e-5
    assert values["same_labels"] == "True"


class SliceOnlyDataset:
    """An HDF5-like dataset: shape, dtype and slicing, but no whole-array conversion."""

    def __init__(self, array):
        self._array = array
        self.shape = array.shape
        self.dtype = array.dtype
        self.reads = []

    def __getitem__(self, index):
        rows = self._array[index]
        if isinstance(index, np.ndarray):
            assert np.all(np.diff(index) > 0), "HDF5 datasets need increasing indices"
        self.reads.append(len(rows))
        return rows

    def __array__(self, *args, **kwargs):
        raise AssertionError("the dataset was converted whole")

    def __len__(self):
        return self.shape[0]


@pytest.mark.parametrize("algorithm", ["batch", "online"])
def test_sliceable_dataset_is_read_in_chunks(algorithm):
    """Check that an HDF5-like dataset is only sliced, batch_size rows at a time."""
    dataset = SliceOnlyDataset(X_nan.astype(np.float32))
    params = dict(map_size=(3, 3), algorithm=algorithm, max_iter=2, batch_size=32, random_state=0)
    som = SOMClusterer(**params).fit(dataset)
    ref = SOMClusterer(**params).fit(X_nan.astype(np.float32))
    np.testing.assert_allclose(som.cluster_centers_, ref.cluster_centers_, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(som.predict(dataset), ref.predict(X_nan.astype(np.float32)))
    assert som.cluster_centers_.dtype == np.float32
    # Each epoch (and the final errors) reads the 150 rows 32 at a time.
    assert dataset.reads.count(32) >= 3 * (150 // 32)
    with pytest.raises(ValueError, match="X has 4 features"):
        som.predict(SliceOnlyDataset(X_blobs[:, :4]))


def test_pca_statistics_without_the_covariance_matrix(monkeypatch):
    """Check that the Lanczos path for many features gives the covariance path's axes."""
    from sksom import _data

    data = _data.ArrayData(X_nan, rng.uniform(0.5, 2.0, size=len(X_nan)), masked=True)
    dense = _data.weighted_statistics(data, step=40)
    monkeypatch.setattr(_data, "_DENSE_COVARIANCE_MAX_FEATURES", 2)
    lanczos = _data.weighted_statistics(data, step=40)
    for a, b in zip(dense, lanczos):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


REPRODUCIBLE_SCRIPT = textwrap.dedent(
    """
    import numpy as np
    from sksom._engine import batch_epoch
    from sksom._topology import BatchSmoothing

    rng = np.random.default_rng(0)
    X = rng.random((20000, 64)).astype(np.float32)
    weights = np.ones(len(X), np.float32)
    W = X[:16].copy()  # few units: many rows of a chunk share one
    smoothing = BatchSmoothing((4, 4), "rectangular", False, "gaussian", len(X))
    operands = smoothing.operands(1.0, np.float32)
    chunks = [(X[i:i + 4000], weights[i:i + 4000]) for i in range(0, len(X), 4000)]
    first = batch_epoch(chunks, W, smoothing.form, operands)[0]
    again = [batch_epoch(chunks, W, smoothing.form, operands)[0] for _ in range(10)]
    print("max_abs_diff", max(np.abs(codebook - first).max() for codebook in again))
    """
)


def test_batch_map_over_several_chunks_is_reproducible():
    """Check that a batch epoch over several chunks gives the same codebook to the last bit, every time.

    The chunks' sums are added into running totals: an addition whose order
    varies from run to run (a parallel scatter-add) changes the last bits,
    and a map drifts apart over the epochs. It takes several threads to
    show, and not on every run, so the epoch runs eleven times, in a process
    given two threads whatever this one has.
    """
    env = dict(os.environ, TF_NUM_INTRAOP_THREADS="2", TF_CPP_MIN_LOG_LEVEL="2")
    out = subprocess.run(
        [sys.executable, "-c", REPRODUCIBLE_SCRIPT], capture_output=True, text=True, timeout=300, env=env
    )
    assert out.returncode == 0, out.stderr[-2000:]
    difference = float(out.stdout.split("max_abs_diff")[1].split()[0])
    assert difference == 0.0, out.stdout
