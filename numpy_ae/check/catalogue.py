r"""The catalogue of registered gradient checks.

``python -m numpy_ae gradcheck`` and ``tests/test_gradcheck.py`` run every
check registered here; each variant added to the library registers its own.
All run in float64 on small random problems (a few examples, a few units), so
the whole catalogue takes about a second.

Step size. UFLDL's :math:`\epsilon = 10^{-4}` (the default of
:func:`numpy_ae.check.gradcheck.numerical_gradient`) leaves a truncation error of
about :math:`\epsilon^2 |f'''| / (12 |f'|)` in the norm-relative difference:
near 1.7e-9 for ``tanh`` (:math:`f'''(0)/f'(0) = -2`), above the 1e-9 target.
The catalogue uses :math:`\epsilon = 10^{-5}`: truncation near 1e-11 and
rounding near :math:`10^{-16} |J| / \epsilon \approx 10^{-10}`, both well below
the 1e-9 tolerance, so every check here passes on UFLDL's plain threshold as
well as on the checker's verdict. (The sparse autoencoder check also passes at
UFLDL's own 1e-4; the KL checks near :math:`\hat\rho = 0` and 1, where the
third derivative is large, use 1e-6.)

Coverage. Every concrete :class:`~numpy_ae.nn.Layer` and
:class:`~numpy_ae.nn.losses.Loss` subclass in the package must be covered by at
least one check: a check declares the classes whose backward pass it verifies
with ``register(name, covers=(Dense, ...))``, and
``tests/test_gradcheck_coverage.py`` walks every module of ``numpy_ae``, collects
the subclasses and fails for one that no check covers (it also runs each check
and fails when a declared class was not actually exercised). Exempt are
``Layer`` and ``Loss`` themselves, classes whose name starts with ``_``, and
abstract bases that set ``_abstract = True`` in their own class body (such as
:class:`~numpy_ae.nn.Corruption`).
"""
from __future__ import annotations
import numpy as np
from .. import nn
from .gradcheck import check_function, check_layer, check_loss, check_model
from .registry import register
from ..nn.losses import BinaryCrossEntropy, GaussianNLL, MeanSquaredError, SquaredError
from ..nn.sequential import Sequential
from ..nn.noise import GaussianNoise, MaskingNoise, SaltAndPepperNoise
from ..nn.penalties import KLSparsity
from ..nn.losses import SoftmaxCrossEntropy
from ..nn.reparameterize import Reparameterize, gaussian_kl, gaussian_kl_grad
# ---- code regularisers
# L1 activity, contractive, k-sparse, lifetime and spatial winner-take-all (numpy_ae.nn.penalties), alone
# and composed in numpy_ae.models.composable. The selections (k-sparse, WTA) are piecewise linear: a centred
# difference is exact unless the step moves a unit across the selection threshold, so every check here
# keeps the compared values apart (``_distinct`` inputs spaced 2/size apart, far more than the step) or,
# inside a model, uses a seed whose codes have no near-tie (the checker would report a kink, not pass).
from ..models import composable



EPS = 1e-5
N, D, H = 6, 5, 4  # a small random problem: 6 examples, 5 inputs, 4 hidden units


def _rng(seed):
    return np.random.default_rng(seed)


def _away_from_zero(X, margin=1e-2):
    """Move entries away from the kink of ReLU/ELU at 0, where a centred difference straddles it."""
    X = np.array(X)
    X[np.abs(X) < margin] = margin
    return X


@register("ufldl_self_test")
def _ufldl_self_test():
    r"""UFLDL's ``checkNumericalGradient``: :math:`h(x) = x_1^2 + 3 x_1 x_2` at (4, 10); diff about 2e-12."""
    def h(x):
        return x[0] ** 2 + 3 * x[0] * x[1], np.array([2 * x[0] + 3 * x[1], 3 * x[0]])
    return check_function(h, [4.0, 10.0], eps=1e-4)


def _register_layer(name, make, scale=1.0, seed=0, cls=None):
    @register(f"layer_{name}", covers=(cls or make,))
    def _check():
        rng = _rng(seed)
        return check_layer(make(), _away_from_zero(scale * rng.standard_normal((N, D))), random_state=seed, eps=EPS)


_register_layer("dense", lambda: nn.Dense(D, H), cls=nn.Dense)
_register_layer("sigmoid", nn.Sigmoid, scale=2.0)
_register_layer("tanh", nn.Tanh, scale=2.0)
_register_layer("relu", nn.ReLU)
_register_layer("elu", nn.ELU)
_register_layer("identity", nn.Identity)
_register_layer("softplus", nn.Softplus, scale=2.0)


@register("layer_kl_sparsity", covers=(KLSparsity,))
def _kl_layer():
    A = _rng(1).uniform(0.05, 0.95, (N, H))  # KL sparsity acts on activations in (0, 1)
    return check_layer(KLSparsity(sparsity=0.1, beta=3.0), A, random_state=1, eps=EPS)


