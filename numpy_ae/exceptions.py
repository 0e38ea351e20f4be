"""Warnings and errors raised by numpy_ae, in one place (as ``sklearn.exceptions``).

They subclass the built-in categories scikit-learn uses for the same events,
so code that filters scikit-learn's warnings filters ours the same way,
without numpy_ae importing scikit-learn.
"""
from __future__ import annotations

__all__ = ["ConvergenceWarning", "NotFittedError"]


class ConvergenceWarning(UserWarning):
    """An optimiser stopped before its iteration budget without meeting its tolerances.

    The estimator still holds the last parameters; its ``converged_`` is False and
    ``message_`` says why the optimiser stopped.
    """


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted estimator was called before ``fit``.

    A subclass of both ``ValueError`` and ``AttributeError``, as in scikit-learn.
    """
