"""MaxPool2D, Upsample2D, Flatten and Reshape against explicit loops, adjoints, a model, and bad input."""
import numpy as np
import pytest

from numpy_ae import nn
from numpy_ae.check.gradcheck import check_model
from numpy_ae.nn.losses import SquaredError
from numpy_ae.nn.sequential import Sequential
from numpy_ae.nn.spatial import Flatten, MaxPool2D, Reshape, Upsample2D


def distinct(shape, seed=0):
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n) * (2.0 / n) - 1.0).reshape(shape)


# ------------------------------------------------------------------ references (explicit loops)
def maxpool_loops(X, p, s):
    N, C, H, W = X.shape
    Ho, Wo = (H - p) // s + 1, (W - p) // s + 1
    Y = np.empty((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    Y[n, c, i, j] = max(X[n, c, i * s + a, j * s + b] for a in range(p) for b in range(p))
    return Y


def maxpool_backward_loops(X, dY, p, s):
    """Each output's gradient to the first maximum (row-major) of its window, accumulated."""
    N, C, H, W = X.shape
    dX = np.zeros_like(X)
    for n in range(N):
        for c in range(C):
            for i in range(dY.shape[2]):
                for j in range(dY.shape[3]):
                    best = None
                    for a in range(p):
                        for b in range(p):
                            v = X[n, c, i * s + a, j * s + b]
                            if best is None or v > best[0]:
                                best = (v, i * s + a, j * s + b)
                    dX[n, c, best[1], best[2]] += dY[n, c, i, j]
    return dX


def upsample_loops(X, s):
    N, C, H, W = X.shape
    Y = np.empty((N, C, H * s, W * s))
    for n in range(N):
        for c in range(C):
            for r in range(H * s):
                for q in range(W * s):
                    Y[n, c, r, q] = X[n, c, r // s, q // s]
    return Y


POOLS = [(2, 2, (2, 3, 4, 6)), (2, 2, (1, 2, 5, 7)), (3, 1, (2, 2, 5, 4)), (3, 2, (1, 3, 7, 5)),
         (2, 3, (2, 1, 5, 8)), (1, 1, (2, 2, 3, 3)), (4, 4, (1, 1, 4, 4))]


@pytest.mark.parametrize("p, s, shape", POOLS)
def test_maxpool_forward_matches_loops(p, s, shape):
    X = distinct(shape, 1)
    Y = MaxPool2D(p, s).forward(X)
    np.testing.assert_array_equal(Y, maxpool_loops(X, p, s))
    assert Y.dtype == X.dtype


@pytest.mark.parametrize("p, s, shape", POOLS)
def test_maxpool_backward_matches_loops(p, s, shape):
    X = distinct(shape, 2)
    layer = MaxPool2D(p, s)
    Y = layer.forward(X)
    dY = np.random.default_rng(3).standard_normal(Y.shape)
    np.testing.assert_allclose(layer.backward(dY.copy()), maxpool_backward_loops(X, dY, p, s), rtol=0, atol=1e-14)


def test_maxpool_overlapping_windows_accumulate():
    # one large value in the centre of a 4x4 image is the max of all four 3x3 windows (stride 1)
    X = np.zeros((1, 1, 4, 4))
    X[0, 0, 1, 2] = 10.0
    X[0, 0, 2, 1] = 5.0
    layer = MaxPool2D(3, stride=1)
    np.testing.assert_array_equal(layer.forward(X), np.full((1, 1, 2, 2), 10.0))
    dX = layer.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    expected = np.zeros((1, 1, 4, 4))
    expected[0, 0, 1, 2] = 10.0  # 1 + 2 + 3 + 4
    np.testing.assert_array_equal(dX, expected)


def test_maxpool_ties_go_to_the_first_position_in_the_window():
    X = np.ones((1, 1, 2, 2))
    layer = MaxPool2D(2)
    layer.forward(X)
    np.testing.assert_array_equal(layer.backward(np.array([[[[7.0]]]]))[0, 0], [[7.0, 0.0], [0.0, 0.0]])


def test_maxpool_float32_and_non_contiguous_input():
    X = distinct((2, 3, 6, 8), 4).astype(np.float32).transpose(0, 1, 3, 2)  # (2, 3, 8, 6), not contiguous
    layer = MaxPool2D(2)
    Y = layer.forward(X)
    assert Y.dtype == np.float32
    np.testing.assert_array_equal(Y, maxpool_loops(X.astype(np.float64), 2, 2))
    assert layer.backward(np.ones(Y.shape, np.float32)).dtype == np.float32


@pytest.mark.parametrize("s, shape", [(2, (2, 3, 3, 4)), (3, (1, 2, 2, 3)), (1, (2, 1, 3, 3))])
def test_upsample_forward_matches_loops(s, shape):
    X = distinct(shape, 5)
    np.testing.assert_array_equal(Upsample2D(s).forward(X), upsample_loops(X, s))


@pytest.mark.parametrize("s, shape", [(2, (2, 3, 3, 4)), (3, (1, 2, 2, 3))])
def test_upsample_backward_is_the_adjoint(s, shape):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape)
    layer = Upsample2D(s)
    up = layer.forward(x)
    y = rng.standard_normal(up.shape)
    upT = layer.backward(y.copy())
    assert upT.shape == x.shape
    np.testing.assert_allclose(np.vdot(up, y), np.vdot(x, upT), rtol=1e-12)
    # and against the block sums written out
    ref = np.zeros(shape)
    for r in range(y.shape[2]):
        for q in range(y.shape[3]):
            ref[:, :, r // s, q // s] += y[:, :, r, q]
    np.testing.assert_allclose(upT, ref, rtol=1e-12, atol=1e-14)


def test_flatten_reshape_round_trip():
    X = distinct((3, 2, 4, 5), 7)
    flat, back = Flatten(), Reshape((2, 4, 5))
    F = flat.forward(X)
    assert F.shape == (3, 40)
    np.testing.assert_array_equal(F[1], X[1].ravel())
    np.testing.assert_array_equal(back.forward(F), X)
    dY = np.random.default_rng(8).standard_normal(X.shape)
    np.testing.assert_array_equal(flat.backward(back.backward(dY)), dY)
    assert back.backward(dY).shape == (3, 40) and flat.backward(F).shape == X.shape


def test_reshape_accepts_an_int_shape():
    assert Reshape(6).forward(np.zeros((2, 2, 3))).shape == (2, 6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pooling_model_between_dense_layers(dtype):
    """Dense -> Tanh -> Reshape -> MaxPool2D (overlapping) -> Upsample2D -> Flatten -> Dense, one flat theta."""
    D = 5
    net = Sequential([nn.Dense(D, 2 * 5 * 6), nn.Tanh(), Reshape((2, 5, 6)), MaxPool2D(3, stride=2),
                      Upsample2D(2), Flatten(), nn.Dense(2 * 4 * 4, D)], SquaredError(),
                     weight_decay=1e-3, dtype=dtype, random_state=0)
    assert net.n_params == D * 60 + 60 + 32 * D + D
    assert all(np.shares_memory(b.layer.__dict__[b.key], net.theta) for b in net.blocks)
    X = np.random.default_rng(9).standard_normal((4, D)).astype(dtype)
    assert net.forward(X).shape == (4, D)
    if dtype == np.float64:
        res = check_model(net, X, eps=1e-5)
        assert res.ok and res.rel_diff < 1e-9, res.report()
    else:
        J, g = net.loss_and_grad(net.theta, X)
        assert np.isfinite(J) and g.dtype == np.float32 and np.any(g != 0)


def test_batch_of_one():
    X = distinct((1, 1, 3, 3), 10)
    layer = MaxPool2D(2, stride=1)
    np.testing.assert_array_equal(layer.forward(X), maxpool_loops(X, 2, 1))


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("make, match", [
    (lambda: MaxPool2D(0), r"pool_size must be an integer >= 1; got 0"),
    (lambda: MaxPool2D(2.0), r"pool_size must be an integer >= 1; got 2.0"),
    (lambda: MaxPool2D(2, stride=0), r"stride must be an integer >= 1; got 0"),
    (lambda: MaxPool2D(2, stride=1.5), r"stride must be an integer >= 1; got 1.5"),
    (lambda: MaxPool2D(True), r"pool_size must be an integer >= 1; got True"),
    (lambda: Upsample2D(0), r"scale must be an integer >= 1; got 0"),
    (lambda: Upsample2D(-2), r"scale must be an integer >= 1; got -2"),
    (lambda: Reshape((2, 0)), r"shape must be a tuple of integers >= 1; got \(2, 0\)"),
    (lambda: Reshape(()), r"shape must be a non-empty tuple"),
    (lambda: Reshape("ab"), r"shape must be a tuple of integers >= 1"),
])
def test_bad_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("layer, shape, match", [
    (MaxPool2D(2), (4, 4), r"X must be a 4-D array \(N, C, H, W\).*got shape \(4, 4\)"),
    (MaxPool2D(2), (1, 2, 4, 4, 1), r"X must be a 4-D array.*got shape \(1, 2, 4, 4, 1\)"),
    (Upsample2D(2), (2, 3, 4), r"X must be a 4-D array.*got shape \(2, 3, 4\)"),
    (MaxPool2D(3), (1, 1, 2, 5), r"pool_size must be <= the input's height and width \(H=2, W=5\); got 3"),
    (MaxPool2D(3), (1, 1, 5, 2), r"pool_size must be <= .*\(H=5, W=2\); got 3"),
    (Flatten(), (5,), r"Flatten: X must have at least 2 dimensions.*got shape \(5,\)"),
    (Reshape((2, 3)), (4, 5), r"X must have 6 = prod\(shape=\(2, 3\)\) values per example.*got shape \(4, 5\)"),
    (Reshape((2, 3)), (4,), r"Reshape: X must have at least 2 dimensions"),
])
def test_bad_input(layer, shape, match):
    with pytest.raises(ValueError, match=match):
        layer.forward(np.zeros(shape))
