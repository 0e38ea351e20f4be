r"""``python -m numpy_ae denoise-images``: denoising images with a convolutional autoencoder.

The Keras example "Convolutional autoencoder for image denoising" trains a
small convolutional autoencoder (:meth:`numpy_ae.models.convolutional.ConvAutoencoder.keras_denoiser`,
28,353 parameters) to map noisy images to clean ones. This command does the
same and compares it, on the same noisy test images, with the classical
alternatives and with a dense denoising autoencoder, at equal epochs and at
equal training seconds.

Noise (:func:`~numpy_ae.experiments.denoise_methods.add_noise`; every kind is clipped to [0, 1] and seeded)
-----------------------------------------------------------------------------------------------------------
``gaussian`` (default, level 0.4, the Keras example's ``noise_factor``)
    :math:`\tilde x = \mathrm{clip}(x + L\,\varepsilon, 0, 1)`, :math:`\varepsilon \sim N(0, 1)` per pixel;
``masking`` (default level 0.3, the deeplearning.net dA's)
    each pixel is set to 0 with probability :math:`L`;
``salt-pepper`` (default level 0.2)
    each pixel is replaced with probability :math:`L`, by 0 or 1 with equal odds.

The noise is drawn once (fixed noisy/clean pairs, as in the Keras example),
from three independent streams of one seed for the training, validation and
test images.

The figures of merit (:mod:`numpy_ae.analysis.image_quality`)
-------------------------------------------------------------
PSNR in dB with peak 1 of the mean squared error POOLED over all test images
and pixels, :math:`10 \log_{10}(1/\mathrm{MSE})`, and SSIM (Wang et al. 2004;
7x7 uniform window, :math:`K_1 = 0.01`, :math:`K_2 = 0.03`, data range 1:
scikit-image's default) averaged over the test images; the same for every method.

The methods (:mod:`numpy_ae.experiments.denoise_methods`)
---------------------------------------------------------
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
    images, clipped to [0, 1]: :math:`\hat x = \mu + (\tilde x - \mu) V_k^\top V_k`;
    ``k`` is chosen on the validation split;
``dense dae``
    :class:`numpy_ae.models.stacked.DenoisingAutoencoder` (the deeplearning.net dA:
    784-500-784 tied, sigmoid, cross-entropy, SGD with learning rate 0.1 on
    minibatches of 20), trained on the SAME noisy-to-clean pairs with
    ``fit(noisy, target=clean)`` and its own corruption switched off; its
    figure is the one after ``--dense-epochs`` (15, the tutorial's);
``conv ae``
    the Keras preset, Adam, minibatches of 128, ``fit(noisy, target=clean)``,
    ``--epochs`` (default 1) epochs.

Equal epochs, equal seconds (:mod:`numpy_ae.experiments.denoise_budget`)
------------------------------------------------------------------------
Both models train on one thread, timed in process CPU seconds (robust to the
load of a shared machine and to pauses). Three comparisons, each on PSNR and
SSIM: equal epochs (both after ``--epochs``); the conv AE's budget (the dense
dA after the most epochs within the conv AE's CPU seconds; it keeps training
epoch by epoch until it passes them); the dense dA's budget (a fresh conv AE
given the Adam steps that fit into the dense dA's seconds at ``--dense-epochs``,
in one pass over the pairs: a random subset, or all of them and a random subset again).

Writes ``denoised.png`` into ``--out`` (rows: clean, noisy, each method's output
for ten test images, on one grey scale from 0 to 1) and prints the tables; with
``--json`` the last line holds ``psnr_*`` and ``ssim_*`` of ``noisy``,
``conv_ae``, ``dense_dae``, ``gaussian_filter``, ``median_filter``, ``pca``,
``best_classical``; ``equal_epochs``, ``equal_seconds_conv_budget``,
``equal_seconds_dense_budget`` (each ``{"conv": row, "dense": row, ...}``, a
row ``{"epoch", "cpu_seconds", "wall_seconds", "psnr", "ssim"}``),
``conv_curve`` and ``dense_curve`` (a row per epoch), ``clock``,
``conv_cpu_seconds``, ``dense_cpu_seconds``, ``sec_per_epoch`` (the conv AE's
mean epoch wall time), ``epochs``, ``n_params``, the chosen parameters and
the validation scores of every candidate, ``conv_val_loss``, the sizes, the
noise, the seed and ``claims`` (:mod:`~numpy_ae.experiments.denoise_claims`).
"""
from __future__ import annotations