@register("layer_kl_sparsity_near_0", covers=(KLSparsity,))
def _kl_near_0():
    r""":math:`\hat\rho_j \approx 0.01`: the third derivative of KL, :math:`2\rho/\hat\rho^3`, is large,
    so eps = 1e-6 (the truncation error is about 5e-9 at 1e-5 and 4e-11 at 1e-6)."""
    A = _rng(1).uniform(0.002, 0.02, (N, H))
    return check_layer(KLSparsity(sparsity=0.05, beta=3.0), A, random_state=1, eps=1e-6)


@register("layer_kl_sparsity_near_1", covers=(KLSparsity,))
def _kl_near_1():
    r""":math:`\hat\rho_j \approx 0.99` (a saturating unit), eps = 1e-6 as near 0."""
    A = _rng(2).uniform(0.98, 0.998, (N, H))
    return check_layer(KLSparsity(sparsity=0.05, beta=3.0), A, random_state=2, eps=1e-6)


@register("layer_kl_sparsity_guard", covers=(KLSparsity,))
def _kl_guard():
    r"""Units with :math:`\hat\rho_j < 0` and :math:`> 1`, where the guard's tangent line replaces KL
    (more than a step from the guard point, so the centred difference sees one smooth piece); the
    other two units in (0, 1). With a plain clip this fails: the penalty is flat, its gradient is not."""
    rng = _rng(3)
    A = np.column_stack([rng.uniform(-0.02, -0.01, N), rng.uniform(1.01, 1.02, N), rng.uniform(0.2, 0.8, (N, 2))])
    return check_layer(KLSparsity(sparsity=0.1, beta=3.0), A, random_state=3, eps=EPS)


@register("layer_tied_dense", covers=(nn.TiedDense,))
def _tied():
    r"""Tied weights: ``dense0.W`` gets the sum of the encoder's and the decoder's contributions."""
    enc = nn.Dense(D, H)
    net = Sequential([enc, nn.Sigmoid(), nn.TiedDense(enc)], SquaredError(), random_state=2)
    X = _rng(2).standard_normal((N, D))
    return check_model(net, X, eps=EPS)


def _register_loss(name, make, targets_in_unit=False, logit_scale=1.0, cls=None):
    @register(f"loss_{name}", covers=(cls or make,))
    def _check():
        rng = _rng(3)
        Y = logit_scale * rng.standard_normal((N, D))
        T = rng.uniform(0, 1, (N, D)) if targets_in_unit else rng.standard_normal((N, D))
        return check_loss(make(), Y, T, eps=EPS)


_register_loss("squared_error", SquaredError)
_register_loss("mean_squared_error", MeanSquaredError)
_register_loss("cross_entropy_logits", BinaryCrossEntropy, targets_in_unit=True, logit_scale=3.0)


@register("weight_decay")
def _weight_decay():
    r"""A 2-layer linear network with only :math:`\frac{\lambda}{2}\sum W^2` added to the squared error."""
    net = Sequential([nn.Dense(D, H), nn.Dense(H, D)], SquaredError(), weight_decay=0.1, random_state=4)
    return check_model(net, _rng(4).standard_normal((N, D)), eps=EPS)


@register("sparse_autoencoder")
def _sparse_autoencoder():
    r"""UFLDL's full cost: reconstruction + weight decay (:math:`\lambda=10^{-3}`) + KL sparsity (:math:`\beta=3`)."""
    from ..models.autoencoders import SparseAutoencoder

    ae = SparseAutoencoder(n_hidden=H, sparsity=0.1, beta=3.0, weight_decay=1e-3, random_state=5).initialize(D)
    X = _rng(5).uniform(0.1, 0.9, (N, D))
    return check_model(ae.network_, X, eps=EPS)


@register("sparse_autoencoder_linear_decoder")
def _linear_decoder():
    r"""UFLDL's linear decoder: sigmoid hidden layer, identity output, inputs not in [0, 1]."""
    from ..models.autoencoders import SparseAutoencoder

    ae = SparseAutoencoder(n_hidden=H, sparsity=0.035, beta=5.0, weight_decay=3e-3, decoder="linear",
                           random_state=6).initialize(D)
    X = _rng(6).standard_normal((N, D))
    return check_model(ae.network_, X, eps=EPS)


@register("loss_softmax_cross_entropy", covers=(SoftmaxCrossEntropy,))
def _softmax_loss():
    rng = _rng(3)
    return check_loss(SoftmaxCrossEntropy(), 3.0 * rng.standard_normal((N, D)), rng.integers(0, D, N), eps=EPS)


@register("softmax_regression")
def _softmax_regression():
    r"""UFLDL's softmax cost: cross-entropy of softmax(X W + b) + (lambda/2) sum W^2, b not decayed."""
    from ..models.softmax import SoftmaxRegression

    rng = _rng(7)
    model = SoftmaxRegression(weight_decay=0.1, random_state=7).initialize(D, np.arange(H))  # H = 4 classes
    model.theta[...] = rng.standard_normal(model.theta.shape)  # away from the 0.005 init: every term counts
    X, y = rng.standard_normal((N, D)), rng.integers(0, H, N)
    return check_model(model.network_, X, y, eps=EPS)


