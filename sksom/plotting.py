"""Pictures of a fitted self-organizing map, drawn with matplotlib.

Each function draws one picture of a fitted :class:`~sksom.SOMClusterer` (or
of a :class:`~sklearn.pipeline.Pipeline` ending in one) on ``ax`` (a new
figure when ``None``) and returns the Axes. Units are drawn where
:attr:`~sksom.SOMClusterer.unit_coordinates_` puts them: squares on a
rectangular map, hexagons on a hexagonal one, row 0 at the top. The values
come from :mod:`sksom.maps`. matplotlib is imported inside the functions, so
importing this module does not import it.
"""

import math

import numpy as np

from . import maps
from ._topology import fitted_lattice, lattice_edges
from .utils import unwrap_map

# Pointy-top hexagons of width 1 tile a lattice whose rows are sqrt(3)/2
# apart: their circumradius is 1/sqrt(3).
_HEX_RADIUS = 1.0 / math.sqrt(3.0)


def _get_axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def _discrete_cmap(cmap, n):
    """``cmap`` cut into ``n`` colours, so that each class or cluster gets one."""
    import matplotlib

    return matplotlib.colormaps[cmap].resampled(n) if isinstance(cmap, str) else cmap.resampled(n)


def _draw_categories(ax, som, values, n_categories, cmap, title):
    """Units coloured by a category id in ``range(n_categories)`` (NaN: blank)."""
    return _draw_units(
        ax, som, values, cmap=_discrete_cmap(cmap, n_categories), vmin=-0.5,
        vmax=n_categories - 0.5, colorbar=False, title=title,
    )


def _unit_positions(som):
    """(x, y) of each unit: the column on x, the row on y."""
    return som.unit_coordinates_[:, ::-1]


def _unit_polygons(som):
    """Vertices of each unit's cell, shape (n_units, n_vertices, 2)."""
    if fitted_lattice(som)[1] == "hexagonal":
        angles = np.pi / 2 + np.arange(6) * np.pi / 3
        corners = _HEX_RADIUS * np.column_stack([np.cos(angles), np.sin(angles)])
    else:
        corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    return _unit_positions(som)[:, None, :] + corners[None, :, :]


def _finish_map(ax, title):
    ax.autoscale_view()
    if not ax.yaxis_inverted():
        ax.invert_yaxis()
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)


def _draw_units(ax, som, values, *, cmap=None, vmin=None, vmax=None, colorbar=True, label=None, title=None):
    """One cell per unit coloured by ``values`` (unit order); NaN cells are left blank."""
    from matplotlib.collections import PolyCollection

    cells = PolyCollection(_unit_polygons(som), cmap=cmap, edgecolors="face", linewidths=0.5)
    cells.set_array(np.ma.masked_invalid(np.asarray(values, dtype=np.float64).ravel()))
    cells.set_clim(vmin, vmax)
    ax.add_collection(cells)
    _finish_map(ax, title)
    if colorbar:
        ax.figure.colorbar(cells, ax=ax, label=label)
    return cells


def _annotate(ax, som, cells, texts):
    """Write ``texts`` (``None``: nothing) in the cells, dark on light cells and light on dark ones."""
    cells.update_scalarmappable()
    rgba = cells.get_facecolors()
    # the colour seen: the cell's colour over the white background
    seen = rgba[:, :3] * rgba[:, 3:] + (1.0 - rgba[:, 3:])
    luminance = seen @ [0.299, 0.587, 0.114]
    for (x, y), text, light in zip(_unit_positions(som), texts, luminance > 0.5, strict=True):
        if text is not None:
            ax.text(x, y, text, ha="center", va="center", fontsize="x-small", color="k" if light else "w")


def plot_u_matrix(model, *, reduce="mean", ax=None, cmap="bone_r", colorbar=True):
    """Draw the U-matrix: each unit coloured by its distance to its neighbours.

    Parameters
    ----------
    model : SOMClusterer or Pipeline
        Fitted map, or a pipeline ending in one.
    reduce : {"mean", "median", "max", "min"}, default="mean"
        How the distances to a unit's neighbours are summarised (see
        :func:`sksom.maps.u_matrix`).
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when ``None``.
    cmap : str or Colormap, default="bone_r"
        Colour map; with the default, borders between clusters are dark.
    colorbar : bool, default=True
        Whether to add a colour bar.

    Returns
    -------
    ax : matplotlib Axes
    """
    som, _ = unwrap_map(model)
    # Values first: a bad argument must not leave an empty figure behind.
    values = maps.u_matrix(model, reduce=reduce)
    ax = _get_axes(ax)
    _draw_units(
        ax, som, values, cmap=cmap, colorbar=colorbar, label=f"{reduce} distance to neighbours", title="U-matrix"
    )
    return ax


