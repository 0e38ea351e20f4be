r"""``python -m numpy_ae denoise-images``: denoising images with a convolutional autoencoder.

The Keras example "Convolutional autoencoder for image denoising" trains a
small convolutional autoencoder (:meth:`numpy_ae.models.convolutional.ConvAutoencoder.keras_denoiser`,
28,353 parameters) to map noisy images to clean ones. This command does the
same and compares it, on the same noisy test images, with the classical
alternatives and with a dense denoising autoencoder.

Noise (:func:`add_noise`; every kind is clipped to [0, 1] and seeded)
---------------------------------------------------------------------
``gaussian`` (default, level 0.4, the Keras example's ``noise_factor``)
    :math:`\tilde x = \mathrm{clip}(x + L\,\varepsilon, 0, 1)`, :math:`\varepsilon \sim N(0, 1)` per pixel;
``masking`` (default level 0.3, the deeplearning.net dA's)
    each pixel is set to 0 with probability :math:`L`;
``salt-pepper`` (default level 0.2)
    each pixel is replaced with probability :math:`L`, by 0 or 1 with equal odds.

The noise is drawn once (fixed noisy/clean pairs, as in the Keras example),
from three independent streams of one seed for the training, validation and
test images.

The figure of merit (:func:`psnr`)
----------------------------------
Peak signal-to-noise ratio in dB with peak 1, of the mean squared error POOLED
over all test images and pixels,

.. math:: \mathrm{PSNR} = 10 \log_{10} \frac{1}{\frac{1}{N D}\sum_{n,d} (\hat x_{nd} - x_{nd})^2},

the same formula for every method (pooling, rather than averaging per-image
PSNRs, keeps one nearly perfect image from dominating, and stays finite).

The methods
-----------
``noisy``
    the noisy input itself (the floor);
``gaussian filter``, ``median filter``
    :func:`scipy.ndimage.gaussian_filter` (``sigma``) and
    :func:`scipy.ndimage.median_filter` (``size``), applied to each 28x28 image;
    the parameter is the one with the best PSNR on the VALIDATION split (the
    last ``--n-val`` training images, never used for training; the test images
    play no part in any choice);
``pca``
    projection onto the first ``k`` principal directions of the CLEAN training
    images, clipped to [0, 1]: :math:`\hat x = \mu + (\tilde x - \mu) V_k^\top V_k`.
    Fitted on clean images because the question is "which subspace do clean
    images live in" and every learned method here sees the clean training
    images too (as targets); ``k`` is chosen on the validation split;
``dense dae``
    :class:`numpy_ae.models.stacked.DenoisingAutoencoder` (the deeplearning.net dA:
    784-500-784 tied, sigmoid, cross-entropy, SGD with learning rate 0.1 on
    minibatches of 20), trained on the SAME noisy-to-clean pairs with
    ``fit(noisy, target=clean)`` and its own corruption switched off
    (``corruption_level=0``), so that both autoencoders see exactly the same data;
``conv ae``
    the Keras preset, Adam, minibatches of 128, trained with
    ``fit(noisy, target=clean, validation_data=(noisy_val, clean_val))``.

Writes ``denoised.png`` into ``--out`` (rows: clean, noisy, each method's output
for ten test images, on one grey scale from 0 to 1) and prints a table; with
``--json`` the last line holds ``psnr_noisy``, ``psnr_conv_ae``,
``psnr_dense_dae``, ``psnr_best_classical`` (the best of the two filters and
PCA), ``sec_per_epoch`` (the conv AE's mean epoch wall time, including its
validation pass), ``epochs``, ``n_params``, and ``psnr_gaussian_filter``,
``psnr_median_filter``, ``psnr_pca``, ``best_classical``, ``gaussian_sigma``,
``median_size``, ``pca_components``, the validation scores of every
candidate, ``dense_sec_per_epoch``, ``conv_val_loss``, the sizes, the noise,
the seed and ``claims`` (:mod:`~numpy_ae.experiments.denoise_claims`).

Threads. Training runs with one BLAS thread (:func:`~numpy_ae.experiments.denoising.one_blas_thread`):
on a machine busy with other processes a minibatch through the conv AE is
slower with OpenBLAS's default threads than with one; see ``benchmarks/README.md``.
"""
from __future__ import annotations

import numbers
import os
import time

import numpy as np

