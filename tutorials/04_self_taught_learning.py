# %% [markdown]
# # Tutorial 4: vectorisation and self-taught learning on MNIST
#
# Two UFLDL exercises in a row:
#
# 1. **Vectorisation.** The sparse autoencoder of Tutorial 1, now on whole 28x28
#    digits: 784-196-784, $\rho = 0.1$, $\beta = 3$, $\lambda = 3\cdot10^{-3}$.
#    With 10,000 images the cost must be computed for all examples at once,
#    with matrix products, not with a loop over examples.
# 2. **Self-taught learning.** Learn 196 features from digits 5-9 *without
#    their labels*, then classify digits 0-4 with softmax regression on those
#    features, and compare with softmax on the raw pixels.
#
# Run it with `python tutorials/04_self_taught_learning.py` from the repository
# root, or open it as a notebook (the `# %%` lines are cells). With
# `NUMPY_AE_FAST=1` it uses small subsets and few iterations (a few seconds).
# Figures go to `out/tutorials/04_self_taught_learning/` (or `$NUMPY_AE_OUT/...`).
# The same experiments as commands: `python -m numpy_ae mnist-sparse` and
# `python -m numpy_ae self-taught`.
#
# **Notation.** UFLDL writes examples as columns, $z^{(2)} = W^{(1)} x + b^{(1)}$;
# numpy_ae keeps examples as rows, $Z = X W + b$ with `X` of shape `(N, D)`, so
# UFLDL's $W^{(1)}$ ($H \times D$) is our `Dense.W.T` (`W` is `(D, H)`).
# Letters: N examples, D = 784 pixels, H = 196 hidden units, K = 5 classes.
#
# **Data.** MNIST is found by `numpy_ae.data.find_mnist`: `$NUMPY_AE_DATA/mnist`,
# then the user cache `~/.cache/numpy_ae/mnist`; otherwise (full mode only) it is
# downloaded there with checksums. If it cannot be found or downloaded, this
# tutorial says so loudly and runs on a *synthetic stand-in*: digits 0-9 drawn
# from fonts bundled with matplotlib, randomly rotated, sheared and shifted
# (`numpy_ae.experiments.self_taught.glyph_digits`). That keeps every step
# runnable anywhere; the numbers it prints then say nothing about MNIST.

# %%
import os
import pathlib
import time

import numpy as np

from numpy_ae import SoftmaxRegression, SparseAutoencoder
from numpy_ae.data import describe_dataset, find_mnist, load_mnist
from numpy_ae.experiments.self_taught import glyph_digits, self_taught_split
from numpy_ae.nn.activations import sigmoid
from numpy_ae.analysis.plotting import save_image_grid, save_tiles
from numpy_ae.nn.penalties import kl_divergence_bernoulli

FAST = os.environ.get("NUMPY_AE_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NUMPY_AE_OUT", "out/tutorials")) / "04_self_taught_learning"
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)

try:
    path = find_mnist("mnist", download=not FAST)  # fast mode never waits for a download
    X_all, y_all, X_test_split, _ = load_mnist("mnist", data_home=path)
    print(describe_dataset("mnist", X_all, X_test_split, path))
    DATA = "MNIST"
except FileNotFoundError as exc:
    print("=" * 78)
    print("MNIST NOT FOUND: set NUMPY_AE_DATA to a folder holding mnist/ (see numpy_ae.data.find_mnist).")
    print("Running on a SYNTHETIC STAND-IN instead: font-drawn digits, not handwriting. The code runs")
    print("as on MNIST; the accuracies printed below are NOT MNIST results.")
    print("(" + str(exc).splitlines()[0] + ")")
    print("=" * 78)
    X_all, y_all = glyph_digits(3000 if FAST else 20000, random_state=rng)
    DATA = "synthetic glyph digits"
print(f"{DATA}: X {X_all.shape} in [{X_all.min():.0f}, {X_all.max():.0f}], labels {np.bincount(y_all).tolist()}")
save_tiles(X_all[:100], OUT / "digits.png", shape=(28, 28), normalize=None, title=f"100 {DATA} training images")

