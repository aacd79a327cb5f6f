"""Data sets that ship as generators or inside installed packages (nothing is downloaded)."""

from keras_attn.datasets import dates, digit_captions, digits

__all__ = ["dates", "digit_captions", "digits"]
