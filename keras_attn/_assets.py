"""Where the shipped models and vocabularies are found.

The repository keeps them in ``saved_models/`` at its root (the folder the
training scripts write to). ``shipped_file(name)`` is the one place that
resolves a shipped file's path; every loader with a "shipped model" default
calls it.
"""

import os
from pathlib import Path

#: Environment variable that overrides the folder of shipped files.
ENV_VAR = "KERAS_ATTN_SAVED_MODELS"


def saved_models_dir():
    """The folder that holds the shipped files (``$KERAS_ATTN_SAVED_MODELS`` if set)."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1] / "saved_models"


def shipped_file(name):
    """Path of the shipped file ``name`` (e.g. ``"date_translator.keras"``)."""
    return saved_models_dir() / name
