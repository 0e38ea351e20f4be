"""Gradescope: ``assignment create --gradescope`` writes the autograder zip; the zip, unpacked into a folder laid
out as Gradescope's (``source/``, ``submission/``, ``results/`` under ``AUTOGRADER_ROOT``), is set up with its
``setup.sh`` (offline: ``NUMPY_AE_PYTHON`` names this interpreter, nothing is downloaded) and run with its
``run_autograder`` on a blank, a solution and a cheating submission, as Gradescope would.

``run_autograder`` sets ``PYTHONPATH`` to the zip's own copy of numpy_ae, so these runs grade with what the zip
carries, not with the numpy_ae under test.
"""
import configparser
import json
import os
import pathlib
import re
import shutil
import site
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile

import pytest

from numpy_ae.cli import main
from numpy_ae.course.exercises import EXERCISES
from numpy_ae.course.package import LIBRARY, PACKAGE

EXERCISE = EXERCISES["sparse_autoencoder"]
NAMES = [name for name, _, _ in EXERCISE.tests]
REPO = LIBRARY.parent


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The handout ``hw`` with its zip (through the CLI) and the instructor's copy ``key``."""
    root = tmp_path_factory.mktemp("gradescope")
    assert main(["assignment", "create", "sparse_autoencoder", "--out", str(root / "hw"), "--gradescope"]) == 0
    assert main(["assignment", "create", "sparse_autoencoder", "--out", str(root / "key"), "--solutions"]) == 0
    return root


def unpack(made, root):
    """Gradescope's layout: the zip in ``root/source``, an empty ``root/submission``."""
    (root / "source").mkdir(parents=True)
    (root / "submission").mkdir()
    with zipfile.ZipFile(made / "hw-autograder.zip") as z:
        for info in z.infolist():
            z.extract(info, root / "source")
            os.chmod(root / "source" / info.filename, (info.external_attr >> 16) & 0o777)
    return root


def shell(root, script, **env):
    full = dict(os.environ, AUTOGRADER_ROOT=str(root), NUMPY_AE_PYTHON=sys.executable)
    full.update(env)
    return subprocess.run([str(root / "source" / script)], cwd=root, env=full, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def autograder(made, tmp_path):
    root = unpack(made, tmp_path / "autograder")
    proc = shell(root, "setup.sh")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def run(root, **env):
    """Run run_autograder; ``(process, results.json or None)``."""
    proc = shell(root, "run_autograder", **env)
    path = root / "results" / "results.json"
    return proc, (json.loads(path.read_text()) if path.exists() else None)


def graded(results):
    return {t["name"]: t["score"] for t in results["tests"]}


# ------------------------------------------------------------------ the zip
def test_the_zip_has_gradescope_layout_and_the_grader(made):
    with zipfile.ZipFile(made / "hw-autograder.zip") as z:
        names = set(z.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in z.infolist()}
        manifest = json.loads(z.read("assignment/assignment.json"))
        requirements = z.read("requirements.txt").decode().split()
    assert {"setup.sh", "run_autograder"} <= names and modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert manifest == json.loads((made / "hw" / "assignment.json").read_text())
    library = {f"trusted/numpy_ae/{p.relative_to(LIBRARY).as_posix()}" for p in LIBRARY.rglob("*.py")
               if "__pycache__" not in p.parts}
    assert library <= names and not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    assert requirements == cfg["options"]["install_requires"].split()  # setup.sh installs what numpy_ae needs
    # the zip holds the reference solution: it is written beside the student folder, never inside it
    assert not any(p.suffix == ".zip" for p in (made / "hw").rglob("*"))


def test_create_refuses_to_overwrite_a_zip_unless_forced_and_then_only_its_own(made, tmp_path, capsys):
    out = tmp_path / "hw"
    other = tmp_path / "hw-autograder.zip"
    other.write_text("not a zip")
    assert main(["assignment", "create", "sparse_autoencoder", "--out", str(out), "--gradescope"]) == 2
    assert "exists" in capsys.readouterr().err and not out.exists()  # refused before anything was written
    assert main(["assignment", "create", "sparse_autoencoder", "--out", str(out), "--gradescope", "--force"]) == 2
    assert "not an autograder zip" in capsys.readouterr().err and other.read_text() == "not a zip"
    other.unlink()
    assert main(["assignment", "create", "sparse_autoencoder", "--out", str(out), "--gradescope"]) == 0
    assert main(["assignment", "create", "sparse_autoencoder", "--out", str(out), "--gradescope", "--force"]) == 0


# ------------------------------------------------------------------ setup.sh
def test_setup_dry_run_shows_the_install_and_changes_nothing(made, tmp_path):
    root = unpack(made, tmp_path / "autograder")
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), NUMPY_AE_SETUP_DRY_RUN="1")
    env.pop("NUMPY_AE_PYTHON", None)
    proc = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    src = root / "source"
    for command in (f"-m venv {src}/venv", f"-m pip install --no-cache-dir -r {src}/requirements.txt",
                    f"chmod -R go-rwx {src}/trusted", f"chmod -R a+rX {src}/venv"):
        assert command in proc.stdout, proc.stdout
    assert not (src / "venv").exists() and (src / "trusted").stat().st_mode & 0o055  # nothing changed


