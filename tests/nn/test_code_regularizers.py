"""The code regularisers of numpy_ae.nn.penalties: forward semantics on hand-checked arrays,
the contractive penalty against a finite-difference Jacobian, and bad input."""
import math

import numpy as np
import pytest

from numpy_ae import RegularizedAutoencoder
from numpy_ae.check.registry import REGISTRY, run_checks
from numpy_ae.nn.dense import Dense
from numpy_ae.nn.activations import Sigmoid
from numpy_ae.nn.penalties import Contractive, L1Activity, contractive_penalty
from numpy_ae.nn.selection import KSparse, LifetimeWTA, SpatialWTA

run_checks([])  # fills REGISTRY


# ------------------------------------------------------------------ L1 activity
def test_l1_activity_penalty_and_subgradient_by_hand():
    A = np.array([[0.5, -2.0, 0.0], [1.0, 0.0, -0.25]])
    layer = L1Activity(0.1)
    assert layer.forward(A, training=True) is A  # identity
    # 0.1 * (0.5 + 2 + 0 + 1 + 0 + 0.25) / 2 examples = 0.1875
    assert layer.penalty == pytest.approx(0.1875, rel=1e-15)
    d = layer.backward(np.zeros_like(A))
    np.testing.assert_array_equal(d, 0.05 * np.array([[1.0, -1.0, 0.0], [1.0, 0.0, -1.0]]))  # 0 at a = 0


# ------------------------------------------------------------------ contractive
def _fd_jacobian_norm2(ae, X, h=1e-6):
    r"""||d transform(x)/dx||_F^2 per example by centred differences of the public transform."""
    total = np.zeros(X.shape[0])
    for i in range(X.shape[1]):
        e = np.zeros(X.shape[1])
        e[i] = h
        total += np.sum(((ae.transform(X + e) - ae.transform(X - e)) / (2 * h)) ** 2, axis=1)
    return total


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_contractive_penalty_is_the_squared_frobenius_norm_of_the_jacobian(activation):
    """The layer's penalty equals lambda * mean_n ||J_f(x_n)||_F^2 with J from finite differences of transform.

    Tolerance: the centred difference at h = 1e-6 has truncation error ~h^2 |f'''| ~ 1e-12 and rounding
    ~1e-16 / h ~ 1e-10 relative per entry; 1e-7 leaves a margin, while a missing factor or a wrong g'
    (h instead of h(1-h), say) is off by tens of percent.
    """
    rng = np.random.default_rng(0)
    ae = RegularizedAutoencoder((4,), activation=activation, contraction=0.7, random_state=0).initialize(6)
    ae.theta[...] = rng.standard_normal(ae.theta.shape)  # weights of order 1: g' far from constant
    X = rng.uniform(0, 1, (5, 6))
    fd = _fd_jacobian_norm2(ae, X)
    ae.cost(X)  # a training pass: the Contractive layer records its penalty
    (layer,) = [l for l in ae.network_.layers if isinstance(l, Contractive)]
    assert layer.penalty == pytest.approx(0.7 * fd.mean(), rel=1e-7)
    np.testing.assert_allclose(contractive_penalty(ae.transform(X), layer.dense.W, activation), fd, rtol=1e-7)
    assert ae.jacobian_norm(X) == pytest.approx(np.sqrt(fd).mean(), rel=1e-7)
    assert ae.jacobian_norm(X, method="finite_differences") == pytest.approx(np.sqrt(fd).mean(), rel=1e-7)


def test_contractive_gradient_check_catches_the_missing_factor_2(monkeypatch):
    """The registered check fails for the published bug (the W gradient without its factor 2)."""
    (ok,) = run_checks(["contractive_sigmoid"])
    assert ok.ok

    original = Contractive.backward
    monkeypatch.setattr(Contractive, "backward", lambda self, dA: _halved(original, self, dA))
    (bad,) = run_checks(["contractive_sigmoid"])
    assert not bad.ok and bad.verdicts["dense0.W"].verdict == "wrong"


def _halved(original, layer, dA):
    """Run the real backward, then halve what the penalty added to the encoder's dW (the dropped factor 2)."""
    before = layer.dense.dW.copy()
    out = original(layer, dA)
    # the encoder's Dense adds its own share later in the backward pass (and the check's decoder is untied),
    # so the difference is the penalty's share alone
    layer.dense.dW[...] = before + 0.5 * (layer.dense.dW - before)
    return out


def test_contractive_refuses_activations_without_a_closed_form_and_negative_weights():
    d = Dense(3, 2)
    with pytest.raises(ValueError, match=r"activation must be 'sigmoid' or 'tanh'.*got 'relu'"):
        Contractive(0.1, d, "relu")
    with pytest.raises(ValueError, match=r"weight must be a finite number >= 0; got -0.5"):
        Contractive(-0.5, d, "sigmoid")
    with pytest.raises(ValueError, match="dense must be the encoder's Dense layer"):
        Contractive(0.1, Sigmoid(), "sigmoid")


# ------------------------------------------------------------------ k-sparse
def test_k_sparse_support_training_and_alpha_at_inference():
    A = np.array([[0.1, 0.9, -0.3, 0.5, 0.2],
                  [-1.0, -0.2, -0.5, -0.1, -3.0]])
    layer = KSparse(2, alpha=2.0)
    Y = layer.forward(A, training=True)
    np.testing.assert_array_equal(Y, [[0, 0.9, 0, 0.5, 0], [0, -0.2, 0, -0.1, 0]])  # largest by value
    d = layer.backward(np.ones_like(A))
    np.testing.assert_array_equal(d, [[0, 1, 0, 1, 0], [0, 1, 0, 1, 0]])  # through the support only
    Yi = layer.forward(A, training=False)  # round(2 * 2) = 4 units
    np.testing.assert_array_equal(Yi, [[0.1, 0.9, 0, 0.5, 0.2], [-1.0, -0.2, -0.5, -0.1, 0]])
    assert KSparse(2, alpha=10.0).n_kept(5, training=False) == 5  # capped at the width
    np.testing.assert_array_equal(KSparse(2, alpha=10.0).forward(A, training=False), A)


