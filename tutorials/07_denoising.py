# %% [markdown]
# # Tutorial 7: denoising autoencoders and stacking them
#
# This script follows the deeplearning.net tutorials *Denoising Autoencoders
# (dA)* and *Stacked Denoising Autoencoders (SdA)* (after Vincent, Larochelle,
# Bengio & Manzagol, 2008): corrupt the input, ask the network to reconstruct
# the CLEAN input, look at the filters this produces, measure how well it
# removes noise, then stack denoising autoencoders into a deep classifier.
#
# Run it with `python tutorials/07_denoising.py` from the repository root, or
# open it as a notebook (the `# %%` lines are cells). The full run takes about
# five minutes on a 2-core machine; with `NUMPY_AE_FAST=1` it trains on 2,000
# images for a few epochs and finishes in well under a minute (the figures are
# then much less clean). Figures go to `out/tutorials/07_denoising/` (or
# `$NUMPY_AE_OUT/07_denoising/`). The dA part as a command:
# `python -m numpy_ae denoising` (`numpy_ae/experiments/denoising.py`).
#
# **Notation.** Rows are examples: `X` has shape `(N, D)`, a code `h` has `H`
# units, the encoder is $h = \sigma(\tilde x W + b)$ with `W` of shape `(D, H)`.
# The deeplearning.net code writes the same (it also keeps examples as rows).
# Letters: N examples, D = 784 pixels, H hidden units, K = 10 classes.
#
# **Data.** MNIST is found by `numpy_ae.data.find_mnist`
# (`$NUMPY_AE_DATA/mnist`, then `~/.cache/numpy_ae/mnist`; in full mode it is
# downloaded there if missing). In CI this is a 10k subset: 8,000 training and
# 2,000 test images. If MNIST cannot be found, the tutorial says so loudly and
# runs on a *synthetic stand-in*, font-drawn digits
# (`numpy_ae.experiments.self_taught.glyph_digits`): every step still runs, but
# the numbers and pictures then say nothing about MNIST, and the assertions
# about what the filters look like are skipped.

# %%
import copy
import os
import pathlib
import time

import numpy as np

from numpy_ae import DenoisingAutoencoder, EncoderClassifier, pretrain_layerwise
from numpy_ae.data import describe_dataset, find_mnist, load_mnist
from numpy_ae.experiments.denoising import (corrupt, denoising_errors, filter_locality, one_blas_thread,
                                            save_filter_panels)
from numpy_ae.experiments.self_taught import glyph_digits
from numpy_ae.check.gradcheck import check_model
from numpy_ae.analysis.plotting import save_image_grid
from numpy_ae.nn.noise import GaussianNoise, MaskingNoise, SaltAndPepperNoise

FAST = os.environ.get("NUMPY_AE_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NUMPY_AE_OUT", "out/tutorials")) / "07_denoising"
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)
START = time.perf_counter()

try:
    path = find_mnist("mnist", download=not FAST)  # fast mode never waits for a download
    X_train, y_train, X_test, y_test = load_mnist("mnist", data_home=path, dtype=np.float32)
    print(describe_dataset("mnist", X_train, X_test, path))
    DATA = "MNIST"
except FileNotFoundError as exc:
    print("=" * 78)
    print("MNIST NOT FOUND: set NUMPY_AE_DATA to a folder holding mnist/ (see numpy_ae.data.find_mnist).")
    print("Running on a SYNTHETIC STAND-IN instead: font-drawn digits, not handwriting. The code runs")
    print("as on MNIST; the losses, filters and accuracies below are NOT MNIST results.")
    print("(" + str(exc).splitlines()[0] + ")")
    print("=" * 78)
    X_all, y_all = glyph_digits(3000 if FAST else 10000, random_state=rng)
    n_tr = len(X_all) * 4 // 5
    X_train, y_train = X_all[:n_tr].astype(np.float32), y_all[:n_tr]
    X_test, y_test = X_all[n_tr:].astype(np.float32), y_all[n_tr:]
    DATA = "synthetic glyph digits"

N_TRAIN = 2000 if FAST else 10000   # the first N training images (the CI subset has 8,000)
EPOCHS = 5 if FAST else 15          # the dA tutorial: 15 epochs
HIDDEN = 100 if FAST else 500       # the dA tutorial: 500 hidden units
X = X_train[:N_TRAIN]
print(f"{DATA}: training on {len(X)} images, testing on {len(X_test)}; pixels in [{X.min():.0f}, {X.max():.0f}]")

