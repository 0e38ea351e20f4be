"""A training step split by rows across threads (numpy_ae.train.parallel): the same objective and gradient as
the whole batch, bitwise repeatable, only for models whose rows are independent, and nested thread calls
staying in their thread."""
import threading

import numpy as np
import pytest

from numpy_ae import SparseAutoencoder
from numpy_ae.nn.activations import ELU, Identity, Sigmoid, ReLU
from numpy_ae.nn.conv import Conv2D, ConvTranspose2D
from numpy_ae.nn.dense import Dense, TiedDense
from numpy_ae.nn.losses import (BinaryCrossEntropy, GaussianNLL, MeanSquaredError, SoftmaxCrossEntropy,
                                SquaredError)
from numpy_ae.nn.noise import Dropout
from numpy_ae.nn.penalties import KLSparsity
from numpy_ae.nn.selection import LifetimeWTA
from numpy_ae.nn.sequential import Sequential
from numpy_ae.nn.spatial import Flatten, MaxPool2D, Reshape
from numpy_ae.train import threads
from numpy_ae.train.fast_optimizers import Adam
from numpy_ae.train.loop import train_minibatch
from numpy_ae.train.parallel import MIN_ROWS, WHOLE_BATCH_MIN_SIZE, RowSplit, splittable, whole_batch_objective


def conv_net(dtype=np.float64, seed=0):
    return Sequential([Reshape((1, 8, 8)), Conv2D(1, 4, 3, padding=1), ReLU(), MaxPool2D(2),
                       ConvTranspose2D(4, 2, 2, stride=2), ReLU(), Conv2D(2, 1, 3, padding=1), Flatten()],
                      BinaryCrossEntropy(), weight_decay=1e-3, dtype=dtype, random_state=seed, fast=True)


def dense_net(loss, n_out=12, dtype=np.float64):
    enc = Dense(12, 7)
    return Sequential([enc, ELU(), Dense(7, 7), Sigmoid(), TiedDense(enc) if n_out == 12 else Dense(7, n_out),
                       Identity()], loss, weight_decay=1e-2, dtype=dtype, random_state=1, fast=True)


def batch(n, d, seed=2):
    rng = np.random.default_rng(seed)
    return rng.random((n, d))


@pytest.mark.parametrize("make, target", [
    (conv_net, None),
    (lambda: dense_net(MeanSquaredError()), None),
    (lambda: dense_net(SquaredError()), None),
    (lambda: dense_net(BinaryCrossEntropy()), None),
    (lambda: dense_net(GaussianNLL(0.5)), None),
    (lambda: dense_net(SoftmaxCrossEntropy(), n_out=3), "labels"),
])
@pytest.mark.parametrize("n_threads", [2, 3])
def test_split_step_equals_the_whole_batch_and_repeats_bitwise(make, target, n_threads):
    net = make()
    n = MIN_ROWS * n_threads + 5  # uneven blocks
    X = batch(n, 64 if net.layers[0].__class__ is Reshape else 12)
    T = np.random.default_rng(3).integers(0, 3, n) if target == "labels" else None
    net.frozen[:5] = True  # a frozen entry stays at 0 in the summed gradient too
    J, g = net.compute(X, T), net.grad.copy()
    split = RowSplit(net, threads=n_threads)
    assert split.n_blocks(n) == n_threads
    J2 = split.compute(X, T)
    g2 = net.grad.copy()
    # float64: the blocks' sums in another order; 1e-12 relative is hundreds of ulps of slack, far below any
    # real difference (a block weighted wrongly, weight decay counted twice: of order 1e-2 or more)
    assert J2 == pytest.approx(J, rel=1e-12)
    np.testing.assert_allclose(g2, g, rtol=1e-10, atol=1e-13 * np.abs(g).max())
    assert not g2[:5].any()
    assert split.compute(X, T) == J2 and np.array_equal(net.grad, g2)  # the same count: the same bits


def test_split_gradient_matches_central_differences():
    net = conv_net()
    X = batch(2 * MIN_ROWS, 64)
    split = RowSplit(net, threads=2)
    split.compute(X)
    g = net.grad.copy()
    theta0 = net.theta.copy()
    rng = np.random.default_rng(4)
    for i in rng.choice(net.n_params, 12, replace=False):
        h = 1e-6
        net.theta[i] = theta0[i] + h
        Jp = split.compute(X)
        net.theta[i] = theta0[i] - h
        Jm = split.compute(X)
        net.theta[i] = theta0[i]
        num = (Jp - Jm) / (2 * h)
        # central differences in float64: error O(h^2) plus round-off ~1e-10 / h
        assert num == pytest.approx(g[i], rel=1e-5, abs=1e-7)


