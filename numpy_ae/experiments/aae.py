r"""``python -m numpy_ae aae``: an adversarial autoencoder on (Fashion-)MNIST, against a VAE and a plain autoencoder.

Trains three models with a 2-D code on the same images, with the same
hidden widths (``--hidden``), ELU units, cross-entropy reconstruction and
Adam for the same number of epochs:

* the adversarial autoencoder (:class:`~numpy_ae.models.adversarial.AdversarialAutoencoder`)
  with ``--prior gaussian`` (:math:`\mathcal N(0, I)`) or ``--prior mixture``
  (10 elongated Gaussians on a circle; ``--supervised`` matches class c to
  component c);
* a VAE (:class:`~numpy_ae.models.variational.VariationalAutoencoder`, latent 2),
  whose code is :math:`\mu(x)`; its prior is always :math:`\mathcal N(0, I)`;
* a plain autoencoder (:class:`~numpy_ae.models.stacked.StackedAutoencoder` with
  widths ``hidden + (2,)``; its 2-D code goes through the same ELU as every
  other layer of that class), which matches nothing.

How close each model's test codes are to the AAE's prior: :func:`~numpy_ae.analysis.mmd.mmd`,
the unbiased squared MMD with a Gaussian RBF kernel
:math:`k(a, b) = \exp(-\lVert a - b\rVert^2 / 2h^2)`, ONE bandwidth for all
three, :math:`h` = the median distance between 2,000 prior samples (the
median heuristic on the prior alone, so it does not depend on the model
measured), on at most 2,000 test codes against 2,000 fresh prior samples.
With ``--prior mixture`` all three are compared with the mixture; the VAE
does not target it (its prior is N(0, I)), which the output says.

Figures (in ``--out``): ``codes.png`` (one panel per model: test codes
coloured by class over grey prior samples) and ``samples.png`` (images the
AAE decodes from prior samples; one row per component for the mixture).

The supervised mixture AAE (trained beside the three unless ``--no-mixture``; with ``--prior mixture
--supervised`` it is the AAE itself) is Makhzani et al.'s section 2.3 / fig. 4: the one-hot label is
joined to the discriminator's input for the prior samples (drawn from the label's own component) and for
the codes of that label. Its measure: the fraction of test codes nearest their own class's component
(``mixture_accuracy``; the prior's own samples reach 99.9%, ``mixture_accuracy_of_prior_samples``: the
components barely overlap). It takes :data:`MIXTURE_DEFAULTS` and :data:`MIXTURE_EPOCHS`: with the
Gaussian AAE's settings (a generator as fast as or faster than the discriminator, step sizes decayed
by 0.7 per epoch, 5 epochs) the encoder runs ahead of the discriminator and the codes of most classes
pile onto one or two components (seed 2: all ten classes on components 8 and 9); a discriminator twice
as fast as the generator, constant step sizes and 50 epochs keep them apart (see docs/models/aae.md for
the measurements).

JSON (last line, ``--json``): ``mmd_aae``, ``mmd_vae``, ``mmd_ae``,
``test_mse`` (the AAE's reconstruction error, mean over test pixels), plus
``test_mse_vae``, ``test_mse_ae``, ``mmd_bandwidth``, the per-model seconds and
the run's settings.
"""
from __future__ import annotations

import os
import time

import numpy as np

from .._validation import check_positive_int
from ..models.adversarial import AdversarialAutoencoder
from ..analysis.mmd import median_bandwidth, mmd
from .claims import claim
from .registry import add_output, command, emit
from ..models.stacked import StackedAutoencoder
from ..models.variational import VariationalAutoencoder
from .mnist_sparse import DATASETS, add_data_options, load_dataset
from .vae import _parse_hidden
from ..analysis.class_figures import save_codes
from ..analysis.plotting import PIXEL_RANGE, save_image_grid, save_tiles
from ..data import class_names, dataset_title

MMD_SAMPLES = 2000
EPOCHS, HIDDEN, N_TRAIN = 5, (128, 128), 10000
# The AAE's training settings at the defaults (both AAEs of a run); see the module docstring for the measurements.
AAE_DEFAULTS = {"generator_learning_rate": 1e-3, "discriminator_learning_rate": 5e-4, "beta1": 0.9,
                "code_noise": 0.1, "label_smoothing": 0.0, "learning_rate_decay": 0.7}
