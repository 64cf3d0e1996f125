"""Two-worker ``MultiWorkerMirroredStrategy`` fit on localhost against one process.

The batch map distributes as per-replica sums plus an all-reduce, so a fit
with ``strategy="multi_worker"`` on several workers must give the codebook of
a plain one-process fit, up to float rounding. This script checks that across
real processes talking gRPC over the loopback interface:

1. two free ports on 127.0.0.1 are found;
2. two worker processes start, each with its ``TF_CONFIG`` (a cluster of the
   two workers and its own task index), and each runs the same
   ``SOMClusterer(strategy="multi_worker", ...).fit`` on the same generated
   data;
3. a third process fits the same estimator without a strategy;
4. the three codebooks are compared and one line per comparison is printed
   (here, on float32 data, as measured on a 2-core machine)::

       max_abs_diff worker0 9.54e-07
       max_abs_diff worker1 9.54e-07
       max_abs_diff workers 0
       OK: tolerance 1e-05, 33.1 s in all

It exits with status 0 when every difference is below ``--tolerance``
(default 1e-5), 1 otherwise, and 2 when a process fails or runs past
``--timeout`` seconds (the children are then killed). The processes see no
GPU (``CUDA_VISIBLE_DEVICES=""``), so the check is the same on every machine.
Only loopback addresses are used; nothing leaves the machine.

Usage::

    python benchmarks/multiworker_check.py
    python benchmarks/multiworker_check.py --timeout 120 --tolerance 1e-5
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# The estimator every process fits; float32, several chunks per epoch, so
# that every epoch runs several all-reduces.
PARAMS = {"map_size": (5, 4), "max_iter": 4, "batch_size": 100, "random_state": 0}


def make_data():
    """The training data, generated identically in every process."""
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=403, centers=5, n_features=6, random_state=0)
    return X.astype(np.float32)


def worker(out, distributed):
    """Fit the map (with the multi-worker strategy or without) and save the codebook."""
    from sksom import SOMClusterer

    som = SOMClusterer(strategy="multi_worker" if distributed else None, **PARAMS)
    som.fit(make_data())
    np.save(out, som.cluster_centers_)
    print("done", flush=True)
    # A multi-worker process keeps its gRPC server threads alive; leave at once
    # rather than wait on them at interpreter shutdown.
    os._exit(0)


def free_ports(count):
    """Distinct ports on 127.0.0.1 that nothing listens on right now."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _start(out, env_extra, distributed):
    """Start a worker writing its codebook to ``out`` and its output next to it."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", out]
    if distributed:
        cmd.append("--distributed")
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2", **env_extra)
    # Output goes to a file, not a pipe: a pipe nobody reads until the end
    # blocks a chatty process once its buffer is full.
    with open(out + ".log", "w") as log:
        return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_all(processes, deadline):
    """Wait for every process; kill all of them at the deadline or on a failure.

    Returns None on success, else a description of what went wrong.
    """
    problem = None
    pending = dict(processes)
    while pending and problem is None:
        for name, proc in list(pending.items()):
            if proc.poll() is not None:
                del pending[name]
                if proc.returncode != 0:
                    problem = f"{name} exited with status {proc.returncode}"
        if pending and time.monotonic() > deadline:
            problem = f"timed out waiting for {', '.join(pending)}"
        time.sleep(0.1)
    for proc in processes.values():
        if proc.poll() is None:
            proc.kill()
    return problem


def _report_failure(problem, processes, outs):
    print(f"FAILED: {problem}")
    for name, proc in processes.items():
        proc.wait()
        lines = Path(outs[name] + ".log").read_text(errors="replace").strip().splitlines()[-15:]
        print(f"--- {name} (status {proc.returncode}), last lines of its output:")
        print("\n".join(lines) if lines else "(nothing)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for the whole check")
    parser.add_argument("--tolerance", type=float, default=1e-5, help="largest accepted codebook difference")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--distributed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.distributed)
        return 0

    start = time.monotonic()
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    print(f"cluster: {json.dumps(cluster)}")
    with tempfile.TemporaryDirectory() as tmp:
        outs = {name: os.path.join(tmp, f"{name}.npy") for name in ("worker0", "worker1", "single")}
        processes = {
            f"worker{i}": _start(
                outs[f"worker{i}"], {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})},
                distributed=True,
            )
            for i in range(2)
        }
        # The one-process reference runs alongside: it needs no cluster.
        processes["single"] = _start(outs["single"], {"TF_CONFIG": ""}, distributed=False)
        problem = _wait_all(processes, start + args.timeout)
        if problem:
            _report_failure(problem, processes, outs)
            return 2
        codebooks = {name: np.load(path) for name, path in outs.items()}

    diffs = {
        "worker0": np.abs(codebooks["worker0"] - codebooks["single"]).max(),
        "worker1": np.abs(codebooks["worker1"] - codebooks["single"]).max(),
        "workers": np.abs(codebooks["worker0"] - codebooks["worker1"]).max(),
    }
    for name, diff in diffs.items():
        print(f"max_abs_diff {name} {diff:.3g}")
    ok = max(diffs.values()) < args.tolerance
    print(f"{'OK' if ok else 'MISMATCH'}: tolerance {args.tolerance:g}, {time.monotonic() - start:.1f} s in all")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
