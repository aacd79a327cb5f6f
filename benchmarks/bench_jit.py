"""(f) Every layer with ``jit_compile=True`` (XLA) against ``jit_compile=False``.

One workload per public layer (``WORKLOADS``; a test checks that every public
layer has one). Layers with trainable weights are timed on a training step
(forward, backward, SGD update); weightless layers on a forward pass. XLA is
what TF and JAX compile with; on the torch backend ``jit_compile`` means
``torch.compile``, which this comparison does not cover.
"""

import keras
import numpy as np

from benchmarks.harness import Row, Table, measure_interleaved

SEQ = (64, 64)  # (T, D)
IMG = (32, 32, 32)  # (H, W, C)

# class name -> (module, constructor kwargs, input shapes without batch, batch)
WORKLOADS = {
    "Attention": ("keras_attn", {"units": 64}, SEQ, 32),
    "OneStepAttention": ("keras_attn", {}, [SEQ, (64,)], 32),
    "GlobalAttention": ("keras_attn", {}, [SEQ, SEQ], 32),
    "LocalAttention": ("keras_attn", {"window": 4}, [SEQ, SEQ], 32),
    "HardAttention": ("keras_attn", {}, [SEQ, SEQ], 32),
    "SelfAttention": ("keras_attn", {"units": 64}, SEQ, 32),
    "MultiHeadAttention": ("keras_attn", {"num_heads": 4, "key_dim": 16}, [SEQ, SEQ], 32),
    "AttentionPooling": ("keras_attn", {}, SEQ, 32),
    "PositionalEncoding": ("keras_attn", {}, SEQ, 32),
    "CoordinateChannels": ("keras_attn", {}, IMG, 16),
    "SqueezeExcite": ("keras_attn", {}, IMG, 16),
    "ECA": ("keras_attn", {}, IMG, 16),
    "ChannelAttention": ("keras_attn", {}, IMG, 16),
    "SpatialAttention": ("keras_attn", {}, IMG, 16),
    "CBAM": ("keras_attn", {}, IMG, 16),
    "SpatialTransformer": ("keras_attn", {}, IMG, 16),
    "ResidualAttention": ("keras_attn", {}, IMG, 16),
    "GlimpseSensor": ("keras_attn", {"patch_size": 8, "num_scales": 3}, [(60, 60, 1), (2,)], 32),
    "GlimpseNetwork": ("keras_attn", {"patch_size": 8, "num_scales": 3}, [(60, 60, 1), (2,)], 32),
    "AttentionDecoder": ("keras_attn.models", {"units": 64, "steps": 10, "output_dim": 11}, [(30, 64), (64,), (64,)], 32),
    "BiLSTMEncoder": ("keras_attn.models", {"units": 32}, (30, 37), 32),
    # features (L=64 cells, D=32) and caption ids (T+1 = 7; the random floats become ids in the vocabulary)
    "CaptionDecoder": ("keras_attn.models", {"vocab_size": 16, "units": 32}, [(64, 32), (7,)], 32),
    "RecurrentAttentionModel": (
        "keras_attn.models",
        {"num_classes": 10, "num_glimpses": 4, "patch_size": 8, "num_scales": 2, "units": 64},
        (60, 60, 1),
        32,
    ),
}

# Models that train on their own loss (``compute_loss``, REINFORCE included) with integer class
# labels: timed on that training step, as the model itself (not wrapped in a functional model).
SELF_TRAINED = {"RecurrentAttentionModel"}

# Built-in layers timed the same way, as references for the reasons below (not ours).
REFERENCES = {
    "Conv2D": ("keras.layers", {"filters": 32, "kernel_size": 3, "padding": "same"}, IMG, 16),
    "Rescaling": ("keras.layers", {"scale": 2.0}, SEQ, 32),
}

