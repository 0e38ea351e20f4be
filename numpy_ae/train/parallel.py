r"""A training step split by rows across threads: each thread runs the whole forward and backward pass on its rows.

For an objective that is a mean over the examples of a minibatch plus terms of
the parameters alone,

.. math:: J(\theta) = \frac{1}{n}\sum_{i=1}^{n} \ell_i(\theta) + R(\theta)
          = \sum_{k=1}^{T} \frac{n_k}{n} J_k(\theta),
          \qquad J_k = \frac{1}{n_k}\sum_{i \in B_k} \ell_i + R,

(the :math:`n_k/n` sum to one, so :math:`R`, e.g. weight decay, counts once), a
minibatch cut into :math:`T` contiguous blocks :math:`B_k` of rows gives the
same :math:`J` and :math:`\nabla J` as the whole batch. :class:`RowSplit` keeps
:math:`T - 1` replicas of a :class:`~numpy_ae.nn.sequential.Sequential` (their
own layers, caches, workspaces and ``grad``; the SAME ``theta``), runs block
:math:`k` on replica :math:`k` in its own thread (:func:`~numpy_ae.train.threads.in_slots`,
NumPy's BLAS held to one thread), scales each gradient by :math:`n_k/n` in
that thread, and sums them into the model's ``grad`` in block order.

Why not leave the threads to BLAS: the minibatch products here are small
(150 x 784 times 784 x 300), and after a two-thread OpenBLAS call its second
thread keeps spinning on the other core, so the element-wise passes between
the products (one core) and anything else run beside it lose that core
(``benchmarks/README.md``, issue 19). Two whole half-steps in parallel keep
both cores on useful work.

Which models qualify (:func:`splittable`): a convolution (the split was
measured to pay there, and not for dense-only networks), and every layer and the loss declare
``rows_independent = True``: an example's output, loss and gradient terms do
not depend on the other rows of the batch, and nothing is random. Not: the
batch-mean sparsity penalty (its :math:`\hat\rho` is a batch statistic),
winner-take-all selections across the batch, noise layers (each replica would
draw its own noise: not the one-thread run's), conditions (a side input per row).

Batch sums: a layer whose only dependence across rows is a column sum of its
input (``batch_sums = True``: the fast sparsity penalty, whose
:math:`\hat\rho_j = \frac1n\sum_i a_{ij}` is a batch mean) is split too. Each
block's layer posts its partial sums to a :class:`ColumnSums` and waits at its
barrier; the sums are added in block order, and every block goes on with the
whole batch's :math:`\hat\rho`. The layer's term in the delta,
:math:`\frac{\beta}{n} \mathrm{KL}'(\hat\rho_j)`, is computed per block with
the block's own :math:`n_k` in the denominator, so that the block's scaling by
:math:`n_k/n` gives the whole batch's :math:`\beta/n`; its penalty is the whole
batch's in every block, and :math:`\sum_k (n_k/n) P = P` counts it once.

Full-batch objectives (L-BFGS, :func:`whole_batch_objective`): every
evaluation is one large batch (UFLDL's 10,000 patches), and the split pays for
dense networks there too when the blocks are large (:data:`WHOLE_BATCH_MIN_SIZE`):
one evaluation of the 64-25-64 patch model took 7.3 ms whole with BLAS's two
threads against 4.5 ms split in float64, 3.7 against 2.1 ms in float32; the
784-196-784 MNIST model 200 against 140 ms.

Results: the same to round-off for every thread count (the sums are taken in
another order), bitwise the same for the same count (the blocks and the order of
the sums are fixed). One thread, or a batch too small to split, is the plain
``net.compute``: bitwise today's step.
"""
from __future__ import annotations

import contextlib
import copy
import functools
import threading

from . import threads

__all__ = ["MIN_ROWS", "WHOLE_BATCH_MIN_SIZE", "splittable", "RowSplit", "ColumnSums", "whole_batch_objective"]

