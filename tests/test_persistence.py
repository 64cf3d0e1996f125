"""Tests for the version stamp of saved models and for export_model."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sksom
from sksom import SOMClusterer
from sksom.exceptions import InconsistentVersionWarning
from sksom.export import export_model

rng = np.random.RandomState(0)
X = np.concatenate([rng.normal(loc, 0.3, size=(40, 3)) for loc in (0.0, 2.0, 4.0)])
X_new = rng.uniform(-1.0, 5.0, size=(200, 3))


@pytest.fixture(scope="module")
def fitted():
    return SOMClusterer((4, 5), max_iter=5, random_state=0).fit(X)


def _state_with_version(som, version):
    state = som.__getstate__()
    if version is None:
        del state["_sksom_version"]
    else:
        state["_sksom_version"] = version
    return state


def test_pickle_records_sksom_version(fitted):
    """Check that the pickled state carries the sksom version that wrote it."""
    assert fitted.__getstate__()["_sksom_version"] == sksom.__version__


def test_same_version_loads_silently_and_predicts_the_same(fitted, tmp_path):
    """Check that a model saved and loaded by the same version gives no warning."""
    joblib.dump(fitted, tmp_path / "model.joblib")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = joblib.load(tmp_path / "model.joblib")
        again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.predict(X_new), fitted.predict(X_new))
    np.testing.assert_array_equal(again.cluster_centers_, fitted.cluster_centers_)
    # The stamp belongs to the file, not to the estimator.
    assert not hasattr(loaded, "_sksom_version")


@pytest.mark.parametrize("saved, shown", [("0.0.1", "0.0.1"), (None, "unknown")])
def test_other_version_warns(fitted, saved, shown):
    """Check that loading a model stamped by another version warns, naming both."""
    clone = SOMClusterer.__new__(SOMClusterer)
    with pytest.warns(InconsistentVersionWarning, match=f"saved by sksom {shown} with sksom {sksom.__version__}"):
        clone.__setstate__(_state_with_version(fitted, saved))
    np.testing.assert_array_equal(clone.predict(X_new), fitted.predict(X_new))
    assert not hasattr(clone, "_sksom_version")


def test_warning_attributes(fitted):
    """Check that the warning carries the estimator name and both versions."""
    clone = SOMClusterer.__new__(SOMClusterer)
    with pytest.warns(InconsistentVersionWarning) as record:
        clone.__setstate__(_state_with_version(fitted, "9.9"))
    warning = record[0].message
    assert (warning.estimator_name, warning.original_sksom_version) == ("SOMClusterer", "9.9")
    assert warning.current_sksom_version == sksom.__version__


@pytest.mark.parametrize(
    "params",
    [
        dict(map_size=(4, 5)),
        dict(map_size=(4, 4), topology="hexagonal", periodic=True),
        dict(map_size=(5, 5), n_clusters=3),
        dict(map_size=(4, 5), missing=True),
        dict(map_size=(6, 6), offset=1e4),
    ],
)
def test_exported_model_predicts_the_same_ids(params, tmp_path):
    """Check that the SavedModel gives the ids of predict, without sksom.

    With ``offset`` the data sit 1e4 from the origin, where both compute
    around the codebook's mean (float32 norms there keep no digit below 16).
    """
    import tensorflow as tf

    params = dict(params)
    offset = params.pop("offset", 0.0)
    som = SOMClusterer(max_iter=4, random_state=0, **{k: v for k, v in params.items() if k != "missing"})
    som.fit((X + offset).astype(np.float32) if offset else X)
    path = export_model(som, tmp_path / "served")
    serve = tf.saved_model.load(path).signatures["serving_default"]
    X32 = (X_new + offset).astype(np.float32)
    if params.get("missing"):
        X32[::7, 1] = np.nan
    out = serve(X=tf.constant(X32))
    np.testing.assert_array_equal(out["cluster_id"].numpy(), som.predict(X32))
    np.testing.assert_array_equal(out["unit"].numpy(), som.best_matching_unit(X32))
    if offset:
        # Both right, not merely equal: the nearest unit in float64.
        W = som.cluster_centers_.astype(np.float64)
        nearest = ((X32.astype(np.float64)[:, None] - W[None]) ** 2).sum(-1).argmin(axis=1)
        assert np.mean(out["unit"].numpy() == nearest) >= 0.99
    if "n_clusters" in params:
        assert len(np.unique(out["cluster_id"].numpy())) <= 3


def test_export_rejects_unfitted_and_pipelines(fitted, tmp_path):
    """Check that export_model names the problem for bad estimators and paths."""
    with pytest.raises(NotFittedError):
        export_model(SOMClusterer(), tmp_path / "m")
    pipe = make_pipeline(StandardScaler(), SOMClusterer((2, 2), max_iter=1)).fit(X)
    with pytest.raises(TypeError, match="last step"):
        export_model(pipe, tmp_path / "m")
    with pytest.raises(TypeError, match="path must be"):
        export_model(fitted, 42)


def test_export_path_errors_name_the_path(fitted, tmp_path, monkeypatch):
    """Check that an existing file or an unwritable place is an OSError naming it, before TensorFlow works."""
    import sksom._engine as engine

    def fail(*args):
        raise AssertionError("TensorFlow work started before the path was checked")

    monkeypatch.setattr(engine, "export_saved_model", fail)
    existing = tmp_path / "model.bin"
    existing.write_bytes(b"x")
    with pytest.raises(FileExistsError, match="existing file") as info:
        export_model(fitted, existing)
    assert info.value.filename == str(existing)
    blocked = existing / "served"  # a folder inside a file cannot be created
    with pytest.raises(OSError, match="cannot write the SavedModel") as info:
        export_model(fitted, blocked)
    assert info.value.filename == str(blocked)


def test_exported_model_checks_its_input(fitted, tmp_path):
    """Check that the SavedModel rejects a wrong width or a 1-D input clearly, and gives -1 for an all-NaN row."""
    import tensorflow as tf

    serve = tf.saved_model.load(export_model(fitted, tmp_path / "served")).signatures["serving_default"]
    d = fitted.n_features_in_
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"X must have {d} features"):
        serve(X=tf.zeros((3, d + 1)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="X must be 2-D"):
        serve(X=tf.zeros((d,)))
    rows = X_new[:3].astype(np.float32)
    rows[1] = np.nan
    out = serve(X=tf.constant(rows))
    np.testing.assert_array_equal(out["unit"].numpy()[[0, 2]], fitted.best_matching_unit(rows[[0, 2]]))
    assert out["unit"].numpy()[1] == -1 and out["cluster_id"].numpy()[1] == -1
    with pytest.raises(ValueError, match="all NaN"):
        fitted.predict(rows)
