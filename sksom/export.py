"""Export a fitted map for serving without scikit-learn or sksom."""

import errno
import os
import tempfile

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._som import SOMClusterer

__all__ = ["export_model"]


def export_model(som, path):
    """Write a fitted map as a TensorFlow SavedModel that predicts cluster ids.

    The SavedModel needs only TensorFlow to run: load it with
    ``tf.saved_model.load(path)`` (or TensorFlow Serving) and call its
    ``serving_default`` signature on float32 rows (NaN for a missing value,
    as in :meth:`SOMClusterer.predict`). It returns a dict with
    ``"cluster_id"`` (what :meth:`SOMClusterer.predict` returns: the
    best-matching unit, or its cluster when ``n_clusters`` was set) and
    ``"unit"`` (the best-matching unit), both int64 of shape (n_samples,).
    A row with no observed value (all NaN), which :meth:`SOMClusterer.predict`
    rejects, gets ``-1`` in both. Input that is not 2-D, or whose number of
    columns is not the map's ``n_features_in_``, raises TensorFlow's
    ``InvalidArgumentError`` with a message saying what is expected.

    Distances are computed in float32, so ids agree with
    ``som.predict(X.astype(np.float32))``; for float64 data they can differ
    only for samples almost equally close to two units.

    Parameters
    ----------
    som : SOMClusterer
        A fitted map. A fitted :class:`~sklearn.pipeline.Pipeline` is not
        accepted: export its last step and apply the preprocessing before
        serving.
    path : str or path-like
        Directory to write the SavedModel to; created if needed, its
        SavedModel files overwritten. An existing file there, or a place
        that cannot be written, raises ``OSError`` naming the path before
        any TensorFlow work.

    Returns
    -------
    path : str
        The directory written.

    Examples
    --------
    >>> import numpy as np, tensorflow as tf
    >>> from sksom import SOMClusterer
    >>> from sksom.export import export_model
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    >>> som = SOMClusterer(map_size=(1, 2), random_state=0).fit(X)
    >>> import tempfile
    >>> path = export_model(som, tempfile.mkdtemp())
    >>> served = tf.saved_model.load(path).signatures["serving_default"]
    >>> served(X=tf.constant(X, tf.float32))["cluster_id"].numpy()
    array([0, 0, 1, 1])
    """
    if not isinstance(som, SOMClusterer):
        raise TypeError(
            f"export_model expects a fitted SOMClusterer; got {type(som).__name__}. "
            "For a Pipeline, export its last step and apply the preprocessing before serving."
        )
    check_is_fitted(som)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or path-like; got {type(path).__name__}.")
    _check_directory_writable(os.fspath(path))
    n_units = som.cluster_centers_.shape[0]
    unit_labels = getattr(som, "unit_labels_", np.arange(n_units))
    # TensorFlow is imported here, on first use, never by ``import sksom``.
    from . import _engine

    _engine.export_saved_model(som.cluster_centers_, unit_labels, path)
    return os.fspath(path)


def _check_directory_writable(path):
    """Create ``path`` as a directory and check it can be written, naming it if not."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise FileExistsError(
            errno.EEXIST,
            "export_model writes a SavedModel directory, but this path is an existing file; "
            "choose another path or remove the file",
            path,
        )
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".sksom-check-"):
            pass
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write the SavedModel there: {exc.strerror or exc}", path) from None
