"""CBAM (Woo et al.): channel attention, then spatial attention."""

import keras
from keras import ops

from keras_attn import _validation
from keras_attn._args import add_kernel
from keras_attn.layers.vision._base import ChannelMLPLayer, GatingLayer, bottleneck_units
from keras_attn.ops._dtypes import float_dtype, upcast


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
        ``x * Mc`` (the input's shape), or with ``return_attention_scores=True``
        the tuple ``(output, Mc)``, ``Mc`` of shape ``(B, C)``.

    Example:

    >>> import numpy as np
    >>> from keras_attn import ChannelAttention
    >>> out = ChannelAttention(ratio=4)(np.random.rand(2, 5, 5, 16).astype("float32"))
    >>> tuple(out.shape)
    (2, 5, 5, 16)
    """

    def call(self, inputs, return_attention_scores=False):
        x = upcast(inputs)
        gate = ops.sigmoid(self._mlp(ops.mean(x, axis=self.spatial_axes)) + self._mlp(ops.max(x, axis=self.spatial_axes)))
        output = ops.cast(x * self._expand_gate(gate), self.compute_dtype)
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
        self._store_args(
            kernel_size=_odd_kernel_size(kernel_size), use_batchnorm=_validation.boolean("use_batchnorm", use_batchnorm)
        )
        self._store_weight_args(kernel_initializer=kernel_initializer)
        self.batchnorm = keras.layers.BatchNormalization(axis=-1, epsilon=1e-5, dtype="float32", name="batchnorm") if use_batchnorm else None

    def build(self, input_shape):
        self._check_images(input_shape)
        k = self.kernel_size
        self.kernel = add_kernel(self, "kernel", (k, k, 2, 1))
        if self.batchnorm is not None:
            self.batchnorm.build((None, None, None, 1))

    def call(self, inputs, training=None, return_attention_scores=False):
        xl = self._to_last(upcast(inputs))
        stats = ops.concatenate([ops.mean(xl, axis=-1, keepdims=True), ops.max(xl, axis=-1, keepdims=True)], axis=-1)
        logits = ops.conv(stats, upcast(self.kernel), strides=1, padding="same", data_format="channels_last")
        if self.batchnorm is not None:
            logits = self.batchnorm(logits, training=training)
        attention = ops.sigmoid(logits)  # (B, H, W, 1)
        output = ops.cast(self._from_last(xl * attention), self.compute_dtype)
        return (output, self._from_last(attention)) if return_attention_scores else output

    def _gate_shape(self, input_shape):
        return self._spatial_map_shape(input_shape)


def _odd_kernel_size(kernel_size):
    k = _validation.positive_int("kernel_size", kernel_size)
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
        # The sublayers compute in float32 under mixed precision (the whole module does), in the
        # layer's own dtype otherwise; their variables are float32 either way.
        dtype = "float32" if float_dtype(self.compute_dtype) != self.compute_dtype else self.dtype_policy
        self.channel_attention = ChannelAttention(
            ratio, kernel_initializer, bias_initializer, kernel_regularizer, data_format, dtype=dtype, name="channel_attention"
        )
        self.spatial_attention = SpatialAttention(
            kernel_size, use_batchnorm, kernel_initializer, data_format, dtype=dtype, name="spatial_attention"
        )
        self._store_args(ratio=self.channel_attention.ratio, kernel_size=self.spatial_attention.kernel_size)
        self._store_args(use_batchnorm=use_batchnorm)
        self._store_weight_args(
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer
        )

    def build(self, input_shape):
        channels, _, _ = self._check_images(input_shape)
        bottleneck_units(self, channels, self.ratio)  # the error names this layer, not the sublayer
        self.channel_attention.build(input_shape)
        self.spatial_attention.build(input_shape)

    def call(self, inputs, training=None, return_attention_scores=False):
        x, channel_gate = self.channel_attention(upcast(inputs), return_attention_scores=True)
        output, spatial_map = self.spatial_attention(x, training=training, return_attention_scores=True)
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
