r"""PCA, PCA whitening and ZCA whitening, as in UFLDL's preprocessing notes.

UFLDL writes an example as a column ``x``; here an example is a row, so a data
matrix ``X`` has shape ``(N, D)`` and UFLDL's ``U' * x`` is our ``x @ U``.
With the examples centred (the mean is subtracted per feature), UFLDL computes

.. math::

    \Sigma = \frac{1}{m} \sum_{i=1}^{m} x^{(i)} (x^{(i)})^T, \qquad
    \Sigma = U \,\mathrm{diag}(\lambda_1 \ge \dots \ge \lambda_n)\, U^T,

    x_{\rm rot} = U^T x, \qquad \tilde x = U_{1:k}^T x, \qquad
    \hat x = U_{1:k} \tilde x,

    x_{{\rm PCAwhite},i} = \frac{x_{{\rm rot},i}}{\sqrt{\lambda_i + \epsilon}}, \qquad
    x_{\rm ZCAwhite} = U x_{\rm PCAwhite}.

Our ``components_`` holds the columns of ``U`` as rows (``U = components_.T``),
``explained_variance_`` holds the ``lambda_i`` (the ``1/N`` covariance, as in
UFLDL and ``np.cov(X, rowvar=False, bias=True)``, not ``1/(N-1)``).

Why ``eigh`` of the ``(D, D)`` covariance and not an SVD of the centred data:
it is UFLDL's own recipe line by line; it always yields a full basis of ``D``
directions, which ZCA needs even when ``N < D``; and for ``N`` much larger
than ``D`` it is much faster than an SVD of the ``(N, D)`` data (see
``benchmarks/README.md``).
The price is accuracy of the smallest eigenvalues (absolute error about
``1e-16 * lambda_1``), which only matters for directions that whitening must
regularise with ``epsilon`` anyway. Round-off negatives are clipped to 0.

For natural images UFLDL first removes each example's own mean (its DC
component) and only then whitens; that is a caller's decision, made with
:func:`remove_example_mean`.
"""
from __future__ import annotations
import numbers
import numpy as np
from .._validation import check_array, check_in_open_interval, check_non_negative, check_positive_int
from .base import BaseEstimator
from .fields import Field, array
from ..exceptions import not_fitted_error

__all__ = ['PCA', 'ZCAWhitening', 'pca_whiten', 'zca_whiten', 'remove_example_mean']




def _centred_eigh(X):
    r"""Mean ``(D,)``, eigenvalues ``(D,)`` (decreasing) and eigenvectors ``(D, D)`` as rows.

    Each eigenvector's sign is fixed so that its largest-magnitude entry is
    positive, which makes the result reproducible across BLAS builds.
    ``X`` is divided by its largest magnitude ``s`` first and the results
    scaled back (mean by ``s``, eigenvalues by ``s**2``), so finite data of any
    size give the right answer, or a ValueError when the variance itself is
    beyond float64.
    """
    s = float(np.max(np.abs(X)))
    s = s if s > 0 else 1.0
    Xs = X / s
    mean_s = Xs.mean(axis=0)
    Xc = Xs - mean_s
    sigma = Xc.T @ Xc / X.shape[0]                 # UFLDL: sigma = x * x' / m (of X / s)
    lam, U = np.linalg.eigh(sigma)                 # ascending, columns
    with np.errstate(over="ignore"):
        mean, lam = mean_s * s, lam * np.square(np.float64(s))
    if not np.isfinite(lam).all():
        raise ValueError(f"X's values (up to {s:.3g} in magnitude) have a variance beyond float64's range "
                         f"(about 1.8e308): rescale X, e.g. divide it by {s:.3g}")
    lam, V = np.clip(lam[::-1], 0.0, None), U[:, ::-1].T.copy()
    rows = np.arange(V.shape[0])
    V *= np.sign(V[rows, np.abs(V).argmax(axis=1)])[:, None]
    return mean, lam, V


def _check_whitenable(lam, lam_max, epsilon, n_features, who):
    """Refuse to divide by a zero variance: ``epsilon == 0`` needs every kept ``lambda > 0``."""
    tol = n_features * np.finfo(np.float64).eps * lam_max
    if epsilon == 0.0 and lam.min() <= tol:
        raise ValueError(f"{who}: epsilon=0 but the covariance has {int((lam <= tol).sum())} direction(s) "
                         f"with zero variance (eigenvalue {lam.min():.3g} <= {tol:.3g}), so whitening "
                         "would divide by zero; use epsilon > 0 (UFLDL uses 1e-5 to 0.1) or fewer components")


class _Fitted(BaseEstimator):
    """Shared bookkeeping: the fitted check and ``fit_transform``."""

    def _is_fitted(self):
        return hasattr(self, "mean_")

    def _check_fitted(self):
        if not hasattr(self, "mean_"):
            raise not_fitted_error(f"This {type(self).__name__} is not fitted yet; call fit(X) first.")

    def fit_transform(self, X, y=None):
        """Fit on ``X`` ``(N, D)`` and return ``transform(X)``."""
        return self.fit(X).transform(X)


