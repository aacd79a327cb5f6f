"""Where the shipped models and vocabularies are found.

The repository keeps them in ``saved_models/`` at its root (the folder the
training scripts write to). A wheel carries the same files as package data in
``keras_attn/_shipped/`` (see ``setup.py``). ``shipped_file(name)`` is the one
place that resolves a shipped file's path; every loader with a "shipped
model" default calls it. It works from a wheel install, an editable install
(``pip install -e .``) and a checkout on ``PYTHONPATH``.
"""

import os
from pathlib import Path

#: Environment variable that overrides the folder of shipped files.
ENV_VAR = "KERAS_ATTN_SAVED_MODELS"

_PACKAGE = Path(__file__).resolve().parent
#: In an installed wheel: the package data.
INSTALLED_DIR = _PACKAGE / "_shipped"
#: In a source checkout (also an editable install): the repository folder.
CHECKOUT_DIR = _PACKAGE.parent / "saved_models"


def saved_models_dir():
    """The folder that holds the shipped files.

    ``$KERAS_ATTN_SAVED_MODELS`` if set, else the wheel's package data if this
    is an installed wheel, else the checkout's ``saved_models/``.
    """
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    if INSTALLED_DIR.is_dir():
        return INSTALLED_DIR
    return CHECKOUT_DIR


def shipped_file(name):
    """Path of the shipped file ``name`` (e.g. ``"date_translator.keras"``)."""
    return saved_models_dir() / name
