"""The fast convolutions against their references over a grid of geometries, in float64.

tests/nn/test_fast_twins.py runs each twin on a few hand-picked problems; the fast convolutions choose
between paths by geometry (the narrow forward, dX by correlation or by col2im, the transposed
convolution's output phases, whose taps and padding depend on kernel, stride, padding and output
padding), so here every combination of kernel 1-4, stride 1-3, padding 0-3 and output padding below
the stride, on images of 1-4 pixels, and channel counts with fewer, as many and more outputs than
inputs. Forward output and the three gradients, fresh arrays and inside a reused workspace; the same
tolerance as the twin tests (rtol 1e-12: a wrong tap or offset differs by O(1)).
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import numpy_ae
from numpy_ae import nn
from numpy_ae.nn.fast import conv as fast_conv
from numpy_ae.nn.fast import conv_transpose as fast_conv_t

RTOL = 1e-12
CHANNELS = [(3, 2), (2, 2), (1, 3)]


def _pair(ref_cls, fast_cls, args, kwargs, rng):
    ref = ref_cls(*args, **kwargs)
    shapes = ref.param_shapes()
    params = {k: rng.standard_normal(v) for k, v in shapes.items()}
    ref.bind({k: v.copy() for k, v in params.items()}, {k: np.zeros(v) for k, v in shapes.items()})
    twin = fast_cls(*args, **kwargs)
    twin.bind({k: v.copy() for k, v in params.items()}, {k: np.zeros(v) for k, v in shapes.items()})
    return ref, twin


def _compare(ref, twin, X, rng, what):
    Y = ref.forward(X)
    dY = rng.standard_normal(Y.shape)
    dX = ref.backward(dY.copy())
    for workspace in (None, {}, "again"):
        if workspace != "again":
            twin.workspace = workspace
        for k in ("dW", "db"):
            getattr(twin, k)[...] = 0.0
        Yf = twin.forward(X)
        dXf = twin.backward(dY.copy())
        scale = max(1.0, float(np.abs(Y).max()))
        np.testing.assert_allclose(Yf, Y, rtol=RTOL, atol=RTOL * scale, err_msg=f"{what}: Y ({workspace})")
        for name, a, b in (("dX", dXf, dX), ("dW", twin.dW, ref.dW), ("db", twin.db, ref.db)):
            scale = max(1.0, float(np.abs(b).max()))
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=RTOL * scale, err_msg=f"{what}: {name} ({workspace})")
        ref.dW[...] = 0.0
        ref.db[...] = 0.0
        ref.forward(X)
        ref.backward(dY.copy())
    twin.workspace = None


@pytest.mark.parametrize("k,s", list(itertools.product(range(1, 5), range(1, 4))))
def test_conv_transpose_2d_every_geometry(k, s):
    rng = np.random.default_rng(k * 10 + s)
    checked = 0
    for p, o, H, (C, F) in itertools.product(range(4), range(s), (1, 2, 4), CHANNELS):
        if (H - 1) * s - 2 * p + k + o < 1:
            continue
        ref, twin = _pair(nn.ConvTranspose2D, fast_conv_t.ConvTranspose2D, (C, F, k),
                          {"stride": s, "padding": p, "output_padding": o}, rng)
        _compare(ref, twin, rng.standard_normal((2, C, H, H + 1)), rng, f"convT k{k} s{s} p{p} o{o} H{H} {C}->{F}")
        checked += 1
    assert checked >= 12  # guards the filter: most of the grid is valid


@pytest.mark.parametrize("k,s", list(itertools.product(range(1, 5), range(1, 4))))
def test_conv_2d_every_geometry(k, s):
    rng = np.random.default_rng(k * 10 + s + 1000)
    checked = 0
    for p, H, (C, F) in itertools.product(range(4), (1, 2, 3, 5), CHANNELS):
        if H + 2 * p < k:
            continue
        ref, twin = _pair(nn.Conv2D, fast_conv.Conv2D, (C, F, k), {"stride": s, "padding": p}, rng)
        _compare(ref, twin, rng.standard_normal((2, C, H, H + 1)), rng, f"conv k{k} s{s} p{p} H{H} {C}->{F}")
        checked += 1
    assert checked >= 12  # guards the filter: most of the grid is valid


def test_the_fast_convolutions_return_channels_last():
    """The layout the next layer reads fastest (nn/fast/conv.py): values in (N, C, H, W), stored (N, H, W, C)."""
    rng = np.random.default_rng(0)
    for cls, args in ((fast_conv.Conv2D, (2, 3, 3)), (fast_conv_t.ConvTranspose2D, (2, 3, 3))):
        layer = cls(*args, padding=1)
        shapes = layer.param_shapes()
        layer.bind({k: rng.standard_normal(v) for k, v in shapes.items()}, {k: np.zeros(v) for k, v in shapes.items()})
        Y = layer.forward(rng.standard_normal((2, 2, 5, 5)))
        assert Y.transpose(0, 2, 3, 1).flags.c_contiguous, cls


def _conv_net(fast):
    """Every fast path in one network: a wide Conv2D (col2im dX), pooling, a stride-1 F == C Conv2D
    (dX by correlation), a stride-2 transposed convolution (phases) and a narrow 3 -> 1 Conv2D."""
    return nn.Sequential([nn.Conv2D(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2D(2), nn.Conv2D(3, 3, 3, padding=1),
                          nn.ReLU(), nn.ConvTranspose2D(3, 3, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
                          nn.Conv2D(3, 1, 3, padding=1)],
                         nn.SquaredError(), dtype=np.float64, random_state=0, fast=fast)


def test_chunks_and_threads_give_the_reference_and_the_same_bits_for_the_same_count(monkeypatch):
    """Inside the training step the fast convolutions work a few images at a time, the chunks shared
    among numpy_ae's threads (nn/fast/conv.py: image_chunks, train/threads.py: in_slots). With one
    image per chunk: the gradient equals the reference's to round-off for 1, 2 and 3 threads, and is
    bitwise the same on a second run with the same count (each chunk's partial dW is summed in chunk
    order, whichever thread computed it)."""
    monkeypatch.setattr(fast_conv, "CHUNK_ELEMENTS", 1)
    X = np.random.default_rng(3).random((5, 1, 8, 8))
    ref = _conv_net(fast=False)
    J_ref = ref.compute(X)
    grad_ref = ref.grad.copy()
    grads = {}
    try:
        for threads in (1, 2, 3, 2, 1, 3):
            numpy_ae.set_num_threads(threads)
            net = _conv_net(fast=True)
            J = net.compute(X)
            np.testing.assert_allclose(J, J_ref, rtol=RTOL)
            np.testing.assert_allclose(net.grad, grad_ref, rtol=1e-10, atol=RTOL * np.abs(grad_ref).max())
            assert net.layers[0].workspace is None  # lent for the step only
            if threads in grads:
                assert np.array_equal(net.grad, grads[threads]), threads
            grads[threads] = net.grad.copy()
    finally:
        numpy_ae.set_num_threads(None)
    keys = set(net._workspaces[id(net.layers[5])])
    assert {"P0", "P1", "P2"} <= keys, keys  # three threads, each its own scratch arrays
