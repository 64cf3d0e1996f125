"""Fit time and peak memory of the batch map against map units and rows.

Two benchmarks, each measurement in a fresh Python process.

**Map-size sweep** (``--sweep``): sksom against XPySom, somoclu and MiniSom
on square rectangular maps from 10 x 10 to 300 x 300 units, on scikit-learn's
digits (1,797 x 64, pixel values 0..16) and on the 10,000 MNIST test images
(784 features scaled to [0, 1]; skipped with a message when
``../shared/data/mnist_test10k.npz`` is absent). Every library fits the same
data and map for the same epochs (10 by default) in a fresh process, with
the recipe of ``bench_peers.py`` (its fit functions are reused): PCA
initialisation, Gaussian neighbourhood, radius from a quarter of the side
towards 1 (geometric in sksom, exponential in XPySom and somoclu, linear in
MiniSom). sksom, XPySom and somoclu run the batch map; MiniSom has none and
runs its online rule for ``epochs * n_samples`` updates, so it gets a short
timeout of its own. Columns:

* ``fit s``: wall time of the first fit in the process (imports excluded;
  TensorFlow's tracing, the initialisation and, for sksom, the fitted errors
  and labels included); ``epoch s``: for sksom the median of its epochs
  after the first (the first one traces), for the peers ``fit s / epochs``;
* ``peak MB``: the worker's peak resident set (``VmHWM``), imports and data
  included; ``+base MB``: that peak minus the resident set just before the
  fit, after importing the library (for sksom, TensorFlow with its runtime
  started by one small op) and loading the data: what the fit itself added;
* ``QE``, ``TE``: quantization and topographic error of the returned
  codebook, computed by :mod:`sksom.metrics` (the sksom under test) for every
  library alike, in the worker after the fit;
* ``x fastest``: fit time over the fastest peer's (XPySom, somoclu or
  MiniSom) at that map; below 0.5 means sksom is twice as fast.

Per data set and library, the summary gives the least-squares slope of
log(epoch s) against log(units) over the maps from 50 x 50 to 300 x 300 that
finished (1 means linear in the units). The parent watches each worker's
resident memory (``/proc/PID/status``, every 50 ms) and kills it above
``--memory-limit`` GB ("over memory limit"), and kills it after
``--timeout`` s ("timeout"); a worker that fails reports "OOM/failed" with
its error's first line. After a timeout, a kill or a failure, the larger
maps of that library and data set are not tried. ``--max-side LIB=SIDE``
leaves out maps larger than SIDE for one library. ``--json PATH`` writes
every run and the slopes.

**Rows, units and memmap** (the default), sksom alone on Gaussian blobs:

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

    python benchmarks/bench_scale.py --sweep      # map sizes 10x10..300x300, digits and MNIST (an hour or more)
    python benchmarks/bench_scale.py --sweep --sizes 10 25 50 --datasets digits --json sweep.json
    python benchmarks/bench_scale.py --sweep --libraries sksom xpysom --max-side sksom=100 --memory-limit 5
    python benchmarks/bench_scale.py --compare before.json after.json   # two sweeps side by side
    python benchmarks/bench_scale.py              # rows, units and memmap (a few minutes)
    python benchmarks/bench_scale.py --quick      # small sizes, smoke run
    python benchmarks/bench_scale.py --no-memmap  # skip the 2 GiB file
    python benchmarks/bench_scale.py --blas-threads 1  # on a busy machine
"""

import argparse
import json
import os
import resource
import signal
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
import bench_peers

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

    def fit(self, X, y=None, **kwargs):
        # Reset here, in the public method, so that a renamed private step
        # leaves its figure out instead of breaking the benchmark.
        self._phase_seconds = {}
        self._epoch_seconds = []
        return super().fit(X, y, **kwargs)

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
    from sksom import _engine as _tf_engine  # TensorFlow's import is not timed

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


# -- the map-size sweep ---------------------------------------------------------------

