r"""The VAE's reparameterisation as a layer, and the Gaussian KL term it adds to the objective.

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
4.6e18 in float32). The objective IS :func:`gaussian_kl` at :math:`\gamma = \log(\tau+s^2)`,
:math:`\tfrac12(\tau+s^2+\mu^2-1-\log(\tau+s^2))`, and the backward pass uses its exact derivative
:math:`s - s/(\tau+s^2)`, so they agree everywhere.
Its pull is towards larger :math:`|s|` (:math:`\partial\mathrm{KL}/\partial s \approx -1/s`).

Randomness. :math:`\varepsilon` comes from a Generator spawned from the
model's in :meth:`Reparameterize.init_params` (an independent stream, as the corruption
layers have). ``freeze_noise()`` keeps the draw of the next training pass
for all later passes of the same shape, so a gradient check sees one
function; ``freeze_noise(False)`` draws afresh again.

Capacity objective (Burgess et al., 2018). In :class:`Reparameterize`, with ``capacity`` :math:`C` set
(not None), the penalty is :math:`\gamma_C\,\lvert\overline{\mathrm{KL}} - C\rvert`
instead, :math:`\overline{\mathrm{KL}} = \frac1N\sum_{n,k}\mathrm{KL}_{nk}`, and ``beta`` is
not used: the backward pass is the same with :math:`\beta` replaced by
:math:`\gamma_C\,\operatorname{sign}(\overline{\mathrm{KL}} - C)` (0 exactly at
:math:`\overline{\mathrm{KL}} = C`, a subgradient). Whoever trains the layer
raises ``capacity`` during training (see :class:`VariationalAutoencoder`).
"""
from __future__ import annotations
import numpy as np
from .._validation import check_non_negative, check_positive_int
from .layer import Layer

__all__ = ['gaussian_kl', 'gaussian_kl_grad', 'Reparameterize', 'PARAMETERIZATIONS']


PARAMETERIZATIONS = ("log_var", "sigma")


def gaussian_kl(mu, log_var, per_unit=False):
    r""":math:`\mathrm{KL}(\mathcal N(\mu, \operatorname{diag}\sigma^2)\,\|\,\mathcal N(0, I))` per example, in nats.

    Kingma & Welling (appendix B), with :math:`\gamma = \log\sigma^2`:

    .. math::
        \mathrm{KL}_n = -\frac12\sum_{k=1}^{K}\bigl(1 + \gamma_{nk} - \mu_{nk}^2 - e^{\gamma_{nk}}\bigr)

    (Hands-On ML's latent loss). :math:`1 - e^{\gamma}` is taken as ``-expm1``, accurate near
    the minimum :math:`\gamma = 0`.

    Parameters
    ----------
    mu, log_var : arrays of shape (N, K)
    per_unit : bool
        Return the terms of the sum, one per example and latent unit, instead.

    Returns
    -------
    ndarray of shape (N,), float64: summed over the K latent units (``(N, K)`` with ``per_unit``).
    """
    mu = np.asarray(mu, dtype=np.float64)
    log_var = np.asarray(log_var, dtype=np.float64)
    if mu.shape != log_var.shape or mu.ndim != 2:
        raise ValueError(f"mu and log_var must be 2-D arrays of one shape (N, K); got {mu.shape} and {log_var.shape}")
    kl = -0.5 * (log_var - np.square(mu) - np.expm1(log_var))
    return kl if per_unit else kl.sum(axis=1)


def gaussian_kl_grad(mu, log_var):
    r"""Gradient of :math:`\sum_n \mathrm{KL}_n` (see :func:`gaussian_kl`): ``(dmu, dlog_var)``, each (N, K).

    .. math:: \frac{\partial \mathrm{KL}_n}{\partial \mu_{nk}} = \mu_{nk}, \qquad
              \frac{\partial \mathrm{KL}_n}{\partial \gamma_{nk}} = \tfrac12\bigl(e^{\gamma_{nk}} - 1\bigr).
    """
    mu = np.asarray(mu, dtype=np.float64)
    log_var = np.asarray(log_var, dtype=np.float64)
    return mu.copy(), 0.5 * np.expm1(log_var)


