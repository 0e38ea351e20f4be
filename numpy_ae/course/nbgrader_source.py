r"""``assignment create NAME --out DIR --nbgrader``: the exercise as nbgrader's *source* version.

``DIR`` is meant to be ``<course>/source/<assignment>/`` of an nbgrader course.
It holds what ``create`` writes for students (``assignment.json``, ``README.md``,
the blank package ``numpy_ae_student/``, plus ``numpy_ae_student/notebook.py``:
:mod:`numpy_ae.course.solution_cells`) and, as ``<exercise>.ipynb``, a notebook
with the solutions inside nbgrader's markers; ``nbgrader generate_assignment``
turns it into the student version, ``nbgrader autograde`` grades submissions.
No percent script: in this version the student writes in the notebook.

The notebook, cell by cell (nbgrader's cell metadata, schema version 3):

* the tutorial's introduction and a note on how the notebook is graded (read-only: ``locked``);
* a read-only setup cell, ``from numpy_ae_student.notebook import solution, written``;
* per function the exercise blanks, a heading and a *solution cell*: the
  reference function under ``@solution("module:Class.method")``, its body
  between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader replaces
  it with ``# YOUR CODE HERE`` / ``raise NotImplementedError()``, the same
  stub the package's file has; the signature and the docstring stay);
* the tutorial's own cells (the student's gradient checks, a training run);
* per test of the exercise, a read-only *autograder test cell* worth the test's
  points: ``check("dense_backward", written())``
  (:func:`numpy_ae.course.nbcheck.check`), which grades the functions written
  above with ``python -m numpy_ae assignment grade`` in its sandbox and fails
  with the grader's message unless that test passed.

nbgrader runs the student's cells and the test cells in one kernel, so the
student's code can reach whatever the test cells use (it could replace
``check`` itself): nbgrader's autograde is not the security boundary that
``assignment grade`` is (see the README). The verdicts still come from the
sandboxed grader, so patching numpy_ae's checker in the kernel or calling the
installed reference from a function changes no score (the function runs where
numpy_ae is not); replacing the test cells' own machinery in the kernel does,
and nbgrader cannot prevent it.
"""
from __future__ import annotations

import ast
import json
import pathlib
import textwrap

from .blank import function_parts
from .exercises import get_exercise
from .handout import MANIFEST, PACKAGE, README
from .package import LIBRARY, TUTORIALS, create_assignment, module_file, percent_to_notebook

__all__ = ["SCHEMA_VERSION", "HELPER", "solution_cell_source", "nbgrader_notebook", "create_nbgrader_assignment"]

SCHEMA_VERSION = 3   # nbgrader 0.9's cell metadata
HELPER = "notebook.py"  # numpy_ae_student/notebook.py: a copy of solution_cells.py
SOLUTION_CELLS = pathlib.Path(__file__).resolve().with_name("solution_cells.py")
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def _grade_id(text):
    return "".join(c if c.isalnum() else "_" for c in text)


def _cell(kind, source, cell_id, nbgrader=None):
    cell = {"cell_type": kind, "id": cell_id, "metadata": {}, "source": source}
    if nbgrader is not None:
        cell["metadata"]["nbgrader"] = dict(nbgrader, grade_id=cell_id, schema_version=SCHEMA_VERSION)
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _locked(kind, source, cell_id):
    return _cell(kind, source, cell_id, {"grade": False, "solution": False, "locked": True})


def solution_cell_source(qualname, library=None):
    """The text of the solution cell for ``qualname`` (``"nn.dense:Dense.backward"``): the reference function,
    dedented, under ``@solution(qualname)``, with its body (not its signature or docstring) in the markers."""
    library = LIBRARY if library is None else pathlib.Path(library)
    module, _, name = qualname.partition(":")
    where = module_file(module)
    _, head, body, _, _ = function_parts((library / where).read_text(), name, where=where)
    first = next(line for line in body if line.strip())
    indent = first[:len(first) - len(first.lstrip())]
    text = textwrap.dedent("\n".join(head + [indent + BEGIN] + body + [indent + END]))
    return f'@solution("{qualname}")\n{text}'


def _test_cell(name, points):
    return (f"# Graded: test `{name}`, {points} point{'s' if points != 1 else ''}. The grader (numpy_ae, installed "
            "where the notebook is graded)\n# runs the functions you wrote above in a sandboxed process; this cell "
            "fails with its message\n# unless the test passed.\n"
            f"from numpy_ae.course.nbcheck import check\n\ncheck({name!r}, written())")


