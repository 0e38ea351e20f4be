r"""The top level of a handed-out assignment folder, and when ``assignment create`` may write over a folder.

:func:`numpy_ae.course.package.create_assignment` writes, at the top of ``DIR``,
exactly :func:`handout_entries`: ``assignment.json`` (the manifest), ``README.md``,
``<exercise>.py``, ``<exercise>.ipynb`` and the package folder ``numpy_ae_student/``.

``DIR`` may be new or empty. A non-empty ``DIR`` is replaced only with ``force``,
and only when it looks like an earlier assignment (:func:`not_an_assignment`
gives the reason it does not):

1. its ``assignment.json`` is a JSON object with ``"package": "numpy_ae_student"``
   and a string ``"exercise"``, as ``create`` writes it;
2. everything at its top level is one of the entries ``create`` writes for that
   exercise (a file where ``create`` writes a file, a folder where it writes a
   folder), or a cache Python or Jupyter leaves beside them
   (:data:`CACHES`: ``__pycache__/``, ``.ipynb_checkpoints/``).

Anything else (a student's notes, a ``results.json``, a ``.git`` folder, the
home folder passed by mistake) makes the folder not an assignment: ``create``
refuses it and touches nothing. What is inside ``numpy_ae_student/`` is not
examined: ``create`` writes that package, and replacing it (with the student's
edits) is what ``--force`` is for.
"""
from __future__ import annotations

import json
import pathlib
import shutil

__all__ = ["PACKAGE", "MANIFEST", "README", "CACHES", "check_folder", "handout_entries", "not_an_assignment",
           "remove_assignment"]

PACKAGE = "numpy_ae_student"
MANIFEST = "assignment.json"
README = "README.md"
CACHES = ("__pycache__", ".ipynb_checkpoints")  # folders Python and Jupyter write beside the files


def handout_entries(exercise):
    """``{name: is_folder}`` of what ``create`` writes at the top of the folder for ``exercise``."""
    return {MANIFEST: False, README: False, f"{exercise}.py": False, f"{exercise}.ipynb": False, PACKAGE: True}


def not_an_assignment(folder):
    """Why the existing, non-empty ``folder`` does not look like an earlier assignment, or None when it does."""
    folder = pathlib.Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        return f"it has no {MANIFEST}"
    except (OSError, ValueError) as exc:  # a folder named assignment.json, unreadable, not JSON, not UTF-8
        return f"its {MANIFEST} cannot be read as JSON ({type(exc).__name__}: {exc})"
    if not (isinstance(manifest, dict) and manifest.get("package") == PACKAGE
            and isinstance(manifest.get("exercise"), str)):
        return f"its {MANIFEST} is not one `assignment create` writes (package {PACKAGE!r}, a string exercise)"
    expected = handout_entries(manifest["exercise"])
    expected.update(dict.fromkeys(CACHES, True))
    others = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir()
                    if p.name not in expected or expected[p.name] != (p.is_dir() and not p.is_symlink()))
    if others:
        return f"it holds what `assignment create` does not write: {', '.join(others[:5])}" + \
            (f" and {len(others) - 5} more" if len(others) > 5 else "")
    return None


def check_folder(out, force=False):
    """Whether ``out`` holds an earlier assignment to remove first; ValueError when ``out`` may not be written.

    ``out`` may be new, or an empty folder (False: nothing to remove); a non-empty one only with ``force``,
    and only when it looks like an earlier assignment (see the module docstring): True. Changes nothing.
    """
    out = pathlib.Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {str(out)!r} exists and is not a folder")
    if not (out.is_dir() and any(out.iterdir())):
        return False
    if not force:
        raise ValueError(f"--out {str(out)!r} exists and is not empty: choose a new folder, or pass --force "
                         "to replace an earlier assignment in it")
    reason = not_an_assignment(out)
    if reason:
        raise ValueError(f"--out {str(out)!r} is not empty and does not look like an earlier assignment: {reason}. "
                         "--force replaces only a folder `assignment create` wrote; nothing was changed. "
                         "Choose a new or empty folder.")
    return True


def remove_assignment(out):
    """Remove the earlier assignment in ``out`` (checked again first: see :func:`check_folder`), keep ``out``."""
    out = pathlib.Path(out)
    if check_folder(out, force=True):
        for child in out.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
