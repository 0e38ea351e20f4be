r"""``python -m numpy_ae pca-demo``: an undercomplete linear autoencoder performs PCA.

Hands-On Machine Learning (Géron), chapter "Autoencoders", section "Performing
PCA with an Undercomplete Linear Autoencoder": a 3-D data set lying close to a
plane is coded in 2-D by a 3-2-3 autoencoder with identity activations and a
squared-error loss, and the codes look like PCA's projection. This module makes
that statement measurable.

With no weight decay the squared error of a linear autoencoder is minimised
exactly when the decoder reconstructs

.. math::
    \hat x = \mu + P_k (x - \mu),

with :math:`\mu` the data mean (the biases learn it) and :math:`P_k` the
orthogonal projector onto the span of the top-:math:`k` principal components
(Baldi & Hornik, 1989). So, after training,

* the rows of the decoder weight ``ae.components_`` ``(K, D)`` span the same
  subspace as ``PCA(K).components_``: every principal angle between the two
  subspaces (``scipy.linalg.subspace_angles``) is close to 0;
* the reconstruction error equals PCA's (PCA centres, the autoencoder's
  biases do the same job);
* but the weights themselves are *some* basis of that subspace, neither
  orthonormal nor ordered by variance: the codes are PCA's projection seen
  through an invertible ``K x K`` linear map.

Reconstruction error, used throughout (the same formula for both models):

.. math::
    \mathrm{recon\_mse}(X, \hat X) = \frac{1}{N D}\sum_{n=1}^{N}\sum_{d=1}^{D}
        (\hat x_{nd} - x_{nd})^2,

the mean over examples AND features, as ``sklearn.metrics.mean_squared_error``
(its default ``multioutput="uniform_average"``). It is ``2 / D`` times UFLDL's
objective :math:`\frac{1}{2N}\sum_n \lVert \hat x_n - x_n\rVert^2`.

How long training takes. The 3-D demo converges in 26 to 105 L-BFGS
iterations (100 seeds) to a largest angle below 2.4e-6 rad and
a relative excess error below 4.5e-10, with ``gtol=1e-10``: the library's
default ``gtol=1e-5`` stops early (relative excess up to 6.4e-7). On
high-dimensional data the number of iterations grows with the spread of the
covariance spectrum: encoder weights along directions of tiny variance barely
change the loss, so L-BFGS moves them slowly; and an uncentred input (a mean
much larger than the spread, as for images) makes the bias and the weights
fight. ``tests/models/test_linear_autoencoder.py`` documents the numbers measured on
784-D data (hundreds of iterations; about a thousand for MNIST).
"""
from __future__ import annotations

import os
import time

import numpy as np

from .._validation import check_array, check_non_negative, check_positive_int, check_random_state
from ..models.autoencoders import LinearAutoencoder
from .claims import claim
from .registry import add_output, command, emit
from ..models.pca import PCA

__all__ = ["make_3d_data", "make_low_rank_data", "recon_mse", "max_principal_angle", "fit_and_compare",
           "save_codes_figure", "run"]


