# %% [markdown]
# # Tutorial 1: the UFLDL sparse autoencoder, step by step
#
# This script follows the *Sparse Autoencoder* exercise of the UFLDL tutorial
# (Andrew Ng's CS294A notes) in order: sample patches of natural images, build
# the cost one term at a time with a gradient check after each term, train with
# L-BFGS, and look at the filters.
#
# Run it with `python tutorials/01_sparse_autoencoder.py` from the repository
# root, or open it as a notebook (the `# %%` lines are cells). With
# `NUMPY_AE_FAST=1` it runs on fewer patches and iterations in a few seconds.
# Figures go to `out/tutorials/01_sparse_autoencoder/` (or `$NUMPY_AE_OUT/...`).
#
# **Notation.** UFLDL writes examples as columns: $z^{(2)} = W^{(1)} x + b^{(1)}$.
# numpy_ae keeps examples as *rows*, $Z = X W + b$ with `X` of shape `(N, D)`, so
# UFLDL's $W^{(1)}$ (shape $H \times D$) is our `Dense.W.T` (shape `(D, H)`).
# Letters: N examples, D = 64 inputs, H = 25 hidden units.

# %%
import os
import pathlib

import numpy as np

from numpy_ae import SparseAutoencoder
from numpy_ae.data import load_images, sample_patches
from numpy_ae.check.gradcheck import check_model
from numpy_ae.nn.dense import Dense
from numpy_ae.nn.activations import Sigmoid, sigmoid
from numpy_ae.nn.losses import SquaredError
from numpy_ae.nn.sequential import Sequential
from numpy_ae.analysis.plotting import save_loss_curve, save_tiles
from numpy_ae.nn.penalties import KLSparsity

FAST = os.environ.get("NUMPY_AE_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NUMPY_AE_OUT", "out/tutorials")) / "01_sparse_autoencoder"
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)

# %% [markdown]
# ## Step 1: sample patches
#
# `load_images()` returns whitened natural images (UFLDL's `IMAGES.mat` if you
# pass its path; otherwise the photograph shipped with matplotlib, whitened with
# Olshausen & Field's filter $|f|\,e^{-(|f|/f_0)^4}$). `sample_patches` cuts
# random 8x8 patches and normalises them as `sampleIMAGES.m` does: remove each
# patch's mean, truncate to $\pm 3$ standard deviations, rescale to [0.1, 0.9]
# (the output layer is a sigmoid, whose values lie in (0, 1)). It gathers all
# patches with one fancy index, no Python loop.

# %%
images = load_images()
n_patches = 2000 if FAST else 10000
X = sample_patches(images, n=n_patches, size=8, random_state=rng)
print("patches:", X.shape, "range", X.min(), X.max())
assert X.shape == (n_patches, 64) and 0.1 <= X.min() and X.max() <= 0.9
save_tiles(X[:100], OUT / "patches.png", title="100 random normalised patches")

# %% [markdown]
# ## Step 2: the cost, one term at a time
#
# Gradient checking on the full problem would take 3,289 evaluations of a cost
# over 10,000 patches; as UFLDL suggests, check on a small model instead: here
# 10 patches, 64 inputs, 5 hidden units. `check_model` perturbs every entry of
# the flat parameter vector by $\pm\epsilon$ ($\epsilon = 10^{-4}$, UFLDL's
# value), compares the centred differences with the backward pass, and reports
# the norm-relative difference $\lVert g_{num} - g_{ana}\rVert / \lVert g_{num} + g_{ana}\rVert$
# for the whole vector and for each block (`dense0.W`, ...). UFLDL: "usually
# less than 1e-9".
#
# A word on $\epsilon$. The centred difference has a truncation error of order
# $\epsilon^2 f'''/6$: with $\epsilon = 10^{-4}$ the reconstruction-only cost
# below measures about 8e-10 on these patches, uncomfortably close to 1e-9
# although the gradient is exact. With $\epsilon = 10^{-5}$ truncation drops a
# hundredfold while rounding error (about $10^{-16} J/\epsilon$) stays near
# 1e-10, so we check with $10^{-5}$, as `python -m numpy_ae gradcheck` does.
# A wrong gradient shows up as 1e-3 or worse, whatever $\epsilon$.
#
# ### 2a. Reconstruction only
#
# $$J = \frac{1}{2N}\sum_{n=1}^{N} \lVert \hat x_n - x_n \rVert^2,\qquad
#   \hat X = \sigma(\sigma(X W_1 + b_1) W_2 + b_2)$$
#
# (`numpy_ae.nn.losses.SquaredError`; the layers are `Dense` and `Sigmoid` from
# `numpy_ae.nn.layer`, each with its backward pass right under its forward pass.)

# %%
EPS = 1e-5
X_small = X[:10]
print("at UFLDL's eps = 1e-4:", check_model(
    Sequential([Dense(64, 5), Sigmoid(), Dense(5, 64), Sigmoid()], SquaredError(), random_state=1),
    X_small, eps=1e-4).rel_diff)
net = Sequential([Dense(64, 5), Sigmoid(), Dense(5, 64), Sigmoid()], SquaredError(), random_state=1)

# The same cost written out by hand, to see that the layers compute the equation above:
W1, b1 = net.layers[0].W, net.layers[0].b
W2, b2 = net.layers[2].W, net.layers[2].b
X_hat = sigmoid(sigmoid(X_small @ W1 + b1) @ W2 + b2)
J_by_hand = 0.5 * np.sum((X_hat - X_small) ** 2) / len(X_small)
assert np.isclose(net.compute(X_small), J_by_hand, rtol=1e-12)

