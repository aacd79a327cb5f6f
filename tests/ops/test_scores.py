import numpy as np
import pytest

from keras_attn import ops
from tests._helpers import to_numpy

B, TQ, TK, D = 2, 3, 5, 4


@pytest.fixture
def qk(rng):
    return rng.standard_normal((B, TQ, D)).astype("float32"), rng.standard_normal((B, TK, D)).astype("float32")


def test_dot(qk):
    q, k = qk
    np.testing.assert_allclose(to_numpy(ops.dot_score(q, k)), np.einsum("bqd,bkd->bqk", q, k), atol=1e-5)


def test_scaled_dot(qk):
    q, k = qk
    expected = np.einsum("bqd,bkd->bqk", q, k) / np.sqrt(D)
    np.testing.assert_allclose(to_numpy(ops.scaled_dot_score(q, k)), expected, atol=1e-5)
    np.testing.assert_allclose(to_numpy(ops.scaled_dot_score(q, k, scale=0.3)), expected * np.sqrt(D) * 0.3, atol=1e-5)


@pytest.mark.parametrize("tq", [1, TQ, 7])  # both association orders
def test_general(rng, tq):
    q = rng.standard_normal((B, tq, D)).astype("float32")
    k = rng.standard_normal((B, TK, 6)).astype("float32")
    w = rng.standard_normal((6, D)).astype("float32")
    expected = np.einsum("bqd,bkd->bqk", q, k @ w)
    np.testing.assert_allclose(to_numpy(ops.general_score(q, k, w)), expected, atol=1e-4)


def test_cosine(qk):
    q, k = qk
    qn = q / np.linalg.norm(q, axis=-1, keepdims=True)
    kn = k / np.linalg.norm(k, axis=-1, keepdims=True)
    got = to_numpy(ops.cosine_score(q, k))
    np.testing.assert_allclose(got, np.einsum("bqd,bkd->bqk", qn, kn), atol=1e-5)
    assert np.all(np.abs(got) <= 1 + 1e-6)


def test_cosine_zero_vector_scores_zero(qk):
    q, k = qk
    k = k.copy()
    k[:, 0] = 0
    got = to_numpy(ops.cosine_score(q, k))
    assert np.all(np.isfinite(got)) and np.all(got[:, :, 0] == 0)


def test_additive(rng, qk):
    q, k = qk
    wq, wk = rng.standard_normal((D, 3)), rng.standard_normal((D, 3))
    v, b = rng.standard_normal((3,)), rng.standard_normal((3,))
    expected = np.tanh((q @ wq)[:, :, None, :] + (k @ wk)[:, None, :, :] + b) @ v
    got = ops.additive_score(q, k, wq.astype("float32"), wk.astype("float32"), v.astype("float32"), b.astype("float32"))
    np.testing.assert_allclose(to_numpy(got), expected, atol=1e-5)


def test_concat(rng, qk):
    q, k = qk
    w, v = rng.standard_normal((2 * D, 3)).astype("float32"), rng.standard_normal((3, 1)).astype("float32")
    expected = np.empty((B, TQ, TK))
    for b in range(B):
        for i in range(TQ):
            for j in range(TK):
                expected[b, i, j] = (np.tanh(np.concatenate([q[b, i], k[b, j]]) @ w) @ v)[0]
    np.testing.assert_allclose(to_numpy(ops.concat_score(q, k, w, v)), expected, atol=1e-5)


def test_names_list_every_function():
    assert ops.SCORE_FUNCTIONS == ("dot", "scaled_dot", "general", "cosine", "concat", "additive")
    for name in ops.SCORE_FUNCTIONS:
        assert callable(getattr(ops, f"{name}_score"))


def test_last_valid_step(rng):
    x = rng.standard_normal((3, 4, 2)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]], bool)
    got = to_numpy(ops.last_valid_step(x, mask))
    np.testing.assert_allclose(got, np.stack([x[0, 1], x[1, 3], np.zeros(2)]))
    np.testing.assert_allclose(to_numpy(ops.last_valid_step(x)), x[:, -1])
