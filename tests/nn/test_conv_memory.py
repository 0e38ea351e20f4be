"""Memory of a convolutional training epoch: the work buffers are per minibatch, in the model's dtype."""
import tracemalloc

import numpy as np

from numpy_ae.models.convolutional import ConvAutoencoder
from numpy_ae.train.fast_optimizers import Adam
from numpy_ae.train.loop import train_minibatch

BATCH = 32


def _net(dtype="float32"):
    # the Keras denoiser's layers, smaller: conv - pool - conv - pool, two stride-2 transposed convs, conv to 1
    # channel. Every code path of the conv layers runs: im2col (1 -> 16), col2im (16 -> 16 backward),
    # the transposed convs, and the narrow path of 16 -> 1.
    est = ConvAutoencoder(image_shape=(1, 16, 16), filters=(16, 16), dtype=dtype, random_state=0)
    return est.initialize(256).network_


def _pairs(n, dtype=np.float32):
    rng = np.random.default_rng(n)
    clean = rng.random((n, 256)).astype(dtype)
    noisy = np.clip(clean + 0.4 * rng.standard_normal(clean.shape), 0, 1).astype(dtype)
    return noisy, clean


def _epoch_peak(n):
    """(peak bytes traced during one epoch on n pairs, the network); the data is allocated before tracing."""
    noisy, clean = _pairs(n)
    net = _net()
    tracemalloc.start()
    try:
        train_minibatch(net, noisy, clean, optimizer=Adam(1e-3), epochs=1, batch_size=BATCH,
                        rng=np.random.default_rng(0), verbose=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, net


def _buffers(net):
    return [buf for workspace in net._workspaces.values() for buf in workspace.values()]


def test_epoch_peak_does_not_grow_with_the_data_set():
    peak_small, net = _epoch_peak(2 * BATCH)
    peak_large, _ = _epoch_peak(8 * BATCH)  # 4x the pairs (the data allocated before tracing)
    # tracemalloc sees NumPy's arrays: the layers' work buffers, allocated during the epoch, are in the peak
    buffer_bytes = sum(b.nbytes for b in _buffers(net))
    assert buffer_bytes > 1e6  # the work buffers of a minibatch of 32 (16 MiB in all)
    assert peak_small >= buffer_bytes
    # What may grow with N: the shuffled index array (8 bytes per pair, 1.5 KiB more here). Buffers sized by
    # the data set would make the peak about 4x; 5% leaves room for allocator and Python noise only.
    assert peak_large <= 1.05 * peak_small, (peak_small, peak_large)


def test_float32_epoch_keeps_float32_buffers():
    # no silent float64 upcast anywhere in a training pass: every work array is float32 (or a bool/uint8 mask)
    _, net = _epoch_peak(2 * BATCH)
    dtypes = {(type(layer).__name__, key): buf.dtype for layer in net.layers
              for key, buf in net._workspaces.get(id(layer), {}).items()}
    assert {k for k, d in dtypes.items() if d not in (np.float32, np.bool_, np.uint8)} == set(), dtypes
    assert any(name == "Conv2D" and key == "cols" for name, key in dtypes)  # the buffers were looked at
    assert net.grad.dtype == np.float32


def test_buffers_are_reused_from_one_epoch_to_the_next():
    noisy, clean = _pairs(2 * BATCH)
    net = _net()
    train_minibatch(net, noisy, clean, optimizer=Adam(1e-3), epochs=1, batch_size=BATCH,
                    rng=np.random.default_rng(0), verbose=False)
    before = {id(b) for b in _buffers(net)}
    train_minibatch(net, noisy, clean, optimizer=Adam(1e-3), epochs=1, batch_size=BATCH,
                    rng=np.random.default_rng(1), verbose=False)
    assert {id(b) for b in _buffers(net)} == before  # the same arrays, not new ones of the same size
