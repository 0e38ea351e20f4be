r"""Command-line entry points: ``python -m numpy_ae <command> [options]``.

The console script an install adds, ``numpy-ae <command> [options]``, runs the same
:func:`main`; usage lines name whichever of the two was run.

Each experiment command prints progress while it runs and, with ``--json``,
prints one JSON object as its LAST line (the figures a script or a test reads).
Figures and saved models go to ``--out``.

The experiments live in :mod:`numpy_ae.experiments`, one module each; a module
registers its command with :func:`numpy_ae.experiments.registry.command` and gives it a
``configure(parser)``; importing :mod:`numpy_ae.experiments` imports them all.

Exit status
-----------
0
    done (``gradcheck``: every check passed; ``assignment grade``: whatever the score).
1
    ``gradcheck``: a check failed; ``reproduce``: an experiment failed or gave no claims (the table lists it).
2
    bad input, one line ``error: ...`` on stderr and no traceback: a bad
    argument (argparse's usage errors, and the ValueErrors the commands raise), an
    output destination that cannot be written (``--out``, ``--save-model``,
    ``--results``: checked before the work starts, see
    :mod:`numpy_ae.experiments.registry`), an input path that is missing, is a
    folder where a file is needed (or the reverse), or cannot be read. Any other
    exception is a bug and shows its traceback.
141
    the reader of stdout went away (``python -m numpy_ae assignment list | head -1``):
    the command stops quietly, with the status the shell reports for a tool killed by
    SIGPIPE (128 + 13), as ``seq 1000000 | head -1`` does under ``set -o pipefail``.
    Not 0, since the output was cut short; not 1 or 2, which mean something else here.
"""
from __future__ import annotations

import argparse
import os
import sys

from .experiments.registry import COMMANDS, check_destinations, selected_parsers

__all__ = ["main", "build_parser", "EXIT_BROKEN_PIPE", "PROG_MODULE", "PROG_SCRIPT"]

# the name in the usage lines: the console script setup.cfg installs, or the module (__main__.py passes it)
PROG_SCRIPT = "numpy-ae"
PROG_MODULE = "python -m numpy_ae"

EXIT_BROKEN_PIPE = 128 + 13  # 128 + SIGPIPE
# Bad input: a usage error, and OS errors on a path the user named (the OS gives the path and the reason).
_INPUT_ERRORS = (ValueError, FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)


def build_parser(prog=PROG_SCRIPT):
    """The parser of every command; ``prog`` is the name its usage lines give (see :data:`PROG_SCRIPT`)."""
    parser = argparse.ArgumentParser(prog=prog,
                                     description="Reference NumPy autoencoders: experiments and checks.")
    parser.set_defaults(program=prog)  # for the hints a command prints ("grade it with: <program> ...")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name, (fn, help) in COMMANDS.items():
        # argparse %-formats a help string always (its %(default)s), a description only when it holds
        # '%(prog)': so '%' is escaped in the one and given as it is in the other
        p = sub.add_parser(name, help=help.replace("%", "%%"), description=help)
        fn.configure(p)
        p.set_defaults(func=fn)
    return parser


def _describe(exc, parser, args):
    """The ``error:`` line for ``exc``; an OS error names the option whose value it is, when one is."""
    if not isinstance(exc, OSError) or exc.filename is None:
        return f"error: {exc}"
    options = [max(a.option_strings, key=len) if a.option_strings else a.dest
               for p in selected_parsers(parser, args) for a in p._actions
               if a.dest != "help" and str(getattr(args, a.dest, None)) == str(exc.filename)]
    named = f"{options[0]} " if options else ""
    return f"error: {named}{str(exc.filename)!r}: {exc.strerror or exc}"


def _silence_stdout():
    """Point fd 1 at /dev/null, so that the interpreter's last flush of stdout cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout without a file descriptor (captured): nothing left to flush there
        pass


def main(argv=None, prog=PROG_SCRIPT):
    """Run one command; return its exit status (see the module docstring).

    ``argv`` defaults to ``sys.argv[1:]``; ``prog`` is the name usage lines give: ``numpy-ae``, the console
    script that calls ``main()``, or ``python -m numpy_ae``, which ``__main__.py`` passes.
    """
    try:
        parser = build_parser(prog)
        args = parser.parse_args(argv)
        try:
            check_destinations(parser, args)
            status = args.func(args)
        except _INPUT_ERRORS as exc:  # bad input: one clear line, no traceback
            print(_describe(exc, parser, args), file=sys.stderr)
            status = 2
        sys.stdout.flush()  # inside the try: a reader gone shows up here at the latest
        return status
    except BrokenPipeError:  # the Python docs' recipe (library/signal.html, "Note on SIGPIPE")
        _silence_stdout()
        return EXIT_BROKEN_PIPE
