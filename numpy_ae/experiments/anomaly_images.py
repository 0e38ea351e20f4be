r"""``python -m numpy_ae anomaly-images``: novelty detection on Fashion-MNIST with one class held out.

For each held-out class c (all ten by default, ``--classes`` to choose), three
models are trained on the training images of the OTHER nine classes only
(:func:`numpy_ae.analysis.novelty.held_out_split`):

* a dense autoencoder, :class:`~numpy_ae.models.stacked.StackedAutoencoder`
  784-128-32-128-784 (ELU hidden units, sigmoid output trained with the
  cross-entropy from logits, Adam, float32); its score (``ae``) is the squared
  reconstruction error SUMMED over the 784 pixels
  (:func:`numpy_ae.analysis.novelty.reconstruction_error`);
* the linear baseline at the same code size, :class:`~numpy_ae.models.pca.PCA`
  with 32 components, scored the same way (``pca``);
* a VAE, :class:`~numpy_ae.models.variational.VariationalAutoencoder` 784-256-16
  (ELU, Bernoulli decoder, Adam, float32), with three scores of the same
  fitted model and ONE sample of :math:`\varepsilon` per image from a
  Generator seeded with ``--seed``: ``vae``, the negative ELBO in nats
  (:func:`~numpy_ae.analysis.novelty.neg_elbo_score`; ``--iw-k K`` > 1: minus
  the importance-weighted bound with K samples); ``vae_bits``, the one-sample
  bound on the code length of the 8-bit image in bits, its decoder read as
  Binomial(255, p) per pixel (:func:`~numpy_ae.analysis.novelty.binomial_nll_bits`);
  and ``vae_corrected``, Serra et al. (2020)'s complexity-corrected score,
  ``vae_bits`` minus the image's zlib code length in bits
  (:func:`~numpy_ae.analysis.novelty.complexity_corrected_score`).

``zlib``, the compressed length alone (no model), shows how much of the
ranking is input complexity. Unless ``--no-background``, a fourth model: the
same VAE trained on the same images with ``--mutation-rate`` (0.2) of their
pixels replaced by random levels (:class:`~numpy_ae.analysis.novelty.MutatedInputs`),
Ren et al. (2019)'s background model; ``vae_llr`` is ``vae_bits`` minus its
bits (:func:`~numpy_ae.analysis.novelty.likelihood_ratio_score`), ``background``
its bits alone. Every test image is scored; the images of class
c are the positives (the anomalies), and the ROC AUC of each score is computed
from ranks with ties averaged (:func:`numpy_ae.analysis.metrics.roc_auc`).

Figures (in ``--out``): ``auroc.png`` (per held-out class, a bar per score:
AE, PCA, VAE -ELBO, VAE corrected, VAE likelihood ratio) and ``most_anomalous.png`` (for each
held-out class, the 10 test images the AE, the VAE's -ELBO and the corrected
score put highest).

JSON (last line, ``--json``): ``{"auroc": {"<class name>": {"ae": ..., "pca": ...,
"vae": ..., "vae_bits": ..., "vae_corrected": ..., "zlib": ..., "vae_llr": ..., "background": ...}},
"mean_auroc":
{score: mean}, "mean_auroc_ae", "mean_auroc_vae", "mean_auroc_vae_corrected"}``
plus the settings (``epochs``, ``n_train``, ``dataset``, ``ae_score``,
``vae_score``, ``seconds``) and ``"claims"`` (:func:`novelty_claims`).
"""
from __future__ import annotations

import os
import time

import numpy as np

from .._validation import check_positive_int, check_probability
from .claims import claim
from .registry import add_output, command, emit
from .mnist_sparse import DATASETS, add_data_options, load_dataset
from ..analysis.metrics import roc_auc
from ..analysis.novelty import (MutatedInputs, binomial_nll_bits, complexity_corrected_score, compressed_bits,
                                held_out_class_auroc, likelihood_ratio_score, neg_elbo_score, reconstruction_error)
from ..analysis.class_figures import legend_outside
from ..analysis.plotting import PIXEL_RANGE, new_figure, save_image_grid
from ..data import class_names, dataset_title
from ..models.pca import PCA
from ..models.stacked import StackedAutoencoder
from ..models.variational import VariationalAutoencoder

#: The scores of the AUROC table, in its column order, with their headers.
SCORES = {"ae": "AE (recon)", "pca": "PCA(32)", "vae": "VAE -ELBO", "vae_bits": "VAE bits",
          "vae_corrected": "VAE - zlib", "zlib": "zlib alone", "vae_llr": "VAE - backgr.",
          "background": "backgr. alone"}
