r"""``python -m numpy_ae gsn``: sampling from a denoising autoencoder trained with walkback (Bengio et al.).

Steps (all on BINARISED images, pixels thresholded at 0.5: the chain's states
are Bernoulli samples, so the model is trained on the kind of input it will be
fed; see :mod:`numpy_ae.models.gsn`):

1. a denoising autoencoder, :class:`~numpy_ae.models.stacked.DenoisingAutoencoder`
   784-``--hidden``-784 (sigmoid units, tied weights, cross-entropy, i.e. a
   Bernoulli reconstruction distribution; salt-and-pepper noise of level
   ``--noise``, 0.45 by default: trained and sampled at 0.3 or 0.4 the chains over-visit
   one class more, docs/models/gsn.md), trained with walkback (``--walkback`` k steps,
   :func:`numpy_ae.models.gsn.fit_walkback`) and Adam;
2. ``--chains`` independent chains (default: ``--samples``, one sample each)
   started from random binary images (every pixel Bernoulli(0.5)), each run
   corrupt - reconstruct - sample (salt-and-pepper ``--chain-noise``, by default
   the training level; :func:`numpy_ae.models.gsn.chain_samples`): the first
   ``--burn-in`` (99) steps are discarded, then every ``--thin``-th (1st) state
   is a sample, ``--samples / --chains`` per chain: by default the state at step
   100 of 1,000 chains. Longer chains drift into one class (zeros, fours...,
   depending on the seed): docs/models/gsn.md;
3. a VAE (:class:`~numpy_ae.models.variational.VariationalAutoencoder` 784-256-16,
   Bernoulli decoder) trained on the same images with as many minibatch updates
   as the DAE (``--vae-epochs``, default ``epochs x walkback``: the DAE sees k
   pairs per image per epoch); the same
   number of samples: :math:`z \sim \mathcal N(0, I)`, decoded, and every pixel
   drawn from its Bernoulli mean (binary, like the chain's samples);
4. an independent classifier trained on the real binarised training images: an
   MLP 784-256-10 (ReLU, softmax; :class:`~numpy_ae.models.classifier.EncoderClassifier`
   without pretraining, Adam), its accuracy measured on the binarised test
   images; it scores the GSN samples, the VAE samples and, as the reference,
   the same number of real test images.

For each set of images: ``confident_fraction`` (the share classified with a
largest class probability >= ``--threshold``, 0.9 by default),
``class_coverage`` (the share of the 10 classes that are the predicted label of
at least one image) and the class histogram
(:func:`numpy_ae.models.gsn.sample_quality`). The binary samples are what is scored;
the ``*_mean_confident_fraction`` figures score the means the last step drew
from (the GSN's reconstruction :math:`p_T`, the VAE's decoder mean), for reference.

Figures (in ``--out``): ``chains.png`` (rows = 10 chains from random starts,
columns = steps), ``chains_from_test.png`` (the same from 10 test images),
``samples.png`` (GSN samples, VAE samples, real images), ``histogram.png``
(the classifier's predicted classes for the three sets).

JSON (last line, ``--json``): ``confident_fraction``, ``class_coverage``,
``vae_confident_fraction`` (required), plus ``class_histogram``,
``vae_class_coverage``, ``vae_class_histogram``, ``real_confident_fraction``,
``real_class_coverage``, ``classifier_test_accuracy``, ``threshold``,
``gsn_mean_confident_fraction``, ``vae_mean_confident_fraction``, ``largest_class_share`` (the share of
the samples in their most frequent predicted class; ``vae_`` and ``real_`` alike), the settings, and
``claims`` (:mod:`numpy_ae.experiments.claims`): no class above 20% of the GSN's samples, and the GSN's
confident fraction at least the VAE's.
"""
from __future__ import annotations

import os
import time

import numpy as np

