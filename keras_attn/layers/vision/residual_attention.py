"""The attention module of the Residual Attention Network (Wang et al., 2017)."""

import keras
from keras import ops

from keras_attn import _validation
from keras_attn.layers.vision._base import VisionLayer
from keras_attn.ops._dtypes import float_dtype, upcast

MODES = ("mixed", "channel", "spatial")
EPSILON = 1e-5


def mask_activation(m, mode, channel_axis, spatial_axes):
    """The three soft-mask activations of the paper, in ``m``'s dtype.

    mixed: ``sigmoid(m)``; channel: ``m / ||m||`` over the channels at each
    position (L2, ``max(||m||^2, 1e-12)`` under the root); spatial:
    ``sigmoid((m - mean_c) / sqrt(var_c + 1e-5))`` with each channel's mean
    and variance over the positions of its own sample.
    """
    if mode == "mixed":
        return ops.sigmoid(m)
    if mode == "channel":
        return m * ops.rsqrt(ops.maximum(ops.sum(ops.square(m), axis=channel_axis, keepdims=True), 1e-12))
    mean = ops.mean(m, axis=spatial_axes, keepdims=True)
    var = ops.mean(ops.square(m - mean), axis=spatial_axes, keepdims=True)
    return ops.sigmoid((m - mean) * ops.rsqrt(var + EPSILON))


