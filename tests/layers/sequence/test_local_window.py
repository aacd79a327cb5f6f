"""The windowed LocalAttention (gathers 2w+1 keys) against the masked one over all keys."""

import numpy as np
import pytest
from keras import ops

from keras_attn import LocalAttention
from keras_attn.ops import SCORE_FUNCTIONS
from tests._helpers import gradient, random_mask, to_numpy
from tests.layers.sequence._local_reference import MaskedLocalAttention


def _pair(config, inputs):
    ours, ref = LocalAttention(**config), MaskedLocalAttention(**config)
    ours(inputs), ref(inputs)
    ours.set_weights(ref.get_weights())
    return ours, ref


@pytest.mark.parametrize("score", SCORE_FUNCTIONS)
@pytest.mark.parametrize("mode", ["local-m", "local-p"])
def test_outputs_and_gradients_match_the_masked_version(mode, score, rng):
    q = rng.standard_normal((2, 6, 4)).astype("float32")
    v = rng.standard_normal((2, 8, 4)).astype("float32")
    masks = [random_mask(rng, 2, 6), random_mask(rng, 2, 8)]
    ours, ref = _pair({"window": 2, "mode": mode, "score": score, "units": 3}, [q, v])
    for causal in (False, True):
        got, got_w = ours([q, v], mask=masks, return_attention_scores=True, use_causal_mask=causal)
        want, want_w = ref([q, v], mask=masks, return_attention_scores=True, use_causal_mask=causal)
        np.testing.assert_allclose(to_numpy(got), to_numpy(want), atol=1e-5)
        np.testing.assert_allclose(to_numpy(got_w), to_numpy(want_w), atol=1e-5)
    probe = rng.standard_normal((2, 6, 4)).astype("float32")

    def loss(layer):
        def fn(q, v, *weights):
            state = [x.value for x in layer.non_trainable_variables]
            out = layer.stateless_call(list(weights), state, [q, v], mask=masks)[0]
            return ops.sum(ops.multiply(out, probe))

        return fn

    args = [q, v] + [np.array(w.numpy()) for w in ref.trainable_weights]
    for g_ours, g_ref in zip(gradient(loss(ours), *args), gradient(loss(ref), *args)):
        np.testing.assert_allclose(g_ours, g_ref, atol=1e-5)


def test_separate_keys_and_window_wider_than_the_sequence(rng):
    q = rng.standard_normal((2, 3, 4)).astype("float32")
    v = rng.standard_normal((2, 4, 5)).astype("float32")
    k = rng.standard_normal((2, 4, 4)).astype("float32")
    ours, ref = _pair({"window": 6, "score": "scaled_dot"}, [q, v, k])
    np.testing.assert_allclose(to_numpy(ours([q, v, k])), to_numpy(ref([q, v, k])), atol=1e-5)