from .._validation import check_positive_int
from .registry import add_output, command, emit
from .denoise_claims import denoise_claims
from .denoising import one_blas_thread
from .mnist_sparse import DATASETS, add_data_options, load_dataset
from ..data import dataset_title
from ..analysis.plotting import PIXEL_RANGE, save_image_grid
from ..models.convolutional import ConvAutoencoder
from ..models.pca import PCA
from ..models.stacked import DenoisingAutoencoder

__all__ = ["NOISES", "DEFAULT_LEVELS", "add_noise", "psnr", "gaussian_filter_images", "median_filter_images",
           "pca_denoiser", "choose_parameter", "classical_methods", "run"]

#: The noise kinds ``--noise`` accepts, with their default levels.
NOISES = ("gaussian", "masking", "salt-pepper")
DEFAULT_LEVELS = {"gaussian": 0.4, "masking": 0.3, "salt-pepper": 0.2}
_LEVEL_MEANING = {"gaussian": "standard deviation of the added noise",
                  "masking": "probability of zeroing a pixel",
                  "salt-pepper": "probability of setting a pixel to 0 or 1"}

#: Candidate parameters tried on the validation split.
SIGMAS = (0.3, 0.5, 0.7, 0.85, 1.0, 1.25, 1.5, 2.0)
MEDIAN_SIZES = (2, 3, 4, 5, 6, 7)
PCA_COMPONENTS = (8, 16, 24, 32, 48, 64, 96, 128, 192, 256)


def _check_level(noise, level):
    if noise not in NOISES:
        raise ValueError(f"noise must be one of {', '.join(NOISES)}; got {noise!r}")
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not np.isfinite(level):
        raise ValueError(f"level must be a finite number; got {level!r}")
    level = float(level)
    if noise == "gaussian" and level < 0:
        raise ValueError(f"level must be >= 0 for gaussian noise (the standard deviation); got {level}")
    if noise != "gaussian" and not 0.0 <= level <= 1.0:
        raise ValueError(f"level must be in [0, 1] for {noise} noise (the {_LEVEL_MEANING[noise]}); got {level}")
    return level


def add_noise(X, noise="gaussian", level=None, random_state=None):
    r"""Return a noisy copy of ``X (N, D)`` (pixels in [0, 1]), clipped to [0, 1], in ``X``'s dtype.

    ``noise="gaussian"``: :math:`\mathrm{clip}(x + L\varepsilon)`, :math:`\varepsilon \sim N(0,1)`;
    ``"masking"``: each pixel zeroed with probability :math:`L`;
    ``"salt-pepper"``: each pixel replaced with probability :math:`L` by 0 or 1 (equal odds).
    ``level=None`` takes :data:`DEFAULT_LEVELS`. ``random_state`` seeds a
    :class:`numpy.random.Generator` (the same seed gives the same noise).
    """
    level = _check_level(noise, DEFAULT_LEVELS.get(noise) if level is None else level)
    X = np.asarray(X)
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"X must hold floating-point pixels in [0, 1]; got dtype {X.dtype}")
    rng = np.random.default_rng(random_state)
    if noise == "gaussian":
        noisy = X + level * rng.standard_normal(X.shape)
    elif noise == "masking":
        noisy = np.where(rng.random(X.shape) < level, 0.0, X)
    else:
        hit = rng.random(X.shape) < level
        noisy = np.where(hit, (rng.random(X.shape) < 0.5).astype(X.dtype), X)
    return np.clip(noisy, 0.0, 1.0).astype(X.dtype, copy=False)


def psnr(X_hat, X):
    r"""PSNR in dB, peak 1, of the mean squared error pooled over all images and pixels:
    :math:`10 \log_{10}(1 / \mathrm{MSE})`, :math:`\mathrm{MSE} = \frac{1}{ND}\sum (\hat x - x)^2`
    (``inf`` when they are equal)."""
    X_hat, X = np.asarray(X_hat, dtype=np.float64), np.asarray(X, dtype=np.float64)
    if X_hat.shape != X.shape:
        raise ValueError(f"X_hat must have X's shape {X.shape}; got {X_hat.shape}")
    mse = float(np.mean((X_hat - X) ** 2))
    return float("inf") if mse == 0 else float(10.0 * np.log10(1.0 / mse))


def _images(X, image_shape):
    return np.asarray(X).reshape((-1,) + tuple(image_shape))


def gaussian_filter_images(X, sigma, image_shape=(28, 28)):
    """Each row of ``X (N, h w)`` smoothed as an ``h x w`` image by a Gaussian of std ``sigma`` pixels."""
    from scipy.ndimage import gaussian_filter

    out = gaussian_filter(_images(X, image_shape), sigma=(0.0, sigma, sigma), mode="nearest")
    return out.reshape(np.shape(X))


