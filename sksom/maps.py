"""The data behind the usual pictures of a self-organizing map.

Every function takes a fitted :class:`~sksom.SOMClusterer`, or a
:class:`~sklearn.pipeline.Pipeline` whose last step is one (data then goes
through the preceding steps first), and returns NumPy arrays laid out on the
grid: ``values[row, column]`` belongs to unit ``row * n_columns + column``.
On a hexagonal map odd rows are shifted half a unit to the right; the arrays
do not show the shift, :attr:`~sksom.SOMClusterer.unit_coordinates_` does.
:mod:`sksom.plotting` draws these arrays; nothing here imports matplotlib.
"""

import math

import numpy as np
from sklearn.utils import Bunch, check_consistent_length, column_or_1d
from sklearn.utils.validation import _check_sample_weight

from ._topology import fitted_lattice, lattice_edges
from .utils import map_input, unwrap_map

_REDUCTIONS = {"mean": np.mean, "median": np.median, "max": np.max, "min": np.min}


def _units_of_rows(som, X, name):
    """Each row's BMU, for maps where it depends on the row alone.

    A sequence map's BMU of a step also depends on the steps before it and
    on where each sequence starts, which ``X`` alone does not say.
    """
    if hasattr(som, "contexts_"):
        raise TypeError(
            f"{name} takes a map whose best-matching unit of a row depends on that row alone; a "
            f"{type(som).__name__}'s depends on the steps before it and on where each sequence "
            "starts. Count the units of its predict(X, lengths) instead, e.g. "
            "np.bincount(units, minlength=n_units).reshape(model.map_size_)."
        )
    return som.best_matching_unit(X)


def _grid(som, values):
    """Unit values (first axis in unit order) laid out as ``(n_rows, n_columns, ...)``."""
    return np.asarray(values).reshape(tuple(som.map_size_) + np.shape(values)[1:])


def codebook(model, *, inverse_transform=False):
    """Weight vector of each unit, in row-major unit order.

    Parameters
    ----------
    model : SOMClusterer or Pipeline
        Fitted map, or a pipeline ending in one.
    inverse_transform : bool, default=False
        For a pipeline, map the weight vectors back through the preceding
        steps' ``inverse_transform`` (e.g. undo a scaler), so that they are
        in the units of the raw data.

    Returns
    -------
    codebook : ndarray of shape (n_units, n_features)
        ``cluster_centers_``, or its inverse transform.
    """
    som, preprocess = unwrap_map(model)
    weights = som.cluster_centers_
    if inverse_transform and preprocess is not None:
        if not hasattr(preprocess, "inverse_transform"):
            raise TypeError(
                "inverse_transform=True needs the pipeline steps before the map to "
                "have inverse_transform; "
                f"{type(preprocess).__name__} does not."
            )
        weights = np.asarray(preprocess.inverse_transform(weights))
    return weights


def u_matrix(model, *, reduce="mean"):
    """Unified distance matrix: how far each unit is from its neighbours.

    The value of a unit is the mean (or another ``reduce``) Euclidean
    distance between its weight vector and those of the units adjacent to it
    on the lattice (the 4 edge neighbours on a rectangular map, 6 on a
    hexagonal one, wrapping around on a torus; see
    :func:`sksom._topology.adjacency`). High values mark borders between
    clusters, low values the inside of a cluster.

    Parameters
    ----------
    model : SOMClusterer or Pipeline
        Fitted map, or a pipeline ending in one.
    reduce : {"mean", "median", "max", "min"}, default="mean"
        How the distances to the neighbours of a unit are summarised.

    Returns
    -------
    u_matrix : ndarray of shape (n_rows, n_columns)
        0 on a map with a single unit.

    Examples
    --------
    >>> import numpy as np
    >>> from sksom import SOMClusterer
    >>> from sksom.maps import u_matrix
    >>> X = np.array([[0.0], [1.0], [3.0]])
    >>> som = SOMClusterer((1, 3), init=X, max_iter=1, radius_end=0.1).fit(X)
    >>> u_matrix(som)
    array([[1. , 1.5, 2. ]])
    """
    if reduce not in _REDUCTIONS:
        raise ValueError(f"reduce must be one of {sorted(_REDUCTIONS)}; got {reduce!r}.")
    som, _ = unwrap_map(model)
    weights = som.cluster_centers_.astype(np.float64)
    # Only adjacent pairs (at most 6 per unit), in both directions, grouped
    # unit by unit: nothing grows with the square of the number of units.
    first, second = lattice_edges(*fitted_lattice(som))
    units, neighbours = np.concatenate([first, second]), np.concatenate([second, first])
    order = np.argsort(units, kind="stable")
    units, neighbours = units[order], neighbours[order]
    distances = np.linalg.norm(weights[units] - weights[neighbours], axis=1)
    per_unit = np.split(distances, np.cumsum(np.bincount(units, minlength=weights.shape[0]))[:-1])
    values = np.array([_REDUCTIONS[reduce](d) if len(d) else 0.0 for d in per_unit])
    return _grid(som, values)