class Reparameterize(Layer):
    r"""The reparameterisation trick (Kingma & Welling, 2014) as a layer, with the KL term as its penalty.

    The input ``X (N, 2K)`` holds the encoder's :math:`\mu` in ``X[:, :K]`` and its scale in
    ``X[:, K:]``: :math:`\gamma = \log\sigma^2` (``"log_var"``) or :math:`s = \sigma` (``"sigma"``).
    Forward, in training, with :math:`\varepsilon \sim \mathcal N(0, I)` of shape ``(N, K)``:

    .. math::
        z = \mu + e^{\gamma/2} \odot \varepsilon \ \ (\text{or } \mu + s\odot\varepsilon), \qquad
        \text{penalty} = \frac{\beta}{N}\sum_n \mathrm{KL}_n, \quad
        \mathrm{KL}_n = -\frac12\sum_k \bigl(1 + \gamma_{nk} - \mu_{nk}^2 - e^{\gamma_{nk}}\bigr)

    (:func:`gaussian_kl`; for ``"sigma"``, :math:`\gamma := \log(\tau + s^2)`, see the module
    docstring). At inference (``training=False``) it returns :math:`\mu`, the code.

    Backward, for :math:`\delta = \partial J/\partial z`, the sampling path plus the penalty's gradient:

    .. math::
        \frac{\partial J}{\partial \mu} = \delta + \frac{\beta}{N}\mu, \qquad
        \frac{\partial J}{\partial \gamma} = \delta\odot\varepsilon\odot\frac{\sigma}{2}
            + \frac{\beta}{N}\,\frac{e^{\gamma} - 1}{2}, \qquad
        \frac{\partial J}{\partial s} = \delta\odot\varepsilon + \frac{\beta}{N}\Bigl(s - \frac{s}{\tau + s^2}\Bigr).

    With ``capacity`` :math:`C` (Burgess et al., 2018) the penalty is
    :math:`\gamma_C\,\lvert\overline{\mathrm{KL}} - C\rvert` and :math:`\beta` above becomes
    :math:`\gamma_C \operatorname{sign}(\overline{\mathrm{KL}} - C)`. ``freeze_noise()`` keeps one draw of
    :math:`\varepsilon` (for a gradient check); the noise comes from a Generator spawned in :meth:`init_params`.

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
        :math:`\gamma_C` of the capacity objective (Burgess et al.: 1000).
    """

    def __init__(self, n_latent, parameterization="log_var", beta=1.0, capacity=None, gamma=1000.0):
        self.n_latent = check_positive_int(n_latent, "n_latent")
        self.parameterization = check_parameterization(parameterization)
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

    def forward(self, X, training=True):
        mu, scale = self.split(X)
        if not training:
            return mu.copy()  # the code: E[z | x]
        self.mu, self.scale, self.n = mu, scale, mu.shape[0]
        self.eps = self._draw(mu.shape, X.dtype)  # eps ~ N(0, I), (N, K)
        if self.parameterization == "log_var":
            self.sigma = np.exp(scale / 2)
        else:
            self.sigma = scale
        z = mu + self.sigma * self.eps
        _, log_var = self.sigma_and_log_var(scale)  # float64; log(tau + sigma^2) for "sigma"
        self.mean_kl = float(np.sum(gaussian_kl(mu, log_var))) / self.n  # summed over units, mean over examples
        self.penalty = self.penalty_of(self.mean_kl)
        return z

    def penalty_of(self, mean_kl):
        r"""The KL term of the objective: :math:`\beta\,\overline{\mathrm{KL}}`, or
        :math:`\gamma\,|\overline{\mathrm{KL}} - C|` with a capacity :math:`C`."""
        if self.capacity is None:
            return self.beta * mean_kl if self.beta else 0.0
        return self.gamma * abs(mean_kl - self.capacity)

    def backward(self, dz):
        kl_weight = self.beta if self.capacity is None else self.gamma * float(np.sign(self.mean_kl - self.capacity))
        c = kl_weight / self.n  # d penalty / d KL_nk
        dsigma = dz * self.eps  # the sampling path: z = mu + sigma * eps
        if self.parameterization == "log_var":
            dscale = dsigma * self.sigma / 2  # dsigma/dlog_var = sigma / 2
            dkl = np.expm1(self.scale) / 2  # dKL/dlog_var = (exp(log_var) - 1) / 2
        else:
            dscale = dsigma
            s = self.scale
            dkl = s - s / (self._floor(s.dtype) + np.square(s))  # dKL/dsigma
        dmu = dz + c * self.mu  # dKL/dmu = mu
        return np.hstack([dmu, dscale + c * dkl])

    # ------------------------------------------------------------ helpers
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
        r"""The KL of each example and latent unit, ``(N, K)`` in float64: :func:`gaussian_kl` of ``mu`` and
        the log-variance the scale stands for."""
        return gaussian_kl(mu, self.sigma_and_log_var(scale)[1], per_unit=True)

    def _draw(self, shape, dtype):
        """eps for this pass: fresh, or the frozen draw after ``freeze_noise()``. Drawn in float64, then cast."""
        if not (self.frozen_noise and self._eps is not None and self._eps.shape == shape):
            self._eps = self.rng.standard_normal(shape)
        return self._eps.astype(dtype, copy=False)

    def __repr__(self):
        extra = "" if self.capacity is None else f", capacity={self.capacity}, gamma={self.gamma}"
        return f"Reparameterize({self.n_latent}, parameterization={self.parameterization!r}, beta={self.beta}{extra})"


def check_parameterization(parameterization):
    if not isinstance(parameterization, str) or parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"parameterization must be one of {list(PARAMETERIZATIONS)} (the scale the encoder "
                         f"outputs: log(sigma^2), or sigma itself); got {parameterization!r}")
    return parameterization
