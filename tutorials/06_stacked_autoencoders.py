# %% [markdown]
# # Tutorial 6: stacked autoencoders: tied weights, greedy pretraining, fine-tuning
#
# A *stacked* (deep) autoencoder has several encoder layers and a decoder that
# mirrors them: `784-300-150-300-784`. This tutorial follows the stacked
# autoencoder section of Hands-On Machine Learning's autoencoder chapter and
# UFLDL's "Stacked autoencoders" and "Fine-tuning" pages:
#
# 1. **Tied weights**: the decoder reuses the encoder's weights, transposed.
#    Half the weights, and a gradient that is a *sum* of two uses.
# 2. **Greedy layer-wise pretraining**, both ways Hands-On ML shows:
#    (a) one shallow autoencoder per layer, then stack them;
#    (b) one deep model trained in phases, the layers already trained frozen.
# 3. **Fine-tuning for classification** (UFLDL's exercise): pretrain two sparse
#    autoencoders, put a softmax on top, then train the whole network on labels.
#
# Run it with `python tutorials/06_stacked_autoencoders.py` from the repository
# root, or open it as a notebook (the `# %%` lines are cells). With
# `NUMPY_AE_FAST=1` it uses small subsets and few iterations (seconds). Figures
# go to `out/tutorials/06_stacked_autoencoders/` (or `$NUMPY_AE_OUT/...`). The
# full UFLDL exercise as a command: `python -m numpy_ae stacked`.
#
# **Notation.** Rows are examples: `X` is `(N, D)`, a `Dense` layer holds
# `W (D_in, D_out)` and computes $Z = XW + b$. UFLDL writes columns, so its
# $W^{(1)}$ is our `W.T`. Letters: N examples, D = 784 pixels, H hidden units,
# K = 10 classes.
#
# **Data.** MNIST via `numpy_ae.data.find_mnist` (`$NUMPY_AE_DATA/mnist`, the
# user cache, or a download in full mode). If MNIST is absent it falls back to
# Fashion-MNIST (same shape, ten classes of clothing), and if that is absent too
# to a *synthetic stand-in*: digits drawn from fonts bundled with matplotlib
# (`numpy_ae.experiments.self_taught.glyph_digits`). Each fallback is announced;
# the code then runs the same, but the accuracies say nothing about MNIST.

# %%
import copy
import os
import pathlib
import time

import numpy as np

from numpy_ae import EncoderClassifier, SparseAutoencoder, StackedAutoencoder, pretrain_layerwise
from numpy_ae.models.classifier import encoder_layers_of
from numpy_ae.data import describe_dataset, find_mnist, load_mnist
from numpy_ae.experiments.self_taught import glyph_digits
from numpy_ae.experiments.stacked import UFLDL_ACCURACY, stack_of
from numpy_ae.check.gradcheck import check_model
from numpy_ae.nn.dense import TiedDense
from numpy_ae.analysis.plotting import save_image_grid, save_loss_curve
from numpy_ae.analysis.model_figures import save_filters

FAST = os.environ.get("NUMPY_AE_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NUMPY_AE_OUT", "out/tutorials")) / "06_stacked_autoencoders"
OUT.mkdir(parents=True, exist_ok=True)
N_TRAIN, N_TEST = (1000, 1000) if FAST else (10000, 10000)
T0 = time.perf_counter()


def load_data():
    """(X_train, y_train, X_test, y_test, name): MNIST, else Fashion-MNIST, else synthetic digits."""
    for name, download in (("mnist", not FAST), ("fashion-mnist", False)):  # fast mode never waits for a download
        try:
            path = find_mnist(name, download=download)
        except FileNotFoundError as exc:
            print("=" * 78 + f"\n{name.upper()} NOT FOUND ({str(exc).splitlines()[0]})")
            continue
        X_tr, y_tr, X_te, y_te = load_mnist(name, data_home=path)
        print(describe_dataset(name, X_tr, X_te, path))
        if name != "mnist":
            print("Using FASHION-MNIST instead of MNIST: same shape and ten classes, harder to classify.\n" + "=" * 78)
        return X_tr, y_tr, X_te, y_te, {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}[name]
    print("Running on a SYNTHETIC STAND-IN: font-drawn digits, not handwriting. The code runs as on MNIST;\n"
          "the accuracies printed below are NOT MNIST results. Set NUMPY_AE_DATA to a folder holding mnist/.\n"
          + "=" * 78)
    X, y = glyph_digits(N_TRAIN + N_TEST, random_state=0)
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:], "synthetic glyph digits"


