"""Softmax regression and the softmax cross-entropy loss (numpy_ae.models.softmax).

Gradient checks use eps = 1e-5 on small problems (6 examples, 5 classes), as in
numpy_ae.check.catalogue: truncation ~eps^2 ~ 1e-10 and rounding ~1e-16 |J| / eps ~ 1e-11,
so a correct gradient measures about 1e-10 and the UFLDL bound 1e-9 fails only a
wrong one. (Larger N and K shrink the gradient entries, ~1/N, and bring rounding
up to the bound: keep the problems small.)
"""
import os
import warnings

import numpy as np
import pytest

from numpy_ae import nn
from numpy_ae.check.gradcheck import check_loss, check_model
from numpy_ae.nn.sequential import Sequential
from numpy_ae.nn.losses import SoftmaxCrossEntropy, softmax
from numpy_ae.models.softmax import SoftmaxRegression

EPS, TOL = 1e-5, 1e-9
N, D, K = 6, 5, 5


def blobs(n_per_class, centres, scale=1.0, seed=0):
    """Gaussian blobs, unit covariance times ``scale``; labels 0..len(centres)-1."""
    rng = np.random.default_rng(seed)
    X = np.concatenate([c + scale * rng.standard_normal((n_per_class, len(c))) for c in centres])
    return X, np.repeat(np.arange(len(centres)), n_per_class)


# Three centres 8 apart on the axes of R^4: the nearest decision boundary is
# 8 / sqrt(2) / 2 = 5.7 standard deviations away, so a point lands on the wrong
# side with probability ~1e-8: accuracy 1.0 on any draw of a few hundred points.
SEPARATED = 8.0 * np.eye(3, 4)


# ------------------------------------------------------------------ softmax
def test_softmax_rows_sum_to_one_and_match_the_definition():
    Z = 3.0 * np.random.default_rng(0).standard_normal((7, 4))
    P = softmax(Z)
    np.testing.assert_allclose(P, np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=4 * np.finfo(float).eps)
    np.testing.assert_allclose(softmax(Z + 1000.0), P, rtol=1e-11)  # shift-invariant, no overflow
    np.testing.assert_allclose(softmax(Z[0]), P[0], rtol=1e-15)     # a single row
    np.testing.assert_array_equal(softmax(np.array([[1, 1]])), [[0.5, 0.5]])  # integer logits


# --------------------------------------------------------------------- loss
def test_loss_matches_naive_formula_for_labels_and_one_hot():
    rng = np.random.default_rng(1)
    Z, y = rng.standard_normal((N, K)), rng.integers(0, K, N)
    naive = -np.mean(np.log(np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True))[np.arange(N), y])
    assert SoftmaxCrossEntropy().forward(Z, y) == pytest.approx(naive, rel=1e-13)
    assert SoftmaxCrossEntropy().forward(Z, np.eye(K)[y]) == pytest.approx(naive, rel=1e-13)
    np.testing.assert_array_equal(SoftmaxCrossEntropy().output(Z), softmax(Z))


@pytest.mark.parametrize("kind", ["labels", "one_hot", "probabilities"])
def test_loss_gradient_check(kind):
    rng = np.random.default_rng(2)
    Z, y = 3.0 * rng.standard_normal((N, K)), rng.integers(0, K, N)
    T = {"labels": y, "one_hot": np.eye(K)[y], "probabilities": rng.dirichlet(np.ones(K), N)}[kind]
    result = check_loss(SoftmaxCrossEntropy(), Z, T, eps=EPS)
    assert result.rel_diff < TOL, result.report()


def test_backward_is_softmax_minus_one_hot_over_n():
    rng = np.random.default_rng(3)
    Z, y = rng.standard_normal((N, K)), rng.integers(0, K, N)
    loss = SoftmaxCrossEntropy()
    loss.forward(Z, y)
    np.testing.assert_allclose(loss.backward(), (softmax(Z) - np.eye(K)[y]) / N, rtol=1e-15, atol=1e-17)


def test_loss_is_stable_at_logits_of_1e3():
    # Row 0: two logits tie at 1000, one is e^-2000 below: p = (1/2, 1/2, 0), label 1.
    # Row 1: three ties at -1000: p = 1/3 each, label 2. A naive exp overflows/underflows to nan.
    Z = np.array([[1000.0, 1000.0, -1000.0], [-1000.0, -1000.0, -1000.0]])
    y = np.array([1, 2])
    loss = SoftmaxCrossEntropy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, divide or invalid warnings
        J = loss.forward(Z, y)
        dZ = loss.backward()
    assert J == pytest.approx((np.log(2) + np.log(3)) / 2, rel=1e-15)
    np.testing.assert_allclose(dZ, np.array([[0.5, -0.5, 0.0], [1 / 3, 1 / 3, -2 / 3]]) / 2, rtol=1e-15, atol=0)
    rng = np.random.default_rng(4)
    Z, y = rng.standard_normal((N, K)), rng.integers(0, K, N)
    # Shifting a row changes nothing; 1000 + z is exact to ulp(1000) = 1.1e-13.
    assert SoftmaxCrossEntropy().forward(Z + 1000.0, y) == pytest.approx(SoftmaxCrossEntropy().forward(Z, y), abs=1e-12)


