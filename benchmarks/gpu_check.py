"""GPU check: a 50 x 50 map on 1,000,000 x 784 and a 200 x 200 map on MNIST, 10 epochs each.

One command, meant to finish in a few minutes on one modern GPU. It

1. prints the TensorFlow version, the physical devices TensorFlow sees and
   the device the fit runs on (the first GPU when there is one, else the CPU);
2. generates 1,000,000 x 784 float32 rows on the host (Gaussian blobs, fixed
   seed);
3. times one ``SOMClusterer(map_size=(50, 50), max_iter=10, random_state=0)``
   fit, the first in the process, and splits it into phases: validation,
   PCA initialisation (on the host, NumPy), the copy of the data to the GPU,
   the epochs (the first one includes TensorFlow's tracing; the overhead is
   estimated as the first epoch minus the median of the others) and the final
   errors and labels;
4. times the plain matrix products those 10 epochs need, on the same device
   with the data already there: per epoch, ``X @ W.T`` for every chunk the fit
   used (the distances of every sample to every unit) and ``H @ S``
   (neighbourhood weights, 2,500 x 2,500, times the per-unit sums,
   2,500 x 784), after one untimed warm-up epoch;
5. prints the fit time, the matmul floor, and their ratio (for the whole fit
   and for the epochs alone);
6. fits a 200 x 200 map (40,000 units) on MNIST-sized data, 10 epochs of the
   batch map: the 10,000 MNIST test images scaled to [0, 1] when
   ``../shared/data/mnist_test10k.npz`` is present, else 10,000 generated
   digit-like images of the same size. It prints the same phases, the peak
   GPU memory during the fit (``tf.config.experimental.get_memory_info``,
   reset just before the fit) next to the memory in use before it, and the
   floor of the distance products alone (``X @ W.T`` over the fit's chunks;
   a big map must not pay for a 40,000 x 40,000 neighbourhood matrix).

Both use TensorFlow's default float32 matmul precision (TF32 on GPUs that
have it), which is printed.

A third case, ``gas``, times the gases on ``bench_gas.py``'s 100,000
two-dimensional samples with 100 units: batch neural gas (20 epochs) on the
default device against its NumPy transcription on the host, and the
sequential rules (online neural gas, one epoch; growing neural gas, one
pass) on the default device and with ``device="cpu"``. Each is fitted twice
in this process: the first fit includes tracing and XLA compilation. It
tells whether the sequential rules, one small step per sample, belong on
the GPU at all.

Without a GPU it says so on its first lines, and every figure is the CPU's.

Usage::

    python benchmarks/gpu_check.py                 # the two map cases
    python benchmarks/gpu_check.py --cases big-map # the 200 x 200 map alone
    python benchmarks/gpu_check.py --cases gas     # the gases
    python benchmarks/gpu_check.py --dry-run       # tiny sizes: an end-to-end run on a CPU (seconds)
    python benchmarks/gpu_check.py --quick         # 5,000 rows in the first case
    python benchmarks/gpu_check.py --rows 100000 --batch-size 65536 --big-side 300
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common
from bench_scale import PhaseTimedSOM

N_FEATURES = 784
QUICK_ROWS = 5000
BIG_ROWS = 10000  # MNIST's test set
DRY_RUN = {"rows": 2000, "side": 10, "big_rows": 1000, "big_side": 20, "epochs": 3, "gas_rows": 3000}
GAS_ROWS = 100_000
GAS_BATCH_EPOCHS = 20


def device_description(tf, engine):
    """The TensorFlow device the fit runs on, and a readable name for it."""
    gpus = tf.config.list_logical_devices("GPU")
    if engine.on_gpu(None) and gpus:
        physical = tf.config.list_physical_devices("GPU")[0]
        name = tf.config.experimental.get_device_details(physical).get("device_name", "unknown GPU")
        return "/GPU:0", f"/GPU:0 ({name})"
    return "/CPU:0", "/CPU:0 (no GPU visible to TensorFlow)"


def matmul_floor(tf, device, X, step, n_units, epochs, smoothing=True):
    """Seconds for the matrix products of ``epochs`` batch-map epochs, data on ``device``.

    ``smoothing=False`` leaves out the dense ``H @ S``: the distances alone.
    Returns ``(seconds, flops)``.
    """
    n_features = X.shape[1]
    rng = np.random.default_rng(0)
    with tf.device(device):
        chunks = [tf.constant(X[start : start + step]) for start in range(0, X.shape[0], step)]
        W = tf.constant(rng.standard_normal((n_units, n_features), dtype=np.float32))
        if smoothing:
            H = tf.constant(rng.random((n_units, n_units), dtype=np.float32))
            S = tf.constant(rng.standard_normal((n_units, n_features), dtype=np.float32))

        def epoch():
            for chunk in chunks:
                last = tf.matmul(chunk, W, transpose_b=True)
            if smoothing:
                last = tf.matmul(H, S)
            # Ops on one device run in order: waiting for the last one waits
            # for all of them.
            return float(tf.reduce_sum(last).numpy())

        epoch()  # warm-up: kernel selection, library handles
        start = time.perf_counter()
        for _ in range(epochs):
            epoch()
        seconds = time.perf_counter() - start
    flops = epochs * (2.0 * X.shape[0] * n_features * n_units + smoothing * 2.0 * n_units * n_units * n_features)
    return seconds, flops


def timed_fit(tf, on_gpu, X, side, epochs, batch_size):
    """Fit the batch map once, print its phases and peak GPU memory; returns ``(som, fit seconds)``."""
    n_rows, n_features = X.shape
    som = PhaseTimedSOM(map_size=(side, side), max_iter=epochs, batch_size=batch_size, random_state=0)
    if on_gpu:
        tf.config.experimental.reset_memory_stats("GPU:0")
        before = tf.config.experimental.get_memory_info("GPU:0")["current"]
    start = time.perf_counter()
    som.fit(X)
    fit_s = time.perf_counter() - start
    step = som._chunk_size(side * side, n_features)
    phases = som._phase_seconds
    epoch_s = np.array(som._epoch_seconds)
    other = fit_s - epoch_s.sum() - sum(phases.values())
    print(f"\nfit: SOMClusterer(map_size=({side}, {side}), max_iter={epochs}, batch_size={batch_size!r}, "
          f"random_state=0) on {n_rows} x {n_features}: {step} rows per chunk, {-(-n_rows // step)} chunks per epoch")
    print(f"fit time            {fit_s:9.3f} s")
    print(f"  validation, rest  {other:9.3f} s  (NaN and range checks on the host, set-up)")
    print(f"  initialisation    {phases.get('_initial_state', 0.0):9.3f} s  (PCA, NumPy float64 on the host)")
    print(f"  copy to device    {phases.get('_resident_chunks', 0.0):9.3f} s")
    if len(epoch_s):
        print(f"  epochs            {epoch_s.sum():9.3f} s  (first {epoch_s[0]:.3f} s", end="")
        if len(epoch_s) > 1:
            median = float(np.median(epoch_s[1:]))
            print(f", then median {median:.3f} s; tracing overhead about {epoch_s[0] - median:.3f} s)")
        else:
            print(")")
    else:
        print("  epochs            (not timed: this sksom has no _run_epoch to time)")
    print(f"  final errors      {phases.get('_set_fitted', 0.0):9.3f} s  (two best units of every row, labels)")
    print(f"  QE {som.quantization_error_:.4f}, TE {som.topographic_error_:.4f}")
    if on_gpu:
        peak = tf.config.experimental.get_memory_info("GPU:0")["peak"]
        print(f"  peak GPU memory during fit {peak / 1e9:.2f} GB ({before / 1e9:.2f} GB in use before it: "
              f"{(peak - before) / 1e9:.2f} GB added by the fit)")
    else:
        print("  peak GPU memory: no GPU visible")
    return som, fit_s


def print_floor(tf, device, som, X, fit_s, epochs, smoothing):
    """Time the matmul floor of ``som``'s fit on ``device`` and print its ratios."""
    n_units = som.cluster_centers_.shape[0]
    step = som._chunk_size(n_units, X.shape[1])
    floor_s, flops = matmul_floor(tf, device, X, step, n_units, epochs, smoothing)
    what = "X @ W.T over the same chunks plus H @ S" if smoothing else "X @ W.T over the same chunks (no H @ S)"
    print(f"\nmatmul floor        {floor_s:9.3f} s  ({epochs} epochs of {what}, data on {device}; "
          f"{flops / 1e12:.2f} TFLOP at {flops / floor_s / 1e12:.2f} TFLOP/s)")
    print(f"ratio fit / floor     {fit_s / floor_s:9.2f}")
    if som._epoch_seconds:
        print(f"ratio epochs / floor  {sum(som._epoch_seconds) / floor_s:9.2f}")


