"""The self-organizing map as a Keras layer, and the callback that drives its radius."""

from numbers import Integral, Real

import keras
from keras import ops

from .._topology import (
    DECAYS,
    NEIGHBORHOODS,
    TOPOLOGIES,
    check_map_size,
    lattice_periods,
    squared_distances_to,
    unit_coordinates,
)


def _check_lattice(map_size, topology, periodic, neighborhood):
    """Validate the lattice options shared by the layer and the estimator."""
    size = tuple(map_size) if isinstance(map_size, (tuple, list)) else None
    if size is None or len(size) != 2 or not all(
        isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in size
    ):
        raise ValueError(f"map_size must be a pair of positive ints (n_rows, n_columns); got {map_size!r}.")
    if topology not in TOPOLOGIES:
        raise ValueError(f"topology must be one of {TOPOLOGIES}; got {topology!r}.")
    if neighborhood not in NEIGHBORHOODS:
        raise ValueError(f"neighborhood must be one of {tuple(NEIGHBORHOODS)}; got {neighborhood!r}.")
    size = tuple(int(s) for s in size)
    check_map_size(size, topology, bool(periodic))
    return size


# -- the layer -----------------------------------------------------------------


@keras.saving.register_keras_serializable(package="sksom")
class SOMLayer(keras.layers.Layer):
    """A self-organizing map as a Keras layer.

    The layer holds the codebook, one weight vector per unit of a
    ``map_size`` lattice in row-major order, as a trainable weight of shape
    ``(n_units, n_features)``. Called on a batch of shape
    ``(batch, n_features)`` it returns the Euclidean distance of each input to
    every unit. Its SOM loss (:meth:`som_loss`) is

    .. math:: \\frac{1}{n} \\sum_i \\sum_k h(d(b_i, k); r) \\, \\|x_i - w_k\\|^2

    where :math:`b_i` is the best-matching unit (BMU) of :math:`x_i`,
    :math:`d` the lattice distance and :math:`h` the neighbourhood function
    with radius :math:`r`. The neighbourhood weights are held constant in the
    gradient, so the loss pulls the units towards the inputs and the inputs
    towards their units, as in DESOM (Forest et al., 2019).

    Parameters
    ----------
    map_size : tuple of (int, int), default=(8, 8)
        ``(n_rows, n_columns)`` of the map.
    topology : {"rectangular", "hexagonal"}, default="rectangular"
        Lattice of the map, as in :class:`sksom.SOMClusterer`.
    periodic : bool, default=False
        Whether the map wraps around its edges (a torus).
    neighborhood : {"gaussian", "bubble", "triangle", "cut_gaussian", \
            "mexican_hat"}, default="gaussian"
        Neighbourhood function of the lattice distance.
    radius : float, default=1.0
        Initial neighbourhood radius, in lattice units. The current radius is
        the non-trainable weight :attr:`radius`; set it with
        :meth:`set_radius` or :class:`SOMRadiusSchedule`.
    loss_weight : float, default=0.0
        If positive, calling the layer adds ``loss_weight * som_loss`` to the
        model's losses (``add_loss``), so that ``model.fit`` trains the map.
    return_bmus : bool, default=False
        If True, the layer returns ``(distances, bmus)``, the BMUs as int32
        unit indices.
    codebook_initializer : str or keras.initializers.Initializer, \
            default="random_uniform"
        Initializer of the codebook.
    **kwargs : dict
        Passed to :class:`keras.layers.Layer` (``name``, ``dtype``, ...).

    Attributes
    ----------
    codebook : keras.Variable of shape (n_units, n_features)
        The unit weight vectors; created when the layer is built.
    radius : keras.Variable of shape ()
        The current neighbourhood radius (not trainable).

    See Also
    --------
    SOMRadiusSchedule : Callback that decays the radius during ``fit``.
    DeepSOMClusterer : A scikit-learn estimator built on this layer.

    Examples
    --------
    >>> import numpy as np
    >>> import keras
    >>> from sksom.keras import SOMLayer
    >>> inputs = keras.Input((4,))
    >>> features = keras.layers.Dense(3)(inputs)
    >>> distances = SOMLayer((2, 3), loss_weight=1.0)(features)
    >>> model = keras.Model(inputs, distances)
    >>> model(np.zeros((5, 4), dtype="float32")).shape
    TensorShape([5, 6])
    """

    def __init__(
        self,
        map_size=(8, 8),
        *,
        topology="rectangular",
        periodic=False,
        neighborhood="gaussian",
        radius=1.0,
        loss_weight=0.0,
        return_bmus=False,
        codebook_initializer="random_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.map_size = _check_lattice(map_size, topology, periodic, neighborhood)
        if not (isinstance(radius, Real) and radius > 0):
            raise ValueError(f"radius must be a positive number; got {radius!r}.")
        if not (isinstance(loss_weight, Real) and loss_weight >= 0):
            raise ValueError(f"loss_weight must be a non-negative number; got {loss_weight!r}.")
        self.topology = topology
        self.periodic = bool(periodic)
        self.neighborhood = neighborhood
        self.initial_radius = float(radius)
        self.loss_weight = float(loss_weight)
        self.return_bmus = bool(return_bmus)
        self.codebook_initializer = keras.initializers.get(codebook_initializer)
        self.n_units = self.map_size[0] * self.map_size[1]
        # The lattice is fixed by the configuration, so it is a constant, not
        # a weight: it is recomputed from the config when a model is loaded.
        # Unit positions only: the neighbourhood rows of a batch are measured
        # from its BMUs, never from an (n_units, n_units) matrix.
        self._unit_coordinates = unit_coordinates(self.map_size, topology)
        self._lattice_periods = lattice_periods(self.map_size, topology, self.periodic)

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                "SOMLayer expects inputs of shape (batch, n_features) with a known "
                f"n_features; got {tuple(input_shape)}. Put a Flatten layer in front "
                "of it after convolutions."
            )
        self.codebook = self.add_weight(
            name="codebook",
            shape=(self.n_units, int(input_shape[-1])),
            initializer=self.codebook_initializer,
            trainable=True,
        )
        self.radius = self.add_weight(
            name="radius",
            shape=(),
            initializer="ones",
            trainable=False,
        )
        # assigned rather than given to Constant, which rounds through float32
        self.radius.assign(self.initial_radius)

    def set_radius(self, value):
        """Set the neighbourhood radius used by :meth:`som_loss`.

        Parameters
        ----------
        value : float
            New radius, positive, in lattice units.
        """
        if not value > 0:
            raise ValueError(f"The radius must be positive; got {value!r}.")
        self.radius.assign(float(value))

    def squared_distances(self, inputs):
        """Squared Euclidean distance of each input to every unit.

        Parameters
        ----------
        inputs : tensor of shape (batch, n_features)
            Inputs of the layer.

        Returns
        -------
        d2 : tensor of shape (batch, n_units)
            Squared distances, clipped at 0 against rounding.
        """
        x = ops.cast(inputs, self.compute_dtype)
        w = ops.cast(self.codebook, self.compute_dtype)
        x_sq = ops.sum(x * x, axis=1, keepdims=True)
        w_sq = ops.sum(w * w, axis=1)
        return ops.maximum(x_sq - 2.0 * ops.matmul(x, ops.transpose(w)) + w_sq[None, :], 0.0)

    def neighborhood_weights(self, d2):
        """Neighbourhood weight of every unit around each input's BMU.

        Parameters
        ----------
        d2 : tensor of shape (batch, n_units)
            Output of :meth:`squared_distances`.

        Returns
        -------
        h : tensor of shape (batch, n_units)
            ``h(d(bmu, k); radius)``, with no gradient.
        """
        bmus = ops.argmin(d2, axis=1)
        coordinates = ops.convert_to_tensor(self._unit_coordinates, dtype=d2.dtype)
        periods = ops.convert_to_tensor(self._lattice_periods, dtype=d2.dtype)
        grid_d2 = squared_distances_to(coordinates, ops.take(coordinates, bmus, axis=0), periods, ops)
        radius = ops.cast(self.radius, d2.dtype)
        return ops.stop_gradient(NEIGHBORHOODS[self.neighborhood](grid_d2, radius, ops))

    def som_loss(self, d2, centres=None):
        """The SOM loss of a batch (see the class docstring).

        Parameters
        ----------
        d2 : tensor of shape (batch, n_units)
            Output of :meth:`squared_distances`.
        centres : tensor of shape (batch, n_units), default=None
            Squared distances whose best-matching units centre the
            neighbourhoods, e.g. those of an unaltered view of each input
            when ``d2`` belongs to an augmented view; ``None`` uses ``d2``.

        Returns
        -------
        loss : scalar tensor
            Mean over the batch of the neighbourhood-weighted squared
            distances.
        """
        h = self.neighborhood_weights(d2 if centres is None else centres)
        return ops.mean(ops.sum(h * d2, axis=1))

    def call(self, inputs):
        d2 = self.squared_distances(inputs)
        if self.loss_weight > 0:
            self.add_loss(self.loss_weight * self.som_loss(d2))
        # sqrt has an infinite slope at 0: take it only where d2 > 0 so that a
        # model differentiating through the distances never sees NaN.
        positive = d2 > 0
        distances = ops.where(positive, ops.sqrt(ops.where(positive, d2, 1.0)), 0.0)
        if self.return_bmus:
            return distances, ops.cast(ops.argmin(d2, axis=1), "int32")
        return distances

    def compute_output_shape(self, input_shape):
        shape = (input_shape[0], self.n_units)
        return (shape, (input_shape[0],)) if self.return_bmus else shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "map_size": list(self.map_size),
                "topology": self.topology,
                "periodic": self.periodic,
                "neighborhood": self.neighborhood,
                "radius": self.initial_radius,
                "loss_weight": self.loss_weight,
                "return_bmus": self.return_bmus,
                "codebook_initializer": keras.initializers.serialize(self.codebook_initializer),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["map_size"] = tuple(config["map_size"])
        config["codebook_initializer"] = keras.initializers.deserialize(config["codebook_initializer"])
        return cls(**config)


