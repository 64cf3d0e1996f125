"""RecursiveSOM against somber's RecursiveSom and a NumPy transcription of RecSOM.

One epoch of Voegtlin's recursive SOM on the Mackey-Glass series (tau = 17),
20 x 20 map, the same equations, schedule end points and parameters for all
(alpha, beta, learning rate, radius). Prints seconds, microseconds per step
and the temporal quantization error TQE(j), j = 0..5, of each model's BMUs.
Every time runs from the data to the BMU of every step, the labels the TQE
is computed from: sksom's ``fit`` sets ``labels_`` with the trained map;
the peers train and then find the BMUs with theirs.

somber (2.0.1, its 2018 release) needs ``np.int`` patched; install it in a
venv of its own (see the closing note of the task) and run this script with
that venv's Python. Missing peers are skipped with a message.

    python benchmarks/bench_sequence.py [--n-steps 100000] [--peer-steps 10000]

sksom's training alone is its ``fit`` less the time of ``predict`` on the
same data (the BMU pass that ``fit`` ends with), so that it can be set
beside the transcription's training alone.

Peers slower than sksom by orders of magnitude run on the first
``--peer-steps`` steps of the series; their time per step is reported next to
sksom's on the same prefix and on the full series.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import load_average  # noqa: E402
from sksom import RecursiveSOM  # noqa: E402
from sksom._generators import mackey_glass  # noqa: E402
from sksom.metrics import temporal_quantization_error  # noqa: E402

MAP = (20, 20)
PARAMS = dict(alpha=2.0, beta=0.06, radius_start=10.0, radius_end=0.5, learning_rate_start=0.3, learning_rate_end=0.01)


def numpy_recsom(X, W, C, coords):
    """RecSOM's sequential rule, one step at a time, as the equations read."""
    W, C = W.astype(np.float64), C.astype(np.float64)
    n = len(X)
    y = np.zeros(C.shape[1])
    r0, r1 = PARAMS["radius_start"], PARAMS["radius_end"]
    l0, l1 = PARAMS["learning_rate_start"], PARAMS["learning_rate_end"]
    for t, x in enumerate(X):
        p = t / n
        sigma = r0 * (r1 / r0) ** p
        rate = l0 / (1.0 + (l0 / l1 - 1.0) * p)
        E = PARAMS["alpha"] * ((x - W) ** 2).sum(1) + PARAMS["beta"] * ((y - C) ** 2).sum(1)
        bmu = np.argmin(E)
        a = np.minimum(rate * np.exp(-((coords - coords[bmu]) ** 2).sum(1) / (2 * sigma**2)), 1.0)[:, None]
        W += a * (x - W)
        C += a * (y - C)
        y = np.exp(-E)
    return W, C


def numpy_bmus(X, W, C):
    y = np.zeros(C.shape[1])
    out = np.empty(len(X), dtype=np.intp)
    for t, x in enumerate(X):
        E = PARAMS["alpha"] * ((x - W) ** 2).sum(1) + PARAMS["beta"] * ((y - C) ** 2).sum(1)
        out[t] = np.argmin(E)
        y = np.exp(-E)
    return out


def run_sksom(X):
    model = RecursiveSOM(map_size=MAP, max_iter=1, random_state=0, **PARAMS)
    model.fit(X[:64])  # compile outside the timing, as a second fit would
    start = time.perf_counter()
    model.fit(X)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    model.predict(X)
    return seconds, model.labels_, model, time.perf_counter() - start


def run_somber(X):
    try:
        from somber import RecursiveSom
    except ImportError as exc:
        print(f"somber: skipped ({exc}); install somber 2.0.1 with np.int patched in a venv")
        return None
    som = RecursiveSom(MAP, X.shape[1], learning_rate=PARAMS["learning_rate_start"], alpha=PARAMS["alpha"], beta=PARAMS["beta"])
    start = time.perf_counter()
    som.fit(X, num_epochs=1, batch_size=1)
    labels = np.asarray(som.predict(X)).ravel()
    return time.perf_counter() - start, labels


def row(name, steps, seconds, labels, X):
    tqe = temporal_quantization_error(X, labels, max_lag=5)
    print(f"{name:<24} {steps:>8} {seconds:>9.2f} {1e6 * seconds / steps:>9.1f}  " + " ".join(f"{v:.4f}" for v in tqe))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-steps", type=int, default=100_000)
    parser.add_argument("--peer-steps", type=int, default=10_000)
    args = parser.parse_args()
    series = mackey_glass(args.n_steps)
    X = ((series - series.mean()) / series.std())[:, None].astype(np.float32)
    prefix = X[: args.peer_steps]
    print(f"RecSOM, {MAP[0]}x{MAP[1]} map, one epoch, Mackey-Glass tau=17; {load_average()}")
    print(f"{'model':<24} {'steps':>8} {'seconds':>9} {'us/step':>9}  TQE(0..5)")
    for data in (X, prefix):
        seconds, labels, model, predicting = run_sksom(data)
        row("sksom RecursiveSOM", len(data), seconds, labels, data)
        row("  its training alone", len(data), seconds - predicting, labels, data)
    start = time.perf_counter()
    W0, C0 = model._initial_state(prefix, MAP, np.random.RandomState(0))
    W, C = numpy_recsom(prefix, W0, C0, model.unit_coordinates_)
    trained = time.perf_counter() - start
    labels = numpy_bmus(prefix, W, C)
    row("NumPy transcription", len(prefix), time.perf_counter() - start, labels, prefix)
    row("  its training alone", len(prefix), trained, labels, prefix)
    result = run_somber(prefix)
    if result is not None:
        row("somber 2.0.1 RecursiveSom", len(prefix), result[0], result[1], prefix)


if __name__ == "__main__":
    main()
