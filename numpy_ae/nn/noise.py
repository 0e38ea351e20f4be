r"""Noise layers, active in training and the identity at inference: dropout and the corruptions of a
denoising autoencoder.

Each draws its noise from its own ``numpy.random.Generator``, spawned from the
model's at initialisation, so a seeded model draws the same noise every run.
``freeze_noise()`` keeps the noise of the next training pass for all later
passes (same shape), so a gradient check sees one fixed function;
``freeze_noise(False)`` draws fresh noise again (:class:`NoiseLayer`, the base of them all).
"""
from __future__ import annotations

import numpy as np

from .layer import Layer

__all__ = ['NoiseLayer', 'Dropout', 'Corruption', 'GaussianNoise', 'MaskingNoise', 'SaltAndPepperNoise',
           'make_corruption']


def _check_probability(value, what, meaning=""):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{what} must be a number in [0, 1){meaning}; got {value!r}")
    return float(value)


class NoiseLayer(Layer):
    """Base of the layers that draw noise in a training pass: the Generator, and the noise freezing.

    A subclass's ``_sample(shape)`` returns its noise for an input of ``shape``
    as a tuple of arrays (the first of that shape); :meth:`draw_noise` hands it
    out, fresh or frozen, and keeps it as ``self.noise`` for backward.
    """

    _abstract = True  # a base: its subclasses supply _sample/forward/backward (and the gradient checks)

    def __init__(self):
        self.rng = np.random.default_rng()
        self.frozen_noise = False
        self.noise = None

    def init_params(self, rng):
        self.rng = rng.spawn(1)[0]  # an independent stream: noise does not shift the initialisation

    def freeze_noise(self, frozen=True):
        self.frozen_noise = bool(frozen)
        self.noise = None

    def draw_noise(self, shape):
        """Noise for this pass: fresh, or the frozen draw when ``freeze_noise()`` was called."""
        if not (self.frozen_noise and self.noise is not None and self.noise[0].shape == shape):
            self.noise = self._sample(shape)
        return self.noise


class Dropout(NoiseLayer):
    r"""Inverted dropout (Srivastava et al., 2014; Keras' ``Dropout``): active in training, identity at inference.

    In a training pass each entry of ``X`` (any shape ``(N, ...)``) is kept with
    probability :math:`1 - r` and scaled by :math:`1/(1 - r)`, so its expected
    value is unchanged and inference needs no rescaling:

    .. math::
        Y = \frac{m \odot X}{1 - r}, \quad m_i \sim \mathrm{Bernoulli}(1 - r), \qquad
        \frac{\partial J}{\partial X} = \frac{m \odot \delta}{1 - r}.

    (Compare :class:`~numpy_ae.nn.noise.MaskingNoise`, the same mask without
    the rescaling, which corrupts the input of a denoising autoencoder.) The mask
    ``m`` is the layer's noise (:class:`NoiseLayer`). No parameters, no penalty.

    Parameters
    ----------
    rate : float in [0, 1)
        :math:`r`, the probability of dropping an entry (Keras' ``rate``; 0 makes
        the layer the identity).
    """

    def __init__(self, rate=0.5):
        super().__init__()
        self.rate = _check_probability(rate, "rate", " (the probability of dropping an entry)")

    def _sample(self, shape):
        return (self.rng.random(shape) >= self.rate,)

    def forward(self, X, training=True):
        self.active = training and self.rate > 0
        if not self.active:
            return X
        m, = self.draw_noise(X.shape)
        return X * m / (1.0 - self.rate)

    def backward(self, dY):
        if not self.active:
            return dY
        m, = self.noise
        return dY * m / (1.0 - self.rate)

    def __repr__(self):
        return f"Dropout({self.rate})"


class Corruption(NoiseLayer):
    r"""Base class of the noise layers of denoising autoencoders.

    In a training pass the input is corrupted with the layer's noise
    (:class:`NoiseLayer`); at inference (``training=False``) the layer is the
    identity. The model's loss compares the reconstruction with the CLEAN input,
    so the network learns to undo the noise.
    """

    _abstract = True  # a base: its subclasses supply _sample/_corrupt/_backward (and the gradient checks)

    def __init__(self, level):
        super().__init__()
        self.level = _check_probability(level, "corruption level")

    def forward(self, X, training=True):
        self.active = training and self.level > 0
        return self._corrupt(X, *self.draw_noise(X.shape)) if self.active else X

    def backward(self, dY):
        return self._backward(dY, *self.noise) if self.active else dY

    def __repr__(self):
        return f"{type(self).__name__}({self.level})"


class GaussianNoise(Corruption):
    r"""Additive Gaussian noise: :math:`\tilde x = x + \sigma \varepsilon`, :math:`\varepsilon \sim \mathcal N(0, I)`.

    ``level`` is the standard deviation :math:`\sigma`, in [0, 1) like every
    corruption level (inputs are pixels in [0, 1]). Backward: the identity
    (:math:`\partial \tilde x / \partial x = I`).
    """

    def _sample(self, shape):
        return (self.level * self.rng.standard_normal(shape),)

    def _corrupt(self, X, noise):
        return X + noise.astype(X.dtype, copy=False)

    def _backward(self, dY, noise):
        return dY


class MaskingNoise(Corruption):
    r"""Masking noise (deeplearning.net's "corruption level"): each input is set to 0 with probability ``level``.

    :math:`\tilde x = m \odot x`, :math:`m_i \sim \mathrm{Bernoulli}(1 - \text{level})`;
    backward :math:`\partial J/\partial x = m \odot \partial J/\partial \tilde x`.
    No rescaling by :math:`1/(1-\text{level})` (that would be dropout's convention).
    """

    def _sample(self, shape):
        return (self.rng.random(shape) >= self.level,)

    def _corrupt(self, X, keep):
        return X * keep

    def _backward(self, dY, keep):
        return dY * keep


class SaltAndPepperNoise(Corruption):
    r"""Salt-and-pepper noise: each input is replaced with probability ``level`` by 0 or 1 (equally likely).

    Backward: the gradient flows only through the inputs left untouched.
    """

    def _sample(self, shape):
        hit = self.rng.random(shape) < self.level
        salt = self.rng.random(shape) < 0.5
        return hit, salt

    def _corrupt(self, X, hit, salt):
        return np.where(hit, salt.astype(X.dtype), X)

    def _backward(self, dY, hit, salt):
        return dY * ~hit


CORRUPTIONS = {"gaussian": GaussianNoise, "masking": MaskingNoise, "salt-pepper": SaltAndPepperNoise}


def make_corruption(kind, level):
    """A corruption layer from its name: ``"gaussian"`` (level = std), ``"masking"``, ``"salt-pepper"``."""
    try:
        cls = CORRUPTIONS[kind]
    except (KeyError, TypeError):
        raise ValueError(f"corruption must be one of {sorted(CORRUPTIONS)}; got {kind!r}") from None
    return cls(level)