def gas_case(device, rows, batch_epochs):
    """Time the gases on ``device`` (and the sequential ones on the CPU too); print a table."""
    from bench_gas import N_UNITS, _numpy_ng_batch, _start_units, mixture_2d

    from sksom import GrowingNeuralGas, NeuralGas
    from sksom.metrics import quantization_error

    X = mixture_2d(rows)
    print(f"\n== gases on {rows} x {X.shape[1]} (bench_gas.py's mixture2d), {N_UNITS} units")
    print(f"{'model':<22} {'device':<14} {'first fit s':>11} {'second s':>9} {'QE':>8}")

    def row(name, where, make):
        seconds = []
        for _ in range(2):
            model = make()
            start = time.perf_counter()
            model.fit(X)
            seconds.append(time.perf_counter() - start)
        qe = quantization_error(X, model.cluster_centers_.astype(np.float32))
        print(f"{name:<22} {where:<14} {seconds[0]:>11.2f} {seconds[1]:>9.2f} {qe:>8.4f}", flush=True)

    init = _start_units(X, N_UNITS).astype(X.dtype)
    here = device if device.startswith("/GPU") else "cpu"
    row(f"NG batch, {batch_epochs} epochs", here,
        lambda: NeuralGas(N_UNITS, max_iter=batch_epochs, init=init, random_state=0, device=here))
    seconds, codebook = _numpy_ng_batch(X, "batch", batch_epochs)
    qe = quantization_error(X, codebook.astype(np.float32))
    print(f"{'NG batch, NumPy':<22} {'host':<14} {seconds:>11.2f} {'':>9} {qe:>8.4f}", flush=True)
    for where in dict.fromkeys([here, "cpu"]):
        row("NG online, 1 epoch", where,
            lambda: NeuralGas(N_UNITS, algorithm="online", max_iter=1, init=init, random_state=0, device=where))
        row("GNG, 1 pass", where,
            lambda: GrowingNeuralGas(max_units=N_UNITS, max_iter=1, init=init[:2], random_state=0, device=where))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", choices=["floor", "big-map", "gas"], default=["floor", "big-map"],
                        help="floor: the 50 x 50 map on 1,000,000 rows; big-map: 200 x 200 on MNIST (default: "
                        "both); gas: neural gas and GNG on 100,000 x 2")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of data (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS} rows in the first case")
    parser.add_argument("--dry-run", action="store_true",
                        help=f"tiny sizes ({DRY_RUN}) to check the script end to end on a CPU")
    parser.add_argument("--side", type=int, default=50, help="map side (default 50: a 50 x 50 map)")
    parser.add_argument("--big-side", type=int, default=200, help="map side of the big map (default 200)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs (default 10)")
    parser.add_argument("--batch-size", default="auto", help="rows per chunk (default: the estimator's 'auto')")
    args = parser.parse_args(argv)
    rows = QUICK_ROWS if args.quick else args.rows
    # The gases keep their 20 epochs in a dry run: with fewer, lambda falls
    # so fast that the NumPy transcription (which has no guard) divides by
    # the zero weight of a unit no sample is nearest to.
    big_rows, gas_rows, gas_epochs = BIG_ROWS, GAS_ROWS, GAS_BATCH_EPOCHS
    if args.dry_run:
        rows, args.side, big_rows, args.big_side, args.epochs, gas_rows = (
            DRY_RUN[k] for k in ("rows", "side", "big_rows", "big_side", "epochs", "gas_rows"))
    batch_size = args.batch_size if args.batch_size == "auto" else int(args.batch_size)
    begin = time.perf_counter()

    # Keep TensorFlow's C++ start-up notices out of the report, as sksom does.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from sksom import _engine as engine  # loads TensorFlow as a user's fit does
    import tensorflow as tf

    print(f"TensorFlow {tf.__version__}")
    print(f"physical devices: {tf.config.list_physical_devices()}")
    device, description = device_description(tf, engine)
    on_gpu = device.startswith("/GPU")
    print(f"device used: {description}")
    if not on_gpu:
        print("NO GPU VISIBLE: every figure below is the CPU's, not the check's.")
    if args.dry_run:
        print("DRY RUN: tiny sizes, to check the script end to end; the figures mean nothing.")
    print(f"TF32 matmuls: {'enabled' if tf.config.experimental.tensor_float_32_execution_enabled() else 'disabled'}"
          f"{'' if on_gpu else ' (no effect on a CPU)'}")
    print(f"host: {os.cpu_count()} CPU cores; {_common.load_average()}")

    if "floor" in args.cases:
        print(f"\n== {args.side} x {args.side} map on {rows} x {N_FEATURES} Gaussian blobs")
        start = time.perf_counter()
        X = _common.gaussian_blobs(rows, N_FEATURES, n_centers=30, seed=0)
        print(f"data: {rows} x {N_FEATURES} float32 ({X.nbytes / 1e6:.0f} MB), generated in "
              f"{time.perf_counter() - start:.1f} s")
        som, fit_s = timed_fit(tf, on_gpu, X, args.side, args.epochs, batch_size)
        print_floor(tf, device, som, X, fit_s, args.epochs, smoothing=True)
        del X, som

    if "big-map" in args.cases:
        X, source = _common.mnist_or_generated(big_rows)
        print(f"\n== {args.big_side} x {args.big_side} map ({args.big_side**2} units) on {X.shape[0]} x "
              f"{X.shape[1]} {source}")
        som, fit_s = timed_fit(tf, on_gpu, X, args.big_side, args.epochs, batch_size)
        print_floor(tf, device, som, X, fit_s, args.epochs, smoothing=False)

    if "gas" in args.cases:
        gas_case(device, gas_rows, gas_epochs)

    print(f"\nthis check took {time.perf_counter() - begin:.1f} s in all")


if __name__ == "__main__":
    main()
