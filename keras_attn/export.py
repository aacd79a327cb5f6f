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
        missing = [m for m in ("onnx", "onnxscript") if not _importable(m)]
    else:
        missing = [m for m in ("onnx", "jax2onnx") if not _importable(m)]
    if missing:
        raise ExportError(
            f"ONNX export on the {backend} backend needs {', '.join(missing)}: pip install {' '.join(missing)} "
            "(the extra keras_attn[onnx] installs what the TensorFlow backend needs)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    model.export(str(target), format="onnx", verbose=False)
    if not _importable("onnxruntime"):
        return
    import onnxruntime

    try:  # the converters can write a graph with ops they could not convert: check that it loads
        onnxruntime.InferenceSession(str(target))
    except Exception as error:
        target.unlink()
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ExportError(
            f"the ONNX converter of the {backend} backend wrote a graph that onnxruntime cannot load "
            f"({first[:160]}...); see the ONNX section of docs/cli.md"
        ) from None


def _importable(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


def onnx_translate(path, translator, texts):
    """Runs an exported ONNX translator in ``onnxruntime``; returns the ISO dates (for checks and serving)."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path))
    x = translator.encode(texts)
    zeros = np.zeros((len(x), translator.n_s), "float32")
    feeds = {i.name: a for i, a in zip(session.get_inputs(), (x.astype("float32"), zeros, zeros))}
    (probs,) = session.run(None, feeds)
    return translator.decode(probs)
