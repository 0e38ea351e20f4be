# %% [markdown]
# # Tutorial 2: an undercomplete linear autoencoder performs PCA
#
# Hands-On Machine Learning (Géron), chapter "Autoencoders", section
# "Performing PCA with an Undercomplete Linear Autoencoder": a 3-D data set
# that lies close to a plane is squeezed through a 2-unit code by an
# autoencoder with no activation function and a squared-error loss. Its codes
# look like PCA's projection. Here we make that precise:
#
# 1. the decoder's weights span exactly the plane PCA finds (principal angles ~ 0);
# 2. the reconstruction error is exactly PCA's;
# 3. but the weights are *a* basis of that plane, not the principal components,
#    and the components can be recovered from them with a small eigenproblem.
#
# Run it with `python tutorials/02_linear_autoencoder_pca.py` from the
# repository root, or open it as a notebook (the `# %%` lines are cells).
# `NUMPY_AE_FAST=1` changes little here: the whole tutorial takes a few
# seconds either way. Figures go to `out/tutorials/02_linear_autoencoder_pca/`
# (or `$NUMPY_AE_OUT/...`). `python -m numpy_ae pca-demo` draws the same
# figure from the command line.
#
# **Notation.** Rows are examples: `X` has shape `(N, D)`, here D = 3, and the
# code has K = 2 units. A dense layer computes $Z = XW + b$ with `W` of shape
# `(D_in, D_out)`.

# %%
import os
import pathlib

import numpy as np
import scipy.linalg

from numpy_ae import PCA, LinearAutoencoder
from numpy_ae.experiments.pca_demo import (fit_and_compare, make_3d_data, make_low_rank_data, max_principal_angle,
                                           recon_mse, save_codes_figure)
from numpy_ae.check.gradcheck import check_model

FAST = os.environ.get("NUMPY_AE_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NUMPY_AE_OUT", "out/tutorials")) / "02_linear_autoencoder_pca"
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(42)

# %% [markdown]
# ## Step 1: the 3-D data set
#
# `numpy_ae.experiments.pca_demo.make_3d_data` is Géron's generator, drawn from
# a numpy Generator: angles $\theta \sim U[-\tfrac12, \tfrac{3\pi}{2} - \tfrac12)$,
#
# $$x_1 = \cos\theta + \tfrac12\sin\theta + \tfrac{\sigma}{2}\varepsilon_1,\quad
#   x_2 = 0.7\sin\theta + \tfrac{\sigma}{2}\varepsilon_2,\quad
#   x_3 = 0.1\,x_1 + 0.3\,x_2 + \sigma\varepsilon_3,\qquad \sigma = 0.1 .$$
#
# The third coordinate is almost a linear function of the other two, so the
# points lie close to a plane: two large variances, one small.

# %%
N = 200
X = make_3d_data(N, random_state=rng)
eigenvalues = np.linalg.eigvalsh(np.cov(X, rowvar=False, bias=True))[::-1]
print("X:", X.shape, " mean:", X.mean(axis=0).round(3), " covariance eigenvalues:", eigenvalues.round(4))
assert X.shape == (N, 3)
assert eigenvalues[1] > 10 * eigenvalues[2], "two directions must dominate: the data lie near a plane"

# %% [markdown]
# ## Step 2: PCA
#
# `numpy_ae.PCA` (see `numpy_ae.models.pca.PCA.fit`) centres the data and
# diagonalises the covariance, as UFLDL does:
#
# $$\mu = \frac1N\sum_n x_n,\qquad \Sigma = \frac1N \sum_n (x_n-\mu)^\top (x_n-\mu)
#   = U\,\mathrm{diag}(\lambda_1 \ge \lambda_2 \ge \lambda_3)\,U^\top .$$
#
# With rows as examples, `pca.components_` holds the columns of $U$ as rows,
# shape `(K, D)`; the projection is $z = (x - \mu)U_{1:K}$
# (`PCA.transform`) and the reconstruction $\hat x = \mu + z\,U_{1:K}^\top$
# (`PCA.inverse_transform`).
#
# We measure reconstruction error as `numpy_ae.experiments.pca_demo.recon_mse`,
# the mean over examples *and* features (scikit-learn's `mean_squared_error`):
#
# $$\mathrm{MSE}(X, \hat X) = \frac{1}{ND}\sum_{n=1}^{N}\sum_{d=1}^{D}(\hat x_{nd} - x_{nd})^2 .$$
#
# For PCA it equals the discarded variance divided by D: $\lambda_3 / 3$ here.

# %%
pca = PCA(n_components=2).fit(X)
Z_pca = pca.transform(X)                                    # (N, 2)
pca_mse = recon_mse(X, pca.inverse_transform(Z_pca))
print("principal directions (rows):\n", pca.components_.round(4))
print("PCA reconstruction MSE:", pca_mse, " lambda_3 / D:", eigenvalues[2] / 3)
assert np.allclose(pca.components_ @ pca.components_.T, np.eye(2), atol=1e-12)   # orthonormal rows
assert np.isclose(pca_mse, eigenvalues[2] / 3, rtol=1e-10)

