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

__all__ = ["KLSparsity", "kl_divergence_bernoulli", "Corruption", "GaussianNoise", "MaskingNoise",
           "SaltAndPepperNoise", "make_corruption"]


def kl_divergence_bernoulli(rho, rho_hat):
    r""":math:`\mathrm{KL}(\rho \,\|\, \hat\rho_j) = \rho \log\frac{\rho}{\hat\rho_j}
    + (1-\rho)\log\frac{1-\rho}{1-\hat\rho_j}`, element-wise over ``rho_hat``, in float64.

    Always computed in float64, whatever the dtype of ``rho_hat`` (``H`` values:
    free). Near its minimum the two terms are each of order
    :math:`\hat\rho_j - \rho` and cancel to :math:`(\hat\rho_j-\rho)^2 / (2\rho(1-\rho))`;
    in float32 each log is off by up to 6e-8 (the ratio
    :math:`(1-\rho)/(1-\hat\rho_j)` rounded next to 1), so
    :math:`\beta \sum_j \mathrm{KL}` of 25 units was off by 2e-6 (even negative),
    more than the decrease a late L-BFGS iteration needs: float32 sparse
    autoencoders stopped after 24 of 400 iterations on that noise.
    """
    rho_hat = np.asarray(rho_hat, dtype=np.float64)
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

    Guard. A unit whose :math:`\hat\rho_j` reaches exactly 0 or 1 (saturated
    sigmoid, dead ReLU) would give ``inf``/``NaN``. Outside
    :math:`[\epsilon, 1-\epsilon]` (:math:`\epsilon` the machine epsilon of the
    dtype) the KL term is continued by its tangent line at the guard point
    :math:`c = \mathrm{clip}(\hat\rho_j, \epsilon, 1-\epsilon)`:

    .. math:: \widetilde{\mathrm{KL}}(\hat\rho_j) = \mathrm{KL}(\rho\,\|\,c)
              + \mathrm{KL}'(c)\,(\hat\rho_j - c), \qquad
              \mathrm{KL}'(c) = -\frac{\rho}{c} + \frac{1-\rho}{1-c},

    which is the exact KL inside the interval (there :math:`c = \hat\rho_j`).
    The penalty is this :math:`\widetilde{\mathrm{KL}}` and the backward pass
    uses its exact derivative :math:`\mathrm{KL}'(c)`, so objective and gradient
    agree everywhere (a plain clip would make the penalty flat where it
    clips while its gradient is not). At :math:`\hat\rho_j = 0` or 1 both are
    finite (:math:`\mathrm{KL}'(\epsilon) \approx -\rho/\epsilon`, about
    :math:`-4.5\cdot 10^{15}\rho` in float64), never NaN, and the gradient
    pushes the unit back towards :math:`\rho`. The tangent is C^1 at the guard
    point, so a gradient check must keep :math:`\hat\rho_j` either inside
    :math:`[\epsilon, 1-\epsilon]` or outside it by more than the step.

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
            self.rho_hat = rho_hat
            self.guard = np.clip(rho_hat, eps, 1.0 - eps)  # c: the point where KL and its slope are taken
            self.n = A.shape[0]
            kl = kl_divergence_bernoulli(self.sparsity, self.guard)
            kl += self._slope(self.guard) * (rho_hat - self.guard)  # 0 inside [eps, 1 - eps]
            self.penalty = self.beta * float(kl.sum())
        return A

    def _slope(self, c):
        r""":math:`\mathrm{KL}'(c) = -\rho/c + (1-\rho)/(1-c)`, for ``c`` in :math:`[\epsilon, 1-\epsilon]`."""
        rho = self.sparsity
        return -rho / c + (1.0 - rho) / (1.0 - c)

    def backward(self, dA):
        term = (self.beta / self.n) * self._slope(self.guard)  # the derivative of the guarded penalty
        dA += term.astype(dA.dtype, copy=False)  # broadcast over the N rows
        return dA

    def __repr__(self):
        return f"KLSparsity(sparsity={self.sparsity}, beta={self.beta})"


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