from .._validation import check_positive_int
from .claims import claim
from .registry import add_output, command, emit
from .mnist_sparse import DATASETS, add_data_options, load_dataset
from ..analysis.class_figures import legend_outside
from ..analysis.plotting import PIXEL_RANGE, new_figure, save_image_grid
from ..data import class_names, dataset_title
from ..models.classifier import EncoderClassifier
from ..models.gsn import binarize, chain_samples, fit_walkback, gsn_chain, sample_quality
from ..models.stacked import DenoisingAutoencoder
from ..models.variational import VariationalAutoencoder

__all__ = ["run", "MAX_CLASS_SHARE"]

#: The class-balance claim: no predicted class above this share of the samples (issue 20; the real test
#: images' largest class is about 13%).
MAX_CLASS_SHARE = 0.20


def _step_columns(n_steps, n_cols=12):
    """The steps shown as columns of the chain figures: 0, 1, 2, 3 then evenly spaced up to n_steps."""
    early = [t for t in range(4) if t <= n_steps]
    rest = np.linspace(early[-1], n_steps, max(2, n_cols - len(early) + 1)).round().astype(int)[1:]
    return sorted(set(early) | set(int(t) for t in rest))


def _chain_rows(chain, columns, label):
    """One ``(label, images)`` row per chain: its states at the steps in ``columns``."""
    states = chain.states
    return [(f"{label} {i + 1}", states[columns, i]) for i in range(states.shape[1])]


