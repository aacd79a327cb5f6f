"""Attention-map plotting (matplotlib, headless)."""

import numpy as np


def plot_attention_map(weights, input_chars, output_chars, path=None, title=None, ax=None):
    """Heat map of attention weights: output characters (rows) against input characters (columns).

    Args:
        weights: ``(Ty, Tx)`` array (``DateTranslator.attention(text)``);
            columns beyond ``len(input_chars)`` (padding) are cut off.
        input_chars: the input characters (a string or a list), in order.
        output_chars: the output characters (a string or a list), in order.
        path: if given, the figure is saved there as PNG.
        title: optional title.
        ax: optional matplotlib ``Axes`` to draw into.

    Returns:
        The matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt

    weights = np.asarray(weights, dtype="float32")
    if weights.ndim != 2:
        raise ValueError(f"weights must have shape (Ty, Tx); got shape {weights.shape}")
    input_chars, output_chars = list(input_chars), list(output_chars)
    if len(output_chars) > weights.shape[0] or len(input_chars) > weights.shape[1]:
        raise ValueError(
            f"{len(output_chars)} output and {len(input_chars)} input characters do not fit "
            f"weights of shape {weights.shape}"
        )
    weights = weights[: len(output_chars), : len(input_chars)]
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(4.0, 0.32 * len(input_chars) + 1.5), max(3.0, 0.35 * len(output_chars) + 1.2)))
    else:
        fig = ax.figure
    image = ax.imshow(weights, cmap="viridis", aspect="auto", vmin=0.0)
    ax.set_xticks(range(len(input_chars)))
    ax.set_xticklabels(["␣" if c == " " else c for c in input_chars])
    ax.set_yticks(range(len(output_chars)))
    ax.set_yticklabels(output_chars)
    ax.set_xlabel("input")
    ax.set_ylabel("output")
    if title:
        ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, format="png", dpi=100)
    return fig


def plot_date_attention(translator, text, path=None):
    """``plot_attention_map`` for one date string translated by a ``DateTranslator``."""
    weights = translator.attention(text)
    clean = translator.normalize(text)
    iso = translator.translate([text])[0]
    return plot_attention_map(weights, clean, iso, path=path, title=f"{clean!r} -> {iso}")


def plot_glimpses(
    image,
    locations,
    patch_size=8,
    num_scales=1,
    scale_factor=2,
    glimpses=None,
    path=None,
    gif=None,
    title=None,
    fps=2,
):
    """The glimpse path of a Recurrent Attention Model: where it looked, in order, and what it saw.

    The top panel shows the image with the numbered glimpse centres joined in
    order and, for every glimpse, the retina square of every scale (the
    squares ``keras_attn.ops.glimpse_boxes`` gives, one colour per step,
    thinner and fainter for wider scales). Below it, one column per glimpse
    and one row per scale, the ``p × p`` patches the sensor returned. With
    ``gif``, an animation adds one glimpse per frame (the current one drawn
    bold).

    Args:
        image: ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)`` array.
        locations: ``(T, 2)`` normalised ``(x, y)`` glimpse locations, in
            order (``(-1, -1)`` top-left, as everywhere in ``keras_attn``).
        patch_size, num_scales, scale_factor: the retina, as in
            ``keras_attn.ops.extract_glimpses``.
        glimpses: optional ``(T, num_scales, p, p, C)`` patches the model
            saw; by default ``extract_glimpses`` computes them from ``image``.
        path: if given, the figure is saved there as PNG.
        gif: if given, an animated GIF (one frame per glimpse) is saved there.
        title: optional title.
        fps: frames per second of the GIF.

    Returns:
        The matplotlib ``Figure`` (showing every glimpse).
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter
    from matplotlib.patches import Rectangle

    from keras_attn.ops import extract_glimpses, glimpse_boxes

    image = np.asarray(image, dtype="float32")
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 3):
        raise ValueError(f"image must have shape (H, W), (H, W, 1) or (H, W, 3); got shape {image.shape}")
    locations = np.asarray(locations, dtype="float32")
    if locations.ndim != 2 or locations.shape[-1] != 2 or len(locations) < 1:
        raise ValueError(f"locations must have shape (T, 2) with T >= 1; got shape {locations.shape}")
    steps = len(locations)
    if glimpses is None:
        batch = np.repeat(image[None], steps, axis=0)
        glimpses = extract_glimpses(batch, locations, patch_size, num_scales, scale_factor)
    glimpses = np.asarray(_to_numpy(glimpses), dtype="float32")
    expected = (steps, num_scales, patch_size, patch_size, image.shape[-1])
    if glimpses.shape != expected:
        raise ValueError(f"glimpses must have shape {expected} (T, num_scales, p, p, C); got shape {glimpses.shape}")
    boxes = glimpse_boxes(locations, image.shape[:2], patch_size, num_scales, scale_factor)  # (T, S, 4)
    centres = (boxes[:, 0, :2] + boxes[:, 0, 2:]) / 2.0
    colours = plt.get_cmap("autumn")(np.linspace(0.0, 0.85, steps))
    vmax = float(max(image.max(), 1e-6))
    show = (lambda a: a[..., 0]) if image.shape[-1] == 1 else (lambda a: np.clip(a / vmax, 0, 1))
    imshow = {"cmap": "gray", "vmin": 0.0, "vmax": vmax} if image.shape[-1] == 1 else {}

    fig = plt.figure(figsize=(max(4.5, 1.1 * steps), 4.5 + 1.1 * num_scales))
    grid = fig.add_gridspec(1 + num_scales, steps, height_ratios=[4.0] + [1.0] * num_scales)
    ax = fig.add_subplot(grid[0, :])
    patch_axes = [[fig.add_subplot(grid[1 + s, t]) for t in range(steps)] for s in range(num_scales)]

    def draw(upto):
        """Everything up to glimpse ``upto`` (0-based), that one in bold."""
        ax.clear()
        ax.imshow(show(image), **imshow)
        ax.set_xlim(-0.5, image.shape[1] - 0.5)
        ax.set_ylim(image.shape[0] - 0.5, -0.5)
        ax.set_xticks([])
        ax.set_yticks([])
        if title:
            ax.set_title(title)
        ax.plot(centres[: upto + 1, 0], centres[: upto + 1, 1], "-", color="deepskyblue", linewidth=1.2, alpha=0.8)
        for t in range(upto + 1):
            current = t == upto
            for s in range(num_scales):
                x0, y0, x1, y1 = boxes[t, s]
                ax.add_patch(
                    Rectangle(
                        (x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=colours[t],
                        linewidth=(2.0 if current else 1.0) / (1 + 0.5 * s), alpha=(1.0 if current else 0.5) / (1 + 0.4 * s),
                    )
                )
            ax.text(
                centres[t, 0], centres[t, 1], str(t + 1), color="black", fontsize=8, ha="center", va="center",
                bbox={"boxstyle": "circle,pad=0.15", "facecolor": colours[t], "edgecolor": "none", "alpha": 0.9},
            )
        for s in range(num_scales):
            for t in range(steps):
                pax = patch_axes[s][t]
                pax.clear()
                pax.set_xticks([])
                pax.set_yticks([])
                if t <= upto:
                    pax.imshow(show(glimpses[t, s]), **imshow)
                    for spine in pax.spines.values():
                        spine.set_edgecolor(colours[t])
                        spine.set_linewidth(2.0 if t == upto else 1.0)
                if s == 0:
                    pax.set_title(f"{t + 1}", fontsize=9)
                if t == 0:
                    pax.set_ylabel(f"{patch_size * scale_factor ** s} px", fontsize=8)
        return []

    draw(steps - 1)
    fig.tight_layout()
    if gif is not None:
        animation = FuncAnimation(fig, draw, frames=steps, blit=False)
        animation.save(str(gif), writer=PillowWriter(fps=fps))
        draw(steps - 1)
    if path is not None:
        fig.savefig(path, format="png", dpi=100)
    return fig


def _to_numpy(x):
    """``keras.ops.convert_to_numpy`` for tensors, ``numpy.asarray`` for anything else."""
    if isinstance(x, np.ndarray):
        return x
    import keras

    return keras.ops.convert_to_numpy(x)

def plot_caption_attention(image, words, maps, path=None, hard=None, columns=6):
    """The image, then one panel per word with its attention map over the image (Show, Attend and Tell's figure).

    Args:
        image: ``(H, W)`` or ``(H, W, C)`` array (grey levels or RGB).
        words: the caption's words, one per panel.
        maps: ``(T, h, w)`` attention maps (``Captioner.attention(image)``),
            ``T >= len(words)``; each is stretched over the whole image.
        path: if given, the figure is saved there as PNG.
        hard: ``True`` draws each word's chosen cell as a box (hard
            attention), ``False`` the smoothly upsampled soft map; ``None``
            decides from the maps (one-hot maps are hard).
        columns: panels per row.

    Returns:
        The matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    image = np.asarray(image, dtype="float32")
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3):
        raise ValueError(f"image must have shape (H, W) or (H, W, C); got shape {image.shape}")
    maps = np.asarray(maps, dtype="float32")
    words = list(words)
    if maps.ndim != 3 or maps.shape[0] < len(words):
        raise ValueError(f"maps must have shape (T, h, w) with T >= {len(words)} words; got shape {maps.shape}")
    if hard is None:
        hard = bool(len(words)) and bool(np.all(np.isclose(maps[: len(words)].max(axis=(1, 2)), 1.0)))
    height, width = image.shape[:2]
    panels = len(words) + 1
    cols = min(columns, panels)
    rows = -(-panels // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.9 * cols, 2.1 * rows), squeeze=False)
    cmap = "gray" if image.ndim == 2 else None
    extent = (0, width, height, 0)
    for ax in axes.ravel():
        ax.axis("off")
    axes[0, 0].imshow(image, cmap=cmap, extent=extent)
    axes[0, 0].set_title("image", fontsize=9)
    cell_h, cell_w = height / maps.shape[1], width / maps.shape[2]
    for i, word in enumerate(words):
        ax = axes.ravel()[i + 1]
        ax.imshow(image, cmap=cmap, extent=extent)
        if hard:
            row, col = np.unravel_index(int(np.argmax(maps[i])), maps[i].shape)
            ax.add_patch(Rectangle((col * cell_w, row * cell_h), cell_w, cell_h, fill=True, alpha=0.45, color="red"))
        else:
            ax.imshow(maps[i], cmap="jet", alpha=0.5, extent=extent, interpolation="bilinear", vmin=0.0)
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
        ax.set_title(word, fontsize=10)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, format="png", dpi=100)
    return fig
