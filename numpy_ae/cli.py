r"""Command-line entry points: ``python -m numpy_ae <command> [options]``.

Each experiment command prints progress while it runs and, with ``--json``,
prints one JSON object as its LAST line (the figures a script or a test reads).
Figures and saved models go to ``--out``.

The experiments live in :mod:`numpy_ae.experiments`, one module each; a module
registers its command with :func:`command` and gives it a ``configure(parser)``.
"""
from __future__ import annotations

import argparse
import json
import sys

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
    if human:
        print(human, flush=True)
    if getattr(args, "json", False):
        print(json.dumps(result), flush=True)


# ------------------------------------------------------------------ gradcheck
@command("gradcheck", "run every registered numerical gradient check")
def cmd_gradcheck(args):
    from .check.registry import run_checks

    results = run_checks(args.only or None)  # ValueError listing the valid names for an unknown one
    width = max(len(r.name) for r in results)
    print(f"{'check':<{width}}  {'rel_diff':>10}  {'tol':>7}  ok")
    for r in results:
        status = "NO" if not r.ok else "yes" if r.conclusive else "yes (inconclusive block)"
        print(f"{r.name:<{width}}  {r.rel_diff:10.3e}  {r.tol:7.0e}  {status}")
    failed = [r for r in results if not r.ok]
    for r in results:  # why: a failure, or a block over tol that the checker explained or could not judge
        if not r.ok or any(v.verdict != "ok" and r.blocks[k] >= r.tol for k, v in r.verdicts.items()):
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


# ----------------------------------------------------------------------- main
def _load_experiments():
    """Import the experiment modules: each registers its commands with :func:`command`."""
    import importlib
    import pkgutil

    from . import experiments

    for info in sorted(pkgutil.iter_modules(experiments.__path__), key=lambda m: m.name):
        importlib.import_module(f"{experiments.__name__}.{info.name}")


def build_parser():
    _load_experiments()
    parser = argparse.ArgumentParser(prog="python -m numpy_ae",
                                     description="Reference NumPy autoencoders: experiments and checks.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name, (fn, help) in COMMANDS.items():
        text = help.replace("%", "%%")  # argparse expands %-formats in help strings
        p = sub.add_parser(name, help=text, description=text)
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
