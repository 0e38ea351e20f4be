r"""Checks of the variational autoencoders: the reparameterisation layer (both parameterisations, beta,
the capacity objective), the closed-form KL, the full VAE objectives, the side-input join and
the conditional VAE.
"""
from __future__ import annotations
import numpy as np
from ... import nn
from ...models.conditional import ConditionalVAE
from ...models.variational import VariationalAutoencoder
from ...nn.reparameterize import Reparameterize, gaussian_kl, gaussian_kl_grad
from ..gradcheck import check_function, check_layer, check_model
from ..registry import register
from .common import D, EPS, H, N, N_CLASSES, frozen_noise, make_rng, onehot


# --------------------------------------------------------------------------
# Variational autoencoders (numpy_ae.models.variational)
# --------------------------------------------------------------------------
K_LATENT = 3  # latent units of the VAE checks


def _register_reparameterize(parameterization, beta, seed):
    r"""The reparameterisation layer with its noise frozen: ``dX`` (N, 2K) of
    :math:`\sum R \odot z + \beta\,\overline{\mathrm{KL}}`, both the sampling path and the KL term.
    The sigma columns are :math:`\pm[0.3, 1.5]` (a negative sigma is allowed) and the
    log_var columns in :math:`[-2, 1]`: smooth regions, far from the guard at sigma = 0."""
    @register(f"layer_reparameterize_{parameterization}" + ("" if beta == 1.0 else f"_beta_{beta:g}"),
              covers=(Reparameterize,))
    def _check():
        rng = make_rng(seed)
        mu = rng.standard_normal((N, K_LATENT))
        if parameterization == "log_var":
            scale = rng.uniform(-2.0, 1.0, (N, K_LATENT))
        else:
            scale = rng.uniform(0.3, 1.5, (N, K_LATENT)) * rng.choice([-1.0, 1.0], (N, K_LATENT))
        layer = Reparameterize(K_LATENT, parameterization, beta=beta)
        layer.freeze_noise()
        return check_layer(layer, np.hstack([mu, scale]), random_state=seed, eps=EPS)


_register_reparameterize("log_var", 1.0, 30)
_register_reparameterize("sigma", 1.0, 31)
_register_reparameterize("log_var", 0.25, 32)
_register_reparameterize("sigma", 3.0, 33)


@register("gaussian_kl")
def _gaussian_kl():
    r"""The closed-form KL alone: :math:`f = \sum_n w_n \mathrm{KL}_n(\mu, \gamma)` with random weights
    :math:`w_n`, against :func:`~numpy_ae.nn.reparameterize.gaussian_kl_grad`; x = [mu, log_var] flattened."""
    rng = make_rng(34)
    w = rng.uniform(0.5, 2.0, N)
    x0 = np.hstack([rng.standard_normal((N, K_LATENT)), rng.uniform(-3.0, 2.0, (N, K_LATENT))]).ravel()

    def f(x):
        X = x.reshape(N, 2 * K_LATENT)
        mu, log_var = X[:, :K_LATENT], X[:, K_LATENT:]
        dmu, dlog_var = gaussian_kl_grad(mu, log_var)
        return float(w @ gaussian_kl(mu, log_var)), np.hstack([w[:, None] * dmu, w[:, None] * dlog_var]).ravel()

    return check_function(f, x0, eps=EPS)


def _register_vae(name, seed, **params):
    r"""The full VAE objective (reconstruction + beta KL + weight decay) with frozen eps, every block."""
    @register(name)
    def _check():
        vae = VariationalAutoencoder(hidden_layer_sizes=(H,), n_latent=K_LATENT, random_state=seed,
                                     **params).initialize(D)
        X = make_rng(seed).uniform(0.0, 1.0, (N, D))
        return check_model(frozen_noise(vae.network_), X, eps=EPS)


_register_vae("vae_bernoulli", 35, activation="tanh")
_register_vae("vae_gaussian", 36, activation="elu", likelihood="gaussian", variance=0.3)
_register_vae("vae_bernoulli_sigma_beta_4", 37, activation="tanh", parameterization="sigma", beta=4.0,
              weight_decay=1e-2)
_register_vae("vae_gaussian_sigma_beta_0.5", 38, activation="sigmoid", parameterization="sigma", beta=0.5,
              likelihood="gaussian")


def _register_capacity(name, capacity, seed):
    r"""Burgess et al.'s :math:`\gamma\lvert\overline{\mathrm{KL}} - C\rvert` with frozen eps, C chosen
    well below (or above) the layer's mean KL so that the absolute value is smooth within the step."""
    @register(name, covers=(Reparameterize,))
    def _check():
        rng = make_rng(seed)
        X = np.hstack([rng.standard_normal((N, K_LATENT)), rng.uniform(-2.0, 1.0, (N, K_LATENT))])
        layer = Reparameterize(K_LATENT, "log_var", capacity=capacity, gamma=50.0)
        layer.freeze_noise()
        return check_layer(layer, X, random_state=seed, eps=EPS)


_register_capacity("layer_reparameterize_capacity_below_kl", 0.5, 39)
_register_capacity("layer_reparameterize_capacity_above_kl", 3.0, 40)


@register("vae_capacity")
def _vae_capacity():
    r"""The full VAE with the capacity objective (C = 0.1 nats, gamma = 20), Bernoulli, frozen eps."""
    vae = VariationalAutoencoder(hidden_layer_sizes=(H,), n_latent=K_LATENT, activation="tanh", capacity=0.1,
                                 capacity_gamma=20.0, random_state=41).initialize(D)
    X = make_rng(41).uniform(0.0, 1.0, (N, D))
    return check_model(frozen_noise(vae.network_), X, eps=EPS)


# --------------------------------------------------------------------------
# Side inputs and the conditional VAE
# --------------------------------------------------------------------------
@register("layer_join_condition", covers=(nn.JoinCondition,))
def _join_condition():
    r"""``[X, C]`` with a fixed one-hot C: dX must be the first D columns of the probe R (C is data)."""
    rng = make_rng(42)
    layer = nn.JoinCondition(N_CLASSES)
    layer.condition = onehot(rng.integers(0, N_CLASSES, N), N_CLASSES)
    return check_layer(layer, rng.standard_normal((N, D)), random_state=42, eps=EPS)


def _register_cvae(name, seed, **params):
    r"""The full conditional VAE objective (label joined to the encoder input and to z) with frozen eps,
    every block: the label columns of both first Dense layers get their gradient through the join."""
    @register(name)
    def _check():
        rng = make_rng(seed)
        cvae = ConditionalVAE(hidden_layer_sizes=(H,), n_latent=K_LATENT, random_state=seed,
                              **params).initialize(D, classes=np.arange(N_CLASSES))
        cvae.network_.set_condition(onehot(rng.permutation(N) % N_CLASSES, N_CLASSES))
        X = rng.uniform(0.0, 1.0, (N, D))
        return check_model(frozen_noise(cvae.network_), X, eps=EPS)


_register_cvae("conditional_vae_bernoulli", 43, activation="tanh")
_register_cvae("conditional_vae_gaussian_sigma_beta_2", 44, activation="elu", likelihood="gaussian",
               parameterization="sigma", beta=2.0, weight_decay=1e-2)
