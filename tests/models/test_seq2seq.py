"""seq2seq_att (faithful and fused) and AttentionDecoder against a numpy oracle."""

import keras
import numpy as np
import pytest

from keras_attn.models import AttentionDecoder, BiLSTMEncoder, seq2seq_att
from tests._helpers import gradient, numeric_gradient, to_numpy


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_decoder(weights, a, s, c, steps):
    """The assignment's decoder loop written out in numpy (float64).

    weights: [W, b, w_e, b_e, K, R, bias, W_y, b_y] (OneStepAttention, LSTM, Dense).
    """
    W, b, we, be, K, R, bias, Wy, by = [np.asarray(w, "float64") for w in weights]
    a, s, c = (np.asarray(x, "float64") for x in (a, s, c))
    tx, n = a.shape[1], s.shape[1]
    ys, alphas = [], []
    for _ in range(steps):
        concat = np.concatenate([a, np.repeat(s[:, None, :], tx, axis=1)], axis=-1)  # RepeatVector + Concatenate
        e = np.tanh(concat @ W + b)
        energy = np.maximum(e @ we + be, 0.0)[..., 0]
        alpha = _softmax(energy, axis=1)
        context = (alpha[..., None] * a).sum(axis=1)
        z = context @ K + s @ R + bias
        i, f, g, o = (z[:, k * n : (k + 1) * n] for k in range(4))
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        s = _sigmoid(o) * np.tanh(c)
        ys.append(_softmax(s @ Wy + by))
        alphas.append(alpha)
    return np.stack(ys, 1), np.stack(alphas, 1)


def _random_weights(model, rng, scale=0.5):
    model.set_weights([rng.standard_normal(w.shape).astype("float32") * scale for w in model.get_weights()])


def test_parameter_count_is_the_assignments():
    model = seq2seq_att(30, 10, 32, 64, 37, 11)
    assert model.count_params() == 52960
    counts = {name: model.get_layer(name).count_params() for name in ("encoder", "attention", "decoder_lstm", "output_dense")}
    assert counts == {"encoder": 17920, "attention": 1290 + 11, "decoder_lstm": 33024, "output_dense": 715}
    fused = seq2seq_att(30, 10, 32, 64, 37, 11, fused=True)
    assert fused.count_params() == 52960
    assert [tuple(w.shape) for w in fused.weights] == [tuple(w.shape) for w in model.weights]


def test_faithful_model_inputs_outputs():
    model = seq2seq_att(30, 10, 32, 64, 37, 11)
    assert [tuple(x.shape) for x in model.inputs] == [(None, 30, 37), (None, 64), (None, 64)]
    assert len(model.outputs) == 10
    assert all(tuple(o.shape) == (None, 11) for o in model.outputs)
    fused = seq2seq_att(30, 10, 32, 64, 37, 11, fused=True)
    assert tuple(fused.outputs[0].shape) == (None, 10, 11) and len(fused.outputs) == 1


def test_faithful_and_fused_match_the_numpy_oracle(rng):
    tx, ty, n_a, n_s, din, dout = 7, 4, 3, 5, 6, 4
    faithful = seq2seq_att(tx, ty, n_a, n_s, din, dout)
    fused = seq2seq_att(tx, ty, n_a, n_s, din, dout, fused=True)
    _random_weights(faithful, rng)
    fused.set_weights(faithful.get_weights())
    x = rng.standard_normal((3, tx, din)).astype("float32")
    s0 = rng.standard_normal((3, n_s)).astype("float32")
    c0 = rng.standard_normal((3, n_s)).astype("float32")
    got_faithful = np.stack([to_numpy(o) for o in faithful([x, s0, c0])], axis=1)
    got_fused = to_numpy(fused([x, s0, c0]))
    np.testing.assert_allclose(got_fused, got_faithful, atol=1e-5)
    # The oracle: the encoder's output (Keras's own Bidirectional LSTM) fed to the numpy loop.
    a = to_numpy(faithful.get_layer("encoder")(x))
    expected, alphas = np_decoder(faithful.get_weights()[6:], a, s0, c0, ty)
    np.testing.assert_allclose(got_faithful, expected, atol=1e-5)
    _, got_alphas = fused.get_layer("decoder")([a, s0, c0], return_attention_scores=True)
    np.testing.assert_allclose(to_numpy(got_alphas), alphas, atol=1e-5)


