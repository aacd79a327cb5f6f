"""Spatial Transformer Networks (Jaderberg et al.) with a PyTorch-exact sampler."""

import keras
import numpy as np
from keras import ops

from keras_attn import _validation
from keras_attn.layers.vision._base import VisionLayer
from keras_attn.ops import affine_grid, grid_sample
from keras_attn.ops._dtypes import float_dtype, upcast
from keras_attn.ops.sampling import PADDING_MODES

IDENTITY_THETA = np.array([1.0, 0.0, 0.0, 0.0, 1.0, 0.0], "float32")


def identity_theta_initializer():
    """Bias initializer of a final ``Dense(6)`` that starts as the identity transform."""
    return keras.initializers.Constant(IDENTITY_THETA.tolist())


def default_localization(data_format="channels_last", dtype=None, name="localization"):
    """The default localization network: a small conv net ending in an identity ``Dense(6)``.

    ``Conv2D(8, 3) -> MaxPool(2) -> Conv2D(16, 3) -> MaxPool(2) -> Flatten ->
    Dense(32, relu) -> Dense(6)``, ``relu`` convolutions with "same" padding;
    the last ``Dense`` has a zero kernel and the bias ``[1, 0, 0, 0, 1, 0]``,
    so a fresh network predicts the identity for any input.

    With ``data_format="channels_first"`` the network takes ``(B, C, H, W)``
    inputs and first permutes them to channels-last: the convolutions always
    run channels-last, because not every backend has a channels-first kernel
    for every dtype (TensorFlow's CPU ``Conv2D`` has no float16 NCHW kernel
    without oneDNN). Weights and the flattened order are those of the
    channels-last network (``Flatten`` flattens channels-last in both formats).
    """
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be one of 'channels_last', 'channels_first'; got {data_format!r}")
    kwargs = {"dtype": dtype} if dtype is not None else {}
    to_last = [keras.layers.Permute((2, 3, 1), **kwargs)] if data_format == "channels_first" else []
    return keras.Sequential(
        to_last
        + [
            keras.layers.Conv2D(8, 3, padding="same", activation="relu", **kwargs),
            keras.layers.MaxPooling2D(2, padding="same", **kwargs),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu", **kwargs),
            keras.layers.MaxPooling2D(2, padding="same", **kwargs),
            keras.layers.Flatten(**kwargs),
            keras.layers.Dense(32, activation="relu", **kwargs),
            keras.layers.Dense(6, kernel_initializer="zeros", bias_initializer=identity_theta_initializer(), **kwargs),
        ],
        name=name,
    )


