"""
======================================================
Temporal quantization error on the Mackey-Glass series
======================================================

The Mackey-Glass series with delay ``tau = 17`` is chaotic: its future
depends on its past. A plain SOM of the scalar values knows only the current
value; the recursive and merge maps of :class:`~sksom.RecursiveSOM` also
represent where the series came from, which shows as a low temporal
quantization error TQE(j) for the inputs ``j`` steps back (Voegtlin 2002).
"""

# %%
# The series
# ----------
import matplotlib.pyplot as plt
import numpy as np

from sksom import RecursiveSOM, SOMClusterer
from sksom._generators import mackey_glass
from sksom.metrics import temporal_quantization_error

series = mackey_glass(6000)
X = ((series - series.mean()) / series.std())[:, None]

fig, ax = plt.subplots(figsize=(8, 2.5))
ax.plot(series[:600])
ax.set_xlabel("t")
ax.set_title("Mackey-Glass, tau = 17")

# %%
# Three maps of the same size
# ---------------------------
maps = {
    "plain SOM": SOMClusterer(map_size=(10, 10), random_state=0).fit(X),
    "recursive": RecursiveSOM(map_size=(10, 10), beta=0.06, max_iter=3, random_state=0).fit(X),
    "merge": RecursiveSOM(map_size=(10, 10), context="merge", max_iter=3, random_state=0).fit(X),
}

# %%
# TQE curves
# ----------
max_lag = 30
fig, ax = plt.subplots()
for name, model in maps.items():
    labels = model.predict(X)
    tqe = temporal_quantization_error(X, labels, max_lag=max_lag)
    ax.plot(np.arange(max_lag + 1), tqe, label=name)
    print(f"{name:>10}: TQE(0) {tqe[0]:.3f}  TQE(5) {tqe[5]:.3f}  TQE(10) {tqe[10]:.3f}")
ax.set_xlabel("lag j")
ax.set_ylabel("TQE(j) (standardised units)")
ax.legend()
plt.show()
