"""The glimpse sensor and glimpse network of the Recurrent Attention Model (Mnih et al., 2014)."""

import keras
from keras import ops

from keras_attn import _validation
from keras_attn._args import ArgsMixin, add_kernel
from keras_attn.ops import extract_glimpses, glimpse_pyramid
from keras_attn.ops.glimpses import check_glimpse_args, retina_size_error


class _GlimpseBase(ArgsMixin, keras.layers.Layer):
    """Shared by the sensor and the network: retina arguments and ``[images, locations]`` checks. Not public."""

    def __init__(self, patch_size=8, num_scales=1, scale_factor=2, **kwargs):
        super().__init__(**kwargs)
        retina = check_glimpse_args(patch_size, num_scales, scale_factor)
        self._store_args(**dict(zip(("patch_size", "num_scales", "scale_factor"), retina)))

    def _check_inputs(self, input_shape, fix_channels):
        """Checks ``[(B, H, W, C), (B, 2)]``; returns ``(H, W, C)`` and sets the input specs."""
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2 or not isinstance(input_shape[0], (list, tuple)):
            raise ValueError(
                f"{self.__class__.__name__} '{self.name}' expects a list of 2 inputs [images, locations]; "
                f"received input shape {input_shape!r}"
            )
        images, locations = (tuple(s) for s in input_shape)
        layout = "(batch, H, W, channels) with known H, W and channels"
        _validation.input_rank(self, images, 4, "images", layout)
        height, width, channels = (_validation.static_dim(self, images, axis, "images", layout) for axis in (1, 2, 3))
        _validation.input_rank(self, locations, 2, "locations", "(batch, 2)")
        if locations[-1] != 2:
            raise _validation.shape_error(self, "locations", "(batch, 2)", locations)
        error = retina_size_error(height, width, self.patch_size, self.num_scales, self.scale_factor)
        if error:
            raise ValueError(f"{self.__class__.__name__} '{self.name}': {error}")
        self.input_spec = [
            keras.layers.InputSpec(ndim=4, axes={-1: channels} if fix_channels else {}),
            keras.layers.InputSpec(ndim=2, axes={-1: 2}),
        ]
        return height, width, channels

    def _split(self, inputs):
        images, locations = _validation.split_inputs(self, inputs, 2, ["images", "locations"])
        _validation.same_batch(self, [images, locations], ["images", "locations"])
        return images, locations

    def _glimpses(self, images, locations, pyramid=None):
        return extract_glimpses(images, locations, self.patch_size, self.num_scales, self.scale_factor, pyramid=pyramid)

    def pyramid(self, images):
        """``ops.glimpse_pyramid`` of ``images`` for this retina: pass it as ``pyramid=`` to glimpse them again cheaply."""
        return glimpse_pyramid(images, self.patch_size, self.num_scales, self.scale_factor)

    def _glimpse_shape(self, input_shape):
        images = tuple(input_shape[0])
        return (images[0], self.num_scales, self.patch_size, self.patch_size, images[3])