SWEEP_SIDES = (10, 25, 50, 100, 150, 200, 300)
SWEEP_LIBRARIES = ("sksom", "xpysom", "somoclu", "minisom")
SLOPE_SIDES = (50, 300)  # the range of map sides the log-log slope is fitted over
PEER_MODULES = {lib: module for lib, _, module in bench_peers.RUNS}  # library -> module to import


def sweep_data(name):
    """The sweep's data set ``name`` as float32 rows, or None when it is not available."""
    if name == "digits":
        return np.ascontiguousarray(_common.digits())
    return _common.mnist10k()


def _proc_status_mb(pid, field):
    """``field`` (``VmRSS``, ``VmHWM``) of process ``pid``, in MB, or None once it has gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return None


def _time_sksom_epochs():
    """Record the wall time of every sksom epoch in a list, and return it.

    Patches the estimator's epoch method in this worker process only, when it
    has one by that name (a refactored sksom may not: the list stays empty).
    """
    from sksom import _som

    seconds = []
    original = getattr(_som.SOMClusterer, "_run_epoch", None)
    if original is not None:
        def timed(self, *args, **kwargs):
            start = time.perf_counter()
            result = original(self, *args, **kwargs)
            seconds.append(time.perf_counter() - start)
            return result

        _som.SOMClusterer._run_epoch = timed
    return seconds


def sweep_worker(spec):
    """Fit one library on one map; print a JSON line after the fit and another after QE and TE.

    The first line reaches the parent even when the evaluation is killed.
    """
    library, side, epochs = spec["library"], spec["side"], spec["epochs"]
    load = os.getloadavg()[0]
    epoch_seconds = []
    if library == "sksom":
        import sksom
        import sksom._engine  # TensorFlow and sksom's kernels: not timed (first, as a user gets them)
        import tensorflow as tf

        float(tf.reduce_sum(tf.ones(8)))  # start TensorFlow's runtime before the baseline
        epoch_seconds = _time_sksom_epochs()
        source = str(Path(sksom.__file__).resolve().parent)
    else:
        __import__(PEER_MODULES[library])
        source = None
    X = sweep_data(spec["dataset"])
    baseline = _proc_status_mb("self", "VmRSS")
    seconds, codebook = bench_peers.FITTERS[library](X, side, epochs, spec["algorithm"])
    peak = _proc_status_mb("self", "VmHWM")
    fitted = {
        "fit_s": seconds, "peak_rss_mb": peak, "baseline_mb": baseline, "load": load,
        "epoch_seconds": epoch_seconds, "sksom_source": source,
    }
    print(json.dumps(fitted), flush=True)
    from sksom.metrics import quantization_error, topographic_error

    codebook = np.asarray(codebook, dtype=np.float32)
    print(json.dumps({"qe": float(quantization_error(X, codebook))}), flush=True)
    print(json.dumps({"te": float(topographic_error(X, codebook, (side, side)))}), flush=True)


def _first_error_line(stderr):
    """The first line of the worker's exception (the last ``Name: message`` line of its traceback)."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.split(":")[0].split(".")[-1].endswith(("Error", "Exception", "Exhausted"))]
    return (errors or lines or ["no output"])[-1][:160]


