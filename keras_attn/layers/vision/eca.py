"""Efficient Channel Attention (Wang et al., ECA-Net)."""

import math

import keras
from keras import ops

from keras_attn import _validation
from keras_attn._args import add_kernel
from keras_attn.layers.vision._base import GatingLayer
from keras_attn.ops._dtypes import upcast


def eca_kernel_size(channels, gamma=2, beta=1):
    """timm's adaptive ECA kernel size: ``t = int(|log2(C) + beta| / gamma)``, odd, at least 3.

    >>> [eca_kernel_size(c) for c in (64, 256, 2048)]
    [3, 5, 7]
    """
    t = int(abs(math.log2(channels) + beta) / gamma)
    k = t if t % 2 else t + 1
    return max(k, 3)


@keras.saving.register_keras_serializable(package="keras_attn")
class ECA(GatingLayer):
    """Efficient Channel Attention: a 1D convolution across the pooled channels.

    ``z = mean over H, W of x`` (shape ``(B, C)``), ``s = sigmoid(conv1d_k(z))``
    where the convolution slides a ``k``-tap kernel (no bias) along the channel
    axis with zero padding ``(k - 1) / 2`` on each side, output ``x * s``.
    With ``kernel_size=None``, ``k`` follows timm's adaptive rule
    ``t = int(|log2(C) + beta| / gamma)``, ``k = t`` if odd else ``t + 1``,
    at least 3 (C = 64, 256, 2048 give 3, 5, 7). Pooling, convolution and
    sigmoid run in float32 under mixed precision.

    Weights: ``[kernel (k, 1, 1)]``.

    Args:
        kernel_size: odd positive int, or ``None`` (default) for the adaptive size.
        gamma: positive number of the adaptive rule. Defaults to 2.
        beta: number of the adaptive rule. Defaults to 1.
        kernel_initializer: initializer of the kernel. Defaults to ``"glorot_uniform"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: 4D image tensor in ``data_format``.
        return_attention_scores: if ``True``, also return the gate ``s``
            (float32 under mixed precision).

    Returns:
        ``x * s``, of the input's shape, or with
        ``return_attention_scores=True`` the tuple ``(output, s)``, the gate
        ``s`` of shape ``(B, C)``.

    Example:

    >>> import numpy as np
    >>> from keras_attn import ECA
    >>> layer = ECA()
    >>> out = layer(np.random.rand(2, 4, 4, 256).astype("float32"))
    >>> tuple(out.shape), layer.get_weights()[0].shape
    ((2, 4, 4, 256), (5, 1, 1))
    """

    def __init__(self, kernel_size=None, gamma=2, beta=1, kernel_initializer="glorot_uniform", data_format="channels_last", **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        size = _validation.positive_int("kernel_size", kernel_size, allow_none=True)
        if size is not None and size % 2 == 0:
            raise ValueError(f"kernel_size must be an odd positive integer or None; got {kernel_size!r}")
        gamma = _validation.positive_float("gamma", gamma)
        if isinstance(beta, bool) or not isinstance(beta, (int, float)):
            raise ValueError(f"beta must be a number; got {beta!r}")
        self._store_args(kernel_size=size, gamma=gamma, beta=beta)
        self._store_weight_args(kernel_initializer=kernel_initializer)

    def build(self, input_shape):
        channels, _, _ = self._check_images(input_shape)
        k = self.kernel_size or eca_kernel_size(channels, self.gamma, self.beta)
        self.resolved_kernel_size = k
        self.kernel = add_kernel(self, "kernel", (k, 1, 1))

    def call(self, inputs, return_attention_scores=False):
        x = upcast(inputs)
        z = ops.mean(x, axis=self.spatial_axes)  # (B, C)
        gate = ops.sigmoid(self._conv_channels(z))
        output = ops.cast(x * self._expand_gate(gate), self.compute_dtype)
        if return_attention_scores:
            return output, gate
        return output

    def _conv_channels(self, z):
        """The k-tap "same" cross-correlation along the channels of ``z`` (B, C).

        Written as k shifted multiply-adds of the zero-padded ``z``, which XLA
        fuses into one elementwise pass; a 1-channel ``ops.conv`` on a length-C
        signal is a slow generic convolution on CPU.
        """
        k, channels = self.resolved_kernel_size, z.shape[-1]
        half = (k - 1) // 2
        padded = ops.pad(z, [[0, 0], [half, half]])
        w = ops.reshape(upcast(self.kernel), (k,))
        y = padded[:, :channels] * w[0]
        for j in range(1, k):
            y = y + padded[:, j : j + channels] * w[j]
        return y

    def _gate_shape(self, input_shape):
        return self._channel_gate_shape(input_shape)
