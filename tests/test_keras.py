"""Tests for sksom.keras: the SOM layer, its schedule and the deep SOM estimator."""

import copy
import functools
import pickle
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from _reference import topographic_error
from sksom._topology import NEIGHBORHOODS, squared_grid_distances
from sksom.keras import (
    DeepSOMClusterer,
    SOMLayer,
    SOMRadiusSchedule,
)

_rng = np.random.RandomState(0)
Z = _rng.normal(size=(30, 3))  # features fed to the layer
CODEBOOK = _rng.normal(size=(12, 3))  # a 3 x 4 map
_digits_X, _digits_y = load_digits(return_X_y=True)
X_DIGITS = (_digits_X[:200] / 16.0).astype(np.float32)

# Small and fast: every fit below takes a second or two on a CPU.
FAST = dict(hidden_units=(32,), latent_dim=4, pretrain_epochs=3, max_iter=3, batch_size=64, random_state=0)


def _layer(map_size=(3, 4), dtype="float64", **kwargs):
    layer = SOMLayer(map_size, codebook_initializer=keras.initializers.Constant(CODEBOOK), dtype=dtype, **kwargs)
    layer.build((None, CODEBOOK.shape[1]))
    return layer


def _numpy_loss_and_grads(X, W, d2_grid, neighborhood, radius, anchor=None):
    diff = X[:, None, :] - W[None, :, :]  # (n, units, features)
    d2 = (diff**2).sum(axis=2)
    # the neighbourhoods are centred on the BMUs of the anchor when given
    centres = d2 if anchor is None else ((anchor[:, None, :] - W[None, :, :]) ** 2).sum(axis=2)
    h = NEIGHBORHOODS[neighborhood](d2_grid[centres.argmin(axis=1)], radius)
    n = X.shape[0]
    loss = (h * d2).sum(axis=1).mean()
    grad_W = -2.0 / n * np.einsum("ik,ikf->kf", h, diff)
    grad_X = 2.0 / n * np.einsum("ik,ikf->if", h, diff)
    return loss, grad_W, grad_X


# -- the layer -------------------------------------------------------------------


