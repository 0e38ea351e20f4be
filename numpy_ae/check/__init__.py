"""Gradient checks: the checker (:mod:`~numpy_ae.check.gradcheck`, :mod:`~numpy_ae.check.verdicts`), the
registry of named checks (:mod:`~numpy_ae.check.registry`) and their catalogue
(:mod:`~numpy_ae.check.catalogue`), imported here so that every check is registered once the
package is imported (``run_checks()`` runs them all).
"""
from . import catalogue
from .registry import COVERS, REGISTRY, register, run_checks

__all__ = ["catalogue", "COVERS", "REGISTRY", "register", "run_checks"]
