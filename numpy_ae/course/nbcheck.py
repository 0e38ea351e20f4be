r"""What the graded cells of an nbgrader notebook run: the sandboxed grader on the functions the student wrote.

A graded cell (written by :mod:`numpy_ae.course.nbgrader_source`) calls
``check("dense_backward", written())``: ``written()`` gives the source of each
function the notebook's solution cells defined
(:mod:`numpy_ae.course.solution_cells`). :func:`check`

1. copies the assignment in the notebook's folder (its ``assignment.json`` and
   the handed-out ``numpy_ae_student/``: at autograde, nbgrader has put back
   the instructor's files) into a temporary folder;
2. puts each written function into its module file there, in place of the
   blanked definition (:func:`splice`); only functions the exercise blanks;
3. grades that folder with ``python -m numpy_ae assignment grade --json``, a
   separate process whose student code runs in the grader's sandbox; one
   grading per distinct set of functions, so a notebook's graded cells share it;
4. prints the test's points and raises AssertionError with the grader's
   message unless the test passed (nbgrader gives a test cell its points when
   it raises nothing).

The environment variable ``NUMPY_AE_ISOLATION`` passes ``--isolation`` to the
grader (default: the strongest sandbox available).
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import textwrap

from .blank import function_parts
from .handout import MANIFEST, PACKAGE
from .package import LIBRARY, module_file, read_assignment

__all__ = ["splice", "build_folder", "grade_functions", "check"]

_RESULTS = {}  # digest of the folder graded -> the grader's JSON line


def splice(source, qualname, function, where="<source>"):
    """``source`` (a module) with the definition of ``qualname`` (``"Class.method"`` or ``"function"``) replaced
    by ``function``, the text of one ``def`` at column 0, indented to where the definition was."""
    name = qualname.split(".")[-1]
    try:
        tree = ast.parse(function)
    except SyntaxError as exc:
        raise ValueError(f"{qualname}: the function written in the notebook does not parse ({exc})") from None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef) or tree.body[0].name != name:
        raise ValueError(f"{qualname}: the notebook must give exactly one `def {name}(...)`; got "
                         f"{[type(n).__name__ for n in tree.body]}")
    first, _, _, last, indent = function_parts(source, qualname, where)
    lines = source.splitlines(keepends=True)
    lines[first:last] = [textwrap.indent(function.rstrip() + "\n", indent)]
    out = "".join(lines)
    ast.parse(out)
    return out


def build_folder(folder, functions, dest):
    """Copy the assignment in ``folder`` to ``dest`` (manifest and package, regular files only) and splice
    ``functions`` (``{"module:qualname": source}``) into the copy. Returns the manifest."""
    folder, dest = pathlib.Path(folder), pathlib.Path(dest)
    manifest = read_assignment(folder)
    unknown = sorted(set(functions) - set(manifest.get("blanked", ())))
    if unknown:
        raise ValueError(f"the notebook defines {', '.join(unknown)}, which the exercise does not ask for; it asks "
                         f"for {', '.join(manifest.get('blanked', ()))}")
    src = folder / PACKAGE
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_file() and not path.is_symlink() and "__pycache__" not in rel.parts:
            (dest / PACKAGE / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest / PACKAGE / rel)
    shutil.copyfile(folder / MANIFEST, dest / MANIFEST)
    for qualname, function in sorted(functions.items()):
        module, _, name = qualname.partition(":")
        path = dest / PACKAGE / module_file(module)
        path.write_text(splice(path.read_text(), name, function, where=module_file(module)))
    return manifest


def _digest(folder):
    h = hashlib.sha256()
    for path in sorted(pathlib.Path(folder).rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def grade_functions(functions, folder=".", time_limit=None):
    """The grader's result (``{"score", "max_score", "tests", "isolation"}``) for the assignment in ``folder``
    with ``functions`` spliced in; graded once per distinct set of files (cached in this process)."""
    with tempfile.TemporaryDirectory(prefix="numpy_ae_nbgrader_") as tmp:
        dest = pathlib.Path(tmp) / "assignment"
        build_folder(folder, functions, dest)
        key = _digest(dest)
        if key not in _RESULTS:
            cmd = [sys.executable, "-P", "-m", "numpy_ae", "assignment", "grade", str(dest), "--json"]
            if os.environ.get("NUMPY_AE_ISOLATION"):
                cmd += ["--isolation", os.environ["NUMPY_AE_ISOLATION"]]
            if time_limit is not None:
                cmd += ["--time-limit", str(time_limit)]
            path = os.pathsep.join([str(LIBRARY.parent)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
            proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd=tmp,
                                  env=dict(os.environ, PYTHONPATH=path, MPLBACKEND="Agg"))
            lines = proc.stdout.strip().splitlines()
            if proc.returncode != 0 or not lines:
                raise RuntimeError(f"the grader failed (exit status {proc.returncode}): "
                                   f"{(proc.stderr or proc.stdout).strip()[-1500:]}")
            _RESULTS[key] = json.loads(lines[-1])
    return _RESULTS[key]


def check(test, functions, folder="."):
    """The graded cell of ``test``: grade ``functions`` (see the module docstring), print the test's points, raise
    AssertionError with the grader's message unless it passed."""
    result = grade_functions(functions, folder)
    tests = {t["name"]: t for t in result["tests"]}
    if test not in tests:
        raise ValueError(f"the exercise has no test {test!r}; its tests are {', '.join(tests)}")
    t = tests[test]
    print(f"{test}: {t['score']}/{t['max_score']} points (the grader's isolation: {result['isolation']})")
    if not t["passed"]:
        raise AssertionError(t["output"])
