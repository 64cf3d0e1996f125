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

The package holds two modules: ``layer`` (:class:`SOMLayer`,
:class:`SOMRadiusSchedule`) and ``deep`` (:class:`DeepSOMClusterer`). The
dataset loaders that used to live here are in :mod:`sksom.datasets`.
"""

import os

# Keep TensorFlow's C++ start-up chatter out of the user's terminal.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import warnings

from .deep import DeepSOMClusterer
from .layer import SOMLayer, SOMRadiusSchedule

__all__ = [
    "DeepSOMClusterer",
    "SOMLayer",
    "SOMRadiusSchedule",
]

_MOVED_TO_DATASETS = ("load_cifar10_local", "load_mnist_local")


def __getattr__(name):
    # The loaders moved to sksom.datasets (they need neither TensorFlow nor
    # Keras); the old path keeps working, with a warning.
    if name in _MOVED_TO_DATASETS:
        from .. import datasets

        warnings.warn(
            f"sksom.keras.{name} moved to sksom.datasets.{name}; import it from there.",
            FutureWarning,
            stacklevel=2,
        )
        return getattr(datasets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
