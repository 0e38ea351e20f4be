r"""Checks of whole estimators' objectives: sparse, linear, stacked and denoising autoencoders (and each
phase of greedy pretraining), softmax regression, the encoder classifier, and the composable
regularised autoencoders.
"""
from __future__ import annotations
import numpy as np
from ...models import composable
from ...models.autoencoders import LinearAutoencoder, SparseAutoencoder
from ...models.classifier import EncoderClassifier, encoder_layers_of
from ...models.softmax import SoftmaxRegression
from ...models.stacked import PhaseView, StackedAutoencoder
from ... import nn
from ...nn.losses import MeanSquaredError
from ..gradcheck import check_model
from ..registry import register
from .common import D, EPS, H, N, away_from_zero, frozen_noise, make_rng


@register("sparse_autoencoder")
def _sparse_autoencoder():
    r"""UFLDL's full cost: reconstruction + weight decay (:math:`\lambda=10^{-3}`) + KL sparsity (:math:`\beta=3`)."""
    ae = SparseAutoencoder(n_hidden=H, sparsity=0.1, beta=3.0, weight_decay=1e-3, random_state=5).initialize(D)
    X = make_rng(5).uniform(0.1, 0.9, (N, D))
    return check_model(ae.network_, X, eps=EPS)


@register("sparse_autoencoder_linear_decoder")
def _linear_decoder():
    r"""UFLDL's linear decoder: sigmoid hidden layer, identity output, inputs not in [0, 1]."""
    ae = SparseAutoencoder(n_hidden=H, sparsity=0.035, beta=5.0, weight_decay=3e-3, decoder="linear",
                           random_state=6).initialize(D)
    X = make_rng(6).standard_normal((N, D))
    return check_model(ae.network_, X, eps=EPS)


@register("softmax_regression")
def _softmax_regression():
    r"""UFLDL's softmax cost: cross-entropy of softmax(X W + b) + (lambda/2) sum W^2, b not decayed."""
    rng = make_rng(7)
    model = SoftmaxRegression(weight_decay=0.1, random_state=7).initialize(D, np.arange(H))  # H = 4 classes
    model.theta[...] = rng.standard_normal(model.theta.shape)  # away from the 0.005 init: every term counts
    X, y = rng.standard_normal((N, D)), rng.integers(0, H, N)
    return check_model(model.network_, X, y, eps=EPS)


@register("linear_autoencoder")
def _linear_autoencoder():
    r"""Identity activations, squared error: the autoencoder that learns the PCA subspace."""
    ae = LinearAutoencoder(n_components=2, weight_decay=1e-2, random_state=8).initialize(D)
    return check_model(ae.network_, make_rng(8).standard_normal((N, D)), eps=EPS)


def _register_stacked(name, seed, **params):
    @register(name)
    def _check():
        ae = StackedAutoencoder(hidden_layer_sizes=(H, 3), random_state=seed, **params).initialize(D)
        X = make_rng(seed).uniform(0.0, 1.0, (N, D))
        return check_model(frozen_noise(ae.network_), away_from_zero(X), eps=EPS)


_register_stacked("stacked_autoencoder", 9, activation="elu", weight_decay=1e-2)
_register_stacked("stacked_autoencoder_tied", 10, activation="elu", tied=True, weight_decay=1e-2)
_register_stacked("denoising_gaussian", 11, activation="sigmoid", corruption="gaussian", corruption_level=0.2)
_register_stacked("denoising_masking_cross_entropy", 12, activation="sigmoid", tied=True, loss="cross_entropy",
                  corruption="masking", corruption_level=0.3)
_register_stacked("denoising_salt_pepper", 13, activation="tanh", corruption="salt-pepper", corruption_level=0.3)


@register("encoder_classifier")
def _encoder_classifier():
    r"""Fine-tuning: two pretrained sigmoid encoder layers + softmax, with weight decay on all weights."""
    ae = StackedAutoencoder(hidden_layer_sizes=(H, 3), activation="sigmoid", random_state=14).initialize(D)
    clf = EncoderClassifier.from_encoders(encoder_layers_of(ae), n_classes=3, weight_decay=1e-2, random_state=14)
    clf.network_.theta[...] = make_rng(14).standard_normal(clf.network_.n_params)
    rng = make_rng(15)
    return check_model(clf.network_, rng.uniform(0, 1, (N, D)), rng.integers(0, 3, N), eps=EPS)


