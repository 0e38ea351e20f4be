# %% [markdown]
# # Tutorial 8: what did the hidden units learn?
#
# Five pictures of a trained autoencoder, each one function call that writes a PNG
# (`numpy_ae.analysis.plotting`), with the numbers behind it computed in plain NumPy
# (`numpy_ae.analysis.features`):
#
# | picture | plotting | computation |
# |---|---|---|
# | loss curves | `save_loss_curve` | the model's `cost_history_` / `history_` |
# | inputs above their reconstructions | `save_reconstructions` | `model.reconstruct`, `reconstruction_error_per_example` |
# | first-layer filters | `save_filters` | `encoder_filters` |
# | the training inputs that most activate each unit | `save_top_activating` | `top_activating_inputs` |
# | the input of fixed norm each unit likes best | `save_activation_maximisation` | `activation_maximisation`, `closed_form_maximiser` |
#
# Part 1 trains UFLDL's sparse autoencoder on MNIST digits with L-BFGS and
# derives, as UFLDL's "Visualizing a trained autoencoder" does, the input that
# maximally activates a sigmoid unit; then finds the same input numerically, by
# gradient ascent on the input through the network's own backward passes.
# Part 2 does the same for the code units of a deeper autoencoder trained with
# Adam, where there is no closed form.
#
# Run it with `python tutorials/08_visualising_features.py` from the repository
# root, or open it as a notebook (the `# %%` lines are cells). With
# `NUMPY_AE_FAST=1` it uses small subsets and few iterations (well under a minute).
# Figures go to `out/tutorials/08_visualising_features/` (or `$NUMPY_AE_OUT/...`).
#
# **Notation.** UFLDL writes examples as columns, $a^{(2)} = f(W^{(1)} x + b^{(1)})$;
# numpy_ae keeps examples as rows, $A = f(X W + b)$, so UFLDL's row
# $W^{(1)}_{j\cdot}$ (unit $j$'s weights) is our column `W[:, j]`. Letters: N
# examples, D = 784 pixels, H hidden units.
#
# **Data.** MNIST is found by `numpy_ae.data.find_mnist` (`$NUMPY_AE_DATA/mnist`,
# then the user cache; in full mode it is downloaded if missing). If it cannot
# be found, the tutorial says so loudly and runs on a *stand-in*: 8x8 patches of
# the whitened natural image of Tutorial 1 (`numpy_ae.data.sample_patches`).
# Every step runs the same; the pictures are then of edge detectors, not digits.

# %%
import os
import pathlib

import numpy as np

from numpy_ae import SparseAutoencoder, StackedAutoencoder
from numpy_ae.data import describe_dataset, find_mnist, load_images, load_mnist, sample_patches
from numpy_ae.nn.activations import sigmoid
from numpy_ae.analysis.plotting import save_loss_curve, save_tiles
from numpy_ae.analysis.model_figures import save_activation_maximisation, save_filters, save_reconstructions, save_top_activating
from numpy_ae.analysis.features import activation_maximisation, closed_form_maximiser, encoder_filters, reconstruction_error_per_example, top_activating_inputs, unit_activations

FAST = os.environ.get("NUMPY_AE_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NUMPY_AE_OUT", "out/tutorials")) / "08_visualising_features"
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)

try:
    path = find_mnist("mnist", download=not FAST)  # fast mode never waits for a download
    X_all, _, X_test_all, _ = load_mnist("mnist", data_home=path)
    print(describe_dataset("mnist", X_all, X_test_all, path))
    DATA, SHAPE = "MNIST", (28, 28)
    n_train = 2000 if FAST else 8000
    X_train, X_val = X_all[:n_train], X_test_all[:500 if FAST else 2000]
