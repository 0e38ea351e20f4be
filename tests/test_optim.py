"""SGD and Adam: the update rules against hand computations; frozen entries stay put."""
import numpy as np
import pytest

from numpy_ae.optim import SGD, Adam, make_optimizer


def test_plain_sgd_step():
    theta, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    SGD(learning_rate=0.1).step(theta, g)
    np.testing.assert_allclose(theta, [0.95, -2.025], rtol=1e-15)


def test_momentum_accumulates_velocity():
    theta, g = np.zeros(1), np.ones(1)
    opt = SGD(learning_rate=0.1, momentum=0.9)
    opt.step(theta, g)  # v = -0.1
    opt.step(theta, g)  # v = -0.19
    np.testing.assert_allclose(theta, [-0.29], rtol=1e-14)


def test_nesterov_step():
    theta, g = np.zeros(1), np.ones(1)
    opt = SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    opt.step(theta, g)  # v = -0.1; theta += 0.9 * -0.1 - 0.1
    np.testing.assert_allclose(theta, [-0.19], rtol=1e-14)


def test_adam_matches_the_paper_for_three_steps():
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(3)]
    expected, m, v = theta.copy(), np.zeros(5), np.zeros(5)
    for t, g in enumerate(grads, start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        expected -= 1e-2 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    opt = Adam(learning_rate=1e-2)
    for g in grads:
        opt.step(theta, g)
    np.testing.assert_allclose(theta, expected, rtol=1e-13)


def test_adam_minimises_a_quadratic():
    target = np.array([3.0, -1.0, 0.5])
    theta, opt = np.zeros(3), Adam(learning_rate=0.05)
    for _ in range(2000):
        opt.step(theta, 2 * (theta - target))
    np.testing.assert_allclose(theta, target, atol=1e-4)


@pytest.mark.parametrize("opt", [SGD(0.1, momentum=0.9), Adam(0.1)])
def test_frozen_entries_do_not_move_even_with_momentum(opt):
    theta, frozen = np.zeros(4), np.array([True, False, True, False])
    opt.step(theta, np.ones(4))
    opt.step(theta, np.ones(4), frozen)
    assert theta[0] != 0 and theta[2] != 0  # moved in the first, unfrozen step
    first = theta.copy()
    opt.step(theta, np.ones(4), frozen)
    np.testing.assert_array_equal(theta[frozen], first[frozen])
    assert np.all(theta[~frozen] < first[~frozen])


def test_float32_state_follows_theta():
    theta = np.ones(3, dtype=np.float32)
    opt = Adam()
    opt.step(theta, np.ones(3, dtype=np.float32))
    assert theta.dtype == np.float32 and opt.state["m"].dtype == np.float32


@pytest.mark.parametrize("make, match", [
    (lambda: SGD(learning_rate=0), "learning_rate must be a finite number > 0; got 0"),
    (lambda: Adam(learning_rate=-1e-3), "learning_rate must be a finite number > 0"),
    (lambda: SGD(0.1, momentum=1.0), "momentum must be a number strictly between 0.0 and 1.0"),
    (lambda: SGD(0.1, nesterov=True), "nesterov=True needs a momentum"),
    (lambda: Adam(beta1=1.0), "beta1 must be a number strictly between"),
    (lambda: make_optimizer("rmsprop"), "method must be 'lbfgs', 'adam' or 'sgd'; got 'rmsprop'"),
])
def test_bad_settings(make, match):
    with pytest.raises(ValueError, match=match):
        make()
