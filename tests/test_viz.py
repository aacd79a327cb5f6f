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