except FileNotFoundError as exc:
    print("=" * 78)
    print("MNIST NOT FOUND: set NUMPY_AE_DATA to a folder holding mnist/ (see numpy_ae.data.find_mnist).")
    print("Running on a STAND-IN instead: 8x8 patches of a whitened natural image (Tutorial 1's data).")
    print("Every step runs as on MNIST; the pictures show edge detectors, not pieces of digits.")
    print("(" + str(exc).splitlines()[0] + ")")
    print("=" * 78)
    patches = sample_patches(load_images(), n=(3000 if FAST else 12000), size=8, random_state=rng)
    DATA, SHAPE = "natural-image patches (stand-in)", (8, 8)
    X_train, X_val = patches[:-1000], patches[-1000:]
D = X_train.shape[1]
print(f"{DATA}: training X {X_train.shape}, validation {X_val.shape}, values in [{X_train.min():.2f}, "
      f"{X_train.max():.2f}]")

# %% [markdown]
# ## Part 1: a sparse autoencoder (UFLDL), trained with L-BFGS
#
# UFLDL's MNIST settings (`python -m numpy_ae mnist-sparse`, Tutorial 4): one
# sigmoid hidden layer with KL sparsity, $\rho = 0.1$, $\beta = 3$,
# $\lambda = 3\cdot10^{-3}$, here with H = 100 units on a subset.

# %%
if DATA == "MNIST":
    H, sae = 100, SparseAutoencoder(n_hidden=100, sparsity=0.1, beta=3.0, weight_decay=3e-3, random_state=0)
else:  # Tutorial 1's settings for 8x8 patches
    H, sae = 25, SparseAutoencoder(n_hidden=25, sparsity=0.01, beta=3.0, weight_decay=1e-4, random_state=0)
sae.set_params(max_iter=40 if FAST else 400).fit(X_train)
print(f"sparse autoencoder {D}-{H}-{D}: cost {sae.cost_:.4f} after {sae.n_iter_} L-BFGS iterations "
      f"({sae.fit_seconds_:.1f} s)")
assert sae.cost_history_[-1] < sae.cost_history_[0]

# %% [markdown]
# ### Loss curve and reconstructions
#
# `save_loss_curve(model, path)` reads `cost_history_` (the objective after
# each L-BFGS iteration) or, for a minibatch fit, `history_` (Part 2).
# `save_reconstructions` shows held-out inputs above
# $\hat x = \texttt{model.reconstruct}(x)$, both rows on one grey scale; its
# title gives the mean of $\lVert \hat x_n - x_n\rVert^2$
# (`reconstruction_error_per_example`). Passing `indices=` shows chosen rows,
# here also the ten worst-reconstructed ones.

# %%
save_loss_curve(sae, OUT / "sae_cost.png", ylabel="J", logy=True, title="sparse autoencoder, L-BFGS")
save_reconstructions(sae, X_val, OUT / "sae_reconstructions.png", n=10, image_shape=SHAPE)
errors = reconstruction_error_per_example(sae, X_val)
worst = np.argsort(-errors)[:10]
save_reconstructions(sae, X_val, OUT / "sae_worst_reconstructions.png", indices=worst, image_shape=SHAPE,
                     title=f"the 10 worst-reconstructed of {len(X_val)} held-out inputs")
print(f"held-out squared error per example: mean {errors.mean():.3f}, worst {errors[worst[0]]:.3f}")
assert np.isclose(errors.mean(), np.mean(np.sum((sae.reconstruct(X_val) - X_val) ** 2, axis=1)))

# %% [markdown]
# ### Filters
#
# `save_filters(model, path)` tiles `W.T`, one tile per hidden unit (UFLDL's
# `display_network(W1')`), each tile scaled to its own largest absolute value
# with 0 as mid-grey. On MNIST after the full run: pen strokes and pieces of
# digits.

# %%
save_filters(sae, OUT / "sae_filters.png", image_shape=SHAPE)
assert np.array_equal(encoder_filters(sae, 0), sae.encoder_layers[0].W.T)

