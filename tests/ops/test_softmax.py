import keras
import numpy as np
import pytest

from keras_attn.ops import masked_softmax
from tests._helpers import float64, gradient, np_softmax, to_numpy


@pytest.mark.parametrize("axis", [-1, 1])
def test_matches_numpy_with_mask(rng, axis):
    scores = rng.standard_normal((3, 5, 6)).astype("float32") * 3
    mask = rng.random((3, 5, 6)) > 0.4
    got = to_numpy(masked_softmax(scores, mask, axis=axis))
    np.testing.assert_allclose(got, np_softmax(scores, mask, axis=axis), atol=1e-6)


def test_without_mask_is_softmax(rng):
    scores = rng.standard_normal((2, 4)).astype("float32")
    np.testing.assert_allclose(to_numpy(masked_softmax(scores)), np_softmax(scores), atol=1e-6)


def test_broadcast_mask_and_fully_masked_row_gives_zeros(rng):
    scores = rng.standard_normal((2, 3, 4)).astype("float32")
    mask = np.array([[True, False, True, True], [False, False, False, False]])[:, None, :]
    got = to_numpy(masked_softmax(scores, mask))
    assert np.all(got[1] == 0)
    np.testing.assert_allclose(got[0].sum(-1), 1.0, atol=1e-6)
    assert np.all(got[0][:, 1] == 0)


def test_numeric_mask_and_huge_scores_are_finite():
    scores = np.array([[1e4, -1e4, 3e4]], dtype="float32")
    got = to_numpy(masked_softmax(scores, np.array([[1, 1, 0]])))
    np.testing.assert_allclose(got, [[1.0, 0.0, 0.0]], atol=1e-6)


def test_half_precision_computes_in_float32():
    scores = keras.ops.cast(np.array([[10.0, 11.0, 12.0]]), "float16")
    got = masked_softmax(scores)
    assert keras.backend.standardize_dtype(got.dtype) == "float32"
    np.testing.assert_allclose(to_numpy(got), np_softmax([[10.0, 11.0, 12.0]]), atol=1e-6)


def test_float64_stays_float64():
    with float64():
        got = masked_softmax(np.array([[1.0, 2.0]], dtype="float64"))
        assert keras.backend.standardize_dtype(got.dtype) == "float64"


def test_gradient_is_finite_for_fully_masked_rows(rng):
    scores = rng.standard_normal((2, 4)).astype("float32")
    mask = np.array([[True, True, False, True], [False] * 4])
    weights = rng.standard_normal((2, 4)).astype("float32")
    (grad,) = gradient(lambda s: keras.ops.sum(keras.ops.multiply(masked_softmax(s, mask), weights)), scores)
    assert np.all(np.isfinite(grad))
    assert np.all(grad[1] == 0) and np.all(grad[0, 2] == 0)
    # oracle: the softmax Jacobian-vector product on the valid entries
    p = np_softmax(scores[0], mask[0])
    expected = p * (weights[0] - np.sum(p * weights[0]))
    np.testing.assert_allclose(grad[0], expected, atol=1e-5)


def test_one_hot_argmax_matches_numpy_argmax_with_ties_and_masks():
    from keras_attn.ops import one_hot_argmax

    rng = np.random.default_rng(0)
    x = rng.integers(-3, 3, size=(4, 5, 7)).astype("float32")  # small integers: many ties
    mask = rng.random((4, 5, 7)) > 0.4
    mask[0, 0] = False  # a row with nothing allowed
    eye = np.eye(7, dtype="float32")
    np.testing.assert_array_equal(to_numpy(one_hot_argmax(x)), eye[np.argmax(x, -1)])
    expected = eye[np.argmax(np.where(mask, x, -np.inf), -1)] * mask.any(-1, keepdims=True)
    np.testing.assert_array_equal(to_numpy(one_hot_argmax(x, mask)), expected)
