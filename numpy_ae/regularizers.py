r"""Penalties inserted into a network as layers.

What makes one autoencoder differ from another is a layer you insert, not a
copy of the model. A penalty layer is the identity in the forward pass, records
what its penalty needs, stores the penalty's value in ``self.penalty`` (the
model adds it to the objective), and in the backward pass adds the penalty's
gradient to the delta flowing through it.
"""
from __future__ import annotations

import numpy as np

from ._validation import check_in_open_interval, check_non_negative
from .layers import Layer, ones

__all__ = ["KLSparsity", "kl_divergence_bernoulli"]


def kl_divergence_bernoulli(rho, rho_hat):
    r""":math:`\mathrm{KL}(\rho \,\|\, \hat\rho_j) = \rho \log\frac{\rho}{\hat\rho_j}
    + (1-\rho)\log\frac{1-\rho}{1-\hat\rho_j}`, element-wise over ``rho_hat``."""
    return rho * np.log(rho / rho_hat) + (1.0 - rho) * np.log((1.0 - rho) / (1.0 - rho_hat))


class KLSparsity(Layer):
    r"""UFLDL's sparsity penalty on the activations ``A`` (shape ``(N, H)``) it sits after.

    Forward: the identity. It records the batch-mean activation of each hidden unit,

    .. math:: \hat\rho_j = \frac{1}{N}\sum_{n} a_{nj},

    and the penalty :math:`\beta \sum_{j=1}^{H} \mathrm{KL}(\rho \,\|\, \hat\rho_j)`.

    Backward: the UFLDL rule "add the sparsity term to :math:`\delta^{(2)}`".
    UFLDL's cost is summed over examples; ours is averaged (divided by N), so
    the term each example receives is divided by N too:

    .. math:: \frac{\partial J}{\partial a_{nj}} \mathrel{+}=
              \frac{\beta}{N}\left(-\frac{\rho}{\hat\rho_j} + \frac{1-\rho}{1-\hat\rho_j}\right).

    A unit whose :math:`\hat\rho_j` reaches exactly 0 or 1 (saturated sigmoid,
    dead ReLU) would give ``inf``/``NaN``; :math:`\hat\rho` is clipped to
    :math:`[\epsilon, 1-\epsilon]` with :math:`\epsilon` the machine epsilon of
    its dtype, so the penalty stays finite and pushes the unit back.

    Parameters
    ----------
    sparsity : float in (0, 1)
        The target activation :math:`\rho` (UFLDL: 0.01 for patches).
    beta : float >= 0
        Weight :math:`\beta` of the penalty (UFLDL: 3).
    """

    def __init__(self, sparsity=0.01, beta=3.0):
        self.sparsity = check_in_open_interval(sparsity, "sparsity")
        self.beta = check_non_negative(beta, "beta")

    def forward(self, A, training=True):
        if training:
            eps = np.finfo(A.dtype).eps
            rho_hat = ones(self, A.shape[0], A.dtype) @ A  # column sums as a GEMV: faster than A.mean(0)
            rho_hat /= A.shape[0]
            self.rho_hat = np.clip(rho_hat, eps, 1.0 - eps)
            self.n = A.shape[0]
            self.penalty = self.beta * float(kl_divergence_bernoulli(self.sparsity, self.rho_hat).sum())
        return A

    def backward(self, dA):
        rho, rho_hat = self.sparsity, self.rho_hat
        term = (self.beta / self.n) * (-rho / rho_hat + (1.0 - rho) / (1.0 - rho_hat))
        dA += term.astype(dA.dtype, copy=False)  # broadcast over the N rows
        return dA

    def __repr__(self):
        return f"KLSparsity(sparsity={self.sparsity}, beta={self.beta})"
