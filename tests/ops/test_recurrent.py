import keras
import numpy as np
import pytest
from keras import ops

from keras_attn.ops import bidirectional_lstm
from tests._helpers import BACKEND, FiniteDifferences, float64, gradient, to_numpy

B, T, D, H = 3, 6, 5, 4


def _weights(rng, scale=0.5):
    """Random (kernel, recurrent_kernel, bias) for both directions, biases non-zero."""
    return [
        (rng.standard_normal(shape) * scale).astype("float32")
        for _ in range(2)
        for shape in ((D, 4 * H), (H, 4 * H), (4 * H,))
    ]


def _np_lstm(x, kernel, recurrent, bias, mask):
    """Reference: the Keras LSTM recurrence (gates i, f, c, o) in float64 numpy.

    A masked step carries the state through and outputs zeros, as
    ``Bidirectional(LSTM(return_sequences=True))`` does.
    """
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    h = np.zeros((x.shape[0], recurrent.shape[0]))
    c = np.zeros_like(h)
    out = []
    for t in range(x.shape[1]):
        i, f, g, o = np.split(x[:, t] @ kernel + h @ recurrent + bias, 4, axis=-1)
        keep = mask[:, t, None]
        c = np.where(keep, sigmoid(f) * c + sigmoid(i) * np.tanh(g), c)
        h = np.where(keep, sigmoid(o) * np.tanh(c), h)
        out.append(h * keep)
    return np.stack(out, 1)


def _np_bilstm(x, w, mask=None):
    x = np.asarray(x, "float64")
    w = [np.asarray(v, "float64") for v in w]
    mask = np.ones(x.shape[:2], bool) if mask is None else np.asarray(mask, bool)
    backward = _np_lstm(x[:, ::-1], *w[3:], mask[:, ::-1])[:, ::-1]
    return np.concatenate([_np_lstm(x, *w[:3], mask), backward], -1)


