"""Tests for numpy_ae.models.pca: PCA, PCA whitening and ZCA whitening.

Tolerances: the data below have scale ~1-10 and covariance condition number
~1e3, so float64 round-off in the eigendecomposition is ~1e-16 * 1e3 * D; 1e-10
leaves a margin of about 1e4 while still catching any real error (a wrong
1/N vs 1/(N-1) factor alone is 2e-3 here).
"""
import numpy as np
import pytest
from scipy.linalg import expm

from numpy_ae.exceptions import NotFittedError
from numpy_ae.models.pca import PCA, ZCAWhitening, pca_whiten, remove_example_mean, zca_whiten

N, D = 500, 6


@pytest.fixture
def X():
    """Correlated Gaussian (N, D) with a non-zero mean and spread-out variances."""
    rng = np.random.default_rng(0)
    Q1, _ = np.linalg.qr(rng.standard_normal((D, D)))
    Q2, _ = np.linalg.qr(rng.standard_normal((D, D)))
    A = Q1 @ np.diag([5.0, 3.0, 2.0, 1.0, 0.5, 0.2]) @ Q2
    return rng.standard_normal((N, D)) @ A + rng.standard_normal(D) * 3


def cov(Z):
    return np.cov(Z, rowvar=False, bias=True)


def eigenvalues(X):
    return np.sort(np.linalg.eigvalsh(cov(X)))[::-1]


def random_orthogonal(rng, d):
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    return Q * np.sign(np.diag(R))  # Haar-distributed


# ---------------------------------------------------------------- PCA
def test_components_orthonormal_and_sign_convention(X):
    pca = PCA().fit(X)
    C = pca.components_
    assert C.shape == (D, D) and pca.n_components_ == D
    np.testing.assert_allclose(C @ C.T, np.eye(D), atol=1e-12)
    assert np.all(C[np.arange(D), np.abs(C).argmax(axis=1)] > 0)
    # deterministic: shuffling the rows changes only round-off, not the signs
    C2 = PCA().fit(X[np.random.default_rng(1).permutation(N)]).components_
    np.testing.assert_allclose(C2, C, atol=1e-10)


