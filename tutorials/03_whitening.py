# %% [markdown]
# # Tutorial 3: PCA, PCA whitening and ZCA whitening (UFLDL)
#
# This script follows UFLDL's two preprocessing exercises in order:
#
# * **pcaExercise2D**: on 2-D points, rotate into the PCA basis, reduce to 1-D,
#   then PCA-whiten and ZCA-whiten, plotting each step;
# * **pcaExercise** on image patches: zero-mean the patches, check the
#   covariance of the rotated data is diagonal, choose $k$ to retain 99% of the
#   variance, PCA-whiten with regularisation $\epsilon$, and look at
#   ZCA-whitened patches.
#
# Run it with `python tutorials/03_whitening.py` from the repository root, or
# open it as a notebook (the `# %%` lines are cells). `NUMPY_AE_FAST=1` uses
# fewer patches. Figures go to `out/tutorials/03_whitening/` (or
# `$NUMPY_AE_OUT/...`).
#
# **Notation.** UFLDL writes an example as a column $x$ and the data as
# `x` of size `n x m`; numpy_ae keeps examples as rows, `X` of shape `(N, D)`.
# So UFLDL's $x_{\rm rot} = U^\top x$ is our `X @ U`, and UFLDL's `U` is
# `pca.components_.T` (`numpy_ae.models.pca.PCA` stores the eigenvectors as rows).
# The equations (the module docstring of `numpy_ae.models.pca` has them too):
#
# $$\Sigma = \frac1m\sum_{i=1}^m x^{(i)} x^{(i)\top} = U\,\mathrm{diag}(\lambda_1\ge\dots\ge\lambda_n)\,U^\top,$$
# $$x_{\rm rot} = U^\top x,\qquad \tilde x = U_{1:k}^\top x,\qquad \hat x = U_{1:k}\tilde x,$$
# $$x_{{\rm PCAwhite},i} = \frac{x_{{\rm rot},i}}{\sqrt{\lambda_i + \epsilon}},\qquad
#   x_{\rm ZCAwhite} = U x_{\rm PCAwhite}.$$

# %%
import os
import pathlib

import numpy as np

from numpy_ae import PCA, ZCAWhitening
from numpy_ae.data import load_images, sample_patches
from numpy_ae.models.pca import pca_whiten, remove_example_mean, zca_whiten
from numpy_ae.analysis.plotting import save_tiles

FAST = os.environ.get("NUMPY_AE_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NUMPY_AE_OUT", "out/tutorials")) / "03_whitening"
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)