def run_watched(spec, timeout, memory_limit_mb, poll=0.05):
    """Run :func:`sweep_worker` in a fresh process, killing it past ``timeout`` or ``memory_limit_mb``.

    The fit has ``timeout`` seconds, and the evaluation as many again from
    the moment the fit's line arrives: a slow evaluation by a dense
    ``sksom.metrics`` must not cost a fit its figures. RLIMIT_AS cannot
    bound TensorFlow, which reserves far more address space than it uses,
    so the resident set is watched from here instead. Returns
    ``(status, merged JSON lines, error line, highest resident set seen)``
    with status ``"ok"``, ``"timeout"``, ``"over memory limit"`` or
    ``"OOM/failed"``.
    """
    cmd = [sys.executable, str(Path(__file__).resolve()), "--sweep-worker", json.dumps(spec)]
    # Passive OpenMP waiting, as in bench_peers: spinning threads lose their time to each other on a busy machine.
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore", OMP_WAIT_POLICY="PASSIVE")
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env, start_new_session=True)
        deadline, seen, status, fitted = time.monotonic() + timeout, 0.0, None, False
        while proc.poll() is None:
            rss = _proc_status_mb(proc.pid, "VmRSS") or 0.0
            seen = max(seen, rss)
            if not fitted and b'{"fit_s"' in os.pread(out.fileno(), 1 << 16, 0):  # the fit's line has come
                fitted, deadline = True, time.monotonic() + timeout
            if rss > memory_limit_mb:
                status = "over memory limit"
            elif time.monotonic() > deadline:
                status = "timeout"
            if status:
                os.killpg(proc.pid, signal.SIGKILL)  # the worker's own session: only what we started
                proc.wait()
                break
            time.sleep(poll)
        out.seek(0)
        err.seek(0)
        result = {}
        for line in out.read().splitlines():
            if line.startswith("{"):
                result.update(json.loads(line))
        stderr = err.read()
    if status is None and proc.returncode != 0:
        status = "OOM/failed"
    error = _first_error_line(stderr) if status == "OOM/failed" else None
    if status == "OOM/failed" and proc.returncode < 0:
        error = f"killed by signal {-proc.returncode} (the kernel's OOM killer?); {error}"
    return status or "ok", result, error, seen


def log_log_slope(units, seconds):
    """Least-squares slope of log(seconds) against log(units): 1 means linear."""
    return float(np.polyfit(np.log(units), np.log(seconds), 1)[0])


SWEEP_HEADER = (
    f"{'data':<7} {'map':>7} {'units':>6} {'library':<8} {'algorithm':<7} {'fit s':>8} {'epoch s':>8} "
    f"{'peak MB':>8} {'+base MB':>8} {'QE':>9} {'TE':>6} {'x fastest':>9} {'load':>5}"
)


def _format_sweep_row(r):
    def num(key, fmt):
        return "-" if r.get(key) is None else format(r[key], fmt)

    size = f"{r['side']}x{r['side']}"
    lead = f"{r['dataset']:<7} {size:>7} {r['units']:>6} {r['library']:<8} {r['algorithm']:<7} "
    if r.get("fit_s") is None:
        return lead + f"{r['status']}" + (f": {r['error']}" if r.get("error") else "")
    text = (f"{r['fit_s']:8.2f} {r['epoch_s']:8.3f} {num('peak_rss_mb', '8.0f')} {num('peak_above_baseline_mb', '8.0f')} "
            f"{num('qe', '#9.4g')} {num('te', '6.3f')} {num('x_fastest_peer', '9.2f')} {num('load', '5.1f')}")
    if r["status"] != "ok":  # the fit finished, the evaluation did not
        text += f"  (QE/TE: {r['status']}{': ' + r['error'] if r.get('error') else ''})"
    return lead + text


