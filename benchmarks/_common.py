"""Data sets and the arithmetic floor shared by the benchmark scripts.

Every data set is float32 and generated from a fixed seed (or read from a local
file), so that a parent process and its workers see the very same rows without
passing arrays between them. Nothing here imports TensorFlow.
"""

import os
import time
from pathlib import Path

import numpy as np

# The repository sits next to the shared folder: <root>/main and <root>/shared.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MNIST_PATH = SHARED_DATA / "mnist_test10k.npz"


def load_average():
    """The machine's 1, 5 and 15-minute load averages, as a phrase for the output."""
    try:
        return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def rgb_colours(n_samples=5000, seed=0):
    """Uniform random RGB colours in [0, 1]^3."""
    return np.random.default_rng(seed).random((n_samples, 3), dtype=np.float32)


def digits():
    """scikit-learn's 8x8 digits (1,797 x 64), pixel values 0..16."""
    from sklearn.datasets import load_digits

    return load_digits().data.astype(np.float32)


def _digit_like_images(n_samples, seed=0, side=28):
    """Blurry stroke images in ten classes, standing in for MNIST.

    Each class is a fixed set of three thick strokes; a sample is its class
    template shifted by up to two pixels, with random stroke intensity and
    noise, so the set has MNIST's size, range and cluster structure.
    """
    rng = np.random.default_rng(seed)
    templates = np.zeros((10, side + 4, side + 4), dtype=np.float32)
    big = np.stack(np.meshgrid(np.arange(side + 4), np.arange(side + 4), indexing="ij"), -1).reshape(-1, 2)
    for label in range(10):
        for _ in range(3):
            a, b = rng.uniform(6, side - 2, size=(2, 2))
            t = np.clip(((big - a) @ (b - a)) / max((b - a) @ (b - a), 1e-9), 0.0, 1.0)
            dist = np.linalg.norm(big - (a + t[:, None] * (b - a)), axis=1)
            templates[label] = np.maximum(templates[label], np.exp(-(dist**2) / 3.0).reshape(side + 4, side + 4))
    labels = rng.integers(0, 10, n_samples)
    shifts = rng.integers(0, 5, size=(n_samples, 2))
    X = np.empty((n_samples, side * side), dtype=np.float32)
    for i in range(n_samples):
        r, c = shifts[i]
        X[i] = templates[labels[i], r : r + side, c : c + side].ravel()
    X *= rng.uniform(0.6, 1.0, size=(n_samples, 1)).astype(np.float32)
    X += rng.normal(0.0, 0.05, size=X.shape).astype(np.float32)
    return np.clip(X, 0.0, 1.0) * 255.0


def images(n_generated=20000):
    """784-dimensional images and where they came from.

    The 10,000 MNIST test images when ``../shared/data/mnist_test10k.npz`` is
    present, else ``n_generated`` digit-like images (see
    :func:`_digit_like_images`). Pixel values are 0..255.
    """
    if MNIST_PATH.exists():
        with np.load(MNIST_PATH) as data:
            return data["X"].astype(np.float32), "MNIST test images"
    return _digit_like_images(n_generated), "generated digit-like images (MNIST file not present)"


def mnist10k():
    """The 10,000 MNIST test images scaled to [0, 1], or None when the file is absent."""
    if not MNIST_PATH.exists():
        return None
    with np.load(MNIST_PATH) as data:
        return data["X"].astype(np.float32) / np.float32(255.0)


def mnist_or_generated(n_rows):
    """``n_rows`` MNIST test images scaled to [0, 1], else as many generated digit-like ones; and their name."""
    X = mnist10k()
    if X is not None:
        return X[:n_rows], "MNIST test images"
    return _digit_like_images(n_rows) / np.float32(255.0), "generated digit-like images (MNIST file not present)"


def gaussian_blobs(n_samples=200000, n_features=64, n_centers=30, seed=0):
    """Isotropic Gaussian clusters with centres spread in a unit-variance box."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 3.0, size=(n_centers, n_features)).astype(np.float32)
    labels = rng.integers(0, n_centers, n_samples)
    return centres[labels] + rng.standard_normal((n_samples, n_features), dtype=np.float32)


def matmul_floor(X, n_units, repeats=3, seed=0):
    """Best-of-``repeats`` time of one float32 ``X @ W.T`` with ``n_units`` rows in ``W``.

    Every SOM epoch computes at least this product (the distances of every
    sample to every unit), so it is the arithmetic floor of an epoch.
    """
    W = np.random.default_rng(seed).standard_normal((n_units, X.shape[1]), dtype=np.float32)
    X = np.ascontiguousarray(X, dtype=np.float32)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        X @ W.T
        best = min(best, time.perf_counter() - start)
    return best
