r"""``python -m numpy_ae tutorials [--out DIR] [--force]``: the tutorials, listed or written out.

The 14 tutorials are jupytext percent scripts, ``tutorials/NN_name.py`` in the
repository: run one with ``python``, or open it in Jupyter as a notebook
(jupytext). A wheel ships them inside the package as ``numpy_ae/tutorials/``
(setup.cfg maps the repository's ``tutorials/`` folder there when the wheel is
built, so the repository keeps one copy); a source checkout reads its
``tutorials/`` folder. :func:`tutorials_folder` says which.

Without ``--out`` the command lists them (file name and title). With
``--out DIR`` it writes them into ``DIR`` (created if needed; checked before
anything is written, see :mod:`numpy_ae.experiments.registry`). A tutorial
already in ``DIR`` is not overwritten unless ``--force``: the command then
writes none of them (a ValueError naming the files, exit status 2). Each file
is written beside its destination and moved over it (``os.replace``), so an
interrupted run leaves no half-written tutorial.
"""
from __future__ import annotations

import contextlib
import os
import pathlib
import re
import tempfile

from .registry import add_output, command, emit

__all__ = ["PATTERN", "tutorials_folder", "tutorial_files", "tutorial_title", "write_tutorials"]

PATTERN = "[0-9][0-9]_*.py"  # the tutorials' file names: 01_sparse_autoencoder.py ... 14_...
_PACKAGE = pathlib.Path(__file__).resolve().parents[1]  # numpy_ae/
_TITLE = re.compile(r"^# # (.+?)\s*$")                  # the first Markdown cell's heading


def tutorials_folder(package=None):
    """The folder holding the tutorials: ``numpy_ae/tutorials/`` of an installed wheel, else the
    ``tutorials/`` folder of the source checkout the package is imported from.

    Parameters
    ----------
    package : str or os.PathLike, optional
        The package's folder (default: the ``numpy_ae/`` this module belongs to). A source checkout is
        its parent folder when that holds ``setup.cfg``.

    Returns
    -------
    folder : pathlib.Path

    Raises
    ------
    FileNotFoundError
        Neither holds a tutorial (a package installed without them).
    """
    package = pathlib.Path(package) if package is not None else _PACKAGE
    installed = package / "tutorials"
    checkout = package.parent / "tutorials"
    if any(installed.glob(PATTERN)):
        return installed
    if (package.parent / "setup.cfg").is_file() and any(checkout.glob(PATTERN)):
        return checkout
    raise FileNotFoundError(f"no tutorials ({PATTERN}) in {str(installed)!r} nor in a source checkout's "
                            f"{str(checkout)!r}; reinstall numpy_ae from its wheel or repository")


def tutorial_files(folder=None):
    """The tutorials' paths, in order (``folder`` defaults to :func:`tutorials_folder`)."""
    return sorted(pathlib.Path(folder or tutorials_folder()).glob(PATTERN))


def tutorial_title(path):
    """A tutorial's title: the heading of its first Markdown cell (``# # Tutorial 1: ...``), else its file name."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            match = _TITLE.match(line)
            if match:
                return match.group(1)
    return pathlib.Path(path).stem


def _write_beside(source, target):
    """Copy ``source`` to ``target`` through a temporary file in the same folder and ``os.replace``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(source.read_bytes())
        os.chmod(tmp, 0o644)  # mkstemp's 0o600 would make a shared tutorial unreadable to others
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_tutorials(out, force=False, folder=None):
    """Write every tutorial into the folder ``out`` (created if needed); return the paths written.

    Parameters
    ----------
    out : str or os.PathLike
        The destination folder.
    force : bool
        Overwrite tutorials already in ``out``. Without it, one already there means none is written.
    folder : str or os.PathLike, optional
        Where the tutorials are read (default: :func:`tutorials_folder`).

    Raises
    ------
    ValueError
        A tutorial is already in ``out`` and ``force`` is false, or a name is taken by something that is
        not a file (a folder), which ``force`` does not replace. Nothing is written then.
    """
    sources = tutorial_files(folder)
    out = pathlib.Path(out)
    targets = [out / s.name for s in sources]
    not_files = [t.name for t in targets if (t.exists() or t.is_symlink()) and not t.is_file()]
    if not_files:
        raise ValueError(f"--out {str(out)!r}: {', '.join(not_files)} exist(s) there and is not a file; "
                         f"remove it or choose another folder (nothing was written)")
    present = [t.name for t in targets if t.exists()]
    if present and not force:
        shown = ", ".join(present[:3]) + (f" and {len(present) - 3} more" if len(present) > 3 else "")
        raise ValueError(f"--out {str(out)!r}: {len(present)} of the {len(targets)} tutorials are there already "
                         f"({shown}); pass --force to overwrite them, or choose another folder "
                         f"(nothing was written)")
    out.mkdir(parents=True, exist_ok=True)
    for source, target in zip(sources, targets):
        _write_beside(source, target)
    return targets


@command("tutorials", "the 14 tutorials (jupytext percent scripts): list them, or write them out with --out DIR")
def cmd_tutorials(args):
    folder = tutorials_folder()
    files = tutorial_files(folder)
    rows = [{"file": p.name, "title": tutorial_title(p)} for p in files]
    result = {"source": str(folder), "tutorials": rows, "out": args.out, "written": []}
    if args.out is None:
        if args.force:
            raise ValueError("--force overwrites tutorials in --out; give --out DIR too (without it the "
                             "command only lists them)")
        width = max(len(r["file"]) for r in rows)
        lines = [f"{r['file']:<{width}}  {r['title']}" for r in rows]
        lines.append(f"{len(rows)} tutorials in {folder}; write them out with --out DIR")
    else:
        written = write_tutorials(args.out, force=args.force, folder=folder)
        result["written"] = [str(p) for p in written]
        lines = [f"wrote {len(written)} tutorials to {args.out}; run one with: python {written[0]}",
                 "or open it in Jupyter as a notebook (with jupytext); its figures go to out/tutorials/ "
                 "(or $NUMPY_AE_OUT)"]
    emit(args, result, "\n".join(lines))
    return 0


def _configure(p):
    add_output(p, "--out", kind="folder", default=None,
               help="folder to write the tutorials into (created if needed); without it, list them")
    p.add_argument("--force", action="store_true", help="overwrite tutorials already in --out")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_tutorials.configure = _configure
