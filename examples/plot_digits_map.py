"""
=======================================
A self-organizing map of the digits
=======================================

A self-organizing map (SOM) lays out the 1797 8 x 8 images of scikit-learn's
digits on a hexagonal grid of units, so that similar images land on nearby
units. This example

1. chooses the size of the map with :func:`sksom.metrics.map_size_scorer`
   in a :class:`~sklearn.model_selection.GridSearchCV`,
2. reads the fitted map through its U-matrix, hit map and label map,
3. groups the units into 10 clusters that are connected regions of the map
   (``n_clusters=10``), which then :meth:`~sksom.SOMClusterer.predict` new
   images.
"""

# %%
# Choosing the map size
# ---------------------
# :meth:`SOMClusterer.score <sksom.SOMClusterer.score>` is minus the
# quantization error, which shrinks with every unit added: a grid search on
# it always picks the largest map. :func:`~sksom.metrics.map_size_scorer`
# reads the codebook as a mixture of Gaussians and penalises its parameters
# (a Bayesian information criterion), so it stops adding units once they no
# longer explain the data better.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV, train_test_split

from sksom import SOMClusterer, maps, plotting
from sksom.metrics import map_size_scorer

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

sizes = [(4, 4), (6, 6), (8, 8), (10, 10), (14, 14)]
som = SOMClusterer(topology="hexagonal", random_state=0)
by_bic = GridSearchCV(som, {"map_size": sizes}, scoring=map_size_scorer, cv=3).fit(X_train)
by_qe = GridSearchCV(som, {"map_size": sizes}, cv=3).fit(X_train)

print("map size   map_size_scorer   -quantization error")
for size, bic, qe in zip(sizes, by_bic.cv_results_["mean_test_score"], by_qe.cv_results_["mean_test_score"]):
    print(f"{str(size):9s}  {bic:16.2f}  {qe:20.3f}")
print("map_size_scorer picks", by_bic.best_params_["map_size"])
print("score() picks", by_qe.best_params_["map_size"])

# %%
# The penalised score peaks at a middle size: a few units per digit class,
# enough to hold the main ways of writing each digit. Beyond that, new units
# mostly split groups of nearly identical images.
#
# The chosen map, with a second stage of 10 clusters
# --------------------------------------------------
# ``n_clusters=10`` clusters the units with Ward's method, constrained so
# that each cluster is a connected region of the map.
som = clone(by_bic.best_estimator_).set_params(n_clusters=10).fit(X_train)
print(f"topographic error {som.topographic_error_:.3f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
plotting.plot_u_matrix(som, ax=axes[0])
plotting.plot_hit_map(som, X_train, ax=axes[1], annotate=True)
fig.tight_layout()

# %%
# Dark cells of the U-matrix lie far from their neighbours: borders between
# groups of images. The hit map shows how many training images each unit
# stands for.
#
# Which digits live where
# -----------------------
# The label map colours each unit by the most frequent digit among its
# images, faded where the unit mixes digits. Next to it, the 10 clusters of
# the second stage, with their borders.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
plotting.plot_label_map(som, X_train, y_train, ax=axes[0])
plotting.plot_clusters(som, ax=axes[1])
fig.tight_layout()

labels = maps.label_map(som, X_train, y_train)
hit = labels.majority >= 0
print(f"units hit: {hit.sum()} of {hit.size}; mean majority share {np.nanmean(labels.share):.2f}")

# %%
# Predicting new images
# ---------------------
# :meth:`~sksom.SOMClusterer.predict` sends an image to the cluster of its
# best-matching unit; the agreement of these clusters with the digits on
# held-out images is measured by the adjusted Rand index (1 is perfect, 0 is
# chance).
clusters = som.predict(X_test)
print(f"adjusted Rand index of the 10 clusters on held-out digits: {adjusted_rand_score(y_test, clusters):.2f}")

# %%
# What each unit has learnt
# -------------------------
# Each unit's weight vector is an 8 x 8 image: the map of prototypes.
ax = plotting.plot_codebook_images(som, image_shape=(8, 8))
ax.figure.set_size_inches(6, 6)
plt.show()
