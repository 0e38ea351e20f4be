"""Flat parameters, the objective's pieces, freezing."""
import numpy as np
import pytest

from numpy_ae import SparseAutoencoder, nn
from numpy_ae.nn.losses import SquaredError
from numpy_ae.nn.sequential import Sequential


def _sae(**kw):
    return SparseAutoencoder(n_hidden=3, random_state=0, **kw).initialize(5)


def test_theta_layout_is_ufldl_order():
    """theta = [W1(:); W2(:); b1; b2], weights (decayed) first."""
    net = _sae().network_
    assert [b.name for b in net.blocks] == ["dense0.W", "dense3.W", "dense0.b", "dense3.b"]
    assert [b.offset for b in net.blocks] == [0, 15, 30, 33]
    assert net.n_params == 38 and net.n_decayed == 30


def test_layers_hold_views_into_theta_and_grad():
    net = _sae().network_
    net.theta[:] = np.arange(net.n_params)
    np.testing.assert_array_equal(net.layers[0].W, np.arange(15).reshape(5, 3))
    assert np.shares_memory(net.layers[3].dW, net.grad)


def test_weight_decay_acts_on_weights_only_and_is_not_divided_by_n():
    X = np.random.default_rng(0).uniform(0.1, 0.9, (7, 5))
    plain = _sae(weight_decay=0.0).network_
    decayed = _sae(weight_decay=0.5).network_
    decayed.theta[:] = plain.theta
    W = plain.theta[:30]
    assert decayed.compute(X) == pytest.approx(plain.compute(X) + 0.25 * W @ W, rel=1e-14)
    diff = decayed.grad - plain.grad
    np.testing.assert_allclose(diff[:30], 0.5 * W, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(diff[30:], 0.0)  # biases are not decayed


def test_objective_adds_the_kl_penalty():
    X = np.random.default_rng(1).uniform(0.1, 0.9, (7, 5))
    with_kl = _sae(beta=3.0, weight_decay=0.0).network_
    without = _sae(beta=0.0, weight_decay=0.0).network_
    J = with_kl.compute(X)
    assert J == pytest.approx(without.compute(X) + with_kl.layers[2].penalty, rel=1e-14)
    assert with_kl.layers[2].penalty > 0


def test_loss_and_grad_copies_theta_in_and_grad_out():
    net = _sae().network_
    X = np.random.default_rng(2).uniform(0.1, 0.9, (4, 5))
    theta = net.theta.copy() * 2
    J, g = net.loss_and_grad(theta, X)
    np.testing.assert_array_equal(net.theta, theta)
    g_before = g.copy()
    net.loss_and_grad(theta * 0.5, X)
    np.testing.assert_array_equal(g, g_before)  # the returned gradient is the caller's own


def test_wrong_theta_shape():
    net = _sae().network_
    with pytest.raises(ValueError, match=r"theta must have shape \(38,\)"):
        net.loss_and_grad(np.zeros(5), np.zeros((2, 5)))


def test_freeze_zeroes_the_gradient_of_frozen_layers():
    net = Sequential([nn.Dense(4, 3), nn.Sigmoid(), nn.Dense(3, 4)], SquaredError(), random_state=0)
    X = np.random.default_rng(3).standard_normal((5, 4))
    net.freeze([net.layers[0]])
    net.compute(X)
    assert not net.grad[net.block("dense0.W").slice].any() and not net.grad[net.block("dense0.b").slice].any()
    assert net.grad[net.block("dense2.W").slice].any()


def test_non_layer_rejected():
    with pytest.raises(ValueError, match=r"layers\[1\] must be a numpy_ae Layer"):
        Sequential([nn.Dense(2, 2), "sigmoid"], SquaredError())
