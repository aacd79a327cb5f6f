import keras
import numpy as np
import pytest
from keras import ops

from keras_attn.ops import attention, attention_path, causal_mask, multi_head_attention
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
@pytest.mark.parametrize("causal", [False, True])
def test_gradient_matches_finite_differences_of_the_numpy_formula(rng, which, causal):
    fd = FiniteDifferences()
    args = [
        rng.standard_normal((1, 3, 2, 2)).astype(fd.dtype),
        rng.standard_normal((1, 4, 2, 2)).astype(fd.dtype),
        rng.standard_normal((1, 4, 2, 3)).astype(fd.dtype),
    ]
    mask = np.array([False, True, False, True])[None, None, None, :]
    # causal: query 0 may only see key 0, which is masked: a fully masked row
    allowed = mask & np.tril(np.ones((3, 4), bool)) if causal else mask
    probe = rng.standard_normal((1, 3, 2, 3))

    def loss(x):
        inputs = list(args)
        inputs[which] = x
        out = multi_head_attention(*inputs, mask=mask, is_causal=causal)
        return keras.ops.sum(keras.ops.multiply(out, probe.astype(fd.dtype)))

    def np_loss(x):
        inputs = list(args)
        inputs[which] = x
        return float(np.sum(_np_attention(*inputs, mask=allowed) * probe))

    (autodiff,) = gradient(loss, args[which])
    np.testing.assert_allclose(autodiff, numeric_gradient(np_loss, args[which], fd.eps), atol=fd.atol)
    if which:
        assert np.all(autodiff[0, 2] == 0)  # a masked key or value has no influence
    elif causal:
        assert np.all(autodiff[0, 0] == 0)  # the fully masked query


def _softmax_reference(q, k, v, mask=None, scale=None, is_causal=False):
    """Oracle for the gradients: plain softmax attention in float32 ``keras.ops``, differentiated by autodiff.

    ``softmax(where(allowed, Q K^T * scale, -1e9)) V``, a fully masked row
    multiplied by 0 (zero context, zero gradients): no late normalisation, no
    written backward pass.
    """
    q, k, v = (ops.cast(t, "float32") for t in (q, k, v))
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    logits = ops.einsum("btnh,bsnh->bnts", q, k) * ops.cast(scale, "float32")
    allowed = ops.ones(ops.shape(logits), dtype="bool")
    if mask is not None:
        allowed = ops.logical_and(allowed, ops.cast(mask, "bool"))
    if is_causal:
        allowed = ops.logical_and(allowed, np.tril(np.ones(logits.shape[-2:], bool)))
    weights = ops.softmax(ops.where(allowed, logits, ops.full_like(logits, -1e9)), axis=-1)
    weights = weights * ops.cast(ops.any(allowed, axis=-1, keepdims=True), "float32")
    return ops.einsum("bnts,bsnh->btnh", weights, v)


def _masks(rng):
    """(name, mask, is_causal) cases of every kind the layers pass, most with fully masked query rows."""
    keys = np.arange(7)[None] < np.array([[7], [4]])  # right padding of the keys
    queries = np.array([[True] * 5, [True, True, False, True, False]])  # padded query rows: fully masked
    explicit = rng.random((2, 3, 5, 7)) > 0.4
    explicit[1, 2, 3] = False  # one head of one query sees nothing
    no_first = np.ones((2, 1, 1, 7), bool)
    no_first[1, ..., 0] = False  # with causal: query 0 of batch 1 has no key left
    return [
        ("none", None, False),
        ("keys", keys[:, None, None, :], False),
        ("queries", queries[:, None, :, None], False),
        ("explicit", explicit, False),
        ("causal", None, True),
        ("causal_and_keys", no_first, True),
    ]


@pytest.mark.parametrize("case", range(6), ids=["none", "keys", "queries", "explicit", "causal", "causal_and_keys"])
@pytest.mark.parametrize("jit", [False, True], ids=["eager", "xla"])
@pytest.mark.parametrize("contract_first", [False, True], ids=["transposed", "contracted"])
def test_einsum_path_gradients_match_autodiff_of_a_plain_softmax(case, jit, contract_first, rng, monkeypatch):
    """The written backward pass of the einsum path: d/dq, d/dk, d/dv and d/dscale (a tensor) within 1e-5.

    ``contract_first``: both forms of the ``Q^T dS`` and ``dC^T W`` products
    (the shapes here pick one; the other is forced).
    """
    monkeypatch.setattr(attention, "_contract_small_first", lambda head, steps: contract_first)
    _, mask, causal = _masks(rng)[case]
    q = rng.standard_normal((2, 5, 3, 4)).astype("float32")
    k = rng.standard_normal((2, 7, 3, 4)).astype("float32")
    v = rng.standard_normal((2, 7, 3, 3)).astype("float32")  # value head size != key head size: einsum on every backend
    scale = np.array(0.8, "float32")
    probe = rng.standard_normal((2, 5, 3, 3)).astype("float32")
    assert attention_path(ops.convert_to_tensor(q), k, v, mask) == "einsum"

    def loss(attend):
        return lambda q, k, v, s: ops.sum(ops.multiply(attend(q, k, v, mask=mask, scale=s, is_causal=causal), probe))

    np.testing.assert_allclose(
        to_numpy(multi_head_attention(q, k, v, mask, scale, causal)),
        to_numpy(_softmax_reference(q, k, v, mask, scale, causal)),
        atol=1e-5,
    )
    got = gradient(loss(multi_head_attention), q, k, v, scale, jit=jit)
    want = gradient(loss(_softmax_reference), q, k, v, scale)
    for g, w in zip(got, want):
        assert np.all(np.isfinite(g))
        np.testing.assert_allclose(g, w, atol=1e-5)
    full = np.ones((2, 3, 5, 7), bool) & (True if mask is None else mask) & (np.tril(np.ones((5, 7), bool)) if causal else True)
    blind = ~full.any(-1).transpose(0, 2, 1)  # (B, T, N): query rows with no allowed key
    assert np.all(got[0][blind] == 0)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_einsum_path_in_half_precision(dtype, rng):
    """Half-precision inputs: float32 context, gradients in the inputs' dtype, both near the float32 oracle."""
    _, mask, _ = _masks(rng)[2]
    q, k = (rng.standard_normal((2, n, 3, 4)).astype("float32") for n in (5, 7))
    v = rng.standard_normal((2, 7, 3, 3)).astype("float32")
    probe = rng.standard_normal((2, 5, 3, 3)).astype("float32")
    half = [ops.cast(x, dtype) for x in (q, k, v)]
    out = multi_head_attention(*half, mask=mask)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    exact = [to_numpy(ops.cast(x, "float32")) for x in half]  # the half inputs, exactly, in float32
    np.testing.assert_allclose(to_numpy(out), to_numpy(_softmax_reference(*exact, mask)), atol=2e-2)

    def loss(attend):  # float32 in, cast to half first: the gradient is the half-precision one, cast back
        return lambda q, k, v: ops.sum(ops.multiply(attend(*(ops.cast(x, dtype) for x in (q, k, v)), mask=mask), probe))

    for g, w in zip(gradient(loss(multi_head_attention), *exact), gradient(loss(_softmax_reference), *exact)):
        assert np.all(np.isfinite(g))
        np.testing.assert_allclose(g, w, atol=3e-2 * np.abs(w).max())