def _register_phase(k, tied, seed):
    r"""Phase ``k`` of :meth:`~numpy_ae.models.stacked.StackedAutoencoder.fit_in_phases` on a 3-layer stack
    ``[D, H, 3, 2]``: the objective of the path (encoder up to layer k, decoder layer k) against its
    target, with weight decay (:math:`\lambda = 0.1`, large so that a mistake shows) on the path's
    weights only. Nothing is frozen here: the check covers every block the path reaches."""
    @register(f"stacked_phase{k}_{'tied' if tied else 'untied'}")
    def _check():
        ae = StackedAutoencoder(hidden_layer_sizes=(H, 3, 2), activation="tanh", tied=tied, weight_decay=0.1,
                                random_state=seed).initialize(D)
        net = ae.network_
        path, _, target_layers = ae._phase_path(k)
        X = make_rng(seed).uniform(0.0, 1.0, (N, D))
        T = None if k == 1 else net.forward(X, training=False, layers=target_layers).copy()
        view = PhaseView(net, path, net.loss if k == 1 else MeanSquaredError())
        return check_model(view, X, T, eps=EPS)


for _k in (1, 2, 3):
    for _is_tied in (False, True):
        _register_phase(_k, _is_tied, seed=20 + 2 * _k + _is_tied)


def _register_regularized(name, seed, cls=composable.RegularizedAutoencoder, unit_inputs=True, covers=(),
                          **params):
    @register(name, covers=covers)
    def _check():
        ae = cls(random_state=seed, **params).initialize(D)
        X = make_rng(seed).uniform(0.05, 0.95, (N, D)) if unit_inputs else make_rng(seed).standard_normal((N, D))
        return check_model(frozen_noise(ae.network_), X, eps=EPS)


_register_regularized("regularized_kl_cross_entropy", 82, hidden_layer_sizes=(H,), sparsity_target=0.1,
                      sparsity_weight=3.0, loss="cross_entropy", weight_decay=1e-3)
_register_regularized("regularized_contractive_weight_decay", 83, cls=composable.ContractiveAutoencoder,
                      hidden_layer_sizes=(H,), contraction=1.0, weight_decay=0.1, covers=(nn.Contractive,))
_register_regularized("regularized_k_sparse", 84, cls=composable.KSparseAutoencoder, hidden_layer_sizes=(H,), k=2,
                      unit_inputs=False, covers=(nn.KSparse,))
_register_regularized("regularized_lifetime_wta", 85, cls=composable.WTAAutoencoder, hidden_layer_sizes=(H,),
                      lifetime_sparsity=0.34, activation="tanh", covers=(nn.LifetimeWTA,))
_register_regularized("regularized_l1_tanh", 86, hidden_layer_sizes=(5, H), activation="elu", code_activation="tanh",
                      l1_activity=0.5, unit_inputs=False, covers=(nn.L1Activity,))
_register_regularized("regularized_everything", 87, hidden_layer_sizes=(5, H), activation="tanh",
                      code_activation="sigmoid", tied=True, loss="cross_entropy", weight_decay=1e-2, contraction=0.5,
                      sparsity_target=0.2, sparsity_weight=1.0, l1_activity=0.1, k_sparse=3, lifetime_sparsity=0.5,
                      noise="gaussian", noise_level=0.1,
                      covers=(nn.Contractive, nn.KLSparsity, nn.L1Activity,
                              nn.KSparse, nn.LifetimeWTA, nn.GaussianNoise))


# ---- encoder classifier with regularised encoders
# EncoderClassifier keeps KSparse (part of the encoding) and leaves the penalty-only and training-only
# layers out; its KSparse keeps round(alpha k) units in training too (numpy_ae.models.classifier). The selection
# is piecewise linear: the seed is one whose codes have no near-tie at the threshold (the checker would
# report a kink, not pass).

@register("encoder_classifier_k_sparse", covers=(nn.KSparse,))
def _encoder_classifier_k_sparse():
    r"""Fine-tuning a k-sparse encoder: Dense(5, 4) -> identity -> KSparse (k = 2, alpha = 1.5: 3 of 4 units
    kept, in training as at inference) -> Dense(4, 3) -> softmax, weight decay 1e-2, at random weights."""
    ae = composable.KSparseAutoencoder(hidden_layer_sizes=(H,), k=2, alpha=1.5, random_state=90).initialize(D)
    clf = EncoderClassifier.from_encoders(encoder_layers_of(ae), n_classes=3, weight_decay=1e-2, random_state=90)
    clf.network_.theta[...] = make_rng(90).standard_normal(clf.network_.n_params)
    rng = make_rng(91)
    return check_model(clf.network_, rng.standard_normal((N, D)), rng.integers(0, 3, N), eps=EPS)