def hit_map(model, X, *, sample_weight=None):
    """Number of samples whose best-matching unit is each unit.

    Parameters
    ----------
    model : SOMClusterer or Pipeline
        Fitted map, or a pipeline ending in one.
    X : array-like of shape (n_samples, n_features)
        Data.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample: the map then sums weights instead of counting.

    Returns
    -------
    hits : ndarray of shape (n_rows, n_columns)
        Counts (int) without weights, sums of weights (float) with them.

    Examples
    --------
    >>> import numpy as np
    >>> from sksom import SOMClusterer
    >>> from sksom.maps import hit_map
    >>> X = np.array([[0.0], [0.1], [5.0]])
    >>> som = SOMClusterer((1, 2), random_state=0).fit(X)
    >>> hit_map(som, X)
    array([[2, 1]])
    """
    som, X = map_input(model, X)
    units = _units_of_rows(som, X, "hit_map")
    n_units = som.cluster_centers_.shape[0]
    if sample_weight is None:
        return _grid(som, np.bincount(units, minlength=n_units))
    sample_weight = _check_sample_weight(sample_weight, units[:, None], dtype=np.float64)
    return _grid(som, np.bincount(units, weights=sample_weight, minlength=n_units))


def component_planes(model, *, inverse_transform=False):
    """One map per feature: the value of that feature in each unit.

    Parameters
    ----------
    model : SOMClusterer or Pipeline
        Fitted map, or a pipeline ending in one.
    inverse_transform : bool, default=False
        For a pipeline, show the features of the raw data (see
        :func:`codebook`).

    Returns
    -------
    planes : ndarray of shape (n_features, n_rows, n_columns)
        ``planes[k]`` is the component plane of feature ``k``.
    """
    som, _ = unwrap_map(model)
    return np.moveaxis(_grid(som, codebook(model, inverse_transform=inverse_transform)), -1, 0)


def label_map(model, X, y, *, sample_weight=None):
    """Majority label of the samples mapped to each unit, and its share.

    Parameters
    ----------
    model : SOMClusterer or Pipeline
        Fitted map, or a pipeline ending in one.
    X : array-like of shape (n_samples, n_features)
        Data.
    y : array-like of shape (n_samples,)
        Labels of the samples (any type that :func:`numpy.unique` sorts).
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample in the vote.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        With fields

        classes : ndarray of shape (n_classes,)
            The sorted distinct labels.
        counts : ndarray of shape (n_rows, n_columns, n_classes)
            (Weighted) number of samples of each class on each unit.
        majority : ndarray of shape (n_rows, n_columns)
            Index into ``classes`` of the most frequent label of each unit
            (the first in sorted order on a tie); -1 for units that no sample
            hits.
        share : ndarray of shape (n_rows, n_columns)
            Fraction of the unit's samples that carry the majority label; NaN
            for units that no sample hits.

    Examples
    --------
    >>> import numpy as np
    >>> from sksom import SOMClusterer
    >>> from sksom.maps import label_map
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0]])
    >>> som = SOMClusterer((1, 2), random_state=0).fit(X)
    >>> labels = label_map(som, X, ["a", "a", "b", "c"])
    >>> labels.classes[labels.majority]
    array([['a', 'c']], dtype='<U1')
    >>> labels.share.round(2)
    array([[0.67, 1.  ]])
    """
    y = column_or_1d(y, warn=True)
    check_consistent_length(X, y)
    som, X = map_input(model, X)
    units = _units_of_rows(som, X, "label_map")
    sample_weight = _check_sample_weight(sample_weight, units[:, None], dtype=np.float64)
    classes, y_index = np.unique(y, return_inverse=True)
    n_units = som.cluster_centers_.shape[0]
    counts = np.zeros((n_units, len(classes)))
    np.add.at(counts, (units, y_index), sample_weight)
    totals = counts.sum(axis=1)
    hit = totals > 0
    majority = np.where(hit, counts.argmax(axis=1), -1)
    share = np.full(n_units, np.nan)
    share[hit] = counts[hit].max(axis=1) / totals[hit]
    return Bunch(
        classes=classes,
        counts=_grid(som, counts),
        majority=_grid(som, majority),
        share=_grid(som, share),
    )


