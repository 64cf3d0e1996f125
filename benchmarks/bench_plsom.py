"""How much the final map depends on its parameters: PLSOM against the scheduled SOM.

The parameterless SOM (``algorithm="plsom"``, Berglund & Sitte 2006) and its
diameter-normalised variant (``"plsom2"``) have one size parameter, the
largest neighbourhood width beta (``radius_start``). The online and batch SOM
have a learning-rate schedule and a radius schedule. Side by side, in one run,
on the same data, map and number of epochs, this script fits

* PLSOM and PLSOM2 over beta in {0.5, 0.75, 1, 1.5, 2} x the map side;
* the online SOM over ``learning_rate_start`` in {0.1, 0.5, 1.0} x
  ``radius_start`` in {0.25, 0.5, 1} x the map side;
* the batch SOM over ``learning_rate_start`` in {0.5, 1.0} x the same radii;

(``radius_end`` = 1 everywhere), and reports, per data set and algorithm, the
range of the final quantization error (QE) and topographic error (TE) over
its grid, and the relative spread ``(max - min) / mean`` of each. A second
table gives the effect of one far outlier on each algorithm's QE on the
inliers (default parameters). A third measures re-adaptation: after a fit,
the data shifts, and two ``partial_fit`` epochs on the shifted data are
compared with a fresh fit on it.

Data: scikit-learn's digits (1,797 x 64) and a uniform 2-D square (2,000
points), both generated or loaded locally.

Usage::

    python benchmarks/bench_plsom.py           # about 3 minutes on 2 idle cores
    python benchmarks/bench_plsom.py --quick   # fewer epochs and points
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common


def square(n_samples=2000, seed=0):
    """Uniform points in the unit square: Berglund & Sitte's test distribution."""
    return np.random.default_rng(seed).uniform(size=(n_samples, 2)).astype(np.float32)


def grids(side):
    radii = [0.25 * side, 0.5 * side, 1.0 * side]
    betas = [f * side for f in (0.5, 0.75, 1.0, 1.5, 2.0)]
    return {
        "plsom": [{"radius_start": b} for b in betas],
        "plsom2": [{"radius_start": b} for b in betas],
        "online": [{"learning_rate_start": lr, "radius_start": r} for lr in (0.1, 0.5, 1.0) for r in radii],
        "batch": [{"learning_rate_start": lr, "radius_start": r} for lr in (0.5, 1.0) for r in radii],
    }


def spread(values):
    values = np.asarray(values)
    return (values.max() - values.min()) / values.mean()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and points")
    args = parser.parse_args()
    from sksom import SOMClusterer

    epochs = 4 if args.quick else 10
    datasets = {
        "digits": (_common.digits()[: 600 if args.quick else None], 10),
        "square": (square(500 if args.quick else 2000), 10),
    }
    print(f"# {_common.load_average()}; {epochs} epochs, map side 10, radius_end 1, init pca, seed 0")
    print(f"{'data':8} {'algorithm':9} {'fits':>4} {'QE min':>8} {'QE max':>8} {'QE spread':>9} "
          f"{'TE min':>7} {'TE max':>7} {'TE spread':>9} {'s/fit':>6}")
    for name, (X, side) in datasets.items():
        for algorithm, grid in grids(side).items():
            qe, te = [], []
            start = time.perf_counter()
            for params in grid:
                som = SOMClusterer((side, side), algorithm=algorithm, max_iter=epochs, random_state=0, **params).fit(X)
                qe.append(som.quantization_error_)
                te.append(som.topographic_error_)
            seconds = (time.perf_counter() - start) / len(grid)
            print(f"{name:8} {algorithm:9} {len(grid):4d} {min(qe):8.4g} {max(qe):8.4g} {spread(qe):9.3f} "
                  f"{min(te):7.3f} {max(te):7.3f} {spread(te):9.3f} {seconds:6.2f}", flush=True)

    print("\n# one far outlier added to the training data: QE on the inliers, default parameters")
    print(f"{'data':8} {'algorithm':9} {'QE clean':>9} {'QE outlier':>10} {'ratio':>6}")
    for name, (X, side) in datasets.items():
        far = X.mean(axis=0) + 8.0 * np.ptp(X, axis=0).max()
        X_out = np.vstack([X[: len(X) // 2], far[None], X[len(X) // 2 :]])
        for algorithm in ("plsom", "plsom2", "online", "batch"):
            params = {"map_size": (side, side), "algorithm": algorithm, "max_iter": epochs, "random_state": 0}
            clean = -SOMClusterer(**params).fit(X).score(X)
            dirty = -SOMClusterer(**params).fit(X_out).score(X)
            print(f"{name:8} {algorithm:9} {clean:9.4g} {dirty:10.4g} {dirty / clean:6.2f}", flush=True)

    print("\n# re-adaptation: fit 5 epochs, shift the data, 2 partial_fit epochs on the shifted data;")
    print("# QE on the shifted data against a fresh 5-epoch fit on it (8 x 8 map, default parameters), seeds 0-2")
    print(f"{'data':8} {'shift':>10} {'algorithm':9} {'QE after':>9} {'QE fresh':>9} {'ratio':>13}")
    for name, X, shift in readaptation_cases(args.quick):
        shifted = X + shift
        for algorithm in ("plsom", "plsom2", "online"):
            after, fresh = [], []
            for seed in range(3):
                params = {"map_size": (8, 8), "algorithm": algorithm, "max_iter": 5, "random_state": seed}
                som = SOMClusterer(**params).fit(X).partial_fit(shifted).partial_fit(shifted)
                after.append(-som.score(shifted))
                fresh.append(-SOMClusterer(**params).fit(shifted).score(shifted))
            ratios = np.array(after) / np.array(fresh)
            print(f"{name:8} {shift!s:>10} {algorithm:9} {np.mean(after):9.4g} {np.mean(fresh):9.4g} "
                  f"{ratios.min():6.2f}-{ratios.max():.2f}", flush=True)
    print(f"# {_common.load_average()}")


def rings(n_samples=600, seed=0):
    """Two noisy concentric rings, radii 1 and 2."""
    t = np.random.default_rng(seed).uniform(0, 2 * np.pi, n_samples)
    X = np.column_stack([np.cos(t), np.sin(t)]) * np.where(np.arange(n_samples) % 2, 1.0, 2.0)[:, None]
    return X + np.random.default_rng(seed + 1).normal(scale=0.05, size=X.shape)


def readaptation_cases(quick):
    """(name, data, shift): a drift by half the data's width, and shifts beyond it."""
    sq = square(500 if quick else 1000, seed=2).astype(np.float64)
    return [("square", sq, (0.5, 0.0)), ("square", sq, (1.5, 0.5)), ("rings", rings(), (3.0, 0.0))]


if __name__ == "__main__":
    main()
