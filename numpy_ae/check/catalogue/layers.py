r"""Checks of the plain layers: dense (tied too), the activations, weight decay, the corruptions and
dropout with frozen noise; and UFLDL's self-test of the checker itself.
"""
from __future__ import annotations
import numpy as np
from ... import nn
from ...nn.noise import GaussianNoise, MaskingNoise, SaltAndPepperNoise, make_corruption
from ...nn.losses import SquaredError
from ...nn.sequential import Sequential
from ..gradcheck import check_function, check_layer, check_model
from ..registry import register
from .common import D, EPS, H, N, away_from_zero, make_rng, register_layer


@register("ufldl_self_test")
def _ufldl_self_test():
    r"""UFLDL's ``checkNumericalGradient``: :math:`h(x) = x_1^2 + 3 x_1 x_2` at (4, 10); diff about 2e-12."""
    def h(x):
        return x[0] ** 2 + 3 * x[0] * x[1], np.array([2 * x[0] + 3 * x[1], 3 * x[0]])
    return check_function(h, [4.0, 10.0], eps=1e-4)


register_layer("dense", lambda: nn.Dense(D, H), cls=nn.Dense)
register_layer("sigmoid", nn.Sigmoid, scale=2.0)
register_layer("tanh", nn.Tanh, scale=2.0)
register_layer("relu", nn.ReLU)
register_layer("elu", nn.ELU)
register_layer("identity", nn.Identity)
register_layer("softplus", nn.Softplus, scale=2.0)
register_layer("selu", nn.SELU, scale=2.0)


@register("layer_tied_dense", covers=(nn.TiedDense,))
def _tied():
    r"""Tied weights: ``dense0.W`` gets the sum of the encoder's and the decoder's contributions."""
    enc = nn.Dense(D, H)
    net = Sequential([enc, nn.Sigmoid(), nn.TiedDense(enc)], SquaredError(), random_state=2)
    X = make_rng(2).standard_normal((N, D))
    return check_model(net, X, eps=EPS)


@register("weight_decay")
def _weight_decay():
    r"""A 2-layer linear network with only :math:`\frac{\lambda}{2}\sum W^2` added to the squared error."""
    net = Sequential([nn.Dense(D, H), nn.Dense(H, D)], SquaredError(), weight_decay=0.1, random_state=4)
    return check_model(net, make_rng(4).standard_normal((N, D)), eps=EPS)


def _register_corruption(kind, level, cls):
    @register(f"layer_{kind.replace('-', '_')}_noise", covers=(cls,))
    def _check():
        layer = make_corruption(kind, level)
        layer.freeze_noise()
        return check_layer(layer, make_rng(16).uniform(0, 1, (N, D)), random_state=16, eps=EPS)


for _kind, _cls in (("gaussian", GaussianNoise), ("masking", MaskingNoise), ("salt-pepper", SaltAndPepperNoise)):
    _register_corruption(_kind, 0.3, _cls)


@register("layer_elu_alpha_2", covers=(nn.ELU,))
def _elu_alpha_2():
    r"""ELU with :math:`\alpha \ne 1`, whose backward takes the masked branch."""
    return check_layer(nn.ELU(alpha=2.0), away_from_zero(make_rng(17).standard_normal((N, D))),
                       random_state=17, eps=EPS)


# ---- dropout
# Dropout holds its mask fixed (freeze_noise) so that every evaluation sees one function: with the mask
# fixed the layer is linear in X, and the centred difference has rounding error only.

def _frozen_dropout(rate):
    layer = nn.Dropout(rate)
    layer.freeze_noise()
    return layer


@register("layer_dropout_frozen_mask", covers=(nn.Dropout,))
def _dropout():
    r"""Inverted dropout at rate 0.4 on (N, D) with a frozen mask: dX must be :math:`m \odot R / (1 - r)`."""
    return check_layer(_frozen_dropout(0.4), make_rng(70).standard_normal((N, D)), random_state=70, eps=EPS)


@register("layer_dropout_frozen_mask_sequences", covers=(nn.Dropout,))
def _dropout_sequences():
    """Dropout on (N, C, L) sequences, as between the convolutions of Conv1DAutoencoder."""
    return check_layer(_frozen_dropout(0.2), make_rng(71).standard_normal((2, 3, 7)), random_state=71, eps=EPS)
