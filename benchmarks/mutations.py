"""Mutation check: plant known bugs one at a time and see whether the tests catch them.

Every module ``benchmarks/mutants/*.py`` defines ``MUTANTS``, a list of dicts::

    {"name": "short description of the planted bug",
     "file": "sksom/...py",           # relative to the repository root
     "old": "exact source text",      # must occur exactly once in the file
     "new": "replacement text",
     "tests": ["tests/test_x.py", ...]}  # the tests that should catch it

For each mutant this script copies the package and its tests into a temporary
directory, applies the edit there (never to the working tree), runs the named
tests against the copy and reports whether they failed (caught), passed
(survived), or whether the edit could not be applied because ``old`` is not
found exactly once (the code moved on: update the mutant). The exit status is
1 when any mutant survives, does not apply or could not be run.

Usage::

    python benchmarks/mutations.py                 # every mutant
    python benchmarks/mutations.py --list          # names only
    python benchmarks/mutations.py --only decay    # names containing "decay" (repeatable)
    python benchmarks/mutations.py -j 2            # two mutants at a time
"""

import argparse
import concurrent.futures
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS_DIR = Path(__file__).resolve().parent / "mutants"
# What every copy holds; examples/ is added when a mutant's tests need it.
_COPIED = ("sksom", "tests", "pyproject.toml")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
_REQUIRED_KEYS = ("name", "file", "old", "new", "tests")

CAUGHT, SURVIVED, DOES_NOT_APPLY, ERROR = "caught", "SURVIVED", "DOES NOT APPLY", "ERROR"


def load_mutants(directory=MUTANTS_DIR):
    """Every mutant of every module in ``directory``, each tagged with its module name."""
    mutants = []
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(f"_sksom_mutants_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for mutant in getattr(module, "MUTANTS", []):
            missing = [key for key in _REQUIRED_KEYS if key not in mutant]
            if missing:
                raise ValueError(f"{path.name}: mutant {mutant.get('name', '?')!r} lacks {missing}")
            mutants.append({**mutant, "module": path.stem})
    return mutants


def apply(mutant, root):
    """Apply the edit to the copy under ``root``; returns None or why it does not apply."""
    target = root / mutant["file"]
    if not target.is_file():
        return f"{mutant['file']} does not exist"
    text = target.read_text()
    count = text.count(mutant["old"])
    if count != 1:
        return f"'old' text found {count} times in {mutant['file']}, expected exactly once"
    target.write_text(text.replace(mutant["old"], mutant["new"]))
    return None


def _copy_tree(destination, tests):
    for name in _COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=_IGNORED)
        elif source.exists():
            shutil.copy2(source, destination / name)
    if any(t.startswith("examples") or "test_examples" in t for t in tests) and (ROOT / "examples").is_dir():
        shutil.copytree(ROOT / "examples", destination / "examples", ignore=_IGNORED)


def _environment(copy):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(copy)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    # One thread per test process, so that parallel mutants do not oversubscribe.
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("TF_NUM_INTEROP_THREADS", "1")
    env.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def run_mutant(mutant, timeout):
    """Copy, mutate, test. Returns ``(status, seconds, detail)``."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sksom-mutant-") as tmp:
        copy = Path(tmp)
        _copy_tree(copy, mutant["tests"])
        problem = apply(mutant, copy)
        if problem is not None:
            return DOES_NOT_APPLY, time.perf_counter() - start, problem
        env = _environment(copy)
        # The copy, not an installed sksom, must be the one imported.
        where = subprocess.run(
            [sys.executable, "-c", "import sksom; print(sksom.__file__)"],
            cwd=copy, env=env, capture_output=True, text=True,
        )
        if where.returncode == 0 and not Path(where.stdout.strip()).resolve().is_relative_to(copy.resolve()):
            return ERROR, time.perf_counter() - start, f"the copy is not imported: sksom from {where.stdout.strip()}"
        command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                   *mutant["tests"]]
        try:
            result = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            # A mutant that hangs the tests does not pass them.
            return CAUGHT, time.perf_counter() - start, f"timed out after {timeout} s"
        seconds = time.perf_counter() - start
        output = (result.stdout + result.stderr).strip().splitlines()
        tail = output[-1] if output else ""
        # pytest exit codes: 0 all passed, 1 some failed, 2 collection errors
        # (the mutant broke an import); 4 and 5 mean the tests named are wrong.
        if result.returncode == 0:
            return SURVIVED, seconds, tail
        if result.returncode in (1, 2):
            failed = [line for line in output if line.startswith(("FAILED", "ERROR"))]
            return CAUGHT, seconds, failed[0] if failed else tail
        return ERROR, seconds, f"pytest exit code {result.returncode}: " + "\n".join(output[-5:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run the mutants whose name (or module) contains NAME; repeatable")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="mutants run in parallel (default 1)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per mutant's tests")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the first failing test of each mutant")
    args = parser.parse_args(argv)

    mutants = load_mutants()
    if args.only:
        wanted = [w.lower() for w in args.only]
        mutants = [m for m in mutants if any(w in m["name"].lower() or w == m["module"] for w in wanted)]
    if not mutants:
        print("No mutant matches.", file=sys.stderr)
        return 1
    if args.list:
        for m in mutants:
            print(f"{m['module']:10s} {m['name']}  [{m['file']}; {' '.join(m['tests'])}]")
        return 0

    print(f"{len(mutants)} mutants, {args.jobs} at a time", flush=True)
    results = [None] * len(mutants)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(run_mutant, m, args.timeout): i for i, m in enumerate(mutants)}
        for future in concurrent.futures.as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            status, seconds, _ = results[i]
            print(f"  {status:14s} {seconds:6.1f} s  {mutants[i]['name']}", flush=True)

    name_width = min(70, max(len(m["name"]) for m in mutants))
    file_width = max(len(m["file"]) for m in mutants)
    print()
    print(f"{'mutant':{name_width}s}  {'file':{file_width}s}  {'result':14s}  seconds")
    for m, (status, seconds, detail) in zip(mutants, results):
        print(f"{m['name'][:name_width]:{name_width}s}  {m['file']:{file_width}s}  {status:14s}  {seconds:7.1f}")
        if status in (DOES_NOT_APPLY, ERROR) or (args.verbose and detail):
            print(f"    {detail}")
    counts = {s: sum(r[0] == s for r in results) for s in (CAUGHT, SURVIVED, DOES_NOT_APPLY, ERROR)}
    print("\n" + ", ".join(f"{n} {s.lower()}" for s, n in counts.items()))
    return 0 if counts[CAUGHT] == len(mutants) else 1


if __name__ == "__main__":
    sys.exit(main())
