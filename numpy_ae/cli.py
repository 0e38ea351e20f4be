r"""Command-line entry points: ``python -m numpy_ae <command> [options]``.

Each experiment command prints progress while it runs and, with ``--json``,
prints one JSON object as its LAST line (the figures a script or a test reads).
Figures and saved models go to ``--out``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

__all__ = ["main"]

COMMANDS = {}


def command(name, help):
    """Register ``fn(args)`` as a subcommand; ``fn.configure(parser)`` adds its options."""
    def deco(fn):
        COMMANDS[name] = (fn, help)
        return fn
    return deco


def _emit(args, result, human):
    """Print the human summary, then the JSON line last when asked."""
    print(human, flush=True)
    if getattr(args, "json", False):
        print(json.dumps(result), flush=True)


# ------------------------------------------------------------------ gradcheck
@command("gradcheck", "run every registered numerical gradient check")
def cmd_gradcheck(args):
    from .gradcheck import run_checks

    results = run_checks(args.only or None)
    width = max(len(r.name) for r in results)
    print(f"{'check':<{width}}  {'rel_diff':>10}  {'tol':>7}  ok")
    for r in results:
        print(f"{r.name:<{width}}  {r.rel_diff:10.3e}  {r.tol:7.0e}  {'yes' if r.ok else 'NO'}")
    failed = [r for r in results if not r.ok]
    for r in failed:
        print("\n" + r.report())
    all_ok = not failed
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if args.json:
        print(json.dumps({"checks": [r.to_dict() for r in results], "all_ok": all_ok}))
    return 0 if all_ok else 1


def _configure_gradcheck(p):
    p.add_argument("--only", nargs="*", help="names of the checks to run (default: all)")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_gradcheck.configure = _configure_gradcheck


# ------------------------------------------------------------ sparse-patches
@command("sparse-patches", "UFLDL's sparse autoencoder on 8x8 natural-image patches, with L-BFGS")
def cmd_sparse_patches(args):
    import numpy as np

    from .autoencoders import SparseAutoencoder
    from .data import load_images, sample_patches
    from .plotting import save_tiles

    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    images = load_images(args.images)
    X = sample_patches(images, n=args.patches, size=8, random_state=rng)
    print(f"{X.shape[0]} patches of 8x8 from {images.shape[0]} whitened images "
          f"({'IMAGES.mat: ' + args.images if args.images else 'matplotlib sample photographs'})", flush=True)
    ae = SparseAutoencoder(n_hidden=args.hidden, sparsity=args.sparsity, beta=args.beta,
                           weight_decay=args.weight_decay, random_state=rng)
    print(f"training {X.shape[1]}-{args.hidden}-{X.shape[1]} with L-BFGS, {args.iterations} iterations", flush=True)
    ae.fit(X, max_iter=args.iterations, verbose=0 if args.quiet else 10)
    mean_act = ae.mean_activation(X)
    filters = ae.network_.layers[0].W.T  # one row per hidden unit: its 64 input weights
    fig_path = save_tiles(filters, os.path.join(args.out, "filters.png"),
                          title=f"{args.hidden} filters learned from 8x8 whitened patches")
    model_path = ae.save(os.path.join(args.out, "sparse_autoencoder.npz"))
    result = {"cost": ae.cost_, "mean_activation": mean_act, "seconds": ae.fit_seconds_,
              "iterations": ae.n_iter_, "n_patches": int(X.shape[0]), "n_hidden": args.hidden}
    _emit(args, result,
          f"cost {ae.cost_:.6f} after {ae.n_iter_} iterations in {ae.fit_seconds_:.2f} s; "
          f"mean hidden activation {mean_act:.4f} (target rho {args.sparsity})\n"
          f"wrote {fig_path} and {model_path}")
    return 0


def _configure_sparse_patches(p):
    p.add_argument("--out", default="out/sparse-patches", help="folder for filters.png and the model")
    p.add_argument("--iterations", type=int, default=400, help="L-BFGS iterations (UFLDL: 400)")
    p.add_argument("--hidden", type=int, default=25, help="hidden units (UFLDL: 25)")
    p.add_argument("--patches", type=int, default=10000, help="number of patches (UFLDL: 10000)")
    p.add_argument("--images", default=None, help="path to UFLDL's IMAGES.mat (default: built-in images)")
    p.add_argument("--sparsity", type=float, default=0.01, help="target activation rho (UFLDL: 0.01)")
    p.add_argument("--beta", type=float, default=3.0, help="sparsity weight beta (UFLDL: 3)")
    p.add_argument("--weight-decay", type=float, default=1e-4, help="lambda (UFLDL: 1e-4)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--quiet", action="store_true", help="no per-iteration progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_sparse_patches.configure = _configure_sparse_patches


# ----------------------------------------------------------------------- main
def build_parser():
    parser = argparse.ArgumentParser(prog="python -m numpy_ae",
                                     description="Reference NumPy autoencoders: experiments and checks.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name, (fn, help) in COMMANDS.items():
        p = sub.add_parser(name, help=help, description=help)
        fn.configure(p)
        p.set_defaults(func=fn)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as exc:  # bad input: one clear line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