@register("linear_autoencoder")
def _linear_autoencoder():
    r"""Identity activations, squared error: the autoencoder that learns the PCA subspace."""
    from ..models.autoencoders import LinearAutoencoder

    ae = LinearAutoencoder(n_components=2, weight_decay=1e-2, random_state=8).initialize(D)
    return check_model(ae.network_, _rng(8).standard_normal((N, D)), eps=EPS)


def _frozen_noise(net):
    """Hold every corruption layer's noise fixed, so each evaluation sees the same function."""
    for layer in net.layers:
        if hasattr(layer, "freeze_noise"):
            layer.freeze_noise()
    return net


def _register_stacked(name, seed, **params):
    @register(name)
    def _check():
        from ..models.stacked import StackedAutoencoder

        ae = StackedAutoencoder(hidden_layer_sizes=(H, 3), random_state=seed, **params).initialize(D)
        X = _rng(seed).uniform(0.0, 1.0, (N, D))
        return check_model(_frozen_noise(ae.network_), _away_from_zero(X), eps=EPS)


_register_stacked("stacked_autoencoder", 9, activation="elu", weight_decay=1e-2)
_register_stacked("stacked_autoencoder_tied", 10, activation="elu", tied=True, weight_decay=1e-2)
_register_stacked("denoising_gaussian", 11, activation="sigmoid", corruption="gaussian", corruption_level=0.2)
_register_stacked("denoising_masking_cross_entropy", 12, activation="sigmoid", tied=True, loss="cross_entropy",
                  corruption="masking", corruption_level=0.3)
_register_stacked("denoising_salt_pepper", 13, activation="tanh", corruption="salt-pepper", corruption_level=0.3)


@register("encoder_classifier")
def _encoder_classifier():
    r"""Fine-tuning: two pretrained sigmoid encoder layers + softmax, with weight decay on all weights."""
    from ..models.classifier import EncoderClassifier, encoder_layers_of
    from ..models.stacked import StackedAutoencoder

    ae = StackedAutoencoder(hidden_layer_sizes=(H, 3), activation="sigmoid", random_state=14).initialize(D)
    clf = EncoderClassifier.from_encoders(encoder_layers_of(ae), n_classes=3, weight_decay=1e-2, random_state=14)
    clf.network_.theta[...] = _rng(14).standard_normal(clf.network_.n_params)
    rng = _rng(15)
    return check_model(clf.network_, rng.uniform(0, 1, (N, D)), rng.integers(0, 3, N), eps=EPS)


def _register_corruption(kind, level, cls):
    @register(f"layer_{kind.replace('-', '_')}_noise", covers=(cls,))
    def _check():
        from ..nn.noise import make_corruption

        layer = make_corruption(kind, level)
        layer.freeze_noise()
        return check_layer(layer, _rng(16).uniform(0, 1, (N, D)), random_state=16, eps=EPS)


for _kind, _cls in (("gaussian", GaussianNoise), ("masking", MaskingNoise), ("salt-pepper", SaltAndPepperNoise)):
    _register_corruption(_kind, 0.3, _cls)


@register("layer_elu_alpha_2", covers=(nn.ELU,))
def _elu_alpha_2():
    r"""ELU with :math:`\alpha \ne 1`, whose backward takes the masked branch."""
    return check_layer(nn.ELU(alpha=2.0), _away_from_zero(_rng(17).standard_normal((N, D))),
                       random_state=17, eps=EPS)


def _register_phase(k, tied, seed):
    r"""Phase ``k`` of :meth:`~numpy_ae.models.stacked.StackedAutoencoder.fit_in_phases` on a 3-layer stack
    ``[D, H, 3, 2]``: the objective of the path (encoder up to layer k, decoder layer k) against its
    target, with weight decay (:math:`\lambda = 0.1`, large so that a mistake shows) on the path's
    weights only. Nothing is frozen here: the check covers every block the path reaches."""
    @register(f"stacked_phase{k}_{'tied' if tied else 'untied'}")
    def _check():
        from ..models.stacked import StackedAutoencoder, _PhaseView

        ae = StackedAutoencoder(hidden_layer_sizes=(H, 3, 2), activation="tanh", tied=tied, weight_decay=0.1,
                                random_state=seed).initialize(D)
        net = ae.network_
        path, _, target_layers = ae._phase_path(k)
        X = _rng(seed).uniform(0.0, 1.0, (N, D))
        T = None if k == 1 else net.forward(X, training=False, layers=target_layers).copy()
        view = _PhaseView(net, path, net.loss if k == 1 else MeanSquaredError())
        return check_model(view, X, T, eps=EPS)


for _k in (1, 2, 3):
    for _is_tied in (False, True):
        _register_phase(_k, _is_tied, seed=20 + 2 * _k + _is_tied)


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
        rng = _rng(seed)
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
    rng = _rng(34)
    w = rng.uniform(0.5, 2.0, N)
    x0 = np.hstack([rng.standard_normal((N, K_LATENT)), rng.uniform(-3.0, 2.0, (N, K_LATENT))]).ravel()

    def f(x):
        X = x.reshape(N, 2 * K_LATENT)
        mu, log_var = X[:, :K_LATENT], X[:, K_LATENT:]
        dmu, dlog_var = gaussian_kl_grad(mu, log_var)
        return float(w @ gaussian_kl(mu, log_var)), np.hstack([w[:, None] * dmu, w[:, None] * dlog_var]).ravel()

    return check_function(f, x0, eps=EPS)


