"""GlobalAttention against numpy oracles and against keras.layers.Attention."""

import keras
import numpy as np
import pytest

from keras_attn import GlobalAttention
from tests._helpers import random_mask, to_numpy
from tests.layers.sequence import _oracle

SCORES = ("dot", "scaled_dot", "general", "cosine", "concat", "additive")


def _data(rng, b=3, tq=4, tv=6, dq=5, dv=3, dk=None):
    q = rng.standard_normal((b, tq, dq)).astype("float32")
    v = rng.standard_normal((b, tv, dv)).astype("float32")
    k = rng.standard_normal((b, tv, dk)).astype("float32") if dk else None
    return q, v, k


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("causal", [False, True])
def test_matches_numpy_oracle(score, causal, rng):
    same = score in ("dot", "scaled_dot", "cosine")
    q, v, k = _data(rng, dq=5, dk=5 if same else 4)
    qm, vm = random_mask(rng, 3, 4), random_mask(rng, 3, 6)
    layer = GlobalAttention(score=score, units=3)
    out, w = layer([q, v, k], mask=[qm, vm], return_attention_scores=True, use_causal_mask=causal)
    raw = _oracle.score(score, q, k, _oracle.weights_by_name(layer))
    mask = vm[:, None, :] & (_oracle.causal(4, 6)[None] if causal else True)
    want_out, want_w = _oracle.attend(raw, v, mask, qm)
    np.testing.assert_allclose(to_numpy(w), want_w, atol=1e-5)
    np.testing.assert_allclose(to_numpy(out), want_out, atol=1e-5)


@pytest.mark.parametrize("use_scale", [False, True])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("with_key", [False, True])
def test_dot_equals_keras_attention(use_scale, causal, with_key, rng):
    q, v, k = _data(rng, b=4, tq=5, tv=5, dq=4, dv=3, dk=4 if with_key else None)
    if not with_key:
        v = rng.standard_normal((4, 5, 4)).astype("float32")
    inputs = [q, v, k] if with_key else [q, v]
    qm, vm = random_mask(rng, 4, 5), random_mask(rng, 4, 5)
    ours = GlobalAttention(use_scale=use_scale)
    ref = keras.layers.Attention(use_scale=use_scale)
    ours(inputs), ref(inputs)
    if use_scale:
        ref.set_weights([np.array(1.7, "float32")])
        ours.set_weights(ref.get_weights())
    for mask in (None, [qm, vm], [None, vm], [qm, None]):
        got, gw = ours(inputs, mask=mask, use_causal_mask=causal, return_attention_scores=True)
        want, ww = ref(inputs, mask=mask, use_causal_mask=causal, return_attention_scores=True)
        np.testing.assert_allclose(to_numpy(got), to_numpy(want), atol=1e-5)
        np.testing.assert_allclose(to_numpy(gw), to_numpy(ww), atol=1e-5)


def test_equals_keras_attention_in_a_masked_model(rng):
    """Keras masks (Embedding(mask_zero=True)) reach both layers the same way."""
    ids_q = rng.integers(1, 9, size=(4, 5))
    ids_v = rng.integers(1, 9, size=(4, 7))
    ids_q[1, 3:] = 0
    ids_v[0, 4:] = 0
    ids_v[2, 2:] = 0
    iq, iv = keras.Input((5,), dtype="int32"), keras.Input((7,), dtype="int32")
    emb = keras.layers.Embedding(9, 4, mask_zero=True)
    eq, ev = emb(iq), emb(iv)
    ours = keras.Model([iq, iv], GlobalAttention()([eq, ev]))
    ref = keras.Model([iq, iv], keras.layers.Attention()([eq, ev]))
    np.testing.assert_allclose(
        to_numpy(ours([ids_q, ids_v])), to_numpy(ref([ids_q, ids_v])), atol=1e-5
    )


@pytest.mark.parametrize("score", SCORES)
def test_fully_masked_value_rows_give_zeros(score, rng):
    q, v, _ = _data(rng, dq=3, dv=3)
    vm = random_mask(rng, 3, 6)
    vm[1] = False
    out, w = GlobalAttention(score=score)([q, v], mask=[None, vm], return_attention_scores=True)
    out, w = to_numpy(out), to_numpy(w)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(w))
    assert np.all(out[1] == 0) and np.all(w[1] == 0)


def test_dropout_only_in_training_and_seeded(rng):
    q, v, _ = _data(rng, dq=3, dv=3)
    layer = GlobalAttention(dropout=0.5, seed=3)
    plain = to_numpy(GlobalAttention()([q, v]))
    np.testing.assert_allclose(to_numpy(layer([q, v])), plain, atol=1e-6)
    dropped = to_numpy(layer([q, v], training=True))
    assert not np.allclose(dropped, plain)
    again = to_numpy(GlobalAttention(dropout=0.5, seed=3)([q, v], training=True))
    np.testing.assert_allclose(again, dropped, atol=1e-6)


def test_output_carries_the_query_mask():
    iq, iv = keras.Input((5, 4)), keras.Input((6, 4))
    mq, mv = keras.layers.Masking(0.0)(iq), keras.layers.Masking(0.0)(iv)
    out = GlobalAttention()([mq, mv])
    pooled = keras.layers.GlobalAveragePooling1D()(out)
    model = keras.Model([iq, iv], pooled)
    q = np.ones((1, 5, 4), "float32")
    q[0, 2:] = 0.0
    v = np.ones((1, 6, 4), "float32")
    got = to_numpy(model([q, v]))
    # mask-aware average over the 2 valid query steps (each output is mean(v) = 1)
    np.testing.assert_allclose(got, np.ones((1, 4)), atol=1e-6)


def test_symbolic_shapes():
    out, w = GlobalAttention(score="concat", units=2)([keras.Input((None, 4)), keras.Input((7, 3))], return_attention_scores=True)
    assert tuple(out.shape) == (None, None, 3) and tuple(w.shape) == (None, None, 7)


def test_dot_score_needs_equal_dims():
    with pytest.raises(ValueError, match=r"GlobalAttention .* expects value of shape with equal feature sizes"):
        GlobalAttention()([keras.Input((4, 3)), keras.Input((5, 2))])
