"""MultiHeadAttention is a drop-in for keras.layers.MultiHeadAttention (the oracle)."""

import keras
import numpy as np
import pytest

from keras_attn import MultiHeadAttention
from tests._helpers import gradient, random_mask, to_numpy

CONFIGS = [
    {"num_heads": 2, "key_dim": 3},
    {"num_heads": 3, "key_dim": 2, "value_dim": 4, "output_shape": 5},
    {"num_heads": 1, "key_dim": 4, "use_bias": False, "output_shape": (2, 3)},
]


def _pair(config, q, v, k=None):
    ours, ref = MultiHeadAttention(**config), keras.layers.MultiHeadAttention(**config)
    ours(q, v, k), ref(q, v, k, return_attention_scores=True)  # (Keras's fused path fails on JAX if value_dim != key_dim)
    assert [w.shape for w in ours.weights] == [w.shape for w in ref.weights]
    assert [w.path.split("/", 1)[1] for w in ours.weights] == [w.path.split("/", 1)[1] for w in ref.weights]
    weights = [np.asarray(rng_w, "float32") for rng_w in ref.get_weights()]
    rs = np.random.default_rng(7)
    weights = [rs.standard_normal(w.shape).astype("float32") * 0.5 for w in weights]  # non-zero biases too
    ref.set_weights(weights)
    ours.set_weights(ref.get_weights())
    return ours, ref


@pytest.mark.parametrize("config", CONFIGS, ids=["basic", "value_dim", "no_bias"])
@pytest.mark.parametrize("with_key", [False, True])
def test_equals_keras_without_masks(config, with_key, rng):
    q = rng.standard_normal((3, 4, 6)).astype("float32")
    v = rng.standard_normal((3, 5, 3)).astype("float32")
    k = rng.standard_normal((3, 5, 2)).astype("float32") if with_key else None
    ours, ref = _pair(config, q, v, k)
    for causal in (False, True):
        got = ours(q, v, k, use_causal_mask=causal)
        # Keras's own fused path fails on JAX when value_dim != key_dim; its
        # explicit path (taken when the scores are returned) is the oracle then.
        want = ref(q, v, k, use_causal_mask=causal, return_attention_scores=True)[0]
        np.testing.assert_allclose(to_numpy(got), to_numpy(want), atol=1e-5)
    got, gs = ours(q, v, k, return_attention_scores=True)
    want, ws = ref(q, v, k, return_attention_scores=True)
    np.testing.assert_allclose(to_numpy(got), to_numpy(want), atol=1e-5)
    np.testing.assert_allclose(to_numpy(gs), to_numpy(ws), atol=1e-5)


def _masked_inputs(rng, batch):
    """Query and value (batch, 5, 6), a padding value mask and an attention mask."""
    q = rng.standard_normal((batch, 5, 6)).astype("float32")
    v = rng.standard_normal((batch, 5, 6)).astype("float32")
    vm = random_mask(rng, batch, 5)
    am = rng.random((batch, 5, 5)) < 0.7
    am[:, :, 0] = True  # every query keeps a key, so Keras's rows are never fully masked (it averages those)
    return q, v, vm, am


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("return_scores", [False, True])
def test_equals_keras_with_masks(causal, return_scores, rng):
    q, v, vm, am = _masked_inputs(rng, 4)
    ours, ref = _pair({"num_heads": 2, "key_dim": 3}, q, v)
    kwargs = {"value_mask": vm, "attention_mask": am, "use_causal_mask": causal}
    got = ours(q, v, return_attention_scores=return_scores, **kwargs)
    want = ref(q, v, return_attention_scores=return_scores, **kwargs)
    for g, w in zip(keras.tree.flatten(got), keras.tree.flatten(want)):
        np.testing.assert_allclose(to_numpy(g), to_numpy(w), atol=1e-5)