# %% [markdown]
# ## Step 3: the linear autoencoder, and a gradient check first
#
# `numpy_ae.LinearAutoencoder(n_components=2)` is the network
#
# $$h = x W_1 + b_1 \quad (K\text{ units, no activation}),\qquad
#   \hat x = h W_2 + b_2,$$
#
# with `W1` of shape `(D, K)` and `W2` of shape `(K, D)`, trained on UFLDL's
# squared error
#
# $$J = \frac{1}{2N}\sum_{n=1}^{N} \lVert \hat x_n - x_n \rVert^2
#     \;=\; \tfrac{D}{2}\,\mathrm{MSE}(X, \hat X).$$
#
# Its backward pass is two `Dense.backward` calls (`numpy_ae.nn.dense.Dense`):
# $\delta = (\hat X - X)/N$, then $\partial J/\partial W_2 = H^\top\delta$,
# $\partial J/\partial b_2 = \sum_n \delta_n$, $\partial J/\partial H = \delta W_2^\top$,
# and the same again for $W_1, b_1$. Before training, check it numerically with
# `numpy_ae.check.gradcheck.check_model`, which perturbs every entry of the flat
# parameter vector $\theta$ by $\pm\epsilon$ and compares centred differences
# with the backward pass. For a network that is linear in each layer the
# centred difference is exact up to rounding, so the norm-relative difference
# is far below UFLDL's 1e-9.

# %%
ae_check = LinearAutoencoder(n_components=2, random_state=0).initialize(3)
check = check_model(ae_check.network_, X[:20], eps=1e-5, name="linear autoencoder 3-2-3")
print(check.report())
assert check.ok and check.rel_diff < 1e-9

# %% [markdown]
# ## Step 4: train with L-BFGS and compare with PCA
#
# `LinearAutoencoder(n_components, max_iter=..., gtol=...).fit(X)` runs scipy's
# L-BFGS-B on $J(\theta)$ (see `numpy_ae.models.autoencoders.Autoencoder.fit` and
# `numpy_ae.train.lbfgs.lbfgs`); like every numpy_ae estimator it takes its training
# hyperparameters in the constructor, scikit-learn style, and `fit` returns the
# estimator. On these 3-D data it converges in a few dozen iterations. We ask
# for a tiny gradient (`gtol=1e-10`) so the optimum is reached to near machine
# precision.
#
# The data are *not* centred: the biases learn the mean. At the optimum
# (Baldi & Hornik, 1989)
#
# $$\hat x = \mu + P_K (x - \mu),$$
#
# with $P_K$ the orthogonal projector onto the top-K principal subspace, which
# is exactly PCA's reconstruction. Two subspaces are compared by their
# *principal angles* (`scipy.linalg.subspace_angles`, wrapped by
# `numpy_ae.experiments.pca_demo.max_principal_angle`): all are 0 when the
# subspaces coincide, whatever bases describe them.

# %%
ae = LinearAutoencoder(n_components=2, max_iter=500, gtol=1e-10, random_state=rng).fit(X)
W2 = ae.components_                                         # (K, D): decoder weight rows
angles = scipy.linalg.subspace_angles(W2.T, pca.components_.T)   # column spaces, so transpose
ae_mse = recon_mse(X, ae.reconstruct(X))
print(f"{ae.n_iter_} L-BFGS iterations; final cost J = {ae.cost_:.10g}")
print("principal angles between span(W2 rows) and PCA's plane (rad):", angles)
print(f"reconstruction MSE: autoencoder {ae_mse:.12g}   PCA {pca_mse:.12g}   "
      f"relative difference {(ae_mse - pca_mse) / pca_mse:.1e}")
assert angles.max() < 1e-3
assert abs(ae_mse - pca_mse) <= 1e-6 * pca_mse
assert np.isclose(ae.cost_, 3 / 2 * ae_mse, rtol=1e-12)     # J = (D/2) MSE, with no weight decay

# %% [markdown]
# The codes are PCA's coordinates seen through an invertible 2 x 2 map: an
# affine least-squares fit of the codes $H$ from $Z_{pca}$ leaves no residual.
# Hands-On ML's figure shows just that: the same arc, stretched and sheared.
# `save_codes_figure` draws it (and `fit_and_compare` packages steps 2 and 4).

# %%
H = ae.transform(X)                                          # (N, 2) codes
design = np.hstack([Z_pca, np.ones((N, 1))])                 # [z, 1]
M, *_ = np.linalg.lstsq(design, H, rcond=None)               # H ~ z A + c
residual = np.abs(design @ M - H).max() / np.abs(H).max()
print("max |H - (Z_pca A + c)| / max |H| =", residual, "  det A =", np.linalg.det(M[:2]))
assert residual < 1e-4 and abs(np.linalg.det(M[:2])) > 1e-3     # measured ~5e-7: the optimum is not exact

