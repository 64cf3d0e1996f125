"""The deep SOM estimator: an autoencoder and a SOM layer trained jointly."""

import math
from numbers import Integral, Real

import keras
import numpy as np
import tensorflow as tf
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import _engine
from .._base import rollback_on_error
from .._som import SOMClusterer
from .._topology import (
    DECAYS,
    SIGNED_NEIGHBORHOODS,
    adjacency,
    unit_coordinates,
)
from ..metrics import topographic_error_from_bmus
from .layer import SOMLayer, _check_lattice

# -- networks built from a short spec ---------------------------------------------


def _initializer(rng):
    # A seeded initializer per layer: reproducible without global seeds.
    return keras.initializers.GlorotUniform(seed=int(rng.randint(np.iinfo(np.int32).max)))


def _dense_net(n_in, units, n_out, activation, rng, name):
    layers = [keras.Input((n_in,))]
    for width in units:
        layers.append(keras.layers.Dense(width, activation=activation, kernel_initializer=_initializer(rng)))
    layers.append(keras.layers.Dense(n_out, kernel_initializer=_initializer(rng)))
    return keras.Sequential(layers, name=name)


def _conv_encoder(image_shape, filters, latent_dim, activation, rng):
    layers = [keras.Input((int(np.prod(image_shape)),)), keras.layers.Reshape(image_shape)]
    for f in filters:
        layers.append(
            keras.layers.Conv2D(f, 3, strides=2, padding="same", activation=activation, kernel_initializer=_initializer(rng))
        )
    layers += [keras.layers.Flatten(), keras.layers.Dense(latent_dim, kernel_initializer=_initializer(rng))]
    return keras.Sequential(layers, name="encoder")


