r"""``python -m numpy_ae linear-decoder``: UFLDL's linear-decoder exercise on 8x8 colour patches.

A sparse autoencoder whose output layer is the identity (a *linear decoder*),
trained on ZCA-whitened 8x8x3 colour patches: 192-400-192, rho 0.035,
lambda 3e-3, beta 5, epsilon 0.1, L-BFGS for 400 iterations (UFLDL's values).

Why linear. Whitened patches are not in [0, 1] (here about [-1.8, 1.9]), so a
sigmoid output could never reproduce them. With :math:`\hat x = a^{(3)} = z^{(3)}`
the output delta loses the sigmoid factor:
:math:`\delta^{(3)} = (\hat x - x)/N` instead of
:math:`(\hat x - x) \odot \hat x \odot (1 - \hat x)/N`. The hidden layer stays a
sigmoid, so the KL sparsity penalty still applies.

Preprocessing (UFLDL's ``linearDecoderExercise.m``, rows as examples)::

    meanPatch = mean over patches        -> ZCAWhitening.mean_   (D,)
    sigma     = x x' / numPatches        -> 1/N covariance after centring
    ZCAWhite  = U diag(1/sqrt(S + eps)) U' -> ZCAWhitening.W_    (D, D), symmetric
    patches   = ZCAWhite * patches       -> (X - mean_) @ W_

With pixels in [0, 1] and ``epsilon = 0.1`` only the few directions whose
variance exceeds 0.1 are really whitened (the rest are damped by
``lambda / (lambda + epsilon)``): epsilon acts as a low-pass filter, which is
what makes the learned features smooth rather than pixel noise.

Data. UFLDL samples 100,000 patches from the 96 x 96 images of STL-10. Here
they come from the colour photograph shipped with matplotlib
(:func:`numpy_ae.data.load_color_images`, eight rotated/mirrored 512 x 512
copies), first shrunk 4x by averaging 4 x 4 pixel blocks (``downsample=4``,
giving 128 x 128 images, the scale of STL-10). Why: an 8x8 patch of the
512 x 512 crop spans 1/64 of the picture and is nearly flat, so almost all its
variance lies in the uniform (DC) colour directions and only 7 of 192
directions have variance above epsilon; the autoencoder then spends about a
third of its units on uniform colour tiles (measured with the other defaults:
125 of 400 filters have over 80% of their energy in the per-channel means).
At 128 x 128 a patch spans 1/16 of the picture and holds edges and texture as
an STL-10 patch does: 11 directions exceed epsilon, the uniform tiles drop to
49 of 400, and colour edge detectors (most energy off the grey axis) rise
from 20 to 70. ``downsample=1`` gives the plain pipeline.

Patch count and precision. The default is 20,000 patches in float32, not
UFLDL's 100,000 in float64. One cost-and-gradient evaluation of a 192-400-192
network is five matrix products of ``2 N D H`` flops each (two forward, two
weight gradients, the hidden delta: 15 GFLOP at 20,000 patches), and 400
L-BFGS iterations take about 420 evaluations. An evaluation costs in
proportion to the patches, and float64 costs more than float32, so UFLDL's
setting costs more than ten times the default (figures in
``benchmarks/README.md``). With 20,000 patches (about 100 per input
dimension) the cost changes by only 0.2% over the last 100 iterations and the
filters are clean. ``--patches 100000 --dtype float64`` is UFLDL's setting.
The gradient is checked in float64 whatever the training precision
(``python -m numpy_ae gradcheck``, check ``sparse_autoencoder_linear_decoder``).

Figure. Hidden unit ``j`` computes ``sigmoid((x - mean) @ W_zca @ W[:, j] + b_j)``
on a raw patch ``x``, so its filter in pixel space is column ``j`` of
``W_zca @ W``: UFLDL's ``W * ZCAWhite`` (its ``W`` is our ``W.T``), drawn as
colour tiles, each scaled by its own largest absolute value, mid-grey = 0.
Expected (default run): mostly small, localised, oriented light-dark edge and
bar detectors in grey, at every orientation and position; colour-opponent
edges and bars (orange against blue); a few red blobs; and about one in eight
units a uniform or centre-surround colour tile (green, violet, salmon), the
large flat colour areas of this one photograph.
"""
from __future__ import annotations

import os

import numpy as np

from .._validation import check_positive_int
from ..models.autoencoders import SparseAutoencoder
from .claims import claim
from .registry import add_output, command, emit
from ..data import load_color_images, sample_patches
from ..models.pca import ZCAWhitening
from ..analysis.plotting import save_tiles