def run(dataset="mnist", out="out/gsn", examples=None, epochs=10, hidden=500, noise=0.45, walkback=3, burn_in=99,
        thin=1, chains=None, chain_noise=None, samples=1000, threshold=0.9, clf_epochs=10, vae_epochs=None,
        dtype="float32", seed=0, verbose=True, data_home=None, download=True):
    r"""Train, sample, measure; write the figures; return the result dict (see the module docstring)."""
    epochs = check_positive_int(epochs, "epochs")
    hidden = check_positive_int(hidden, "hidden")
    walkback = check_positive_int(walkback, "walkback")
    burn_in = check_positive_int(burn_in, "burn_in", minimum=0)
    thin = check_positive_int(thin, "thin")
    samples = check_positive_int(samples, "samples")
    chains = samples if chains is None else check_positive_int(chains, "chains")
    if samples % chains:
        raise ValueError(f"chains must divide samples (each chain gives samples / chains of them); got chains="
                         f"{chains} for samples={samples}")
    per_chain = samples // chains
    steps = burn_in + thin * per_chain  # the length of each chain
    clf_epochs = check_positive_int(clf_epochs, "clf_epochs")
    # as many minibatch updates as the walkback DAE makes (k pairs per image): the same training budget
    vae_epochs = epochs * walkback if vae_epochs is None else check_positive_int(vae_epochs, "vae_epochs")
    if examples is not None:
        examples = check_positive_int(examples, "examples")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be a probability in (0, 1] (the classifier's confidence); got {threshold!r}")
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {dataset!r}")
    # Built (and their hyperparameters checked) before the data is read.
    dae = DenoisingAutoencoder(hidden_layer_sizes=(hidden,), corruption="salt-pepper", corruption_level=noise,
                               method="adam", learning_rate=1e-3, batch_size=100, epochs=epochs, dtype=dtype,
                               random_state=seed)
    vae = VariationalAutoencoder(hidden_layer_sizes=(256,), n_latent=16, method="adam", epochs=vae_epochs,
                                 batch_size=100, dtype=dtype, random_state=seed)
    clf = EncoderClassifier(hidden_layer_sizes=(256,), activation="relu", method="adam", epochs=clf_epochs,
                            batch_size=100, softmax_max_iter=50, weight_decay=1e-4, random_state=seed)
    chain_noise = noise if chain_noise is None else chain_noise
    if isinstance(chain_noise, bool) or not isinstance(chain_noise, (int, float)) or not 0.0 <= chain_noise < 1.0:
        raise ValueError(f"chain_noise must be a salt-and-pepper level in [0, 1) (the sampling chain's corruption); "
                         f"got {chain_noise!r}")
    X_train, y_train, X_test, y_test, path = load_dataset(dataset, data_home=data_home, download=download,
                                                          dtype=dtype)
    X_train, y_train = X_train[:examples], y_train[:examples]
    X_train, X_test = binarize(X_train), binarize(X_test)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()

    if verbose:
        print(f"1. denoising autoencoder 784-{hidden}-784 (sigmoid, tied, salt-and-pepper {noise}), walkback "
              f"k={walkback}, {epochs} epochs of Adam on {X_train.shape[0]} binarised images", flush=True)
    fit_walkback(dae, X_train, walkback=walkback, random_state=seed, verbose=verbose)

    if verbose:
        print(f"2. {chains} chains from random binary images (salt-and-pepper {chain_noise}): burn-in {burn_in} "
              f"steps, then every {thin}-th state, {per_chain} per chain ({steps} steps each)", flush=True)
    corruption = ("salt-pepper", chain_noise)
    gsn_samples, gsn_means = chain_samples(dae, chains, per_chain=per_chain, burn_in=burn_in, thin=thin,
                                           corruption=corruption, rng=rng)
    columns = _step_columns(steps)
    x0 = (rng.random((10, X_train.shape[1])) < 0.5).astype(X_train.dtype)
    chain = gsn_chain(dae, x0, steps, corruption=corruption, rng=rng)
    test_chain = gsn_chain(dae, X_test[:10], steps, corruption=corruption, rng=rng)

    if verbose:
        print(f"3. VAE 784-256-16 on the same images, {vae_epochs} epochs (as many updates as the DAE); "
              f"{samples} samples", flush=True)
    vae.set_params(verbose=int(verbose)).fit(X_train)
    vae_means = vae.sample(samples, random_state=rng)
    vae_samples = (rng.random(vae_means.shape) < vae_means).astype(vae_means.dtype)

    if verbose:
        print(f"4. classifier: MLP 784-256-10 on the {X_train.shape[0]} real binarised training images, "
              f"{clf_epochs} epochs of Adam", flush=True)
    clf.fit(X_train.astype(np.float64), y_train)
    accuracy = clf.score(X_test.astype(np.float64), y_test)
    real = X_test[:samples]

    def quality(images):
        return sample_quality(clf.predict_proba(np.asarray(images, dtype=np.float64)), threshold)

    q_gsn, q_vae, q_real = quality(gsn_samples), quality(vae_samples), quality(real)
    seconds = time.perf_counter() - start
    result = {"confident_fraction": q_gsn["confident_fraction"], "class_coverage": q_gsn["class_coverage"],
              "vae_confident_fraction": q_vae["confident_fraction"],
              "class_histogram": q_gsn["histogram"],
              "vae_class_coverage": q_vae["class_coverage"], "vae_class_histogram": q_vae["histogram"],
              "real_confident_fraction": q_real["confident_fraction"], "real_class_coverage": q_real["class_coverage"],
              "real_class_histogram": q_real["histogram"], "n_real": int(real.shape[0]),
              "gsn_mean_confident_fraction": quality(gsn_means)["confident_fraction"],
              "vae_mean_confident_fraction": quality(vae_means)["confident_fraction"],
              "classifier_test_accuracy": accuracy, "threshold": threshold,
              "walkback": walkback, "steps": steps, "burn_in": burn_in, "thin": thin, "n_chains": chains,
              "per_chain": per_chain, "chain_noise": chain_noise, "n_samples": samples, "epochs": epochs,
              "vae_epochs": vae_epochs,
              "hidden": hidden, "vae_loss": vae.cost_,
              "noise": f"salt-pepper {noise}", "n_train": int(X_train.shape[0]), "dae_loss": dae.cost_,
              "dataset": dataset, "data_path": str(path), "seed": seed, "seconds": seconds}
    result.update(largest_class_share=_largest_share(q_gsn["histogram"]),
                  vae_largest_class_share=_largest_share(q_vae["histogram"]),
                  real_largest_class_share=_largest_share(q_real["histogram"]))
    result["claims"] = _claims(result)
    if verbose:
        print(f"classifier test accuracy (binarised test images): {accuracy:.4f}")
        print(f"{'images':<22} {'confident (p>=' + str(threshold) + ')':>18} {'coverage':>9}  histogram")
        for name, q in (("GSN (walkback) samples", q_gsn), ("VAE samples", q_vae), ("real test images", q_real)):
            print(f"{name:<22} {q['confident_fraction']:>18.3f} {q['class_coverage']:>9.1f}  {q['histogram']}")
        print(f"(on the means instead of the binary samples: GSN {result['gsn_mean_confident_fraction']:.3f}, "
              f"VAE {result['vae_mean_confident_fraction']:.3f})", flush=True)

    os.makedirs(out, exist_ok=True)
    name = dataset_title(dataset)
    shown = ", ".join(str(t) for t in columns)
    figs = [save_image_grid(_chain_rows(chain, columns, "chain"),
                            os.path.join(out, "chains.png"), image_shape=(28, 28), value_range=PIXEL_RANGE,
                            title=f"GSN chains from random binary images ({name}); steps {shown}"),
            save_image_grid(_chain_rows(test_chain, columns, "test"), os.path.join(out, "chains_from_test.png"),
                            image_shape=(28, 28), value_range=PIXEL_RANGE,
                            title=f"GSN chains from test images; steps {shown}"),
            save_image_grid([("GSN samples", gsn_samples[:12]), ("GSN means p_T", gsn_means[:12]),
                             ("VAE samples", vae_samples[:12]), ("VAE means", vae_means[:12]),
                             ("real (binarised)", real[:12])], os.path.join(out, "samples.png"),
                            image_shape=(28, 28), value_range=PIXEL_RANGE, title=f"{name}: samples and real images"),
            save_histograms({"GSN samples": q_gsn["histogram"], "VAE samples": q_vae["histogram"],
                             "real test images": q_real["histogram"]}, os.path.join(out, "histogram.png"),
                            names=class_names(dataset),
                            title=f"classes predicted by the MLP (test accuracy {accuracy:.3f})")]
    figs += [dae.save(os.path.join(out, "gsn_dae.npz")), vae.save(os.path.join(out, "vae.npz"))]
    print("wrote " + ", ".join(str(f) for f in figs), flush=True)
    return result


def _largest_share(histogram):
    """The share of the images in the most frequent predicted class."""
    h = np.asarray(histogram, dtype=float)
    return float(h.max() / h.sum())


def _claims(result):
    """The run's claims (:mod:`numpy_ae.experiments.claims`): class balance and confidence, next to the VAE's."""
    source = "Bengio et al. 2013, Generalized Denoising Auto-Encoders as Generative Models (the walkback chain)"
    return [claim(f"No class holds more than {MAX_CLASS_SHARE:.0%} of the GSN's samples (their classes predicted by "
                  "an independent MLP; baseline: the VAE's samples)",
                  result["largest_class_share"] <= MAX_CLASS_SHARE, result["largest_class_share"],
                  result["vae_largest_class_share"], source=source),
            claim("The GSN's samples are confidently classified (max class probability >= "
                  f"{result['threshold']:g}) at least as often as the VAE's",
                  result["confident_fraction"] >= result["vae_confident_fraction"], result["confident_fraction"],
                  result["vae_confident_fraction"], source=source)]


def save_histograms(histograms, path, title=None, names=None):
    """Write :func:`histograms_figure` as a PNG; return the path."""
    histograms_figure(histograms, title=title, names=names).savefig(path)
    return path


def histograms_figure(histograms, title=None, names=None):
    """Grouped bars: for each set of images (``{label: counts per class}``), the share the classifier assigns to
    each class; the x ticks are ``names`` (the class names, e.g. :func:`numpy_ae.data.class_names`) or the
    labels 0, 1, ...; the legend beside the axes. Returns the Figure."""
    n_classes = len(next(iter(histograms.values())))
    if names is not None and len(names) != n_classes:
        raise ValueError(f"names must have one name per class ({n_classes}); got {len(names)}")
    fig = new_figure(900, 380)
    ax = fig.add_subplot()
    width = 0.8 / len(histograms)
    for i, (label, h) in enumerate(histograms.items()):
        h = np.asarray(h, dtype=float)
        ax.bar(np.arange(h.size) + (i - (len(histograms) - 1) / 2) * width, h / h.sum(), width=width, label=label)
    ax.set_xticks(np.arange(n_classes))
    if names is not None:
        long = max(len(str(n)) for n in names) > 3
        ax.set_xticklabels([str(n) for n in names], rotation=30 if long else 0, ha="right" if long else "center")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("share of the images")
    legend_outside(ax)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


@command("gsn", "sampling from a denoising autoencoder trained with walkback (Bengio et al. 2013): Markov chains, "
         "sample quality by an independent classifier, next to a VAE")
def cmd_gsn(args):
    result = run(dataset=args.dataset, out=args.out, examples=args.examples, epochs=args.epochs, hidden=args.hidden,
                 noise=args.noise, walkback=args.walkback, burn_in=args.burn_in, thin=args.thin,
                 chains=args.chains, chain_noise=args.chain_noise, samples=args.samples,
                 threshold=args.threshold, clf_epochs=args.clf_epochs, vae_epochs=args.vae_epochs, dtype=args.dtype,
                 seed=args.seed, verbose=not args.quiet, data_home=args.data_home, download=not args.no_download)
    emit(args, result, "")
    return 0


def _configure(p):
    add_data_options(p, default="mnist")
    add_output(p, "--out", kind="folder", default="out/gsn", help="folder for the figures")
    p.add_argument("--examples", type=int, default=None, help="train on the first N training images (default: all)")
    p.add_argument("--epochs", type=int, default=10, help="epochs of the denoising AE and of the VAE (default: 10)")
    p.add_argument("--hidden", type=int, default=500, help="hidden units of the denoising AE (default: 500)")
    p.add_argument("--noise", type=float, default=0.45, help="salt-and-pepper level of the training corruption "
                   "and (unless --chain-noise) of the sampling chain (default: 0.45)")
    p.add_argument("--walkback", type=int, default=3, help="walkback steps k (1: plain denoising; default: 3)")
    p.add_argument("--burn-in", type=int, default=99, help="steps of each chain discarded before its first "
                   "sample (default: 99)")
    p.add_argument("--thin", type=int, default=1, help="keep every k-th state of a chain after the burn-in "
                   "(default: 1)")
    p.add_argument("--chains", type=int, default=None, help="independent chains from random binary images; "
                   "each gives samples / chains samples (default: as many as --samples, one sample each)")
    p.add_argument("--chain-noise", type=float, default=None, help="salt-and-pepper level of the sampling chain "
                   "(default: --noise, the training corruption)")
    p.add_argument("--samples", type=int, default=1000, help="samples drawn from the chains; as many VAE samples "
                   "(default: 1000)")
    p.add_argument("--threshold", type=float, default=0.9,
                   help="a sample is 'confident' when its largest class probability is >= this (default: 0.9)")
    p.add_argument("--vae-epochs", type=int, default=None,
                   help="epochs of the VAE (default: epochs x walkback, as many updates as the DAE)")
    p.add_argument("--clf-epochs", type=int, default=10, help="epochs of the independent classifier (default: 10)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="precision (default: float32)")
    p.add_argument("--seed", type=int, default=0, help="seeds the models, the chains and the samples")
    p.add_argument("--quiet", action="store_true", help="no progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_gsn.configure = _configure
