"""Convolution layers: forward against independent references, the adjoint identity, shapes, float32,
training inside Sequential, weight decay on kernels only, bad input, and im2col buffer sizes."""
import numpy as np
import pytest
from scipy.signal import correlate2d

from numpy_ae.nn.conv import Conv1D, Conv2D, ConvTranspose1D, ConvTranspose2D, col2im, im2col
from numpy_ae.nn.activations import ReLU
from numpy_ae.nn.fast import to_fast
from numpy_ae.nn.losses import SquaredError
from numpy_ae.nn.sequential import Sequential
from numpy_ae.train.optimizers import Adam
from numpy_ae.train.lbfgs import lbfgs
from numpy_ae.train.loop import train_minibatch

# Every output below is a sum of at most C*kh*kw = 2*3*3 = 18 products of O(1) numbers, so float64
# rounding is about 18 * 1.1e-16 * |terms| ~ 1e-14; 1e-12 leaves a 100x margin and still catches
# any wrong index (which moves results by O(1)).
TOL = 1e-12


def _bound(layer, seed=0, dtype=np.float64):
    """A one-layer Sequential so the layer gets its W, b views; random W and b."""
    net = Sequential([layer], SquaredError(), dtype=dtype, random_state=seed)
    rng = np.random.default_rng(seed + 100)
    layer.W[...] = rng.standard_normal(layer.W.shape)
    layer.b[...] = rng.standard_normal(layer.b.shape)
    return net


def _conv_loops(X, W, b, stride, padding):
    """Conv2D by explicit loops over every index (independent of im2col)."""
    (sh, sw), (ph, pw) = stride, padding
    N, C, H, Wd = X.shape
    F, _, kh, kw = W.shape
    Xp = np.zeros((N, C, H + 2 * ph, Wd + 2 * pw))
    Xp[:, :, ph:ph + H, pw:pw + Wd] = X
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (Wd + 2 * pw - kw) // sw + 1
    Y = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    Y[n, f, i, j] = b[f] + np.sum(W[f] * Xp[n, :, sh * i:sh * i + kh, sw * j:sw * j + kw])
    return Y


def _conv_transpose_loops(X, W, b, stride, padding, output_padding=(0, 0)):
    """ConvTranspose2D by explicit stamping: each input pixel adds X * W[c] at (s i, s j), then crop.

    ``output_padding``: the stamped image gets that many more zero rows/columns at the bottom/right."""
    (sh, sw), (ph, pw), (oh, ow) = stride, padding, output_padding
    N, C, H, Wd = X.shape
    _, F, kh, kw = W.shape
    Yp = np.zeros((N, F, (H - 1) * sh + kh + oh, (Wd - 1) * sw + kw + ow))
    for n in range(N):
        for c in range(C):
            for i in range(H):
                for j in range(Wd):
                    Yp[n, :, sh * i:sh * i + kh, sw * j:sw * j + kw] += X[n, c, i, j] * W[c]
    return Yp[:, :, ph:Yp.shape[2] - ph, pw:Yp.shape[3] - pw] + b[:, None, None]


CASES = [  # (C, F, kernel, stride, padding, (N, H, W))
    (2, 3, (3, 3), (1, 1), (0, 0), (2, 5, 5)),
    (2, 3, (3, 2), (2, 2), (1, 1), (2, 7, 6)),
    (3, 2, (2, 3), (2, 1), (0, 2), (1, 5, 4)),
    (1, 2, (1, 1), (3, 2), (0, 0), (3, 7, 8)),
    (2, 2, (3, 3), (2, 3), (2, 1), (2, 4, 9)),
]


@pytest.mark.parametrize("C, F, k, s, p, nhw", CASES)
def test_conv2d_forward_matches_loops(C, F, k, s, p, nhw):
    layer = Conv2D(C, F, k, stride=s, padding=p)
    _bound(layer)
    N, H, W = nhw
    X = np.random.default_rng(1).standard_normal((N, C, H, W))
    expected = _conv_loops(X, layer.W, layer.b, s, p)
    np.testing.assert_allclose(layer.forward(X, training=False), expected, rtol=0, atol=TOL)
    np.testing.assert_allclose(layer.forward(X, training=True), expected, rtol=0, atol=TOL)


