"""Writes the date translator for serving: ONNX, TensorFlow SavedModel or TensorFlow Lite.

Each format is written with the vocabulary file ``date_translator_vocab.json``
next to it (the model reads one-hot characters and writes character
probabilities; the vocabulary maps between them and text).

The served model has the translator's three inputs, ``X`` ``(batch, Tx,
len(human_vocab))`` one-hot characters and the initial decoder states ``s0``
and ``c0`` ``(batch, n_s)`` (zeros), and one output ``(batch, Ty,
len(machine_vocab))`` of probabilities; the ISO date is the argmax per step.
"""

from pathlib import Path

import keras
import numpy as np

from keras_attn.models.translator import SAVEDMODEL_DIR, VOCAB_FILE

FORMATS = ("onnx", "savedmodel", "tflite")

#: File or folder name written for each format.
TARGETS = {"onnx": "date_translator.onnx", "savedmodel": SAVEDMODEL_DIR, "tflite": "date_translator.tflite"}


class ExportError(ValueError):
    """The format cannot be written in this environment (backend or package missing)."""


def _ready_model(translator):
    """The Keras model, called once (Keras exports only models that have been called)."""
    model = translator.model
    if not isinstance(model, keras.Model):
        raise ExportError("this translator was loaded from a SavedModel; load the .keras file to export it")
    translator.translate(["1 jan 2000"])
    return model


def _need_tensorflow_backend(fmt):
    if keras.backend.backend() != "tensorflow":
        raise ExportError(
            f"{fmt} export needs the TensorFlow backend; run with KERAS_BACKEND=tensorflow "
            f"(this run uses {keras.backend.backend()})"
        )


