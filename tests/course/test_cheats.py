"""The autograder is a security boundary: each cheat scores what its honest code is worth.

Each submission below is the blank sparse-autoencoder assignment (honestly worth 0 of 15) with a cheat
added, mostly in the package's ``__init__.py`` (code that runs on import, before any test). Graded in the
strongest sandbox this machine offers (the namespace mode: the cheats need it to fail; the tests skip
with the reason otherwise), every one scores 0, the grader's results file and JSON line are its own,
and no process the student started survives the grading. Where a cheat is about reading or importing
the reference, the same cheat is also graded with ``--isolation none`` to show that it *would* work
without the sandbox (so the test can fail).
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

import numpy_ae
from numpy_ae.course.grade import grade
from numpy_ae.course.package import create_assignment
from numpy_ae.course.session import isolation_modes

pytestmark = pytest.mark.skipif("namespace" not in isolation_modes(),
                                reason="the sandbox's namespace mode needs Linux with unprivileged user namespaces")

LIBRARY = pathlib.Path(numpy_ae.__file__).resolve().parent
PACKAGE = "numpy_ae_student"
LIMIT = 2.0  # seconds per test in the timing cases; 6 tests


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("cheats")
    create_assignment("sparse_autoencoder", root / "blank")
    create_assignment("sparse_autoencoder", root / "key", solutions=True)
    return root


def submission(folders, tmp_path, init="", patches=(), base="blank"):
    """A copy of the blank (or key) assignment with ``init`` appended to the package's ``__init__.py`` and
    ``patches`` = [(file, old, new)] applied."""
    folder = tmp_path / "submission"
    shutil.copytree(folders / base, folder)
    if init:
        path = folder / PACKAGE / "__init__.py"
        path.write_text(path.read_text() + "\n" + textwrap.dedent(init))
    for name, old, new in patches:
        path = folder / PACKAGE / name
        src = path.read_text()
        assert old in src, (name, old)
        path.write_text(src.replace(old, new, 1))
    return folder


def cli_grade(folder, results, *extra):
    """Grade through the command line, as an instructor (or Gradescope's run_autograder) does."""
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "numpy_ae", "assignment", "grade", str(folder), "--json",
                           "--results", str(results), *extra], capture_output=True, text=True, timeout=300,
                          env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]), json.loads(results.read_text())


BACKWARD = "nn/activations.py"  # Sigmoid.backward's blank body
BLANK_BODY = "raise NotImplementedError()"

CHEATS = {
    "no-op tests from the package's __init__": """
        try:
            import numpy_ae.course.exercises as E
            for ex in E.EXERCISES.values():
                ex.tests = tuple((n, p, lambda pkg: None) for n, p, _ in ex.tests)
        except Exception:
            pass
    """,
    "json.dumps says every record passed": """
        import json
        _dumps = json.dumps
        def _fake(obj, *a, **k):
            if isinstance(obj, dict) and "passed" in obj:
                obj = dict(obj, passed=True)
            return _dumps(obj, *a, **k)
        json.dumps = _fake
    """,
    "copy the installed reference's backward": """
        try:
            import numpy_ae.nn.activations as R
            from .nn import activations
            activations.Sigmoid.backward = R.Sigmoid.backward
        except Exception:
            pass
    """,
    "append passing records to the results named in the grader's arguments": """
        import atexit, json, sys
        def _append():
            for i, a in enumerate(sys.argv):
                if "results" in a and i + 1 < len(sys.argv):
                    with open(sys.argv[i + 1], "a") as f:
                        f.write(json.dumps({"name": "sigmoid_backward", "passed": True}) + "\\n")
        atexit.register(_append)
    """,
    "patch the course harness's checks": """
        try:
            import numpy_ae.course.harness as H
            for name in ("check_layer", "check_loss", "check_model", "check_function", "require_close"):
                setattr(H, name, lambda *a, **k: None)
        except Exception:
            pass
    """,
    "patch the gradient checker to always pass": """
        try:
            import numpy_ae.check.gradcheck as G
            class _Ok:
                ok, wrong_blocks = True, []
                def report(self):
                    return ""
            for name in ("check_layer", "check_loss", "check_model", "check_function"):
                setattr(G, name, lambda *a, **k: _Ok())
        except Exception:
            pass
        from .check import gradcheck as mine  # the student's own copy: nobody grades with it
        mine.check_layer = lambda *a, **k: None
    """,
    "monkeypatch the grader's modules": """
        import sys
        for name in list(sys.modules):
            if name.startswith("numpy_ae.") and hasattr(sys.modules[name], "grade"):
                sys.modules[name].grade = lambda *a, **k: {"score": 15}
        try:
            import numpy_ae.course.grade as g
            g.grade = lambda *a, **k: {"score": 15}
        except Exception:
            pass
    """,
}