def test_conv2d_stride1_matches_scipy_correlate():
    layer = Conv2D(3, 2, (3, 4), padding=(1, 2))
    _bound(layer, seed=3)
    X = np.random.default_rng(3).standard_normal((2, 3, 6, 5))
    Y = layer.forward(X, training=False)
    for n in range(2):
        for f in range(2):
            ref = layer.b[f] + sum(correlate2d(np.pad(X[n, c], ((1, 1), (2, 2))), layer.W[f, c], mode="valid")
                                   for c in range(3))
            np.testing.assert_allclose(Y[n, f], ref, rtol=0, atol=TOL)


@pytest.mark.parametrize("C, F, k, s, p, nhw", CASES)
def test_conv_transpose2d_forward_matches_loops(C, F, k, s, p, nhw):
    layer = ConvTranspose2D(C, F, k, stride=s, padding=p)
    _bound(layer)
    N, H, W = nhw
    H, W = H - 1, W - 1  # other sizes than the Conv2D cases
    X = np.random.default_rng(2).standard_normal((N, C, H, W))
    expected = _conv_transpose_loops(X, layer.W, layer.b, s, p)
    Y = layer.forward(X, training=True)
    assert Y.shape == (N, F, (H - 1) * s[0] - 2 * p[0] + k[0], (W - 1) * s[1] - 2 * p[1] + k[1])
    np.testing.assert_allclose(Y, expected, rtol=0, atol=TOL)


@pytest.mark.parametrize("k, s, p, L", [(3, 1, 0, 7), (3, 2, 1, 8), (4, 3, 2, 11), (1, 2, 0, 5)])
def test_1d_layers_match_the_2d_reference(k, s, p, L):
    conv, convt = Conv1D(2, 3, k, stride=s, padding=p), ConvTranspose1D(3, 2, k, stride=s, padding=p)
    _bound(conv, seed=4)
    _bound(convt, seed=5)
    rng = np.random.default_rng(6)
    X = rng.standard_normal((2, 2, L))
    Y = conv.forward(X, training=False)
    expected = _conv_loops(X[:, :, None, :], conv.W[:, :, None, :], conv.b, (1, s), (0, p))[:, :, 0, :]
    assert Y.shape == (2, 3, (L + 2 * p - k) // s + 1)
    np.testing.assert_allclose(Y, expected, rtol=0, atol=TOL)
    Z = rng.standard_normal(Y.shape)
    expected_t = _conv_transpose_loops(Z[:, :, None, :], convt.W[:, :, None, :], convt.b, (1, s), (0, p))
    np.testing.assert_allclose(convt.forward(Z, training=True), expected_t[:, :, 0, :], rtol=0, atol=TOL)


ADJOINT_CASES = [  # (C, F, kernel, stride, padding, (N, H, W)); s divides H + 2p - k so the shapes match
    (2, 3, (3, 3), (1, 1), (1, 1), (2, 5, 6)),
    (3, 2, (3, 2), (2, 2), (1, 0), (2, 7, 8)),
    (1, 4, (4, 3), (2, 3), (1, 0), (1, 8, 9)),
    (2, 2, (2, 2), (2, 2), (0, 0), (3, 6, 4)),
]


@pytest.mark.parametrize("C, F, k, s, p, nhw", ADJOINT_CASES)
def test_adjoint_identity(C, F, k, s, p, nhw):
    r"""<Conv(x), y> = <x, ConvT(y)> with the same W and zero biases. Both sides sum the same
    N*F*H'*W'*C*kh*kw products in different orders: rounding ~1e-16 * sqrt(terms) relative."""
    conv, convt = Conv2D(C, F, k, stride=s, padding=p), ConvTranspose2D(F, C, k, stride=s, padding=p)
    _bound(conv)
    _bound(convt)
    convt.W[...] = conv.W
    conv.b[...] = 0.0
    convt.b[...] = 0.0
    N, H, W = nhw
    rng = np.random.default_rng(7)
    x = rng.standard_normal((N, C, H, W))
    Cx = conv.forward(x, training=False)
    y = rng.standard_normal(Cx.shape)
    CTy = convt.forward(y, training=False)
    assert CTy.shape == x.shape
    lhs, rhs = np.sum(Cx * y), np.sum(x * CTy)
    assert abs(lhs - rhs) <= TOL * max(1.0, np.abs(Cx * y).sum())


def test_adjoint_identity_1d():
    conv, convt = Conv1D(2, 3, 4, stride=3, padding=1), ConvTranspose1D(3, 2, 4, stride=3, padding=1)
    _bound(conv)
    _bound(convt)
    convt.W[...] = conv.W
    conv.b[...] = convt.b[...] = 0.0
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 2, 14))  # (14 + 2 - 4) = 12, divisible by 3: 5 outputs, back to 14
    Cx = conv.forward(x, training=False)
    y = rng.standard_normal(Cx.shape)
    CTy = convt.forward(y, training=False)
    assert CTy.shape == x.shape
    assert abs(np.sum(Cx * y) - np.sum(x * CTy)) <= TOL * np.abs(Cx * y).sum()


