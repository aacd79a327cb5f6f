"""The Keras 3 work-arounds keras_attn applies on import (keras_attn/_compat.py)."""

import keras
import numpy as np
import pytest

import keras_attn  # noqa: F401  (importing applies the fix)
from keras_attn import _compat


@pytest.mark.parametrize("loss", ["mae", "mse", "mape", "msle"])
def test_h5_with_short_loss_alias_reloads_without_custom_objects(loss, tmp_path, rng):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(loss=loss, optimizer="adam")
    x, y = rng.random((8, 3)), rng.random((8, 1))
    model.fit(x, y, verbose=0)
    path = str(tmp_path / "m.h5")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    # the reloaded loss is the very function the alias names
    expected = keras.losses.get(loss)
    assert loaded.loss is expected or getattr(loaded.loss, "__name__", None) == expected.__name__


def test_registration_is_idempotent_and_targets_keras_functions(monkeypatch):
    custom = keras.saving.get_custom_objects()
    for alias in _compat._LOSS_ALIASES:  # as before keras_attn's import registered them (restored afterwards)
        monkeypatch.delitem(custom, alias, raising=False)
    first = _compat.register_loss_aliases()
    after_first = dict(custom)
    second = _compat.register_loss_aliases()
    assert second == []  # every alias resolves now, so the second call registers nothing ...
    assert dict(custom) == after_first  # ... and changes nothing
    assert sorted(first) == sorted(a for a in _compat._LOSS_ALIASES if a in custom)
    assert all(custom[alias] is _compat._LOSS_ALIASES[alias] for alias in first)
    for alias, function in _compat._LOSS_ALIASES.items():
        assert function.__module__.startswith("keras")
        resolved = keras.losses.deserialize(alias)
        assert resolved is function or resolved.__name__ == function.__name__, alias