class PCA(_Fitted):
    r"""Principal component analysis with optional PCA whitening.

    Parameters
    ----------
    n_components : None, int or float
        ``None`` keeps ``min(N, D)`` components; an int ``k`` keeps ``k``
        (``1 <= k <= min(N, D)``); a float ``p`` in ``(0, 1)`` keeps the smallest
        ``k`` with ``sum_{j<=k} lambda_j / sum_j lambda_j >= p`` (UFLDL's
        "retain 99% of the variance" is ``p = 0.99``).
    whiten : bool
        Divide each projection by ``sqrt(lambda_i + epsilon)`` (PCA whitening).
    epsilon : float >= 0
        UFLDL's regulariser for whitening; ignored when ``whiten`` is False.

    Attributes
    ----------
    mean_ : (D,)  per-feature mean of the training data.
    components_ : (k, D)  principal directions as orthonormal rows, by decreasing variance.
    explained_variance_ : (k,)  the ``lambda_i`` of the ``1/N`` covariance.
    explained_variance_ratio_ : (k,)  ``lambda_i / sum_j lambda_j`` over all ``D`` eigenvalues.
    n_components_ : int  the ``k`` that was kept.
    """

    _saved_attributes = {"n_features_in_": Field(int, required=True), "n_components_": Field(int, required=True),
                         "mean_": array(("n_features_in_",), required=True),
                         "components_": array(("n_components_", "n_features_in_"), required=True),
                         "explained_variance_": array(("n_components_",), required=True),
                         "explained_variance_ratio_": array(("n_components_",), required=True)}

    def __init__(self, n_components=None, *, whiten=False, epsilon=0.0):
        self.n_components = n_components
        self.whiten = whiten
        self.epsilon = epsilon
        self._validate_params()

    def _validate_params(self):
        n = self.n_components
        if n is not None:
            if isinstance(n, bool) or not isinstance(n, numbers.Real):
                raise ValueError(f"n_components must be None, an int or a float in (0, 1); got {n!r}")
            if isinstance(n, numbers.Integral):
                check_positive_int(n, "n_components")
            else:
                check_in_open_interval(n, "n_components (a float is the fraction of variance to retain)")
        if not isinstance(self.whiten, (bool, np.bool_)):
            raise ValueError(f"whiten must be True or False; got {self.whiten!r} (a string such as 'no' "
                             "would count as True)")
        check_non_negative(self.epsilon, "epsilon")

    def _choose_k(self, ratio, limit):
        n = self.n_components
        if n is None:
            return limit
        if isinstance(n, numbers.Integral) and not isinstance(n, bool):
            k = check_positive_int(n, "n_components")
            if k > limit:
                raise ValueError(f"n_components must be <= min(N, D) = {limit}; got {k}")
            return k
        if isinstance(n, numbers.Real) and not isinstance(n, bool):
            p = check_in_open_interval(n, "n_components (a float is the fraction of variance to retain)")
            return min(int(np.searchsorted(np.cumsum(ratio), p)) + 1, limit)
        raise ValueError(f"n_components must be None, an int or a float in (0, 1); got {n!r}")

    def fit(self, X, y=None):
        r"""Learn the mean and principal directions of ``X`` ``(N, D)``; return ``self`` (``y`` is ignored)."""
        self._validate_params()
        X = check_array(X, "X", estimator=type(self).__name__)
        epsilon = check_non_negative(self.epsilon, "epsilon")
        if X.shape[0] < 2:
            raise ValueError(f"PCA needs at least 2 examples to estimate a covariance; got n_samples={X.shape[0]}")
        mean, lam, V = _centred_eigh(X)
        if lam[0] == 0.0:
            raise ValueError(f"X has zero variance in every feature (all {X.shape[0]} rows are equal); "
                             "PCA needs at least two distinct examples")
        ratio = lam / lam.sum()
        k = self._choose_k(ratio, min(X.shape))
        if self.whiten:
            _check_whitenable(lam[:k], lam[0], epsilon, X.shape[1], "PCA(whiten=True)")
        self.mean_, self.components_ = mean, V[:k]
        self.explained_variance_, self.explained_variance_ratio_ = lam[:k], ratio[:k]
        self.n_components_ = k
        self.n_features_in_ = X.shape[1]
        return self

    @property
    def _scale(self):
        """Per-component divisor of :meth:`transform`: ``sqrt(lambda + epsilon)`` when whitening, else 1."""
        return np.sqrt(self.explained_variance_ + self.epsilon) if self.whiten else \
            np.ones_like(self.explained_variance_)

    def transform(self, X):
        r"""Project ``X`` ``(N, D)`` to ``Z`` ``(N, k)``: UFLDL's ``x_tilde`` (or ``x_PCAwhite``).

        ``Z = (X - mean_) @ components_.T``, each column divided by
        ``sqrt(lambda_i + epsilon)`` when ``whiten``.
        """
        self._check_fitted()
        X = check_array(X, "X", n_features=self.mean_.shape[0], estimator=type(self).__name__)
        return (X - self.mean_) @ self.components_.T / self._scale

    def inverse_transform(self, Z):
        r"""Map ``Z`` ``(N, k)`` back to ``X_hat`` ``(N, D)``: ``x_hat = U_{1:k} x_tilde + mean``.

        Exact when ``k = D``; otherwise the projection onto the kept directions.
        """
        self._check_fitted()
        Z = check_array(Z, "Z", n_features=self.n_components_, estimator=type(self).__name__)
        return (Z * self._scale) @ self.components_ + self.mean_


