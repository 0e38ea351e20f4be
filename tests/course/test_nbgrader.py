"""nbgrader: ``assignment create --nbgrader`` writes nbgrader's source version (the notebook with the solutions in
nbgrader's markers and graded cells that call the sandboxed grader).

Without nbgrader: the notebook's cells and metadata, the solution cells of every exercise graded through the
splice (full marks), the ``@solution`` decorator in a fresh interpreter, the graded cells' ``check``. With the
real nbgrader (a development extra; those tests skip without it): ``nbgrader generate_assignment`` makes the
student version and ``nbgrader autograde`` grades a blank (0), a solved (full marks) and a partly solved notebook
whose kernel-side tricks change nothing.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest

from numpy_ae.cli import main
from numpy_ae.course import nbcheck
from numpy_ae.course.blank import BLANK_LINES, function_parts
from numpy_ae.course.exercises import EXERCISES, available
from numpy_ae.course.nbgrader_source import (BEGIN, END, SCHEMA_VERSION, create_nbgrader_assignment,
                                             nbgrader_notebook, solution_cell_source)
from numpy_ae.course.package import LIBRARY, PACKAGE, module_file

try:
    import nbgrader
    from nbgrader.api import Gradebook
except ImportError:
    nbgrader = None

needs_nbgrader = pytest.mark.skipif(nbgrader is None, reason="nbgrader is not installed: it is a development "
                                    "extra (pip install -e '.[nbgrader]'), never a dependency of numpy_ae")
OFFERED = [name for name, ex in EXERCISES.items() if available(ex)]
EXERCISE = EXERCISES["sparse_autoencoder"]


def meta(cell):
    return cell["metadata"].get("nbgrader", {})


def text(cell):
    """A cell's source as one string (nbgrader writes it as a list of lines)."""
    return "".join(cell["source"])


def solved(source):
    """A solution cell as a student who wrote the reference would leave it: the markers gone."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in (BEGIN, END))


def functions(exercise):
    """``written()`` of a notebook whose solution cells hold the reference (without the decorator line)."""
    return {q: solved(solution_cell_source(q)).split("\n", 1)[1] + "\n" for q in exercise.blank}


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbgrader_sources")
    return {name: pathlib.Path(create_nbgrader_assignment(name, root / name)["out"]) for name in OFFERED}


# ------------------------------------------------------------------ the source version, without nbgrader
@pytest.mark.parametrize("name", OFFERED)
def test_the_notebook_carries_nbgrader_cells_and_metadata(name):
    ex = EXERCISES[name]
    nb = nbgrader_notebook(ex)
    tagged = [c for c in nb["cells"] if meta(c)]
    assert all(meta(c)["schema_version"] == SCHEMA_VERSION and meta(c)["grade_id"] == c["id"] for c in tagged)
    assert len({c["id"] for c in nb["cells"]}) == len(nb["cells"])
    answers = [c for c in tagged if meta(c)["solution"]]
    assert [c["source"].splitlines()[0] for c in answers] == [f'@solution("{q}")' for q in ex.blank]
    assert all(c["cell_type"] == "code" and not meta(c)["locked"] and not meta(c)["grade"] for c in answers)
    assert all(c["source"].count(BEGIN) == c["source"].count(END) == 1 for c in answers)
    tests = [c for c in tagged if meta(c)["grade"]]
    assert [(c["id"], meta(c)["points"]) for c in tests] == [(f"test_{n}", p) for n, p, _ in ex.tests]
    assert all(meta(c)["locked"] and f"check({n!r}, written())" in c["source"] for c, (n, _, _) in zip(tests, ex.tests))
    assert sum(meta(c)["points"] for c in tests) == ex.max_score


def test_create_nbgrader_writes_the_source_folder(sources):
    folder = sources["sparse_autoencoder"]
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "assignment.json", PACKAGE,
                                                        "sparse_autoencoder.ipynb"]
    assert json.loads((folder / "assignment.json").read_text())["nbgrader"] is True
    assert (folder / PACKAGE / "notebook.py").read_text() == (LIBRARY / "course" / "solution_cells.py").read_text()
    # the package is the student's (blank): the solutions are only in the notebook, which nbgrader strips
    assert BLANK_LINES[1] in (folder / PACKAGE / "nn" / "dense.py").read_text()


def test_create_nbgrader_refuses_solutions_and_gradescope(tmp_path, capsys):
    for extra in ("--solutions", "--gradescope"):
        assert main(["assignment", "create", "vae", "--out", str(tmp_path / "x"), "--nbgrader", extra]) == 2
        assert "--nbgrader writes nbgrader's source version" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("name", OFFERED)
def test_the_solution_cells_score_full_marks_through_the_grader(sources, name):
    result = nbcheck.grade_functions(functions(EXERCISES[name]), sources[name])
    assert result["score"] == result["max_score"] == EXERCISES[name].max_score, \
        [t["output"] for t in result["tests"] if not t["passed"]]


def test_check_fails_with_the_grader_message_and_grades_once(sources, capsys, monkeypatch):
    folder = sources["sparse_autoencoder"]
    runs = []
    real = subprocess.run
    monkeypatch.setattr(nbcheck.subprocess, "run", lambda *a, **k: runs.append(a) or real(*a, **k))
    only_sigmoid = {"nn.activations:Sigmoid.backward": functions(EXERCISE)["nn.activations:Sigmoid.backward"]}
    nbcheck.check("sigmoid_backward", only_sigmoid, folder)
    assert "sigmoid_backward: 2/2 points" in capsys.readouterr().out
    with pytest.raises(AssertionError, match=r"not implemented: Dense.backward"):
        nbcheck.check("dense_backward", only_sigmoid, folder)
    assert len(runs) == 1  # one grading for the notebook's graded cells
    with pytest.raises(ValueError, match="no test 'nope'"):
        nbcheck.check("nope", only_sigmoid, folder)


def test_the_notebook_may_replace_only_the_blanked_functions(sources, tmp_path):
    folder = sources["sparse_autoencoder"]
    with pytest.raises(ValueError, match="does not ask for"):
        nbcheck.build_folder(folder, {"nn.layer:Layer.bind": "def bind(self, p, g):\n    pass\n"}, tmp_path / "a")
    with pytest.raises(ValueError, match="exactly one `def backward"):
        nbcheck.build_folder(folder, {"nn.dense:Dense.backward": "x = 1\n"}, tmp_path / "b")


SCRIPT = """
import numpy as np
from numpy_ae_student.notebook import solution, written
from numpy_ae_student.nn.activations import Sigmoid


