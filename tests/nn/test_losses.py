"""The reductions of the losses, stated once in numpy_ae.nn.losses, checked by hand here."""
import warnings

import numpy as np
import pytest

from numpy_ae.nn.losses import BinaryCrossEntropy, MeanSquaredError, SquaredError, make_loss

Y = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
T = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])  # squared differences: 0 4 9 / 0 1 0, total 14


def test_squared_error_is_half_sum_over_n():
    assert SquaredError().forward(Y, T) == pytest.approx(14 / (2 * 2), rel=1e-15)


def test_mean_squared_error_averages_over_all_elements():
    assert MeanSquaredError().forward(Y, T) == pytest.approx(14 / 6, rel=1e-15)


def test_cross_entropy_matches_naive_formula():
    rng = np.random.default_rng(0)
    Z, Tt = rng.standard_normal((4, 5)) * 3, rng.uniform(0, 1, (4, 5))
    p = 1 / (1 + np.exp(-Z))
    naive = -np.sum(Tt * np.log(p) + (1 - Tt) * np.log(1 - p)) / 4
    assert BinaryCrossEntropy().forward(Z, Tt) == pytest.approx(naive, rel=1e-12)


def test_cross_entropy_from_logits_is_stable_at_1e3():
    loss = BinaryCrossEntropy()
    Z = np.array([[1000.0, -1000.0, 1000.0, -1000.0]])
    Tt = np.array([[0.0, 1.0, 1.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J = loss.forward(Z, Tt)
        dZ = loss.backward()
    assert J == 2000.0  # log(1 + e^1000) - 0 = 1000 and log(1 + e^-1000) + 1000 = 1000; the others 0
    np.testing.assert_array_equal(dZ, [[1.0, -1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(loss.output(Z), [[1.0, 0.0, 1.0, 0.0]])


def test_make_loss_names():
    assert isinstance(make_loss("squared_error"), SquaredError)
    with pytest.raises(ValueError, match="loss must be one of"):
        make_loss("hinge")
