r"""``python -m numpy_ae anomaly-images``: novelty detection on Fashion-MNIST with one class held out.

For each held-out class c (all ten by default, ``--classes`` to choose), two
models are trained on the training images of the OTHER nine classes only
(:func:`numpy_ae.analysis.novelty.held_out_split`):

* a dense autoencoder, :class:`~numpy_ae.models.stacked.StackedAutoencoder`
  784-128-32-128-784 (ELU hidden units, sigmoid output trained with the
  cross-entropy from logits, Adam, float32); its score is the squared
  reconstruction error SUMMED over the 784 pixels
  (:func:`numpy_ae.analysis.novelty.reconstruction_error`);
* a VAE, :class:`~numpy_ae.models.variational.VariationalAutoencoder` 784-256-16
  (ELU, Bernoulli decoder, Adam, float32); its score is the negative ELBO in
  nats (:func:`numpy_ae.analysis.novelty.neg_elbo_score`), with ONE sample of
  :math:`\varepsilon` per image from a Generator seeded with ``--seed``
  (``--iw-k K`` > 1: minus the importance-weighted bound with K samples).

Every test image is scored; the images of class c are the positives (the
anomalies), and the ROC AUC of each score is computed from ranks with ties
averaged (:func:`numpy_ae.analysis.novelty._roc_auc`).

Figures (in ``--out``): ``auroc.png`` (one pair of bars per held-out class)
and ``most_anomalous.png`` (for each held-out class, the 10 test images each
model scored highest).

JSON (last line, ``--json``): ``{"auroc": {"<class name>": {"ae": ..., "vae": ...}},
"mean_auroc_ae", "mean_auroc_vae"}`` plus the settings (``epochs``, ``n_train``,
``dataset``, ``ae_score``, ``vae_score``, ``seconds``) and ``"claims"`` (:func:`novelty_claims`).
"""
from __future__ import annotations

import os
import time

import numpy as np

