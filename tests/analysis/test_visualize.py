"""Tests for numpy_ae.analysis.features: top-activating inputs, activation maximisation, filters, model state."""
import numpy as np
import pytest

from numpy_ae import SparseAutoencoder
from numpy_ae.nn.dense import Dense
from numpy_ae.nn.activations import sigmoid
from numpy_ae.models.stacked import StackedAutoencoder
from numpy_ae.analysis.features import activation_gradient, activation_maximisation, closed_form_maximiser, encoder_filters, hidden_layer_sizes, reconstruction_error_per_example, top_activating_inputs, unit_activations

D = 16


def _data(n=120, seed=0):
    return np.random.default_rng(seed).random((n, D))


@pytest.fixture(scope="module")
def sae():
    """A 16-5-16 sparse autoencoder (sigmoid, KL sparsity), briefly trained."""
    return SparseAutoencoder(n_hidden=5, sparsity=0.1, random_state=0, max_iter=20).fit(_data())


@pytest.fixture(scope="module")
def deep():
    """A 16-8-4 ELU stacked autoencoder with masking noise: two hidden layers, a corruption layer on the path."""
    return StackedAutoencoder(hidden_layer_sizes=(8, 4), activation="elu", corruption="masking", random_state=0,
                              method="adam", epochs=2, batch_size=30).fit(_data())


def _elu(Z):
    return np.where(Z > 0, Z, np.expm1(np.minimum(Z, 0.0)))


def _brute_force_activations(model, X, layer):
    """Encoder activations written out with NumPy, not through the layers' forward passes."""
    dense = [l for l in model.encoder_layers if isinstance(l, Dense)]
    act = sigmoid if isinstance(model, SparseAutoencoder) or model.activation == "sigmoid" else _elu
    A = X
    for d in dense[:layer + 1]:
        A = act(A @ d.W + d.b)
    return A


# --- layers and units ---------------------------------------------------------------
def test_hidden_layer_sizes(sae, deep):
    assert hidden_layer_sizes(sae) == [5]
    assert hidden_layer_sizes(deep) == [8, 4]


@pytest.mark.parametrize("layer", [0, 1, -1])
def test_unit_activations_match_a_hand_written_forward(deep, layer):
    X = _data(50, seed=1)
    np.testing.assert_allclose(unit_activations(deep, X, layer=layer, batch_size=7),
                               _brute_force_activations(deep, X, layer % 2), rtol=1e-13, atol=1e-15)


# --- top-activating inputs ----------------------------------------------------------
@pytest.mark.parametrize("model_name, layer", [("sae", 0), ("deep", 0), ("deep", -1)])
def test_top_activating_inputs_are_the_true_argmax_rows(request, model_name, layer):
    model = request.getfixturevalue(model_name)
    X = _data(90, seed=2)
    X[60:70] = X[10:20]            # exact duplicates: ties must go to the smaller index
    A = _brute_force_activations(model, X, layer % len(hidden_layer_sizes(model)))
    expected = np.argsort(-A, axis=0, kind="stable")[:7].T          # (H, 7)
    # batch_size 8 merges the running top-7 over 12 batches; 1000 takes all rows at once.
    for batch_size in (8, 1000):
        idx, vals = top_activating_inputs(model, X, layer=layer, k=7, batch_size=batch_size, return_values=True)
        np.testing.assert_array_equal(idx, expected)
        np.testing.assert_allclose(vals, np.take_along_axis(A, expected.T, axis=0).T, rtol=1e-13)
    # the duplicates of rows 10..19 are never listed before their originals
    for row in idx:
        for i in range(10, 20):
            if i + 50 in row and i in row:
                assert list(row).index(i) < list(row).index(i + 50)


def test_top_activating_k_equal_to_n_sorts_everything(sae):
    X = _data(6, seed=3)
    idx = top_activating_inputs(sae, X, k=6, batch_size=4)
    assert idx.shape == (5, 6)
    assert all(sorted(row) == list(range(6)) for row in idx)


# --- filters ------------------------------------------------------------------------
def test_encoder_filters(deep):
    W0, W1 = (l.W for l in deep.encoder_layers if isinstance(l, Dense))
    np.testing.assert_array_equal(encoder_filters(deep, 0), W0.T)
    np.testing.assert_allclose(encoder_filters(deep, 1), (W0 @ W1).T, rtol=1e-14)
    np.testing.assert_allclose(encoder_filters(deep, -1), (W0 @ W1).T, rtol=1e-14)