def read_reference_cheat():
    """Find the reference Sigmoid on disk (the repository or site-packages), exec it, use its backward."""
    return f"""
        import glob, os
        _paths = [{str(LIBRARY / "nn" / "activations.py")!r}]
        _paths += glob.glob("/usr/lib/python3*/*-packages/numpy_ae/nn/activations.py")
        _paths += glob.glob("/usr/local/lib/python3*/*-packages/numpy_ae/nn/activations.py")
        _paths += glob.glob({str(pathlib.Path(sys.prefix))!r} + "/lib/python3*/site-packages/numpy_ae/nn/activations.py")
        for _p in _paths:
            try:
                _src = open(_p).read()
            except OSError:
                continue
            import numpy as _np
            from .nn import activations as _mine, layer as _layer
            _ns = {{"np": _np, "Layer": _layer.Layer, "__name__": "stolen"}}
            try:
                exec(compile(_src.replace("from .layer import", "# from .layer import"), "stolen", "exec"), _ns)
            except Exception:
                continue
            if "Sigmoid" in _ns:
                _mine.Sigmoid.backward = _ns["Sigmoid"].backward
                break
    """


@pytest.mark.parametrize("name", sorted(CHEATS))
def test_each_cheat_scores_what_its_honest_code_is_worth(folders, tmp_path, name):
    result = grade(submission(folders, tmp_path, CHEATS[name]))
    assert result["isolation"] == "namespace"
    assert result["score"] == 0, [(t["name"], t["output"][:200]) for t in result["tests"] if t["passed"]]


def test_reading_the_reference_from_disk_fails_in_the_sandbox_and_would_work_without_it(folders, tmp_path):
    folder = submission(folders, tmp_path, read_reference_cheat())
    sandboxed = {t["name"]: t for t in grade(folder)["tests"]}
    assert not sandboxed["sigmoid_backward"]["passed"]
    exposed = {t["name"]: t for t in grade(folder, isolation="none")["tests"]}
    assert exposed["sigmoid_backward"]["passed"]  # the cheat is real: without the sandbox it scores


def test_a_daemon_cannot_touch_the_results_or_the_json_line(folders, tmp_path):
    """A forked, detached daemon waits for the grader to finish, then overwrites --results and prints a fake
    JSON line. The daemon dies with the sandbox; the results file and the last line are the grader's."""
    results = tmp_path / "results.json"
    marker = f"numpy-ae-daemon-{os.getpid()}"
    init = f"""
        import json, os, sys, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                sys.argv[0] = {marker!r}
                time.sleep(3)
                try:
                    with open({str(results)!r}, "w") as f:
                        json.dump({{"score": 15, "tests": []}}, f)
                except OSError:
                    pass
                print(json.dumps({{"score": 15, "max_score": 15, "tests": []}}), flush=True)
                os._exit(0)
            os._exit(0)
    """
    last, written = cli_grade(submission(folders, tmp_path, init), results)
    time.sleep(4)  # past the daemon's wake-up
    assert last["score"] == 0 and written["score"] == 0
    assert json.loads(results.read_text())["score"] == 0


def test_writing_the_results_file_directly_changes_nothing(folders, tmp_path):
    results = tmp_path / "results.json"
    init = f"""
        import json
        for _p in ({str(results)!r}, "/autograder/results/results.json"):
            try:
                with open(_p, "w") as f:
                    json.dump({{"score": 15}}, f)
            except OSError:
                pass
    """
    last, written = cli_grade(submission(folders, tmp_path, init), results)
    assert last["score"] == 0 and written["score"] == 0


