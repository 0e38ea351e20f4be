r"""A fit is a transaction: it commits a complete new fitted state, or leaves the estimator as it was.

Every estimator's ``fit`` (and ``fit_transform``, ``fit_in_phases``) is wrapped by
:func:`transactional` when its class is defined (:meth:`BaseEstimator.__init_subclass__
<numpy_ae.models.base.BaseEstimator.__init_subclass__>`), so no estimator has to
remember it:

1. Before the fit runs, :class:`Backup` copies the estimator's state aside:
   every attribute that is not a hyperparameter (``network_``, ``rng_``,
   ``cost_``... with ``copy.deepcopy``, so the network's parameters are copied
   and stay views into its one ``theta``), and, for the hyperparameters, the
   state of any ``numpy.random.Generator`` among them (a ``random_state`` the
   user passed is advanced by a fit) and, recursively, the state of any
   estimator among them. A first fit has almost nothing to copy; a refit
   copies one set of parameters.
2. The fit runs on the estimator itself. When it returns, the new state is
   checked: every floating-point array and number it holds, ``theta``
   included, must be finite (a fitted estimator never holds a NaN).
3. If the fit raises anything (a refused input, :class:`~numpy_ae.exceptions.TrainingDiverged`,
   a ``MemoryError``, ``KeyboardInterrupt``), the backup is put back: the same
   attribute names and values, bit for bit; a first fit leaves an unfitted
   estimator. The exception then propagates with a note saying so.

**Ctrl-C.** An interrupted fit is treated like any other fit that did not
finish: the estimator is restored to its state before the call and the
``KeyboardInterrupt`` propagates, with a :class:`~numpy_ae.exceptions.FitInterruptedWarning`
that says so. We chose this over Keras' "keep the weights reached so far"
because a half-trained model that calls itself fitted, beside ``cost_`` and
``message_`` of another run, is the trap a reference implementation should
not set; to keep partial progress, train in shorter fits with
``warm_start=True`` (each one commits), or use ``patience``.

Nested calls (``super().fit`` inside ``fit``, ``fit`` inside ``fit_transform``)
join the outermost transaction.
"""
from __future__ import annotations

import copy
import functools
import numbers
import threading
import warnings

import numpy as np

from ..exceptions import FitInterruptedWarning, TrainingDiverged

__all__ = ["Backup", "transactional", "TRANSACTIONAL_METHODS", "check_finite_state"]

TRANSACTIONAL_METHODS = ("fit", "fit_transform", "fit_in_phases")

_active = threading.local()  # ids of the estimators whose transaction is open in this thread


class Backup:
    """The state of an estimator before a fit, to put back if the fit does not finish.

    Hyperparameters are kept by reference (``get_params()`` returns the very
    objects the user passed, before and after); everything else is deep-copied.
    """

    def __init__(self, est):
        params = set(est._get_param_names())
        owned = {k: v for k, v in vars(est).items() if k not in params}
        # hyperparameter objects are shared, not copied, even where fitted state refers to them
        memo = {id(v): v for k, v in vars(est).items() if k in params}
        self.attrs = dict(vars(est))
        self.attrs.update(copy.deepcopy(owned, memo))
        self.generators = [(g, copy.deepcopy(g.bit_generator.state))
                           for g in (vars(est).get(k) for k in params) if isinstance(g, np.random.Generator)]
        self.nested = [Backup(v) for k, v in vars(est).items() if k in params and hasattr(v, "_get_param_names")
                       and not isinstance(v, type)]
        self.est = est

    def restore(self):
        """Put every attribute back as it was (unfitted, for a first fit)."""
        for backup in self.nested:
            backup.restore()
        for g, state in self.generators:
            g.bit_generator.state = state
        vars(self.est).clear()
        vars(self.est).update(self.attrs)


def _fitted_before(backup):
    return any(k.endswith("_") and not k.startswith("_") for k in backup.attrs)


def check_finite_state(est):
    """Raise TrainingDiverged if a fitted attribute (or ``theta``) holds NaN or inf."""
    bad = []
    net = vars(est).get("network_")
    if net is not None and not np.isfinite(net.theta).all():
        bad.append(f"theta ({int((~np.isfinite(net.theta)).sum())} of {net.theta.size} entries)")
    for name, value in vars(est).items():
        if not name.endswith("_") or name.startswith("_") or name in ("network_", "rng_"):
            continue
        if isinstance(value, np.ndarray) and value.dtype.kind in "fc" and not np.isfinite(value).all():
            bad.append(name)
        elif isinstance(value, numbers.Real) and not isinstance(value, bool) and not np.isfinite(value):
            bad.append(f"{name} = {value}")
    if bad:
        raise TrainingDiverged(f"{type(est).__name__}.fit ended with non-finite values in {', '.join(bad)}; "
                               "lower the learning rate or the penalty weights, or rescale the inputs")


def transactional(method):
    """Wrap a fitting method so that it commits a complete, finite state or restores the previous one."""
    if getattr(method, "__transactional__", False):
        return method

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        open_ = vars(_active).setdefault("ids", set())
        if id(self) in open_:  # a nested call joins the outer transaction
            return method(self, *args, **kwargs)
        backup = Backup(self)
        open_.add(id(self))
        try:
            result = method(self, *args, **kwargs)
            check_finite_state(self)
        except BaseException as exc:
            backup.restore()
            before = "fitted by its previous fit" if _fitted_before(backup) else "unfitted"
            what = f"{type(self).__name__}.{method.__name__}"
            if isinstance(exc, KeyboardInterrupt):
                warnings.warn(f"{what} was interrupted; the estimator is left as it was before the call "
                              f"({before}). Train in shorter fits with warm_start=True to keep progress.",
                              FitInterruptedWarning, stacklevel=2)
            elif isinstance(exc, FloatingPointError) and not isinstance(exc, TrainingDiverged):
                raise TrainingDiverged(f"{what} overflowed ({exc}); lower the learning rate or the penalty "
                                       f"weights, or rescale the inputs. The estimator is left as it was "
                                       f"before the call ({before}).") from exc
            if hasattr(exc, "add_note"):
                exc.add_note(f"numpy_ae: {what} did not finish; the estimator is left as it was before "
                             f"the call ({before}).")
            raise
        finally:
            open_.discard(id(self))
        return result

    wrapper.__transactional__ = True
    return wrapper
