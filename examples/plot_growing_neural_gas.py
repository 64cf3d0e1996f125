"""
======================================
A growing neural gas on two moons
======================================

:class:`~sksom.GrowingNeuralGas` starts with two units and inserts one every
``insertion_interval`` samples, next to the unit that has accumulated the
largest error. Edges that are not refreshed by the data age and disappear,
so the graph splits where the data does: its connected components are the
two moons, and ``n_clusters="connected"`` makes them the clusters. That
needs a gap between the moons: with more noise (0.06 here instead of 0.05)
the moons nearly touch, and for some seeds a sample whose two nearest
units lie on different moons keeps an edge between them alive.

Each :meth:`~sksom.GrowingNeuralGas.partial_fit` call presents the data once
more and continues from the units, edges and errors of the call before; the
pictures show the gas after 1, 3 and 10 passes.
"""

# %%
# Growing, pass by pass
# ---------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons

from sksom import GrowingNeuralGas
from sksom.plotting import plot_gas

X, y = make_moons(n_samples=1000, noise=0.05, random_state=0)
gng = GrowingNeuralGas(max_units=60, insertion_interval=50, n_clusters="connected", random_state=0)
fig, axes = plt.subplots(1, 3, figsize=(13, 4))
shown = iter(axes)
for n_pass in range(1, 11):
    gng.partial_fit(X)
    if n_pass in (1, 3, 10):
        ax = plot_gas(gng, X, ax=next(shown))
        ax.set_title(
            f"after {n_pass} pass(es): {gng.n_units_} units, "
            f"{len(np.unique(gng.unit_labels_))} component(s)"
        )
        print(f"pass {n_pass}: {gng.n_units_} units, quantization error {gng.quantization_error_:.3f}")
plt.show()

# %%
# The components are the moons
# ----------------------------
# Each sample takes the component of its nearest unit.
labels = gng.predict(X)
agreement = max(np.mean(labels == y), np.mean(labels != y))
print(f"components: {len(np.unique(labels))}; agreement with the moons: {agreement:.3f}")
