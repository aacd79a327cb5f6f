"""Chunked (online-softmax, custom-gradient) attention against the unchunked one, and the dispatch rule."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_attn import GlobalAttention, MultiHeadAttention, SelfAttention
from keras_attn.ops import multi_head_attention
from keras_attn.ops import attention
from keras_attn.ops.attention import attention_path
from tests._helpers import BACKEND, gradient, to_numpy


def _qkv(rng, value_dim=3):
    q = rng.standard_normal((2, 7, 2, 4)).astype("float32")
    k = rng.standard_normal((2, 9, 2, 4)).astype("float32")
    v = rng.standard_normal((2, 9, 2, value_dim)).astype("float32")
    return q, k, v


@pytest.mark.parametrize("causal, masked", [(False, True), (True, False)])
def test_outputs_and_gradients_equal_unchunked(causal, masked, rng):
    q, k, v = _qkv(rng)
    mask = None
    if masked:
        mask = rng.random((2, 1, 7, 9)) > 0.4
        mask[0, 0, 3] = False  # a fully masked row
    assert attention_path(ops.convert_to_tensor(q), k, v, mask, None, 4) == "chunked"
    probe = rng.standard_normal((2, 7, 2, 3)).astype("float32")

    def loss(chunk):
        return lambda q, k, v: ops.sum(ops.multiply(multi_head_attention(q, k, v, mask, is_causal=causal, chunk_size=chunk), probe))

    got = to_numpy(multi_head_attention(q, k, v, mask, is_causal=causal, chunk_size=4))
    want = to_numpy(multi_head_attention(q, k, v, mask, is_causal=causal))
    np.testing.assert_allclose(got, want, atol=1e-5)
    if masked:
        assert np.all(got[0, 3] == 0)
    for g_chunked, g_full in zip(gradient(loss(4), q, k, v), gradient(loss(None), q, k, v)):
        assert np.all(np.isfinite(g_chunked))
        np.testing.assert_allclose(g_chunked, g_full, atol=1e-5)


@pytest.mark.parametrize(
    "steps, source, chunk, causal, mask_shape",
    [
        (8, 8, 4, False, None),  # even blocks, no mask
        (8, 8, 4, True, None),  # causal, blocks aligned
        (7, 10, 3, True, (2, 2, 7, 10)),  # ragged last blocks on both axes, causal and a per-head mask
        (10, 6, 4, False, (2, 1, 1, 6)),  # a padding (key) mask, T > S
        (5, 11, 4, False, (1, 1, 5, 11)),  # a mask shared by the batch, T < chunk
        (9, 9, 2, True, (2, 1, 9, 1)),  # a query mask (fully masked rows)
    ],
)
@pytest.mark.parametrize("contract_first", [False, True], ids=["transposed", "contracted"])
def test_custom_gradient_equals_unchunked(steps, source, chunk, causal, mask_shape, contract_first, rng, monkeypatch):
    monkeypatch.setattr(attention, "_contract_small_first", lambda head, steps: contract_first)  # both product forms
    q = rng.standard_normal((2, steps, 2, 4)).astype("float32")
    k = rng.standard_normal((2, source, 2, 4)).astype("float32")
    v = rng.standard_normal((2, source, 2, 3)).astype("float32")
    mask = None
    if mask_shape is not None:
        mask = rng.random(mask_shape) > 0.3
        mask[(0,) * (len(mask_shape) - 1)] = False  # at least one fully masked row (or a masked key)
    if BACKEND == "torch" and mask is None:
        pytest.skip("without a mask, torch's chunked configuration runs SDPA (see the dispatch rule)")
    assert attention_path(ops.convert_to_tensor(q), k, v, mask, None, chunk) == "chunked"
    probe = rng.standard_normal((2, steps, 2, 3)).astype("float32")

    def loss(size):
        return lambda q, k, v: ops.sum(ops.multiply(multi_head_attention(q, k, v, mask, is_causal=causal, chunk_size=size), probe))

    got = to_numpy(multi_head_attention(q, k, v, mask, is_causal=causal, chunk_size=chunk))
    want = to_numpy(multi_head_attention(q, k, v, mask, is_causal=causal))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, atol=1e-5)
    for g_chunked, g_full in zip(gradient(loss(chunk), q, k, v), gradient(loss(None), q, k, v)):
        assert np.all(np.isfinite(g_chunked))
        np.testing.assert_allclose(g_chunked, g_full, atol=1e-5)


def test_fully_masked_everything_gives_zeros_and_zero_gradients(rng):
    q, k, v = _qkv(rng)
    mask = np.zeros((2, 1, 7, 9), bool)
    out = to_numpy(multi_head_attention(q, k, v, mask, chunk_size=4))
    assert np.all(out == 0)
    grads = gradient(lambda q, k, v: ops.sum(multi_head_attention(q, k, v, mask, chunk_size=4)), q, k, v)
    for g in grads:
        assert np.all(g == 0)


def test_learned_scale_gradient_equals_unchunked(rng):
    q, k, v = _qkv(rng)
    mask = rng.random((2, 1, 7, 9)) > 0.3
    scale = np.array(0.7, "float32")

    def loss(size):
        return lambda q, k, v, s: ops.sum(multi_head_attention(q, k, v, mask, scale=s, chunk_size=size) ** 2)

    for g_chunked, g_full in zip(gradient(loss(4), q, k, v, scale), gradient(loss(None), q, k, v, scale)):
        np.testing.assert_allclose(g_chunked, g_full, atol=1e-5)


@pytest.mark.parametrize("causal", [False, True])
def test_layer_weight_gradients_equal_unchunked(causal, rng):
    x = rng.standard_normal((2, 10, 8)).astype("float32")
    xm = np.arange(10)[None] < np.array([[10], [6]])
    chunked, full = MultiHeadAttention(2, 4, chunk_size=3), MultiHeadAttention(2, 4)
    _same_weights(full, chunked, x, x)
    probe = rng.standard_normal((2, 10, 8)).astype("float32")

    def loss(layer):
        def fn(*weights):
            fixed = [v.value for v in layer.non_trainable_variables]
            out, _ = layer.stateless_call(list(weights), fixed, x, x, query_mask=xm, value_mask=xm, use_causal_mask=causal)
            return ops.sum(ops.multiply(out, probe))

        return fn

    weights = [to_numpy(w) for w in full.trainable_variables]
    for g_chunked, g_full in zip(gradient(loss(chunked), *weights), gradient(loss(full), *weights)):
        np.testing.assert_allclose(g_chunked, g_full, atol=1e-5)


@pytest.mark.parametrize("causal", [False, True])
def test_compiled_training_step_equals_unchunked(causal, rng):
    """One SGD step of a model, XLA-compiled on TensorFlow and JAX: the same weights after it."""
    x = rng.standard_normal((2, 12, 8)).astype("float32")
    y = rng.standard_normal((2, 12, 8)).astype("float32")
    models = []
    for chunk in (5, None):
        inputs = keras.Input((12, 8))
        masked = keras.layers.Masking(0.0)(inputs)
        layer = MultiHeadAttention(2, 4, chunk_size=chunk)
        models.append(keras.Model(inputs, layer(masked, masked, use_causal_mask=causal)))
    models[1].set_weights(models[0].get_weights())
    x[1, 8:] = 0.0  # padding, masked by Masking
    for model in models:
        model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse", jit_compile=BACKEND != "torch")
        model.train_on_batch(x, y)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_half_precision_inputs_give_float32_like_unchunked(rng):
    q, k, v = (x.astype("float16") for x in _qkv(rng))
    got = multi_head_attention(q, k, v, chunk_size=4)
    assert keras.backend.standardize_dtype(got.dtype) == "float32"
    np.testing.assert_allclose(to_numpy(got), to_numpy(multi_head_attention(q, k, v)), atol=1e-3)


def test_dispatch_rule_on_cpu(rng):
    q, k, v = (ops.convert_to_tensor(x) for x in _qkv(rng, value_dim=4))
    mask = ops.ones((2, 1, 7, 9), dtype="bool")
    torch = BACKEND == "torch"
    assert attention_path(q, k, v, None, True, None) == "fused"
    assert attention_path(q, k, v, None, None, None) == ("fused" if torch else "einsum")
    assert attention_path(q, k, v, mask, None, 4) == "chunked"
    assert attention_path(q, k, v, None, None, 4) == ("fused" if torch else "chunked")  # SDPA bounds memory itself
    assert attention_path(q, k, v, None, None, 9) == ("fused" if torch else "einsum")  # one chunk: nothing to save
    assert attention_path(q, k, v[..., :3], None, None, 4) == "chunked"


def test_auto_and_bad_chunk_sizes():
    from keras_attn.ops.attention import resolve_chunk_size

    assert resolve_chunk_size("auto", 2048) is None
    assert resolve_chunk_size("auto", 4096) == 256
    for bad in (0, -1, 2.5, True, "big"):
        with pytest.raises(ValueError, match="chunk_size must be None, a positive integer or 'auto'"):
            resolve_chunk_size(bad)
    with pytest.raises(ValueError, match="dropout must be 0 when chunk_size is set"):
        MultiHeadAttention(2, 3, dropout=0.1, chunk_size=4)
    with pytest.raises(ValueError, match="chunk_size needs score='dot' or 'scaled_dot'"):
        GlobalAttention(score="additive", chunk_size=4)


def _same_weights(a, b, *args):
    a(*args), b(*args)
    b.set_weights(a.get_weights())


@pytest.mark.parametrize("causal", [False, True])
def test_layers_equal_their_unchunked_selves(causal, rng):
    x = rng.standard_normal((2, 7, 4)).astype("float32")
    v = rng.standard_normal((2, 9, 4)).astype("float32")
    xm, vm = np.arange(7)[None] < np.array([[7], [4]]), np.arange(9)[None] < np.array([[9], [2]])
    pairs = [
        (MultiHeadAttention(2, 3, chunk_size=4), MultiHeadAttention(2, 3), (x, v), {"value_mask": vm, "query_mask": xm}),
        (SelfAttention(3, chunk_size=3), SelfAttention(3), (x,), {"mask": xm}),
        (GlobalAttention("scaled_dot", use_scale=True, chunk_size=2), GlobalAttention("scaled_dot", use_scale=True), ([x, v],), {"mask": [xm, vm]}),
    ]
    for chunked, full, args, masks in pairs:
        _same_weights(full, chunked, *args)
        got = chunked(*args, use_causal_mask=causal, **masks)
        np.testing.assert_allclose(to_numpy(got), to_numpy(full(*args, use_causal_mask=causal, **masks)), atol=1e-5)
        assert chunked.get_config()["chunk_size"] == type(chunked).from_config(chunked.get_config()).chunk_size