_register_loss("gaussian_nll", lambda: GaussianNLL(variance=0.3), cls=GaussianNLL)


def _register_vae(name, seed, **params):
    r"""The full VAE objective (reconstruction + beta KL + weight decay) with frozen eps, every block."""
    @register(name)
    def _check():
        from ..models.variational import VariationalAutoencoder

        vae = VariationalAutoencoder(hidden_layer_sizes=(H,), n_latent=K_LATENT, random_state=seed,
                                     **params).initialize(D)
        X = _rng(seed).uniform(0.0, 1.0, (N, D))
        return check_model(_frozen_noise(vae.network_), X, eps=EPS)


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
        rng = _rng(seed)
        X = np.hstack([rng.standard_normal((N, K_LATENT)), rng.uniform(-2.0, 1.0, (N, K_LATENT))])
        layer = Reparameterize(K_LATENT, "log_var", capacity=capacity, gamma=50.0)
        layer.freeze_noise()
        return check_layer(layer, X, random_state=seed, eps=EPS)


_register_capacity("layer_reparameterize_capacity_below_kl", 0.5, 39)
_register_capacity("layer_reparameterize_capacity_above_kl", 3.0, 40)


@register("vae_capacity")
def _vae_capacity():
    r"""The full VAE with the capacity objective (C = 0.1 nats, gamma = 20), Bernoulli, frozen eps."""
    from ..models.variational import VariationalAutoencoder

    vae = VariationalAutoencoder(hidden_layer_sizes=(H,), n_latent=K_LATENT, activation="tanh", capacity=0.1,
                                 capacity_gamma=20.0, random_state=41).initialize(D)
    X = _rng(41).uniform(0.0, 1.0, (N, D))
    return check_model(_frozen_noise(vae.network_), X, eps=EPS)


# --------------------------------------------------------------------------
# Side inputs and the conditional VAE
# --------------------------------------------------------------------------
N_CLASSES = 3


def _onehot(index, n_classes):
    out = np.zeros((index.size, n_classes))
    out[np.arange(index.size), index] = 1.0
    return out


@register("layer_join_condition", covers=(nn.JoinCondition,))
def _join_condition():
    r"""``[X, C]`` with a fixed one-hot C: dX must be the first D columns of the probe R (C is data)."""
    rng = _rng(42)
    layer = nn.JoinCondition(N_CLASSES)
    layer.condition = _onehot(rng.integers(0, N_CLASSES, N), N_CLASSES)
    return check_layer(layer, rng.standard_normal((N, D)), random_state=42, eps=EPS)


def _register_cvae(name, seed, **params):
    r"""The full conditional VAE objective (label joined to the encoder input and to z) with frozen eps,
    every block: the label columns of both first Dense layers get their gradient through the join."""
    @register(name)
    def _check():
        from ..models.conditional import ConditionalVAE

        rng = _rng(seed)
        cvae = ConditionalVAE(hidden_layer_sizes=(H,), n_latent=K_LATENT, random_state=seed,
                              **params).initialize(D, classes=np.arange(N_CLASSES))
        cvae.network_.set_condition(_onehot(rng.permutation(N) % N_CLASSES, N_CLASSES))
        X = rng.uniform(0.0, 1.0, (N, D))
        return check_model(_frozen_noise(cvae.network_), X, eps=EPS)


_register_cvae("conditional_vae_bernoulli", 43, activation="tanh")
_register_cvae("conditional_vae_gaussian_sigma_beta_2", 44, activation="elu", likelihood="gaussian",
               parameterization="sigma", beta=2.0, weight_decay=1e-2)


# --------------------------------------------------------------------------
# Layers on images (numpy_ae.nn.spatial)
# --------------------------------------------------------------------------

def _distinct(shape, seed):
    r"""A random permutation of evenly spaced values in [-1, 1): every entry differs from every other by
    at least :math:`2/\mathrm{size}`, far more than the step, so each pooling window has one maximum and
    a centred difference never crosses a tie (where the max is not differentiable)."""
    n = int(np.prod(shape))
    return (_rng(seed).permutation(n) * (2.0 / n) - 1.0).reshape(shape)


def _register_spatial(name, make, shape, seed, cls):
    @register(f"layer_{name}", covers=(cls,))
    def _check():
        return check_layer(make(), _distinct(shape, seed), random_state=seed, eps=EPS)


