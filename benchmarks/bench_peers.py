"""sksom against the SOM libraries people use today, side by side.

Each library trains on the same data, the same square rectangular map and the
same number of epochs, in a fresh Python process of its own. The table gives,
per data set and library:

* ``fit s``: wall time of the first fit in that process. Importing the library
  (TensorFlow, PyTorch) is excluded; tracing and compilation are included.
* ``peak MB``: the worker's peak resident memory (``VmHWM``), imports
  included.
* ``QE`` and ``TE``: quantization and topographic error of the returned
  codebook, computed here by :mod:`sksom.metrics` for every library (on at
  most 50,000 fixed rows of the data, so that evaluation stays cheap).
* ``x sksom``: fit time divided by that of the sksom row of the same kind
  (batch-type peers against sksom ``batch``, online peers against sksom
  ``online``, mini-batch peers against sksom ``minibatch``).

and, per data set, the arithmetic floor: one float32 ``X @ W.T`` (NumPy) per
epoch, times the number of epochs.

Settings. sksom runs with its defaults (PCA initialisation, Gaussian
neighbourhood, radius decaying geometrically from a quarter of the map side
down to 1). Every peer gets the same recipe as far as its API allows: PCA
initialisation, Gaussian neighbourhood of the same width (``std_coeff=1``
where the library scales the radius), radius from the same start towards 1,
decaying exponentially where the library offers it (somoclu, XPySom) and
linearly otherwise (MiniSom, susi; TorchSOM keeps its own schedule). Online
peers get the same number of updates (``epochs * n_samples`` samples in
random order) and a learning rate from 0.5 towards 0.

Usage::

    python benchmarks/bench_peers.py            # full sizes (several minutes)
    python benchmarks/bench_peers.py --quick    # small sizes (about a minute)
    python benchmarks/bench_peers.py --datasets digits --libraries sksom minisom
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

EVAL_ROWS = 50000

# name -> (loader, map side, batch epochs, online epochs). Online training is
# sequential, so the large sets get fewer epochs there (MiniSom would take tens
# of minutes at the batch epoch count).
FULL = {
    "rgb": (lambda: _common.rgb_colours(5000), 30, 20, 5),
    "digits": (_common.digits, 20, 20, 10),
    "images": (lambda: _common.images(20000)[0], 30, 10, 1),
    "blobs": (lambda: _common.gaussian_blobs(200000), 40, 10, 1),
}
QUICK = {
    "rgb": (lambda: _common.rgb_colours(2000), 10, 10, 3),
    "digits": (_common.digits, 10, 10, 2),
    "images": (lambda: _common.images(20000)[0][:2000], 10, 5, 1),
    "blobs": (lambda: _common.gaussian_blobs(20000), 20, 5, 1),
}

# (library, algorithm, module that must import). Order is the table's order.
RUNS = [
    ("sksom", "batch", "sksom"),
    ("sksom", "online", "sksom"),
    ("sksom", "minibatch", "sksom"),
    ("somoclu", "batch", "somoclu"),
    ("xpysom", "batch", "xpysom"),
    ("susi", "batch", "susi"),
    ("torchsom", "minibatch", "torchsom"),
    ("minisom", "online", "minisom"),
]

MINIBATCH_SIZE = 128  # sksom's default mini-batch; TorchSOM gets the same

# Full-size runs left out, and why: measured in quick mode, these would run
# past the per-worker time limit or exhaust the memory of a shared machine.
SKIP_FULL = {
    ("susi", "images"): "quick mode: 39 s and 2.6 GB on 2,000 rows; full size would not fit the time limit",
    ("susi", "blobs"): "quick mode: 100 s and 8 GB on 20,000 rows; full size would exhaust memory",
    ("torchsom", "blobs"): "quick mode: 57 s on 20,000 rows x 5 epochs; full size is about 40x that",
}


def radius_start(side):
    """sksom's default start radius with ``init="pca"``: a quarter of the side."""
    return max(1.0, side / 4.0)


# -- one fit per worker process -------------------------------------------------


