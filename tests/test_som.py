"""Behaviour of SOMClusterer: training, outputs, validation, persistence."""

import importlib.util
import os
import pickle
import re
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits, make_blobs
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from _reference import lattice_adjacency, two_nearest
from sksom import SOMClusterer
from sksom._data import ArrayData
from sksom._topology import NEIGHBORHOODS, squared_grid_distances
from sksom.metrics import quantization_error, topographic_error

X_blobs, y_blobs = make_blobs(n_samples=120, centers=3, n_features=4, random_state=0)
X_digits = load_digits().data[:300]


def _reference_batch_epoch(X, W, map_size, topology, periodic, neighborhood, radius, weights=None):
    """Kohonen's batch map written out in NumPy, one sample at a time."""
    weights = np.ones(len(X)) if weights is None else weights
    d2 = squared_grid_distances(map_size, topology, periodic)
    numerator = np.zeros_like(W)
    denominator = np.zeros(len(W))
    for x, w in zip(X, weights):
        bmu = np.argmin(((W - x) ** 2).sum(axis=1))
        h = NEIGHBORHOODS[neighborhood](d2[bmu], radius)
        numerator += w * h[:, None] * x
        denominator += w * h
    new = W.copy()
    has_data = denominator > 0
    new[has_data] = numerator[has_data] / denominator[has_data, None]
    return new


def _initial_codebook(X, **params):
    """The codebook SOMClusterer(**params) starts training from."""
    som = SOMClusterer(**params)
    data = ArrayData(X, np.ones(len(X)), masked=False)
    return som._initial_state(data, np.random.RandomState(params.get("random_state")))[2]