@solution("nn.activations:Sigmoid.backward")
def backward(self, dA):
    return dA * self.A * (1.0 - self.A) + 0.0 * sigmoid(0.0)   # sigmoid: the module's, not this file's


layer = Sigmoid()
X = np.linspace(-2.0, 2.0, 6).reshape(2, 3)
A = layer.forward(X)
assert np.allclose(layer.backward(np.ones_like(A)), A * (1 - A))
source = written()["nn.activations:Sigmoid.backward"]
assert source.startswith("def backward(self, dA):") and "@solution" not in source, source
print("ok")
"""


def test_the_solution_decorator_puts_the_function_into_the_package(sources, tmp_path):
    """In a fresh interpreter (as in the notebook's kernel): the class gets the function, which sees the module's
    globals, and ``written()`` gives its source without the decorator."""
    folder = sources["sparse_autoencoder"]
    script = tmp_path / "cell.py"
    script.write_text(textwrap.dedent(SCRIPT))
    proc = subprocess.run([sys.executable, str(script)], cwd=folder, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(folder)))
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


# ------------------------------------------------------------------ the round trip with the real nbgrader
def nbgrader_cli(course, *args):
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]),
               PYTHONPATH=os.pathsep.join([str(LIBRARY.parent), os.environ.get("PYTHONPATH", "")]),
               JUPYTER_RUNTIME_DIR=str(course / ".runtime"), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


PARTLY = """
import numpy_ae.check.gradcheck, numpy_ae.course.harness
numpy_ae.course.harness.check_layer = lambda *a, **k: None      # patched in the kernel only
numpy_ae.check.gradcheck.check_layer = lambda *a, **k: None
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """An nbgrader course: source/ps1 from ``create --nbgrader``, the release from ``generate_assignment``, three
    submissions (alice: the student version untouched; bob: every function; carol: Sigmoid.backward and
    SquaredError.backward, Dense.backward calling the installed reference, numpy_ae's checkers patched in the
    kernel), autograded."""
    if nbgrader is None:
        pytest.skip("nbgrader is not installed (a development extra: pip install -e '.[nbgrader]')")
    course = tmp_path_factory.mktemp("course")
    (course / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n"
                                               "c.CourseDirectory.course_id = 'numpy_ae_course'\n")
    assert main(["assignment", "create", "sparse_autoencoder", "--out", str(course / "source" / "ps1"),
                 "--nbgrader"]) == 0
    nbgrader_cli(course, "generate_assignment", "ps1", "--create")
    released = json.loads((course / "release" / "ps1" / "sparse_autoencoder.ipynb").read_text())
    source = json.loads((course / "source" / "ps1" / "sparse_autoencoder.ipynb").read_text())
    answers = {meta(c)["grade_id"]: solved(text(c)) for c in source["cells"] if meta(c).get("solution")}
    plans = {"alice": {}, "bob": answers,
             "carol": {"Sigmoid_backward": answers["Sigmoid_backward"] + "\n" + PARTLY,
                       "SquaredError_backward": answers["SquaredError_backward"],
                       "Dense_backward": '@solution("nn.dense:Dense.backward")\ndef backward(self, dZ):\n'
                                         '    import numpy_ae.nn.dense\n'
                                         '    return numpy_ae.nn.dense.Dense.backward(self, dZ)\n'}}
    for student, plan in plans.items():
        folder = course / "submitted" / student / "ps1"
        shutil.copytree(course / "release" / "ps1", folder)
        nb = json.loads(json.dumps(released))
        for cell in nb["cells"]:
            if meta(cell).get("grade_id") in plan:
                cell["source"] = plan[meta(cell)["grade_id"]]
        (folder / "sparse_autoencoder.ipynb").write_text(json.dumps(nb))
    nbgrader_cli(course, "autograde", "ps1", "--create")
    return course


def scores(course, student):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission("ps1", student)
        cells = {g.name: g.score for nb in submission.notebooks for g in nb.grades if g.cell.max_score}
        return submission.score, submission.max_score, cells


@needs_nbgrader
def test_generate_assignment_gives_the_student_the_blanked_functions(course):
    released = json.loads((course / "release" / "ps1" / "sparse_autoencoder.ipynb").read_text())
    answers = [c for c in released["cells"] if meta(c).get("solution")]
    assert len(answers) == len(EXERCISE.blank)
    for cell, qualname in zip(answers, EXERCISE.blank):
        module, _, name = qualname.partition(":")
        # the signature and docstring, then the stub of the package's blanked file (nbgrader's own stub)
        _, head, body, _, _ = function_parts((LIBRARY / module_file(module)).read_text(), name)
        indent = body[0][:len(body[0]) - len(body[0].lstrip())]
        expected = textwrap.dedent("\n".join(head + [indent + line for line in BLANK_LINES]))
        assert text(cell) == f'@solution("{qualname}")\n{expected}'
    assert not (course / "release" / "ps1" / "sparse_autoencoder.py").exists()


@needs_nbgrader
def test_autograde_gives_zero_to_the_blank_notebook_and_full_marks_to_the_solved_one(course):
    assert scores(course, "alice")[:2] == (0, 15)
    score, max_score, cells = scores(course, "bob")
    assert (score, max_score) == (15, 15) and cells == {f"test_{n}": p for n, p, _ in EXERCISE.tests}


@needs_nbgrader
def test_autograde_gives_the_partly_solved_notebook_what_its_functions_are_worth(course):
    """Carol's kernel-side tricks (numpy_ae's checkers patched in the kernel, Dense.backward calling the installed
    reference) pass her own checks in the kernel but change nothing: the verdicts come from the sandboxed
    grader, where her functions run without numpy_ae."""
    score, _, cells = scores(course, "carol")
    assert score == 4 and cells["test_sigmoid_backward"] == 2 and cells["test_squared_error_backward"] == 2
    assert cells["test_dense_backward"] == 0
    graded = json.loads((course / "autograded" / "carol" / "ps1" / "sparse_autoencoder.ipynb").read_text())
    dense = next(c for c in graded["cells"] if c["id"] == "test_dense_backward")
    assert any(o.get("ename") == "AssertionError" and "numpy_ae" in o.get("evalue", "") for o in dense["outputs"])
