"""Test helpers shared by every test module (backend-specific code lives here only)."""

import contextlib

import keras
import numpy as np
import pytest

BACKEND = keras.backend.backend()

tf_only = pytest.mark.skipif(BACKEND != "tensorflow", reason="SavedModel export is TensorFlow-only")


@contextlib.contextmanager
def float64():
    """Context in which float64 tensors stay float64 (JAX disables x64 by default)."""
    if BACKEND == "jax":
        import jax

        with jax.enable_x64(True):
            yield
    else:
        yield


class FiniteDifferences:
    """Precision settings for comparing autodiff with central finite differences.

    On TensorFlow the layer runs in float64 (eps 1e-6, atol 1e-6). Keras's
    type promotion maps float64 to float32 on the other backends
    (``keras.src.backend.common.dtypes.BIT64_TO_BIT32_DTYPE``: ``ops.tanh`` of
    a float64 tensor is float32 on JAX), so there the check runs in float32
    with a larger step (eps 1e-3, atol 1e-3): still far tighter than the
    error a wrong gradient makes.
    """

    def __init__(self):
        self.exact = BACKEND == "tensorflow"
        self.dtype = "float64" if self.exact else "float32"
        self.eps = 1e-6 if self.exact else 1e-3
        self.atol = 1e-6 if self.exact else 1e-3


def numpy_init(model, seed):
    """Sets every weight of ``model`` from numpy's generator: the same initial
    weights on every backend (Keras's initializers draw from each backend's own
    random streams). Biases zero, other weights Glorot-uniform (a vector of
    ``n`` as an ``(n, 1)`` matrix)."""
    rng = np.random.default_rng(seed)
    weights = []
    for v in model.weights:
        shape = tuple(v.shape)
        if v.path.rsplit("/", 1)[-1] == "bias":
            weights.append(np.zeros(shape, "float32"))
        else:
            limit = np.sqrt(6.0 / (shape[0] + (shape[-1] if len(shape) > 1 else 1)))
            weights.append(rng.uniform(-limit, limit, shape).astype("float32"))
    model.set_weights(weights)


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def gradient(fn, *args):
    """Gradients of the scalar ``fn(*args)`` with respect to every argument, as numpy."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        tensors = [tf.convert_to_tensor(a) for a in args]
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            out = fn(*tensors)
        return [g.numpy() if g is not None else np.zeros_like(a) for g, a in zip(tape.gradient(out, tensors), args)]
    if BACKEND == "jax":
        import jax

        return [np.asarray(g) for g in jax.grad(fn, argnums=tuple(range(len(args))))(*args)]
    if BACKEND == "torch":
        import torch

        tensors = [torch.tensor(a, requires_grad=True) for a in args]
        out = fn(*tensors)
        out.backward()
        return [t.grad.numpy() if t.grad is not None else np.zeros_like(a) for t, a in zip(tensors, args)]
    raise NotImplementedError(BACKEND)


def numeric_gradient(fn, x, eps=1e-6):
    """Central finite differences of the scalar ``fn(x)`` (numpy in, float out)."""
    x = np.array(x, dtype="float64")
    grad = np.zeros_like(x)
    flat = x.reshape(-1)
    gflat = grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = fn(x)
        flat[i] = old - eps
        down = fn(x)
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad


def np_softmax(x, mask=None, axis=-1):
    """Reference masked softmax: masked entries 0, fully masked rows all 0."""
    x = np.asarray(x, dtype="float64")
    if mask is None:
        mask = np.ones_like(x, dtype=bool)
    mask = np.broadcast_to(np.asarray(mask, bool), x.shape)
    z = np.where(mask, x, -np.inf)
    zmax = np.max(z, axis=axis, keepdims=True)
    zmax = np.where(np.isfinite(zmax), zmax, 0.0)
    e = np.where(mask, np.exp(z - zmax), 0.0)
    s = e.sum(axis=axis, keepdims=True)
    return np.where(s > 0, e / np.where(s > 0, s, 1.0), 0.0)


def random_mask(rng, batch, steps, min_valid=1):
    """A (batch, steps) right-padded boolean mask with at least ``min_valid`` valid steps."""
    lengths = rng.integers(min_valid, steps + 1, size=batch)
    lengths[0] = max(min_valid, steps - 1) if steps > 1 else steps
    return np.arange(steps)[None, :] < lengths[:, None]
