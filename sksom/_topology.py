"""Map lattices, neighbourhood functions and decay schedules.

Everything here is NumPy and has no state. Neighbourhood functions take an
``xp`` array namespace (``numpy`` by default) so that the TensorFlow engine can
evaluate the *same* definition inside a compiled loop.

Geometry
--------
Units are numbered in row-major order: unit ``k`` sits in row ``k // n_columns``
and column ``k % n_columns``. Its position in the plane
(``unit_coordinates``) is ``(row, column)`` on a rectangular lattice. On a
hexagonal lattice odd rows are shifted by half a unit to the right and rows are
``sqrt(3) / 2`` apart, so every unit has six neighbours at distance exactly 1.
On a periodic (toroidal) map distances wrap around both edges; a hexagonal
torus needs an even number of rows so that the row shift stays consistent
across the seam.

Adjacency
---------
Two distinct units are *adjacent* when their lattice distance is 1: the four
edge-sharing neighbours on a rectangular lattice (diagonals are not adjacent)
and the six neighbours on a hexagonal lattice, wrapping around the edges on a
torus. This is the SOM Toolbox definition; it is the single definition used by
the topographic error, the U-matrix and the connectivity of the second-stage
clustering.
"""

import math

import numpy as np

TOPOLOGIES = ("rectangular", "hexagonal")

# Row spacing of the hexagonal lattice: rows of unit-spaced hexagon centres.
_HEX_ROW_STEP = math.sqrt(3.0) / 2.0


def unit_coordinates(map_size, topology="rectangular"):
    """Positions of the units in the plane, in row-major unit order.

    Parameters
    ----------
    map_size : tuple of (int, int)
        ``(n_rows, n_columns)``.
    topology : {"rectangular", "hexagonal"}, default="rectangular"
        Lattice type.

    Returns
    -------
    coordinates : ndarray of shape (n_rows * n_columns, 2)
        ``(row position, column position)`` of each unit.
    """
    n_rows, n_columns = map_size
    rows, columns = np.divmod(np.arange(n_rows * n_columns), n_columns)
    rows = rows.astype(np.float64)
    columns = columns.astype(np.float64)
    if topology == "hexagonal":
        columns = columns + 0.5 * (rows % 2)
        rows = rows * _HEX_ROW_STEP
    return np.column_stack([rows, columns])


def _periods(map_size, topology):
    n_rows, n_columns = map_size
    row_period = n_rows * (_HEX_ROW_STEP if topology == "hexagonal" else 1.0)
    return np.array([row_period, float(n_columns)])


def lattice_periods(map_size, topology="rectangular", periodic=False):
    """Period of each coordinate axis on a torus; 0 (no wrapping) on a planar map.

    Returns
    -------
    periods : ndarray of shape (2,)
        For the ``(row, column)`` coordinates of :func:`unit_coordinates`.
    """
    return _periods(map_size, topology) if periodic else np.zeros(2)


def squared_distances_to(coordinates, centres, periods, xp=np):
    """Squared lattice distances from each centre to every unit.

    The one definition of lattice distance, in NumPy or (``xp=tf``) inside a
    compiled TensorFlow kernel: per axis the absolute difference of
    coordinates, the short way round on an axis whose period is positive.

    Parameters
    ----------
    coordinates : array of shape (n_units, 2)
        Unit positions, from :func:`unit_coordinates`.
    centres : array of shape (n_centres, 2)
        Positions to measure from (typically the rows of ``coordinates`` of
        the best-matching units).
    periods : array of shape (2,)
        From :func:`lattice_periods`.

    Returns
    -------
    distances : array of shape (n_centres, n_units)
    """
    total = None
    for axis in range(2):
        delta = xp.abs(centres[:, None, axis] - coordinates[None, :, axis])
        period = periods[axis]
        delta = xp.where(period > 0, xp.minimum(delta, period - delta), delta)
        total = delta * delta if total is None else total + delta * delta
    return total


def squared_grid_distances(map_size, topology="rectangular", periodic=False):
    """Squared lattice distances between every pair of units.

    An (n_units, n_units) array: for small maps and for tests only. Training,
    metrics and plots measure distances from the units they need with
    :func:`squared_distances_to`, so that nothing grows with the square of
    the number of units.

    Parameters
    ----------
    map_size : tuple of (int, int)
        ``(n_rows, n_columns)``.
    topology : {"rectangular", "hexagonal"}, default="rectangular"
        Lattice type.
    periodic : bool, default=False
        Whether the map wraps around its edges (a torus).

    Returns
    -------
    distances : ndarray of shape (n_units, n_units)
        Squared Euclidean distances between unit positions, measured the
        short way round on a torus.
    """
    coordinates = unit_coordinates(map_size, topology)
    return squared_distances_to(coordinates, coordinates, lattice_periods(map_size, topology, periodic))


