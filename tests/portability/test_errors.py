"""The error catalogue: every bad input gives a clear ValueError, never a backend traceback.

Generic over every layer case: wrong ranks, a feature size other than the one
the layer was built with, inputs with different batch sizes, masks of the
wrong shape, bad constructor values. Then model files: truncated and
corrupted ``.keras`` and ``.h5`` files, a model saved without ``import
keras_attn``, and ``safe_mode=True`` loading of every layer case. README.md
"Errors you may see" lists these messages.

A layer may legitimately accept another rank or feature size (a layer with no
weights on that axis); the tests then require a correct, finite output of
the shape ``compute_output_shape`` announces, instead of an error.
"""

import inspect
import json
import re
import struct
import zipfile

import keras
import numpy as np
import pytest

from tests._helpers import to_numpy
from tests.cases import ALL_CASES
from tests import _helpers


def _names(case, layer):
    return (case.cls.__name__, layer.name)


def _assert_clear(info, case, layer, *must_contain):
    """The error names the layer (class or instance name) and says what is wrong."""
    message = str(info.value)
    assert any(n in message for n in _names(case, layer)), f"the error does not name the layer: {message}"
    for text in must_contain:
        assert re.search(text, message), f"{text!r} not in: {message}"
    for backend_noise in ("InvalidArgumentError", "XlaRuntimeError", "{{function_node", "RuntimeError"):
        assert backend_noise not in message, message


def _accepted(case, layer, shapes, out):
    """No error: the output has the announced shape and is finite."""
    expected = layer.compute_output_shape(case.pack(shapes) if case.multi_input else shapes[0])
    out = _helpers.first(out)
    assert tuple(out.shape) == tuple(expected)
    assert np.all(np.isfinite(to_numpy(out)))


def _arrays(shapes, rng, dtypes):
    return [np.asarray(rng.standard_normal(s), dtype=d) if np.issubdtype(np.dtype(d), np.floating) else np.ones(s, d) for s, d in zip(shapes, dtypes)]


def _reshaped(case, i, new_shape):
    shapes = [tuple(s) for s in case.shapes]
    shapes[i] = tuple(new_shape)
    return shapes


def _rank_variants(case):
    for i, shape in enumerate(case.shapes):
        yield i, tuple(shape) + (2,), "rank+1"
        if len(shape) > 1:
            yield i, tuple(shape)[:-1], "rank-1"


@pytest.mark.parametrize("case", _helpers.params())
def test_wrong_rank_before_build(case):
    for i, shape, what in _rank_variants(case):
        layer = _helpers.layer(case)
        shapes = _reshaped(case, i, shape)
        inputs = [keras.Input(shape=s) for s in shapes]
        try:
            out = layer(case.pack(inputs), **case.call_kwargs)
        except ValueError as error:
            info = pytest.ExceptionInfo.from_exception(error)
            _assert_clear(info, case, layer, "shape|rank|ndim")
            continue
        _accepted(case, layer, [(None,) + s for s in shapes], out)


@pytest.mark.parametrize("case", _helpers.params())
def test_wrong_rank_after_build(case, rng):
    dtypes = _helpers.input_dtypes(case)
    for i, shape, what in _rank_variants(case):
        layer = _helpers.layer(case)
        _helpers.call(case, layer, case.inputs(rng, 2))
        shapes = [(2,) + s for s in _reshaped(case, i, shape)]
        arrays = _arrays(shapes, rng, dtypes)
        try:
            out = _helpers.call(case, layer, arrays)
        except ValueError as error:
            _assert_clear(pytest.ExceptionInfo.from_exception(error), case, layer, "ndim|rank|shape")
            continue
        _accepted(case, layer, shapes, out)


