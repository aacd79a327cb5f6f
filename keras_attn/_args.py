"""Constructor arguments and weights of layers and models: the one home of that plumbing (internal).

``ArgsMixin`` stores a layer's validated constructor arguments as attributes
and returns them from ``get_config`` (initializers, regularizers, constraints
and activations serialised); ``add_kernel`` creates a weight with the
initializer, regularizer and constraint of one kind (``kernel``, ``bias``,
...) of a layer. Validation itself is ``keras_attn._validation``.

    class MyLayer(ArgsMixin, keras.layers.Layer):
        def __init__(self, units=8, kernel_initializer="glorot_uniform", kernel_regularizer=None, **kwargs):
            super().__init__(**kwargs)
            self._store_args(units=_validation.positive_int("units", units))
            self._store_weight_args(kernel_initializer=kernel_initializer, kernel_regularizer=kernel_regularizer)

        def build(self, input_shape):
            self.kernel = add_kernel(self, "kernel", (input_shape[-1], self.units))
"""

import keras

from keras_attn import _validation

# Weight arguments, by the last word of their name: (validation, serialisation).
_WEIGHT_ARGS = {
    "initializer": (_validation.initializer, keras.initializers.serialize),
    "regularizer": (_validation.regularizer, keras.regularizers.serialize),
    "constraint": (_validation.constraint, keras.constraints.serialize),
    "activation": (_validation.activation, keras.activations.serialize),
}


def _kind(name):
    return name.rsplit("_", 1)[-1]


def add_kernel(layer, name, shape, kind="kernel", **kwargs):
    """``layer.add_weight`` with the ``{kind}_initializer``, ``{kind}_regularizer`` and ``{kind}_constraint`` of ``layer``.

    A layer without a regularizer or constraint of that kind gets none.
    """
    return layer.add_weight(
        name=name,
        shape=shape,
        initializer=getattr(layer, f"{kind}_initializer"),
        regularizer=getattr(layer, f"{kind}_regularizer", None),
        constraint=getattr(layer, f"{kind}_constraint", None),
        **kwargs,
    )


class ArgsMixin:
    """Stores constructor arguments and serialises them in ``get_config``.

    Put it before the Keras base class (``class L(ArgsMixin, keras.layers.Layer)``).
    """

    _config_args = ()  # (config key, attribute, serialise as) in order

    def _store_args(self, attribute_prefix="", **values):
        """Sets each (already validated) argument as the attribute ``attribute_prefix + name``; ``get_config`` returns it."""
        self._record_args(attribute_prefix, values, None)

    def _store_weight_args(self, attribute_prefix="", **values):
        """Validates and stores initializers, regularizers, constraints and activations (by the end of their name)."""
        checked = {name: _WEIGHT_ARGS[_kind(name)][0](name, value) for name, value in values.items()}
        self._record_args(attribute_prefix, checked, "weight")

    def _record_args(self, prefix, values, kind):
        for name, value in values.items():
            setattr(self, prefix + name, value)
        self._config_args = self._config_args + tuple((name, prefix + name, kind) for name in values)

    def get_config(self):
        config = super().get_config()
        for name, attribute, kind in self._config_args:
            value = getattr(self, attribute)
            config[name] = _WEIGHT_ARGS[_kind(name)][1](value) if kind else value
        return config