def run_sweep(args):
    """The map-size sweep: every data set, map side and library; prints the table, returns the report."""
    # sksom's batch map against every peer's one run (MiniSom: online).
    runs = [(lib, algorithm) for lib, algorithm, _ in bench_peers.RUNS
            if lib in args.libraries and (lib != "sksom" or algorithm == "batch")]
    max_side = {}
    for item in args.max_side:
        lib, _, side = item.partition("=")
        if lib not in SWEEP_LIBRARIES or not side.isdigit():
            raise SystemExit(f"--max-side takes LIBRARY=SIDE with LIBRARY in {SWEEP_LIBRARIES}; got {item!r}")
        max_side[lib] = int(side)
    installed = {}
    for lib, _ in runs:
        installed[lib] = bench_peers._installed(PEER_MODULES[lib])
        if not installed[lib]:
            print(f"{lib}: not installed, skipped")
    import sksom

    report = {
        "sksom_source": str(Path(sksom.__file__).resolve().parent),
        "cpu_cores": os.cpu_count(), "load_at_start": list(os.getloadavg()), "epochs": args.epochs,
        "memory_limit_gb": args.memory_limit, "timeout_s": args.timeout, "minisom_timeout_s": args.minisom_timeout,
        "runs": [], "slopes": [],
    }
    print(f"sksom from {report['sksom_source']}; CPU cores: {os.cpu_count()}; {_common.load_average()} at start")
    print(f"{args.epochs} epochs; memory limit {args.memory_limit:g} GB per worker; timeout {args.timeout:g} s "
          f"(MiniSom {args.minisom_timeout:g} s); sizes in MB (10^6 bytes)")
    for name in args.datasets:
        X = sweep_data(name)
        if X is None:
            print(f"\n{name}: {_common.MNIST_PATH} is not present, skipped")
            continue
        print(f"\n== {name}: {X.shape[0]} x {X.shape[1]}\n{SWEEP_HEADER}", flush=True)
        given_up = {}
        done = []
        for side in args.sizes:
            at_size = []
            for lib, algorithm in runs:
                if not installed[lib]:
                    continue
                r = {"dataset": name, "library": lib, "algorithm": algorithm, "side": side, "units": side * side,
                     "epochs": args.epochs}
                if side > max_side.get(lib, side):
                    r.update(status="not run", error=f"--max-side {lib}={max_side[lib]}")
                elif lib in given_up:
                    r.update(status="not run", error=given_up[lib])
                else:
                    timeout = args.minisom_timeout if lib == "minisom" else args.timeout
                    spec = {"library": lib, "algorithm": algorithm, "dataset": name, "side": side, "epochs": args.epochs}
                    status, result, error, seen = run_watched(spec, timeout, args.memory_limit * 1000)
                    r.update(result, status=status, error=error, watched_peak_mb=seen)
                    if status == "over memory limit":
                        r["error"] = f"resident set passed {args.memory_limit:g} GB ({seen:.0f} MB seen)"
                    elif status == "timeout":
                        r["error"] = f"after {timeout:g} s"
                    if r.get("fit_s") is None:
                        given_up[lib] = f"{status} at {side}x{side}"
                    else:
                        times = r.pop("epoch_seconds", [])
                        r["epoch_s"] = float(np.median(times[1:])) if len(times) > 1 else r["fit_s"] / args.epochs
                        r["epoch_s_from_fit"] = r["fit_s"] / args.epochs
                        r["peak_above_baseline_mb"] = r["peak_rss_mb"] - r["baseline_mb"]
                at_size.append(r)
            peers = [r["fit_s"] for r in at_size if r["library"] != "sksom" and r.get("fit_s") is not None]
            for r in at_size:
                if peers and r.get("fit_s") is not None:
                    r["x_fastest_peer"] = r["fit_s"] / min(peers)
                print(_format_sweep_row(r), flush=True)
            done += at_size
        report["runs"] += done
        for lib, algorithm in runs:
            points = [(r["units"], r["epoch_s"]) for r in done if r["library"] == lib and r.get("fit_s") is not None
                      and SLOPE_SIDES[0] <= r["side"] <= SLOPE_SIDES[1]]
            if len(points) < 2:
                continue
            units, seconds = zip(*points)
            slope = {"dataset": name, "library": lib, "slope": log_log_slope(units, seconds),
                     "from_units": min(units), "to_units": max(units), "n_maps": len(points)}
            report["slopes"].append(slope)
            print(f"{name:<7} {lib:<8} time per epoch grows as units^{slope['slope']:.2f} "
                  f"({len(points)} maps, {min(units)} to {max(units)} units)")
    report["load_at_end"] = list(os.getloadavg())
    print(f"\n{_common.load_average()} at the end")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
        print(f"written to {args.json}")
    return report


