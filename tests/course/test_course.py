"""Course tooling: blanking, student packages, the autograder, bad input.

Each grading starts one child process (about a second); the assignments are
created once per module and copied for each variant.
"""
import ast
import io
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tokenize

import pytest

from numpy_ae.cli import main
from numpy_ae.course import blank as blank_mod
from numpy_ae.course.exercises import EXERCISES, available
from numpy_ae.course.grade import grade
from numpy_ae.course.package import LIBRARY, PACKAGE, create_assignment, module_file, percent_to_notebook

OFFERED = [name for name, ex in EXERCISES.items() if available(ex)]


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """{exercise: (student folder, solutions folder)}, each created once."""
    root = tmp_path_factory.mktemp("assignments")
    out = {}
    for name in OFFERED:
        create_assignment(name, root / f"student_{name}")
        create_assignment(name, root / f"solution_{name}", solutions=True)
        out[name] = (root / f"student_{name}", root / f"solution_{name}")
    return out


@pytest.fixture(scope="module")
def fresh_grades(made):
    return {name: grade(student) for name, (student, _) in made.items()}


@pytest.fixture(scope="module")
def solution_grades(made):
    return {name: grade(solution) for name, (_, solution) in made.items()}


def _variant(made, tmp_path, exercise, patches):
    """A copy of the solutions folder with ``patches`` = [(module, old, new)] applied (each old must occur)."""
    folder = tmp_path / "variant"
    shutil.copytree(made[exercise][1], folder)
    for module, old, new in patches:
        path = folder / PACKAGE / module_file(module)
        src = path.read_text()
        assert old in src, f"patch target not found in {module_file(module)}: {old!r}"
        path.write_text(src.replace(old, new, 1))
    return folder


def _by_name(result):
    return {t["name"]: t for t in result["tests"]}


# ------------------------------------------------------------------ catalogue
def test_catalogue_lists_the_issue_exercises():
    assert {"sparse_autoencoder", "vae", "conv2d", "softmax_regression", "contractive"} <= set(OFFERED)
    for ex in EXERCISES.values():
        for item in ex.blank + ex.drop:
            module = item.split(":")[0]
            assert module in ex.modules, (ex.name, item)
        assert (pathlib.Path(LIBRARY) / "course" / "tutorials" / ex.tutorial).exists() or not available(ex)


def test_list_command(capsys):
    assert main(["assignment", "list", "--json"]) == 0
    out = capsys.readouterr().out
    rows = {r["name"]: r for r in json.loads(out.strip().splitlines()[-1])["exercises"]}
    assert rows["sparse_autoencoder"]["available"] and rows["sparse_autoencoder"]["max_score"] > 0
    assert "nn.dense:Dense.backward" in rows["sparse_autoencoder"]["blank"]
    assert rows["contractive"]["available"] and rows["contractive"]["max_score"] == 14
    assert "nn.penalties:Contractive.backward" in rows["contractive"]["blank"]


# ------------------------------------------------------------------ blanking
SOURCE = '''
import numpy as np


class A:
    def keep(self):
        return 1

    @staticmethod
    def f(x,
          y):
        r"""Docstring with math :math:`x^2`.

        Shapes: x (N, D).
        """
        # a comment inside the body
        z = x * y  # trailing comment
        return z ** 2
        # a comment after the last statement


def g(x):
    # leading comment
    return x + 41
'''


def test_blank_keeps_signature_docstring_and_removes_body():
    out = blank_mod.blank_source(SOURCE, ["A.f", "g"])
    tree = ast.parse(out)
    f = blank_mod.find_function(tree, "A.f")
    assert ast.get_docstring(f).startswith("Docstring with math")
    assert [a.arg for a in f.args.args] == ["x", "y"] and f.decorator_list
    for gone in ("z = x * y", "return z ** 2", "a comment inside", "after the last statement", "leading comment",
                 "x + 41"):
        assert gone not in out
    assert "        # YOUR CODE HERE\n        raise NotImplementedError()\n" in out  # the method's indentation
    assert "    # YOUR CODE HERE\n    raise NotImplementedError()\n" in out       # the function's
    assert "return 1" in out  # A.keep untouched
    ns = {}
    exec(compile(out, "<blanked>", "exec"), ns)
    with pytest.raises(NotImplementedError):
        ns["g"](1)