#: The scores drawn as bars, and their legend labels.
BARS = {"ae": "AE: reconstruction error", "pca": "PCA(32): reconstruction error", "vae": "VAE: -ELBO",
        "vae_corrected": "VAE: bits - zlib bits (Serra et al.)",
        "vae_llr": "VAE: bits - background bits (Ren et al.)"}
TOPS = ("ae", "vae", "vae_corrected")  # the scores whose top-10 images are shown
SERRA = ("Serra et al. 2020, Input complexity and out-of-distribution detection with likelihood-based "
         "generative models (ICLR)")
REN = "Ren et al. 2019, Likelihood ratios for out-of-distribution detection (NeurIPS)"

__all__ = ["run", "parse_classes", "novelty_claims", "save_auroc_bars", "auroc_bars_figure", "format_table"]


def parse_classes(text):
    """``"0,3,9"`` -> ``[0, 3, 9]`` (labels 0..9, no repeats); ``None`` or ``"all"`` -> all ten."""
    if text is None or str(text).strip().lower() == "all":
        return list(range(10))
    try:
        classes = [int(s) for s in str(text).split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--classes must be comma-separated labels 0..9 such as 0,3,9 (or 'all'); "
                         f"got {text!r}") from None
    if not classes or min(classes) < 0 or max(classes) > 9 or len(set(classes)) != len(classes):
        raise ValueError(f"--classes must be distinct labels 0..9 such as 0,3,9 (or 'all'); got {text!r}")
    return classes


def run(dataset="fashion-mnist", out="out/anomaly-images", classes=None, epochs=3, n_train=None, iw_k=1,
        dtype="float32", seed=0, verbose=True, data_home=None, download=True, mutation_rate=0.2, background=True):
    r"""Run the held-out-class protocol; write the figures; return the result dict (see the module docstring)."""
    epochs = check_positive_int(epochs, "epochs")
    iw_k = check_positive_int(iw_k, "iw_k")
    if n_train is not None:
        n_train = check_positive_int(n_train, "n_train")
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {dataset!r}")
    classes = parse_classes(None) if classes is None else list(classes)
    names = class_names(dataset)

    def make_ae():
        return StackedAutoencoder(hidden_layer_sizes=(128, 32), activation="elu", loss="cross_entropy",
                                  method="adam", epochs=epochs, batch_size=128, dtype=dtype, random_state=seed)

    def make_vae():
        return VariationalAutoencoder(hidden_layer_sizes=(256,), n_latent=16, activation="elu", method="adam",
                                      epochs=epochs, batch_size=128, dtype=dtype, random_state=seed)

    make_ae(), make_vae(), PCA(32)  # hyperparameters checked before the data is read
    check_probability(mutation_rate, "mutation_rate", "the share of pixels the background's images have mutated")
    X_train, y_train, X_test, y_test, path = load_dataset(dataset, data_home=data_home, download=download,
                                                          dtype=dtype)
    start = time.perf_counter()
    tops = []  # (label, images) rows of the most anomalous test images

    L_test = compressed_bits(X_test)  # the compressor's code length alone: how much is input complexity

    def vae_scores(vae, X):
        bits = binomial_nll_bits(vae, X, random_state=seed)
        return {"vae": neg_elbo_score(vae, X, k=iw_k, random_state=seed), "vae_bits": bits,
                "vae_corrected": complexity_corrected_score(bits, X)}

    def report(label, name, model, scores, positive):
        top = np.argsort(-scores, kind="stable")[:10]
        if name in TOPS:
            tops.append((f"{names[label]} ({name.upper().replace('_', ' ')})", X_test[top]))
        if verbose:
            fit = getattr(model, "fit_seconds_", None) if name in ("ae", "vae", "background") else None  # once per model
            print(f"held out {names[label]!r}: {name}" + (f" trained in {fit:.1f} s" if fit is not None else "") +
                  f", AUROC {roc_auc(positive, scores):.3f}; "
                  f"{int(positive[top].sum())}/10 of its top-scored test images are {names[label]!r} "
                  f"[{time.perf_counter() - start:.0f} s so far]", flush=True)

    models = {"ae": (make_ae, reconstruction_error), "pca": (lambda: PCA(32), reconstruction_error),
              "vae": (make_vae, vae_scores)}
    if background:  # Ren et al.'s background: the same VAE on mutated images, scored in bits
        models["background"] = (lambda: MutatedInputs(make_vae(), mutation_rate, random_state=seed),
                                lambda bg, X: binomial_nll_bits(bg, X, random_state=seed))
    if verbose:
        print(f"{len(classes)} held-out classes; each: PCA(32), AE 784-128-32 and VAE 784-256-16"
              + (f" (and the VAE again on images with {mutation_rate:g} of the pixels mutated)" if background else "")
              + f", {epochs} epochs of Adam on the other classes' training images"
              + (f" (first {n_train})" if n_train else ""), flush=True)
    runs = held_out_class_auroc(X_train, y_train, X_test, y_test, classes, models, n_train=n_train,
                                callback=report)
    seconds = time.perf_counter() - start

    auroc = {names[c]: {**{k: runs[c][k]["auroc"] for k in SCORES if k in runs[c]},
                        "zlib": roc_auc(y_test == c, L_test)} for c in classes}
    if background:
        for c in classes:
            llr = likelihood_ratio_score(runs[c]["vae_bits"]["scores"], runs[c]["background"]["scores"])
            auroc[names[c]]["vae_llr"] = roc_auc(y_test == c, llr)
    mean = {k: float(np.mean([v[k] for v in auroc.values()])) for k in SCORES if k in auroc[names[classes[0]]]}
    result = {"auroc": auroc, "mean_auroc": mean, "mean_auroc_ae": mean["ae"], "mean_auroc_vae": mean["vae"],
              "mean_auroc_vae_corrected": mean["vae_corrected"],
              "epochs": epochs, "n_train": {names[c]: runs[c]["ae"]["n_train"] for c in classes},
              "dataset": dataset, "data_path": str(path), "seed": seed, "seconds": seconds,
              "ae": "StackedAutoencoder 784-128-32 (elu, cross-entropy)",
              "vae": "VariationalAutoencoder 784-256-16 (elu, Bernoulli)",
              "ae_score": "squared reconstruction error summed over pixels",
              "vae_score": "-ELBO, one sample" if iw_k == 1 else f"-L_k, importance-weighted, k={iw_k}",
              "pca_score": "squared reconstruction error of PCA(32) summed over pixels",
              "vae_corrected_score": "one-sample bound on -log2 P(8-bit image), Binomial(255, p) decoder, "
                                     "minus 8 * len(zlib.compress(image bytes, 9))",
              "mutation_rate": mutation_rate if background else None}
    if background:
        result["vae_llr_score"] = ("the same bound in bits minus that of the same VAE trained on the images with "
                                   f"{mutation_rate:g} of the pixels replaced by uniform random levels")
        result["mean_auroc_vae_llr"] = mean["vae_llr"]
    result["claims"] = novelty_claims(result)
    if verbose:
        print(format_table(result), flush=True)

    os.makedirs(out, exist_ok=True)
    figs = [save_auroc_bars(auroc, os.path.join(out, "auroc.png"),
                            title=f"{dataset_title(dataset)}: AUROC with each class held out"),
            _save_tops(tops, os.path.join(out, "most_anomalous.png"))]
    print("wrote " + ", ".join(str(f) for f in figs), flush=True)
    return result