def test_one_thread_or_a_small_batch_is_the_plain_step_bitwise():
    net = conv_net()
    X = batch(MIN_ROWS * 2 - 1, 64)  # too few rows for two blocks
    J, g = net.compute(X), net.grad.copy()
    for split in (RowSplit(net, threads=2), RowSplit(net, threads=1)):
        assert split.n_blocks(X.shape[0]) == 1
        assert split.compute(X) == J and np.array_equal(net.grad, g)


@pytest.mark.parametrize("layers, culprit", [
    ([Dense(12, 6), Dropout(0.2), Dense(6, 12)], "Dropout"),
    ([Dense(12, 6), Sigmoid(), LifetimeWTA(0.5), Dense(6, 12)], "LifetimeWTA"),  # a selection across the batch
])
def test_models_with_batch_statistics_or_noise_are_not_split(layers, culprit):
    net = Sequential(layers, MeanSquaredError(), random_state=0, fast=True)
    assert not splittable(net, measured=False)
    with pytest.raises(ValueError, match=culprit):
        RowSplit(net)


def test_only_models_where_the_split_was_measured_to_pay_are_split_in_training():
    assert splittable(conv_net())
    dense = dense_net(MeanSquaredError())
    assert splittable(dense, measured=False) and not splittable(dense)  # dense-only: BLAS's threads instead
    reference = Sequential([Dense(12, 6), Sigmoid(), Dense(6, 12)], MeanSquaredError(), random_state=0)
    assert not splittable(reference, measured=False)  # the reference form is never split


def _train(n_threads, epochs=2):
    threads.set_num_threads(n_threads)
    try:
        net = conv_net()
        X = batch(300, 64, seed=5)
        train_minibatch(net, X, optimizer=Adam(1e-2), epochs=epochs, batch_size=100,
                        rng=np.random.default_rng(0), verbose=False)
        return net.theta.copy()
    finally:
        threads.set_num_threads(None)


