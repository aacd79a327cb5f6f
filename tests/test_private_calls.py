"""No code in keras_attn calls a private method of another object.

A call ``x._name(...)`` is allowed only where ``x`` is ``self``, ``cls`` or
``super()``: a layer talks to its sublayers, helpers and modules through their
public API (calls, public methods, functions in ``keras_attn.ops``), never
through their internals. Dunder methods (``x.__call__``) are not private.
"""

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "keras_attn"

# Keras's own private API that keras_attn calls on purpose, as (file relative to
# keras_attn/, "receiver._method"). Keep it short, and say why for each entry.
ALLOWED = {
    # (none today: every Keras feature keras_attn uses is public API)
}


def private_calls(source):
    """``(line, "receiver._method")`` of every call of a private method on something other than self, cls, super()."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name, receiver = node.func.attr, node.func.value
        if not name.startswith("_") or (name.startswith("__") and name.endswith("__")):
            continue
        if isinstance(receiver, ast.Name) and receiver.id in ("self", "cls"):
            continue
        if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name) and receiver.func.id == "super":
            continue
        found.append((node.lineno, ast.unparse(node.func)))
    return found


def test_the_check_finds_private_calls_on_other_objects():
    source = """
class CBAM:
    def call(self, x):
        self._own(x)
        super()._parent(x)
        type(self).__call__(self, x)
        y = self.channel_attention._attend(x)
        return self._scorer._weight("w", (2,)), error.__str__(), module._helper(y)
"""
    assert [call for _, call in private_calls(source)] == [
        "self.channel_attention._attend",
        "self._scorer._weight",
        "module._helper",
    ]


def test_no_layer_calls_a_private_method_of_another_object():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 40
    offending = [
        f"{path.relative_to(PACKAGE)}:{line}: {call}(...)"
        for path in files
        for line, call in private_calls(path.read_text())
        if (str(path.relative_to(PACKAGE)), call) not in ALLOWED
    ]
    assert offending == [], "calls of another object's private method:\n" + "\n".join(offending)
