"""The Coursera date-translation model, built the assignment's way, as an acceptance test.

``modelf`` below is the code of the Coursera *Neural Machine Translation* assignment,
with the hand-written ``one_step_attention`` replaced by one shared
``keras_attn.OneStepAttention`` layer and the Keras 2 idioms updated as Keras 3
requires (``Adam(learning_rate=...)`` without ``decay``; one metric per
output; the decoder LSTM called positionally, since Keras 3's LSTM has no
``inputs=`` keyword). It must have the assignment's 52,960 parameters, compute exactly what
the assignment's own ``RepeatVector -> Concatenate -> Dense(10, tanh) ->
Dense(1, relu) -> softmax(axis=1) -> Dot(axes=1)`` graph computes with the same
weights (the oracle), train, save as ``.keras`` and ``.h5``, reload and
predict identically; on TensorFlow also through a SavedModel. It runs on the
tensorflow, jax and torch backends.

Seed 003's example is tested with its example script (tests/test_examples*).
"""

import keras
import numpy as np
import pytest
from keras.layers import LSTM, Activation, Bidirectional, Concatenate, Dense, Dot, Input, RepeatVector
from keras.models import Model

import keras_attn
from tests._helpers import tf_only

Tx, Ty = 30, 10
n_a, n_s = 32, 64
human_vocab_size, machine_vocab_size = 37, 11
m = 24


# --- the assignment's code, with keras_attn.OneStepAttention ------------------
attention = None
post_activation_LSTM_cell = None
output_layer = None


def make_shared_layers():
    """The assignment defines these once, globally, and shares them across the Ty steps."""
    global attention, post_activation_LSTM_cell, output_layer
    attention = keras_attn.OneStepAttention(units=10, name="one_step_attention")
    post_activation_LSTM_cell = LSTM(n_s, return_state=True)
    output_layer = Dense(machine_vocab_size, activation="softmax")


def modelf(Tx, Ty, n_a, n_s, human_vocab_size, machine_vocab_size):
    X = Input(shape=(Tx, human_vocab_size))
    s0 = Input(shape=(n_s,), name="s0")
    c0 = Input(shape=(n_s,), name="c0")
    s = s0
    c = c0
    outputs = []
    a = Bidirectional(LSTM(units=n_a, return_sequences=True))(X)
    for t in range(Ty):
        context = attention([a, s])
        _, s, c = post_activation_LSTM_cell(context, initial_state=[s, c])  # Keras 3: no inputs= keyword
        out = output_layer(inputs=s)
        outputs.append(out)
    model = Model(inputs=[X, s0, c0], outputs=outputs)
    return model


# --- the oracle: the assignment's own one_step_attention graph ----------------
def seed_faithful_model(trained):
    """The same model with the assignment's hand-written attention, weights copied from ``trained``."""
    repeator = RepeatVector(Tx)
    concatenator = Concatenate(axis=-1)
    densor1 = Dense(10, activation="tanh")
    densor2 = Dense(1, activation="relu")
    activator = Activation(lambda x: keras.ops.softmax(x, axis=1))  # softmax over Tx, as the assignment's
    dotor = Dot(axes=1)
    lstm_cell = LSTM(n_s, return_state=True)
    out_layer = Dense(machine_vocab_size, activation="softmax")
    encoder = Bidirectional(LSTM(units=n_a, return_sequences=True))

    X = Input(shape=(Tx, human_vocab_size))
    s0 = Input(shape=(n_s,))
    c0 = Input(shape=(n_s,))
    s, c, outputs = s0, c0, []
    a = encoder(X)
    for _ in range(Ty):
        concat = concatenator([a, repeator(s)])
        alphas = activator(densor2(densor1(concat)))
        context = dotor([alphas, a])
        _, s, c = lstm_cell(context, initial_state=[s, c])
        outputs.append(out_layer(inputs=s))
    oracle = Model([X, s0, c0], outputs)

    layers = {type(layer).__name__: layer for layer in trained.layers}
    encoder.set_weights(layers["Bidirectional"].get_weights())
    kernel, bias, energy_kernel, energy_bias = layers["OneStepAttention"].get_weights()
    densor1.set_weights([kernel, bias])
    densor2.set_weights([energy_kernel, energy_bias])
    lstm_cell.set_weights(layers["LSTM"].get_weights())
    out_layer.set_weights(layers["Dense"].get_weights())
    return oracle


def _data(rng):
    Xoh = np.eye(human_vocab_size, dtype="float32")[rng.integers(0, human_vocab_size, (m, Tx))]
    Yoh = np.eye(machine_vocab_size, dtype="float32")[rng.integers(0, machine_vocab_size, (m, Ty))]
    s0 = np.zeros((m, n_s), "float32")
    c0 = np.zeros((m, n_s), "float32")
    return Xoh, Yoh, s0, c0


def _assert_same(got, expected, atol=1e-6):
    got, expected = keras.tree.flatten(got), keras.tree.flatten(expected)
    assert len(got) == len(expected) == Ty
    for g, e in zip(got, expected):
        np.testing.assert_allclose(np.asarray(g), np.asarray(e), atol=atol)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The assignment's model, trained for one epoch and saved in both formats."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    make_shared_layers()
    model = modelf(Tx, Ty, n_a, n_s, human_vocab_size, machine_vocab_size)
    opt = keras.optimizers.Adam(learning_rate=0.005, beta_1=0.9, beta_2=0.999)
    model.compile(loss="categorical_crossentropy", optimizer=opt, metrics=["accuracy"] * Ty)
    Xoh, Yoh, s0, c0 = _data(rng)
    outputs = list(Yoh.swapaxes(0, 1))
    before = [np.array(w) for w in model.get_weights()]
    history = model.fit([Xoh, s0, c0], outputs, epochs=1, batch_size=12, verbose=0)
    directory = tmp_path_factory.mktemp("seed002")
    for fmt in ("keras", "h5"):
        model.save(directory / f"modelf.{fmt}")
    return model, before, history, [Xoh, s0, c0], directory


def test_modelf_has_the_assignments_parameter_count(trained):
    model = trained[0]
    assert model.count_params() == 52_960
    layers = {type(layer).__name__: layer.count_params() for layer in model.layers}
    assert layers["Bidirectional"] == 17_920
    assert layers["OneStepAttention"] == 1_290 + 11  # the assignment's densor1 and densor2
    assert layers["LSTM"] == 33_024
    assert layers["Dense"] == 715


def test_modelf_trains(trained):
    model, before, history, _, _ = trained
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.allclose(a, b) for a, b in zip(model.get_weights(), before))


def test_modelf_equals_the_assignments_graph(trained):
    model, _, _, x, _ = trained
    oracle = seed_faithful_model(model)
    _assert_same(model.predict(x, verbose=0), oracle.predict(x, verbose=0), atol=1e-5)


@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_modelf_reloads_and_predicts_identically(trained, fmt):
    model, _, _, x, directory = trained
    loaded = keras.models.load_model(directory / f"modelf.{fmt}")
    _assert_same(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.count_params() == 52_960


@tf_only
def test_modelf_savedmodel(trained):
    import tensorflow as tf

    model, _, _, x, directory = trained
    path = str(directory / "savedmodel")
    model.export(path, verbose=False)
    reloaded = tf.saved_model.load(path)
    served = reloaded.serve([tf.constant(a) for a in x])
    _assert_same(served, model.predict(x, verbose=0))
