"""The commands of ``python -m numpy_ae``: each experiment module registers its own.

A module registers ``fn(args)`` with :func:`command` and gives it a
``configure(parser)``; :func:`emit` prints its summary and, with ``--json``, one
JSON object as the LAST line (the figures a script or a test reads).
:mod:`numpy_ae.cli` builds the parser from :data:`COMMANDS`.

Destinations
------------
An option naming a path the command WRITES is added with :func:`add_output`
(``kind="folder"`` for ``--out``, ``"file"`` for ``--save-model``,
``--results``), never with a bare ``add_argument``: the action it returns
carries ``output_kind``, and :func:`check_destinations` (which
:func:`numpy_ae.cli.main` calls after parsing and before the command runs)
checks every such option of the chosen command. A folder must be an existing
folder, or creatable: its nearest existing ancestor a folder. A file must not
be an existing folder (nor an existing file that cannot be written), and its
folder must exist or be creatable the same way. "Writable" is tried, not
guessed from permission bits (which ``root`` ignores): a probe folder is made
in the folder that would receive the new entry, and removed at once. Nothing
else is created: a run refused later for another reason leaves no empty folder
behind. A failed check raises :class:`DestinationError`, a ValueError whose
message is ``--out '/x/y': <reason>``.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import tempfile

__all__ = ["COMMANDS", "OUTPUT_KINDS", "DestinationError", "add_output", "check_destination",
           "check_destinations", "command", "emit", "output_actions", "selected_parsers"]

COMMANDS = {}  # name -> (fn, help), in registration order
OUTPUT_KINDS = ("folder", "file")


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


class DestinationError(ValueError):
    """An output option names a path the command could not write (see the module docstring)."""


def add_output(parser, *flags, kind, **kwargs):
    """``parser.add_argument(*flags, **kwargs)`` for an option naming a path the command writes.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    *flags : str
        The option strings (``"--out"``).
    kind : {"folder", "file"}
        What the command writes at that path: a folder it fills, or one file.
    **kwargs
        Passed to ``add_argument`` (``default``, ``help``, ``required``...).

    Returns
    -------
    action : argparse.Action
        With ``action.output_kind = kind``; :func:`check_destinations` checks it before the command runs.
    """
    if kind not in OUTPUT_KINDS:
        raise ValueError(f"kind must be one of {OUTPUT_KINDS}; got {kind!r}")
    action = parser.add_argument(*flags, **kwargs)
    action.output_kind = kind
    return action


def _subparsers(parser):
    return [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]


def selected_parsers(parser, args):
    """The parser and the (nested) subparsers that parsed ``args``, outermost first."""
    chain = [parser]
    for action in _subparsers(parser):
        choice = getattr(args, action.dest, None)
        if choice in action.choices:
            chain += selected_parsers(action.choices[choice], args)
    return chain


def output_actions(parser):
    """The actions of ``parser`` itself (not its subcommands) declared with :func:`add_output`."""
    return [a for a in parser._actions if getattr(a, "output_kind", None) is not None]


def _probe(folder):
    """Why nothing can be created in the existing folder ``folder``, or None (tried: a folder made and removed)."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".numpy_ae-probe-", dir=folder))
    except OSError as exc:
        return f"cannot create anything in {str(folder)!r} ({exc.strerror or exc})"
    return None


def _creatable(folder):
    """Why the folder ``folder`` (absolute, may not exist) cannot be used or made, or None."""
    ancestor, new = folder, []
    while not ancestor.exists():
        ancestor, new = ancestor.parent, [ancestor.name] + new
    if not ancestor.is_dir():
        return f"{str(ancestor)!r} is a file, not a folder"
    longest = max((len(os.fsencode(name)) for name in new), default=0)
    limit = os.pathconf(ancestor, "PC_NAME_MAX") if hasattr(os, "pathconf") else longest  # POSIX only
    if longest > limit:  # the OS says so only once the folders before that name exist
        return f"a name in it is too long ({longest} bytes; {str(ancestor)!r} allows {limit})"
    return _probe(ancestor)


def _file_reason(path):
    if path.is_dir():
        return "is a folder; name a file (for example inside that folder)"
    if path.exists() and not os.access(path, os.W_OK):
        return "exists and cannot be written (read-only)"
    return _creatable(path.parent)


def _folder_reason(path):
    if path.exists() and not path.is_dir():
        return "exists and is not a folder"
    return _creatable(path)


def check_destination(option, value, kind):
    """Raise :class:`DestinationError` if the command could not write a ``kind`` at ``value``.

    ``option`` only names the option in the message (``--out '/x/y': <reason>``).
    """
    if kind not in OUTPUT_KINDS:
        raise ValueError(f"kind must be one of {OUTPUT_KINDS}; got {kind!r}")
    if not str(value):
        reason = f"an empty path; give a {kind}"
    else:
        try:
            path = pathlib.Path(value).absolute()  # not resolved: 'file/..' must fail as the OS would
            reason = _file_reason(path) if kind == "file" else _folder_reason(path)
        except OSError as exc:  # a name too long, a folder on the way we may not enter, ...
            reason = exc.strerror or str(exc)
    if reason:
        raise DestinationError(f"{option} {str(value)!r}: {reason}")


def check_destinations(parser, args):
    """Check every output option of the command ``args`` chose (see the module docstring); None when all pass."""
    for p in selected_parsers(parser, args):
        for action in output_actions(p):
            value = getattr(args, action.dest, None)
            if value is not None:
                check_destination(max(action.option_strings, key=len, default=action.dest), value,
                                  action.output_kind)
