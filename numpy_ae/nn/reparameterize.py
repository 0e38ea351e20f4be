r"""The VAE's reparameterisation as a layer, and the Gaussian KL term it adds to the objective.
"""
from __future__ import annotations
import numpy as np
from .._validation import check_non_negative, check_positive_int
from .fast.reductions import accurate_sum
from .layer import Layer, scratch

__all__ = ['gaussian_kl', 'gaussian_kl_grad', 'Reparameterize', 'PARAMETERIZATIONS']



PARAMETERIZATIONS = ("log_var", "sigma")


def gaussian_kl(mu, log_var):
    r""":math:`\mathrm{KL}(\mathcal N(\mu, \operatorname{diag} e^{\gamma})\,\|\,\mathcal N(0, I))` per example, in nats.

    .. math::
        \mathrm{KL}_n = \frac12\sum_{k=1}^{K}\bigl(e^{\gamma_{nk}} + \mu_{nk}^2 - 1 - \gamma_{nk}\bigr),
        \qquad \gamma = \log\sigma^2

    (Kingma & Welling, appendix B; Hands-On ML's latent loss with
    :math:`\gamma = \log\sigma^2`, :math:`\sigma = e^{\gamma/2}`). ``expm1`` keeps
    :math:`e^{\gamma} - 1 - \gamma` accurate near its minimum :math:`\gamma = 0`.

    Parameters
    ----------
    mu, log_var : arrays of shape (N, K)

    Returns
    -------
    ndarray of shape (N,), float64: summed over the K latent units.
    """
    mu = np.asarray(mu, dtype=np.float64)
    log_var = np.asarray(log_var, dtype=np.float64)
    if mu.shape != log_var.shape or mu.ndim != 2:
        raise ValueError(f"mu and log_var must be 2-D arrays of one shape (N, K); got {mu.shape} and {log_var.shape}")
    return 0.5 * (np.expm1(log_var) - log_var + np.square(mu)).sum(axis=1)


def gaussian_kl_grad(mu, log_var):
    r"""Gradient of :math:`\sum_n \mathrm{KL}_n` (see :func:`gaussian_kl`): ``(dmu, dlog_var)``, each (N, K).

    .. math:: \frac{\partial \mathrm{KL}_n}{\partial \mu_{nk}} = \mu_{nk}, \qquad
              \frac{\partial \mathrm{KL}_n}{\partial \gamma_{nk}} = \tfrac12\bigl(e^{\gamma_{nk}} - 1\bigr).
    """
    mu = np.asarray(mu, dtype=np.float64)
    log_var = np.asarray(log_var, dtype=np.float64)
    return mu.copy(), 0.5 * np.expm1(log_var)


