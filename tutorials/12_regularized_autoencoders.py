# %% [markdown]
# # Tutorial 12: regularised autoencoders (contractive, k-sparse, winner-take-all, L1, KL)
#
# An autoencoder with as many code units as it likes can copy its input; what
# makes it learn something useful is a constraint at the code. Hands-On ML's
# "other autoencoders" and the papers they come from each add one, and here each
# is a layer you insert after the code activation (`numpy_ae/nn/penalties.py`),
# combined freely by one estimator, `RegularizedAutoencoder`
# (`numpy_ae/models/composable.py`):
#
# 1. the contractive penalty $\lambda \lVert J_f(x)\rVert_F^2$ (Rifai et al. 2011) in closed
#    form, checked against finite differences of `transform`, and why its
#    gradient has a factor 2 that a gradient check catches when it is missing;
# 2. the k-sparse code (Makhzani & Frey 2013): the k largest units per example;
# 3. lifetime winner-take-all (Makhzani & Frey 2015): each unit keeps its top 5%
#    over the minibatch, and spatial WTA for feature maps;
# 4. every one of them gradient-checked, alone and combined;
# 5. one table: plain, denoising, contractive, KL-sparse (MSE and cross-entropy),
#    L1, k-sparse and FC-WTA autoencoders of one size on one data set (the
#    `python -m numpy_ae regularized` command), and their filters.
#
# Run it with `python tutorials/12_regularized_autoencoders.py` from the
# repository root. `NUMPY_AE_FAST=1` trains tiny models for a few epochs
# (seconds); figures go to `out/tutorials/12_regularized_autoencoders/` (or
# `$NUMPY_AE_OUT/...`).
#
# **Notation.** Rows are examples: `X (N, D)`, a code of H units,
# $h = g(z)$, $z = xW + b$ with `W (D, H)`.

# %%
import os
import pathlib

import numpy as np

from numpy_ae import RegularizedAutoencoder
from numpy_ae.data import find_mnist
from numpy_ae.experiments.regularized import jacobian_frobenius_norms, run
from numpy_ae.check.gradcheck import check_model
from numpy_ae.check.registry import run_checks
from numpy_ae.nn.selection import KSparse, LifetimeWTA, SpatialWTA
from numpy_ae.nn.penalties import contractive_penalty

FAST = os.environ.get("NUMPY_AE_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NUMPY_AE_OUT", "out/tutorials")) / "12_regularized_autoencoders"
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The contractive penalty
#
# For one encoder layer $h = g(xW + b)$ the Jacobian is
# $J_f(x) = \operatorname{diag}(g'(z))\,W^\top$ (shape `(H, D)`), so its squared
# Frobenius norm needs no derivative at all beyond $g'$:
#
# $$\lVert J_f(x)\rVert_F^2 = \sum_j g'(z_j)^2 \sum_i W_{ij}^2, \qquad
#   g'(z) = h(1-h) \text{ (sigmoid)}, \quad 1 - h^2 \text{ (tanh)}.$$
#
# Train a small contractive autoencoder on random data and compare the closed
# form with central differences of `transform` along every input.

# %%
X_toy = rng.uniform(size=(200, 12))
cae = RegularizedAutoencoder((6,), activation="sigmoid", loss="cross_entropy", contraction=0.1, epochs=3,
                             batch_size=50, random_state=0).fit(X_toy)
dense = cae.encoder_layers[0]
closed = contractive_penalty(cae.transform(X_toy[:5]), dense.W, "sigmoid")
numeric = jacobian_frobenius_norms(cae.transform, X_toy[:5]) ** 2
print("||J||_F^2, closed form:     ", np.round(closed, 6))
print("||J||_F^2, finite differences:", np.round(numeric, 6))
assert np.allclose(closed, numeric, rtol=1e-6)

# %% [markdown]
# The penalty's gradient with respect to $W$ is
# $\frac{2\lambda}{N} W_{ij}\sum_n g'(z_{nj})^2$ (the derivative of a square) and it
# is *added* to the `dW` of the encoder's `Dense` layer, exactly as tied weights
# add their share. Drop the 2 and a gradient check names the block: below we
# patch the layer's backward to halve its `dW` contribution and check the model.

# %%
net = cae.network_
X_small = X_toy[:8]
report = check_model(net, X_small, name="contractive autoencoder")
print(report.report())
contractive = next(layer for layer in net.layers if type(layer).__name__ == "Contractive")
original_backward = contractive.backward


def halved_backward(dA, layer=contractive):
    before = layer.dense.dW.copy()
    out = original_backward(dA)
    layer.dense.dW -= 0.5 * (layer.dense.dW - before)  # keep only half of what the penalty added
    return out


