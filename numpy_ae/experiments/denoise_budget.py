r"""Training the two denoisers of ``denoise-images`` against each other at equal epochs and at equal seconds.

The clock (:data:`CLOCK`)
-------------------------
Training seconds are PROCESS CPU seconds (``time.process_time()``), not wall
seconds. The machine these figures come from is shared: other processes take
the cores and a niced run can be paused; CPU time counts only the work this
process did, so a budget means the same amount of computation whatever the
load. It counts every thread of the process, and the conv AE's fast path
shares each minibatch among :func:`numpy_ae.num_threads` threads (the cores)
while the dense dA runs on one: so both train on ONE thread here
(:func:`one_thread`: numpy_ae's pool and the BLAS libraries), and a budget is
"the same CPU seconds on one core", the wall seconds of a quiet machine. (On
two free cores the conv AE's wall time would be lower than its CPU time;
equal wall time on a loaded machine measures the load.) The wall seconds are
recorded beside it.

What is timed
-------------
Only training: :class:`EpochCurve` (the ``callback`` of ``fit``) takes the
clock at the end of every epoch and again after scoring the test images, and
counts only the time between its calls (initialisation, the minibatch steps).
The conv AE trains without ``validation_data`` (its validation loss is
computed after training), so neither model's seconds include a validation pass.

The comparisons (:func:`budget_row`)
------------------------------------
* **equal epochs**: both models after the conv AE's ``epochs``;
* **the conv AE's budget**: the conv AE after its ``epochs`` against the dense dA
  after the most epochs whose CPU seconds do not exceed the conv AE's (the dense
  dA is trained epoch by epoch, :func:`fit_dense_on_budget`, until it passes the budget);
* **the dense dA's budget**: the dense dA after its ``dense_epochs`` against
  a fresh conv AE (same seed, same initial weights) given as many Adam steps as
  fit into the dense dA's CPU seconds at the conv AE's measured cost per step
  (:func:`conv_steps_for`), in ONE ``fit`` of one epoch over
  :func:`indices_for_steps` (so one Adam state throughout): fewer steps than an
  epoch's are a pass over a seeded random subset (what the first steps of a
  shuffled epoch are); more are every pair once and a random subset of them
  once more. Its measured CPU seconds are reported beside the budget.
"""
from __future__ import annotations

import contextlib
import time

import numpy as np

from .._validation import check_positive_int
from ..analysis.image_quality import psnr, ssim
from ..train.threads import num_threads, set_num_threads
from .denoising import one_blas_thread

__all__ = ["CLOCK", "one_thread", "predict", "EpochCurve", "fit_dense_on_budget", "budget_row", "conv_steps_for",
           "indices_for_steps"]

#: How training seconds are measured (see the module docstring).
CLOCK = "process CPU seconds (time.process_time), one training thread"


@contextlib.contextmanager
def one_thread():
    """Train on one thread inside the block: numpy_ae's fast-path pool and the BLAS libraries (restored after)."""
    before = num_threads()
    set_num_threads(1)
    try:
        with one_blas_thread():
            yield
    finally:
        set_num_threads(before)


def predict(model, X, batch_size=1000):
    """``model.reconstruct`` of ``X (N, D)`` in batches of ``batch_size`` rows."""
    return np.concatenate([model.reconstruct(X[s:s + batch_size]) for s in range(0, X.shape[0], batch_size)])