def test_explained_variance_is_biased_covariance_spectrum(X):
    pca = PCA().fit(X)
    lam = eigenvalues(X)
    assert np.all(np.diff(pca.explained_variance_) <= 0)
    np.testing.assert_allclose(pca.explained_variance_, lam, rtol=1e-10)
    np.testing.assert_allclose(pca.explained_variance_ratio_.sum(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(pca.mean_, X.mean(axis=0), rtol=1e-12)


@pytest.mark.parametrize("p", [0.3, 0.5, 0.9, 0.99, 0.999])
def test_float_n_components_retains_that_variance(X, p):
    lam = eigenvalues(X)
    k = 1
    while lam[:k].sum() / lam.sum() < p:
        k += 1
    pca = PCA(n_components=p).fit(X)
    assert pca.n_components_ == k
    assert pca.explained_variance_ratio_.sum() >= p
    assert k == 1 or pca.explained_variance_ratio_[:-1].sum() < p


def test_reconstruction_exact_with_all_components(X):
    pca = PCA().fit(X)
    np.testing.assert_allclose(pca.inverse_transform(pca.transform(X)), X, atol=1e-10)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_reconstruction_error_is_sum_of_discarded_eigenvalues(X, k):
    pca = PCA(n_components=k).fit(X)
    Z = pca.transform(X)
    assert Z.shape == (N, k)
    mse = np.mean(np.sum((pca.inverse_transform(Z) - X) ** 2, axis=1))
    np.testing.assert_allclose(mse, eigenvalues(X)[k:].sum(), rtol=1e-10)


def test_pca_whitening_gives_identity_covariance(X):
    Z = PCA(whiten=True).fit_transform(X)
    np.testing.assert_allclose(cov(Z), np.eye(D), atol=1e-10)
    np.testing.assert_allclose(pca_whiten(X), Z, atol=1e-12)


def test_pca_whitening_with_epsilon_shrinks_small_directions(X):
    eps = 0.5
    pca = PCA(whiten=True, epsilon=eps).fit(X)
    lam = pca.explained_variance_
    np.testing.assert_allclose(cov(pca.transform(X)), np.diag(lam / (lam + eps)), atol=1e-10)
    np.testing.assert_allclose(pca.inverse_transform(pca.transform(X)), X, atol=1e-10)


def test_whitened_truncated_inverse_equals_plain_projection(X):
    plain = PCA(n_components=3).fit(X)
    white = PCA(n_components=3, whiten=True, epsilon=1e-3).fit(X)
    np.testing.assert_allclose(white.inverse_transform(white.transform(X)),
                               plain.inverse_transform(plain.transform(X)), atol=1e-10)


def test_first_component_of_2d_data_like_pca_exercise_2d():
    """UFLDL pcaExercise2D: a cloud stretched along a known direction."""
    rng = np.random.default_rng(2)
    theta = np.pi / 5
    u = np.array([np.cos(theta), np.sin(theta)])
    v = np.array([-np.sin(theta), np.cos(theta)])
    X = np.outer(3.0 * rng.standard_normal(20000), u) + np.outer(0.5 * rng.standard_normal(20000), v)
    pca = PCA().fit(X)
    # expected angle error ~ s1*s2/(s1^2-s2^2)/sqrt(N) = 1.2e-3 rad; 1e-2 is 8 sigma
    assert np.arccos(np.clip(pca.components_[0] @ u, -1, 1)) < 1e-2  # no abs(): sign convention too
    np.testing.assert_allclose(cov(pca.transform(X)), np.diag(pca.explained_variance_), atol=1e-10)


# ---------------------------------------------------------------- ZCA
def test_zca_identity_covariance_symmetric_and_invertible(X):
    zca = ZCAWhitening(epsilon=0.0).fit(X)
    Z = zca.transform(X)
    np.testing.assert_allclose(cov(Z), np.eye(D), atol=1e-10)
    np.testing.assert_allclose(zca.W_, zca.W_.T, atol=1e-12)
    np.testing.assert_allclose(zca.W_ @ zca.W_inv_, np.eye(D), atol=1e-10)
    np.testing.assert_allclose(zca.inverse_transform(Z), X, atol=1e-10)
    np.testing.assert_allclose(zca_whiten(X, epsilon=0.0), Z, atol=1e-12)


def test_zca_with_epsilon(X):
    eps = 0.1
    zca = ZCAWhitening(epsilon=eps).fit(X)
    U, lam = zca.components_.T, zca.explained_variance_
    np.testing.assert_allclose(cov(zca.transform(X)), U @ np.diag(lam / (lam + eps)) @ U.T, atol=1e-10)
    np.testing.assert_allclose(zca.inverse_transform(zca.transform(X)), X, atol=1e-10)


def test_zca_is_the_whitening_closest_to_identity(X):
    """Every R @ W_zca (R orthogonal) whitens; ZCA (R = I) is nearest the identity."""
    zca = ZCAWhitening(epsilon=0.0).fit(X)
    Xc = X - zca.mean_
    W = zca.W_  # row convention: Z = Xc @ W, so the column-convention matrix is W.T = W

    def distances(Wcol):  # ||W - I||_F and E||W x - x||^2 for a column-convention matrix
        return np.linalg.norm(Wcol - np.eye(D)), np.mean(np.sum((Xc @ Wcol.T - Xc) ** 2, axis=1))

    best = distances(W)
    rng = np.random.default_rng(3)
    skew = [rng.standard_normal((D, D)) for _ in range(25)]
    rotations = [random_orthogonal(rng, D) for _ in range(50)]
    rotations += [expm(1e-3 * (S - S.T)) for S in skew]        # near-identity rotations too
    rotations.append(zca.components_)                           # PCA whitening: R = U^T
    for R in rotations:
        other = R @ W
        np.testing.assert_allclose(cov(Xc @ other.T), np.eye(D), atol=1e-10)  # still whitens
        d = distances(other)
        assert d[0] > best[0] and d[1] > best[1]
    pca_white = PCA(whiten=True).fit_transform(X)
    assert np.mean(np.sum((pca_white - Xc) ** 2, axis=1)) > best[1]


def test_zca_with_fewer_examples_than_features():
    X = np.random.default_rng(4).standard_normal((5, 12))  # covariance rank 4 < 12
    zca = ZCAWhitening(epsilon=0.1).fit(X)
    np.testing.assert_allclose(zca.W_ @ zca.W_inv_, np.eye(12), atol=1e-10)
    np.testing.assert_allclose(zca.inverse_transform(zca.transform(X)), X, atol=1e-10)
    with pytest.raises(ValueError, match="epsilon=0 but the covariance has 8 direction"):
        ZCAWhitening(epsilon=0.0).fit(X)


def test_remove_example_mean():
    """Each row loses its own mean, and only that: ``result + row mean == X``.

    Rules out: ``np.zeros_like`` or any constant (first check: X - R must be
    X's row means); subtracting the column means or the global mean; dividing
    by the row's std as well; ``X.mean(axis=1)`` without ``keepdims`` (on a
    non-square X it does not broadcast; on a square one it subtracts row i's
    mean from column i); working in place on the caller's array.
    """
    # small integers and means that are exact in binary: exact equality is the right test
    X = np.array([[1.0, 2.0, 3.0, 6.0],       # mean 3
                  [10.0, 10.0, 10.0, 10.0],   # mean 10: a constant row becomes 0
                  [-4.0, 0.0, 4.0, 8.0]])     # mean 2
    before = X.copy()
    np.testing.assert_array_equal(remove_example_mean(X), [[-2, -1, 0, 3], [0, 0, 0, 0], [-6, -2, 2, 6]])
    np.testing.assert_array_equal(X, before)  # the input is not modified

    # random rows with different offsets, square so that a missing keepdims still broadcasts
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 5)) + 10 * rng.standard_normal((5, 1))
    R = remove_example_mean(X)
    row_means = X.sum(axis=1, keepdims=True) / X.shape[1]
    # |X| < 12 here: the mean and the subtraction round by a few ulps of 12 (~1e-14 in all)
    np.testing.assert_allclose(X - R, np.broadcast_to(row_means, X.shape), rtol=0, atol=1e-13)
    np.testing.assert_allclose(R.mean(axis=1), 0.0, rtol=0, atol=1e-13)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("n, match", [
    (7, r"n_components must be <= min\(N, D\) = 6; got 7"),
    (0, r"n_components must be an integer >= 1; got 0"),
    (1.0, r"n_components .* strictly between 0.0 and 1.0; got 1.0"),
    (-0.5, r"strictly between 0.0 and 1.0; got -0.5"),
    (True, r"n_components must be None, an int or a float in \(0, 1\); got True"),
    ("all", r"got 'all'"),
])
def test_bad_n_components(X, n, match):
    with pytest.raises(ValueError, match=match):
        PCA(n_components=n).fit(X)