# rows per thread below which a step is not split: a half-batch product of fewer rows runs at a fraction of
# BLAS's speed, and a step's fixed cost (waking a thread, the gradient sum) no longer pays
MIN_ROWS = 32
# input numbers per thread below which a full-batch (L-BFGS) evaluation is not split. Measured on the 64-25-64
# patch model, one evaluation whole (BLAS's threads) against split in two, float32 / float64: 2,000 rows
# 0.82 / 0.86 times as fast, 4,000 rows 0.90 / 1.58, 10,000 rows 1.6-1.75 / 1.6. Small blocks lose to the
# hand-overs of the GIL between NumPy calls (blocks of 2,000 rows run concurrently spent half their time
# waiting: 1.5 ms wall for 0.77 ms of CPU).
WHOLE_BATCH_MIN_SIZE = 1 << 18


def splittable(net, measured=True):
    """Whether ``net``'s training step may be split by rows (see the module docstring).

    ``measured=True`` (what the training loop asks) also requires a layer on which the split was measured
    to pay (``split_pays``: the fast convolutions). A dense-only network is not split: the deep
    autoencoder's epoch took 2.58 s split against 2.27 s with BLAS's two threads (each thread streams
    all the weights, 2.25 MB, for its half batch; Adam's pass then finds them out of cache).
    """
    parts = (*getattr(net, "layers", ()), getattr(net, "loss", None))  # duck-typed models: not split
    if not (getattr(net, "fast", False) and all(_splits(o) for o in parts)):
        return False
    return not measured or any(getattr(layer, "split_pays", False) for layer in net.layers)


def _splits(part):
    """A layer or loss with independent rows, or whose rows meet only in column sums (``batch_sums``)."""
    return getattr(part, "rows_independent", False) or getattr(part, "batch_sums", False)


def _replica(net):
    """A copy of ``net`` with its own layers, caches, workspaces and ``grad``, bound to ``net.theta``:
    a deepcopy that maps ``theta`` to itself (``Sequential.__setstate__`` binds the layers' views to it
    and to the copy's ``grad``; ``__getstate__`` leaves the workspaces behind)."""
    return copy.deepcopy(net, memo={id(net.theta): net.theta})


