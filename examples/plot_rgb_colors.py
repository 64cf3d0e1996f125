"""
==============================
RGB colours organised on a map
==============================

Kohonen's classic picture: a self-organizing map trained on random colours.
Each colour is a point of the RGB cube, a 3-D input space; the map is a flat
grid of units. Training puts similar colours on nearby units, so the grid
turns into a smooth colour chart, with a few seams (high U-matrix values)
where the 3-D cube had to be folded into 2-D.
"""

# %%
# Random colours
# --------------
# A thousand colours drawn uniformly from the RGB cube; each row is
# ``(red, green, blue)`` in ``[0, 1]``.
import matplotlib.pyplot as plt
import numpy as np

from sksom import SOMClusterer
from sksom.plotting import plot_codebook_colors, plot_u_matrix

rng = np.random.default_rng(0)
colors = rng.uniform(size=(1000, 3))

# %%
# Train a 20 x 20 map
# -------------------
# ``init="random"`` starts from random colours so that the ordering is
# visibly the work of training (the default PCA start is already ordered).
# The batch algorithm needs only a few epochs.
som = SOMClusterer((20, 20), init="random", max_iter=20, random_state=0)
som.fit(colors)
print(f"quantization error: {som.quantization_error_:.3f}")
print(f"topographic error:  {som.topographic_error_:.3f}")

# %%
# Before and after
# ----------------
# Left, 400 of the training colours in the order they were drawn; middle,
# each unit in the colour of its weight vector. The U-matrix shows
# the distance between neighbouring units; with its default colour map
# (``"bone_r"``, see the colour bar) small distances are light and large
# ones dark: light areas are regions of similar colours, dark ridges the
# seams between them, as in the U-matrix of the digits example.
fig, axes = plt.subplots(1, 3, figsize=(12, 4))
axes[0].imshow(colors[:400].reshape(20, 20, 3))
axes[0].set_title("training colours")
axes[0].set_axis_off()
plot_codebook_colors(som, ax=axes[1])
axes[1].set_title("after 20 epochs")
plot_u_matrix(som, ax=axes[2])
axes[2].set_title("U-matrix")
fig.tight_layout()
plt.show()