class SOMRadiusSchedule(keras.callbacks.Callback):
    """Keras callback that decays the radius of a :class:`SOMLayer` during fit.

    The radius goes from ``radius_start`` at the first training step to
    ``radius_end`` at the last, following one of the decays of
    :class:`sksom.SOMClusterer`, updated before every batch.

    Parameters
    ----------
    radius_start : float
        Radius at the first step, in lattice units.
    radius_end : float
        Radius at the last step.
    decay : {"linear", "exponential", "inverse"}, default="exponential"
        Shape of the decay.
    layer : SOMLayer or str, default=None
        The layer to drive, or its name; ``None`` takes the model's first
        :class:`SOMLayer`.

    Examples
    --------
    >>> from sksom.keras import SOMRadiusSchedule
    >>> schedule = SOMRadiusSchedule(4.0, 0.5)
    >>> round(schedule.radius_at(0.5), 3)
    1.414
    """

    def __init__(self, radius_start, radius_end, *, decay="exponential", layer=None):
        super().__init__()
        if not (isinstance(radius_start, Real) and isinstance(radius_end, Real) and radius_start > 0 and radius_end > 0):
            raise ValueError(
                f"radius_start and radius_end must be positive numbers; got {radius_start!r} and {radius_end!r}."
            )
        if decay not in DECAYS:
            raise ValueError(f"decay must be one of {tuple(DECAYS)}; got {decay!r}.")
        self.radius_start = float(radius_start)
        self.radius_end = float(radius_end)
        self.decay = decay
        self.layer = layer

    def radius_at(self, progress):
        """Radius at training progress ``progress`` in [0, 1]."""
        return float(DECAYS[self.decay](self.radius_start, self.radius_end, min(max(progress, 0.0), 1.0)))

    def _find_layer(self):
        if isinstance(self.layer, SOMLayer):
            return self.layer
        for layer in _all_layers(self.model):
            if isinstance(layer, SOMLayer) and (self.layer is None or layer.name == self.layer):
                return layer
        raise ValueError(f"SOMRadiusSchedule found no SOMLayer{'' if self.layer is None else ' named ' + repr(self.layer)} in the model.")

    def on_train_begin(self, logs=None):
        self._target = self._find_layer()
        self._epochs = int(self.params.get("epochs") or 1)
        self._steps = self.params.get("steps")
        self._epoch = 0
        self._target.set_radius(self.radius_at(0.0))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if not self._steps:  # unknown epoch length: one radius per epoch
            self._target.set_radius(self.radius_at(epoch / max(1, self._epochs - 1)))

    def on_train_batch_begin(self, batch, logs=None):
        if self._steps:
            total = self._epochs * self._steps
            self._target.set_radius(self.radius_at((self._epoch * self._steps + batch) / max(1, total - 1)))


def _all_layers(model):
    """Every layer of a model, nested models included."""
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)