from .._validation import check_positive_int
from .claims import claim
from .registry import add_output, command, emit
from .mnist_sparse import DATASETS, add_data_options, load_dataset
from ..analysis.metrics import roc_auc
from ..analysis.novelty import held_out_class_auroc, neg_elbo_score, reconstruction_error
from ..analysis.class_figures import legend_outside
from ..analysis.plotting import PIXEL_RANGE, new_figure, save_image_grid
from ..data import class_names, dataset_title
from ..models.stacked import StackedAutoencoder
from ..models.variational import VariationalAutoencoder

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
        dtype="float32", seed=0, verbose=True, data_home=None, download=True):
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

    make_ae(), make_vae()  # hyperparameters checked before the data is read
    X_train, y_train, X_test, y_test, path = load_dataset(dataset, data_home=data_home, download=download,
                                                          dtype=dtype)
    start = time.perf_counter()
    tops = []  # (label, images) rows of the most anomalous test images

    def report(label, name, model, scores, positive):
        top = np.argsort(-scores, kind="stable")[:10]
        tops.append((f"{names[label]} ({name.upper()})", X_test[top]))
        if verbose:
            print(f"held out {names[label]!r}: {name} trained in "
                  f"{model.fit_seconds_:.1f} s, AUROC {roc_auc(positive, scores):.3f}; "
                  f"{int(positive[top].sum())}/10 of its top-scored test images are {names[label]!r} "
                  f"[{time.perf_counter() - start:.0f} s so far]", flush=True)

    models = {"ae": (make_ae, reconstruction_error),
              "vae": (make_vae, lambda m, X: neg_elbo_score(m, X, k=iw_k, random_state=seed))}
    if verbose:
        print(f"{len(classes)} held-out classes; each: AE 784-128-32 and VAE 784-256-16, {epochs} epochs of Adam "
              f"on the other classes' training images" + (f" (first {n_train})" if n_train else ""), flush=True)
    runs = held_out_class_auroc(X_train, y_train, X_test, y_test, classes, models, n_train=n_train,
                                callback=report)
    seconds = time.perf_counter() - start

    auroc = {names[c]: {"ae": runs[c]["ae"]["auroc"], "vae": runs[c]["vae"]["auroc"]} for c in classes}
    result = {"auroc": auroc,
              "mean_auroc_ae": float(np.mean([v["ae"] for v in auroc.values()])),
              "mean_auroc_vae": float(np.mean([v["vae"] for v in auroc.values()])),
              "epochs": epochs, "n_train": {names[c]: runs[c]["ae"]["n_train"] for c in classes},
              "dataset": dataset, "data_path": str(path), "seed": seed, "seconds": seconds,
              "ae": "StackedAutoencoder 784-128-32 (elu, cross-entropy)",
              "vae": "VariationalAutoencoder 784-256-16 (elu, Bernoulli)",
              "ae_score": "squared reconstruction error summed over pixels",
              "vae_score": "-ELBO, one sample" if iw_k == 1 else f"-L_k, importance-weighted, k={iw_k}"}
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

    Issue 20's goal for the VAE's score: a mean AUROC of at least 0.75 over the held-out classes, and no
    class below chance (0.5: the novel class scored as MORE normal than the normal ones); the dense AE's
    reconstruction error is the baseline of both. One claim also asks whether the AE beats chance on average.
    """
    auroc, n = result["auroc"], len(result["auroc"])
    vae = [v["vae"] for v in auroc.values()]
    ae = [v["ae"] for v in auroc.values()]
    score = result["vae_score"]
    goal = "numpy_ae issue 20 (target, not a published figure)"
    return [
        claim(f"The VAE's novelty score ({score}) reaches a mean ROC AUC of at least 0.75 over the {n} held-out "
              f"classes (baseline: the dense AE's reconstruction error)", float(np.mean(vae)) >= 0.75,
              float(np.mean(vae)), float(np.mean(ae)), source=goal),
        claim(f"The VAE's novelty score ({score}) ranks every one of the {n} held-out classes above chance "
              f"(lowest per-class ROC AUC > 0.5; baseline: the AE's lowest)", min(vae) > 0.5, min(vae), min(ae),
              source=goal),
        claim(f"The dense AE's reconstruction error detects a held-out class better than chance on average "
              f"(mean ROC AUC over the {n} classes > 0.5)", float(np.mean(ae)) > 0.5, float(np.mean(ae)), 0.5),
    ]


def format_table(result):
    """A plain-text table: one row per held-out class, the AUROC of each score, and the means."""
    lines = [f"{'held-out class':<16} {'AE (recon)':>10} {'VAE (-ELBO)':>11}"]
    for name, v in result["auroc"].items():
        lines.append(f"{name:<16} {v['ae']:>10.3f} {v['vae']:>11.3f}")
    lines.append(f"{'mean':<16} {result['mean_auroc_ae']:>10.3f} {result['mean_auroc_vae']:>11.3f}")
    return "\n".join(lines)


def save_auroc_bars(auroc, path, title=None):
    """Write :func:`auroc_bars_figure` as a PNG; return the path."""
    auroc_bars_figure(auroc, title).savefig(path)
    return path


def auroc_bars_figure(auroc, title=None):
    """Bars of the AUROC per held-out class, AE next to VAE, the chance line at 0.5, the legend beside the axes.

    ``auroc`` is ``{class name: {"ae": float, "vae": float}}`` (the ``"auroc"`` of :func:`run`'s result); the
    bars are in its order. Returns the Figure (one axes)."""
    names = list(auroc)
    x = np.arange(len(names))
    fig = new_figure(max(500, 80 * len(names)) + 190, 420)  # + the legend's column
    ax = fig.add_subplot()
    ax.bar(x - 0.2, [auroc[n]["ae"] for n in names], width=0.4, label="AE: reconstruction error")
    ax.bar(x + 0.2, [auroc[n]["vae"] for n in names], width=0.4, label="VAE: -ELBO")
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
                 data_home=args.data_home, download=not args.no_download)
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
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="precision (default: float32)")
    p.add_argument("--seed", type=int, default=0, help="seeds both models and the ELBO's noise")
    p.add_argument("--quiet", action="store_true", help="no progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_anomaly_images.configure = _configure
