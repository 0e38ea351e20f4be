r"""Checks of the code regularisers: KL sparsity (also near 0, near 1 and past its guard), L1 activity,
contractive, k-sparse, lifetime and spatial winner-take-all, alone and in a small model.
"""
from __future__ import annotations
import numpy as np
from ... import nn
from ...nn.losses import SquaredError
from ...nn.penalties import KLSparsity
from ...nn.sequential import Sequential
from ...train.parallel import MIN_ROWS, RowSplit
from ..gradcheck import check_function, check_layer, check_model
from ..registry import register
from .common import D, EPS, H, N, away_from_zero, distinct, make_rng


# ---- code regularisers
# L1 activity, contractive, k-sparse, lifetime and spatial winner-take-all (numpy_ae.nn.penalties), alone
# and composed in numpy_ae.models.composable. The selections (k-sparse, WTA) are piecewise linear: a centred
# difference is exact unless the step moves a unit across the selection threshold, so every check here
# keeps the compared values apart (``_distinct`` inputs spaced 2/size apart, far more than the step) or,
# inside a model, uses a seed whose codes have no near-tie (the checker would report a kink, not pass).


@register("layer_kl_sparsity", covers=(KLSparsity,))
def _kl_layer():
    A = make_rng(1).uniform(0.05, 0.95, (N, H))  # KL sparsity acts on activations in (0, 1)
    return check_layer(KLSparsity(sparsity=0.1, beta=3.0), A, random_state=1, eps=EPS)


@register("layer_kl_sparsity_near_0", covers=(KLSparsity,))
def _kl_near_0():
    r""":math:`\hat\rho_j \approx 0.01`: the third derivative of KL, :math:`2\rho/\hat\rho^3`, is large,
    so eps = 1e-6 (the truncation error is about 5e-9 at 1e-5 and 4e-11 at 1e-6)."""
    A = make_rng(1).uniform(0.002, 0.02, (N, H))
    return check_layer(KLSparsity(sparsity=0.05, beta=3.0), A, random_state=1, eps=1e-6)


@register("layer_kl_sparsity_near_1", covers=(KLSparsity,))
def _kl_near_1():
    r""":math:`\hat\rho_j \approx 0.99` (a saturating unit), eps = 1e-6 as near 0."""
    A = make_rng(2).uniform(0.98, 0.998, (N, H))
    return check_layer(KLSparsity(sparsity=0.05, beta=3.0), A, random_state=2, eps=1e-6)


@register("layer_kl_sparsity_guard", covers=(KLSparsity,))
def _kl_guard():
    r"""Units with :math:`\hat\rho_j < 0` and :math:`> 1`, where the guard's tangent line replaces KL
    (more than a step from the guard point, so the centred difference sees one smooth piece); the
    other two units in (0, 1). With a plain clip this fails: the penalty is flat, its gradient is not."""
    rng = make_rng(3)
    A = np.column_stack([rng.uniform(-0.02, -0.01, N), rng.uniform(1.01, 1.02, N), rng.uniform(0.2, 0.8, (N, 2))])
    return check_layer(KLSparsity(sparsity=0.1, beta=3.0), A, random_state=3, eps=EPS)


@register("model_kl_sparsity_split_by_rows")  # covers no class: check_function sees a function, not layers
def _kl_split():
    r"""The fast sparse autoencoder's objective split by rows across 2 threads (numpy_ae.train.parallel): each
    block's layer gets the whole batch's :math:`\hat\rho` (:class:`~numpy_ae.train.parallel.ColumnSums`), its
    delta term uses the block's rows and the block's gradient is weighted by its share; uneven blocks."""
    net = Sequential([nn.Dense(D, H), nn.Sigmoid(), KLSparsity(sparsity=0.1, beta=3.0), nn.Dense(H, D), nn.Sigmoid()],
                     SquaredError(), weight_decay=1e-2, random_state=5, fast=True)
    X = make_rng(5).uniform(0.0, 1.0, (2 * MIN_ROWS + 3, D))
    split = RowSplit(net, threads=2)
    return check_function(lambda theta: split.loss_and_grad(theta, X), net.theta, eps=EPS)