@keras.saving.register_keras_serializable(package="keras_attn")
class SpatialTransformer(VisionLayer):
    """Spatial transformer: predicts an affine transform and resamples the input with it.

    ``theta = localization(x)`` reshaped to ``(B, 2, 3)``;
    ``grid = affine_grid(theta, output_size)``;
    ``out = grid_sample(x, grid)`` (bilinear). The sampler follows PyTorch's
    ``affine_grid`` / ``grid_sample`` conventions exactly, for both
    ``align_corners`` values and the ``"zeros"`` / ``"border"`` padding modes
    (see ``keras_attn.ops.grid_sample``), and the identity ``theta``
    reproduces the input exactly.

    ``localization`` is any Keras layer or model mapping the input to 6
    numbers per sample (row-major ``theta``). With ``None`` a small default
    conv net is used whose final ``Dense(6)`` regression is initialised to the
    identity (zero kernel, bias ``[1, 0, 0, 0, 1, 0]``), so a fresh layer is an
    exact identity map (with ``output_size`` equal to the input size). A custom
    network should end the same way: use ``identity_theta_initializer()`` as
    the bias initializer of its last ``Dense(6)`` with a zero kernel. The
    localization network is saved and reloaded with the layer.

    Args:
        localization: a Keras layer / model, or ``None`` for the default net.
        output_size: ``(H_out, W_out)`` or ``None`` (default) for the input's size.
        align_corners: sampler convention. Defaults to ``False``.
        padding_mode: ``"zeros"`` (default) or ``"border"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: 4D image tensor in ``data_format`` with static H, W, C.
        training: passed to the localization network.
        return_theta: if ``True``, also return ``theta`` of shape ``(B, 2, 3)``.

    Returns:
        ``(B, H_out, W_out, C)`` (or ``(B, C, H_out, W_out)``), and with
        ``return_theta=True`` the tuple ``(output, theta)``, ``theta`` float32
        under mixed precision.

    Example:

    >>> import keras, numpy as np
    >>> from keras_attn import SpatialTransformer
    >>> x = np.random.rand(2, 12, 12, 1).astype("float32")
    >>> out, theta = SpatialTransformer()(x, return_theta=True)
    >>> out, theta = keras.ops.convert_to_numpy(out), keras.ops.convert_to_numpy(theta)
    >>> bool(np.all(out == x)), theta[0].tolist()
    (True, [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    """

    def __init__(
        self,
        localization=None,
        output_size=None,
        align_corners=False,
        padding_mode="zeros",
        data_format="channels_last",
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        if localization is not None and not isinstance(localization, keras.layers.Layer):
            raise ValueError(f"localization must be a Keras layer or model, or None; got {localization!r}")
        if output_size is not None:
            if not isinstance(output_size, (tuple, list)) or len(output_size) != 2:
                raise ValueError(f"output_size must be a pair (H_out, W_out) of positive integers or None; got {output_size!r}")
            output_size = tuple(_validation.positive_int("output_size", s) for s in output_size)
        self.output_size = output_size
        self._store_args(
            align_corners=_validation.boolean("align_corners", align_corners),
            padding_mode=_validation.one_of("padding_mode", padding_mode, PADDING_MODES),
        )
        self.custom_localization = localization is not None
        self.localization = localization if localization is not None else default_localization(data_format, self.dtype_policy)

    def _size(self, input_shape):
        h_axis, w_axis = self.spatial_axes
        return self.output_size or (input_shape[h_axis], input_shape[w_axis])

    def build(self, input_shape):
        self._check_images(input_shape, spatial=True)
        if not self.localization.built:
            self.localization.build(tuple(input_shape))
        out = self.localization.compute_output_spec(keras.KerasTensor(tuple(input_shape))).shape
        if int(np.prod([d for d in out[1:]])) != 6:
            raise ValueError(
                f"SpatialTransformer '{self.name}' expects its localization network to map the input to "
                f"(batch, 6) numbers; it gives shape {tuple(out)}"
            )

    def call(self, inputs, training=None, return_theta=False):
        theta = upcast(self.localization(inputs, training=training))
        theta = ops.reshape(ops.cast(theta, float_dtype(self.compute_dtype)), (-1, 2, 3))
        size = self._size(tuple(inputs.shape))
        grid = affine_grid(theta, size, self.align_corners)
        x = self._to_last(upcast(inputs))
        output = grid_sample(x, grid, align_corners=self.align_corners, padding_mode=self.padding_mode)
        output = ops.cast(self._from_last(output), self.compute_dtype)
        return (output, theta) if return_theta else output

    def compute_output_shape(self, input_shape):
        height, width = self._size(input_shape)
        if self.channels_last:
            return (input_shape[0], height, width, input_shape[3])
        return (input_shape[0], input_shape[1], height, width)

    def compute_output_spec(self, inputs, training=None, return_theta=False):
        output = keras.KerasTensor(self.compute_output_shape(tuple(inputs.shape)), dtype=self.compute_dtype)
        if return_theta:
            return output, self._score_spec((inputs.shape[0], 2, 3))
        return output

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "localization": keras.saving.serialize_keras_object(self.localization) if self.custom_localization else None,
                "output_size": list(self.output_size) if self.output_size else None,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("localization") is not None:
            config["localization"] = keras.saving.deserialize_keras_object(config["localization"])
        return cls(**config)
