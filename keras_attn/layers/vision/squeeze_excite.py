"""Squeeze-and-Excitation (Hu et al., SENet): channel attention."""

import keras
from keras import ops

from keras_attn.layers.vision._base import ChannelMLPLayer
from keras_attn.ops._dtypes import upcast


@keras.saving.register_keras_serializable(package="keras_attn")
class SqueezeExcite(ChannelMLPLayer):
    """Squeeze-and-Excitation: re-weights channels by a gate learned from their means.

    ``z = mean over H, W of x`` (squeeze), ``s = sigmoid(W2 relu(W1 z + b1) + b2)``
    (excite), output ``x * s`` broadcast over H and W. The hidden width is
    ``C // ratio`` as in the paper (``ratio=16``); timm rounds it to a multiple
    of 8 and keras-cv defaults to ``C // 4``, neither is done here. A ratio that
    leaves zero hidden units is rejected in ``build``. Pooling, the MLP and the
    sigmoid run in float32 under mixed precision.

    Weights, in ``get_weights()`` order:
    ``[W1 (C, C // ratio), b1 (C // ratio,), W2 (C // ratio, C), b2 (C,)]``.

    Args:
        ratio: positive int, channel reduction ratio. Defaults to 16.
        kernel_initializer: initializer of ``W1`` and ``W2``. Defaults to
            ``"glorot_uniform"``.
        bias_initializer: initializer of ``b1`` and ``b2``. Defaults to ``"zeros"``.
        kernel_regularizer: optional regularizer of ``W1`` and ``W2``.
        data_format: ``"channels_last"`` (default, ``(B, H, W, C)``) or
            ``"channels_first"`` (``(B, C, H, W)``).
        **kwargs: base ``Layer`` arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: 4D image tensor in ``data_format``.
        return_attention_scores: if ``True``, also return the gate ``s``.

    Returns:
        A tensor of the input's shape; with ``return_attention_scores=True``
        the tuple ``(output, s)``, ``s`` of shape ``(B, C)``.

    Example:

    >>> import numpy as np
    >>> from keras_attn import SqueezeExcite
    >>> x = np.random.rand(2, 8, 8, 32).astype("float32")
    >>> out, gate = SqueezeExcite(ratio=16)(x, return_attention_scores=True)
    >>> tuple(out.shape), tuple(gate.shape)
    ((2, 8, 8, 32), (2, 32))
    """

    def call(self, inputs, return_attention_scores=False):
        x = upcast(inputs)
        z = ops.mean(x, axis=self.spatial_axes)
        gate = ops.sigmoid(self._mlp(z))
        output = ops.cast(x * self._expand_gate(gate), self.compute_dtype)
        if return_attention_scores:
            return output, gate
        return output
