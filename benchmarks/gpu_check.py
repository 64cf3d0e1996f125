"""GPU check: a 50 x 50 map on 1,000,000 x 784 for 10 epochs, against its matmul floor.

One command, meant to finish in well under 5 minutes on one modern GPU. It

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
   and for the epochs alone).

Both use TensorFlow's default float32 matmul precision (TF32 on GPUs that
have it), which is printed.

Usage::

    python benchmarks/gpu_check.py                 # the full check
    python benchmarks/gpu_check.py --quick         # 5,000 rows: an end-to-end run on a CPU
    python benchmarks/gpu_check.py --rows 100000 --batch-size 65536
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


def device_description(tf, engine):
    """The TensorFlow device the fit runs on, and a readable name for it."""
    gpus = tf.config.list_logical_devices("GPU")
    if engine.on_gpu(None) and gpus:
        physical = tf.config.list_physical_devices("GPU")[0]
        name = tf.config.experimental.get_device_details(physical).get("device_name", "unknown GPU")
        return "/GPU:0", f"/GPU:0 ({name})"
    return "/CPU:0", "/CPU:0 (no GPU visible to TensorFlow)"


def matmul_floor(tf, device, X, step, n_units, epochs):
    """Seconds for the matrix products of ``epochs`` batch-map epochs, data on ``device``.

    Returns ``(seconds, flops)``.
    """
    n_features = X.shape[1]
    rng = np.random.default_rng(0)
    with tf.device(device):
        chunks = [tf.constant(X[start : start + step]) for start in range(0, X.shape[0], step)]
        W = tf.constant(rng.standard_normal((n_units, n_features), dtype=np.float32))
        H = tf.constant(rng.random((n_units, n_units), dtype=np.float32))
        S = tf.constant(rng.standard_normal((n_units, n_features), dtype=np.float32))

        def epoch():
            for chunk in chunks:
                tf.matmul(chunk, W, transpose_b=True)
            # Ops on one device run in order: waiting for the last one waits
            # for all of them.
            return float(tf.reduce_sum(tf.matmul(H, S)).numpy())

        epoch()  # warm-up: kernel selection, library handles
        start = time.perf_counter()
        for _ in range(epochs):
            epoch()
        seconds = time.perf_counter() - start
    flops = epochs * (2.0 * X.shape[0] * n_features * n_units + 2.0 * n_units * n_units * n_features)
    return seconds, flops


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of data (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS} rows, for a run on a CPU")
    parser.add_argument("--side", type=int, default=50, help="map side (default 50: a 50 x 50 map)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs (default 10)")
    parser.add_argument("--batch-size", default="auto", help="rows per chunk (default: the estimator's 'auto')")
    args = parser.parse_args(argv)
    rows = QUICK_ROWS if args.quick else args.rows
    batch_size = args.batch_size if args.batch_size == "auto" else int(args.batch_size)
    n_units = args.side * args.side
    begin = time.perf_counter()

    # Keep TensorFlow's C++ start-up notices out of the report, as sksom does.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    from sksom import _engine as engine
    print(f"TensorFlow {tf.__version__}")
    print(f"physical devices: {tf.config.list_physical_devices()}")
    device, description = device_description(tf, engine)
    on_gpu = device.startswith("/GPU")
    print(f"device used: {description}")
    print(f"TF32 matmuls: {'enabled' if tf.config.experimental.tensor_float_32_execution_enabled() else 'disabled'}"
          f"{'' if on_gpu else ' (no effect on a CPU)'}")
    print(f"host: {os.cpu_count()} CPU cores; {_common.load_average()}")

    start = time.perf_counter()
    X = _common.gaussian_blobs(rows, N_FEATURES, n_centers=30, seed=0)
    print(f"data: {rows} x {N_FEATURES} float32 ({X.nbytes / 1e6:.0f} MB), generated in "
          f"{time.perf_counter() - start:.1f} s")

    som = PhaseTimedSOM(map_size=(args.side, args.side), max_iter=args.epochs, batch_size=batch_size, random_state=0)
    if on_gpu:
        tf.config.experimental.reset_memory_stats("GPU:0")
    start = time.perf_counter()
    som.fit(X)
    fit_s = time.perf_counter() - start
    step = som._chunk_size(n_units, N_FEATURES)
    phases = som._phase_seconds
    epochs = np.array(som._epoch_seconds)
    other = fit_s - epochs.sum() - sum(phases.values())
    print(f"\nfit: SOMClusterer(map_size=({args.side}, {args.side}), max_iter={args.epochs}, "
          f"batch_size={batch_size!r}, random_state=0): {step} rows per chunk, "
          f"{-(-rows // step)} chunks per epoch")
    print(f"fit time            {fit_s:9.3f} s")
    print(f"  validation, rest  {other:9.3f} s  (NaN and range checks on the host, set-up)")
    print(f"  initialisation    {phases.get('_initial_state', 0.0):9.3f} s  (PCA, NumPy float64 on the host)")
    print(f"  copy to device    {phases.get('_resident_chunks', 0.0):9.3f} s")
    print(f"  epochs            {epochs.sum():9.3f} s  (first {epochs[0]:.3f} s", end="")
    if len(epochs) > 1:
        median = float(np.median(epochs[1:]))
        print(f", then median {median:.3f} s; tracing overhead about {epochs[0] - median:.3f} s)")
    else:
        print(")")
    print(f"  final errors      {phases.get('_set_fitted', 0.0):9.3f} s  (two best units of every row, labels)")
    print(f"  QE {som.quantization_error_:.4f}, TE {som.topographic_error_:.4f}")
    if on_gpu:
        peak = tf.config.experimental.get_memory_info("GPU:0")["peak"]
        print(f"  peak GPU memory during fit {peak / 1e9:.2f} GB")

    floor_s, flops = matmul_floor(tf, device, X, step, n_units, args.epochs)
    print(f"\nmatmul floor        {floor_s:9.3f} s  ({args.epochs} epochs of X @ W.T over the same chunks plus "
          f"H @ S, data on {device}; {flops / 1e12:.2f} TFLOP at {flops / floor_s / 1e12:.2f} TFLOP/s)")
    print(f"ratio fit / floor     {fit_s / floor_s:9.2f}")
    print(f"ratio epochs / floor  {epochs.sum() / floor_s:9.2f}")
    print(f"\nthis check took {time.perf_counter() - begin:.1f} s in all")


if __name__ == "__main__":
    main()
