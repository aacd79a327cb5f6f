"""CBAM (Woo et al.): channel attention, then spatial attention."""

import keras
from keras import ops

from keras_attn.layers import _checks
from keras_attn.layers.vision._base import ChannelMLPLayer, GatingLayer
from keras_attn.ops import upcast


@keras.saving.register_keras_serializable(package="keras_attn")
class ChannelAttention(ChannelMLPLayer):
    """CBAM's channel attention: a shared MLP on average- and max-pooled channels.

    ``Mc = sigmoid(MLP(avgpool(x)) + MLP(maxpool(x)))`` with the shared MLP
    ``W2 relu(W1 z + b1) + b2`` of hidden width ``C // ratio``, output
    ``x * Mc``. Pooling, MLP and sigmoid run in float32 under mixed precision.

    Weights, in ``get_weights()`` order:
    ``[W1 (C, C // ratio), b1, W2 (C // ratio, C), b2]``.

    Args:
        ratio: positive int, channel reduction ratio. Defaults to 16.
        kernel_initializer: initializer of ``W1``, ``W2``. Defaults to ``"glorot_uniform"``.
        bias_initializer: initializer of ``b1``, ``b2``. Defaults to ``"zeros"``.
        kernel_regularizer: optional regularizer of ``W1``, ``W2``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: 4D image tensor in ``data_format``.
        return_attention_scores: if ``True``, also return ``Mc``.

    Returns:
        A tensor of the input's shape; with ``return_attention_scores=True``
        the tuple ``(output, Mc)``, ``Mc`` of shape ``(B, C)``.

    Example:

    >>> import numpy as np
    >>> from keras_attn import ChannelAttention
    >>> out = ChannelAttention(ratio=4)(np.random.rand(2, 5, 5, 16).astype("float32"))
    >>> tuple(out.shape)
    (2, 5, 5, 16)
    """

    def build(self, input_shape):
        channels, _, _ = self._check_images(input_shape)
        self._build_mlp(channels)

    def _attend(self, x):
        gate = ops.sigmoid(self._mlp(ops.mean(x, axis=self.spatial_axes)) + self._mlp(ops.max(x, axis=self.spatial_axes)))
        return x * self._expand_gate(gate), gate

    def call(self, inputs, return_attention_scores=False):
        output, gate = self._attend(upcast(inputs))
        output = ops.cast(output, self.compute_dtype)
        return (output, gate) if return_attention_scores else output


