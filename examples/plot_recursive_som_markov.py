"""
===================================================
Receptive fields of sequence maps on a Markov chain
===================================================

A symbol sequence from a three-state Markov chain: after ``a`` comes ``b``
or ``c`` (one half each), after ``b`` always ``a``, after ``c`` either ``b``
or ``c``. A plain SOM sees three symbols and has three kinds of unit. A
:class:`~sksom.RecursiveSOM` sees histories: each unit comes to stand for
the symbol it wins *and* the symbols before it, its receptive field.
"""

# %%
# The chain, one-hot coded
# ------------------------
import matplotlib.pyplot as plt
import numpy as np

from sksom import RecursiveSOM, SOMClusterer
from sksom._generators import markov_chain
from sksom.metrics import temporal_quantization_error

X = markov_chain(10_000, seed=0)
names = "abc"
print("".join(names[s] for s in X[:40].argmax(axis=1)))

# %%
# Fit the recursive and the merge map, and a plain SOM
# ----------------------------------------------------
recursive = RecursiveSOM(map_size=(7, 7), context="recursive", max_iter=4, random_state=0).fit(X)
merge = RecursiveSOM(map_size=(7, 7), context="merge", max_iter=4, random_state=0).fit(X)
plain = SOMClusterer(map_size=(7, 7), random_state=0).fit(X)

# %%
# Receptive fields
# ----------------
# The longest history that all the steps a unit wins share, oldest symbol
# first (symbols are numbered by first appearance, here a, then b or c).
order = [int(s) for s in dict.fromkeys(X.argmax(axis=1).tolist())]
symbol_names = [names[s] for s in order]
fields = recursive.receptive_fields(X, max_depth=8, names=symbol_names)
print(f"mean depth (recursive): {fields.mean_depth:.2f}")
print(f"mean depth (merge): {merge.receptive_fields(X, max_depth=8).mean_depth:.2f}")

fig, ax = plt.subplots(figsize=(6, 6))
n_rows, n_columns = recursive.map_size_
for unit, (field, hits) in enumerate(zip(fields.fields, fields.hits)):
    row, column = divmod(unit, n_columns)
    ax.text(column, row, field if hits else "-", ha="center", va="center", fontsize=8)
ax.set_xlim(-0.5, n_columns - 0.5)
ax.set_ylim(n_rows - 0.5, -0.5)
ax.set_xticks([])
ax.set_yticks([])
ax.set_title("Receptive fields of the recursive SOM (oldest symbol first)")

# %%
# Memory: the temporal quantization error
# ----------------------------------------
# TQE(j) is low when the units know the input j steps back.
lags = np.arange(6)
fig, ax = plt.subplots()
for label, labels in [
    ("plain SOM", plain.predict(X)),
    ("recursive", recursive.labels_),
    ("merge", merge.labels_),
]:
    ax.plot(lags, temporal_quantization_error(X, labels, max_lag=5), marker="o", label=label)
ax.set_xlabel("lag j")
ax.set_ylabel("TQE(j)")
ax.legend()

# %%
# Generation
# ----------
# Run without input, the map moves from unit to unit by context; the chain's
# forbidden transitions (a->a, b->b, b->c, c->a) do not appear.
generated = recursive.generate(60).argmax(axis=1)
print("".join(names[s] for s in generated))
plt.show()
