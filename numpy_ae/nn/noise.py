r"""Noise layers, active in training and the identity at inference: dropout and the corruptions of a denoising autoencoder.
"""
from __future__ import annotations
import numpy as np
from .layer import Layer
from .layer import scratch

__all__ = ['Dropout', 'Corruption', 'GaussianNoise', 'MaskingNoise', 'SaltAndPepperNoise', 'make_corruption']




# --------------------------------------------------------------------------
# Dropout (time series, issue 11)
# --------------------------------------------------------------------------

class Dropout(Layer):
    r"""Inverted dropout (Srivastava et al., 2014; Keras' ``Dropout``): active in training, identity at inference.

    In a training pass each entry of ``X`` (any shape ``(N, ...)``) is kept with
    probability :math:`1 - r` and scaled by :math:`1/(1 - r)`, so its expected
    value is unchanged and inference needs no rescaling:

    .. math::
        Y = \frac{m \odot X}{1 - r}, \quad m_i \sim \mathrm{Bernoulli}(1 - r), \qquad
        \frac{\partial J}{\partial X} = \frac{m \odot \delta}{1 - r}.

    (Compare :class:`~numpy_ae.nn.noise.MaskingNoise`, the same mask without
    the rescaling, which corrupts the input of a denoising autoencoder.) The mask
    is drawn from the layer's own Generator, spawned from the model's at
    initialisation, so a seeded model drops the same units every run.
    ``freeze_noise()`` keeps the mask of the next training pass for all later
    passes (same shape), so a gradient check sees one fixed function;
    ``freeze_noise(False)`` draws fresh masks again. No parameters, no penalty.

    Parameters
    ----------
    rate : float in [0, 1)
        :math:`r`, the probability of dropping an entry (Keras' ``rate``; 0 makes
        the layer the identity).
    """

    def __init__(self, rate=0.5):
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)) or not 0.0 <= rate < 1.0:
            raise ValueError(f"rate must be a number in [0, 1) (the probability of dropping an entry); got {rate!r}")
        self.rate = float(rate)
        self.rng = np.random.default_rng()
        self.frozen_noise = False
        self._mask = None

    def init_params(self, rng):
        self.rng = rng.spawn(1)[0]  # an independent stream: masks do not shift the initialisation

    def freeze_noise(self, frozen=True):
        self.frozen_noise = bool(frozen)
        self._mask = None

    def forward(self, X, training=True):
        self.active = training and self.rate > 0
        if not self.active:
            return X
        if not (self.frozen_noise and self._mask is not None and self._mask.shape == X.shape):
            keep = self.rng.random(X.shape) >= self.rate
            self._mask = keep.astype(X.dtype) * (1.0 / (1.0 - self.rate))  # m / (1 - r), in X's dtype
        if self._mask.dtype != X.dtype:
            self._mask = self._mask.astype(X.dtype)
        Y = scratch(self, "Y", X.shape, X.dtype)
        return np.multiply(X, self._mask, out=Y)

    def backward(self, dY):
        if self.active:
            dY *= self._mask
        return dY

    def __repr__(self):
        return f"Dropout({self.rate})"




# --------------------------------------------------------------------------
# Corruption for denoising autoencoders: active in training, identity at inference.
# --------------------------------------------------------------------------

class Corruption(Layer):
    r"""Base class of the noise layers of denoising autoencoders.

    In a training pass the input is corrupted with noise drawn from the layer's
    own ``numpy.random.Generator`` (spawned from the model's at construction);
    at inference (``training=False``) the layer is the identity. The model's
    loss compares the reconstruction with the CLEAN input, so the network
    learns to undo the noise.

    ``freeze_noise()`` keeps the noise of the next training pass for all later
    passes (same shape), so a gradient check sees one fixed function;
    ``freeze_noise(False)`` draws fresh noise again.
    """

    _abstract = True  # a base: its subclasses supply _sample/_corrupt/backward (and the gradient checks)

    def __init__(self, level):
        self.level = self._check_level(level)
        self.rng = np.random.default_rng()
        self.frozen_noise = False
        self._noise = None

    @staticmethod
    def _check_level(level):
        if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not 0.0 <= level < 1.0:
            raise ValueError(f"corruption level must be a number in [0, 1); got {level!r}")
        return float(level)

    def init_params(self, rng):
        self.rng = rng.spawn(1)[0]  # an independent stream: noise does not shift the initialisation

    def freeze_noise(self, frozen=True):
        self.frozen_noise = bool(frozen)
        self._noise = None

    def _draw(self, shape):
        """Noise for this pass: fresh, or the frozen draw when ``freeze_noise()`` was called."""
        if self.frozen_noise and self._noise is not None and self._noise[0].shape == shape:
            return self._noise
        self._noise = self._sample(shape)
        return self._noise

    def forward(self, X, training=True):
        self.active = training and self.level > 0
        return self._corrupt(X, *self._draw(X.shape)) if self.active else X

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

    def backward(self, dY):
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

    def backward(self, dY):
        if self.active:
            dY *= self._noise[0]
        return dY


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

    def backward(self, dY):
        if self.active:
            dY *= ~self._noise[0]
        return dY


CORRUPTIONS = {"gaussian": GaussianNoise, "masking": MaskingNoise, "salt-pepper": SaltAndPepperNoise}


def make_corruption(kind, level):
    """A corruption layer from its name: ``"gaussian"`` (level = std), ``"masking"``, ``"salt-pepper"``."""
    try:
        cls = CORRUPTIONS[kind]
    except (KeyError, TypeError):
        raise ValueError(f"corruption must be one of {sorted(CORRUPTIONS)}; got {kind!r}") from None
    return cls(level)
