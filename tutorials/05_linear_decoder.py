# %% [markdown]
# # Tutorial 5: linear decoders, on ZCA-whitened colour patches
#
# This script follows UFLDL's *Linear Decoders* exercise: a sparse autoencoder
# whose output layer is the identity instead of a sigmoid, trained on 8x8
# colour patches that have been ZCA-whitened. The features it learns are the
# ones UFLDL's next exercise (convolution and pooling) applies to whole images.
#
# Run it with `python tutorials/05_linear_decoder.py` from the repository root,
# or open it as a notebook (the `# %%` lines are cells). With `NUMPY_AE_FAST=1`
# it runs on few patches and iterations in a few seconds; the full run takes a
# few minutes. Figures go to `out/tutorials/05_linear_decoder/` (or
# `$NUMPY_AE_OUT/05_linear_decoder/`). The same experiment, as a command:
# `python -m numpy_ae linear-decoder`.
#
# **Notation.** UFLDL writes examples as columns, $z^{(2)} = W^{(1)} x + b^{(1)}$;
# numpy_ae keeps them as rows, $Z = X W + b$ with `X` of shape `(N, D)`, so
# UFLDL's $W^{(1)}$ is our `Dense.W.T`. Letters: N patches, D = 8 * 8 * 3 = 192
# inputs, H = 400 hidden units. The exercise's values: $\rho = 0.035$,
# $\lambda = 3 \cdot 10^{-3}$, $\beta = 5$, ZCA $\epsilon = 0.1$.

# %%
import os
import pathlib

import numpy as np

from numpy_ae import SparseAutoencoder, ZCAWhitening
from numpy_ae.data import load_color_images, sample_patches
from numpy_ae.experiments.linear_decoder import downsample_images, pixel_filters, reconstruction_error
from numpy_ae.check.gradcheck import check_model
from numpy_ae.check.registry import run_checks
from numpy_ae.nn.activations import sigmoid
from numpy_ae.analysis.plotting import save_image_grid, save_loss_curve, save_tiles

FAST = os.environ.get("NUMPY_AE_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NUMPY_AE_OUT", "out/tutorials")) / "05_linear_decoder"
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)

RHO, LAMBDA, BETA, EPSILON = 0.035, 3e-3, 5.0, 0.1

# %% [markdown]
# ## 1. Why a linear decoder
#
# The sparse autoencoder of tutorial 1 ends in a sigmoid,
# $\hat x = a^{(3)} = f(z^{(3)})$ with $f(z) = 1/(1 + e^{-z})$, so every output
# lies in (0, 1). That is why `sampleIMAGES.m` squeezed its patches into
# [0.1, 0.9]. Whitened data cannot be squeezed like that: whitening gives every
# direction (roughly) unit variance, so values are negative about half the time
# and can exceed 1. A sigmoid output can never reproduce them.
#
# The fix is to drop the output non-linearity: $\hat x = a^{(3)} = z^{(3)} = W^{(2)} a^{(2)} + b^{(2)}$.
# The hidden layer keeps its sigmoid (so the KL sparsity penalty still makes
# sense: it needs activations in (0, 1)). Only the output delta changes. For
# $J = \frac{1}{2N}\sum_n \lVert \hat x_n - x_n\rVert^2$, UFLDL's
#
# $$\delta^{(3)} = -(x - a^{(3)}) \odot f'(z^{(3)}) = (\hat x - x) \odot \hat x \odot (1 - \hat x)$$
#
# becomes, with $f(z) = z$ and $f'(z) = 1$,
#
# $$\delta^{(3)} = \hat x - x$$
#
# (each divided by N here, since our cost averages over patches). Everything
# before it, the hidden delta with its sparsity term, is unchanged. In
# numpy_ae the output activation is a layer, so the linear decoder is
# `SparseAutoencoder(..., decoder="linear")`: the network ends in `Identity`
# instead of `Sigmoid`, whose backward passes the delta through untouched.
#
# We can see the two deltas in the gradient of the output bias $b^{(2)}$, which
# is the sum over patches of $\delta^{(3)}$: with $\beta = \lambda = 0$ it is
# $\frac1N \sum_n (\hat x_n - x_n)$ for the linear decoder and
# $\frac1N \sum_n (\hat x_n - x_n) \odot \hat x_n \odot (1 - \hat x_n)$ for the sigmoid one.

