"""Loaders of local copies of datasets (MNIST, CIFAR-10): NumPy only, they never download."""

import os
import pickle
import tarfile
from pathlib import Path

import numpy as np

__all__ = ["load_cifar10_local", "load_mnist_local"]


def load_mnist_local(path):
    """Load MNIST digits from a local ``.npz`` file.

    Two layouts are read: arrays ``X`` (images, flattened or 28x28) and ``y``,
    as in ``mnist_test10k.npz``; or Keras' ``mnist.npz`` with ``x_train``,
    ``y_train``, ``x_test``, ``y_test`` (training and test sets concatenated).

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.

    Returns
    -------
    X : ndarray of shape (n_samples, 784)
        Pixel values as stored (uint8 in 0..255 for the usual files).
    y : ndarray of shape (n_samples,)
        Digit labels.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file holds neither layout.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MNIST file not found: {path}.")
    with np.load(path, allow_pickle=False) as data:
        keys = set(data.files)
        if {"X", "y"} <= keys:
            X, y = data["X"], data["y"]
        elif {"x_train", "y_train", "x_test", "y_test"} <= keys:
            X = np.concatenate([data["x_train"], data["x_test"]])
            y = np.concatenate([data["y_train"], data["y_test"]])
        else:
            raise ValueError(
                f"{path} holds arrays {sorted(keys)}; expected 'X' and 'y', or Keras' "
                "'x_train', 'y_train', 'x_test', 'y_test'."
            )
    X = X.reshape(len(X), -1)
    if len(X) != len(y):
        raise ValueError(f"{path} has {len(X)} images but {len(y)} labels.")
    return X, np.asarray(y).ravel()


_CIFAR_BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def load_cifar10_local(path=None, *, max_samples=None):
    """Load CIFAR-10 from the local copy that ``keras.datasets`` caches.

    Reads the Python-pickle batches (``data_batch_1`` ... ``data_batch_5``,
    ``test_batch``) from the ``cifar-10-batches-py`` folder or from the
    ``cifar-10-batches-py.tar.gz`` archive. Missing batches are skipped. It
    never downloads.

    Parameters
    ----------
    path : str or path-like, default=None
        The folder or the archive. ``None`` looks in
        ``~/.keras/datasets/`` (``$KERAS_HOME/datasets`` when set) for either.
    max_samples : int, default=None
        Stop after this many images.

    Returns
    -------
    images : ndarray of shape (n_samples, 32, 32, 3), dtype=uint8
        Colour images, channels last.
    labels : ndarray of shape (n_samples,)
        Class labels 0-9.

    Raises
    ------
    FileNotFoundError
        If neither the folder nor the archive is there, or it holds no batch.
    """
    if path is None:
        home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"
        candidates = [home / "cifar-10-batches-py", home / "cifar-10-batches-py.tar.gz"]
        path = next((p for p in candidates if p.exists()), candidates[0])
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"CIFAR-10 not found at {path}; it is never downloaded here.")
    batches = []
    if path.is_dir():
        for name in _CIFAR_BATCHES:
            if (path / name).is_file():
                with open(path / name, "rb") as f:
                    batches.append(pickle.load(f, encoding="bytes"))
    else:
        with tarfile.open(path) as archive:
            members = {Path(m.name).name: m for m in archive.getmembers() if m.isfile()}
            for name in _CIFAR_BATCHES:
                if name in members:
                    batches.append(pickle.load(archive.extractfile(members[name]), encoding="bytes"))
    if not batches:
        raise FileNotFoundError(f"No CIFAR-10 batch ({', '.join(_CIFAR_BATCHES)}) in {path}.")
    images, labels, count = [], [], 0
    for batch in batches:
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        # stored as rows of 3072 values: the red plane, then green, then blue
        images.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        labels.append(np.asarray(batch[b"labels"]))
        count += len(data)
        if max_samples is not None and count >= max_samples:
            break
    images, labels = np.concatenate(images), np.concatenate(labels)
    if max_samples is not None:
        images, labels = images[:max_samples], labels[:max_samples]
    return images, labels
