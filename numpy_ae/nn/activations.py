r"""Element-wise activation layers, and the sigmoid function.

Each layer caches what its derivative needs in ``forward`` and multiplies the
incoming gradient by that derivative in ``backward``: for :math:`A = f(Z)`,

.. math:: \partial J/\partial Z = \partial J/\partial A \odot f'(Z).

Shapes: any; ``A`` has ``Z``'s shape.
"""
from __future__ import annotations

import numpy as np

from .layer import Layer

__all__ = ["Sigmoid", "Tanh", "ReLU", "ELU", "SELU", "Identity", "Softplus", "ACTIVATIONS", "make_activation",
           "default_init", "sigmoid"]


def sigmoid(Z):
    r""":math:`\sigma(z) = 1/(1+e^{-z})`.

    For :math:`z < -709` (float64), :math:`e^{-z}` overflows to ``inf`` and
    :math:`1/(1+\infty) = 0`, the right limit: that overflow is expected, so its
    warning is silenced.
    """
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-Z))


class Sigmoid(Layer):
    r""":math:`A = \sigma(Z)`; backward :math:`\partial J/\partial Z = \partial J/\partial A \odot A (1 - A)`."""

    rows_independent = True  # see numpy_ae.train.parallel

    def forward(self, Z, training=True):
        self.A = sigmoid(Z)
        return self.A

    def backward(self, dA):
        return dA * self.A * (1.0 - self.A)


class Tanh(Layer):
    r""":math:`A = \tanh(Z)`; backward :math:`\partial J/\partial Z = \partial J/\partial A \odot (1 - A^2)`."""

    rows_independent = True  # see numpy_ae.train.parallel

    def forward(self, Z, training=True):
        self.A = np.tanh(Z)
        return self.A

    def backward(self, dA):
        return dA * (1.0 - self.A ** 2)


class ReLU(Layer):
    r""":math:`A = \max(Z, 0)`; backward :math:`\partial J/\partial Z = \partial J/\partial A \odot [Z > 0]`."""

    rows_independent = True  # see numpy_ae.train.parallel

    def forward(self, Z, training=True):
        self.Z = Z
        return np.maximum(Z, 0.0)

    def backward(self, dA):
        return dA * (self.Z > 0)


class ELU(Layer):
    r"""Exponential linear unit (Clevert et al., 2016):

    .. math::
        A = s \begin{cases} z & z > 0 \\ \alpha (e^z - 1) & z \le 0 \end{cases}, \qquad
        \frac{\partial A}{\partial z} = s \begin{cases} 1 & z > 0 \\ \alpha e^z & z \le 0 \end{cases},

    with the scale :math:`s = 1` (:class:`SELU` sets :math:`s` and :math:`\alpha`).
    ``np.minimum(Z, 0)`` inside the exponential keeps the branch that is not used
    from overflowing for large positive ``z``.

    Parameters
    ----------
    alpha : float
        :math:`\alpha`, the value :math:`-A` approaches as :math:`z \to -\infty`.
    """

    rows_independent = True  # see numpy_ae.train.parallel

    scale = 1.0

    def __init__(self, alpha=1.0):
        self.alpha = float(alpha)

    def forward(self, Z, training=True):
        self.Z = Z
        return self.scale * np.where(Z > 0, Z, self.alpha * np.expm1(np.minimum(Z, 0.0)))

    def backward(self, dA):
        Z = self.Z
        return dA * self.scale * np.where(Z > 0, 1.0, self.alpha * np.exp(np.minimum(Z, 0.0)))

    def __repr__(self):
        return f"ELU(alpha={self.alpha})"


class SELU(ELU):
    r"""Scaled exponential linear unit (Klambauer et al., 2017), Hands-On ML's activation of choice:
    :class:`ELU` with the paper's constants :math:`s = \lambda \approx 1.0507` and
    :math:`\alpha \approx 1.6733` (those of Keras' ``"selu"``)."""

    scale = 1.0507009873554804934193349852946
    alpha = 1.6732632423543772848170429916717

    def __init__(self):
        pass

    def __repr__(self):
        return "SELU()"


class Identity(Layer):
    r""":math:`A = Z`: the linear units of a linear decoder or of the linear autoencoder."""

    rows_independent = True  # see numpy_ae.train.parallel

    def forward(self, Z, training=True):
        return Z

    def backward(self, dA):
        return dA


class Softplus(Layer):
    r""":math:`A = \log(1 + e^z)`, computed as ``logaddexp(0, z)`` (no overflow);
    backward :math:`\partial A/\partial z = \sigma(z)`."""

    rows_independent = True  # see numpy_ae.train.parallel

    def forward(self, Z, training=True):
        self.Z = Z
        return np.logaddexp(0.0, Z)

    def backward(self, dA):
        return dA * sigmoid(self.Z)


ACTIVATIONS = {
    "sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "elu": ELU, "selu": SELU,
    "identity": Identity, "linear": Identity, "softplus": Softplus,
}


def default_init(activation, init=None):
    """``init`` when given, else the usual pairing: He for ReLU/ELU, Glorot for everything else."""
    if init is not None:
        return init
    return "he" if ACTIVATIONS[activation] in (ReLU, ELU) else "glorot"


def make_activation(name):
    """Return a new activation layer from its name (``"sigmoid"``, ``"elu"``, ...)."""
    try:
        return ACTIVATIONS[name]()
    except (KeyError, TypeError):
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}; got {name!r}") from None
