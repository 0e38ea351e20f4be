r"""``assignment create NAME --out DIR --gradescope``: the autograder zip Gradescope expects, and its grading step.

The zip, written beside ``DIR`` as ``DIR-autograder.zip`` (never inside the
student folder: it holds the reference solution), has at its top level::

    setup.sh                     Gradescope runs it once, as root, when it builds the image
    run_autograder               Gradescope runs it for each submission, as root
    requirements.txt             numpy_ae's dependencies, installed from PyPI by setup.sh
    assignment/assignment.json   the assignment's manifest (exercise, modules), as ``create`` wrote it
    trusted/numpy_ae/            the grader: a copy of the numpy_ae that wrote the zip

Gradescope unpacks it into ``/autograder/source``. ``setup.sh`` (in
``numpy_ae/course/gradescope_files/``) makes a virtual environment readable by
every user with numpy and scipy (the student's code runs as ``nobody`` and
imports them), and makes ``trusted/`` readable by root only: the grader's
``user`` sandbox (:mod:`numpy_ae.course.sandbox`) checks, as ``nobody``, that
it cannot read the trusted package, and refuses to grade otherwise.

``run_autograder`` runs :func:`run_autograder` (``python -P -s -m
numpy_ae.course.gradescope ROOT``): it finds the student's package in
``/autograder/submission`` (:func:`find_package`: a folder or a zip of it,
at the top or one level down), puts it beside the zip's own manifest (a
manifest in the submission is ignored), and runs ``python -m numpy_ae
assignment grade FOLDER --results /autograder/results/results.json
--require-isolation``. The grader alone writes ``results.json``, after the
student's processes are gone. A submission without the package gets a
``results.json`` of 0 points that says what was expected; a grader that
cannot grade (no sandbox) writes none, so Gradescope reports a failed
autograder rather than a score.

Environment variables, for running the zip outside Gradescope (the tests do):
``AUTOGRADER_ROOT`` (instead of ``/autograder``: every path is under it),
``NUMPY_AE_PYTHON`` (the interpreter, instead of setup.sh's venv),
``NUMPY_AE_REQUIRE_ISOLATION=0`` (grade even without a sandbox),
``NUMPY_AE_ISOLATION`` (a mode for ``--isolation``), ``NUMPY_AE_SETUP_DRY_RUN=1``
(setup.sh checks the files and prints its commands, changing nothing).
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zipfile

from .exercises import get_exercise
from .handout import MANIFEST, PACKAGE
from .package import LIBRARY, module_file, read_assignment
from .session import SKIPPED as SKIP, copy_regular_files

__all__ = ["REQUIREMENTS", "zip_path_for", "check_zip_path", "write_autograder_zip", "find_package",
           "run_autograder"]

FILES = pathlib.Path(__file__).resolve().parent / "gradescope_files"   # setup.sh, run_autograder
REQUIREMENTS = ("numpy>=1.25", "scipy>=1.10", "matplotlib>=3.7", "threadpoolctl>=3.1")  # setup.cfg's
ZIP_ENTRIES = ("setup.sh", "run_autograder", "requirements.txt", f"assignment/{MANIFEST}",
               "trusted/numpy_ae/__main__.py")
MAX_UNZIPPED = 50 * 2 ** 20    # a submitted zip may hold at most this much ...
MAX_MEMBERS = 5000             # ... in at most this many entries


# ------------------------------------------------------------------ writing the zip
def zip_path_for(out):
    """Where ``create --gradescope`` writes the zip for the student folder ``out``: beside it, ``OUT-autograder.zip``."""
    out = pathlib.Path(out).absolute()
    return out.parent / f"{out.name}-autograder.zip"


def _is_autograder_zip(path):
    try:
        with zipfile.ZipFile(path) as z:
            return all(name in z.namelist() for name in ZIP_ENTRIES)
    except (OSError, zipfile.BadZipFile):
        return False


def check_zip_path(path, force=False):
    """ValueError unless the zip may be written at ``path``: new, or (``force``) an autograder zip written before."""
    path = pathlib.Path(path)
    if path.is_dir():
        raise ValueError(f"the Gradescope zip {str(path)!r} would replace a folder: move it away first")
    if path.exists():
        if not force:
            raise ValueError(f"the Gradescope zip {str(path)!r} exists: remove it, or pass --force to replace an "
                             "autograder zip that `assignment create --gradescope` wrote")
        if not _is_autograder_zip(path):
            raise ValueError(f"{str(path)!r} exists and is not an autograder zip `assignment create --gradescope` "
                             f"writes (it lacks {', '.join(ZIP_ENTRIES)}): --force replaces only such a zip; "
                             "nothing was changed")


def _library_files():
    for path in sorted(LIBRARY.rglob("*")):
        if path.is_file() and not path.is_symlink() and not SKIP & set(path.relative_to(LIBRARY).parts) \
                and path.suffix != ".pyc":
            yield path


def write_autograder_zip(folder, path):
    """Write the autograder zip for the assignment in ``folder`` (as ``create`` wrote it) to ``path``.

    The zip's manifest is ``folder``'s; the grader is a copy of the running numpy_ae's package files. Written
    beside ``path`` and moved into place (``os.replace``). Returns ``{"zip", "files"}``.
    """
    folder, path = pathlib.Path(folder), pathlib.Path(path)
    read_assignment(folder)  # an assignment, complete
    entries = [("setup.sh", (FILES / "setup.sh").read_bytes(), 0o755),
               ("run_autograder", (FILES / "run_autograder").read_bytes(), 0o755),
               ("requirements.txt", ("\n".join(REQUIREMENTS) + "\n").encode(), 0o644),
               (f"assignment/{MANIFEST}", (folder / MANIFEST).read_bytes(), 0o644)]
    entries += [(f"trusted/numpy_ae/{p.relative_to(LIBRARY).as_posix()}", p.read_bytes(), 0o644)
                for p in _library_files()]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data, mode in entries:
                info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
                info.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return {"zip": str(path), "files": [name for name, _, _ in entries]}


# ------------------------------------------------------------------ finding the submission
def _has_module(folder, module):
    return any((folder / module_file(module, p)).is_file() for p in (False, True))


def _dirs(base, depth):
    """``(level, folder)`` for ``base`` and its sub-folders down to ``depth`` levels (no symlinks, no caches)."""
    todo = [(0, base)]
    while todo:
        level, folder = todo.pop(0)
        yield level, folder
        if level < depth:
            try:
                children = sorted(folder.iterdir())
            except OSError:
                continue
            todo += [(level + 1, c) for c in children if c.is_dir() and not c.is_symlink()
                     and c.name not in SKIP and not c.name.startswith(".")]


def _candidates(base, modules):
    """Folders under ``base`` that hold the student package, as ``(level, folder)``: a ``numpy_ae_student/``
    with its ``__init__.py`` at level 1 or 2, or a folder of another name (``base`` itself included) that
    holds the package's files (``__init__.py`` and every module of the manifest) at level 0 or 1."""
    found = []
    for level, folder in _dirs(base, 2):
        if not (folder / "__init__.py").is_file():
            continue
        if folder.name == PACKAGE and level >= 1:
            found.append((level, folder))
        elif folder.name != PACKAGE and level <= 1 and all(_has_module(folder, m) for m in modules):
            found.append((level, folder))
    return found