def novelty_claims(result):
    """The ``"claims"`` of a result (:mod:`numpy_ae.experiments.claims`), computed from its ``"auroc"``.

    Issue 20's goal for the complexity-corrected VAE score (``vae_corrected``): a mean AUROC of at least
    0.75 over the held-out classes and no class below chance (0.5: the novel class scored as MORE normal
    than the normal ones), the raw -ELBO (``vae``) the baseline of both; and whether it beats the raw -ELBO
    and the PCA(32) reconstruction baseline on the mean. Then: the dense AE beats chance on average;
    and, when the result has ``vae_llr`` (Ren et al.'s background ratio), whether it beats the raw -ELBO.
    """
    auroc, n = result["auroc"], len(result["auroc"])

    def col(key):
        return [v[key] for v in auroc.values()]

    cor, raw, pca, ae = (col(k) for k in ("vae_corrected", "vae", "pca", "ae"))
    goal = f"numpy_ae issue 20's target (not a published figure); the score: {SERRA}"
    what = "The VAE's complexity-corrected score (its bits minus zlib's bits of the 8-bit image)"
    return [
        claim(f"{what} reaches a mean ROC AUC of at least 0.75 over the {n} held-out classes (baseline: the "
              f"raw -ELBO)", np.mean(cor) >= 0.75, np.mean(cor), np.mean(raw), source=goal),
        claim(f"{what} ranks every one of the {n} held-out classes above chance (lowest per-class ROC AUC > "
              f"0.5; baseline: the raw -ELBO's lowest)", min(cor) > 0.5, min(cor), min(raw), source=goal),
        claim(f"{what} detects held-out classes better than the raw -ELBO (mean ROC AUC over the {n} classes)",
              np.mean(cor) > np.mean(raw), np.mean(cor), np.mean(raw), source=SERRA),
        claim(f"{what} detects held-out classes better than PCA(32)'s reconstruction error (mean ROC AUC over "
              f"the {n} classes)", np.mean(cor) > np.mean(pca), np.mean(cor), np.mean(pca)),
        claim(f"The dense AE's reconstruction error detects a held-out class better than chance on average "
              f"(mean ROC AUC over the {n} classes > 0.5)", np.mean(ae) > 0.5, np.mean(ae), 0.5),
    ] + ([] if not all("vae_llr" in v for v in auroc.values()) else [
        claim(f"Ren et al.'s likelihood ratio (the VAE's bits minus those of a VAE trained on mutated images) "
              f"detects held-out classes better than the raw -ELBO (mean ROC AUC over the {n} classes)",
              np.mean(col("vae_llr")) > np.mean(raw), np.mean(col("vae_llr")), np.mean(raw), source=REN)])