@register("layer_l1_activity", covers=(nn.L1Activity,))
def _l1_activity():
    r"""Penalty :math:`\frac{\lambda}{N}\sum|a|`, gradient :math:`\frac{\lambda}{N}\mathrm{sign}(a)`; inputs of both
    signs, at least 1e-2 from the kink at 0."""
    return check_layer(nn.L1Activity(0.7), away_from_zero(make_rng(70).standard_normal((N, H))),
                       random_state=70, eps=EPS)


def _register_contractive(name, activation, seed, weight_decay=0.0, tied=False):
    @register(name, covers=(nn.Contractive,))
    def _check():
        enc = nn.Dense(D, H)
        dec = nn.TiedDense(enc) if tied else nn.Dense(H, D)
        net = Sequential([enc, nn.make_activation(activation),
                          nn.Contractive(2.0, enc, activation), dec], SquaredError(),
                         weight_decay=weight_decay, random_state=seed)
        net.theta[...] = make_rng(seed).standard_normal(net.n_params)  # large weights: the penalty's terms count
        return check_model(net, make_rng(seed + 1).standard_normal((N, D)), eps=EPS)


# the encoder's dW receives the penalty's 2 lambda/N W sum_n g'^2 on top of its own share (and, tied, the decoder's)
_register_contractive("contractive_sigmoid", "sigmoid", 71)
_register_contractive("contractive_tanh_weight_decay", "tanh", 73, weight_decay=0.1)
_register_contractive("contractive_sigmoid_tied_weight_decay", "sigmoid", 75, weight_decay=0.1, tied=True)


@register("layer_k_sparse", covers=(nn.KSparse,))
def _k_sparse():
    """Keeps the 2 largest of 4 units per example; the gradient flows through that support only."""
    return check_layer(nn.KSparse(2), distinct((N, H), 77), random_state=77, eps=EPS)


@register("layer_lifetime_wta", covers=(nn.LifetimeWTA,))
def _lifetime_wta():
    """Each of 4 units keeps its ceil(0.34 * 6) = 3 largest activities over 6 examples."""
    return check_layer(nn.LifetimeWTA(0.34), distinct((N, H), 78), random_state=78, eps=EPS)


@register("layer_lifetime_wta_maps", covers=(nn.LifetimeWTA,))
def _lifetime_wta_maps():
    """(N, C, H, W) = (4, 3, 2, 3): per channel, the 2 examples with the largest map maxima keep their maps."""
    return check_layer(nn.LifetimeWTA(0.5), distinct((4, 3, 2, 3), 79), random_state=79, eps=EPS)


@register("layer_spatial_wta", covers=(nn.SpatialWTA,))
def _spatial_wta():
    """(N, C, H, W) = (3, 2, 3, 4): each map keeps its largest activity."""
    return check_layer(nn.SpatialWTA(), distinct((3, 2, 3, 4), 80), random_state=80, eps=EPS)


@register("conv_wta_model", covers=(nn.SpatialWTA, nn.LifetimeWTA))
def _conv_wta_model():
    r"""Conv-WTA's two selections in a model: Dense(5, 2*2*3) -> Tanh -> Reshape(2, 2, 3) -> SpatialWTA ->
    LifetimeWTA(0.5) -> Flatten -> Dense(12, 5), weight decay 1e-2."""
    net = Sequential([nn.Dense(D, 12), nn.Tanh(), nn.Reshape((2, 2, 3)), nn.SpatialWTA(),
                      nn.LifetimeWTA(0.5), nn.Flatten(), nn.Dense(12, D)], SquaredError(),
                     weight_decay=1e-2, random_state=81)
    return check_model(net, make_rng(81).standard_normal((N, D)), eps=EPS)
