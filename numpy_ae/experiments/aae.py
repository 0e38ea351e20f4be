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
from .registry import add_output, command, emit
from ..models.stacked import StackedAutoencoder
from ..models.variational import VariationalAutoencoder
from .mnist_sparse import DATASETS, add_data_options, load_dataset
from .vae import _parse_hidden
from ..analysis.class_figures import save_codes
from ..analysis.plotting import PIXEL_RANGE, save_image_grid, save_tiles
from ..data import class_names, dataset_title

MMD_SAMPLES = 2000


def run(dataset="fashion-mnist", out="out/aae", prior="gaussian", supervised=False, epochs=10, hidden=(500, 500),
        discriminator_hidden=(128, 128), n_train=None, n_test=None, batch_size=128, generator_learning_rate=1e-3,
        discriminator_learning_rate=5e-4, dtype="float32", seed=0, verbose=True, data_home=None, download=True):
    r"""Train the three models, measure, write the figures; return ``(models, result)`` (see the module docstring)."""
    epochs = check_positive_int(epochs, "epochs")
    if n_train is not None:
        n_train = check_positive_int(n_train, "n_train", minimum=2)
    if n_test is not None:
        n_test = check_positive_int(n_test, "n_test", minimum=2)
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {dataset!r}")
    common = dict(epochs=epochs, batch_size=batch_size, dtype=dtype, random_state=seed)
    # Built (and their hyperparameters checked: an unknown prior fails here) before the data is read.
    aae = AdversarialAutoencoder(hidden_layer_sizes=tuple(hidden), n_latent=2, activation="elu", prior=prior,
                                 supervised=supervised, discriminator_hidden=tuple(discriminator_hidden),
                                 generator_learning_rate=generator_learning_rate,
                                 discriminator_learning_rate=discriminator_learning_rate, verbose=verbose, **common)
    vae = VariationalAutoencoder(hidden_layer_sizes=tuple(hidden), n_latent=2, activation="elu", verbose=verbose,
                                 **common)
    ae = StackedAutoencoder(hidden_layer_sizes=tuple(hidden) + (2,), activation="elu", loss="cross_entropy",
                            verbose=verbose, **common)
    X_train, y_train, X_test, y_test, path = load_dataset(dataset, data_home=data_home, download=download,
                                                          dtype=dtype)
    X, y = X_train[:n_train], y_train[:n_train]
    X_test, y_test = X_test[:n_test], y_test[:n_test]
    print(f"training on {X.shape[0]} of {X_train.shape[0]} training images; measuring on {X_test.shape[0]} test "
          f"images", flush=True)
    for m in (aae, vae, ae):
        m.set_params(batch_size=min(batch_size, X.shape[0]))

    seconds = {}
    sizes = "-".join(str(n) for n in (X.shape[1], *hidden, 2))
    for name, model, label in (("aae", aae, f"adversarial autoencoder {sizes}, prior {prior}"
                                + (" (supervised: class c -> component c)" if supervised else "")),
                               ("vae", vae, f"VAE {sizes} (prior N(0, I))"),
                               ("ae", ae, f"plain autoencoder {sizes}")):
        print(f"training the {label}, {epochs} epoch(s), Adam, batch {model.batch_size}, {dtype}", flush=True)
        start = time.perf_counter()
        model.fit(X, y) if model is aae else model.fit(X)
        seconds[name] = time.perf_counter() - start

    rng = np.random.default_rng(seed + 1)
    prior_obj = aae.prior_
    h = median_bandwidth(prior_obj.sample(MMD_SAMPLES, rng))
    codes = {"aae": aae.transform(X_test), "vae": vae.transform(X_test), "ae": ae.transform(X_test)}
    P = prior_obj.sample(MMD_SAMPLES, rng)
    mmds = {k: mmd(Z, P, bandwidth=h, max_samples=MMD_SAMPLES, random_state=seed) for k, Z in codes.items()}
    mse = {k: float(np.mean(np.square(np.asarray(m.reconstruct(X_test), dtype=np.float64) - X_test)))
           for k, m in (("aae", aae), ("vae", vae), ("ae", ae))}
    result = {"mmd_aae": mmds["aae"], "mmd_vae": mmds["vae"], "mmd_ae": mmds["ae"], "test_mse": mse["aae"],
              "test_mse_vae": mse["vae"], "test_mse_ae": mse["ae"], "mmd_kernel": "rbf", "mmd_bandwidth": h,
              "prior": prior, "supervised": bool(supervised), "epochs": epochs, "n_train": int(X.shape[0]),
              "n_test": int(X_test.shape[0]), "hidden": list(hidden), "dataset": dataset, "dtype": dtype,
              "generator_learning_rate": float(generator_learning_rate),
              "discriminator_learning_rate": float(discriminator_learning_rate),
              "discriminator_accuracy": aae.history_["discriminator_accuracy"][-1],
              "seconds_aae": seconds["aae"], "seconds_vae": seconds["vae"], "seconds_ae": seconds["ae"],
              "data_path": str(path)}
    print(f"MMD^2 (unbiased, RBF kernel, bandwidth {h:.3f} = median distance of prior samples) of the test codes "
          f"to the {prior} prior: AAE {mmds['aae']:.4f}, VAE {mmds['vae']:.4f}, plain AE {mmds['ae']:.4f}", flush=True)
    if prior == "mixture":
        print("note: the VAE targets N(0, I), not the mixture: its MMD to the mixture measures that choice, "
              "not how well it met its own prior", flush=True)
    print(f"test reconstruction MSE per pixel: AAE {mse['aae']:.4f}, VAE {mse['vae']:.4f}, plain AE {mse['ae']:.4f}",
          flush=True)

    os.makedirs(out, exist_ok=True)
    name, classes = dataset_title(dataset), class_names(dataset)
    shown = slice(0, MMD_SAMPLES)
    panels = [(f"AAE, prior {prior} (MMD {mmds['aae']:.3f})", codes["aae"][shown]),
              (f"VAE mu(x) (MMD {mmds['vae']:.3f})", codes["vae"][shown]),
              (f"plain AE (MMD {mmds['ae']:.3f})", codes["ae"][shown])]
    figs = [save_codes([(title, Z, y_test[shown], P) for title, Z in panels], os.path.join(out, "codes.png"),
                       classes, title=f"{name} test codes over {prior} prior samples (grey)")]
    if prior == "mixture":
        rows = [(f"component {k}" + (f": {classes[aae.classes_[k]]}" if supervised and k < len(aae.classes_) else ""),
                 aae.sample(10, y=(aae.classes_[k] if supervised else k), random_state=seed + k))
                for k in range(prior_obj.n_components if not supervised else len(aae.classes_))]
        figs.append(save_image_grid(rows, os.path.join(out, "samples.png"), image_shape=(28, 28),
                                    value_range=PIXEL_RANGE,
                                    title=f"AAE: images decoded from samples of each mixture component, {name}"))
    else:
        figs.append(save_tiles(aae.sample(100, random_state=seed), os.path.join(out, "samples.png"), shape=(28, 28),
                               n_cols=10, normalize=None, value_range=PIXEL_RANGE, scale=2,
                               title=f"AAE: 100 images decoded from z ~ N(0, I), {name}"))
    model_path = aae.save(os.path.join(out, "aae.npz"))
    print("wrote " + ", ".join(str(f) for f in figs) + f" and {model_path}", flush=True)
    return {"aae": aae, "vae": vae, "ae": ae}, result


