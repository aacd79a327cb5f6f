"""GlimpseSensor and GlimpseNetwork against numpy (zero-padded crops, the paper's glimpse-network formula)."""

import keras
import numpy as np

from keras_attn import GlimpseNetwork, GlimpseSensor
from tests._glimpse_oracle import crop_glimpses, to_location
from tests._helpers import to_numpy


def _aligned_case(rng, batch=3, hw=(20, 16), channels=2):
    """Images and pixel-aligned locations (every square of p=4, s=2 starts on a pixel), with their centres."""
    h, w = hw
    images = rng.uniform(0, 1, (batch, h, w, channels)).astype("float32")
    centres = np.stack([rng.integers(-3, w + 3, batch), rng.integers(-3, h + 3, batch)], axis=1) + 0.5
    locations = np.stack([to_location(centres[:, 0], w), to_location(centres[:, 1], h)], axis=1).astype("float32")
    return images, locations, centres


def test_sensor_matches_the_crop_oracle(rng):
    images, locations, centres = _aligned_case(rng)
    out = to_numpy(GlimpseSensor(patch_size=4, num_scales=3, scale_factor=2)([images, locations]))
    assert out.shape == (3, 3, 4, 4, 2)
    for b in range(3):
        np.testing.assert_allclose(out[b], crop_glimpses(images[b], centres[b], 4, 3, 2), atol=1e-5)


def _relu(x):
    return np.maximum(x, 0.0)


def test_network_matches_the_paper_formula(rng):
    images, locations, centres = _aligned_case(rng)
    layer = GlimpseNetwork(glimpse_units=7, location_units=5, units=6, patch_size=4, num_scales=2)
    layer.build([images.shape, locations.shape])
    # weights from the seeded rng, not the unseeded initializers: the same case on every run and
    # backend, with outputs large enough for the last check (random initial weights could leave
    # every output near 0)
    layer.set_weights([rng.normal(0.0, 0.5, tuple(v.shape)).astype("float32") for v in layer.weights])
    g, glimpses = layer([images, locations], return_glimpses=True)
    wg, bg, wl, bl, w, b = layer.get_weights()
    assert wg.shape == (2 * 4 * 4 * 2, 7) and wl.shape == (2, 5) and w.shape == (12, 6)
    rho = np.stack([crop_glimpses(images[i], centres[i], 4, 2, 2) for i in range(3)]).reshape(3, -1)
    expected = _relu(np.concatenate([_relu(rho @ wg + bg), _relu(locations @ wl + bl)], axis=-1) @ w + b)
    np.testing.assert_allclose(to_numpy(g), expected, atol=1e-5)
    np.testing.assert_allclose(to_numpy(glimpses), rho.reshape(3, 2, 4, 4, 2), atol=1e-5)
    assert np.abs(expected).max() > 0.1


def test_paper_defaults():
    layer = GlimpseNetwork()
    layer.build([(None, 28, 28, 1), (None, 2)])
    assert [tuple(v.shape) for v in layer.weights] == [(64, 128), (128,), (2, 128), (128,), (256, 256), (256,)]
    assert (layer.patch_size, layer.num_scales, layer.scale_factor) == (8, 1, 2)


def test_network_trains_the_glimpse_and_location_paths(rng):
    """In a tiny regression every weight gets a gradient: what was seen and where both reach the output."""
    images, locations, _ = _aligned_case(rng, batch=16)
    x_img, x_loc = keras.Input((20, 16, 2)), keras.Input((2,))
    net = GlimpseNetwork(glimpse_units=8, location_units=8, units=4, patch_size=4, num_scales=2)
    model = keras.Model([x_img, x_loc], keras.layers.Dense(1)(net([x_img, x_loc])))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = [w.copy() for w in net.get_weights()]
    model.fit([images, locations], rng.standard_normal((16, 1)).astype("float32"), epochs=3, batch_size=8, verbose=0)
    assert all(not np.allclose(a, b) for a, b in zip(net.get_weights(), before))


def test_layers_glimpse_a_precomputed_pyramid(rng):
    """``pyramid=layer.pyramid(images)`` (computed once, as the RAM does for its T glimpses) changes nothing."""
    images, locations, centres = _aligned_case(rng)
    sensor = GlimpseSensor(patch_size=4, num_scales=3)
    out = to_numpy(sensor([images, locations], pyramid=sensor.pyramid(images)))
    for b in range(3):
        np.testing.assert_allclose(out[b], crop_glimpses(images[b], centres[b], 4, 3, 2), atol=1e-5)
    net = GlimpseNetwork(glimpse_units=7, location_units=5, units=6, patch_size=4, num_scales=3)
    np.testing.assert_allclose(
        to_numpy(net([images, locations], pyramid=net.pyramid(images))), to_numpy(net([images, locations])), atol=1e-6
    )
