"""affine_grid and grid_sample against PyTorch itself (the oracle), forward and gradients."""

import numpy as np
import pytest
from keras import ops

from keras_attn.ops import affine_grid, grid_sample
from tests._helpers import BACKEND, gradient, to_numpy

torch = pytest.importorskip("torch")
F = torch.nn.functional

ALIGN = [False, True]
PADDING = ["zeros", "border"]


def _torch_grid(theta, size, align_corners):
    h, w = size
    return F.affine_grid(torch.tensor(theta), (theta.shape[0], 1, h, w), align_corners=align_corners).numpy()


def _torch_sample(images, grid, align_corners, padding_mode, weights=None):
    """Forward (NHWC) and, with ``weights``, gradients of sum(out * weights) w.r.t. images and grid."""
    img = torch.tensor(np.transpose(images, (0, 3, 1, 2)), requires_grad=True)
    g = torch.tensor(grid, requires_grad=True)
    out = F.grid_sample(img, g, mode="bilinear", padding_mode=padding_mode, align_corners=align_corners)
    out_nhwc = out.permute(0, 2, 3, 1)
    if weights is None:
        return out_nhwc.detach().numpy()
    (out_nhwc * torch.tensor(weights)).sum().backward()
    return out_nhwc.detach().numpy(), np.transpose(img.grad.numpy(), (0, 2, 3, 1)), g.grad.numpy()


def _random_case(rng, batch=2, hw=(5, 7), out_hw=(4, 6), channels=3, spread=1.3):
    images = rng.standard_normal((batch,) + hw + (channels,)).astype("float32")
    grid = rng.uniform(-spread, spread, (batch,) + out_hw + (2,)).astype("float32")
    return images, grid


@pytest.mark.filterwarnings("ignore:Since version 1.3.0")
@pytest.mark.parametrize("align_corners", ALIGN)
@pytest.mark.parametrize("size", [(4, 6), (5, 5), (1, 3), (3, 1)])
def test_affine_grid_matches_torch(rng, align_corners, size):
    theta = rng.standard_normal((3, 2, 3)).astype("float32")
    ours = to_numpy(affine_grid(theta, size, align_corners=align_corners))
    np.testing.assert_allclose(ours, _torch_grid(theta, size, align_corners), atol=1e-5)
    # the (B, 6) form is the row-major (B, 2, 3)
    flat = to_numpy(affine_grid(theta.reshape(3, 6), size, align_corners=align_corners))
    np.testing.assert_allclose(flat, ours, atol=0)


@pytest.mark.parametrize("padding_mode", PADDING)
@pytest.mark.parametrize("align_corners", ALIGN)
def test_grid_sample_forward_matches_torch(rng, align_corners, padding_mode):
    for hw, out_hw in [((5, 7), (4, 6)), ((6, 4), (6, 4)), ((1, 5), (2, 3))]:
        images, grid = _random_case(rng, hw=hw, out_hw=out_hw)
        ours = to_numpy(grid_sample(images, grid, align_corners=align_corners, padding_mode=padding_mode))
        expected = _torch_sample(images, grid, align_corners, padding_mode)
        assert ours.shape == expected.shape
        np.testing.assert_allclose(ours, expected, atol=1e-5)


@pytest.mark.parametrize("padding_mode", PADDING)
@pytest.mark.parametrize("align_corners", ALIGN)
def test_grid_sample_gradients_match_torch(rng, align_corners, padding_mode):
    images, grid = _random_case(rng)
    weights = rng.standard_normal((2, 4, 6, 3)).astype("float32")
    _, grad_images, grad_grid = _torch_sample(images, grid, align_corners, padding_mode, weights)

    def loss(img, g):
        out = grid_sample(img, g, align_corners=align_corners, padding_mode=padding_mode)
        return ops.sum(out * ops.convert_to_tensor(weights))

    ours_images, ours_grid = gradient(loss, images, grid)
    np.testing.assert_allclose(ours_images, grad_images, atol=1e-4)
    np.testing.assert_allclose(ours_grid, grad_grid, atol=1e-4)
    assert np.abs(grad_grid).max() > 0.1  # the comparison is not vacuous


