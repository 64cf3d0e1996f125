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

Size
----
Nothing here grows with the square of the number of units except
:func:`squared_grid_distances` (small maps and tests only): adjacency is a
list of edges or a sparse matrix (:func:`lattice_edges`, :func:`adjacency`),
and the batch map's neighbourhood operator (:class:`BatchSmoothing`) is
separable for the Gaussian, per sample otherwise, dense only on small maps.
"""

import itertools
import math

import numpy as np
from scipy import sparse

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


def _wrapped(delta, period, xp=np):
    """Absolute coordinate differences, the short way round when ``period > 0``."""
    delta = xp.abs(delta)
    return xp.where(period > 0, xp.minimum(delta, period - delta), delta)


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
        delta = _wrapped(centres[:, None, axis] - coordinates[None, :, axis], periods[axis], xp)
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


def lattice_edges(map_size, topology="rectangular", periodic=False):
    """Every pair of adjacent units once (see the module docstring), in O(n_units).

    Candidates are the units at most one row and one column away (wrapping
    on a torus); of those, the pairs of distinct units whose lattice
    distance (:func:`squared_distances_to`'s definition) is 1 are kept, so
    that the row parity of hexagonal lattices and the seams of small tori
    follow from the geometry rather than from a table of offsets.

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
    first, second : ndarray of shape (n_edges,), dtype=intp
        Unit indices with ``first < second``, sorted; at most 3 edges per
        unit (6 neighbours) on a hexagonal lattice, 2 (4) on a rectangular
        one.
    """
    n_rows, n_columns = map_size
    rows, columns = np.divmod(np.arange(n_rows * n_columns), n_columns)
    first, second = [], []
    for d_row, d_column in itertools.product((-1, 0, 1), repeat=2):
        r, c = rows + d_row, columns + d_column
        if periodic:
            r, c = r % n_rows, c % n_columns
        inside = (r >= 0) & (r < n_rows) & (c >= 0) & (c < n_columns)
        first.append(np.flatnonzero(inside))
        second.append(r[inside] * n_columns + c[inside])
    first, second = np.concatenate(first), np.concatenate(second)
    keep = first < second
    first, second = first[keep], second[keep]
    coordinates = unit_coordinates(map_size, topology)
    periods = lattice_periods(map_size, topology, periodic)
    d2 = sum(_wrapped(coordinates[first, a] - coordinates[second, a], periods[a]) ** 2 for a in range(2))
    # Lattice distances are 1 between neighbours and at least sqrt(2) between
    # any other pair, so comparing against 1 with float tolerance is exact.
    adjacent = np.isclose(d2, 1.0, rtol=0.0, atol=1e-9)
    # One torus seam can offer the same pair twice (two columns, two rows).
    pairs = np.unique(np.column_stack([first[adjacent], second[adjacent]]), axis=0)
    return pairs[:, 0].astype(np.intp), pairs[:, 1].astype(np.intp)


def adjacency(map_size, topology="rectangular", periodic=False):
    """Sparse boolean adjacency matrix of the lattice (see the module docstring).

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
    adjacent : scipy.sparse.csr_matrix of shape (n_units, n_units), dtype=bool
        ``adjacent[i, j]`` is True when units ``i != j`` are one lattice step
        apart; at most 6 stored entries per row.
    """
    first, second = lattice_edges(map_size, topology, periodic)
    n_units = map_size[0] * map_size[1]
    rows, columns = np.concatenate([first, second]), np.concatenate([second, first])
    return sparse.csr_matrix((np.ones(rows.size, dtype=bool), (rows, columns)), shape=(n_units, n_units))


def adjacency_from_squared_distances(d2):
    """Dense adjacency from the output of :func:`squared_grid_distances` (small maps, tests)."""
    return np.isclose(d2, 1.0, rtol=0.0, atol=1e-9)


def are_adjacent(adjacent, first, second):
    """Whether each pair ``(first[k], second[k])`` is adjacent.

    ``adjacent`` is the sparse matrix of :func:`adjacency` or a dense boolean
    array of the same meaning.
    """
    first, second = np.asarray(first), np.asarray(second)
    if not sparse.issparse(adjacent):
        return np.asarray(adjacent)[first, second]
    adjacent = sparse.csr_matrix(adjacent, dtype=bool)
    adjacent.eliminate_zeros()
    adjacent.sum_duplicates()  # also sorts the columns of each row
    # Stored entries as sorted keys row * n + column; look each pair up.
    n = adjacent.shape[1]
    keys = np.repeat(np.arange(adjacent.shape[0], dtype=np.int64) * n, np.diff(adjacent.indptr)) + adjacent.indices
    if keys.size == 0:
        return np.zeros(first.shape, dtype=bool)
    wanted = first.astype(np.int64) * n + second
    position = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
    return keys[position] == wanted


def separable_squared_distances(map_size, topology="rectangular", periodic=False):
    """Per-axis squared distances that factor the lattice distance.

    For the Gaussian, ``exp(-(dy^2 + dx^2) / 2s^2) = exp(-dy^2/2s^2)
    exp(-dx^2/2s^2)``, so smoothing with the (n_units, n_units) neighbourhood
    matrix is one product along the rows and one along the columns. Units
    are grouped by row parity (one group on a rectangular lattice, two on a
    hexagonal one, whose column offset depends on the parities of both rows);
    rows are padded with empty rows to a multiple of the group count.
    Unit ``k`` of row ``r = P i + p`` and column ``c`` is entry ``(i, p, c)``.

    Returns
    -------
    rows : ndarray of shape (P, P, n_rows_padded // P, n_rows_padded // P)
        ``rows[p, q, i, j]``: squared row distance from row ``P i + p`` to row
        ``P j + q``.
    columns : ndarray of shape (P, P, n_columns, n_columns)
        ``columns[p, q, a, b]``: squared column distance from column ``a`` of
        a row of parity ``p`` to column ``b`` of a row of parity ``q``.
    """
    n_rows, n_columns = map_size
    n_groups = 2 if topology == "hexagonal" else 1
    per_group = -(-n_rows // n_groups)
    row_period, column_period = lattice_periods(map_size, topology, periodic)
    row_step = _HEX_ROW_STEP if topology == "hexagonal" else 1.0
    shift = 0.5 if topology == "hexagonal" else 0.0
    row_position = (np.arange(per_group)[None, :] * n_groups + np.arange(n_groups)[:, None]) * row_step  # (p, i)
    column_position = np.arange(n_columns)[None, :] + shift * np.arange(n_groups)[:, None]  # (p, a)
    rows = _wrapped(row_position[:, None, :, None] - row_position[None, :, None, :], row_period) ** 2
    columns = _wrapped(column_position[:, None, :, None] - column_position[None, :, None, :], column_period) ** 2
    return rows, columns


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


# -- the batch map's neighbourhood operator ------------------------------------

# Maps up to this many units may smooth with the dense (n_units, n_units)
# neighbourhood matrix (8 MiB in float64) when it is cheaper than the
# per-sample form, i.e. when there are more samples than units.
DENSE_MAX_UNITS = 1024


def smoothing_form(neighborhood, n_units, n_samples):
    """The cheapest exact form of the batch map's smoothing for these sizes.

    - ``"separable"`` (the Gaussian): per-axis factors, see
      :func:`separable_squared_distances`; O(n_units (n_rows + n_columns))
      per feature;
    - ``"dense"`` (other neighbourhoods, small maps with more samples than
      units): the (n_units, n_units) matrix, O(n_units^2) per feature;
    - ``"per_sample"`` (other neighbourhoods otherwise): each sample adds to
      every unit by the neighbourhood of its BMU, O(n_samples n_units) per
      feature, the cost of the epoch's distance block.
    """
    if neighborhood == "gaussian":
        return "separable"
    return "dense" if n_units <= min(DENSE_MAX_UNITS, n_samples) else "per_sample"


def smoothing_elements(form, map_size, n_features, chunk_rows):
    """Array entries the smoothing adds to an epoch's working set (for memory guards)."""
    n_units = map_size[0] * map_size[1]
    if form == "separable":
        # The padded sums, their column-smoothed copy per row parity, the
        # result and the per-axis factors.
        return 6 * n_units * (n_features + 1) + 4 * (map_size[0] ** 2 + map_size[1] ** 2)
    if form == "dense":
        return 2 * n_units * n_units
    return 2 * chunk_rows * n_units


class BatchSmoothing:
    """How the batch map applies ``H`` (``H[i, j] = h(d(i, j), radius)``) to its sums.

    The form is :func:`smoothing_form`'s, chosen once per fit;
    :meth:`operands` gives the arrays of an epoch's radius, in the order
    :func:`sksom._engine.batch_epoch` takes them.
    """

    def __init__(self, map_size, topology, periodic, neighborhood, n_samples):
        self.neighborhood = neighborhood
        self._h = NEIGHBORHOODS[neighborhood]
        self.form = smoothing_form(neighborhood, map_size[0] * map_size[1], n_samples)
        self.coordinates = unit_coordinates(map_size, topology)
        self.periods = lattice_periods(map_size, topology, periodic)
        if self.form == "separable":
            self._axes = separable_squared_distances(map_size, topology, periodic)
        elif self.form == "dense":
            self._d2 = squared_distances_to(self.coordinates, self.coordinates, self.periods)

    def operands(self, radius, dtype):
        """The operator's arrays for ``radius``, in ``dtype``."""
        if self.form == "separable":
            return tuple(self._h(d2, radius).astype(dtype) for d2 in self._axes)
        if self.form == "dense":
            return (self._h(self._d2, radius).astype(dtype),)
        return self.coordinates.astype(dtype), self.periods.astype(dtype), np.asarray(radius, dtype=dtype)


def fitted_lattice(som):
    """``(map_size, topology, periodic)`` of a fitted map's lattice.

    The values the map was fitted with, not its parameters now: after a
    ``set_params(topology=...)`` without a new fit, the units still sit on
    the fitted lattice. A map pickled before this was recorded gives its
    parameters.
    """
    fitted = getattr(som, "_fitted_lattice", None)
    if fitted is None:
        return tuple(som.map_size_), som.topology, bool(som.periodic)
    return fitted["map_size"], fitted["topology"], fitted["periodic"]
