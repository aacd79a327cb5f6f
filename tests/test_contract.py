"""The layer contract, checked for every layer case.

Every public layer validates its arguments and input shapes with a clear
``ValueError``, creates its weights in ``build``, reports its output shape,
round-trips its config, is registered for loading, saves and reloads as
``.keras`` / ``.h5`` / SavedModel, fits under ``jit_compile=True``, honours
masks (masked positions do not matter, fully masked rows stay finite), can
return its attention weights, runs under mixed precision and has a Keras-style
docstring whose example runs (numbered sections below).

A layer enters this suite by adding a ``LayerCase`` in ``tests/cases/``.
"""

import inspect
import json

import keras
import numpy as np
import pytest

from tests import _helpers
from tests._helpers import BACKEND, tf_only, to_numpy

JIT = BACKEND in ("tensorflow", "jax")


def _params(where=lambda c: True):
    return _helpers.params(where)


_layer, _call, _first = _helpers.layer, _helpers.call, _helpers.first


def _model(case, layer):
    return _helpers.model(case, layer)


def _masks(case, rng, batch, fully_masked_row=None):
    masks = {}
    for i in case.mask_inputs:
        steps = case.shapes[i][0]
        lengths = rng.integers(1, steps + 1, size=batch)
        lengths[0] = max(1, steps - 2)
        mask = np.arange(steps)[None, :] < lengths[:, None]
        if fully_masked_row is not None:
            mask[fully_masked_row] = False
        masks[i] = mask
    return masks


# 1. Constructor arguments are validated with a clear ValueError.
@pytest.mark.parametrize("case", _params(where=lambda c: c.bad_kwargs))
def test_bad_constructor_arguments(case):
    for update, pattern in case.bad_kwargs:
        with pytest.raises(ValueError, match=pattern):
            _layer(case, **update)


# 2. Input shapes are validated in build with a ValueError naming the layer.
@pytest.mark.parametrize("case", _params(where=lambda c: c.bad_input_shapes))
def test_bad_input_shapes(case):
    for shapes, pattern in case.bad_input_shapes:
        layer = _layer(case)
        inputs = [keras.Input(shape=s) for s in shapes] if isinstance(shapes, list) else keras.Input(shape=shapes)
        with pytest.raises(ValueError, match=pattern) as info:
            layer(inputs)
        assert case.cls.__name__ in str(info.value)


# 3. Weights are created in build, never in call.
@pytest.mark.parametrize("case", _params())
def test_weights_created_in_build(case, rng):
    layer = _layer(case)
    assert not layer.weights
    arrays = case.inputs(rng)
    _call(case, layer, arrays)
    count = len(layer.weights)
    assert layer.built
    if case.trainable:
        assert layer.trainable_weights
    _call(case, layer, arrays)
    assert len(layer.weights) == count
    names = [w.path for w in layer.weights]
    assert len(set(names)) == len(names), names


# 4. compute_output_shape matches eager and symbolic outputs.
@pytest.mark.parametrize("case", _params())
def test_output_shape(case, rng):
    layer = _layer(case)
    arrays = case.inputs(rng, batch=2)
    out = _first(_call(case, layer, arrays))
    shapes = [(2,) + tuple(s) for s in case.shapes]
    expected = layer.compute_output_shape(case.pack(shapes))
    assert tuple(out.shape) == tuple(expected)
    symbolic = _first(_model(case, _layer(case)).outputs)
    assert tuple(symbolic.shape)[1:] == tuple(out.shape)[1:]
    assert keras.backend.standardize_dtype(out.dtype) == layer.compute_dtype


# 5. get_config is complete and round trips to identical outputs.
@pytest.mark.parametrize("case", _params())
def test_config_round_trip(case, rng):
    layer = _layer(case)
    arrays = case.inputs(rng)
    out = _call(case, layer, arrays)
    config = layer.get_config()
    json.dumps(config)
    params = inspect.signature(case.cls.__init__).parameters
    missing = [p for p in params if p not in ("self", "kwargs") and p not in config]
    assert not missing, f"get_config lacks {missing}"
    clone = case.cls.from_config(config)
    _call(case, clone, arrays)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(to_numpy(_first(_call(case, clone, arrays))), to_numpy(_first(out)), atol=case.atol)
    assert clone.get_config() == config


