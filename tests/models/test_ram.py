"""RecurrentAttentionModel: shapes, the hybrid loss against a numpy formula, where gradients flow
(and where they must not), the location network learning under ``fit``, the sampler's state,
deterministic inference, and saving."""

import keras
import numpy as np
import pytest

from keras_attn.models import RecurrentAttentionModel
from tests._helpers import BACKEND, gradient, tf_only, to_numpy

SMALL = dict(num_glimpses=3, patch_size=4, num_scales=2, units=8, glimpse_units=6, location_units=4, seed=0)


def small(**kwargs):
    return RecurrentAttentionModel(3, **{**SMALL, **kwargs})


def data(rng, n=4, size=28):
    images = rng.random((n, size, size, 1)).astype("float32")
    labels = np.arange(n) % 3
    return images, labels


def np_log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_shapes_and_outputs(rng):
    images, _ = data(rng)
    model = small()
    logits = model(images)
    assert tuple(logits.shape) == (4, 3)
    logits2, locations = model(images, return_glimpses=True)
    locations = to_numpy(locations)
    assert locations.shape == (4, 3, 2)
    np.testing.assert_array_equal(locations[:, 0], 0.0)  # the first glimpse is at the centre
    assert np.all(np.abs(locations) <= 1.0)
    out = model(images, training=True)
    assert set(out) == {"logits", "locations", "log_probs", "baselines"}
    assert tuple(out["log_probs"].shape) == (4, 2) and tuple(out["baselines"].shape) == (4, 2)
    sampled, paths = model(images, trajectories=5, return_glimpses=True)
    assert tuple(sampled.shape) == (4, 3) and tuple(paths.shape) == (4, 5, 3, 2)
    np.testing.assert_allclose(np.exp(to_numpy(sampled)).sum(-1), 1.0, atol=1e-4)


def test_inference_is_deterministic_and_training_samples(rng):
    images, _ = data(rng)
    model = small(location_std=0.2)
    a, la = model(images, return_glimpses=True)
    b, lb = model(images, return_glimpses=True)
    np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    np.testing.assert_array_equal(to_numpy(la), to_numpy(lb))
    first = to_numpy(model(images, training=True)["locations"])
    second = to_numpy(model(images, training=True)["locations"])
    assert not np.allclose(first[:, 1:], second[:, 1:])  # fresh noise on every call
    # the sampled locations scatter around the policy mean with the policy's std
    many = np.concatenate([to_numpy(model(images, training=True)["locations"])[:, 1] for _ in range(12)])
    offsets = many.reshape(12, 4, 2) - to_numpy(lb)[None, :, 1]
    assert 0.12 < offsets.std() < 0.28


def test_bad_arguments(rng):
    with pytest.raises(ValueError, match="core must be one of 'rnn', 'lstm'; got 'gru'"):
        RecurrentAttentionModel(10, core="gru")
    with pytest.raises(ValueError, match="num_glimpses must be a positive integer; got 0"):
        RecurrentAttentionModel(10, num_glimpses=0)
    with pytest.raises(ValueError, match="location_std must be a positive number; got -0.1"):
        RecurrentAttentionModel(10, location_std=-0.1)
    with pytest.raises(ValueError, match="policy must be one of"):
        RecurrentAttentionModel(10, policy="greedy")
    model = small()
    with pytest.raises(ValueError, match="images must have shape"):
        model(np.zeros((2, 28, 28), "float32"))
    with pytest.raises(ValueError, match="trajectories must be None or a positive integer; got 0"):
        model(np.zeros((2, 28, 28, 1), "float32"), trajectories=0)


def test_hybrid_loss_matches_numpy(rng):
    """compute_loss = CE + mean_b sum_t (R - b_t)^2 - mean_b sum_t log pi(l_t) (R - b_t), R = [argmax == y]."""
    images, labels = data(rng, n=6)
    model = small()
    out = model(images, training=True)
    loss = float(to_numpy(model.compute_loss(images, labels, out)))
    logits, log_probs, base = (to_numpy(out[k]).astype("float64") for k in ("logits", "log_probs", "baselines"))
    reward = (logits.argmax(-1) == labels).astype("float64")
    ce = -np_log_softmax(logits)[np.arange(6), labels].mean()
    mse = ((reward[:, None] - base) ** 2).sum(-1).mean()
    reinforce = -(log_probs * (reward[:, None] - base)).sum(-1).mean()
    np.testing.assert_allclose(loss, ce + mse + reinforce, rtol=1e-5, atol=1e-6)
    # inference-mode output: the cross-entropy alone
    logits = to_numpy(model(images)).astype("float64")
    loss = float(to_numpy(model.compute_loss(images, labels, model(images), training=False)))
    np.testing.assert_allclose(loss, -np_log_softmax(logits)[np.arange(6), labels].mean(), rtol=1e-5)