@pytest.mark.parametrize("case", _helpers.params())
def test_feature_size_other_than_built(case, rng):
    dtypes = _helpers.input_dtypes(case)
    for i, shape in enumerate(case.shapes):
        if not np.issubdtype(np.dtype(dtypes[i]), np.floating):
            continue
        layer = _helpers.layer(case)
        _helpers.call(case, layer, case.inputs(rng, 2))
        shapes = [(2,) + s for s in _reshaped(case, i, tuple(shape)[:-1] + (shape[-1] + 1,))]
        try:
            out = _helpers.call(case, layer, _arrays(shapes, rng, dtypes))
        except ValueError as error:
            _assert_clear(pytest.ExceptionInfo.from_exception(error), case, layer, "shape")
            continue
        _accepted(case, layer, shapes, out)


@pytest.mark.parametrize("case", _helpers.params(where=lambda c: c.multi_input))
def test_mismatched_batch_sizes(case, rng):
    dtypes = _helpers.input_dtypes(case)
    for i in range(len(case.shapes)):
        layer = _helpers.layer(case)
        shapes = [(3,) + tuple(s) for s in case.shapes]
        shapes[i] = (2,) + tuple(case.shapes[i])
        with pytest.raises(ValueError) as info:
            _helpers.call(case, layer, _arrays(shapes, rng, dtypes))
        _assert_clear(info, case, layer, "batch")


@pytest.mark.parametrize("case", _helpers.params(where=lambda c: c.mask_inputs))
def test_mask_of_the_wrong_shape(case, rng):
    arrays = case.inputs(rng, 3)
    for i in case.mask_inputs:
        steps = case.shapes[i][0]
        for bad in [(3, steps + 1), (3,), (3, steps, 1), (2, steps)]:
            layer = _helpers.layer(case)
            with pytest.raises(ValueError) as info:
                _helpers.call(case, layer, arrays, mask=case.pack_mask({i: np.ones(bad, bool)}))
            _assert_clear(info, case, layer, "mask", re.escape(str(bad[0])))


@pytest.mark.parametrize("case", _helpers.params())
def test_bad_constructor_values(case):
    """The case's own bad values, then bad values for every configurable-looking argument."""
    for update, pattern in case.bad_kwargs:
        with pytest.raises(ValueError, match=pattern):
            _helpers.layer(case, **update)
    params = inspect.signature(case.cls.__init__).parameters
    bad = {}
    for name in params:
        if name.endswith(("_initializer", "_regularizer", "_constraint")):
            bad[name] = "no_such_" + name.rsplit("_", 1)[1]
    for name, value in case.kwargs.items():
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            bad[name] = "no-such-value"
    assert bad or case.bad_kwargs, f"{case.id}: nothing to check"
    for name, value in bad.items():
        with pytest.raises(ValueError) as info:
            _helpers.layer(case, **{name: value})
        message = str(info.value)
        assert name in message and value in message, f"{case.id}({name}={value!r}): {message}"


# --- model files -------------------------------------------------------------

#: The model the file-damage tests save: the many-to-one Attention layer (it has weights to damage).
FILE_CASE = next(case for case in ALL_CASES if case.cls.__name__ == "Attention")


@pytest.fixture
def saved(tmp_path, rng):
    """``{fmt: (path, bytes)}`` for a small compiled model, plus the model and inputs."""
    model = _helpers.model(FILE_CASE)
    model.compile(optimizer="adam", loss="mse")
    arrays = FILE_CASE.inputs(rng)
    files = {}
    for fmt in ("keras", "h5"):
        path = tmp_path / f"model.{fmt}"
        model.save(path)
        files[fmt] = (path, path.read_bytes())
    return files, model, FILE_CASE.pack(arrays)


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(bytes(data))
    return str(path)


def test_truncated_keras_file(saved, tmp_path):
    (_, data), = [saved[0]["keras"]]
    path = _write(tmp_path, "truncated.keras", data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"File not found: filepath=.*truncated\.keras\. Please ensure the file is an accessible `\.keras` zip file"):
        keras.models.load_model(path)