# The supervised mixture AAE (beside them, or the AAE itself with --prior mixture --supervised) takes these
# instead: a discriminator twice as fast as the generator, constant step sizes, and MIXTURE_EPOCHS epochs.
MIXTURE_DEFAULTS = {"generator_learning_rate": 1e-3, "discriminator_learning_rate": 2e-3, "learning_rate_decay": 1.0}
MIXTURE_EPOCHS = 50
OPTIONS = {"generator_learning_rate": "Adam's step size for the AAE's generator phase",
           "discriminator_learning_rate": "Adam's step size for the AAE's discriminator phase",
           "beta1": "Adam's first-moment decay in both regularisation phases",
           "code_noise": "instance noise: std of Gaussian noise on every point the discriminator sees",
           "label_smoothing": "one-sided: the prior samples' target is 1 minus this",
           "learning_rate_decay": "all three step sizes are multiplied by this after every epoch"}


def _claims(mmds, accuracy, prior):
    """The claims the README states, each computed from this run (see the module docstring)."""
    src = "Makhzani et al. 2015, Adversarial Autoencoders, fig. 2 (qualitative)"
    claims = [claim(f"The adversarial autoencoder's test codes are closer to its {prior} prior (MMD^2) than a VAE's "
                    "samples of q(z|x), at one shared kernel bandwidth",
                    mmds["aae"] < mmds["vae"], mmds["aae"], mmds["vae"], source=src),
              claim(f"The adversarial autoencoder's test codes are closer to its {prior} prior (MMD^2) than a plain "
                    "autoencoder's codes", mmds["aae"] < mmds["ae"], mmds["aae"], mmds["ae"], source=src)]
    if accuracy is not None:
        claims.append(claim("With the supervised mixture prior, at least 80% of test codes lie nearest their own "
                            "class's component (chance: 10%)", accuracy >= 0.8, accuracy,
                            source="Makhzani et al. 2015, Adversarial Autoencoders, section 2.3, fig. 4 (classes "
                                   "separated)"))
    return claims