def export_date_translator(translator, directory, format="onnx"):
    """Writes ``translator`` in ``format`` into ``directory``; returns the paths written.

    Args:
        translator: a ``keras_attn.models.DateTranslator`` loaded from a
            ``.keras`` or ``.h5`` file (or just trained).
        directory: output folder (created if missing).
        format: ``"onnx"`` (``model.export(..., format="onnx")``: needs the
            ``onnx`` extra), ``"savedmodel"`` (``model.export``, TensorFlow
            backend) or ``"tflite"`` (TensorFlow's ``TFLiteConverter`` on that
            SavedModel, TensorFlow backend).

    Raises:
        ExportError: the format is not available with this backend or these
            packages (the message says what to do).
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(repr(f) for f in FORMATS)}; got {format!r}")
    directory = Path(directory)
    model = _ready_model(translator)
    target = directory / TARGETS[format]
    if format == "onnx":
        _export_onnx(model, target)
    else:
        _need_tensorflow_backend(format)
        directory.mkdir(parents=True, exist_ok=True)
        if format == "savedmodel":
            model.export(str(target), verbose=False)
        else:
            import tempfile

            import tensorflow as tf

            with tempfile.TemporaryDirectory() as saved:
                model.export(saved, verbose=False)
                target.write_bytes(tf.lite.TFLiteConverter.from_saved_model(saved).convert())
    vocab = translator.save(directory, formats=())[-1]
    return [target, vocab]


def _export_onnx(model, target):
    backend = keras.backend.backend()
    if backend == "tensorflow":
        missing = [m for m in ("onnx", "tf2onnx") if not _importable(m)]
    elif backend == "torch":
        missing = [m for m in ("onnx",) if not _importable(m)]
    else:
        missing = [m for m in ("onnx", "jax2onnx") if not _importable(m)]
    if missing:
        raise ExportError(
            f"ONNX export on the {backend} backend needs {', '.join(missing)}: pip install {' '.join(missing)} "
            "(the extra keras_attn[onnx] installs what the TensorFlow backend needs)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    if backend == "tensorflow":
        register_onnx_conversions()
    try:
        model.export(str(target), format="onnx", verbose=False)
    except Exception as error:
        raise ExportError(
            f"ONNX export on the {backend} backend failed ({_first_line(error)}); "
            "export with KERAS_BACKEND=tensorflow, the backend it is tested on"
        ) from None
    if not _importable("onnxruntime"):
        return
    import onnxruntime

    try:  # the converters can write a graph with ops they could not convert: check that it loads
        onnxruntime.InferenceSession(str(target))
    except Exception as error:
        target.unlink()
        raise ExportError(
            f"the ONNX converter of the {backend} backend wrote a graph that onnxruntime cannot load "
            f"({_first_line(error)}); see the ONNX section of docs/cli.md"
        ) from None


def _first_line(error, limit=160):
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def register_onnx_conversions():
    """Teaches tf2onnx the TensorFlow ops that Keras emits for ``keras_attn`` and tf2onnx lacks.

    ``keras.ops.slice_update`` (the fused LSTM of ``models.BiLSTMEncoder``
    writes each step with it) is ``XlaDynamicUpdateSlice`` on TensorFlow;
    tf2onnx 1.17 has no conversion for it. It becomes an ONNX ``ScatterND``
    of the update at indices ``start + position``, with XLA's clamping of the
    start. Call this before ``model.export(path, format="onnx")`` on the
    TensorFlow backend (``export_date_translator`` does). Returns whether
    the conversion is registered (``False`` without tf2onnx).
    """
    global _REGISTERED
    if _REGISTERED or not _importable("tf2onnx"):
        return _REGISTERED
    import tf2onnx.onnx_opset  # noqa: F401  (tf2onnx's own handlers first)
    from tf2onnx.handler import tf_op

    @tf_op("XlaDynamicUpdateSlice")
    class _XlaDynamicUpdateSlice:
        @classmethod
        def version_11(cls, ctx, node, **kwargs):
            _convert_dynamic_update_slice(ctx, node)

    _REGISTERED = True
    return True


_REGISTERED = False


def _convert_dynamic_update_slice(ctx, node):
    """``XlaDynamicUpdateSlice(data, update, start)`` -> ``ScatterND(data, start_clamped + grid(update), update)``."""
    from onnx import TensorProto
    from tf2onnx import utils

    data, update, start = node.input
    rank = len(ctx.get_shape(update) or ()) or len(ctx.get_shape(data) or ())
    utils.make_sure(rank > 0, "XlaDynamicUpdateSlice needs inputs of known rank")

    def const(value):
        return ctx.make_const(utils.make_name("dus_const"), np.asarray(value, np.int64)).output[0]

    def op(kind, inputs, **attr):
        return ctx.make_node(kind, inputs, attr=attr or None).output[0]

    start = op("Cast", [start], to=TensorProto.INT64)
    data_shape, update_shape = op("Shape", [data]), op("Shape", [update])
    start = op("Min", [op("Max", [start, const([0] * rank)]), op("Sub", [data_shape, update_shape])])
    column_shape = op("Concat", [update_shape, const([1])], axis=0)
    columns = []
    for k in range(rank):
        size = op("Reshape", [op("Gather", [update_shape, const([k])], axis=0), const([])])
        positions = op("Add", [op("Range", [const(0), size, const(1)]), op("Gather", [start, const([k])], axis=0)])
        along_k = op("Reshape", [positions, const([-1 if i == k else 1 for i in range(rank)])])
        columns.append(op("Reshape", [op("Expand", [along_k, update_shape]), column_shape]))
    indices = op("Concat", columns, axis=-1)
    node.type = "ScatterND"
    ctx.replace_inputs(node, [data, indices, update])


def _importable(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


def onnx_translate(path, translator, texts):
    """Runs an exported ONNX translator in ``onnxruntime``; returns the ISO dates (for checks and serving)."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path))
    x = translator.encode(texts).astype("float32")
    zeros = np.zeros((len(x), translator.n_s), "float32")
    (probs,) = session.run(None, {"X": x, "s0": zeros, "c0": zeros})
    return translator.decode(probs)
