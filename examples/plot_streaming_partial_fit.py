"""
======================================
Streaming data with ``partial_fit``
======================================

When the data does not fit in memory, or arrives over time, train the map
one batch at a time with :meth:`~sksom.SOMClusterer.partial_fit`. Each call
runs one epoch on the batch it is given and moves the radius and learning-rate
schedules one step of ``max_iter`` forward, so ``max_iter`` says over how many
batches the map goes from its coarse start to its fine end; later batches
keep refining it at the final radius.

Here batches come from a stream of 2-D points on a ring; the map is watched
on a held-out set as the stream goes by.
"""

# %%
# A stream of batches
# -------------------
# A generator stands in for a file read in chunks or a message queue.
import matplotlib.pyplot as plt
import numpy as np

from sksom import SOMClusterer


def ring(n, rng):
    """Points on a noisy ring of radius 1."""
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = 1 + 0.08 * rng.standard_normal(n)
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def stream(n_batches, batch_size, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(n_batches):
        yield ring(batch_size, rng)


X_test = ring(500, np.random.default_rng(1))

# %%
# Train batch by batch
# --------------------
# 30 batches of 200 points; the schedule spans the first 20 of them
# (``max_iter=20``), the last 10 run at the final radius. With the default
# batch algorithm each call computes Kohonen's batch map of its batch; a
# learning rate below 1 blends it with the codebook so far
# (``W <- W + lr * (W_batch - W)``), so the map remembers earlier batches
# instead of following the last one alone.
som = SOMClusterer((1, 24), max_iter=20, learning_rate_start=1.0, learning_rate_end=0.2, random_state=0)
errors = []
for batch in stream(n_batches=30, batch_size=200):
    som.partial_fit(batch)
    errors.append(-som.score(X_test))
print(f"epochs run: {som.n_iter_}, final held-out quantization error: {errors[-1]:.3f}")

# %%
# Watching the map learn
# ----------------------
# Left: the held-out quantization error after each batch. Right: the 24 units
# of the one-dimensional map (a chain), which has unfolded along the ring.
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
axes[0].plot(np.arange(1, len(errors) + 1), errors, marker=".")
axes[0].axvline(som.max_iter, color="grey", linestyle="--", label="end of the schedule")
axes[0].set_xlabel("batches seen")
axes[0].set_ylabel("held-out quantization error")
axes[0].legend()
axes[1].scatter(*X_test.T, s=4, color="lightgrey")
axes[1].plot(*som.cluster_centers_.T, marker="o", color="tab:red")
axes[1].set_aspect("equal")
axes[1].set_title("codebook of the 1 x 24 map over the data")
fig.tight_layout()
plt.show()