class RowSplit:
    """``compute(X, T)`` as ``net.compute(X, T)``, split by rows across ``threads`` threads.

    Parameters
    ----------
    net : Sequential
        A fast model with :func:`splittable` true (else a ValueError). Its
        ``frozen`` mask is read at every step.
    threads : int or None
        Thread count (None: :func:`numpy_ae.train.threads.num_threads`).
    """

    def __init__(self, net, threads=None):
        if not splittable(net, measured=False):
            kinds = sorted({type(o).__name__ for o in (*net.layers, net.loss) if not _splits(o)})
            raise ValueError("RowSplit needs a fast model whose layers and loss all have independent rows "
                             "(or meet only in column sums); "
                             f"{'not fast' if not net.fast else 'these do not: ' + ', '.join(kinds)}")
        self.net = net
        self.threads = threads
        self._replicas = []

    def n_blocks(self, n_rows):
        """How many blocks a batch of ``n_rows`` is cut into (1: not split; always 1 when called from inside a
        slot of :func:`numpy_ae.train.threads.in_slots`, whose nested calls run in the calling thread)."""
        T = threads.num_threads() if self.threads is None else threads._check(self.threads, "threads")
        if getattr(threads._local, "busy", False):
            return 1
        return max(1, min(T, n_rows // MIN_ROWS))

    def compute(self, X, T=None):
        """Fill ``net.grad`` with :math:`\\nabla J` of the minibatch ``(X, T)``; return :math:`J`."""
        net = self.net
        n = X.shape[0]
        k = self.n_blocks(n)
        if k == 1:
            return net.compute(X, T)
        while len(self._replicas) < k - 1:
            self._replicas.append(_replica(net))
        nets = [net, *self._replicas[:k - 1]]
        bounds = [n * i // k for i in range(k + 1)]
        shared = [j for j, layer in enumerate(net.layers) if getattr(layer, "batch_sums", False)]
        sums = [ColumnSums(k, n) for _ in shared]

        def block(i, slot):
            a, b = bounds[i], bounds[i + 1]
            model = nets[i]
            if model is not net:
                model.frozen = net.frozen  # a freeze since the replica was made
            try:
                J = model.compute(X[a:b], None if T is None else T[a:b])
            except BaseException as exc:  # let the other blocks out of their barriers, report after
                for s in sums:
                    s.abort()
                return _Failed(exc)
            model.grad *= (b - a) / n
            return J * ((b - a) / n)

        for i, model in enumerate(nets):
            for j, s in zip(shared, sums):
                model.layers[j].shared_sums = functools.partial(s, i)
        try:
            # the blocks of a step with batch sums wait for each other: one such step at a time in the process,
            # so that steps started from several threads cannot hold every pool worker at half-full barriers
            with _BARRIER_STEP if shared else contextlib.nullcontext():
                parts = threads.in_slots(block, k, threads=k)
        finally:
            for model in nets:
                for j in shared:
                    model.layers[j].shared_sums = None
        failed = [p.exc for p in parts if isinstance(p, _Failed)]
        if failed:  # the first block's own error, not a barrier another block broke
            raise next((e for e in failed if not isinstance(e, threading.BrokenBarrierError)), failed[0])
        for model in nets[1:]:
            net.grad += model.grad
        return sum(parts)  # in block order: the same bits for the same count

    def loss_and_grad(self, theta, X, T=None):
        """``net.loss_and_grad(theta, X, T)``, split: :math:`(J, \\nabla J)` with the gradient copied out."""
        self.net.set_theta(theta)
        J = self.compute(X, T)
        return J, self.net.grad.copy()


_BARRIER_STEP = threading.Lock()


class _Failed:
    def __init__(self, exc):
        self.exc = exc


class ColumnSums:
    """Column sums over a batch split into ``k`` blocks of ``n`` rows in all, from each block's partial sums.

    Block ``i`` calls ``sums(i, partial)`` from its own thread and waits until every block has posted its
    own; all then get ``(total, n)``, ``total`` the partial sums added in block order (a new array: the
    same bits for the same ``k``). ``abort()`` breaks the barrier (a block failed: the others raise
    ``threading.BrokenBarrierError`` instead of waiting for ever). The ``k`` blocks must run at once.
    """

    def __init__(self, k, n):
        self.n = n
        self._parts = [None] * k
        self._total = None
        self._barrier = threading.Barrier(k, action=self._add)

    def _add(self):
        first, *rest = self._parts
        self._total = first.copy()
        for part in rest:
            self._total += part

    def __call__(self, i, partial):
        self._parts[i] = partial
        self._barrier.wait()
        return self._total, self.n

    def abort(self):
        """Break the barrier: blocks waiting at it, or arriving later, raise ``threading.BrokenBarrierError``."""
        self._barrier.abort()


@contextlib.contextmanager
def whole_batch_objective(net, X, T=None):
    """Inside the block, ``fun(theta) -> (J, grad)`` over the whole ``(X, T)``, for L-BFGS.

    Split by rows (:class:`RowSplit`, NumPy's BLAS held to one thread for the whole block) when ``net``
    splits (:func:`splittable` without the measured-layer condition: a full batch is large) and each
    thread gets at least :data:`WHOLE_BATCH_MIN_SIZE` numbers of ``X``; otherwise ``net.loss_and_grad``,
    BLAS as configured. Either way the same :math:`J` and gradient to round-off.
    """
    k = min(threads.num_threads(), X.shape[0] // MIN_ROWS, X.size // WHOLE_BATCH_MIN_SIZE)
    if k < 2 or not splittable(net, measured=False):
        yield functools.partial(net.loss_and_grad, X=X, T=T)
        return
    split = RowSplit(net, threads=k)
    with threads.blas_held_to_one():
        yield functools.partial(split.loss_and_grad, X=X, T=T)
