r"""``python -m numpy_ae sparse-patches``: UFLDL's sparse autoencoder exercise on 8x8 patches.

Samples 10,000 patches of natural images, whitened by default (Olshausen &
Field's 1/f filter, as UFLDL's ``IMAGES.mat``; ``--no-whiten`` skips it, see
:func:`numpy_ae.data.load_images`), trains a 64-25-64 sparse autoencoder with
L-BFGS (UFLDL's defaults: rho 0.01, lambda 1e-4, beta 3, 400 iterations),
writes ``filters.png`` and the saved model. Expected: localised, oriented edge
filters and a mean hidden activation within 25% of rho.

Localisation (:mod:`numpy_ae.analysis.localisation`): for each of the 25
filters the share of its energy in its top 8 of 64 pixels and its spatial
spread (energy-weighted standard deviation of the pixel positions around the
energy centroid, in pixels), averaged over the filters, beside the same figures
for 1,000 random Gaussian filters drawn in the same run (the unlocalised
reference; a uniform filter's spread is 3.24 px).

The comparison (on by default with the built-in images; ``--no-compare``
skips it): the same model is trained a second time on the same photograph
with the other preprocessing (unwhitened when the main run is whitened, and
the other way round), on patches at the same positions and from the same
initial weights (one seed for both), and its filters are measured the same
way and drawn in ``filters_unwhitened.png`` (or ``filters_whitened.png``).
It doubles the training time (about 40 s more of one core).

The ``--json`` result carries the figures and its ``"claims"``: the mean
activation within 25% of rho; the learned filters' mean spread below the
random filters'; and, with the comparison, the whitened filters' mean spread
below the unwhitened ones'.
"""
from __future__ import annotations

import os

import numpy as np

from ..models.autoencoders import SparseAutoencoder
from .claims import claim
from .registry import add_output, command, emit
from ..data import load_images, sample_patches
from ..analysis.localisation import filter_localisation, gaussian_filters, uniform_spread
from ..analysis.plotting import save_tiles

#: How many random Gaussian filters the unlocalised reference averages over.
N_RANDOM_FILTERS = 1000
#: The top-k of the energy share: 8 of the 64 pixels.
TOP_PIXELS = 8


def localisation_summary(filters, shape=(8, 8), top=TOP_PIXELS):
    """Mean and median top-``top`` energy share and spread (px) of ``filters`` (one per row), as floats."""
    m = filter_localisation(filters, shape=shape, top=top)
    return {"top_share_mean": float(m["top_share"].mean()), "top_share_median": float(np.median(m["top_share"])),
            "spread_mean": float(m["spread"].mean()), "spread_median": float(np.median(m["spread"]))}


def _name(whiten):
    return "whitened" if whiten else "unwhitened"


def _train(images, whiten, patches, hidden, sparsity, beta, weight_decay, iterations, dtype, seed, verbose):
    """Sample the patches and fit; one generator from ``seed`` for both, so two calls differ only by ``whiten``."""
    rng = np.random.default_rng(seed)
    imgs = load_images(images, whiten=whiten)
    X = sample_patches(imgs, n=patches, size=8, random_state=rng)
    source = f"IMAGES.mat at {images}, as stored" if images else "the photograph shipped with matplotlib"
    print(f"{X.shape[0]} patches of 8x8 from {imgs.shape[0]} {_name(whiten)} images ({source})", flush=True)
    ae = SparseAutoencoder(n_hidden=hidden, sparsity=sparsity, beta=beta, weight_decay=weight_decay,
                           max_iter=iterations, verbose=verbose, dtype=dtype, random_state=rng)
    print(f"training {X.shape[1]}-{hidden}-{X.shape[1]} ({dtype}) with L-BFGS, {iterations} iterations", flush=True)
    ae.fit(X)
    return ae, X


