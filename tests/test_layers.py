"""Forward values and backward bookkeeping of the layers (gradients: test_gradcheck.py)."""
import warnings

import numpy as np
import pytest

from numpy_ae import layers
from numpy_ae.layers import Dense, TiedDense, init_weights, make_activation, sigmoid
from numpy_ae.losses import SquaredError
from numpy_ae.model import Sequential


def test_sigmoid_matches_definition_and_never_overflows():
    z = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-13, atol=1e-15)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(np.array([-1000.0, 1000.0]))
    assert s[0] == 0.0 and s[1] == 1.0


@pytest.mark.parametrize("name, fn", [
    ("tanh", np.tanh),
    ("relu", lambda z: np.maximum(z, 0)),
    ("elu", lambda z: np.where(z > 0, z, np.exp(z) - 1)),
    ("identity", lambda z: z),
    ("softplus", lambda z: np.log1p(np.exp(z))),
])
def test_activation_values(name, fn):
    z = np.linspace(-5, 5, 41).reshape(41, 1)
    np.testing.assert_allclose(make_activation(name).forward(z), fn(z), rtol=1e-13, atol=1e-15)


def test_softplus_large_inputs_are_exact():
    np.testing.assert_array_equal(layers.Softplus().forward(np.array([[1000.0, -1000.0]])), [[1000.0, 0.0]])


def test_unknown_activation_is_named():
    with pytest.raises(ValueError, match="activation must be one of .*'swish'"):
        make_activation("swish")


def test_dense_shapes_and_accumulation():
    net = Sequential([Dense(4, 3)], SquaredError(), random_state=0)
    d = net.layers[0]
    X = np.random.default_rng(0).standard_normal((5, 4))
    assert d.forward(X).shape == (5, 3)
    dZ = np.ones((5, 3))
    d.backward(dZ)
    once = d.dW.copy()
    d.backward(dZ)
    np.testing.assert_allclose(d.dW, 2 * once)  # backward ADDS into the gradient


@pytest.mark.parametrize("method, check", [
    ("ufldl", lambda W, r: np.abs(W).max() <= np.sqrt(6) / np.sqrt(64 + 25 + 1)),
    ("glorot", lambda W, r: np.abs(W).max() <= np.sqrt(6 / (64 + 25))),
    ("he", lambda W, r: abs(W.std() - np.sqrt(2 / 64)) < 0.1 * np.sqrt(2 / 64)),
])
def test_initialisations(method, check):
    W = init_weights((64, 25), method, np.random.default_rng(0))
    assert W.shape == (64, 25) and check(W, None)


def test_init_is_reproducible_from_seed():
    a = init_weights((8, 3), "ufldl", np.random.default_rng(7))
    b = init_weights((8, 3), "ufldl", np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_bad_init_name():
    with pytest.raises(ValueError, match="init must be one of"):
        Dense(3, 2, init="xavier-ish")


def test_tied_weights_halve_the_weight_parameters():
    enc = Dense(10, 4)
    tied = Sequential([enc, layers.Sigmoid(), TiedDense(enc)], SquaredError())
    untied = Sequential([Dense(10, 4), layers.Sigmoid(), Dense(4, 10)], SquaredError())
    assert untied.n_params - tied.n_params == 40
    assert tied.n_params == 40 + 4 + 10
    X = np.random.default_rng(0).standard_normal((3, 10))
    np.testing.assert_allclose(tied.forward(X), tied.layers[1].A @ enc.W.T + tied.layers[2].b)
