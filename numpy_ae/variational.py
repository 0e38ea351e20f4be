r"""Variational autoencoders (Kingma & Welling, 2014; Hands-On ML's "Variational Autoencoders").

The model. An encoder maps :math:`x` to the parameters of a diagonal Gaussian
:math:`q(z \mid x) = \mathcal N(\mu(x), \operatorname{diag}\sigma^2(x))` over
``K`` latent units; a decoder maps :math:`z` to the parameters of
:math:`p(x \mid z)` (Bernoulli logits, or a Gaussian mean with a fixed
variance); the prior is :math:`p(z) = \mathcal N(0, I)`. Training minimises
the negative evidence lower bound (ELBO), with :math:`\beta` weighting the KL
term (:math:`\beta = 1`: the ELBO; :math:`\beta \ne 1`: Higgins et al.'s beta-VAE):

.. math::
    J = \frac{1}{N}\sum_{n=1}^{N}\Bigl[
        \underbrace{-\log p(x_n \mid z_n)}_{\text{summed over the } D \text{ pixels}}
        + \beta\,\underbrace{\mathrm{KL}\bigl(q(z \mid x_n)\,\|\,\mathcal N(0, I)\bigr)}_{\text{summed over the } K \text{ latent units}}
      \Bigr],
    \qquad z_n = \mu(x_n) + \sigma(x_n)\odot\varepsilon_n,\ \varepsilon_n \sim \mathcal N(0, I),

the reduction of DESIGN.md: summed over pixels and latent units, averaged
over examples, in nats, with ONE sample of :math:`\varepsilon` per example
(the reparameterisation trick: the noise is an input, so :math:`z` is a
differentiable function of :math:`\mu` and :math:`\sigma`).

Where each term lives. The reconstruction term is the model's loss
(:class:`~numpy_ae.losses.BinaryCrossEntropy` from logits for a Bernoulli
decoder, :class:`~numpy_ae.losses.GaussianNLL` for a Gaussian one); the KL
term is the ``penalty`` of the :class:`Reparameterize` layer, which also draws
:math:`\varepsilon` and routes the gradient of both terms to :math:`\mu` and
the scale. Nothing else in the library knows it is training a VAE.

The closed-form KL (Kingma & Welling, appendix B), per example and latent unit:

.. math::
    \mathrm{KL}\bigl(\mathcal N(\mu, \sigma^2)\,\|\,\mathcal N(0, 1)\bigr)
    = \tfrac12\bigl(\sigma^2 + \mu^2 - 1 - \log\sigma^2\bigr).

Two parameterisations of the scale, as in Hands-On ML:

``"log_var"`` (default)
    The encoder outputs :math:`\gamma = \log\sigma^2`; :math:`\sigma = e^{\gamma/2}`
    and the KL is :math:`\tfrac12(e^{\gamma} + \mu^2 - 1 - \gamma)`. Unconstrained,
    no log of 0 anywhere. (One widely read translation of Hands-On ML prints
    :math:`\sigma = \exp(2/\gamma)`: that is wrong, it is :math:`\exp(\gamma/2)`.)
``"sigma"``
    The encoder outputs :math:`\sigma` itself (Hands-On ML's first form,
    :math:`\tfrac12\sum(\sigma^2 + \mu^2 - 1 - \log(\epsilon + \sigma^2))`). A
    negative output is allowed: :math:`\mu + \sigma\varepsilon` has the same
    distribution as with :math:`|\sigma|`, and the KL depends on :math:`\sigma^2`.
    See :class:`Reparameterize` for the guard that keeps :math:`\sigma \to 0` finite.

beta-VAE and capacity. ``beta`` weights the KL term (Higgins et al., 2017);
Burgess et al.'s capacity objective (2018) replaces :math:`\beta\,\mathrm{KL}`
by :math:`\gamma\,\lvert\overline{\mathrm{KL}} - C\rvert` with :math:`C` raised during
training (``VariationalAutoencoder(capacity=...)``).

References: D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes"
(2014); Y. Burda, R. Grosse and R. Salakhutdinov, "Importance Weighted
Autoencoders" (2016), for :meth:`VariationalAutoencoder.importance_weighted_bound`
and the active-unit criterion; A. Géron, Hands-On Machine Learning, the
autoencoder chapter.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ._validation import check_array, check_float_dtype, check_non_negative, check_positive_int, check_random_state
from .autoencoders import Autoencoder, _set_params_from_locals
from .layers import Dense, JoinCondition, Layer, accurate_sum, default_init, make_activation, scratch
from .losses import BinaryCrossEntropy, GaussianNLL

__all__ = ["gaussian_kl", "gaussian_kl_grad", "Reparameterize", "VariationalAutoencoder", "ConditionalVAE", "ELBO",
           "PARAMETERIZATIONS", "LIKELIHOODS"]

PARAMETERIZATIONS = ("log_var", "sigma")
LIKELIHOODS = ("bernoulli", "gaussian")


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


ELBO = namedtuple("ELBO", ["recon", "kl", "neg_elbo"])
ELBO.__doc__ = r"""Per-example terms of the negative ELBO, each an ndarray (N,) in nats (float64):
``recon`` :math:`= -\log p(x \mid z)` summed over pixels, ``kl`` summed over latent units, ``neg_elbo = recon + kl``."""


class VariationalAutoencoder(Autoencoder):
    r"""A variational autoencoder with a diagonal Gaussian posterior, a N(0, I) prior and a Bernoulli or
    Gaussian decoder.

    Network for ``hidden_layer_sizes = (H1, H2)``, ``n_latent = K`` on ``D`` inputs::

        X (N, D) -> Dense(D, H1) -> act -> Dense(H1, H2) -> act -> Dense(H2, 2K) -> Reparameterize(K)  (encoder)
                 -> Dense(K, H2) -> act -> Dense(H2, H1) -> act -> Dense(H1, D)                         (decoder)

    The decoder's last layer outputs Bernoulli logits (``likelihood="bernoulli"``,
    the loss is :class:`~numpy_ae.losses.BinaryCrossEntropy` from logits, and the
    decoder mean is their sigmoid) or the Gaussian mean itself
    (``likelihood="gaussian"``, :class:`~numpy_ae.losses.GaussianNLL` with the
    fixed ``variance``). The training objective, in nats per example:

    .. math:: J = \frac1N\sum_n\bigl[-\log p(x_n\mid z_n) + \beta\,\mathrm{KL}(q(z\mid x_n)\,\|\,\mathcal N(0, I))\bigr]
              + \frac{\lambda}{2}\sum W^2

    (see :mod:`numpy_ae.variational`). ``Reparameterize`` is the LAST encoder
    layer, so :meth:`transform` (encoder layers at inference) returns
    :math:`\mu`. Defaults: Hands-On ML's network (500-500 ELU, 20 latent units),
    Adam with learning rate 1e-3 on minibatches of 128.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int
        Encoder widths, input side first; the decoder mirrors them.
    n_latent : int >= 1
        K, the number of latent units.
    activation : str
        Hidden activation (``"elu"``, ``"relu"``, ``"tanh"``, ``"sigmoid"``, ...).
    parameterization : {"log_var", "sigma"}
        What the encoder outputs for the scale (see :class:`Reparameterize`).
        With ``"sigma"`` the bias of those outputs starts at 1 (q starts at unit
        variance instead of near the :math:`\sigma = 0` pole of the KL).
    beta : float >= 0
        Weight of the KL term (beta-VAE); the ELBO that :meth:`elbo` reports
        always has beta = 1.
    capacity : None or float >= 0
        Burgess et al.'s capacity objective: the KL term becomes
        :math:`\gamma\,\lvert\overline{\mathrm{KL}} - C\rvert` (``beta`` unused), with
        :math:`C` raised linearly from ``capacity / capacity_epochs`` in the first
        epoch to ``capacity`` (nats) in epoch ``capacity_epochs``, then held:
        :math:`C_e = \text{capacity}\cdot\min(1, e/\text{capacity\_epochs})`, one value
        per epoch (recorded in ``capacity_schedule_``). None: the beta-VAE objective.
    capacity_gamma : float >= 0
        :math:`\gamma` (Burgess et al.: 1000).
    capacity_epochs : None or int >= 1
        Epochs over which C rises; None: all ``epochs``.
    likelihood : {"bernoulli", "gaussian"}
        The decoder's distribution. Bernoulli requires inputs in [0, 1].
    variance : float > 0
        The Gaussian decoder's fixed variance (unused for Bernoulli).
    weight_decay : float >= 0
        :math:`\frac{\lambda}{2}\sum W^2` on weights only.
    init : None or {"he", "glorot", "ufldl"}
        None: He for ReLU/ELU, Glorot otherwise.
    method : {"adam", "sgd"}
        Minibatch training only: the objective is stochastic (fresh
        :math:`\varepsilon` every evaluation), which L-BFGS's line search
        cannot work with.
    epochs, batch_size, learning_rate, momentum, nesterov, patience, verbose, warm_start, dtype, random_state :
        Training, as for every autoencoder (:mod:`numpy_ae.autoencoders`).
        The training history's ``val_loss`` (with ``validation_data``) is the
        reconstruction term at :math:`z = \mu` (what every model's ``evaluate``
        reports), not the ELBO: use :meth:`elbo` for that.
    """

    def __init__(self, hidden_layer_sizes=(500, 500), *, n_latent=20, activation="elu", parameterization="log_var",
                 beta=1.0, likelihood="bernoulli", variance=1.0, capacity=None, capacity_gamma=1000.0,
                 capacity_epochs=None, weight_decay=0.0, init=None, method="adam", epochs=10, batch_size=128, learning_rate=None, momentum=0.9, nesterov=False, patience=None,
                 verbose=0, warm_start=False, dtype="float64", random_state=None):
        _set_params_from_locals(self, locals())
        self._validate_params()

    # ------------------------------------------------------------- structure
    def _validate_params(self):
        from .stacked import _check_layer_sizes

        _check_layer_sizes(self.hidden_layer_sizes, example="(500, 500)")
        check_positive_int(self.n_latent, "n_latent")
        make_activation(self.activation)
        _check_parameterization(self.parameterization)
        check_non_negative(self.beta, "beta")
        if self.capacity is not None:
            check_non_negative(self.capacity, "capacity")
        check_non_negative(self.capacity_gamma, "capacity_gamma")
        if self.capacity_epochs is not None:
            check_positive_int(self.capacity_epochs, "capacity_epochs")
        if not isinstance(self.likelihood, str) or self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {list(LIKELIHOODS)} (the decoder's distribution "
                             f"p(x|z)); got {self.likelihood!r}")
        GaussianNLL(self.variance)  # variance must be a finite number > 0
        check_non_negative(self.weight_decay, "weight_decay")
        if self.init is not None:
            Dense(1, 1, init=self.init)
        if self.method not in ("adam", "sgd"):
            raise ValueError(f"method must be 'adam' or 'sgd' for a {type(self).__name__} (its objective draws "
                             f"fresh noise at every evaluation, which L-BFGS's line search cannot handle); "
                             f"got {self.method!r}")
        super()._validate_params()

    def _init_method(self):
        return default_init(self.activation, self.init)

    def _make_network(self, n_features):
        from .stacked import _check_layer_sizes

        sizes = [n_features] + _check_layer_sizes(self.hidden_layer_sizes)
        K, init = self.n_latent, self._init_method()
        encoder = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            encoder += [Dense(a, b, init=init), make_activation(self.activation)]
        encoder += [Dense(sizes[-1], 2 * K, init=init),
                    Reparameterize(K, self.parameterization, self.beta, capacity=self._capacity_at(1),
                                   gamma=self.capacity_gamma)]
        decoder, widths = [], [K] + sizes[:0:-1]  # K, H_last, ..., H1
        for a, b in zip(widths[:-1], widths[1:]):
            decoder += [Dense(a, b, init=init), make_activation(self.activation)]
        decoder.append(Dense(widths[-1], n_features, init=init))  # logits, or the Gaussian mean
        loss = BinaryCrossEntropy() if self.likelihood == "bernoulli" else GaussianNLL(self.variance)
        return encoder, decoder, loss

    def _capacity_at(self, epoch):
        """C for ``epoch`` (1-based) of a fit: linear up to ``capacity_epochs``, then ``capacity``; None when off."""
        if self.capacity is None:
            return None
        ramp = self.capacity_epochs or self.epochs
        return float(self.capacity) * min(1.0, epoch / ramp)

    def _train(self, net, X, T, validation_data=None, callback=None, side=None):
        """The shared loop; with the capacity objective, sets C before every epoch (after the previous one)."""
        if self.capacity is None:
            return super()._train(net, X, T, validation_data=validation_data, callback=callback, side=side)
        layer = self.reparameterize_
        layer.capacity = self._capacity_at(1)
        schedule = [layer.capacity]

        def raise_capacity(epoch, history):
            if callback is not None:
                callback(epoch, history)
            layer.capacity = self._capacity_at(epoch + 1)
            schedule.append(layer.capacity)

        super()._train(net, X, T, validation_data=validation_data, callback=raise_capacity, side=side)
        self.capacity_schedule_ = schedule[:len(self.history_["loss"])]  # C of each epoch run

    def _clear_fit_attributes(self):
        super()._clear_fit_attributes()
        self.__dict__.pop("capacity_schedule_", None)

    def initialize(self, n_features):
        super().initialize(n_features)
        if self.parameterization == "sigma":
            self._scale_layer().b[self.n_latent:] = 1.0  # sigma starts near 1, away from the KL's pole at 0
        return self

    def _needs_unit_inputs(self):
        return self.likelihood == "bernoulli"

    def _unit_inputs_hint(self):
        return ("A Bernoulli likelihood models each input as a probability of 1, so inputs must lie in [0, 1]. "
                "Rescale them (e.g. X / 255 for images) or use likelihood='gaussian'.")

    def _check_data(self, X):
        """``_check_X`` for scoring methods: the fitted width and, for a Bernoulli decoder, values in [0, 1]."""
        X = self._check_X(X)
        if self._needs_unit_inputs():
            check_array(X, "X", unit_interval=True, unit_interval_hint=self._unit_inputs_hint(), dtype=X.dtype)
        return X

    @property
    def reparameterize_(self):
        """The :class:`Reparameterize` layer (the last encoder layer)."""
        return self.encoder_layers[-1]

    def _scale_layer(self):
        return self.encoder_layers[-2]

    # ------------------------------------------------------------- inference
    def _posterior(self, X):
        r"""``(mu, sigma, log_var, scale)`` of :math:`q(z \mid x)` for checked ``X``, each (N, K): the first
        three in float64, ``scale`` the encoder's raw output (log_var or sigma) in the model's dtype."""
        H = X
        for layer in self.encoder_layers[:-1]:
            H = layer.forward(H, training=False)
        mu, scale = self.reparameterize_.split(H)
        sigma, log_var = self.reparameterize_.sigma_and_log_var(scale)
        return np.asarray(mu, dtype=np.float64), sigma, log_var, scale

    def _decode(self, Z):
        """The decoder's last output (logits, or the Gaussian mean) for codes ``Z (N, K)``, in the model's dtype."""
        Z = np.ascontiguousarray(Z, dtype=self._network().dtype)
        for layer in self.decoder_layers:
            Z = layer.forward(Z, training=False)
        return Z

    def _log_likelihood(self, out, X):
        r""":math:`\log p(x_n \mid z_n)` per example, ``(N,)`` float64, from the decoder output ``out (N, D)``."""
        out = np.asarray(out, dtype=np.float64)
        X = np.asarray(X, dtype=np.float64)
        if self.likelihood == "bernoulli":  # -[max(z,0) - x z + log(1 + e^-|z|)], as BinaryCrossEntropy
            return -(np.maximum(out, 0.0) - X * out + np.log1p(np.exp(-np.abs(out)))).sum(axis=1)
        v = float(self.variance)
        return -(0.5 / v * np.square(X - out).sum(axis=1) + 0.5 * X.shape[1] * np.log(2.0 * np.pi * v))

    def elbo(self, X, random_state=0):
        r"""The negative ELBO of each example and its two parts, with one sample of :math:`\varepsilon`.

        .. math::
            \text{recon}_n = -\log p(x_n \mid z_n),\ z_n = \mu_n + \sigma_n\odot\varepsilon_n; \qquad
            \text{kl}_n = \mathrm{KL}(q(z\mid x_n)\,\|\,\mathcal N(0, I)); \qquad
            \text{neg\_elbo}_n = \text{recon}_n + \text{kl}_n,

        in nats, summed over pixels and latent units (beta = 1 whatever the
        model's ``beta``: this is the bound on :math:`-\log p(x)`).
        :math:`\varepsilon` (N, K) comes from a Generator seeded with
        ``random_state``: the same seed gives the same numbers.

        Returns
        -------
        ELBO
            ``(recon, kl, neg_elbo)``, each of shape (N,), float64.
        """
        X = self._check_data(X)
        mu, sigma, _, scale = self._posterior(X)
        eps = check_random_state(random_state).standard_normal(mu.shape)
        recon = -self._log_likelihood(self._decode(mu + sigma * eps), X)
        kl = self.reparameterize_.kl_elements(mu, scale).sum(axis=1)
        return ELBO(recon, kl, recon + kl)

    def importance_weighted_bound(self, X, k=50, random_state=0):
        r"""Burda et al.'s bound :math:`\mathcal L_k \le \log p(x)` per example, in nats.

        .. math::
            \mathcal L_k(x) = \log\frac1k\sum_{j=1}^{k} w_j, \qquad
            \log w_j = \log p(x \mid z_j) + \log p(z_j) - \log q(z_j \mid x),\quad
            z_j = \mu + \sigma\odot\varepsilon_j,

        with :math:`\log p(z) = -\tfrac12\lVert z\rVert^2 - \tfrac K2\log 2\pi` and
        :math:`\log q(z_j\mid x) = -\tfrac12\lVert\varepsilon_j\rVert^2 - \sum_k\log\sigma_k - \tfrac K2\log 2\pi`,
        the average taken by log-sum-exp (no overflow). :math:`\mathcal L_1`
        is an unbiased estimate of the ELBO; :math:`\mathbb E\,\mathcal L_k`
        increases with k towards :math:`\log p(x)` (papers report
        :math:`-\mathcal L_{5000}` as the "test log-likelihood").
        ``random_state`` seeds the :math:`k \times N` draws.

        Returns
        -------
        ndarray of shape (N,), float64: a lower bound on :math:`\log p(x_n)` (compare with ``-elbo(X).neg_elbo``).
        """
        k = check_positive_int(k, "k")
        X = self._check_data(X)
        mu, sigma, log_var, _ = self._posterior(X)
        rng = check_random_state(random_state)
        log_w = np.empty((k, X.shape[0]))
        log_sigma_sum = 0.5 * log_var.sum(axis=1)
        for j in range(k):
            eps = rng.standard_normal(mu.shape)
            z = mu + sigma * eps
            log_pz = -0.5 * np.square(z).sum(axis=1)
            log_qz = -0.5 * np.square(eps).sum(axis=1) - log_sigma_sum
            log_w[j] = self._log_likelihood(self._decode(z), X) + log_pz - log_qz  # the K/2 log 2pi cancel
        top = log_w.max(axis=0)
        return top + np.log(np.exp(log_w - top).mean(axis=0))

    def kl_per_unit(self, X):
        r"""KL of each latent unit averaged over the examples of ``X``: shape (K,), nats.

        Units whose KL stays near 0 carry no information about :math:`x`
        (posterior collapse); the sum over units is ``elbo(X).kl.mean()``.
        """
        X = self._check_X(X)
        mu, _, _, scale = self._posterior(X)
        return self.reparameterize_.kl_elements(mu, scale).mean(axis=0)

    def active_units(self, X, threshold=1e-2):
        r"""Number of active latent units (Burda et al.): :math:`A_u = \operatorname{Cov}_x(\mathbb E_{q(u\mid x)}[u]) > 10^{-2}`.

        The variance over the examples of ``X`` of each unit's posterior mean
        :math:`\mu_k(x)` (``transform(X).var(axis=0)``), compared with ``threshold``.
        """
        mu = np.asarray(self.transform(X), dtype=np.float64)
        return int((mu.var(axis=0) > threshold).sum())

    def inverse_transform(self, Z):
        r"""The decoder mean for codes ``Z (N, K)``: :math:`\sigma(\text{logits})` (Bernoulli) or the Gaussian
        mean, shape (N, D)."""
        return super().inverse_transform(Z)

    def sample(self, n_samples, random_state=None):
        r"""Generate: decode :math:`z \sim \mathcal N(0, I)`; returns the decoder means, shape ``(n_samples, D)``.

        ``random_state`` (None, an int or a Generator) draws the codes; None
        gives different samples at every call.
        """
        n_samples = check_positive_int(n_samples, "n_samples")
        self._network()
        Z = check_random_state(random_state).standard_normal((n_samples, self.n_latent))
        return self.inverse_transform(Z.astype(check_float_dtype(self.dtype)))

    def score(self, X, y=None):
        """Minus the mean negative ELBO on ``X`` (one fixed sample, seed 0), in nats: higher is better."""
        return -float(self.elbo(X).neg_elbo.mean())


class ConditionalVAE(VariationalAutoencoder):
    r"""A conditional VAE (Sohn et al., 2015): encoder and decoder both see a one-hot label.

    The model, for a label :math:`y` among ``C`` classes with one-hot :math:`c = \mathrm{onehot}(y)`:
    :math:`q(z \mid x, y) = \mathcal N(\mu(x, c), \operatorname{diag}\sigma^2(x, c))`,
    :math:`p(x \mid z, y)` from the decoder of :math:`(z, c)`, and the prior
    :math:`p(z) = \mathcal N(0, I)`, independent of :math:`y`. The objective is
    the VAE's with everything conditioned on :math:`y`:

    .. math:: J = \frac1N\sum_n\bigl[-\log p(x_n\mid z_n, y_n) + \beta\,\mathrm{KL}(q(z\mid x_n, y_n)\,\|\,\mathcal N(0, I))\bigr],
              \qquad -\text{ELBO}_n \ge -\log p(x_n \mid y_n).

    Network for ``hidden_layer_sizes = (H1,)``, ``n_latent = K`` on ``D`` inputs and ``C`` classes::

        X (N, D) -> JoinCondition(C) -> Dense(D + C, H1) -> act -> Dense(H1, 2K) -> Reparameterize(K)   (encoder)
                 -> JoinCondition(C) -> Dense(K + C, H1) -> act -> Dense(H1, D)                         (decoder)

    Both :class:`~numpy_ae.layers.JoinCondition` layers receive the same
    one-hot rows through :meth:`Sequential.set_condition
    <numpy_ae.model.Sequential.set_condition>`; ``fit`` hands the labels to the
    minibatch loop as its ``side`` array, which slices them with each
    minibatch's indices. Generation decodes :math:`z \sim \mathcal N(0, I)`
    with the label of one's choice: :meth:`sample` ``(n, y=3)``.

    scikit-learn. A transformer's ``transform(X)`` takes no ``y``; here every
    method that runs the encoder or the decoder needs the label, so ``y`` is a
    REQUIRED argument of ``fit``, ``transform``, ``inverse_transform``,
    ``reconstruct``, ``elbo``, ``score`` and the rest, never silently guessed.
    ``__sklearn_tags__`` marks the target as required (``fit(X, y)``), so
    ``clone``, ``get_params``/``set_params`` and ``GridSearchCV`` (which passes
    ``y`` to ``fit`` and ``score``) work; a ``Pipeline`` step or scikit-learn's
    transformer checks that call ``transform(X)`` alone get a TypeError naming
    the missing ``y`` (``tests/test_sklearn.py`` lists those checks).

    Labels: any values (integers, strings, integral floats) as for
    :class:`~numpy_ae.softmax.SoftmaxRegression`; ``classes_`` holds the sorted
    distinct labels seen by ``fit`` and fixes the one-hot columns. A label of the
    wrong length, a non-integer float or a label not in ``classes_`` is a
    ValueError naming the argument, the rule and the value.

    Parameters
    ----------
    Those of :class:`VariationalAutoencoder`, unchanged.

    Attributes
    ----------
    classes_ : ndarray (C,)
        The labels seen by ``fit``, sorted; column ``k`` of the one-hot code is ``classes_[k]``.
    """

    def initialize(self, n_features, classes=None):
        r"""Build the network for ``n_features`` inputs and the labels ``classes`` (their distinct values,
        at least 2); return self. ``fit`` calls this; call it yourself to inspect or gradient-check the
        untrained model (then hand it a condition with ``network_.set_condition``)."""
        from .softmax import _check_labels, _encode_labels

        if classes is None:
            raise ValueError("classes must be given: a ConditionalVAE's network depends on the number of classes "
                             "(fit(X, y) passes the distinct labels of y)")
        self.classes_, _ = _encode_labels(_check_labels(classes))
        super().initialize(n_features)
        return self

    def _rebuild(self, state):
        saved = {k: v for k, v in vars(self).items() if k.endswith("_")}
        self.initialize(int(state["n_features_in_"]), state["classes_"])
        vars(self).update({k: v for k, v in saved.items() if k not in ("rng_", "network_", "n_encoder_layers_")})

    def _make_network(self, n_features):
        C = len(self.classes_)
        encoder, decoder, loss = super()._make_network(n_features)
        encoder[0] = Dense(n_features + C, encoder[0].n_out, init=encoder[0].init)
        decoder[0] = Dense(self.n_latent + C, decoder[0].n_out, init=decoder[0].init)
        return [JoinCondition(C)] + encoder, [JoinCondition(C)] + decoder, loss

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True  # fit(X, y): the labels are part of every example
        return tags

    # ------------------------------------------------------------- labels
    def _onehot(self, y, n, name="y", per="row of X"):
        r"""One-hot rows ``(n, C)`` in the model's dtype for the labels ``y`` (one per row), checked."""
        from .softmax import _check_labels

        if y is None:
            raise ValueError(f"{name} is required: a ConditionalVAE needs the class label of every example "
                             f"(one of classes_ {self.classes_.tolist()})")
        arr = np.asarray(y)
        if arr.ndim == 1 and arr.shape[0] != n:
            raise ValueError(f"{name} must have one label per {per}: expected {n} labels, got {arr.shape[0]}")
        try:
            labels = _check_labels(arr, n)
        except ValueError as exc:
            raise ValueError(str(exc).replace("y must", f"{name} must", 1).replace("y has", f"{name} has", 1)) \
                from None
        classes = self.classes_
        if (labels.dtype.kind in "US") != (classes.dtype.kind in "US"):
            bad = labels[:1]
        else:
            index = np.searchsorted(classes, labels).clip(0, classes.size - 1)
            bad = labels[classes[index] != labels]
        if bad.size:
            raise ValueError(f"{name} must hold labels seen by fit (classes_ {classes.tolist()}); got "
                             f"{bad[0].item()!r}, which is not one of them")
        index = np.searchsorted(classes, labels)
        out = np.zeros((n, classes.size), dtype=self._network().dtype)
        out[np.arange(n), index] = 1.0
        return out

    def _condition(self, X, y, name="y"):
        """Check ``X``, hand the one-hot ``y`` to the network; return the checked ``X``."""
        X = self._check_X(X)
        self._network().set_condition(self._onehot(y, X.shape[0], name))
        return X

    # ------------------------------------------------------------- fitting
    def fit(self, X, y=None, *, validation_data=None, callback=None):
        r"""Train on ``X (N, D)`` with labels ``y (N,)``; return self.

        ``validation_data``: ``(X_val, y_val)`` or None, scored after every
        epoch (the reconstruction term at :math:`z = \mu`, as for the VAE).
        The labels travel with each minibatch as the loop's ``side`` array.
        """
        from .softmax import _check_labels, _encode_labels

        self._validate_params()
        X = self._check_X(X, fitting=True)
        if y is None:
            raise ValueError("ConditionalVAE requires y to be passed, but the target y is None: fit(X, y) needs "
                             "one class label per row of X")
        y = _check_labels(y, X.shape[0])
        classes, index = _encode_labels(y)
        self._clear_fit_attributes()
        if not (self.warm_start and getattr(self, "network_", None) is not None
                and self.n_features_in_ == X.shape[1] and np.array_equal(self.classes_, classes)):
            self.initialize(X.shape[1], classes)
        side = np.zeros((X.shape[0], classes.size), dtype=self.network_.dtype)
        side[np.arange(X.shape[0]), index] = 1.0
        if validation_data is not None:
            if not (isinstance(validation_data, tuple) and len(validation_data) == 2):
                raise ValueError("validation_data must be a pair (X_val, y_val) for a ConditionalVAE; got "
                                 f"{type(validation_data).__name__}")
            X_val = self._check_X(validation_data[0])
            validation_data = (X_val, None, self._onehot(validation_data[1], X_val.shape[0], "y_val"))
        import time

        start = time.perf_counter()
        self._train(self.network_, X, None, validation_data=validation_data, callback=callback, side=side)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """``fit(X, y).transform(X, y)``: the posterior means, shape (N, K)."""
        return self.fit(X, y, **fit_params).transform(X, y)

    def loss_and_grad(self, theta, X, y):
        r"""Objective and gradient at ``theta`` for inputs ``X (N, D)`` and labels ``y (N,)``."""
        X = self._condition(X, y)
        return self._network().loss_and_grad(theta, X)

    def cost(self, X, y):
        """The training objective at the current parameters, for ``X`` and labels ``y``."""
        X = self._condition(X, y)
        return self._network().compute(X)

    # ------------------------------------------------------------- inference
    def transform(self, X, y):
        r"""The posterior means :math:`\mu(x, y)`, shape ``(N, K)``; ``y (N,)`` the labels of ``X``."""
        self._network()
        X = self._condition(X, y)
        for layer in self.encoder_layers:
            X = layer.forward(X, training=False)
        return X

    def inverse_transform(self, Z, y):
        r"""The decoder mean for codes ``Z (N, K)`` and labels ``y (N,)``: shape ``(N, D)``."""
        net = self._network()
        Z = check_array(Z, "Z", n_features=self.n_latent, dtype=check_float_dtype(self.dtype),
                        estimator=type(self).__name__)
        net.set_condition(self._onehot(y, Z.shape[0], "y", per="row of Z"))
        for layer in self.decoder_layers:
            Z = layer.forward(Z, training=False)
        return net.loss.output(Z)

    def reconstruct(self, X, y):
        r"""The decoder mean at :math:`z = \mu(x, y)`, with the same label: shape ``(N, D)``."""
        X = self._condition(X, y)
        return self._network().predict(X)

    def elbo(self, X, y, random_state=0):
        r"""The negative ELBO of :math:`-\log p(x_n \mid y_n)` per example and its two parts
        (see :meth:`VariationalAutoencoder.elbo`), with labels ``y (N,)``: an :class:`ELBO` of (N,) arrays."""
        X = self._condition(X, y)
        return super().elbo(X, random_state=random_state)

    def importance_weighted_bound(self, X, y, k=50, random_state=0):
        r"""Burda et al.'s :math:`\mathcal L_k \le \log p(x_n \mid y_n)` per example (N,), in nats."""
        X = self._condition(X, y)
        return super().importance_weighted_bound(X, k=k, random_state=random_state)

    def kl_per_unit(self, X, y):
        r"""KL of each latent unit averaged over ``X`` with labels ``y``: shape (K,), nats."""
        X = self._condition(X, y)
        return super().kl_per_unit(X)

    def active_units(self, X, y, threshold=1e-2):
        r"""Burda et al.'s active units, :math:`\operatorname{Var}_x \mu_k(x, y) > ` ``threshold``."""
        mu = np.asarray(self.transform(X, y), dtype=np.float64)
        return int((mu.var(axis=0) > threshold).sum())

    def sample(self, n_samples, y=None, random_state=None):
        r"""Generate images of chosen classes: decode :math:`z \sim \mathcal N(0, I)` with label ``y``.

        Parameters
        ----------
        n_samples : int >= 1
        y : a label of ``classes_``, or an array of ``n_samples`` labels
            The class of each sample (required).
        random_state : None, int or Generator
            Draws the codes ``(n_samples, K)``.

        Returns
        -------
        ndarray (n_samples, D): decoder means.
        """
        n_samples = check_positive_int(n_samples, "n_samples")
        self._network()
        if y is None:
            raise ValueError(f"y is required: the class to generate, one of classes_ {self.classes_.tolist()} "
                             f"(or an array of n_samples={n_samples} labels)")
        labels = np.asarray(y)
        if labels.ndim == 0:
            labels = np.full(n_samples, labels.item(), dtype=labels.dtype)
        Z = check_random_state(random_state).standard_normal((n_samples, self.n_latent))
        self._onehot(labels, n_samples, "y", per="sample (n_samples)")  # checked before decoding
        return self.inverse_transform(Z.astype(check_float_dtype(self.dtype)), labels)

    def score(self, X, y=None):
        """Minus the mean negative ELBO on ``X`` with labels ``y`` (one fixed sample, seed 0), in nats."""
        return -float(self.elbo(X, y).neg_elbo.mean())