def _count(marker):
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return sum(marker in line for line in out.splitlines())


def test_a_bounded_fork_bomb_ends_with_the_grading(folders, tmp_path):
    marker = f"numpy-ae-bomb-{os.getpid()}"
    init = f"""
        import os, sys, time
        for _ in range(60):
            try:
                if os.fork() == 0:
                    os.setsid()
                    sys.argv[0] = {marker!r}
                    time.sleep(60)
                    os._exit(0)
            except OSError:
                break
    """
    result = grade(submission(folders, tmp_path, init))
    assert result["score"] == 0
    time.sleep(0.5)
    assert _count(marker) == 0


def test_a_memory_hog_fails_its_test_and_the_others_run(folders, tmp_path):
    """np.empty(2**30) (8 GiB, lazily allocated: it would succeed without a limit) in a solved Sigmoid.backward:
    RLIMIT_AS refuses it, that test and the model test that uses Sigmoid fail, the rest pass."""
    hog = "import numpy as np; np.empty(2 ** 30).fill(1.0)\n        return dA * self.A * (1.0 - self.A)"
    folder = submission(folders, tmp_path, patches=[(BACKWARD, "return dA * self.A * (1.0 - self.A)", hog)],
                        base="key")
    tests = {t["name"]: t for t in grade(folder)["tests"]}
    assert "MemoryError" in tests["sigmoid_backward"]["output"]
    assert not tests["sparse_autoencoder_cost"]["passed"]
    assert sum(t["score"] for t in tests.values()) == 15 - 2 - 4  # what the honest rest is worth


def test_os_exit_fails_one_test_and_the_others_run(folders, tmp_path):
    folder = submission(folders, tmp_path, patches=[(BACKWARD, "return dA * self.A * (1.0 - self.A)",
                                                     "import os; os._exit(3)")], base="key")
    tests = {t["name"]: t for t in grade(folder)["tests"]}
    assert "exit status 3" in tests["sigmoid_backward"]["output"]
    assert tests["dense_backward"]["passed"] and tests["squared_error_backward"]["passed"]


def test_every_test_hanging_ends_within_the_limit_plus_a_margin(folders, tmp_path):
    """Every blanked body loops forever, in Python with SIGALRM ignored, or in one C call with signals
    blocked; each test is stopped from outside at its limit, and the whole run takes about 6 limits."""
    init = """
        import signal
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM, signal.SIGTERM, signal.SIGINT])
    """
    folder = submission(folders, tmp_path, init)
    for path in (folder / PACKAGE / "nn").glob("*.py"):
        src = path.read_text()
        if BLANK_BODY in src:  # half the bodies spin in Python, half sleep in C
            spin = "while True:\n            pass" if "penalties" in path.name or "dense" in path.name \
                else "import time; time.sleep(10 ** 6)"
            path.write_text(src.replace(BLANK_BODY, spin))
    start = time.perf_counter()
    result = grade(folder, time_limit=LIMIT)
    took = time.perf_counter() - start
    assert result["score"] == 0
    assert all("time limit" in t["output"] for t in result["tests"]), [t["output"][:80] for t in result["tests"]]
    assert took < 6 * LIMIT + 8.0, took  # 8 s: six fresh sandboxes and the trusted side's own work


def test_the_user_mode_refuses_to_run_when_the_trusted_files_are_readable(folders, tmp_path):
    """Gradescope's mode (a root grader, the child as nobody) checks, inside the sandbox, that the trusted
    package cannot be read; here it can (the repository is world-readable), so grading is refused."""
    if "user" not in isolation_modes():
        pytest.skip("the user mode needs a grader running as root")
    if os.stat(LIBRARY).st_mode & 0o005 == 0:
        pytest.skip("the trusted package is not world-readable here")
    with pytest.raises(ValueError, match="exposes the trusted files"):
        grade(submission(folders, tmp_path), isolation="user")
