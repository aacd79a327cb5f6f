"""keras_attn.viz: the attention map is a real PNG of the right size."""

import numpy as np
import pytest

from keras_attn.viz import plot_attention_map


def test_plot_attention_map_writes_png(tmp_path):
    import matplotlib.pyplot as plt

    weights = np.random.default_rng(0).random((10, 30))
    path = tmp_path / "map.png"
    fig = plot_attention_map(weights, "3 may 1979", "1979-05-03", path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = fig.axes[0].images[0].get_array()
    assert image.shape == (10, 10)  # padding columns cut off
    np.testing.assert_allclose(image, weights[:10, :10])
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == list("1979-05-03")
    plt.close(fig)


def test_plot_attention_map_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"weights must have shape \(Ty, Tx\)"):
        plot_attention_map(np.zeros(3), "ab", "c")
    with pytest.raises(ValueError, match="do not fit"):
        plot_attention_map(np.zeros((2, 3)), "abcd", "xy")


def test_plot_glimpses_writes_png_and_gif_with_the_sensor_patches_and_boxes(tmp_path):
    import matplotlib.pyplot as plt
    from PIL import Image

    from keras_attn.viz import plot_glimpses

    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1, (24, 20)).astype("float32")
    locations = np.array([[0.0, 0.0], [-0.5, 0.25], [0.6, -0.7]], "float32")
    png, gif = tmp_path / "g.png", tmp_path / "g.gif"
    fig = plot_glimpses(image, locations, patch_size=4, num_scales=2, path=png, gif=gif, title="test")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(png) as im:
        assert im.size[0] > 200 and im.size[1] > 200
    with Image.open(gif) as im:
        assert im.format == "GIF" and im.n_frames == 3
    # the patches shown are the zero-padded crops: glimpse 1 (centre), scale 0 = pixels 10..13 x 8..11
    patch_axes = fig.axes[1:]
    assert len(patch_axes) == 2 * 3
    np.testing.assert_allclose(patch_axes[0].images[0].get_array(), image[10:14, 8:12], atol=1e-6)
    # every retina square is drawn, with the glimpse_boxes geometry: the centre's 4 px square is [7.5, 11.5] x [9.5, 13.5]
    rects = [(r.get_x(), r.get_y(), r.get_width(), r.get_height()) for r in fig.axes[0].patches]
    assert len(rects) == 3 * 2
    assert (7.5, 9.5, 4.0, 4.0) in rects and (5.5, 7.5, 8.0, 8.0) in rects
    plt.close(fig)


def test_plot_glimpses_rejects_bad_shapes():
    from keras_attn.viz import plot_glimpses

    with pytest.raises(ValueError, match=r"image must have shape \(H, W\)"):
        plot_glimpses(np.zeros((2, 8, 8, 1)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"locations must have shape \(T, 2\)"):
        plot_glimpses(np.zeros((8, 8)), np.zeros((3,)))
    with pytest.raises(ValueError, match=r"glimpses must have shape \(2, 1, 4, 4, 1\)"):
        plot_glimpses(np.zeros((8, 8)), np.zeros((2, 2)), patch_size=4, glimpses=np.zeros((2, 1, 8, 8, 1)))

def test_plot_caption_attention_soft_and_hard(tmp_path):
    import matplotlib.pyplot as plt

    from keras_attn.viz import plot_caption_attention

    image = np.zeros((64, 64), "float32")
    image[8:24, 40:56] = 1.0
    soft = np.random.default_rng(0).random((4, 8, 8))
    path = tmp_path / "soft.png"
    fig = plot_caption_attention(image, ["small", "three", "above", "nine"], soft, path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    titled = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titled == ["image", "small", "three", "above", "nine"]
    np.testing.assert_allclose(fig.axes[2].images[1].get_array(), soft[1])  # the map over the image, word 'three'
    plt.close(fig)
    hard = np.zeros((2, 8, 8))
    hard[0, 1, 5] = hard[1, 6, 2] = 1.0
    fig = plot_caption_attention(image, ["three", "nine"], hard)
    box = fig.axes[1].patches[0]  # the chosen cell, 8 x 8 pixels at row 1, column 5
    assert (box.get_x(), box.get_y(), box.get_width(), box.get_height()) == (40.0, 8.0, 8.0, 8.0)
    plt.close(fig)
    with pytest.raises(ValueError, match=r"maps must have shape \(T, h, w\) with T >= 3 words"):
        plot_caption_attention(image, ["a", "b", "c"], hard)