class ZCAWhitening(_Fitted):
    r"""ZCA whitening: ``x_ZCAwhite = U diag(1 / sqrt(lambda + epsilon)) U^T (x - mean)``.

    Of all whitening matrices (``W Sigma W^T = I``) it is the one closest to the
    identity: it minimises both ``||W - I||_F`` and ``E ||W x - x||^2``, so the
    whitened images still look like images. It keeps every direction, so
    ``inverse_transform`` is exact for any ``epsilon > 0`` (and for ``epsilon = 0``
    when the covariance is full rank).

    Parameters
    ----------
    epsilon : float >= 0
        Regulariser added to each eigenvalue (UFLDL uses 0.1 for image patches).

    Attributes
    ----------
    mean_ : (D,)  per-feature mean of the training data.
    components_ : (D, D)  eigenvectors of the covariance as rows (``U.T``).
    explained_variance_ : (D,)  eigenvalues ``lambda_i``, decreasing.
    W_ : (D, D)  symmetric whitening matrix ``U diag(1/sqrt(lambda+epsilon)) U^T``.
    W_inv_ : (D, D)  unwhitening matrix ``U diag(sqrt(lambda+epsilon)) U^T``.
    """

    _saved_attributes = {"n_features_in_": Field(int, required=True),
                         **{name: array(("n_features_in_",) * ndim, required=True) for name, ndim in
                            (("mean_", 1), ("components_", 2), ("explained_variance_", 1), ("W_", 2), ("W_inv_", 2))}}

    def __init__(self, epsilon=0.1):
        self.epsilon = epsilon
        self._validate_params()

    def _validate_params(self):
        check_non_negative(self.epsilon, "epsilon")

    def fit(self, X, y=None):
        r"""Learn ``mean_``, ``W_`` and ``W_inv_`` from ``X`` ``(N, D)``; return ``self`` (``y`` is ignored)."""
        self._validate_params()
        X = check_array(X, "X", estimator=type(self).__name__)
        epsilon = check_non_negative(self.epsilon, "epsilon")
        mean, lam, V = _centred_eigh(X)
        _check_whitenable(lam, lam[0], epsilon, X.shape[1], "ZCAWhitening")
        s = np.sqrt(lam + epsilon)
        self.mean_, self.components_, self.explained_variance_ = mean, V, lam
        self.W_ = (V.T / s) @ V                          # U diag(1/s) U^T
        self.W_inv_ = (V.T * s) @ V                      # U diag(s) U^T
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        r"""Whiten ``X`` ``(N, D)``: ``(X - mean_) @ W_`` (``W_`` is symmetric), shape ``(N, D)``."""
        self._check_fitted()
        X = check_array(X, "X", n_features=self.mean_.shape[0], estimator=type(self).__name__)
        return (X - self.mean_) @ self.W_

    def inverse_transform(self, Z):
        r"""Unwhiten ``Z`` ``(N, D)``: ``Z @ W_inv_ + mean_``, shape ``(N, D)``."""
        self._check_fitted()
        Z = check_array(Z, "Z", n_features=self.mean_.shape[0], estimator=type(self).__name__)
        return Z @ self.W_inv_ + self.mean_


def pca_whiten(X, epsilon=0.0, n_components=None):
    r"""PCA-whitened ``X`` ``(N, D)`` -> ``(N, k)``; shorthand for ``PCA(..., whiten=True).fit_transform``."""
    return PCA(n_components=n_components, whiten=True, epsilon=epsilon).fit_transform(X)


def zca_whiten(X, epsilon=0.1):
    r"""ZCA-whitened ``X`` ``(N, D)`` -> ``(N, D)``; shorthand for ``ZCAWhitening(epsilon).fit_transform``."""
    return ZCAWhitening(epsilon=epsilon).fit_transform(X)


def remove_example_mean(X):
    r"""Subtract each example's own mean (UFLDL's per-patch DC removal for images): ``(N, D) -> (N, D)``.

    ``x^{(i)}_j \leftarrow x^{(i)}_j - \frac{1}{n} \sum_k x^{(i)}_k``; unlike the
    per-feature mean removed by :class:`PCA`, this is not learned and not inverted.
    """
    X = check_array(X, "X")
    return X - X.mean(axis=1, keepdims=True)