X_all, y_all, X_test_all, y_test_all, DATA = load_data()
X_train, y_train = X_all[:N_TRAIN], y_all[:N_TRAIN]
X_test, y_test = X_test_all[:N_TEST], y_test_all[:N_TEST]
print(f"{DATA}: {len(X_train)} training and {len(X_test)} test images of {X_train.shape[1]} pixels in [0, 1]")
assert X_train.shape[1] == 784 and 0.0 <= X_train.min() and X_train.max() <= 1.0

# %% [markdown]
# ## 1. Tied weights
#
# `StackedAutoencoder(hidden_layer_sizes=(300, 150))` (`numpy_ae/models/stacked.py`),
# given 784-pixel images (the input size comes from the data, in `fit` or
# `initialize(784)`; `layer_sizes_` is then `[784, 300, 150]`), builds
#
# $$H_1 = f(X W_1 + b_1),\quad H_2 = f(H_1 W_2 + b_2)\qquad\text{(encoder)}$$
# $$\hat H_1 = f(H_2 W_3 + b_3),\quad \hat X = \hat H_1 W_4 + b_4\qquad\text{(decoder)}$$
#
# with $W_1$ `(784, 300)`, $W_2$ `(300, 150)`, $W_3$ `(150, 300)`, $W_4$ `(300, 784)`.
# With `tied=True` the decoder uses the encoder's matrices transposed,
# $W_3 = W_2^\top$ and $W_4 = W_1^\top$ (Hands-On ML, "Tying weights"): each
# decoder layer is a `TiedDense` that holds only its bias and reads its mirror
# `Dense` layer's `W`. The weights are stored once, so their number halves;
# the biases stay separate (the decoder's $b_3$ `(300,)` and $b_4$ `(784,)`
# have other shapes than $b_2$, $b_1$).

# %%
hidden = (300, 150)
untied = StackedAutoencoder(hidden_layer_sizes=hidden, random_state=0).initialize(784)
tied = StackedAutoencoder(hidden_layer_sizes=hidden, tied=True, random_state=0).initialize(784)
assert tied.layer_sizes_ == [784, 300, 150]
n_weights = 784 * 300 + 300 * 150
n_biases = 300 + 150 + 300 + 784
print(f"untied: {untied.n_params_} parameters = 2 x {n_weights} weights + {n_biases} biases")
print(f"tied:   {tied.n_params_} parameters = 1 x {n_weights} weights + {n_biases} biases")
print("tied decoder:", tied.decoder_dense())
assert untied.n_params_ == 2 * n_weights + n_biases and tied.n_params_ == n_weights + n_biases
assert all(isinstance(d, TiedDense) for d in tied.decoder_dense())
assert tied.decoder_dense()[-1].source is tied.encoder_dense()[0]  # W_4 is W_1, transposed