@pytest.mark.parametrize("config", CONFIGS[:2], ids=["basic", "value_dim"])
@pytest.mark.parametrize("causal", [False, True])
def test_weight_gradients_equal_keras(config, causal, rng):
    """The training signal: gradients of every weight equal those through Keras's layer (with masks, XLA on TF and JAX)."""
    q, v, vm, am = _masked_inputs(rng, 3)
    ours, ref = _pair(config, q, v)
    probe = rng.standard_normal(tuple(ours(q, v).shape)).astype("float32")

    def loss(layer, scores):
        fixed = [w.value for w in layer.non_trainable_variables]

        def fn(*weights):
            out, _ = layer.stateless_call(
                list(weights), fixed, q, v, value_mask=vm, attention_mask=am, use_causal_mask=causal,
                return_attention_scores=scores,
            )
            return keras.ops.sum(keras.ops.multiply(out[0] if scores else out, probe))

        return fn

    weights = [to_numpy(w) for w in ref.trainable_variables]
    jit = keras.backend.backend() != "torch"
    # Ours on its fast path; Keras's on its explicit one (its fused path fails on JAX when value_dim != key_dim).
    for got, want in zip(gradient(loss(ours, False), *weights, jit=jit), gradient(loss(ref, True), *weights)):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_equals_keras_with_keras_masks_in_a_model(rng):
    """Embedding(mask_zero=True) masks on query and value, keras-style call."""
    ids_q = rng.integers(1, 9, size=(4, 5))
    ids_v = rng.integers(1, 9, size=(4, 6))
    ids_q[0, 3:] = 0
    ids_v[1, 2:] = 0
    ids_v[3, 5:] = 0
    iq, iv = keras.Input((5,), dtype="int32"), keras.Input((6,), dtype="int32")
    emb = keras.layers.Embedding(9, 4, mask_zero=True)
    eq, ev = emb(iq), emb(iv)
    ours, ref = MultiHeadAttention(2, 3), keras.layers.MultiHeadAttention(2, 3)
    m_ours = keras.Model([iq, iv], ours(eq, ev, use_causal_mask=True))
    m_ref = keras.Model([iq, iv], ref(eq, ev, use_causal_mask=True))
    ours.set_weights(ref.get_weights())
    got, want = to_numpy(m_ours([ids_q, ids_v])), to_numpy(m_ref([ids_q, ids_v]))
    valid = ids_q != 0  # Keras averages padded query rows; we give them a zero context
    np.testing.assert_allclose(got[valid], want[valid], atol=1e-5)
    # the list call with explicit masks gives the same outputs
    e_q, e_v = to_numpy(emb(ids_q)), to_numpy(emb(ids_v))
    listed = to_numpy(ours([e_q, e_v], mask=[ids_q != 0, ids_v != 0], use_causal_mask=True))
    np.testing.assert_allclose(listed, got, atol=1e-5)


def test_fast_path_is_used_unless_scores_are_returned(rng, monkeypatch):
    from keras_attn.layers.sequence import multi_head

    calls, kernel_calls = [], []
    original, original_kernel = multi_head.multi_head_attention, keras.ops.dot_product_attention

    def spy(*args, **kwargs):
        calls.append(kwargs.get("is_causal"))
        return original(*args, **kwargs)

    def kernel_spy(*args, **kwargs):
        kernel_calls.append(kwargs.get("is_causal"))
        return original_kernel(*args, **kwargs)

    monkeypatch.setattr(multi_head, "multi_head_attention", spy)
    monkeypatch.setattr(keras.ops, "dot_product_attention", kernel_spy)
    q = rng.standard_normal((2, 4, 6)).astype("float32")
    layer = MultiHeadAttention(2, 3)
    layer(q, q)
    layer(q, q, use_causal_mask=True)
    assert calls == [False, True]
    # PyTorch runs its fused SDPA kernel (causal without a materialised mask); TF and JAX the late-normalised einsums.
    assert kernel_calls == ([False, True] if keras.backend.backend() == "torch" else [])
    layer(q, q, return_attention_scores=True)
    assert len(calls) == 2


def test_fully_masked_rows_are_finite_and_zero(rng):
    q = rng.standard_normal((2, 3, 4)).astype("float32")
    vm = np.array([[True, False, False], [False, False, False]])
    layer = MultiHeadAttention(2, 2, use_bias=False)
    for scores in (False, True):
        out = layer(q, q, value_mask=vm, return_attention_scores=scores)
        out, s = (out if scores else (out, None))
        assert np.all(np.isfinite(to_numpy(out)))
        assert np.all(to_numpy(out)[1] == 0)  # no bias: zero context -> zero output
        if scores:
            assert np.all(to_numpy(s)[1] == 0)


def test_dropout(rng):
    q = rng.standard_normal((2, 4, 6)).astype("float32")
    layer = MultiHeadAttention(2, 3, dropout=0.5, seed=1)
    plain = MultiHeadAttention(2, 3)
    layer(q, q), plain(q, q)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(to_numpy(layer(q, q)), to_numpy(plain(q, q)), atol=1e-5)
    assert not np.allclose(to_numpy(layer(q, q, training=True)), to_numpy(plain(q, q)), atol=1e-4)


def test_keras_config_keys_are_accepted():
    ref = keras.layers.MultiHeadAttention(2, 3, value_dim=4, dropout=0.1, output_shape=5, seed=3)
    config = {k: v for k, v in ref.get_config().items() if k not in ("use_gate", "attention_axes", "sliding_window")}
    ours = MultiHeadAttention.from_config(config)
    assert (ours.num_heads, ours.key_dim, ours.value_dim, ours.dropout) == (2, 3, 4, 0.1)
