r"""``python -m numpy_ae vae``: a variational autoencoder on (Fashion-)MNIST, and generating new images.

Hands-On ML's VAE by default: 784-500-500-20 encoder with ELU units, a
diagonal Gaussian posterior (the encoder outputs :math:`\mu` and
:math:`\gamma = \log\sigma^2`), a Bernoulli decoder (cross-entropy from
logits summed over pixels), the negative ELBO averaged over examples, Adam.
``--beta`` weights the KL term (beta-VAE); ``--parameterization sigma`` makes
the encoder output :math:`\sigma` itself (Hands-On ML's first form).

Figures (in ``--out``):

* ``generated.png``: 60 images decoded from :math:`z \sim \mathcal N(0, I)`
  (Hands-On ML's "generating digits");
* ``reconstructions.png``: test images above their reconstructions (decoder
  mean at :math:`z = \mu`);
* ``interpolation.png``: the decoder along the straight line between the codes
  of two test images of different classes;
* ``kl_per_unit.png``: the KL of each latent unit, averaged over the test set
  (units near 0 are unused: posterior collapse);
* with ``--latent 2``: ``latent_codes.png`` (test codes coloured by class) and
  ``manifold.png`` (the decoder over a grid of the Gaussian's quantiles).

With ``--conditional`` it trains a :class:`~numpy_ae.models.conditional.ConditionalVAE`
(the one-hot label joined to the encoder input and to z) and writes
``samples_per_class.png`` (one row of 10 samples per class: the same 10 codes
:math:`z \sim \mathcal N(0, I)` decoded with each label) instead of
``generated.png``; reconstructions, KL per unit and, with ``--latent 2``, the
codes use the true labels; there is no interpolation or manifold figure (the
decoder needs a label). The test figures of the JSON are then the conditional
bound on :math:`-\log p(x \mid y)`, plus ``"conditional": true``.

JSON (last line, ``--json``): ``test_neg_elbo``, ``test_recon``, ``test_kl``
(nats per example on the test set, one sample of :math:`\varepsilon` with a
fixed seed), ``sec_per_epoch``, ``epochs``, ``n_latent``, ``beta``,
``active_units`` (Burda et al.'s count), plus ``train_loss`` and the run's
settings; ``bernoulli_baseline_nll`` (nats per test image under independent
Bernoulli pixels whose probabilities are the mean training image: the model a
VAE must beat, since its decoder can always output that image) and ``claims``
(:mod:`numpy_ae.experiments.claims`): the -ELBO below that baseline, and every
latent unit active.
"""
from __future__ import annotations

import os
import time

import numpy as np

from .._validation import check_positive_int
from .claims import claim
from .registry import add_output, command, emit
from ..models.conditional import ConditionalVAE
from ..models.variational import VariationalAutoencoder
from .mnist_sparse import DATASETS, add_data_options, load_dataset
from .._validation import check_random_state
from ..analysis.class_figures import save_codes
from ..analysis.plotting import PIXEL_RANGE, new_figure, save_image_grid, save_tiles
from ..data import class_names, dataset_title