def test_fused_equals_faithful_at_full_size(rng):
    faithful = seq2seq_att(30, 10, 32, 64, 37, 11)
    fused = seq2seq_att(30, 10, 32, 64, 37, 11, fused=True)
    _random_weights(faithful, rng, scale=0.3)
    fused.set_weights(faithful.get_weights())
    x = np.eye(37, dtype="float32")[rng.integers(0, 37, (16, 30))]
    zeros = np.zeros((16, 64), "float32")
    expected = np.stack(faithful.predict([x, zeros, zeros], verbose=0), axis=1)
    got = fused.predict([x, zeros, zeros], verbose=0)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_decoder_gradient_matches_finite_differences(rng):
    steps = 3
    layer = AttentionDecoder(units=3, steps=steps, output_dim=4, attention_units=2, dtype="float64")
    a = rng.standard_normal((2, 5, 4))
    s0 = rng.standard_normal((2, 3))
    c0 = rng.standard_normal((2, 3))
    layer([a, s0, c0])
    layer.set_weights([rng.standard_normal(w.shape) * 0.7 for w in layer.get_weights()])
    probe = rng.standard_normal((2, steps, 4))
    weights = [np.asarray(w, "float64") for w in layer.get_weights()]

    def loss(a_, s_, c_):
        return keras.ops.sum(keras.ops.multiply(layer([a_, s_, c_]), keras.ops.convert_to_tensor(probe)))

    grads = gradient(loss, a, s0, c0)
    for i, x in enumerate((a, s0, c0)):

        def numeric(v, i=i):
            args = [a, s0, c0]
            args[i] = v
            return float((np_decoder(weights, *args, steps)[0] * probe).sum())

        np.testing.assert_allclose(grads[i], numeric_gradient(numeric, x), atol=1e-6)