@pytest.mark.parametrize("member", ["config.json", "model.weights.h5"])
def test_corrupted_keras_file(saved, tmp_path, member):
    path, data = saved[0]["keras"]
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
    corrupted = bytearray(data)
    for k in range(start, start + 8):
        corrupted[k] ^= 0xFF
    bad = _write(tmp_path, "corrupted.keras", corrupted)
    with pytest.raises(zipfile.BadZipFile, match=rf"Bad CRC-32 for file '{re.escape(member)}'"):
        keras.models.load_model(bad)


def test_truncated_h5_file(saved, tmp_path):
    _, data = saved[0]["h5"]
    path = _write(tmp_path, "truncated.h5", data[: len(data) // 2])
    with pytest.raises(OSError, match=r"Unable to synchronously open file \(truncated file: eof = \d+, .*stored_eof = \d+\)"):
        keras.models.load_model(path)


def test_h5_file_with_a_broken_signature(saved, tmp_path):
    _, data = saved[0]["h5"]
    corrupted = bytearray(data)
    corrupted[:8] = b"NOTHDF5!"
    with pytest.raises(OSError, match=r"Unable to synchronously open file \(file signature not found\)"):
        keras.models.load_model(_write(tmp_path, "corrupted.h5", corrupted))


def test_h5_file_with_a_corrupted_model_config(saved, tmp_path):
    _, data = saved[0]["h5"]
    start = data.find(b'{"class_name": "Functional"')
    assert start >= 0
    corrupted = bytearray(data)
    corrupted[start + 1 : start + 3] = b"!!"
    with pytest.raises(json.JSONDecodeError, match=r"Expecting property name enclosed in double quotes"):
        keras.models.load_model(_write(tmp_path, "corrupted.h5", corrupted))


def test_h5_weight_corruption_is_not_detected(saved, tmp_path):
    """Documented hazard: .h5 has no checksum; damaged weights load silently (.keras has CRCs)."""
    files, model, x = saved
    _, data = files["h5"]
    kernel = model.get_weights()[0]
    start = data.find(kernel.tobytes())
    assert start >= 0
    corrupted = bytearray(data)
    corrupted[start : start + 4] = np.float32(1e3).tobytes()
    loaded = keras.models.load_model(_write(tmp_path, "corrupted.h5", corrupted))
    assert not np.allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_loading_without_the_registration(saved, fmt):
    """What a user sees when keras_attn's classes are not registered (keras_attn not imported)."""
    path, _ = saved[0][fmt]
    name = keras.saving.get_registered_name(FILE_CASE.cls)
    custom = keras.saving.get_custom_objects()
    registered = custom.pop(name)
    try:
        expected = TypeError if fmt == "keras" else ValueError
        pattern = rf"Could not locate class '{FILE_CASE.cls.__name__}'" if fmt == "keras" else rf"Unknown layer: '{name}'"
        with pytest.raises(expected, match=pattern):
            keras.models.load_model(path)
    finally:
        custom[name] = registered


@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_safe_mode_refuses_lambda(tmp_path, fmt):
    """safe_mode=True is really enforced, so the safe loads below mean something."""
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    path = str(tmp_path / f"lambda.{fmt}")
    model.save(path)
    with pytest.raises(ValueError, match=r"Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda"):
        keras.models.load_model(path, safe_mode=True)


@pytest.mark.parametrize("fmt", ["keras", "h5"])
@pytest.mark.parametrize("case", _helpers.params())
def test_safe_mode_loads_every_layer(case, fmt, tmp_path, rng):
    model = _helpers.model(case, with_masks=bool(case.mask_inputs))
    arrays = case.inputs(rng)
    if case.mask_inputs:
        masks = _helpers.masks(case, rng, 3)
        arrays = arrays + [masks[i] for i in sorted(masks)]
    x = arrays if len(arrays) > 1 else arrays[0]
    path = str(tmp_path / f"model.{fmt}")
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    for g, e in zip(keras.tree.flatten(loaded.predict(x, verbose=0)), keras.tree.flatten(model.predict(x, verbose=0))):
        np.testing.assert_allclose(g, e, atol=case.atol)
