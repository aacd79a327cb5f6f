"""Argument and shape validation shared by every layer and model (internal).

Every check raises ``ValueError`` naming the argument or the layer, what is
allowed and what was received, before any backend op runs. ``keras_attn.layers``
and ``keras_attn.models`` both import this module; it is not public API.
"""

import numbers

import keras
import numpy as np


def one_of(name, value, allowed):
    """Raises ``ValueError`` unless ``value`` is in ``allowed``; returns it.

    Keras's legacy ``.h5`` loader turns config strings that name a Keras
    function (e.g. ``"dot"``) into that function; such a function is mapped
    back to its name.
    """
    if callable(value) and getattr(value, "__name__", None) in allowed:
        value = value.__name__
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")
    return value


def positive_int(name, value, allow_none=False):
    """Raises ``ValueError`` unless ``value`` is an int >= 1 (or None when allowed)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{name} must be a positive integer{extra}; got {value!r}")
    return int(value)


def fraction(name, value, low=0.0, high=1.0, high_inclusive=False):
    """Raises ``ValueError`` unless ``low <= value < high`` (or ``<= high``)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and low <= value and (value <= high if high_inclusive else value < high)
    if not ok:
        bracket = "]" if high_inclusive else ")"
        raise ValueError(f"{name} must be a number in [{low}, {high}{bracket}; got {value!r}")
    return float(value)


def boolean(name, value):
    """Raises ``ValueError`` unless ``value`` is ``True`` or ``False``; returns it."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return value


def seed(value, kind="an integer"):
    """Raises ``ValueError`` unless ``value`` is an int (not a bool) or None; returns it."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"seed must be {kind} or None; got {value!r}")
    return value


def non_negative(name, value):
    """Raises ``ValueError`` unless ``value`` is a number >= 0; returns it as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0; got {value!r}")
    return float(value)


def each(check, **values):
    """``{name: check(name, value)}`` for every keyword, in order: one check over several arguments."""
    return {name: check(name, value) for name, value in values.items()}


def positive_float(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{name} must be a positive number; got {value!r}")
    return float(value)


def _fmt(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def input_rank(layer, shape, rank, what="input", expected=None):
    """Raises ``ValueError`` naming ``layer`` unless ``shape`` has ``rank`` dims."""
    shape = tuple(shape)
    if len(shape) != rank:
        raise shape_error(layer, what, expected or f"rank {rank}", shape)
    return shape


def static_dim(layer, shape, axis, what="input", expected=None):
    """Raises ``ValueError`` unless ``shape[axis]`` is known; returns it."""
    dim = tuple(shape)[axis]
    if dim is None:
        raise shape_error(layer, what, expected or f"a known size on axis {axis}", shape)
    return int(dim)


def shape_error(layer, what, expected, shape):
    """A ``ValueError`` in the one wording every layer uses for bad shapes."""
    return ValueError(
        f"{layer.__class__.__name__} '{layer.name}' expects {what} of shape {expected}; "
        f"received shape {_fmt(shape)}"
    )


def split_inputs(layer, inputs, count, names):
    """Checks that ``inputs`` is a list/tuple of ``count`` items; returns it as a list."""
    if not isinstance(inputs, (list, tuple)) or len(inputs) not in (count if isinstance(count, tuple) else (count,)):
        n = count if not isinstance(count, tuple) else " or ".join(str(c) for c in count)
        raise ValueError(
            f"{layer.__class__.__name__} '{layer.name}' expects a list of {n} inputs "
            f"[{', '.join(names)}]; received {type(inputs).__name__}"
            + (f" of length {len(inputs)}" if isinstance(inputs, (list, tuple)) else "")
        )
    return list(inputs)


def activation(name, value):
    """``keras.activations.get(value)``, with a ``ValueError`` naming the argument."""
    try:
        return keras.activations.get(value)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name} must be a Keras activation name or callable; got {value!r}") from error


def _lookup(kind, getter, name, value):
    try:
        return getter(value)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name} must be a Keras {kind} name, config or instance (or None); got {value!r}") from error


def initializer(name, value):
    """``keras.initializers.get(value)``, with a ``ValueError`` naming the argument."""
    return _lookup("initializer", keras.initializers.get, name, value)


def regularizer(name, value):
    """``keras.regularizers.get(value)``, with a ``ValueError`` naming the argument."""
    return _lookup("regularizer", keras.regularizers.get, name, value)


def constraint(name, value):
    """``keras.constraints.get(value)``, with a ``ValueError`` naming the argument."""
    return _lookup("constraint", keras.constraints.get, name, value)


def built_input_spec(input_shape, axes=(-1,)):
    """``InputSpec``(s) fixing the rank and the ``axes`` sizes a layer was built with.

    Set ``layer.input_spec = built_input_spec(input_shape)`` at the end of
    ``build``: a later call with another rank or feature size then fails in
    Keras's own check, before ``call``, with a ``ValueError`` naming the layer
    ('Input 0 of layer "attention" is incompatible with the layer: expected
    axis -1 of input shape to have value 5, but received input with shape
    (3, 7, 4)') instead of a backend matmul error. A list of shapes (a
    multi-input layer) gives a list of specs.
    """
    if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0], (list, tuple)):
        return [built_input_spec(s, axes) for s in input_shape]
    shape = tuple(input_shape)
    fixed = {a: shape[a] for a in axes if shape[a] is not None}
    return keras.layers.InputSpec(ndim=len(shape), axes=fixed)


def _static_shape(x):
    shape = getattr(x, "shape", None)
    if shape is None:  # a nested Python list
        shape = np.shape(x)
    return tuple(None if d is None else int(d) for d in shape)


def mask_shape(layer, mask, input_shape, what="mask"):
    """Raises ``ValueError`` unless ``mask`` is ``(batch, time)`` of an input of shape ``input_shape``.

    Only statically known sizes are compared (a ``None`` batch in a traced
    graph matches anything), so the check costs nothing at run time and is
    XLA-friendly. Returns ``mask``.
    """
    if mask is None:
        return None
    expected = tuple(input_shape)[:2]
    shape = _static_shape(mask)
    ok = len(shape) == 2 and all(m is None or e is None or m == e for m, e in zip(shape, expected))
    if not ok:
        raise shape_error(layer, what, f"(batch, time) = {_fmt(expected)}", shape)
    return mask


def same_batch(layer, tensors, names):
    """Raises ``ValueError`` unless every tensor has the same (static) batch size."""
    shapes = [_static_shape(t) for t in tensors]
    sizes = {s[0] for s in shapes if s and s[0] is not None}
    if len(sizes) > 1:
        described = ", ".join(f"{n} {_fmt(s)}" for n, s in zip(names, shapes))
        raise ValueError(
            f"{layer.__class__.__name__} '{layer.name}' expects {', '.join(names)} with the same batch size; "
            f"received shapes {described}"
        )


def shape_list(layer, input_shape, counts, expected):
    """Raises ``ValueError`` naming ``layer`` unless ``input_shape`` is a list of ``counts`` (an int or a tuple) shapes; returns it as a list."""
    counts = counts if isinstance(counts, tuple) else (counts,)
    if (
        not isinstance(input_shape, (list, tuple))
        or len(input_shape) not in counts
        or not all(isinstance(s, (list, tuple)) for s in input_shape)
    ):
        raise shape_error(layer, "inputs", expected, ())
    return list(input_shape)
