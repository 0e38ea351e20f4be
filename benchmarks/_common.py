"""Shared by the benchmarks: fit and time, evaluate in float64, check that a run did the work.

A benchmark prints no speed figure for a run that did not do the work it
times. :func:`check_run` is the one rule every script applies to every timed
run: it must do as many iterations (or epochs) as its reference, or converge
(meet the optimiser's tolerances), and end with a cost close to the
reference's. A run that fails is printed as FAILED with the reason, gets no
speed figure, and the script exits with status 1.
"""
import os
import sys
import time
import warnings
from collections import defaultdict

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


# ------------------------------------------------- timing the minibatch benchmarks (deep AE, VAE)
def numpy_blas_threads():
    """Threads of the BLAS NumPy uses (before PyTorch brings its own libraries)."""
    from threadpoolctl import threadpool_info

    numpy_dir = os.path.dirname(np.__file__)
    counts = [lib["num_threads"] for lib in threadpool_info()
              if lib["user_api"] == "blas" and os.path.dirname(lib["filepath"]).startswith(numpy_dir)]
    return max(counts) if counts else 1


class StepTimer:
    """Wraps ``fn``: records the wall time of every call in ``times``."""

    def __init__(self, fn, times):
        self.fn, self.times = fn, times

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        out = self.fn(*args, **kwargs)
        self.times.append(time.perf_counter() - start)
        return out


class SteppingClock:
    """Stands in for the optimiser in the training loop: steps it, and records the time of every
    whole step (minibatch, forward, backward, update) from the end of one to the end of the next."""

    def __init__(self, optimizer):
        self.optimizer, self.learning_rate = optimizer, optimizer.learning_rate
        self.steps, self.last = [], time.perf_counter()

    def step(self, theta, grad, frozen=None):
        self.optimizer.step(theta, grad, frozen)
        now = time.perf_counter()
        self.steps.append(now - self.last)
        self.last = now


def library_epoch(net, optimizer, X, batch_size, rng):
    """One epoch of numpy_ae's own loop, every step timed: (wall, cpu, per-step seconds, mean training loss)."""
    from numpy_ae.train.loop import train_minibatch

    clock = SteppingClock(optimizer)
    start, cpu = time.perf_counter(), time.process_time()
    clock.last = start
    history = train_minibatch(net, X, optimizer=clock, epochs=1, batch_size=batch_size, rng=rng, verbose=False)
    return time.perf_counter() - start, time.process_time() - cpu, np.array(clock.steps), history["loss"][0]


def summarize(epochs, n_batches):
    """``epochs``: list of (wall, cpu, step_times, ...); the fastest epoch's wall and cpu seconds, and
    ``steady`` (n_batches x the 10th percentile step) and ``fastest`` (n_batches x the fastest step)."""
    wall, cpu = min(epochs, key=lambda e: e[0])[:2]
    all_steps = np.concatenate([e[2] for e in epochs])
    return {"wall": wall, "cpu": cpu, "steady": n_batches * float(np.percentile(all_steps, 10)),
            "fastest": n_batches * float(all_steps.min()), "wall_all": [e[0] for e in epochs]}


def profile_steps(net, X, batch_size, n_steps, seed, optimizer):
    """Fastest and median seconds of every part of one training step of ``net``, over ``n_steps`` steps:
    each layer's forward and backward pass, the loss, the optimiser's step, cutting the minibatch out."""
    times = defaultdict(list)
    patched = [(layer, m) for layer in net.layers for m in ("forward", "backward")] + \
              [(net.loss, "forward"), (net.loss, "backward")]
    for obj, method in patched:
        name = f"{getattr(obj, 'name', None) or type(obj).__name__}.{method}"
        setattr(obj, method, StepTimer(getattr(obj, method), times[name]))
    order = np.random.default_rng(seed).permutation(X.shape[0])
    n_batches = X.shape[0] // batch_size  # full minibatches only
    try:
        for b in range(n_steps):
            start = time.perf_counter()
            batch = X[order[(b % n_batches) * batch_size:(b % n_batches + 1) * batch_size]]
            times["minibatch X[idx]"].append(time.perf_counter() - start)
            start = time.perf_counter()
            net.compute(batch)  # zeroes net.grad first
            times["compute (all of it)"].append(time.perf_counter() - start)
            start = time.perf_counter()
            optimizer.step(net.theta, net.grad)
            times["optimizer step"].append(time.perf_counter() - start)
    finally:
        for obj, method in patched:
            del obj.__dict__[method]  # back to the class's method
    return {name: (min(t[1:]), float(np.median(t[1:]))) for name, t in times.items()}


def print_profile(profile, n_steps, n_batches):
    print(f"\none step of ours, {n_steps} steps: fastest and median, and x{n_batches} (one epoch)")
    for name, (fast, median) in profile.items():
        print(f"  {name:22s} {fast * 1e6:8.0f} us {median * 1e6:8.0f} us   {fast * n_batches:6.3f} s "
              f"{median * n_batches:6.3f} s")