@pytest.mark.parametrize("padding_mode", PADDING)
@pytest.mark.parametrize("align_corners", ALIGN)
def test_affine_pipeline_matches_torch_with_theta_gradient(rng, align_corners, padding_mode):
    """affine_grid -> grid_sample, the STN pipeline, including d/d theta."""
    images = rng.standard_normal((2, 6, 5, 2)).astype("float32")
    theta = (np.array([[1.0, 0, 0], [0, 1, 0]]) + 0.3 * rng.standard_normal((2, 2, 3))).astype("float32")
    weights = rng.standard_normal((2, 4, 7, 2)).astype("float32")

    t = torch.tensor(theta, requires_grad=True)
    img = torch.tensor(np.transpose(images, (0, 3, 1, 2)))
    g = F.affine_grid(t, (2, 2, 4, 7), align_corners=align_corners)
    out = F.grid_sample(img, g, padding_mode=padding_mode, align_corners=align_corners).permute(0, 2, 3, 1)
    (out * torch.tensor(weights)).sum().backward()

    def loss(th):
        o = grid_sample(images, affine_grid(th, (4, 7), align_corners), align_corners, padding_mode)
        return ops.sum(o * ops.convert_to_tensor(weights))

    ours = to_numpy(grid_sample(images, affine_grid(theta, (4, 7), align_corners), align_corners, padding_mode))
    np.testing.assert_allclose(ours, out.detach().numpy(), atol=1e-5)
    (grad_theta,) = gradient(loss, theta)
    np.testing.assert_allclose(grad_theta, t.grad.numpy(), atol=1e-4)


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (7, 5), (8, 8), (28, 28), (33, 17), (64, 96)])
def test_identity_is_exact_without_align_corners(rng, size):
    images = rng.standard_normal((2,) + size + (3,)).astype("float32")
    theta = np.tile(np.array([[[1.0, 0, 0], [0, 1, 0]]], "float32"), (2, 1, 1))
    for padding_mode in PADDING:
        out = to_numpy(grid_sample(images, affine_grid(theta, size), padding_mode=padding_mode))
        np.testing.assert_array_equal(out, images)


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (7, 5), (28, 28), (64, 96)])
def test_identity_with_align_corners(rng, size):
    images = rng.standard_normal((2,) + size + (3,)).astype("float32")
    theta = np.tile(np.array([[[1.0, 0, 0], [0, 1, 0]]], "float32"), (2, 1, 1))
    out = to_numpy(grid_sample(images, affine_grid(theta, size, align_corners=True), align_corners=True))
    np.testing.assert_allclose(out, images, atol=1e-5)


def test_torch_identity_is_not_exact_but_ours_is(rng):
    """The reason for snapping: PyTorch's own identity map is off by an ulp here."""
    images = rng.standard_normal((1, 28, 28, 1)).astype("float32")
    theta = np.array([[[1.0, 0, 0], [0, 1, 0]]], "float32")
    torch_out = _torch_sample(images, _torch_grid(theta, (28, 28), False), False, "zeros")
    ours = to_numpy(grid_sample(images, affine_grid(theta, (28, 28))))
    np.testing.assert_allclose(torch_out, images, atol=1e-5)
    assert np.array_equal(ours, images)