def _extract(archive, dest):
    """Unpack the student's zip ``archive`` into ``dest``: regular files only, no path outside ``dest``, at most
    :data:`MAX_UNZIPPED` bytes in :data:`MAX_MEMBERS` entries. ValueError when it is not such a zip."""
    try:
        with zipfile.ZipFile(archive) as z:
            members = z.infolist()
            if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNZIPPED:
                raise ValueError(f"{archive.name} holds more than {MAX_MEMBERS} files or "
                                 f"{MAX_UNZIPPED // 2 ** 20} MB unpacked: submit only the package")
            for m in members:
                parts = pathlib.PurePosixPath(m.filename.replace("\\", "/")).parts
                kind = (m.external_attr >> 16) & 0o170000
                if m.filename.startswith("/") or ".." in parts or kind == 0o120000:  # absolute, escaping, symlink
                    continue
                z.extract(m, dest)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"{archive.name} cannot be unpacked as a zip ({exc})") from None


def _listing(base):
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in base.iterdir()) if base.is_dir() else []
    return ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "") or "nothing"


def find_package(submission, modules, scratch):
    """The folder of the student's package in the Gradescope ``submission`` folder.

    Tolerant of how it was submitted: the folder ``numpy_ae_student/`` at the top of the submission or one level
    down (an uploaded assignment folder), or its files at the top; or a zip of any of these (unpacked into
    ``scratch``). ``modules`` are the manifest's; a package folder must hold them only when it is not called
    ``numpy_ae_student``. ValueError, with a message for the student, when there is none or more than one.
    """
    submission, scratch = pathlib.Path(submission), pathlib.Path(scratch)
    found = _candidates(submission, modules)
    if not found:
        archives = [f for _, d in _dirs(submission, 1) for f in sorted(d.glob("*.zip")) if f.is_file()]
        for i, archive in enumerate(archives):
            _extract(archive, scratch / str(i))
            found += _candidates(scratch / str(i), modules)
    if not found:
        raise ValueError(f"no {PACKAGE} package in your submission (it holds: {_listing(submission)}). Submit the "
                         f"folder {PACKAGE}/ (with its __init__.py and sub-folders) as handed out, your whole "
                         "assignment folder, or a zip of either")
    best = min(level for level, _ in found)
    top = [folder for level, folder in found if level == best]
    if len(top) > 1:
        names = ", ".join(f"{f.parent.name}/{f.name}/" for f in top)
        raise ValueError(f"your submission holds more than one {PACKAGE} package ({names}): submit only one")
    return top[0]