# %% [markdown]
# ## Part 1: vectorisation
#
# ### The cost for all N examples at once
#
# Stack the examples as rows of `X (N, 784)`. Forward, every line one layer of
# `SparseAutoencoder`'s network (`numpy_ae/models/autoencoders.py`):
#
# | step | equation | shape | code |
# |---|---|---|---|
# | hidden | $A = \sigma(X W_1 + b_1)$ | `(N, H)` | `Dense.forward`, `Sigmoid.forward` |
# | mean activation | $\hat\rho = \frac1N \mathbf 1^\top A$ | `(H,)` | `KLSparsity.forward` |
# | output | $\hat X = \sigma(A W_2 + b_2)$ | `(N, D)` | `Dense.forward`, `Sigmoid.forward` |
#
# $$J = \frac{1}{2N}\lVert \hat X - X\rVert_F^2
#     + \frac{\lambda}{2}\left(\lVert W_1\rVert_F^2 + \lVert W_2\rVert_F^2\right)
#     + \beta \sum_{j=1}^{H}\mathrm{KL}(\rho\,\|\,\hat\rho_j)$$
#
# (`SquaredError.forward`, `Sequential.compute` for weight decay, `KLSparsity.penalty`).
# Backward, UFLDL's deltas as matrices, one row per example ($\odot$: element-wise):
#
# | step | equation | code |
# |---|---|---|
# | output delta | $\Delta_3 = \tfrac1N(\hat X - X)\odot\hat X\odot(1-\hat X)$ | `SquaredError.backward`, `Sigmoid.backward` |
# | output weights | $\partial J/\partial W_2 = A^\top\Delta_3 + \lambda W_2$, $\ \partial J/\partial b_2 = \mathbf 1^\top\Delta_3$ | `Dense.backward`, `Sequential.compute` |
# | hidden delta | $\Delta_2 = \bigl(\Delta_3 W_2^\top + \tfrac{\beta}{N}(-\tfrac{\rho}{\hat\rho} + \tfrac{1-\rho}{1-\hat\rho})\bigr)\odot A\odot(1-A)$ | `Dense.backward`, `KLSparsity.backward`, `Sigmoid.backward` |
# | hidden weights | $\partial J/\partial W_1 = X^\top\Delta_2 + \lambda W_1$, $\ \partial J/\partial b_1 = \mathbf 1^\top\Delta_2$ | `Dense.backward`, `Sequential.compute` |
#
# The sparsity term is a row vector added to every row of $\Delta_3 W_2^\top$
# (broadcasting), because $\hat\rho$ is known only after the forward pass over
# all examples: a loop over examples needs two passes.
#
# ### A loop over examples, for comparison
#
# Below, the same cost and gradient with one example at a time, as a
# non-vectorised first attempt at the exercise would compute them. It must
# agree with `loss_and_grad` to rounding error; then compare the times.

# %%
rho, beta, lam, H = 0.1, 3.0, 3e-3, 196
ae = SparseAutoencoder(n_hidden=H, sparsity=rho, beta=beta, weight_decay=lam, random_state=0).initialize(784)
dense1, dense2 = ae.network_.layers[0], ae.network_.layers[3]


def cost_and_grad_loop(X, W1, b1, W2, b2):
    """One example at a time; returns J and the gradients (dW1, db1, dW2, db2)."""
    N = X.shape[0]
    rho_hat = np.zeros(W1.shape[1])
    for x in X:                                    # pass 1: the mean activation needs every example
        rho_hat += sigmoid(x @ W1 + b1) / N
    J = beta * kl_divergence_bernoulli(rho, rho_hat).sum() + lam / 2 * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    sparsity_delta = beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))
    dW1, db1, dW2, db2 = np.zeros_like(W1), np.zeros_like(b1), np.zeros_like(W2), np.zeros_like(b2)
    for x in X:                                    # pass 2: forward and backward, example by example
        a = sigmoid(x @ W1 + b1)
        x_hat = sigmoid(a @ W2 + b2)
        J += 0.5 * np.sum((x_hat - x) ** 2) / N
        delta3 = (x_hat - x) * x_hat * (1 - x_hat)
        delta2 = (W2 @ delta3 + sparsity_delta) * a * (1 - a)
        dW2 += np.outer(a, delta3) / N
        db2 += delta3 / N
        dW1 += np.outer(x, delta2) / N
        db1 += delta2 / N
    return J, dW1 + lam * W1, db1, dW2 + lam * W2, db2


