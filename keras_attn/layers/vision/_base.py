"""What every vision attention layer shares: ``data_format`` and 4D input checks."""

import keras
from keras import ops

from keras_attn.layers import _checks
from keras_attn.ops import float_dtype, upcast

DATA_FORMATS = ("channels_last", "channels_first")


class VisionLayer(keras.layers.Layer):
    """Base of the vision layers: ``data_format`` handling and input checks.

    Not public and not registered: every concrete subclass is.
    """

    def __init__(self, data_format="channels_last", **kwargs):
        super().__init__(**kwargs)
        self.data_format = _checks.one_of("data_format", data_format, DATA_FORMATS)

    @property
    def channels_last(self):
        return self.data_format == "channels_last"

    @property
    def channel_axis(self):
        return -1 if self.channels_last else 1

    @property
    def spatial_axes(self):
        return (1, 2) if self.channels_last else (2, 3)

    @property
    def _layout(self):
        return "(batch, H, W, channels)" if self.channels_last else "(batch, channels, H, W)"

    def _check_images(self, input_shape, spatial=False):
        """Checks a rank-4 input with known channels (and H, W if ``spatial``); returns (C, H, W)."""
        shape = _checks.input_rank(self, input_shape, 4, "inputs", self._layout)
        channels = _checks.static_dim(self, shape, self.channel_axis, "inputs", f"{self._layout} with known channels")
        h_axis, w_axis = self.spatial_axes
        if spatial:
            height = _checks.static_dim(self, shape, h_axis, "inputs", f"{self._layout} with known H and W")
            width = _checks.static_dim(self, shape, w_axis, "inputs", f"{self._layout} with known H and W")
        else:
            height, width = shape[h_axis], shape[w_axis]
        # Only build() calls this: later calls with another rank, channel count (or,
        # where the weights or checks depend on them, H and W) fail in Keras's clear
        # input check instead of deep inside the backend.
        axes = (self.channel_axis,) + ((h_axis, w_axis) if spatial else ())
        self.input_spec = _checks.built_input_spec(shape, axes=axes)
        return channels, height, width

    def _expand_gate(self, gate):
        """``(B, C)`` -> broadcastable against the input."""
        return gate[:, None, None, :] if self.channels_last else gate[:, :, None, None]

    def _to_last(self, x):
        return x if self.channels_last else ops.transpose(x, (0, 2, 3, 1))

    def _from_last(self, x):
        return x if self.channels_last else ops.transpose(x, (0, 3, 1, 2))

    def _score_spec(self, shape):
        return keras.KerasTensor(shape, dtype=float_dtype(self.compute_dtype))

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class GatingLayer(VisionLayer):
    """A layer whose output is its input re-weighted: same shape, optional gate returned."""

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _gate_shape(self, input_shape):
        raise NotImplementedError

    def compute_output_spec(self, inputs, return_attention_scores=False, training=None):
        output = keras.KerasTensor(tuple(inputs.shape), dtype=self.compute_dtype)
        if return_attention_scores:
            return output, self._score_spec(self._gate_shape(tuple(inputs.shape)))
        return output

    def _channel_gate_shape(self, input_shape):
        return (input_shape[0], input_shape[self.channel_axis])

    def _spatial_map_shape(self, input_shape):
        h_axis, w_axis = self.spatial_axes
        h, w = input_shape[h_axis], input_shape[w_axis]
        return (input_shape[0], h, w, 1) if self.channels_last else (input_shape[0], 1, h, w)


class ChannelMLPLayer(GatingLayer):
    """A gating layer with the SE / CBAM bottleneck MLP ``W2 relu(W1 z + b1) + b2``.

    Weights, in ``get_weights()`` order: ``[W1 (C, C // ratio), b1, W2 (C // ratio, C), b2]``.
    """

    def __init__(
        self,
        ratio=16,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        data_format="channels_last",
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self.ratio = _checks.positive_int("ratio", ratio)
        self.kernel_initializer = _checks.initializer("kernel_initializer", kernel_initializer)
        self.bias_initializer = _checks.initializer("bias_initializer", bias_initializer)
        self.kernel_regularizer = _checks.regularizer("kernel_regularizer", kernel_regularizer)

    def _build_mlp(self, channels):
        hidden = channels // self.ratio
        if hidden < 1:
            raise ValueError(
                f"{self.__class__.__name__} '{self.name}' expects inputs with at least ratio={self.ratio} "
                f"channels (hidden units = channels // ratio must be >= 1); received {channels} channels"
            )
        self.hidden_units = hidden

        def kernel(name, shape):
            return self.add_weight(
                name=name, shape=shape, initializer=self.kernel_initializer, regularizer=self.kernel_regularizer
            )

        self.w1 = kernel("w1", (channels, hidden))
        self.b1 = self.add_weight(name="b1", shape=(hidden,), initializer=self.bias_initializer)
        self.w2 = kernel("w2", (hidden, channels))
        self.b2 = self.add_weight(name="b2", shape=(channels,), initializer=self.bias_initializer)

    def _mlp(self, z):
        """``z`` (B, C) float32 -> (B, C)."""
        h = ops.relu(ops.matmul(z, upcast(self.w1)) + upcast(self.b1))
        return ops.matmul(h, upcast(self.w2)) + upcast(self.b2)

    def _gate_shape(self, input_shape):
        return self._channel_gate_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "ratio": self.ratio,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            }
        )
        return config