# %% [markdown]
# ### The inputs that most activate each unit
#
# A filter says what a unit weighs; the data say what it *responds to*.
# `top_activating_inputs(model, X, layer, k)` runs the encoder on `X` in
# batches (`network_.forward(..., training=False, layers=path)`), keeps each
# unit's running top k, and returns their row indices, shape `(H, k)`, largest
# activation first. Below we check it against the brute-force ranking of the
# full activation matrix `A = unit_activations(model, X)` of shape `(N, H)`.

# %%
k = 9
top = top_activating_inputs(sae, X_train, layer=0, k=k)
A = unit_activations(sae, X_train, layer=0)
assert np.array_equal(top, np.argsort(-A, axis=0, kind="stable")[:k].T)
save_top_activating(sae, X_train, OUT / "sae_top_activating.png", units=range(10), k=k, layer=0,
                    image_shape=SHAPE)
print(f"top-{k} inputs of unit 0: rows {top[0].tolist()}, activations {np.round(A[top[0], 0], 3).tolist()}")

# %% [markdown]
# ### The maximally activating input: UFLDL's closed form
#
# UFLDL asks which input $x$ makes hidden unit $j$ most active,
# $a_j = f\bigl(\sum_i W^{(1)}_{ji} x_i + b_j\bigr)$. Without a constraint the
# answer is "an infinitely large input", so the input's size is fixed:
# $\lVert x\rVert^2 = \sum_i x_i^2 \le 1$. Since the sigmoid $f$ is increasing,
# maximising $a_j$ is maximising the linear part $w^\top x$ with
# $w = W^{(1)}_{j\cdot}$ (our `W[:, j]`), and by Cauchy-Schwarz
#
# $$ w^\top x \le \lVert w\rVert\,\lVert x\rVert \le \lVert w\rVert,
#    \qquad\text{with equality iff}\qquad
#    x^\ast = \frac{w}{\lVert w\rVert},\quad
#    x^\ast_i = \frac{W^{(1)}_{ji}}{\sqrt{\sum_{i'} (W^{(1)}_{ji'})^2}} .$$
#
# So the picture of the best input is the filter itself, normalised
# (`closed_form_maximiser(model, unit, norm=1)`): this is why UFLDL displays
# the rows of $W^{(1)}$. For any norm $r$ the answer is $r\,w/\lVert w\rVert$.
#
# ### The same input, found numerically
#
# For a deeper unit there is no such formula, but we can climb:
# `activation_maximisation(model, unit, layer, norm=r)` starts from a random
# direction and repeats projected gradient ascent,
#
# $$ x \leftarrow x + \eta\, g, \qquad x \leftarrow r\,\frac{x}{\lVert x\rVert}, $$
#
# where $g$ comes from the network's own backward passes: forward $x$ through
# the unit's path, then `Sequential.backward(dY, input_grad=True)` with a
# one-hot $dY$ (one row per unit, all units at once). For a first-layer
# sigmoid unit $\partial a_j/\partial x = \sigma'(z_j)\,w$, so every step adds
# a positive multiple of $w$ and the angle to $w$ shrinks: by default the step
# is normalised, $g = r\,\nabla a_j / \lVert\nabla a_j\rVert$, and near the end
# $\tan\theta$ shrinks by $1/(1+\eta)$ per step ($\eta = 0.5$: a factor
# $10^{-35}$ in 200 steps), so we can demand agreement to rounding error.
# The backward passes add into the model's `grad`; the function saves and
# restores it, and never writes `theta`.

# %%
theta_before, grad_before = sae.theta.copy(), sae.network_.grad.copy()
x_closed = closed_form_maximiser(sae, norm=1.0)                              # (H, D)
x_ascent, h_ascent = activation_maximisation(sae, layer=0, norm=1.0, steps=200, random_state=0,
                                             return_activation=True)         # (H, D), (H,)
gap = np.abs(x_ascent - x_closed).max()
print(f"normalised ascent vs closed form, all {H} units: max |x - x*| = {gap:.1e}")
assert gap < 1e-10
assert np.allclose(np.linalg.norm(x_ascent, axis=1), 1.0, rtol=1e-12, atol=0)
assert np.array_equal(sae.theta, theta_before) and np.array_equal(sae.network_.grad, grad_before)

