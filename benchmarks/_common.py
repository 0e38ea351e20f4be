"""Shared by the benchmarks: fit and time, evaluate in float64, check that a run did the work.

A benchmark prints no speed figure for a run that did not do the work it
times. :func:`check_run` is the one rule every script applies to every timed
run: it must do as many iterations (or epochs) as its reference, or converge
(meet the optimiser's tolerances), and end with a cost close to the
reference's. A run that fails is printed as FAILED with the reason, gets no
speed figure, and the script exits with status 1.
"""
import sys
import time
import warnings

import numpy as np

from numpy_ae.exceptions import ConvergenceWarning


def fit_timed(estimator, X, **training):
    """Fit ``estimator`` on ``X`` with training settings such as ``max_iter``; return (seconds, early_stop_warnings).

    The settings are hyperparameters (``set_params``); the ConvergenceWarnings
    the fit raises are collected and returned, the other warnings shown as usual.
    """
    estimator.set_params(**training)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X)
        seconds = time.perf_counter() - start
    early = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    for w in caught:  # show the others as usual
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return seconds, early


def float64_cost(estimator, X, params):
    """The training objective of ``estimator``'s fitted theta, evaluated by a float64 twin built from ``params``.

    So runs in float32 and float64 are compared on one scale: the float32 cost
    the run reports carries float32 rounding of the layers' outputs.
    """
    twin = type(estimator)(**{**params, "dtype": "float64"})
    twin.initialize(X.shape[1])
    twin.network_.set_theta(np.asarray(estimator.theta, dtype=np.float64))
    return float(twin.network_.compute(np.asarray(X, dtype=np.float64)))


def check_run(iterations, reference_iterations, cost, reference_cost, rtol, converged=False, early=()):
    """``(ok, reason)``: did this run do the work of the reference run?

    ok when it did as many iterations (or epochs) as the reference, or
    converged, with no early-stop warning, and its cost is within ``rtol``
    (relative) of the reference's cost.
    """
    reasons = []
    if early:
        reasons.append("stopped early (ConvergenceWarning)")
    if iterations < reference_iterations and not converged:
        reasons.append(f"{iterations} iterations < reference's {reference_iterations}, not converged")
    if not np.isfinite(cost) or abs(cost - reference_cost) > rtol * abs(reference_cost):
        reasons.append(f"cost {cost:.6g} not within {rtol:.0%} of the reference's {reference_cost:.6g}")
    return not reasons, "; ".join(reasons)


def exit_status(failures):
    """Print the failed runs (if any) and return the process exit status."""
    if failures:
        print(f"\nFAILED: {len(failures)} run(s) did not do the work of their reference; no speed figure "
              "was printed for them:")
        for f in failures:
            print(f"  {f}")
        return 1
    return 0


def finish(failures):
    sys.exit(exit_status(failures))