# %%
X_small = rng.uniform(0.1, 0.9, size=(10, 12))   # 10 "patches" of 2x2x3, in [0, 1] so both decoders apply
for decoder in ("linear", "sigmoid"):
    ae = SparseAutoencoder(n_hidden=5, sparsity=RHO, beta=0.0, weight_decay=0.0, decoder=decoder,
                           random_state=1).initialize(12)
    net = ae.network_
    print(decoder, [type(layer).__name__ for layer in net.layers])
    _, grad = net.loss_and_grad(net.theta, X_small)
    X_hat = net.predict(X_small)
    delta3 = (X_hat - X_small) / len(X_small)
    if decoder == "sigmoid":
        delta3 = delta3 * X_hat * (1 - X_hat)
    np.testing.assert_allclose(grad[net.block("dense3.b").slice], delta3.sum(axis=0), rtol=1e-12, atol=1e-15)
print("the output delta is (x_hat - x)/N for the linear decoder, times x_hat (1 - x_hat) for the sigmoid")

# %% [markdown]
# ## 2. Gradient check of the linear-decoder cost
#
# The full cost, with weight decay and sparsity, on a small random problem
# (10 patches of 2x2x3, 5 hidden units), in float64. The inputs are standard
# normal, so they leave [0, 1] as whitened patches do. `check_model` compares
# centred differences with the backward pass, block by block; UFLDL asks for a
# norm-relative difference below 1e-9. Step $\epsilon = 10^{-5}$ as in
# `python -m numpy_ae gradcheck` (tutorial 1 explains why not $10^{-4}$).

# %%
ae_check = SparseAutoencoder(n_hidden=5, sparsity=RHO, beta=BETA, weight_decay=LAMBDA, decoder="linear",
                             dtype="float64", random_state=2).initialize(12)
X_check = rng.standard_normal((10, 12))
result = check_model(ae_check.network_, X_check, eps=1e-5)
print(result.report())
assert result.rel_diff < 1e-9, result.report()

# The same check is registered with the library's catalogue:
(registered,) = run_checks(["sparse_autoencoder_linear_decoder"])
print(registered.report())
assert registered.ok

# %% [markdown]
# ## 3. Colour patches and ZCA whitening
#
# UFLDL samples 100,000 patches from the 96 x 96 colour images of STL-10. We
# use the colour photograph shipped with matplotlib (`load_color_images()`:
# eight rotated and mirrored copies of a 512 x 512 crop, RGB in [0, 1]),
# shrunk 4x by averaging 4 x 4 pixel blocks. The shrinking puts the patches at
# STL-10's scale: an 8x8 patch of the full 512 x 512 picture is nearly flat, so
# its variance is almost all "uniform colour", and a third of the learned
# features come out as plain coloured squares (see
# `numpy_ae/experiments/linear_decoder.py` for the measurements). Patches are
# raw (`normalize=None`): rows of 192 values, pixel $(r, c)$ channel $k$ at
# column $(8r + c) \cdot 3 + k$.

# %%
n_patches = 2000 if FAST else 20000
images = downsample_images(load_color_images(), 4)
X = sample_patches(images, n=n_patches, size=8, random_state=rng, normalize=None)
print("images", images.shape, "-> patches", X.shape, "range", X.min(), X.max())
assert images.shape == (8, 128, 128, 3) and X.shape == (n_patches, 192)
assert 0.0 <= X.min() and X.max() <= 1.0
save_tiles(X[:100], OUT / "patches_raw.png", channels=3, normalize=None, title="100 raw colour patches")