# Cauchy-Schwarz in numbers: no training input, rescaled to norm 1, activates any unit more.
X_unit = X_train / np.linalg.norm(X_train, axis=1, keepdims=True)
assert np.all(h_ascent >= unit_activations(sae, X_unit, layer=0).max(axis=0) - 1e-12)
W, b = sae.encoder_layers[0].W, sae.encoder_layers[0].b
assert np.allclose(h_ascent, sigmoid(np.linalg.norm(W, axis=0) + b), rtol=1e-12)   # f(||w|| + b_j)

save_activation_maximisation(sae, OUT / "sae_activation_maximisation.png", layer=0, image_shape=SHAPE,
                             norm=1.0, random_state=0, title="argmax over ||x|| = 1 of each unit (numerical ascent)")
save_tiles(x_closed, OUT / "sae_closed_form.png", shape=SHAPE, title="UFLDL's closed form W[:, j] / ||W[:, j]||")

# %% [markdown]
# **Why the step is normalised.** With the plain rule $x \leftarrow x +
# \eta\,\nabla a_j$ the step is proportional to $\sigma'(z_j) \le 1/4$, which
# is tiny once the unit saturates near the optimum, where
# $\sigma'(z_j) \approx e^{-z_j}$. At $\lVert x\rVert = 1$ most units are
# far from saturation and both rules converge (after the full 400-iteration
# run a few units with large weights already crawl); at the data's own scale,
# $r$ = the median norm of a training image, $z_j$ is large for most units and
# the plain rule stalls far from $x^\ast$. Same 200 steps, plain gradient
# (`normalize_gradient=False`) with a large $\eta = 5$, against the default:

# %%
r = float(np.median(np.linalg.norm(X_train, axis=1)))
for norm in (1.0, r):
    x_star = closed_form_maximiser(sae, norm=norm)
    x_plain = activation_maximisation(sae, layer=0, norm=norm, steps=200, learning_rate=5.0,
                                      normalize_gradient=False, random_state=0)
    x_normalised = activation_maximisation(sae, layer=0, norm=norm, steps=200, random_state=0)
    cos_plain = np.sum(x_plain * x_star, axis=1) / norm ** 2      # cosine of the angle to x*
    cos_normalised = np.sum(x_normalised * x_star, axis=1) / norm ** 2
    print(f"||x|| = {norm:.2f}: cos(angle to x*) after 200 steps, plain gradient median "
          f"{np.median(cos_plain):.4f} (worst {cos_plain.min():.4f}); normalised worst {cos_normalised.min():.12f}")
    assert cos_normalised.min() > 1 - 1e-12

# %% [markdown]
# ## Part 2: a deeper autoencoder, trained with Adam
#
# A `StackedAutoencoder` with sigmoid units and the deeplearning.net
# cross-entropy, encoder D-196-64 (MNIST; 64-25-9 on the stand-in), trained
# with Adam on minibatches (`method="adam"`, the default) with a validation set
# (`fit(X, validation_data=X_val)`). A small weight decay pulls
# to 0 the weights of MNIST's always-black border pixels, which no
# reconstruction error ever moves; without it, activation maximisation happily
# paints noise there.

# %%
hidden = (196, 64) if DATA == "MNIST" else (25, 9)
deep = StackedAutoencoder(hidden_layer_sizes=hidden, activation="sigmoid", loss="cross_entropy", weight_decay=1e-3,
                          method="adam", epochs=5 if FAST else 30, batch_size=64, learning_rate=3e-3, random_state=0)
deep.fit(X_train, validation_data=X_val)
print(f"stacked {'-'.join(map(str, deep.layer_sizes_))}: "
      f"loss {deep.history_['loss'][0]:.2f} -> {deep.history_['loss'][-1]:.2f}, "
      f"validation {deep.history_['val_loss'][-1]:.2f} ({deep.fit_seconds_:.1f} s)")
