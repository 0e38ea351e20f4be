"""Forward values and backward bookkeeping of the layers (gradients: test_gradcheck.py)."""
import warnings

import numpy as np
import pytest
from scipy import stats

from numpy_ae import nn
from numpy_ae.nn.dense import Dense, TiedDense
from numpy_ae.nn.layer import init_weights
from numpy_ae.nn.activations import make_activation, sigmoid
from numpy_ae.nn.losses import SquaredError
from numpy_ae.nn.sequential import Sequential


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
    np.testing.assert_array_equal(nn.Softplus().forward(np.array([[1000.0, -1000.0]])), [[1000.0, 0.0]])


def test_unknown_activation_is_named():
    with pytest.raises(ValueError, match="activation must be one of .*'swish'"):
        make_activation("swish")


def test_dense_shapes_and_accumulation():
    net = Sequential([Dense(4, 3)], SquaredError(), random_state=0)
    d = net.layers[0]
    X = np.random.default_rng(0).standard_normal((5, 4))
    # same products as the layer, at most summed in another order: a few ulps, so 1e-14
    np.testing.assert_allclose(d.forward(X), X @ d.W + d.b, rtol=1e-14)
    dZ = np.random.default_rng(1).standard_normal((5, 3))
    d.input_grad = True
    dX = d.backward(dZ)
    # the values, not only the accumulation: a backward that adds nothing would pass "2 * 0 == 0" alone
    np.testing.assert_allclose(dX, dZ @ d.W.T, rtol=1e-14)
    np.testing.assert_allclose(d.dW, X.T @ dZ, rtol=1e-14)
    np.testing.assert_allclose(d.db, dZ.sum(axis=0), rtol=1e-14)
    once_W, once_b = d.dW.copy(), d.db.copy()
    d.backward(dZ)
    np.testing.assert_array_equal(d.dW, 2 * once_W)  # backward ADDS into the gradient: g + g == 2 g exactly
    np.testing.assert_array_equal(d.db, 2 * once_b)


N_IN, N_OUT = 64, 25
N_DRAWS = N_IN * N_OUT  # 1600 draws per matrix: the tolerances below are multiples of their standard errors
R_UFLDL = np.sqrt(6) / np.sqrt(N_IN + N_OUT + 1)
R_GLOROT = np.sqrt(6 / (N_IN + N_OUT))


@pytest.mark.parametrize("method, shape, bound, sd", [
    ("ufldl", "uniform", R_UFLDL, R_UFLDL / np.sqrt(3)),  # uniform on [-r, r]: std r / sqrt(3)
    ("glorot", "uniform", R_GLOROT, R_GLOROT / np.sqrt(3)),
    ("he", "normal", None, np.sqrt(2 / N_IN)),
])
def test_initialisations(method, shape, bound, sd):
    r"""The draws have the right range, centre, spread and shape, not just the right bound.

    Tolerances, for n = 1600 independent draws (5 standard errors unless said):

    * mean: :math:`|\bar w| < 5 \sigma/\sqrt{n}`;
    * standard deviation: the relative standard error of the sample std is
      :math:`\sqrt{(\kappa - 1)/4n}` (kurtosis :math:`\kappa` = 1.8 uniform, 3 normal),
      0.011 and 0.018, so 5 of them is 5.6% and 8.8%;
    * excess kurtosis (-1.2 uniform, 0 normal) within 0.5: 4 standard errors for
      a normal sample (:math:`\sqrt{24/n}` = 0.12), 17 for a uniform one (0.03, measured);
    * uniform range: no draw outside :math:`[-r, r]`, and both the largest and
      the smallest within 2% of the ends: :math:`P(\max w < 0.98 r) = 0.99^n = 1e-7`.

    Wrong implementations these rule out (each tried in a scratch run): all
    zeros or a constant; one row or column repeated; the glorot radius for
    ufldl (0.5% wider, so some |w| > r); uniform on [0, r] (mean off); the
    ``1/sqrt(D_in)`` or ``r = 1`` scales; he's ``sqrt(2/D_out)`` or
    ``sqrt(1/D_in)``; a normal with the uniform's std, or a uniform with he's
    std (right spread, wrong shape); a transposed ``(D_out, D_in)`` matrix;
    float32 when float64 was asked for. Not ruled out here: glorot drawn with
    UFLDL's radius (0.6% narrower); the next test catches that.
    """
    W = init_weights((N_IN, N_OUT), method, np.random.default_rng(0))
    assert W.shape == (N_IN, N_OUT) and W.dtype == np.float64
    assert np.unique(W).size == W.size  # continuous draws never repeat: not constant, no copied rows
    assert abs(W.mean()) < 5 * sd / np.sqrt(N_DRAWS)
    kurtosis = {"uniform": 1.8, "normal": 3.0}[shape]
    assert abs(W.std() / sd - 1) < 5 * np.sqrt((kurtosis - 1) / (4 * N_DRAWS))
    assert abs(stats.kurtosis(W.ravel()) - (kurtosis - 3)) < 0.5
    if shape == "uniform":
        assert np.abs(W).max() <= bound
        assert W.max() > 0.98 * bound and W.min() < -0.98 * bound


@pytest.mark.parametrize("method, r", [("ufldl", np.sqrt(6 / (4 + 3 + 1))), ("glorot", np.sqrt(6 / (4 + 3)))])
def test_uniform_radius_where_ufldl_and_glorot_differ(method, r):
    """At 64 x 25 UFLDL's ``+ 1`` changes r by 0.6%, too little for 1600 draws to see; at 4 x 3 it is 7%.

    2400 draws: P(max|w| < 0.99 r) = 0.99^2400 = 3e-11, so a correct r passes and
    the other method's radius (7% smaller, or 7% larger) fails.
    """
    rng = np.random.default_rng(0)
    W = np.concatenate([init_weights((4, 3), method, rng).ravel() for _ in range(200)])
    assert 0.99 * r < np.abs(W).max() <= r


def test_init_is_reproducible_from_seed():
    a = init_weights((8, 3), "ufldl", np.random.default_rng(7))
    b = init_weights((8, 3), "ufldl", np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    # and it uses the generator: an implementation ignoring rng (zeros, a fixed seed) would pass the line above
    assert not np.array_equal(a, init_weights((8, 3), "ufldl", np.random.default_rng(8)))


def test_bad_init_name():
    with pytest.raises(ValueError, match="init must be one of"):
        Dense(3, 2, init="xavier-ish")


def test_tied_weights_halve_the_weight_parameters():
    enc = Dense(10, 4)
    tied = Sequential([enc, nn.Sigmoid(), TiedDense(enc)], SquaredError())
    untied = Sequential([Dense(10, 4), nn.Sigmoid(), Dense(4, 10)], SquaredError())
    assert untied.n_params - tied.n_params == 40
    assert tied.n_params == 40 + 4 + 10
    X = np.random.default_rng(0).standard_normal((3, 10))
    np.testing.assert_allclose(tied.forward(X), tied.layers[1].A @ enc.W.T + tied.layers[2].b)