def codebook_images(model, *, image_shape=None, inverse_transform=False):
    """Weight vector of each unit reshaped to an image.

    For image data (each sample a flattened picture) the map then shows what
    picture each unit stands for.

    Parameters
    ----------
    model : SOMClusterer or Pipeline
        Fitted map, or a pipeline ending in one.
    image_shape : tuple of int, default=None
        Shape of one image, e.g. ``(8, 8)`` for scikit-learn's digits or
        ``(28, 28, 3)`` for colour pictures. ``None`` means a square image
        when the number of features is a perfect square.
    inverse_transform : bool, default=False
        For a pipeline, map the weight vectors back to the raw pixels first
        (see :func:`codebook`).

    Returns
    -------
    images : ndarray of shape (n_rows, n_columns) + image_shape
        ``images[row, column]`` is the picture of that unit.
    """
    som, _ = unwrap_map(model)
    weights = codebook(model, inverse_transform=inverse_transform)
    n_features = weights.shape[1]
    if image_shape is None:
        side = math.isqrt(n_features)
        if side * side != n_features:
            raise ValueError(
                f"The codebook has {n_features} features, not a square number; pass image_shape, e.g. (height, width)."
            )
        image_shape = (side, side)
    image_shape = tuple(int(s) for s in image_shape)
    if math.prod(image_shape) != n_features:
        raise ValueError(
            f"image_shape={image_shape} holds {math.prod(image_shape)} values but the "
            f"codebook has {n_features} features."
        )
    return _grid(som, weights.reshape((-1,) + image_shape))


def gas_plot_data(model, X=None):
    """Positions of a gas's units and edges in the plane, with the data if given.

    Two-dimensional units are drawn where they are; otherwise everything is
    projected on the two principal axes of the codebook (a plain SVD, so the
    picture does not depend on the data passed).

    Parameters
    ----------
    model : NeuralGas, GrowingNeuralGas or Pipeline
        Fitted gas, or a pipeline ending in one (``X`` then goes through the
        preceding steps first).
    X : array-like of shape (n_samples, n_features), default=None
        Data to draw under the gas.

    Returns
    -------
    data : Bunch
        ``positions`` (n_units, 2) of the units; ``segments`` (n_edges, 2, 2)
        the end points of each edge; ``edges`` the pair of index arrays of the
        edges (``i < j``); ``points`` (n_samples, 2) or None; ``components``
        (2, n_features) the projection axes, or None when the units are 2-D;
        ``unit_labels`` the units' clusters, or None.

    Examples
    --------
    >>> import numpy as np
    >>> from sksom import NeuralGas
    >>> from sksom.maps import gas_plot_data
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    >>> data = gas_plot_data(NeuralGas(n_units=2, random_state=0).fit(X))
    >>> data.segments.shape
    (1, 2, 2)
    """
    from scipy import sparse

    gas, preprocess = (model[-1], model[:-1] if len(model.steps) > 1 else None) if hasattr(model, "steps") else (model, None)
    if not hasattr(gas, "edges_"):
        raise TypeError(f"Expected a fitted NeuralGas or GrowingNeuralGas (or a Pipeline ending in one); got {type(gas).__name__}.")
    units = np.asarray(gas.cluster_centers_, dtype=np.float64)
    points = None
    if X is not None:
        X = preprocess.transform(X) if preprocess is not None else X
        # The gas's own checks (number of features, NaN, ...); sparse rows
        # become dense points.
        points, _ = gas._check_test_data(X)
        points = points.rows(slice(None), np.float64)
    components = None
    if units.shape[1] == 2:
        positions = units
    elif units.shape[1] == 1:
        positions = np.column_stack([units[:, 0], np.zeros(len(units))])
        points = None if points is None else np.column_stack([points[:, 0], np.zeros(len(points))])
    else:
        mean = units.mean(axis=0)
        components = np.linalg.svd(units - mean, full_matrices=False)[2][:2]
        # Each axis signed so that its largest entry is positive: the same gas gives the same picture.
        components *= np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])[:, None]
        positions = (units - mean) @ components.T
        points = None if points is None else (points - mean) @ components.T
    i, j = sparse.triu(gas.edges_, k=1).nonzero()
    return Bunch(
        positions=positions,
        segments=np.stack([positions[i], positions[j]], axis=1),
        edges=(i, j),
        points=points,
        components=components,
        unit_labels=getattr(gas, "unit_labels_", None),
    )
