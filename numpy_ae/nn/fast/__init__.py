r"""Fast twins of the reference layers: the same maths, shaped for speed.

CS231n keeps ``layers.py`` (each forward and backward the plain equation)
beside ``fast_layers.py`` (stride tricks) and checks one against the other.
numpy_ae does the same: :mod:`numpy_ae.nn` holds the reference forms, the code
a reader holds next to the notes; this package holds a twin for each layer
where speed pays. A twin

* subclasses its reference class and has the same name, parameters, penalty
  and protocol; it overrides ``forward``/``backward`` only;
* may reuse arrays from one training step to the next, but only through
  :func:`~numpy_ae.nn.fast.workspace.buffer`, which hands out reused arrays
  only inside the model's training step (:meth:`numpy_ae.nn.Sequential.compute`
  lends each layer a workspace) and fresh ones on every other call; so a
  public ``forward`` never returns an array that a later call changes;
* never writes into the argument of ``backward``;
* is tested equal to its reference to round-off (``tests/nn/test_fast_twins.py``
  finds every twin here by itself).

:data:`TWINS` maps each reference class to its twin. ``Sequential(...,
fast=True)`` turns every layer and the loss that has a twin into it (in place:
the same objects, so tied layers stay tied); the estimators do that unless
given ``fast=False``.
"""
from __future__ import annotations

from ..layer import Layer
from ..losses import Loss
from . import activations, condition, conv, conv_transpose, dense, losses, noise, penalties, reparameterize, spatial

__all__ = ["TWINS", "to_fast", "to_reference", "reference_class"]

_MODULES = (activations, condition, conv, conv_transpose, dense, losses, noise, penalties, reparameterize, spatial)


def _find_twins():
    twins = {}
    for module in _MODULES:
        for obj in vars(module).values():
            if isinstance(obj, type) and obj.__module__ == module.__name__ and issubclass(obj, (Layer, Loss)):
                twins[obj.__mro__[1]] = obj
    return twins


#: reference class -> its fast twin (the twin's first base class)
TWINS = _find_twins()
_REFERENCES = {twin: ref for ref, twin in TWINS.items()}


def to_fast(obj):
    """Turn a layer or loss into its fast twin, in place (same object, same parameters); return it.

    An object whose class has no twin (its reference form is already as fast)
    is returned unchanged.
    """
    twin = TWINS.get(type(obj))
    if twin is not None:
        obj.__class__ = twin
    return obj


def to_reference(obj):
    """Undo :func:`to_fast`: turn a fast twin back into its reference class, in place; return it."""
    ref = _REFERENCES.get(type(obj))
    if ref is not None:
        obj.__class__ = ref
    return obj


def reference_class(cls):
    """The reference class of ``cls``: itself for a reference class, its reference for a fast twin."""
    return _REFERENCES.get(cls, cls)