# %% [markdown]
# ## 1. Three ways to corrupt an image
#
# A corruption process $q(\tilde x \mid x)$ draws a noisy version of each
# input. `numpy_ae.nn.penalties` has three, each a *layer* that sits before the
# first `Dense` layer: active in training passes, the identity at inference
# (`training=False`). The level $\nu$ is always a number in $[0, 1)$.
#
# | process | $\tilde x$ | $\nu$ is | class |
# |---|---|---|---|
# | additive Gaussian | $\tilde x = x + \nu\,\varepsilon,\ \varepsilon \sim \mathcal N(0, I)$ | the standard deviation | `GaussianNoise` |
# | masking | $\tilde x = m \odot x,\ m_i \sim \mathrm{Bernoulli}(1-\nu)$ | the probability of zeroing a pixel | `MaskingNoise` |
# | salt-and-pepper | $\tilde x_i = s_i$ with probability $\nu$ ($s_i = 0$ or $1$, equally likely), else $x_i$ | the probability of replacing a pixel | `SaltAndPepperNoise` |
#
# Masking is what the deeplearning.net tutorial calls "corruption level":
# `theano_rng.binomial(n=1, p=1 - corruption_level) * input`. It is not
# rescaled by $1/(1-\nu)$ as dropout would be. The backward passes follow from
# the table: Gaussian passes the gradient through unchanged, masking multiplies
# it by $m$, salt-and-pepper zeroes it where a pixel was replaced (`backward`
# of each class, right under its `forward`).
#
# Each layer draws from its own `numpy.random.Generator`, spawned from the
# model's (`Corruption.init_params`), so the noise never shifts the
# initialisation and a seeded model is reproducible.

# %%
LEVEL = 0.3
clean = X_test[:8]
rows = [("clean", clean)]
for label, cls in (("Gaussian", GaussianNoise), ("masking", MaskingNoise), ("salt-and-pepper", SaltAndPepperNoise)):
    layer = cls(LEVEL)
    layer.init_params(np.random.default_rng(1))
    assert layer.forward(clean, training=False) is clean  # inference: the identity
    rows.append((label, np.clip(layer.forward(clean, training=True), 0, 1)))  # Gaussian shown clipped
save_image_grid(rows, OUT / "corruptions.png", image_shape=(28, 28), title=f"three corruption processes at level {LEVEL}")

# Check the processes on many pixels: what fraction each changes, and by how much.
big = X_test[:1000].astype(np.float64)          # 784,000 pixels
ink = big > 0                                   # masking can only change pixels that are not already 0
masked = corrupt(big, "masking", LEVEL, random_state=2)
salted = corrupt(big, "salt-pepper", LEVEL, random_state=3)
gauss = corrupt(big, "gaussian", LEVEL, random_state=4)
frac_masked = np.mean(masked[ink] == 0)
frac_replaced = np.mean(np.isin(salted, (0.0, 1.0)) & ~np.isin(big, (0.0, 1.0)))  / np.mean(~np.isin(big, (0.0, 1.0)))
print(f"masking zeroed {frac_masked:.4f} of the inked pixels; salt-and-pepper replaced {frac_replaced:.4f} of the "
      f"grey pixels; Gaussian noise std {np.std(gauss - big):.4f}  (all should be {LEVEL})")
# Each is an average of Bernoulli or Gaussian draws over more than 100,000 pixels: a standard
# error below 0.0015, so 0.01 is over six standard errors.
assert abs(frac_masked - LEVEL) < 0.01 and abs(frac_replaced - LEVEL) < 0.01 and abs(np.std(gauss - big) - LEVEL) < 0.01