def test_reconstruction_error_per_example(sae):
    X = _data(30, seed=4)
    np.testing.assert_allclose(reconstruction_error_per_example(sae, X, batch_size=7),
                               np.sum((sae.reconstruct(X) - X) ** 2, axis=1), rtol=1e-14)


# --- input gradients ----------------------------------------------------------------
def test_input_gradient_of_a_sigmoid_unit_is_slope_times_weights(sae):
    """d a_j / d x = sigma'(z_j) W[:, j]: exactly, so the KL sparsity layer's backward term is NOT on the path."""
    X = _data(40)
    sae.cost(X)                    # a training pass: KLSparsity now holds rho_hat and would add its term
    Xr = _data(5, seed=5)
    units = [0, 1, 2, 3, 4]
    W, b = sae.encoder_layers[0].W, sae.encoder_layers[0].b
    a = sigmoid(Xr @ W + b)[np.arange(5), units]
    expected = (a * (1 - a))[:, None] * W.T[units]
    np.testing.assert_allclose(activation_gradient(sae, Xr, units, layer=0), expected, rtol=1e-13)


@pytest.mark.parametrize("layer", [0, 1])
def test_input_gradient_matches_centred_differences(deep, layer):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((4, D))
    units = np.array([0, 1, 2, 3])
    G = activation_gradient(deep, X, units, layer=layer)
    eps, num = 1e-6, np.zeros_like(X)
    rows = np.arange(4)
    for d in range(D):
        E = np.zeros_like(X)
        E[:, d] = eps
        num[:, d] = (_brute_force_activations(deep, X + E, layer)[rows, units]
                     - _brute_force_activations(deep, X - E, layer)[rows, units]) / (2 * eps)
    # centred differences: truncation O(eps^2) and rounding O(1e-16 / eps), about 1e-10 relative here
    assert np.linalg.norm(G - num) / np.linalg.norm(G + num) < 1e-8


# --- activation maximisation --------------------------------------------------------
@pytest.mark.parametrize("norm", [1.0, 4.0])
def test_ascent_converges_to_ufldls_closed_form(sae, norm):
    """x* = norm * W[:, j] / ||W[:, j]||. Every gradient is a positive multiple of W[:, j], and with normalised
    steps (eta = 0.5) tan(angle to x*) shrinks by 1/1.5 per step near the end: 1.5^-200 ~ 1e-35, so after
    200 steps only rounding (~1e-16 * norm per entry) is left."""
    x, h = activation_maximisation(sae, None, layer=0, norm=norm, random_state=1, return_activation=True)
    x_star = closed_form_maximiser(sae, norm=norm)
    assert x.shape == x_star.shape == (5, D)
    assert np.abs(x - x_star).max() < 1e-13 * norm
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), norm, rtol=1e-14)
    W, b = sae.encoder_layers[0].W, sae.encoder_layers[0].b
    np.testing.assert_allclose(h, sigmoid(norm * np.linalg.norm(W, axis=0) + b), rtol=1e-14)


def test_plain_gradient_ascent_converges_when_the_unit_is_not_saturated(sae):
    """Plain steps eta * sigma'(z) w: with norm 0.2 here |z| < 1, sigma' > 0.19, ||w|| > 0.5, so
    eta = 20 contracts tan(angle) by at least 1/(1 + 20 * 0.19 * 0.5 / 0.2) ~ 1/10 per step."""
    W = sae.encoder_layers[0].W
    assert np.linalg.norm(W, axis=0).min() > 0.5
    x = activation_maximisation(sae, 3, layer=0, norm=0.2, learning_rate=20.0, normalize_gradient=False,
                                random_state=2)
    assert x.shape == (D,)
    assert np.abs(x - closed_form_maximiser(sae, 3, norm=0.2)).max() < 1e-14


def test_one_layer_stacked_sigmoid_also_matches_the_closed_form():
    ae = StackedAutoencoder(hidden_layer_sizes=(6,), activation="sigmoid", loss="cross_entropy", random_state=3,
                            method="adam", epochs=2, batch_size=40).fit(_data())
    x = activation_maximisation(ae, [5, 0, 2], norm=2.0, random_state=4)
    np.testing.assert_allclose(x, closed_form_maximiser(ae, [5, 0, 2], norm=2.0), rtol=0, atol=2e-13)


