r"""Checks of the adversarial autoencoder's three phases and of the discriminator's input gradient.
"""
from __future__ import annotations
import numpy as np
from ...models.adversarial import AdversarialAutoencoder
from ..gradcheck import check_function, check_model
from ..registry import register
from .common import D, EPS, H, N, make_rng


# ---- adversarial autoencoder
# Each phase's objective of numpy_ae.models.adversarial.AdversarialAutoencoder, with the gradient the training
# loop uses (the estimator's own *_loss_and_grad methods): no new Layer or Loss class, so these checks
# cover nothing new for the coverage test, but they check how the three networks are joined.

def _small_aae(seed, **params):
    params = {"hidden_layer_sizes": (H,), "n_latent": 2, "activation": "tanh", "discriminator_hidden": (4, 3),
              "random_state": seed, **params}
    return AdversarialAutoencoder(**params).initialize(D)


class _GeneratorObjective:
    r""":math:`J_G(\theta)` of an AdversarialAutoencoder as :func:`~numpy_ae.check.gradcheck.check_model` sees a model:
    the autoencoder's ``theta``, the ENCODER's blocks (the decoder does not enter :math:`J_G`), and
    ``compute`` = :meth:`~numpy_ae.models.adversarial.AdversarialAutoencoder.generator_loss_and_grad` (the
    discriminator's input gradient backpropagated into the encoder)."""

    def __init__(self, aae, components=None, noise=None):
        self.aae, self.components, self.noise = aae, components, noise
        net = aae.network_
        self.theta = net.theta
        encoder = aae.encoder_layers
        self.blocks = [b for b in net.blocks if any(b.layer is layer for layer in encoder)]
        self.layers = list(encoder) + list(aae.discriminator_.layers)
        self.loss = aae.discriminator_.loss

    def compute(self, X, T=None):
        return self.aae.generator_loss_and_grad(X, self.components, self.noise)

    def loss_and_grad(self, theta, X, T=None):
        self.aae.network_.set_theta(theta)
        J = self.compute(X)
        return J, self.aae.network_.grad.copy()


def _aae_components(supervised, seed):
    return make_rng(seed).permutation(N) % 3 if supervised else None


def _register_aae_reconstruction(name, seed, **params):
    @register(name)
    def _check():
        r"""Phase 1: :math:`J_{\text{rec}}` (reconstruction + weight decay) over the encoder and decoder."""
        aae = _small_aae(seed, **params)
        return check_model(aae.network_, make_rng(seed).uniform(0.0, 1.0, (N, D)), eps=EPS)


_register_aae_reconstruction("aae_reconstruction_cross_entropy", 70, weight_decay=1e-2)
_register_aae_reconstruction("aae_reconstruction_mse", 71, loss="mse", activation="sigmoid")


def _register_aae_discriminator(name, seed, **params):
    @register(name)
    def _check():
        r"""Phase 2: :math:`J_D` over the discriminator's parameters, for fixed prior samples (label 1) and
        codes (label 0); with ``supervised`` the one-hot component joined to both."""
        aae = _small_aae(seed, **params)
        rng = make_rng(seed)
        comps = _aae_components(aae.supervised, seed)
        Z = np.vstack([aae.prior_.sample(N, rng, labels=comps), aae.encode(rng.uniform(0.0, 1.0, (N, D)))])
        T = np.vstack([np.ones((N, 1)), np.zeros((N, 1))])
        disc = aae.discriminator_
        if comps is not None:
            disc.set_condition(aae._onehot(np.concatenate([comps, comps])))
        return check_model(disc, Z, T, eps=EPS)


_register_aae_discriminator("aae_discriminator_gaussian", 72)
_register_aae_discriminator("aae_discriminator_supervised_mixture", 73, prior="mixture", n_components=3,
                            supervised=True)


def _register_aae_generator(name, seed, **params):
    @register(name)
    def _check():
        r"""Phase 3: :math:`J_G = -\frac1N\sum\log\sigma(D(E(x)))` over the ENCODER's parameters, through
        the discriminator's input gradient (discriminator fixed)."""
        aae = _small_aae(seed, **params)
        comps = _aae_components(aae.supervised, seed)
        return check_model(_GeneratorObjective(aae, comps), make_rng(seed).uniform(0.0, 1.0, (N, D)), eps=EPS)


_register_aae_generator("aae_generator_gaussian", 74)
_register_aae_generator("aae_generator_supervised_mixture", 75, prior="mixture", n_components=3, supervised=True)


@register("aae_generator_instance_noise")
def _aae_generator_instance_noise():
    r"""Phase 3 with instance noise: :math:`J_G = -\frac1N\sum\log\sigma(D(E(x) + \nu))` over the ENCODER's
    parameters, the noise :math:`\nu` (N, 2) held fixed (``code_noise`` draws it afresh in training)."""
    aae = _small_aae(77, code_noise=0.3)
    rng = make_rng(77)
    noise = 0.3 * rng.standard_normal((N, 2))
    return check_model(_GeneratorObjective(aae, None, noise), rng.uniform(0.0, 1.0, (N, D)), eps=EPS)


@register("aae_discriminator_label_smoothing")
def _aae_discriminator_label_smoothing():
    r"""Phase 2 with one-sided label smoothing (prior samples' target 0.9), through the estimator's own
    ``discriminator_loss_and_grad``, over the discriminator's parameters (supervised mixture)."""
    aae = _small_aae(78, prior="mixture", n_components=3, supervised=True, label_smoothing=0.1)
    rng = make_rng(78)
    comps = _aae_components(True, 78)
    Zp, Zc = aae.prior_.sample(N, rng, labels=comps), aae.encode(rng.uniform(0.0, 1.0, (N, D)))
    disc = aae.discriminator_

    def f(theta):
        disc.set_theta(theta)
        J, _ = aae.discriminator_loss_and_grad(Zp, Zc, comps)
        return J, disc.grad.copy()

    return check_function(f, disc.theta.copy(), eps=EPS)


@register("aae_discriminator_input_gradient")
def _aae_discriminator_input_gradient():
    r""":math:`\partial J_D/\partial z` for the codes ``z`` (N, 2) at fixed prior samples and parameters: the
    input gradient that phase 3 sends into the encoder (``Sequential.backward(..., input_grad=True)``)."""
    aae = _small_aae(76, prior="mixture", n_components=4)
    rng = make_rng(76)
    Zp = aae.prior_.sample(N, rng)
    T = np.vstack([np.ones((N, 1)), np.zeros((N, 1))])

    def f(z):
        J, dZ = aae._discriminator_pass(np.vstack([Zp, z.reshape(N, 2)]), T, input_grad=True)
        return J, dZ[N:].ravel()

    return check_function(f, rng.standard_normal(2 * N), eps=EPS)
