"""Property-based tests (hypothesis) over every layer case.

For random valid configurations and shapes (batch 1, length 1, odd and large
sizes, inputs from 1e-3 to 1e4 in magnitude):

* ``compute_output_shape`` equals the actual output shape;
* ``get_config`` round trips: the clone, given the same weights, computes the
  same output and has the same config;
* every output (and the attention weights) is finite;
* a masked-out position never changes the output when its values change,
  for arbitrary masks (holes, fully masked rows).

Configurations are derived from each case generically: every distinct size in
the case's input shapes is replaced by a drawn size (sizes that were equal stay
equal, so linked dimensions stay linked), positive integer constructor
arguments are redrawn and booleans flipped. A configuration that the layer
rejects with its ``ValueError`` is discarded (``assume``); any other error
fails. Cases with their own ``make_inputs`` keep their shapes. Examples are
derandomised so CI is reproducible.
"""

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests._helpers import BACKEND, to_numpy
from tests import _helpers

# JAX compiles every op for every new shape in eager mode: fewer examples there.
SETTINGS = settings(
    max_examples=5 if BACKEND == "jax" else 12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# A fixed menu of sizes (1, odd, even, large) keeps backends' per-shape caches warm.
SIZES = st.sampled_from([1, 2, 3, 5, 8, 31])
BATCHES = st.sampled_from([1, 2, 3, 5])
SCALES = st.sampled_from([1e-3, 1.0, 1.0, 1e2, 1e4])


@st.composite
def configurations(draw, case):
    """(kwargs, shapes without batch, batch, seed, scale) for a random valid-looking configuration."""
    kwargs = dict(case.kwargs)
    for name, value in case.kwargs.items():
        if isinstance(value, bool):
            kwargs[name] = draw(st.booleans())
        elif isinstance(value, int) and value >= 1:
            kwargs[name] = draw(st.sampled_from([1, 3, 8, value]))
    shapes = [tuple(s) for s in case.shapes]
    if case.make_inputs is None:
        sizes = sorted({d for s in shapes for d in s})
        new = {d: draw(SIZES) for d in sizes}
        shapes = [tuple(new[d] for d in s) for s in shapes]
    return kwargs, shapes, draw(BATCHES), draw(st.integers(0, 2**31 - 1)), draw(SCALES)


def _inputs(case, shapes, batch, seed, scale):
    rng = np.random.default_rng(seed)
    if case.make_inputs is not None:
        return case.inputs(rng, batch)
    return [(rng.standard_normal((batch,) + s) * scale).astype("float32") for s in shapes]


def _build(case, kwargs, arrays, **call_kwargs):
    """The layer and its output, or ``assume(False)`` when the layer rejects the configuration."""
    try:
        layer = case.cls(**kwargs)
    except ValueError:
        assume(False)
    try:
        out = layer(case.pack(arrays), **{**case.call_kwargs, **call_kwargs})
    except ValueError as error:
        # A rejected configuration must say which layer rejected it.
        assert case.cls.__name__ in str(error) or layer.name in str(error), str(error)
        assume(False)
    return layer, out


def _draw_masks(data, case, shapes, batch):
    masks = {}
    for i in case.mask_inputs:
        steps = shapes[i][0]
        bits = data.draw(st.lists(st.booleans(), min_size=batch * steps, max_size=batch * steps), label=f"mask{i}")
        masks[i] = np.array(bits, bool).reshape(batch, steps)
    return masks


@pytest.mark.parametrize("case", _helpers.params())
def test_shape_config_and_finiteness(case):
    @SETTINGS
    @given(configurations(case))
    def check(config):
        kwargs, shapes, batch, seed, scale = config
        arrays = _inputs(case, shapes, batch, seed, scale)
        call_kwargs = {"return_attention_scores": True} if case.returns_scores else {}
        layer, out = _build(case, kwargs, arrays, **call_kwargs)
        main = _helpers.first(out)
        full = [a.shape for a in arrays]
        expected = layer.compute_output_shape(case.pack(full) if case.multi_input else full[0])
        assert tuple(main.shape) == tuple(expected)
        for o in keras.tree.flatten(out):
            assert np.all(np.isfinite(to_numpy(o).astype("float32"))), f"non-finite output for {kwargs}, {shapes}"
        config = layer.get_config()
        clone = case.cls.from_config(config)
        _helpers.call(case, clone, arrays)
        clone.set_weights(layer.get_weights())
        again = _helpers.first(_helpers.call(case, clone, arrays))
        # Inputs go up to scale=100, so attention logits reach ~1e4: there float32 rounding moves a
        # softmax weight by ~1e-3 relative, and a kernel that sums in another order on another call
        # (torch's CPU kernels do, for other memory) moves the output by up to ~1e-4 of its largest
        # value. The tolerance is relative to that value; a wrong config is off by far more.
        reference = to_numpy(main).astype("float32")
        magnitude = max(1.0, float(np.max(np.abs(reference)))) if reference.size else 1.0
        np.testing.assert_allclose(to_numpy(again), reference, rtol=1e-5, atol=max(case.atol, 1e-4) * magnitude)
        assert clone.get_config() == config

    check()


@pytest.mark.parametrize("case", _helpers.params(where=lambda c: c.mask_inputs))
def test_masked_positions_never_matter(case):
    @SETTINGS
    @given(configurations(case), st.data())
    def check(config, data):
        kwargs, shapes, batch, seed, scale = config
        arrays = _inputs(case, shapes, batch, seed, scale)
        masks = _draw_masks(data, case, [a.shape[1:] for a in arrays], batch)
        layer, out = _build(case, kwargs, arrays, mask=case.pack_mask(masks))
        rng = np.random.default_rng(seed + 1)
        changed = [a.copy() for a in arrays]
        for i, mask in masks.items():
            keep = mask.reshape(mask.shape + (1,) * (changed[i].ndim - 2))
            noise = (rng.standard_normal(changed[i].shape) * 100 * max(scale, 1.0)).astype(changed[i].dtype)
            changed[i] = np.where(keep, changed[i], noise)
        again = _helpers.call(case, layer, changed, mask=case.pack_mask(masks))
        out, again = to_numpy(_helpers.first(out)), to_numpy(_helpers.first(again))
        if case.output_follows_mask is not None:
            valid = masks[case.output_follows_mask]
            out, again = out[valid], again[valid]
        np.testing.assert_allclose(again, out, rtol=1e-5, atol=case.atol)

    check()
