r"""What the checks of the catalogue share: the problem size, the step, seeded inputs,
and the two registration helpers for one layer and one loss.
"""
from __future__ import annotations
import numpy as np
from ..gradcheck import check_layer, check_loss
from ..registry import register

__all__ = ['EPS', 'N', 'D', 'H', 'N_CLASSES', 'make_rng', 'away_from_zero', 'onehot', 'distinct', 'frozen_noise',
           'register_layer', 'register_loss']


EPS = 1e-5
N, D, H = 6, 5, 4  # a small random problem: 6 examples, 5 inputs, 4 hidden units


def make_rng(seed):
    return np.random.default_rng(seed)


def away_from_zero(X, margin=1e-2):
    """Move entries away from the kink of ReLU/ELU at 0, where a centred difference straddles it."""
    X = np.array(X)
    X[np.abs(X) < margin] = margin
    return X


N_CLASSES = 3  # classes of the conditional checks


def onehot(index, n_classes):
    out = np.zeros((index.size, n_classes))
    out[np.arange(index.size), index] = 1.0
    return out


def distinct(shape, seed):
    r"""A random permutation of evenly spaced values in [-1, 1): every entry differs from every other by
    at least :math:`2/\mathrm{size}`, far more than the step, so each pooling window has one maximum and
    a centred difference never crosses a tie (where the max is not differentiable)."""
    n = int(np.prod(shape))
    return (make_rng(seed).permutation(n) * (2.0 / n) - 1.0).reshape(shape)


def frozen_noise(net):
    """Hold every corruption layer's noise fixed, so each evaluation sees the same function."""
    for layer in net.layers:
        if hasattr(layer, "freeze_noise"):
            layer.freeze_noise()
    return net


def register_layer(name, make, scale=1.0, seed=0, cls=None):
    @register(f"layer_{name}", covers=(cls or make,))
    def _check():
        rng = make_rng(seed)
        return check_layer(make(), away_from_zero(scale * rng.standard_normal((N, D))), random_state=seed, eps=EPS)


def register_loss(name, make, targets_in_unit=False, logit_scale=1.0, cls=None):
    @register(f"loss_{name}", covers=(cls or make,))
    def _check():
        rng = make_rng(3)
        Y = logit_scale * rng.standard_normal((N, D))
        T = rng.uniform(0, 1, (N, D)) if targets_in_unit else rng.standard_normal((N, D))
        return check_loss(make(), Y, T, eps=EPS)
