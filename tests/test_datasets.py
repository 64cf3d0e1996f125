"""Tests for sksom.datasets: the loaders of local copies, on small files the tests write."""

import pickle
import subprocess
import sys
import tarfile

import numpy as np
import pytest

from sksom.datasets import load_cifar10_local, load_mnist_local

_rng = np.random.RandomState(0)


def test_load_mnist_local_reads_both_layouts(tmp_path):
    """Check that both npz layouts load, flattened, and that bad files fail clearly."""
    images = _rng.randint(0, 256, size=(6, 28, 28)).astype(np.uint8)
    labels = np.arange(6)
    np.savez(tmp_path / "flat.npz", X=images.reshape(6, -1), y=labels)
    np.savez(tmp_path / "keras.npz", x_train=images[:4], y_train=labels[:4], x_test=images[4:], y_test=labels[4:])
    for name in ("flat.npz", "keras.npz"):
        X, y = load_mnist_local(tmp_path / name)
        np.testing.assert_array_equal(X, images.reshape(6, 784))
        np.testing.assert_array_equal(y, labels)
    np.savez(tmp_path / "other.npz", a=labels)
    with pytest.raises(ValueError, match="expected"):
        load_mnist_local(tmp_path / "other.npz")
    with pytest.raises(FileNotFoundError):
        load_mnist_local(tmp_path / "absent.npz")


def _cifar_batch(images, labels):
    # CIFAR-10's layout: each row holds the red, then green, then blue 32 x 32 plane
    return {b"data": images.transpose(0, 3, 1, 2).reshape(len(images), -1), b"labels": list(labels)}


@pytest.mark.parametrize("archive", [False, True])
def test_load_cifar10_local_reads_batches(tmp_path, archive):
    """Check that CIFAR-10 pickle batches load channels-last, from a folder or a tar.gz."""
    images = _rng.randint(0, 256, size=(5, 32, 32, 3)).astype(np.uint8)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    with open(folder / "data_batch_1", "wb") as f:
        pickle.dump(_cifar_batch(images[:3], [0, 1, 2]), f)
    with open(folder / "test_batch", "wb") as f:
        pickle.dump(_cifar_batch(images[3:], [3, 4]), f)
    path = folder
    if archive:
        path = tmp_path / "cifar-10-batches-py.tar.gz"
        with tarfile.open(path, "w:gz") as tar:
            tar.add(folder, arcname="cifar-10-batches-py")
    X, y = load_cifar10_local(path)
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, [0, 1, 2, 3, 4])
    X, y = load_cifar10_local(path, max_samples=2)
    np.testing.assert_array_equal(X, images[:2])


def test_load_cifar10_local_missing(tmp_path, monkeypatch):
    """Check that a missing CIFAR-10 raises FileNotFoundError instead of downloading."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="never downloaded"):
        load_cifar10_local()
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="No CIFAR-10 batch"):
        load_cifar10_local(tmp_path / "empty")


def test_datasets_does_not_import_tensorflow():
    """Check that importing sksom.datasets loads neither TensorFlow nor Keras."""
    code = "import sys, sksom.datasets; sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_old_keras_path_still_loads_with_a_warning(tmp_path):
    """Check that sksom.keras.load_mnist_local still works, warning that it moved to sksom.datasets."""
    import sksom.keras

    with pytest.warns(FutureWarning, match="sksom.datasets.load_mnist_local"):
        loader = sksom.keras.load_mnist_local
    assert loader is load_mnist_local
    with pytest.raises(AttributeError, match="no attribute 'load_nothing'"):
        sksom.keras.load_nothing  # noqa: B018
