"""XLA lowering of every layer case, forward pass and training step.

* JAX backend: the functional model's ``stateless_call`` (forward) and
  ``jax.value_and_grad`` of an MSE loss through it (training step) are
  exported with ``jax.export`` for the platforms ``("tpu", "cuda", "cpu")``.
  Lowering for TPU and GPU needs neither device: it proves that every op has a
  StableHLO lowering there and that no host callback is left. The exported
  artefact is then executed on the CPU and checked.
* TensorFlow backend: the same forward pass and training step compile with
  ``tf.function(jit_compile=True)``; the XLA HLO is obtained and executed.

Checks: the executed forward pass equals the eager model; the gradient's
directional derivative equals a central finite difference of the loss (the
oracle). Execution on a real TPU or GPU is not tested here.
"""

import keras
import numpy as np
import pytest

from tests._helpers import BACKEND, to_numpy
from tests import _helpers

PLATFORMS = ("tpu", "cuda", "cpu")
pytestmark = pytest.mark.skipif(
    BACKEND not in ("jax", "tensorflow"),
    reason="XLA lowering is tested through jax.export (jax backend) and tf.function(jit_compile=True) "
    f"(tensorflow backend); the {BACKEND} backend has no XLA path",
)

VARIANTS = ["forward", "forward_masked", "train_step"]


def _cases():
    out = []
    for p in _helpers.params():
        case = p.values[0]
        for variant in VARIANTS:
            if variant == "forward_masked" and not case.mask_inputs:
                continue
            out.append(pytest.param(case, variant, id=f"{case.id}-{variant}", marks=p.marks))
    return out


def _setup(case, variant, rng, batch=3):
    masked = variant == "forward_masked"
    mdl = _helpers.model(case, with_masks=masked)
    arrays = case.inputs(rng, batch)
    if masked:
        masks = _helpers.masks(case, rng, batch)
        arrays = arrays + [masks[i] for i in sorted(masks)]
    ys = [np.asarray(rng.standard_normal((batch,) + tuple(o.shape[1:])), "float32") for o in keras.tree.flatten(mdl.outputs)]
    return mdl, arrays, ys


def _pack(arrays):
    return list(arrays) if len(arrays) > 1 else arrays[0]


def _loss(outputs, ys):
    return sum(keras.ops.mean(keras.ops.square(keras.ops.cast(o, "float32") - y)) for o, y in zip(keras.tree.flatten(outputs), ys))


def _check_gradient(loss_at, weights, grads, rng, eps=1e-3):
    """Directional derivative <g, d> against (L(w + eps d) - L(w - eps d)) / (2 eps)."""
    directions = [rng.standard_normal(w.shape).astype("float32") for w in weights]
    norm = np.sqrt(sum(float(np.sum(d * d)) for d in directions))
    directions = [d / norm for d in directions]
    analytic = sum(float(np.sum(np.asarray(g, "float64") * d)) for g, d in zip(grads, directions))
    up = loss_at([w + eps * d for w, d in zip(weights, directions)])
    down = loss_at([w - eps * d for w, d in zip(weights, directions)])
    numeric = (float(up) - float(down)) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=2e-2, atol=2e-3)
    assert any(np.any(np.asarray(g) != 0) for g in grads), "all gradients are zero"


@pytest.mark.skipif(BACKEND != "jax", reason="jax.export runs on the jax backend")
@pytest.mark.parametrize("case,variant", _cases())
def test_jax_export_tpu_gpu_cpu(case, variant, rng):
    import jax
    from jax import export

    mdl, arrays, ys = _setup(case, variant, rng)
    tv = [v.value for v in mdl.trainable_variables]
    ntv = [v.value for v in mdl.non_trainable_variables]
    x = _pack(arrays)

    def forward(tv, ntv, x):
        out, _ = mdl.stateless_call(tv, ntv, x)
        return out

    def loss_fn(tv, ntv, x, ys):
        out, _ = mdl.stateless_call(tv, ntv, x, training=True)
        return _loss(out, ys)

    def train_step(tv, ntv, x, ys):
        return jax.value_and_grad(loss_fn)(tv, ntv, x, ys)

    if variant == "train_step":
        if not tv:
            pytest.skip(f"{case.id} has no trainable weights")
        exported = export.export(jax.jit(train_step), platforms=PLATFORMS)(tv, ntv, x, ys)
    else:
        exported = export.export(jax.jit(forward), platforms=PLATFORMS)(tv, ntv, x)
    assert exported.platforms == PLATFORMS
    text = exported.mlir_module()
    assert "callback" not in text, "the lowered module calls back into Python"
    # Serialise and reload, as a TPU/GPU server would, then execute on the CPU.
    exported = export.deserialize(exported.serialize())
    if variant == "train_step":
        loss, grads = exported.call(tv, ntv, x, ys)
        np.testing.assert_allclose(float(loss), float(loss_fn(tv, ntv, x, ys)), rtol=1e-5)
        if case.well_conditioned and not case.stochastic_training:
            _check_gradient(lambda w: loss_fn(w, ntv, x, ys), [np.asarray(w) for w in tv], grads, rng)
        else:  # a kink, or a surrogate (straight-through) gradient: the gradients must be finite
            assert all(np.all(np.isfinite(np.asarray(g))) for g in grads)
    else:
        got = exported.call(tv, ntv, x)
        expected = mdl(x)
        for g, e in zip(keras.tree.flatten(got), keras.tree.flatten(expected)):
            np.testing.assert_allclose(np.asarray(g), to_numpy(e), rtol=1e-5, atol=case.atol)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="tf.function(jit_compile=True) runs on the tensorflow backend")
@pytest.mark.parametrize("case,variant", _cases())
def test_tf_jit_compile(case, variant, rng):
    import tensorflow as tf

    mdl, arrays, ys = _setup(case, variant, rng)
    x = _pack([tf.constant(a) for a in arrays])
    ys = [tf.constant(y) for y in ys]

    @tf.function(jit_compile=True)
    def forward(x):
        return mdl(x, training=False)

    @tf.function(jit_compile=True)
    def train_step(x, ys):
        with tf.GradientTape() as tape:
            loss = _loss(mdl(x, training=True), ys)
        return loss, tape.gradient(loss, mdl.trainable_variables)

    if variant == "train_step":
        if not mdl.trainable_variables:
            pytest.skip(f"{case.id} has no trainable weights")
        hlo = train_step.experimental_get_compiler_ir(x, ys)(stage="hlo")
        assert "HloModule" in hlo
        loss, grads = train_step(x, ys)
        if case.stochastic_training or not case.well_conditioned:
            # a recomputed step draws other noise, or finite differences straddle a kink: check it runs and is finite
            assert np.isfinite(float(loss)) and all(np.all(np.isfinite(g.numpy())) for g in grads)
            return
        weights = [to_numpy(v) for v in mdl.trainable_variables]

        def loss_at(values):
            for v, w in zip(mdl.trainable_variables, values):
                v.assign(w)
            try:
                return float(_loss(mdl(x, training=True), ys))
            finally:
                for v, w in zip(mdl.trainable_variables, weights):
                    v.assign(w)

        np.testing.assert_allclose(float(loss), loss_at(weights), rtol=1e-5)
        _check_gradient(loss_at, weights, [g.numpy() for g in grads], rng)
    else:
        hlo = forward.experimental_get_compiler_ir(x)(stage="hlo")
        assert "HloModule" in hlo
        got = forward(x)
        expected = mdl(x, training=False)
        for g, e in zip(keras.tree.flatten(got), keras.tree.flatten(expected)):
            np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=1e-5, atol=case.atol)