def plot_hit_map(model, X, *, sample_weight=None, ax=None, cmap="Greens", colorbar=True, annotate=False):
    """Draw the hit map: each unit coloured by how many samples it wins.

    Parameters
    ----------
    model : SOMClusterer or Pipeline
        Fitted map, or a pipeline ending in one; ``X`` goes through the
        pipeline's preceding steps.
    X : array-like of shape (n_samples, n_features)
        Data.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights: cells then show sums of weights.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when ``None``.
    cmap : str or Colormap, default="Greens"
        Colour map; the colour scale starts at 0.
    colorbar : bool, default=True
        Whether to add a colour bar.
    annotate : bool, default=False
        Whether to write the count in each cell.

    Returns
    -------
    ax : matplotlib Axes
    """
    som, _ = unwrap_map(model)
    hits = maps.hit_map(model, X, sample_weight=sample_weight)
    ax = _get_axes(ax)
    cells = _draw_units(ax, som, hits, cmap=cmap, vmin=0, colorbar=colorbar, label="samples", title="Hit map")
    if annotate:
        _annotate(ax, som, cells, [f"{count:g}" for count in hits.ravel()])
    return ax


def _feature_names(model, inverse_transform):
    som, preprocess = unwrap_map(model)
    source = model if (inverse_transform and preprocess is not None) else som
    return getattr(source, "feature_names_in_", None)


def plot_component_plane(model, feature, *, inverse_transform=False, ax=None, cmap="coolwarm", colorbar=True):
    """Draw one component plane: each unit coloured by the value of one feature.

    Parameters
    ----------
    model : SOMClusterer or Pipeline
        Fitted map, or a pipeline ending in one.
    feature : int or str
        Index of the feature, or its name when the map (or, with
        ``inverse_transform``, the pipeline) was fitted on named columns.
    inverse_transform : bool, default=False
        For a pipeline, show the feature in the units of the raw data (see
        :func:`sksom.maps.codebook`).
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when ``None``.
    cmap : str or Colormap, default="coolwarm"
        Colour map.
    colorbar : bool, default=True
        Whether to add a colour bar.

    Returns
    -------
    ax : matplotlib Axes
    """
    som, _ = unwrap_map(model)
    planes = maps.component_planes(model, inverse_transform=inverse_transform)
    names = _feature_names(model, inverse_transform)
    index = _feature_index(feature, names, len(planes))
    ax = _get_axes(ax)
    _draw_plane(ax, som, planes, names, index, cmap, colorbar)
    return ax


def _feature_index(feature, names, n_features):
    """Index of ``feature`` (a name or an index), or a ValueError naming the choices."""
    if isinstance(feature, str):
        if names is None or feature not in list(names):
            raise ValueError(
                f"Unknown feature {feature!r}; the map knows the features {None if names is None else list(names)}."
            )
        return list(names).index(feature)
    if isinstance(feature, (int, np.integer)) and not isinstance(feature, bool) and -n_features <= feature < n_features:
        return int(feature) % n_features
    raise ValueError(f"feature must be a name or an index below {n_features}; got {feature!r}.")


def _draw_plane(ax, som, planes, names, index, cmap, colorbar):
    title = str(names[index]) if names is not None else f"feature {index}"
    _draw_units(ax, som, planes[index], cmap=cmap, colorbar=colorbar, label=title, title=title)


