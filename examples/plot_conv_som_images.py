"""
A SOM layer after convolutions: organising colour images
========================================================

Colour images have too many values for a map to cluster directly
(3,072 for a 32 x 32 CIFAR-10 picture), and neighbouring pixels say nearly
the same thing. Convolutional layers in front of the map turn each image into
a few features; :class:`~sksom.keras.DeepSOMClusterer` with
``encoder="conv"`` trains the convolutional autoencoder and the map together,
so that the map organises the images by what they show.

The example uses CIFAR-10 when ``keras.datasets`` has already cached it
(``~/.keras/datasets/cifar-10-batches-py``); it never downloads. Otherwise it
draws a small set of generated colour images: discs, squares and crosses in
warm or cool colours, of random size and slightly shifted, on a noisy
background.
"""

# %%
# Colour images
# -------------
import matplotlib.pyplot as plt
import numpy as np

from sksom.datasets import load_cifar10_local
from sksom.keras import DeepSOMClusterer
from sksom.plotting import plot_hit_map


def make_colour_shapes(n_samples=1200, size=16, seed=0):
    """Generated colour images: three shapes in two colour families (6 classes)."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size]
    images = rng.uniform(0.0, 0.15, size=(n_samples, size, size, 3))  # noisy dark background
    labels = rng.integers(6, size=n_samples)
    shape, warm = labels % 3, labels // 3 == 0
    for i in range(n_samples):
        radius = rng.uniform(0.25, 0.4) * size
        cy, cx = size / 2 + rng.uniform(-1.5, 1.5, size=2)
        if shape[i] == 0:  # disc
            mask = (rows - cy) ** 2 + (cols - cx) ** 2 <= radius**2
        elif shape[i] == 1:  # square
            mask = (np.abs(rows - cy) <= radius * 0.8) & (np.abs(cols - cx) <= radius * 0.8)
        else:  # cross
            arm = radius * 0.3
            inside = (np.abs(rows - cy) <= radius) & (np.abs(cols - cx) <= radius)
            mask = inside & ((np.abs(rows - cy) <= arm) | (np.abs(cols - cx) <= arm))
        # warm: red dominates, green varies; cool: blue dominates, green varies
        colour = np.array([rng.uniform(0.7, 1.0), rng.uniform(0.0, 0.7), rng.uniform(0.0, 0.2)])
        images[i][mask] = colour if warm[i] else colour[::-1]
    names = [f"{'warm' if c < 3 else 'cool'} {('disc', 'square', 'cross')[c % 3]}" for c in range(6)]
    return images.astype(np.float32), labels, names


try:
    images, labels = load_cifar10_local(max_samples=4000)
    images = images.astype(np.float32) / 255.0
    class_names = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    source = "CIFAR-10 (local copy)"
except FileNotFoundError:
    images, labels, class_names = make_colour_shapes()
    source = "generated colour shapes"
n_samples, height, width, channels = images.shape
X = images.reshape(n_samples, -1)  # scikit-learn wants rows; the encoder reshapes them back
print(f"{source}: {n_samples} images of {height} x {width} x {channels}")

# %%
# Convolutions, then the map
# --------------------------
# Two stride-2 convolutions (16 and 32 filters) and a Dense layer turn each
# image into 8 features; the decoder mirrors them with transposed
# convolutions. The map has 6 x 6 units.
model = DeepSOMClusterer(
    (6, 6),
    encoder="conv",
    image_shape=(height, width, channels),
    hidden_units=(16, 32),
    latent_dim=8,
    pretrain_epochs=15,
    max_iter=10,
    batch_size=64,
    random_state=0,
).fit(X)


def purity(y, clusters):
    return sum(np.bincount(y[clusters == c]).max() for c in np.unique(clusters)) / len(y)


print(
    f"purity {purity(labels, model.labels_):.3f}, topographic error {model.topographic_error_:.3f}, "
    f"feature variance kept {model.feature_variance_retained_:.2f}, "
    f"reconstruction MSE {model.reconstruction_error_:.4f}"
)

# %%
# What each unit stands for
# -------------------------
# Left: every unit's weight vector decoded back to an image by the decoder.
# Right: for each unit, the training image closest to it in feature space.
# Similar pictures sit on neighbouring units.
n_rows, n_columns = model.map_size_


def mosaic(tiles):
    tiles = np.clip(tiles.reshape(n_rows, n_columns, height, width, channels), 0, 1)
    tiles = np.pad(tiles, ((0, 0), (0, 0), (1, 1), (1, 1), (0, 0)), constant_values=1)
    return tiles.transpose(0, 2, 1, 3, 4).reshape(n_rows * (height + 2), n_columns * (width + 2), channels)


nearest = model.transform(X).argmin(axis=0)  # closest image of each unit
fig, axes = plt.subplots(1, 2, figsize=(10, 5))
for ax, tiles, title in [
    (axes[0], model.decode_units(), "decoded units"),
    (axes[1], X[nearest], "nearest training image"),
]:
    ax.imshow(mosaic(tiles))
    ax.set_title(title)
    ax.set_axis_off()
fig.suptitle(f"6 x 6 deep SOM of {source}")
fig.tight_layout()

# %%
# Where each class lands
# ----------------------
# The hit map of every class (:func:`sksom.plotting.plot_hit_map` works on
# the deep SOM too): each class occupies its own region of the map.
fig, axes = plt.subplots(2, int(np.ceil(len(class_names) / 2)), figsize=(10, 4.2))
for c, ax in enumerate(axes.ravel()):
    if c >= len(class_names):
        ax.set_axis_off()
        continue
    plot_hit_map(model, X[labels == c], ax=ax, colorbar=False)
    ax.set_title(class_names[c], fontsize=9)
fig.tight_layout()
plt.show()