# -- training ------------------------------------------------------------------


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
@pytest.mark.parametrize("periodic", [False, True])
@pytest.mark.parametrize("neighborhood", ["gaussian", "bubble"])
def test_batch_epochs_match_numpy_reference(topology, periodic, neighborhood):
    """Check that fit runs the batch map of a NumPy reference, epoch by epoch."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    W0 = rng.normal(size=(20, 3))
    weights = rng.uniform(0.5, 2.0, size=200)
    params = dict(
        map_size=(4, 5), topology=topology, periodic=periodic, neighborhood=neighborhood,
        radius_start=1.6, radius_end=1.2, radius_decay="exponential", max_iter=3, init=W0,
    )
    som = SOMClusterer(**params).fit(X, sample_weight=weights)
    W = W0.copy()
    for radius in [1.6, 1.6 * (1.2 / 1.6) ** 0.5, 1.2]:
        W = _reference_batch_epoch(X, W, (4, 5), topology, periodic, neighborhood, radius, weights)
    np.testing.assert_allclose(som.cluster_centers_, W, rtol=1e-10, atol=1e-10)
    assert som.n_iter_ == 3


def test_units_without_data_keep_their_weights():
    """Check that a unit no sample reaches keeps its weights (no 0/0, no reset)."""
    X = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1]])
    W0 = np.array([[0.0, 0.0], [50.0, 50.0], [100.0, 100.0]])
    som = SOMClusterer(map_size=(1, 3), neighborhood="bubble", radius_start=0.5, radius_end=0.5, max_iter=2, init=W0)
    som.fit(X)
    np.testing.assert_array_equal(som.cluster_centers_[1:], W0[1:])
    np.testing.assert_allclose(som.cluster_centers_[0], X.mean(axis=0))
    assert np.all(np.isfinite(som.cluster_centers_))


@pytest.mark.parametrize("algorithm", ["batch", "online", "minibatch"])
def test_fit_equals_repeated_partial_fit(algorithm):
    """Check that fit equals max_iter calls of partial_fit on the same data."""
    params = dict(map_size=(4, 4), algorithm=algorithm, max_iter=4, random_state=3, init="sample")
    full = SOMClusterer(**params).fit(X_blobs)
    streamed = SOMClusterer(**params)
    for _ in range(4):
        streamed.partial_fit(X_blobs)
    np.testing.assert_allclose(streamed.cluster_centers_, full.cluster_centers_, rtol=1e-12, atol=1e-12)
    assert streamed.n_iter_ == full.n_iter_ == 4


@pytest.mark.parametrize(
    "change, allowed",
    [
        ({"map_size": (4, 4)}, False),
        ({"topology": "hexagonal"}, False),
        ({"periodic": True}, False),
        ({"map_size": (4, 6)}, True),  # the fitted size, written out
        ({"map_size": "auto"}, True),  # "auto" keeps the fitted size
    ],
)
def test_partial_fit_refuses_another_lattice(change, allowed):
    """Check that partial_fit continues only on the fitted lattice, and leaves the map untouched when it refuses."""
    som = SOMClusterer(map_size=(4, 6), max_iter=2, random_state=0).fit(X_blobs)
    codebook = som.cluster_centers_.copy()
    som.set_params(**change)
    if allowed:
        som.partial_fit(X_blobs)
        assert som.map_size_ == (4, 6) and som.n_iter_ == 3
        return
    (name,) = change
    with pytest.raises(ValueError, match=f"{name}=.* differs from the fitted map's {name}="):
        som.partial_fit(X_blobs)
    np.testing.assert_array_equal(som.cluster_centers_, codebook)
    assert som.n_iter_ == 2


def test_partial_fit_continues_the_radius_schedule():
    """Check that partial_fit advances the schedule and then stays at its end."""
    som = SOMClusterer(map_size=(3, 3), max_iter=3, radius_start=3.0, radius_end=1.0, random_state=0)
    for _ in range(5):
        som.partial_fit(X_blobs)
    assert som.n_iter_ == 5
    # One more call at the end of the schedule is a batch step with radius_end.
    before = som.cluster_centers_.copy()
    som.partial_fit(X_blobs)
    expected = _reference_batch_epoch(X_blobs, before, (3, 3), "rectangular", False, "gaussian", 1.0)
    np.testing.assert_allclose(som.cluster_centers_, expected, rtol=1e-10)
    # The first call used the start radius: compare with a one-epoch reference.
    first = SOMClusterer(map_size=(3, 3), max_iter=3, radius_start=3.0, radius_end=1.0, random_state=0)
    first.partial_fit(X_blobs)
    init = _initial_codebook(X_blobs, map_size=(3, 3), random_state=0)
    expected = _reference_batch_epoch(X_blobs, init, (3, 3), "rectangular", False, "gaussian", 3.0)
    np.testing.assert_allclose(first.cluster_centers_, expected, rtol=1e-10)


def test_sample_weight_zero_equals_removal_and_integer_equals_repetition():
    """Check that weights act as sample frequencies in the batch map."""
    weights = np.ones(len(X_blobs))
    weights[:30] = 0
    weights[30:40] = 2
    X_rep = np.vstack([X_blobs[30:], X_blobs[30:40]])
    params = dict(map_size=(3, 4), max_iter=5)
    weighted = SOMClusterer(**params).fit(X_blobs, sample_weight=weights)
    repeated = SOMClusterer(**params).fit(X_rep)
    np.testing.assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("init", ["pca", "random", "sample"])
@pytest.mark.parametrize("algorithm", ["batch", "online"])
def test_same_seed_gives_identical_results(init, algorithm):
    """Check that training is deterministic for a fixed random_state."""
    params = dict(map_size=(4, 5), init=init, algorithm=algorithm, max_iter=3, random_state=7)
    a = SOMClusterer(**params).fit(X_digits)
    b = SOMClusterer(**params).fit(X_digits)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    if init != "pca":
        c = SOMClusterer(**{**params, "random_state": 8}).fit(X_digits)
        assert not np.array_equal(a.cluster_centers_, c.cluster_centers_)


def test_training_organises_the_map():
    """Check that a trained map beats its initialisation and preserves topology."""
    som = SOMClusterer(map_size=(8, 8), init="random", max_iter=15, random_state=0).fit(X_digits)
    W0 = _initial_codebook(X_digits, map_size=(8, 8), init="random", random_state=0)
    assert som.quantization_error_ < 0.7 * quantization_error(X_digits, W0)
    assert som.topographic_error_ < 0.2


def test_auto_map_size_follows_the_toolbox_heuristic():
    """Check that map_size='auto' gives about 5 sqrt(n) units, long side on PC 1."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 3)) * [4.0, 1.0, 0.1]
    som = SOMClusterer(max_iter=1).fit(X)
    n_rows, n_columns = som.map_size_
    # sqrt of the ratio of the two largest variances: sqrt(16 / 1) = 4.
    assert abs(n_rows * n_columns - 100) <= 8
    assert n_rows / n_columns == pytest.approx(4.0, rel=0.25)
    # The first principal direction runs along the rows of the initial map.
    first_column = som.cluster_centers_.reshape(n_rows, n_columns, 3)[:, 0, 0]
    assert np.ptp(first_column) > np.ptp(som.cluster_centers_.reshape(n_rows, n_columns, 3)[0, :, 0])