def compare_reports(paths):
    """Print the runs of several ``--json`` reports side by side, one row per data set, map and library."""
    reports = [json.loads(Path(path).read_text()) for path in paths]
    for i, report in enumerate(reports):
        print(f"[{i}] {paths[i]}: sksom from {report['sksom_source']}, load at start "
              f"{' '.join(f'{x:.1f}' for x in report['load_at_start'])}")
    rows = {}
    for i, report in enumerate(reports):
        for r in report["runs"]:
            rows.setdefault((r["dataset"], r["side"], r["library"]), {})[i] = r

    def cell(r):
        if r is None:
            return f"{'':>41}"
        if r.get("fit_s") is None:
            return f"{r['status'][:41]:>41}"
        te = "-" if r.get("te") is None else f"{r['te']:.3f}"
        ratio = "-" if r.get("x_fastest_peer") is None else f"{r['x_fastest_peer']:.2f}"
        return f"{r['fit_s']:8.2f} {r['peak_rss_mb']:6.0f} {r['peak_above_baseline_mb']:6.0f} {r.get('qe', float('nan')):#7.4g} " \
               f"{te:>5} {ratio:>5}"

    head = f"{'fit s':>8} {'peak':>6} {'+base':>6} {'QE':>7} {'TE':>5} {'xfast':>5}"
    print(f"{'data':<7} {'map':>7} {'library':<8} " + " | ".join(head for _ in reports))
    order = {"digits": 0, "mnist": 1}
    for key in sorted(rows, key=lambda k: (order.get(k[0], 9), k[1], SWEEP_LIBRARIES.index(k[2]))):
        dataset, side, lib = key
        print(f"{dataset:<7} {f'{side}x{side}':>7} {lib:<8} " + " | ".join(cell(rows[key].get(i)) for i in range(len(reports))))
    for i, report in enumerate(reports):
        for slope in report["slopes"]:
            print(f"[{i}] {slope['dataset']:<7} {slope['library']:<8} slope {slope['slope']:.2f} "
                  f"({slope['n_maps']} maps, {slope['from_units']} to {slope['to_units']} units)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--no-memmap", action="store_true", help="skip the memory-mapped file")
    parser.add_argument("--tmpdir", default=None, help="where to write the memmap file (default: system temp)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds per worker (default 600; 300 in the sweep)")
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="threads of NumPy's BLAS in the workers (default: the library's own choice)")
    sweep = parser.add_argument_group("map-size sweep")
    sweep.add_argument("--sweep", action="store_true", help="run the map-size sweep against the peers")
    sweep.add_argument("--sizes", nargs="+", type=int, default=list(SWEEP_SIDES), metavar="SIDE",
                       help="map sides (default: %(default)s)")
    sweep.add_argument("--datasets", nargs="+", choices=["digits", "mnist"], default=["digits", "mnist"])
    sweep.add_argument("--libraries", nargs="+", choices=SWEEP_LIBRARIES, default=list(SWEEP_LIBRARIES))
    sweep.add_argument("--epochs", type=int, default=10, help="epochs of every fit (default 10)")
    sweep.add_argument("--memory-limit", type=float, default=5.0,
                       help="GB of resident memory at which a worker is killed (default 5)")
    sweep.add_argument("--minisom-timeout", type=float, default=120.0,
                       help="seconds per MiniSom worker (default 120)")
    sweep.add_argument("--max-side", nargs="+", default=[], metavar="LIB=SIDE",
                       help="leave out maps larger than SIDE for LIB, e.g. sksom=100")
    sweep.add_argument("--json", default=None, metavar="PATH", help="write the runs and slopes as JSON")
    sweep.add_argument("--compare", nargs="+", default=None, metavar="JSON",
                       help="print the runs of these --json reports side by side, and stop")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--sweep-worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return
    if args.sweep_worker:
        sweep_worker(json.loads(args.sweep_worker))
        return
    if args.compare:
        compare_reports(args.compare)
        return
    if args.sweep:
        args.sizes = sorted(set(args.sizes))
        args.timeout = args.timeout or 300.0
        run_sweep(args)
        return

    cases = QUICK if args.quick else FULL
    args.timeout = args.timeout or 600.0
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
