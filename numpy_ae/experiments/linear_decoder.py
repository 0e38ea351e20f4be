r"""``python -m numpy_ae linear-decoder``: UFLDL's linear-decoder exercise on 8x8 colour patches.

A sparse autoencoder whose output layer is the identity (a *linear decoder*),
trained on ZCA-whitened 8x8x3 colour patches: 192-400-192, rho 0.035,
lambda 3e-3, beta 5, epsilon 0.1, L-BFGS for 400 iterations (UFLDL's values).

Why linear. Whitened patches are not in [0, 1] (here roughly [-2.3, 2.3]), so a
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

Data. UFLDL samples 100,000 patches from STL-10. Here they come from the
colour photograph shipped with matplotlib (:func:`numpy_ae.data.load_color_images`).
The default is 20,000 patches: one cost-and-gradient evaluation of a
192-400-192 network costs about ``12 N D H`` flops (forward, backward and the
weight gradients of both layers), and 400 L-BFGS iterations need about 420
evaluations, so the default run stays around two minutes on two cores in
float32, five to ten in float64 (``--patches 100000`` multiplies that by five);
20,000 patches are 100 per parameter of each filter's 192 and already give
clean filters. Pass ``--patches 100000`` for UFLDL's count.

Figure. Hidden unit ``j`` computes ``sigmoid((x - mean) @ W_zca @ W[:, j] + b_j)``
on a raw patch ``x``, so its filter in pixel space is column ``j`` of
``W_zca @ W``: UFLDL's ``W * ZCAWhite`` (its ``W`` is our ``W.T``), drawn as
colour tiles. Expected: grey and colour edge detectors (oriented, localised,
often red-green or blue-yellow opponent) and colour blobs.
"""
from __future__ import annotations

import os

import numpy as np

from ..autoencoders import SparseAutoencoder
from ..cli import _emit, command
from ..data import load_color_images, sample_patches
from ..pca import ZCAWhitening

PATCHES = 20000  # default patch count; see the module docstring for why not 100,000


def whitened_color_patches(n, epsilon=0.1, random_state=None):
    r"""Sample ``n`` raw 8x8x3 colour patches and ZCA-whiten them: ``(Xw (N, 192), zca)``.

    ``zca`` is the fitted :class:`~numpy_ae.pca.ZCAWhitening` (UFLDL's
    ``meanPatch`` is ``zca.mean_``, its ``ZCAWhite`` is ``zca.W_``), and
    ``Xw = (X - zca.mean_) @ zca.W_`` with ``X`` the raw patches in [0, 1],
    channel-last rows (pixel ``(r, c)`` channel ``k`` at column ``(8 r + c) 3 + k``).
    """
    X = sample_patches(load_color_images(), n=n, size=8, random_state=random_state, normalize=None)
    zca = ZCAWhitening(epsilon=epsilon).fit(X)
    return zca.transform(X), zca


def pixel_filters(ae, zca):
    r"""Filters in pixel space, one row per hidden unit: ``(W_zca @ W).T``, shape ``(H, D)``.

    UFLDL's ``W * ZCAWhite``: the first layer composed with the whitening, so
    row ``j`` is what hidden unit ``j`` correlates a (mean-subtracted) raw patch with.
    """
    return (zca.W_ @ ae.network_.layers[0].W.astype(np.float64)).T


def reconstruction_error(ae, Xw):
    r"""UFLDL's reconstruction term :math:`\frac{1}{2N}\sum_n \lVert \hat x_n - x_n \rVert^2` on ``Xw (N, D)``."""
    R = ae.reconstruct(Xw).astype(np.float64) - Xw
    return float(0.5 * np.einsum("ij,ij->", R, R) / Xw.shape[0])


def run(out="out/linear-decoder", iterations=400, hidden=400, patches=PATCHES, sparsity=0.035, beta=5.0,
        weight_decay=3e-3, epsilon=0.1, dtype="float64", seed=0, verbose=10):
    r"""Whiten colour patches, train the linear decoder, write the figure; return ``(model, result_dict)``.

    Writes ``filters.png`` (the ``H`` pixel-space filters as colour tiles),
    ``linear_decoder.npz`` (the model, :func:`numpy_ae.load` reads it) and
    ``zca_whitening.npz`` (``mean`` ``(D,)``, ``W`` ``(D, D)``, ``epsilon``: what
    the next UFLDL exercise, convolution and pooling, needs to apply the features).

    ``result_dict`` holds ``cost`` (final objective), ``mean_activation``
    (compare with ``sparsity``), ``seconds`` (training), ``iterations``,
    ``n_patches``, ``n_hidden``, and ``reconstruction_error`` with
    ``data_variance``: the first term of the cost, and the same term for the
    constant prediction ``x_hat = 0`` (the mean of the whitened patches), i.e.
    :math:`\frac{1}{2N}\sum_n \lVert x_n \rVert^2`.
    """
    from ..plotting import save_tiles

    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    Xw, zca = whitened_color_patches(patches, epsilon=epsilon, random_state=rng)
    n_white = int((zca.explained_variance_ > epsilon).sum())
    print(f"{Xw.shape[0]} colour patches of 8x8x3 from the photograph shipped with matplotlib, "
          f"ZCA-whitened with epsilon {epsilon} ({n_white} of {Xw.shape[1]} directions have variance "
          f"> epsilon); whitened values in [{Xw.min():.2f}, {Xw.max():.2f}]", flush=True)
    ae = SparseAutoencoder(n_hidden=hidden, sparsity=sparsity, beta=beta, weight_decay=weight_decay,
                           decoder="linear", dtype=dtype, random_state=rng)
    print(f"training {Xw.shape[1]}-{hidden}-{Xw.shape[1]} linear decoder ({dtype}) with L-BFGS, "
          f"{iterations} iterations", flush=True)
    ae.fit(Xw, max_iter=iterations, verbose=verbose)
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
    print(f"cost {ae.cost_:.6f} after {ae.n_iter_} iterations in {ae.fit_seconds_:.2f} s; mean hidden "
          f"activation {mean_act:.4f} (target rho {sparsity}); reconstruction error {rec:.4f} against "
          f"{var:.4f} for x_hat = 0\nwrote {fig}, {path} and {zca_path}", flush=True)
    return ae, result


@command("linear-decoder", "UFLDL's linear decoder: sparse autoencoder on ZCA-whitened 8x8 colour patches")
def cmd_linear_decoder(args):
    _, result = run(out=args.out, iterations=args.iterations, hidden=args.hidden, patches=args.patches,
                    epsilon=args.epsilon, dtype=args.dtype, seed=args.seed, verbose=0 if args.quiet else 10)
    _emit(args, result, "")
    return 0


def _configure(p):
    p.add_argument("--out", default="out/linear-decoder", help="folder for filters.png and the model")
    p.add_argument("--patches", type=int, default=PATCHES,
                   help=f"number of patches (UFLDL: 100000; default {PATCHES} keeps the run to minutes)")
    p.add_argument("--iterations", type=int, default=400, help="L-BFGS iterations (UFLDL: 400)")
    p.add_argument("--hidden", type=int, default=400, help="hidden units (UFLDL: 400)")
    p.add_argument("--epsilon", type=float, default=0.1, help="ZCA whitening regulariser (UFLDL: 0.1)")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                   help="precision of the cost computation (float32: about 2x faster)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--quiet", action="store_true", help="no per-iteration progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_linear_decoder.configure = _configure