def test_im2col_and_col2im_are_adjoint():
    rng = np.random.default_rng(9)
    Xp = rng.standard_normal((2, 3, 7, 8))
    cols = im2col(Xp, (3, 2), (2, 3))
    assert cols.shape == (2, 3, 3, 3, 3, 2)
    D = rng.standard_normal(cols.shape)
    assert abs(np.sum(cols * D) - np.sum(Xp * col2im(D, Xp.shape, (2, 3)))) <= TOL * np.abs(cols * D).sum()


def test_backward_matches_the_adjoint_forward():
    """Conv2D's input gradient is ConvTranspose2D's forward with the same weights (and vice versa)."""
    conv, convt = Conv2D(2, 3, 3, stride=2, padding=1), ConvTranspose2D(3, 2, 3, stride=2, padding=1)
    _bound(conv)
    _bound(convt)
    convt.W[...] = conv.W
    convt.b[...] = 0.0
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 2, 7, 5))
    y = rng.standard_normal(conv.forward(x).shape)
    np.testing.assert_allclose(conv.backward(y.copy()), convt.forward(y), rtol=0, atol=TOL)


def test_float32_forward_and_backward():
    layers32 = [Conv2D(2, 3, 3, stride=2, padding=1), ReLU(), ConvTranspose2D(3, 2, 3, stride=2, padding=1)]
    net = Sequential(layers32, SquaredError(), dtype=np.float32, random_state=0)
    X = np.random.default_rng(0).standard_normal((4, 2, 7, 7)).astype(np.float32)
    Y = net.forward(X, training=True)
    assert Y.dtype == np.float32 and Y.shape == X.shape
    net64 = Sequential([Conv2D(2, 3, 3, stride=2, padding=1), ReLU(), ConvTranspose2D(3, 2, 3, stride=2, padding=1)],
                       SquaredError(), random_state=0)
    net64.theta[...] = net.theta
    J32, J64 = net.compute(X), net64.compute(X.astype(np.float64))
    assert net.grad.dtype == np.float32
    # float32 rounding, ~6e-8 relative per operation over a few dozen-term sums
    assert abs(J32 - J64) <= 1e-5 * abs(J64)
    np.testing.assert_allclose(net.grad, net64.grad, rtol=0, atol=1e-5 * np.abs(net64.grad).max())


def _image_net(weight_decay=0.0, dtype=np.float64, fast=False):
    return Sequential([Conv2D(1, 4, 3, stride=2, padding=1), ReLU(), ConvTranspose2D(4, 1, 4, stride=2, padding=1)],
                      SquaredError(), weight_decay=weight_decay, dtype=dtype, random_state=0, fast=fast)


def _images(n, dtype=np.float64):
    """Smooth 8 x 8 blobs at random positions: an easy reconstruction task."""
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[0:8, 0:8]
    cy, cx = rng.uniform(1, 7, (2, n, 1, 1))
    return np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 4.0)[:, None].astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv_autoencoder_trains_with_adam(dtype):
    net = _image_net(dtype=dtype)
    X = _images(64, dtype)
    assert net.forward(X).shape == X.shape  # 8 -> 4 -> 8
    before = net.evaluate(X)
    history = train_minibatch(net, X, optimizer=Adam(1e-2), epochs=30, batch_size=16,
                              rng=np.random.default_rng(0), verbose=False)
    # measured: 3.67 -> 0.037 in both dtypes; 0.1 leaves a 10x margin
    assert history["loss"][-1] < 0.1 * history["loss"][0]
    assert net.evaluate(X) < 0.1 * before


def test_conv_autoencoder_trains_with_lbfgs_on_the_flat_theta():
    net = _image_net(weight_decay=1e-4)
    X = _images(32)
    J0 = net.loss_and_grad(net.theta.copy(), X)[0]
    res = lbfgs(lambda theta: net.loss_and_grad(theta, X), net.theta.copy(), max_iter=50)
    assert res.fun < 0.1 * J0