# %% [markdown]
# ## 2. Why the loss compares with the clean input
#
# The dA (`numpy_ae.models.stacked.DenoisingAutoencoder`: tied weights, sigmoid
# units, cross-entropy) computes
#
# $$\tilde x \sim q(\tilde x\mid x),\qquad h = \sigma(\tilde x W + b),\qquad
#   \hat x = \sigma(h W^\top + b'),$$
# $$J = -\frac1N\sum_{n=1}^{N}\sum_{d=1}^{D} \bigl[x_{nd}\log\hat x_{nd} + (1-x_{nd})\log(1-\hat x_{nd})\bigr],$$
#
# (`MaskingNoise`, `Dense`, `Sigmoid`, `TiedDense` in `numpy_ae/nn/layer.py`,
# `BinaryCrossEntropy` in `numpy_ae/nn/losses.py`, summed over pixels and averaged
# over examples like the tutorial's `T.mean(T.sum(L, axis=1))`). The target
# in $J$ is $x$, not $\tilde x$. If it were $\tilde x$, copying the input
# would be a perfect answer, and an autoencoder with enough hidden units
# could learn that copy and nothing else. Asked for $x$, the network must
# *guess* each masked pixel from the pixels left: it has to learn how the
# pixels of a digit depend on each other, which is what we want its hidden
# units to capture. Vincent et al. read it geometrically: noisy points lie off
# the low-dimensional region where the data live, and the dA learns to map
# them back onto it.
#
# In the code, `Sequential.compute(X)` passes `X` both into the network (where
# the corruption layer corrupts it) and to the loss as the target `T = X`, and
# `BinaryCrossEntropy.backward` returns $\partial J/\partial Z = (\sigma(Z) - x)/N$
# with the clean $x$. Check it on a small model:

# %%
small = DenoisingAutoencoder(hidden_layer_sizes=(20,), corruption_level=LEVEL, random_state=0).initialize(784)
net = small.network_
X16 = X[:16].astype(np.float64)
net.layers[0].freeze_noise()                   # the same mask for every pass below
J = net.compute(X16)
logits = net.forward(X16, training=True)       # the reconstruction of the noisy input, as logits
noisy16 = net.layers[0].forward(X16, training=True)
J_clean, J_noisy = net.loss.forward(logits, X16), net.loss.forward(logits, noisy16)
print(f"J = {J:.4f}; cross-entropy with the clean target {J_clean:.4f}, with the noisy input as target {J_noisy:.4f}")
assert np.isclose(J, J_clean, rtol=1e-12) and abs(J - J_noisy) > 1e-3
# The error signal at the output, dJ/dZ = (sigmoid(Z) - x) / N, uses the clean x: at a masked
# pixel it pulls the reconstruction towards the ink that was removed, not towards the 0 that was seen.
net.loss.forward(logits, X16)
dZ = net.loss.backward()
assert np.allclose(dZ, (1 / (1 + np.exp(-logits)) - X16) / len(X16), rtol=1e-12, atol=1e-15)

# %% [markdown]
# ## 3. Gradient checks with the noise held fixed
#
# A numerical gradient compares $J(\theta + \epsilon e_i)$ with
# $J(\theta - \epsilon e_i)$ for every parameter. If each evaluation drew new
# noise, those two numbers would differ mostly because of the noise, and the
# "gradient" would be meaningless. `Corruption.freeze_noise()` keeps the draw
# of the next training pass for all later passes, so `check_model`
# (`numpy_ae/check/gradcheck.py`) sees one fixed, smooth function of $\theta$. We
# check each corruption in a small dA (12 inputs, 5 hidden units, float64)
# with $\epsilon = 10^{-5}$ (see Tutorial 1 for why not UFLDL's $10^{-4}$)
# against UFLDL's bound, a norm-relative difference below 1e-9. Then once
# WITHOUT freezing: the checker evaluates $J$ twice at the same $\theta$ first,
# and refuses a function that changes (no verdict about a gradient could mean
# anything then).

# %%
EPS = 1e-5
X_check = np.random.default_rng(5).uniform(0.0, 1.0, (10, 12))
for kind in ("gaussian", "masking", "salt-pepper"):
    dae = DenoisingAutoencoder(hidden_layer_sizes=(5,), corruption=kind, corruption_level=LEVEL,
                               random_state=6).initialize(12)
    dae.network_.layers[0].freeze_noise()
    result = check_model(dae.network_, X_check, eps=EPS, name=f"dA with {kind} noise (frozen)")
    print(result.report())
    assert result.rel_diff < 1e-9

dae = DenoisingAutoencoder(hidden_layer_sizes=(5,), corruption="masking", corruption_level=LEVEL,
                           random_state=6).initialize(12)
try:
    check_model(dae.network_, X_check, eps=EPS, name="dA with masking noise, NOT frozen")
    raise AssertionError("the checker should have refused unfrozen noise")