def test_fused_trains_jit_compiled():
    rng = np.random.default_rng(0)
    model = seq2seq_att(8, 4, 4, 6, 5, 3, fused=True)
    model.compile(keras.optimizers.Adam(0.05), "categorical_crossentropy", jit_compile=keras.backend.backend() != "torch")
    x = np.eye(5, dtype="float32")[rng.integers(0, 5, (32, 8))]
    y = np.eye(3, dtype="float32")[(x.argmax(-1)[:, :4] % 3)]
    zeros = np.zeros((32, 6), "float32")
    history = model.fit([x, zeros, zeros], y, epochs=40, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.75 * history.history["loss"][0]


def test_one_training_step_moves_fused_and_faithful_alike(rng):
    """Same weights, same data: the fused model's SGD step equals the faithful one's.

    The faithful loss is the sum of Ty per-output cross-entropies, the fused
    loss their mean, so the fused learning rate is Ty times larger.
    """
    tx, ty, n_a, n_s, din, dout = 6, 3, 3, 4, 5, 4
    faithful = seq2seq_att(tx, ty, n_a, n_s, din, dout)
    fused = seq2seq_att(tx, ty, n_a, n_s, din, dout, fused=True)
    _random_weights(faithful, rng)
    fused.set_weights(faithful.get_weights())
    start = [np.array(w) for w in faithful.get_weights()]
    x = np.eye(din, dtype="float32")[rng.integers(0, din, (8, tx))]
    y = np.eye(dout, dtype="float32")[rng.integers(0, dout, (8, ty))]
    zeros = np.zeros((8, n_s), "float32")
    faithful.compile(keras.optimizers.SGD(0.1), "categorical_crossentropy")
    fused.compile(keras.optimizers.SGD(0.1 * ty), "categorical_crossentropy")
    faithful.fit([x, zeros, zeros], list(y.swapaxes(0, 1)), batch_size=8, epochs=1, verbose=0)
    fused.fit([x, zeros, zeros], y, batch_size=8, epochs=1, verbose=0)
    for w0, wa, wb in zip(start, faithful.get_weights(), fused.get_weights()):
        assert not np.allclose(w0, wa)
        np.testing.assert_allclose(wb, wa, atol=1e-5)


def _masked_encoder_decoder(encoder):
    """``Masking -> encoder -> AttentionDecoder``: the mask must travel through the encoder."""
    x, s0, c0 = keras.Input((7, 5)), keras.Input((4,)), keras.Input((4,))
    a = encoder(keras.layers.Masking(0.0)(x))
    return keras.Model([x, s0, c0], AttentionDecoder(4, 3, 6, attention_units=2)([a, s0, c0]))


def test_bilstm_encoder_equals_keras_bidirectional_lstm_with_masks(rng):
    ours = _masked_encoder_decoder(BiLSTMEncoder(3))
    keras_encoder = keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True))
    reference = _masked_encoder_decoder(keras_encoder)
    _random_weights(reference, rng)
    ours.set_weights(reference.get_weights())
    x = rng.standard_normal((4, 7, 5)).astype("float32")
    x[0, 4:] = 0.0  # right padding
    x[1, :2] = 0.0  # left padding
    x[2, 3] = 0.0  # a hole
    s0, c0 = (rng.standard_normal((4, 4)).astype("float32") for _ in range(2))
    want = to_numpy(reference([x, s0, c0]))
    np.testing.assert_allclose(to_numpy(ours([x, s0, c0])), want, atol=1e-5)
    # Without the mask the padding would be read: the check above is not vacuous.
    unmasked = keras_encoder(keras.ops.convert_to_tensor(x))
    assert np.abs(to_numpy(reference.layers[-1]([unmasked, s0, c0])) - want).max() > 1e-4
    # One SGD step from the same weights moves both alike (gradients through the masked encoder).
    y = np.eye(6, dtype="float32")[rng.integers(0, 6, (4, 3))]
    for model in (ours, reference):
        model.compile(keras.optimizers.SGD(0.5), "categorical_crossentropy")
        model.fit([x, s0, c0], y, batch_size=4, epochs=1, verbose=0)
    for a, b in zip(ours.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_bilstm_encoder_initialises_like_keras_lstm():
    encoder = BiLSTMEncoder(8)
    encoder.build((None, 5, 6))
    names = [w.path.split("/")[-1] for w in encoder.weights]
    assert names == [f"{d}_{w}" for d in ("forward", "backward") for w in ("kernel", "recurrent_kernel", "bias")]
    for kernel, recurrent, bias in (encoder.forward_weights, encoder.backward_weights):
        kernel, recurrent, bias = to_numpy(kernel), to_numpy(recurrent), to_numpy(bias)
        assert np.abs(kernel).max() <= np.sqrt(6 / (6 + 32)) and kernel.std() > 0.1  # glorot_uniform
        np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(8), atol=1e-5)  # orthogonal rows
        np.testing.assert_array_equal(bias, np.repeat([0.0, 1.0, 0.0, 0.0], 8))  # unit_forget_bias
    plain = BiLSTMEncoder(8, unit_forget_bias=False, bias_initializer="ones")
    plain.build((None, 5, 6))
    np.testing.assert_array_equal(to_numpy(plain.forward_weights[2]), np.ones(32))


@pytest.mark.parametrize("arg", ["Tx", "Ty", "n_a", "n_s", "input_dim", "output_dim"])
def test_builder_validates_arguments(arg):
    args = {"Tx": 30, "Ty": 10, "n_a": 32, "n_s": 64, "input_dim": 37, "output_dim": 11}
    args[arg] = 0
    with pytest.raises(ValueError, match=f"{arg} must be a positive integer; got 0"):
        seq2seq_att(**args)