def test_n_components_limited_by_examples():
    with pytest.raises(ValueError, match=r"min\(N, D\) = 3; got 4"):
        PCA(n_components=4).fit(np.random.default_rng(0).standard_normal((3, 5)))


@pytest.mark.parametrize("make", [lambda: PCA(epsilon=-1.0), lambda: ZCAWhitening(epsilon=-1.0),
                                  lambda: ZCAWhitening(epsilon=np.nan)])
def test_bad_epsilon_fails_in_init(make):
    with pytest.raises(ValueError, match="epsilon must be a finite number >= 0"):
        make()


def test_bad_hyperparameters_set_later_fail_in_fit(X):
    pca = PCA()
    pca.epsilon = -1.0  # plain assignment bypasses set_params' check; fit checks again
    with pytest.raises(ValueError, match="epsilon must be a finite number >= 0"):
        pca.fit(X)
    with pytest.raises(ValueError, match="epsilon must be a finite number >= 0"):
        ZCAWhitening().set_params(epsilon=-2.0)


def test_whiten_must_be_a_bool():
    """PCA(whiten="no") used to whiten (a non-empty string is true)."""
    with pytest.raises(ValueError, match=r"whiten must be True or False; got 'no'"):
        PCA(whiten="no")


@pytest.mark.parametrize("shape, match", [((5, 0), r"0 feature\(s\) \(shape=\(5, 0\)\)"),
                                          ((0, 3), "at least one example"),
                                          ((1, 3), "n_samples=1")])
def test_degenerate_shapes_are_named(shape, match):
    with pytest.raises(ValueError, match=match):
        PCA().fit(np.ones(shape))


@pytest.mark.parametrize("est", [PCA(), ZCAWhitening()])
def test_bad_inputs(X, est):
    with pytest.raises(ValueError, match="2-D array"):
        est.fit(X[0])
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"finite .* at index \(3, 2\)"):
        est.fit(bad)
    with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
        est.transform(X)
    est.fit(X)
    with pytest.raises(ValueError, match="X has 5 features, but .* is expecting 6 features"):
        est.transform(X[:, :5])
    with pytest.raises(ValueError, match="Z has 9 features"):
        est.inverse_transform(np.ones((2, 9)))


def test_not_fitted_error_is_value_and_attribute_error():
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
    with pytest.raises(NotFittedError):
        PCA().inverse_transform(np.ones((2, 2)))


def test_zero_variance_errors(X):
    with pytest.raises(ValueError, match="zero variance in every feature"):
        PCA().fit(np.ones((4, 3)))
    degenerate = np.hstack([X, X[:, :1]])  # 7 features, rank 6
    with pytest.raises(ValueError, match="epsilon=0 but the covariance has 1 direction"):
        PCA(whiten=True).fit(degenerate)
    assert PCA(n_components=6, whiten=True).fit(degenerate).n_components_ == 6