# ------------------------------------------------------------------ grading one submission
def _not_graded(exercise, message):
    """``results.json`` of a submission that could not be graded: 0 points, and why."""
    return {"score": 0, "max_score": exercise.max_score, "output": message,
            "tests": [{"name": name, "score": 0, "max_score": points, "output": f"not graded: {message}",
                       "visibility": "visible"} for name, points, _ in exercise.tests]}


def _grader_command(folder, results, env):
    cmd = [sys.executable, "-P", "-s", "-m", "numpy_ae", "assignment", "grade", str(folder), "--json",
           "--results", str(results)]
    if env.get("NUMPY_AE_ISOLATION"):
        cmd += ["--isolation", env["NUMPY_AE_ISOLATION"]]
    if env.get("NUMPY_AE_REQUIRE_ISOLATION", "1") != "0":
        cmd.append("--require-isolation")
    return cmd


def run_autograder(root="/autograder", env=None):
    """Grade ``ROOT/submission`` with ``ROOT/source``'s grader and manifest into ``ROOT/results/results.json``.

    Returns the exit status for Gradescope: 0 when ``results.json`` was written (whatever the score), 1 when
    the grader could not grade (then no ``results.json``: Gradescope shows the autograder failed)."""
    env = dict(os.environ if env is None else env)
    root = pathlib.Path(root)
    source, submission = root / "source", root / "submission"
    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.chmod(results.parent, 0o755)  # root's alone: the student's process (nobody) cannot write there
    results.unlink(missing_ok=True)  # only this run's grader may leave a results.json
    manifest_path = source / "assignment" / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    exercise = get_exercise(manifest["exercise"])
    with tempfile.TemporaryDirectory(prefix="numpy_ae_gradescope_") as tmp:
        folder = pathlib.Path(tmp) / "assignment"
        try:
            package = find_package(submission, manifest["modules"], pathlib.Path(tmp) / "unzipped")
            folder.mkdir()
            shutil.copyfile(manifest_path, folder / MANIFEST)  # the zip's manifest, never the student's
            copy_regular_files(package, folder / PACKAGE, limit=MAX_UNZIPPED, what="your package")
            read_assignment(folder)  # every module the exercise needs is there
        except ValueError as exc:
            results.write_text(json.dumps(_not_graded(exercise, str(exc)), indent=2) + "\n")
            print(f"not graded: {exc}")
            return 0
        print(f"grading {package} ({exercise.name}) with the grader in {LIBRARY}")
        sys.stdout.flush()
        genv = dict(env, PYTHONPATH=str(LIBRARY.parent), MPLBACKEND="Agg")
        proc = subprocess.run(_grader_command(folder, results, env), env=genv, stdin=subprocess.DEVNULL)
    if proc.returncode != 0 or not results.is_file():
        results.unlink(missing_ok=True)
        print(f"the grader could not grade this submission (exit status {proc.returncode}; its message is above)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run_autograder(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("AUTOGRADER_ROOT", "/autograder")))