# (N, C, H, W): odd and non-square sizes, a batch of one, overlapping windows (stride < pool_size),
# windows with gaps (stride > pool_size) and trailing rows/columns that no window reaches
_register_spatial("maxpool2d", lambda: nn.MaxPool2D(2), (3, 2, 4, 6), 50, nn.MaxPool2D)
_register_spatial("maxpool2d_odd_floor", lambda: nn.MaxPool2D(2), (2, 3, 5, 7), 51, nn.MaxPool2D)
_register_spatial("maxpool2d_overlap_3s1", lambda: nn.MaxPool2D(3, stride=1), (2, 2, 5, 4), 52,
                  nn.MaxPool2D)
_register_spatial("maxpool2d_overlap_3s2_batch1", lambda: nn.MaxPool2D(3, stride=2), (1, 3, 7, 5), 53,
                  nn.MaxPool2D)
_register_spatial("maxpool2d_gaps_2s3", lambda: nn.MaxPool2D(2, stride=3), (2, 1, 5, 8), 54,
                  nn.MaxPool2D)
_register_spatial("upsample2d", lambda: nn.Upsample2D(2), (3, 2, 3, 5), 55, nn.Upsample2D)
_register_spatial("upsample2d_scale3_batch1", lambda: nn.Upsample2D(3), (1, 2, 3, 2), 56, nn.Upsample2D)
_register_spatial("flatten", nn.Flatten, (3, 2, 3, 5), 57, nn.Flatten)
_register_spatial("reshape", lambda: nn.Reshape((2, 3, 5)), (3, 30), 58, nn.Reshape)


@register("dense_reshape_maxpool_flatten", covers=(nn.Reshape, nn.MaxPool2D, nn.Upsample2D,
                                                   nn.Flatten))
def _spatial_model():
    r"""The image layers between Dense layers, one flat theta: Dense(5, 2*4*6) -> Tanh -> Reshape(2, 4, 6)
    -> MaxPool2D(3, stride=1) (overlapping) -> Upsample2D(2) -> Flatten -> Dense(2*4*8, 5), squared error.
    Random weights make ties in a window unlikely (none at this seed: the check would flag a kink)."""
    net = Sequential([nn.Dense(D, 48), nn.Tanh(), nn.Reshape((2, 4, 6)),
                      nn.MaxPool2D(3, stride=1), nn.Upsample2D(2), nn.Flatten(),
                      nn.Dense(2 * 4 * 8, D)], SquaredError(), weight_decay=1e-2, random_state=59)
    return check_model(net, _rng(59).standard_normal((N, D)), eps=EPS)

# ---------------------------------------------------------------- convolutions
# Small images so each check takes milliseconds; sizes chosen so that every
# case has stride > 1 or padding, odd and non-square sizes, and one a batch of one.
# A convolution is linear in X and in (W, b), so the centred difference has no
# truncation error: only rounding (about 1e-16 |J| / eps) is left.

def _register_conv(name, make, x_shape, seed):
    layer_cls = type(make())

    @register(f"layer_{name}", covers=(layer_cls,))
    def _check():
        rng = _rng(seed)
        return check_layer(make(), rng.standard_normal(x_shape), random_state=seed, eps=EPS)


_register_conv("conv2d_stride2_pad1", lambda: nn.Conv2D(2, 3, (3, 2), stride=2, padding=1), (2, 2, 7, 6), 50)
_register_conv("conv2d_stride_2x1_pad_0x2_batch1",
               lambda: nn.Conv2D(3, 2, (2, 3), stride=(2, 1), padding=(0, 2)), (1, 3, 5, 4), 51)
_register_conv("conv_transpose2d_stride2_pad1",
               lambda: nn.ConvTranspose2D(3, 2, (3, 2), stride=2, padding=1), (2, 3, 3, 4), 52)
_register_conv("conv_transpose2d_stride_1x3_batch1",
               lambda: nn.ConvTranspose2D(2, 3, (2, 3), stride=(1, 3), padding=(1, 0)), (1, 2, 3, 2), 53)
_register_conv("conv_transpose2d_output_padding_same",
               lambda: nn.ConvTranspose2D(2, 3, 3, stride=2, padding=1, output_padding=1), (2, 2, 3, 4), 58)
_register_conv("conv_transpose2d_output_padding_gt_padding",
               lambda: nn.ConvTranspose2D(2, 2, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2)),
               (1, 2, 3, 2), 59)


@register("conv_autoencoder")
def _conv_autoencoder():
    """A small ConvAutoencoder (float64, 5x6 images of 2 channels): Conv-ReLU-MaxPool twice, two stride-2
    transposed convolutions (odd and even sizes: padding/output_padding per axis), cross-entropy from logits.
    Inputs are drawn so no pooling window holds a tie."""
    from ..models.convolutional import ConvAutoencoder

    ae = ConvAutoencoder(image_shape=(2, 5, 6), filters=(3, 2), activation="elu", weight_decay=1e-2,
                         random_state=60).initialize(60)
    X = _rng(60).uniform(0.05, 0.95, (3, 60))
    return check_model(ae.network_, X, eps=EPS)


_register_conv("conv1d_stride2_pad2", lambda: nn.Conv1D(2, 3, 3, stride=2, padding=2), (2, 2, 9), 54)
_register_conv("conv1d_batch1", lambda: nn.Conv1D(3, 2, 4, stride=3), (1, 3, 11), 55)
_register_conv("conv_transpose1d_stride3_pad1",
               lambda: nn.ConvTranspose1D(3, 2, 4, stride=3, padding=1), (2, 3, 5), 56)
