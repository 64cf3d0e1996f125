"""
=================================
Neural gas against k-means
=================================

k-means moves each centre towards the samples it wins, so a centre that
starts far from the data, or between two clusters, can stay there. The
neural gas moves *every* unit towards every sample, by a step that decays
with the unit's distance rank; as the rank range ``lambda`` shrinks it
becomes k-means, but from a placement that already covers the data.

The data has 15 Gaussian clusters; both methods get 15 centres, and k-means
is started at random (Lloyd's algorithm) ten times.
"""

# %%
# The data and the fits
# ---------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans

from sksom import NeuralGas
from sksom.plotting import plot_gas

rng = np.random.default_rng(1)
centres = rng.random((15, 2)) * 10
X = np.concatenate([c + 0.3 * rng.standard_normal((200, 2)) for c in centres])


def mse(units):
    """Mean squared distance from each sample to its nearest unit."""
    return ((X[:, None, :] - units[None]) ** 2).sum(-1).min(axis=1).mean()


gas_errors, kmeans_errors = [], []
for seed in range(10):
    gas = NeuralGas(n_units=15, random_state=seed).fit(X)
    kmeans = KMeans(15, init="random", n_init=1, random_state=seed).fit(X)
    gas_errors.append(mse(gas.cluster_centers_))
    kmeans_errors.append(mse(kmeans.cluster_centers_))
print(f"neural gas: mean MSE {np.mean(gas_errors):.3f}, worst {np.max(gas_errors):.3f}")
print(f"k-means:    mean MSE {np.mean(kmeans_errors):.3f}, worst {np.max(kmeans_errors):.3f}")

# %%
# The worst run of each
# ---------------------
# The gas's worst seed still puts one unit on each cluster; k-means's worst
# leaves two centres on one cluster and one between two others. The gas's
# edges join units whose regions touch (competitive Hebbian learning).
worst = int(np.argmax(kmeans_errors))
gas = NeuralGas(n_units=15, random_state=int(np.argmax(gas_errors))).fit(X)
kmeans = KMeans(15, init="random", n_init=1, random_state=worst).fit(X)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 5))
plot_gas(gas, X, ax=left)
left.set_title(f"neural gas, MSE {mse(gas.cluster_centers_):.3f}")
right.scatter(X[:, 0], X[:, 1], s=4, color="0.75")
right.scatter(*kmeans.cluster_centers_.T, s=30, color="black")
right.set_title(f"k-means (random init), MSE {mse(kmeans.cluster_centers_):.3f}")
right.set_aspect("equal")
plt.show()