assert deep.history_["loss"][-1] < deep.history_["loss"][0]
save_loss_curve(deep.history_, OUT / "deep_loss.png", ylabel="cross-entropy per example",
                title="stacked autoencoder, Adam")
save_reconstructions(deep, X_val, OUT / "deep_reconstructions.png", image_shape=SHAPE)

# %% [markdown]
# ### Deeper filters, top inputs and maximising inputs
#
# `layer` counts the encoder's hidden layers: 0 the first, 1 (or -1) the code.
#
# * `save_filters(deep, path, layer=1)` shows the rows of $(W_0 W_1)^\top$:
#   each code unit's weights on the first layer passed down *linearly* to the
#   pixels, as UFLDL-era papers showed second-layer units (a weighted sum of
#   first-layer filters). It ignores the sigmoids in between.
# * `save_top_activating(deep, X, path, layer=1)` needs no approximation.
# * `save_activation_maximisation(deep, path, layer=1, norm=r)` climbs through
#   both layers. We fix $r$ to the median norm of the training images, so the
#   pictures live at the data's scale. The answer is now a local maximum from a
#   random start, not a formula; it is guaranteed only to beat its start (a
#   step that lowers the activation is refused and the step halved, so 200
#   steps end at least as high as 1 step from the same start). We compare it
#   with the best training image rescaled to the same norm.

# %%
save_filters(deep, OUT / "deep_filters_layer0.png", layer=0, image_shape=SHAPE)
save_filters(deep, OUT / "deep_filters_layer1.png", layer=1, image_shape=SHAPE)
save_top_activating(deep, X_train, OUT / "deep_top_activating.png", layer=1, k=k, image_shape=SHAPE)

grad_before = deep.network_.grad.copy()
_, h_one = activation_maximisation(deep, layer=1, norm=r, steps=1, random_state=0, return_activation=True)
x_deep, h_deep = activation_maximisation(deep, layer=1, norm=r, steps=200, random_state=0, return_activation=True)
h_data = unit_activations(deep, r * X_unit, layer=1).max(axis=0)
print(f"code units, ||x|| = {r:.2f}: mean activation after 1 step {h_one.mean():.4f}, "
      f"after ascent {h_deep.mean():.4f}; best rescaled training image {h_data.mean():.4f}; "
      f"ascent >= best image for {np.mean(h_deep >= h_data):.0%} of the units")
assert np.all(h_deep >= h_one - 1e-9) and np.allclose(np.linalg.norm(x_deep, axis=1), r)
assert np.array_equal(deep.network_.grad, grad_before)
save_activation_maximisation(deep, OUT / "deep_activation_maximisation.png", layer=1, image_shape=SHAPE, norm=r,
                             random_state=0)

# %% [markdown]
# ## What to look at
#
# * `sae_filters.png`, `sae_closed_form.png` and `sae_activation_maximisation.png`
#   are the same pictures up to each tile's scale: UFLDL's derivation, checked
#   numerically to 1e-10.
# * `sae_top_activating.png`: the digits behind each filter. A unit whose top
#   inputs are all one digit class is close to a class detector; most are
#   strokes shared by several digits.
# * `deep_activation_maximisation.png` is noisier than the top inputs: a code
#   unit is a non-linear function of 784 pixels, and gradient ascent finds
#   whatever pattern of the given norm excites it, realistic or not. Priors on
#   the image (blur, jitter, a smaller norm) make such pictures more readable;
#   the top-activating inputs are the honest companion.
#
# Things to try: `norm=` much smaller than the data's (the sigmoids leave
# saturation and deeper pictures approach the linear-combination filters);
# `layer=0` of the deep model, compared with `closed_form_maximiser(deep)`;
# a `DenoisingAutoencoder`, whose filters are stroke-like after a few epochs.

# %%
written = sorted(p.name for p in OUT.glob("*.png"))
print(f"wrote {len(written)} figures to {OUT}: {', '.join(written)}")
assert len(written) >= 12