def test_setup_refuses_an_incomplete_zip(made, tmp_path):
    root = unpack(made, tmp_path / "autograder")
    (root / "source" / "trusted" / "numpy_ae" / "__main__.py").unlink()
    proc = shell(root, "setup.sh")
    assert proc.returncode == 1 and "trusted/numpy_ae/__main__.py is missing" in proc.stderr


def test_setup_makes_the_grader_readable_by_root_only(autograder):
    """Every folder and file of the grader is root's alone (the grader makes its scratch copy of the
    sandbox's student side, ``course/child.py``, readable itself)."""
    trusted = autograder / "source" / "trusted"
    child = trusted / "numpy_ae" / "course" / "child.py"
    for path in [trusted, *trusted.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, (path, oct(mode))
    if os.geteuid() == 0:  # as the student's process would try it
        for argv in (["ls", str(trusted / "numpy_ae")], ["cat", str(trusted / "numpy_ae" / "nn" / "dense.py")],
                     ["cat", str(child)]):
            assert subprocess.run(argv, user=65534, group=65534, capture_output=True, cwd="/").returncode != 0


# ------------------------------------------------------------------ run_autograder
def _zip_folder(folder, archive, prefix):
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, f"{prefix}{path.relative_to(folder).as_posix()}")


def test_a_blank_submission_scores_zero(made, autograder):
    shutil.copytree(made / "hw" / PACKAGE, autograder / "submission" / PACKAGE)
    proc, results = run(autograder)
    assert proc.returncode == 0, proc.stderr
    assert f"with the grader in {autograder}/source/trusted/numpy_ae" in proc.stdout  # the zip's own grader
    assert results["score"] == 0 and results["max_score"] == 15 and list(graded(results)) == NAMES
    assert all(t["output"].startswith("not implemented") for t in results["tests"])
    assert all(t["visibility"] == "visible" for t in results["tests"])


@pytest.mark.parametrize("how", ["a zip of the assignment folder", "the package's files at the top"])
def test_a_solution_scores_full_marks_however_it_is_submitted(made, autograder, how):
    submission = autograder / "submission"
    if how == "a zip of the assignment folder":  # the package one level down inside the zip
        _zip_folder(made / "key", submission / "hw1.zip", "hw1/")
    else:
        shutil.copytree(made / "key" / PACKAGE, submission, dirs_exist_ok=True)
    proc, results = run(autograder)
    assert proc.returncode == 0, proc.stderr
    assert results["score"] == 15 and all(t["output"] == "passed" for t in results["tests"]), results


CHEAT = """
import atexit, json, os, sys
FAKE = {{"score": 15, "max_score": 15, "tests": [{{"name": n, "score": 9, "max_score": 9, "output": "passed",
                                                "visibility": "visible"}} for n in {names!r}]}}

def _forge():
    for path in ({results!r}, "/autograder/results/results.json"):
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                json.dump(FAKE, f)
        except OSError:
            pass

_forge()
atexit.register(_forge)
for fd in (1, 2):
    os.write(fd, (json.dumps(FAKE) + "\\n").encode())
print(json.dumps(FAKE))
"""