# %% [markdown]
# UFLDL's preprocessing, in `linearDecoderExercise.m`:
#
# ```matlab
# meanPatch = mean(patches, 2);                  % the mean patch, over patches
# patches = bsxfun(@minus, patches, meanPatch);
# sigma = patches * patches' / numPatches;
# [u, s, v] = svd(sigma);
# ZCAWhite = u * diag(1 ./ sqrt(diag(s) + epsilon)) * u';
# patches = ZCAWhite * patches;
# ```
#
# `ZCAWhitening(epsilon=0.1)` is exactly this with rows as examples: `mean_` is
# `meanPatch`, `W_` is `ZCAWhite` (symmetric, so `ZCAWhite * x` is our
# `x @ W_`), and `transform(X)` is `(X - mean_) @ W_`. Note the mean is the
# mean *patch* (per feature, over patches), not each patch's own brightness as
# in tutorial 1. We check the recipe line by line:

# %%
zca = ZCAWhitening(epsilon=EPSILON).fit(X)
Xw = zca.transform(X)

Xc = X - X.mean(axis=0)
sigma = Xc.T @ Xc / n_patches
u, s, _ = np.linalg.svd(sigma)
ZCAWhite = u @ np.diag(1.0 / np.sqrt(s + EPSILON)) @ u.T
np.testing.assert_allclose(zca.W_, ZCAWhite, atol=1e-10)
np.testing.assert_allclose(Xw, Xc @ ZCAWhite, atol=1e-10)
print("whitened patches: range", Xw.min(), Xw.max())
assert Xw.min() < 0 and Xw.max() > 1        # outside what a sigmoid can output
save_tiles(Xw[:100], OUT / "patches_whitened.png", channels=3, title="the same patches, ZCA-whitened")

# %% [markdown]
# **What $\epsilon = 0.1$ does.** With $\Sigma = U \Lambda U^T$ the whitened
# covariance is $U\,\frac{\Lambda}{\Lambda + \epsilon}\,U^T$: direction $u_i$ gets
# variance $\lambda_i / (\lambda_i + \epsilon)$. Directions with
# $\lambda_i \gg \epsilon$ are whitened to unit variance; those with
# $\lambda_i \ll \epsilon$ (the fine, high-frequency detail of patches with
# pixels in [0, 1]) are damped instead. So $\epsilon$ is a low-pass filter: it
# keeps the autoencoder from spending units on pixel noise. Here only about a
# dozen of the 192 directions have variance above $\epsilon$:

# %%
lam = zca.explained_variance_
C = np.cov(Xw, rowvar=False, bias=True)
np.testing.assert_allclose(C, (zca.components_.T * (lam / (lam + EPSILON))) @ zca.components_, atol=1e-10)
print("largest eigenvalues of sigma:", np.round(lam[:8], 3))
print(f"{(lam > EPSILON).sum()} of 192 directions have variance > epsilon; "
      f"their whitened variances: {np.round((lam / (lam + EPSILON))[lam > EPSILON], 2)}")
assert np.all(lam[lam > 10 * EPSILON] / (lam[lam > 10 * EPSILON] + EPSILON) > 10 / 11)

# %% [markdown]
# And the sigmoid decoder refuses these inputs, with a message that points to
# the linear decoder (rather than training to a silent, useless optimum):

# %%
try:
    SparseAutoencoder(n_hidden=8, decoder="sigmoid", max_iter=1).fit(Xw[:100])
except ValueError as exc:
    print("ValueError:", exc)
    assert "linear decoder" in str(exc)
else:
    raise AssertionError("a sigmoid decoder should refuse whitened patches")

