"""The examples in the docstrings of the public functions (layers are covered by the contract suite) run."""

import doctest
import inspect

import pytest

import keras_attn.layers.factory
import keras_attn.layers.vision.eca
import keras_attn.ops.attention
import keras_attn.ops.recurrent
import keras_attn.ops.sampling
import keras_attn.ops.softmax


@pytest.mark.parametrize(
    "obj",
    [
        keras_attn.ops.attention.multi_head_attention,
        keras_attn.ops.recurrent.bidirectional_lstm,
        keras_attn.ops.softmax.masked_softmax,
        keras_attn.ops.sampling.affine_grid,
        keras_attn.ops.sampling.grid_sample,
        keras_attn.layers.vision.eca.eca_kernel_size,
        keras_attn.layers.factory.get,
        keras_attn.layers.factory.get_class,
    ],
    ids=lambda o: o.__name__,
)
def test_docstring_example_runs(obj):
    finder = doctest.DocTestFinder(recurse=False)
    (test,) = finder.find(obj, globs=dict(vars(inspect.getmodule(obj))))
    assert test.examples
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0
