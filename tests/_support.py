"""Helpers shared by the portability tests: build, feed and train any layer case.

Everything here is generic over ``tests.cases.ALL_CASES``, so a layer that a
later branch adds to ``tests/cases/`` is covered with no change here.
"""

import keras
import numpy as np
import pytest

from tests._helpers import BACKEND
from tests.cases import ALL_CASES


def params(where=lambda case: True, cases=None):
    """``pytest.param`` per case, honouring each case's ``skip_backends``."""
    out = []
    for case in ALL_CASES if cases is None else cases:
        if not where(case):
            continue
        marks = []
        if BACKEND in case.skip_backends:
            marks.append(pytest.mark.skip(reason=case.skip_backends[BACKEND]))
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


def layer(case, **extra):
    return case.cls(**{**case.kwargs, **extra})


def call(case, lyr, arrays, **kwargs):
    return lyr(case.pack(arrays), **{**case.call_kwargs, **kwargs})


def first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def input_dtypes(case):
    """The dtype of each input, as the case's own input generator makes them."""
    return [a.dtype.name for a in case.inputs(np.random.default_rng(0), 1)]


def model(case, lyr=None, with_masks=False, **call_kwargs):
    """A functional model around one layer of ``case``.

    With ``with_masks=True`` every input in ``case.mask_inputs`` gets a
    boolean ``(B, T)`` mask input of its own, passed as ``mask=``; the model's
    inputs are then ``[*inputs, *masks]``.
    """
    lyr = layer(case) if lyr is None else lyr
    inputs = [keras.Input(shape=s, dtype=d) for s, d in zip(case.shapes, input_dtypes(case))]
    mask_inputs = {}
    kwargs = {**case.call_kwargs, **call_kwargs}
    if with_masks and case.mask_inputs:
        mask_inputs = {i: keras.Input(shape=(case.shapes[i][0],), dtype="bool") for i in case.mask_inputs}
        kwargs["mask"] = case.pack_mask(mask_inputs)
    out = lyr(case.pack(inputs), **kwargs)
    model_inputs = inputs + [mask_inputs[i] for i in sorted(mask_inputs)]
    return keras.Model(model_inputs if len(model_inputs) > 1 else model_inputs[0], out)


def masks(case, rng, batch):
    """Right-padded ``(B, T)`` masks for every maskable input, every row with a valid step."""
    out = {}
    for i in case.mask_inputs:
        steps = case.shapes[i][0]
        lengths = rng.integers(1, steps + 1, size=batch)
        lengths[0] = max(1, steps - 1)
        out[i] = np.arange(steps)[None, :] < lengths[:, None]
    return out


def targets(mdl, rng, batch):
    """Random regression targets, one per model output (a list if several)."""
    outs = [np.asarray(rng.standard_normal((batch,) + tuple(o.shape[1:])), "float32") for o in keras.tree.flatten(mdl.outputs)]
    return outs if len(outs) > 1 else outs[0]


def float_inputs(case, arrays):
    """Indices of the floating-point inputs (the ones that carry magnitudes)."""
    return [i for i, a in enumerate(arrays) if np.issubdtype(a.dtype, np.floating)]
