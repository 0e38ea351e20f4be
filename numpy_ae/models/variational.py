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
(:class:`~numpy_ae.nn.losses.BinaryCrossEntropy` from logits for a Bernoulli
decoder, :class:`~numpy_ae.nn.losses.GaussianNLL` for a Gaussian one); the KL
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
from .._validation import check_float_dtype, check_layer_sizes, check_non_negative, check_positive_int, check_random_state
from .autoencoders import Autoencoder
from .training import _set_params_from_locals
from ..nn.dense import Dense
from ..nn.activations import default_init, make_activation
from ..nn.losses import BinaryCrossEntropy, GaussianNLL
from ..nn.reparameterize import Reparameterize, check_parameterization

__all__ = ['VariationalAutoencoder', 'ELBO', 'LIKELIHOODS']


LIKELIHOODS = ("bernoulli", "gaussian")


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
    the loss is :class:`~numpy_ae.nn.losses.BinaryCrossEntropy` from logits, and the
    decoder mean is their sigmoid) or the Gaussian mean itself
    (``likelihood="gaussian"``, :class:`~numpy_ae.nn.losses.GaussianNLL` with the
    fixed ``variance``). The training objective, in nats per example:

    .. math:: J = \frac1N\sum_n\bigl[-\log p(x_n\mid z_n) + \beta\,\mathrm{KL}(q(z\mid x_n)\,\|\,\mathcal N(0, I))\bigr]
              + \frac{\lambda}{2}\sum W^2

    (see :mod:`numpy_ae.models.variational`). ``Reparameterize`` is the LAST encoder
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
        Training, as for every autoencoder (:mod:`numpy_ae.models.autoencoders`).
        The training history's ``val_loss`` (with ``validation_data``) is the
        reconstruction term at :math:`z = \mu` (what every model's ``evaluate``
        reports), not the ELBO: use :meth:`elbo` for that.
    """

    _saved_attributes = {"capacity_schedule_": list}

    def __init__(self, hidden_layer_sizes=(500, 500), *, n_latent=20, activation="elu", parameterization="log_var",
                 beta=1.0, likelihood="bernoulli", variance=1.0, capacity=None, capacity_gamma=1000.0,
                 capacity_epochs=None, weight_decay=0.0, init=None, method="adam", epochs=10, batch_size=128, learning_rate=None, momentum=0.9, nesterov=False, patience=None,
                 verbose=0, warm_start=False, dtype="float64", random_state=None, fast=True):
        _set_params_from_locals(self, locals())
        self._validate_params()

    # ------------------------------------------------------------- structure
    def _validate_params(self):
        check_layer_sizes(self.hidden_layer_sizes, example="(500, 500)")
        check_positive_int(self.n_latent, "n_latent")
        make_activation(self.activation)
        check_parameterization(self.parameterization)
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
        sizes = [n_features] + check_layer_sizes(self.hidden_layer_sizes)
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

    def sample_codes(self, X, random_state=0):
        r"""One draw :math:`z_n = \mu(x_n) + \sigma(x_n)\odot\varepsilon_n` of :math:`q(z \mid x_n)` per row of
        ``X (N, D)``, float64 ``(N, K)``: together a sample of the aggregated posterior :math:`q(z)`, what the
        KL term pulls towards the prior (``transform`` gives :math:`\mu(x_n)`, which spreads less)."""
        mu, sigma, _, _ = self._posterior(self._check_data(X))
        return mu + sigma * check_random_state(random_state).standard_normal(mu.shape)

    def score(self, X, y=None):
        """Minus the mean negative ELBO on ``X`` (one fixed sample, seed 0), in nats: higher is better."""
        return -float(self.elbo(X).neg_elbo.mean())