def _masks(rng, batch=B, steps=T):
    """Right padding, a hole in the middle, a fully masked row and random steps."""
    lengths = np.array([steps, 2, steps - 1, 0, steps // 2, 1])[:batch]
    mask = np.arange(steps)[None] < lengths[:, None]
    if batch > 1:
        mask[1] = rng.random(steps) < 0.5
    return mask


def _autodiff_bilstm(x, *w, mask=None):
    """The same function in plain keras.ops, differentiated by the backend (gradient oracle)."""
    mask = np.ones(x.shape[:2], bool) if mask is None else np.asarray(mask, bool)

    def run(x, kernel, recurrent, bias, mask):
        h = ops.zeros((ops.shape(x)[0], recurrent.shape[0]), x.dtype)
        c = h
        out = []
        for t in range(x.shape[1]):
            i, f, g, o = ops.split(ops.matmul(x[:, t], kernel) + ops.matmul(h, recurrent) + bias, 4, axis=-1)
            keep = ops.convert_to_tensor(mask[:, t, None])
            c = ops.where(keep, ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g), c)
            h = ops.where(keep, ops.sigmoid(o) * ops.tanh(c), h)
            out.append(ops.where(keep, h, 0))
        return ops.stack(out, 1)

    backward = ops.flip(run(ops.flip(x, 1), *w[3:], mask[:, ::-1]), 1)
    return ops.concatenate([run(x, *w[:3], mask), backward], -1)


def test_matches_numpy_and_keras_bidirectional_lstm(rng):
    x = rng.standard_normal((B, T, D)).astype("float32")
    w = _weights(rng)
    got = to_numpy(bidirectional_lstm(x, w[:3], w[3:]))
    np.testing.assert_allclose(got, _np_bilstm(x, w), atol=1e-5)
    layer = keras.layers.Bidirectional(keras.layers.LSTM(H, return_sequences=True))
    layer.build((None, T, D))
    layer.set_weights(w)
    np.testing.assert_allclose(got, to_numpy(layer(x)), atol=1e-5)
    # Keras variables are accepted directly, and the batch may differ from call to call.
    got_vars = to_numpy(bidirectional_lstm(x[:1], layer.forward_layer.weights, layer.backward_layer.weights))
    np.testing.assert_allclose(got_vars, got[:1], atol=1e-6)


def test_mask_matches_numpy_and_keras_bidirectional_lstm(rng):
    batch = 6
    x = rng.standard_normal((batch, T, D)).astype("float32")
    w = _weights(rng)
    mask = _masks(rng, batch)
    got = to_numpy(bidirectional_lstm(x, w[:3], w[3:], mask=mask))
    np.testing.assert_allclose(got, _np_bilstm(x, w, mask), atol=1e-5)
    layer = keras.layers.Bidirectional(keras.layers.LSTM(H, return_sequences=True))
    layer.build((None, T, D))
    layer.set_weights(w)
    np.testing.assert_allclose(got, to_numpy(layer(x, mask=mask)), atol=1e-5)
    # The mask changes the result (a test of a mask that is ignored would pass above only by accident).
    assert np.abs(got[0] - to_numpy(bidirectional_lstm(x, w[:3], w[3:]))[0]).max() < 1e-6
    assert np.abs(got[2, 0] - to_numpy(bidirectional_lstm(x, w[:3], w[3:]))[2, 0]).max() > 1e-3
    # 0/1 numbers work as a mask too, and an all-true mask is no mask.
    np.testing.assert_allclose(to_numpy(bidirectional_lstm(x, w[:3], w[3:], mask=mask.astype("float32"))), got)
    np.testing.assert_allclose(
        to_numpy(bidirectional_lstm(x, w[:3], w[3:], mask=np.ones((batch, T), bool))),
        to_numpy(bidirectional_lstm(x, w[:3], w[3:])),
        atol=1e-6,
    )


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_gradient_matches_autodiff_of_the_plain_recurrence(rng, masked):
    batch = 6 if masked else B
    x = rng.standard_normal((batch, T, D)).astype("float32")
    w = _weights(rng)
    probe = rng.standard_normal((batch, T, 2 * H)).astype("float32")
    mask = _masks(rng, batch) if masked else None

    def ours(x, *w):
        return ops.sum(bidirectional_lstm(x, w[:3], w[3:], mask=mask) * ops.convert_to_tensor(probe))

    def plain(x, *w):
        return ops.sum(_autodiff_bilstm(x, *w, mask=mask) * ops.convert_to_tensor(probe))

    for got, want in zip(gradient(ours, x, *w), gradient(plain, x, *w)):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_gradient_matches_finite_differences(rng, masked):
    # Directional derivatives along a random direction per argument: two
    # evaluations each, so the check stays fast on every backend.
    fd = FiniteDifferences()
    x = rng.standard_normal((2, 4, D)).astype(fd.dtype)
    w = [v.astype(fd.dtype) for v in _weights(rng)]
    probe = rng.standard_normal((2, 4, 2 * H)).astype(fd.dtype)
    mask = np.array([[True, False, True, True], [False, True, True, False]]) if masked else None
    with float64():

        def loss(x, *w):
            return ops.sum(bidirectional_lstm(x, w[:3], w[3:], mask=mask) * ops.convert_to_tensor(probe))

        grads = gradient(loss, x, *w)
        args = [x] + w
        for k, arg in enumerate(args):
            direction = rng.standard_normal(arg.shape).astype(fd.dtype)

            def along(step, k=k, direction=direction):
                moved = list(args)
                moved[k] = (args[k] + step * direction).astype(fd.dtype)
                return float(to_numpy(loss(*moved)))

            numeric = (along(fd.eps) - along(-fd.eps)) / (2 * fd.eps)
            np.testing.assert_allclose(np.sum(grads[k] * direction), numeric, atol=fd.atol, rtol=1e-4)


class _Encoder(keras.layers.Layer):
    """A layer around the op, to train it under jit."""

    def build(self, input_shape):
        init = keras.initializers.RandomNormal(stddev=0.5, seed=1)
        self.w = [
            self.add_weight(shape=shape, initializer=init)
            for _ in range(2)
            for shape in ((input_shape[-1], 4 * H), (H, 4 * H), (4 * H,))
        ]

    def call(self, x):
        return bidirectional_lstm(x, self.w[:3], self.w[3:])


def test_trains_under_jit_like_the_keras_layer(rng):
    x = rng.standard_normal((8, T, D)).astype("float32")
    y = rng.standard_normal((8, T, 2 * H)).astype("float32")
    ours = keras.Sequential([keras.Input((T, D)), _Encoder()])
    keras_layer = keras.Sequential(
        [keras.Input((T, D)), keras.layers.Bidirectional(keras.layers.LSTM(H, return_sequences=True))]
    )
    keras_layer.set_weights(ours.get_weights())
    jit = BACKEND != "torch"
    for m in (ours, keras_layer):
        m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", jit_compile=jit)
        m.fit(x, y, epochs=2, batch_size=4, verbose=0)
    # Four SGD steps apart, the two differ only by float32 rounding (which TF's
    # threaded reductions make vary a little from run to run: up to ~1e-4 seen).
    for a, b in zip(ours.get_weights(), keras_layer.get_weights()):
        np.testing.assert_allclose(a, b, atol=5e-4)
    np.testing.assert_allclose(ours.predict(x, verbose=0), keras_layer.predict(x, verbose=0), atol=5e-4)


def test_half_precision_inputs_compute_in_float32(rng):
    x = rng.standard_normal((B, T, D)).astype("float16")
    w = [v.astype("float16") for v in _weights(rng)]
    out = bidirectional_lstm(x, w[:3], w[3:])
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    np.testing.assert_allclose(to_numpy(out), _np_bilstm(x, w), atol=1e-5)


@pytest.mark.parametrize(
    "x_shape, forward, backward, message",
    [
        ((B, T), ((D, 4 * H), (H, 4 * H), (4 * H,)), None, "batch, steps, features"),
        ((B, T, D), ((D + 1, 4 * H), (H, 4 * H), (4 * H,)), None, "input_dim=5"),
        ((B, T, D), ((D, 4 * H), (H, 4 * H)), None, "kernel, recurrent_kernel, bias"),
        ((B, T, D), ((D, 4 * H), (H, 4 * H), (4 * H,)), ((D, 8), (2, 8), (8,)), "same number of units"),
        ((B, T, D), ((D, 4 * H), (H, 4 * H), (4 * H,)), "mask", r"`mask` must have shape \(batch, steps\) = \(3, 6\)"),
    ],
)
def test_bad_shapes_are_clear_errors(x_shape, forward, backward, message):
    x = np.zeros(x_shape, "float32")
    fw = tuple(np.zeros(s, "float32") for s in forward)
    mask = np.ones((B, T + 1), bool) if backward == "mask" else None
    bw = fw if backward in (None, "mask") else tuple(np.zeros(s, "float32") for s in backward)
    with pytest.raises(ValueError, match=message):
        bidirectional_lstm(x, fw, bw, mask=mask)