def plot_component_planes(
    model, features=None, *, inverse_transform=False, n_columns=None, axes=None, cmap="coolwarm", colorbar=True
):
    """Draw several component planes side by side, in a grid of Axes.

    Each plane is drawn as by :func:`plot_component_plane` and titled by the
    feature's name when the model was fitted on named columns.

    Parameters
    ----------
    model : SOMClusterer or Pipeline
        Fitted map, or a pipeline ending in one.
    features : sequence of int or str, default=None
        The features to draw, by index or name; ``None`` draws all of them.
    inverse_transform : bool, default=False
        For a pipeline, show the features in the units of the raw data (see
        :func:`sksom.maps.codebook`).
    n_columns : int, default=None
        Axes per row of the grid; ``None`` makes the grid about square.
        Ignored when ``axes`` is given.
    axes : array-like of matplotlib Axes, default=None
        Where to draw, one Axes per feature at least (spare Axes are turned
        off); a new figure when ``None``.
    cmap : str or Colormap, default="coolwarm"
        Colour map.
    colorbar : bool, default=True
        Whether to add a colour bar to each plane.

    Returns
    -------
    axes : ndarray of matplotlib Axes
        The grid, of shape (n_rows, n_columns) for a new figure, else the
        ``axes`` given.

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sksom import SOMClusterer
    >>> from sksom.plotting import plot_component_planes
    >>> X = np.random.default_rng(0).uniform(size=(50, 3))
    >>> som = SOMClusterer((3, 3), max_iter=2, random_state=0).fit(X)
    >>> axes = plot_component_planes(som, features=[0, 2])
    >>> axes.shape, [ax.get_title() for ax in axes.ravel()]
    ((1, 2), ['feature 0', 'feature 2'])
    """
    som, _ = unwrap_map(model)
    # Everything is checked before a figure is created.
    planes = maps.component_planes(model, inverse_transform=inverse_transform)
    names = _feature_names(model, inverse_transform)
    features = range(len(planes)) if features is None else list(features)
    indices = [_feature_index(feature, names, len(planes)) for feature in features]
    if not indices:
        raise ValueError("features is empty; give at least one feature to draw.")
    if axes is None:
        import matplotlib.pyplot as plt

        n_columns = math.ceil(math.sqrt(len(indices))) if n_columns is None else int(n_columns)
        if n_columns < 1:
            raise ValueError(f"n_columns must be a positive int; got {n_columns!r}.")
        n_rows = math.ceil(len(indices) / n_columns)
        fig, axes = plt.subplots(n_rows, n_columns, figsize=(3.2 * n_columns, 3 * n_rows), squeeze=False)
    else:
        fig = None
    axes = np.asarray(axes, dtype=object)
    if axes.size < len(indices):
        raise ValueError(f"{len(indices)} features to draw but only {axes.size} Axes given.")
    for position, ax in enumerate(axes.ravel()):
        if position < len(indices):
            _draw_plane(ax, som, planes, names, indices[position], cmap, colorbar)
        else:
            ax.set_axis_off()
    if fig is not None:
        fig.tight_layout()
    return axes


def plot_label_map(model, X, y, *, sample_weight=None, ax=None, cmap="tab10", annotate=True, colorbar=True):
    """Draw the label map: each unit coloured by the majority label of its samples.

    The opacity of a cell is the share of its samples that carry the majority
    label, so mixed units look faded; units that no sample hits are blank.

    Parameters
    ----------
    model : SOMClusterer or Pipeline
        Fitted map, or a pipeline ending in one.
    X : array-like of shape (n_samples, n_features)
        Data.
    y : array-like of shape (n_samples,)
        Labels.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample in the vote.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when ``None``.
    cmap : str or Colormap, default="tab10"
        Qualitative colour map, one colour per class.
    annotate : bool, default=True
        Whether to write the majority label in each hit cell.
    colorbar : bool, default=True
        Whether to add a colour bar with the class names.

    Returns
    -------
    ax : matplotlib Axes
    """
    som, _ = unwrap_map(model)
    labels = maps.label_map(model, X, y, sample_weight=sample_weight)
    ax = _get_axes(ax)
    majority = labels.majority.ravel()
    n_classes = len(labels.classes)
    values = np.where(majority >= 0, majority, np.nan)
    cells = _draw_categories(ax, som, values, n_classes, cmap, "Label map")
    cells.set_alpha(np.nan_to_num(labels.share.ravel(), nan=0.0))
    if colorbar:
        bar = ax.figure.colorbar(cells, ax=ax, ticks=np.arange(n_classes), label="majority label")
        bar.ax.set_yticklabels([str(c) for c in labels.classes])
        bar.solids.set_alpha(1.0)
    if annotate:
        _annotate(ax, som, cells, [str(labels.classes[i]) if i >= 0 else None for i in majority])
    return ax