def _parse_hidden(text):
    """``"500,500"`` -> ``(500, 500)``; a ValueError naming the option otherwise."""
    try:
        sizes = tuple(int(s) for s in str(text).split(",") if s.strip())
    except ValueError:
        raise ValueError(f"--hidden must be comma-separated layer widths such as 500,500; got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise ValueError(f"--hidden must be comma-separated layer widths >= 1 such as 500,500; got {text!r}")
    return sizes


def interpolate_codes(model, a, b, steps=10):
    r"""Decoder means along :math:`z(t) = (1-t)\,\mu(a) + t\,\mu(b)`, ``t`` in [0, 1]: shape ``(steps, D)``."""
    mu = model.transform(np.vstack([a, b]))
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return model.inverse_transform(((1 - t) * mu[0] + t * mu[1]).astype(mu.dtype))


def manifold_grid(model, n=15):
    r"""Decoder means over an ``n x n`` grid of a 2-D latent space, at the normal quantiles
    :math:`\Phi^{-1}(0.05 .. 0.95)` (Kingma & Welling's figure 4): shape ``(n * n, D)``, rows first."""
    from scipy.stats import norm

    if model.n_latent != 2:
        raise ValueError(f"the manifold grid needs a 2-D latent space (--latent 2); got n_latent={model.n_latent}")
    q = norm.ppf(np.linspace(0.05, 0.95, n))
    zz = np.array([[x, y] for y in q[::-1] for x in q])
    return model.inverse_transform(zz.astype(model.dtype))


def bernoulli_nll(X_train, X_test, eps=1e-6):
    r"""Mean over test images of :math:`-\sum_d x_d \log p_d + (1 - x_d)\log(1 - p_d)`, :math:`p` = the mean
    training image clipped to :math:`[\epsilon, 1-\epsilon]`: the cross-entropy a decoder that ignores its code
    can reach (nats per image)."""
    p = np.clip(np.mean(X_train, axis=0, dtype=np.float64), eps, 1 - eps)
    X = np.asarray(X_test, dtype=np.float64)
    return float(-np.mean(X @ np.log(p) + (1 - X) @ np.log1p(-p)))


def run(dataset="fashion-mnist", out="out/vae", epochs=10, hidden=(500, 500), activation="elu", latent=20,
        batch_size=128, learning_rate=1e-3, beta=1.0, parameterization="log_var", dtype="float32", seed=0,
        examples=None, verbose=True, data_home=None, download=True, conditional=False):
    r"""Train the VAE, write the figures; return ``(model, result)`` (see the module docstring)."""
    epochs = check_positive_int(epochs, "epochs")
    if examples is not None:
        examples = check_positive_int(examples, "examples")
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {dataset!r}")
    # Built (and its hyperparameters checked) before the data is read.
    model = (ConditionalVAE if conditional else VariationalAutoencoder)(hidden_layer_sizes=tuple(hidden), n_latent=latent, activation=activation,
                                   parameterization=parameterization, beta=beta, likelihood="bernoulli",
                                   method="adam", epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                                   verbose=verbose, dtype=dtype, random_state=seed)
    X_train, y_train, X_test, y_test, path = load_dataset(dataset, data_home=data_home, download=download,
                                                          dtype=dtype)
    X = X_train if examples is None else X_train[:examples]
    y = y_train[:X.shape[0]]
    test_labels = (y_test,) if conditional else ()  # the extra argument of every conditional method
    if X.shape[0] < X_train.shape[0]:
        print(f"using the first {X.shape[0]} of {X_train.shape[0]} training images", flush=True)
    model.set_params(batch_size=min(batch_size, X.shape[0]))
    sizes = "-".join(str(n) for n in (X.shape[1], *hidden, latent))
    print(f"training a {sizes} {'conditional ' if conditional else ''}VAE ({activation}, {parameterization} parameterisation, Bernoulli decoder, "
          f"beta {beta}) with Adam {learning_rate}, batch {model.batch_size}, {epochs} epoch(s), {dtype}",
          flush=True)
    start = time.perf_counter()
    model.fit(X, y) if conditional else model.fit(X)
    seconds = time.perf_counter() - start

    parts = model.elbo(X_test, *test_labels, random_state=seed)
    kl_units = model.kl_per_unit(X_test, *test_labels)
    active = model.active_units(X_test, *test_labels)
    result = {"test_neg_elbo": float(parts.neg_elbo.mean()), "test_recon": float(parts.recon.mean()),
              "test_kl": float(parts.kl.mean()), "sec_per_epoch": seconds / model.n_epochs_,
              "epochs": int(model.n_epochs_), "n_latent": int(latent), "beta": float(beta),
              "active_units": int(active), "train_loss": float(model.history_["loss"][-1]),
              "parameterization": parameterization, "hidden": list(hidden), "dtype": model.dtype,
              "dataset": dataset, "n_examples": int(X.shape[0]), "data_path": str(path),
              "conditional": bool(conditional), "bernoulli_baseline_nll": bernoulli_nll(X, X_test)}
    result["claims"] = [
        claim("The VAE's test -ELBO (a bound on -log p(x)) is below the negative log-likelihood of independent "
              "Bernoulli pixels at the mean training image (nats per image)",
              result["test_neg_elbo"] < result["bernoulli_baseline_nll"], result["test_neg_elbo"],
              result["bernoulli_baseline_nll"], source="Kingma & Welling 2014; Hands-On ML, ch. 17 (the network)"),
        claim(f"Every one of the {latent} latent units is active (test KL > 0.01 nats; Burda et al.'s count): no "
              "posterior collapse", active == latent, active, source="Burda et al. 2016 (the active-unit count)")]
    print(f"test: -ELBO {result['test_neg_elbo']:.2f} nats per image = reconstruction {result['test_recon']:.2f} "
          f"+ KL {result['test_kl']:.2f}; {active} of {latent} latent units active; "
          f"{result['sec_per_epoch']:.2f} s per epoch", flush=True)

    os.makedirs(out, exist_ok=True)
    name, names = dataset_title(dataset), class_names(dataset)
    if conditional:
        figs = [save_samples_per_class(model, os.path.join(out, "samples_per_class.png"), random_state=seed,
                                       names=names,
                                       title=f"conditional VAE, {name}: each row one class, the same 10 codes")]
    else:
        figs = [save_tiles(model.sample(60, random_state=seed), os.path.join(out, "generated.png"), shape=(28, 28),
                           n_cols=10, normalize=None, value_range=PIXEL_RANGE, scale=2,
                           title=f"60 images decoded from z ~ N(0, I), {name}")]
    figs.append(save_image_grid([("test image", X_test[:10]),
                                 ("reconstruction", model.reconstruct(X_test[:10], *(t[:10] for t in test_labels)))],
                                os.path.join(out, "reconstructions.png"), image_shape=(28, 28), value_range=PIXEL_RANGE,
                                title=f"{name} test images and their reconstructions (z = mu)"))
    if not conditional:
        i = 0
        j = int(np.flatnonzero(y_test != y_test[i])[0])
        figs.append(save_image_grid([(f"{names[y_test[i]]} -> {names[y_test[j]]}",
                                      interpolate_codes(model, X_test[i], X_test[j]))],
                                    os.path.join(out, "interpolation.png"), image_shape=(28, 28),
                                    value_range=PIXEL_RANGE,
                                    title="decoding the straight line between two test images' codes"))
    figs.append(_save_bar(kl_units, os.path.join(out, "kl_per_unit.png"),
                          title=f"KL per latent unit (test mean; {active} of {latent} active)"))
    if latent == 2:
        figs.append(save_codes([(None, model.transform(X_test, *test_labels), y_test, None)],
                               os.path.join(out, "latent_codes.png"), names, xlabel="z1 (mu)", ylabel="z2 (mu)",
                               panel_px=520, title=f"test codes mu(x) of {name}, coloured by class"))
    if latent == 2 and not conditional:
        figs.append(save_tiles(manifold_grid(model), os.path.join(out, "manifold.png"), shape=(28, 28), n_cols=15,
                               normalize=None, value_range=PIXEL_RANGE,
                               title="the decoder over the 2-D latent space"))
    model_path = model.save(os.path.join(out, "vae.npz"))
    print("wrote " + ", ".join(str(f) for f in figs) + f" and {model_path}", flush=True)
    return model, result


def samples_per_class(model, n_per_class=10, random_state=0, names=None):
    r"""Samples of a :class:`~numpy_ae.models.conditional.ConditionalVAE`, one row per class: the same
    ``n_per_class`` codes :math:`z \sim \mathcal N(0, I)` decoded with each label of ``classes_``, so a
    column shows what the label alone changes. Returns ``[(row label, images (n_per_class, D)), ...]``, the row
    label ``names[c]`` for label ``c`` (e.g. :func:`numpy_ae.data.class_names`), or ``"class c"`` without names."""
    Z = check_random_state(random_state).standard_normal((n_per_class, model.n_latent)).astype(model.dtype)
    if names is not None and len(names) <= int(np.max(model.classes_)):
        raise ValueError(f"names must name every label of model.classes_ (up to {np.max(model.classes_)}); "
                         f"got {len(names)} names")
    return [(f"class {c}" if names is None else str(names[c]), model.inverse_transform(Z, np.full(n_per_class, c)))
            for c in model.classes_]


def save_samples_per_class(model, path, n_per_class=10, random_state=0, title=None, image_shape=(28, 28),
                           names=None):
    """Write :func:`samples_per_class` as a grid (one row per class, labelled with ``names[c]`` when given, on
    :data:`~numpy_ae.analysis.plotting.PIXEL_RANGE`); return the path."""
    return save_image_grid(samples_per_class(model, n_per_class, random_state, names=names), path,
                           image_shape=image_shape, title=title, value_range=PIXEL_RANGE)


def _save_axes(path, size_px, draw, title):
    """One set of axes on an Agg figure (``plotting.new_figure``: no pyplot, no global backend), drawn by
    ``draw(fig, ax)``, saved as a PNG; returns the path."""
    fig = new_figure(*size_px)
    ax = fig.add_subplot()
    draw(fig, ax)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    return path


def _save_bar(values, path, title):
    from matplotlib.ticker import MaxNLocator

    def draw(fig, ax):
        ax.bar(np.arange(len(values)), values)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # units are numbered 0, 1, ...
        ax.set_xlim(-0.6, len(values) - 0.4)
        ax.set_xlabel("latent unit")
        ax.set_ylabel("KL (nats)")
    return _save_axes(path, (700, 300), draw, title)


@command("vae", "a variational autoencoder (Hands-On ML's network; beta-VAE) on (Fashion-)MNIST; generates images")
def cmd_vae(args):
    _, result = run(dataset=args.dataset, out=args.out, epochs=args.epochs, hidden=_parse_hidden(args.hidden),
                    activation=args.activation, latent=args.latent, batch_size=args.batch_size,
                    learning_rate=args.learning_rate, beta=args.beta, parameterization=args.parameterization,
                    dtype=args.dtype, seed=args.seed, examples=args.examples, verbose=not args.quiet,
                    data_home=args.data_home, download=not args.no_download, conditional=args.conditional)
    emit(args, result, "")
    return 0


def _configure(p):
    add_data_options(p, default="fashion-mnist")
    add_output(p, "--out", kind="folder", default="out/vae", help="folder for the figures and the model")
    p.add_argument("--epochs", type=int, default=10, help="passes over the training images (default: 10)")
    p.add_argument("--hidden", default="500,500", help="encoder widths, comma-separated (default: 500,500)")
    p.add_argument("--activation", default="elu", help="hidden activation (default: elu)")
    p.add_argument("--latent", type=int, default=20, help="latent units K (default: 20; 2 draws the manifold)")
    p.add_argument("--batch-size", type=int, default=128, help="examples per Adam step (default: 128)")
    p.add_argument("--learning-rate", type=float, default=1e-3, help="Adam's step size (default: 0.001)")
    p.add_argument("--beta", type=float, default=1.0, help="weight of the KL term, beta-VAE (default: 1)")
    p.add_argument("--parameterization", choices=["log_var", "sigma"], default="log_var",
                   help="what the encoder outputs for the scale (default: log_var)")
    p.add_argument("--conditional", action="store_true",
                   help="a conditional VAE (label joined to the encoder input and to z); writes samples_per_class.png")
    p.add_argument("--examples", type=int, default=None, help="train on the first N training images (default: all)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="precision of the computation (default: float32)")
    p.add_argument("--seed", type=int, default=0, help="seeds the weights, the shuffling, eps and the samples")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_vae.configure = _configure
