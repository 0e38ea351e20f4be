r"""Fast twin of :mod:`numpy_ae.nn.reparameterize`: :math:`\sigma`, :math:`z` and the input gradient
written into reused buffers (the two halves of ``dX`` filled in place, no ``hstack``)."""
from __future__ import annotations

import numpy as np

from .. import reparameterize
from ..reparameterize import gaussian_kl
from .reductions import accurate_sum
from .workspace import buffer

__all__ = ["Reparameterize"]


class Reparameterize(reparameterize.Reparameterize):
    """:class:`numpy_ae.nn.Reparameterize`, fast."""

    def forward(self, X, training=True):
        mu, scale = self.split(X)
        if not training:
            return np.array(mu)
        N, K = mu.shape
        eps = self._draw((N, K), X.dtype)
        if self.parameterization == "log_var":
            sigma = np.multiply(scale, 0.5, out=buffer(self, "sigma", (N, K), X.dtype))
            np.exp(sigma, out=sigma)
        else:
            sigma = scale
        z = np.multiply(sigma, eps, out=buffer(self, "z", (N, K), X.dtype))
        z += mu
        self.mu, self.scale, self.sigma, self.eps, self.n = mu, scale, sigma, eps, N
        _, log_var = self.sigma_and_log_var(scale)
        self.mean_kl = accurate_sum(gaussian_kl(mu, log_var)) / N
        self.penalty = self.penalty_of(self.mean_kl)
        return z

    def backward(self, dz):
        N, K = dz.shape
        dX = buffer(self, "dX", (N, 2 * K), dz.dtype)
        dmu, dscale = dX[:, :K], dX[:, K:]
        kl_weight = self.beta if self.capacity is None else self.gamma * float(np.sign(self.mean_kl - self.capacity))
        c = kl_weight / self.n  # d penalty / d KL_nk
        np.multiply(dz, self.eps, out=dscale)
        if self.parameterization == "log_var":
            dscale *= self.sigma
            dscale *= 0.5
        np.multiply(self.mu, c, out=dmu)
        dmu += dz
        if c:
            s = np.asarray(self.scale, dtype=np.float64)
            if self.parameterization == "log_var":
                dkl = 0.5 * np.expm1(s)
            else:
                dkl = s - s / (self._floor(self.scale.dtype) + np.square(s))
            dscale += (c * dkl).astype(dz.dtype, copy=False)
        return dX
