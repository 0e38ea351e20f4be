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
    # convolutions: im2col and narrow (stride 1, fewer outputs than inputs) paths, strides that do not divide
    nn.Conv2D: [LayerCase("conv2d 2->3 k3 p1", lambda: [nn.Conv2D(2, 3, 3, padding=1)], _normal(2, 2, 5, 6)),
                LayerCase("conv2d k(3,2) s2 p1, odd sizes", lambda: [nn.Conv2D(2, 3, (3, 2), stride=2, padding=1)],
                          _normal(3, 2, 7, 5)),
                LayerCase("conv2d 3->2 k(2,3) s(2,1) p(0,2), one example",
                          lambda: [nn.Conv2D(3, 2, (2, 3), stride=(2, 1), padding=(0, 2))], _normal(1, 3, 5, 4)),
                LayerCase("conv2d narrow 4->1 k3 p1", lambda: [nn.Conv2D(4, 1, 3, padding=1)], _normal(2, 4, 6, 5)),
                LayerCase("conv2d narrow 3->2 k(2,3) p0", lambda: [nn.Conv2D(3, 2, (2, 3))], _normal(2, 3, 5, 6)),
                LayerCase("conv2d 1->2 k3 s3, rows no window reaches", lambda: [nn.Conv2D(1, 2, 3, stride=3)],
                          _normal(2, 1, 8, 7)),
                LayerCase("conv2d one channel, one example", lambda: [nn.Conv2D(1, 1, 3)], _normal(1, 1, 4, 4))],
    nn.Conv1D: [LayerCase("conv1d 2->3 k3 s2 p2", lambda: [nn.Conv1D(2, 3, 3, stride=2, padding=2)], _normal(2, 2, 9)),
                LayerCase("conv1d narrow 3->1 k5 p2", lambda: [nn.Conv1D(3, 1, 5, padding=2)], _normal(2, 3, 11)),
                LayerCase("conv1d one channel, one example, k1", lambda: [nn.Conv1D(1, 1, 1)], _normal(1, 1, 4))],
    nn.ConvTranspose2D: [
        LayerCase("convT2d 3->2 k4 s2 p1", lambda: [nn.ConvTranspose2D(3, 2, 4, stride=2, padding=1)],
                  _normal(2, 3, 4, 5)),
        LayerCase("convT2d 2->1 k3 s2 p1 output_padding 1, one example",
                  lambda: [nn.ConvTranspose2D(2, 1, 3, stride=2, padding=1, output_padding=1)], _normal(1, 2, 3, 4)),
        LayerCase("convT2d 1->1 k(2,3) s(1,2), one channel",
                  lambda: [nn.ConvTranspose2D(1, 1, (2, 3), stride=(1, 2))], _normal(2, 1, 3, 3)),
        LayerCase("convT2d 2->2 k3 s3 output_padding 2 > padding",
                  lambda: [nn.ConvTranspose2D(2, 2, 3, stride=3, output_padding=2)], _normal(2, 2, 3, 2))],
    nn.ConvTranspose1D: [
        LayerCase("convT1d 2->3 k4 s2 p1", lambda: [nn.ConvTranspose1D(2, 3, 4, stride=2, padding=1)], _normal(2, 2, 5)),
        LayerCase("convT1d 1->1 k3 s3 output_padding 2, one example",
                  lambda: [nn.ConvTranspose1D(1, 1, 3, stride=3, output_padding=2)], _normal(1, 1, 4))],
    # pooling and reshapes
    nn.MaxPool2D: [LayerCase("maxpool 2", lambda: [nn.MaxPool2D(2)], _normal(2, 3, 6, 6)),
                   LayerCase("maxpool 3 s2, overlapping, odd sizes", lambda: [nn.MaxPool2D(3, stride=2)],
                             _normal(2, 2, 7, 8)),
                   LayerCase("maxpool 2 s3, gaps, one example, one channel", lambda: [nn.MaxPool2D(2, stride=3)],
                             _normal(1, 1, 8, 7)),
                   # ties: both forms send the gradient to the first maximum in row-major order
                   LayerCase("maxpool 2 s1 with ties", lambda: [nn.MaxPool2D(2, stride=1)],
                             lambda rng: rng.integers(0, 3, (2, 2, 5, 6)).astype(float)),
                   LayerCase("maxpool 17, offsets past uint8", lambda: [nn.MaxPool2D(17)], _normal(1, 2, 17, 18))],
    nn.Upsample2D: [LayerCase("upsample 2", lambda: [nn.Upsample2D(2)], _normal(2, 3, 3, 4)),
                    LayerCase("upsample 3, one example", lambda: [nn.Upsample2D(3)], _normal(1, 1, 2, 2))],
    nn.Flatten: [LayerCase("flatten", lambda: [nn.Flatten()], _normal(2, 3, 4, 5))],
    nn.Reshape: [LayerCase("reshape to images", lambda: [nn.Reshape((3, 4, 5))], _normal(2, 60)),
                 LayerCase("reshape (N, 2, 3) to (N, 6)", lambda: [nn.Reshape(6)], _normal(3, 2, 3))],
}

LOSS_CASES = {}
