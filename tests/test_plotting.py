"""Tests of sksom.plotting: what is drawn, and that each picture renders."""

import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from sklearn.datasets import make_blobs
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksom import SOMClusterer, maps, plotting

X_BLOBS, Y_BLOBS = make_blobs(150, centers=3, n_features=4, random_state=0)
X_RGB = np.random.RandomState(0).uniform(size=(200, 3))
X_IMAGES = np.random.RandomState(1).uniform(size=(60, 6))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def render(ax, tmp_path):
    """Save the figure to a PNG and check that an image came out."""
    path = tmp_path / "picture.png"
    ax.figure.savefig(path)
    image = plt.imread(path)
    assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50
    # the picture is not blank
    assert np.ptp(image[..., :3]) > 0


def cells(ax):
    (collection,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    return collection


@pytest.mark.parametrize("topology, n_vertices", [("rectangular", 4), ("hexagonal", 6)])
def test_plot_u_matrix(topology, n_vertices, tmp_path):
    """Check that the U-matrix draws one square or hexagon per unit, coloured by its value."""
    som = SOMClusterer((4, 5), topology=topology, random_state=0).fit(X_BLOBS)
    ax = plotting.plot_u_matrix(som)
    drawn = cells(ax)
    assert len(drawn.get_paths()) == 20
    assert {len(np.unique(p.vertices, axis=0)) for p in drawn.get_paths()} == {n_vertices}
    values = maps.u_matrix(som).ravel()
    assert np.allclose(drawn.get_array(), values)
    assert drawn.get_clim() == pytest.approx((values.min(), values.max()))
    assert len(ax.figure.axes) == 2  # the map and its colour bar
    assert ax.yaxis_inverted()  # row 0 at the top
    render(ax, tmp_path)


def test_hexagons_tile_the_plane():
    """Check that adjacent hexagons share an edge: neighbouring cells touch but do not overlap."""
    som = SOMClusterer((2, 2), topology="hexagonal", random_state=0).fit(X_BLOBS)
    paths = cells(plotting.plot_u_matrix(som, colorbar=False)).get_paths()
    shared = {tuple(v) for v in np.round(paths[0].vertices, 9)} & {tuple(v) for v in np.round(paths[2].vertices, 9)}
    assert len(shared) == 2


def test_plot_u_matrix_on_given_axes():
    """Check that the picture goes on the Axes passed, which is returned."""
    som = SOMClusterer((3, 3), random_state=0).fit(X_BLOBS)
    _, ax = plt.subplots()
    assert plotting.plot_u_matrix(som, ax=ax, colorbar=False) is ax
    assert len(ax.figure.axes) == 1


def test_plot_hit_map(tmp_path):
    """Check that the hit map colours units by their counts from 0, and annotates them."""
    som = SOMClusterer((3, 4), random_state=0).fit(X_BLOBS)
    ax = plotting.plot_hit_map(som, X_BLOBS, annotate=True)
    hits = maps.hit_map(som, X_BLOBS).ravel()
    assert np.array_equal(cells(ax).get_array(), hits)
    assert cells(ax).get_clim() == (0, hits.max())
    assert [t.get_text() for t in ax.texts] == [str(h) for h in hits]
    # legible: light text on the darkest cell, dark text on the lightest
    assert ax.texts[hits.argmax()].get_color() == "w"
    assert ax.texts[hits.argmin()].get_color() == "k"
    render(ax, tmp_path)


def test_plot_hit_map_pipeline():
    """Check that a pipeline's data goes through its first steps before counting."""
    pipe = make_pipeline(StandardScaler(), SOMClusterer((3, 4), random_state=0)).fit(X_BLOBS)
    ax = plotting.plot_hit_map(pipe, X_BLOBS)
    expected = maps.hit_map(pipe[-1], pipe[0].transform(X_BLOBS)).ravel()
    assert np.array_equal(cells(ax).get_array(), expected)


def test_plot_component_plane(tmp_path):
    """Check that a component plane shows one feature, found by index or name."""
    import pandas as pd

    frame = pd.DataFrame(X_BLOBS, columns=["a", "b", "c", "d"])
    som = SOMClusterer((3, 4), topology="hexagonal", random_state=0).fit(frame)
    ax = plotting.plot_component_plane(som, "c")
    assert np.allclose(cells(ax).get_array(), som.cluster_centers_[:, 2])
    assert ax.get_title() == "c"
    by_index = plotting.plot_component_plane(som, -1)
    assert np.allclose(cells(by_index).get_array(), som.cluster_centers_[:, 3])
    render(ax, tmp_path)


def test_plot_component_plane_raw_units():
    """Check that inverse_transform shows a pipeline's feature in raw units."""
    pipe = make_pipeline(StandardScaler(), SOMClusterer((3, 3), random_state=0)).fit(X_BLOBS)
    ax = plotting.plot_component_plane(pipe, 1, inverse_transform=True)
    raw = pipe[0].inverse_transform(pipe[-1].cluster_centers_)[:, 1]
    assert np.allclose(cells(ax).get_array(), raw)


def test_plot_label_map(tmp_path):
    """Check that units show the majority label, faded by its share, blank when empty."""
    som = SOMClusterer((5, 5), random_state=0).fit(X_BLOBS)
    names = np.array(["x", "y", "z"])[Y_BLOBS]
    ax = plotting.plot_label_map(som, X_BLOBS, names)
    labels = maps.label_map(som, X_BLOBS, names)
    majority = labels.majority.ravel()
    drawn = cells(ax).get_array()
    assert np.array_equal(drawn.mask, majority < 0)
    assert np.array_equal(drawn.compressed(), majority[majority >= 0])
    assert np.allclose(cells(ax).get_alpha(), np.nan_to_num(labels.share.ravel()))
    assert len(ax.texts) == (majority >= 0).sum()
    colorbar_axes = ax.figure.axes[1]
    assert [t.get_text() for t in colorbar_axes.get_yticklabels()] == ["x", "y", "z"]
    render(ax, tmp_path)


def boundary_count(som):
    """Adjacent pairs of different clusters that are neighbours in the drawing (not across a seam)."""
    from sksom._topology import adjacency

    positions = som.unit_coordinates_
    i, j = np.nonzero(np.triu(adjacency(som.map_size_, som.topology, som.periodic).toarray()))
    near = np.isclose(np.linalg.norm(positions[i] - positions[j], axis=1), 1.0)
    return int((near & (som.unit_labels_[i] != som.unit_labels_[j])).sum())


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
@pytest.mark.parametrize("periodic", [False, True])
def test_plot_clusters(topology, periodic, tmp_path):
    """Check that clusters colour the units, with a border between adjacent units of different clusters."""
    som = SOMClusterer((6, 6), topology=topology, periodic=periodic, n_clusters=3, random_state=0).fit(X_BLOBS)
    ax = plotting.plot_clusters(som)
    assert np.array_equal(cells(ax).get_array(), som.unit_labels_)
    (borders,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    segments = borders.get_segments()
    assert len(segments) == boundary_count(som) > 0
    edge = 1 / np.sqrt(3) if topology == "hexagonal" else 1.0
    assert np.allclose([np.linalg.norm(s[1] - s[0]) for s in segments], edge)
    if not periodic:
        render(ax, tmp_path)


def test_plot_clusters_hand_made_border():
    """Check the border of a 1 x 4 map split in two: one vertical segment between columns 1 and 2."""
    som = SOMClusterer((1, 4), n_clusters=2, random_state=0).fit(np.arange(8.0)[:, None])
    assert np.array_equal(som.unit_labels_[[0, 1]], [som.unit_labels_[0]] * 2)
    ax = plotting.plot_clusters(som)
    (borders,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert np.allclose(np.sort(borders.get_segments()[0], axis=0), [[1.5, -0.5], [1.5, 0.5]])


def test_plot_codebook_colors(tmp_path):
    """Check that an RGB codebook is drawn in its own colours."""
    som = SOMClusterer((6, 8), topology="hexagonal", random_state=0).fit(X_RGB)
    ax = plotting.plot_codebook_colors(som)
    faces = cells(ax).get_facecolors()
    assert faces.shape == (48, 4)
    assert np.allclose(faces[:, :3], np.clip(som.cluster_centers_, 0, 1))
    eight_bit = SOMClusterer((2, 2), random_state=0).fit(X_RGB * 255)
    faces = cells(plotting.plot_codebook_colors(eight_bit, max_value=255)).get_facecolors()
    assert np.allclose(faces[:, :3], np.clip(eight_bit.cluster_centers_ / 255, 0, 1))
    render(ax, tmp_path)


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
def test_plot_codebook_images(topology, tmp_path):
    """Check that the mosaic holds each unit's image in its place, odd rows shifted on a hexagonal map."""
    som = SOMClusterer((3, 4), topology=topology, random_state=0).fit(X_IMAGES)
    ax = plotting.plot_codebook_images(som, image_shape=(2, 3), padding=1)
    mosaic = ax.get_images()[0].get_array()
    shift = 2 if topology == "hexagonal" else 0
    assert mosaic.shape == (3 * 3 - 1, 4 * 4 - 1 + shift)
    images = maps.codebook_images(som, image_shape=(2, 3))
    assert np.array_equal(mosaic[0:2, 4:7], images[0, 1])
    assert np.array_equal(mosaic[3:5, shift + 4 : shift + 7], images[1, 1])
    assert mosaic.mask[2].all()  # padding between rows is blank
    render(ax, tmp_path)


def test_plot_codebook_images_colour():
    """Check that colour tiles are drawn as colours scaled by max_value, with white padding."""
    som = SOMClusterer((2, 2), random_state=0).fit(np.random.RandomState(0).uniform(0, 255, size=(40, 12)))
    ax = plotting.plot_codebook_images(som, image_shape=(2, 2, 3), max_value=255)
    mosaic = ax.get_images()[0].get_array()
    assert mosaic.shape == (5, 5, 3)
    assert np.allclose(mosaic[:2, :2], som.cluster_centers_[0].reshape(2, 2, 3) / 255)
    assert np.all(mosaic[2] == 1.0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda som: plotting.plot_clusters(som), "n_clusters"),
        (lambda som: plotting.plot_codebook_colors(som), "3 \\(RGB\\) or 4"),
        (lambda som: plotting.plot_component_plane(som, 6), "index below 6"),
        (lambda som: plotting.plot_component_plane(som, "height"), "Unknown feature"),
        (lambda som: plotting.plot_codebook_images(som, image_shape=(1, 3, 2)), "3\\|4"),
        (lambda som: plotting.plot_codebook_images(som, image_shape=(6,)), "3\\|4"),
    ],
)
def test_bad_input(call, match):
    """Check that impossible pictures raise a clear ValueError."""
    som = SOMClusterer((2, 2), random_state=0).fit(X_IMAGES)
    with pytest.raises(ValueError, match=match):
        call(som)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda som: plotting.plot_u_matrix(som, reduce="sum"), "reduce"),
        (lambda som: plotting.plot_hit_map(som, X_IMAGES[:, :2]), "features"),
        (lambda som: plotting.plot_label_map(som, X_IMAGES, Y_BLOBS[:5]), "inconsistent|samples"),
        (lambda som: plotting.plot_component_planes(som, [0, 9]), "index below 6"),
        (lambda som: plotting.plot_component_planes(som, []), "features is empty"),
    ],
)
def test_bad_input_draws_no_figure(call, match):
    """Check that a bad argument raises before any figure is created."""
    som = SOMClusterer((2, 2), random_state=0).fit(X_IMAGES)
    plt.close("all")
    with pytest.raises(ValueError, match=match):
        call(som)
    assert plt.get_fignums() == []


def test_plot_component_planes_grid_and_names(tmp_path):
    """Check one plane per feature asked for, titled by name, spare Axes off, on a grid."""
    import pandas as pd

    frame = pd.DataFrame(X_BLOBS, columns=["a", "b", "c", "d"])
    som = SOMClusterer((3, 4), random_state=0).fit(frame)
    axes = plotting.plot_component_planes(som, ["d", 1, "a"])
    assert axes.shape == (2, 2)
    shown = [ax for ax in axes.ravel() if ax.axison]
    assert [ax.get_title() for ax in shown] == ["d", "b", "a"]
    for ax, column in zip(shown, [3, 1, 0]):
        assert np.allclose(cells(ax).get_array(), som.cluster_centers_[:, column])
    every = plotting.plot_component_planes(som, n_columns=4)
    assert every.shape == (1, 4) and [ax.get_title() for ax in every.ravel()] == ["a", "b", "c", "d"]
    render(axes[0, 0], tmp_path)


def test_import_does_not_import_matplotlib():
    """Check that importing sksom.plotting and sksom.maps does not import matplotlib."""
    code = "import sys, sksom.plotting, sksom.maps; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
