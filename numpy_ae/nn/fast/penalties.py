r"""Fast twins of :mod:`numpy_ae.nn.penalties`: column sums as one GEMV, and the penalty's term added
to the delta in a reused buffer."""
from __future__ import annotations

import numpy as np

from .. import penalties
from ..penalties import kl_divergence_bernoulli
from .workspace import buffer, row_sum

__all__ = ["KLSparsity", "Contractive"]


class KLSparsity(penalties.KLSparsity):
    """:class:`numpy_ae.nn.KLSparsity`, fast: :math:`\\hat\\rho` as ``ones @ A``.

    A training step split by rows (:mod:`numpy_ae.train.parallel`) sets ``shared_sums`` on each block's
    copy of the layer: it takes the block's column sums of ``A`` and returns the whole batch's with its
    row count, so every block uses the batch's :math:`\\hat\\rho`. ``n`` stays the block's own rows
    (the split scales each block's gradient by its share of the rows).
    """

    batch_sums = True  # rows meet only in the column sums of A (numpy_ae.train.parallel)
    shared_sums = None

    def forward(self, A, training=True):
        if training:
            eps = np.finfo(A.dtype).eps
            sums, n_all = row_sum(self, A), A.shape[0]
            if self.shared_sums is not None:
                sums, n_all = self.shared_sums(sums)
            rho_hat = sums / n_all
            self.rho_hat = rho_hat
            self.guard = np.clip(rho_hat, eps, 1.0 - eps)
            self.n = A.shape[0]
            kl = kl_divergence_bernoulli(self.sparsity, self.guard)
            kl += self._slope(self.guard) * (rho_hat - self.guard)
            self.penalty = self.beta * float(kl.sum())
        return A

    def backward(self, dA):
        term = (self.beta / self.n) * self._slope(self.guard)
        return np.add(dA, term.astype(dA.dtype, copy=False), out=buffer(self, "dA", dA.shape, dA.dtype))


class Contractive(penalties.Contractive):
    r""":class:`numpy_ae.nn.Contractive`, fast: :math:`\sum_n g'(z_{nj})^2` as one GEMV, the delta's
    term built in one buffer."""

    def backward(self, dA):
        scale = 2.0 * self.weight / self.A.shape[0]
        term = np.multiply(self.slope, self.dslope, out=buffer(self, "dA", dA.shape, dA.dtype))
        term *= scale * self.colnorm
        term += dA
        self.dense.dW += self.dense.W * (scale * row_sum(self, np.square(self.slope)))
        return term
