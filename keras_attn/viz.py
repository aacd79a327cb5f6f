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