def make_3d_data(n=200, w1=0.1, w2=0.3, noise=0.1, random_state=None):
    r"""Géron's 3-D data set: points near a plane, along a curved arc. Shape ``(n, 3)``.

    Hands-On ML's ``generate_3d_data``, with a Generator instead of the global
    seed:

    .. math::
        \theta_n \sim U\left[-\tfrac12,\ \tfrac{3\pi}{2} - \tfrac12\right), \qquad
        x_{n1} = \cos\theta_n + \tfrac12 \sin\theta_n + \tfrac{\sigma}{2}\varepsilon_{n1},

        x_{n2} = 0.7 \sin\theta_n + \tfrac{\sigma}{2}\varepsilon_{n2}, \qquad
        x_{n3} = w_1 x_{n1} + w_2 x_{n2} + \sigma\varepsilon_{n3},

    with :math:`\varepsilon \sim N(0, 1)` independent. The third coordinate is
    almost a linear function of the first two, so the points lie close to the
    plane :math:`x_3 = w_1 x_1 + w_2 x_2`: its two directions carry nearly all
    the variance (about 0.72 and 0.19 against 0.009 off the plane for
    ``n=200``). The data are NOT centred (Géron centres them; here the
    autoencoder's biases and PCA's ``mean_`` take care of it).

    Parameters
    ----------
    n : int >= 2
        Number of examples ``N`` (Géron uses 60 for training; 200 here).
    w1, w2 : float
        Slopes of the plane.
    noise : float >= 0
        :math:`\sigma`, the noise scale.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    X : ndarray of shape (n, 3)
    """
    n = check_positive_int(n, "n", minimum=2)
    noise = check_non_negative(noise, "noise")
    for name, value in (("w1", w1), ("w2", w2)):
        if not np.isfinite(value):
            raise ValueError(f"{name} must be a finite number; got {value!r}")
    rng = check_random_state(random_state)
    angles = rng.uniform(-0.5, 3 * np.pi / 2 - 0.5, size=n)
    X = np.empty((n, 3))
    X[:, 0] = np.cos(angles) + np.sin(angles) / 2 + noise * rng.standard_normal(n) / 2
    X[:, 1] = np.sin(angles) * 0.7 + noise * rng.standard_normal(n) / 2
    X[:, 2] = X[:, 0] * w1 + X[:, 1] * w2 + noise * rng.standard_normal(n)
    return X


def make_low_rank_data(n=200, n_features=784, rank=16, noise=0.1, mean=None, random_state=None):
    r"""Low-rank-plus-noise data: ``(n, n_features)``, a ``rank``-D signal in random directions.

    .. math::
        X = \mathbf 1 \mu^\top + S \,\mathrm{diag}(s)\, Q^\top + \sigma E,

    with ``Q`` a random ``(n_features, rank)`` matrix with orthonormal columns,
    ``S`` and ``E`` standard normal, singular values ``s`` evenly spaced from 3
    down to 1 (signal variances 9 down to 1), and :math:`\sigma` = ``noise``.
    The population covariance has eigenvalues :math:`s_j^2 + \sigma^2` and
    :math:`\sigma^2` (``n_features - rank`` times): a clear gap after ``rank``
    components, so PCA's top-``rank`` subspace is well defined.

    Parameters
    ----------
    n : int
        Examples ``N``.
    n_features : int
        ``D`` (784 = 28 x 28 by default, the size of an MNIST image).
    rank : int, 1 <= rank <= n_features
    noise : float >= 0
    mean : None or array_like of shape (n_features,)
        :math:`\mu`; ``None`` draws it as :math:`N(0, 0.1^2)` per feature.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    X : ndarray of shape (n, n_features)
    """
    n = check_positive_int(n, "n", minimum=2)
    n_features = check_positive_int(n_features, "n_features")
    rank = check_positive_int(rank, "rank")
    if rank > n_features:
        raise ValueError(f"rank must be <= n_features ({n_features}); got {rank}")
    noise = check_non_negative(noise, "noise")
    rng = check_random_state(random_state)
    Q, _ = np.linalg.qr(rng.standard_normal((n_features, rank)))        # (D, rank), orthonormal columns
    s = np.linspace(3.0, 1.0, rank)
    signal = (rng.standard_normal((n, rank)) * s) @ Q.T                  # (N, D)
    mu = 0.1 * rng.standard_normal(n_features) if mean is None else \
        check_array(mean, "mean", ndim=1, n_features=n_features)
    return mu + signal + noise * rng.standard_normal((n, n_features))


def recon_mse(X, X_hat):
    r"""Mean squared reconstruction error over examples and features (sklearn's ``mean_squared_error``).

    ``X`` and ``X_hat`` have shape ``(N, D)``; returns
    :math:`\frac{1}{ND}\sum_{n,d}(\hat x_{nd} - x_{nd})^2` as a float.
    """
    X = check_array(X, "X")
    X_hat = check_array(X_hat, "X_hat")
    if X.shape != X_hat.shape:
        raise ValueError(f"X and X_hat must have the same shape; got {X.shape} and {X_hat.shape}")
    return float(np.mean((X_hat - X) ** 2))


