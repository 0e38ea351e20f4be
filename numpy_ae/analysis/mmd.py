r"""Maximum mean discrepancy between two samples, with the median-heuristic bandwidth.
"""
from __future__ import annotations
import numbers
import numpy as np
from .._validation import check_array, check_positive_int, check_random_state

__all__ = ['mmd', 'median_bandwidth']




# --------------------------------------------------------------------------
# Maximum mean discrepancy
# --------------------------------------------------------------------------
def _subsample(X, max_samples, rng):
    return X if X.shape[0] <= max_samples else X[rng.choice(X.shape[0], max_samples, replace=False)]


def _sq_dists(A, B):
    """Squared Euclidean distances ``(len(A), len(B))`` in float64, clipped at 0 (rounding)."""
    d = np.square(A).sum(1)[:, None] + np.square(B).sum(1)[None, :] - 2.0 * (A @ B.T)
    return np.maximum(d, 0.0, out=d)


def median_bandwidth(X, Y=None, max_samples=1000, random_state=0):
    r"""The median heuristic: the median Euclidean distance between distinct points of ``X`` (pooled with
    ``Y`` when given), over at most ``max_samples`` points drawn from each (seeded by ``random_state``)."""
    rng = check_random_state(random_state)
    X = np.asarray(X, dtype=np.float64)
    P = _subsample(X, max_samples, rng)
    if Y is not None:
        P = np.vstack([P, _subsample(np.asarray(Y, dtype=np.float64), max_samples, rng)])
    d = _sq_dists(P, P)[np.triu_indices(P.shape[0], 1)]
    h = float(np.median(np.sqrt(d))) if d.size else 0.0  # (not sqrt of the median: with an even count they differ)
    if not h > 0:
        raise ValueError("the median heuristic gives bandwidth 0 (most points coincide); pass bandwidth=<number>")
    return h


def mmd(X, Y, kernel="rbf", bandwidth="median", max_samples=2000, random_state=0):
    r"""Unbiased estimate of the squared maximum mean discrepancy between the samples ``X`` and ``Y``.

    .. math::
        \widehat{\mathrm{MMD}}^2_u = \frac{1}{m(m-1)}\sum_{i\ne j} k(x_i, x_j)
          + \frac{1}{n(n-1)}\sum_{i\ne j} k(y_i, y_j) - \frac{2}{mn}\sum_{i,j} k(x_i, y_j)

    (Gretton et al. 2012, eq. 3), with the Gaussian RBF kernel
    :math:`k(a, b) = \exp\bigl(-\lVert a - b\rVert^2 / (2h^2)\bigr)`. Its
    expectation is :math:`\mathrm{MMD}^2 \ge 0`, zero iff the two distributions
    are equal (the RBF kernel is characteristic); the estimate itself can be
    slightly negative when they are.

    Parameters
    ----------
    X : array (m, K), Y : array (n, K)
        Two samples of points (e.g. codes and prior draws); m, n >= 2.
    kernel : {"rbf"}
    bandwidth : "median" or float > 0
        :math:`h`. ``"median"``: the median heuristic on the pooled (subsampled)
        samples, :func:`median_bandwidth`. To compare several models against
        one prior, fix it (e.g. ``median_bandwidth(prior_samples)``): a
        bandwidth that depends on each model's codes would measure each
        with a different kernel.
    max_samples : int
        At most this many points of each sample are used (drawn without
        replacement, seeded by ``random_state``): the cost is
        :math:`O((m + n)^2 K)`.

    Returns
    -------
    float : the estimate (dimensionless; at most 2 for this kernel).
    """
    if kernel != "rbf":
        raise ValueError(f"kernel must be 'rbf' (the Gaussian RBF kernel); got {kernel!r}")
    X = check_array(X, "X", dtype=np.float64)
    Y = check_array(Y, "Y", n_features=X.shape[1], dtype=np.float64)
    max_samples = check_positive_int(max_samples, "max_samples", minimum=2)
    if X.shape[0] < 2 or Y.shape[0] < 2:
        raise ValueError(f"mmd needs at least 2 points in each sample; got {X.shape[0]} and {Y.shape[0]}")
    rng = check_random_state(random_state)
    X, Y = _subsample(X, max_samples, rng), _subsample(Y, max_samples, rng)
    if isinstance(bandwidth, str) and bandwidth == "median":
        h = median_bandwidth(X, Y, max_samples=max_samples, random_state=rng)
    elif isinstance(bandwidth, numbers.Real) and not isinstance(bandwidth, bool) and np.isfinite(bandwidth) \
            and bandwidth > 0:
        h = float(bandwidth)
    else:
        raise ValueError(f"bandwidth must be 'median' or a finite number > 0; got {bandwidth!r}")
    g = -0.5 / h ** 2
    m, n = X.shape[0], Y.shape[0]
    kxx = np.exp(g * _sq_dists(X, X))
    kyy = np.exp(g * _sq_dists(Y, Y))
    kxy = np.exp(g * _sq_dists(X, Y))
    # the diagonals k(x_i, x_i) = 1 are left out of the within-sample means
    return float((kxx.sum() - m) / (m * (m - 1)) + (kyy.sum() - n) / (n * (n - 1)) - 2.0 * kxy.mean())