facts = {"max_principal_angle": float(angles.max()), "recon_mse": ae_mse, "pca_recon_mse": pca_mse}
path = save_codes_figure(X, H, Z_pca, OUT / "codes_vs_pca.png", facts)
print("wrote", path)

# %% [markdown]
# ## Step 5: a basis of the plane, but not the principal components
#
# Any invertible $A$ gives the same reconstruction with $W_1 A$ and
# $A^{-1}W_2$, so the loss cannot prefer orthonormal or variance-ordered
# weights. In UFLDL's column notation the decoder is $W = W_2^\top$ (`D x K`)
# and PCA's would have $W^\top W = I$; ours is not even diagonal, and its rows
# are not unit vectors:

# %%
gram = W2 @ W2.T                                            # (K, K) = W^T W in column notation
cosines = np.abs(W2 / np.linalg.norm(W2, axis=1, keepdims=True) @ pca.components_.T)
print("W2 W2^T =\n", gram.round(4))
print("|cos| between each decoder row and each principal direction:\n", cosines.round(4))
off_diagonal = abs(gram[0, 1]) / np.sqrt(gram[0, 0] * gram[1, 1])
assert off_diagonal > 1e-3, "the decoder rows are not orthogonal"
assert not np.allclose(np.diag(gram), 1.0, atol=1e-3), "and not of unit length"

# %% [markdown]
# **Recovering the principal components.** An SVD (or a QR) of the weights
# gives an *orthonormal* basis $Q$ (`D x K`) of the same plane, but still not
# the principal directions: SVD orders directions by the size of the weights,
# not by the variance of the data. What is missing is PCA *inside* the plane,
# a K x K eigenproblem (the Rayleigh–Ritz step):
#
# $$Q^\top \Sigma Q = V\,\mathrm{diag}(\lambda_1, \lambda_2)\,V^\top, \qquad U_{1:K} = Q V .$$
#
# Because the plane is the top-K principal subspace, this gives back
# $\lambda_1, \lambda_2$ and the principal directions (each up to sign).

# %%
Q_svd = np.linalg.svd(W2.T, full_matrices=False)[0]         # (D, K), orthonormal columns
Q_qr = np.linalg.qr(W2.T)[0]
print("|cos| between SVD basis and principal directions:\n", np.abs(Q_svd.T @ pca.components_.T).round(4))
assert max_principal_angle(Q_qr.T, Q_svd.T) < 1e-10        # QR and SVD: two bases of one plane

Xc = X - X.mean(axis=0)
small_cov = Q_svd.T @ (Xc.T @ Xc / N) @ Q_svd               # (K, K)
lam, V = np.linalg.eigh(small_cov)
lam, V = lam[::-1], V[:, ::-1]                               # decreasing variance
recovered = (Q_svd @ V).T                                    # (K, D), rows = principal directions
match = np.abs(np.sum(recovered * pca.components_, axis=1))  # |cos| per component, sign-free
print("variances in the plane:", lam, " PCA's:", pca.explained_variance_)
print("|cos(recovered_i, pca_i)|:", match)
assert np.allclose(lam, pca.explained_variance_, rtol=1e-6)
assert np.all(match > 1 - 1e-6)

# %% [markdown]
# ## Step 6: the same on 784-D images
#
# Nothing above depends on D = 3. `fit_and_compare` fits both models and
# reports the same three numbers. On high-dimensional data L-BFGS needs many
# more iterations: encoder weights along directions of tiny variance barely
# change the loss, so they settle slowly (see the docstring of
# `numpy_ae.experiments.pca_demo`). A synthetic low-rank-plus-noise data set
# (`make_low_rank_data`: a 16-D signal in 784 dimensions) shows the effect
# without a download; `tests/models/test_linear_autoencoder.py` also runs MNIST when
# `$NUMPY_AE_DATA` has it.

# %%
n_big = 200
X_big = make_low_rank_data(n_big, n_features=784, rank=16, random_state=rng)
# Measured here: 500 iterations reach 2.4e-4 rad and 8.8e-8 (fast mode asserts 1e-2 and 1e-4);
# the full run converges after about 880 iterations to 3.4e-6 rad and 1.4e-11.
_, _, big = fit_and_compare(X_big, 16, max_iter=500 if FAST else 1000, gtol=1e-10, random_state=rng)
print(f"784-D, K = 16: {big['iterations']} iterations in {big['seconds']:.1f} s; largest angle "
      f"{big['max_principal_angle']:.1e} rad; relative excess MSE {big['relative_excess']:.1e}")
assert big["max_principal_angle"] < (1e-2 if FAST else 1e-3)
assert big["relative_excess"] < (1e-4 if FAST else 1e-6)

# %% [markdown]
# **Summary.** A linear autoencoder trained to its optimum reconstructs exactly
# as well as PCA and its decoder spans PCA's subspace; it does not pick out the
# principal directions themselves, which a K x K eigenproblem on top of an
# SVD/QR of its weights recovers. Non-linear activations (Tutorial 1's sigmoid
# units) are what let an autoencoder do more than PCA.