def max_principal_angle(A, B):
    r"""Largest principal angle (radians) between the row spaces of ``A (K, D)`` and ``B (K', D)``.

    The rows need not be orthonormal. ``scipy.linalg.subspace_angles`` works
    on column spaces, so it is given ``A.T`` and ``B.T``; it computes small
    angles from sines, accurately down to about 1e-15 rad.
    """
    import scipy.linalg

    A = check_array(A, "A")
    B = check_array(B, "B", n_features=A.shape[1])
    return float(np.max(scipy.linalg.subspace_angles(A.T, B.T)))


def fit_and_compare(X, n_components, max_iter=500, gtol=1e-10, random_state=None, verbose=0):
    r"""Fit ``LinearAutoencoder(n_components)`` and ``PCA(n_components)`` on ``X (N, D)`` and compare.

    Returns ``(ae, pca, facts)`` with ``facts`` a dict:

    ``max_principal_angle``
        Largest principal angle (radians) between ``ae.components_`` and
        ``pca.components_`` (see :func:`max_principal_angle`).
    ``recon_mse``, ``pca_recon_mse``
        :func:`recon_mse` of ``ae.reconstruct(X)`` and of
        ``pca.inverse_transform(pca.transform(X))``.
    ``relative_excess``
        ``(recon_mse - pca_recon_mse) / pca_recon_mse``: PCA's error is the
        smallest any rank-``K`` affine reconstruction can reach, so this is
        >= 0 up to round-off.
    ``iterations``, ``seconds``
        L-BFGS iterations and training time of the autoencoder.

    ``max_iter`` and ``gtol`` go to :class:`LinearAutoencoder`.
    """
    X = check_array(X, "X")
    pca = PCA(n_components).fit(X)
    ae = LinearAutoencoder(n_components, max_iter=max_iter, gtol=gtol, verbose=verbose,
                           random_state=random_state).fit(X)
    mse = recon_mse(X, ae.reconstruct(X))
    pca_mse = recon_mse(X, pca.inverse_transform(pca.transform(X)))
    facts = {"max_principal_angle": max_principal_angle(ae.components_, pca.components_),
             "recon_mse": mse, "pca_recon_mse": pca_mse,
             "relative_excess": (mse - pca_mse) / pca_mse if pca_mse > 0 else mse,
             "iterations": ae.n_iter_, "seconds": ae.fit_seconds_}
    return ae, pca, facts


