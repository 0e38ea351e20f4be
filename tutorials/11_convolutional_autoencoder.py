# %% [markdown]
# # Tutorial 11: the convolutional autoencoder, and denoising images
#
# A convolution is a dense layer applied to every patch of an image; its
# backward pass is a convolution again, and the transposed convolution that
# decoders use to upsample is its adjoint. This tutorial checks each of those
# statements with numbers, then trains the Keras example's denoiser:
#
# 1. im2col on a tiny array: `Conv2D`'s output against explicit loops and
#    `scipy.signal.correlate`;
# 2. the gradient check of a `Conv2D` layer and of a small `ConvAutoencoder`;
# 3. the adjoint identity $\langle \mathcal C x, y\rangle = \langle x, \mathcal C^\top y\rangle$;
# 4. denoising Fashion-MNIST: the convolutional autoencoder against Gaussian
#    and median filters, PCA and a dense denoising autoencoder, in PSNR.
#
# Run it with `python tutorials/11_convolutional_autoencoder.py` from the
# repository root, or open it as a notebook (the `# %%` lines are cells). With
# `NUMPY_AE_FAST=1` the denoising part uses a few hundred images and one epoch
# (seconds); the full run trains on 10,000 images for 2 epochs (2 min 13 s on
# the shared 2-core machine at load 2-3). Figures go to
# `out/tutorials/11_convolutional_autoencoder/` (or `$NUMPY_AE_OUT/...`). The
# full experiment as a command: `python -m numpy_ae denoise-images`
# (`numpy_ae/experiments/denoise_images.py`).
#
# **Notation.** Images are `(N, C, H, W)`: N examples, C channels, H rows, W
# columns (channels first, as in PyTorch and CS231n). A `Conv2D(C, F, k)` holds
# `W (F, C, k, k)` and `b (F,)`.
#
# **Data.** Fashion-MNIST (or MNIST), whichever `numpy_ae.data.find_mnist` finds
# first (e.g. under `$NUMPY_AE_DATA`). Without either (fast mode never
# downloads) part 4 runs on font-drawn digits
# (`numpy_ae.experiments.self_taught.glyph_digits`) and says so.

# %%
import os
import pathlib

import numpy as np
from scipy.signal import correlate

from numpy_ae.nn.conv import Conv2D, ConvTranspose2D, im2col
from numpy_ae.models.convolutional import ConvAutoencoder
from numpy_ae.data import describe_dataset, find_mnist, load_mnist
from numpy_ae.experiments.denoise_images import add_noise, classical_methods, psnr
from numpy_ae.experiments.denoising import one_blas_thread
from numpy_ae.experiments.self_taught import glyph_digits
from numpy_ae.check.gradcheck import check_layer, check_model
from numpy_ae.nn.losses import SquaredError
from numpy_ae.nn.sequential import Sequential
from numpy_ae.analysis.plotting import save_image_grid
from numpy_ae.models.stacked import DenoisingAutoencoder

FAST = os.environ.get("NUMPY_AE_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NUMPY_AE_OUT", "out/tutorials")) / "11_convolutional_autoencoder"
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)


def bound(layer, seed=0):
    """Put ``layer`` in a one-layer Sequential (which gives it its W and b views), with random W and b."""
    Sequential([layer], SquaredError(), random_state=seed)
    r = np.random.default_rng(seed + 100)
    layer.W[...] = r.standard_normal(layer.W.shape)
    layer.b[...] = r.standard_normal(layer.b.shape)
    return layer


# %% [markdown]
# ## 1. im2col: a convolution is one matrix product
#
# Output pixel $(i, j)$ of channel $f$ reads the $C \times k \times k$ patch of
# the zero-padded input at $(s i, s j)$:
#
# $$Y_{n f i j} = b_f + \sum_{c, u, v} W_{f c u v}\, X^p_{n, c, s i + u, s j + v}.$$
#
# im2col lays every patch out as a row of the "columns" matrix, shape
# $(N H' W', C k k)$; the layer is then ONE product with the kernel flattened
# to $W_{mat}$ of shape $(F, C k k)$: $Z = \mathrm{cols}\, W_{mat}^\top + b$.
# Below: a 1-channel 4x4 image, its 4 patches of 3x3 (no padding), and the
# layer's output computed three ways.

# %%
x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)   # (N, C, H, W)
cols = im2col(x, (3, 3), (1, 1))                         # (N, H', W', C, kh, kw)
print("input:\n", x[0, 0])
print("columns matrix (one 3x3 patch per row):\n", cols.reshape(4, 9))