def median_filter_images(X, size, image_shape=(28, 28)):
    """Each row of ``X (N, h w)`` through a ``size x size`` median filter as an ``h x w`` image."""
    from scipy.ndimage import median_filter

    out = median_filter(_images(X, image_shape), size=(1, size, size), mode="nearest")
    return out.reshape(np.shape(X))


def pca_denoiser(X_clean_train):
    r"""``project(X, k)``: the projection of ``X (N, D)`` onto the first ``k`` principal directions of
    ``X_clean_train``, :math:`\mu + (X - \mu) V_k^\top V_k`, clipped to [0, 1] (one PCA fit for every k)."""
    pca = PCA().fit(np.asarray(X_clean_train, dtype=np.float64))

    def project(X, k):
        V = pca.components_[:k]
        Xc = np.asarray(X, dtype=np.float64) - pca.mean_
        return np.clip(pca.mean_ + (Xc @ V.T) @ V, 0.0, 1.0)
    return project


def choose_parameter(denoise, candidates, X_val_noisy, X_val_clean):
    r"""The candidate with the best validation PSNR, and every candidate's PSNR.

    ``denoise(X_noisy, p)`` returns the denoised images for parameter ``p``;
    only the VALIDATION pair is read (the test set plays no part in the choice).
    Returns ``(best, {p: psnr})``; ties go to the first candidate.
    """
    scores = {p: psnr(denoise(X_val_noisy, p), X_val_clean) for p in candidates}
    best = max(candidates, key=lambda p: scores[p])  # max keeps the first of equal scores
    return best, scores


def classical_methods(X_train, X_val_noisy, X_val_clean, X_test_noisy, image_shape=(28, 28)):
    r"""The Gaussian filter, the median filter and PCA, each with its parameter chosen on the validation pair.

    ``X_train (N, D)`` are clean training images (PCA's fit); ``X_val_noisy``
    and ``X_val_clean`` the validation pair every choice is made on;
    ``X_test_noisy`` the images to denoise, read only AFTER the choices.
    Returns ``(choices, val_scores, outputs)``: dicts keyed by ``"gaussian filter"``,
    ``"median filter"``, ``"pca"`` of the chosen sigma / size / k, of every
    candidate's validation PSNR, and of the denoised ``X_test_noisy``.
    """
    project = pca_denoiser(X_train)
    ks = tuple(k for k in PCA_COMPONENTS if k <= min(X_train.shape))
    methods = {"gaussian filter": (lambda X, s: gaussian_filter_images(X, s, image_shape), SIGMAS),
               "median filter": (lambda X, m: median_filter_images(X, m, image_shape), MEDIAN_SIZES),
               "pca": (project, ks)}
    choices, val_scores, outputs = {}, {}, {}
    for name, (denoise, candidates) in methods.items():
        choices[name], val_scores[name] = choose_parameter(denoise, candidates, X_val_noisy, X_val_clean)
    for name, (denoise, _) in methods.items():
        outputs[name] = denoise(X_test_noisy, choices[name])
    return choices, val_scores, outputs


def _predict(model, X, batch_size=1000):
    return np.concatenate([model.reconstruct(X[s:s + batch_size]) for s in range(0, X.shape[0], batch_size)])