def run(dataset="fashion-mnist", out="out/aae", prior="gaussian", supervised=False, mixture=True, epochs=None,
        hidden=HIDDEN, discriminator_hidden=(128, 128), n_train=N_TRAIN, n_test=None, batch_size=128, **aae_params):
    r"""Train the models, measure, write the figures; return ``(models, result)`` (see the module docstring).

    ``aae_params``: ``dtype``, ``seed``, ``verbose``, ``data_home``, ``download``, and the AAE's
    :data:`AAE_DEFAULTS` (``generator_learning_rate``, ``code_noise``...), each defaulting to that table (the
    supervised mixture AAE's to :data:`MIXTURE_DEFAULTS` over it). ``epochs`` None: :data:`EPOCHS` for the
    three compared models and :data:`MIXTURE_EPOCHS` for the supervised mixture AAE (all three take
    MIXTURE_EPOCHS when the AAE itself is the supervised mixture, so that they still share their epochs);
    an int: every model."""
    own = prior == "mixture" and supervised  # the AAE itself is the supervised mixture AAE
    mix_epochs = MIXTURE_EPOCHS if epochs is None else check_positive_int(epochs, "epochs")
    epochs = (MIXTURE_EPOCHS if own else EPOCHS) if epochs is None else mix_epochs
    if n_train is not None:
        n_train = check_positive_int(n_train, "n_train", minimum=2)
    if n_test is not None:
        n_test = check_positive_int(n_test, "n_test", minimum=2)
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {dataset!r}")
    opts = dict(dtype="float32", seed=0, verbose=True, data_home=None, download=True)
    unknown = set(aae_params) - set(opts) - set(AAE_DEFAULTS)
    if unknown:
        raise ValueError(f"run() got unknown options {sorted(unknown)}; known: {sorted(set(opts) | set(AAE_DEFAULTS))}")
    opts.update({k: v for k, v in aae_params.items() if k in opts})
    settings = {k: aae_params.get(k, v) for k, v in AAE_DEFAULTS.items()}
    mix_settings = {k: aae_params.get(k, v) for k, v in {**AAE_DEFAULTS, **MIXTURE_DEFAULTS}.items()}
    dtype, seed, verbose = opts["dtype"], opts["seed"], opts["verbose"]
    common = dict(epochs=epochs, batch_size=batch_size, dtype=dtype, random_state=seed)
    # Built (and their hyperparameters checked: an unknown prior fails here) before the data is read.
    adversarial = dict(hidden_layer_sizes=tuple(hidden), n_latent=2, activation="elu",
                       discriminator_hidden=tuple(discriminator_hidden), verbose=verbose, **common)
    if own:
        settings = mix_settings
    aae = AdversarialAutoencoder(prior=prior, supervised=supervised, **adversarial, **settings)
    with_mixture = mixture and not own
    aae_mix = AdversarialAutoencoder(prior="mixture", supervised=True, **{**adversarial, "epochs": mix_epochs},
                                     **mix_settings) if with_mixture else None
    vae = VariationalAutoencoder(hidden_layer_sizes=tuple(hidden), n_latent=2, activation="elu", verbose=verbose,
                                 **common)
    ae = StackedAutoencoder(hidden_layer_sizes=tuple(hidden) + (2,), activation="elu", loss="cross_entropy",
                            verbose=verbose, **common)
    X_train, y_train, X_test, y_test, path = load_dataset(dataset, data_home=opts["data_home"],
                                                          download=opts["download"], dtype=dtype)
    X, y = X_train[:n_train], y_train[:n_train]
    X_test, y_test = X_test[:n_test], y_test[:n_test]
    print(f"training on {X.shape[0]} of {X_train.shape[0]} training images; measuring on {X_test.shape[0]} test "
          f"images", flush=True)
    models = {"aae": aae, "vae": vae, "ae": ae, **({"aae_mixture": aae_mix} if with_mixture else {})}
    for m in models.values():
        m.set_params(batch_size=min(batch_size, X.shape[0]))

    seconds = {}
    sizes = "-".join(str(n) for n in (X.shape[1], *hidden, 2))
    labels = {"aae": f"adversarial autoencoder {sizes}, prior {prior}"
                     + (" (supervised: class c -> component c)" if supervised else ""),
              "vae": f"VAE {sizes} (prior N(0, I))", "ae": f"plain autoencoder {sizes}",
              "aae_mixture": f"adversarial autoencoder {sizes}, supervised mixture prior (class c -> component c)"}
    for name, model in models.items():
        print(f"training the {labels[name]}, {model.epochs} epoch(s), Adam, batch {model.batch_size}, {dtype}",
              flush=True)
        start = time.perf_counter()
        model.fit(X, y) if isinstance(model, AdversarialAutoencoder) else model.fit(X)
        seconds[name] = time.perf_counter() - start

    rng = np.random.default_rng(seed + 1)
    prior_obj = aae.prior_
    h = median_bandwidth(prior_obj.sample(MMD_SAMPLES, rng))
    # The VAE's codes are draws of q(z|x), a sample of its aggregated posterior (what its KL term matches to
    # the prior; the AAE's deterministic E(x) is its own); the means mu(x) spread less, reported beside.
    codes = {"aae": aae.transform(X_test), "vae": vae.sample_codes(X_test, random_state=seed + 2),
             "vae_mean": vae.transform(X_test), "ae": ae.transform(X_test)}
    P = prior_obj.sample(MMD_SAMPLES, rng)
    mmds = {k: mmd(Z, P, bandwidth=h, max_samples=MMD_SAMPLES, random_state=seed) for k, Z in codes.items()}
    mse = {k: float(np.mean(np.square(np.asarray(m.reconstruct(X_test), dtype=np.float64) - X_test)))
           for k, m in models.items()}
    sup = aae if own else aae_mix
    accuracy = per_class = ceiling = None
    if sup is not None:
        Z_sup = sup.transform(X_test)
        hits = sup.prior_.component_of(Z_sup) == np.searchsorted(sup.classes_, y_test)
        accuracy = float(np.mean(hits))
        per_class = [float(np.mean(hits[y_test == c])) for c in sup.classes_]
        # the ceiling: the components overlap a little, so even the prior's own samples are not all nearest theirs
        k = rng.integers(0, sup.prior_.n_components, MMD_SAMPLES * 5)
        ceiling = float(np.mean(sup.prior_.component_of(sup.prior_.sample(k.shape[0], rng, labels=k)) == k))
    result = {"mmd_aae": mmds["aae"], "mmd_vae": mmds["vae"], "mmd_vae_mean": mmds["vae_mean"], "mmd_ae": mmds["ae"],
              "mixture_accuracy": accuracy, "mixture_accuracy_per_class": per_class,
              "mixture_accuracy_of_prior_samples": ceiling, "epochs_mixture": None if sup is None else sup.epochs,
              "mixture_settings": None if sup is None else {k: float(getattr(sup, k)) for k in AAE_DEFAULTS},
              "test_mse": mse["aae"], "test_mse_vae": mse["vae"], "test_mse_ae": mse["ae"],
              "test_mse_mixture": mse.get("aae_mixture"), "mmd_kernel": "rbf", "mmd_bandwidth": h,
              "vae_codes": "samples of q(z|x)", "prior": prior, "supervised": bool(supervised), "epochs": epochs,
              "n_train": int(X.shape[0]), "n_test": int(X_test.shape[0]), "hidden": list(hidden),
              "discriminator_hidden": list(discriminator_hidden), "dataset": dataset, "dtype": dtype, "seed": seed,
              **{k: float(v) for k, v in settings.items()},
              "discriminator_accuracy": aae.history_["discriminator_accuracy"][-1],
              **{f"seconds_{k}": v for k, v in seconds.items()}, "data_path": str(path),
              "claims": _claims(mmds, accuracy, prior)}
    print(f"MMD^2 (unbiased, RBF kernel, bandwidth {h:.3f} = median distance of prior samples) of the test codes "
          f"to the {prior} prior: AAE {mmds['aae']:.4f}, VAE {mmds['vae']:.4f} (samples of q(z|x); its means mu(x) "
          f"{mmds['vae_mean']:.4f}), plain AE {mmds['ae']:.4f}", flush=True)
    if prior == "mixture":
        print("note: the VAE targets N(0, I), not the mixture: its MMD to the mixture measures that choice, "
              "not how well it met its own prior", flush=True)
    if accuracy is not None:
        print(f"supervised mixture: {accuracy:.1%} of test codes nearest their own class's component "
              f"(per class {min(per_class):.0%} to {max(per_class):.0%}; of the prior's own samples "
              f"{ceiling:.1%}, the ceiling)", flush=True)
    print("test reconstruction MSE per pixel: " + ", ".join(f"{k} {v:.4f}" for k, v in mse.items()), flush=True)

    os.makedirs(out, exist_ok=True)
    name, classes = dataset_title(dataset), class_names(dataset)
    shown = slice(0, MMD_SAMPLES)
    panels = [(f"AAE, prior {prior} (MMD {mmds['aae']:.3f})", codes["aae"][shown]),
              (f"VAE z ~ q(z|x) (MMD {mmds['vae']:.3f})", codes["vae"][shown]),
              (f"plain AE (MMD {mmds['ae']:.3f})", codes["ae"][shown])]
    figs = [save_codes([(title, Z, y_test[shown], P) for title, Z in panels], os.path.join(out, "codes.png"),
                       classes, title=f"{name} test codes over {prior} prior samples (grey)")]
    if prior != "mixture":
        figs.append(save_tiles(aae.sample(100, random_state=seed), os.path.join(out, "samples.png"), shape=(28, 28),
                               n_cols=10, normalize=None, value_range=PIXEL_RANGE, scale=2,
                               title=f"AAE: 100 images decoded from z ~ N(0, I), {name}"))
    for model, stem in ((aae, "samples") if prior == "mixture" else (None, None), (aae_mix, "mixture_samples")):
        if model is None:
            continue
        figs += _mixture_figures(model, stem, out, name, classes, X_test[shown], y_test[shown], accuracy, seed)
    model_path = aae.save(os.path.join(out, "aae.npz"))
    print("wrote " + ", ".join(str(f) for f in figs) + f" and {model_path}", flush=True)
    return models, result


