"""Data sets that ship as generators (nothing is downloaded)."""

from keras_attn.datasets import dates

__all__ = ["dates"]