@pytest.mark.parametrize("neighborhood", sorted(NEIGHBORHOODS))
@pytest.mark.parametrize("topology, periodic", [("rectangular", False), ("hexagonal", False), ("rectangular", True)])
def test_som_loss_and_gradient_match_numpy(neighborhood, topology, periodic):
    """Check that the SOM loss and its gradients match a NumPy computation."""
    map_size = (4, 3)
    layer = _layer(map_size, topology=topology, periodic=periodic, neighborhood=neighborhood, radius=1.3)
    x = tf.Variable(Z)
    with tf.GradientTape() as tape:
        loss = layer.som_loss(layer.squared_distances(x))
    grad_W, grad_X = tape.gradient(loss, [layer.codebook.value, x])
    expected = _numpy_loss_and_grads(Z, CODEBOOK, squared_grid_distances(map_size, topology, periodic), neighborhood, 1.3)
    np.testing.assert_allclose(float(loss), expected[0], rtol=1e-10)
    np.testing.assert_allclose(grad_W.numpy(), expected[1], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(grad_X.numpy(), expected[2], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("neighborhood", ["gaussian", "bubble"])
def test_som_loss_centred_on_anchor_bmus_matches_numpy(neighborhood):
    """Check that som_loss(d2, centres) centres each neighbourhood on the anchor's BMU, loss and gradients."""
    map_size = (4, 3)
    anchor = Z + _rng.normal(scale=0.8, size=Z.shape)  # another view of the same samples
    layer = _layer(map_size, neighborhood=neighborhood, radius=0.9)
    assert (layer.squared_distances(anchor).numpy().argmin(axis=1) != layer.squared_distances(Z).numpy().argmin(axis=1)).any()
    x = tf.Variable(Z)
    with tf.GradientTape() as tape:
        loss = layer.som_loss(layer.squared_distances(x), layer.squared_distances(anchor))
    grad_W, grad_X = tape.gradient(loss, [layer.codebook.value, x])
    expected = _numpy_loss_and_grads(
        Z, CODEBOOK, squared_grid_distances(map_size, "rectangular", False), neighborhood, 0.9, anchor=anchor
    )
    np.testing.assert_allclose(float(loss), expected[0], rtol=1e-10)
    np.testing.assert_allclose(grad_W.numpy(), expected[1], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(grad_X.numpy(), expected[2], rtol=1e-8, atol=1e-10)


def test_layer_outputs_distances_and_bmus():
    """Check that the layer returns Euclidean distances and argmin BMUs."""
    layer = _layer(return_bmus=True)
    distances, bmus = layer(Z)
    expected = np.sqrt(((Z[:, None, :] - CODEBOOK[None]) ** 2).sum(axis=2))
    np.testing.assert_allclose(distances.numpy(), expected, rtol=1e-10)
    np.testing.assert_array_equal(bmus.numpy(), expected.argmin(axis=1))


def test_layer_radius_changes_the_loss():
    """Check that set_radius drives the loss (a wider neighbourhood costs more)."""
    layer = _layer()
    d2 = layer.squared_distances(Z)
    layer.set_radius(0.1)
    narrow = float(layer.som_loss(d2))
    layer.set_radius(3.0)
    assert float(layer.som_loss(d2)) > narrow
    with pytest.raises(ValueError, match="positive"):
        layer.set_radius(0.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(map_size=(0, 3)), "map_size"),
        (dict(map_size=(3,)), "map_size"),
        (dict(topology="square"), "topology"),
        (dict(neighborhood="cone"), "neighborhood"),
        (dict(radius=-1.0), "radius"),
        (dict(loss_weight=-1.0), "loss_weight"),
        (dict(map_size=(3, 4), topology="hexagonal", periodic=True), "even number of rows"),
    ],
)
def test_layer_bad_parameters(kwargs, message):
    """Check that bad layer parameters raise a ValueError naming the problem."""
    kwargs = {"map_size": (2, 2), **kwargs}
    with pytest.raises(ValueError, match=message):
        SOMLayer(**kwargs)


def test_layer_needs_flat_inputs():
    """Check that images without a Flatten in front raise a clear ValueError."""
    with pytest.raises(ValueError, match="Flatten"):
        SOMLayer((2, 2))(keras.Input((4, 4, 1)))


def test_model_with_layer_saves_and_loads(tmp_path):
    """Check that a model holding the layer saves and loads with its weights and radius."""
    inputs = keras.Input((5,))
    features = keras.layers.Dense(3)(inputs)
    outputs = SOMLayer((2, 3), topology="hexagonal", neighborhood="bubble", radius=2.0, name="som")(features)
    model = keras.Model(inputs, outputs)
    model.get_layer("som").set_radius(0.7)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    som = loaded.get_layer("som")
    assert isinstance(som, SOMLayer)
    assert (som.map_size, som.topology, som.neighborhood) == ((2, 3), "hexagonal", "bubble")
    assert float(som.radius.numpy()) == pytest.approx(0.7)
    X = _rng.normal(size=(7, 5)).astype(np.float32)
    np.testing.assert_allclose(loaded(X).numpy(), model(X).numpy(), rtol=1e-6)


def test_layer_trains_with_model_fit_and_radius_schedule():
    """Check that model.fit trains the layer's added loss while the callback decays the radius."""
    inputs = keras.Input((3,))
    som = SOMLayer((2, 2), loss_weight=1.0, radius=5.0, codebook_initializer=keras.initializers.Constant(np.zeros((4, 3))))
    model = keras.Model(inputs, som(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    X = np.repeat(np.eye(3, dtype=np.float32)[:2] * 4.0, 32, axis=0)  # two far-apart points
    before = float(som.som_loss(som.squared_distances(X)))
    # shuffle=False: the batches, and so the result, do not depend on an unseeded global shuffle
    history = model.fit(X, epochs=4, batch_size=16, shuffle=False, verbose=0, callbacks=[SOMRadiusSchedule(2.0, 0.2)])
    assert float(som.radius.numpy()) == pytest.approx(0.2)
    assert history.history["loss"][-1] < before
    # at radius 0.2 the map behaves as k-means: each point gets its own unit
    assert len(np.unique(np.argmin(som.squared_distances(X).numpy(), axis=1))) == 2


def test_radius_schedule_errors():
    """Check that the callback rejects bad radii and a model without the layer."""
    with pytest.raises(ValueError, match="positive"):
        SOMRadiusSchedule(0.0, 1.0)
    with pytest.raises(ValueError, match="decay"):
        SOMRadiusSchedule(2.0, 1.0, decay="cosine")
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="no SOMLayer"):
        model.fit(Z, Z[:, :1], epochs=1, verbose=0, callbacks=[SOMRadiusSchedule(2.0, 1.0)])


# -- the estimator ---------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted():
    return DeepSOMClusterer((3, 3), **FAST).fit(X_DIGITS)


def test_deep_som_fitted_attributes(fitted):
    """Check the shapes and consistency of the fitted state."""
    assert fitted.cluster_centers_.shape == (9, 4)
    assert fitted.map_size_ == (3, 3)
    assert fitted.unit_coordinates_.shape == (9, 2)
    assert fitted.n_iter_ == 3 and fitted.loss_curve_.shape == (3, 3) and len(fitted.pretrain_loss_curve_) == 3
    assert all(isinstance(w, np.ndarray) for w in fitted.encoder_weights_ + fitted.decoder_weights_)
    np.testing.assert_array_equal(fitted.predict(X_DIGITS), fitted.labels_)
    distances = fitted.transform(X_DIGITS)
    assert distances.shape == (200, 9)
    np.testing.assert_array_equal(distances.argmin(axis=1), fitted.labels_)
    np.testing.assert_allclose(distances.min(axis=1).mean(), fitted.quantization_error_, rtol=1e-4)
    assert fitted.topographic_error_ == pytest.approx(topographic_error(fitted.encode(X_DIGITS), fitted.cluster_centers_, (3, 3)))
    assert fitted.reconstruct(X_DIGITS[:5]).shape == (5, 64)
    assert fitted.decode_units().shape == (9, 64)
    np.testing.assert_allclose(
        np.mean((fitted.reconstruct(X_DIGITS) - X_DIGITS) ** 2), fitted.reconstruction_error_, rtol=1e-4
    )
    assert list(fitted.get_feature_names_out()) == [f"deepsomclusterer{i}" for i in range(9)]
    # Minus the joint loss: reconstruction MSE + som_weight * the SOM term
    # (Gaussian at radius_end around each BMU) over the features' variance.
    Z = fitted.encode(X_DIGITS)
    rows, columns = np.divmod(np.arange(9), 3)
    grid_d2 = (rows[:, None] - rows[None]) ** 2 + (columns[:, None] - columns[None]) ** 2
    d2 = distances.astype(np.float64) ** 2
    h = np.exp(-grid_d2[d2.argmin(axis=1)] / (2 * 0.1**2))
    som_term = (h * d2).sum(axis=1).mean() / ((Z - Z.mean(axis=0)) ** 2).sum(axis=1).mean()
    reconstruction = np.mean((fitted.reconstruct(X_DIGITS) - X_DIGITS) ** 2)
    assert fitted.score(X_DIGITS) == pytest.approx(-(reconstruction + 0.3 * som_term), rel=1e-4)


def test_deep_som_auto_map_size():
    """Check that map_size='auto' sizes the map as SOMClusterer does, about 5 sqrt(n) units."""
    model = DeepSOMClusterer("auto", **{**FAST, "pretrain_epochs": 1, "max_iter": 1}).fit(X_DIGITS[:100])
    n_units = model.map_size_[0] * model.map_size_[1]
    assert model.cluster_centers_.shape[0] == n_units
    assert abs(n_units - 50) <= 5


def test_deep_som_is_reproducible(fitted):
    """Check that the same random_state gives the same networks and map."""
    again = DeepSOMClusterer((3, 3), **FAST).fit(X_DIGITS)
    np.testing.assert_allclose(again.cluster_centers_, fitted.cluster_centers_, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(again.labels_, fitted.labels_)


def test_deep_som_pickles_and_clones(fitted):
    """Check that a pickled estimator predicts the same, and that clone drops the fit."""
    restored = pickle.loads(pickle.dumps(fitted))
    assert "_keras_cache" not in restored.__dict__ or restored._keras_cache is None
    np.testing.assert_array_equal(restored.predict(X_DIGITS), fitted.labels_)
    np.testing.assert_allclose(restored.transform(X_DIGITS[:10]), fitted.transform(X_DIGITS[:10]), rtol=1e-5)
    fresh = clone(fitted)
    with pytest.raises(NotFittedError):
        fresh.predict(X_DIGITS)


def test_deep_som_in_pipeline_and_grid_search():
    """Check that the estimator ends a Pipeline and runs under GridSearchCV with n_jobs=2."""
    pipe = make_pipeline(MinMaxScaler(), DeepSOMClusterer((2, 2), **{**FAST, "pretrain_epochs": 1, "max_iter": 1}))
    search = GridSearchCV(pipe, {"deepsomclusterer__som_weight": [0.01, 0.1]}, cv=2, n_jobs=2).fit(_digits_X[:120])
    scores = search.cv_results_["mean_test_score"]
    # som_weight reaches the model: the two candidates score differently.
    assert np.all(np.isfinite(scores)) and scores[0] != scores[1]
    assert search.predict(_digits_X[:5]).shape == (5,)


def test_som_term_alone_collapses_features_but_joint_loss_does_not():
    """Check that the SOM term alone shrinks the feature variance to near 0 and the joint loss keeps it."""
    params = dict(FAST, pretrain_epochs=5, max_iter=20, learning_rate=1e-2, som_weight=1.0)
    alone = DeepSOMClusterer(
        (3, 3), reconstruction_weight=0.0, neighbor_weight=0.0, scale_invariant=False, **params
    ).fit(X_DIGITS)
    joint = DeepSOMClusterer((3, 3), **params).fit(X_DIGITS)
    assert alone.feature_variance_retained_ < 0.05
    assert joint.feature_variance_retained_ > 0.3
    # the collapsed map's SOM loss is lower although its features say less
    assert alone.loss_curve_[-1, 1] < joint.loss_curve_[-1, 1]


def test_neighbor_term_matches_numpy():
    """Check the neighbour-embedding term against its formula computed with NumPy."""
    from sksom.keras.deep import _neighbor_term

    z, partners = _rng.normal(size=(6, 3)), _rng.normal(size=(6, 3))
    negatives = _rng.randint(6, size=(4, 6))
    got = float(_neighbor_term(tf.constant(z), tf.constant(partners), tf.constant(negatives)))
    q_pair = 1.0 / (1.0 + ((z - partners) ** 2).sum(axis=1))
    q_random = 1.0 / (1.0 + ((z[None] - z[negatives]) ** 2).sum(axis=2))  # (4, 6)
    expected = -np.log(q_pair + 1e-6).mean() - np.log(1.0 - q_random + 1e-3).sum(axis=0).mean()
    assert got == pytest.approx(expected, rel=1e-6)


def test_input_neighbors_are_the_nearest_other_rows():
    """Check that each row's neighbours are its nearest other rows, duplicates included."""
    X = np.vstack([X_DIGITS[:40], X_DIGITS[:3]])  # rows 40-42 duplicate rows 0-2
    index = DeepSOMClusterer(n_neighbors=4)._input_neighbors(X)
    assert index.shape == (43, 4)
    assert not np.any(index == np.arange(43)[:, None])
    d2 = ((X[:, None] - X[None]) ** 2).sum(axis=2)
    np.fill_diagonal(d2, np.inf)
    np.testing.assert_allclose(np.take_along_axis(d2, index, axis=1), np.sort(d2, axis=1)[:, :4], atol=1e-5)
    assert set(index[0]) >= {40} and set(index[40]) >= {0}
    # more neighbours than other rows: all of them
    assert DeepSOMClusterer(n_neighbors=10)._input_neighbors(X[:4]).shape == (4, 3)
    assert DeepSOMClusterer(neighbor_weight=0.0)._input_neighbors(X) is None


def test_neighbor_term_shapes_the_features():
    """Check that the neighbour term changes training and that its weight 0 turns it off."""
    params = dict(FAST, pretrain_epochs=3, max_iter=2)
    with_term = DeepSOMClusterer((2, 2), **params).fit(X_DIGITS)
    without = DeepSOMClusterer((2, 2), neighbor_weight=0.0, **params).fit(X_DIGITS)
    assert np.all(with_term.loss_curve_[:, 2] > 0)
    np.testing.assert_array_equal(without.loss_curve_[:, 2], 0.0)
    assert not np.allclose(with_term.encoder_weights_[0], without.encoder_weights_[0])


def test_conv_encoder_on_images():
    """Check that encoder='conv' fits flattened images and rebuilds after pickling."""
    images = np.repeat(X_DIGITS[:64], 3, axis=1)  # 8 x 8 x 3 "colour" images, channels last
    model = DeepSOMClusterer(
        (2, 2), encoder="conv", image_shape=(8, 8, 3), **{**FAST, "hidden_units": (4, 8), "max_iter": 1}
    ).fit(images)
    assert model.reconstruct(images[:3]).shape == (3, 192)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(images), model.labels_)


_AUGMENT_PARAMS = dict(FAST, image_shape=(8, 8), pretrain_epochs=2, max_iter=1)


@functools.cache
def _plain_pretrain_loss_curve():
    """The pretraining losses without augmentation (shared by the augmentation cases)."""
    return DeepSOMClusterer((2, 2), **_AUGMENT_PARAMS).fit(X_DIGITS).pretrain_loss_curve_


@pytest.mark.parametrize("augment", [dict(augment=0.25), dict(augment_rotation=30.0)])
def test_augmentation_is_seeded_and_changes_training(augment):
    """Check that random shifts and rotations are reproducible with random_state and alter the fit."""
    shifted = DeepSOMClusterer((2, 2), **augment, **_AUGMENT_PARAMS).fit(X_DIGITS)
    again = DeepSOMClusterer((2, 2), **augment, **_AUGMENT_PARAMS).fit(X_DIGITS)
    np.testing.assert_allclose(shifted.cluster_centers_, again.cluster_centers_, rtol=1e-5, atol=1e-6)
    assert not np.allclose(shifted.pretrain_loss_curve_, _plain_pretrain_loss_curve())


def test_refinement_moves_only_the_codebook_and_lowers_the_error():
    """Check that refine_iter refits the codebook on the final features, leaving the networks as trained."""
    params = dict(FAST, max_iter=5, learning_rate=1e-2, som_weight=0.3)
    raw = DeepSOMClusterer((3, 3), refine_iter=0, **params).fit(X_DIGITS)
    refined = DeepSOMClusterer((3, 3), refine_iter=10, **params).fit(X_DIGITS)
    for a, b in zip(raw.encoder_weights_, refined.encoder_weights_):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(raw.cluster_centers_, refined.cluster_centers_)
    assert refined.quantization_error_ < raw.quantization_error_
    np.testing.assert_array_equal(refined.predict(X_DIGITS), refined.labels_)


def test_codebook_starts_from_the_core_som_on_the_pretrained_features():
    """Check that without joint training the codebook is a batch-SOM fixed point of the pretrained features.

    The core SOM that initialises the codebook ends at the starting radius
    of joint training (0.5): one more batch-map step there, written here in
    NumPy (Gaussian neighbourhood, rectangular lattice), barely moves the
    units. Units drawn at random from the features would move about a
    quantization error or more.
    """
    model = DeepSOMClusterer((3, 3), **{**FAST, "max_iter": 0, "refine_iter": 0}).fit(X_DIGITS)
    Z = model.encode(X_DIGITS).astype(np.float64)
    W = model.cluster_centers_.astype(np.float64)
    rows, cols = np.divmod(np.arange(9), 3)
    grid_d2 = (rows[:, None] - rows[None]) ** 2 + (cols[:, None] - cols[None]) ** 2
    d2 = ((Z[:, None] - W[None]) ** 2).sum(axis=2)
    h = np.exp(-grid_d2[d2.argmin(axis=1)] / (2 * 0.5**2))  # (n_samples, n_units)
    W_next = h.T @ Z / h.sum(axis=0)[:, None]
    qe = np.sqrt(d2.min(axis=1)).mean()
    assert np.linalg.norm(W_next - W, axis=1).max() < 0.2 * qe


@pytest.mark.parametrize("term", ["reconstruction", "neighbor"])
def test_training_step_descends_each_term(term):
    """Check that one small SGD step on a single term of the joint loss lowers that term, computed with NumPy."""
    from sksom.keras.deep import _dense_net, _make_step

    rng = np.random.RandomState(0)
    encoder = _dense_net(64, (16,), 3, "relu", rng, "encoder")
    decoder = _dense_net(3, (16,), 64, "relu", rng, "decoder")
    x, partners = X_DIGITS[:32], X_DIGITS[32:64]
    negatives = rng.randint(32, size=(5, 32)).astype(np.int32)

    def numpy_term():
        z = np.asarray(encoder(x), dtype=np.float64)
        if term == "reconstruction":
            return np.mean((np.asarray(decoder(z.astype(np.float32)), dtype=np.float64) - x) ** 2)
        q_pair = 1.0 / (1.0 + ((z - np.asarray(encoder(partners), dtype=np.float64)) ** 2).sum(axis=1))
        q_random = 1.0 / (1.0 + ((z[None] - z[negatives]) ** 2).sum(axis=2))
        return -np.log(q_pair + 1e-6).mean() - np.log(1.0 - q_random + 1e-3).sum(axis=0).mean()

    weights = (1.0, 0.0, 0.0) if term == "reconstruction" else (0.0, 0.0, 1.0)
    step = _make_step(encoder, decoder, None, keras.optimizers.SGD(0.05), weights, False)
    before = numpy_term()
    losses = step(tf.constant(x), tf.constant(partners), tf.constant(negatives))
    assert float(losses[0 if term == "reconstruction" else 2]) == pytest.approx(before, rel=1e-4)
    assert numpy_term() < before - 1e-4 * abs(before)


def test_keras_encoder_is_copied_not_modified():
    """Check that a Keras encoder model is trained as a copy and the user's stays untouched."""
    encoder = keras.Sequential([keras.Input((64,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
    weights = [w.copy() for w in encoder.get_weights()]
    model = DeepSOMClusterer((2, 2), encoder=encoder, **{**FAST, "latent_dim": 99}).fit(X_DIGITS)
    assert model.cluster_centers_.shape == (4, 3)  # latent size taken from the model
    for before, after in zip(weights, encoder.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert not all(np.array_equal(a, b) for a, b in zip(weights, model.encoder_weights_))
    # the Keras model travels with the parameters through clone and pickle
    assert isinstance(clone(model).encoder, keras.Model)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(X_DIGITS), model.labels_)


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(map_size=(0, 2)), "map_size"),
        (dict(map_size=(3, 2), topology="hexagonal", periodic=True), "even number of rows"),
        (dict(hidden_units=(8, 0)), "hidden_units"),
        (dict(som_weight=0.0, reconstruction_weight=0.0, neighbor_weight=0.0), "nothing to train"),
        (dict(encoder="conv"), "image_shape"),
        (dict(encoder="conv", image_shape=(4, 4)), "64 features"),
        (dict(encoder="conv", image_shape=(8, 8), hidden_units=(4, 4, 4, 4)), "multiples of 16"),
        (dict(augment=0.1), "augment=0.1 needs image_shape"),
        (dict(augment=1.5, image_shape=(8, 8)), "augment"),
        (dict(augment_rotation=10.0), "augment_rotation=10.0 needs image_shape"),
        (dict(augment_rotation=200.0, image_shape=(8, 8)), "augment_rotation"),
        (dict(refine_iter=-1), "refine_iter"),
        (dict(neighbor_weight=-0.1), "neighbor_weight"),
        (dict(n_neighbors=0), "n_neighbors"),
        (dict(batch_size=0), "batch_size"),
        (dict(neighborhood="cone"), "neighborhood"),
    ],
)
def test_deep_som_bad_parameters(params, message):
    """Check that bad parameters raise a ValueError naming the problem."""
    with pytest.raises(ValueError, match=message):
        DeepSOMClusterer(**{**FAST, **params}).fit(X_DIGITS[:20])


def test_deep_som_rejects_mismatched_networks():
    """Check that encoder and decoder models of the wrong shapes are rejected clearly."""
    wrong_input = keras.Sequential([keras.Input((10,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match=re.escape("(None, 64)")):
        DeepSOMClusterer((2, 2), encoder=wrong_input, **FAST).fit(X_DIGITS[:20])
    wrong_output = keras.Sequential([keras.Input((4,)), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match="decoder"):
        DeepSOMClusterer((2, 2), decoder=wrong_output, **FAST).fit(X_DIGITS[:20])


def test_deep_som_checks_test_data(fitted):
    """Check that predict rejects data with the wrong number of features."""
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X_DIGITS[:, :10])


# -- failure modes: rollback and divergence ---------------------------------------

X16 = X_DIGITS[:64, 16:32]  # two middle rows of the 8 x 8 digits
X25 = X_DIGITS[:64, :25]
TINY = dict(FAST, pretrain_epochs=2, max_iter=2, refine_iter=2)


def _snapshot(model):
    """A deep copy of the estimator's state (its parameters aside), with the identity of its Keras networks."""
    state = {}
    params = model.get_params(deep=False)
    for name, value in vars(model).items():
        if name in params:
            continue
        if name == "_keras_cache":
            state[name] = None if value is None else tuple(id(net) for net in value)
        elif isinstance(value, list):
            state[name] = [np.array(v, copy=True) for v in value]
        else:
            state[name] = np.array(value, copy=True) if isinstance(value, np.ndarray) else value
    return state


def _assert_state_is(model, before):
    """Check that the estimator's state equals a snapshot, its Keras networks untrained since."""
    after = _snapshot(model)
    assert after.keys() == before.keys()
    for name, value in before.items():
        if isinstance(value, list):
            assert len(after[name]) == len(value), name
            for a, b in zip(after[name], value):
                np.testing.assert_array_equal(a, b, err_msg=name)
        elif isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[name], value, err_msg=name)
        else:
            assert after[name] == value, name
    if before.get("_keras_cache") is not None:
        encoder, decoder, som = model._keras_cache
        for a, b in zip(encoder.get_weights(), model.encoder_weights_):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(decoder.get_weights(), model.decoder_weights_):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(som.codebook.numpy(), model.cluster_centers_)


@pytest.fixture(scope="module")
def _fitted16_once():
    return DeepSOMClusterer((2, 2), **TINY).fit(X16)


@pytest.fixture
def fitted16(_fitted16_once):
    """A fitted model of its own for each test (a copy: the networks are rebuilt from the weights)."""
    model = copy.deepcopy(_fitted16_once)
    return model, model.predict(X16)  # predict also fills the Keras cache


def _interrupt_joint_training(monkeypatch):
    """Make the joint training step raise KeyboardInterrupt on its second batch (Ctrl-C mid-epoch)."""
    from sksom.keras import deep

    make_step = deep._make_step

    def interrupted_make_step(encoder, decoder, som, *args, **kwargs):
        step = make_step(encoder, decoder, som, *args, **kwargs)
        if som is None:  # pretraining runs unchanged
            return step
        calls = []

        def step_then_interrupt(*batch):
            calls.append(1)
            if len(calls) == 2:
                raise KeyboardInterrupt
            return step(*batch)

        return step_then_interrupt

    monkeypatch.setattr(deep, "_make_step", interrupted_make_step)


def test_failed_refit_for_another_width_keeps_the_fitted_model(fitted16):
    """Check that a refit rejected for the new width (conv encoder) leaves the fitted model as it was."""
    model, labels = fitted16
    before = _snapshot(model)
    with pytest.raises(ValueError, match="image_shape"):
        model.set_params(encoder="conv", image_shape=(4, 4)).fit(X25)
    _assert_state_is(model, before)
    assert model.n_features_in_ == 16
    np.testing.assert_array_equal(model.predict(X16), labels)


def test_diverging_refit_keeps_the_fitted_model(fitted16):
    """Check that a refit that diverges raises a clear error and leaves the fitted model as it was."""
    model, labels = fitted16
    before = _snapshot(model)
    with pytest.raises(FloatingPointError, match="diverged.*learning_rate"):
        model.set_params(learning_rate=1e6).fit(X25)
    _assert_state_is(model, before)
    assert model.n_features_in_ == 16
    np.testing.assert_array_equal(model.predict(X16), labels)


def test_interrupted_refit_keeps_the_fitted_model(fitted16, monkeypatch):
    """Check that a refit interrupted inside joint training leaves the fitted model and its networks as they were."""
    model, labels = fitted16
    before = _snapshot(model)
    _interrupt_joint_training(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X25)
    _assert_state_is(model, before)
    np.testing.assert_array_equal(model.predict(X16), labels)


def test_interrupted_fresh_fit_leaves_the_estimator_unfitted(monkeypatch):
    """Check that a first fit interrupted inside joint training leaves no fitted state, n_features_in_ included."""
    model = DeepSOMClusterer((2, 2), **TINY)
    before = dict(vars(model))
    _interrupt_joint_training(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X16)
    assert vars(model) == before
    assert not hasattr(model, "n_features_in_")
    with pytest.raises(NotFittedError):
        model.predict(X16)


def test_diverging_fit_says_so():
    """Check that a learning rate that makes training diverge is named, not blamed on NaN rows of X."""
    with pytest.raises(FloatingPointError, match=r"diverged.*learning_rate \(now 1e\+06\).*scale the data"):
        DeepSOMClusterer((2, 2), **{**TINY, "learning_rate": 1e6}).fit(X16)


def test_huge_values_are_rejected_before_training():
    """Check that float32 data near 1e30 is rejected up front, in fit and in predict, with advice to scale it."""
    huge = (X16 * 1e30).astype(np.float32)
    with pytest.raises(ValueError, match="values up to 1e\\+30.*float32.*scale the data"):
        DeepSOMClusterer((2, 2), **TINY).fit(huge)
    # the largest allowed value for 16 features: sqrt(max float32 / (8 * 16))
    limit = np.sqrt(np.finfo(np.float32).max / 128.0)
    model = DeepSOMClusterer((2, 2), **TINY)
    with pytest.raises(ValueError, match="too large"):
        model.fit(np.full((4, 16), 1.01 * limit, dtype=np.float32))
    with pytest.raises(ValueError, match="too large"):
        DeepSOMClusterer((2, 2), **TINY).fit(X16).predict(huge)
