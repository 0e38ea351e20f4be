r"""What each estimator saves: the ``_saved_attributes`` declarations and the check of a state against them.

A class declares the fitted attributes it saves as ``_saved_attributes = {name: kind}``; the
declarations of a class and its bases are merged along the MRO (:func:`saved_attributes`), so the
training mixin declares the training attributes once (``cost_``, ``history_``...) and each estimator
adds its own; ``None`` removes an inherited name. A kind is a type (``int``, ``float``, ``bool``,
``str``, ``list``, ``dict``, ``tuple``) or a :class:`Field`, which adds what a bare type cannot say:
an array's dtype kinds and shape, whether every saved model has it, and whether it is a network's
parameter vector (:func:`array` is ``Field(numpy.ndarray, ...)``).

:func:`check_state` is the one check, used by :func:`~numpy_ae.models.persistence.save` (so no file is
written that ``load`` would refuse), by :func:`~numpy_ae.models.persistence.load`, and by the test that
fits every estimator and compares its ``_state()`` with its declaration (so the two cannot drift).
"""
from __future__ import annotations
import re
import numpy as np

__all__ = ["Field", "array", "LABELS", "saved_attributes", "check_state", "same", "short"]

LABELS = "biuUS"  # the dtype kinds of class labels (numpy_ae._validation.check_labels)
KINDS = (bool, int, float, str, list, dict, tuple, np.ndarray)
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*_\Z")


class Field:
    """What one saved fitted attribute may hold (a value of ``_saved_attributes``).

    Parameters
    ----------
    kind : int, float, bool, str, list, dict, tuple or numpy.ndarray
        The exact type: an int is not a float, a bool is not an int. Lists, dicts and tuples must hold
        plain data (numbers, strings, None, lists, dicts with str keys).
    required : bool
        Every saved model of the class holds it (what ``_rebuild`` reads, e.g. ``n_features_in_``).
    shape : tuple or None
        For arrays: one entry per axis, an int, None (any length) or the name of an int attribute of
        the same state that the length must equal (``("n_components_", "n_features_in_")``).
    dtypes : str
        For arrays: the allowed dtype kinds (``"f"``: floating point, which must be finite;
        :data:`LABELS` for class labels). Object arrays never pass.
    params : bool
        A network's flat parameter vector (1-D float, like ``theta``): its size bounds the network
        ``load`` may build; it is handed to ``_rebuild`` and never set as an attribute.
    """

    def __init__(self, kind, *, required=False, shape=None, dtypes="f", params=False):
        if kind not in KINDS:
            raise ValueError(f"a saved attribute's kind must be one of {[k.__name__ for k in KINDS]}; got {kind!r}")
        self.kind, self.required, self.dtypes, self.params = kind, required, dtypes, params
        self.shape = (None,) if params else shape

    @classmethod
    def of(cls, spec):
        """``spec`` as a Field (a bare type is ``Field(type)``)."""
        return spec if isinstance(spec, Field) else cls(spec)

    def problem(self, value, state):
        """What is wrong with ``value`` for this field (a phrase), or None."""
        if self.kind is not np.ndarray:
            if type(value) is not self.kind:
                return f"must be of type {self.kind.__name__}; got {type(value).__name__} {short(value)}"
            if self.kind in (list, dict, tuple) and not _plain(value):
                return f"must hold plain data (numbers, strings, None, lists, dicts); got {short(value)}"
            return None
        if not isinstance(value, np.ndarray) or value.dtype.kind not in self.dtypes or value.dtype.hasobject:
            what = f"dtype {value.dtype}" if isinstance(value, np.ndarray) else type(value).__name__
            return f"must be an array of dtype kind {self.dtypes!r}; got {what}"
        if self.shape is not None:
            sizes = [d for d in self.shape if isinstance(d, str) and type(state.get(d)) is not int]
            if sizes:
                return f"has shape {value.shape}, which must agree with {sizes[0]}, but the state has no int {sizes[0]}"
            want = tuple(state[d] if isinstance(d, str) else d for d in self.shape)
            if value.ndim != len(want) or any(w is not None and w != s for w, s in zip(want, value.shape)):
                axes = ", ".join(f"{d}={w}" if isinstance(d, str) else str(d) for d, w in zip(self.shape, want))
                return f"has shape {value.shape}; it must be ({axes}{',' if len(want) == 1 else ''})"
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            return f"holds {int((~np.isfinite(value)).sum())} non-finite values (NaN or inf)"
        return None


def array(shape=None, *, dtypes="f", required=False, params=False):
    """``Field(numpy.ndarray, ...)``: a saved array (see :class:`Field`)."""
    return Field(np.ndarray, shape=shape, dtypes=dtypes, required=required, params=params)


def saved_attributes(klass):
    """``{name: Field}``: the ``_saved_attributes`` of ``klass`` and its bases, merged along the MRO."""
    out = {}
    for c in reversed(klass.__mro__):
        for name, spec in vars(c).get("_saved_attributes", {}).items():
            if spec is None:
                out.pop(name, None)
            else:
                out[name] = Field.of(spec)
    return out


def check_state(klass, state, where):
    """Raise ValueError (beginning with ``where``) unless ``state`` ``{name: value}`` is what ``klass``
    declares it saves: declared fitted-attribute names only, each of its kind, the required ones present."""
    fields = saved_attributes(klass)
    for name, value in state.items():
        if not NAME.match(name) or any(name in vars(c) for c in klass.__mro__):
            raise ValueError(f"{where}: {name!r} is not a fitted attribute name of {klass.__name__} (one that "
                             f"ends in '_', starts with a letter and is not a method or property of the class)")
        if name not in fields:
            raise ValueError(f"{where}: {klass.__name__} does not save an attribute {name!r}; it declares "
                             f"{sorted(fields)} (its _saved_attributes)")
        problem = fields[name].problem(value, state)
        if problem:
            raise ValueError(f"{where}: {klass.__name__}.{name} {problem}")
    missing = sorted(n for n, f in fields.items() if f.required and n not in state)
    if missing:
        raise ValueError(f"{where}: the {klass.__name__} has no {missing}, which every saved one holds")


def _plain(value, depth=0):
    if depth > 40:
        return False
    if value is None or type(value) in (bool, int, float, str):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    return False


def same(a, b):
    """Equal in type and value (lists, tuples and dicts item by item), arrays bit for bit."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and a.tobytes() == b.tobytes())
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b or (a != a and b != b)  # NaN is NaN


def short(value):
    """``repr(value)``, cut to 80 characters for a message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