# 6. Registered serializable under the keras_attn package.
@pytest.mark.parametrize("case", _params())
def test_registered(case):
    name = keras.saving.get_registered_name(case.cls)
    assert name == f"keras_attn>{case.cls.__name__}"
    assert keras.saving.get_registered_object(name) is case.cls


# 5/6. .keras and .h5 save and reload with no custom_objects, identical predictions.
@pytest.mark.parametrize("fmt", ["keras", "h5"])
@pytest.mark.parametrize("case", _params())
def test_save_and_reload(case, fmt, rng, tmp_path):
    model = _model(case, _layer(case))
    arrays = case.inputs(rng)
    expected = model.predict(case.pack(arrays), verbose=0)
    path = str(tmp_path / f"model.{fmt}")
    model.save(path)
    kwargs = {"safe_mode": True} if fmt == "keras" else {}
    loaded = keras.models.load_model(path, **kwargs)
    got = loaded.predict(case.pack(arrays), verbose=0)
    for g, e in zip(keras.tree.flatten(got), keras.tree.flatten(expected)):
        np.testing.assert_allclose(g, e, atol=case.atol)


@tf_only
@pytest.mark.parametrize("case", _params())
def test_savedmodel_export(case, rng, tmp_path):
    import tensorflow as tf

    model = _model(case, _layer(case))
    arrays = case.inputs(rng)
    expected = model.predict(case.pack(arrays), verbose=0)
    path = str(tmp_path / "savedmodel")
    model.export(path, verbose=False)
    reloaded = tf.saved_model.load(path)  # keep a reference: serve() uses its variables
    served = reloaded.serve(case.pack([tf.constant(a) for a in arrays]))
    for g, e in zip(keras.tree.flatten(served), keras.tree.flatten(expected)):
        np.testing.assert_allclose(np.asarray(g), e, atol=case.atol)


# XLA: a jit-compiled fit runs, the loss is finite and the weights move.
@pytest.mark.parametrize("case", _params())
def test_jit_compiled_fit(case, rng):
    model = _model(case, _layer(case))
    arrays = case.inputs(rng, batch=8)
    targets = [np.asarray(rng.standard_normal((8,) + tuple(o.shape[1:])), "float32") for o in keras.tree.flatten(model.outputs)]
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", jit_compile=JIT)
    before = [np.array(w) for w in model.get_weights()]
    history = model.fit(case.pack(arrays), targets if len(targets) > 1 else targets[0], epochs=2, batch_size=4, verbose=0)
    assert all(np.isfinite(history.history["loss"]))
    if case.trainable:
        after = model.get_weights()
        assert any(not np.allclose(a, b) for a, b in zip(after, before))


# 7. Masks: masked positions never change the output; fully masked rows are finite.
@pytest.mark.parametrize("case", _params(where=lambda c: c.mask_inputs))
def test_masked_positions_do_not_matter(case, rng):
    layer = _layer(case)
    arrays = case.inputs(rng, batch=4)
    masks = _masks(case, rng, 4)
    out = to_numpy(_first(_call(case, layer, arrays, mask=case.pack_mask(masks))))
    changed = [a.copy() for a in arrays]
    for i, mask in masks.items():
        noise = rng.standard_normal(changed[i].shape).astype(changed[i].dtype) * 100
        keep = mask.reshape(mask.shape + (1,) * (changed[i].ndim - 2))
        changed[i] = np.where(keep, changed[i], noise)
    out2 = to_numpy(_first(_call(case, layer, changed, mask=case.pack_mask(masks))))
    if case.output_follows_mask is not None:
        valid = masks[case.output_follows_mask]
        out, out2 = out[valid], out2[valid]
    np.testing.assert_allclose(out2, out, atol=case.atol)
    # and the mask really is used: without it the noise changes the output
    out3 = to_numpy(_first(_call(case, layer, changed)))
    if case.output_follows_mask is not None:
        out3 = out3[masks[case.output_follows_mask]]
    assert not np.allclose(out3, out, atol=case.atol)