def test_weight_decay_acts_on_kernels_not_biases():
    lam = 0.1
    plain, decayed = _image_net(), _image_net(weight_decay=lam)
    theta = np.random.default_rng(12).standard_normal(plain.theta.shape)
    plain.set_theta(theta)
    decayed.set_theta(theta)
    X = _images(5)
    J0, J1 = plain.compute(X), decayed.compute(X)
    kernels = np.concatenate([l.W.ravel() for l in (plain.layers[0], plain.layers[2])])
    assert J1 - J0 == pytest.approx(0.5 * lam * kernels @ kernels, rel=1e-12)
    for lp, ld in ((plain.layers[0], decayed.layers[0]), (plain.layers[2], decayed.layers[2])):
        np.testing.assert_allclose(ld.dW - lp.dW, lam * lp.W, rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(ld.db, lp.db)


def _buffer_shapes(n_examples, batch_size):
    net = _image_net(fast=True)  # the fast twins keep their buffers in the model's workspaces
    train_minibatch(net, _images(n_examples), optimizer=Adam(1e-3), epochs=1, batch_size=batch_size,
                    rng=np.random.default_rng(0), verbose=False)
    return {(i, key): buf.shape for i in (0, 2) for key, buf in net._workspaces[id(net.layers[i])].items()}


def test_im2col_buffers_depend_on_the_minibatch_not_the_data_set():
    shapes = _buffer_shapes(200, 10)
    # the workspaces hold the patches as stored, channels last: (batch, H', W', kh, kw, C)
    assert shapes[0, "cols"] == (10, 4, 4, 3, 3, 1)  # of the 8 x 8 input
    # backward's im2col of the padded (10, 1, 10, 10) delta, per thread and per chunk of at most 10 images
    assert shapes[2, "cols0"] == (10, 4, 4, 4, 4, 1)
    assert _buffer_shapes(800, 10) == shapes  # 4x the data, same buffers
    assert _buffer_shapes(200, 20)[0, "cols"] == (20, 4, 4, 3, 3, 1)


def test_input_grad_false_skips_dx():
    layer = Conv2D(2, 3, 3)
    _bound(layer)
    to_fast(layer)  # the fast twin skips dX; the reference always computes it
    layer.workspace = {}  # as the training step lends it
    X = np.random.default_rng(0).standard_normal((2, 2, 5, 5))
    Y = layer.forward(X)
    layer.input_grad = False
    assert layer.backward(np.ones_like(Y)) is None
    assert "cols" in layer.workspace and "dcols" not in layer.workspace
    np.testing.assert_allclose(layer.db, 2 * 3 * 3 * np.ones(3))


@pytest.mark.parametrize("make, X, match", [
    (lambda: Conv2D(2, 3, 3), np.zeros((2, 2, 5)), r"X must be a 4-D array.*\(2, 2, 5\)"),
    (lambda: Conv1D(2, 3, 3), np.zeros((2, 2, 5, 5)), r"X must be a 3-D array.*\(2, 2, 5, 5\)"),
    (lambda: Conv2D(2, 3, 3), np.zeros((2, 3, 5, 5)), r"in_channels=2.*got X.shape \(2, 3, 5, 5\) with 3"),
    (lambda: ConvTranspose2D(4, 3, 3), np.zeros((2, 3, 5, 5)), r"in_channels=4"),
    (lambda: Conv2D(2, 3, (3, 6), padding=(0, 1)), np.zeros((1, 2, 5, 3)),
     r"kernel_size must not exceed the padded input: kernel_size\[1\] = 6 > 3 \+ 2\*padding\[1\] = 5"),
    (lambda: Conv1D(1, 1, 9, padding=1), np.zeros((1, 1, 6)), r"kernel_size\[0\] = 9 > 6 \+ 2\*padding\[0\] = 8"),
    (lambda: ConvTranspose2D(1, 1, 2, padding=2), np.zeros((1, 1, 2, 2)), r"padding must leave an output"),
])
def test_bad_input(make, X, match):
    with pytest.raises(ValueError, match=match):
        make().forward(X)


@pytest.mark.parametrize("kwargs, match", [
    (dict(stride=0), r"stride must be a positive integer or a pair of them; got 0"),
    (dict(stride=1.5), r"stride must be .*; got 1.5"),
    (dict(stride=(2, -1)), r"stride must be .*; got \(2, -1\)"),
    (dict(stride=True), r"stride must be .*; got True"),
    (dict(padding=-1), r"padding must be an integer >= 0 or a pair of them; got -1"),
    (dict(kernel_size=0), r"kernel_size must be a positive integer.*; got 0"),
    (dict(kernel_size=(3, 3, 3)), r"kernel_size must be .*; got \(3, 3, 3\)"),
    (dict(in_channels=0), r"in_channels must be an integer >= 1; got 0"),
    (dict(init="ufldl"), r"init must be one of \('he', 'glorot'\); got 'ufldl'"),
])
def test_bad_arguments(kwargs, match):
    args = dict(in_channels=2, out_channels=3, kernel_size=3) | kwargs
    for cls in (Conv2D, ConvTranspose2D):
        with pytest.raises(ValueError, match=match):
            cls(**args)


def test_1d_layers_take_ints_only():
    with pytest.raises(ValueError, match=r"kernel_size must be a positive integer; got \(1, 3\)"):
        Conv1D(1, 1, (1, 3))
    assert Conv1D(2, 3, 5).param_shapes() == {"W": (3, 2, 5), "b": (3,)}
    assert ConvTranspose1D(2, 3, 5).param_shapes() == {"W": (2, 3, 5), "b": (3,)}


def test_shapes_and_repr():
    assert Conv2D(3, 8, (3, 5), stride=2, padding=(1, 2)).output_shape((4, 3, 28, 27)) == (4, 8, 14, 14)
    assert ConvTranspose2D(8, 3, 3, stride=2, padding=1).output_shape((4, 8, 14, 14)) == (4, 3, 27, 27)
    assert Conv1D(3, 8, 5, stride=2).output_shape((4, 3, 20)) == (4, 8, 8)
    assert ConvTranspose1D(8, 3, 4, stride=2, padding=1).output_shape((4, 8, 8)) == (4, 3, 16)
    assert repr(Conv2D(3, 8, 3, stride=2)) == "Conv2D(3, 8, kernel_size=3, stride=2, padding=0, init='he')"


def test_he_init_scale():
    layer = Conv2D(16, 32, 3)
    Sequential([layer], SquaredError(), random_state=0)
    assert layer.W.std() == pytest.approx(np.sqrt(2.0 / (16 * 9)), rel=0.05)  # 4608 draws: std error ~1%
    assert not layer.b.any()


@pytest.mark.parametrize("k, s, p, o, hw", [
    (3, 2, 1, 1, (7, 7)),          # the Keras denoiser's "same" doubling: 7 -> 14
    ((3, 2), (2, 3), (1, 0), (1, 2), (3, 4)),  # o > p on the second axis: zero columns kept
    (2, 3, 0, 2, (2, 3)),
])
def test_conv_transpose2d_output_padding_matches_loops(k, s, p, o, hw):
    layer = ConvTranspose2D(2, 3, k, stride=s, padding=p, output_padding=o)
    _bound(layer)
    X = np.random.default_rng(5).standard_normal((2, 2) + hw)
    pair = (lambda v: (v, v) if isinstance(v, int) else v)
    expected = _conv_transpose_loops(X, layer.W, layer.b, pair(s), pair(p), pair(o))
    Y = layer.forward(X, training=True)
    assert Y.shape == layer.output_shape(X.shape) == expected.shape
    np.testing.assert_allclose(Y, expected, rtol=0, atol=TOL)
    # backward is the adjoint of the (bias-free) forward: <T x, y> = <x, T^T y>
    dY = np.random.default_rng(6).standard_normal(Y.shape)
    dX = layer.backward(dY)
    lhs = np.sum((Y - layer.b[:, None, None]) * dY)
    np.testing.assert_allclose(lhs, np.sum(X * dX), rtol=1e-12)


def test_conv_transpose2d_same_doubling_and_bad_output_padding():
    assert ConvTranspose2D(32, 32, 3, stride=2, padding=1, output_padding=1).output_shape((1, 32, 7, 7)) \
        == (1, 32, 14, 14)
    with pytest.raises(ValueError, match=r"output_padding must be smaller than stride.*output_padding=2"):
        ConvTranspose2D(1, 1, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"output_padding must be an integer >= 0 or a pair of them; got -1"):
        ConvTranspose2D(1, 1, 3, stride=2, output_padding=-1)