def test_training_is_the_same_to_round_off_for_any_thread_count_and_bitwise_for_the_same():
    one, two, two_again, three = _train(1), _train(2), _train(2), _train(3)
    assert np.array_equal(two, two_again)
    # 6 Adam steps in float64 from sums taken in another order: differences of ~1e-15 grow a little through
    # Adam's division by sqrt(v); 1e-9 relative still catches any real difference (a block lost: ~1e-2)
    np.testing.assert_allclose(two, one, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(three, one, rtol=1e-9, atol=1e-12)
    assert not np.array_equal(one, conv_net().theta)  # it trained


def test_nested_thread_calls_stay_in_their_thread():
    def outer(i, slot):
        me = threading.get_ident()
        inner = threads.in_slots(lambda j, s: threading.get_ident(), 4, threads=2)
        chunks = []
        threads.chunked(lambda sl: chunks.append(threading.get_ident()), 10 * threads.MIN_CHUNK, threads=2)
        return me, inner, chunks

    results = threads.in_slots(outer, 2, threads=2)
    assert len({me for me, _, _ in results}) == 2  # the outer items on two threads
    for me, inner, chunks in results:
        assert inner == [me] * 4 and chunks == [me]
    # outside a slot again: two threads
    assert len(set(threads.in_slots(lambda j, s: threading.get_ident(), 2, threads=2))) == 2


# ---- the sparsity penalty's batch mean across blocks (ColumnSums), and full-batch (L-BFGS) objectives

def sparse_net(dtype=np.float64, seed=0, beta=3.0):
    return Sequential([Dense(12, 6), Sigmoid(), KLSparsity(0.05, beta), Dense(6, 12), Sigmoid()], SquaredError(),
                      weight_decay=1e-3, dtype=dtype, random_state=seed, fast=True)


@pytest.mark.parametrize("n_threads", [2, 3])
def test_sparse_split_uses_the_whole_batch_rho_hat_and_equals_the_whole_batch(n_threads):
    net = sparse_net()
    n = MIN_ROWS * n_threads + 7  # uneven blocks
    # rows of very different activations: a block's own rho_hat is far from the batch's, so a block that used
    # its own (or weighted the penalty's delta term by the batch's rows) would change J and grad at 1e-2
    X = np.vstack([batch(n // 2, 12, seed=6) * 0.1, batch(n - n // 2, 12, seed=7)])
    J, g = net.compute(X), net.grad.copy()
    kl = net.layers[2]
    rho_hat, penalty = kl.rho_hat.copy(), kl.penalty
    split = RowSplit(net, threads=n_threads)
    J2 = split.compute(X)
    g2 = net.grad.copy()
    assert J2 == pytest.approx(J, rel=1e-12)  # float64 sums in another order: ~1e-15, see the first test
    np.testing.assert_allclose(g2, g, rtol=1e-10, atol=1e-13 * np.abs(g).max())
    for model in (net, *split._replicas):  # every block saw the batch's rho_hat and penalty, hooks removed
        layer = model.layers[2]
        np.testing.assert_allclose(layer.rho_hat, rho_hat, rtol=1e-13)
        assert layer.penalty == pytest.approx(penalty, rel=1e-12) and layer.shared_sums is None
    assert split.compute(X) == J2 and np.array_equal(net.grad, g2)  # the same count: the same bits


def test_a_failing_block_raises_its_own_error_and_frees_the_others():
    net = sparse_net()
    X = batch(2 * MIN_ROWS, 12)
    split = RowSplit(net, threads=2)
    J = split.compute(X)  # makes the replica
    replica = split._replicas[0]

    def broken(*args, **kwargs):
        raise RuntimeError("block 1 failed")
    replica.layers[0].forward = broken  # fails before its barrier: block 0 must not wait for ever
    with pytest.raises(RuntimeError, match="block 1 failed"):
        split.compute(X)
    del replica.layers[0].forward
    assert split.compute(X) == J  # the next step has fresh barriers


def test_whole_batch_objective_splits_large_batches_only_and_agrees_with_loss_and_grad():
    net = Sequential([Dense(64, 8), Sigmoid(), KLSparsity(0.05, 3.0), Dense(8, 64), Sigmoid()], SquaredError(),
                     weight_decay=1e-3, random_state=0, fast=True)
    theta = net.theta.copy()
    rows = 2 * WHOLE_BATCH_MIN_SIZE // 64
    big, small = batch(rows, 64, seed=8), batch(rows - 1, 64, seed=8)
    threads.set_num_threads(2)
    try:
        for X, split in ((big, True), (small, False)):
            J, g = net.loss_and_grad(theta, X)
            with whole_batch_objective(net, X) as fun:
                assert isinstance(fun.func.__self__, RowSplit) == split
                J2, g2 = fun(theta)
            assert J2 == pytest.approx(J, rel=1e-12)
            np.testing.assert_allclose(g2, g, rtol=1e-10, atol=1e-13 * np.abs(g).max())
        with whole_batch_objective(dense_net(MeanSquaredError()), batch(2 * WHOLE_BATCH_MIN_SIZE // 12 + 1, 12)) as fun:
            assert isinstance(fun.func.__self__, RowSplit)  # dense-only networks split too: a full batch is large
    finally:
        threads.set_num_threads(None)
    threads.set_num_threads(1)
    try:
        with whole_batch_objective(net, big) as fun:
            assert not isinstance(fun.func.__self__, RowSplit)
    finally:
        threads.set_num_threads(None)


def _fit_sparse(n_threads):
    threads.set_num_threads(n_threads)
    try:
        X = batch(2 * WHOLE_BATCH_MIN_SIZE // 64 + 16, 64, seed=9) * 0.8 + 0.1
        model = SparseAutoencoder(10, max_iter=15, random_state=0).fit(X)
        return model.cost_, model.transform(X[:50])
    finally:
        threads.set_num_threads(None)


def test_sparse_autoencoder_lbfgs_fit_agrees_across_thread_counts_and_repeats_bitwise():
    (J1, w1), (J2, w2), (J2b, w2b) = _fit_sparse(1), _fit_sparse(2), _fit_sparse(2)
    assert J2 == J2b and np.array_equal(w2, w2b)
    # 15 L-BFGS iterations from sums taken in another order (~1e-16 relative per evaluation): the paths stay
    # within ~1e-12; 1e-7 still catches a real difference (a block's rho_hat or weight wrong: ~1e-2)
    assert J2 == pytest.approx(J1, rel=1e-7)
    np.testing.assert_allclose(w2, w1, rtol=1e-6, atol=1e-9)


def test_a_split_step_inside_a_slot_runs_whole_in_that_thread_and_does_not_wait_for_ever():
    net = sparse_net()
    X = batch(2 * MIN_ROWS, 12)
    J, g = net.compute(X), net.grad.copy()
    split = RowSplit(net, threads=2)
    assert split.n_blocks(X.shape[0]) == 2
    # inside a slot, nested thread calls run in the calling thread: blocks waiting at a barrier there would hang
    ((n_blocks, J2),) = threads.in_slots(lambda i, slot: (split.n_blocks(X.shape[0]), split.compute(X)), 1)
    assert n_blocks == 1 and J2 == J
    np.testing.assert_array_equal(net.grad, g)
