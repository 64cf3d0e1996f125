"""Neural gas and growing neural gas: sksom against its peers, side by side.

Every fit runs in a fresh process (fit time, peak resident memory), on the
same data with the same number of signals or epochs; the parent then
computes the quantization error (mean distance to the nearest unit) of every
codebook the same way. Peers:

- MDP's ``GrowingNeuralGasNode`` and ``NeuralGasNode`` (pure Python loops);
- somber 2.0.1's ``Ng`` (its 2018 release; NumPy, one signal at a time),
  against sksom's online NG;
- ``minigng``'s ``MiniGNG``;
- a NumPy transcription of batch neural gas (Cottrell et al. 2006), since no
  package offers batch NG: somber 2.0.1's ``Ng`` is the online rule (with
  ``batch_size > 1`` it averages online steps over a mini-batch), and the
  neural gas at somber's latest commit crashes (see issue 12).

A peer that is not installed, or fails, is reported and skipped. MDP 3.6
predates NumPy 2: the worker gives it ``numpy.typeDict`` and an
``inspect.getfullargspec`` that tolerates C functions, nothing else.
somber 2.0.1 calls ``np.int``, removed in NumPy 1.24: the worker sets
``np.int = int`` before importing it, so the installed copy stays as
released. It imports tqdm but declares only numpy. Install the peers in a
virtual environment with the system packages::

    python -m venv --system-site-packages /work/venv-gas
    /work/venv-gas/bin/pip install mdp minigng tqdm
    /work/venv-gas/bin/pip install --no-deps somber==2.0.1
    PYTHONPATH=$PWD /work/venv-gas/bin/python benchmarks/bench_gas.py
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
from bench_peers import _peak_memory_mb  # noqa: E402

N_UNITS = 100
BATCH_EPOCHS = 20


def mixture_2d(n_samples=100_000, seed=0):
    """The issue's 15 Gaussian clusters in the plane (sd 0.3 in a 10 x 10 box)."""
    rng = np.random.default_rng(seed)
    centres = rng.random((15, 2)) * 10
    labels = rng.integers(0, 15, n_samples)
    return (centres[labels] + 0.3 * rng.standard_normal((n_samples, 2))).astype(np.float32)


