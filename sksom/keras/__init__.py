"""The self-organizing map as a Keras layer, and a deep SOM estimator.

This module imports TensorFlow and Keras when it is imported; ``import sksom``
does not import it, so load it explicitly::

    from sksom.keras import SOMLayer, SOMRadiusSchedule, DeepSOMClusterer

:class:`SOMLayer` holds a codebook as a Keras weight and can follow any Dense
or convolutional stack (flattened). Its output is the distance of each input
to every unit of the map; its SOM loss is the neighbourhood-weighted squared
distance to the units, the neighbourhood centred on the best-matching unit, on
the same lattices and with the same neighbourhood functions as
:class:`sksom.SOMClusterer`. The radius is a non-trainable weight, driven from
outside by :class:`SOMRadiusSchedule` (a Keras callback) or by a training loop.

:class:`DeepSOMClusterer` is the deep SOM of Forest et al. (2019, "DESOM"): an
autoencoder whose latent features feed a SOM layer, trained jointly so that the
reconstruction term keeps the features informative. Training the feature
layers with the SOM term alone lets the features collapse towards a point (the
loss falls while the clusters get worse); the estimator reports the share of
feature variance that survives joint training in
``feature_variance_retained_``.

The loaders :func:`load_mnist_local` and :func:`load_cifar10_local` read
datasets from local files only; they never download.
"""

import os

# Keep TensorFlow's C++ start-up chatter out of the user's terminal.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from ..datasets import load_cifar10_local, load_mnist_local
from .deep import DeepSOMClusterer
from .layer import SOMLayer, SOMRadiusSchedule

__all__ = [
    "DeepSOMClusterer",
    "SOMLayer",
    "SOMRadiusSchedule",
    "load_cifar10_local",
    "load_mnist_local",
]
