"""KL sparsity: value, the UFLDL delta term, and no NaN at rho_hat = 0 or 1."""
import warnings

import numpy as np
import pytest

from numpy_ae.nn.penalties import KLSparsity, kl_divergence_bernoulli


def test_kl_value_matches_the_formula():
    A = np.array([[0.2, 0.5], [0.4, 0.1]])  # rho_hat = [0.3, 0.3]
    layer = KLSparsity(sparsity=0.1, beta=2.0)
    assert layer.forward(A) is A  # identity in the forward pass
    kl = 0.1 * np.log(0.1 / 0.3) + 0.9 * np.log(0.9 / 0.7)
    assert layer.penalty == pytest.approx(2.0 * 2 * kl, rel=1e-14)
    assert kl_divergence_bernoulli(0.1, 0.1) == 0.0


def test_backward_adds_ufldl_term_divided_by_n():
    A = np.array([[0.2, 0.5], [0.4, 0.1]])
    layer = KLSparsity(sparsity=0.1, beta=2.0)
    layer.forward(A)
    term = 2.0 * (-0.1 / 0.3 + 0.9 / 0.7) / 2
    np.testing.assert_allclose(layer.backward(np.ones((2, 2))), 1.0 + term, rtol=1e-14)


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_saturated_units_give_finite_penalty_and_gradient(value):
    A = np.full((4, 3), value)
    layer = KLSparsity(sparsity=0.05, beta=3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer.forward(A)
        d = layer.backward(np.zeros((4, 3)))
    assert np.isfinite(layer.penalty) and layer.penalty > 0
    assert np.all(np.isfinite(d))


def test_saturated_gradient_points_back_towards_rho():
    """At rho_hat = 1 the penalty decreases when activations decrease: dJ/dA > 0."""
    layer = KLSparsity(sparsity=0.05, beta=3.0)
    layer.forward(np.full((4, 3), 1.0))
    assert np.all(layer.backward(np.zeros((4, 3))) > 0)
    layer.forward(np.full((4, 3), 0.0))
    assert np.all(layer.backward(np.zeros((4, 3))) < 0)


@pytest.mark.parametrize("rho", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_sparsity_outside_open_unit_interval(rho):
    with pytest.raises(ValueError, match="sparsity must be a number strictly between 0.0 and 1.0"):
        KLSparsity(sparsity=rho)


def test_negative_beta():
    with pytest.raises(ValueError, match="beta must be a finite number >= 0; got -1"):
        KLSparsity(beta=-1)


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_guard_penalty_is_the_tangent_line_and_backward_its_slope(value):
    """At rho_hat = 0 (or 1) the penalty is KL at the guard point c = eps (1 - eps) plus KL'(c) (rho_hat - c),
    and backward adds exactly beta/N KL'(c): the derivative of that penalty, not of a flat clip."""
    rho, beta, eps = 0.05, 3.0, np.finfo(np.float64).eps
    c = eps if value == 0.0 else 1.0 - eps
    slope = -rho / c + (1 - rho) / (1 - c)
    layer = KLSparsity(sparsity=rho, beta=beta)
    layer.forward(np.full((4, 3), value))
    expected = beta * 3 * (kl_divergence_bernoulli(rho, c) + slope * (value - c))
    assert layer.penalty == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(layer.backward(np.zeros((4, 3))), beta / 4 * slope, rtol=1e-14)


def test_guard_agrees_with_a_difference_of_the_penalty():
    """Beyond the guard point the penalty is linear in rho_hat, so a one-sided difference over a step far
    larger than eps is exact up to rounding: (P(rho_hat) - P(rho_hat - d)) / d = beta KL'(eps) per unit.
    With the old clip the penalty was flat there (difference 0) while backward said -4.5e14 * rho."""
    layer = KLSparsity(sparsity=0.05, beta=3.0)
    A = np.zeros((2, 1))
    layer.forward(A)
    p0, grad = layer.penalty, layer.backward(np.zeros((2, 1)))[0, 0] * 2  # d P / d rho_hat = N dP/da
    layer.forward(A - 1e-3)
    slope = (p0 - layer.penalty) / 1e-3
    # |P| ~ 1e12 here, rounding ~1e-4 over the step 1e-3: relative 1e-13 of the slope ~ -6.8e14
    assert slope == pytest.approx(grad, rel=1e-9) and grad < -1e14


def test_rho_hat_is_the_batch_mean_even_where_guarded():
    layer = KLSparsity(sparsity=0.05, beta=3.0)
    layer.forward(np.array([[0.0, 1.0, 0.3], [0.0, 1.0, 0.5]]))
    np.testing.assert_array_equal(layer.rho_hat, [0.0, 1.0, 0.4])
