"""
==============================================
A toroidal hexagonal map for periodic data
==============================================

Some data is periodic: angles, times of day, phases. Points that depend on
two angles lie on a torus, and a flat map cannot cover a torus without
tearing it somewhere: samples on both sides of the tear land far apart on the
map although they are close in the data. A periodic map (``periodic=True``),
whose edges wrap around, is itself a torus and covers such data without a
seam. Here both maps use the hexagonal lattice (``topology="hexagonal"``),
where every unit has six neighbours at the same distance; a periodic
hexagonal map needs an even number of rows.
"""

# %%
# Data on a torus
# ---------------
# Two angles, each mapped to a point of a circle, give points on a torus in
# 4-D: ``(cos a, sin a, cos b, sin b)``, plus a little noise.
import matplotlib.pyplot as plt
import numpy as np

from sksom import SOMClusterer
from sksom.plotting import plot_u_matrix

rng = np.random.default_rng(0)
a, b = rng.uniform(0, 2 * np.pi, size=(2, 2000))
X = np.column_stack([np.cos(a), np.sin(a), np.cos(b), np.sin(b)])
X += 0.05 * rng.standard_normal(X.shape)

# %%
# A flat map and a toroidal map
# -----------------------------
# Same size, lattice and schedule; only ``periodic`` differs.
maps = {}
for periodic in (False, True):
    som = SOMClusterer((12, 12), topology="hexagonal", periodic=periodic, max_iter=20, random_state=0)
    maps[periodic] = som.fit(X)
    print(
        f"periodic={periodic!s:5}  quantization error {som.quantization_error_:.3f}  "
        f"topographic error {som.topographic_error_:.3f}"
    )

# %%
# The flat map tears the torus
# ----------------------------
# The U-matrix (mean distance from each unit to its neighbours) of the flat
# map has ridges where neighbouring units sit on opposite sides of the torus;
# the toroidal map's U-matrix is even. Below, each training sample is drawn at
# its best-matching unit, coloured by the angle ``a``: on the toroidal map
# the colour cycles smoothly and wraps across the edges.
fig, axes = plt.subplots(2, 2, figsize=(10, 9))
for column, periodic in enumerate((False, True)):
    som = maps[periodic]
    name = "toroidal" if periodic else "flat"
    plot_u_matrix(som, ax=axes[0, column])
    axes[0, column].set_title(f"{name} map: U-matrix")
    where = som.best_matching_coordinates(X) + rng.uniform(-0.3, 0.3, size=(len(X), 2))
    axes[1, column].scatter(where[:, 1], where[:, 0], c=a, cmap="twilight", s=3)
    axes[1, column].invert_yaxis()
    axes[1, column].set_aspect("equal")
    axes[1, column].set_title(f"{name} map: samples coloured by angle a")
fig.tight_layout()
plt.show()