def test_k_sparse_keeps_exactly_k_under_ties():
    Y = KSparse(2).forward(np.ones((3, 5)), training=True)
    np.testing.assert_array_equal((Y != 0).sum(axis=1), [2, 2, 2])


@pytest.mark.parametrize("k, match", [(0, r"k must be an integer >= 1.*got 0"), (2.5, r"k must be an integer"),
                                      (True, r"k must be an integer")])
def test_k_sparse_bad_k(k, match):
    with pytest.raises(ValueError, match=match):
        KSparse(k)


def test_k_sparse_k_above_the_code_size():
    with pytest.raises(ValueError, match=r"k must be at most the code size 4.*got 5"):
        KSparse(5, n_units=4)
    with pytest.raises(ValueError, match=r"k must be at most the code size 3.*got 5"):
        KSparse(5).forward(np.zeros((2, 3)))  # checked at the first pass when the width was not given
    with pytest.raises(ValueError, match=r"alpha must be a finite number > 0"):
        KSparse(2, alpha=0)


# ------------------------------------------------------------------ lifetime WTA
@pytest.mark.parametrize("sparsity, n", [(0.05, 100), (0.1, 37), (0.34, 6), (1.0, 9)])
def test_lifetime_wta_keeps_exactly_ceil_sN_largest_per_unit(sparsity, n):
    rng = np.random.default_rng(1)
    A = (rng.permutation(n * 7).reshape(n, 7) + 1.0) / (n * 7.0)  # distinct values, none 0
    layer = LifetimeWTA(sparsity)
    Y = layer.forward(A, training=True)
    k = math.ceil(round(sparsity * n, 9))
    assert k == layer.n_kept(n)
    np.testing.assert_array_equal((Y != 0).sum(axis=0), np.full(7, k))
    kth = np.sort(A, axis=0)[n - k]  # each column keeps values >= its k-th largest, unchanged
    np.testing.assert_array_equal(Y, np.where(A >= kth, A, 0.0))
    np.testing.assert_array_equal(layer.backward(np.ones_like(A)), (Y != 0).astype(float))
    assert layer.forward(A, training=False) is A  # inference: identity


def test_lifetime_wta_on_feature_maps_keeps_whole_maps_of_the_winning_examples():
    A = np.zeros((4, 2, 2, 2))
    A[:, 0, 0, 0] = [1.0, 4.0, 2.0, 3.0]  # channel 0's per-example maxima
    A[:, 1, 1, 1] = [5.0, 1.0, 6.0, 2.0]  # channel 1's
    A[:, 0, 1, 0] = 0.5                    # a second, smaller activity in every map of channel 0
    Y = LifetimeWTA(0.5).forward(A, training=True)  # 2 of 4 examples per channel
    kept = np.abs(Y).reshape(4, 2, -1).sum(axis=2) > 0
    np.testing.assert_array_equal(kept, [[False, True], [True, False], [False, True], [True, False]])
    np.testing.assert_array_equal(Y[1, 0], A[1, 0])  # a kept map stays whole


# ------------------------------------------------------------------ spatial WTA
def test_spatial_wta_keeps_each_maps_largest_activity():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((3, 2, 4, 5))
    layer = SpatialWTA()
    Y = layer.forward(A, training=True)
    flat_y, flat_a = Y.reshape(3, 2, -1), A.reshape(3, 2, -1)
    np.testing.assert_array_equal((flat_y != 0).sum(axis=2), np.ones((3, 2)))
    np.testing.assert_array_equal(flat_y.max(axis=2) + flat_y.min(axis=2), flat_a.max(axis=2))  # the max, alone
    np.testing.assert_array_equal(layer.backward(np.ones_like(A)), (Y != 0).astype(float))
    assert layer.forward(A, training=False) is A
    with pytest.raises(ValueError, match=r"SpatialWTA needs feature maps"):
        layer.forward(np.zeros((2, 3)))


def test_conv_wta_spatial_then_lifetime():
    """Conv-WTA: spatial sparsity, then per channel the top 50% of the batch's winners: one activity per kept map."""
    A = np.random.default_rng(3).permutation(6 * 3 * 9).reshape(6, 3, 3, 3) + 1.0
    Y = LifetimeWTA(0.5).forward(SpatialWTA().forward(A), training=True)
    nonzero = (Y != 0).reshape(6, 3, -1).sum(axis=2)
    np.testing.assert_array_equal(nonzero.sum(axis=0), [3, 3, 3])  # 3 of 6 examples per channel
    assert set(np.unique(nonzero)) <= {0, 1}


@pytest.mark.parametrize("bad", [0, 0.0, -0.1, 1.5, float("nan"), True, "0.1"])
def test_lifetime_sparsity_outside_0_1(bad):
    with pytest.raises(ValueError, match=r"sparsity must be a number in \(0, 1\]"):
        LifetimeWTA(bad)


def test_the_registered_checks_cover_the_combinations():
    for name in ("regularized_kl_cross_entropy", "regularized_contractive_weight_decay", "regularized_k_sparse",
                 "regularized_lifetime_wta", "contractive_tanh_weight_decay", "conv_wta_model",
                 "regularized_everything"):
        assert name in REGISTRY
    results = run_checks(["regularized_everything", "conv_wta_model", "layer_k_sparse"])
    assert all(r.ok and r.conclusive for r in results), [(r.name, r.rel_diff) for r in results]
