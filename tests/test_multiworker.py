"""MultiWorkerMirroredStrategy across two processes on localhost."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "multiworker_check.py"


def test_two_workers_on_localhost_match_one_process():
    """Check that two multi-worker processes both get the one-process codebook."""
    # The script kills its workers after --timeout; the outer timeout is a backstop.
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--timeout", "240", "--tolerance", "1e-5"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    diffs = {
        parts[1]: float(parts[2])
        for parts in (line.split() for line in out.stdout.splitlines())
        if parts and parts[0] == "max_abs_diff"
    }
    assert set(diffs) == {"worker0", "worker1", "workers"}
    assert diffs["worker0"] < 1e-5 and diffs["worker1"] < 1e-5
    # The all-reduce hands both workers the same sums, so their codebooks agree exactly.
    assert diffs["workers"] == 0.0