def run(dataset="fashion-mnist", noise="gaussian", level=None, epochs=1, n_train=None, n_val=5000, n_test=None,
        batch_size=128, learning_rate=None, dense_epochs=15, dense_hidden=500, dtype="float32", seed=0,
        out="out/denoise-images", verbose=True, data_home=None, download=True):
    r"""Train the conv AE and the dense dA on noisy-to-clean pairs, compare every method; return ``(result, models)``.

    Parameters
    ----------
    dataset : {"fashion-mnist", "mnist"}
    noise : {"gaussian", "masking", "salt-pepper"}
    level : float or None
        The noise level (``None``: :data:`DEFAULT_LEVELS`).
    epochs : int
        Conv AE epochs (Adam, minibatches of ``batch_size``, ``learning_rate`` or Adam's default).
    n_train : int or None
        Train on the first ``n_train`` training images (``None``: all but the validation ones).
    n_val : int
        The LAST ``n_val`` training images are the validation split (choices of sigma,
        size and k; the conv AE's validation loss).
    n_test : int or None
        The first ``n_test`` test images (``None``: all).
    dense_epochs, dense_hidden : int
        The dense dA's SGD epochs and hidden units.
    dtype : {"float32", "float64"}
    seed : int
        Noise (three streams: training, validation, test), initial weights and shuffling.
    out : str
        Folder for ``denoised.png``.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {dataset!r}")
    level = _check_level(noise, DEFAULT_LEVELS.get(noise) if level is None else level)
    epochs = check_positive_int(epochs, "epochs")
    dense_epochs = check_positive_int(dense_epochs, "dense_epochs")
    n_val = check_positive_int(n_val, "n_val")
    if n_train is not None:
        n_train = check_positive_int(n_train, "n_train")
    if n_test is not None:
        n_test = check_positive_int(n_test, "n_test")
    # Built (hyperparameters checked) before any data is read.
    conv = ConvAutoencoder.keras_denoiser(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                                          dtype=dtype, random_state=seed, verbose=int(verbose))
    dense = DenoisingAutoencoder(hidden_layer_sizes=(dense_hidden,), corruption_level=0.0, epochs=dense_epochs,
                                 dtype=dtype, random_state=seed, verbose=int(verbose))

    X_all, _, X_test, _, path = load_dataset(dataset, data_home=data_home, download=download, dtype=dtype)
    N = X_all.shape[0]
    if n_val >= N:
        raise ValueError(f"n_val must leave training images: the training split has {N}; got n_val={n_val}")
    n_fit = N - n_val if n_train is None else n_train
    if n_fit + n_val > N:
        raise ValueError(f"n_train + n_val must be <= {N} (the training split); got n_train={n_train}, "
                         f"n_val={n_val}")
    X_train, X_val = X_all[:n_fit], X_all[N - n_val:]
    X_test = X_test[:n_test]
    if batch_size > n_fit:
        raise ValueError(f"batch_size must be <= n_train ({n_fit}); got {batch_size}")
    rng_seeds = [[seed, k] for k in range(3)]  # independent noise streams for the three splits
    Xn_train, Xn_val, Xn_test = (add_noise(X, noise, level, random_state=s)
                                 for X, s in zip((X_train, X_val, X_test), rng_seeds))
    print(f"{noise} noise at level {level:g} ({_LEVEL_MEANING[noise]}), clipped to [0, 1]; "
          f"{n_fit} training, {n_val} validation (the last of the training split), {X_test.shape[0]} test images",
          flush=True)

    result = {"dataset": dataset, "data_path": str(path), "noise": noise, "level": level, "seed": seed,
              "n_train": n_fit, "n_val": n_val, "n_test": int(X_test.shape[0]), "dtype": dtype}
    outputs = {}

    # Classical filters and PCA: parameters chosen on the validation split.
    start = time.perf_counter()
    choices, val_scores, classical_out = classical_methods(X_train, Xn_val, X_val, Xn_test)
    outputs.update(classical_out)
    sigma, size, k = choices["gaussian filter"], choices["median filter"], choices["pca"]
    print(f"classical methods chosen on the validation split in {time.perf_counter() - start:.1f} s: "
          f"gaussian sigma {sigma:g}, median size {size}, PCA k = {k}", flush=True)

    # The dense dA and the conv AE on the same noisy -> clean pairs.
    print(f"dense dA 784-{dense_hidden}-784 (tied, sigmoid, cross-entropy), SGD lr {dense.learning_rate}, "
          f"minibatches of {dense.batch_size}, {dense_epochs} epochs, on noisy -> clean pairs", flush=True)
    with one_blas_thread():
        dense.fit(Xn_train, target=X_train)
    outputs["dense dae"] = _predict(dense, Xn_test)
    n_batches = -(-n_fit // batch_size)
    print(f"conv AE (Keras denoiser, {conv.__class__.__name__}.keras_denoiser), Adam, {n_batches} minibatches of "
          f"{batch_size} per epoch, {epochs} epochs, {dtype}", flush=True)
    with one_blas_thread():
        conv.fit(Xn_train, target=X_train, validation_data=(Xn_val, X_val))
    print(f"  conv AE: {conv.n_params_} parameters, {conv.fit_seconds_:.1f} s", flush=True)
    outputs["conv ae"] = _predict(conv, Xn_test)

    scores = {"noisy": psnr(Xn_test, X_test)}
    scores.update({name: psnr(Y, X_test) for name, Y in outputs.items()})
    classical = ("gaussian filter", "median filter", "pca")
    best_classical = max(classical, key=lambda m: scores[m])
    result.update({
        "psnr_noisy": scores["noisy"], "psnr_conv_ae": scores["conv ae"], "psnr_dense_dae": scores["dense dae"],
        "psnr_best_classical": scores[best_classical], "best_classical": best_classical,
        "psnr_gaussian_filter": scores["gaussian filter"], "psnr_median_filter": scores["median filter"],
        "psnr_pca": scores["pca"], "gaussian_sigma": sigma, "median_size": size, "pca_components": k,
        "val_psnr_gaussian_sigma": {str(p): v for p, v in val_scores["gaussian filter"].items()},
        "val_psnr_median_size": {str(p): v for p, v in val_scores["median filter"].items()},
        "val_psnr_pca_components": {str(p): v for p, v in val_scores["pca"].items()},
        "sec_per_epoch": float(np.mean(conv.history_["seconds"])), "epochs": epochs, "n_params": conv.n_params_,
        "conv_seconds": conv.fit_seconds_, "conv_val_loss": conv.history_["val_loss"][-1],
        "dense_sec_per_epoch": float(np.mean(dense.history_["seconds"])), "dense_epochs": dense_epochs,
        "batch_size": batch_size})
    result["claims"] = denoise_claims(result)

    print(f"\ntest PSNR (dB, peak 1, pooled MSE) on {X_test.shape[0]} {dataset} test images:")
    params = {"gaussian filter": f"sigma {sigma:g}", "median filter": f"size {size}", "pca": f"k = {k}",
              "dense dae": f"{dense_epochs} epochs", "conv ae": f"{epochs} epochs"}
    for name, value in scores.items():
        print(f"  {name:16s} {value:7.2f}   {params.get(name, '')}")

    os.makedirs(out, exist_ok=True)
    shown = slice(0, 10)
    rows = [("clean", X_test[shown]), ("noisy", Xn_test[shown])]
    short = {"gaussian filter": "gaussian", "median filter": "median", "pca": "PCA", "dense dae": "dense dA",
             "conv ae": "conv AE"}  # row labels of the figure: at most ~17 characters fit
    rows += [(f"{short[name]} {scores[name]:.1f} dB", Y[shown]) for name, Y in outputs.items()]
    name = dataset_title(dataset)
    fig = save_image_grid(rows, os.path.join(out, "denoised.png"), image_shape=(28, 28), value_range=PIXEL_RANGE,
                          title=f"{name} test images, {noise} noise at {level:g}; PSNR over all "
                                f"{X_test.shape[0]} test images")
    result["figure"] = str(fig)
    print(f"wrote {fig}", flush=True)
    return result, {"conv": conv, "dense": dense}


@command("denoise-images", "denoising images: the Keras conv autoencoder against filters, PCA and a dense dA")
def cmd_denoise_images(args):
    result, _ = run(dataset=args.dataset, noise=args.noise, level=args.level, epochs=args.epochs,
                    n_train=args.n_train, n_val=args.n_val, n_test=args.n_test, batch_size=args.batch_size,
                    learning_rate=args.learning_rate, dense_epochs=args.dense_epochs,
                    dense_hidden=args.dense_hidden, dtype=args.dtype, seed=args.seed, out=args.out,
                    verbose=not args.quiet, data_home=args.data_home, download=not args.no_download)
    emit(args, result, "")
    return 0


def _configure(p):
    add_data_options(p, default="fashion-mnist")
    p.add_argument("--noise", choices=NOISES, default="gaussian", help="noise process (default: gaussian)")
    p.add_argument("--level", type=float, default=None,
                   help="noise level: gaussian std (default 0.4), masking or salt-pepper probability "
                        "(defaults 0.3, 0.2)")
    p.add_argument("--epochs", type=int, default=1, help="conv AE epochs (default 1)")
    p.add_argument("--n-train", type=int, default=None,
                   help="train on the first N training images (default: all but the validation ones)")
    p.add_argument("--n-val", type=int, default=5000,
                   help="validation split: the last N training images (default 5000)")
    p.add_argument("--n-test", type=int, default=None, help="use the first N test images (default: all)")
    p.add_argument("--batch-size", type=int, default=128, help="conv AE minibatch size (default 128, Keras')")
    p.add_argument("--learning-rate", type=float, default=None, help="conv AE Adam step (default: Adam's 1e-3)")
    p.add_argument("--dense-epochs", type=int, default=15, help="dense dA SGD epochs (default 15, the tutorial's)")
    p.add_argument("--dense-hidden", type=int, default=500, help="dense dA hidden units (default 500)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="precision of training")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise, the weights and the shuffling")
    add_output(p, "--out", kind="folder", default="out/denoise-images", help="folder for denoised.png")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_denoise_images.configure = _configure
