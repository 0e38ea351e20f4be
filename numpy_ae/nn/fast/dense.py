r"""Fast twins of :mod:`numpy_ae.nn.dense`: products written into reused buffers, the bias
gradient as one GEMV, and no input gradient for a first layer whose input is data."""
from __future__ import annotations

import numpy as np

from .. import dense
from .workspace import buffer, row_sum

__all__ = ["Dense", "TiedDense"]


class Dense(dense.Dense):
    """:class:`numpy_ae.nn.Dense`, fast. The model sets ``input_grad = False`` on the first layer with
    parameters when nobody reads :math:`\\partial J/\\partial X`, and backward then skips that product."""

    input_grad = True

    def forward(self, X, training=True):
        self.X = X
        Z = np.matmul(X, self.W, out=buffer(self, "Z", (X.shape[0], self.n_out), X.dtype))
        Z += self.b
        return Z

    def backward(self, dZ):
        self.dW += self.X.T @ dZ
        self.db += row_sum(self, dZ)
        if not self.input_grad:
            return None
        return np.matmul(dZ, self.W.T, out=buffer(self, "dX", self.X.shape, dZ.dtype))


class TiedDense(dense.TiedDense):
    """:class:`numpy_ae.nn.TiedDense`, fast."""

    def forward(self, X, training=True):
        self.X = X
        Z = np.matmul(X, self.source.W.T, out=buffer(self, "Z", (X.shape[0], self.source.n_in), X.dtype))
        Z += self.b
        return Z

    def backward(self, dZ):
        self.source.dW += dZ.T @ self.X
        self.db += row_sum(self, dZ)
        return np.matmul(dZ, self.source.W, out=buffer(self, "dX", self.X.shape, dZ.dtype))
