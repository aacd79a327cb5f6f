"""Mixed precision on large inputs, for every layer case.

Under ``mixed_float16`` and ``mixed_bfloat16``, with floating-point inputs
scaled so that their largest magnitude is exactly 1e4:

* the output dtype follows the policy (``float16`` / ``bfloat16``);
* outputs (and attention weights) are finite: no NaN, no inf;
* attention weights sum to 1 within 1e-3 (0 for a row with nothing to attend
  to, as in float32) over the valid positions, masked
  positions get exactly 0;
* at magnitude 1e0 (where the comparison is well conditioned) the output
  matches a float32 copy of the layer, the oracle, given the same weights and
  inputs rounded to the half dtype. (At 1e4 it is not: Keras reads float32
  kernels as half inside a mixed-precision call, so a pre-activation of size
  1e4 carries an absolute rounding error of order 1e4 * 2**-8 and an
  unsaturated unit may legitimately move.)
"""

import keras
import numpy as np
import pytest

from tests._helpers import to_numpy
from tests import _helpers

POLICIES = {"mixed_float16": ("float16", 2e-3), "mixed_bfloat16": ("bfloat16", 1e-2)}
MAGNITUDES = {"1e0": 1.0, "1e4": 1e4}


def _round(array, dtype):
    return to_numpy(keras.ops.cast(keras.ops.cast(np.asarray(array, "float32"), dtype), "float32"))


def _scaled_inputs(case, rng, dtype, magnitude):
    arrays = case.inputs(rng, batch=4)
    for i in _helpers.float_inputs(case, arrays):
        a = arrays[i].astype("float64")
        # round to the half dtype once, so the float32 oracle sees the same values
        arrays[i] = _round(a / np.max(np.abs(a)) * magnitude, dtype)
    return arrays


def _variants():
    out = []
    for p in _helpers.params():
        case = p.values[0]
        for magnitude, masked in (("1e4", False), ("1e4", True), ("1e0", False)):
            if masked and not case.mask_inputs:
                continue
            tag = f"{case.id}-{magnitude}" + ("-masked" if masked else "")
            out.append(pytest.param(case, magnitude, masked, id=tag, marks=p.marks))
    return out


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("case,magnitude,masked", _variants())
def test_mixed_precision_inputs(case, magnitude, masked, policy, rng):
    dtype, rtol = POLICIES[policy]
    arrays = _scaled_inputs(case, rng, dtype, MAGNITUDES[magnitude])
    masks = _helpers.masks(case, rng, 4) if masked else {}
    kwargs = {"mask": case.pack_mask(masks)} if masked else {}
    if case.returns_scores:
        kwargs["return_attention_scores"] = True

    keras.config.set_dtype_policy(policy)
    layer = _helpers.layer(case)
    out = _helpers.call(case, layer, arrays, **kwargs)
    keras.config.set_dtype_policy("float32")

    main = _helpers.first(out)
    assert keras.backend.standardize_dtype(main.dtype) == dtype, f"{case.id} output dtype under {policy}"
    for o in keras.tree.flatten(out):
        values = to_numpy(o).astype("float32")
        assert np.all(np.isfinite(values)), f"{case.id}: non-finite values under {policy} at magnitude {magnitude}"
    if magnitude == "1e0" and case.well_conditioned:
        reference = _helpers.layer(case)
        _helpers.call(case, reference, arrays, **kwargs)
        reference.set_weights([_round(w, dtype) if np.issubdtype(w.dtype, np.floating) else w for w in layer.get_weights()])
        expected = _helpers.call(case, reference, arrays, **kwargs)
        got = to_numpy(main).astype("float32")
        want = to_numpy(_helpers.first(expected)).astype("float32")
        scale = max(1.0, float(np.max(np.abs(want))))
        np.testing.assert_allclose(got, want, atol=rtol * scale, rtol=0, err_msg=f"{case.id} vs float32 under {policy}")

    if case.returns_scores:
        scores = to_numpy(out[1]).astype("float64")
        valid = np.ones(scores.shape, bool)
        if masked and case.scores_axis_input in masks:
            mask = masks[case.scores_axis_input]
            valid = np.broadcast_to(mask.reshape(mask.shape[:1] + (1,) * (scores.ndim - 2) + mask.shape[1:]), scores.shape)
            assert np.all(scores[~valid] == 0), f"{case.id}: masked positions got weight"
        # A row with nothing to attend to (all keys masked, a masked query, an empty local
        # window) is all zeros by contract; which rows those are is read off a float32 copy.
        reference = _helpers.layer(case)
        _helpers.call(case, reference, arrays, **kwargs)
        reference.set_weights(layer.get_weights())
        ref_sums = to_numpy(_helpers.call(case, reference, arrays, **kwargs)[1]).astype("float64").sum(axis=-1)
        expected = np.where(ref_sums > 0.5, 1.0, 0.0)
        np.testing.assert_allclose(scores.sum(axis=-1), expected, atol=1e-3, err_msg=f"{case.id} weights under {policy}")
