r"""Fast twins of :mod:`numpy_ae.nn.losses`: the difference and the gradient written into reused buffers,
and every ``J`` accumulated in float64 whatever the dtype (:mod:`numpy_ae.nn.fast.reductions`)."""
from __future__ import annotations

import numpy as np

from .. import losses
from .activations import sigmoid_into
from .reductions import accurate_sum, accurate_sum_of_squares
from .workspace import buffer

__all__ = ["SquaredError", "MeanSquaredError", "BinaryCrossEntropy", "GaussianNLL", "SoftmaxCrossEntropy"]


def _difference(loss, Y, T):
    """``Y - T`` into ``loss``'s buffer, kept as ``loss.diff`` for backward."""
    loss.diff = np.subtract(Y, T, out=buffer(loss, "diff", Y.shape, Y.dtype))
    return loss.diff


def _scaled_difference(loss, scale):
    """``scale * loss.diff`` into a buffer of its own (``diff`` is left as it was: backward can be repeated)."""
    return np.multiply(loss.diff, scale, out=buffer(loss, "dY", loss.diff.shape, loss.diff.dtype))


class SquaredError(losses.SquaredError):
    """:class:`numpy_ae.nn.SquaredError`, fast."""

    def forward(self, Y, T):
        return 0.5 * accurate_sum_of_squares(_difference(self, Y, T)) / Y.shape[0]

    def backward(self):
        return _scaled_difference(self, 1.0 / self.diff.shape[0])


class MeanSquaredError(losses.MeanSquaredError):
    """:class:`numpy_ae.nn.MeanSquaredError`, fast."""

    def forward(self, Y, T):
        return accurate_sum_of_squares(_difference(self, Y, T)) / Y.size

    def backward(self):
        return _scaled_difference(self, 2.0 / self.diff.size)


class GaussianNLL(losses.GaussianNLL):
    """:class:`numpy_ae.nn.GaussianNLL`, fast."""

    def forward(self, Y, T):
        diff = _difference(self, Y, T)
        return 0.5 / self.variance * accurate_sum_of_squares(diff) / Y.shape[0] + self.constant(Y)

    def backward(self):
        return _scaled_difference(self, 1.0 / (self.variance * self.diff.shape[0]))


class BinaryCrossEntropy(losses.BinaryCrossEntropy):
    """:class:`numpy_ae.nn.BinaryCrossEntropy`, fast: the per-element loss computed in place in one buffer,
    the gradient from the fast sigmoid."""

    def forward(self, Z, T):
        self.Z, self.T = Z, T
        ell = np.abs(Z, out=buffer(self, "ell", Z.shape, Z.dtype))
        np.negative(ell, out=ell)
        np.exp(ell, out=ell)
        np.log1p(ell, out=ell)
        ell += np.maximum(Z, 0.0, out=buffer(self, "tmp", Z.shape, Z.dtype))
        ell -= np.multiply(T, Z, out=buffer(self, "tmp", Z.shape, Z.dtype))
        return accurate_sum(ell) / Z.shape[0]

    def backward(self):
        dZ = sigmoid_into(self.Z, buffer(self, "dZ", self.Z.shape, self.Z.dtype))
        dZ -= self.T
        dZ *= 1.0 / dZ.shape[0]
        return dZ


class SoftmaxCrossEntropy(losses.SoftmaxCrossEntropy):
    """:class:`numpy_ae.nn.SoftmaxCrossEntropy`, fast: labels used as indices (no one-hot matrix), the
    probabilities and the gradient in reused buffers."""

    def forward(self, Z, T):
        N, K = Z.shape
        T = self._check_targets(T, N, K)
        Zs = np.subtract(Z, Z.max(axis=1, keepdims=True), out=buffer(self, "Zs", Z.shape, Z.dtype))
        E = np.exp(Zs, out=buffer(self, "P", Z.shape, Z.dtype))
        s = E.sum(axis=1, keepdims=True)
        E /= s
        self.P, self.T = E, T
        if T.ndim == 1:                              # J = mean_n [log s_n - (z_{n,y_n} - m_n)]
            return float(np.log(s).sum() - Zs[np.arange(N), T].sum()) / N
        Zs -= np.log(s)                              # log softmax(Z)
        Zs *= T
        return -float(np.sum(Zs)) / N

    def backward(self):
        P, T = self.P, self.T
        dZ = buffer(self, "dZ", P.shape, P.dtype)
        if T.ndim == 1:
            np.copyto(dZ, P)
            dZ[np.arange(dZ.shape[0]), T] -= 1.0
        else:
            np.multiply(P, T.sum(axis=1, keepdims=True), out=dZ)
            dZ -= T
        dZ *= 1.0 / dZ.shape[0]
        return dZ
