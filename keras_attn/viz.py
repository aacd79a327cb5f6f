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