def test_loss_ends_any_sequential():
    """The stacked-autoencoder fine-tuning shape: hidden layer, Dense(H, K), this loss, weight decay."""
    rng = np.random.default_rng(5)
    net = Sequential([nn.Dense(D, 4), nn.Sigmoid(), nn.Dense(4, 3)], SoftmaxCrossEntropy(),
                     weight_decay=1e-3, random_state=5)
    X, y = rng.standard_normal((N, D)), rng.integers(0, 3, N)
    result = check_model(net, X, y, eps=EPS)
    assert result.rel_diff < TOL, result.report()
    np.testing.assert_allclose(net.predict(X).sum(axis=1), 1.0, rtol=1e-15)


def test_loss_rejects_bad_targets():
    Z = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"must lie in 0\.\.3.*\[0, 4\]"):
        SoftmaxCrossEntropy().forward(Z, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match=r"must lie in 0\.\.3.*\[-1, 2\]"):
        SoftmaxCrossEntropy().forward(Z, np.array([-1, 1, 2]))  # would silently index the last column
    with pytest.raises(ValueError, match="must hold integers.*float64"):
        SoftmaxCrossEntropy().forward(Z, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"shape \(3,\) or .* \(3, 4\).*got shape \(3, 5\)"):
        SoftmaxCrossEntropy().forward(Z, np.zeros((3, 5)))  # e.g. a Sequential given no T uses X


# ---------------------------------------------------------------- estimator
def test_regression_cost_gradient_check_with_weight_decay():
    rng = np.random.default_rng(6)
    model = SoftmaxRegression(weight_decay=0.1, random_state=6).initialize(D, np.arange(K))
    model.theta[...] = rng.standard_normal(model.theta.shape)  # away from the tiny init: every term matters
    X, y = rng.standard_normal((N, D)), rng.integers(0, K, N)
    result = check_model(model.network_, X, y, eps=EPS)
    assert model.network_.theta.dtype == np.float64 and result.rel_diff < TOL, result.report()
    # The cost is UFLDL's J plus decay on W only: check it by hand.
    W, b = model.network_.layers[0].W, model.network_.layers[0].b
    P = softmax(X @ W + b)
    expected = -np.mean(np.log(P[np.arange(N), y])) + 0.05 * np.sum(W ** 2)
    assert model.loss_and_grad(model.theta, X, y)[0] == pytest.approx(expected, rel=1e-13)


def test_separated_blobs_are_classified_perfectly():
    X, y = blobs(100, SEPARATED, seed=7)
    model = SoftmaxRegression(random_state=0).fit(X, y)
    assert model.fit(X, y) is model
    assert model.score(X, y) == 1.0
    X_test, y_test = blobs(100, SEPARATED, seed=8)
    assert model.score(X_test, y_test) == 1.0
    P = model.predict_proba(X_test)
    assert P.shape == (300, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-15)
    assert model.n_features_in_ == 4 and model.n_iter_ >= 1 and np.isfinite(model.cost_)
    assert model.theta.shape == (4 * 3 + 3,)


def test_predictions_survive_relabelling():
    X, y = blobs(50, SEPARATED, seed=9)
    base = SoftmaxRegression(random_state=1).fit(X, y)
    ordered = SoftmaxRegression(random_state=1).fit(X, np.array([3, 7, 9])[y])
    np.testing.assert_array_equal(ordered.classes_, [3, 7, 9])
    np.testing.assert_array_equal(ordered.theta, base.theta)  # same order 0..K-1: the same problem
    np.testing.assert_array_equal(ordered.predict(X), np.array([3, 7, 9])[base.predict(X)])
    shuffled = SoftmaxRegression(random_state=1).fit(X, np.array([9, -2, 7])[y])  # order changes
    np.testing.assert_array_equal(shuffled.predict(X), np.array([9, -2, 7])[base.predict(X)])
    as_floats = SoftmaxRegression(random_state=1).fit(X, y.astype(float))  # 0.0, 1.0, 2.0 are integers
    assert as_floats.classes_.dtype.kind == "i" and as_floats.score(X, y) == 1.0