# %% [markdown]
# ### The gradient of a tied matrix is a sum
#
# $W_1$ is used twice: in $Z_1 = X W_1 + b_1$ and in $Z_4 = \hat H_1 W_1^\top + b_4$.
# By the chain rule the gradient adds the two uses, with
# $\delta_\ell = \partial J/\partial Z_\ell$:
#
# $$\frac{\partial J}{\partial W_1} = \underbrace{X^\top \delta_1}_{\text{encoder use}}
#   + \underbrace{\bigl(\hat H_1^\top \delta_4\bigr)^\top}_{\text{decoder use}}
#   = X^\top \delta_1 + \delta_4^\top \hat H_1 .$$
#
# In the code, `Sequential.compute` (`numpy_ae/nn/sequential.py`) zeroes the flat `grad`
# once, then backpropagates: `TiedDense.backward` (`numpy_ae/nn/layer.py`) does
# `self.source.dW += dZ.T @ self.X` and, later in the backward pass,
# `Dense.backward` adds `X.T @ dZ` into the same view. Nothing else is needed:
# the two layers share one slice of `grad` as they share one slice of `theta`.
#
# Check it: an untied model whose decoder weights are set to the encoder's,
# transposed, computes exactly the same function; its two separate weight
# gradients must add up to the tied model's one. (Weight decay is off here:
# with it, the tied model decays $W_1$ once, the untied one decays both copies.)
# We use small images (the digits averaged over 4x4 blocks: 7x7 = 49 pixels)
# so that the numerical gradient check below is quick.

# %%
X_small = X_train[:20].reshape(20, 7, 4, 7, 4).mean(axis=(2, 4)).reshape(20, 49)
small_hidden = (12, 6)
small_tied = StackedAutoencoder(hidden_layer_sizes=small_hidden, activation="sigmoid", tied=True,
                                random_state=1).initialize(49)
small_untied = StackedAutoencoder(hidden_layer_sizes=small_hidden, activation="sigmoid", tied=False,
                                  random_state=1).initialize(49)
for enc_t, enc_u in zip(small_tied.encoder_dense(), small_untied.encoder_dense()):
    enc_u.W[...], enc_u.b[...] = enc_t.W, enc_t.b
rng = np.random.default_rng(2)
for dec_t, dec_u in zip(small_tied.decoder_dense(), small_untied.decoder_dense()):
    dec_t.b[...] = rng.normal(0, 0.1, dec_t.b.shape)  # nonzero decoder biases, so that they matter too
    dec_u.W[...], dec_u.b[...] = dec_t.source.W.T, dec_t.b
np.testing.assert_allclose(small_tied.reconstruct(X_small), small_untied.reconstruct(X_small), rtol=1e-13)

small_tied.loss_and_grad(small_tied.theta, X_small)      # fills each layer's gradient views
small_untied.loss_and_grad(small_untied.theta, X_small)
for k, (enc_t, enc_u) in enumerate(zip(small_tied.encoder_dense(), small_untied.encoder_dense())):
    dec_u = small_untied.decoder_dense()[len(small_hidden) - 1 - k]  # the mirror decoder layer
    both_uses = enc_u.dW + dec_u.dW.T
    rel = np.linalg.norm(enc_t.dW - both_uses) / np.linalg.norm(enc_t.dW + both_uses)
    share = np.linalg.norm(dec_u.dW) / np.linalg.norm(both_uses)
    print(f"W{k + 1}: tied dW vs (encoder dW + decoder dW.T) of the untied copy: rel. difference {rel:.1e}; "
          f"decoder share of the norm {share:.2f}")
    assert rel < 1e-12

# %% [markdown]
# ### Gradient check
#
# `numpy_ae.check.gradcheck.check_model` compares `loss_and_grad` with centred
# differences $\bigl(J(\theta + \epsilon e_i) - J(\theta - \epsilon e_i)\bigr)/2\epsilon$,
# $\epsilon = 10^{-4}$, block by block. In float64 a correct gradient agrees to a
# norm-relative difference below $10^{-9}$ (UFLDL). A tied model whose
# `TiedDense.backward` overwrote `dW` (`=` instead of `+=`) would fail here: the
# `dense0.W` block would show about the decoder share printed above.

# %%
result = check_model(small_tied.network_, X_small, name="tied 49-12-6-12-49")
print(result.report())
assert result.ok and result.rel_diff < 1e-9

