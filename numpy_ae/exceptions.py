"""Warnings and errors raised by numpy_ae, in one place (as ``sklearn.exceptions``).

They subclass the built-in categories scikit-learn uses for the same events.
numpy_ae never imports scikit-learn; but when the user's program has imported
it, :func:`not_fitted_error` and :func:`convergence_warning` give a class that
is also a subclass of scikit-learn's own (``sklearn.exceptions.NotFittedError``,
``ConvergenceWarning``), so scikit-learn's ``check_is_fitted`` conventions,
its estimator checks and its warning filters see ours as theirs.
"""
from __future__ import annotations

import sys

__all__ = ["ConvergenceWarning", "NotFittedError", "DataConversionWarning", "TrainingDiverged",
           "FitInterruptedWarning", "not_fitted_error",
           "convergence_warning", "data_conversion_warning"]


class ConvergenceWarning(UserWarning):
    """An optimiser stopped before its iteration budget without meeting its tolerances.

    The estimator still holds the last parameters; its ``converged_`` is False and
    ``message_`` says why the optimiser stopped.
    """


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted estimator was called before ``fit``.

    A subclass of both ``ValueError`` and ``AttributeError``, as in scikit-learn.
    """


class TrainingDiverged(ValueError, FloatingPointError):
    """Training diverged: the objective became NaN or infinite, or grew by orders of magnitude.

    Raised by the minibatch loop (naming the epoch and what to lower), by
    L-BFGS, and by the fit transaction when a fit ends with a non-finite
    parameter; the estimator is left as it was before ``fit``
    (:mod:`numpy_ae.models.transaction`).
    """


class FitInterruptedWarning(UserWarning):
    """A fit was interrupted (Ctrl-C): the estimator was restored to its state before the call."""


class DataConversionWarning(UserWarning):
    """The input was converted to what the estimator needs (e.g. a column-vector ``y`` flattened)."""


_JOINED = {}


def _with_sklearn(ours, name):
    """``ours``, or a subclass of ``ours`` and scikit-learn's class ``name`` when scikit-learn is loaded."""
    sk = sys.modules.get("sklearn.exceptions")
    theirs = getattr(sk, name, None)
    if theirs is None:
        return ours
    if name not in _JOINED:
        _JOINED[name] = type(ours.__name__, (ours, theirs), {"__module__": ours.__module__, "__doc__": ours.__doc__})
    return _JOINED[name]


def not_fitted_error(message):
    """A :class:`NotFittedError` carrying ``message`` (also scikit-learn's, when it is loaded)."""
    return _with_sklearn(NotFittedError, "NotFittedError")(message)


def convergence_warning():
    """The warning category to emit: :class:`ConvergenceWarning` (also scikit-learn's, when it is loaded)."""
    return _with_sklearn(ConvergenceWarning, "ConvergenceWarning")


def data_conversion_warning():
    """The warning category for a converted input (also scikit-learn's, when it is loaded)."""
    return _with_sklearn(DataConversionWarning, "DataConversionWarning")