def save_codes_figure(X, codes, projection, path, facts):
    r"""Hands-On ML's figure: the 3-D data, the autoencoder's codes, PCA's projection; returns ``path``.

    ``X (N, 3)`` is drawn as a 3-D scatter, ``codes (N, 2)`` (``ae.transform(X)``)
    and ``projection (N, 2)`` (``pca.transform(X)``) as 2-D scatters, every
    point coloured by its first PCA coordinate so the panels can be matched;
    ``facts`` (from :func:`fit_and_compare`) goes into the title. Drawn on a
    ``matplotlib.figure.Figure`` with the Agg canvas (no pyplot state).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13.5, 4.4), dpi=100)
    FigureCanvasAgg(fig)
    colour = projection[:, 0]            # the same colour for the same point in every panel
    ax = fig.add_subplot(1, 3, 1, projection="3d")
    ax.scatter(X[:, 0], X[:, 1], X[:, 2], c=colour, cmap="viridis", s=12)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_zlabel("$x_3$")
    ax.set_title("original 3-D data")
    for i, (Z, title, labels) in enumerate([
            (codes, "linear autoencoder: 2-D codes", ("$h_1$", "$h_2$")),
            (projection, "PCA: projection on 2 components", ("$z_1$", "$z_2$"))]):
        ax = fig.add_subplot(1, 3, i + 2)
        ax.scatter(Z[:, 0], Z[:, 1], c=colour, cmap="viridis", s=12)
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
    fig.suptitle(f"largest principal angle {facts['max_principal_angle']:.1e} rad; reconstruction MSE "
                 f"{facts['recon_mse']:.6g} (autoencoder) vs {facts['pca_recon_mse']:.6g} (PCA)")
    fig.tight_layout()
    fig.savefig(path)
    return path


#: The claims' thresholds: at the defaults, 100 seeds gave angles below 2.4e-6 rad and excesses below 4.5e-10.
CLAIM_ANGLE, CLAIM_EXCESS = 1e-4, 1e-6


def run(out="out/pca-demo", n=200, max_iter=500, gtol=1e-10, seed=0, verbose=10):
    r"""Fit a 3-2-3 linear autoencoder and PCA on :func:`make_3d_data`, draw the figure.

    Writes ``out/pca_demo.png`` and returns ``(ae, result)`` with ``result`` the
    dict ``{"max_principal_angle", "recon_mse", "pca_recon_mse", "iterations",
    "seconds"}`` (see :func:`fit_and_compare`; ``recon_mse`` is
    :func:`recon_mse`, the mean over examples and features).

    ``seed`` seeds one Generator that draws the data, then the initial weights.
    """
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    X = make_3d_data(n, random_state=rng)
    print(f"{X.shape[0]} points of Hands-On ML's 3-D data set (near a plane, not centred)", flush=True)
    print(f"training a 3-2-3 linear autoencoder with L-BFGS (at most {max_iter} iterations, gtol {gtol:g})",
          flush=True)
    start = time.perf_counter()
    ae, pca, facts = fit_and_compare(X, 2, max_iter=max_iter, gtol=gtol, random_state=rng, verbose=verbose)
    print(f"{facts['iterations']} iterations in {facts['seconds']:.2f} s; largest principal angle to PCA's "
          f"plane {facts['max_principal_angle']:.2e} rad; reconstruction MSE {facts['recon_mse']:.10g} "
          f"(PCA {facts['pca_recon_mse']:.10g}, relative excess {facts['relative_excess']:.1e})", flush=True)
    path = save_codes_figure(X, ae.transform(X), pca.transform(X), os.path.join(out, "pca_demo.png"), facts)
    print(f"wrote {path} ({time.perf_counter() - start:.1f} s in all)", flush=True)
    result = {key: facts[key] for key in ("max_principal_angle", "recon_mse", "pca_recon_mse",
                                          "iterations", "seconds")}
    src = "Hands-On ML, ch. 17 (PCA with an undercomplete linear autoencoder); Baldi & Hornik 1989"
    result["claims"] = [
        claim(f"The 3-2-3 linear autoencoder learns PCA's plane: largest principal angle below {CLAIM_ANGLE:g} rad",
              facts["max_principal_angle"] < CLAIM_ANGLE, facts["max_principal_angle"], source=src),
        claim(f"Its reconstruction error equals PCA's (relative excess below {CLAIM_EXCESS:g}; MSE per feature)",
              abs(facts["relative_excess"]) < CLAIM_EXCESS, facts["recon_mse"], facts["pca_recon_mse"],
              source=src)]
    return ae, result


@command("pca-demo", "Hands-On ML: a 3-2-3 linear autoencoder learns PCA's plane (figure + comparison)")
def cmd_pca_demo(args):
    _, result = run(out=args.out, n=args.n, max_iter=args.iterations, gtol=args.gtol, seed=args.seed,
                    verbose=0 if args.quiet else 10)
    emit(args, result, "")
    return 0


def _configure(p):
    add_output(p, "--out", kind="folder", default="out/pca-demo", help="folder for pca_demo.png")
    p.add_argument("--n", type=int, default=200, help="number of 3-D points")
    p.add_argument("--iterations", type=int, default=500, help="at most this many L-BFGS iterations")
    p.add_argument("--gtol", type=float, default=1e-10,
                   help="stop when every gradient component is below this (scipy's gtol)")
    p.add_argument("--seed", type=int, default=0, help="random seed (data and initial weights)")
    p.add_argument("--quiet", action="store_true", help="no per-iteration progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_pca_demo.configure = _configure