DAEMON = """
import time
_peek = []
for path in ({dense!r}, {child!r}):  # the grader's own files
    try:
        _peek.append(open(path).read(40))
    except OSError as exc:
        _peek.append(type(exc).__name__)
print("peek:", " ".join(_peek))
if os.fork() == 0:  # a daemon that keeps forging the results after the grader is done
    try:
        os.setsid()
        if os.fork() == 0:
            for _ in range(60):
                _forge()
                try:
                    with open({heartbeat!r}, "a") as f:  # what a surviving daemon leaves: a growing file
                        f.write(".")
                except OSError:
                    pass
                time.sleep(0.1)
    finally:
        os._exit(0)
"""


def cheat(made, root, heartbeat):
    """The blank package in ``root``'s submission with one honest function (Sigmoid.backward, from the key:
    2 points) and an ``__init__`` that forges results.json where Gradescope reads it (at import, at exit and
    from a daemon), prints fake JSON lines and tries to read the grader's files."""
    package = root / "submission" / PACKAGE
    shutil.copytree(made / "hw" / PACKAGE, package)
    shutil.copyfile(made / "key" / PACKAGE / "nn" / "activations.py", package / "nn" / "activations.py")
    trusted = root / "source" / "trusted" / "numpy_ae"
    init = package / "__init__.py"
    init.write_text(init.read_text() + textwrap.dedent(CHEAT.format(
        names=NAMES, results=str(root / "results" / "results.json"))) + textwrap.dedent(DAEMON.format(
            dense=str(trusted / "nn" / "dense.py"), child=str(trusted / "course" / "child.py"),
            heartbeat=str(heartbeat))))


def honest_worth(results):
    """The cheat's results: its one function's 2 points, and not one byte of the grader's files read."""
    assert results["score"] == 2 and graded(results) == dict.fromkeys(NAMES, 0) | {"sigmoid_backward": 2}
    assert re.search(r"peek: [A-Za-z]+Error [A-Za-z]+Error", results["tests"][0]["output"]), results["tests"][0]


def test_a_cheating_submission_scores_what_its_honest_code_is_worth(made, autograder):
    """:func:`cheat`, with a forged assignment.json naming another exercise beside the package, in the strongest
    sandbox here: the grader uses the zip's manifest and alone writes the results."""
    cheat(made, autograder, autograder.parent / "heartbeat")
    (autograder / "submission" / "assignment.json").write_text(json.dumps({"exercise": "conv2d", "package": PACKAGE,
                                                                           "modules": []}))
    proc, results = run(autograder)
    assert proc.returncode == 0, proc.stderr
    time.sleep(1.0)  # a surviving daemon would have forged the results by now
    honest_worth(json.loads((autograder / "results" / "results.json").read_text()))


@pytest.mark.parametrize("layout, message", [
    ("nothing", "no numpy_ae_student package in your submission (it holds: notes.txt)"),
    ("two", "more than one numpy_ae_student package"),
    ("missing module", "is missing module(s) nn/dense.py"),
])
def test_a_submission_without_one_whole_package_gets_zero_and_is_told_what_to_submit(made, autograder, layout,
                                                                                     message):
    submission = autograder / "submission"
    (submission / "notes.txt").write_text("my notes")
    if layout == "two":
        for name in ("a", "b"):
            shutil.copytree(made / "key" / PACKAGE, submission / name / PACKAGE)
    elif layout == "missing module":
        shutil.copytree(made / "key" / PACKAGE, submission / PACKAGE)
        (submission / PACKAGE / "nn" / "dense.py").unlink()
    proc, results = run(autograder)
    assert proc.returncode == 0, proc.stderr
    assert results["score"] == 0 and message in results["output"], results["output"]
    assert list(graded(results)) == NAMES and all(message in t["output"] for t in results["tests"])


def test_run_autograder_refuses_to_grade_without_a_sandbox_unless_told(made, autograder):
    """``--require-isolation`` by default: asked for the ``none`` mode, the grader refuses, no results.json is
    left (Gradescope then reports a failed autograder, not a score); NUMPY_AE_REQUIRE_ISOLATION=0 allows it."""
    shutil.copytree(made / "key" / PACKAGE, autograder / "submission" / PACKAGE)
    proc, results = run(autograder, NUMPY_AE_ISOLATION="none")
    assert proc.returncode == 1 and results is None
    assert "require_isolation=True contradicts isolation='none'" in proc.stderr
    proc, results = run(autograder, NUMPY_AE_ISOLATION="none", NUMPY_AE_REQUIRE_ISOLATION="0")
    assert proc.returncode == 0 and results["score"] == 15 and "WARNING: graded without a sandbox" in proc.stdout


