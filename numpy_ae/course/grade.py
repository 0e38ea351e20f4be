r"""``assignment grade``: the exercise's tests, run by the trusted grader against a student's sandboxed code.

The grader is a security boundary (the student's code is assumed hostile):

* the tests, the gradient checker, the reference values and every verdict
  live in this process, which never imports or runs the student's code;
* the student's code runs only in a child process that this side starts in
  its own session, sandboxed (:mod:`numpy_ae.course.sandbox`: on Linux, its
  own namespaces, where no numpy_ae and no reference solution can be imported
  or read; resource limits everywhere), and the two exchange data only
  (:mod:`numpy_ae.course.remote`);
* each test has a deadline on this side's clock: a child that ignores its
  signals, hangs in C code or forks is killed from outside, as a whole, and
  the next test gets a fresh child;
* this side alone writes the results, after every child is gone.

So nothing the student's code does (an exception, NaN, a wrong shape, a print,
an endless loop, ``os._exit``, patching any module it can reach, writing files,
forking daemons) changes a score other than by failing its own tests.

Points are all or nothing per test; the score is the sum of the passed tests'
points. :func:`gradescope_results` gives Gradescope's ``results.json``.
"""
from __future__ import annotations

import pathlib
import sys
import time

import numpy as np

from .exercises import get_exercise
from .harness import Failed
from .package import read_assignment
from .remote import Student
from .session import ChildDied, Session, SessionRefused, StudentError, TimeLimit, isolation_modes

__all__ = ["grade", "format_table", "gradescope_results", "ISOLATION"]

ISOLATION = ("auto", "namespace", "user", "none")


def _run_test(student, fn, limit):
    """``(passed, message)`` of one test: the trusted test ``fn`` against the student's package."""
    try:
        student.start(time.monotonic() + limit)
    except StudentError as exc:
        return False, f"could not import your package: {exc}", True
    except TimeLimit:
        return False, (f"could not import your package: time limit: importing it took more than {limit:g} s (an "
                       "endless loop at module level?)"), True
    except ChildDied as exc:
        return False, f"could not import your package: {exc}", True
    try:
        with np.errstate(all="ignore"):
            fn(student.pkg)
        return True, "", False
    except Failed as exc:
        return False, str(exc), False
    except StudentError as exc:
        return False, str(exc), False
    except TimeLimit:
        student.kill()
        return False, f"time limit: the test did not finish within {limit:g} s and its process was killed " \
                      "(an endless loop?)", False
    except ChildDied as exc:
        student.kill()
        return False, f"the test process died ({exc}) while running this test", False
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
        # the trusted test tripped over what the student's code returned
        return False, f"error (outside your package, called with your code's results): {type(exc).__name__}: " \
                      f"{exc}", False


def grade(folder, time_limit=None, isolation="auto", require_isolation=False):
    """Grade the assignment in ``folder``: a dict ``{"exercise", "score", "max_score", "tests": [...], "isolation"}``.

    Each test: ``{"name", "score", "max_score", "passed", "output", "seconds"}``. ``isolation`` is one of
    :data:`ISOLATION` (``"auto"``: the strongest this machine can set up; the mode used is in the result, with
    ``isolation_notes``, why stronger ones were not used). ``require_isolation``: refuse rather than grade in
    the ``"none"`` mode.
    ValueError when ``folder`` is not an assignment (see :func:`numpy_ae.course.package.read_assignment`) or
    the sandbox cannot be set up as asked.
    """
    folder = pathlib.Path(folder).resolve()
    manifest = read_assignment(folder)
    if isolation not in ISOLATION:
        raise ValueError(f"isolation must be one of {list(ISOLATION)}; got {isolation!r}")
    if not isolation_modes():
        raise ValueError("grading needs a POSIX system (process sessions, resource limits); this is "
                         f"{sys.platform}: grade on Linux or macOS, or in WSL 2")
    if require_isolation and isolation == "none":
        raise ValueError("require_isolation=True contradicts isolation='none'")
    if isolation != "auto" and isolation not in isolation_modes():
        raise ValueError(f"isolation={isolation!r} is not available here; this machine offers {isolation_modes()}")
    ex = get_exercise(manifest["exercise"])
    limit = float(time_limit if time_limit is not None else ex.time_limit)
    if not limit > 0:
        raise ValueError(f"time_limit must be a number of seconds > 0; got {time_limit!r}")
    cpu = limit * len(ex.tests) + 30
    modes, notes = [], []

    def start():  # the first session finds the mode; the next ones (after a kill) reuse it
        try:
            session = Session(folder, manifest["package"], mode=modes[0] if modes else isolation, cpu_seconds=cpu,
                              require_isolation=require_isolation)
        except SessionRefused as exc:
            raise ValueError(f"cannot grade: {exc}") from exc
        if not modes:
            modes.append(session.mode)
            notes.extend(session.refusals)
        return session

    student = Student(start, manifest["modules"])
    tests, started = [], time.perf_counter()
    import_failure = None
    try:
        for name, points, fn in ex.tests:
            t0 = time.perf_counter()
            printed = ""
            if import_failure is not None:  # the same import would fail again: one message for every test
                passed, message = False, import_failure
            else:
                passed, message, failed_import = _run_test(student, fn, limit)
                printed = student.printed
                if failed_import:
                    import_failure = message
                    student.kill()
            output = "passed" if passed else message
            if printed:
                output += f"\n(your code printed: {printed[-500:]!r})"
            tests.append({"name": name, "score": points if passed else 0, "max_score": points, "passed": passed,
                          "output": output, "seconds": round(time.perf_counter() - t0, 3)})
    finally:
        student.kill()  # every child is gone before a result leaves this function
    return {"exercise": ex.name, "folder": str(folder), "score": sum(t["score"] for t in tests),
            "max_score": ex.max_score, "tests": tests, "isolation": modes[0] if modes else isolation,
            "isolation_notes": notes,
            "seconds": round(time.perf_counter() - started, 2)}


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
    if result.get("isolation") == "none":
        lines.append("WARNING: graded without a sandbox (isolation 'none'): the student's code could read the "
                     "reference files on this machine" + "".join(f"\n  ({n})" for n in result.get("isolation_notes", ())))
    failed = [t for t in result["tests"] if not t["passed"]]
    for t in failed:
        lines += ["", f"== {t['name']}", t["output"]]
    return "\n".join(lines)


def gradescope_results(result, visibility="visible"):
    """Gradescope's ``results.json``: ``{"score", "tests": [{"name", "score", "max_score", "output", "visibility"}]}``."""
    return {"score": result["score"], "max_score": result["max_score"],
            "tests": [{"name": t["name"], "score": t["score"], "max_score": t["max_score"], "output": t["output"],
                       "visibility": visibility} for t in result["tests"]]}