import os

import numpy as np

from .._validation import check_positive_int
from ..analysis.image_quality import psnr, ssim
from ..analysis.plotting import PIXEL_RANGE, save_image_grid
from ..data import dataset_title
from ..models.convolutional import ConvAutoencoder
from ..models.stacked import DenoisingAutoencoder
from .denoise_budget import (CLOCK, EpochCurve, budget_row, conv_steps_for, fit_dense_on_budget,
                             indices_for_steps, one_thread)
from .denoise_claims import denoise_claims
from .denoise_methods import (DEFAULT_LEVELS, LEVEL_MEANING, NOISES, add_noise, check_level, choose_parameter,
                              classical_methods, gaussian_filter_images, median_filter_images, pca_denoiser)
from .mnist_sparse import DATASETS, add_data_options, load_dataset
from .registry import add_output, command, emit

__all__ = ["NOISES", "DEFAULT_LEVELS", "add_noise", "psnr", "ssim", "gaussian_filter_images",
           "median_filter_images", "pca_denoiser", "choose_parameter", "classical_methods", "run"]
CLASSICAL = ("gaussian filter", "median filter", "pca")


def _split(X_all, X_test, n_train, n_val, n_test, batch_size):
    N = X_all.shape[0]
    if n_val >= N:
        raise ValueError(f"n_val must leave training images: the training split has {N}; got n_val={n_val}")
    n_fit = N - n_val if n_train is None else n_train
    if n_fit + n_val > N:
        raise ValueError(f"n_train + n_val must be <= {N} (the training split); got n_train={n_train}, "
                         f"n_val={n_val}")
    if batch_size > n_fit:
        raise ValueError(f"batch_size must be <= n_train ({n_fit}); got {batch_size}")
    return X_all[:n_fit], X_all[N - n_val:], X_test[:n_test]