_register_conv("conv_transpose1d_batch1", lambda: nn.ConvTranspose1D(2, 2, 3, stride=2), (1, 2, 4), 57)


@register("layer_l1_activity", covers=(nn.L1Activity,))
def _l1_activity():
    r"""Penalty :math:`\frac{\lambda}{N}\sum|a|`, gradient :math:`\frac{\lambda}{N}\mathrm{sign}(a)`; inputs of both
    signs, at least 1e-2 from the kink at 0."""
    return check_layer(nn.L1Activity(0.7), _away_from_zero(_rng(70).standard_normal((N, H))),
                       random_state=70, eps=EPS)


def _register_contractive(name, activation, seed, weight_decay=0.0, tied=False):
    @register(name, covers=(nn.Contractive,))
    def _check():
        enc = nn.Dense(D, H)
        dec = nn.TiedDense(enc) if tied else nn.Dense(H, D)
        net = Sequential([enc, nn.make_activation(activation),
                          nn.Contractive(2.0, enc, activation), dec], SquaredError(),
                         weight_decay=weight_decay, random_state=seed)
        net.theta[...] = _rng(seed).standard_normal(net.n_params)  # large weights: the penalty's terms count
        return check_model(net, _rng(seed + 1).standard_normal((N, D)), eps=EPS)


# the encoder's dW receives the penalty's 2 lambda/N W sum_n g'^2 on top of its own share (and, tied, the decoder's)
_register_contractive("contractive_sigmoid", "sigmoid", 71)
_register_contractive("contractive_tanh_weight_decay", "tanh", 73, weight_decay=0.1)
_register_contractive("contractive_sigmoid_tied_weight_decay", "sigmoid", 75, weight_decay=0.1, tied=True)


@register("layer_k_sparse", covers=(nn.KSparse,))
def _k_sparse():
    """Keeps the 2 largest of 4 units per example; the gradient flows through that support only."""
    return check_layer(nn.KSparse(2), _distinct((N, H), 77), random_state=77, eps=EPS)


@register("layer_lifetime_wta", covers=(nn.LifetimeWTA,))
def _lifetime_wta():
    """Each of 4 units keeps its ceil(0.34 * 6) = 3 largest activities over 6 examples."""
    return check_layer(nn.LifetimeWTA(0.34), _distinct((N, H), 78), random_state=78, eps=EPS)


@register("layer_lifetime_wta_maps", covers=(nn.LifetimeWTA,))
def _lifetime_wta_maps():
    """(N, C, H, W) = (4, 3, 2, 3): per channel, the 2 examples with the largest map maxima keep their maps."""
    return check_layer(nn.LifetimeWTA(0.5), _distinct((4, 3, 2, 3), 79), random_state=79, eps=EPS)


@register("layer_spatial_wta", covers=(nn.SpatialWTA,))
def _spatial_wta():
    """(N, C, H, W) = (3, 2, 3, 4): each map keeps its largest activity."""
    return check_layer(nn.SpatialWTA(), _distinct((3, 2, 3, 4), 80), random_state=80, eps=EPS)


@register("conv_wta_model", covers=(nn.SpatialWTA, nn.LifetimeWTA))
def _conv_wta_model():
    r"""Conv-WTA's two selections in a model: Dense(5, 2*2*3) -> Tanh -> Reshape(2, 2, 3) -> SpatialWTA ->
    LifetimeWTA(0.5) -> Flatten -> Dense(12, 5), weight decay 1e-2."""
    net = Sequential([nn.Dense(D, 12), nn.Tanh(), nn.Reshape((2, 2, 3)), nn.SpatialWTA(),
                      nn.LifetimeWTA(0.5), nn.Flatten(), nn.Dense(12, D)], SquaredError(),
                     weight_decay=1e-2, random_state=81)
    return check_model(net, _rng(81).standard_normal((N, D)), eps=EPS)


def _register_regularized(name, seed, cls=composable.RegularizedAutoencoder, unit_inputs=True, covers=(),
                          **params):
    @register(name, covers=covers)
    def _check():
        ae = cls(random_state=seed, **params).initialize(D)
        X = _rng(seed).uniform(0.05, 0.95, (N, D)) if unit_inputs else _rng(seed).standard_normal((N, D))
        return check_model(_frozen_noise(ae.network_), X, eps=EPS)


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


# ---- time series
# Dropout holds its mask fixed (freeze_noise) so that every evaluation sees one function: with the mask
# fixed the layer is linear in X, and the centred difference has rounding error only.

def _frozen_dropout(rate):
    layer = nn.Dropout(rate)
    layer.freeze_noise()
    return layer


@register("layer_dropout_frozen_mask", covers=(nn.Dropout,))
def _dropout():
    r"""Inverted dropout at rate 0.4 on (N, D) with a frozen mask: dX must be :math:`m \odot R / (1 - r)`."""
    return check_layer(_frozen_dropout(0.4), _rng(70).standard_normal((N, D)), random_state=70, eps=EPS)