PATCHES = 20000    # default patch count (UFLDL: 100,000); see the module docstring
DTYPE = "float32"  # default training precision (UFLDL: double); see the module docstring
DOWNSAMPLE = 4     # 512 x 512 -> 128 x 128, STL-10's scale; see the module docstring


def downsample_images(images, factor):
    r"""Shrink images by averaging ``factor x factor`` pixel blocks: ``(n, H, W, C) -> (n, H//f, W//f, C)``.

    .. math:: y_{i j} = \frac{1}{f^2} \sum_{a, b = 0}^{f - 1} x_{f i + a,\; f j + b}

    (a box filter, then keeping every ``f``-th pixel: no aliasing of the
    frequencies it keeps worth worrying about at 8x8). Rows and columns that
    do not fill a whole block are dropped. ``factor=1`` returns ``images`` unchanged.
    """
    f = check_positive_int(factor, "downsample")
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 4:
        raise ValueError(f"images must be a 4-D (n, H, W, C) array; got shape {images.shape}")
    n, H, W, C = images.shape
    if H // f < 8 or W // f < 8:
        raise ValueError(f"downsample must leave images of at least 8 x 8 pixels for 8x8 patches; "
                         f"got downsample={f} for images of {H} x {W}")
    if f == 1:
        return images
    H, W = H // f * f, W // f * f
    return images[:, :H, :W].reshape(n, H // f, f, W // f, f, C).mean(axis=(2, 4))


def whitened_color_patches(n, epsilon=0.1, downsample=DOWNSAMPLE, random_state=None):
    r"""Sample ``n`` raw 8x8x3 colour patches and ZCA-whiten them: ``(Xw (N, 192), zca)``.

    The images are :func:`numpy_ae.data.load_color_images` shrunk by
    :func:`downsample_images`; the raw patches ``X`` are in [0, 1], channel-last
    rows (pixel ``(r, c)`` channel ``k`` at column ``(8 r + c) 3 + k``). ``zca``
    is the fitted :class:`~numpy_ae.models.pca.ZCAWhitening`: UFLDL's ``meanPatch``
    is ``zca.mean_``, its ``ZCAWhite`` is ``zca.W_``, and
    ``Xw = (X - zca.mean_) @ zca.W_``.
    """
    images = downsample_images(load_color_images(), downsample)
    X = sample_patches(images, n=n, size=8, random_state=random_state, normalize=None)
    zca = ZCAWhitening(epsilon=epsilon).fit(X)
    return zca.transform(X), zca


def pixel_filters(ae, zca):
    r"""Filters in pixel space, one row per hidden unit: ``(W_zca @ W).T``, shape ``(H, D)``.

    UFLDL's ``W * ZCAWhite`` (its ``W`` is our ``W.T``, and ``ZCAWhite`` is
    symmetric): the first layer composed with the whitening, so row ``j`` is
    the pattern hidden unit ``j`` correlates a mean-subtracted raw patch with.
    """
    return (zca.W_ @ ae.network_.layers[0].W.astype(np.float64)).T


def reconstruction_error(ae, Xw):
    r"""UFLDL's reconstruction term :math:`\frac{1}{2N}\sum_n \lVert \hat x_n - x_n \rVert^2` on ``Xw (N, D)``."""
    R = ae.reconstruct(Xw).astype(np.float64) - Xw
    return float(0.5 * np.einsum("ij,ij->", R, R) / Xw.shape[0])


def run(out="out/linear-decoder", iterations=400, hidden=400, patches=PATCHES, sparsity=0.035, beta=5.0,
        weight_decay=3e-3, epsilon=0.1, downsample=DOWNSAMPLE, dtype=DTYPE, seed=0, verbose=10):
    r"""Whiten colour patches, train the linear decoder, write the figure; return ``(model, result_dict)``.

    Writes into ``out``: ``filters.png`` (the ``H`` pixel-space filters of
    :func:`pixel_filters` as colour tiles), ``linear_decoder.npz`` (the model;
    :func:`numpy_ae.load` reads it) and ``zca_whitening.npz`` (``mean`` ``(D,)``,
    ``W`` ``(D, D)``, ``epsilon``: what UFLDL's next exercise, convolution and
    pooling, needs to apply the features to new images).

    ``result_dict`` holds ``cost`` (final objective), ``mean_activation``
    (compare with ``sparsity``), ``seconds`` (training), ``iterations``,
    ``n_patches``, ``n_hidden``, and ``reconstruction_error`` with
    ``data_variance``: the first term of the cost, and the same term for the
    constant prediction ``x_hat = 0`` (the mean of the whitened patches),
    :math:`\frac{1}{2N}\sum_n \lVert x_n \rVert^2`; ``claims``
    (:mod:`numpy_ae.experiments.claims`): the error below a quarter of that, the
    mean activation within 25% of ``sparsity``.
    """
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    Xw, zca = whitened_color_patches(patches, epsilon=epsilon, downsample=downsample, random_state=rng)
    n_white = int((zca.explained_variance_ > epsilon).sum())
    print(f"{Xw.shape[0]} colour patches of 8x8x3 from the photograph shipped with matplotlib "
          f"(shrunk {downsample}x), ZCA-whitened with epsilon {epsilon}: "
          f"{n_white} of {Xw.shape[1]} directions have variance > epsilon; values in "
          f"[{Xw.min():.2f}, {Xw.max():.2f}]", flush=True)
    ae = SparseAutoencoder(n_hidden=hidden, sparsity=sparsity, beta=beta, weight_decay=weight_decay,
                           decoder="linear", max_iter=iterations, verbose=verbose, dtype=dtype, random_state=rng)
    print(f"training {Xw.shape[1]}-{hidden}-{Xw.shape[1]} linear decoder ({dtype}) with L-BFGS, "
          f"{iterations} iterations", flush=True)
    ae.fit(Xw)
    mean_act = ae.mean_activation(Xw)
    rec, var = reconstruction_error(ae, Xw), float(0.5 * np.einsum("ij,ij->", Xw, Xw) / Xw.shape[0])

    fig = save_tiles(pixel_filters(ae, zca), os.path.join(out, "filters.png"), channels=3,
                     title=f"{hidden} features (W * ZCAWhite) from 8x8 colour patches")
    path = ae.save(os.path.join(out, "linear_decoder.npz"))
    zca_path = os.path.join(out, "zca_whitening.npz")
    np.savez(zca_path, mean=zca.mean_, W=zca.W_, epsilon=np.array(float(epsilon)))
    result = {"cost": ae.cost_, "mean_activation": mean_act, "seconds": ae.fit_seconds_,
              "iterations": ae.n_iter_, "n_patches": int(Xw.shape[0]), "n_hidden": hidden,
              "reconstruction_error": rec, "data_variance": var}
    src = "UFLDL, Linear Decoders exercise (rho 0.035: the mean activation should approach it)"
    result["claims"] = [
        # measured at the defaults: 0.14 of the constant prediction's error (tests/experiments/test_linear_decoder.py)
        claim("The linear decoder reconstructs the whitened patches far better than x_hat = 0 (error below a quarter "
              "of that of the constant prediction; the cost's first term)", rec < 0.25 * var, rec, var, source=src),
        claim(f"L-BFGS brings the mean hidden activation within 25% of the sparsity target rho = {sparsity:g}",
              abs(mean_act - sparsity) <= 0.25 * sparsity, mean_act, source=src)]
    print(f"cost {ae.cost_:.6f} after {ae.n_iter_} iterations (L-BFGS: {ae.message_.lower()}) in {ae.fit_seconds_:.2f} s; mean hidden "
          f"activation {mean_act:.4f} (target rho {sparsity}); reconstruction error {rec:.4f} against "
          f"{var:.4f} for x_hat = 0\nwrote {fig}, {path} and {zca_path}", flush=True)
    return ae, result


@command("linear-decoder", "UFLDL's linear decoder: sparse autoencoder on ZCA-whitened 8x8 colour patches")
def cmd_linear_decoder(args):
    _, result = run(out=args.out, iterations=args.iterations, hidden=args.hidden, patches=args.patches,
                    epsilon=args.epsilon, downsample=args.downsample, dtype=args.dtype, seed=args.seed,
                    verbose=0 if args.quiet else 10)
    emit(args, result, "")
    return 0


def _configure(p):
    add_output(p, "--out", kind="folder", default="out/linear-decoder", help="folder for filters.png and the models")
    p.add_argument("--patches", type=int, default=PATCHES,
                   help=f"number of patches (UFLDL: 100000; default {PATCHES}: about 2 minutes)")
    p.add_argument("--iterations", type=int, default=400, help="L-BFGS iterations (UFLDL: 400)")
    p.add_argument("--hidden", type=int, default=400, help="hidden units (UFLDL: 400)")
    p.add_argument("--epsilon", type=float, default=0.1, help="ZCA whitening regulariser (UFLDL: 0.1)")
    p.add_argument("--downsample", type=int, default=DOWNSAMPLE,
                   help=f"shrink the photographs by this factor first (default {DOWNSAMPLE}: 128 x 128, "
                        "the scale of UFLDL's STL-10 images; 1: full size)")
    p.add_argument("--dtype", choices=["float64", "float32"], default=DTYPE,
                   help=f"precision of the cost computation (default {DTYPE}: 2.5x faster than float64 here)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--quiet", action="store_true", help="no per-iteration progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_linear_decoder.configure = _configure
