r"""The minibatch training loop shared by every model's ``fit(..., method="adam" | "sgd")``.

One epoch: shuffle the examples with the model's Generator, cut them into
minibatches (every array of the example, ``side`` included, with the same
indices), and for each call ``net.compute(X_batch, T_batch)`` (which fills
``net.grad``) and ``optimizer.step(net.theta, net.grad)``. After each epoch it
records the mean training objective and, when validation data are given, the
validation loss (no noise, no penalties), prints one progress line (with a
live bar inside the epoch when printing to a terminal) and checks early
stopping. Divergence stops training with :class:`~numpy_ae.exceptions.TrainingDiverged`,
an error that names the epoch and what to lower: at once for a non-finite
objective, and at the end of an epoch whose mean objective exceeds the first
minibatch's by more than :data:`GROWTH_LIMIT` times its size (a run that lost
three orders of magnitude is not learning). Training never continues silently
on NaN, and never reports "ran all epochs" for a run that blew up.

Threads: a fast model whose layers and loss all have independent rows
(:func:`numpy_ae.train.parallel.splittable`: dense and convolutional
autoencoders without noise or batch penalties) runs each step split by rows
across :func:`numpy_ae.train.threads.num_threads` threads
(:class:`~numpy_ae.train.parallel.RowSplit`), NumPy's BLAS held to one thread
during the epoch's steps; the same results to round-off for every thread
count, bitwise for the same count. Any other model: ``net.compute``, BLAS as
configured.
"""
from __future__ import annotations
import contextlib
import sys
import time
import numpy as np
from . import threads
from .parallel import RowSplit, splittable
from .._validation import check_positive_int
from ..exceptions import TrainingDiverged

__all__ = ['train_minibatch', 'TrainingDiverged', 'GROWTH_LIMIT', 'check_growth']

GROWTH_LIMIT = 1e3  # an epoch's mean objective above J0 + GROWTH_LIMIT * |J0| is divergence




def check_growth(J0, J, epoch, what="the learning rate", name="objective"):
    """Raise TrainingDiverged if the epoch mean ``J`` exceeds ``J0 + GROWTH_LIMIT * |J0|`` (``J0``: first minibatch)."""
    if J > J0 + GROWTH_LIMIT * max(abs(J0), np.finfo(np.float64).eps):
        raise TrainingDiverged(f"training diverged in epoch {epoch}: the mean {name} grew from {J0:.6g} (first "
                               f"minibatch) to {J:.6g}; lower {what} or check the input scaling")


def _bar(done, total, width=30):
    filled = int(width * done / total)
    return "[" + "=" * filled + "." * (width - filled) + f"] {done}/{total}"