@register("layer_dropout_frozen_mask_sequences", covers=(nn.Dropout,))
def _dropout_sequences():
    """Dropout on (N, C, L) sequences, as between the convolutions of Conv1DAutoencoder."""
    return check_layer(_frozen_dropout(0.2), _rng(71).standard_normal((2, 3, 7)), random_state=71, eps=EPS)


@register("conv1d_autoencoder")
def _conv1d_autoencoder():
    r"""A small Conv1DAutoencoder (windows of 11 steps, 2 channels): two stride-2 Conv1D + tanh (dropout
    between them, mask frozen), transposed convolutions back (11 -> 6 -> 3 -> 6 -> 11: odd and even
    lengths, padding and output_padding per stage), a last stride-1 transposed convolution, MSE, weight decay."""
    from ..models.sequence import Conv1DAutoencoder

    ae = Conv1DAutoencoder(filters=(3, 2), kernel_size=3, dropout=0.25, activation="tanh", weight_decay=1e-2,
                           random_state=72).initialize(22)
    ae.series_shape_ = (2, 11)
    ae.initialize(22)  # rebuilt as 2 channels of 11 steps
    X = _rng(72).standard_normal((4, 22))
    return check_model(_frozen_noise(ae.network_), X, eps=EPS)

# ---- conv autoencoder phases
# Greedy layer-wise pretraining of ConvAutoencoder (fit_in_phases): each phase's objective on its own
# path (encoder blocks 1..k, decoder block k), with weight decay on the path's kernels only; the
# fine-tuning phase is the whole mirror network. One channel of 8x9 images, three poolings
# (8x9 -> 4x4 -> 2x2 -> 1x1: odd and even sizes, so the transposed convolutions use per-axis padding
# and output padding). Inputs are continuous random numbers: no pooling window holds a tie.

_register_layer("selu", nn.SELU, scale=2.0)


def _conv_phase_model(seed, activation, image_shape=(1, 8, 9), filters=(3, 2, 2)):
    from ..models.convolutional import ConvAutoencoder

    D = int(np.prod(image_shape))
    ae = ConvAutoencoder(image_shape=image_shape, filters=filters, output_conv=False, activation=activation,
                         weight_decay=0.1, random_state=seed).initialize(D)
    return ae, _rng(seed).uniform(0.05, 0.95, (3, D))


def _register_conv_phase(k, activation, seed):
    r"""Phase ``k`` of :meth:`~numpy_ae.models.convolutional.ConvAutoencoder.fit_in_phases`: the path's loss
    (cross-entropy against ``X`` for k = 1, squared error summed over features against block k-1's
    output after),
    plus :math:`\frac{\lambda}{2}\sum W^2` over the kernels on the path (:math:`\lambda = 0.1`)."""
    @register(f"conv_autoencoder_phase{k}_{activation}")
    def _check():
        from ..models.convolutional import _forward_in_batches
        from ..models.stacked import _PhaseView

        ae, X = _conv_phase_model(seed, activation)
        net = ae.network_
        path, _, target_layers = ae._phase_path(k)
        T = None if k == 1 else _forward_in_batches(net, X, target_layers)
        view = _PhaseView(net, path, ae._phase_loss(k))
        return check_model(view, X, T, eps=EPS)


for _k in (1, 2, 3):
    _register_conv_phase(_k, "selu", 70 + _k)


@register("conv_autoencoder_mirror_selu", covers=(nn.SELU,))
def _conv_autoencoder_mirror():
    """The fine-tuning phase: the whole ConvAutoencoder with output_conv=False (the decoder ends in a
    stride-2 transposed convolution to the image's channels, as Hands-On ML's), SELU, weight decay;
    2 channels of 4x5 images, two poolings (4x5 -> 2x2 -> 1x1)."""
    ae, X = _conv_phase_model(75, "selu", image_shape=(2, 4, 5), filters=(3, 2))
    return check_model(ae.network_, X, eps=EPS)


# ---- convolutional winner-take-all autoencoder
@register("conv_wta_autoencoder")
def _conv_wta_autoencoder():
    """ConvWTAAutoencoder (float64, 5x6 images): Conv-ReLU, spatial then lifetime WTA (half the batch), a linear
    convolution back, cross-entropy, weight decay. Uniform inputs give distinct activities, so no selection
    changes within the step."""
    from ..models.convolutional import ConvWTAAutoencoder

    ae = ConvWTAAutoencoder(image_shape=(1, 5, 6), filters=(3,), kernel_size=3, lifetime_sparsity=0.5,
                            weight_decay=1e-2, random_state=88).initialize(30)
    X = _rng(88).uniform(0.05, 0.95, (4, 30))
    return check_model(ae.network_, X, eps=EPS)

# ---- adversarial autoencoder
# Each phase's objective of numpy_ae.models.adversarial.AdversarialAutoencoder, with the gradient the training
# loop uses (the estimator's own *_loss_and_grad methods): no new Layer or Loss class, so these checks
# cover nothing new for the coverage test, but they check how the three networks are joined.

