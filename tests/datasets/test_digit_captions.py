"""digit_captions: captions that follow the layout, boxes and word positions, disjoint digit images."""

import numpy as np
import pytest

from keras_attn.datasets import digit_captions as dc
from keras_attn.datasets import digits


@pytest.fixture(scope="module")
def data():
    return dc.load(60, seed=3, split="test")


def test_shapes_and_determinism(data):
    assert data["images"].shape == (60, 64, 64, 1) and data["images"].dtype == np.float32
    assert data["tokens"].shape == (60, dc.SEQUENCE_LENGTH)
    assert 0.0 <= data["images"].min() and data["images"].max() <= 1.0
    again = dc.load(60, seed=3, split="test")
    np.testing.assert_array_equal(again["images"], data["images"])
    assert again["captions"] == data["captions"]
    other = dc.load(60, seed=4, split="test")
    assert other["captions"] != data["captions"]
    assert len(dc.WORDS) >= 15 and set(data["counts"]) <= {2, 3, 4}


def test_captions_follow_the_layout(data):
    """Rebuild every caption from the boxes: reading order, size from the ink extent, relation from the rows."""
    for i, caption in enumerate(data["captions"]):
        words = caption.split()
        k = int(data["counts"][i])
        boxes, labels, index = data["boxes"][i, :k], data["labels"][i, :k], data["word_index"][i, :k]
        rows = (boxes[:, 1] + boxes[:, 3]) / 2 >= dc.CELL
        cols = (boxes[:, 0] + boxes[:, 2]) / 2 >= dc.CELL
        order = np.lexsort((cols, rows))
        np.testing.assert_array_equal(order, np.arange(k))  # already in reading order
        for j in range(k):
            assert words[index[j]] == dc.DIGIT_WORDS[labels[j]]
            side = max(boxes[j, 2] - boxes[j, 0], boxes[j, 3] - boxes[j, 1])
            assert words[index[j] - 1] == ("small" if side <= 16 else "large"), (caption, side)
            if j:
                between = words[index[j - 1] + 1 : index[j] - 1]
                assert between == (["left", "of"] if rows[j] == rows[j - 1] else ["above"])
            x0, y0, x1, y1 = boxes[j]
            ink = data["images"][i, y0:y1, x0:x1, 0]
            assert ink[0].max() > 0 and ink[-1].max() > 0 and ink[:, 0].max() > 0 and ink[:, -1].max() > 0
        np.testing.assert_array_equal(data["tokens"][i, 1 : len(words) + 1], [dc.WORD_INDEX[w] for w in words])
        assert dc.decode(data["tokens"][i]) == words


def test_cell_classes_name_what_each_cell_holds(data):
    """Rebuilt from the boxes (the cell of each box's centre) and the caption's size word."""
    assert data["cell_classes"].shape == (60, dc.CELLS) and data["cell_classes"].dtype == np.int32
    for i, caption in enumerate(data["captions"]):
        words = caption.split()
        expected = np.zeros(dc.CELLS, int)
        for j in range(int(data["counts"][i])):
            x0, y0, x1, y1 = data["boxes"][i, j]
            cell = 2 * int((y0 + y1) / 2 >= dc.CELL) + int((x0 + x1) / 2 >= dc.CELL)
            size = words[data["word_index"][i, j] - 1]
            expected[cell] = 1 + data["labels"][i, j] + (10 if size == "large" else 0)
        np.testing.assert_array_equal(data["cell_classes"][i], expected)
    assert (data["cell_classes"] > 0).sum(axis=1).tolist() == data["counts"].tolist()
    assert data["cell_classes"].max() < dc.CELL_CLASSES


def test_grid_classes_mark_each_digit_centre_and_the_background(data):
    """Oracle: per pixel, which box covers it and which pixel is nearest each box centre, then sampled at cell centres."""
    for grid in (8, 16, 4):
        targets = dc.grid_classes(data, grid)
        assert targets.shape == (60, grid, grid) and targets.dtype == np.int32
        step = dc.CANVAS // grid
        centre = (np.arange(grid) + 0.5) * step
        for i in range(60):
            expected = np.zeros((grid, grid), int)
            cells = data["cell_classes"][i]
            for j in range(int(data["counts"][i])):
                x0, y0, x1, y1 = data["boxes"][i, j]
                for r in range(grid):
                    for c in range(grid):
                        if x0 <= centre[c] < x1 and y0 <= centre[r] < y1:
                            expected[r, c] = -1
            for j in range(int(data["counts"][i])):
                x0, y0, x1, y1 = data["boxes"][i, j]
                distance = [[abs(centre[c] - (x0 + x1) / 2) + abs(centre[r] - (y0 + y1) / 2) for c in range(grid)] for r in range(grid)]
                r, c = np.unravel_index(np.argmin(distance), (grid, grid))
                expected[r, c] = cells[2 * int((y0 + y1) / 2 >= dc.CELL) + int((x0 + x1) / 2 >= dc.CELL)]
            np.testing.assert_array_equal(targets[i], expected, err_msg=f"canvas {i}, grid {grid}")
            assert sorted(targets[i][targets[i] > 0]) == sorted(cells[cells > 0])


@pytest.mark.parametrize("grid", [0, 7, 2.0, True])
def test_grid_classes_needs_a_divisor_of_the_canvas(data, grid):
    with pytest.raises(ValueError, match="positive divisor of the canvas size 64"):
        dc.grid_classes(data, grid)


def test_large_digits_are_test_images():
    """A large digit is pasted unscaled: its ink equals the ink of one image of the split (and of no train image)."""
    data = dc.load(20, seed=0, split="test", min_digits=2, max_digits=2)
    test_images, _ = digits.load("test")
    train_images, _ = digits.load("train")

    def crops(images):
        out = set()
        for im in images:
            ys, xs = np.nonzero(im)
            out.add(im[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].tobytes())
        return out

    test_crops, train_crops = crops(test_images), crops(train_images)
    checked = 0
    for i in range(20):
        for j in range(2):
            x0, y0, x1, y1 = data["boxes"][i, j]
            if max(x1 - x0, y1 - y0) <= 16:
                continue
            crop = np.round(data["images"][i, y0:y1, x0:x1, 0] * 255).astype(np.uint8).tobytes()
            assert crop in test_crops and crop not in train_crops
            checked += 1
    assert checked > 5


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be an integer >= 0"):
        dc.load(-1)
    with pytest.raises(ValueError, match="min_digits <= max_digits"):
        dc.load(2, min_digits=3, max_digits=2)
    with pytest.raises(ValueError, match="split must be one of"):
        dc.load(2, split="valid")


def test_distort_keeps_the_layout_and_captions_and_warps_the_digits():
    plain = dc.load(40, seed=9, split="train")
    warped = dc.load(40, seed=9, split="train", distort=True)
    for key in ("tokens", "labels", "word_index", "counts", "cell_classes"):
        np.testing.assert_array_equal(plain[key], warped[key])
    assert plain["captions"] == warped["captions"]
    assert not np.array_equal(plain["images"], warped["images"])
    np.testing.assert_array_equal(warped["images"], dc.load(40, seed=9, split="train", distort=True)["images"])
    # the boxes are the warped digits' ink boxes, inside the digits' cells
    for i in range(40):
        for j in range(int(warped["counts"][i])):
            x0, y0, x1, y1 = warped["boxes"][i, j]
            assert warped["images"][i, y0:y1, x0:x1].max() > 0
            assert abs(x0 - plain["boxes"][i, j, 0]) <= 8 and abs(y1 - plain["boxes"][i, j, 3]) <= 8
