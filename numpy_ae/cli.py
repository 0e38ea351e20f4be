r"""Command-line entry points: ``python -m numpy_ae <command> [options]``.

Each experiment command prints progress while it runs and, with ``--json``,
prints one JSON object as its LAST line (the figures a script or a test reads).
Figures and saved models go to ``--out``.

The experiments live in :mod:`numpy_ae.experiments`, one module each; a module
registers its command with :func:`numpy_ae.experiments.registry.command` and gives it a
``configure(parser)``; importing :mod:`numpy_ae.experiments` imports them all.
"""
from __future__ import annotations

import argparse
import sys

from .experiments.registry import COMMANDS

__all__ = ["main"]


def build_parser():
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
