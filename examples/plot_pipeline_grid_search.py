"""
=======================================================
Choosing the map size with a pipeline and a grid search
=======================================================

A :class:`~sksom.SOMClusterer` is a scikit-learn estimator, so it fits in a
:class:`~sklearn.pipeline.Pipeline` after a feature extractor and its
parameters can be tuned with :class:`~sklearn.model_selection.GridSearchCV`.

Which score should the search maximise? The estimator's own
:meth:`~sksom.SOMClusterer.score` is minus the quantization error, which
improves with every unit added: it always picks the largest map.
:func:`sksom.metrics.map_size_scorer` reads the codebook as a Gaussian mixture
and penalises its number of parameters (a BIC), so it stops growing the map
once extra units no longer explain the held-out data better.
"""

# %%
# A pipeline: scaling, PCA, then the map
# --------------------------------------
# The 8 x 8 digit images are standardised and reduced to 16 principal
# components before the map sees them.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksom import SOMClusterer
from sksom.metrics import map_size_scorer
from sksom.plotting import plot_label_map

X, y = load_digits(return_X_y=True)
pipe = make_pipeline(
    StandardScaler(), PCA(n_components=16, random_state=0), SOMClusterer(max_iter=10, random_state=0)
)

# %%
# Grid search over the map size
# -----------------------------
# Three-fold cross-validation: each candidate is trained on two folds and
# scored on the third, with the map-size scorer and, for comparison, with
# the estimator's default score (minus the quantization error).
sizes = [(2, 2), (4, 4), (6, 6), (9, 9), (13, 13)]
search = GridSearchCV(
    pipe,
    {"somclusterer__map_size": sizes},
    scoring={"bic": map_size_scorer, "neg_qe": lambda est, X, y=None: est.score(X)},
    refit="bic",
    cv=3,
)
search.fit(X)
print("best map size by BIC:", search.best_params_["somclusterer__map_size"])

# %%
# The two scores side by side
# ---------------------------
# Minus the quantization error keeps rising with the number of units; the
# BIC score peaks and then falls, and the grid search keeps that peak.
n_units = [r * c for r, c in sizes]
results = search.cv_results_
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, key, label in [(axes[0], "bic", "map-size scorer (BIC)"), (axes[1], "neg_qe", "score: -quantization error")]:
    ax.errorbar(n_units, results[f"mean_test_{key}"], yerr=results[f"std_test_{key}"], marker="o", capsize=3)
    ax.set_xscale("log")
    ax.set_xticks(n_units, [f"{r}x{c}" for r, c in sizes])
    ax.set_xlabel("map size")
    ax.set_title(label)
best = np.argmax(results["mean_test_bic"])
axes[0].axvline(n_units[best], color="grey", linestyle="--")
fig.tight_layout()

# %%
# The selected map
# ----------------
# The refitted pipeline maps every image to a unit. The label map colours
# each unit by the digit most often found on it (paler where the unit mixes
# digits): the map has laid the classes out in regions, without seeing ``y``.
fig, ax = plt.subplots(figsize=(5, 5))
plot_label_map(search.best_estimator_, X, y, ax=ax)
plt.show()