class Reparameterize(Layer):
    r"""The reparameterisation trick as a layer, with the KL term as its penalty.

    Forward, in training: the input ``X`` of shape ``(N, 2K)`` holds the
    encoder's :math:`\mu` in ``X[:, :K]`` and the scale in ``X[:, K:]``
    (``log_var`` :math:`= \log\sigma^2`, or ``sigma`` itself). It draws
    :math:`\varepsilon \sim \mathcal N(0, I)` of shape ``(N, K)`` from the
    layer's own Generator and returns

    .. math:: z = \mu + \sigma \odot \varepsilon \quad (N, K),

    recording ``penalty`` :math:`= \beta \cdot \frac1N \sum_n \sum_k \mathrm{KL}_{nk}`
    (accumulated in float64). At inference (``training=False``) it returns
    :math:`\mu`, the code: ``transform`` of a VAE is deterministic.

    Backward, for :math:`\delta = \partial J/\partial z` of shape ``(N, K)``,
    written out by hand (both terms: the sampling path and the KL penalty):

    .. math::
        \frac{\partial J}{\partial \mu} = \delta + \frac{\beta}{N}\mu, \qquad
        \frac{\partial J}{\partial \sigma} = \delta\odot\varepsilon + \frac{\beta}{N}\frac{\partial\mathrm{KL}}{\partial\sigma},

    and for the scale actually output:

    * ``log_var`` :math:`\gamma` (:math:`\sigma = e^{\gamma/2}`, :math:`d\sigma/d\gamma = \sigma/2`):
      :math:`\partial J/\partial\gamma = \tfrac12\,\delta\odot\varepsilon\odot\sigma + \frac{\beta}{2N}(e^{\gamma} - 1)`;
    * ``sigma`` :math:`s`: :math:`\partial J/\partial s = \delta\odot\varepsilon + \frac{\beta}{N}\bigl(s - \frac{s}{\tau + s^2}\bigr)`.

    Guard for ``sigma``. The exact KL has :math:`-\log s^2 \to \infty` at
    :math:`s = 0`. Hands-On ML writes :math:`\log(\epsilon + s^2)` with
    :math:`\epsilon = 10^{-10}`, which biases every unit's KL by
    :math:`\tfrac12\epsilon/s^2` (5e-11 at :math:`s = 1`). Here
    :math:`\tau` is the smallest normal number of the model's dtype
    (2.2e-308 in float64, 1.2e-38 in float32): :math:`\tau + s^2 = s^2` exactly
    in float64 arithmetic whenever :math:`s^2 > 2^{53}\tau` (:math:`|s| > 10^{-146}`
    for float64), so the ``sigma`` and ``log_var`` forms give the same
    objective at equivalent parameters to rounding, while at :math:`s = 0` the
    KL is finite (:math:`\tfrac12(\mu^2 - 1 - \log\tau)`, :math:`\log\tau = -708.4`)
    and so is its gradient (at most :math:`1/(2\sqrt\tau)`: 3.4e153 in float64,
    4.6e18 in float32). The objective IS :math:`\tfrac12(s^2+\mu^2-1-\log(\tau+s^2))`
    and the backward pass uses its exact derivative, so they agree everywhere.
    Its pull is towards larger :math:`|s|` (:math:`\partial\mathrm{KL}/\partial s \approx -1/s`).

    Randomness. :math:`\varepsilon` comes from a Generator spawned from the
    model's in :meth:`init_params` (an independent stream, as the corruption
    layers have). ``freeze_noise()`` keeps the draw of the next training pass
    for all later passes of the same shape, so a gradient check sees one
    function; ``freeze_noise(False)`` draws afresh again.

    Capacity objective (Burgess et al., 2018). With ``capacity`` :math:`C` set
    (not None), the penalty is :math:`\gamma\,\lvert\overline{\mathrm{KL}} - C\rvert`
    instead, :math:`\overline{\mathrm{KL}} = \frac1N\sum_{n,k}\mathrm{KL}_{nk}`, and ``beta`` is
    not used: the backward pass is the same with :math:`\beta` replaced by
    :math:`\gamma\,\operatorname{sign}(\overline{\mathrm{KL}} - C)` (0 exactly at
    :math:`\overline{\mathrm{KL}} = C`, a subgradient). Whoever trains the layer
    raises ``capacity`` during training (see :class:`VariationalAutoencoder`).

    Parameters
    ----------
    n_latent : int
        K.
    parameterization : {"log_var", "sigma"}
    beta : float >= 0
        Weight of the KL term (1: the ELBO).
    capacity : None or float >= 0
        C in nats, for the capacity objective; None: the beta-weighted KL.
    gamma : float >= 0
        :math:`\gamma` of the capacity objective (Burgess et al.: 1000).
    """

    def __init__(self, n_latent, parameterization="log_var", beta=1.0, capacity=None, gamma=1000.0):
        self.n_latent = check_positive_int(n_latent, "n_latent")
        self.parameterization = _check_parameterization(parameterization)
        self.beta = check_non_negative(beta, "beta")
        self.capacity = None if capacity is None else check_non_negative(capacity, "capacity")
        self.gamma = check_non_negative(gamma, "gamma")
        self.rng = np.random.default_rng()
        self.frozen_noise = False
        self._eps = None

    def init_params(self, rng):
        self.rng = rng.spawn(1)[0]  # an independent stream: the noise does not shift the initialisation

    def freeze_noise(self, frozen=True):
        self.frozen_noise = bool(frozen)
        self._eps = None

    # ------------------------------------------------------------ the maths
    def split(self, X):
        """``(mu, scale)``, views of ``X (N, 2K)``: its first and last K columns."""
        K = self.n_latent
        if X.ndim != 2 or X.shape[1] != 2 * K:
            raise ValueError(f"Reparameterize({K}) takes (N, {2 * K}) inputs (mu, then the scale); got {X.shape}")
        return X[:, :K], X[:, K:]

    @staticmethod
    def _floor(dtype):
        """tau: the smallest normal number of ``dtype`` (float64 for anything else)."""
        dtype = np.dtype(dtype)
        return float(np.finfo(dtype if dtype in (np.float32, np.float64) else np.float64).tiny)

    def sigma_and_log_var(self, scale):
        r"""``(sigma, log_var)`` in float64 from the scale the encoder output (log_var, or sigma with
        :math:`\log\sigma^2 := \log(\tau + \sigma^2)`)."""
        tau = self._floor(scale.dtype)
        scale = np.asarray(scale, dtype=np.float64)
        if self.parameterization == "log_var":
            return np.exp(0.5 * scale), scale
        return scale, np.log(tau + np.square(scale))

    def kl_elements(self, mu, scale):
        r"""The KL of each example and latent unit, ``(N, K)`` in float64 (sum over axis 1: :func:`gaussian_kl`)."""
        mu = np.asarray(mu, dtype=np.float64)
        if self.parameterization == "log_var":
            lv = np.asarray(scale, dtype=np.float64)
            return 0.5 * (np.expm1(lv) - lv + np.square(mu))
        tau = self._floor(scale.dtype)
        s2 = np.square(np.asarray(scale, dtype=np.float64))
        return 0.5 * (s2 + np.square(mu) - 1.0 - np.log(tau + s2))

    def kl_scale_grad(self, scale):
        r""":math:`\partial \mathrm{KL}_{nk}/\partial\,\text{scale}_{nk}`, ``(N, K)`` in float64:
        :math:`\tfrac12(e^\gamma - 1)` for log_var, :math:`s - s/(\tau + s^2)` for sigma."""
        if self.parameterization == "log_var":
            return 0.5 * np.expm1(np.asarray(scale, dtype=np.float64))
        tau = self._floor(scale.dtype)
        s = np.asarray(scale, dtype=np.float64)
        return s - s / (tau + np.square(s))

    # ------------------------------------------------------- forward/backward
    def _draw(self, shape, dtype):
        """eps for this pass: fresh, or the frozen draw after ``freeze_noise()``. Drawn in float64, then cast."""
        if not (self.frozen_noise and self._eps is not None and self._eps.shape == shape):
            self._eps = self.rng.standard_normal(shape)
        return self._eps.astype(dtype, copy=False)

    def forward(self, X, training=True):
        mu, scale = self.split(X)
        if not training:
            return np.array(mu)  # the code: E[z | x], a fresh array
        N, K = mu.shape
        eps = self._draw((N, K), X.dtype)
        if self.parameterization == "log_var":
            sigma = np.multiply(scale, 0.5, out=scratch(self, "sigma", (N, K), X.dtype))
            np.exp(sigma, out=sigma)
        else:
            sigma = scale
        z = np.multiply(sigma, eps, out=scratch(self, "z", (N, K), X.dtype))
        z += mu
        self.mu, self.scale, self.sigma, self.eps, self.n = mu, scale, sigma, eps, N
        mean_kl = accurate_sum(self.kl_elements(mu, scale)) / N  # summed over units, averaged over examples
        if self.capacity is None:
            self.kl_weight = self.beta  # d penalty / d mean_kl
            self.penalty = self.beta * mean_kl if self.beta else 0.0
        else:
            self.kl_weight = self.gamma * float(np.sign(mean_kl - self.capacity))
            self.penalty = self.gamma * abs(mean_kl - self.capacity)
        return z

    def backward(self, dz):
        N, K = dz.shape
        dX = scratch(self, "dX", (N, 2 * K), dz.dtype)
        dmu, dscale = dX[:, :K], dX[:, K:]
        c = self.kl_weight / self.n  # beta / N, or gamma sign(KL - C) / N
        # sampling path: dJ/dsigma = dz * eps
        np.multiply(dz, self.eps, out=dscale)
        if self.parameterization == "log_var":
            dscale *= self.sigma  # dsigma/dgamma = sigma / 2
            dscale *= 0.5
        # mu: dJ/dmu = dz + (beta/N) mu
        np.multiply(self.mu, c, out=dmu)
        dmu += dz
        if c:
            dscale += (c * self.kl_scale_grad(self.scale)).astype(dz.dtype, copy=False)
        return dX

    def __repr__(self):
        extra = "" if self.capacity is None else f", capacity={self.capacity}, gamma={self.gamma}"
        return f"Reparameterize({self.n_latent}, parameterization={self.parameterization!r}, beta={self.beta}{extra})"


def _check_parameterization(parameterization):
    if not isinstance(parameterization, str) or parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"parameterization must be one of {list(PARAMETERIZATIONS)} (the scale the encoder "
                         f"outputs: log(sigma^2), or sigma itself); got {parameterization!r}")
    return parameterization