def adjacency(map_size, topology="rectangular", periodic=False):
    """Boolean adjacency matrix of the lattice (see the module docstring).

    Parameters
    ----------
    map_size : tuple of (int, int)
        ``(n_rows, n_columns)``.
    topology : {"rectangular", "hexagonal"}, default="rectangular"
        Lattice type.
    periodic : bool, default=False
        Whether the map wraps around its edges.

    Returns
    -------
    adjacent : ndarray of shape (n_units, n_units), dtype=bool
        ``adjacent[i, j]`` is True when units ``i != j`` are one lattice step
        apart.
    """
    return adjacency_from_squared_distances(squared_grid_distances(map_size, topology, periodic))


def adjacency_from_squared_distances(d2):
    """Adjacency from the output of :func:`squared_grid_distances`."""
    # Lattice distances are 1 between neighbours and at least sqrt(2) between
    # any other pair, so comparing against 1 with float tolerance is exact.
    return np.isclose(d2, 1.0, rtol=0.0, atol=1e-9)


def check_map_size(map_size, topology, periodic):
    """Validate a resolved map size against the lattice options."""
    n_rows, n_columns = map_size
    if periodic and topology == "hexagonal" and n_rows % 2:
        raise ValueError(
            "A periodic hexagonal map needs an even number of rows so that the "
            f"row offsets match across the seam; got map_size={tuple(map_size)}."
        )


# -- neighbourhood functions -------------------------------------------------
# Each takes squared lattice distances ``d2`` and a radius ``sigma`` (> 0) and
# returns the neighbourhood weight of every unit; ``xp`` is the array namespace.


def gaussian(d2, sigma, xp=np):
    """``exp(-d^2 / (2 sigma^2))``."""
    return xp.exp(-d2 / (2.0 * sigma * sigma))


def bubble(d2, sigma, xp=np):
    """1 within the radius (``d <= sigma``), 0 outside."""
    return xp.where(d2 <= sigma * sigma, xp.ones_like(d2), xp.zeros_like(d2))


def triangle(d2, sigma, xp=np):
    """``max(0, 1 - d / sigma)``: a cone of height 1 and radius ``sigma``."""
    return xp.maximum(1.0 - xp.sqrt(d2) / sigma, xp.zeros_like(d2))


def cut_gaussian(d2, sigma, xp=np):
    """The Gaussian, set to 0 beyond the radius (compact support)."""
    return xp.where(d2 <= sigma * sigma, gaussian(d2, sigma, xp), xp.zeros_like(d2))


def mexican_hat(d2, sigma, xp=np):
    """``(1 - d^2 / sigma^2) exp(-d^2 / (2 sigma^2))``; negative far away."""
    return (1.0 - d2 / (sigma * sigma)) * gaussian(d2, sigma, xp)


NEIGHBORHOODS = {
    "gaussian": gaussian,
    "bubble": bubble,
    "triangle": triangle,
    "cut_gaussian": cut_gaussian,
    "mexican_hat": mexican_hat,
}

# Neighbourhoods whose weights can be negative: the batch map divides by a sum
# of weights, which is then not sign-definite.
SIGNED_NEIGHBORHOODS = frozenset({"mexican_hat"})


# -- decay schedules ---------------------------------------------------------
# Each maps training progress ``p`` in [0, 1] to a value going from ``start``
# (p = 0) to ``end`` (p = 1). ``start`` and ``end`` are positive.


def linear_decay(start, end, p):
    """Straight line from ``start`` to ``end``."""
    return start + (end - start) * p


def exponential_decay(start, end, p):
    """Geometric interpolation ``start * (end / start) ** p``."""
    return start * (end / start) ** p


def inverse_decay(start, end, p):
    """``start / (1 + a p)`` with ``a`` chosen so that p = 1 gives ``end``.

    The asymptotic (``1 / t``) schedule of stochastic approximation.
    """
    return start / (1.0 + (start / end - 1.0) * p)


DECAYS = {
    "linear": linear_decay,
    "exponential": exponential_decay,
    "inverse": inverse_decay,
}