def _mixture_figures(model, stem, out, name, classes, X, y, accuracy, seed):
    """Decoded samples of each component (``<stem>.png``) and, for a supervised extra model, its codes."""
    sup = model.supervised
    rows = [(f"component {k}" + (f": {classes[model.classes_[k]]}" if sup and k < len(model.classes_) else ""),
             model.sample(10, y=(model.classes_[k] if sup else k), random_state=seed + k))
            for k in range(model.prior_.n_components if not sup else len(model.classes_))]
    figs = [save_image_grid(rows, os.path.join(out, f"{stem}.png"), image_shape=(28, 28), value_range=PIXEL_RANGE,
                            title=f"AAE: images decoded from samples of each mixture component, {name}")]
    if stem == "mixture_samples":
        P = model.prior_.sample(MMD_SAMPLES, np.random.default_rng(seed + 3))
        figs.append(save_codes([(f"supervised AAE, mixture prior ({accuracy:.0%} on their own component)",
                                 model.transform(X), y, P)], os.path.join(out, "mixture_codes.png"), classes,
                               title=f"{name} test codes over mixture prior samples (grey)"))
    return figs


@command("aae", "an adversarial autoencoder (Makhzani et al.) on (Fashion-)MNIST against a VAE and a plain "
                "autoencoder: MMD of the codes to the prior; a supervised mixture prior")