def _graded_note(ex):
    return f"""**This is the notebook version of the exercise.** Write each function in its cell below
(the cells marked `# YOUR CODE HERE`), not in the files of `{PACKAGE}/`: when your notebook
is graded, those files are the handed-out ones and your functions come from this notebook.
Keep each function's name and signature and the `@solution(...)` line above it; write
everything a function needs inside it (it runs as if written in its module's file, with that
module's imports such as `np`). Running a solution cell puts your function into the package,
so the tutorial's checks further down use it.

The graded cells at the end ({ex.max_score} points in all) hand your functions to the course's
grader, which runs them in a separate, sandboxed process: the same tests and messages as
`python -m numpy_ae assignment grade`."""


def nbgrader_notebook(ex):
    """The nbgrader source notebook of the exercise ``ex`` (a dict, nbformat 4.5); see the module docstring."""
    ex = get_exercise(ex) if isinstance(ex, str) else ex
    tutorial = percent_to_notebook((TUTORIALS / ex.tutorial).read_text())["cells"]
    intro = tutorial[:1] if tutorial and tutorial[0]["cell_type"] == "markdown" else []
    rest = tutorial[len(intro):]
    cells = [_locked("markdown", c["source"], "intro") for c in intro]
    cells += [_locked("markdown", _graded_note(ex), "how_it_is_graded"),
              _locked("code", f"from {PACKAGE}.notebook import solution, written", "setup")]
    for qualname in ex.blank:
        module, _, name = qualname.partition(":")
        gid = _grade_id(name)
        source = solution_cell_source(qualname)
        where = "Its docstring" if ast.get_docstring(ast.parse(source).body[0]) else \
            f"The docstring of `{name.split('.')[0]}` in that file"
        cells.append(_locked("markdown", f"### `{name}` (in `{PACKAGE}/{module_file(module)}`)\n\n{where} gives "
                             "the equations and the shapes.", f"about_{gid}"))
        cells.append(_cell("code", source, gid, {"grade": False, "solution": True, "locked": False}))
    cells.append(_locked("markdown", "## The tutorial: check your functions\n\nThe cells below check each function "
                         "with a numerical gradient; they are not graded.", "tutorial"))
    cells += [dict(c, id=f"tutorial-{i}") for i, c in enumerate(rest)]
    cells.append(_locked("markdown", f"## Graded tests ({ex.max_score} points)\n\nEach cell below is worth its "
                         "test's points: it passes when the grader's test passes.", "graded_tests"))
    for name, points, _ in ex.tests:
        cells.append(_cell("code", _test_cell(name, points), f"test_{_grade_id(name)}",
                           {"grade": True, "solution": False, "locked": True, "points": points}))
    return {"cells": cells,
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def _readme(ex):
    fns = "\n".join(f"- `{q.split(':')[1]}` (`{PACKAGE}/{module_file(q.split(':')[0])}`)" for q in ex.blank)
    tests = "\n".join(f"| {name} | {points} |" for name, points, _ in ex.tests)
    return f"""# {ex.title}

Open `{ex.name}.ipynb` and write, each in its cell (marked `# YOUR CODE HERE`):

{fns}

Write them in the notebook, not in the files of `{PACKAGE}/`: the notebook is what is
graded. The package is a copy of the parts of numpy_ae this exercise needs; its files
hold the docstrings (equations, shapes) of the functions you write. Conventions: rows
are examples (N examples, D inputs, H hidden units, K latent units or classes); a
backward pass returns the gradient with respect to its input and ADDS (`+=`) its
parameter gradients into `self.dW`, `self.db`.

## How it is graded ({ex.max_score} points)

| test | points |
|---|---|
{tests}

Each graded cell at the end of the notebook runs one test on the functions you wrote,
in a separate process, and reports the block whose gradient is wrong.
"""


def create_nbgrader_assignment(name, out, force=False):
    """Write nbgrader's source version of exercise ``name`` into ``out`` (see the module docstring).

    The same checks as :func:`numpy_ae.course.package.create_assignment` (``out`` new or empty, or with
    ``force`` an earlier assignment), then the student package, the helper, the notebook and a README.
    Returns the dict ``create_assignment`` returns, with ``"nbgrader": True`` and the files written.
    """
    ex = get_exercise(name)
    notebook = nbgrader_notebook(ex)  # built (every function found) before anything is written
    info = create_assignment(name, out, force=force)
    out = pathlib.Path(out)
    (out / f"{ex.name}.py").unlink()
    (out / PACKAGE / HELPER).write_text(SOLUTION_CELLS.read_text())
    (out / f"{ex.name}.ipynb").write_text(json.dumps(notebook, indent=1) + "\n")
    (out / README).write_text(_readme(ex))
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["nbgrader"] = True
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return dict(info, nbgrader=True,
                files=sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()))
