"""Reference definitions written out for the tests, independent of the package."""

import numpy as np


def lattice_adjacency(map_size, topology="rectangular", periodic=False):
    """Adjacent units written out: the 4 edge neighbours, or 6 on the hexagonal lattice.

    Hexagonal odd rows are shifted half a unit right, so unit (r, c) touches
    columns c - 1 and c of the rows above and below when r is even, c and
    c + 1 when r is odd. A torus wraps both indices.
    """
    n_rows, n_columns = map_size
    adjacent = np.zeros((n_rows * n_columns,) * 2, dtype=bool)
    for r in range(n_rows):
        for c in range(n_columns):
            if topology == "rectangular":
                steps = [(0, -1), (0, 1), (-1, 0), (1, 0)]
            else:
                odd = r % 2
                steps = [(0, -1), (0, 1), (-1, odd - 1), (-1, odd), (1, odd - 1), (1, odd)]
            for dr, dc in steps:
                rr, cc = r + dr, c + dc
                if periodic:
                    rr, cc = rr % n_rows, cc % n_columns
                elif not (0 <= rr < n_rows and 0 <= cc < n_columns):
                    continue
                adjacent[r * n_columns + c, rr * n_columns + cc] = True
    return adjacent


def two_nearest(X, codebook):
    """First and second nearest units of each row (ties to the lower index) and the distance to the first."""
    D = np.sqrt(((X[:, None, :] - codebook[None]) ** 2).sum(axis=2))
    first, second = np.argsort(D, axis=1, kind="stable")[:, :2].T
    return first, second, D.min(axis=1)


def topographic_error(X, codebook, map_size, topology="rectangular", periodic=False, sample_weight=None):
    """Weighted share of rows whose two nearest units are not adjacent."""
    first, second, _ = two_nearest(X, codebook)
    misplaced = ~lattice_adjacency(map_size, topology, periodic)[first, second]
    return np.average(misplaced, weights=sample_weight)


def purity(units, y):
    """Share of rows whose unit's majority class is their own."""
    return sum(np.bincount(y[units == u]).max() for u in np.unique(units)) / len(y)