def _boundary_segments(som, unit_labels):
    """Edges shared by adjacent cells of different clusters, shape (n, 2, 2).

    Pairs adjacent only across the seam of a torus share no edge in the
    drawing and give no segment.
    """
    positions = _unit_positions(som)
    i, j = lattice_edges(*fitted_lattice(som))
    delta = positions[j] - positions[i]
    drawn = np.isclose(np.hypot(delta[:, 0], delta[:, 1]), 1.0) & (unit_labels[i] != unit_labels[j])
    i, j, delta = i[drawn], j[drawn], delta[drawn]
    middle = (positions[i] + positions[j]) / 2.0
    half_edge = (0.5 * _HEX_RADIUS if fitted_lattice(som)[1] == "hexagonal" else 0.5) * np.column_stack(
        [-delta[:, 1], delta[:, 0]]
    )
    return np.stack([middle - half_edge, middle + half_edge], axis=1)


def plot_clusters(model, *, ax=None, cmap="tab20", boundaries=True, colorbar=True):
    """Draw the second-stage clusters of the units, with their borders.

    Parameters
    ----------
    model : SOMClusterer or Pipeline
        Fitted map with ``n_clusters`` set (it has ``unit_labels_``), or a
        pipeline ending in one.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when ``None``.
    cmap : str or Colormap, default="tab20"
        Qualitative colour map, one colour per cluster.
    boundaries : bool, default=True
        Whether to draw a line along every edge between adjacent units of
        different clusters.
    colorbar : bool, default=True
        Whether to add a colour bar with the cluster ids.

    Returns
    -------
    ax : matplotlib Axes
    """
    som, _ = unwrap_map(model)
    if "n_clusters" not in som.get_params():
        raise TypeError(
            f"plot_clusters draws the second-stage clusters of a SOMClusterer fitted with n_clusters; "
            f"a {type(som).__name__} has no n_clusters and no unit clusters."
        )
    if not hasattr(som, "unit_labels_"):
        raise ValueError("The map has no unit clusters; fit it with n_clusters set to draw them.")
    from matplotlib.collections import LineCollection

    ax = _get_axes(ax)
    unit_labels = som.unit_labels_
    n_clusters = int(unit_labels.max()) + 1
    cells = _draw_categories(ax, som, unit_labels, n_clusters, cmap, "Clusters")
    if colorbar:
        ax.figure.colorbar(cells, ax=ax, ticks=np.arange(n_clusters), label="cluster")
    if boundaries:
        ax.add_collection(LineCollection(_boundary_segments(som, unit_labels), colors="k", linewidths=2))
    return ax


def plot_codebook_colors(model, *, max_value=1.0, inverse_transform=False, ax=None):
    """Draw a colour codebook: each unit in the RGB (or RGBA) colour it stores.

    Parameters
    ----------
    model : SOMClusterer or Pipeline
        Fitted map on 3 (RGB) or 4 (RGBA) features, or a pipeline ending in
        one.
    max_value : float, default=1.0
        The value of full intensity: 1 for colours in [0, 1], 255 for 8-bit
        colours. Values are divided by it and clipped to [0, 1].
    inverse_transform : bool, default=False
        For a pipeline, take the colours of the raw data (see
        :func:`sksom.maps.codebook`).
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when ``None``.

    Returns
    -------
    ax : matplotlib Axes
    """
    from matplotlib.collections import PolyCollection

    som, _ = unwrap_map(model)
    colors = maps.codebook(model, inverse_transform=inverse_transform)
    if colors.shape[1] not in (3, 4):
        raise ValueError(f"Colour codebooks have 3 (RGB) or 4 (RGBA) features; this one has {colors.shape[1]}.")
    ax = _get_axes(ax)
    colors = np.clip(colors / float(max_value), 0.0, 1.0)
    ax.add_collection(PolyCollection(_unit_polygons(som), facecolors=colors, edgecolors="face"))
    _finish_map(ax, "Codebook colours")
    return ax