class EpochCurve:
    """A ``fit`` callback: after every epoch, the training seconds so far and the test PSNR and SSIM.

    Parameters
    ----------
    model : a fitted-in-place autoencoder (``reconstruct``)
    X_noisy, X_clean : arrays (N, D)
        The test pair scored after every epoch (the scoring is not timed).
    keep : iterable of int
        Epochs whose denoised test images are kept in ``outputs``.
    image_shape : (int, int)
    name : str or None
        With a name, one progress line per epoch.

    Attributes
    ----------
    rows : list of dict
        ``{"epoch", "cpu_seconds", "wall_seconds", "psnr", "ssim"}`` per epoch, the seconds cumulative.
    outputs : dict
        epoch -> denoised test images, for the epochs in ``keep``.
    """

    def __init__(self, model, X_noisy, X_clean, keep=(), image_shape=(28, 28), name=None):
        self.model, self.X_noisy, self.X_clean = model, X_noisy, X_clean
        self.keep, self.image_shape, self.name = set(keep), image_shape, name
        self.rows, self.outputs = [], {}
        self.cpu = self.wall = 0.0
        self.start()

    def start(self):
        """Start (or restart after a pause that must not count) the clocks."""
        self._cpu, self._wall = time.process_time(), time.perf_counter()

    def __call__(self, epoch=None, history=None):
        self.cpu += time.process_time() - self._cpu
        self.wall += time.perf_counter() - self._wall
        epoch = len(self.rows) + 1
        Y = predict(self.model, self.X_noisy)
        row = {"epoch": epoch, "cpu_seconds": self.cpu, "wall_seconds": self.wall,
               "psnr": psnr(Y, self.X_clean), "ssim": ssim(Y, self.X_clean, self.image_shape)}
        self.rows.append(row)
        if epoch in self.keep:
            self.outputs[epoch] = Y
        if self.name:
            print(f"  {self.name} epoch {epoch:3d}: {row['cpu_seconds']:7.1f} CPU s ({row['wall_seconds']:.1f} wall)"
                  f"  test PSNR {row['psnr']:.2f} dB  SSIM {row['ssim']:.4f}", flush=True)
        self.start()


def fit_dense_on_budget(model, X, T, curve, min_epochs, budget, max_epochs=1000):
    """Train ``model`` one epoch at a time until it has run ``min_epochs`` AND passed ``budget`` CPU seconds.

    ``model`` must train one epoch per ``fit`` and continue from its state
    (``epochs=1, warm_start=True``) with a stateless optimiser (plain SGD): then
    ``k`` calls are exactly one ``fit`` of ``k`` epochs (a test checks it
    bitwise). ``curve`` (an :class:`EpochCurve` of this model) records every
    epoch. Stops at ``max_epochs`` whatever the budget. Returns ``curve``.
    """
    if model.epochs != 1 or not model.warm_start:
        raise ValueError(f"model must train one epoch per fit with warm_start=True; got epochs={model.epochs}, "
                         f"warm_start={model.warm_start}")
    if getattr(model, "momentum", 0.0) or getattr(model, "method", "sgd") != "sgd":
        raise ValueError("model must use plain SGD (method='sgd', momentum=0): fitting epoch by epoch restarts the "
                         f"optimiser; got method={model.method!r}, momentum={model.momentum}")
    min_epochs = check_positive_int(min_epochs, "min_epochs")
    max_epochs = check_positive_int(max_epochs, "max_epochs")
    if not budget >= 0:
        raise ValueError(f"budget must be >= 0 CPU seconds; got {budget}")
    curve.start()
    while len(curve.rows) < max_epochs and (len(curve.rows) < min_epochs or curve.cpu <= budget):
        model.fit(X, target=T)
        curve()
    return curve


def budget_row(rows, budget):
    """The row of the most epochs whose ``cpu_seconds`` do not exceed ``budget`` (the first row if none does)."""
    within = [r for r in rows if r["cpu_seconds"] <= budget]
    return dict(within[-1] if within else rows[0], within_budget=bool(within))


def conv_steps_for(budget, seconds, steps):
    """The number of steps that fit into ``budget`` seconds at ``seconds / steps`` per step (at least 1)."""
    steps = check_positive_int(steps, "steps")
    if not seconds > 0:
        raise ValueError(f"seconds must be > 0 (the measured time of {steps} steps); got {seconds}")
    return max(1, int(budget * steps / seconds))


def indices_for_steps(n_steps, batch_size, n, random_state):
    """Sorted indices into ``n`` examples, ``n_steps * batch_size`` of them: one epoch over these rows is
    ``n_steps`` minibatches.

    Every example appears ``n_steps * batch_size // n`` times, and a seeded random subset of the
    remainder (drawn without replacement) once more: fewer steps than one epoch's are one pass over a
    random subset; more are every example once (or k times) and a random subset once again, in one
    shuffled pass with one optimiser state.
    """
    n_steps = check_positive_int(n_steps, "n_steps")
    n = check_positive_int(n, "n")
    size = n_steps * check_positive_int(batch_size, "batch_size")
    copies, rest = divmod(size, n)
    extra = np.random.default_rng(random_state).choice(n, size=rest, replace=False)
    return np.sort(np.concatenate([np.tile(np.arange(n), copies), extra]))