@command("aae", "an adversarial autoencoder (Makhzani et al.) on (Fashion-)MNIST against a VAE and a plain "
                "autoencoder: MMD of the codes to the prior")
def cmd_aae(args):
    _, result = run(dataset=args.dataset, out=args.out, prior=args.prior, supervised=args.supervised,
                    epochs=args.epochs, hidden=_parse_hidden(args.hidden),
                    discriminator_hidden=_parse_hidden(args.discriminator_hidden), n_train=args.n_train,
                    n_test=args.n_test, batch_size=args.batch_size, generator_learning_rate=args.generator_learning_rate,
                    discriminator_learning_rate=args.discriminator_learning_rate, dtype=args.dtype, seed=args.seed,
                    verbose=not args.quiet, data_home=args.data_home, download=not args.no_download)
    emit(args, result, "")
    return 0


def _configure(p):
    add_data_options(p, default="fashion-mnist")
    p.add_argument("--prior", default="gaussian", help="gaussian (N(0, I)) or mixture (10 Gaussians on a circle)")
    p.add_argument("--supervised", action="store_true",
                   help="with --prior mixture: the codes of class c are matched to component c")
    add_output(p, "--out", kind="folder", default="out/aae", help="folder for the figures and the model")
    p.add_argument("--epochs", type=int, default=10, help="passes over the training images, each model (default: 10)")
    p.add_argument("--n-train", type=int, default=None, help="train on the first N training images (default: all)")
    p.add_argument("--n-test", type=int, default=None, help="measure on the first N test images (default: all)")
    p.add_argument("--hidden", default="500,500", help="encoder widths of all three models (default: 500,500)")
    p.add_argument("--discriminator-hidden", default="128,128", help="the discriminator's widths (default: 128,128)")
    p.add_argument("--batch-size", type=int, default=128, help="examples per Adam step (default: 128)")
    p.add_argument("--generator-learning-rate", type=float, default=1e-3,
                   help="Adam's step size for the AAE's generator phase (default: 0.001)")
    p.add_argument("--discriminator-learning-rate", type=float, default=5e-4,
                   help="Adam's step size for the AAE's discriminator phase (default: 0.0005)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="precision of the computation (default: float32)")
    p.add_argument("--seed", type=int, default=0, help="seeds the weights, the shuffling and the prior samples")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_aae.configure = _configure