def test_weight_decay_shrinks_weights_monotonically():
    # For the minimiser of f(W) + (lambda/2)||W||^2 with f convex, ||W|| is
    # non-increasing in lambda; overlapping blobs keep f's minimiser finite.
    X, y = blobs(60, 1.5 * np.eye(3, 4), seed=10)
    norms = [np.linalg.norm(SoftmaxRegression(weight_decay=lam, random_state=0).fit(X, y).network_.layers[0].W)
             for lam in (1e-3, 1e-2, 1e-1, 1.0)]
    assert np.all(np.diff(norms) < 0), norms


# ------------------------------------------------------------------- errors
def test_hyperparameters_are_checked_in_init():
    with pytest.raises(ValueError, match="weight_decay must be a finite number >= 0; got -1"):
        SoftmaxRegression(weight_decay=-1)
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1; got 0"):
        SoftmaxRegression(max_iter=0)
    with pytest.raises(ValueError, match="random_state must be"):
        SoftmaxRegression(random_state="seed")


@pytest.mark.parametrize("y, match", [
    ([0, 1, 0.5, 1], r"Unknown label type: .*continuous value 0\.5 at index 2"),
    ([[0, 1], [1, 0], [0, 1], [1, 0]], r"1-D array .* shape \(4, 2\)"),
    ([0, 1, 0], "X has 4 rows, y has 3 labels"),
    ([2, 2, 2, 2], r"y has 1 class \(\[2\]\); a classifier needs at least 2 classes"),
    (None, "requires y to be passed, but the target y is None"),
    ([1 + 0j, 0j, 1 + 0j, 0j], "complex data is not supported"),
])
def test_bad_labels(y, match):
    with pytest.raises(ValueError, match=match):
        SoftmaxRegression().fit(np.zeros((4, 2)), y)


def test_string_labels_and_column_vector_y():
    X, y = blobs(30, SEPARATED, seed=4)
    names = np.array(["cat", "dog", "eel"])[y]
    clf = SoftmaxRegression(random_state=0).fit(X, names)
    np.testing.assert_array_equal(clf.classes_, ["cat", "dog", "eel"])
    np.testing.assert_array_equal(clf.predict(X), names)  # separated blobs: every label right
    with pytest.warns(UserWarning, match="A column-vector y was passed when a 1d array was expected"):
        col = SoftmaxRegression(random_state=0).fit(X, y[:, None])
    np.testing.assert_array_equal(col.theta, SoftmaxRegression(random_state=0).fit(X, y).theta)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_inputs(bad):
    X = np.zeros((4, 2))
    X[1, 1] = bad
    with pytest.raises(ValueError, match=r"X must be finite .*at index \(1, 1\)"):
        SoftmaxRegression().fit(X, [0, 1, 0, 1])


def test_use_before_fit_and_with_wrong_features():
    model = SoftmaxRegression()
    for call in (model.predict, model.predict_proba, lambda X: model.score(X, [0, 1])):
        with pytest.raises(ValueError, match=r"not fitted yet: call fit\(X, y\) first"):
            call(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="not fitted yet"):
        model.theta
    X, y = blobs(10, SEPARATED, seed=11)
    model.fit(X, y)
    with pytest.raises(ValueError, match=r"X has 3 features, but SoftmaxRegression is expecting 4 features"):
        model.predict(np.zeros((2, 3)))


def test_unseen_labels_count_as_wrong_in_score_but_not_in_the_cost():
    X, y = blobs(10, SEPARATED, seed=12)
    model = SoftmaxRegression(random_state=0).fit(X, y)
    y_new = y.copy()
    y_new[:6] = 5  # a class the model never saw: 6 of 30 wrong
    assert model.score(X, y_new) == pytest.approx(24 / 30, abs=1e-15)
    with pytest.raises(ValueError, match=r"labels not in classes_ \[0, 1, 2\]: \[5\]"):
        model.loss_and_grad(model.theta, X, y_new)


# ---------------------------------------------------------------- real data
def test_mnist_subset_accuracy():
    from numpy_ae.data.mnist import load_mnist

    data = os.environ.get("NUMPY_AE_DATA")
    if not data:
        pytest.skip("NUMPY_AE_DATA is not set; run with NUMPY_AE_DATA=../shared/data to train on the MNIST subset")
    try:
        X_train, y_train, X_test, y_test = load_mnist("mnist", data_home=data, download=False)
    except FileNotFoundError:
        pytest.skip(f"no MNIST files under NUMPY_AE_DATA={data}")
    assert X_train.shape == (8000, 784) and X_test.shape == (2000, 784), "expected the 8k/2k MNIST subset"
    model = SoftmaxRegression(weight_decay=1e-4, max_iter=100, random_state=0).fit(X_train, y_train)
    # Measured 0.8945-0.8965 for seeds 0-4 (8k train; UFLDL gets 0.926 from 60k).
    # The floor leaves 1.5 points for BLAS/platform drift in where 100 iterations end.
    assert model.score(X_test, y_test) > 0.88
