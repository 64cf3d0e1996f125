"""Fit time and peak memory of the batch map against rows and map units.

Three series, each measurement in a fresh Python process:

* rows: 10^4, 10^5 and 10^6 rows x 64 float32 features on a 20 x 20 map,
  3 epochs (time should grow linearly with the rows);
* units: 10 x 10, 20 x 20, 40 x 40 and 60 x 60 maps on 10^5 x 64, 3 epochs
  (on small maps the per-row work, reading each chunk and summing it per
  unit, outweighs the distances; on large maps time grows with the units);
* memmap: 10^6 and about 8.4 million x 64 float32 (256 MB, and at least
  2 GiB) written chunk by chunk into a temporary file, fitted as a read-only
  :class:`numpy.memmap` with 2 epochs on a 20 x 20 map, then deleted. The
  data is never held in memory: the fit reads it ``batch_size`` rows at a
  time, so the memory the fit allocates is the same for both files.

Columns:

* ``fit s``: wall time of ``fit`` (validation, PCA initialisation, epochs,
  final errors). Each worker first fits a 1,000-row map of the same size, so
  that TensorFlow's tracing is not in the time;
* ``init s``: the initialisation alone (two passes over the data in float64
  for the mean and covariance, on the host with NumPy);
* ``epoch s``: mean wall time of one epoch alone;
* ``ns/row.ep``: ``epoch s`` per row, in nanoseconds: flat when an epoch is
  linear in the rows;
* ``ps/row.ep.unit``: the same per unit of the map, in picoseconds: flat when
  an epoch is linear in rows x units;
* ``peak RSS``: the worker's peak resident set (``ru_maxrss``), imports and
  data included. Pages of a memory-mapped file that the fit has read count
  in it, although they are the kernel's file cache, not allocations;
* ``anon before`` / ``anon peak``: anonymous resident memory (``RssAnon``
  of ``/proc/self/status``: heap and other allocations, never file pages)
  just before ``fit`` and its highest value during ``fit``, sampled every
  20 ms by a background thread. For the memmap run, ``anon peak`` stays far
  below the file size;
* ``data MB``: size of ``X``; ``QE``: the fitted ``quantization_error_``;
  ``load``: the 1-minute load average when the worker started (the machine
  may be shared; a high load slows every column that is a time).

The memmap file is usually read from the kernel's page cache, written there
moments before; a cold cache adds disk reading time.

Usage::

    python benchmarks/bench_scale.py              # full run (a few minutes)
    python benchmarks/bench_scale.py --quick      # small sizes, smoke run
    python benchmarks/bench_scale.py --no-memmap  # skip the 2 GiB file
    python benchmarks/bench_scale.py --blas-threads 1  # on a busy machine
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

# Run from a checkout without installing: the repository root is importable
# (after any installed copy of sksom).
sys.path.append(str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

from sksom import SOMClusterer

N_FEATURES = 64
N_CENTERS = 30
WARMUP_ROWS = 1000

FULL = {
    "rows": [(10_000, 20, 3), (100_000, 20, 3), (1_000_000, 20, 3)],
    "units": [(100_000, side, 3) for side in (10, 20, 40, 60)],
    # 8.4M x 64 x 4 bytes = 2.15 GB, just over 2 GiB.
    "memmap": [(1_000_000, 20, 2), (8_400_000, 20, 2)],
}
QUICK = {
    "rows": [(2_000, 10, 2), (20_000, 10, 2)],
    "units": [(20_000, side, 2) for side in (5, 10)],
    "memmap": [(50_000, 10, 2), (200_000, 10, 2)],
}


# -- data -----------------------------------------------------------------------


def blob_chunks(n_rows, seed=0, chunk_rows=2**18):
    """Gaussian blobs, ``chunk_rows`` float32 rows at a time.

    The centres depend on ``seed`` only and each chunk on ``(seed, chunk
    index)``, so any process regenerates the same rows, and no more than one
    chunk is ever in memory.
    """
    centres = np.random.default_rng(seed).normal(0.0, 3.0, size=(N_CENTERS, N_FEATURES)).astype(np.float32)
    for index, start in enumerate(range(0, n_rows, chunk_rows)):
        rng = np.random.default_rng([seed, index])
        n = min(chunk_rows, n_rows - start)
        chunk = rng.standard_normal((n, N_FEATURES), dtype=np.float32)
        chunk += centres[rng.integers(0, N_CENTERS, n)]
        yield chunk


def blobs(n_rows, seed=0):
    """All of :func:`blob_chunks` in one array, filled in place (no full-size temporary)."""
    X = np.empty((n_rows, N_FEATURES), dtype=np.float32)
    start = 0
    for chunk in blob_chunks(n_rows, seed):
        X[start : start + len(chunk)] = chunk
        start += len(chunk)
    return X


def write_blobs(path, n_rows, seed=0):
    """Write :func:`blob_chunks` to a raw float32 file, one chunk at a time."""
    with open(path, "wb") as f:
        for chunk in blob_chunks(n_rows, seed):
            chunk.tofile(f)


# -- measuring --------------------------------------------------------------------


def anon_mb():
    """Anonymous resident memory of this process (``RssAnon``), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024.0
    raise OSError("RssAnon is not reported by /proc/self/status")