conv = bound(Conv2D(2, 3, 3, stride=1, padding=1))       # C=2 -> F=3, "same" padding
X = rng.standard_normal((2, 2, 5, 6))
Y = conv.forward(X, training=False)

# Explicit loops over the definition.
Xp = np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)))
Y_loops = np.zeros_like(Y)
for n in range(2):
    for f in range(3):
        for i in range(5):
            for j in range(6):
                Y_loops[n, f, i, j] = conv.b[f] + np.sum(conv.W[f] * Xp[n, :, i:i + 3, j:j + 3])
# scipy: a "valid" 3-D cross-correlation over (C, H, W) of the padded image with each kernel.
Y_scipy = np.stack([np.stack([correlate(Xp[n], conv.W[f], mode="valid")[0] + conv.b[f] for f in range(3)])
                    for n in range(2)])
print(f"max |Conv2D - loops| = {np.abs(Y - Y_loops).max():.1e}, max |Conv2D - scipy| = {np.abs(Y - Y_scipy).max():.1e}")
assert np.allclose(Y, Y_loops, rtol=0, atol=1e-12) and np.allclose(Y, Y_scipy, rtol=0, atol=1e-12)

# %% [markdown]
# ## 2. Gradient checks
#
# The backward pass is the dense backward row by row
# ($\partial J/\partial W_{mat} \mathrel{+}= \delta^\top \mathrm{cols}$,
# $\partial J/\partial \mathrm{cols} = \delta W_{mat}$), then col2im, which
# scatter-adds each patch gradient back to where the patch came from. The
# gradient checker (`numpy_ae.check.gradcheck`) compares it with centred differences,
# for a strided, padded `Conv2D` and for a whole small `ConvAutoencoder`
# (two convolution-pool blocks, two stride-2 transposed convolutions,
# cross-entropy from logits). float64 throughout.

# %%
result = check_layer(Conv2D(2, 3, 3, stride=2, padding=1), rng.standard_normal((2, 2, 7, 6)), random_state=1)
print(result.report())
assert result.ok

ae = ConvAutoencoder(image_shape=(2, 6, 6), filters=(3, 2), activation="elu", random_state=0).initialize(72)
Xs = rng.uniform(0.05, 0.95, (3, 72))   # no ties inside a pooling window, so max pooling is differentiable here
# eps 1e-5: at the default 1e-4 the truncation error of centred differences (which falls like eps^2) sits
# near the 1e-9 tolerance for this deeper network; the checker says so, and at 1e-5 it is ~1e-10.
result = check_model(ae.network_, Xs, eps=1e-5, name="small ConvAutoencoder")
print(result.report())
assert result.ok

# %% [markdown]
# ## 3. The transposed convolution is the adjoint
#
# For fixed weights and no bias, a convolution is a linear map $\mathcal C$ from
# images to feature maps. Its adjoint $\mathcal C^\top$ satisfies
# $\langle \mathcal C x, y\rangle = \langle x, \mathcal C^\top y\rangle$ for
# every $x$ and $y$: it is exactly the input-gradient map of the convolution,
# and `ConvTranspose2D` with the SAME weight array computes it. A stride-2
# convolution halves an image; its transpose doubles one back, which is why
# the decoder uses it.

# %%
conv = bound(Conv2D(2, 3, 3, stride=2, padding=1), seed=1)
convt = bound(ConvTranspose2D(3, 2, 3, stride=2, padding=1), seed=2)
convt.W[...] = conv.W
conv.b[...] = 0.0
convt.b[...] = 0.0
x = rng.standard_normal((2, 2, 7, 7))
Cx = conv.forward(x, training=False)
y = rng.standard_normal(Cx.shape)
CTy = convt.forward(y, training=False)
lhs, rhs = float(np.sum(Cx * y)), float(np.sum(x * CTy))
print(f"x {x.shape} -> Cx {Cx.shape}; y {y.shape} -> C^T y {CTy.shape}")
print(f"<Cx, y> = {lhs:.12f}, <x, C^T y> = {rhs:.12f}, difference {abs(lhs - rhs):.1e}")
# Both sides sum the same few thousand products in different orders: float64 rounding, about 1e-14.
assert abs(lhs - rhs) < 1e-10 * max(1.0, np.abs(Cx * y).sum())