def cmd_aae(args):
    _, result = run(dataset=args.dataset, out=args.out, prior=args.prior, supervised=args.supervised,
                    mixture=not args.no_mixture, epochs=args.epochs, hidden=_parse_hidden(args.hidden),
                    discriminator_hidden=_parse_hidden(args.discriminator_hidden), n_train=args.n_train,
                    n_test=args.n_test, batch_size=args.batch_size, dtype=args.dtype, seed=args.seed,
                    verbose=not args.quiet, data_home=args.data_home, download=not args.no_download,
                    **{k: getattr(args, k) for k in AAE_DEFAULTS if getattr(args, k) is not None})
    emit(args, result, "")
    return 0


def _configure(p):
    add_data_options(p, default="fashion-mnist")
    p.add_argument("--prior", default="gaussian", help="gaussian (N(0, I)) or mixture (10 Gaussians on a circle)")
    p.add_argument("--supervised", action="store_true",
                   help="with --prior mixture: the codes of class c are matched to component c")
    p.add_argument("--no-mixture", action="store_true",
                   help="do not also train the supervised mixture AAE (trained by default unless --prior mixture "
                        "--supervised already is one)")
    add_output(p, "--out", kind="folder", default="out/aae", help="folder for the figures and the model")
    p.add_argument("--epochs", type=int, default=None,
                   help=f"passes over the training images, every model (default: {EPOCHS}, and {MIXTURE_EPOCHS} for "
                        f"the supervised mixture AAE; {MIXTURE_EPOCHS} for all with --prior mixture --supervised)")
    p.add_argument("--n-train", type=int, default=N_TRAIN,
                   help=f"train on the first N training images (default: {N_TRAIN})")
    p.add_argument("--n-test", type=int, default=None, help="measure on the first N test images (default: all)")
    p.add_argument("--hidden", default=",".join(map(str, HIDDEN)),
                   help=f"encoder widths of all the models (default: {','.join(map(str, HIDDEN))})")
    p.add_argument("--discriminator-hidden", default="128,128", help="the discriminator's widths (default: 128,128)")
    p.add_argument("--batch-size", type=int, default=128, help="examples per Adam step (default: 128)")
    for k, text in OPTIONS.items():
        mix = f"; the mixture AAE's: {MIXTURE_DEFAULTS[k]:g}" if k in MIXTURE_DEFAULTS else ""
        p.add_argument("--" + k.replace("_", "-"), type=float, default=None,  # None: not given, each model's own
                       help=f"{text} (default: {AAE_DEFAULTS[k]:g}{mix})")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="precision of the computation (default: float32)")
    p.add_argument("--seed", type=int, default=0, help="seeds the weights, the shuffling and the prior samples")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_aae.configure = _configure