@pytest.mark.parametrize("case", _params(where=lambda c: c.mask_inputs))
def test_fully_masked_rows_are_finite(case, rng):
    layer = _layer(case)
    arrays = case.inputs(rng, batch=3)
    masks = _masks(case, rng, 3, fully_masked_row=1)
    kwargs = {"return_attention_scores": True} if case.returns_scores else {}
    out = _call(case, layer, arrays, mask=case.pack_mask(masks), **kwargs)
    for o in keras.tree.flatten(out):
        assert np.all(np.isfinite(to_numpy(o)))
    if case.returns_scores:
        scores = to_numpy(out[1])
        assert np.all(scores[1] == 0)


@pytest.mark.parametrize("case", _params(where=lambda c: c.mask_inputs))
def test_keras_mask_is_honoured(case, rng):
    """A mask made by keras.layers.Masking reaches the layer and equals an explicit mask."""
    layer = _layer(case)
    arrays = case.inputs(rng, batch=4)
    masks = _masks(case, rng, 4)
    for i, mask in masks.items():
        keep = mask.reshape(mask.shape + (1,) * (arrays[i].ndim - 2))
        arrays[i] = np.where(keep, arrays[i], 0.0).astype(arrays[i].dtype)
    expected = to_numpy(_first(_call(case, layer, arrays, mask=case.pack_mask(masks))))
    inputs = [keras.Input(shape=s) for s in case.shapes]
    fed = [keras.layers.Masking(0.0)(x) if i in masks else x for i, x in enumerate(inputs)]
    model = keras.Model(case.pack(inputs), layer(case.pack(fed), **case.call_kwargs))
    got = to_numpy(_first(model(case.pack(arrays))))
    if case.output_follows_mask is not None:
        valid = masks[case.output_follows_mask]
        got, expected = got[valid], expected[valid]
    np.testing.assert_allclose(got, expected, atol=case.atol)


# 7. Attention weights can be returned; they are normalised and match symbolically.
@pytest.mark.parametrize("case", _params(where=lambda c: c.returns_scores))
def test_return_attention_scores(case, rng):
    layer = _layer(case)
    arrays = case.inputs(rng, batch=2)
    out, scores = _call(case, layer, arrays, return_attention_scores=True)
    plain = _call(case, layer, arrays)
    np.testing.assert_allclose(to_numpy(out), to_numpy(_first(plain)), atol=case.atol)
    scores = to_numpy(scores)
    assert scores.shape[-1] == case.shapes[case.scores_axis_input][0]
    np.testing.assert_allclose(scores.sum(axis=-1), 1.0, atol=1e-5)
    inputs = [keras.Input(shape=s) for s in case.shapes]
    sym = _layer(case)(case.pack(inputs), return_attention_scores=True, **case.call_kwargs)
    assert tuple(sym[1].shape)[1:] == scores.shape[1:]


# 8. Mixed precision: output dtype follows the policy, values are finite.
@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("case", _params())
def test_mixed_precision(case, policy, rng):
    keras.config.set_dtype_policy(policy)
    layer = _layer(case)
    arrays = case.inputs(rng)
    out = _first(_call(case, layer, arrays))
    assert keras.backend.standardize_dtype(out.dtype) == policy.split("_")[1]
    assert all(w.dtype == "float32" for w in layer.weights)
    assert np.all(np.isfinite(to_numpy(out).astype("float32")))


# 9. Keras-style docstring with an example (tests/test_docstrings.py runs every docstring example).
@pytest.mark.parametrize("case", _params())
def test_docstring(case):
    doc = inspect.getdoc(case.cls)
    for section in ("Args:", "Call arguments:", "Returns:", "Example"):
        assert section in doc, f"{case.cls.__name__} docstring lacks {section!r}"
    assert ">>>" in doc