class AnonSampler:
    """Highest :func:`anon_mb` seen by a background thread polling every ``interval`` s."""

    def __init__(self, interval=0.02):
        self.interval = interval
        self.peak = anon_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, anon_mb())
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, anon_mb())


def _timed(name):
    """A method that runs the parent class's ``name`` and adds its wall time to ``_phase_seconds``."""

    def method(self, *args, **kwargs):
        start = time.perf_counter()
        result = getattr(super(PhaseTimedSOM, self), name)(*args, **kwargs)
        self._phase_seconds[name] = self._phase_seconds.get(name, 0.0) + time.perf_counter() - start
        return result

    return method


class PhaseTimedSOM(SOMClusterer):
    """:class:`SOMClusterer` that records the wall time of each phase of ``fit``.

    For benchmarks only. ``_epoch_seconds`` lists the epochs;
    ``_phase_seconds`` holds the initialisation (``"_initial_state"``), the
    copy of the data to the GPU (``"_resident_chunks"``) and the final
    errors and labels (``"_set_fitted"``). Each phase hands back NumPy
    arrays, so its time includes waiting for the device.
    """

    def _fit(self, data, partial):
        self._phase_seconds = {}
        self._epoch_seconds = []
        return super()._fit(data, partial)

    def _run_epoch(self, *args, **kwargs):
        start = time.perf_counter()
        result = super()._run_epoch(*args, **kwargs)
        self._epoch_seconds.append(time.perf_counter() - start)
        return result

    _initial_state = _timed("_initial_state")
    _resident_chunks = _timed("_resident_chunks")
    _set_fitted = _timed("_set_fitted")


def worker(spec):
    """Fit one case and print its measurements as a JSON line."""
    from sksom._engine import som as _tf_engine  # TensorFlow's import is not timed

    load = os.getloadavg()[0]
    rows, side, epochs = spec["rows"], spec["side"], spec["epochs"]
    if spec["path"]:
        X = np.memmap(spec["path"], dtype=np.float32, mode="r", shape=(rows, N_FEATURES))
    else:
        X = blobs(rows)
    params = {"map_size": (side, side), "max_iter": epochs, "random_state": 0}
    # Trace the compiled functions on small data first; their input
    # signatures have unknown sizes, so the real fit reuses them.
    PhaseTimedSOM(**params).fit(blobs(WARMUP_ROWS, seed=1))
    som = PhaseTimedSOM(**params)
    before = anon_mb()
    with AnonSampler() as sampler:
        start = time.perf_counter()
        som.fit(X)
        seconds = time.perf_counter() - start
    print(json.dumps({
        "fit_s": seconds,
        "init_s": som._phase_seconds["_initial_state"],
        "epoch_s": float(np.mean(som._epoch_seconds)),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,  # KiB on Linux
        "anon_before_mb": before,
        "anon_peak_mb": sampler.peak,
        "data_mb": X.nbytes / 1e6,
        "qe": som.quantization_error_,
        "load": load,
        "gpu": _tf_engine.on_gpu(None),
    }))


# -- the parent ---------------------------------------------------------------------


