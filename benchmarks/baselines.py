"""Baselines assembled from Keras built-in layers, as people write them today.

They are what keras_attn layers are measured against in the benchmarks, and
the tests use them as oracles (with weights copied from ours).
"""

import keras
from keras import layers


def seed003_attention(hidden_states, units=128):
    """Seed 003's many-to-one attention, written with Keras built-ins as printed.

    Weights: ``Dense(D, use_bias=False)`` (Luong's ``W``), then
    ``Dense(units, use_bias=False, activation="tanh")`` (``W_c``): the same
    order and shapes as ``keras_attn.Attention(units, score="luong")``.
    """
    hidden_size = int(hidden_states.shape[2])
    score_first_part = layers.Dense(hidden_size, use_bias=False)(hidden_states)
    h_t = layers.Lambda(lambda x: x[:, -1, :], output_shape=(hidden_size,))(hidden_states)
    score = layers.Dot(axes=[1, 2])([h_t, score_first_part])
    attention_weights = layers.Activation("softmax")(score)
    context_vector = layers.Dot(axes=[1, 1])([hidden_states, attention_weights])
    pre_activation = layers.Concatenate()([context_vector, h_t])
    return layers.Dense(units, use_bias=False, activation="tanh")(pre_activation)


def seed003_model(steps, features, units=128):
    inputs = keras.Input((steps, features))
    return keras.Model(inputs, seed003_attention(inputs, units))