@keras.saving.register_keras_serializable(package="keras_attn")
class SpatialAttention(GatingLayer):
    """CBAM's spatial attention: a ``k x k`` convolution of channel statistics.

    ``Ms = sigmoid(conv_kxk([mean over channels of x; max over channels of x]))``
    (2 input maps in that order, 1 output map, no bias, "same" padding), and
    optionally a BatchNorm after the convolution (the official code and timm
    have it, the paper does not; ``epsilon=1e-5``). Output ``x * Ms``. The
    statistics, convolution, BatchNorm and sigmoid run in float32 under mixed
    precision.

    Weights, in ``get_weights()`` order: ``[kernel (k, k, 2, 1)]``, then with
    ``use_batchnorm=True`` ``[gamma, beta, moving_mean, moving_variance]``.

    Args:
        kernel_size: odd positive int. Defaults to 7.
        use_batchnorm: add BatchNorm after the convolution. Defaults to ``False``.
        kernel_initializer: initializer of the kernel. Defaults to ``"glorot_uniform"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: 4D image tensor in ``data_format``.
        training: whether BatchNorm uses batch statistics.
        return_attention_scores: if ``True``, also return ``Ms``.

    Returns:
        A tensor of the input's shape; with ``return_attention_scores=True``
        the tuple ``(output, Ms)``, ``Ms`` of shape ``(B, H, W, 1)``
        (``(B, 1, H, W)`` for ``channels_first``).

    Example:

    >>> import numpy as np
    >>> from keras_attn import SpatialAttention
    >>> out, ms = SpatialAttention(kernel_size=3)(np.random.rand(2, 6, 6, 4).astype("float32"), return_attention_scores=True)
    >>> tuple(out.shape), tuple(ms.shape)
    ((2, 6, 6, 4), (2, 6, 6, 1))
    """

    def __init__(self, kernel_size=7, use_batchnorm=False, kernel_initializer="glorot_uniform", data_format="channels_last", **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.kernel_size = _odd_kernel_size(kernel_size)
        if not isinstance(use_batchnorm, bool):
            raise ValueError(f"use_batchnorm must be True or False; got {use_batchnorm!r}")
        self.use_batchnorm = use_batchnorm
        self.kernel_initializer = _checks.initializer("kernel_initializer", kernel_initializer)
        self.batchnorm = keras.layers.BatchNormalization(axis=-1, epsilon=1e-5, dtype="float32", name="batchnorm") if use_batchnorm else None

    def build(self, input_shape):
        self._check_images(input_shape)
        k = self.kernel_size
        self.kernel = self.add_weight(name="kernel", shape=(k, k, 2, 1), initializer=self.kernel_initializer)
        if self.batchnorm is not None:
            self.batchnorm.build((None, None, None, 1))

    def _attend(self, x, training=None):
        xl = self._to_last(x)
        stats = ops.concatenate([ops.mean(xl, axis=-1, keepdims=True), ops.max(xl, axis=-1, keepdims=True)], axis=-1)
        logits = ops.conv(stats, upcast(self.kernel), strides=1, padding="same", data_format="channels_last")
        if self.batchnorm is not None:
            logits = self.batchnorm(logits, training=training)
        attention = ops.sigmoid(logits)  # (B, H, W, 1)
        return self._from_last(xl * attention), self._from_last(attention)

    def call(self, inputs, training=None, return_attention_scores=False):
        output, attention = self._attend(upcast(inputs), training)
        output = ops.cast(output, self.compute_dtype)
        return (output, attention) if return_attention_scores else output

    def _gate_shape(self, input_shape):
        return self._spatial_map_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "kernel_size": self.kernel_size,
                "use_batchnorm": self.use_batchnorm,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config


def _odd_kernel_size(kernel_size):
    k = _checks.positive_int("kernel_size", kernel_size)
    if k % 2 == 0:
        raise ValueError(f"kernel_size must be an odd positive integer; got {kernel_size!r}")
    return k


@keras.saving.register_keras_serializable(package="keras_attn")
class CBAM(GatingLayer):
    """Convolutional Block Attention Module: channel attention, then spatial attention.

    ``x' = Mc(x) * x`` with ``Mc = sigmoid(MLP(avgpool(x)) + MLP(maxpool(x)))``
    (see ``ChannelAttention``), then ``out = Ms(x') * x'`` with
    ``Ms = sigmoid(conv_kxk([mean_c(x'); max_c(x')]))`` (see
    ``SpatialAttention``). The whole module runs in float32 under mixed
    precision and casts its output to the compute dtype.

    Weights, in ``get_weights()`` order: the channel MLP
    ``[W1 (C, C // ratio), b1, W2 (C // ratio, C), b2]``, the spatial kernel
    ``(k, k, 2, 1)``, then with ``use_batchnorm=True`` the BatchNorm's
    ``[gamma, beta, moving_mean, moving_variance]``.

    Args:
        ratio: positive int, channel reduction ratio. Defaults to 16.
        kernel_size: odd positive int, the spatial convolution size. Defaults to 7.
        use_batchnorm: BatchNorm after the spatial convolution (official code,
            timm). Defaults to ``False`` (the paper).
        kernel_initializer: initializer of every kernel. Defaults to ``"glorot_uniform"``.
        bias_initializer: initializer of the MLP biases. Defaults to ``"zeros"``.
        kernel_regularizer: optional regularizer of the MLP kernels.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: 4D image tensor in ``data_format``.
        training: whether BatchNorm uses batch statistics.
        return_attention_scores: if ``True``, also return ``(Mc, Ms)``.

    Returns:
        A tensor of the input's shape; with ``return_attention_scores=True``
        the tuple ``(output, (Mc, Ms))``, ``Mc`` of shape ``(B, C)`` and ``Ms``
        of shape ``(B, H, W, 1)`` (``(B, 1, H, W)`` for ``channels_first``).

    Example:

    >>> import numpy as np
    >>> from keras_attn import CBAM
    >>> x = np.random.rand(2, 8, 8, 32).astype("float32")
    >>> out, (mc, ms) = CBAM(ratio=8)(x, return_attention_scores=True)
    >>> tuple(out.shape), tuple(mc.shape), tuple(ms.shape)
    ((2, 8, 8, 32), (2, 32), (2, 8, 8, 1))
    """

    def __init__(
        self,
        ratio=16,
        kernel_size=7,
        use_batchnorm=False,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        data_format="channels_last",
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self.channel_attention = ChannelAttention(
            ratio=ratio,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            data_format=data_format,
            dtype=self.dtype_policy,
            name="channel_attention",
        )
        self.spatial_attention = SpatialAttention(
            kernel_size=kernel_size,
            use_batchnorm=use_batchnorm,
            kernel_initializer=kernel_initializer,
            data_format=data_format,
            dtype=self.dtype_policy,
            name="spatial_attention",
        )

    def build(self, input_shape):
        self._check_images(input_shape)
        try:
            self.channel_attention.build(input_shape)
        except ValueError as error:  # name this layer, not the sub-layer
            raise ValueError(str(error).replace("ChannelAttention 'channel_attention'", f"CBAM '{self.name}'")) from None
        self.spatial_attention.build(input_shape)

    def call(self, inputs, training=None, return_attention_scores=False):
        x, channel_gate = self.channel_attention._attend(upcast(inputs))
        output, spatial_map = self.spatial_attention._attend(x, training)
        output = ops.cast(output, self.compute_dtype)
        return (output, (channel_gate, spatial_map)) if return_attention_scores else output

    def _gate_shape(self, input_shape):
        return None

    def compute_output_spec(self, inputs, return_attention_scores=False, training=None):
        output = keras.KerasTensor(tuple(inputs.shape), dtype=self.compute_dtype)
        if return_attention_scores:
            shape = tuple(inputs.shape)
            return output, (self._score_spec(self._channel_gate_shape(shape)), self._score_spec(self._spatial_map_shape(shape)))
        return output

    def get_config(self):
        config = super().get_config()
        channel, spatial = self.channel_attention, self.spatial_attention
        config.update(
            {
                "ratio": channel.ratio,
                "kernel_size": spatial.kernel_size,
                "use_batchnorm": spatial.use_batchnorm,
                "kernel_initializer": keras.initializers.serialize(channel.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(channel.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(channel.kernel_regularizer),
            }
        )
        return config
