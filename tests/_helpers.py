"""Test helpers shared by every test module (backend-specific code lives here only).

The numeric helpers (gradients, finite differences, reference softmax) serve
the oracle tests; ``params``, ``layer``, ``model`` ... build, feed and train
any layer case of ``tests.cases.ALL_CASES``, generically, for the contract and
portability suites (a layer added to ``tests/cases/`` is covered with no
change here).
"""

import contextlib

import keras
import numpy as np
import pytest

from tests.cases import ALL_CASES

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


def gradient(fn, *args, jit=False):
    """Gradients of the scalar ``fn(*args)`` with respect to every argument, as numpy.

    ``jit=True`` computes them XLA-compiled (``tf.function(jit_compile=True)``,
    ``jax.jit``); PyTorch runs eagerly either way.
    """
    if BACKEND == "tensorflow":
        import tensorflow as tf

        def grads(*tensors):
            with tf.GradientTape() as tape:
                tape.watch(tensors)
                out = fn(*tensors)
            return tape.gradient(out, tensors)

        if jit:
            grads = tf.function(grads, jit_compile=True)
        got = grads(*[tf.convert_to_tensor(a) for a in args])
        return [g.numpy() if g is not None else np.zeros_like(a) for g, a in zip(got, args)]
    if BACKEND == "jax":
        import jax

        grads = jax.grad(fn, argnums=tuple(range(len(args))))
        return [np.asarray(g) for g in (jax.jit(grads) if jit else grads)(*args)]
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


# ---- layer cases (the contract and portability suites) -------------------------


def params(where=lambda case: True, cases=None):
    """``pytest.param`` per case, honouring each case's ``skip_backends``."""
    out = []
    for case in ALL_CASES if cases is None else cases:
        if not where(case):
            continue
        marks = []
        if BACKEND in case.skip_backends:
            marks.append(pytest.mark.skip(reason=case.skip_backends[BACKEND]))
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


def layer(case, **extra):
    return case.cls(**{**case.kwargs, **extra})


def call(case, lyr, arrays, **kwargs):
    return lyr(case.pack(arrays), **{**case.call_kwargs, **kwargs})


def first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def input_dtypes(case):
    """The dtype of each input, as the case's own input generator makes them."""
    return [a.dtype.name for a in case.inputs(np.random.default_rng(0), 1)]


def model(case, lyr=None, with_masks=False, **call_kwargs):
    """A functional model around one layer of ``case``.

    With ``with_masks=True`` every input in ``case.mask_inputs`` gets a
    boolean ``(B, T)`` mask input of its own, passed as ``mask=``; the model's
    inputs are then ``[*inputs, *masks]``.
    """
    lyr = layer(case) if lyr is None else lyr
    inputs = [keras.Input(shape=s, dtype=d) for s, d in zip(case.shapes, input_dtypes(case))]
    mask_inputs = {}
    kwargs = {**case.call_kwargs, **call_kwargs}
    if with_masks and case.mask_inputs:
        mask_inputs = {i: keras.Input(shape=(case.shapes[i][0],), dtype="bool") for i in case.mask_inputs}
        kwargs["mask"] = case.pack_mask(mask_inputs)
    out = lyr(case.pack(inputs), **kwargs)
    model_inputs = inputs + [mask_inputs[i] for i in sorted(mask_inputs)]
    return keras.Model(model_inputs if len(model_inputs) > 1 else model_inputs[0], out)


def masks(case, rng, batch):
    """Right-padded ``(B, T)`` masks for every maskable input, every row with a valid step."""
    out = {}
    for i in case.mask_inputs:
        steps = case.shapes[i][0]
        lengths = rng.integers(1, steps + 1, size=batch)
        lengths[0] = max(1, steps - 1)
        out[i] = np.arange(steps)[None, :] < lengths[:, None]
    return out


def targets(mdl, rng, batch):
    """Random regression targets, one per model output (a list if several)."""
    outs = [np.asarray(rng.standard_normal((batch,) + tuple(o.shape[1:])), "float32") for o in keras.tree.flatten(mdl.outputs)]
    return outs if len(outs) > 1 else outs[0]


def float_inputs(case, arrays):
    """Indices of the floating-point inputs (the ones that carry magnitudes)."""
    return [i for i, a in enumerate(arrays) if np.issubdtype(a.dtype, np.floating)]