except ValueError as refusal:
    print(f"NOT frozen: {refusal}")
# Fresh masks change J by O(1) between two evaluations; divided by 2 eps = 2e-5 the
# "numerical gradient" would be noise many orders of magnitude larger than the true one.

# %% [markdown]
# ## 4. The dA's filters: 0% against 30% corruption
#
# Now the deeplearning.net experiment: a 784-500 dA trained with plain
# minibatch SGD, learning rate 0.1, minibatches of 20, 15 epochs (the
# defaults of `DenoisingAutoencoder`, spelled out below), once with
# 0% and once with 30% masking noise. Both start from the same weights and
# see the minibatches in the same order (one seed): only the noise differs.
# The tutorial trains on 50,000 images (37,500 updates); we use the first
# 10,000 training images (8,000 with the CI subset: 6,000 updates), about
# half a minute per model. `one_blas_thread()` limits NumPy's BLAS to one
# thread: on a busy 2-core machine an epoch took 1.5-3.6 s that way and
# 20-69 s with OpenBLAS's default two threads (they spin waiting for a core).
#
# Each hidden unit's weight vector, a column of `W` reshaped to 28x28, is the
# pattern it responds to. `save_filter_panels` tiles the first 100 of them
# (mid-grey = 0, each tile scaled to its largest weight) for both models side
# by side. To put a number on what we see, `filter_locality` measures the
# share of a filter's squared weights within 3 pixels of its largest weight
# (white noise: about 0.05; a blob or short stroke: 0.3 and more).

# %%
SGD = dict(method="sgd", learning_rate=0.1, momentum=0.0, batch_size=20, epochs=EPOCHS)
dAs = {}
for level in (0.0, LEVEL):
    dAs[level] = DenoisingAutoencoder(hidden_layer_sizes=(HIDDEN,), corruption="masking", corruption_level=level,
                                      dtype="float32", **SGD, verbose=not FAST, random_state=0)
    with one_blas_thread():
        dAs[level].fit(X)
    print(f"{level:.0%} corruption: training objective {dAs[level].cost_:.2f} after {EPOCHS} epochs "
          f"({dAs[level].fit_seconds_:.1f} s); clean test cross-entropy {dAs[level].network_.evaluate(X_test):.2f}")
    assert dAs[level].history_["loss"][-1] < dAs[level].history_["loss"][0]

save_filter_panels([(f"{level:.0%} corruption", dAs[level].encoder_dense()[0].W.T) for level in dAs],
                   OUT / "filters.png", title=f"first 100 of {HIDDEN} dA filters, {len(X)} {DATA} images")
locality = {level: filter_locality(dAs[level].encoder_dense()[0].W) for level in dAs}
for level, loc in locality.items():
    print(f"{level:.0%} corruption: median locality {np.median(loc):.3f}, "
          f"localised filters (locality > 0.3): {np.mean(loc > 0.3):.0%}")
if DATA == "MNIST" and not FAST:
    # Measured on the CI subset: 40% of the 30% dA's filters localised, 4% of the 0% one's.
    assert np.mean(locality[LEVEL] > 0.3) > 0.2 and np.mean(locality[LEVEL] > 0.3) > 3 * np.mean(locality[0.0] > 0.3)

# %% [markdown]
# **What the filters look like** (full run on the CI subset). At 0% the
# filters are noise-like: speckled patterns of small positive and negative
# blobs spread over the whole centre of the frame where digits are drawn,
# with no single stroke standing out. At 30% a large share of them (about 40%
# by the locality measure, against 4% at 0%) have become *localised*: a single
# dark or bright spot, a short bar or a curved piece of stroke on a flat grey
# background, i.e. detectors of ink at one place. The rest still look
# noise-like: with 6,000 updates instead of the tutorial's 37,500, training
# has not finished shaping them (with 40 epochs the share grows). The
# tutorial's figures show the same contrast with cleaner strokes.
#
# Why noise produces local detectors: to fill in a masked pixel the unit must
# rely on the pixels *near* it, which are strongly correlated with it; a unit
# spreading its weights thinly over the whole image learns nothing a
# corrupted copy cannot undo.

