r"""``assignment grade``: run an exercise's tests against a student's folder, in a child process.

The tests run in ``python -P -m numpy_ae.course.runner`` (see
:mod:`numpy_ae.course.runner`) with ``PYTHONPATH`` set to the folder holding
the trusted ``numpy_ae`` and the working directory a fresh temporary folder:
the checker and the reference come from the library, the layers under test
from the student's ``numpy_ae_student``. Nothing the student's code does can
crash the grader: an exception, NaN or inf, a wrong shape, an input modified
in place, a print (captured, shown with the test), an endless loop (the per-test
time limit; a process stuck in C code is killed and the remaining tests run
in a fresh one), even ``os._exit``: each becomes a failed test with a message.

One child process runs all the tests of a folder, one after the other, each
under its own time limit (``SIGALRM``); only when a child dies or must be
killed is a new one started, for the tests it did not reach. So a grading
costs one interpreter start (importing numpy and numpy_ae: most of its
1-2 s of CPU) rather than one per test, and a test still cannot take the
others down with it.

Points are all or nothing per test; the score is the sum of the passed
tests' points. :func:`gradescope_results` gives Gradescope's ``results.json``.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

from .exercises import get_exercise
from .package import read_assignment

__all__ = ["grade", "format_table", "gradescope_results"]

STARTUP_SECONDS = 30.0  # a child's allowance to import numpy and the package, on a loaded machine


def _trusted_root():
    import numpy_ae

    return str(pathlib.Path(numpy_ae.__file__).resolve().parents[1])


def _run_child(folder, manifest, ex, names, results_path, time_limit, workdir):
    spec = {"folder": str(folder), "package": manifest["package"], "modules": manifest["modules"],
            "exercise": ex.name, "tests": names, "results": str(results_path), "time_limit": time_limit}
    spec_path = pathlib.Path(workdir) / "spec.json"
    spec_path.write_text(json.dumps(spec))
    env = dict(os.environ)
    env["PYTHONPATH"] = _trusted_root()
    env.pop("PYTHONSTARTUP", None)
    env["MPLBACKEND"] = "Agg"
    budget = STARTUP_SECONDS + time_limit * len(names) + 5.0
    try:
        proc = subprocess.run([sys.executable, "-P", "-m", "numpy_ae.course.runner", str(spec_path)], cwd=workdir,
                              env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=budget)
        return proc.returncode, proc.stderr.decode(errors="replace")[-2000:]
    except subprocess.TimeoutExpired:
        return None, f"killed after {budget:.0f} s"


def _read_results(path):
    records = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                r = json.loads(line)
                records[r["name"]] = r
            except (ValueError, KeyError, TypeError):
                continue
    return records


def grade(folder, time_limit=None):
    """Grade the assignment in ``folder``: a dict ``{"exercise", "score", "max_score", "tests": [...]}``.

    Each test: ``{"name", "score", "max_score", "passed", "output", "seconds"}``. ValueError when
    ``folder`` is not an assignment (see :func:`numpy_ae.course.package.read_assignment`).
    """
    folder = pathlib.Path(folder).resolve()
    manifest = read_assignment(folder)
    trusted = pathlib.Path(_trusted_root()) / "numpy_ae"
    if folder == trusted or folder in trusted.parents:
        raise ValueError(f"the assignment folder {str(folder)!r} contains the numpy_ae that grades it "
                         f"({trusted}): grade a copy of the student's folder placed elsewhere")
    ex = get_exercise(manifest["exercise"])
    limit = float(time_limit if time_limit is not None else ex.time_limit)
    if not limit > 0:
        raise ValueError(f"time_limit must be a number of seconds > 0; got {time_limit!r}")
    names = [name for name, _, _ in ex.tests]
    records = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="numpy_ae_grade_") as work:
        results_path = pathlib.Path(work) / "results.jsonl"
        pending = names
        while pending:
            status, err = _run_child(folder, manifest, ex, pending, results_path, limit, work)
            records = _read_results(results_path)
            done = [n for n in pending if n in records]
            rest = [n for n in pending if n not in records]
            if rest:  # the child died or was killed during rest[0]: blame that test, go on with the others
                why = (f"time limit: the test did not finish within {limit:g} s and its process was killed "
                       f"(an endless loop?)" if status is None
                       else f"the test process died (exit status {status}) while running this test: {err.strip()}")
                records[rest[0]] = {"name": rest[0], "passed": False, "message": why, "printed": "", "seconds": None}
                with open(results_path, "a") as f:
                    f.write(json.dumps(records[rest[0]]) + "\n")
                rest = rest[1:]
            if not done and not rest:
                break
            pending = rest
    tests = []
    for name, points, _ in ex.tests:
        r = records[name]
        output = "passed" if r["passed"] else r["message"]
        if r.get("printed"):
            output += f"\n(your code printed: {r['printed'][-500:]!r})"
        tests.append({"name": name, "score": points if r["passed"] else 0, "max_score": points,
                      "passed": bool(r["passed"]), "output": output, "seconds": r.get("seconds")})
    return {"exercise": ex.name, "folder": str(folder), "score": sum(t["score"] for t in tests),
            "max_score": ex.max_score, "tests": tests, "seconds": round(time.perf_counter() - start, 2)}


def _first_line(text):
    return text.splitlines()[0] if text else ""


def format_table(result):
    """A table of tests and points, then the message of every failed test."""
    width = max(len(t["name"]) for t in result["tests"])
    lines = [f"{'test':<{width}}  points  result", f"{'-' * width}  ------  ------"]
    for t in result["tests"]:
        status = "ok" if t["passed"] else _first_line(t["output"])
        lines.append(f"{t['name']:<{width}}  {t['score']:>2}/{t['max_score']:<3}  {status[:110]}")
    lines.append(f"{'total':<{width}}  {result['score']:>2}/{result['max_score']:<3}")
    failed = [t for t in result["tests"] if not t["passed"]]
    for t in failed:
        lines += ["", f"== {t['name']}", t["output"]]
    return "\n".join(lines)


def gradescope_results(result, visibility="visible"):
    """Gradescope's ``results.json``: ``{"score", "tests": [{"name", "score", "max_score", "output", "visibility"}]}``."""
    return {"score": result["score"], "max_score": result["max_score"],
            "tests": [{"name": t["name"], "score": t["score"], "max_score": t["max_score"], "output": t["output"],
                       "visibility": visibility} for t in result["tests"]]}
