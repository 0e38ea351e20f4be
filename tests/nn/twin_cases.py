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
from numpy_ae.nn.losses import Loss


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


def _uniform(*shape, low=0.05, high=0.95):
    return lambda rng: rng.uniform(low, high, shape)


def _activities_with_guarded_units(rng):
    """Sigmoid-like activities, one unit with mean below 0 and one above 1 (KLSparsity's tangent line)."""
    return np.column_stack([rng.uniform(0.05, 0.95, (5, 3)), rng.uniform(-0.02, -0.01, 5),
                            rng.uniform(1.01, 1.02, 5)])


def _encoder_then(penalty):
    """Dense 5->4, an activation, then ``penalty(dense)``: a code penalty that reads the encoder's W."""
    def layers():
        dense = nn.Dense(5, 4)
        activation, layer = penalty(dense)
        return [dense, activation, layer]
    return layers


def _freeze_noise(net, X):
    """Both forms are built with random_state=0, so their noise layers' Generators draw the same noise;
    frozen, it stays that noise for every later pass."""
    for layer in net.layers:
        if hasattr(layer, "freeze_noise"):
            layer.freeze_noise()


def _set_condition(K):
    """One-hot conditions, one row per row of X."""
    return lambda net, X: net.set_condition(np.eye(K)[np.arange(X.shape[0]) % K])


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
    nn.KLSparsity: [LayerCase("kl sparsity", lambda: [nn.KLSparsity(0.1, 3.0)], _uniform(6, 4)),
                    LayerCase("kl sparsity, guarded units", lambda: [nn.KLSparsity(0.1, 3.0)],
                              _activities_with_guarded_units),
                    LayerCase("kl sparsity one example, one unit", lambda: [nn.KLSparsity(0.2, 1.0)], _uniform(1, 1)),
                    LayerCase("dense, sigmoid, kl sparsity",
                              lambda: [nn.Dense(5, 3), nn.Sigmoid(), nn.KLSparsity(0.05, 3.0)], _normal(4, 5))],
    nn.L1Activity: [LayerCase("l1 activity", lambda: [nn.L1Activity(0.1)], _normal(4, 3))],
    nn.Contractive: [LayerCase("contractive sigmoid", _encoder_then(lambda d: (nn.Sigmoid(), nn.Contractive(0.3, d))),
                               _normal(4, 5)),
                     LayerCase("contractive tanh",
                               _encoder_then(lambda d: (nn.Tanh(), nn.Contractive(0.3, d, activation="tanh"))),
                               _normal(3, 5))],
    nn.KSparse: [LayerCase("k-sparse k=2", lambda: [nn.KSparse(2)], _normal(4, 6))],
    nn.LifetimeWTA: [LayerCase("lifetime wta", lambda: [nn.LifetimeWTA(0.3)], _normal(6, 4)),
                     LayerCase("lifetime wta on maps", lambda: [nn.LifetimeWTA(0.5)], _normal(4, 2, 3, 3))],
    nn.SpatialWTA: [LayerCase("spatial wta", lambda: [nn.SpatialWTA()], _normal(2, 3, 4, 4))],
    nn.Reparameterize: [
        LayerCase("reparameterize log_var", lambda: [nn.Reparameterize(3)], _normal(4, 6), _freeze_noise),
        LayerCase("reparameterize sigma", lambda: [nn.Reparameterize(2, "sigma", beta=0.5)], _normal(5, 4),
                  _freeze_noise),
        LayerCase("reparameterize capacity", lambda: [nn.Reparameterize(2, capacity=0.5, gamma=10.0)],
                  _normal(3, 4), _freeze_noise),
        LayerCase("reparameterize beta 0", lambda: [nn.Reparameterize(1, beta=0.0)], _normal(1, 2), _freeze_noise)],
    nn.JoinCondition: [
        LayerCase("join condition", lambda: [nn.JoinCondition(3)], _normal(4, 5), _set_condition(3)),
        LayerCase("join condition, one example, into a dense layer", lambda: [nn.JoinCondition(2), nn.Dense(3, 2)],
                  _normal(1, 1), _set_condition(2))],
    nn.Dropout: [LayerCase("dropout", lambda: [nn.Dropout(0.4)], _normal(6, 5), _freeze_noise),
                 LayerCase("dropout after a dense layer", lambda: [nn.Dense(4, 3), nn.Dropout(0.5)], _normal(5, 4),
                           _freeze_noise),
                 LayerCase("dropout rate 0", lambda: [nn.Dropout(0.0)], _normal(2, 3), _freeze_noise)],
    nn.GaussianNoise: [LayerCase("gaussian noise", lambda: [nn.GaussianNoise(0.3)], _uniform(4, 6), _freeze_noise)],
    nn.MaskingNoise: [LayerCase("masking noise", lambda: [nn.MaskingNoise(0.3)], _uniform(4, 6), _freeze_noise)],
    nn.SaltAndPepperNoise: [LayerCase("salt and pepper noise", lambda: [nn.SaltAndPepperNoise(0.4)], _uniform(4, 6),
                                      _freeze_noise)],
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


def _pair(Y, T):
    return lambda rng: (Y(rng), T(rng))


def _labels(N, K):
    return lambda rng: (3.0 * rng.standard_normal((N, K)), rng.integers(0, K, N))


LOSS_CASES = {
    nn.SquaredError: [LossCase("squared error", nn.SquaredError, _pair(_normal(4, 5), _normal(4, 5))),
                      LossCase("squared error, one value", nn.SquaredError, _pair(_normal(1, 1), _normal(1, 1)))],
    nn.MeanSquaredError: [LossCase("mean squared error", nn.MeanSquaredError, _pair(_normal(4, 5), _normal(4, 5)))],
    nn.GaussianNLL: [LossCase("gaussian nll, variance 0.5", lambda: nn.GaussianNLL(0.5),
                              _pair(_normal(4, 5), _normal(4, 5))),
                     LossCase("gaussian nll, 4-d outputs", nn.GaussianNLL, _pair(_normal(2, 3, 2), _normal(2, 3, 2)))],
    nn.BinaryCrossEntropy: [
        LossCase("cross-entropy", nn.BinaryCrossEntropy, _pair(_normal(4, 5, scale=3.0), _uniform(4, 5))),
        LossCase("cross-entropy, large |z|", nn.BinaryCrossEntropy, _pair(_normal(3, 4, scale=300.0), _uniform(3, 4)))],
    nn.SoftmaxCrossEntropy: [
        LossCase("softmax cross-entropy, labels", nn.SoftmaxCrossEntropy, _labels(6, 4)),
        LossCase("softmax cross-entropy, probabilities", nn.SoftmaxCrossEntropy,
                 _pair(_normal(5, 3, scale=3.0), lambda rng: rng.dirichlet(np.ones(3), 5))),
        LossCase("softmax cross-entropy, rows not summing to 1", nn.SoftmaxCrossEntropy,
                 _pair(_normal(5, 3, scale=3.0), _uniform(5, 3)))],
}


class Probe(Loss):
    """J = sum(G * Y) for a fixed G: its gradient dJ/dY = G is a random incoming delta."""

    def __init__(self, G):
        self.G = G

    def forward(self, Y, T):
        return float(np.sum(self.G * Y))

    def backward(self):
        return self.G.copy()