result = check_model(net, X_small, eps=EPS, name="reconstruction only")
print(result.report())
assert result.rel_diff < 1e-9

# %% [markdown]
# ### 2b. Plus weight decay
#
# $$J \mathrel{+}= \frac{\lambda}{2}\left(\lVert W_1\rVert^2 + \lVert W_2\rVert^2\right)$$
#
# on the weights only, not the biases, and *not* divided by N. All parameters
# live in one flat vector `theta` with the weights first
# (`[W1, W2, b1, b2]`, UFLDL's order), so weight decay is one slice:
# see `Sequential.compute` in `numpy_ae/nn/sequential.py`. The gradient gains
# $\lambda W$. A larger $\lambda$ than UFLDL's $10^{-4}$ makes the term visible in the check.

# %%
net.weight_decay = 1e-2
result = check_model(net, X_small, eps=EPS, name="plus weight decay")
print(result.report())
assert result.rel_diff < 1e-9

# %% [markdown]
# ### 2c. Plus the sparsity penalty
#
# With $\hat\rho_j = \frac{1}{N}\sum_n a_{nj}$ the mean activation of hidden
# unit $j$ over the batch,
#
# $$J \mathrel{+}= \beta \sum_{j=1}^{H} \mathrm{KL}(\rho\,\|\,\hat\rho_j)
#   = \beta \sum_j \rho\log\frac{\rho}{\hat\rho_j} + (1-\rho)\log\frac{1-\rho}{1-\hat\rho_j}.$$
#
# UFLDL's backpropagation rule adds to the hidden delta
# $\beta\left(-\frac{\rho}{\hat\rho_j} + \frac{1-\rho}{1-\hat\rho_j}\right)$ (divided by N
# here, since our cost is averaged over examples). In numpy_ae that rule is a
# layer, `numpy_ae.nn.penalties.KLSparsity`, inserted after the hidden
# sigmoid: the identity going forward (it records $\hat\rho$ and the penalty),
# and in backward it adds the term to the delta flowing through it.

# %%
rho, beta, lam = 0.01, 3.0, 1e-4
net = Sequential([Dense(64, 5), Sigmoid(), KLSparsity(rho, beta), Dense(5, 64), Sigmoid()],
                 SquaredError(), weight_decay=lam, random_state=1)
result = check_model(net, X_small, eps=EPS, name="full sparse autoencoder cost")
print(result.report())
assert result.rel_diff < 1e-9

# This is exactly the network SparseAutoencoder builds (same layers, same random initialisation):
ae_small = SparseAutoencoder(n_hidden=5, sparsity=rho, beta=beta, weight_decay=lam, random_state=1).initialize(64)
assert np.isclose(ae_small.loss_and_grad(ae_small.theta, X_small)[0], net.compute(X_small), rtol=1e-12)

# %% [markdown]
# ## Step 3: train with L-BFGS
#
# `SparseAutoencoder.fit(X)` hands `loss_and_grad(theta) -> (J, grad)` to
# `scipy.optimize.minimize(method="L-BFGS-B", jac=True)` (`numpy_ae.train.lbfgs.lbfgs`),
# UFLDL's choice of optimiser (minFunc), for 400 iterations. The defaults are
# UFLDL's: 25 hidden units, $\rho = 0.01$, $\lambda = 10^{-4}$, $\beta = 3$.
# As in scikit-learn, every hyperparameter, the training ones included
# (`method`, `max_iter`, `verbose`, ...), is a constructor argument, and
# `fit(X)` returns the fitted estimator.
#
# One detail that matters for speed: NumPy and SciPy each ship their own
# OpenBLAS with its own thread pool; during L-BFGS the two pools fight for the
# cores. `lbfgs` limits SciPy's pool to one thread while it runs.

# %%
iterations = 60 if FAST else 400
ae = SparseAutoencoder(n_hidden=25, sparsity=rho, beta=beta, weight_decay=lam, max_iter=iterations,
                       verbose=0 if FAST else 50, random_state=rng)
ae.fit(X)
mean_activation = ae.mean_activation(X)
print(f"cost {ae.cost_:.4f} after {ae.n_iter_} iterations ({ae.fit_seconds_:.1f} s); "
      f"mean hidden activation {mean_activation:.4f} (rho = {rho})")
assert ae.cost_history_[-1] < ae.cost_history_[0]
if not FAST:
    assert abs(mean_activation - rho) < 0.25 * rho
save_loss_curve({"cost": ae.cost_history_}, OUT / "cost.png", ylabel="J", xlabel="L-BFGS iteration", logy=True)

# %% [markdown]
# ## Step 4: the filters
#
# Each hidden unit $j$ responds most to the input of unit norm proportional to
# its weights, the $j$-th row of UFLDL's $W^{(1)}$ = the $j$-th column of our
# `W`. `save_tiles` shows one 8x8 tile per unit, each scaled to its own
# maximum as UFLDL's `display_network.m` does. With the full run you should
# see localised, oriented edges: the receptive fields of simple cells in V1.

# %%
filters = ae.network_.layers[0].W.T  # (25, 64): one row per hidden unit
path = save_tiles(filters, OUT / "filters.png", title="learned filters (rows of UFLDL's W1)")
print("wrote", path)
