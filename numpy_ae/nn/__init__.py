r"""The maths in reference form: layers, losses, penalties, and the model that holds them.

Every layer has a hand-written ``forward`` and ``backward``; every class here
is the plain equation of its docstring. A :class:`Sequential` keeps all
parameters in one flat vector ``theta``.
"""
from .activations import ELU, SELU, Identity, ReLU, Sigmoid, Softplus, Tanh, make_activation, sigmoid
from .condition import JoinCondition
from .conv import Conv1D, Conv2D, ConvTranspose1D, ConvTranspose2D
from .dense import Dense, TiedDense
from .layer import Layer, init_weights
from .losses import (BinaryCrossEntropy, GaussianNLL, Loss, MeanSquaredError, SoftmaxCrossEntropy, SquaredError,
                     make_loss, softmax)
from .noise import Corruption, Dropout, GaussianNoise, MaskingNoise, SaltAndPepperNoise, make_corruption
from .penalties import Contractive, KLSparsity, L1Activity, contractive_penalty, kl_divergence_bernoulli
from .reparameterize import Reparameterize, gaussian_kl
from .selection import KSparse, LifetimeWTA, SpatialWTA
from .sequential import ParamBlock, Sequential
from .spatial import Flatten, MaxPool2D, Reshape, Upsample2D

__all__ = [
    "Layer", "init_weights", "Dense", "TiedDense", "Sigmoid", "Tanh", "ReLU", "ELU", "SELU", "Identity", "Softplus",
    "sigmoid", "make_activation", "JoinCondition", "Dropout", "GaussianNoise", "MaskingNoise", "SaltAndPepperNoise",
    "make_corruption", "Corruption", "KLSparsity", "L1Activity", "Contractive", "contractive_penalty", "kl_divergence_bernoulli",
    "KSparse", "LifetimeWTA", "SpatialWTA", "Conv2D", "ConvTranspose2D", "Conv1D", "ConvTranspose1D", "MaxPool2D",
    "Upsample2D", "Flatten", "Reshape", "Reparameterize", "gaussian_kl", "Loss", "SquaredError", "MeanSquaredError",
    "BinaryCrossEntropy", "GaussianNLL", "SoftmaxCrossEntropy", "softmax", "make_loss", "Sequential", "ParamBlock",
]