# %% [markdown]
# ## 2. Greedy layer-wise pretraining
#
# Deep autoencoders train faster (and, in 2006-2010, trained at all) when each
# layer is first trained as a shallow autoencoder (Hinton & Salakhutdinov, 2006;
# Bengio et al., 2007). Hands-On ML shows two ways.
#
# ### (a) One shallow autoencoder per layer, then stack them
#
# `pretrain_layerwise(X, (300, 150), make_autoencoder)` trains
# autoencoder 1, `784-300-784`, on $X$ (784 inputs: the input size comes from
# `X`); computes its codes
# $H_1 = f(X W_1 + b_1)$ once; trains autoencoder 2, `300-150-300`, on $H_1$.
# `StackedAutoencoder.from_autoencoders(parts)` then copies $W_1, b_1$ and
# $W_2, b_2$ into the deep encoder and the two decoders, in reverse order, into
# the deep decoder. For the stack to compute what the parts learned, each part
# must end the way its place in the deep decoder does: part 2's output feeds
# the deep model's hidden activation, so it reconstructs $H_1$ through $f$
# (`output_activation="elu"`, as Hands-On ML does with SELU); part 1's output is
# the deep model's identity output.
#
# Here $f$ = ELU, the loss is the mean squared error and training uses Adam on
# minibatches (`method="adam"`, `StackedAutoencoder`'s default; `numpy_ae/train/loop.py`).
# `make_autoencoder(n_in, n_out, k)` returns each part untrained but with all
# its hyperparameters, the training ones included (`epochs`, `batch_size`,
# `learning_rate`...): `pretrain_layerwise` only calls `fit(codes)` on it.

# %%
epochs = 3 if FAST else 10
adam = dict(method="adam", epochs=epochs, batch_size=64, learning_rate=1e-3)


def make_part(n_in, n_out, k):
    """Autoencoder k (0-based) of the stack: n_in-n_out-n_in."""
    return StackedAutoencoder(hidden_layer_sizes=(n_out,), activation="elu",
                              output_activation=None if k == 0 else "elu", **adam, random_state=10 + k)


start = time.perf_counter()
parts = pretrain_layerwise(X_train, hidden, make_part, verbose=1)
stacked_a = StackedAutoencoder.from_autoencoders(parts, activation="elu", **adam, random_state=0)
seconds_a = time.perf_counter() - start
assert stacked_a.layer_sizes_ == [784, 300, 150]
# The deep encoder IS the two encoders composed, and the deep decoder the two decoders in reverse:
codes = parts[1].transform(parts[0].transform(X_test[:50]))
np.testing.assert_allclose(stacked_a.transform(X_test[:50]), codes, rtol=1e-12, atol=1e-14)
np.testing.assert_allclose(stacked_a.inverse_transform(codes),
                           parts[0].inverse_transform(parts[1].inverse_transform(codes)), rtol=1e-12, atol=1e-14)

untrained = StackedAutoencoder(hidden_layer_sizes=hidden, activation="elu", random_state=0).initialize(784)
mse_untrained, mse_a = untrained.network_.evaluate(X_test), stacked_a.network_.evaluate(X_test)
print(f"(a) stacked from two shallow autoencoders in {seconds_a:.1f} s: test reconstruction MSE {mse_a:.4f} "
      f"(untrained: {mse_untrained:.4f})")
assert mse_a < 0.5 * mse_untrained

# %% [markdown]
# ### (b) One deep model, trained in phases
#
# `StackedAutoencoder.fit_in_phases` trains ONE `784-300-150-300-784` model.
# Phase 1 trains the outer pair, $W_1, b_1$ and $W_4, b_4$, on the path
# $X \to H_1 \to \hat X$ (the inner layers skipped); phase 2 trains the inner
# pair, $W_2, b_2$ and $W_3, b_3$, to reconstruct $H_1$ on the path
# $H_1 \to H_2 \to \hat H_1$, with the outer pair **frozen**.
#
# Freezing is bookkeeping on the flat parameter vector: `Sequential.frozen` is
# a boolean mask over `theta`, `Sequential.compute` sets `grad[frozen] = 0`, and
# the optimiser's step skips those entries (`Adam.step(theta, grad, frozen)`,
# `numpy_ae/train/optimizers.py`). Each phase trains with the model's own training
# hyperparameters (here Adam, `epochs` epochs per phase; `fit_in_phases(X,
# epochs=[...])` can give each phase its own number). Below, a callback copies
# `theta` after every epoch, and we check that no frozen entry moved, to the
# last bit.

