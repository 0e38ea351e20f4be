r"""The grader's child process: ``python -P -m numpy_ae.course.runner SPEC.json``.

Run by :mod:`numpy_ae.course.grade`, never by hand. It imports the TRUSTED
``numpy_ae`` first (the checker, the reference values; started with ``-P`` and
``PYTHONPATH`` set to the trusted library, so nothing in the student's folder
can stand in for it), then puts the student's folder first on ``sys.path``,
imports the student package and checks that every module really comes from
that folder. Then it runs the named tests in order and appends one JSON line
per test to the results file:

``{"name", "passed", "message", "printed", "seconds"}``

Per test: a time limit (``SIGALRM`` raising inside Python code; the parent
kills the process as a backstop for code stuck in C), stdout and stderr
captured (a student's prints never reach the grader's output), every
exception turned into a message naming the student's function and line.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import json
import pathlib
import signal
import sys
import time
import traceback


class _Tail(io.TextIOBase):
    """A text stream that keeps only the last ``limit`` characters written (a student's print in an endless
    loop must not fill the memory), and counts them all."""

    def __init__(self, limit=2000):
        self.limit, self.text, self.count = limit, "", 0

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        self.count += len(s)
        self.text = (self.text + s)[-self.limit:]
        return len(s)

    def getvalue(self):
        return self.text


class TimeLimit(BaseException):
    """Raised by the alarm: a BaseException, so a student's ``except Exception`` cannot swallow it."""


def _on_alarm(signum, frame):
    raise TimeLimit()


def _student_frame(tb, root):
    """The innermost traceback frame in the student's folder: ``(qualname, file, line, code)`` or None."""
    found = None
    for frame, lineno in traceback.walk_tb(tb):
        path = pathlib.Path(frame.f_code.co_filename)
        try:
            rel = path.resolve().relative_to(root)
        except (ValueError, OSError):
            continue
        code = ""
        try:
            code = path.read_text().splitlines()[lineno - 1].strip()
        except (OSError, IndexError):
            pass
        found = (getattr(frame.f_code, "co_qualname", frame.f_code.co_name), str(rel), lineno, code)
    return found


def _describe(exc, root):
    where = _student_frame(exc.__traceback__, root)
    if isinstance(exc, NotImplementedError) and where:
        return f"not implemented: {where[0]} ({where[1]}, line {where[2]}) raises NotImplementedError"
    if isinstance(exc, NotImplementedError):
        return f"not implemented: {exc}"
    text = f"{type(exc).__name__}: {exc}"
    if where:
        return f"error in {where[0]} ({where[1]}, line {where[2]}: `{where[3]}`): {text}"
    return f"error (outside your package, called with your code's results): {text}"


def import_student(folder, package, modules):
    """Import the student's package from ``folder``; each module must live inside it.

    ``modules`` are dotted paths (``nn.dense``); importing one binds it to its parent package, so that a
    test reaches it as ``pkg.nn.dense``."""
    folder = pathlib.Path(folder).resolve()
    sys.path.insert(0, str(folder))
    for name in [m for m in list(sys.modules) if m == package or m.startswith(package + ".")]:
        del sys.modules[name]
    pkg = importlib.import_module(package)
    for module in modules:
        importlib.import_module(f"{package}.{module}")
    for name, mod in list(sys.modules.items()):
        if name == package or name.startswith(package + "."):
            where = pathlib.Path(getattr(mod, "__file__", "") or "").resolve()
            if folder not in where.parents:
                raise ImportError(f"{name} was imported from {where}, not from the assignment folder {folder}")
    return pkg


def main(spec_path):
    spec = json.loads(pathlib.Path(spec_path).read_text())
    import numpy as np

    from . import exercises  # trusted: imported before the student's folder is on sys.path
    import numpy_ae

    trusted = pathlib.Path(numpy_ae.__file__).resolve().parent
    root = pathlib.Path(spec["folder"]).resolve()
    ex = exercises.EXERCISES[spec["exercise"]]
    out = open(spec["results"], "a")

    def emit(record):
        out.write(json.dumps(record) + "\n")
        out.flush()

    if root == trusted or root in trusted.parents:
        raise SystemExit(f"the trusted numpy_ae ({trusted}) lies inside the assignment folder {root}: "
                         "refusing to grade")
    signal.signal(signal.SIGALRM, _on_alarm)
    captured = _Tail()
    try:
        signal.setitimer(signal.ITIMER_REAL, float(spec["time_limit"]))  # module-level code runs on import
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            pkg = import_student(root, spec["package"], spec["modules"])
        signal.setitimer(signal.ITIMER_REAL, 0.0)
    except BaseException as exc:  # noqa: B902  (anything: a syntax error, an import-time exit, ...)
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        why = (f"time limit: importing it took more than {spec['time_limit']:g} s (an endless loop at module "
               "level?)" if isinstance(exc, TimeLimit) else _describe(exc, root))
        msg = f"could not import your package: {why}"
        for name in spec["tests"]:
            emit({"name": name, "passed": False, "message": msg, "printed": captured.getvalue()[-2000:],
                  "seconds": 0.0})
        return 0
    for name in spec["tests"]:
        _, fn = ex.test(name)
        captured = _Tail()
        start = time.perf_counter()
        passed, message = False, ""
        np.seterr(all="ignore")
        try:
            signal.setitimer(signal.ITIMER_REAL, float(spec["time_limit"]))
            with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
                fn(pkg)
            passed = True
        except TimeLimit:
            message = f"time limit: the test did not finish within {spec['time_limit']:g} s (an endless loop?)"
        except exercises.Failed as exc:
            message = str(exc)
        except RecursionError as exc:
            message = _describe(exc, root)
        except BaseException as exc:  # noqa: B902  (SystemExit, KeyboardInterrupt from student code included)
            message = _describe(exc, root)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0.0)
        emit({"name": name, "passed": passed, "message": message, "printed": captured.getvalue()[-2000:],
              "seconds": round(time.perf_counter() - start, 3)})
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
