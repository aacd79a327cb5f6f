import keras
import numpy as np
import pytest

from keras_attn.ops import causal_mask, multi_head_attention
from tests._helpers import FiniteDifferences, gradient, np_softmax, numeric_gradient, to_numpy


def _np_attention(q, k, v, mask=None, scale=None):
    """Reference in (B, T, N, H) layout; masked rows give a zero context."""
    q, k, v = (np.asarray(t, "float64") for t in (q, k, v))
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    logits = np.einsum("btnh,bsnh->bnts", q, k) * scale
    weights = np_softmax(logits, mask)
    return np.einsum("bnts,bsnh->btnh", weights, v)


@pytest.fixture
def qkv(rng):
    q = rng.standard_normal((2, 5, 3, 4)).astype("float32") * 2
    k = rng.standard_normal((2, 7, 3, 4)).astype("float32") * 2
    v = rng.standard_normal((2, 7, 3, 6)).astype("float32")  # value head size differs from the key's
    return q, k, v


def test_matches_numpy(qkv):
    q, k, v = qkv
    np.testing.assert_allclose(to_numpy(multi_head_attention(q, k, v)), _np_attention(q, k, v), atol=1e-5)
    np.testing.assert_allclose(
        to_numpy(multi_head_attention(q, k, v, scale=0.3)), _np_attention(q, k, v, scale=0.3), atol=1e-5
    )


def test_same_head_sizes_match_numpy_with_mask_on_every_path(rng):
    # value head size == key head size: PyTorch takes its fused kernel here.
    q = rng.standard_normal((2, 5, 3, 4)).astype("float32")
    k = rng.standard_normal((2, 7, 3, 4)).astype("float32")
    v = rng.standard_normal((2, 7, 3, 4)).astype("float32")
    mask = rng.random((2, 1, 5, 7)) > 0.4
    mask[1, 0, 2] = False  # a query with no allowed key
    got = to_numpy(multi_head_attention(q, k, v, mask=mask))
    np.testing.assert_allclose(got, _np_attention(q, k, v, mask), atol=1e-5)
    assert np.all(got[1, 2] == 0)


def test_mask_and_fully_masked_rows(qkv, rng):
    q, k, v = qkv
    mask = rng.random((2, 3, 5, 7)) > 0.5
    mask[0, :, 1] = False  # query 1 of batch 0 sees nothing in any head
    got = to_numpy(multi_head_attention(q, k, v, mask=mask))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, _np_attention(q, k, v, mask), atol=1e-5)
    assert np.all(got[0, 1] == 0)


def test_causal_alone_and_with_a_mask(rng):
    q = rng.standard_normal((2, 6, 2, 4)).astype("float32")
    kv = rng.standard_normal((2, 6, 2, 4)).astype("float32")
    causal = np.tril(np.ones((6, 6), bool))
    np.testing.assert_allclose(
        to_numpy(multi_head_attention(q, kv, kv, is_causal=True)), _np_attention(q, kv, kv, causal), atol=1e-5
    )
    keys = np.array([[True] * 6, [False, True, True, True, True, True]])[:, None, None, :]
    got = to_numpy(multi_head_attention(q, kv, kv, mask=keys, is_causal=True))
    np.testing.assert_allclose(got, _np_attention(q, kv, kv, keys & causal), atol=1e-5)
    assert np.all(got[1, 0] == 0)  # batch 1, query 0: its only causal key is masked
    np.testing.assert_array_equal(to_numpy(causal_mask(3, 4))[0], np.tril(np.ones((3, 4), bool)))


def test_large_logits_stay_finite(rng):
    q = rng.standard_normal((1, 4, 1, 8)).astype("float32") * 100
    k = rng.standard_normal((1, 4, 1, 8)).astype("float32") * 100
    v = rng.standard_normal((1, 4, 1, 8)).astype("float32")
    got = to_numpy(multi_head_attention(q, k, v))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, _np_attention(q, k, v), atol=1e-4)


@pytest.mark.parametrize("which", [0, 1, 2])
def test_gradient_matches_finite_differences_of_the_numpy_formula(rng, which):
    fd = FiniteDifferences()
    args = [
        rng.standard_normal((1, 3, 2, 2)).astype(fd.dtype),
        rng.standard_normal((1, 4, 2, 2)).astype(fd.dtype),
        rng.standard_normal((1, 4, 2, 3)).astype(fd.dtype),
    ]
    mask = np.array([True, True, False, True])[None, None, None, :]
    probe = rng.standard_normal((1, 3, 2, 3))

    def loss(x):
        inputs = list(args)
        inputs[which] = x
        return keras.ops.sum(keras.ops.multiply(multi_head_attention(*inputs, mask=mask), probe.astype(fd.dtype)))

    def np_loss(x):
        inputs = list(args)
        inputs[which] = x
        return float(np.sum(_np_attention(*inputs, mask=mask) * probe))

    (autodiff,) = gradient(loss, args[which])
    np.testing.assert_allclose(autodiff, numeric_gradient(np_loss, args[which], fd.eps), atol=fd.atol)
    if which:
        assert np.all(autodiff[0, 2] == 0)  # a masked key or value has no influence
