"""The NumPy side of the parameterless SOM: its normaliser and one epoch's driver.

``SOMClusterer(algorithm="plsom")`` normalises each sample's squared error by
``r``, the largest squared error seen so far (Berglund & Sitte 2006), carried
from call to call. ``algorithm="plsom2"`` divides the distance to the BMU
(not its square, as in Berglund's own implementation of PLSOM2) by the
diameter of the data of each call instead (Berglund 2010), so that the large
errors of a past transient (a shift of the data) do not keep every later step
small. A
far outlier in the data still widens that diameter: PLSOM2 does not protect
against it (see the user guide for the measurement). The diameter is
estimated as in PLSOM2, from the samples that are extreme along some feature
(at most two per feature): the largest distance between two of them.
"""

import numpy as np

from ._topology import lattice_periods, unit_coordinates

PLSOM_ALGORITHMS = ("plsom", "plsom2")
# Rows of the extreme set compared at once when measuring its diameter.
_BLOCK = 1024


def extreme_rows(data, step):
    """Rows that attain the minimum or maximum of some feature, among the
    samples of positive weight.

    NaN (missing) entries never attain an extreme; ties go to the earlier
    row. Returns a float64 array of the distinct such rows (at most
    ``2 * n_features``), in the order of the data; only those rows are kept
    from chunk to chunk, so memory stays linear in ``n_features``.
    """
    kept = np.empty((0, data.n_features))
    for X, w in data.chunks(step, np.float64):
        # Zero-weight samples are ignored: they take no part in the extremes.
        X = X[w > 0]
        if len(X):
            kept = _extremes_among(np.vstack([kept, X]))
    return kept


def _extremes_among(rows):
    """The distinct rows of ``rows`` that attain the minimum or maximum of some feature (NaN ignored)."""
    observed = ~np.isnan(rows)
    seen = observed.any(axis=0)
    low = np.where(observed, rows, np.inf).argmin(axis=0)[seen]
    high = np.where(observed, rows, -np.inf).argmax(axis=0)[seen]
    return rows[np.unique(np.concatenate([low, high]))]


def squared_diameter(rows):
    """Largest squared distance between two rows, over the features both observe."""
    observed = ~np.isnan(rows)
    A = np.where(observed, rows, 0.0)
    M = observed.astype(np.float64)
    A2 = A * A
    largest = 0.0
    for start in range(0, len(A), _BLOCK):
        block = slice(start, start + _BLOCK)
        d2 = A2[block] @ M.T + M[block] @ A2.T - 2.0 * (A[block] @ A.T)
        largest = max(largest, float(d2.max()))
    return max(largest, 0.0)


def start_normaliser(estimator, data, step, fresh):
    """Set ``_plsom_r``, the normaliser ``r``, for a call to ``fit`` or ``partial_fit``.

    PLSOM: the largest squared error of earlier calls (0 on a fresh start, so
    that the first sample sets it). PLSOM2: the diameter of this call's
    data, whatever came before. A call whose samples are all equal (diameter
    0, e.g. a single-sample ``partial_fit`` of a stream) takes the diameter
    of its data together with the data of the calls before it, back to the
    last call that had a diameter of its own: their extreme rows are kept
    in ``_plsom_extremes``, so that a stream of single samples is normalised
    by the spread it has shown so far.
    """
    previous = 0.0 if fresh else float(getattr(estimator, "_plsom_r", 0.0))
    if estimator.algorithm != "plsom2":
        estimator._plsom_r = previous
        return
    rows = extreme_rows(data, step)
    diameter = float(np.sqrt(squared_diameter(rows)))
    kept = None if fresh else getattr(estimator, "_plsom_extremes", None)
    if diameter == 0.0 and kept is not None and kept.shape[1] == rows.shape[1]:
        rows = _extremes_among(np.vstack([kept, rows]))
        diameter = float(np.sqrt(squared_diameter(rows)))
    estimator._plsom_extremes = rows
    estimator._plsom_r = diameter or previous


def run_epoch(estimator, kernels, data, codebook, map_size, step, rng, device):
    """One PLSOM epoch over the data in a seeded random order.

    A sample's step is scaled by its weight relative to the mean weight of the
    call's data (the weights are validated so), capped at 1. Returns the
    codebook and the last neighbourhood width; ``_plsom_r`` carries the
    normaliser on.
    """
    dtype = codebook.dtype
    chunks = ((X, w) for X, w, _ in data.shuffled_chunks(step, dtype, rng))
    beta, theta_min = estimator._radius_range(map_size)
    codebook, r, theta = kernels.plsom_epoch(
        chunks, codebook,
        unit_coordinates(map_size, estimator.topology),
        lattice_periods(map_size, estimator.topology, estimator.periodic),
        estimator._plsom_r, beta, theta_min,
        adaptive=estimator.algorithm == "plsom", device=device, masked=data.masked,
    )
    estimator._plsom_r = r
    return codebook, theta