def test_blank_errors_name_the_problem():
    with pytest.raises(ValueError, match="no method 'nope'"):
        blank_mod.blank_source(SOURCE, ["A.nope"])
    with pytest.raises(ValueError, match="no class or function 'B'"):
        blank_mod.blank_source(SOURCE, ["B.f"])
    with pytest.raises(ValueError, match="body on the def line"):
        blank_mod.blank_source("def h(x): return x\n", ["h"])
    out = blank_mod.blank_source(SOURCE + '\n__all__ = ["A", "g"]\n', drop=["A"])
    assert "class A" not in out and '"A"' not in out and "def g" in out


def _code_lines(lines):
    """The code of each line, comments stripped; lines of 3 terms or fewer (a dotted name is one term:
    ``return dA``, ``dA *= slope``, ``dY = self.diff``) are left out: they carry no solution and recur
    in the layers and losses the student keeps (Tanh.backward, MeanSquaredError.backward)."""
    out = set()
    for line in lines:
        try:
            toks = [t for t in tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline)
                    if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER,
                                      tokenize.INDENT, tokenize.DEDENT)]
        except (tokenize.TokenError, IndentationError, SyntaxError):
            toks = None
        if toks is None:
            code = line.split("#")[0].strip()
            if len(code.split()) > 3:
                out.add(code)
        else:
            code = " ".join(t.string for t in toks).replace(" . ", ".")
            if len(code.split()) > 3:
                out.add(code)
    return out


# Lines of a blanked body that ALSO belong to code the student is given (a branch test or a
# rescaling that the kept forward pass or a kept loss has too); everything else must be gone.
SHARED_WITH_KEPT_CODE = {
    'if self.parameterization == "log_var" :',  # Reparameterize.forward branches on it too
    "if not self.input_grad :",                  # Dense.backward (nn/dense.py, kept where not blanked)
}


@pytest.mark.parametrize("name", OFFERED)
def test_no_line_of_a_removed_body_appears_in_the_student_copy(made, name):
    ex = EXERCISES[name]
    student = made[name][0]
    copy_lines = set()
    for path in student.rglob("*"):
        if path.is_file():
            text = path.read_text()
            if path.suffix == ".ipynb":  # the notebook's code, cell by cell
                text = "\n".join(c["source"] for c in json.loads(text)["cells"])
            copy_lines |= _code_lines(text.splitlines())
    for item in ex.blank:
        module, qualname = item.split(":")
        removed = _code_lines(blank_mod.removed_lines((LIBRARY / module_file(module)).read_text(), qualname))
        assert removed, f"{item}: nothing substantial removed (the check would be vacuous)"
        leaked = (removed & copy_lines) - SHARED_WITH_KEPT_CODE
        assert not leaked, f"{item}: lines of the solution left in the student copy: {sorted(leaked)}"


@pytest.mark.parametrize("name", OFFERED)
def test_student_copy_keeps_docstrings_and_blanks_each_function(made, name):
    ex = EXERCISES[name]
    student, solution = made[name]
    for item in ex.blank:
        module, qualname = item.split(":")
        ours = blank_mod.find_function(ast.parse((student / PACKAGE / module_file(module)).read_text()), qualname)
        ref = blank_mod.find_function(ast.parse((LIBRARY / module_file(module)).read_text()), qualname)
        assert ast.get_docstring(ours) == ast.get_docstring(ref)
        assert ast.dump(ours.args) == ast.dump(ref.args)
        assert isinstance(ours.body[-1], ast.Raise)
        sol = blank_mod.find_function(ast.parse((solution / PACKAGE / module_file(module)).read_text()), qualname)
        assert ast.dump(sol) == ast.dump(ref)  # the instructor's copy has the reference body
    manifest = json.loads((student / "assignment.json").read_text())
    assert manifest["exercise"] == name and manifest["package"] == PACKAGE and not manifest["solutions"]
    assert (student / f"{name}.py").exists() and (student / "README.md").exists()
    nb = json.loads((student / f"{name}.ipynb").read_text())
    assert nb["nbformat"] == 4 and any(c["cell_type"] == "markdown" for c in nb["cells"])
    for dropped in ex.drop:
        module, what = dropped.split(":")
        assert f"class {what}" not in (student / PACKAGE / module_file(module)).read_text()