def _loss_gradients(model, variables, images, labels, part):
    """Gradients of one part of the loss with respect to ``variables`` (one sampled trajectory)."""

    def loss(*values):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            if part == "deterministic":  # the cross-entropy of the policy-mean path
                logits = model(images)
                return keras.ops.mean(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))
            out = model(images, training=True)
            if part == "classification":
                return keras.ops.mean(
                    keras.losses.sparse_categorical_crossentropy(labels, out["logits"], from_logits=True)
                )
            if part == "policy":  # baseline loss + REINFORCE
                return model.compute_loss(images, labels, out) - model.compute_loss(images, labels, out["logits"])
            return model.compute_loss(images, labels, out)

    return gradient(loss, *[to_numpy(v.value) for v in variables])


def test_gradients_flow_where_they_should(rng):
    images, labels = data(rng, n=8)
    model = small(location_std=0.2)
    model(images)
    locator, baseline, core = model.locator.kernel, model.baseline.kernel, model.cell.kernel
    # the location and baseline networks learn from the total loss ...
    for grad in _loss_gradients(model, [locator, baseline], images, labels, "total"):
        assert np.abs(grad).max() > 1e-6
    # ... but the classification loss sends them nothing (sampled locations are cut from the graph),
    # while it does train the core
    to_locator, to_baseline, to_core = _loss_gradients(model, [locator, baseline, core], images, labels, "classification")
    np.testing.assert_array_equal(to_locator, 0.0)
    np.testing.assert_array_equal(to_baseline, 0.0)
    assert np.abs(to_core).max() > 1e-6
    # and the policy terms do not reach the core (they read stop_gradient(h_t))
    np.testing.assert_array_equal(_loss_gradients(model, [core], images, labels, "policy")[0], 0.0)
    # on the deterministic path (inference) the locations are cut from the graph as well:
    # a loss on its logits trains the core but sends nothing to the location network
    to_locator, to_core = _loss_gradients(model, [locator, core], images, labels, "deterministic")
    np.testing.assert_array_equal(to_locator, 0.0)
    assert np.abs(to_core).max() > 1e-6


def test_location_network_learns_under_fit(rng):
    images, labels = data(rng)
    model = small(location_std=0.2)
    model.compile(optimizer=keras.optimizers.Adam(0.01), metrics=["accuracy"])
    model(images)
    before = [to_numpy(w).copy() for w in model.locator.weights]
    state = to_numpy(model.seed_generator.state).copy()
    history = model.fit(images, labels, batch_size=2, epochs=1, verbose=0)  # 2 steps
    after = [to_numpy(w) for w in model.locator.weights]
    assert all(np.abs(a - b).max() > 1e-5 for a, b in zip(after, before))
    assert {"loss", "accuracy", "reward"} <= set(history.history)
    assert np.isfinite(history.history["loss"][0])
    # the sampler's state advanced by one draw per sampled location per step: every step sees new noise
    draws = to_numpy(model.seed_generator.state) - state
    assert draws[1] == 2 * (SMALL["num_glimpses"] - 1)


def test_random_policy_trains_with_cross_entropy_only(rng):
    images, labels = data(rng)
    model = small(policy="random")
    out = model(images, training=True)
    assert set(out) == {"logits", "locations"}
    assert not hasattr(model, "locator") and not hasattr(model, "baseline")
    logits = to_numpy(out["logits"]).astype("float64")
    loss = float(to_numpy(model.compute_loss(images, labels, out)))
    np.testing.assert_allclose(loss, -np_log_softmax(logits)[np.arange(4), labels].mean(), rtol=1e-5)
    a = to_numpy(model(images, return_glimpses=True)[1])
    b = to_numpy(model(images, return_glimpses=True)[1])
    np.testing.assert_array_equal(a[:, 0], 0.0)
    assert not np.allclose(a[:, 1:], b[:, 1:])


def test_save_and_reload_keras(rng, tmp_path):
    images, labels = data(rng)
    model = small(core="lstm")
    model(images)
    path = tmp_path / "ram.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, RecurrentAttentionModel)
    assert loaded.get_config() == model.get_config()
    for a, b in zip(model(images, return_glimpses=True), loaded(images, return_glimpses=True)):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


@tf_only
def test_savedmodel_export(rng, tmp_path):
    import tensorflow as tf

    images, _ = data(rng)
    model = small()
    expected = to_numpy(model(images))
    model.export(str(tmp_path / "ram_savedmodel"), verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "ram_savedmodel"))
    np.testing.assert_allclose(reloaded.serve(images).numpy(), expected, rtol=1e-5, atol=1e-6)