def _fit_sksom(X, side, epochs, algorithm):
    import sksom._engine  # noqa: F401  (the TensorFlow import is not timed)
    from sksom import SOMClusterer

    som = SOMClusterer(map_size=(side, side), algorithm=algorithm, max_iter=epochs, random_state=0)
    start = time.perf_counter()
    som.fit(X)
    return time.perf_counter() - start, som.cluster_centers_


def _fit_somoclu(X, side, epochs, algorithm):
    import somoclu

    # std_coeff=1 makes somoclu's Gaussian exp(-d^2 / 2r^2), as in sksom.
    som = somoclu.Somoclu(
        side, side, initialization="pca", compactsupport=False, std_coeff=1.0, maptype="planar",
        gridtype="rectangular", neighborhood="gaussian",
    )
    start = time.perf_counter()
    som.train(X, epochs=epochs, radius0=radius_start(side), radiusN=1.0, radiuscooling="exponential")
    return time.perf_counter() - start, som.codebook.reshape(side * side, -1)


def _fit_xpysom(X, side, epochs, algorithm):
    import xpysom

    start = time.perf_counter()
    som = xpysom.XPySom(
        side, side, X.shape[1], sigma=radius_start(side), sigmaN=1.0, decay_function="exponential",
        std_coeff=1.0, random_seed=0, xp=np,
    )
    som.pca_weights_init(X)
    som.train(X, epochs)
    return time.perf_counter() - start, np.asarray(som._weights).reshape(side * side, -1)


def _fit_susi(X, side, epochs, algorithm):
    import susi

    som = susi.SOMClustering(
        side, side, init_mode_unsupervised="pca", n_iter_unsupervised=epochs,
        train_mode_unsupervised="batch", random_state=0,
    )
    start = time.perf_counter()
    som.fit(X)
    return time.perf_counter() - start, np.asarray(som.unsuper_som_).reshape(side * side, -1)


def _fit_torchsom(X, side, epochs, algorithm):
    import torch
    from torchsom import SOM

    data = torch.from_numpy(X)
    start = time.perf_counter()
    som = SOM(
        side, side, X.shape[1], epochs=epochs, batch_size=MINIBATCH_SIZE, sigma=radius_start(side),
        learning_rate=0.5, random_seed=0,
    )
    som.initialize_weights(data, mode="pca")
    som.fit(data, verbose=False)
    return time.perf_counter() - start, som.weights.detach().numpy().reshape(side * side, -1)


def _fit_minisom(X, side, epochs, algorithm):
    import minisom

    som = minisom.MiniSom(
        side, side, X.shape[1], sigma=radius_start(side), learning_rate=0.5,
        decay_function="inverse_decay_to_zero", sigma_decay_function="linear_decay_to_one", random_seed=0,
    )
    start = time.perf_counter()
    som.pca_weights_init(X)
    som.train(X, epochs * X.shape[0], random_order=True)
    return time.perf_counter() - start, som.get_weights().reshape(side * side, -1)


FITTERS = {
    "sksom": _fit_sksom,
    "somoclu": _fit_somoclu,
    "xpysom": _fit_xpysom,
    "susi": _fit_susi,
    "torchsom": _fit_torchsom,
    "minisom": _fit_minisom,
}


def worker(spec):
    """Fit one library on one data set; write the codebook, print a JSON line."""
    table = QUICK if spec["quick"] else FULL
    loader, side, epochs, online_epochs = table[spec["dataset"]]
    X = np.ascontiguousarray(loader(), dtype=np.float32)
    if spec["algorithm"] == "online":
        epochs = online_epochs
    seconds, codebook = FITTERS[spec["library"]](X, side, epochs, spec["algorithm"])
    np.save(spec["out"], np.asarray(codebook, dtype=np.float32))
    print(json.dumps({"seconds": seconds, "peak_mb": _peak_memory_mb(), "epochs": epochs}))


