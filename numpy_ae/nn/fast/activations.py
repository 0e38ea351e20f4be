r"""Fast twins of :mod:`numpy_ae.nn.activations`: every result written into a reused buffer, the
float32 sigmoid as :math:`\tfrac12(1 + \tanh(z/2))`, and ELU/SELU without masks."""
from __future__ import annotations

import numpy as np

from .. import activations
from .workspace import buffer, buffer_like, writable

__all__ = ["Sigmoid", "Tanh", "ReLU", "ELU", "SELU", "sigmoid_into"]


def sigmoid_into(Z, out):
    r""":math:`\sigma(Z)` written into ``out`` (which may be ``Z``); returns ``out``.

    In float32, :math:`\tfrac12(1 + \tanh(z/2))` (NumPy's float32 ``tanh`` is
    vectorised); in float64, ``1/(1 + exp(-z))`` in place, its overflow for
    :math:`z < -709` giving the right 0 (see ``benchmarks/README.md``).
    """
    if Z.dtype == np.float32:
        np.multiply(Z, 0.5, out=out)
        np.tanh(out, out=out)
        out *= 0.5
        out += 0.5
        return out
    np.negative(Z, out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    return np.divide(1.0, out, out=out)


class Sigmoid(activations.Sigmoid):
    """:class:`numpy_ae.nn.Sigmoid`, fast."""

    def forward(self, Z, training=True):
        self.A = sigmoid_into(Z, buffer(self, "A", Z.shape, Z.dtype))
        return self.A

    def backward(self, dA):
        slope = np.subtract(1.0, self.A, out=buffer(self, "slope", dA.shape, dA.dtype))
        slope *= self.A
        return np.multiply(dA, slope, out=writable(self, dA))


class Tanh(activations.Tanh):
    """:class:`numpy_ae.nn.Tanh`, fast."""

    def forward(self, Z, training=True):
        self.A = np.tanh(Z, out=buffer(self, "A", Z.shape, Z.dtype))
        return self.A

    def backward(self, dA):
        slope = np.square(self.A, out=buffer(self, "slope", dA.shape, dA.dtype))
        np.subtract(1.0, slope, out=slope)
        return np.multiply(dA, slope, out=writable(self, dA))


class ReLU(activations.ReLU):
    """:class:`numpy_ae.nn.ReLU`, fast: the mask kept as booleans."""

    def forward(self, Z, training=True):
        # in Z's memory order (a channels-last image from a fast convolution stays so): one pass each
        self.mask = np.greater(Z, 0.0, out=buffer_like(self, "mask", Z, dtype=bool))
        return np.maximum(Z, 0.0, out=buffer_like(self, "A", Z))

    def backward(self, dA):
        return np.multiply(dA, self.mask, out=writable(self, dA))


class ELU(activations.ELU):
    r""":class:`numpy_ae.nn.ELU`, fast, without masks: forward
    :math:`A = s(\alpha\,\mathrm{expm1}(\min(z, 0)) + \max(z, 0))` (each branch is exactly 0 where the
    other applies); since :math:`A > 0` exactly where :math:`z > 0`, the slope is read off ``A``:
    :math:`\min(A, 0) + s\alpha` where :math:`A \le 0`, :math:`s` where :math:`A > 0`."""

    def forward(self, Z, training=True):
        A = np.minimum(Z, 0.0, out=buffer(self, "A", Z.shape, Z.dtype))
        np.expm1(A, out=A)
        if self.alpha != 1.0:
            A *= self.alpha
        A += np.maximum(Z, 0.0, out=buffer(self, "positive", Z.shape, Z.dtype))
        if self.scale != 1.0:
            A *= self.scale
        self.A = A
        return A

    def backward(self, dA):
        slope = np.minimum(self.A, 0.0, out=buffer(self, "slope", dA.shape, dA.dtype))
        slope += self.scale * self.alpha  # A + s alpha = s alpha e^z where z <= 0
        if self.scale * self.alpha != self.scale:
            np.copyto(slope, self.scale, where=self.A > 0)
        return np.multiply(dA, slope, out=writable(self, dA))


class SELU(activations.SELU):
    """:class:`numpy_ae.nn.SELU`, fast: the ELU twin's passes with SELU's constants."""

    forward = ELU.forward
    backward = ELU.backward
