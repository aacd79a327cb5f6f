"""keras-attn caption: reads ordinary PNGs, prints the caption, one-line errors with exit 2."""

import numpy as np
import pytest

from keras_attn import cli
from keras_attn.models import Captioner
from keras_attn.models.captioner import build_captioner, read_image


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("captioner") / "captioner.keras"
    Captioner(build_captioner("soft", seed=0)).save(path)
    return path


def test_caption_png_rgb_and_grey_any_size(model_path, tmp_path, capsys):
    from PIL import Image

    from keras_attn.datasets import digit_captions

    image = (digit_captions.load(1, seed=5, split="test")["images"][0, ..., 0] * 255).astype(np.uint8)
    Image.fromarray(image).resize((150, 150)).save(tmp_path / "grey.png")
    Image.fromarray(np.stack([255 - image] * 3, -1)).save(tmp_path / "light_rgb.png")  # dark ink on white, RGB
    captioner = Captioner.load(model_path)
    # the same-size RGB file with dark ink on white reads back as the original grey canvas; the
    # resized grey file is compared with the captioner on the image as read (resampling changes
    # pixels, and an untrained model's caption may flip with them)
    expected = {
        "light_rgb.png": captioner.caption(image)[0],
        "grey.png": captioner.caption(read_image(tmp_path / "grey.png"))[0],
    }
    for name in ("grey.png", "light_rgb.png"):
        assert cli.main(["caption", str(tmp_path / name), "--model", str(model_path), "--plot", str(tmp_path / "a.png")]) == 0
        assert capsys.readouterr().out.strip() == expected[name]
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["caption", "missing.png"], "keras-attn caption: no image file at missing.png"),
        (["caption", "x.png", "--beam", "0"], "keras-attn caption: argument --beam: must be a positive integer; got 0"),
        (["caption", "x.png", "--model", "none.keras"], "keras-attn caption: argument --model: no such file or folder"),
    ],
)
def test_caption_errors_are_one_line(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(message) and "\n" not in err


def test_caption_rejects_a_file_that_is_not_an_image(model_path, tmp_path, capsys):
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    assert cli.main(["caption", str(bad), "--model", str(model_path)]) == 2
    assert capsys.readouterr().err.strip() == f"keras-attn caption: {bad} is not an image file"
