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

Results: the same to round-off for every thread count (the sums are taken in
another order), bitwise the same for the same count (the blocks and the order of
the sums are fixed). One thread, or a batch too small to split, is the plain
``net.compute``: bitwise today's step.
"""
from __future__ import annotations

import copy

from . import threads

__all__ = ["MIN_ROWS", "splittable", "RowSplit"]

# rows per thread below which a step is not split: a half-batch product of fewer rows runs at a fraction of
# BLAS's speed, and a step's fixed cost (waking a thread, the gradient sum) no longer pays
MIN_ROWS = 32


def splittable(net, measured=True):
    """Whether ``net``'s training step may be split by rows (see the module docstring).

    ``measured=True`` (what the training loop asks) also requires a layer on which the split was measured
    to pay (``split_pays``: the fast convolutions). A dense-only network is not split: the deep
    autoencoder's epoch took 2.58 s split against 2.27 s with BLAS's two threads (each thread streams
    all the weights, 2.25 MB, for its half batch; Adam's pass then finds them out of cache).
    """
    parts = (*getattr(net, "layers", ()), getattr(net, "loss", None))  # duck-typed models: not split
    if not (getattr(net, "fast", False) and all(getattr(o, "rows_independent", False) for o in parts)):
        return False
    return not measured or any(getattr(layer, "split_pays", False) for layer in net.layers)


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
            kinds = sorted({type(o).__name__ for o in (*net.layers, net.loss)
                            if not getattr(o, "rows_independent", False)})
            raise ValueError("RowSplit needs a fast model whose layers and loss all have independent rows; "
                             f"{'not fast' if not net.fast else 'these do not: ' + ', '.join(kinds)}")
        self.net = net
        self.threads = threads
        self._replicas = []

    def n_blocks(self, n_rows):
        """How many blocks a batch of ``n_rows`` is cut into (1: not split)."""
        T = threads.num_threads() if self.threads is None else threads._check(self.threads, "threads")
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

        def block(i, slot):
            a, b = bounds[i], bounds[i + 1]
            model = nets[i]
            if model is not net:
                model.frozen = net.frozen  # a freeze since the replica was made
            J = model.compute(X[a:b], None if T is None else T[a:b])
            model.grad *= (b - a) / n
            return J * ((b - a) / n)

        parts = threads.in_slots(block, k, threads=k)
        for model in nets[1:]:
            net.grad += model.grad
        return sum(parts)  # in block order: the same bits for the same count
