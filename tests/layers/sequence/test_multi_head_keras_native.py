"""MultiHeadAttention calls its EinsumDense sublayers, so Keras's quantization and LoRA apply.

Oracle: ``keras.layers.MultiHeadAttention`` with the same weights, quantized or
LoRA-enabled the same way.
"""

import keras
import numpy as np
import pytest

from keras_attn import MultiHeadAttention
from tests._helpers import to_numpy

CONFIG = {"num_heads": 2, "key_dim": 8}


def _models(rng):
    """Keras's layer and ours in functional models, with the same random weights."""
    ref, ours = keras.layers.MultiHeadAttention(**CONFIG), MultiHeadAttention(**CONFIG)
    models = []
    for layer in (ref, ours):
        q, v = keras.Input((6, 16)), keras.Input((7, 16))
        models.append(keras.Model([q, v], layer(q, v)))
    ref.set_weights([rng.standard_normal(w.shape).astype("float32") * 0.3 for w in ref.get_weights()])
    ours.set_weights(ref.get_weights())
    return ref, ours, models[0], models[1]


def _inputs(rng):
    return [rng.standard_normal((2, 6, 16)).astype("float32"), rng.standard_normal((2, 7, 16)).astype("float32")]


@pytest.mark.parametrize("mode", ["int8", "float8"])
def test_quantized_like_keras(mode, rng):
    _, _, keras_model, our_model = _models(rng)
    x = _inputs(rng)
    before = to_numpy(keras_model(x))
    for model in (keras_model, our_model):
        model.quantize(mode)
    theirs, ours = to_numpy(keras_model(x)), to_numpy(our_model(x))
    keras_error = np.abs(theirs - before).max()
    assert keras_error > 0  # the quantization did change Keras's layer
    assert np.abs(ours - before).max() <= 2 * keras_error
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_lora_trains_only_lora_weights_like_keras(rng):
    ref, ours, keras_model, our_model = _models(rng)
    for layer in (ref, ours):
        layer.query_dense.enable_lora(2)
        layer.value_dense.enable_lora(2)
    ours.set_weights(ref.get_weights())
    assert [w.path.split("/", 1)[1] for w in ours.trainable_weights] == [
        w.path.split("/", 1)[1] for w in ref.trainable_weights
    ]
    projections = (ours.query_dense, ours.value_dense)
    frozen = [to_numpy(d._kernel) for d in projections]
    assert not any(d._kernel.trainable for d in projections)
    x, y = _inputs(rng), rng.standard_normal((2, 6, 16)).astype("float32")
    for model in (keras_model, our_model):
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        model.fit(x, y, epochs=3, batch_size=2, verbose=0, shuffle=False)
    for before, dense in zip(frozen, projections):
        np.testing.assert_array_equal(before, to_numpy(dense._kernel))
    lora_b = [to_numpy(d.lora_kernel_b) for d in projections]
    assert all(np.abs(b).max() > 0 for b in lora_b)  # initialised at zero, so these trained
    np.testing.assert_allclose(to_numpy(our_model(x)), to_numpy(keras_model(x)), atol=1e-5)