def _compare(title, budget, pairs):
    print(f"\n{title}" + ("" if budget is None else f" ({budget:.1f} CPU s)") + ":")
    for name, r in pairs:
        print(f"  {name:10s} {r.get('epochs', r['epoch']):7.2f} epochs  {r['cpu_seconds']:7.1f} CPU s  PSNR {r['psnr']:6.2f} dB"
              f"  SSIM {r['ssim']:.4f}")

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
        Conv AE epochs (Adam, minibatches of ``batch_size``, ``learning_rate`` or Adam's default); also the
        epochs of the equal-epochs comparison, and its CPU seconds the budget the dense dA gets.
    n_train : int or None
        Train on the first ``n_train`` training images (``None``: all but the validation ones).
    n_val : int
        The LAST ``n_val`` training images are the validation split (choices of sigma,
        size and k; the conv AE's validation loss).
    n_test : int or None
        The first ``n_test`` test images (``None``: all).
    dense_epochs, dense_hidden : int
        The dense dA's SGD epochs (its headline figure, and the budget the conv AE gets) and hidden units.
    dtype : {"float32", "float64"}
    seed : int
        Noise (three streams: training, validation, test), initial weights and shuffling.
    out : str
        Folder for ``denoised.png``.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {dataset!r}")
    level = check_level(noise, DEFAULT_LEVELS.get(noise) if level is None else level)
    epochs = check_positive_int(epochs, "epochs")
    dense_epochs = check_positive_int(dense_epochs, "dense_epochs")
    n_val = check_positive_int(n_val, "n_val")
    n_train = None if n_train is None else check_positive_int(n_train, "n_train")
    n_test = None if n_test is None else check_positive_int(n_test, "n_test")

    def make_conv(n_epochs):
        return ConvAutoencoder.keras_denoiser(epochs=n_epochs, batch_size=batch_size, learning_rate=learning_rate,
                                              dtype=dtype, random_state=seed, verbose=int(verbose))
    # Built (hyperparameters checked) before any data is read; the dense dA trains one epoch per fit.
    conv = make_conv(epochs)
    dense = DenoisingAutoencoder(hidden_layer_sizes=(dense_hidden,), corruption_level=0.0, epochs=1,
                                 warm_start=True, dtype=dtype, random_state=seed)

    X_all, _, X_test, _, path = load_dataset(dataset, data_home=data_home, download=download, dtype=dtype)
    X_train, X_val, X_test = _split(X_all, X_test, n_train, n_val, n_test, batch_size)
    n_fit = X_train.shape[0]
    rng_seeds = [[seed, k] for k in range(3)]  # independent noise streams for the three splits
    Xn_train, Xn_val, Xn_test = (add_noise(X, noise, level, random_state=s)
                                 for X, s in zip((X_train, X_val, X_test), rng_seeds))
    print(f"{noise} noise at level {level:g} ({LEVEL_MEANING[noise]}), clipped to [0, 1]; "
          f"{n_fit} training, {n_val} validation (the last of the training split), {X_test.shape[0]} test images",
          flush=True)
    result = {"dataset": dataset, "data_path": str(path), "noise": noise, "level": level, "seed": seed,
              "n_train": n_fit, "n_val": n_val, "n_test": int(X_test.shape[0]), "dtype": dtype, "clock": CLOCK}

    # Classical filters and PCA: parameters chosen on the validation split.
    choices, val_scores, outputs = classical_methods(X_train, Xn_val, X_val, Xn_test)
    sigma, size, k = choices["gaussian filter"], choices["median filter"], choices["pca"]
    print(f"classical methods chosen on the validation split: gaussian sigma {sigma:g}, median size {size}, "
          f"PCA k = {k}", flush=True)

    # The conv AE for `epochs`: its CPU seconds are the dense dA's budget.
    n_batches = -(-n_fit // batch_size)
    print(f"conv AE (Keras denoiser), Adam, {n_batches} minibatches of {batch_size} per epoch, {epochs} epoch(s), "
          f"{dtype}, one thread; then the dense dA 784-{dense_hidden}-784 (tied, sigmoid, cross-entropy), SGD lr "
          f"{dense.learning_rate}, minibatches of {dense.batch_size}, until {dense_epochs} epochs and past the "
          "conv AE's CPU seconds", flush=True)
    conv_curve = EpochCurve(conv, Xn_test, X_test, keep=(epochs,), name="conv AE" if verbose else None)
    with one_thread():
        conv_curve.start()
        conv.fit(Xn_train, target=X_train, callback=conv_curve)
    conv_budget = conv_curve.rows[-1]["cpu_seconds"]
    outputs["conv ae"] = conv_curve.outputs[epochs]
    dense_curve = EpochCurve(dense, Xn_test, X_test, keep=(dense_epochs,), name="dense dA" if verbose else None)
    with one_thread():
        fit_dense_on_budget(dense, Xn_train, X_train, dense_curve, max(epochs, dense_epochs), conv_budget)
    outputs["dense dae"] = dense_curve.outputs[dense_epochs]
    dense_budget = dense_curve.rows[dense_epochs - 1]["cpu_seconds"]

    # The conv AE at the dense dA's budget: the Adam steps that fit into it at the measured cost per step.
    steps = conv_steps_for(dense_budget, conv_budget, epochs * n_batches)
    idx = indices_for_steps(steps, batch_size, n_fit, [seed, 3])
    stepped = make_conv(1)
    stepped_curve = EpochCurve(stepped, Xn_test, X_test)
    with one_thread():
        stepped_curve.start()
        stepped.fit(Xn_train[idx], target=X_train[idx], callback=stepped_curve)
    conv_at_dense = dict(stepped_curve.rows[0], steps=steps, epochs=steps / n_batches)

    scores = {"noisy": (psnr(Xn_test, X_test), ssim(Xn_test, X_test))}
    scores.update({name: (psnr(Y, X_test), ssim(Y, X_test)) for name, Y in outputs.items()})
    best_classical = max(CLASSICAL, key=lambda m: scores[m][0])
    for name in ("noisy", "conv ae", "dense dae", "gaussian filter", "median filter", "pca"):
        key = name.replace(" ", "_")
        result[f"psnr_{key}"], result[f"ssim_{key}"] = scores[name]
    result.update({
        "psnr_best_classical": scores[best_classical][0], "ssim_best_classical": scores[best_classical][1],
        "best_classical": best_classical, "gaussian_sigma": sigma, "median_size": size, "pca_components": k,
        "val_psnr_gaussian_sigma": {str(p): v for p, v in val_scores["gaussian filter"].items()},
        "val_psnr_median_size": {str(p): v for p, v in val_scores["median filter"].items()},
        "val_psnr_pca_components": {str(p): v for p, v in val_scores["pca"].items()},
        "sec_per_epoch": float(np.mean(conv.history_["seconds"])), "epochs": epochs, "n_params": conv.n_params_,
        "conv_seconds": conv.fit_seconds_, "conv_cpu_seconds": conv_budget, "dense_cpu_seconds": dense_budget,
        "conv_val_loss": float(conv.network_.evaluate(Xn_val, X_val)),
        "dense_sec_per_epoch": dense_curve.rows[-1]["wall_seconds"] / len(dense_curve.rows),
        "dense_epochs": dense_epochs, "batch_size": batch_size,
        "conv_curve": conv_curve.rows, "dense_curve": dense_curve.rows,
        "equal_epochs": {"epochs": epochs, "conv": conv_curve.rows[-1], "dense": dense_curve.rows[epochs - 1]},
        "equal_seconds_conv_budget": {"budget_cpu_seconds": conv_budget, "conv": conv_curve.rows[-1],
                                      "dense": budget_row(dense_curve.rows, conv_budget)},
        "equal_seconds_dense_budget": {"budget_cpu_seconds": dense_budget, "dense": dense_curve.rows[dense_epochs - 1],
                                       "conv": conv_at_dense}})
    result["claims"] = denoise_claims(result)

    print(f"\ntest PSNR (dB, peak 1, pooled MSE) and SSIM (7x7, mean over images) on {X_test.shape[0]} {dataset} "
          "test images:")
    params = {"gaussian filter": f"sigma {sigma:g}", "median filter": f"size {size}", "pca": f"k = {k}",
              "dense dae": f"{dense_epochs} epochs", "conv ae": f"{epochs} epoch(s)"}
    for name, (p, s) in scores.items():
        print(f"  {name:16s} {p:7.2f}  {s:.4f}   {params.get(name, '')}")
    _compare("equal epochs", None, [("conv AE", result["equal_epochs"]["conv"]),
                                    ("dense dA", result["equal_epochs"]["dense"])])
    _compare("equal CPU seconds, the conv AE's", conv_budget,
             [("conv AE", conv_curve.rows[-1]), ("dense dA", result["equal_seconds_conv_budget"]["dense"])])
    _compare(f"equal CPU seconds, the dense dA's ({steps} conv AE steps)", dense_budget,
             [("dense dA", dense_curve.rows[dense_epochs - 1]), ("conv AE", conv_at_dense)])

    os.makedirs(out, exist_ok=True)
    shown = slice(0, 10)
    rows = [("clean", X_test[shown]), ("noisy", Xn_test[shown])]
    short_names = {"gaussian filter": "gaussian", "median filter": "median", "pca": "PCA", "dense dae": "dense dA",
                   "conv ae": "conv AE"}  # row labels of the figure: at most ~17 characters fit
    rows += [(f"{short_names[name]} {scores[name][0]:.1f} dB", Y[shown]) for name, Y in outputs.items()]
    fig = save_image_grid(rows, os.path.join(out, "denoised.png"), image_shape=(28, 28), value_range=PIXEL_RANGE,
                          title=f"{dataset_title(dataset)} test images, {noise} noise at {level:g}; PSNR over all "
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
    p.add_argument("--epochs", type=int, default=1, help="conv AE epochs (default 1); also the equal-epochs comparison's, and their CPU seconds the "
                        "dense dA's budget")
    p.add_argument("--n-train", type=int, default=None,
                   help="train on the first N training images (default: all but the validation ones)")
    p.add_argument("--n-val", type=int, default=5000,
                   help="validation split: the last N training images (default 5000)")
    p.add_argument("--n-test", type=int, default=None, help="use the first N test images (default: all)")
    p.add_argument("--batch-size", type=int, default=128, help="conv AE minibatch size (default 128, Keras')")
    p.add_argument("--learning-rate", type=float, default=None, help="conv AE Adam step (default: Adam's 1e-3)")
    p.add_argument("--dense-epochs", type=int, default=15, help="dense dA SGD epochs (default 15, the tutorial's): its headline figure, and their CPU "
                        "seconds the conv AE's budget")
    p.add_argument("--dense-hidden", type=int, default=500, help="dense dA hidden units (default 500)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="precision of training")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise, the weights and the shuffling")
    add_output(p, "--out", kind="folder", default="out/denoise-images", help="folder for denoised.png")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_denoise_images.configure = _configure