def _peak_memory_mb():
    """Peak resident memory of this process, in MiB.

    Linux keeps ``ru_maxrss`` across ``exec``, so in a worker it would report
    the parent's peak when that is larger; ``VmHWM`` belongs to the worker's
    own address space. ``ru_maxrss`` is the fallback elsewhere.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    scale = 1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


# -- the parent: run workers, evaluate, print ------------------------------------


def _installed(module):
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, check=False).returncode == 0


def _run_worker(spec, timeout):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    # Passive OpenMP waiting: on a loaded machine, spinning OpenMP threads
    # (somoclu) would otherwise lose most of their time to each other.
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore", OMP_WAIT_POLICY="PASSIVE")
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "timeout": timeout}, f"timed out after {timeout:.0f} s"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"failed: {last[:100]}"
    return json.loads(done.stdout.strip().splitlines()[-1]), None


def _evaluation_rows(n_samples):
    if n_samples <= EVAL_ROWS:
        return slice(None)
    return np.sort(np.random.default_rng(0).choice(n_samples, EVAL_ROWS, replace=False))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--datasets", nargs="+", choices=list(FULL), default=list(FULL))
    parser.add_argument("--libraries", nargs="+", choices=list(FITTERS), default=list(FITTERS))
    parser.add_argument("--timeout", type=float, default=None, help="seconds per worker")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return

    from sksom.metrics import quantization_error, topographic_error

    table = QUICK if args.quick else FULL
    timeout = args.timeout or (120.0 if args.quick else 300.0)
    available = {}
    for library, _, module in RUNS:
        if library in args.libraries and library not in available:
            available[library] = _installed(module)
            if not available[library]:
                print(f"{library}: not installed, skipped")
    print(f"CPU cores: {os.cpu_count()}; {_common.load_average()} at start")
    if not _common.MNIST_PATH.exists():
        print(f"{_common.MNIST_PATH}: not present, 'images' uses generated digit-like images")

    header = f"{'data':<8} {'library':<9} {'algorithm':<10} {'epochs':>6} {'fit s':>8} {'peak MB':>8} " \
             f"{'QE':>9} {'TE':>6} {'x sksom':>8}"
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets:
            loader, side, epochs, _ = table[name]
            X = np.ascontiguousarray(loader(), dtype=np.float32)
            rows = _evaluation_rows(X.shape[0])
            floor = _common.matmul_floor(X, side * side)
            print(f"\n== {name}: {X.shape[0]} x {X.shape[1]}, map {side}x{side}; floor (one X @ W.T) "
                  f"{floor:.4f} s/epoch = {floor * epochs:.3f} s for {epochs} epochs")
            print(header)
            reference = {}
            for library, algorithm, _ in RUNS:
                if library not in args.libraries or not available[library]:
                    continue
                if not args.quick and (library, name) in SKIP_FULL:
                    print(f"{name:<8} {library:<9} {algorithm:<10} skipped: {SKIP_FULL[library, name]}")
                    continue
                out = os.path.join(tmp, f"{name}-{library}-{algorithm}.npy")
                spec = {"library": library, "algorithm": algorithm, "dataset": name, "quick": args.quick, "out": out}
                result, problem = _run_worker(spec, timeout)
                kind = algorithm if algorithm in ("online", "minibatch") else "batch"
                base = reference.get(kind)
                if problem:
                    # A timeout still bounds the ratio from below.
                    bound = f" (x sksom > {result['timeout'] / base:.1f})" if result and base else ""
                    print(f"{name:<8} {library:<9} {algorithm:<10} {problem}{bound}")
                    continue
                codebook = np.load(out)
                qe = quantization_error(X[rows], codebook)
                te = topographic_error(X[rows], codebook, (side, side))
                if library == "sksom":
                    reference[algorithm] = base = result["seconds"]
                ratio = f"{result['seconds'] / base:8.1f}" if base else f"{'-':>8}"
                print(f"{name:<8} {library:<9} {algorithm:<10} {result['epochs']:>6} {result['seconds']:8.3f} "
                      f"{result['peak_mb']:8.0f} {qe:#9.4g} {te:6.3f} {ratio}", flush=True)
            if "batch" in reference:
                print(f"{name:<8} sksom batch / arithmetic floor: {reference['batch'] / (floor * epochs):.2f}")
    print(f"\n{_common.load_average()} at the end")


if __name__ == "__main__":
    main()