def run(out="out/sparse-patches", iterations=400, hidden=25, patches=10000, images=None, sparsity=0.01,
        beta=3.0, weight_decay=1e-4, dtype="float64", seed=0, verbose=10, whiten=True, compare=True):
    """Train on patches and write the figures; return ``(model, result_dict)``.

    ``whiten``: whiten the built-in images (default; see :func:`numpy_ae.data.load_images`). ``compare``:
    also train on the other preprocessing (module docstring); ignored with ``images`` (a file is used as
    stored), where ``result["compare"]`` is None.
    """
    if not isinstance(whiten, (bool, np.bool_)) or not isinstance(compare, (bool, np.bool_)):
        raise ValueError(f"whiten and compare must be True or False; got whiten={whiten!r}, compare={compare!r}")
    os.makedirs(out, exist_ok=True)
    settings = dict(patches=patches, hidden=hidden, sparsity=sparsity, beta=beta, weight_decay=weight_decay,
                    iterations=iterations, dtype=dtype, seed=seed, verbose=verbose)
    ae, X = _train(images, whiten, **settings)
    mean_act = ae.mean_activation(X)
    filters = ae.network_.layers[0].W.T  # one row per hidden unit: its 64 input weights
    figs = [save_tiles(filters, os.path.join(out, "filters.png"),
                       title=f"{hidden} filters learned from 8x8 {_name(whiten)} patches")]
    path = ae.save(os.path.join(out, "sparse_autoencoder.npz"))
    learned = localisation_summary(filters)
    random = localisation_summary(gaussian_filters(N_RANDOM_FILTERS, random_state=np.random.default_rng([seed, 1])))
    result = {"cost": ae.cost_, "mean_activation": mean_act, "seconds": ae.fit_seconds_,
              "iterations": ae.n_iter_, "converged": ae.converged_, "message": ae.message_,
              "n_patches": int(X.shape[0]), "n_hidden": hidden, "whiten": bool(whiten), "localisation": learned,
              "random_localisation": random, "uniform_spread": uniform_spread(), "top_pixels": TOP_PIXELS,
              "compare": None}
    result["claims"] = [
        claim(f"The mean hidden activation is within 25% of the sparsity target rho = {sparsity}",
              abs(mean_act - sparsity) <= 0.25 * sparsity, mean_act,
              source="UFLDL sparse autoencoder exercise (the target; it gives no measured figure)"),
        claim(f"The filters learned from {_name(whiten)} patches are localised: their mean spatial spread "
              "(energy-weighted standard deviation of the pixel positions, px) is below that of random Gaussian "
              "filters", learned["spread_mean"] < random["spread_mean"], learned["spread_mean"],
              random["spread_mean"]),
    ]
    print(f"localisation ({_name(whiten)}): mean spread {learned['spread_mean']:.2f} px (random Gaussian filters "
          f"{random['spread_mean']:.2f}, a uniform filter {uniform_spread():.2f}); energy in the top "
          f"{TOP_PIXELS} of 64 pixels {learned['top_share_mean']:.3f} (random {random['top_share_mean']:.3f})",
          flush=True)
    print(f"cost {ae.cost_:.6f} after {ae.n_iter_} iterations (L-BFGS: {ae.message_.lower()}) in {ae.fit_seconds_:.2f} s; mean hidden "
          f"activation {mean_act:.4f} (target rho {sparsity})", flush=True)

    if compare and images is None:
        print(f"comparison: the same model on {_name(not whiten)} patches (same seed; --no-compare skips it)",
              flush=True)
        other, X_other = _train(None, not whiten, **settings)
        other_filters = other.network_.layers[0].W.T
        figs.append(save_tiles(other_filters, os.path.join(out, f"filters_{_name(not whiten)}.png"),
                               title=f"{hidden} filters learned from 8x8 {_name(not whiten)} patches"))
        theirs = localisation_summary(other_filters)
        result["compare"] = {"whiten": not whiten, "localisation": theirs, "cost": other.cost_,
                             "mean_activation": other.mean_activation(X_other), "seconds": other.fit_seconds_}
        white, raw = (learned, theirs) if whiten else (theirs, learned)
        result["claims"].append(
            claim("Whitening the photograph (1/f, as UFLDL's IMAGES.mat) gives more localised filters: their mean "
                  "spatial spread (px) is below that of the filters learned from the same photograph unwhitened "
                  "(same seed, patch positions and initial weights)", white["spread_mean"] < raw["spread_mean"],
                  white["spread_mean"], raw["spread_mean"], source="UFLDL sparse autoencoder exercise (IMAGES.mat "
                  "is pre-whitened); Olshausen & Field (1997)"))
        print(f"localisation ({_name(not whiten)}): mean spread {theirs['spread_mean']:.2f} px; energy in the top "
              f"{TOP_PIXELS} pixels {theirs['top_share_mean']:.3f}", flush=True)
    print(f"wrote {', '.join(str(f) for f in figs)} and {path}", flush=True)
    return ae, result


@command("sparse-patches", "UFLDL's sparse autoencoder on 8x8 natural-image patches, with L-BFGS")
def cmd_sparse_patches(args):
    _, result = run(out=args.out, iterations=args.iterations, hidden=args.hidden, patches=args.patches,
                    images=args.images, sparsity=args.sparsity, beta=args.beta, weight_decay=args.weight_decay,
                    dtype=args.dtype, seed=args.seed, verbose=0 if args.quiet else 10, whiten=not args.no_whiten,
                    compare=not args.no_compare)
    emit(args, result, "")
    return 0


def _configure(p):
    add_output(p, "--out", kind="folder", default="out/sparse-patches", help="folder for filters.png and the model")
    p.add_argument("--iterations", type=int, default=400, help="L-BFGS iterations (UFLDL: 400)")
    p.add_argument("--hidden", type=int, default=25, help="hidden units (UFLDL: 25)")
    p.add_argument("--patches", type=int, default=10000, help="number of patches (UFLDL: 10000)")
    p.add_argument("--images", default=None, help="path to UFLDL's IMAGES.mat, used as stored (default: built-in "
                                                  "images; no comparison run)")
    p.add_argument("--no-whiten", action="store_true",
                   help="do not whiten the built-in images (default: whiten them with the 1/f filter, as IMAGES.mat)")
    p.add_argument("--no-compare", action="store_true",
                   help="skip the second training on the other preprocessing (default: run it, for the "
                        "whitened-vs-unwhitened claim; about doubles the time)")
    p.add_argument("--sparsity", type=float, default=0.01, help="target activation rho (UFLDL: 0.01)")
    p.add_argument("--beta", type=float, default=3.0, help="sparsity weight beta (UFLDL: 3)")
    p.add_argument("--weight-decay", type=float, default=1e-4, help="lambda (UFLDL: 1e-4)")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                   help="precision of the cost computation (float32: about 2x faster)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--quiet", action="store_true", help="no per-iteration progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_sparse_patches.configure = _configure
