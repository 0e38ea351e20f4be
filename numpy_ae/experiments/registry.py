"""The commands of ``python -m numpy_ae``: each experiment module registers its own.

A module registers ``fn(args)`` with :func:`command` and gives it a
``configure(parser)``; :func:`emit` prints its summary and, with ``--json``, one
JSON object as the LAST line (the figures a script or a test reads).
:mod:`numpy_ae.cli` builds the parser from :data:`COMMANDS`.
"""
from __future__ import annotations

import json

__all__ = ["COMMANDS", "command", "emit"]

COMMANDS = {}  # name -> (fn, help), in registration order


def command(name, help):
    """Register ``fn(args)`` as a subcommand; ``fn.configure(parser)`` adds its options."""
    def deco(fn):
        COMMANDS[name] = (fn, help)
        return fn
    return deco


def emit(args, result, human):
    """Print the human summary, then the JSON line last when asked."""
    if human:
        print(human, flush=True)
    if getattr(args, "json", False):
        print(json.dumps(result), flush=True)
