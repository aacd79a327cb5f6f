"""Every docstring example in keras_attn runs: one doctest per docstring with ``>>>`` lines, on the backend in use.

This is the one runner of docstring examples (layers, models, ops, data sets,
module docstrings alike). Examples keep their printed output backend-neutral:
shapes as ``tuple(x.shape)``, values through ``keras.ops.convert_to_numpy``
and ``.tolist()`` / ``float`` / ``round``, never a tensor's repr. The layer
docstrings' sections (``Args:``, ``Call arguments:``, ...) are checked by the
contract suite.
"""

import doctest
import importlib
import io
import pkgutil

import pytest

import keras_attn

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules():
    yield keras_attn
    for info in pkgutil.walk_packages(keras_attn.__path__, "keras_attn."):
        yield importlib.import_module(info.name)


def _doctests():
    finder = doctest.DocTestFinder()  # a module's own objects only (not what it imports)
    found = {test.name: test for module in _modules() for test in finder.find(module) if test.examples}
    return [found[name] for name in sorted(found)]


DOCTESTS = _doctests()


def test_the_examples_are_found():
    names = {test.name for test in DOCTESTS}
    for expected in (
        "keras_attn.layers.sequence.attention.Attention",
        "keras_attn.models.han.han",
        "keras_attn.ops.sequence.last_valid_step",
        "keras_attn.ops.softmax.masked_softmax",
        "keras_attn.datasets.digits.load",
    ):
        assert expected in names


@pytest.mark.parametrize("test", DOCTESTS, ids=lambda test: test.name.removeprefix("keras_attn."))
def test_docstring_example_runs(test):
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    runner.run(test, out=report.write, clear_globs=False)
    assert runner.failures == 0, report.getvalue()