X_small = X_all[:200 if FAST else 1000]
start = time.perf_counter()
J_loop, dW1, db1, dW2, db2 = cost_and_grad_loop(X_small, dense1.W, dense1.b, dense2.W, dense2.b)
t_loop = time.perf_counter() - start
t_vec = np.inf
for _ in range(3):  # best of 3: the first call also allocates the layers' scratch buffers
    start = time.perf_counter()
    J_vec, grad = ae.loss_and_grad(ae.theta, X_small)
    t_vec = min(t_vec, time.perf_counter() - start)

# theta is [W1, W2, b1, b2] (weights first, each block in C order): see numpy_ae/nn/sequential.py
grad_loop = np.concatenate([dW1.ravel(), dW2.ravel(), db1, db2])
rel = np.linalg.norm(grad - grad_loop) / np.linalg.norm(grad + grad_loop)
print(f"{len(X_small)} examples: J loop {J_loop:.10f}, vectorised {J_vec:.10f}; gradient rel. difference {rel:.1e}")
print(f"loop {t_loop * 1e3:.0f} ms, vectorised {t_vec * 1e3:.0f} ms: {t_loop / t_vec:.0f}x faster")
assert np.isclose(J_loop, J_vec, rtol=1e-12) and rel < 1e-12

# %% [markdown]
# ### What one evaluation costs
#
# After vectorisation almost all the work is five matrix products of
# $N\times784\times196$: $XW_1$ and $AW_2$ forward, $A^\top\Delta_3$,
# $\Delta_3W_2^\top$ and $X^\top\Delta_2$ backward, $2NDH$ flops each. For
# UFLDL's N = 10,000 that is 15 GFLOP per evaluation and about 6 TFLOP for 400
# L-BFGS iterations: minutes even at tens of GFLOP/s (UFLDL's wiki quoted
# 25-30 minutes for 200 iterations in MATLAB). `benchmarks/bench_mnist_sparse.py`
# times our run against those five products alone.

# %%
N_u = 10000
print(f"one evaluation on {N_u} examples: 5 x 2 x {N_u} x 784 x {H} = {5 * 2 * N_u * 784 * H / 1e9:.1f} GFLOP")

# %% [markdown]
# ## Part 2: self-taught learning
#
# ### The split
#
# `self_taught_split` (in `numpy_ae/experiments/self_taught.py`) puts every
# training example of digits 5-9 into the *unlabelled* set (we never look at
# their labels) and cuts the examples of digits 0-4 in half, with a seeded
# Generator, into a labelled training set and a test set.

# %%
i_unlabelled, i_train, i_test = self_taught_split(y_all, (5, 6, 7, 8, 9), random_state=rng)
if FAST:  # small subsets: a few seconds in all
    i_unlabelled, i_train, i_test = i_unlabelled[:600], i_train[:500], i_test[:500]
X_unlabelled = X_all[i_unlabelled]
X_train, y_train, X_test, y_test = X_all[i_train], y_all[i_train], X_all[i_test], y_all[i_test]
print(f"unlabelled (digits 5-9): {len(X_unlabelled)}; labelled digits 0-4: {len(X_train)} train, {len(X_test)} test")
assert set(np.unique(y_all[i_unlabelled])) <= {5, 6, 7, 8, 9} and set(np.unique(y_train)) <= {0, 1, 2, 3, 4}

# %% [markdown]
# ### Learn features from the unlabelled digits
#
# The sparse autoencoder of Part 1, trained with L-BFGS (`SparseAutoencoder.fit`,
# `numpy_ae.train.lbfgs.lbfgs`) for UFLDL's 400 iterations (`max_iter=400`, given to
# the constructor with the other hyperparameters). Its first-layer weights,
# the rows of UFLDL's $W^{(1)}$ (our `W.T`), show what each hidden unit looks
# for: after a full run on MNIST, pen strokes, pieces of digits.