# %% [markdown]
# ## 4. Denoising images
#
# The Keras example "Convolutional autoencoder for image denoising" adds
# Gaussian noise, $\tilde x = \mathrm{clip}(x + 0.4\,\varepsilon, 0, 1)$, and
# trains `ConvAutoencoder.keras_denoiser()` (28,353 parameters: Conv 32 - pool -
# Conv 32 - pool, two stride-2 transposed convolutions of 32, a 3x3 convolution
# to one sigmoid channel) to output the CLEAN image from the noisy one:
# `fit(noisy, target=clean)`. We score every method by the PSNR (peak 1) of the
# mean squared error pooled over all test pixels, $10\log_{10}(1/\mathrm{MSE})$.
# The Gaussian filter's $\sigma$, the median filter's size and PCA's $k$ are
# chosen on a validation split carved from the training images, never on the
# test images; the dense denoising autoencoder (the deeplearning.net dA,
# 784-500-784) trains on the same noisy-to-clean pairs.

# %%
def load_data():
    """(Fashion-)MNIST as float32 rows in [0, 1], or the font-drawn stand-in; and a name for it."""
    for name in ("fashion-mnist", "mnist"):
        try:
            path = find_mnist(name, download=False)
            X_tr, _, X_te, _ = load_mnist(name, data_home=path, dtype=np.float32, download=False)
        except (FileNotFoundError, OSError):
            continue
        print(describe_dataset(name, X_tr, X_te, path))
        return X_tr, X_te, "Fashion-MNIST" if name == "fashion-mnist" else "MNIST"
    print("=" * 78)
    print("NEITHER FASHION-MNIST NOR MNIST FOUND (set NUMPY_AE_DATA): running on SYNTHETIC font-drawn digits.")
    print("The PSNRs printed below are NOT (Fashion-)MNIST results.")
    print("=" * 78)
    X, _ = glyph_digits(3000, random_state=np.random.default_rng(1))
    X = X.astype(np.float32)
    return X[:2400], X[2400:], "synthetic glyph digits"


X_all, X_test, DATA = load_data()
n_train, n_val, n_test, epochs = (512, 200, 200, 1) if FAST else (10000, 2000, 2000, 2)
X_train, X_val, X_test = X_all[:n_train], X_all[-n_val:], X_test[:n_test]
Xn_train, Xn_val, Xn_test = (add_noise(X, "gaussian", 0.4, random_state=[0, k])
                             for k, X in enumerate((X_train, X_val, X_test)))
print(f"{DATA}: {n_train} training, {n_val} validation, {n_test} test images; noisy test PSNR "
      f"{psnr(Xn_test, X_test):.2f} dB")

choices, val_scores, outputs = classical_methods(X_train, Xn_val, X_val, Xn_test)
print("chosen on the validation split:", choices)

batch = 32 if FAST else 128
conv_ae = ConvAutoencoder.keras_denoiser(epochs=epochs, batch_size=batch, learning_rate=0.01 if FAST else None,
                                         dtype="float32", random_state=0, verbose=1)
dense = DenoisingAutoencoder(corruption_level=0.0, hidden_layer_sizes=(100,) if FAST else (500,),
                             epochs=1 if FAST else 5, dtype="float32", random_state=0)
with one_blas_thread():  # small products: one BLAS thread is faster on a busy machine
    dense.fit(Xn_train, target=X_train)
    conv_ae.fit(Xn_train, target=X_train, validation_data=(Xn_val, X_val))
outputs["dense dae"] = dense.reconstruct(Xn_test)
outputs["conv ae"] = conv_ae.reconstruct(Xn_test)

print(f"\ntest PSNR in dB ({n_test} images): noisy {psnr(Xn_test, X_test):.2f}")
for name, Xh in outputs.items():
    print(f"  {name:16s} {psnr(Xh, X_test):.2f}")
print(f"conv AE: {conv_ae.n_params_} parameters, {np.mean(conv_ae.history_['seconds']):.1f} s per epoch")

rows = [("clean", X_test[:10]), ("noisy", Xn_test[:10])]
rows += [(name, np.clip(np.asarray(Xh[:10], dtype=np.float64), 0, 1)) for name, Xh in outputs.items()]
path = save_image_grid(rows, OUT / "denoised.png", image_shape=(28, 28),
                       title=f"{DATA}: Gaussian noise 0.4, {epochs} epoch(s) of the conv AE")
print("wrote", path)

# %% [markdown]
# **What to look for.** With so few images and steps (fast mode) the conv AE
# only starts to beat the noisy input, and PCA or a filter may still win. The
# full mode measured (Fashion-MNIST, 2,000 test images): noisy 10.71 dB,
# Gaussian filter 14.42, median 14.99, PCA 15.42, dense dA (5 epochs) 18.22,
# conv AE (2 epochs on 10,000 images) 16.40. On the full training set the
# convolutional autoencoder is ahead of every classical method after one epoch (see the README's table for the measured
# figures of `python -m numpy_ae denoise-images`). The filters blur edges and
# textures together with the noise; the autoencoder has learned what clothes
# look like and restores their outlines.