# %% [markdown]
# ## 5. How well do they denoise?
#
# Corrupt the test images with the process a dA was trained on (same level,
# a separate seed: `corrupt`, which runs the same layer) and compare
# $\frac{1}{ND}\sum(\tilde x - x)^2$ (how noisy the input is) with
# $\frac{1}{ND}\sum(\hat x(\tilde x) - x)^2$ (how far the dA's reconstruction
# is from the clean image: `denoising_errors`). The 0% model, an ordinary
# autoencoder that never saw noise, is the baseline: it reconstructs what it
# is given, noise included, as well as it can.

# %%
models = {"masking": dAs[LEVEL]}
for kind in ("gaussian", "salt-pepper"):
    models[kind] = DenoisingAutoencoder(hidden_layer_sizes=(HIDDEN,), corruption=kind, corruption_level=LEVEL,
                                        dtype="float32", **SGD, random_state=0)
    with one_blas_thread():
        models[kind].fit(X)
    print(f"{kind}: trained in {models[kind].fit_seconds_:.1f} s")

X_test64 = X_test.astype(np.float64)
grid = [("clean", X_test[:10])]
errors = {}
print(f"{'noise':<12} {'noisy':>8} {'denoised':>9} {'0% model':>9}   (mean squared error per pixel, test set)")
for seed, (kind, model) in enumerate(models.items()):
    noisy = corrupt(X_test, kind, LEVEL, random_state=100 + seed)
    noisy_mse, denoised_mse = denoising_errors(model, X_test64, noisy)
    _, plain_mse = denoising_errors(dAs[0.0], X_test64, noisy)
    errors[kind] = (noisy_mse, denoised_mse, plain_mse)
    print(f"{kind:<12} {noisy_mse:8.4f} {denoised_mse:9.4f} {plain_mse:9.4f}")
    grid += [(f"{kind}: noisy", np.clip(noisy[:10], 0, 1)), ("denoised", model.reconstruct(noisy[:10]))]
    assert denoised_mse < noisy_mse      # every dA removes part of the noise it was trained on
    if DATA == "MNIST" and not FAST:
        assert denoised_mse < plain_mse  # and does better than the autoencoder that never saw noise
save_image_grid(grid, OUT / "denoising.png", image_shape=(28, 28),
                title=f"{DATA} test images: corrupted at level {LEVEL} and denoised (noisy rows clipped to [0, 1])")

# %% [markdown]
# Masking and salt-and-pepper destroy pixels; the dA restores the missing ink
# and removes the stray white dots from the black background. Gaussian noise
# is spread over every pixel; the dA's output is a smooth, slightly blurred
# digit. The 0% model copies salt-and-pepper dots into its output (it was
# never asked to remove them) and cannot refill masked strokes as well.

# %% [markdown]
# ## 6. A stacked denoising autoencoder, fine-tuned as a classifier
#
# The SdA tutorial stacks dAs greedily: train the first dA on the images,
# then a second dA on the first one's clean codes $h^{(1)} = \sigma(x W_1 + b_1)$
# (no noise when computing the codes; the second dA adds its own noise to
# them), and so on (`numpy_ae.models.stacked.pretrain_layerwise`, Hands-On ML's
# method (a)). Then the encoders, without their noise layers
# (`numpy_ae.models.classifier.encoder_layers_of`), get a softmax layer on top,
#
# $$p(y = k \mid x) = \mathrm{softmax}\bigl(\sigma(\sigma(x W_1 + b_1) W_2 + b_2)\, V + c\bigr)_k,\qquad
#   J = -\frac1N\sum_n \log p(y_n \mid x_n) + \frac{\lambda}{2}\sum \lVert W\rVert^2,$$
#
# (`EncoderClassifier(encoder=parts)`, `SoftmaxCrossEntropy`), and every
# weight is trained on the labels. We use 784-500-500 with masking levels 0.1 and 0.2 (the SdA
# tutorial's first two layers; it uses three of 1,000 units), pretraining as
# above. "Before fine-tuning" is the softmax layer alone trained (L-BFGS,
# $\lambda = 10^{-4}$) on the fixed codes of the second layer
# (`fine_tune=False`); fine-tuning then starts from it (a copy of it with
# `fine_tune=True, warm_start=True`: `warm_start` skips the softmax stage) and
# trains every weight with Adam, learning rate
# $10^{-4}$, minibatches of 100, 10 epochs. (With Adam's usual $10^{-3}$ the
# first steps undo part of the pretraining: the test accuracy after 20
# epochs drifted between 0.935 and 0.953 with the weight decay; at $10^{-4}$,
# or with SGD at 0.1 and momentum 0.9, it settles at 0.950-0.955.)