# %%
iterations = 30 if FAST else 400
ae = SparseAutoencoder(n_hidden=H, sparsity=rho, beta=beta, weight_decay=lam, max_iter=iterations,
                       verbose=0 if FAST else 50, random_state=0)
ae.fit(X_unlabelled)
mean_activation = ae.mean_activation(X_unlabelled)
print(f"cost {ae.cost_:.4f} after {ae.n_iter_} iterations ({ae.fit_seconds_:.1f} s); "
      f"mean hidden activation {mean_activation:.4f} (rho = {rho})")
assert ae.cost_history_[-1] < ae.cost_history_[0]
save_tiles(ae.network_.layers[0].W.T, OUT / "filters.png", shape=(28, 28),
           title=f"{H} features learned from {len(X_unlabelled)} unlabelled {DATA} images")
shown = X_test[:10]
save_image_grid([("digits 0-4", shown), ("reconstruction", ae.reconstruct(shown))], OUT / "reconstructions.png",
                image_shape=(28, 28), title="digits the autoencoder never saw, reconstructed")

# %% [markdown]
# ### Classify with the features
#
# Each labelled image $x$ becomes its hidden activations
# $a = \sigma(x W_1 + b_1)$, 196 numbers instead of 784 (`ae.transform`, shape
# `(N, 784) -> (N, 196)`). Softmax regression (`numpy_ae.SoftmaxRegression`,
# UFLDL's softmax exercise with a bias added), $\lambda = 10^{-4}$, learns the
# five classes from the features of the training half; the baseline is the
# same classifier on the raw pixels of the same images.
#
# $$p(y = k \mid a) = \frac{e^{a^\top w_k + c_k}}{\sum_{j=1}^{K} e^{a^\top w_j + c_j}},\qquad
#   J = -\frac1N\sum_n \log p(y_n \mid a_n) + \frac{\lambda}{2}\lVert W\rVert_F^2$$

# %%
softmax_iterations = 100 if FAST else 400
features_train, features_test = ae.transform(X_train), ae.transform(X_test)
clf = SoftmaxRegression(weight_decay=1e-4, max_iter=softmax_iterations, random_state=0).fit(features_train, y_train)
raw = SoftmaxRegression(weight_decay=1e-4, max_iter=softmax_iterations, random_state=0).fit(X_train, y_train)
accuracy, raw_accuracy = clf.score(features_test, y_test), raw.score(X_test, y_test)
print(f"{DATA}, test accuracy on digits 0-4: learned features {accuracy:.4f}, raw pixels {raw_accuracy:.4f}")
assert accuracy > 0.5 and raw_accuracy > 0.5  # chance is 0.2

# %% [markdown]
# ## What to expect
#
# UFLDL reports 98.3% with the learned features on full MNIST (about 29,400
# unlabelled digits, 15,300 labelled training digits). Measured with
# `python -m numpy_ae self-taught` (400 + 400 iterations, seed 0):
#
# | data | unlabelled | train / test | learned features | raw pixels |
# |---|---|---|---|---|
# | 10k MNIST subset (CI) | 3,933 (digits 5-9) | 2,034 / 2,033 | 0.9715 | 0.9587 |
# | Fashion-MNIST | 30,000 (classes 5-9) | 15,000 / 15,000 | 0.8469 | 0.8832 |
#
# On digits the features beat raw pixels although they were learned from
# other digits: pen strokes are shared by all of them. On Fashion-MNIST they
# lose: the unlabelled classes (sandal, shirt, sneaker, bag, ankle boot) are
# mostly shoes and bags, whose shapes say little about the labelled ones
# (T-shirt, trouser, pullover, dress, coat). Self-taught learning needs
# unlabelled data whose building blocks the labelled classes share.
#
# The vectorisation exercise itself (`python -m numpy_ae mnist-sparse`, all
# 8,000 training digits of the subset, 400 iterations) ends at cost 12.11 with
# mean hidden activation 0.106 for $\rho = 0.1$, and its filters are pen
# strokes; on the first 10,000 Fashion-MNIST images: 11.33 and 0.105.
#
# Things to try: fewer labelled examples (`i_train[:100]`): does the gap
# between features and pixels grow? Features learned from the labelled
# classes themselves (semi-supervised learning) instead of the others.