# %%
model_b = StackedAutoencoder(hidden_layer_sizes=hidden, activation="elu", **adam, random_state=0)
snapshots = []
start = time.perf_counter()
model_b.fit_in_phases(X_train, callback=lambda epoch, history: snapshots.append(model_b.theta.copy()))
seconds_b = time.perf_counter() - start
net = model_b.network_
initial = StackedAutoencoder(hidden_layer_sizes=hidden, activation="elu",
                             random_state=0).initialize(784).theta  # same seed, same start
after_phase1, after_phase2 = snapshots[epochs - 1], snapshots[2 * epochs - 1]
enc, dec = model_b.encoder_dense(), model_b.decoder_dense()
outer, inner = [enc[0], dec[1]], [enc[1], dec[0]]


def blocks_of(layers):
    return [b for b in net.blocks if any(b.layer is layer for layer in layers)]


print(f"{'block':<10} {'max |change| in phase 1':>24} {'in phase 2':>12}")
for b in net.blocks:
    d1 = np.abs(after_phase1[b.slice] - initial[b.slice]).max()
    d2 = np.abs(after_phase2[b.slice] - after_phase1[b.slice]).max()
    print(f"{b.name:<10} {d1:24.2e} {d2:12.2e}   {'outer' if b in blocks_of(outer) else 'inner'}")
for b in blocks_of(inner):   # phase 1 froze the inner pair...
    assert np.array_equal(after_phase1[b.slice], initial[b.slice])
for b in blocks_of(outer):   # ...and phase 2 the outer pair
    assert np.array_equal(after_phase2[b.slice], after_phase1[b.slice])
assert all(not np.array_equal(after_phase2[b.slice], after_phase1[b.slice]) for b in blocks_of(inner))
assert not net.frozen.any()  # nothing stays frozen afterwards

mse_b = net.evaluate(X_test)
print(f"(b) trained in phases in {seconds_b:.1f} s: test reconstruction MSE {mse_b:.4f}")
assert mse_b < 0.5 * mse_untrained
save_loss_curve({f"phase {k + 1}": h["loss"] for k, h in enumerate(model_b.phase_history_)},
                OUT / "phases.png", ylabel="training MSE of the phase", title="(b) training in phases")
shown = X_test[:10]
save_image_grid([("input", shown), ("(a) stacked parts", stacked_a.reconstruct(shown)),
                 ("(b) in phases", model_b.reconstruct(shown))], OUT / "reconstructions.png",
                image_shape=(28, 28), title=f"{DATA}: 784-300-150-300-784 reconstructions after greedy pretraining")

