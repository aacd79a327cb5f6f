"""What every vision attention layer shares: ``data_format`` and 4D input checks."""

import keras
from keras import ops

from keras_attn import _validation
from keras_attn._args import ArgsMixin, add_kernel
from keras_attn.ops._dtypes import float_dtype, upcast

DATA_FORMATS = ("channels_last", "channels_first")


def bottleneck_units(layer, channels, ratio):
    """``channels // ratio``, the hidden width of a channel MLP; a ``ValueError`` naming ``layer`` if it is 0."""
    if channels // ratio < 1:
        raise ValueError(
            f"{layer.__class__.__name__} '{layer.name}' expects inputs with at least ratio={ratio} "
            f"channels (hidden units = channels // ratio must be >= 1); received {channels} channels"
        )
    return channels // ratio


class VisionLayer(ArgsMixin, keras.layers.Layer):
    """Base of the vision layers: ``data_format`` handling and input checks.

    Not public and not registered: every concrete subclass is.
    """

    def __init__(self, data_format="channels_last", **kwargs):
        super().__init__(**kwargs)
        self._store_args(data_format=_validation.one_of("data_format", data_format, DATA_FORMATS))

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
        shape = _validation.input_rank(self, input_shape, 4, "inputs", self._layout)
        channels = _validation.static_dim(self, shape, self.channel_axis, "inputs", f"{self._layout} with known channels")
        h_axis, w_axis = self.spatial_axes
        if spatial:
            height = _validation.static_dim(self, shape, h_axis, "inputs", f"{self._layout} with known H and W")
            width = _validation.static_dim(self, shape, w_axis, "inputs", f"{self._layout} with known H and W")
        else:
            height, width = shape[h_axis], shape[w_axis]
        # Only build() calls this: later calls with another rank, channel count (or,
        # where the weights or checks depend on them, H and W) fail in Keras's clear
        # input check instead of deep inside the backend.
        axes = (self.channel_axis,) + ((h_axis, w_axis) if spatial else ())
        self.input_spec = _validation.built_input_spec(shape, axes=axes)
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
        self._store_args(ratio=_validation.positive_int("ratio", ratio))
        self._store_weight_args(
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer
        )

    def build(self, input_shape):
        channels, _, _ = self._check_images(input_shape)
        hidden = self.hidden_units = bottleneck_units(self, channels, self.ratio)
        self.w1 = add_kernel(self, "w1", (channels, hidden))
        self.b1 = add_kernel(self, "b1", (hidden,), kind="bias")
        self.w2 = add_kernel(self, "w2", (hidden, channels))
        self.b2 = add_kernel(self, "b2", (channels,), kind="bias")

    def _mlp(self, z):
        """``z`` (B, C) float32 -> (B, C)."""
        h = ops.relu(ops.matmul(z, upcast(self.w1)) + upcast(self.b1))
        return ops.matmul(h, upcast(self.w2)) + upcast(self.b2)

    def _gate_shape(self, input_shape):
        return self._channel_gate_shape(input_shape)