def new_figure(width_in, height_in):
    """A matplotlib Figure on the Agg canvas: no pyplot, no window, no global state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def cov(Z):
    """UFLDL's covariance ``x * x' / m`` of row examples ``Z (N, D)`` (1/N, not 1/(N-1))."""
    return Z.T @ Z / Z.shape[0]


# %% [markdown]
# ## Part 1: pcaExercise2D
#
# UFLDL loads 45 points from `pcaData.txt`; we draw our own: 200 points of a
# correlated 2-D Gaussian stretched along the 45-degree diagonal (standard
# deviations 1 and 0.3 before rotating), then centred. UFLDL's points are
# already close to zero mean; `numpy_ae.models.pca.PCA.fit` subtracts the mean
# anyway, so we centre here to compare our by-hand formulas with the library.

# %%
N2 = 200
R45 = np.array([[1.0, 1.0], [-1.0, 1.0]]) / np.sqrt(2.0)      # rotate by 45 degrees (row vectors)
x = (rng.standard_normal((N2, 2)) * [1.0, 0.3]) @ R45
x -= x.mean(axis=0)

# Step 1a: eigenvectors of the covariance (UFLDL: [U, S, V] = svd(sigma)).
sigma = cov(x)
lam, U = np.linalg.eigh(sigma)
lam, U = lam[::-1], U[:, ::-1]                                 # decreasing variance
pca2 = PCA().fit(x)
print("eigenvalues:", lam, " library:", pca2.explained_variance_)
print("U =\n", U)
assert np.allclose(lam, pca2.explained_variance_, rtol=1e-12)
assert np.allclose(np.abs(U.T), np.abs(pca2.components_), atol=1e-12)   # same directions up to sign
assert np.allclose(U.T @ U, np.eye(2), atol=1e-12)
assert abs(abs(U[0, 0]) - np.sqrt(0.5)) < 0.05                 # the top direction is near the diagonal

# %% [markdown]
# **Step 1b: rotate.** $x_{\rm rot} = U^\top x$ expresses each point in the
# eigenbasis; its covariance is $\mathrm{diag}(\lambda)$, so the cloud is now
# aligned with the axes. (`PCA.transform` computes the same, with the library's
# sign convention for each eigenvector.)

# %%
x_rot = x @ U                                                  # (N, 2)
print("covariance of x_rot:\n", cov(x_rot))
assert np.allclose(cov(x_rot), np.diag(lam), atol=1e-12)
assert np.allclose(np.abs(x_rot), np.abs(pca2.transform(x)), atol=1e-12)

# %% [markdown]
# **Step 2: reduce to one dimension and map back.** Keep only
# $\tilde x = U_{1}^\top x$ and reconstruct $\hat x = U_1 \tilde x$: every
# point falls onto the principal line. The squared error left is the
# discarded variance $\lambda_2$ per point.

# %%
x_tilde = x @ U[:, :1]                                          # (N, 1)
x_hat = x_tilde @ U[:, :1].T                                    # (N, 2)
pca1 = PCA(n_components=1).fit(x)
print("mean squared error per point:", np.mean(np.sum((x_hat - x) ** 2, axis=1)), " lambda_2:", lam[1])
assert np.allclose(x_hat, pca1.inverse_transform(pca1.transform(x)), atol=1e-12)
assert np.isclose(np.mean(np.sum((x_hat - x) ** 2, axis=1)), lam[1], rtol=1e-10)
assert np.linalg.matrix_rank(x_hat) == 1

# %% [markdown]
# **Step 3: PCA whitening.** Divide each rotated coordinate by its standard
# deviation: $x_{{\rm PCAwhite},i} = x_{{\rm rot},i} / \sqrt{\lambda_i + \epsilon}$.
# UFLDL uses $\epsilon = 10^{-5}$ here, which barely changes anything: the
# covariance becomes $\mathrm{diag}(\lambda_i / (\lambda_i + \epsilon)) \approx I$.
#
# **Step 4: ZCA whitening.** Rotate back: $x_{\rm ZCAwhite} = U x_{\rm PCAwhite}$.
# Of all whitening transforms this one stays closest to the original data.
# `numpy_ae.models.pca.pca_whiten` and `numpy_ae.models.pca.zca_whiten` (or `PCA(whiten=True)`
# and `ZCAWhitening`) compute the same.

# %%
eps2 = 1e-5
x_pca_white = x_rot / np.sqrt(lam + eps2)
x_zca_white = x_pca_white @ U.T                                 # U x_PCAwhite, rows as examples
print("covariance of x_PCAwhite:\n", cov(x_pca_white))
print("covariance of x_ZCAwhite:\n", cov(x_zca_white))
assert np.allclose(cov(x_pca_white), np.diag(lam / (lam + eps2)), atol=1e-12)
assert np.allclose(cov(x_pca_white), np.eye(2), atol=1e-3)
assert np.allclose(cov(x_zca_white), np.eye(2), atol=1e-3)
assert np.allclose(np.abs(x_pca_white), np.abs(pca_whiten(x, epsilon=eps2)), atol=1e-10)
assert np.allclose(x_zca_white, zca_whiten(x, epsilon=eps2), atol=1e-10)

fig = new_figure(13, 3.4)
panels = [(x, "raw data and the eigenvectors"), (x_rot, r"$x_{\rm rot} = U^\top x$"),
          (x_hat, r"$\hat x$: reduced to 1-D"), (x_pca_white, "PCA whitened"), (x_zca_white, "ZCA whitened")]
for i, (data, title) in enumerate(panels):
    ax = fig.add_subplot(1, 5, i + 1)
    ax.scatter(data[:, 0], data[:, 1], s=6, c=x_rot[:, 0], cmap="viridis")   # colour: first PCA coordinate
    if i == 0:
        for j in range(2):                                     # eigenvector j, scaled by its std
            ax.plot([0, 2 * np.sqrt(lam[j]) * U[0, j]], [0, 2 * np.sqrt(lam[j]) * U[1, j]], "r-", lw=2)
    ax.set_title(title, fontsize=9)
    ax.set_aspect("equal")
    ax.set_xlim(-3.5, 3.5)
    ax.set_ylim(-3.5, 3.5)
    ax.grid(True, alpha=0.3)
fig.tight_layout()
fig.savefig(OUT / "pca_2d.png")
print("wrote", OUT / "pca_2d.png")

# %% [markdown]
# ## Part 2: pcaExercise on image patches
#
# **Step 0: data.** UFLDL samples 10,000 patches of 12 x 12 pixels from raw
# natural images (`IMAGES_RAW`). `numpy_ae.data.load_images(whiten=False)`
# gives the stand-in photograph of Tutorial 1 as it is, before the Olshausen &
# Field $1/f$ filter that `load_images()` applies by default (whitening is what
# this tutorial builds by hand). We take the
# raw pixel values (`sample_patches(..., normalize=None)`), then remove each
# patch's own mean with `numpy_ae.models.pca.remove_example_mean` (UFLDL:
# `x = x - mean(x, 1)`, the per-patch brightness):
#
# $$x^{(i)}_j \leftarrow x^{(i)}_j - \frac1n\sum_{l=1}^n x^{(i)}_l .$$
#
# That makes every patch orthogonal to the constant image, so the covariance
# has one eigenvalue equal to 0: the direction we removed.

# %%
n_patches = 2000 if FAST else 10000
side = 12
raw = sample_patches(load_images(whiten=False), n=n_patches, size=side, random_state=rng, normalize=None)
X = remove_example_mean(raw)
D = X.shape[1]
print("patches:", X.shape, " largest |per-patch mean| after removal:", np.abs(X.mean(axis=1)).max())
assert X.shape == (n_patches, side * side)
assert np.abs(X.mean(axis=1)).max() < 1e-12
save_tiles(raw[:100], OUT / "patches_raw.png", title="100 raw 12x12 patches")

# %% [markdown]
# **Step 1: PCA and the covariance of $x_{\rm rot}$.** With all $n = 144$
# components, $x_{\rm rot}$'s covariance is $\mathrm{diag}(\lambda)$: UFLDL
# displays it with `imagesc` and expects a diagonal line (bright near the top
# left, where the variances are largest). `PCA` also subtracts the per-pixel
# mean, which after per-patch mean removal is already close to 0.

# %%
pca = PCA().fit(X)                                              # all components
U = pca.components_.T                                           # (D, D), UFLDL's U
lam = pca.explained_variance_
X_rot = pca.transform(X)                                        # (X - mean) @ U
C_rot = cov(X_rot)
off = np.abs(C_rot - np.diag(np.diag(C_rot))).max()
print(f"largest |off-diagonal| of cov(x_rot): {off:.2e} (lambda_1 = {lam[0]:.3f}); smallest eigenvalue {lam[-1]:.2e}")
assert off < 1e-10 * lam[0]
assert np.allclose(np.diag(C_rot), lam, rtol=1e-8, atol=1e-12 * lam[0])
assert lam[-1] < 1e-10 * lam[0]                                 # the removed DC direction


def save_matrix(M, path, title):
    """Show a square matrix as an image (UFLDL's imagesc), with a colour bar."""
    fig = new_figure(5.2, 4.4)
    ax = fig.add_subplot()
    im = ax.imshow(M, cmap="viridis", interpolation="nearest")
    fig.colorbar(im, ax=ax)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    return path


save_matrix(C_rot, OUT / "covariance_xrot.png", r"covariance of $x_{\rm rot}$: diag($\lambda$)")

# %% [markdown]
# **Step 2: how many components?** Keep the smallest $k$ with
#
# $$\frac{\sum_{j=1}^k \lambda_j}{\sum_{j=1}^n \lambda_j} \ge 0.99 .$$
#
# `PCA(n_components=0.99)` does exactly this (see `numpy_ae.models.pca.PCA._choose_k`).
# We also compute the 90% point for comparison.

# %%
retained = np.cumsum(lam) / lam.sum()
k = int(np.searchsorted(retained, 0.99)) + 1
k90 = int(np.searchsorted(retained, 0.90)) + 1
print(f"k = {k} of {D} components retain 99% of the variance ({k90} retain 90%)")
assert retained[k - 1] >= 0.99 and retained[k - 2] < 0.99
assert PCA(n_components=0.99).fit(X).n_components_ == k
assert k90 < k < D

# %% [markdown]
# **Step 3: PCA with dimension reduction.** $\hat x = U_{1:k}\tilde x$: the
# reduced patches should look almost like the originals (99% of the variance),
# and the 90% ones somewhat blurred.

# %%
pca_k = PCA(n_components=k).fit(X)
X_hat = pca_k.inverse_transform(pca_k.transform(X))
pca_90 = PCA(n_components=k90).fit(X)
X_hat90 = pca_90.inverse_transform(pca_90.transform(X))
kept = 1 - np.sum((X_hat - X) ** 2) / np.sum((X - X.mean(axis=0)) ** 2)
print(f"fraction of variance kept by the reconstruction: {kept:.4f}")
assert np.isclose(kept, retained[k - 1], rtol=1e-8)
save_tiles(X[:100], OUT / "patches_zero_mean.png", title="zero-mean patches")
save_tiles(X_hat[:100], OUT / "patches_pca_99.png", title=f"PCA with {k} components (99%)")
save_tiles(X_hat90[:100], OUT / "patches_pca_90.png", title=f"PCA with {k90} components (90%)")

# %% [markdown]
# **Step 4: PCA whitening with regularisation.** Without regularisation
# ($\epsilon = 0$, only the $k$ retained components, all with
# $\lambda_i > 0$) the covariance of $x_{\rm PCAwhite}$ is exactly the
# identity. With UFLDL's $\epsilon = 0.1$ it is
# $\mathrm{diag}(\lambda_i/(\lambda_i + \epsilon))$: close to 1 for the
# high-variance components, smaller for the low-variance ones, whose noise is
# thereby not blown up. (`PCA(whiten=True)` refuses $\epsilon = 0$ when a
# kept eigenvalue is 0, such as the DC direction above: it would divide by 0.)

# %%
epsilon = 0.1
white0 = PCA(n_components=k, whiten=True, epsilon=0.0).fit_transform(X)
white = PCA(n_components=k, whiten=True, epsilon=epsilon).fit_transform(X)
by_hand = X_rot[:, :k] / np.sqrt(lam[:k] + epsilon)
C0, Ceps = cov(white0), cov(white)
print("epsilon = 0:   max |cov - I| =", np.abs(C0 - np.eye(k)).max())
print(f"epsilon = {epsilon}: diagonal of cov from {np.diag(Ceps).max():.3f} down to {np.diag(Ceps).min():.3f}")
assert np.allclose(C0, np.eye(k), atol=1e-8)
assert np.allclose(Ceps, np.diag(lam[:k] / (lam[:k] + epsilon)), atol=1e-8)
assert np.allclose(white, by_hand, atol=1e-10)
try:
    PCA(n_components=D, whiten=True, epsilon=0.0).fit(X)
    raise AssertionError("whitening the zero-variance DC direction with epsilon=0 must fail")
except ValueError as exc:
    print("as expected:", str(exc)[:100], "...")
save_matrix(C0, OUT / "covariance_pca_white_eps0.png", rf"cov of $x_{{\rm PCAwhite}}$, $\epsilon=0$, k={k}: I")
save_matrix(Ceps, OUT / "covariance_pca_white.png", rf"cov of $x_{{\rm PCAwhite}}$, $\epsilon={epsilon}$")

# %% [markdown]
# **Step 5: ZCA whitening.** $x_{\rm ZCAwhite} = U\,x_{\rm PCAwhite}$ with all
# $n$ components and $\epsilon = 0.1$ (`numpy_ae.models.pca.ZCAWhitening`). The
# result lives in pixel space again: the patches still look like patches, with
# edges emphasised and slow gradients flattened. Its covariance is
# $U\,\mathrm{diag}(\lambda_i/(\lambda_i+\epsilon))\,U^\top$, close to the
# identity on the high-variance directions.

# %%
zca = ZCAWhitening(epsilon=epsilon).fit(X)
X_zca = zca.transform(X)
full_white = X_rot / np.sqrt(lam + epsilon)                     # all D components
assert np.allclose(X_zca, full_white @ U.T, atol=1e-10)         # U x_PCAwhite, rows as examples
C_zca = cov(X_zca)
assert np.allclose(C_zca, (U * (lam / (lam + epsilon))) @ U.T, atol=1e-8)
assert np.allclose(zca.inverse_transform(X_zca), X, atol=1e-8)  # ZCA keeps every direction: invertible
save_matrix(C_zca, OUT / "covariance_zca_white.png", rf"cov of $x_{{\rm ZCAwhite}}$, $\epsilon={epsilon}$")
save_tiles(X_zca[:100], OUT / "patches_zca_white.png", title=f"ZCA whitened patches (epsilon = {epsilon})")
print("wrote the figures to", OUT)

# %% [markdown]
# **What to look at.** `pca_2d.png` shows the five stages of Part 1.
# `covariance_xrot.png` and `covariance_pca_white_eps0.png` show a diagonal
# matrix and the identity; `patches_pca_99.png` is hard to tell from
# `patches_zero_mean.png`; `patches_zca_white.png` shows patches with their
# edges sharpened: the input a sparse autoencoder with a linear decoder
# (UFLDL's colour exercise) learns from.