def test_notebook_is_valid_and_matches_jupytext_cells(made):
    nbformat = pytest.importorskip("nbformat")
    jupytext = pytest.importorskip("jupytext")
    script = (made["sparse_autoencoder"][0] / "sparse_autoencoder.py").read_text()
    ours = nbformat.from_dict(percent_to_notebook(script))
    nbformat.validate(ours)
    theirs = jupytext.reads(script, fmt="py:percent")
    assert [(c.cell_type, c.source.strip()) for c in ours.cells] == \
           [(c.cell_type, c.source.strip()) for c in theirs.cells]


# ------------------------------------------------------------------ grading
@pytest.mark.parametrize("name", OFFERED)
def test_fresh_assignment_scores_zero_and_says_not_implemented(fresh_grades, name):
    result = fresh_grades[name]
    assert result["score"] == 0 and result["max_score"] == EXERCISES[name].max_score > 0
    for t in result["tests"]:
        assert t["output"].startswith("not implemented"), (t["name"], t["output"])


@pytest.mark.parametrize("name", OFFERED)
def test_solutions_score_full_marks(solution_grades, name):
    result = solution_grades[name]
    assert result["score"] == result["max_score"], [t for t in result["tests"] if not t["passed"]]


# (exercise, patches, {failing test: [substrings its message must hold]}, {test: substrings it must NOT hold})
MISTAKES = {
    "sparsity term missing": (
        "sparse_autoencoder", [("nn.penalties", "return dA + term.astype(dA.dtype, copy=False)", "return dA")],
        {"kl_sparsity_backward": ["dX: wrong gradient"], "sparse_autoencoder_cost": ["dense0.W: wrong gradient"]},
        {"sparse_autoencoder_cost": ["dense3.W: wrong gradient"]}),  # the decoder does not see the penalty
    "1/N missing in the squared error": (
        "sparse_autoencoder", [("nn.losses", "return (self.Y - self.T) / self.Y.shape[0]", "return self.Y - self.T")],
        {"squared_error_backward": ["dY: wrong gradient"], "sparse_autoencoder_cost": ["dense3.W: wrong gradient"]},
        {}),
    "W not transposed in dX": (
        "sparse_autoencoder", [("nn.dense", "return dZ @ self.W.T", "return dZ @ self.W")],
        {"dense_backward": ["Dense.backward", "return dZ @ self.W"], "sparse_autoencoder_cost": ["Dense.backward"]},
        {}),
    "sign error in KL'": (
        "sparse_autoencoder", [("nn.penalties", "return -rho / c + (1.0 - rho) / (1.0 - c)",
                                "return rho / c - (1.0 - rho) / (1.0 - c)")],
        {"kl_sparsity_backward": ["dX: wrong gradient"], "kl_sparsity_penalty": ["penalty"],
         "sparse_autoencoder_cost": ["dense0.W: wrong gradient"]},
        {"sparse_autoencoder_cost": ["dense3.W: wrong gradient"]}),
    "bias gradient averaged, not summed": (
        "sparse_autoencoder", [("nn.dense", "self.db += dZ.sum(axis=0)",
                                "self.db += dZ.mean(axis=0)")],
        {"dense_backward": ["dense0.b: wrong gradient"],
         "sparse_autoencoder_cost": ["dense0.b: wrong gradient", "dense3.b: wrong gradient"]},
        {"dense_backward": ["dense0.W: wrong gradient", "dX: wrong gradient"]}),
    "bias gradient not summed over examples": (
        "sparse_autoencoder", [("nn.dense", "self.db += dZ.sum(axis=0)", "self.db += dZ")],
        {"dense_backward": ["Dense.backward", "self.db += dZ"]}, {}),
    "sigma confused with log(sigma^2)": (
        "vae", [("nn.reparameterize", "dscale = dsigma * self.sigma / 2  # dsigma/dlog_var = sigma / 2",
                 "dscale = dsigma")],
        {"reparameterize_log_var": ["dX: wrong gradient"], "vae_cost": ["dense2.W: wrong gradient"]},
        {"vae_cost": ["dense4.W: wrong gradient", "dense6.W: wrong gradient"]}),
    # the contractive penalty: dP/dW is (2 lambda/N) W sum_n g'^2; the code's delta and the bias do not see it
    "factor 2 dropped from the contractive W gradient": (
        "contractive", [("nn.penalties", "self.dense.dW += self.dense.W * (scale * (",
                         "self.dense.dW += self.dense.W * (0.5 * scale * (")],
        {"contractive_weight_gradient": ["dense0.W: wrong gradient"],
         "contractive_autoencoder_cost": ["dense0.W: wrong gradient"]},
        {"contractive_weight_gradient": ["dense0.b: wrong gradient"],
         "contractive_autoencoder_cost": ["dense0.b: wrong gradient", "tieddense3.b: wrong gradient"],
         "contractive_backward_sigmoid": ["wrong gradient"], "contractive_backward_tanh": ["wrong gradient"]}),
    "contractive W gradient not added into dense.dW": (
        "contractive", [("nn.penalties", "self.dense.dW += self.dense.W * (scale * (", "_ = self.dense.W * (scale * (")],
        {"contractive_weight_gradient": ["dense0.W: wrong gradient"],
         "contractive_autoencoder_cost": ["dense0.W: wrong gradient"]},
        {"contractive_weight_gradient": ["dense0.b: wrong gradient"],
         "contractive_autoencoder_cost": ["tieddense3.b: wrong gradient"],
         "contractive_backward_sigmoid": ["wrong gradient"]}),
    "contractive slope derivative of tanh used for a sigmoid": (  # the penalty's value and the tanh tests stay right
        "contractive", [("nn.penalties", "return H * (1.0 - H), 1.0 - 2.0 * H", "return H * (1.0 - H), -2.0 * H")],
        {"contractive_slope": ["dg'/dh for sigmoid"], "contractive_backward_sigmoid": ["dX: wrong gradient"],
         "contractive_weight_gradient": ["dense0.b: wrong gradient"],
         "contractive_autoencoder_cost": ["dense0.W: wrong gradient", "dense0.b: wrong gradient"]},
        {"contractive_penalty_closed_form": ["differs"], "contractive_backward_tanh": ["wrong gradient"],
         "contractive_autoencoder_cost": ["tieddense3.b: wrong gradient"]}),
    "stride forgotten in col2im": (  # only the tests with stride > 1 fail; conv_model has stride 1
        "conv2d", [("nn.conv", "col2im(dcols, self.Xp.shape, self._s)", "col2im(dcols, self.Xp.shape, (1, 1))")],
        {"conv2d_stride2_pad1": ["dX: wrong gradient"], "conv1d_backward": ["dX: wrong gradient"]},
        {"conv2d_stride2_pad1": ["conv2d0.W: wrong gradient", "conv2d0.b: wrong gradient"]}),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_plausible_mistakes_score_partial_marks_and_name_the_block(made, tmp_path, mistake):
    exercise, patches, must, must_not = MISTAKES[mistake]
    # 60 s per test, not the default 10: this checks the marks, not the time limit (tested on its own below);
    # the VAE cost's grading ran past 10 s on the AMD machine (this whole case took 9.1 s alone) and a CI run timed out
    result = grade(_variant(made, tmp_path, exercise, patches), time_limit=60.0)
    tests = _by_name(result)
    assert 0 < result["score"] < result["max_score"], (mistake, result["score"])
    for name, needles in must.items():
        assert not tests[name]["passed"], (mistake, name)
        for needle in needles:
            assert needle in tests[name]["output"], (mistake, name, needle, tests[name]["output"][:800])
    for name, needles in must_not.items():
        for needle in needles:
            assert needle not in tests[name]["output"], (mistake, name, needle)


ROBUSTNESS = [  # each replaces one body line of the solution with something a student's code might do
    ("nn.activations", "return dA * self.A * (1.0 - self.A)", "while True:\n            pass"),  # Sigmoid: endless
    ("nn.dense", "self.dW += self.X.T @ dZ", "self.dW += self.X.T @ dZ * np.nan"),              # Dense: NaN
    ("nn.losses", "return (self.Y - self.T) / self.Y.shape[0]",                               # wrong shape
     "return (self.Y - self.T)[:, :1] / self.Y.shape[0]"),
    ("nn.penalties", "term = (self.beta / self.n)",                                            # prints a lot
     "print('debug ' * 100000, self.n)\n        term = (self.beta / self.n)"),
]


def test_grader_survives_endless_loops_nan_wrong_shapes_and_prints(made, tmp_path):
    result = grade(_variant(made, tmp_path, "sparse_autoencoder", ROBUSTNESS), time_limit=2.0)
    tests = _by_name(result)
    assert "time limit" in tests["sigmoid_backward"]["output"]
    assert "NaN" in tests["dense_backward"]["output"] and "dW" in tests["dense_backward"]["output"]
    assert "wrong shape" in tests["squared_error_backward"]["output"]
    assert tests["kl_sparsity_backward"]["passed"]  # printing is not a mistake: captured and shown
    assert "your code printed" in tests["kl_sparsity_backward"]["output"]
    assert len(tests["kl_sparsity_backward"]["output"]) < 2000  # the last characters only
    assert tests["kl_sparsity_penalty"]["passed"]
    assert result["score"] == 4


def test_grader_survives_exits_and_inputs_modified_in_place(made, tmp_path):
    patches = [("nn.activations", "return dA * self.A * (1.0 - self.A)", "import os; os._exit(3)"),                        # Sigmoid: dies
               ("nn.dense", "self.dW += self.X.T @ dZ", "self.dW += self.X.T @ dZ\n        self.X[...] = 0.0"),
               ("nn.losses", "return (self.Y - self.T) / self.Y.shape[0]", "raise SystemExit(0)")]
    tests = _by_name(grade(_variant(made, tmp_path, "sparse_autoencoder", patches)))
    assert "process died (exit status 3)" in tests["sigmoid_backward"]["output"]
    assert "input modified in place" in tests["dense_backward"]["output"]
    assert "SystemExit" in tests["squared_error_backward"]["output"]
    assert tests["kl_sparsity_backward"]["passed"] and tests["kl_sparsity_penalty"]["passed"]


def test_a_syntax_error_fails_every_test_with_the_import_error(made, tmp_path):
    folder = _variant(made, tmp_path, "conv2d", [("nn.conv", "self.db += delta.sum(axis=(0, 2, 3))", "self.db += (")])
    result = grade(folder)
    assert result["score"] == 0
    assert all("could not import your package" in t["output"] and "SyntaxError" in t["output"]
               for t in result["tests"])


def test_an_endless_loop_at_import_fails_every_test_within_the_time_limit(made, tmp_path):
    folder = _variant(made, tmp_path, "conv2d", [("nn.conv", "\nimport numpy as np\n", "\nimport numpy as np\n"
                                                                                 "while True:\n    pass\n")])
    result = grade(folder, time_limit=2.0)
    assert result["score"] == 0
    assert all("could not import your package: time limit" in t["output"] for t in result["tests"])
    assert result["seconds"] < 60  # one child, stopped by its own alarm: not one kill per test


def test_grader_uses_the_trusted_library_not_a_numpy_ae_in_the_student_folder(made, tmp_path):
    folder = tmp_path / "cheat"
    shutil.copytree(made["conv2d"][0], folder)  # the blank copy...
    fake = folder / "numpy_ae"
    (fake / "check").mkdir(parents=True)  # ...with a numpy_ae whose gradcheck would pass anything
    (fake / "__init__.py").write_text("")
    (fake / "check" / "__init__.py").write_text("")
    (fake / "check" / "gradcheck.py").write_text("raise RuntimeError('the fake numpy_ae was imported')\n")
    result = grade(folder)
    assert result["score"] == 0
    assert all(t["output"].startswith("not implemented") for t in result["tests"])


# ------------------------------------------------------------------ CLI
def test_cli_grade_json_and_gradescope_results(made, tmp_path, capsys):
    results = tmp_path / "gs" / "results.json"
    assert main(["assignment", "grade", str(made["conv2d"][1]), "--json", "--results", str(results)]) == 0
    out = capsys.readouterr().out
    last = json.loads(out.strip().splitlines()[-1])
    assert set(last) == {"score", "max_score", "tests", "isolation"} and last["isolation"] in ("namespace", "user", "none") and last["score"] == last["max_score"] == 9
    assert "points" in out and "total" in out
    gs = json.loads(results.read_text())
    assert gs["score"] == 9
    assert all(set(t) >= {"name", "score", "max_score", "output", "visibility"} for t in gs["tests"])


def test_cli_create_then_refuses_a_non_empty_folder_unless_forced(tmp_path, capsys):
    out = tmp_path / "hw"
    assert main(["assignment", "create", "softmax_regression", "--out", str(out)]) == 0
    assert (out / PACKAGE / "models" / "softmax.py").exists()
    assert main(["assignment", "create", "softmax_regression", "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["assignment", "create", "conv2d", "--out", str(out), "--force"]) == 0
    assert not (out / PACKAGE / "models" / "softmax.py").exists() and (out / PACKAGE / "nn" / "conv.py").exists()
    assert json.loads((out / "assignment.json").read_text())["exercise"] == "conv2d"


@pytest.mark.parametrize("argv, needle", [
    (["assignment", "create", "no_such_exercise", "--out", "{tmp}/x"], "no exercise named 'no_such_exercise'"),
    (["assignment", "grade", "{tmp}"], "is not an assignment"),
    (["assignment", "grade", "{tmp}/missing_folder"], "is not a folder"),
])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, capsys, argv, needle):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err and "Traceback" not in err


def test_cli_pending_exercise_is_refused_clearly(tmp_path, capsys, monkeypatch):
    """An exercise whose ``requires`` names something the library lacks is listed as pending and refused
    (the contractive exercise was, until nn.penalties.Contractive landed)."""
    import dataclasses

    from numpy_ae.course import exercises

    assert available(EXERCISES["contractive"])  # nn.penalties.Contractive exists now
    pending = dataclasses.replace(EXERCISES["contractive"], name="pending_demo",
                                  requires=("nn.penalties:NoSuchPenalty",), pending_note="waits for NoSuchPenalty")
    monkeypatch.setitem(exercises.EXERCISES, "pending_demo", pending)
    assert not available(pending)
    assert main(["assignment", "create", "pending_demo", "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "not available yet" in err and "waits for NoSuchPenalty" in err
    assert not (tmp_path / "c").exists()
    assert main(["assignment", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out.strip().splitlines()[-1])["exercises"]}
    assert rows["pending_demo"]["available"] is False and rows["contractive"]["available"] is True


def test_cli_missing_module_exits_2(made, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(made["sparse_autoencoder"][0], folder)
    (folder / PACKAGE / "nn" / "losses.py").unlink()
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(LIBRARY).parent))
    proc = subprocess.run([sys.executable, "-m", "numpy_ae", "assignment", "grade", str(folder)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert "missing module(s) nn/losses.py" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("prog", ["numpy-ae", "python -m numpy_ae"])
def test_cli_create_hint_names_the_program_as_called_and_a_quoted_folder(tmp_path, capsys, prog):
    out = tmp_path / "home work"  # a space: the hint must be pastable into a shell
    assert main(["assignment", "create", "softmax_regression", "--out", str(out)], prog=prog) == 0
    hint = [line for line in capsys.readouterr().out.splitlines() if line.startswith("grade it with: ")]
    assert hint == [f"grade it with: {prog} assignment grade '{out}'"]