def mixture_10d(n_samples=100_000, seed=1):
    """Twenty Gaussian clusters in 10-D with unequal spreads."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (20, 10))
    spreads = rng.uniform(0.3, 1.5, 20)
    labels = rng.integers(0, 20, n_samples)
    return (centres[labels] + spreads[labels, None] * rng.standard_normal((n_samples, 10))).astype(np.float32)


DATASETS = {"mixture2d": mixture_2d, "mixture10d": mixture_10d}


def _start_units(X, n):
    return X[np.random.default_rng(0).choice(len(X), n, replace=False)].astype(np.float64)


# -- fitters: each returns (seconds, codebook) ----------------------------------


def _sksom_ng(X, algorithm, epochs):
    import sksom._engine  # noqa: F401  (TensorFlow's import is not timed, as the peers' imports are not)
    from sksom import NeuralGas

    gas = NeuralGas(
        N_UNITS, algorithm=algorithm, max_iter=epochs, init=_start_units(X, N_UNITS).astype(X.dtype), random_state=0
    )
    start = time.perf_counter()
    gas.fit(X)
    return time.perf_counter() - start, gas.cluster_centers_


def _numpy_ng_batch(X, algorithm, epochs):
    """Batch NG with full ranks, chunked: the published equations in NumPy."""
    W = _start_units(X, N_UNITS)
    X64 = X.astype(np.float64)
    start = time.perf_counter()
    lam_start = N_UNITS / 2
    for epoch in range(epochs):
        lam = lam_start * (0.01 / lam_start) ** (epoch / (epochs - 1))
        sums, counts = np.zeros_like(W), np.zeros(N_UNITS)
        for chunk in np.array_split(X64, max(1, len(X64) // 5000)):
            d = (chunk**2).sum(1)[:, None] - 2 * chunk @ W.T + (W**2).sum(1)
            ranks = np.argsort(np.argsort(d, axis=1), axis=1)
            H = np.exp(-ranks / lam)
            sums += H.T @ chunk
            counts += H.sum(0)
        W = sums / counts[:, None]
    return time.perf_counter() - start, W


def _sksom_gng(X, algorithm, epochs):
    import sksom._engine  # noqa: F401  (TensorFlow's import is not timed, as the peers' imports are not)
    from sksom import GrowingNeuralGas

    gng = GrowingNeuralGas(max_units=N_UNITS, max_iter=epochs, init=_start_units(X, 2).astype(X.dtype), random_state=0)
    start = time.perf_counter()
    gng.fit(X)
    return time.perf_counter() - start, gng.cluster_centers_


def _import_mdp():
    import inspect

    np.typeDict = np.sctypeDict
    spec = inspect.getfullargspec

    def lenient(function):
        try:
            return spec(function)
        except TypeError:
            return inspect.FullArgSpec([], None, None, None, [], None, {})

    inspect.getfullargspec = lenient
    import mdp

    return mdp


def _mdp_gng(X, algorithm, epochs):
    mdp = _import_mdp()
    node = mdp.nodes.GrowingNeuralGasNode(start_poss=list(_start_units(X, 2)), max_nodes=N_UNITS)
    X64 = X.astype(np.float64)
    start = time.perf_counter()
    for _ in range(epochs):
        node.train(X64[np.random.default_rng(_).permutation(len(X64))])
    node.stop_training()
    seconds = time.perf_counter() - start
    return seconds, np.array([n.data.pos for n in node.graph.nodes])


def _mdp_ng_online(X, algorithm, epochs):
    mdp = _import_mdp()
    node = mdp.nodes.NeuralGasNode(
        num_nodes=N_UNITS, start_poss=list(_start_units(X, N_UNITS)), epsilon_i=0.5, epsilon_f=0.005,
        lambda_i=N_UNITS / 2, lambda_f=0.01, max_age_i=0.1 * N_UNITS, max_age_f=2 * N_UNITS, max_epochs=epochs,
    )
    X64 = X.astype(np.float64)
    start = time.perf_counter()
    node.train(X64)
    node.stop_training()
    return time.perf_counter() - start, np.array([n.data.pos for n in node.graph.nodes])


def _import_somber():
    np.int = int  # somber 2.0.1 calls np.int (gone since NumPy 1.24) for its unit count
    import somber

    return somber


def _somber_ng(X, algorithm, epochs):
    """somber's ``Ng``: the online NG rule, one signal at a time (batch_size=1).

    somber's schedule multiplies the learning rate and the range by
    ``exp(-factor / U)`` at each of ``U = epochs * updates_epoch`` steps (and
    once more at the start of each epoch): an exponential decay from its start
    value to ``start * exp(-factor)``. With ``factor = log(start / end)`` and
    a step at every signal (``updates_epoch = len(X)``) that is sksom's
    ``start * (end / start) ** (t / T)``: the first signal sees 0.5 and
    N_UNITS / 2 less two steps, the last 0.005 and 0.01 less one step (a step
    is a factor within 1e-4 of 1 for 100,000 signals). Its default of 10 steps
    an epoch would start at 0.2 and 9.1 already and end at 0.0032 and 0.0043.
    No scaler (somber's default standardizes the data) and no initializer, so
    the codebook lives in the data space and starts from the common units.
    """
    somber = _import_somber()
    lam_start = N_UNITS / 2
    gas = somber.Ng(
        N_UNITS, X.shape[1], learning_rate=0.5, influence=lam_start, initializer=None, scaler=None,
        lr_lambda=np.log(0.5 / 0.005), infl_lambda=np.log(lam_start / 0.01),
    )
    gas.weights = _start_units(X, N_UNITS)
    np.random.seed(0)  # somber shuffles the signals with NumPy's global generator
    start = time.perf_counter()
    gas.fit(X, num_epochs=epochs, updates_epoch=len(X), batch_size=1)
    return time.perf_counter() - start, gas.weights


def _minigng(X, algorithm, epochs):
    from minigng import MiniGNG

    model = MiniGNG(n_epochs=epochs, max_units=N_UNITS)
    X64 = X.astype(np.float64)
    start = time.perf_counter()
    model.fit(X64)
    return time.perf_counter() - start, np.array([u.prototype for u in model.units])


# (name, model, fitter, module it needs, epochs)
RUNS = [
    ("sksom", "NG batch", lambda X, e: _sksom_ng(X, "batch", e), "sksom", BATCH_EPOCHS),
    ("numpy-ref", "NG batch", lambda X, e: _numpy_ng_batch(X, "batch", e), "numpy", BATCH_EPOCHS),
    ("sksom", "NG online", lambda X, e: _sksom_ng(X, "online", e), "sksom", 1),
    ("mdp", "NG online", lambda X, e: _mdp_ng_online(X, "online", e), "mdp", 1),
    ("somber", "NG online", lambda X, e: _somber_ng(X, "online", e), "somber", 1),
    ("sksom", "GNG", lambda X, e: _sksom_gng(X, "gng", e), "sksom", 1),
    ("mdp", "GNG", lambda X, e: _mdp_gng(X, "gng", e), "mdp", 1),
    ("minigng", "GNG", lambda X, e: _minigng(X, "gng", e), "minigng", 1),
]


def worker(spec):
    X = DATASETS[spec["dataset"]](spec["n_samples"])
    library, model, fit, _, epochs = RUNS[spec["run"]]
    seconds, codebook = fit(X, epochs)
    np.save(spec["out"], np.asarray(codebook, dtype=np.float64))
    peak = _peak_memory_mb()
    # sksom's first fit includes tracing and XLA compilation; a second fit
    # in the same process shows the cost of the arithmetic alone.
    warm = fit(X, epochs)[0] if library == "sksom" and spec.get("warm") else None
    print(json.dumps({"seconds": seconds, "warm": warm, "peak_mb": peak}))


def _installed(module):
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, check=False).returncode == 0


def _run_worker(spec, timeout):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:.0f} s"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"failed: {last[:100]}"
    return json.loads(done.stdout.strip().splitlines()[-1]), None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=int, default=100_000)
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per worker")
    parser.add_argument("--warm", action="store_true", help="also time a second sksom fit in the same process")
    parser.add_argument("--only", nargs="+", help="run only these libraries")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return
    from sksom.metrics import quantization_error

    available = {module: _installed(module) for *_, module, _ in RUNS}
    for module, ok in available.items():
        if not ok:
            print(f"{module}: not installed, skipped")
    print(f"CPU cores: {os.cpu_count()}; {_common.load_average()} at start; {N_UNITS} units")
    header = (
        f"{'data':<11} {'model':<10} {'library':<10} {'epochs':>6} {'fit s':>8} {'warm s':>7} {'peak MB':>8} "
        f"{'QE':>8} {'peer/sksom':>10} {'peer/warm':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.datasets:
            X = DATASETS[dataset](args.n_samples)
            print(f"\n== {dataset}: {X.shape[0]} x {X.shape[1]}", flush=True)
            print(header)
            sksom_seconds = {}
            for index, (library, model, _, module, epochs) in enumerate(RUNS):
                if not available[module] or (args.only and library not in args.only):
                    continue
                out = os.path.join(tmp, f"{dataset}-{index}.npy")
                spec = {"dataset": dataset, "n_samples": args.n_samples, "run": index, "out": out, "warm": args.warm}
                result, problem = _run_worker(spec, args.timeout)
                if problem:
                    print(f"{dataset:<11} {model:<10} {library:<10} {epochs:>6} {problem}")
                    continue
                qe = quantization_error(X, np.load(out).astype(np.float32))
                warm = result["warm"]
                if library == "sksom":
                    sksom_seconds[model] = (result["seconds"], warm)
                    ratios = ("", "")
                else:
                    base = sksom_seconds.get(model)
                    ratios = tuple(f"{result['seconds'] / b:.1f}" if b else "" for b in (base or (None, None)))
                warm_text = f"{warm:.2f}" if warm is not None else ""
                print(
                    f"{dataset:<11} {model:<10} {library:<10} {epochs:>6} {result['seconds']:>8.2f} {warm_text:>7} "
                    f"{result['peak_mb']:>8.0f} {qe:>8.4f} {ratios[0]:>10} {ratios[1]:>9}",
                    flush=True,
                )
    print(f"\n{_common.load_average()} at end")


if __name__ == "__main__":
    main()