def test_translation_by_one_pixel_matches_shift(rng):
    """An independent numpy oracle: a one-pixel shift is np.roll with a zero column."""
    images = rng.standard_normal((1, 4, 6, 2)).astype("float32")
    theta = np.array([[[1.0, 0, 2.0 / 6], [0, 1, 0]]], "float32")  # +1 pixel in x
    out = to_numpy(grid_sample(images, affine_grid(theta, (4, 6))))
    expected = np.concatenate([images[:, :, 1:], np.zeros_like(images[:, :, :1])], axis=2)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_gradient_matches_finite_differences(rng):
    """Autodiff against central differences, sample points kept away from integer pixels.

    float64 where the backend computes in it; JAX without x64 runs float32, hence eps=1e-3.
    """
    from tests._helpers import numeric_gradient

    images = rng.standard_normal((1, 3, 4, 2))
    pix_x = rng.integers(-1, 4, (1, 2, 3)) + rng.uniform(0.1, 0.9, (1, 2, 3))
    pix_y = rng.integers(-1, 3, (1, 2, 3)) + rng.uniform(0.1, 0.9, (1, 2, 3))
    grid = np.stack([(2 * pix_x + 1) / 4 - 1, (2 * pix_y + 1) / 3 - 1], axis=-1)  # align_corners=False
    weights = rng.standard_normal((1, 2, 3, 2))

    def loss(g):
        return float(np.sum(to_numpy(grid_sample(images, g)).astype("float64") * weights))

    (ours,) = gradient(lambda g: ops.sum(grid_sample(images, g) * ops.convert_to_tensor(weights)), grid)
    np.testing.assert_allclose(ours, numeric_gradient(loss, grid, eps=1e-3), atol=1e-3)
    assert np.abs(ours).max() > 0.1


def test_jit_compiled_matches_eager(rng):
    images, grid = _random_case(rng)
    eager = to_numpy(grid_sample(images, grid, padding_mode="border"))
    if BACKEND == "tensorflow":
        import tensorflow as tf

        fn = tf.function(lambda i, g: grid_sample(i, g, padding_mode="border"), jit_compile=True)
    elif BACKEND == "jax":
        import jax

        fn = jax.jit(lambda i, g: grid_sample(i, g, padding_mode="border"))
    else:
        pytest.skip("no XLA on this backend")
    np.testing.assert_allclose(to_numpy(fn(images, grid)), eager, atol=1e-6)


def test_half_precision_inputs(rng):
    images, grid = _random_case(rng)
    out = grid_sample(images.astype("float16"), grid)
    assert str(to_numpy(out).dtype) == "float16"
    expected = _torch_sample(images.astype("float16").astype("float32"), grid, False, "zeros")
    np.testing.assert_allclose(to_numpy(out).astype("float32"), expected, atol=1e-2)


def test_bad_arguments():
    images = np.zeros((1, 3, 3, 1), "float32")
    grid = np.zeros((1, 2, 2, 2), "float32")
    with pytest.raises(ValueError, match=r"padding_mode must be one of 'zeros', 'border'; got 'reflect'"):
        grid_sample(images, grid, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"images must have shape \(batch, H, W, C\)"):
        grid_sample(images[0], grid)
    with pytest.raises(ValueError, match=r"grid must have shape \(batch, H_out, W_out, 2\)"):
        grid_sample(images, grid[..., :1])
    with pytest.raises(ValueError, match=r"theta must have shape \(batch, 2, 3\)"):
        affine_grid(np.zeros((1, 3, 3), "float32"), (2, 2))
    with pytest.raises(ValueError, match=r"size must be a pair"):
        affine_grid(np.zeros((1, 2, 3), "float32"), (2, 0))


def test_lowers_for_tpu_and_gpu(rng):
    """No TPU here, but jax.export lowers the sampler for TPU and CUDA on a CPU machine."""
    if BACKEND != "jax":
        pytest.skip("jax.export is JAX-only")
    import jax

    images, _ = _random_case(rng)
    theta = rng.standard_normal((2, 2, 3)).astype("float32")
    for padding_mode in PADDING:
        fn = jax.jit(lambda i, t: grid_sample(i, affine_grid(t, (4, 6)), padding_mode=padding_mode))
        exported = jax.export.export(fn, platforms=("tpu", "cuda", "cpu"))(images, theta)
        assert exported.platforms == ("tpu", "cuda", "cpu")