# %% [markdown]
# Both are only a starting point: Hands-On ML then trains the whole stack end
# to end (`stacked_a.set_params(warm_start=True).fit(X)`: Adam, from the
# pretrained weights instead of fresh ones). The two methods
# differ in what phase 2 sees: (a) codes computed once, (b) the codes of the
# frozen first layer, recomputed each time (cached here too, since they cannot
# change). Note that `fit_in_phases` trains inner phases with the mean squared
# error of the codes whatever the model's loss (see its docstring).
#
# ## 3. Fine-tuning for classification (UFLDL)
#
# UFLDL's exercise: two sparse autoencoders ($H = 200$, $\rho = 0.1$, $\beta = 3$,
# $\lambda = 3\cdot10^{-3}$, L-BFGS), each trained on the features of the one
# before (`pretrain_layerwise` with `SparseAutoencoder`), then
#
# $$p(y = k\mid x) = \mathrm{softmax}\bigl(a^{(3)} W_s + b_s\bigr)_k,\qquad
#   a^{(2)} = \sigma(x W_1 + b_1),\quad a^{(3)} = \sigma(a^{(2)} W_2 + b_2).$$
#
# *Before fine-tuning*: $W_1, W_2$ fixed, only the softmax trained
# (`EncoderClassifier(encoder=parts, fine_tune=False).fit(X, y)`, softmax
# $\lambda = 10^{-4}$, L-BFGS for `softmax_max_iter` iterations).
# *Fine-tuning*: every weight trained on
#
# $$J = -\frac1N\sum_n \log p(y_n\mid x_n) + \frac{\lambda}{2}\bigl(\lVert W_1\rVert^2
#       + \lVert W_2\rVert^2 + \lVert W_s\rVert^2\bigr)$$
#
# (`EncoderClassifier(encoder=parts, fine_tune=True)`, `numpy_ae/models/classifier.py`;
# it trains the softmax alone first, then every parameter with `method`), by
# backpropagation through the softmax (`SoftmaxCrossEntropy.backward`,
# $\partial J/\partial Z = (P - Y)/N$) and both sigmoid layers, starting from
# the pretrained weights. The classifier copies each encoder's `Dense` and
# `Sigmoid` (`encoder_layers_of(parts)`) and leaves out the `KLSparsity` layers:
# the sparsity penalty shapes pretraining only. The autoencoders themselves are
# not changed.
#
# **Which $\lambda$.** UFLDL fine-tunes with $\lambda = 3\cdot10^{-3}$ on the
# *softmax* weights only (the usual `stackedAECost.m`). `EncoderClassifier` has
# one `weight_decay`, and when fine-tuning it acts on *every* weight
# matrix, as in the equation above. 3e-3 on all 199,000 weights is a much
# stronger penalty: measured on the 10k MNIST subset (400 iterations, same
# pretrained autoencoders, 0.9075 before fine-tuning) it gave 0.909 after, with
# $\lVert W_1\rVert$ shrunk from 28.8 to 9.1; 1e-4 on all weights gave 0.951,
# and UFLDL's softmax-only 3e-3 gave 0.956 (one standard error on 2,000 test
# images: 0.005). So we keep 1e-4 for both steps. To see both steps, we fit
# the classifier with `fine_tune=False` (the softmax alone), then fine-tune a
# copy of it with `fine_tune=True, warm_start=True`: `warm_start` skips the
# softmax stage and starts from the current parameters (UFLDL's
# `stackedAETheta = [saeSoftmaxOptTheta; stackparams]`).

# %%
iterations = 30 if FAST else 400


def make_sparse(n_in, n_out, k):
    """UFLDL's sparse autoencoder for layer k (0-based): n_in-n_out-n_in."""
    return SparseAutoencoder(n_hidden=n_out, sparsity=0.1, beta=3.0, weight_decay=3e-3, max_iter=iterations,
                             random_state=20 + k)


start = time.perf_counter()
sae = pretrain_layerwise(X_train, (200, 200), make_sparse, verbose=1)
print(f"pretrained 784-200-200 in {time.perf_counter() - start:.1f} s "
      f"(mean activations {sae[0].mean_activation(X_train):.3f}, "
      f"{sae[1].mean_activation(sae[0].transform(X_train)):.3f}; rho = 0.1)")
layers = encoder_layers_of(sae)
print("classifier layers:", [type(l).__name__ for l in layers], "+ Dense(200, 10) + softmax")
assert [type(l).__name__ for l in layers] == ["Dense", "Sigmoid", "Dense", "Sigmoid"]

before = EncoderClassifier(encoder=sae, fine_tune=False, weight_decay=1e-4, softmax_max_iter=100 if FAST else 400,
                           random_state=0).fit(X_train, y_train)                  # the softmax alone