contractive.backward = halved_backward
broken = check_model(net, X_small, name="without the factor 2")
contractive.backward = original_backward
print(broken.report())
assert report.ok and not broken.ok and broken.wrong_blocks == [f"{dense.name}.W"], broken.wrong_blocks

# %% [markdown]
# ## 2. k-sparse codes
#
# In training each example keeps its $k$ largest code units and the rest are
# zeroed; the gradient flows only through that support. At encoding time the
# paper keeps $\alpha k$ units ($\alpha \ge 1$).

# %%
A = np.array([[0.9, -0.2, 0.4, 0.1, 0.7],
              [0.05, 0.3, -0.6, 0.8, 0.2]])
ks = KSparse(k=2, alpha=1.5)
print("training (k = 2):\n", ks.forward(A.copy(), training=True))
print("inference (alpha k = 3):\n", ks.forward(A.copy(), training=False))

# %% [markdown]
# ## 3. Winner-take-all
#
# Lifetime sparsity works across the minibatch instead: each unit (column)
# keeps its $\lceil sN \rceil$ largest activities, so every unit wins for some
# examples and none dies. Spatial sparsity, for convolutional feature maps,
# keeps each map's single largest activity per example.

# %%
B = rng.uniform(size=(20, 4))
kept = LifetimeWTA(sparsity=0.1).forward(B, training=True)
print("kept per unit (20 examples, s = 10%):", (kept != 0).sum(axis=0))
maps = rng.uniform(size=(2, 3, 4, 4))
print("non-zeros per map after spatial WTA:", (SpatialWTA().forward(maps, training=True) != 0).sum(axis=(2, 3)))

# %% [markdown]
# ## 4. Every regulariser, gradient-checked
#
# The library registers a gradient check for each layer and for combinations
# (KL sparsity with cross-entropy, contractive with weight decay, everything at
# once); `python -m numpy_ae gradcheck` runs them all. The selection-type
# layers (k-sparse, WTA) are checked away from ties, where their masks do not
# change within the finite-difference step.

# %%
names = ["layer_l1_activity", "contractive_sigmoid", "contractive_tanh_weight_decay", "layer_k_sparse",
         "layer_lifetime_wta", "layer_spatial_wta", "conv_wta_model", "regularized_kl_cross_entropy",
         "regularized_contractive_weight_decay", "regularized_everything"]
for result in run_checks(names):
    print(f"{result.name:<40} rel_diff {result.rel_diff:.1e}  {'ok' if result.ok else 'FAILED'}")
    assert result.ok, result.report()

# %% [markdown]
# ## 5. The comparison
#
# Eight autoencoders of one size on MNIST (or Fashion-MNIST), same Adam
# settings and seed, differing only in the code regulariser. The columns:
# reconstruction MSE on the test set, the code's mean activation and share of
# active entries, the mean Frobenius norm of the encoder's Jacobian, and the
# accuracy of a linear classifier (`SoftmaxRegression`) on the codes, beside
# raw pixels. Read `numpy_ae/experiments/regularized.py` for every definition.

# %%
dataset = None
for name in ("mnist", "fashion-mnist"):
    try:
        find_mnist(name, download=False)
        dataset = name
        break
    except FileNotFoundError:
        pass
if dataset is None:
    print("NOTE: neither MNIST nor Fashion-MNIST is on disk (set NUMPY_AE_DATA); skipping the comparison")
else:
    settings = dict(hidden=48, k=8, epochs=2, n_train=1000, n_test=300, jacobian_examples=5, classifier_iter=50) \
        if FAST else dict(hidden=256, k=25, epochs=10, n_train=10000)
    models, result = run(dataset=dataset, out=str(OUT), verbose=False, download=False, **settings)
    print(f"filters of every model: {OUT / 'filters.png'}")

# %% [markdown]
# What to look for: the contractive model's Jacobian norm is the smallest of the
# sigmoid models (that is what it pays for); the k-sparse code has exactly the
# share of active units it was told to; FC-WTA's filters look like whole-digit
# templates here (the paper's 2,000 units learn strokes) and its codes classify
# well although each unit fires for few images. Published
# figures for orientation (full MNIST, bigger models, longer training; this run
# does not claim them): FC-WTA 1.2% test error with 2,000 units, k-sparse about
# 1.35% with 1,000 units and k = 25, CAE 1.14%.
#
# Hands-On ML says a cross-entropy loss makes its KL-sparse autoencoder
# converge faster than the MSE; `benchmarks/bench_kl_loss.py` measures epochs
# and seconds to a test MSE for both over several seeds.