# %%
HIDDEN_SIZES = (HIDDEN, HIDDEN)
LEVELS = [0.1, 0.2]
y = y_train[:N_TRAIN]
t0 = time.perf_counter()
with one_blas_thread():
    parts = pretrain_layerwise(
        X, HIDDEN_SIZES,
        lambda n_in, n_out, k: DenoisingAutoencoder(hidden_layer_sizes=(n_out,), corruption_level=LEVELS[k],
                                                    dtype="float32", **SGD, random_state=k),
        verbose=1)
print(f"pretraining {'-'.join(map(str, [X.shape[1], *HIDDEN_SIZES]))}: {time.perf_counter() - t0:.1f} s; "
      f"final objectives {[round(p.cost_, 2) for p in parts]}")

before = EncoderClassifier(encoder=parts, fine_tune=False, weight_decay=1e-4, softmax_max_iter=100 if FAST else 400,
                           random_state=0)
with one_blas_thread():
    before.fit(X, y)
assert len(before.network_.layers) == 5  # Dense, Sigmoid, Dense, Sigmoid, softmax's Dense: no noise layers
acc_before = before.score(X_test, y_test)
after = copy.deepcopy(before).set_params(fine_tune=True, warm_start=True, method="adam", epochs=3 if FAST else 10,
                                         batch_size=100, learning_rate=1e-4, verbose=not FAST)
with one_blas_thread():
    after.fit(X, y)
acc_after = after.score(X_test, y_test)
print(f"{DATA} test accuracy: softmax on the pretrained codes {acc_before:.4f}, after fine-tuning {acc_after:.4f} "
      f"(fine-tuning {after.fit_seconds_:.1f} s; training accuracy now {after.score(X, y):.4f})")
assert acc_before > 0.5 and acc_after > 0.5  # chance is about 0.1
if not FAST:
    assert acc_after > acc_before

# %% [markdown]
# ## What to expect
#
# Measured on the CI subset of MNIST (8,000 training / 2,000 test images) on a
# shared 2-core machine, full mode (about four minutes in all):
#
# * dA 784-500, 15 epochs of SGD (about 30 s each): training objective 53.5 at
#   0% and 69.1 at 30%; clean test cross-entropy 55.0 and 71.6 nats per
#   image (the 30% model was trained for damaged inputs and reconstructs
#   clean ones less sharply). The deeplearning.net tutorial trains on 50,000
#   images with 4x larger initial weights, so its costs are not directly
#   comparable;
# * localised filters (locality > 0.3): 4% at 0%, 40% at 30%;
# * test MSE per pixel at level 0.3, noisy / denoised / 0% model: masking
#   0.033 / 0.009 / 0.024, Gaussian 0.090 / 0.008 / 0.009, salt-and-pepper
#   0.144 / 0.014 / 0.045. For Gaussian noise the plain autoencoder is nearly
#   as good: its bottleneck of 500 sigmoid units already projects away much
#   of the spread-out noise. Against pixels that are destroyed (masking) or
#   replaced (salt-and-pepper) only the dA knows what to do;
# * the SdA 784-500-500: test accuracy 0.9465 with a softmax on the fixed
#   pretrained codes, 0.9530 after 10 epochs of fine-tuning (25 s); on the
#   training images it reaches 0.9999, so with 8,000 images the fine-tuned
#   network overfits, and the gain from fine-tuning is small. (The SdA
#   tutorial fine-tunes three layers of 1,000 units on 50,000 images for
#   up to 1,000 epochs with early stopping.)
#
# Things to try: more epochs (`python -m numpy_ae denoising --epochs 40`), where more
# of the 30% filters become localised; 50% masking (`--level 0.5`);
# Fashion-MNIST (`--dataset fashion-mnist`); the same classifier with random
# initial weights instead of pretraining
# (`EncoderClassifier(encoder=None, hidden_layer_sizes=(500, 500), activation="sigmoid")`).

# %%
print(f"figures in {OUT}; total {time.perf_counter() - START:.1f} s")
assert any(OUT.glob("*.png"))
