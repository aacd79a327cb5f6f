"""SpatialTransformer: exact identity at init, PyTorch-matching output, theta, save/reload with its network."""

import keras
import numpy as np
import pytest

from keras_attn import SpatialTransformer
from keras_attn.layers.vision import identity_theta_initializer
from tests._helpers import to_numpy

torch = pytest.importorskip("torch")
F = torch.nn.functional


@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
@pytest.mark.parametrize("size", [(8, 8), (28, 28), (13, 7)])
def test_fresh_layer_is_exact_identity(rng, fmt, size):
    x = rng.standard_normal((2,) + size + (3,)).astype("float32")
    if fmt == "channels_first":
        x = np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)))
    out, theta = SpatialTransformer(data_format=fmt)(x, return_theta=True)
    np.testing.assert_array_equal(to_numpy(out), x)
    np.testing.assert_array_equal(to_numpy(theta), np.tile([[[1.0, 0, 0], [0, 1, 0]]], (2, 1, 1)))


def _custom_localization(rng):
    net = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(6)])
    net.build((None, 6, 5, 2))
    net.set_weights([0.05 * rng.standard_normal((60, 6)).astype("float32"), np.array([1.0, 0.1, 0.2, -0.1, 0.9, 0.0], "float32")])
    return net


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border"])
def test_output_matches_torch(rng, align_corners, padding_mode):
    x = rng.standard_normal((3, 6, 5, 2)).astype("float32")
    net = _custom_localization(rng)
    layer = SpatialTransformer(net, output_size=(4, 7), align_corners=align_corners, padding_mode=padding_mode)
    out, theta = layer(x, return_theta=True)
    w, b = net.get_weights()
    expected_theta = (x.reshape(3, -1) @ w + b).reshape(3, 2, 3)
    np.testing.assert_allclose(to_numpy(theta), expected_theta, atol=1e-5)
    grid = F.affine_grid(torch.tensor(expected_theta), (3, 2, 4, 7), align_corners=align_corners)
    expected = F.grid_sample(torch.tensor(np.transpose(x, (0, 3, 1, 2))), grid, padding_mode=padding_mode, align_corners=align_corners)
    np.testing.assert_allclose(to_numpy(out), expected.permute(0, 2, 3, 1).numpy(), atol=1e-5)


@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_saves_and_reloads_with_custom_localization(rng, tmp_path, fmt):
    x = rng.standard_normal((3, 6, 5, 2)).astype("float32")
    inputs = keras.Input((6, 5, 2))
    out, theta = SpatialTransformer(_custom_localization(rng), padding_mode="border")(inputs, return_theta=True)
    model = keras.Model(inputs, [out, theta])
    expected = model.predict(x, verbose=0)
    path = str(tmp_path / f"stn.{fmt}")
    model.save(path)
    loaded = keras.models.load_model(path, **({"safe_mode": True} if fmt == "keras" else {}))
    layer = [l for l in loaded.layers if isinstance(l, SpatialTransformer)][0]
    assert isinstance(layer.localization, keras.Sequential)
    assert layer.custom_localization
    got = loaded.predict(x, verbose=0)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=1e-6)
    assert not np.allclose(expected[1], np.tile([[[1.0, 0, 0], [0, 1, 0]]], (3, 1, 1)))  # not a trivial identity


def test_config_round_trip_with_custom_localization(rng):
    x = rng.standard_normal((2, 6, 5, 2)).astype("float32")
    layer = SpatialTransformer(_custom_localization(rng), output_size=(3, 3))
    out = layer(x)
    clone = SpatialTransformer.from_config(layer.get_config())
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(to_numpy(clone(x)), to_numpy(out), atol=1e-6)


def test_localization_must_give_six_numbers():
    net = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(4)])
    with pytest.raises(ValueError, match=r"SpatialTransformer .* localization network to map the input to \(batch, 6\)"):
        SpatialTransformer(net)(np.zeros((1, 4, 4, 1), "float32"))


def test_custom_network_with_identity_initializer_is_identity(rng):
    x = rng.standard_normal((2, 6, 5, 2)).astype("float32")
    net = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(6, kernel_initializer="zeros", bias_initializer=identity_theta_initializer())])
    np.testing.assert_array_equal(to_numpy(SpatialTransformer(net)(x)), x)


def test_learns_a_translation(rng):
    """Trained to undo a fixed shift, the STN's theta moves towards that shift."""
    images = np.zeros((64, 8, 8, 1), "float32")
    for i in range(64):
        r, c = rng.integers(2, 6, 2)
        images[i, r - 1 : r + 1, c - 1 : c + 1, 0] = 1.0
    shifted = np.roll(images, 2, axis=2)  # content moved right by 2 pixels
    shifted[:, :, :2] = 0
    inputs = keras.Input((8, 8, 1))
    layer = SpatialTransformer(keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(6, kernel_initializer="zeros", bias_initializer=identity_theta_initializer())]))
    model = keras.Model(inputs, layer(inputs))
    model.compile(keras.optimizers.Adam(0.02), "mse")
    before = model.evaluate(shifted, images, verbose=0)
    model.fit(shifted, images, epochs=60, batch_size=16, verbose=0)
    after = model.evaluate(shifted, images, verbose=0)
    _, theta = layer(shifted, return_theta=True)
    # sampling x_in = x_out + 2 pixels means theta[0, 2] = 2 * 2 / 8 = 0.5
    assert after < 0.5 * before
    assert 0.3 < float(np.mean(to_numpy(theta)[:, 0, 2])) < 0.7