@keras.saving.register_keras_serializable(package="keras_attn")
class GlimpseSensor(_GlimpseBase):
    """Glimpse sensor ``ρ(x, l)``: a retina of ``num_scales`` squares around each location, each reduced to ``p × p``.

    Scale ``i`` is the ``p s^i``-pixel square centred on the location,
    averaged in ``s^i × s^i`` blocks down to ``p × p`` (a low-resolution view,
    not a subsample); pixels outside the image read 0. Locations are
    normalised ``(x, y)``: ``(-1, -1)`` is the top-left corner of the image,
    ``(0, 0)`` its centre, ``(1, 1)`` the bottom-right corner (the
    ``affine_grid``/``grid_sample`` convention). See
    ``keras_attn.ops.extract_glimpses`` for the exact geometry. The sensor has
    no weights; it is differentiable with respect to the images, and the
    sampling runs in float32 under mixed precision.

    Args:
        patch_size: ``p``, side of every patch. Defaults to 8.
        num_scales: number of squares. Defaults to 1.
        scale_factor: ``s``, how many times wider each next square is. Defaults to 2.
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: ``[images, locations]``: ``(B, H, W, C)`` images (channels
            last, static ``H``, ``W``, ``C``) and ``(B, 2)`` locations.
        pyramid: optional ``layer.pyramid(images)`` (``ops.glimpse_pyramid``)
            of these images, computed once to glimpse them several times.

    Returns:
        ``(B, num_scales, p, p, C)`` glimpses.

    Example:

    >>> import numpy as np
    >>> from keras_attn import GlimpseSensor
    >>> images = np.random.rand(2, 60, 60, 1).astype("float32")
    >>> locations = np.array([[0.0, 0.0], [-0.5, 0.25]], "float32")
    >>> glimpses = GlimpseSensor(patch_size=8, num_scales=3)([images, locations])
    >>> tuple(glimpses.shape)
    (2, 3, 8, 8, 1)
    >>> bool(np.all(np.asarray(glimpses)[0, 0] == images[0, 26:34, 26:34]))
    True
    """

    def build(self, input_shape):
        self._check_inputs(input_shape, fix_channels=False)

    def call(self, inputs, pyramid=None):
        images, locations = self._split(inputs)
        return ops.cast(self._glimpses(images, locations, pyramid), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return self._glimpse_shape(input_shape)


@keras.saving.register_keras_serializable(package="keras_attn")
class GlimpseNetwork(_GlimpseBase):
    """Glimpse network ``g = relu(W [relu(W_g ρ(x, l) + b_g); relu(W_l l + b_l)] + b)``: what was seen, and where.

    ``ρ(x, l)`` is the ``GlimpseSensor`` retina (flattened to ``num_scales ·
    p · p · C`` numbers), ``l`` the ``(x, y)`` location. As in Mnih et al.
    (2014), with 128, 128 and 256 units by default. Weights, in
    ``get_weights()`` order: ``[W_g (num_scales·p·p·C, glimpse_units), b_g,
    W_l (2, location_units), b_l, W (glimpse_units + location_units, units), b]``.

    Args:
        glimpse_units: width of ``relu(W_g ρ + b_g)``. Defaults to 128.
        location_units: width of ``relu(W_l l + b_l)``. Defaults to 128.
        units: width of the output ``g``. Defaults to 256.
        patch_size, num_scales, scale_factor: the retina, as in ``GlimpseSensor``
            (defaults 8, 1, 2).
        kernel_initializer: initializer of the three kernels. Defaults to ``"glorot_uniform"``.
        bias_initializer: initializer of the three biases. Defaults to ``"zeros"``.
        kernel_regularizer: optional regularizer of the three kernels.
        **kwargs: base ``Layer`` arguments.

    Call arguments:
        inputs: ``[images, locations]`` as for ``GlimpseSensor``.
        return_glimpses: if ``True``, also return the retina ``ρ(x, l)``,
            ``(B, num_scales, p, p, C)``.
        pyramid: optional ``layer.pyramid(images)``, as for ``GlimpseSensor``.

    Returns:
        ``(B, units)``; with ``return_glimpses=True`` the tuple ``(g, glimpses)``.

    Example:

    >>> import numpy as np
    >>> from keras_attn import GlimpseNetwork
    >>> images = np.random.rand(4, 28, 28, 1).astype("float32")
    >>> locations = np.random.uniform(-1, 1, (4, 2)).astype("float32")
    >>> net = GlimpseNetwork(glimpse_units=32, location_units=16, units=64, patch_size=8, num_scales=2)
    >>> g, glimpses = net([images, locations], return_glimpses=True)
    >>> tuple(g.shape), tuple(glimpses.shape)
    ((4, 64), (4, 2, 8, 8, 1))
    """

    def __init__(
        self,
        glimpse_units=128,
        location_units=128,
        units=256,
        patch_size=8, num_scales=1, scale_factor=2,
        kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(patch_size=patch_size, num_scales=num_scales, scale_factor=scale_factor, **kwargs)
        self._store_args(
            **_validation.each(_validation.positive_int, glimpse_units=glimpse_units, location_units=location_units, units=units)
        )
        self._store_weight_args(
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer
        )

    def build(self, input_shape):
        _, _, channels = self._check_inputs(input_shape, fix_channels=True)
        retina = self.num_scales * self.patch_size * self.patch_size * channels

        def dense(name, fan_in, fan_out):
            return add_kernel(self, f"{name}_kernel", (fan_in, fan_out)), add_kernel(self, f"{name}_bias", (fan_out,), kind="bias")

        self.glimpse_kernel, self.glimpse_bias = dense("glimpse", retina, self.glimpse_units)
        self.location_kernel, self.location_bias = dense("location", 2, self.location_units)
        self.kernel, self.bias = dense("output", self.glimpse_units + self.location_units, self.units)

    def call(self, inputs, return_glimpses=False, pyramid=None):
        images, locations = self._split(inputs)
        glimpses = ops.cast(self._glimpses(images, locations, pyramid), self.compute_dtype)
        flat = ops.reshape(glimpses, (-1, self.glimpse_kernel.shape[0]))
        locations = ops.cast(locations, self.compute_dtype)
        h_g = ops.relu(ops.matmul(flat, self.glimpse_kernel) + self.glimpse_bias)
        h_l = ops.relu(ops.matmul(locations, self.location_kernel) + self.location_bias)
        g = ops.relu(ops.matmul(ops.concatenate([h_g, h_l], axis=-1), self.kernel) + self.bias)
        return (g, glimpses) if return_glimpses else g

    def compute_output_shape(self, input_shape):
        return (tuple(input_shape[0])[0], self.units)

    def compute_output_spec(self, inputs, return_glimpses=False, pyramid=None):
        shapes = [tuple(x.shape) for x in inputs]
        g = keras.KerasTensor(self.compute_output_shape(shapes), dtype=self.compute_dtype)
        if return_glimpses:
            return g, keras.KerasTensor(self._glimpse_shape(shapes), dtype=self.compute_dtype)
        return g