def test_ascent_on_a_deeper_layer_climbs_and_keeps_the_norm(deep):
    _, h1 = activation_maximisation(deep, None, layer=1, norm=3.0, steps=1, random_state=5, return_activation=True)
    x, h = activation_maximisation(deep, None, layer=1, norm=3.0, steps=100, random_state=5,
                                   return_activation=True)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 3.0, rtol=1e-14)
    np.testing.assert_allclose(h, _brute_force_activations(deep, x, 1)[np.arange(4), np.arange(4)], rtol=1e-12)
    assert np.all(h >= h1 - 1e-9)
    # A local maximum on the sphere: better than any of 2000 random inputs of the same norm.
    R = np.random.default_rng(6).standard_normal((2000, D))
    R *= 3.0 / np.linalg.norm(R, axis=1, keepdims=True)
    assert np.all(h >= unit_activations(deep, R, layer=1).max(axis=0))


# --- model state --------------------------------------------------------------------
@pytest.mark.parametrize("model_name", ["sae", "deep"])
def test_visualisations_leave_theta_grad_and_flags_unchanged(request, model_name):
    model = request.getfixturevalue(model_name)
    net = model.network_
    X = _data(40, seed=7)
    noise = [l for l in net.layers if hasattr(l, "freeze_noise")]
    for layer in noise:
        layer.freeze_noise()                          # the same noise in every training pass below
    try:
        J = net.compute(X)                            # a non-zero grad, as between two optimiser steps
        theta, grad = net.theta.copy(), net.grad.copy()
        flags = [l.input_grad for l in net.layers if hasattr(l, "input_grad")]
        for layer in range(len(hidden_layer_sizes(model))):
            top_activating_inputs(model, X, layer=layer, k=3)
            activation_maximisation(model, None, layer=layer, steps=5, random_state=0)
            activation_gradient(model, X[:3], 0, layer=layer)
            encoder_filters(model, layer)
        reconstruction_error_per_example(model, X)
        np.testing.assert_array_equal(net.theta, theta)
        np.testing.assert_array_equal(net.grad, grad)
        assert [l.input_grad for l in net.layers if hasattr(l, "input_grad")] == flags
        # and training computes the same objective and gradient afterwards
        assert net.compute(X) == J
        np.testing.assert_array_equal(net.grad, grad)
    finally:
        for layer in noise:
            layer.freeze_noise(False)


# --- bad arguments ------------------------------------------------------------------
def test_bad_arguments_name_themselves(sae, deep):
    X = _data(10)
    with pytest.raises(ValueError, match=r"unit must lie in \[0, 5\): layer 0 has 5 units; got 5"):
        activation_maximisation(sae, 5)
    with pytest.raises(ValueError, match=r"unit must lie in \[0, 4\).*got -1"):
        activation_maximisation(deep, [0, -1], layer=1)
    with pytest.raises(ValueError, match="unit must be an integer"):
        activation_maximisation(sae, 1.5)
    for norm in (0.0, -1.0, np.inf):
        with pytest.raises(ValueError, match=r"norm must be a finite number > 0"):
            activation_maximisation(sae, 0, norm=norm)
    with pytest.raises(ValueError, match=r"norm must be a finite number > 0"):
        closed_form_maximiser(sae, 0, norm=0)
    with pytest.raises(ValueError, match=r"layer must be an integer in \[-1, 1\).*has 1 hidden layer.*got 1"):
        activation_maximisation(sae, 0, layer=1)
    with pytest.raises(ValueError, match=r"layer must be an integer in \[-2, 2\).*\[8, 4\].*got -3"):
        top_activating_inputs(deep, X, layer=-3)
    with pytest.raises(ValueError, match=r"layer must be an integer"):
        encoder_filters(deep, layer=2)
    with pytest.raises(ValueError, match=r"k must be at most the number of examples N = 10; got 11"):
        top_activating_inputs(sae, X, k=11)
    with pytest.raises(ValueError, match=r"k must be an integer >= 1"):
        top_activating_inputs(sae, X, k=0)
    with pytest.raises(ValueError, match=r"steps must be an integer >= 1"):
        activation_maximisation(sae, 0, steps=0)
    with pytest.raises(ValueError, match=r"learning_rate must be a finite number > 0"):
        activation_maximisation(sae, 0, learning_rate=0.0)
    with pytest.raises(ValueError, match=r"X must have 16 features"):
        unit_activations(sae, np.zeros((3, 15)))
    with pytest.raises(ValueError, match=r"not initialised|fitted numpy_ae autoencoder"):
        activation_maximisation(SparseAutoencoder(n_hidden=3), 0)
