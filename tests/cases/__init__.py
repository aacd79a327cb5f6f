"""Layer cases for the contract suite (tests/test_contract.py).

A new layer enters the suite by appending a ``LayerCase`` to ``CASES`` in the
module of its family (``sequence.py``, ``vision.py``, ...). Every module in
this package that defines ``CASES`` is collected automatically.
"""

import dataclasses
import importlib
import pkgutil
from typing import Any, Callable

import numpy as np


@dataclasses.dataclass
class LayerCase:
    """How to build, feed and check one layer configuration.

    Attributes:
        id: test id, e.g. ``"Attention-luong"``.
        cls: the layer class.
        kwargs: constructor arguments.
        input_shapes: shapes without the batch axis. A tuple of ints is a single
            input; a list of tuples is a list input ``layer([x0, x1, ...])``.
        mask_inputs: indices of the inputs that accept a ``(B, T)`` time mask
            (``T`` is axis 1 of that input). Empty if the layer takes no mask.
        output_follows_mask: index of the masked input whose time axis the
            output shares (self-attention), so masked-position invariance is
            checked on valid output steps only; ``None`` if the output has no
            such axis.
        returns_scores: the call accepts ``return_attention_scores=True``.
        scores_axis_input: index of the input whose time axis the attention
            weights normalise over (their last axis).
        bad_kwargs: ``[(kwargs_update, regex)]`` that must raise ``ValueError``.
        bad_input_shapes: ``[(input_shapes, regex)]`` that must raise
            ``ValueError`` naming the layer (class name is checked too).
        make_inputs: optional ``f(rng, batch) -> list of arrays``; defaults to
            standard-normal float32 arrays of ``input_shapes``.
        call_kwargs: extra call arguments used everywhere.
        trainable: the layer has weights a training step must change.
        stochastic_training: training-mode outputs are random (dropout,
            Gumbel noise), so tests that recompute a training step and compare
            (XLA train-step oracle, distribution vs single device) check only
            that it runs and stays finite; straight-through (surrogate)
            gradients are not compared with finite differences either.
        batch_statistics: training normalises with batch statistics
            (BatchNorm); replicas of a distributed step compute them on their
            share of the batch, so that step only has to run and stay finite.
        well_conditioned: False where the math has points at which tiny input
            or rounding changes move the output a lot (bilinear sampling exactly
            at pixel centres, as at an identity transform; ``x / ||x||`` near
            ``x = 0``). Generic finite-difference and float32-vs-half
            comparisons then check finiteness only; the layer's own tests check
            its gradients where they are defined.
        tf_only_reason / skip_backends: ``{backend: reason}`` skips.
        atol: tolerance for "identical" outputs.
    """

    id: str
    cls: type
    kwargs: dict
    input_shapes: Any
    mask_inputs: tuple = ()
    output_follows_mask: Any = None
    returns_scores: bool = False
    scores_axis_input: int = 0
    bad_kwargs: list = dataclasses.field(default_factory=list)
    bad_input_shapes: list = dataclasses.field(default_factory=list)
    make_inputs: Callable = None
    call_kwargs: dict = dataclasses.field(default_factory=dict)
    trainable: bool = True
    stochastic_training: bool = False
    batch_statistics: bool = False
    well_conditioned: bool = True
    skip_backends: dict = dataclasses.field(default_factory=dict)
    atol: float = 1e-5

    @property
    def multi_input(self):
        return isinstance(self.input_shapes, list)

    @property
    def shapes(self):
        return list(self.input_shapes) if self.multi_input else [tuple(self.input_shapes)]

    def inputs(self, rng, batch=3):
        """Numpy inputs as a list (one per input)."""
        if self.make_inputs is not None:
            return [np.asarray(a) for a in self.make_inputs(rng, batch)]
        return [rng.standard_normal((batch,) + tuple(s)).astype("float32") for s in self.shapes]

    def pack(self, arrays):
        """The value to pass to the layer: a list or the single array."""
        return list(arrays) if self.multi_input else arrays[0]

    def pack_mask(self, masks):
        """``masks`` maps input index -> (B, T) mask; returns the ``mask=`` argument."""
        if not self.multi_input:
            return masks.get(0)
        return [masks.get(i) for i in range(len(self.shapes))]


def _collect():
    cases = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        cases.extend(getattr(module, "CASES", []))
    ids = [c.id for c in cases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate layer case ids: {sorted(duplicates)}")
    return cases


ALL_CASES = _collect()