@keras.saving.register_keras_serializable(package="keras_attn")
class ResidualAttention(VisionLayer):
    """Residual attention module: ``out = (1 + M(x)) * T(x)``.

    Trunk branch ``T``: ``trunk_depth`` ``Conv2D(C, 3, relu)`` layers.
    Soft-mask branch ``M`` (bottom-up, top-down, with skips): ``depth`` times
    ``MaxPool(2) -> Conv2D(C, 3, relu)``, then ``depth`` times
    ``UpSampling(2, nearest) -> + skip -> Conv2D(C, 3, relu)``, then
    ``Conv2D(C, 1, relu) -> Conv2D(C, 1)`` and the activation selected by
    ``mode``:

    * ``"mixed"``: ``sigmoid(m)`` (the paper's f1, attention on every channel
      and position);
    * ``"channel"``: ``m / ||m||`` over the channels at each position (f2);
    * ``"spatial"``: ``sigmoid`` of each channel standardised over its
      positions, ``(m - mean_c) / sqrt(var_c + 1e-5)`` (f3).

    The ``1 +`` keeps the trunk's features where the mask is near 0 (attention
    residual learning). All convolutions use "same" padding; the output has
    the input's shape, so H and W must be divisible by ``2 ** depth`` (checked
    in ``build``). The mask activation and the product run in float32 under
    mixed precision.

    Args:
        mode: ``"mixed"`` (default), ``"channel"`` or ``"spatial"``.
        depth: positive int, number of down-/up-sampling steps in the mask
            branch. Defaults to 1.
        trunk_depth: positive int, convolutions in the trunk. Defaults to 2.
        kernel_initializer: initializer of every convolution kernel. Defaults
            to ``"he_normal"``.
        kernel_regularizer: optional regularizer of every convolution kernel.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: 4D image tensor in ``data_format``, static H, W, C.
        return_attention_scores: if ``True``, also return the mask ``M(x)``.

    Returns:
        A tensor of the input's shape; with ``return_attention_scores=True``
        the tuple ``(output, mask)``, ``mask`` of the input's shape (float32
        under mixed precision).

    Example:

    >>> import numpy as np
    >>> from keras_attn import ResidualAttention
    >>> x = np.random.rand(2, 8, 8, 4).astype("float32")
    >>> out, mask = ResidualAttention(mode="spatial", depth=2)(x, return_attention_scores=True)
    >>> tuple(out.shape), tuple(mask.shape)
    ((2, 8, 8, 4), (2, 8, 8, 4))
    """

    def __init__(
        self,
        mode="mixed",
        depth=1,
        trunk_depth=2,
        kernel_initializer="he_normal",
        kernel_regularizer=None,
        data_format="channels_last",
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self._store_args(
            mode=_validation.one_of("mode", mode, MODES),
            **_validation.each(_validation.positive_int, depth=depth, trunk_depth=trunk_depth),
        )
        self._store_weight_args(kernel_initializer=kernel_initializer, kernel_regularizer=kernel_regularizer)

    @property
    def _mask_dtype(self):
        # The soft-mask branch (down/up-sampling convolutions with skip sums) runs in
        # float32 under mixed precision: in float16 its activations overflow for
        # inputs of magnitude 1e4. The trunk keeps the policy's compute dtype.
        return "float32" if float_dtype(self.compute_dtype) != self.compute_dtype else self.dtype_policy

    def _conv(self, channels, size, name, activation="relu", dtype=None):
        return keras.layers.Conv2D(
            channels,
            size,
            padding="same",
            activation=activation,
            kernel_initializer=keras.initializers.get(keras.initializers.serialize(self.kernel_initializer)),
            kernel_regularizer=self.kernel_regularizer,
            data_format="channels_last",
            dtype=self.dtype_policy if dtype is None else dtype,
            name=name,
        )

    def build(self, input_shape):
        channels, height, width = self._check_images(input_shape, spatial=True)
        step = 2**self.depth
        if height % step or width % step:
            raise _validation.shape_error(
                self, "inputs", f"{self._layout} with H and W divisible by 2 ** depth = {step}", input_shape
            )
        self.trunk = [self._conv(channels, 3, f"trunk_{i}") for i in range(self.trunk_depth)]
        mdt = self._mask_dtype
        self.down = [self._conv(channels, 3, f"mask_down_{i}", dtype=mdt) for i in range(self.depth)]
        self.up = [self._conv(channels, 3, f"mask_up_{i}", dtype=mdt) for i in range(self.depth)]
        self.mask_head = [
            self._conv(channels, 1, "mask_head_0", dtype=mdt),
            self._conv(channels, 1, "mask_head_1", activation=None, dtype=mdt),
        ]
        self._pool = keras.layers.MaxPooling2D(2, data_format="channels_last", dtype=mdt, name="mask_pool")
        self._upsample = keras.layers.UpSampling2D(2, data_format="channels_last", dtype=mdt, name="mask_upsample")
        # Every sublayer runs channels-last, whatever ``data_format`` is: call()
        # transposes channels_first inputs. Not every backend has a channels-first
        # kernel for every dtype (TensorFlow's CPU Conv2D has no float16 NCHW kernel
        # without oneDNN), and the kernels' shapes do not depend on the layout.
        shape = (input_shape[0], height, width, channels)
        for conv in self.trunk:
            conv.build(shape)
        h_axis, w_axis = 1, 2
        for i, conv in enumerate(self.down):
            small = list(shape)
            small[h_axis] //= 2 ** (i + 1)
            small[w_axis] //= 2 ** (i + 1)
            conv.build(tuple(small))
        for i, conv in enumerate(self.up):
            small = list(shape)
            small[h_axis] //= 2**i
            small[w_axis] //= 2**i
            conv.build(tuple(small))
        for conv in self.mask_head:
            conv.build(shape)

    def _mask_logits(self, x):
        skips, m = [], x
        for conv in self.down:
            skips.append(m)
            m = conv(self._pool(m))
        for conv, skip in reversed(list(zip(self.up, skips))):
            m = conv(self._upsample(m) + skip)
        for conv in self.mask_head:
            m = conv(m)
        return m

    def call(self, inputs, return_attention_scores=False):
        x = self._to_last(ops.cast(inputs, self.compute_dtype))
        trunk = x
        for conv in self.trunk:
            trunk = conv(trunk)
        mask = mask_activation(upcast(self._mask_logits(upcast(x))), self.mode, -1, (1, 2))
        output = ops.cast(self._from_last((1.0 + mask) * upcast(trunk)), self.compute_dtype)
        return (output, self._from_last(mask)) if return_attention_scores else output

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(self, inputs, return_attention_scores=False):
        output = keras.KerasTensor(tuple(inputs.shape), dtype=self.compute_dtype)
        if return_attention_scores:
            return output, self._score_spec(tuple(inputs.shape))
        return output
