"""Problems every layer and loss of numpy_ae.nn is run on, in both forms (tests/nn/test_fast_twins.py,
tests/nn/test_no_traps.py).

``LAYER_CASES[Class]`` is a list of :class:`LayerCase`: ``layers()`` builds a fresh chain containing the
class (a tied decoder needs its encoder), ``X(rng)`` draws its input, ``prepare(net, X)`` sets what a pass
needs beside ``X`` (a condition, frozen noise). ``LOSS_CASES[Class]`` is a list of :class:`LossCase`.
Shapes include the edge cases of the gradient-check catalogue (one example, one unit). Every concrete
layer and loss class of numpy_ae.nn must have an entry here: a test fails for one that has none.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from numpy_ae import nn


class LayerCase(NamedTuple):
    name: str
    layers: Callable
    X: Callable
    prepare: Callable = lambda net, X: None


class LossCase(NamedTuple):
    name: str
    loss: Callable
    YT: Callable  # rng -> (Y, T)


def _normal(*shape, scale=1.0):
    return lambda rng: scale * rng.standard_normal(shape)


LAYER_CASES = {
    nn.Dense: [LayerCase("dense 5->3", lambda: [nn.Dense(5, 3)], _normal(4, 5)),
               LayerCase("dense one example, one unit", lambda: [nn.Dense(1, 1)], _normal(1, 1))],
    nn.TiedDense: [LayerCase("dense 6->4 then tied 4->6",
                             lambda: (lambda d: [d, nn.TiedDense(d)])(nn.Dense(6, 4)), _normal(3, 6))],
    nn.Sigmoid: [LayerCase("sigmoid, large |z| included", lambda: [nn.Sigmoid()], _normal(5, 4, scale=30.0)),
                 LayerCase("sigmoid", lambda: [nn.Sigmoid()], _normal(1, 7))],
    nn.Tanh: [LayerCase("tanh", lambda: [nn.Tanh()], _normal(5, 4, scale=3.0))],
    nn.ReLU: [LayerCase("relu", lambda: [nn.ReLU()], _normal(6, 3))],
    nn.ELU: [LayerCase("elu", lambda: [nn.ELU()], _normal(6, 3, scale=3.0)),
             LayerCase("elu alpha 2", lambda: [nn.ELU(alpha=2.0)], _normal(6, 3, scale=3.0))],
    nn.SELU: [LayerCase("selu", lambda: [nn.SELU()], _normal(6, 3, scale=3.0))],
    nn.Identity: [LayerCase("identity", lambda: [nn.Identity()], _normal(3, 2))],
    nn.Softplus: [LayerCase("softplus", lambda: [nn.Softplus()], _normal(4, 3, scale=20.0))],
}

LOSS_CASES = {}