def _small_aae(seed, **params):
    from ..models.adversarial import AdversarialAutoencoder

    params = {"hidden_layer_sizes": (H,), "n_latent": 2, "activation": "tanh", "discriminator_hidden": (4, 3),
              "random_state": seed, **params}
    return AdversarialAutoencoder(**params).initialize(D)


class _GeneratorObjective:
    r""":math:`J_G(\theta)` of an AdversarialAutoencoder as :func:`~numpy_ae.check.gradcheck.check_model` sees a model:
    the autoencoder's ``theta``, the ENCODER's blocks (the decoder does not enter :math:`J_G`), and
    ``compute`` = :meth:`~numpy_ae.models.adversarial.AdversarialAutoencoder.generator_loss_and_grad` (the
    discriminator's input gradient backpropagated into the encoder)."""

    def __init__(self, aae, components=None):
        self.aae, self.components = aae, components
        net = aae.network_
        self.theta = net.theta
        encoder = aae.encoder_layers
        self.blocks = [b for b in net.blocks if any(b.layer is layer for layer in encoder)]
        self.layers = list(encoder) + list(aae.discriminator_.layers)
        self.loss = aae.discriminator_.loss

    def compute(self, X, T=None):
        return self.aae.generator_loss_and_grad(X, self.components)

    def loss_and_grad(self, theta, X, T=None):
        self.aae.network_.set_theta(theta)
        J = self.compute(X)
        return J, self.aae.network_.grad.copy()


def _aae_components(supervised, seed):
    return _rng(seed).permutation(N) % 3 if supervised else None


def _register_aae_reconstruction(name, seed, **params):
    @register(name)
    def _check():
        r"""Phase 1: :math:`J_{\text{rec}}` (reconstruction + weight decay) over the encoder and decoder."""
        aae = _small_aae(seed, **params)
        return check_model(aae.network_, _rng(seed).uniform(0.0, 1.0, (N, D)), eps=EPS)


_register_aae_reconstruction("aae_reconstruction_cross_entropy", 70, weight_decay=1e-2)
_register_aae_reconstruction("aae_reconstruction_mse", 71, loss="mse", activation="sigmoid")


def _register_aae_discriminator(name, seed, **params):
    @register(name)
    def _check():
        r"""Phase 2: :math:`J_D` over the discriminator's parameters, for fixed prior samples (label 1) and
        codes (label 0); with ``supervised`` the one-hot component joined to both."""
        aae = _small_aae(seed, **params)
        rng = _rng(seed)
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
        return check_model(_GeneratorObjective(aae, comps), _rng(seed).uniform(0.0, 1.0, (N, D)), eps=EPS)


_register_aae_generator("aae_generator_gaussian", 74)
_register_aae_generator("aae_generator_supervised_mixture", 75, prior="mixture", n_components=3, supervised=True)


@register("aae_discriminator_input_gradient")
def _aae_discriminator_input_gradient():
    r""":math:`\partial J_D/\partial z` for the codes ``z`` (N, 2) at fixed prior samples and parameters: the
    input gradient that phase 3 sends into the encoder (``Sequential.backward(..., input_grad=True)``)."""
    aae = _small_aae(76, prior="mixture", n_components=4)
    rng = _rng(76)
    Zp = aae.prior_.sample(N, rng)
    T = np.vstack([np.ones((N, 1)), np.zeros((N, 1))])

    def f(z):
        J, dZ = aae._discriminator_pass(np.vstack([Zp, z.reshape(N, 2)]), T, input_grad=True)
        return J, dZ[N:].ravel()

    return check_function(f, rng.standard_normal(2 * N), eps=EPS)


# ---- encoder classifier with regularised encoders
# EncoderClassifier keeps KSparse (part of the encoding) and leaves the penalty-only and training-only
# layers out; its KSparse keeps round(alpha k) units in training too (numpy_ae.models.classifier). The selection
# is piecewise linear: the seed is one whose codes have no near-tie at the threshold (the checker would
# report a kink, not pass).

@register("encoder_classifier_k_sparse", covers=(nn.KSparse,))
def _encoder_classifier_k_sparse():
    r"""Fine-tuning a k-sparse encoder: Dense(5, 4) -> identity -> KSparse (k = 2, alpha = 1.5: 3 of 4 units
    kept, in training as at inference) -> Dense(4, 3) -> softmax, weight decay 1e-2, at random weights."""
    from ..models.classifier import EncoderClassifier, encoder_layers_of

    ae = composable.KSparseAutoencoder(hidden_layer_sizes=(H,), k=2, alpha=1.5, random_state=90).initialize(D)
    clf = EncoderClassifier.from_encoders(encoder_layers_of(ae), n_classes=3, weight_decay=1e-2, random_state=90)
    clf.network_.theta[...] = _rng(90).standard_normal(clf.network_.n_params)
    rng = _rng(91)
    return check_model(clf.network_, rng.standard_normal((N, D)), rng.integers(0, 3, N), eps=EPS)