def format_table(result):
    """A plain-text table: one row per held-out class, the AUROC of each score in it (:data:`SCORES`), the means."""
    keys = [k for k in SCORES if all(k in v for v in result["auroc"].values())]
    widths = [max(10, len(SCORES[k])) for k in keys]
    lines = [f"{'held-out class':<16} " + " ".join(f"{SCORES[k]:>{w}}" for k, w in zip(keys, widths))]
    rows = list(result["auroc"].items())
    rows.append(("mean", {k: np.mean([v[k] for v in result["auroc"].values()]) for k in keys}))
    for name, v in rows:
        lines.append(f"{name:<16} " + " ".join(f"{v[k]:>{w}.3f}" for k, w in zip(keys, widths)))
    return "\n".join(lines)


def save_auroc_bars(auroc, path, title=None):
    """Write :func:`auroc_bars_figure` as a PNG; return the path."""
    auroc_bars_figure(auroc, title).savefig(path)
    return path


def auroc_bars_figure(auroc, title=None):
    """Bars of the AUROC per held-out class, one per score of :data:`BARS` present, the chance line at 0.5,
    the legend beside the axes.

    ``auroc`` is ``{class name: {score: float}}`` (the ``"auroc"`` of :func:`run`'s result); the classes are in
    its order. Returns the Figure (one axes)."""
    names = list(auroc)
    keys = [k for k in BARS if all(k in auroc[n] for n in names)]
    x = np.arange(len(names))
    width = 0.8 / len(keys)
    fig = new_figure(max(500, 80 * len(names)) + 260, 420)  # + the legend's column
    ax = fig.add_subplot()
    for i, key in enumerate(keys):
        ax.bar(x + (i - (len(keys) - 1) / 2) * width, [auroc[n][key] for n in names], width=width, label=BARS[key])
    ax.axhline(0.5, color="black", lw=0.8, ls="--", label="chance")
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("ROC AUC (held-out class = anomaly)")
    legend_outside(ax)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def _save_tops(rows, path):
    return save_image_grid(rows, path, image_shape=(28, 28), value_range=PIXEL_RANGE,
                           title="the 10 highest-scored test images, per held-out class and model")


@command("anomaly-images", "novelty detection: a dense AE and a VAE trained with one Fashion-MNIST class held out; "
         "ROC AUC per class")
def cmd_anomaly_images(args):
    result = run(dataset=args.dataset, out=args.out, classes=parse_classes(args.classes), epochs=args.epochs,
                 n_train=args.n_train, iw_k=args.iw_k, dtype=args.dtype, seed=args.seed, verbose=not args.quiet,
                 data_home=args.data_home, download=not args.no_download, mutation_rate=args.mutation_rate,
                 background=not args.no_background)
    emit(args, result, "")
    return 0


def _configure(p):
    add_data_options(p, default="fashion-mnist")
    add_output(p, "--out", kind="folder", default="out/anomaly-images", help="folder for the figures")
    p.add_argument("--classes", default=None, help="held-out classes, comma-separated labels 0..9 (default: all)")
    p.add_argument("--epochs", type=int, default=3, help="epochs of Adam for each model (default: 3)")
    p.add_argument("--n-train", type=int, default=None,
                   help="train on the first N images of the other classes (default: all, about 54,000)")
    p.add_argument("--iw-k", type=int, default=1,
                   help="VAE score: 1 = one-sample -ELBO; K > 1 = minus the importance-weighted bound (default: 1)")
    p.add_argument("--mutation-rate", type=float, default=0.2,
                   help="share of pixels the background VAE's training images have replaced by random levels "
                        "(Ren et al. 2019; default: 0.2)")
    p.add_argument("--no-background", action="store_true",
                   help="skip the background VAE and its likelihood-ratio score (one model less per class)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="precision (default: float32)")
    p.add_argument("--seed", type=int, default=0, help="seeds both models and the ELBO's noise")
    p.add_argument("--quiet", action="store_true", help="no progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_anomaly_images.configure = _configure