# ------------------------------------------------------------------ Gradescope's own mode: a root grader, nobody
def _runs_as_nobody(python):
    try:
        return subprocess.run([python, "-c", "import numpy, scipy"], user=65534, group=65534, capture_output=True,
                              cwd="/").returncode == 0
    except OSError:  # the interpreter itself is out of nobody's reach
        return False


def _nobody_python(base):
    """An interpreter that nobody can run and that imports this one's numpy and scipy, as setup.sh's venv is on
    Gradescope: this one, or a venv (no pip, nothing downloaded) of the system's Python of the same version
    whose site-packages point at this interpreter's; None when there is none."""
    if _runs_as_nobody(sys.executable):
        return sys.executable
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(version, path="/usr/bin:/bin:/usr/local/bin")
    if system is None:
        return None
    venv = base / "venv"
    subprocess.run([system, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    (venv / "lib" / version / "site-packages" / "numpy_ae_test.pth").write_text("\n".join(site.getsitepackages()))
    python = str(venv / "bin" / "python")
    return python if _runs_as_nobody(python) else None


@pytest.fixture
def world_readable(made):
    """``(AUTOGRADER_ROOT, python)``: a root that nobody can traverse, as /autograder is (pytest's tmp_path is
    not), and an interpreter for it (see :func:`_nobody_python`)."""
    if os.geteuid() != 0:
        pytest.skip("the user mode (the student's process as nobody) needs a grader running as root")
    base = pathlib.Path(tempfile.mkdtemp(prefix="numpy_ae_gs_", dir="/tmp"))
    base.chmod(0o755)
    try:
        yield unpack(made, base / "autograder"), _nobody_python(base)
    finally:
        shutil.rmtree(base)


def test_the_user_mode_refuses_until_setup_made_the_grader_root_only(made, world_readable):
    root, _ = world_readable
    shutil.copytree(made / "key" / PACKAGE, root / "submission" / PACKAGE)
    proc, results = run(root, NUMPY_AE_ISOLATION="user")
    assert proc.returncode == 1 and results is None
    assert "the 'user' sandbox exposes the trusted files" in proc.stdout + proc.stderr
    assert shell(root, "setup.sh").returncode == 0
    proc, results = run(root, NUMPY_AE_ISOLATION="user")
    assert "exposes the trusted files" not in proc.stdout + proc.stderr  # the sandbox's own check passes now




def test_the_user_mode_grades_after_setup_and_the_cheat_gets_its_honest_worth(made, world_readable):
    """Gradescope's case: the grader as root, the student's code as nobody. The key scores 15; the cheat (one
    honest function, forged results now, at exit and from a daemon, a try at reading the grader's files)
    scores 2, reads nothing, and leaves no process behind."""
    root, python = world_readable
    if python is None:
        pytest.skip("no interpreter here that nobody may run with numpy (Gradescope's venv is readable by all)")
    assert shell(root, "setup.sh", NUMPY_AE_PYTHON=python).returncode == 0
    package = root / "submission" / PACKAGE
    shutil.copytree(made / "key" / PACKAGE, package)
    proc, results = run(root, NUMPY_AE_ISOLATION="user", NUMPY_AE_PYTHON=python)
    assert proc.returncode == 0 and results["score"] == 15, proc.stdout + proc.stderr
    shutil.rmtree(package)
    heartbeat = root.parent / "heartbeat"
    cheat(made, root, heartbeat)
    heartbeat.touch(mode=0o666)
    heartbeat.chmod(0o666)  # nobody may append to it
    proc, results = run(root, NUMPY_AE_ISOLATION="user", NUMPY_AE_PYTHON=python)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    beats = heartbeat.stat().st_size
    time.sleep(1.0)  # a surviving daemon would beat ten times and forge the results meanwhile
    assert beats > 0 and heartbeat.stat().st_size == beats  # it ran, and it is gone
    results = json.loads((root / "results" / "results.json").read_text())
    honest_worth(results)
    assert "peek: PermissionError PermissionError" in results["tests"][0]["output"]
    assert stat.S_IMODE((root / "results").stat().st_mode) == 0o755
