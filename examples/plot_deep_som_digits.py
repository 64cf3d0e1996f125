"""
A SOM layer after dense layers: the deep SOM on handwritten digits
==================================================================

sksom began as the idea of a self-organizing map as a *layer* of a neural
network: Dense layers in front of it reduce the data to a few features, and
the map clusters the features. This example retells that story on
scikit-learn's 8 x 8 digits, in three steps:

1. the plain SOM on the 64 pixels, the reference;
2. the naive deep SOM, Dense layers followed by :class:`~sksom.keras.SOMLayer`
   trained on the SOM loss alone: the loss falls, but only because the
   features shrink towards a point, and the clusters get worse;
3. the deep SOM of :class:`~sksom.keras.DeepSOMClusterer`, trained jointly
   with an autoencoder (DESOM, Forest et al. 2019): the reconstruction term
   keeps the features informative, and a neighbour term keeps samples that
   are close in the pixel space close in the features.

Cluster quality is measured by *purity*: each map unit votes for the digit
most of its samples show, and purity is the share of samples that agree with
their unit's vote.
"""

# %%
# Data and the plain SOM
# ----------------------
import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from sksom import SOMClusterer
from sksom.keras import DeepSOMClusterer, SOMLayer, SOMRadiusSchedule
from sksom.plotting import plot_label_map

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)  # pixels in [0, 1]


def purity(labels):
    return sum(np.bincount(y[labels == c]).max() for c in np.unique(labels)) / len(y)


som = SOMClusterer((8, 8), random_state=0).fit(X)
print(f"plain SOM on pixels: purity {purity(som.labels_):.3f}")

# %%
# The naive deep SOM: a SOM layer trained alone
# ---------------------------------------------
# Two Dense layers reduce the 64 pixels to 10 features, and a
# :class:`~sksom.keras.SOMLayer` with ``loss_weight=1`` adds its SOM loss to
# the model. :class:`~sksom.keras.SOMRadiusSchedule` shrinks the
# neighbourhood radius during ``fit``. Nothing in this loss asks the
# features to say anything about the digits.
init = keras.initializers.GlorotUniform
inputs = keras.Input((64,))
hidden = keras.layers.Dense(128, activation="relu", kernel_initializer=init(seed=1))(inputs)
features = keras.layers.Dense(10, kernel_initializer=init(seed=2))(hidden)
encoder = keras.Model(inputs, features)
som_layer = SOMLayer((8, 8), loss_weight=1.0, codebook_initializer=keras.initializers.RandomNormal(seed=3))
naive = keras.Model(inputs, som_layer(features))
naive.compile(optimizer=keras.optimizers.Adam(1e-3))

variance_before = encoder(X).numpy().var(axis=0).sum()
history = naive.fit(
    X, epochs=30, batch_size=128, verbose=0, callbacks=[SOMRadiusSchedule(4.0, 0.3)]
)
variance_after = encoder(X).numpy().var(axis=0).sum()
naive_labels = np.argmin(naive.predict(X, verbose=0), axis=1)
print(
    f"naive deep SOM: SOM loss {history.history['loss'][0]:.3g} -> {history.history['loss'][-1]:.3g}, "
    f"feature variance kept {variance_after / variance_before:.3f}, "
    f"units used {len(np.unique(naive_labels))}, purity {purity(naive_labels):.3f}"
)

# %%
# The deep SOM, trained jointly with an autoencoder
# -------------------------------------------------
# :class:`~sksom.keras.DeepSOMClusterer` pretrains an autoencoder, starts the
# codebook from a :class:`~sksom.SOMClusterer` fitted on its features, then
# trains encoder, decoder and map together. ``feature_variance_retained_``
# checks that the features did not collapse.
deep = DeepSOMClusterer(
    (8, 8), hidden_units=(256, 128), pretrain_epochs=100, max_iter=50, batch_size=128, random_state=0
).fit(X)
print(
    f"deep SOM: purity {purity(deep.labels_):.3f}, feature variance kept "
    f"{deep.feature_variance_retained_:.2f}, topographic error {deep.topographic_error_:.3f}"
)

# %%
# Purity of the three maps, and what the losses hid
# -------------------------------------------------
# The naive model minimised its loss better than any other: by collapsing.
fig, (ax_bar, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.6))
names = ["SOM on pixels", "naive SOM layer", "deep SOM (joint)"]
scores = [purity(som.labels_), purity(naive_labels), purity(deep.labels_)]
ax_bar.bar(names, scores, color=["tab:gray", "tab:red", "tab:green"])
ax_bar.set_ylim(0, 1)
ax_bar.set_ylabel("purity (64 units)")
for i, s in enumerate(scores):
    ax_bar.text(i, s + 0.02, f"{s:.2f}", ha="center")
ax_loss.plot(history.history["loss"], color="tab:red", label="naive: SOM loss alone")
ax_loss.plot(deep.loss_curve_[:, 1], color="tab:green", label="deep SOM: SOM term (relative)")
ax_loss.set_yscale("log")
ax_loss.set_xlabel("epoch")
ax_loss.legend()
fig.tight_layout()

# %%
# The deep SOM's units, decoded to images
# ---------------------------------------
# Each unit lives in the 10-d feature space; the decoder turns it back into
# the digit it stands for. Neighbouring units decode to similar digits. The
# label map shows the majority digit of each unit.
prototypes = deep.decode_units().reshape(8, 8, 8, 8)  # map rows, map columns, pixels
mosaic = np.pad(prototypes, ((0, 0), (0, 0), (1, 1), (1, 1))).transpose(0, 2, 1, 3).reshape(80, 80)
fig, (ax_img, ax_labels) = plt.subplots(1, 2, figsize=(10, 4.6))
ax_img.imshow(mosaic, cmap="gray_r", vmin=0, vmax=1)
ax_img.set_title("decoded units")
ax_img.set_axis_off()
plot_label_map(deep, X, y, ax=ax_labels)
ax_labels.set_title("majority digit per unit")
fig.tight_layout()
plt.show()
