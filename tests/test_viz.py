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
