"""Work-arounds for Keras 3 defects that break our users' code, applied on import.

Keras 3.15 saves ``model.compile(loss="mae")`` into an ``.h5`` file as the
string ``"mae"`` but cannot read it back: ``load_model`` fails with
``Could not deserialize 'keras.metrics.mae'`` because the short aliases are
looked up as classes. Registering each alias that fails as a custom object
(pointing at the very Keras function the alias stands for) lets
``keras.models.load_model("model.h5")`` work without ``custom_objects``.
Aliases Keras already resolves are left alone, so nothing changes once Keras
fixes this.
"""

import keras

_LOSS_ALIASES = {
    "mae": keras.losses.mean_absolute_error,
    "mse": keras.losses.mean_squared_error,
    "mape": keras.losses.mean_absolute_percentage_error,
    "msle": keras.losses.mean_squared_logarithmic_error,
    "kld": keras.losses.kl_divergence,
    "bce": keras.losses.binary_crossentropy,
}


def register_loss_aliases():
    """Registers the loss aliases Keras cannot deserialize; returns their names."""
    registered = []
    custom = keras.saving.get_custom_objects()
    for alias, function in _LOSS_ALIASES.items():
        try:
            keras.losses.deserialize(alias)
        except (ValueError, TypeError):
            custom.setdefault(alias, function)
            registered.append(alias)
    return registered