# %% [markdown]
# ## 4. Training
#
# 192-400-192 with UFLDL's hyperparameters and L-BFGS. UFLDL runs 400
# iterations on 100,000 patches; we use 20,000 patches (2,000 and 40
# iterations in fast mode) and float32, which keeps the full run to about two
# minutes on two cores. The gradient check above was float64: precision for
# checking, speed for training.

# %%
n_iter = 40 if FAST else 400
ae = SparseAutoencoder(n_hidden=400, sparsity=RHO, beta=BETA, weight_decay=LAMBDA, decoder="linear",
                       dtype="float32", max_iter=n_iter, verbose=0 if FAST else 50, random_state=rng)
ae.fit(Xw)
mean_act = ae.mean_activation(Xw)
rec = reconstruction_error(ae, Xw)
variance = 0.5 * np.sum(Xw ** 2) / n_patches   # the error of x_hat = 0, the mean of the whitened patches
print(f"cost {ae.cost_:.4f} after {ae.n_iter_} iterations ({ae.fit_seconds_:.1f} s); "
      f"mean activation {mean_act:.4f} (rho {RHO}); reconstruction error {rec:.3f} "
      f"= {rec / variance:.2f} of the variance")
save_loss_curve({"L-BFGS": ae.cost_history_}, OUT / "cost.png", xlabel="iteration", logy=True,
                title="linear decoder: cost per L-BFGS iteration")
assert ae.cost_ < ae.cost_history_[0]
assert abs(mean_act - RHO) < 0.5 * RHO          # the KL penalty (beta = 5) holds the mean near rho
assert rec < 0.5 * variance                     # measured: 0.23 in fast mode, 0.14 in the full run

# %% [markdown]
# Reconstructions, mapped back to pixels with the inverse whitening
# $x = \hat x_{\rm white}\, W_{\rm ZCA}^{-1} + \bar x$: they keep the
# colours and the main edges and lose the finest detail, which $\epsilon$
# damped and the sparse code does not spend units on.

# %%
X_rec = zca.inverse_transform(ae.reconstruct(Xw[:12]).astype(np.float64))
save_image_grid([("patch", X[:12]), ("reconstruction", X_rec)], OUT / "reconstructions.png",
                image_shape=(8, 8, 3), title="patches and their reconstructions (unwhitened)")

# %% [markdown]
# ## 5. The features
#
# Hidden unit $j$ computes $a_j = f\big((x - \bar x)\, W_{\rm ZCA}\, w_j + b_j\big)$
# on a raw patch $x$ ($w_j$ the $j$-th column of our first `W`). So its filter
# in pixel space is $W_{\rm ZCA} w_j$, UFLDL's `W * ZCAWhite` (`displayColorNetwork((W*ZCAWhite)')`).
# We check that claim on raw patches, then draw the filters as colour tiles:
# each tile is scaled by its own largest absolute value, one scale for its
# three channels, and mid-grey is 0.

# %%
F = pixel_filters(ae, zca)                                  # (H, D)
np.testing.assert_allclose(F, (zca.W_ @ ae.network_.layers[0].W.astype(np.float64)).T)
b = ae.network_.layers[0].b.astype(np.float64)
np.testing.assert_allclose(ae.transform(Xw[:50]), sigmoid((X[:50] - zca.mean_) @ F.T + b), atol=1e-4)  # float32
path = save_tiles(F, OUT / "filters.png", channels=3,
                  title=f"{ae.n_hidden} features (W * ZCAWhite), {n_patches} patches, {ae.n_iter_} iterations")
print("wrote", path)
assert path.is_file()

# %% [markdown]
# What to expect after the full run (`filters.png`): as in UFLDL's figure,
# mostly small oriented edge detectors, grey (light-dark) ones and colour ones
# (blue against orange, green against magenta), some colour blobs, and a few
# smooth colour gradients and uniform colour tiles (this photograph has large
# flat areas of a few colours). In fast mode the features are still mostly
# noise: 40 iterations are not enough.