acc_before, train_before = before.score(X_test, y_test), before.score(X_train, y_train)
W1_pretrained = before.network_.layers[0].W.copy()
J_before = before.network_.compute(X_train, y_train)                              # the fine-tuning objective
after = copy.deepcopy(before).set_params(fine_tune=True, warm_start=True, method="lbfgs", max_iter=iterations)
after.fit(X_train, y_train)                                                       # every parameter
acc_after, train_after = after.score(X_test, y_test), after.score(X_train, y_train)
print(f"{DATA}, {len(X_train)} train / {len(X_test)} test: accuracy before fine-tuning {acc_before:.4f} "
      f"(train {train_before:.4f}), after {acc_after:.4f} (train {train_after:.4f})")
print(f"UFLDL on full MNIST (60,000 training digits): {UFLDL_ACCURACY['before_finetune']:.3f} before, "
      f"{UFLDL_ACCURACY['after_finetune']:.3f} after")
change = np.linalg.norm(after.network_.layers[0].W - W1_pretrained) / np.linalg.norm(W1_pretrained)
print(f"fine-tuning: objective {J_before:.4f} -> {after.cost_:.4f}; W1 changed by {100 * change:.1f}% of its norm")
assert after.cost_ < J_before and change > 0        # L-BFGS went downhill, and the encoder moved
np.testing.assert_array_equal(before.network_.layers[0].W, W1_pretrained)  # the copy was fine-tuned, not `before`
np.testing.assert_array_equal(sae[0].encoder_layers[0].W, W1_pretrained)  # the autoencoders were copied, not changed
assert acc_after > 0.5 and acc_before > 0.3         # chance is 0.1
assert train_after >= train_before  # fine-tuning fits the training labels at least as well (measured: far better)

deep = stack_of(sae)  # the two sparse autoencoders as one 784-200-200-200-784 StackedAutoencoder
save_filters(deep, OUT / "filters_layer1.png", layer=0, image_shape=(28, 28))
save_filters(deep, OUT / "filters_layer2.png", layer=1, image_shape=(28, 28))
print(f"figures in {OUT}; {time.perf_counter() - T0:.0f} s in all")

# %% [markdown]
# `filters_layer1.png` shows $W_1^\top$ (UFLDL's $W^{(1)}$): pen strokes after a
# full run. Layer-2 units see pixels only through layer 1, so
# `filters_layer2.png` draws unit $j$ as $\sum_i W_{2,ij}\, w_{1,i}$, the
# combination of layer-1 filters it weighs (`numpy_ae.analysis.features.encoder_filters`
# with `layer=1`, via `numpy_ae.analysis.model_figures.save_filters`), a linear picture that
# ignores the sigmoid in between. Tutorial 8 shows better views of deeper
# units: the inputs that activate them most, and activation maximisation.
#
# ## What to expect
#
# UFLDL reports 87.7% before and 97.6% after fine-tuning on full MNIST. This
# tutorial in full mode on the 10k MNIST subset (8,000 training digits, 400
# iterations per stage) measured 0.911 before and 0.956 after fine-tuning, in
# about 16 minutes on a busy 2-core machine; in fast mode about 0.66 and 0.89.
# Full runs of `python -m numpy_ae stacked` on the subset and on Fashion-MNIST
# are quoted in the module docstring of `numpy_ae/experiments/stacked.py`. Fine-tuning gains most where the pretrained
# features are weakest: the features were learned to reconstruct, not to
# separate classes, and fine-tuning moves them toward the labels.
#
# Things to try: fine-tune with 3e-3 on every weight matrix
# (`EncoderClassifier(encoder=sae, weight_decay=3e-3)`) and watch $\lVert W_1\rVert$
# shrink; fine-tune from *random* encoder weights
# (`EncoderClassifier(encoder=None, hidden_layer_sizes=(200, 200), activation="sigmoid")`,
# no pretraining) and compare; a tied, denoising first layer
# (`numpy_ae.models.stacked.DenoisingAutoencoder`) instead of the sparse one.