def plot_codebook_images(
    model,
    *,
    image_shape=None,
    inverse_transform=False,
    ax=None,
    cmap="gray_r",
    max_value=1.0,
    padding=1,
    colorbar=False,
):
    """Draw the codebook as a mosaic of images, one tile per unit.

    For image data (MNIST, scikit-learn's digits) every unit's weight vector
    is shown as the picture it stands for, in its place on the map; on a
    hexagonal map odd rows are shifted by half a tile.

    Parameters
    ----------
    model : SOMClusterer or Pipeline
        Fitted map, or a pipeline ending in one.
    image_shape : tuple of int, default=None
        ``(height, width)`` or ``(height, width, channels)`` of one image;
        ``None`` for square grey images (see
        :func:`sksom.maps.codebook_images`).
    inverse_transform : bool, default=False
        For a pipeline, show the raw pixels (see :func:`sksom.maps.codebook`).
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when ``None``.
    cmap : str or Colormap, default="gray_r"
        Colour map of grey images.
    max_value : float, default=1.0
        Full intensity of colour images (255 for 8-bit pixels); colour values
        are divided by it and clipped to [0, 1]. Grey images are scaled by
        the colour map instead.
    padding : int, default=1
        Blank pixels between tiles.
    colorbar : bool, default=False
        Whether to add a colour bar (grey images only).

    Returns
    -------
    ax : matplotlib Axes
    """
    som, _ = unwrap_map(model)
    images = maps.codebook_images(model, image_shape=image_shape, inverse_transform=inverse_transform)
    if images.ndim not in (4, 5) or (images.ndim == 5 and images.shape[4] not in (3, 4)):
        raise ValueError(f"Images must be grey (h, w) or colour (h, w, 3|4); got tiles of shape {images.shape[2:]}.")
    n_rows, n_columns, height, width = images.shape[:4]
    channels = images.shape[4:]
    step_y, step_x = height + padding, width + padding
    shift = step_x // 2 if fitted_lattice(som)[1] == "hexagonal" else 0
    canvas = np.full(
        (n_rows * step_y - padding, n_columns * step_x - padding + (shift if n_rows > 1 else 0)) + channels, np.nan
    )
    for row in range(n_rows):
        left = shift * (row % 2)
        for column in range(n_columns):
            top, start = row * step_y, left + column * step_x
            canvas[top : top + height, start : start + width] = images[row, column]
    ax = _get_axes(ax)
    if channels:
        # the blank space between tiles is white
        shown = ax.imshow(np.clip(np.nan_to_num(canvas / float(max_value), nan=1.0), 0.0, 1.0))
    else:
        shown = ax.imshow(np.ma.masked_invalid(canvas), cmap=cmap, interpolation="nearest")
        if colorbar:
            ax.figure.colorbar(shown, ax=ax)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("Codebook")
    return ax


def plot_gas(model, X=None, *, ax=None, cmap="tab10", unit_size=30, point_size=4):
    """Draw a gas: its units and edges over 2-D data, or in the codebook's PCA plane.

    Parameters
    ----------
    model : NeuralGas, GrowingNeuralGas or Pipeline
        Fitted gas, or a pipeline ending in one.
    X : array-like of shape (n_samples, n_features), default=None
        Data drawn as grey points under the gas.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when ``None``.
    cmap : str, default="tab10"
        Colours of the units' clusters (with ``n_clusters``); otherwise the
        units are black.
    unit_size, point_size : float, default=30, 4
        Marker areas of the units and of the samples.

    Returns
    -------
    ax : matplotlib Axes
    """
    from matplotlib.collections import LineCollection

    data = maps.gas_plot_data(model, X)
    ax = _get_axes(ax)
    if data.points is not None:
        ax.scatter(data.points[:, 0], data.points[:, 1], s=point_size, color="0.75", zorder=1)
    ax.add_collection(LineCollection(data.segments, colors="0.2", linewidths=1, zorder=2))
    if data.unit_labels is None:
        colors = "black"
    else:
        n = int(data.unit_labels.max()) + 1
        colors = _discrete_cmap(cmap, n)(data.unit_labels)
    ax.scatter(data.positions[:, 0], data.positions[:, 1], s=unit_size, c=colors, edgecolors="white", zorder=3)
    if data.components is not None:
        ax.set_xlabel("codebook PC 1")
        ax.set_ylabel("codebook PC 2")
    ax.set_aspect("equal", adjustable="datalim")
    ax.autoscale_view()
    return ax