# Layers that are allowed to be slower under XLA, with the reason a profile showed.
REASONS = {
    "ResidualAttention": (
        "conv-bound (its residual units are 3x3 convolutions): a plain Keras Conv2D 3x3 train step, "
        "the reference row, is as much slower under XLA on this CPU"
    ),
    "PositionalEncoding": (
        "one elementwise add per call (the table is a constant): the step is all fixed call cost, "
        "and an XLA launch costs a little more; the Rescaling reference row (one elementwise multiply) "
        "shows the same"
    ),
}
NOISE = 0.9  # ratios above this are within the noise of these shared machines


def public_layers():
    """Every public layer class of keras_attn and keras_attn.models."""
    import importlib

    found = {}
    for module_name in ("keras_attn", "keras_attn.models"):
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, keras.layers.Layer):
                found[name] = obj
    return found


def _model(name, scale):
    import importlib

    module, kwargs, shapes, batch = WORKLOADS[name] if name in WORKLOADS else REFERENCES[name]
    cls = getattr(importlib.import_module(module), name)
    shapes = shapes if isinstance(shapes, list) else [shapes]
    batch = max(2, batch // scale)
    inputs = [keras.Input(s) for s in shapes]
    layer = cls(**kwargs)
    rng = np.random.default_rng(0)
    x = [rng.standard_normal((batch,) + tuple(s)).astype("float32") for s in shapes]
    x = x if len(x) > 1 else x[0]
    if name in SELF_TRAINED:
        layer(x)
        return layer, x, rng.integers(0, kwargs["num_classes"], batch), True
    out = layer(inputs if len(inputs) > 1 else inputs[0])
    model = keras.Model(inputs, out)
    y = rng.standard_normal((batch,) + tuple(out.shape[1:])).astype("float32")
    return model, x, y, bool(layer.trainable_weights)


def _step(name, jit, scale):
    """``(fn, kind)``: one training step (or forward pass, for weightless layers) of ``name``'s workload."""
    model, x, y, trainable = _model(name, scale)
    if trainable:
        loss = None if name in SELF_TRAINED else "mse"
        model.compile(optimizer=keras.optimizers.SGD(1e-3), loss=loss, jit_compile=jit)
        return (lambda: model.train_on_batch(x, y)), "train step"
    model.compile(jit_compile=jit)
    return (lambda: model.predict_on_batch(x)), "forward"


def _times(name, scale, repeats):
    """XLA and non-XLA steps of one workload, timed round by round."""
    jit_step, kind = _step(name, True, scale)
    eager_step, _ = _step(name, False, scale)
    times = measure_interleaved({"jit": jit_step, "eager": eager_step}, repeats=repeats)
    return times["jit"], times["eager"], kind


def run(quick=False):
    backend = keras.backend.backend()
    if backend == "torch":
        return [
            Table("jit_compile=True vs False", "XLA", "no XLA", [], notes=["Not run on torch: XLA applies to TF and JAX."])
        ]
    scale, repeats = (4, 3) if quick else (1, 21)
    rows = []
    for name in sorted(public_layers()):
        if name not in WORKLOADS:
            continue
        jit_time, eager_time, kind = _times(name, scale, repeats)
        module, kwargs, shapes, batch = WORKLOADS[name]
        note = REASONS.get(name, "")
        rows.append(Row(f"{name} {kind} (B={max(2, batch // scale)}, {shapes})", jit_time, eager_time, note=note))
    for name, (module, kwargs, shapes, batch) in REFERENCES.items():
        jit_time, eager_time, kind = _times(name, scale, repeats)
        rows.append(Row(f"reference: {module}.{name} {kind} (B={max(2, batch // scale)}, {shapes})", jit_time, eager_time, note="not ours"))
    slower = [r.workload.split()[0] for r in rows if r.ratio < NOISE and not r.note]
    notes = []
    if slower:
        notes.append("Slower under XLA without a written reason: " + ", ".join(slower))
    else:
        notes.append(f"No layer is slower under XLA without a written reason (ratios above {NOISE} count as equal: noise).")
    return [Table(f"jit_compile=True vs jit_compile=False ({backend})", "jit_compile=True", "jit_compile=False", rows, notes=notes)]


if __name__ == "__main__":
    for table in run():
        print(table.markdown())