def _conv_decoder(image_shape, filters, latent_dim, activation, rng):
    """Mirror of :func:`_conv_encoder`: each stride-2 convolution undone by a transposed one."""
    height, width, channels = image_shape
    scale = 2 ** len(filters)
    small = (height // scale, width // scale, filters[-1])
    layers = [
        keras.Input((latent_dim,)),
        keras.layers.Dense(int(np.prod(small)), activation=activation, kernel_initializer=_initializer(rng)),
        keras.layers.Reshape(small),
    ]
    for f in list(filters[:-1])[::-1]:
        layers.append(
            keras.layers.Conv2DTranspose(
                f, 3, strides=2, padding="same", activation=activation, kernel_initializer=_initializer(rng)
            )
        )
    layers += [
        keras.layers.Conv2DTranspose(channels, 3, strides=2, padding="same", kernel_initializer=_initializer(rng)),
        keras.layers.Flatten(),
    ]
    return keras.Sequential(layers, name="decoder")


def _copy_model(model, name):
    """A fresh copy of a user's Keras model with the same weights (the user's stays untouched)."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    copy.name = name
    return copy


# -- the estimator -----------------------------------------------------------------


class DeepSOMClusterer(ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, BaseEstimator):
    """Deep self-organizing map: an autoencoder and a SOM trained jointly.

    An encoder maps the data to a few latent features, a :class:`SOMLayer`
    clusters the features on a map lattice, and a decoder reconstructs the
    data from the features. Training has three stages:

    1. pretraining of the autoencoder on the reconstruction error plus the
       neighbour term below (``pretrain_epochs``);
    2. initialisation of the codebook by a :class:`sksom.SOMClusterer`
       fitted on the pretrained features;
    3. joint training (``max_iter`` epochs) of encoder, decoder and codebook
       on ``reconstruction_weight * MSE + som_weight * SOM loss +
       neighbor_weight * neighbour term`` while the radius decays from
       ``radius_start`` to ``radius_end``, as in DESOM (Forest et al., 2019)
       with the neighbour term added.

    The neighbour term makes the features follow the shape of the data. Each
    sample's ``n_neighbors`` nearest neighbours in the input space are found
    once, before training. In every batch each sample is paired with one of
    its neighbours, drawn at random, and with random other samples of the
    batch. With ``q(a, b) = 1 / (1 + |z_a - z_b|^2)`` a similarity of two
    feature vectors, the term is ``-log q`` for the neighbour pairs (pulling
    neighbours together) plus ``-log(1 - q)`` for the random pairs (pushing
    the rest apart): the cross-entropy of a neighbour embedding, as in UMAP
    (McInnes et al., 2018) and its parametric variant. An autoencoder alone
    keeps what reconstructs the pixels best, which need not separate the
    classes; on MNIST the neighbour term is what lifts the purity of an
    8 x 8 map from about 0.89 to about 0.94 (see ``benchmarks/bench_deep.py``).
    ``neighbor_weight=0`` gives plain DESOM.

    The reconstruction term is what keeps the features informative: with the
    SOM term alone the encoder can shrink the loss by shrinking its features
    towards a point (collapse). The reconstruction error alone does not fix
    the *scale* of the features, though, since the decoder can undo any
    shrinking; so by default (``scale_invariant=True``) the SOM term is
    measured relative to the features' variance, which removes the reward
    for shrinking. ``feature_variance_retained_`` reports the total variance
    of the features after joint training as a share of their variance after
    pretraining; a value near 0 signals collapse.

    Fitted Keras networks are stored as NumPy weight arrays, so the estimator
    clones, pickles and runs in parallel under
    :class:`~sklearn.model_selection.GridSearchCV`; the networks are rebuilt on
    first use after unpickling. TensorFlow places the computation (a GPU when
    it sees one). Randomness comes only from ``random_state``: seeded
    initializers and a NumPy shuffle, never global seeds.

    Parameters
    ----------
    map_size : "auto" or tuple of (int, int), default=(8, 8)
        ``(n_rows, n_columns)`` of the map. ``"auto"`` applies the heuristic of
        :class:`sksom.SOMClusterer` to the pretrained features.
    topology : {"rectangular", "hexagonal"}, default="rectangular"
        Lattice of the map.
    periodic : bool, default=False
        Whether the map wraps around its edges (a torus).
    neighborhood : {"gaussian", "bubble", "triangle", "cut_gaussian", \
            "mexican_hat"}, default="gaussian"
        Neighbourhood function of the SOM loss. The codebook initialisation
        uses the Gaussian when this one takes negative values.
    radius_start : float, default=None
        Radius at the start of joint training, where the initialising SOM
        ends; ``None`` means 0.5 (at least ``radius_end``). The initial
        codebook is already ordered, so joint training starts small.
    radius_end : float, default=0.1
        Radius at the end of joint training (DESOM's final value). Below about
        0.3 a Gaussian neighbourhood weighs the BMU alone, so the end of
        training refines the units like k-means, at some cost in topographic
        error.
    radius_decay : {"linear", "exponential", "inverse"}, default="exponential"
        How the radius decays during joint training.
    encoder : {"dense", "conv"} or keras.Model, default="dense"
        ``"dense"``: Dense layers of ``hidden_units`` with ``activation``, then
        a linear Dense layer of ``latent_dim``. ``"conv"``: for images given as
        flattened rows of ``image_shape``, stride-2 3x3 convolutions with
        ``hidden_units`` filters, then a linear Dense layer. A Keras model
        taking inputs of shape ``(n_features,)`` and returning
        ``(latent_dim,)`` is copied (with its weights, so a trained encoder is
        fine-tuned) and used as the encoder.
    decoder : keras.Model or None, default=None
        Network from the features back to the data (``(n_features,)``
        outputs). ``None`` builds the mirror of the encoder spec (Dense layers
        of the reversed ``hidden_units`` for a Keras encoder).
    hidden_units : tuple of int, default=(500, 500, 2000)
        Widths of the hidden Dense layers, or filters of the convolutions.
    latent_dim : int, default=10
        Number of latent features (ignored for a Keras encoder).
    image_shape : tuple of (int, int) or (int, int, int), default=None
        ``(height, width[, channels])`` of the images, given as flattened
        rows; needed by ``encoder="conv"`` (height and width multiples of
        ``2 ** len(hidden_units)``) and by ``augment``.
    activation : str, default="relu"
        Activation of the hidden layers built from the spec.
    pretrain_epochs : int, default=50
        Epochs of autoencoder pretraining (0 skips it, e.g. for a trained
        encoder and decoder).
    max_iter : int, default=30
        Epochs of joint training.
    som_weight : float, default=0.3
        Weight of the SOM term in the joint loss (DESOM's gamma; the term is
        relative to the feature variance when ``scale_invariant``). Without
        the neighbour term (``neighbor_weight=0``) a smaller weight, such as
        DESOM's 0.01, keeps the features from bending to the map too early.
    neighbor_weight : float, default=0.1
        Weight of the neighbour term (see above) in pretraining and joint
        training; 0 disables it and the neighbour search.
    n_neighbors : int, default=5
        Nearest neighbours of each sample (Euclidean, in the input space)
        among which its neighbour pairs are drawn; at most ``n_samples - 1``
        are used.
    scale_invariant : bool, default=True
        Divide the SOM term by the total variance of the batch's features, so
        that shrinking features and codebook together does not lower it.
        ``False`` uses DESOM's raw term: the reconstruction error does not pin
        the scale of the features (the decoder can undo any shrinking), so the
        raw term lets them drift towards a point during joint training.
    augment : float, default=0.0
        Data augmentation for images: each training batch is shifted at
        random by up to this fraction of the image height and width (blank
        borders) before it is encoded and reconstructed, so that the features
        ignore small displacements (as in DEC-DA, Guo et al. 2018). Needs
        ``image_shape``; 0 disables it. During joint training the SOM term
        of the augmented view is centred on the best-matching unit of the
        unaltered image, so the map learns to put every view of an image
        where the image lies (see :ref:`deep_som`).
    augment_rotation : float, default=0.0
        Largest random rotation, in degrees, applied with the shifts of
        ``augment``; needs ``image_shape``. 0 disables it.
    refine_iter : int, default=20
        After joint training, iterations of the core SOM's batch map that
        refine the codebook on the final features, initialised from the
        jointly trained codebook, the radius shrinking from 1 to
        ``radius_end``. Adam moves each unit by about ``learning_rate`` per
        step, so during joint training the units lag behind the features;
        the batch map moves them to where the features are. 0 keeps the
        jointly trained codebook.
    reconstruction_weight : float, default=1.0
        Weight of the reconstruction term. 0 trains the features with the SOM
        term alone; with ``scale_invariant=False`` that collapses them (kept
        to demonstrate the failure).
    batch_size : int, default=256
        Mini-batch size.
    learning_rate : float, default=1e-3
        Learning rate of the Adam optimizer.
    random_state : int, RandomState instance or None, default=None
        Seeds the initializers, the codebook initialisation and the shuffle.
    verbose : int, default=0
        If positive, print the losses after each epoch.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_units, latent_dim)
        Codebook in the latent space, in row-major grid order.
    map_size_ : tuple of (int, int)
        Resolved ``(n_rows, n_columns)``.
    unit_coordinates_ : ndarray of shape (n_units, 2)
        Position of each unit in the plane (hexagonal offsets included).
    labels_ : ndarray of shape (n_samples,)
        BMU of each training sample.
    n_iter_ : int
        Epochs of joint training run.
    encoder_weights_ : list of ndarray
        Weights of the fitted encoder (``keras.Model.get_weights`` order).
    decoder_weights_ : list of ndarray
        Weights of the fitted decoder.
    quantization_error_ : float
        Mean latent distance from training samples to their BMU.
    topographic_error_ : float
        Share of training samples whose two BMUs are not adjacent.
    reconstruction_error_ : float
        Mean squared reconstruction error on the training data.
    feature_variance_retained_ : float
        Total variance of the latent features of the training data after
        joint training divided by that after pretraining. Near 0: the
        features collapsed.
    pretrain_loss_curve_ : list of float
        Mean reconstruction loss of each pretraining epoch.
    loss_curve_ : ndarray of shape (max_iter, 3)
        Mean reconstruction loss, SOM loss and neighbour term of each joint
        epoch (the last is 0 without the neighbour term).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sksom.SOMClusterer : The SOM on the data itself, or after any
        transformer in a :class:`~sklearn.pipeline.Pipeline` (the two-step
        alternative).
    SOMLayer : The layer this estimator trains.

    References
    ----------
    F. Forest, M. Lebbah, H. Azzag, J. Lacaille. "Deep Embedded
    Self-Organizing Map: Joint Representation Learning and Self-Organization",
    ESANN 2019.

    L. McInnes, J. Healy, J. Melville. "UMAP: Uniform Manifold Approximation
    and Projection for Dimension Reduction", arXiv:1802.03426, 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sksom.keras import DeepSOMClusterer
    >>> X = np.random.RandomState(0).rand(60, 8)
    >>> model = DeepSOMClusterer((2, 2), hidden_units=(16,), latent_dim=2,
    ...                          pretrain_epochs=2, max_iter=2, random_state=0)
    >>> model.fit(X).predict(X[:3]).shape
    (3,)
    >>> model.transform(X[:3]).shape
    (3, 4)
    """

    _parameter_constraints = {
        # The map's parameters mean what they mean for SOMClusterer.
        **{
            name: SOMClusterer._parameter_constraints[name]
            for name in ("map_size", "topology", "periodic", "neighborhood", "radius_start", "radius_end", "radius_decay")
        },
        "encoder": [StrOptions({"dense", "conv"}), HasMethods(["get_weights", "__call__"])],
        "decoder": [HasMethods(["get_weights", "__call__"]), None],
        "hidden_units": [tuple, list],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "image_shape": [tuple, list, None],
        "activation": [str],
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "som_weight": [Interval(Real, 0, None, closed="left")],
        "neighbor_weight": [Interval(Real, 0, None, closed="left")],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "scale_invariant": ["boolean"],
        "augment": [Interval(Real, 0, 1, closed="left")],
        "augment_rotation": [Interval(Real, 0, 180, closed="both")],
        "refine_iter": [Interval(Integral, 0, None, closed="left")],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        map_size=(8, 8),
        *,
        topology="rectangular",
        periodic=False,
        neighborhood="gaussian",
        radius_start=None,
        radius_end=0.1,
        radius_decay="exponential",
        encoder="dense",
        decoder=None,
        hidden_units=(500, 500, 2000),
        latent_dim=10,
        image_shape=None,
        activation="relu",
        pretrain_epochs=50,
        max_iter=30,
        som_weight=0.3,
        neighbor_weight=0.1,
        n_neighbors=5,
        scale_invariant=True,
        augment=0.0,
        augment_rotation=0.0,
        refine_iter=20,
        reconstruction_weight=1.0,
        batch_size=256,
        learning_rate=1e-3,
        random_state=None,
        verbose=0,
    ):
        self.map_size = map_size
        self.topology = topology
        self.periodic = periodic
        self.neighborhood = neighborhood
        self.radius_start = radius_start
        self.radius_end = radius_end
        self.radius_decay = radius_decay
        self.encoder = encoder
        self.decoder = decoder
        self.hidden_units = hidden_units
        self.latent_dim = latent_dim
        self.image_shape = image_shape
        self.activation = activation
        self.pretrain_epochs = pretrain_epochs
        self.max_iter = max_iter
        self.som_weight = som_weight
        self.neighbor_weight = neighbor_weight
        self.n_neighbors = n_neighbors
        self.scale_invariant = scale_invariant
        self.augment = augment
        self.augment_rotation = augment_rotation
        self.refine_iter = refine_iter
        self.reconstruction_weight = reconstruction_weight
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.verbose = verbose

    # -- validation and networks ------------------------------------------------

    def _check_params(self, n_features):
        """Checks that ``_parameter_constraints`` cannot express."""
        if not isinstance(self.map_size, str):
            _check_lattice(self.map_size, self.topology, self.periodic, self.neighborhood)
        units = tuple(self.hidden_units)
        if not all(isinstance(u, Integral) and not isinstance(u, bool) and u >= 1 for u in units):
            raise ValueError(f"hidden_units must be a tuple of positive ints; got {self.hidden_units!r}.")
        if self.som_weight == 0 and self.reconstruction_weight == 0 and self.neighbor_weight == 0:
            raise ValueError(
                "som_weight, reconstruction_weight and neighbor_weight are all 0: there is nothing to train."
            )
        conv = isinstance(self.encoder, str) and self.encoder == "conv"
        if conv or self.augment > 0 or self.augment_rotation > 0 or self.image_shape is not None:
            return self._image_shape(n_features, units, conv)
        return None

    def _image_shape(self, n_features, filters, conv):
        shape = self.image_shape
        if shape is None:
            needs = (
                "encoder='conv'" if conv
                else f"augment={self.augment}" if self.augment > 0
                else f"augment_rotation={self.augment_rotation}"
            )
            raise ValueError(f"{needs} needs image_shape=(height, width[, channels]).")
        shape = tuple(shape)
        if len(shape) == 2:
            shape += (1,)
        if len(shape) != 3 or not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in shape):
            raise ValueError(f"image_shape must be (height, width) or (height, width, channels); got {self.image_shape!r}.")
        if int(np.prod(shape)) != n_features:
            raise ValueError(
                f"image_shape={shape} has {int(np.prod(shape))} values but X has {n_features} "
                "features; give images as flattened rows."
            )
        if conv and not filters:
            raise ValueError("encoder='conv' needs at least one convolution in hidden_units.")
        scale = 2 ** len(filters)
        if conv and (shape[0] % scale or shape[1] % scale):
            raise ValueError(
                f"With {len(filters)} stride-2 convolutions, image height and width must be "
                f"multiples of {scale}; got image_shape={shape}."
            )
        return tuple(int(s) for s in shape)

    def _build_networks(self, n_features, image_shape, rng):
        """Encoder and decoder, both from flat ``(n_features,)`` rows, decoder back to them."""
        units = tuple(int(u) for u in self.hidden_units)
        if not isinstance(self.encoder, str):
            encoder = _copy_model(self.encoder, "encoder")
            in_shape, out_shape = tuple(encoder.input_shape), tuple(encoder.output_shape)
            if in_shape[1:] != (n_features,) or len(out_shape) != 2:
                raise ValueError(
                    f"The encoder model maps {in_shape} to {out_shape}; it must map "
                    f"(None, {n_features}) rows to (None, latent_dim) features."
                )
            latent_dim = int(out_shape[-1])
        elif self.encoder == "conv":
            latent_dim = self.latent_dim
            encoder = _conv_encoder(image_shape, units, latent_dim, self.activation, rng)
        else:
            latent_dim = self.latent_dim
            encoder = _dense_net(n_features, units, latent_dim, self.activation, rng, "encoder")
        if self.decoder is not None:
            decoder = _copy_model(self.decoder, "decoder")
            if tuple(decoder.input_shape)[1:] != (latent_dim,) or tuple(decoder.output_shape)[1:] != (n_features,):
                raise ValueError(
                    f"The decoder model maps {tuple(decoder.input_shape)} to {tuple(decoder.output_shape)}; "
                    f"it must map (None, {latent_dim}) features to (None, {n_features}) rows."
                )
        elif isinstance(self.encoder, str) and self.encoder == "conv":
            decoder = _conv_decoder(image_shape, units, latent_dim, self.activation, rng)
        else:
            decoder = _dense_net(latent_dim, units[::-1], n_features, self.activation, rng, "decoder")
        return encoder, decoder

    def _networks(self):
        """The fitted encoder, decoder and SOM layer, rebuilt from the weights once."""
        if getattr(self, "_keras_cache", None) is None:
            image_shape = self._check_params(self.n_features_in_)
            encoder, decoder = self._build_networks(self.n_features_in_, image_shape, np.random.RandomState(0))
            encoder.set_weights(self.encoder_weights_)
            decoder.set_weights(self.decoder_weights_)
            self._keras_cache = (encoder, decoder, self._som_layer(self.cluster_centers_, self.map_size_))
        return self._keras_cache

    def _som_layer(self, codebook, map_size):
        layer = SOMLayer(
            map_size,
            topology=self.topology,
            periodic=self.periodic,
            neighborhood=self.neighborhood,
            radius=float(self.radius_end),
            codebook_initializer=keras.initializers.Constant(codebook),
        )
        layer.build((None, codebook.shape[1]))
        return layer

    def __getstate__(self):
        # Keras objects are rebuilt from the NumPy weights after unpickling.
        state = super().__getstate__()
        state.pop("_keras_cache", None)
        return state

    # -- training -------------------------------------------------------------------

    def _augmenter(self, image_shape, rng):
        """Random rotations and shifts of flattened images, or None without augmentation."""
        if not (self.augment or self.augment_rotation):
            return None
        layers = []
        if self.augment_rotation:
            layers.append(
                keras.layers.RandomRotation(
                    self.augment_rotation / 360.0, fill_mode="constant", seed=int(rng.randint(np.iinfo(np.int32).max))
                )
            )
        if self.augment:
            layers.append(
                keras.layers.RandomTranslation(
                    self.augment, self.augment, fill_mode="constant", seed=int(rng.randint(np.iinfo(np.int32).max))
                )
            )

        def augment(x):
            images = tf.reshape(x, (-1,) + tuple(image_shape))
            for layer in layers:
                images = layer(images, training=True)
            return tf.reshape(images, tf.shape(x))

        return augment

    def _input_neighbors(self, X):
        """Indices of each row's ``n_neighbors`` nearest other rows, or None without the term."""
        n = X.shape[0]
        if self.neighbor_weight == 0:
            return None
        k = min(self.n_neighbors, n - 1)
        _, index = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
        # Drop each row itself; where duplicates of a row hide it from the
        # list, drop the farthest neighbour instead.
        itself = index == np.arange(n)[:, None]
        keep = ~itself
        keep[~itself.any(axis=1), -1] = False
        return index[keep].reshape(n, k)

    def _batches(self, n, rng, neighbors=None):
        """Shuffled mini-batches: rows, a partner of each row, random pairs.

        The partner is one of the row's nearest neighbours, drawn at random
        (the row itself without the neighbour term); the random pairs are
        ``_NEGATIVES`` positions within the batch for each row.
        """
        order = rng.permutation(n)
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]
            if neighbors is None:
                yield rows, rows, np.zeros((0, len(rows)), dtype=np.int32)
            else:
                partners = neighbors[rows, rng.randint(neighbors.shape[1], size=len(rows))]
                yield rows, partners, rng.randint(len(rows), size=(_NEGATIVES, len(rows))).astype(np.int32)

    def _radius_range(self):
        end = float(self.radius_end)
        start = max(end, 0.5) if self.radius_start is None else float(self.radius_start)
        return start, end

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Pretrain the autoencoder, initialise the map, then train jointly.

        A fit that fails or is interrupted leaves the estimator as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, e.g. pixels scaled to [0, 1] (images as flattened
            rows).
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            Fitted estimator.

        Raises
        ------
        FloatingPointError
            If training diverged (a loss or the features became non-finite).
        """
        # The networks are built into locals and assigned with the rest of
        # the fitted state at the end, so a failed refit keeps the old ones.
        with rollback_on_error(self):
            X = validate_data(self, X, dtype=np.float32, ensure_min_samples=2)
            _check_magnitude(X)
            image_shape = self._check_params(X.shape[1])
            rng = check_random_state(self.random_state)
            encoder, decoder = self._build_networks(X.shape[1], image_shape, rng)
            batches = self._batch_source(X, rng)
            augment = self._augmenter(image_shape, rng)
            pretrain_curve = self._pretrain(encoder, decoder, batches, augment)
            Z0 = _encode(encoder, X)
            self._check_finite(Z0, "the features after pretraining")
            som = self._initial_som_layer(Z0, rng)
            curve = self._train_jointly(encoder, decoder, som, batches, augment, X.shape[0])
            Z = _encode(encoder, X)
            self._check_finite(Z, "the features after joint training")
            if self.refine_iter:
                self._refine(som, Z, rng)
            self._set_fitted(X, Z0, Z, (encoder, decoder, som), pretrain_curve, curve)
        return self

    def _batch_source(self, X, rng):
        """A function that yields one epoch of training batches as tensors."""
        X_t = tf.constant(X)
        neighbors = self._input_neighbors(X)

        def batches():
            for rows, partners, negatives in self._batches(X.shape[0], rng, neighbors):
                x = tf.gather(X_t, rows)
                # Without the neighbour term the partners are the rows themselves (unused).
                x_partners = x if neighbors is None else tf.gather(X_t, partners)
                yield x, x_partners, tf.constant(negatives)

        return batches

    def _pretrain(self, encoder, decoder, batches, augment):
        """Train the autoencoder on the reconstruction error (and the neighbour term).

        Returns the mean reconstruction loss of each epoch.
        """
        ae_step = _make_step(
            encoder, decoder, None, keras.optimizers.Adam(self.learning_rate),
            (1.0, 0.0, float(self.neighbor_weight)), False, augment,
        )
        curve = []
        for epoch in range(self.pretrain_epochs):
            losses = [[float(v) for v in ae_step(*batch)] for batch in batches()]
            self._check_finite(losses, f"the loss of pretraining epoch {epoch + 1}")
            curve.append(float(np.mean(losses, axis=0)[0]))
            if self.verbose:
                print(f"[DeepSOMClusterer] pretrain epoch {epoch + 1}/{self.pretrain_epochs}  "
                      f"reconstruction {curve[-1]:.5f}", flush=True)
        return curve

    def _core_som(self, map_size, **params):
        """A core :class:`~sksom.SOMClusterer` on the estimator's lattice.

        Neighbourhoods with negative values are replaced by the Gaussian: the
        batch map needs non-negative weights.
        """
        neighborhood = "gaussian" if self.neighborhood in SIGNED_NEIGHBORHOODS else self.neighborhood
        return SOMClusterer(
            map_size, topology=self.topology, periodic=self.periodic, neighborhood=neighborhood, **params
        )

    def _initial_som_layer(self, Z, rng):
        """The SOM layer, its codebook from the core SOM fitted on the pretrained features.

        The core SOM orders the map and brings the radius down to where joint
        training starts from.
        """
        init_som = self._core_som(
            self.map_size if isinstance(self.map_size, str) else tuple(int(s) for s in self.map_size),
            radius_end=self._radius_range()[0],
            max_iter=20,
            random_state=rng.randint(np.iinfo(np.int32).max),
        ).fit(Z)
        return self._som_layer(init_som.cluster_centers_.astype(np.float32), tuple(init_som.map_size_))

    def _train_jointly(self, encoder, decoder, som, batches, augment, n_samples):
        """Train encoder, decoder and codebook together while the radius decays.

        Returns the mean reconstruction, SOM and neighbour terms of each epoch.
        """
        joint_step = _make_step(
            encoder, decoder, som, keras.optimizers.Adam(self.learning_rate),
            (float(self.reconstruction_weight), float(self.som_weight), float(self.neighbor_weight)),
            bool(self.scale_invariant), augment,
        )
        batches_per_epoch = -(-n_samples // self.batch_size)
        total = self.max_iter * batches_per_epoch
        start, end = self._radius_range()
        curve = []
        step = 0
        for epoch in range(self.max_iter):
            losses = []
            for batch in batches():
                som.set_radius(DECAYS[self.radius_decay](start, end, step / max(1, total - 1)))
                losses.append([float(v) for v in joint_step(*batch)])
                step += 1
            self._check_finite(losses, f"the loss of joint epoch {epoch + 1}")
            curve.append(np.mean(losses, axis=0))
            if self.verbose:
                print(f"[DeepSOMClusterer] joint epoch {epoch + 1}/{self.max_iter}  radius "
                      f"{float(som.radius.numpy()):.3g}  reconstruction {curve[-1][0]:.5f}  "
                      f"SOM {curve[-1][1]:.5f}  neighbour {curve[-1][2]:.5f}", flush=True)
        return np.array(curve, dtype=np.float64).reshape(-1, 3)

    def _refine(self, som, Z, rng):
        """Move the codebook to the final features with the core SOM's batch map."""
        end = float(self.radius_end)
        refined = self._core_som(
            tuple(som.map_size),
            init=som.codebook.numpy(),
            # one lattice step: neighbours still pull on each other, so
            # units stranded between clusters move, and the order is kept
            radius_start=max(_REFINE_RADIUS, end),
            radius_end=end,
            max_iter=self.refine_iter,
            random_state=rng.randint(np.iinfo(np.int32).max),
        ).fit(Z)
        som.codebook.assign(refined.cluster_centers_.astype(np.float32))

    def _check_finite(self, values, what):
        """Raise a clear error when training diverged: ``values`` are not all finite.

        Without it the NaN would surface later as an error about the user's
        data (the core SOM rejecting all-NaN rows of features).
        """
        values = np.asarray(values)
        if not np.all(np.isfinite(values)):
            kind = "NaN" if np.isnan(values).any() else "infinite"
            raise FloatingPointError(
                f"DeepSOMClusterer training diverged: {what} became {kind}. Lower "
                f"learning_rate (now {self.learning_rate:g}) or scale the data, for "
                "example to [0, 1] with sklearn.preprocessing.MinMaxScaler."
            )

    def _set_fitted(self, X, Z0, Z, networks, pretrain_curve, curve):
        """The fitted state, NumPy only, from the trained networks."""
        encoder, decoder, som = networks
        codebook = som.codebook.numpy()
        self._check_finite(codebook, "the codebook")
        map_size = tuple(som.map_size)
        first, second, qe = _engine.best_matching_units([Z], codebook)
        adjacent = adjacency(map_size, self.topology, self.periodic)
        reconstruction = float(np.mean((_decode(decoder, Z) - X) ** 2))
        before = float(Z0.var(axis=0).sum())
        self.encoder_weights_ = [np.array(w) for w in encoder.get_weights()]
        self.decoder_weights_ = [np.array(w) for w in decoder.get_weights()]
        self.cluster_centers_ = codebook
        self.map_size_ = map_size
        self.unit_coordinates_ = unit_coordinates(map_size, self.topology)
        self.labels_ = first
        self.n_iter_ = self.max_iter
        self.quantization_error_ = float(qe.mean())
        self.topographic_error_ = topographic_error_from_bmus(first, second, adjacent)
        self.reconstruction_error_ = reconstruction
        self.feature_variance_retained_ = float(Z.var(axis=0).sum()) / before if before > 0 else 0.0
        self.pretrain_loss_curve_ = pretrain_curve
        self.loss_curve_ = curve
        self._keras_cache = networks

    # -- inference ---------------------------------------------------------------

    def _check_test_data(self, X):
        """Validate data for inference: float32 rows of the fitted width."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32)
        _check_magnitude(X)
        return X

    def encode(self, X):
        """Latent features of ``X``: the encoder's output.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        features : ndarray of shape (n_samples, latent_dim)
            Latent features, in float32.
        """
        X = self._check_test_data(X)
        return _encode(self._networks()[0], X)

    def reconstruct(self, X):
        """Decode the latent features of ``X`` back to the data space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        X_rec : ndarray of shape (n_samples, n_features)
            Reconstruction of each sample.
        """
        return _decode(self._networks()[1], self.encode(X))

    def decode_units(self):
        """The codebook decoded to the data space: a prototype per unit.

        Returns
        -------
        prototypes : ndarray of shape (n_units, n_features)
            Decoder output for each unit's weight vector, in grid order.
        """
        check_is_fitted(self)
        return _decode(self._networks()[1], self.cluster_centers_)

    def best_matching_unit(self, X):
        """Index of each sample's best-matching unit (row-major grid order).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        units : ndarray of shape (n_samples,)
            Unit indices.
        """
        return _engine.best_matching_units([self.encode(X)], self.cluster_centers_)[0]

    def predict(self, X):
        """Cluster of each sample: the index of its best-matching unit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Unit indices in row-major grid order.
        """
        return self.best_matching_unit(X)

    def transform(self, X):
        """Latent-space distance from each sample to every unit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        distances : ndarray of shape (n_samples, n_units)
            Euclidean distances between the sample's features and the units.
        """
        return _engine.distances([self.encode(X)], self.cluster_centers_)

    def score(self, X, y=None):
        """Minus the joint loss of ``X`` at the final radius (higher is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            ``-(reconstruction_weight * MSE + som_weight * SOM term)``, the SOM
            term divided by the feature variance when ``scale_invariant``.
            The neighbour term is left out: it belongs to the neighbour graph
            of the training data.
        """
        X = self._check_test_data(X)
        encoder, decoder, som = self._networks()
        Z = _encode(encoder, X)
        reconstruction = float(np.mean((_decode(decoder, Z) - X) ** 2))
        som_term = float(_som_term(som, tf.constant(Z), self.scale_invariant))
        return -(self.reconstruction_weight * reconstruction + self.som_weight * som_term)

    @property
    def _n_features_out(self):
        return self.cluster_centers_.shape[0]

    def __sklearn_is_fitted__(self):
        return hasattr(self, "cluster_centers_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = False
        return tags


_INFERENCE_ROWS = 4096  # rows per network call at inference: bounds memory
_NEGATIVES = 5  # random pairs per sample in the neighbour term, as UMAP's default
_REFINE_RADIUS = 1.0  # radius at which the codebook refinement after joint training starts


def _check_magnitude(X):
    """Reject values whose squares overflow float32, the precision the networks train in.

    Such data makes the reconstruction error infinite on the first batch.
    """
    limit = math.sqrt(np.finfo(np.float32).max / (8.0 * max(1, X.shape[1])))
    largest = float(np.max(np.abs(X))) if X.size else 0.0
    if largest > limit:
        raise ValueError(
            f"X has values up to {largest:.3g}, too large for DeepSOMClusterer, whose networks "
            f"compute in float32 (limit {limit:.3g} for {X.shape[1]} features); scale the data, "
            "for example to [0, 1] with sklearn.preprocessing.MinMaxScaler."
        )


def _encode(encoder, X):
    return np.concatenate(
        [np.asarray(encoder(X[i : i + _INFERENCE_ROWS], training=False)) for i in range(0, len(X), _INFERENCE_ROWS)]
    ).astype(np.float32, copy=False)


def _decode(decoder, Z):
    return _encode(decoder, Z)


def _som_term(som, z, scale_invariant, anchor=None):
    """The SOM loss of features ``z``, optionally relative to their total variance.

    ``anchor`` (optional) holds features of the same samples whose
    best-matching units centre the neighbourhoods instead of those of ``z``.
    """
    centres = None if anchor is None else som.squared_distances(anchor)
    loss = som.som_loss(som.squared_distances(z), centres)
    if scale_invariant:
        centred = z - tf.reduce_mean(z, axis=0, keepdims=True)
        loss = loss / (tf.reduce_mean(tf.reduce_sum(centred * centred, axis=1)) + 1e-12)
    return loss


def _neighbor_term(z, z_partners, negatives):
    """The neighbour-embedding cross-entropy of one batch (see :class:`DeepSOMClusterer`).

    ``z_partners[i]`` are the features of a nearest neighbour of sample ``i``;
    ``negatives`` (n_pairs, batch) holds, for each sample, positions in the
    batch of random partners. With ``q = 1 / (1 + d^2)``, the term is the mean
    over samples of ``-log q`` for the neighbour plus ``-log(1 - q)`` summed
    over the random partners. The small constants keep the logarithms finite
    (a random partner may be the sample itself: its term is then constant).
    """
    attract = -tf.reduce_mean(tf.math.log(_student(tf.reduce_sum(tf.square(z - z_partners), axis=1)) + 1e-6))
    others = tf.gather(z, negatives)  # (n_pairs, batch, latent)
    q = _student(tf.reduce_sum(tf.square(z[None] - others), axis=2))
    repel = -tf.reduce_mean(tf.reduce_sum(tf.math.log(1.0 - q + 1e-3), axis=0))
    return attract + repel


def _student(d2):
    return 1.0 / (1.0 + d2)


def _make_step(encoder, decoder, som, optimizer, weights, scale_invariant, augment=None):
    """A compiled training step on one batch; returns the three loss terms.

    ``weights`` are those of the reconstruction, SOM and neighbour terms. The
    step takes the batch, a neighbour of each sample and the random pairs
    (see :meth:`DeepSOMClusterer._batches`); the last two are unused when the
    neighbour weight is 0.

    ``augment`` (optional) transforms the batches first; the autoencoder then
    reconstructs the transformed batch, and the SOM term pulls its features
    towards the units around the best-matching unit of the *unaltered* batch:
    the map must place every view of an image where the image lies. Without
    this anchor the term would only ask each view to be near whatever unit
    it happens to hit (as in DEC-DA, Guo et al. 2018, the clean image's
    assignment is the target for its augmented views).

    Only the networks that a non-zero term depends on are trained: with
    ``reconstruction_weight=0`` the decoder is left as it is.
    """
    reconstruction_weight, som_weight, neighbor_weight = weights
    variables = list(encoder.trainable_variables)
    if reconstruction_weight > 0:
        variables += decoder.trainable_variables
    if som is not None and som_weight > 0:
        variables += som.trainable_variables

    @tf.function(reduce_retracing=True)
    def step(x, x_partners, negatives):
        view = x if augment is None else augment(x)
        # the anchor only picks the neighbourhoods: no gradient flows through it
        anchor = None if augment is None or som is None else tf.stop_gradient(encoder(x, training=False))
        with tf.GradientTape() as tape:
            z = encoder(view, training=True)
            reconstruction = tf.reduce_mean(tf.square(decoder(z, training=True) - view))
            som_term = _som_term(som, z, scale_invariant, anchor) if som is not None else tf.zeros([])
            if neighbor_weight > 0:
                partners = x_partners if augment is None else augment(x_partners)
                neighbor_term = _neighbor_term(z, encoder(partners, training=True), negatives)
            else:
                neighbor_term = tf.zeros([])
            loss = reconstruction_weight * reconstruction + som_weight * som_term + neighbor_weight * neighbor_term
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return reconstruction, som_term, neighbor_term

    return step