def train_minibatch(net, X, T=None, *, optimizer, epochs=10, batch_size=128, rng=None,
                    validation_data=None, patience=None, verbose=True, callback=None, stream=None, side=None):
    r"""Train ``net`` (a :class:`~numpy_ae.nn.sequential.Sequential`) on ``X (N, D)`` with minibatches.

    Parameters
    ----------
    net : Sequential
        Its ``theta`` is updated in place; frozen entries (``net.frozen``) do not move.
    X : ndarray (N, D)
        Inputs, already in the model's dtype.
    T : ndarray (N, ...) or None
        Targets (``None``: the model reconstructs ``X``; labels for a classifier).
    optimizer : SGD or Adam
    epochs, batch_size : int
        ``1 <= batch_size <= N``; the last minibatch of an epoch may be smaller.
    rng : numpy.random.Generator
        Shuffles the examples every epoch.
    validation_data : ndarray or (X_val, T_val) or (X_val, T_val, side_val) or None
        Scored after every epoch with :meth:`Sequential.evaluate` (``side_val``
        handed to the model as ``side`` is during training).
    patience : int or None
        Early stopping: stop after ``patience`` epochs without improvement of the
        validation loss (the training loss when there is no validation data) and
        restore the best parameters.
    verbose : bool
        One line per epoch: epoch, losses, seconds.
    callback : callable or None
        ``callback(epoch, history)`` after every epoch.
    side : ndarray (N, ...) or None
        A side input of every example (e.g. the one-hot label of a conditional
        VAE): each minibatch takes the rows ``side[idx]`` with the same indices
        ``idx`` as ``X`` and ``T``, and ``net.set_condition(side[idx])`` hands
        them to the model before ``net.compute``. The loop knows nothing else
        about it.

    Returns
    -------
    dict
        ``{"loss": [...], "val_loss": [...], "seconds": [...]}``, one entry per epoch
        (``val_loss`` empty without validation data), plus ``"best_epoch"``.
    """
    N = X.shape[0]
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    if batch_size > N:
        raise ValueError(f"batch_size must be between 1 and the number of examples ({N}); got {batch_size}")
    if patience is not None:
        patience = check_positive_int(patience, "patience")
    rng = np.random.default_rng() if rng is None else rng
    stream = sys.stdout if stream is None else stream
    live = verbose and hasattr(stream, "isatty") and stream.isatty()
    if validation_data is not None and not isinstance(validation_data, tuple):
        validation_data = (validation_data, None)
    if side is not None and side.shape[0] != N:
        raise ValueError(f"side must have one row per example: X has {N} rows, side has {side.shape[0]}")
    val_side = None
    if validation_data is not None and len(validation_data) == 3:
        *validation_data, val_side = validation_data
        validation_data = tuple(validation_data)

    history = {"loss": [], "val_loss": [], "seconds": [], "best_epoch": None}
    n_batches = -(-N // batch_size)
    best, best_theta, waited, J0 = np.inf, None, 0, None
    frozen = net.frozen if net.frozen.any() else None
    split = RowSplit(net) if splittable(net) and side is None else None
    if split is not None and split.n_blocks(batch_size) == 1:
        split = None
    compute = net.compute if split is None else split.compute
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = rng.permutation(N)
        total = 0.0
        held = contextlib.nullcontext() if split is None else threads.blas_held_to_one()
        with held:
            for b in range(n_batches):
                idx = order[b * batch_size:(b + 1) * batch_size]
                if side is not None:
                    net.set_condition(side[idx])
                J = compute(X[idx], None if T is None else T[idx])
                if not np.isfinite(J):
                    raise TrainingDiverged(
                        f"the training objective became {J} in epoch {epoch} (minibatch {b + 1}/{n_batches}); "
                        f"lower the learning rate (now {getattr(optimizer, 'learning_rate', '?')}) or check the "
                        "input scaling")
                if J0 is None:
                    J0 = float(J)
                optimizer.step(net.theta, net.grad, frozen)
                total += J * len(idx)
                if live and (b % 20 == 0 or b == n_batches - 1):
                    stream.write(f"\r  epoch {epoch}/{epochs} {_bar(b + 1, n_batches)}")
                    stream.flush()
        history["loss"].append(total / N)
        check_growth(J0, history["loss"][-1], epoch, f"the learning rate (now {getattr(optimizer, 'learning_rate', '?')})")
        if validation_data is not None:
            extra = {} if val_side is None else {"side": val_side}  # a model without side inputs is not asked
            history["val_loss"].append(net.evaluate(*validation_data, **extra))
        history["seconds"].append(time.perf_counter() - start)
        if verbose:
            val = f"  val_loss {history['val_loss'][-1]:.6f}" if validation_data is not None else ""
            stream.write(("\r" if live else "") + f"  epoch {epoch:3d}/{epochs}  loss {history['loss'][-1]:.6f}"
                         f"{val}  {history['seconds'][-1]:6.2f} s" + (" " * 20 if live else "") + "\n")
            stream.flush()
        if callback is not None:
            callback(epoch, history)

        monitored = history["val_loss"][-1] if validation_data is not None else history["loss"][-1]
        if monitored < best:
            best, waited, history["best_epoch"] = monitored, 0, epoch
            if patience is not None:
                best_theta = net.theta.copy()
        elif patience is not None:
            waited += 1
            if waited >= patience:
                if verbose:
                    stream.write(f"  early stopping: no improvement for {patience} epochs; "
                                 f"restoring epoch {history['best_epoch']}\n")
                net.theta[...] = best_theta
                break
    return history