def test_auto_map_size_counts_weights_as_frequencies():
    """Check that map_size='auto' sizes a map from weights as from the repeated samples they stand for."""
    rng = np.random.RandomState(1)
    X = rng.normal(size=(100, 2)) * [3.0, 1.0]
    weights = np.full(100, 4.0)
    weighted = SOMClusterer(max_iter=1).fit(X, sample_weight=weights)
    repeated = SOMClusterer(max_iter=1).fit(np.repeat(X, 4, axis=0))
    assert weighted.map_size_ == repeated.map_size_
    # 5 sqrt(400) = 100 units, not the 5 sqrt(100) = 50 of the unweighted rows.
    assert abs(np.prod(weighted.map_size_) - 100) <= 8


# -- outputs ---------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", ["auto", 7])
def test_outputs_are_consistent(batch_size):
    """Check predict, transform, score, labels_ and the fitted errors against NumPy.

    ``batch_size=7`` reads the data in several chunks, which share one
    prepared codebook; ``"auto"`` reads it in one, which prepares its own.
    """
    som = SOMClusterer(map_size=(4, 5), max_iter=5, random_state=0, batch_size=batch_size).fit(X_blobs)
    W = som.cluster_centers_
    D = np.sqrt(((X_blobs[:, None, :] - W[None]) ** 2).sum(-1))
    np.testing.assert_allclose(som.transform(X_blobs), D, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(som.predict(X_blobs), D.argmin(axis=1))
    np.testing.assert_array_equal(som.labels_, D.argmin(axis=1))
    np.testing.assert_array_equal(som.best_matching_unit(X_blobs), D.argmin(axis=1))
    np.testing.assert_array_equal(som.best_matching_coordinates(X_blobs), som.unit_coordinates_[D.argmin(axis=1)])
    assert som.score(X_blobs) == pytest.approx(-D.min(axis=1).mean())
    assert som.quantization_error_ == pytest.approx(quantization_error(X_blobs, W))
    assert som.topographic_error_ == pytest.approx(topographic_error(X_blobs, W, (4, 5)))
    assert som.cluster_centers_.shape == (20, 4)
    assert som.unit_coordinates_.shape == (20, 2)
    assert som.get_feature_names_out().tolist() == [f"somclusterer{i}" for i in range(20)]
    np.testing.assert_array_equal(som.fit_predict(X_blobs), som.labels_)


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
@pytest.mark.parametrize("periodic", [False, True])
def test_fitted_errors_are_weighted_by_sample_weight(topology, periodic):
    """Check that quantization_error_ and topographic_error_ are sample_weight-weighted means.

    The data is read in several chunks (batch_size=64), and the adjacency is
    the one written out above.
    """
    X = X_digits
    rng = np.random.RandomState(1)
    # A codebook of random samples, which training (at a negligible rate)
    # leaves in place: many samples have non-adjacent BMUs, and the weights
    # favour those and the samples far from their BMU.
    init = X[rng.choice(len(X), 24, replace=False)] + rng.normal(scale=0.1, size=(24, X.shape[1]))
    first0, second0, distance0 = two_nearest(X, init)
    adjacent0 = lattice_adjacency((4, 6), topology, periodic)[first0, second0]
    weights = rng.uniform(size=len(X)) * np.where(adjacent0, 1.0, 4.0) * distance0
    som = SOMClusterer(
        map_size=(4, 6), topology=topology, periodic=periodic, init=init, algorithm="minibatch",
        learning_rate_start=1e-12, learning_rate_end=1e-12, max_iter=1, batch_size=64, random_state=0,
    ).fit(X, sample_weight=weights)
    first, second, distance = two_nearest(X, som.cluster_centers_)
    misplaced = ~lattice_adjacency((4, 6), topology, periodic)[first, second]
    expected_te = (weights * misplaced).sum() / weights.sum()
    assert som.topographic_error_ == pytest.approx(expected_te, rel=1e-9)
    assert som.quantization_error_ == pytest.approx((weights * distance).sum() / weights.sum(), rel=1e-9)
    # The weights matter here: the unweighted means are far from the weighted ones.
    assert abs(misplaced.mean() - expected_te) > 0.02
    assert abs(distance.mean() - som.quantization_error_) > 0.02 * som.quantization_error_


def test_ties_go_to_the_lowest_unit_index():
    """Check that a sample equally close to several units gets the lowest of their indices."""
    som = SOMClusterer(map_size=(2, 3), max_iter=1).fit(X_blobs)
    # Units 1 and 4 coincide, and so do units 2 and 5.
    som.cluster_centers_ = np.array([[9.0] * 4, [0.0] * 4, [1.0] * 4, [9.0] * 4, [0.0] * 4, [1.0] * 4])
    X = np.array([[0.0] * 4, [0.9] * 4, [-0.1] * 4])
    np.testing.assert_array_equal(som.predict(X), [1, 2, 1])
    np.testing.assert_array_equal(som.best_matching_unit(X), [1, 2, 1])
    distances = som.transform(X)
    np.testing.assert_array_equal(distances[:, 1], distances[:, 4])


@pytest.mark.parametrize("n_clusters", [3, KMeans(n_clusters=3, n_init=2, random_state=0)])
def test_second_stage_clustering(n_clusters):
    """Check that predict returns the cluster of each sample's BMU."""
    som = SOMClusterer(map_size=(5, 5), n_clusters=n_clusters, max_iter=5, random_state=0).fit(X_blobs)
    assert som.unit_labels_.shape == (25,)
    assert set(np.unique(som.unit_labels_)) == {0, 1, 2}
    np.testing.assert_array_equal(som.predict(X_blobs), som.unit_labels_[som.best_matching_unit(X_blobs)])
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(y_blobs, som.labels_) > 0.9
    # Refitting without n_clusters drops the unit -> cluster map.
    som.set_params(n_clusters=None).fit(X_blobs)
    assert not hasattr(som, "unit_labels_")
    assert som.predict(X_blobs).max() > 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    """Check that float32 data is computed and returned in float32, float64 in float64."""
    X = X_blobs.astype(dtype)
    som = SOMClusterer(map_size=(3, 3), max_iter=3, random_state=0).fit(X)
    assert som.cluster_centers_.dtype == dtype
    assert som.transform(X).dtype == dtype
    som.partial_fit(X)
    assert som.cluster_centers_.dtype == dtype


def test_float32_model_rejects_values_that_overflow_float32():
    """Check that data too large for the compute dtype is an error, not inf."""
    som = SOMClusterer(map_size=(2, 2), max_iter=2).fit(X_blobs.astype(np.float32))
    big = X_blobs.copy()
    big[0, 0] = 1e300
    with pytest.raises(ValueError, match="infinity|too large"):
        som.partial_fit(big)
    with pytest.raises(ValueError, match="too large"):
        SOMClusterer(map_size=(2, 2)).fit(np.full((5, 2), 1e30, dtype=np.float32))
    assert np.all(np.isfinite(som.cluster_centers_))


def _tracing_counts():
    """Every live tf.function and how many times it has been traced so far."""
    import gc

    import tensorflow as tf

    return {
        id(f): (f, f.experimental_get_tracing_count())
        for f in gc.get_objects()
        if isinstance(f, tf.types.experimental.PolymorphicFunction)
    }


# One configuration per compiled path of fit, partial_fit, predict and transform.
RETRACE_PATHS = [
    dict(algorithm="batch"),  # the data is one chunk
    dict(algorithm="batch", batch_size=32),  # several chunks
    dict(algorithm="online"),
    dict(algorithm="minibatch", batch_size=16),
]


def _run_every_path(map_size, n_samples, n_features):
    X = np.random.RandomState(n_samples).normal(size=(n_samples, n_features))
    for params in RETRACE_PATHS:
        som = SOMClusterer(map_size=map_size, max_iter=2, random_state=0, **params).fit(X)
        som.partial_fit(X)
        som.predict(X)
        som.transform(X)
        som.score(X)


def test_no_retracing_across_map_sizes_and_data_sizes():
    """Check that new map sizes, sample counts and feature counts trace no compiled function again.

    The functions are found by what fit and predict left alive, not by name,
    so that the check follows the engine wherever its kernels move.
    """
    _run_every_path((3, 3), 70, 4)
    before = _tracing_counts()
    for map_size, n_samples, n_features in [((4, 5), 90, 6), ((2, 7), 45, 3)]:
        _run_every_path(map_size, n_samples, n_features)
    retraced = [
        getattr(f, "__name__", repr(f))
        for key, (f, count) in _tracing_counts().items()
        if count > before.get(key, (f, 0))[1]
    ]
    assert retraced == []
    # The check saw the kernels: each path traced at least one function.
    assert sum(count > 0 for _, count in before.values()) >= len(RETRACE_PATHS)


def test_device_parameter(monkeypatch):
    """Check that device='cpu' places the computation on the CPU and a missing device is a clear error."""
    import tensorflow as tf

    entered = []
    real_device = tf.device
    monkeypatch.setattr(tf, "device", lambda name: entered.append(name) or real_device(name))
    som = SOMClusterer(map_size=(3, 3), max_iter=2, device="cpu").fit(X_blobs)
    assert entered and set(entered) == {"/CPU:0"}
    entered.clear()
    som.predict(X_blobs)
    assert entered and set(entered) == {"/CPU:0"}
    entered.clear()
    # device=None leaves placement to TensorFlow.
    ref = SOMClusterer(map_size=(3, 3), max_iter=2).fit(X_blobs)
    assert entered == []
    np.testing.assert_allclose(som.cluster_centers_, ref.cluster_centers_)
    if not tf.config.list_logical_devices("GPU"):
        with pytest.raises(ValueError, match="TensorFlow sees only"):
            SOMClusterer(map_size=(3, 3), device="gpu").fit(X_blobs)
    with pytest.raises(ValueError, match="TensorFlow sees only"):
        SOMClusterer(map_size=(3, 3), device="/CPU:7").fit(X_blobs)


def test_verbose_prints_one_line_per_epoch(capsys):
    """Check that verbose=1 prints each epoch with its quantization error."""
    SOMClusterer(map_size=(3, 3), max_iter=3, verbose=1).fit(X_blobs)
    lines = [line for line in capsys.readouterr().out.splitlines() if "epoch" in line]
    assert len(lines) == 3
    assert "quantization error" in lines[-1] and "3/3" in lines[-1]


def test_engine_starts_tensorflow_quietly():
    """Check that starting the engine prints none of TensorFlow's start-up notices (CPU-only machine)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = "import sksom._engine as e; print(len(e.available_devices()) > 0)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
    for notice in ("absl::InitializeLog", "cuda drivers", "cuInit", "oneDNN", "I0000", "E0000", "cpu_feature_guard"):
        assert notice not in result.stderr, result.stderr


def test_engine_finds_the_blas_libraries_before_loading_tensorflow():
    """Check that the BLAS controller of small fits is made at engine import, before TensorFlow loads."""
    code = (
        "import sys, sksom._data as d\n"
        "made = d.blas_controller\n"
        "def spy():\n"
        "    print('tensorflow' in sys.modules, len(made().select(user_api='blas').lib_controllers) > 0)\n"
        "d.blas_controller = spy\n"
        "import sksom._engine\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False True"


@pytest.mark.parametrize(
    ("preset", "tensorflow_first", "expected"),
    [(None, False, "1 True"), ("0", False, "0 False"), (None, True, "None False")],
    ids=["sksom-loads-tensorflow", "user-set-0", "tensorflow-imported-first"],
)
def test_engine_turns_on_onednn_unless_the_user_decided(preset, tensorflow_first, expected):
    """Check that the engine sets TF_ENABLE_ONEDNN_OPTS=1 only when it loads TensorFlow and the user left it unset."""
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if preset is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = preset
    code = (
        ("import tensorflow\n" if tensorflow_first else "")
        + "import os, sksom._engine.device as d\n"
        "print(os.environ.get('TF_ENABLE_ONEDNN_OPTS'), d.ONEDNN_DEFAULTED)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_start_up_filter_keeps_real_errors():
    """Check that the start-up filter drops TensorFlow's notices and keeps any other line."""
    from sksom._engine.device import _filter_start_up_noise

    noise = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1.5 1 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.\n"
        "I0000 00:00:1.6 1 port.cc:153] oneDNN custom operations are on. You may see slightly different results.\n"
        "E0000 00:00:1.7 1 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error (303)\n"
    )
    real = "E0000 00:00:1.8 1 kernel.cc:1] out of memory allocating the codebook\n"
    assert _filter_start_up_noise(noise + real) == [real]


