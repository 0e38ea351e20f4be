r"""No non-finite output from finite input without an error.

Every estimator's output methods (:data:`OUTPUT_METHODS`: ``transform``,
``inverse_transform``, ``predict_proba``, ``score``...) are wrapped by
:func:`finite_outputs` when the class is defined
(:meth:`BaseEstimator.__init_subclass__ <numpy_ae.models.base.BaseEstimator.__init_subclass__>`).
The inputs are already checked to be finite (``check_array``); if the result
still holds NaN or inf, the arithmetic overflowed: finite inputs far outside
the range the model was fitted on (``X * 1e308`` through a linear layer is
``inf``). The wrapper then raises a ``ValueError`` that names the method, the
number of non-finite values and the size of the inputs, instead of handing
back an answer that is silently wrong. Where the right answer can be computed
by scaling first, the method itself does so (PCA's covariance, for one).
"""
from __future__ import annotations

import functools
import numbers

import numpy as np

__all__ = ["OUTPUT_METHODS", "finite_outputs"]

OUTPUT_METHODS = ("transform", "inverse_transform", "reconstruct", "predict", "predict_proba",
                  "predict_log_proba", "decision_function", "score", "score_samples", "fit_transform")


def _count_non_finite(value):
    if isinstance(value, np.ndarray) and value.dtype.kind in "fc":
        return int(value.size - np.count_nonzero(np.isfinite(value)))
    if isinstance(value, (tuple, list)):
        return sum(_count_non_finite(v) for v in value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return int(not np.isfinite(value))
    return 0


def _largest(args):
    sizes = []
    for a in args:
        try:
            a = np.asarray(a, dtype=np.float64)
        except (TypeError, ValueError):
            continue
        if a.size:
            sizes.append(float(np.max(np.abs(a))))
    return max(sizes, default=float("nan"))


def finite_outputs(method):
    """Wrap an output method: a non-finite result raises a ValueError that says why."""
    if getattr(method, "__finite_outputs__", False):
        return method

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        result = method(self, *args, **kwargs)
        bad = _count_non_finite(result)
        if bad:
            raise ValueError(
                f"{type(self).__name__}.{method.__name__} overflowed: {bad} non-finite value(s) in its result "
                f"from finite inputs (the largest input magnitude is {_largest(args):.3g}); inputs this far "
                "outside the range the model was fitted on overflow float64: rescale them as the training "
                "data were")
        return result

    wrapper.__finite_outputs__ = True
    return wrapper