def run_worker(spec, timeout, blas_threads=None):
    """Run :func:`worker` in a fresh process; returns (result, problem)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    if blas_threads is not None:
        # On a machine with more runnable threads than cores, OpenBLAS's
        # spinning threads can make the initialisation's thin matrix products
        # tens of times slower; one thread avoids that.
        for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(blas_threads)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:.0f} s"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"failed: {last[:120]}"
    return json.loads(done.stdout.strip().splitlines()[-1]), None


HEADER = (
    f"{'series':<7} {'rows':>9} {'map':>6} {'ep':>3} {'data MB':>8} {'fit s':>7} {'init s':>7} {'epoch s':>8} "
    f"{'ns/row.ep':>10} {'ps/row.ep.unit':>15} {'peak RSS':>9} {'anon before':>12} {'anon peak':>10} "
    f"{'QE':>7} {'load':>5}"
)


def format_row(series, rows, side, epochs, r):
    per_row = r["epoch_s"] / rows * 1e9
    per_unit = per_row / (side * side) * 1e3
    return (
        f"{series:<7} {rows:>9} {f'{side}x{side}':>6} {epochs:>3} {r['data_mb']:8.0f} {r['fit_s']:7.2f} "
        f"{r['init_s']:7.2f} {r['epoch_s']:8.3f} {per_row:10.1f} {per_unit:15.1f} {r['peak_rss_mb']:9.0f} "
        f"{r['anon_before_mb']:12.0f} {r['anon_peak_mb']:10.0f} {r['qe']:7.3f} {r['load']:5.1f}"
    )


def growth_exponent(sizes, seconds):
    """Least-squares slope of log(seconds) against log(size): 1 means linear."""
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--no-memmap", action="store_true", help="skip the memory-mapped file")
    parser.add_argument("--tmpdir", default=None, help="where to write the memmap file (default: system temp)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per worker")
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="threads of NumPy's BLAS in the workers (default: the library's own choice)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return

    cases = QUICK if args.quick else FULL
    print(f"CPU cores: {os.cpu_count()}; {_common.load_average()} at start")
    blas = "default" if args.blas_threads is None else args.blas_threads
    print(f"sizes in MB (10^6 bytes); batch map, PCA init, float32, batch_size='auto'; BLAS threads: {blas}\n")
    print(HEADER)
    results = {}

    def measure(series, rows, side, epochs, path=None):
        key = (rows, side, epochs, path is not None)
        if key not in results:
            spec = {"rows": rows, "side": side, "epochs": epochs, "path": path}
            results[key], problem = run_worker(spec, args.timeout, args.blas_threads)
            if problem:
                print(f"{series:<7} {rows:>9} {f'{side}x{side}':>6} {epochs:>3} {problem}", flush=True)
                return None
        if results[key] is not None:
            print(format_row(series, rows, side, epochs, results[key]), flush=True)
        return results[key]

    summary = []
    for series, x_of in (("rows", lambda rows, side: rows), ("units", lambda rows, side: side * side)):
        done = [(x_of(rows, side), r) for rows, side, epochs in cases[series]
                if (r := measure(series, rows, side, epochs)) is not None]
        if len(done) > 1:
            sizes, seconds = zip(*[(x, r["epoch_s"]) for x, r in done])
            summary.append(f"epoch time grows as {series}^{growth_exponent(sizes, seconds):.2f} "
                           f"({sizes[0]} to {sizes[-1]} {series})")

    if not args.no_memmap:
        mapped = []
        for rows, side, epochs in cases["memmap"]:
            with tempfile.TemporaryDirectory(dir=args.tmpdir) as tmp:
                path = os.path.join(tmp, "X.f32")
                start = time.perf_counter()
                write_blobs(path, rows)
                written = time.perf_counter() - start
                r = measure("memmap", rows, side, epochs, path)
            if r is not None:
                mapped.append(r)
                summary.append(
                    f"memmap: {r['data_mb']:.0f} MB file (written in {written:.0f} s, then deleted); anonymous "
                    f"memory peaked at {r['anon_peak_mb']:.0f} MB ({r['anon_peak_mb'] - r['anon_before_mb']:+.0f} MB "
                    f"during fit) = {r['anon_peak_mb'] / r['data_mb']:.1%} of the file; peak RSS with file pages "
                    f"{r['peak_rss_mb']:.0f} MB"
                )
        if len(mapped) > 1:
            small, large = mapped[0], mapped[-1]

            def grown(r):
                return r["anon_peak_mb"] - r["anon_before_mb"]

            summary.append(
                f"memmap: {large['data_mb'] / small['data_mb']:.1f}x the data, {grown(large) / grown(small):.2f}x "
                f"the anonymous memory added by fit ({grown(small):.0f} MB, then {grown(large):.0f} MB)"
            )

    devices = {r["gpu"] for r in results.values() if r is not None}
    print()
    for line in summary:
        print(line)
    print(f"device: {'GPU' if devices == {True} else 'CPU' if devices == {False} else 'mixed'}; "
          f"{_common.load_average()} at the end")


if __name__ == "__main__":
    main()
