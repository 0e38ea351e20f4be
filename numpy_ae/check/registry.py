r"""The registry of named gradient checks that ``python -m numpy_ae gradcheck`` runs.

The checks register themselves when :mod:`numpy_ae.check.catalogue` is imported, which
:mod:`numpy_ae.check` does.
"""
from __future__ import annotations
from .gradcheck import DEFAULT_TOL

__all__ = ['register', 'REGISTRY', 'COVERS', 'run_checks']

REGISTRY = {}  # name -> (fn, tol)
COVERS = {}    # name -> tuple of the Layer/Loss classes the check covers


def register(name, tol=DEFAULT_TOL, covers=()):
    """Decorator: register ``fn() -> CheckResult`` under ``name`` with tolerance ``tol``.

    ``covers``: the :class:`~numpy_ae.nn.layer.Layer` and :class:`~numpy_ae.nn.losses.Loss`
    classes whose backward pass this check verifies (see :mod:`numpy_ae.check.catalogue`).
    """
    covers = tuple(covers) if isinstance(covers, (tuple, list, set, frozenset)) else (covers,)

    def deco(fn):
        if name in REGISTRY:
            raise ValueError(f"a gradient check named {name!r} is already registered")
        REGISTRY[name] = (fn, tol)
        COVERS[name] = covers
        return fn

    return deco


def run_checks(names=None):
    """Run the registered checks (all, or those in ``names``); return a list of CheckResult.

    Raises ValueError naming the valid checks when a name is not registered.
    """
    unknown = [n for n in names or () if n not in REGISTRY]
    if unknown:
        raise ValueError(f"no gradient check named {', '.join(map(repr, unknown))}; the registered checks are: "
                         f"{', '.join(sorted(REGISTRY))}")
    results = []
    for key in names or sorted(REGISTRY):
        fn, tol = REGISTRY[key]
        res = fn()
        res.name, res.tol = key, tol
        results.append(res)
    return results