# sksom.datasets joins the list when it exists.
NUMPY_MODULES = ["sksom", "sksom.metrics", "sksom.maps", "sksom.plotting", "sksom.export"] + (
    ["sksom.datasets"] if importlib.util.find_spec("sksom.datasets") else []
)


def test_import_does_not_load_tensorflow_or_matplotlib():
    """Check that importing the package and its NumPy modules imports neither TensorFlow nor matplotlib."""
    # One module at a time in one process, reporting what each one pulled in.
    code = (
        "import importlib, sys\n"
        f"for module in {NUMPY_MODULES!r}:\n"
        "    importlib.import_module(module)\n"
        "    print(module, sorted(m for m in ('tensorflow', 'keras', 'matplotlib') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:-1] == [f"{module} []" for module in NUMPY_MODULES]


# -- scikit-learn integration -----------------------------------------------------


def test_pipeline_and_grid_search_over_map_size():
    """Check that a Pipeline ending in SOMClusterer grid-searches map_size in parallel."""
    pipe = make_pipeline(StandardScaler(), PCA(10), SOMClusterer(map_size=(10, 10), max_iter=5, random_state=0))
    ids = pipe.fit(X_digits).predict(X_digits[:7])
    assert ids.shape == (7,) and ids.max() < 100
    grid = {"somclusterer__map_size": [(3, 3), (5, 5), (8, 8)]}
    gs = GridSearchCV(pipe, grid, n_jobs=2, cv=2).fit(X_digits)
    # The default score (minus quantization error) prefers the largest map.
    assert gs.best_params_["somclusterer__map_size"] == (8, 8)
    assert gs.best_estimator_[-1].cluster_centers_.shape == (64, 10)


@pytest.mark.parametrize("dump_load", ["pickle", "joblib", "clone"])
def test_round_trips_give_identical_predictions(dump_load, tmp_path):
    """Check that pickle, joblib and clone+refit reproduce predictions bit for bit."""
    som = SOMClusterer(map_size=(4, 4), n_clusters=3, max_iter=3, random_state=0).fit(X_digits)
    if dump_load == "pickle":
        other = pickle.loads(pickle.dumps(som))
    elif dump_load == "joblib":
        joblib.dump(som, tmp_path / "som.joblib")
        other = joblib.load(tmp_path / "som.joblib")
    else:
        other = clone(som).fit(X_digits)
    np.testing.assert_array_equal(other.predict(X_digits), som.predict(X_digits))
    np.testing.assert_array_equal(other.transform(X_digits), som.transform(X_digits))
    np.testing.assert_array_equal(other.cluster_centers_, som.cluster_centers_)


def test_fit_gives_the_blas_threads_back():
    """Check that a fit leaves NumPy's and SciPy's BLAS thread counts as it found them.

    The statistics of small data run on one BLAS thread (OpenBLAS's workers
    would otherwise spin beside the fit's first epochs); the limit must end
    with them.
    """
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return sorted((i["filepath"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas")

    with threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        assert before and all(n == 2 for _, n in before)
        SOMClusterer(map_size=(3, 3), init="pca", max_iter=2, random_state=0).fit(X_blobs)
        assert blas_threads() == before


def test_fitted_state_is_numpy_only():
    """Check that no TensorFlow object survives fit."""
    som = SOMClusterer(map_size=(3, 3), max_iter=2, random_state=0).fit(X_blobs)
    for name, value in vars(som).items():
        assert "tensorflow" not in type(value).__module__, name


# -- validation ------------------------------------------------------------------

BAD_PARAMS = [
    (dict(map_size=(0, 3)), "map_size must be 'auto' or a pair of positive ints"),
    (dict(map_size=(3,)), "map_size must be 'auto' or a pair"),
    (dict(map_size=(2.5, 3)), "map_size must be 'auto' or a pair"),
    (dict(map_size="big"), "The 'map_size' parameter"),
    (dict(topology="square"), "The 'topology' parameter"),
    (dict(neighborhood="cosine"), "The 'neighborhood' parameter"),
    (dict(neighborhood="mexican_hat"), "negative values"),
    (dict(max_iter=0), "The 'max_iter' parameter"),
    (dict(radius_end=-1.0), "The 'radius_end' parameter"),
    (dict(radius_start=0.0), "The 'radius_start' parameter"),
    (dict(learning_rate_start=0.0), "The 'learning_rate_start' parameter"),
    (dict(batch_size=0), "The 'batch_size' parameter"),
    (dict(algorithm="sgd"), "The 'algorithm' parameter"),
    (dict(init="kmeans++"), "The 'init' parameter"),
    (dict(map_size=(2, 2), init=np.zeros((3, 4))), re.escape("expected (n_units, n_features) = (4, 4)")),
    (dict(init=np.zeros((3, 4))), "give map_size explicitly"),
    (dict(map_size=(2, 2), init=np.full((4, 4), np.nan)), "init contains NaN"),
    (dict(map_size=(2, 2), init=np.full((4, 4), 1e200)), "init has values up to 1e\\+200, too large"),
    (dict(n_clusters=0), "The 'n_clusters' parameter"),
    (dict(n_clusters=True), "got the bool True"),
    (dict(radius_start=1e-300, radius_end=1e-300), "radius_start=1e-300 is below"),
    (dict(radius_end=1e-300, algorithm="online"), "radius_end=1e-300 is below"),
    (dict(map_size=(2, 2), n_clusters=5), "larger than the number of units"),
    (dict(map_size=(3, 4), topology="hexagonal", periodic=True), "even number of rows"),
    (dict(device="tpu"), "TensorFlow sees only"),
]


@pytest.mark.parametrize("params, message", BAD_PARAMS)
def test_bad_parameters_raise_clear_errors(params, message):
    """Check that each bad parameter value gives a ValueError naming it."""
    with pytest.raises(ValueError, match=message):
        SOMClusterer(**{"max_iter": 2, **params}).fit(X_blobs)


BAD_X = [
    (np.array([[1.0, 2.0], [np.nan, np.nan]]), ValueError, "Row 1 of X is all NaN"),
    (np.array([[0.0, np.inf], [1.0, 2.0]]), ValueError, "infinity"),
    (np.empty((0, 3)), ValueError, "0 sample"),
    (np.empty((3, 0)), ValueError, "0 feature"),
    (np.arange(5.0), ValueError, "Expected 2D array"),
    (np.array([["a", "b"], ["c", "d"]]), ValueError, "could not convert string"),
    (np.ones((2, 2), dtype=complex), ValueError, "[Cc]omplex"),
]


@pytest.mark.parametrize("X, error, message", BAD_X)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_bad_input_raises_clear_errors(X, error, message, method):
    """Check that invalid training data is rejected by validation."""
    with pytest.raises(error, match=message):
        getattr(SOMClusterer(map_size=(2, 2)), method)(X)


@pytest.mark.parametrize("method", ["predict", "transform", "score", "partial_fit", "best_matching_unit"])
def test_wrong_number_of_features_after_fit(method):
    """Check that data with another number of features is rejected after fit."""
    som = SOMClusterer(map_size=(2, 2), max_iter=2).fit(X_blobs)
    with pytest.raises(ValueError, match="X has 3 features, but SOMClusterer is expecting 4"):
        getattr(som, method)(X_blobs[:, :3])


@pytest.mark.parametrize("method", ["predict", "transform", "score", "best_matching_unit"])
def test_unfitted_model_raises(method):
    """Check that using an unfitted model raises NotFittedError."""
    with pytest.raises(NotFittedError):
        getattr(SOMClusterer(), method)(X_blobs)


def test_bad_sample_weight():
    """Check that negative, all-zero and misshaped weights are rejected."""
    som = SOMClusterer(map_size=(2, 2))
    with pytest.raises(ValueError, match="[Nn]egative"):
        som.fit(X_blobs, sample_weight=-np.ones(len(X_blobs)))
    with pytest.raises(ValueError, match="non-zero|positive sum"):
        som.fit(X_blobs, sample_weight=np.zeros(len(X_blobs)))
    with pytest.raises(ValueError, match="shape"):
        som.fit(X_blobs, sample_weight=np.ones(3))


@pytest.mark.parametrize("algorithm", ["batch", "online"])
def test_tiny_radius_is_rejected_without_warnings(algorithm):
    """Check that radii whose square underflows are a clear error, with no RuntimeWarning."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="radius_start=1e-300 is below 1e-06"):
            SOMClusterer((2, 2), algorithm=algorithm, radius_start=1e-300, radius_end=1e-300).fit(X_blobs)
        # The smallest radius allowed trains: only each sample's BMU moves.
        som = SOMClusterer((2, 2), algorithm=algorithm, radius_start=1e-6, radius_end=1e-6, max_iter=2).fit(X_blobs)
    assert np.all(np.isfinite(som.cluster_centers_))


def test_sample_weight_whose_sum_overflows_is_rejected():
    """Check that weights summing to infinity are a ValueError in fit and in score."""
    som = SOMClusterer(map_size=(2, 2), max_iter=2, random_state=0).fit(X_blobs)
    for value in (1e307, 1e308):
        weights = np.full(len(X_blobs), value)
        with pytest.raises(ValueError, match="sample_weight sums to infinity"):
            SOMClusterer(map_size=(2, 2)).fit(X_blobs, sample_weight=weights)
        with pytest.raises(ValueError, match="sample_weight sums to infinity"):
            som.score(X_blobs, sample_weight=weights)
    # Large weights whose sum is finite give the same mean as uniform ones.
    big = np.full(len(X_blobs), 1e306)
    assert som.score(X_blobs, sample_weight=big) == pytest.approx(som.score(X_blobs), rel=1e-12)


def test_float32_data_on_a_float64_model_with_a_large_codebook():
    """Check that float32 queries are computed in float64 when the codebook would overflow float32."""
    rng = np.random.RandomState(0)
    X = np.vstack([rng.rand(50, 3) * 1e18, rng.rand(50, 3) * 1e18 + 1e20])
    som = SOMClusterer((2, 2), max_iter=3, random_state=0).fit(X)
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(som.predict(X32), som.predict(X))
    distances = som.transform(X32)
    assert distances.dtype == np.float32
    expected = np.sqrt(((X32.astype(np.float64)[:, None, :] - som.cluster_centers_[None]) ** 2).sum(axis=2))
    np.testing.assert_allclose(distances, expected, rtol=1e-6)


def _interrupt_epochs(monkeypatch, after):
    """Make the engine's epoch functions raise KeyboardInterrupt on call number ``after + 1``.

    The interrupted call first reads one chunk of its data, as a real epoch
    would, so that the data order has been drawn from the random state.
    """
    import sksom._engine as engine_module

    calls = {"n": 0}

    def wrap(real):
        def epoch(chunks, *args, **kwargs):
            calls["n"] += 1
            if calls["n"] > after:
                next(iter(chunks), None)
                raise KeyboardInterrupt
            return real(chunks, *args, **kwargs)

        return epoch

    for name in ("batch_epoch", "online_epoch", "minibatch_epoch"):
        monkeypatch.setattr(engine_module, name, wrap(getattr(engine_module, name)))
    return calls


def _state(som):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(som).items()}


def _assert_same_state(som, before):
    assert vars(som).keys() == before.keys()
    for key, value in before.items():
        if isinstance(value, np.random.RandomState):
            np.testing.assert_array_equal(getattr(som, key).get_state()[1], value.get_state()[1])
        else:
            np.testing.assert_array_equal(getattr(som, key), value)


@pytest.mark.parametrize("algorithm", ["batch", "online"])
def test_failed_or_interrupted_fit_leaves_model_unchanged(algorithm, monkeypatch):
    """Check that an error or interruption mid-training does not half-update the model."""
    params = dict(map_size=(3, 3), max_iter=3, random_state=0, algorithm=algorithm)
    som = SOMClusterer(**params).fit(X_blobs)
    twin = SOMClusterer(**params).fit(X_blobs)
    before = _state(som)
    calls = _interrupt_epochs(monkeypatch, after=1)
    # Another feature count: validation has already reset n_features_in_ when training is interrupted.
    with pytest.raises(KeyboardInterrupt):
        som.fit(X_blobs[:50, :3])
    _assert_same_state(som, before)
    assert som.predict(X_blobs).shape == (len(X_blobs),)
    calls["n"] = 1
    with pytest.raises(KeyboardInterrupt):
        som.partial_fit(X_blobs)
    _assert_same_state(som, before)
    monkeypatch.undo()
    # The interrupted calls drew nothing from the random state the next call continues with.
    som.partial_fit(X_blobs)
    twin.partial_fit(X_blobs)
    np.testing.assert_array_equal(som.cluster_centers_, twin.cluster_centers_)

    fresh = SOMClusterer(**params)
    _interrupt_epochs(monkeypatch, after=0)
    with pytest.raises(KeyboardInterrupt):
        fresh.partial_fit(X_blobs)
    with pytest.raises(NotFittedError):
        fresh.predict(X_blobs)
    assert not hasattr(fresh, "n_features_in_")
