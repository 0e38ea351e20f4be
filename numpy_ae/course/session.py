r"""The grader's trusted side of the boundary: the student's sandboxed process, and requests it answers in data.

:class:`Session` starts :mod:`numpy_ae.course.sandbox` (which isolates itself and
runs :mod:`numpy_ae.course.child`) in its own process session, with resource
limits, and sends it requests over two pipes. The student's objects never
leave that process: this side holds proxies that name them by handle
(:mod:`numpy_ae.course.remote`), and every answer is decoded as data (arrays, numbers,
strings, lists; ``allow_pickle=False``; sizes checked before reading). Each
request waits at most until the current test's deadline, measured here, on
this side's clock: a student who ignores ``SIGALRM`` or sits in a C call
is killed from outside (``SIGKILL`` to the whole process group and, in the
namespace mode, everything in its PID namespace) when the deadline passes.

What the sandbox hides and how (:func:`isolation_modes`): the ``namespace``
mode (Linux with unprivileged user namespaces) shows the child a root made of
read-only system folders, numpy and scipy, and the student's package, with no
installed numpy_ae, no home folder, no repository and no network; the
``user`` mode (a grader running as root without namespaces, as in Gradescope's
containers) runs the child as ``nobody`` and requires that it cannot read the
trusted package (checked inside the sandbox before the child starts); the
``none`` mode has limits and a session only, and says so in every result.
"""
from __future__ import annotations

import glob
import importlib.util
import json
import os
import pathlib
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from . import child as codec
from .sandbox import EXPOSED

__all__ = ["Session", "StudentError", "TimeLimit", "ChildDied", "isolation_modes", "SessionRefused",
           "copy_regular_files"]

SANDBOX = pathlib.Path(__file__).with_name("sandbox.py")
CHILD = pathlib.Path(__file__).with_name("child.py")
SITE_PACKAGES = ("numpy", "numpy.libs", "scipy", "scipy.libs", "threadpoolctl.py")  # what the child may import
MEMORY = 2 * 2 ** 30          # address space of the student's process (numpy and scipy need about 0.6 GiB)
FILE_SIZE = 16 * 2 ** 20      # largest file it may write
PROCESSES = 64                # processes it may start (enforced for a uid other than root)
NOBODY = 65534


class StudentError(Exception):
    """The student's code raised; the message names their function, file and line."""


class TimeLimit(Exception):
    """The student's process did not answer before the deadline; it was killed."""


class ChildDied(Exception):
    """The student's process ended (``os._exit``, a crash, a resource limit) while a request was pending."""


class SessionRefused(Exception):
    """The sandbox could not be set up as asked (or exposed a file it must hide); nothing was graded."""


# ------------------------------------------------------------------ isolation
def _trusted_package():
    return pathlib.Path(__file__).resolve().parents[1]


def isolation_modes():
    """The modes this machine can offer, best first (``"namespace"``, ``"user"``, ``"none"``); none at all on
    Windows, which has no sessions or resource limits for the student's process (use WSL 2)."""
    if os.name != "posix":
        return []
    modes = []
    if sys.platform.startswith("linux") and os.path.exists("/proc/self/ns/user"):
        modes.append("namespace")
    if hasattr(os, "setuid") and os.geteuid() == 0:
        modes.append("user")
    return modes + ["none"]


def _site_dirs():
    """Where each of :data:`SITE_PACKAGES` lives (numpy's folder, its bundled libraries...)."""
    found = {}
    for name in ("numpy", "scipy", "threadpoolctl"):
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin:
            continue
        origin = pathlib.Path(spec.origin)
        where = origin.parent.parent if origin.name == "__init__.py" else origin.parent
        for entry in SITE_PACKAGES:
            if (where / entry).exists() and entry.split(".")[0] == name:
                found[entry] = where / entry
    return found


def _python():
    return os.path.realpath(sys.executable)


def _system_binds():
    binds, links = [], []
    for top in ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/opt/homebrew"):
        if os.path.islink(top):
            links.append([top, os.readlink(top)])
        elif os.path.isdir(top):
            binds.append([top, top, False])
    prefix = os.path.realpath(sys.base_prefix)
    if not any(prefix == b[0] or prefix.startswith(b[0] + "/") for b in binds):
        binds.append([prefix, prefix, False])
    exe_dir = os.path.dirname(_python())
    if not any(exe_dir == b[0] or exe_dir.startswith(b[0] + "/") for b in binds):
        binds.append([exe_dir, exe_dir, False])
    for dev in ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"):
        binds.append([dev, dev, dev in ("/dev/null",)])
    # every site-packages / dist-packages folder inside what is bound is emptied: numpy_ae may be installed there
    empty = sorted({p for pattern in ("/usr/lib/python3*/*-packages", "/usr/local/lib/python3*/*-packages",
                                      prefix + "/lib/python3*/*-packages", "/usr/lib/python3/dist-packages")
                    for p in glob.glob(pattern)})
    return binds, links, empty


# ------------------------------------------------------------------ the session
class Session:
    """One sandboxed student process, and the requests it answers.

    Parameters
    ----------
    folder : path
        The student's assignment folder; its ``package`` is copied (regular files only) into a scratch folder.
    package : str
        The package's name (``numpy_ae_student``).
    mode : str
        ``"auto"`` (the best of :func:`isolation_modes`), ``"namespace"``, ``"user"`` or ``"none"``.
    cpu_seconds : float
        ``RLIMIT_CPU`` of the student's process.
    require_isolation : bool
        Never fall back to ``"none"``: raise SessionRefused instead.
    """

    def __init__(self, folder, package, mode="auto", cpu_seconds=600, require_isolation=False):
        self.package, self.cpu_seconds = package, int(max(cpu_seconds, 1)) + 1
        self.deadline = None
        self.scratch = pathlib.Path(tempfile.mkdtemp(prefix="numpy_ae_sandbox_"))
        self.student = self.scratch / "student"
        self.work = self.scratch / "work"
        self.work.mkdir()
        copy_regular_files(pathlib.Path(folder) / package, self.student / package)
        shutil.copy(SANDBOX, self.scratch / "sandbox.py")
        shutil.copy(CHILD, self.work / "child.py")
        self.proc, self.returncode = None, None
        modes = isolation_modes() if mode == "auto" else [mode]
        if require_isolation:
            modes = [m for m in modes if m != "none"]
        self.refusals = []  # why a stronger mode was not used ("auto" falls back to the next)
        for m in modes:
            try:
                self._start(m)
                self.mode = m
                return
            except SessionRefused as exc:
                self.refusals.append(str(exc))
        self.close()
        raise SessionRefused("; ".join(self.refusals) or f"no sandbox mode is available (asked for {mode!r}, "
                             f"require_isolation={require_isolation})")

    # the student's process --------------------------------------------------------
    def _config(self, mode, child_read, child_write):
        env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg",
               "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        limits = {"AS": MEMORY, "CPU": self.cpu_seconds, "FSIZE": FILE_SIZE, "NOFILE": 256, "NPROC": PROCESSES}
        hidden = [str(_trusted_package()), str(_trusted_package().parent / ".git")]
        site_dirs = _site_dirs()
        if mode == "namespace":
            binds, links, empty = _system_binds()
            binds += [[str(p), f"/site/{name}", False] for name, p in site_dirs.items()]
            binds += [[str(self.student), "/student", False], [str(self.work), "/work", True]]
            (self.scratch / "root").mkdir(exist_ok=True)
            return {"mode": mode, "root": str(self.scratch / "root"), "binds": binds, "links": links, "empty": empty,
                    "cwd": "/work", "limits": limits, "hidden": hidden, "pass_fds": [child_read, child_write],
                    "env": dict(env, HOME="/work"),
                    "argv": [_python(), "-I", "-S", "/work/child.py", str(child_read), str(child_write),
                             self.package, "/student", "/site"]}
        site = self.scratch / "site"
        site.mkdir(exist_ok=True)  # a weaker mode tried after a stronger one reuses it
        for name, p in site_dirs.items():
            if not (site / name).is_symlink():
                (site / name).symlink_to(p)
        cfg = {"mode": mode, "cwd": str(self.work), "limits": limits, "hidden": [] if mode == "none" else hidden,
               "pass_fds": [child_read, child_write], "env": dict(env, HOME=str(self.work)),
               "argv": [_python(), "-I", "-S", str(self.work / "child.py"), str(child_read), str(child_write),
                        self.package, str(self.student), str(site)]}
        if mode == "user":
            cfg.update(uid=NOBODY, gid=NOBODY)
            for path in (self.scratch, self.student, site):  # readable by nobody; work writable
                path.chmod(0o755)
            self.work.chmod(0o777)
            (self.work / "child.py").chmod(0o644)  # copied from a root-only install: copy keeps its mode
            for p in self.student.rglob("*"):
                p.chmod(0o755 if p.is_dir() else 0o644)
        return cfg

    def _start(self, mode):
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        cfg = self._config(mode, to_child_r, from_child_w)
        cfg_path = self.scratch / f"sandbox-{mode}.json"
        cfg_path.write_text(json.dumps(cfg))
        self.stderr = open(self.scratch / f"stderr-{mode}.txt", "w+b")
        try:
            self.proc = subprocess.Popen([_python(), "-I", "-S", str(self.scratch / "sandbox.py"), str(cfg_path)],
                                         pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=self.stderr, start_new_session=True,
                                         cwd=self.scratch)
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self.to_child, self.from_child = to_child_w, from_child_r
        self.deadline = time.monotonic() + 60.0
        try:  # the first request proves the sandbox works: numpy imported, nothing hidden readable
            self.request({"op": "ping"})
        except (ChildDied, TimeLimit) as exc:
            self.kill()
            status, text = self.returncode, self._stderr_tail()
            if status == EXPOSED:
                raise SessionRefused(f"the {mode!r} sandbox exposes the trusted files to the student: {text}") from exc
            raise SessionRefused(f"the {mode!r} sandbox could not start ({exc}): {text}") from exc

    def _stderr_tail(self):
        try:
            self.stderr.seek(0)
            return self.stderr.read()[-1500:].decode(errors="replace").strip()
        except (OSError, ValueError):
            return ""

    # requests -------------------------------------------------------------------
    def request(self, req):
        """Send ``req``; return ``(value, pulled, printed)``, or raise StudentError / TimeLimit / ChildDied."""
        if self.proc is None:
            raise ChildDied("the student's process is not running")
        try:
            codec.send(self.to_child, codec.encode(req))
            answer = codec.decode(codec.receive(self.from_child, self._read))
        except (BrokenPipeError, EOFError) as exc:
            status = self.proc.wait(timeout=5) if self.proc.poll() is None else self.proc.returncode
            self.kill()
            raise ChildDied(_exit_text(status) + (f"; {self._stderr_tail()}" if self._stderr_tail() else "")) from exc
        except (ValueError, TypeError, KeyError, OSError) as exc:  # a malformed answer: the student's doing
            self.kill()
            raise ChildDied(f"the student's process sent a malformed answer ({exc})") from exc
        if not isinstance(answer, dict):
            self.kill()
            raise ChildDied("the student's process sent a malformed answer")
        printed = str(answer.get("printed", ""))[-2000:]
        if "error" in answer:
            raise StudentError(str(answer["error"]), printed)
        self.after = answer.get("after") if isinstance(answer.get("after"), dict) else {}
        return answer.get("ok"), list(answer.get("pulled") or ()), printed

    def _read(self, fd, n):
        remaining = None if self.deadline is None else self.deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            self.kill()
            raise TimeLimit()
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            self.kill()
            raise TimeLimit()
        return os.read(fd, n)

    # the end ----------------------------------------------------------------------
    def kill(self):
        """SIGKILL the student's whole process group (its PID namespace with it, in the namespace mode)."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.returncode = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if getattr(self, "mode", None) == "user":
            _kill_uid(NOBODY)
        for fd in (getattr(self, "to_child", None), getattr(self, "from_child", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.to_child = self.from_child = None
        self.proc = None

    def close(self):
        self.kill()
        if getattr(self, "stderr", None) is not None:
            self.stderr.close()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _exit_text(status):
    if status is None:
        return "it stopped answering"
    if status < 0:
        return f"killed by signal {-status}, {signal.Signals(-status).name}"
    return f"exit status {status}"


def _kill_uid(uid):
    """Kill every process of ``uid`` (the sandbox's own user: nothing else runs as it): a forked helper
    takes that uid and sends SIGKILL to every process it may signal (``kill(-1)``), on Linux and macOS."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


SKIPPED = {"__pycache__", "__MACOSX", ".ipynb_checkpoints"}  # never copied with a student's package


def copy_regular_files(src, dst, limit=50 * 2 ** 20, what="the student's package"):
    """Copy the folder ``src`` to ``dst``: regular files and folders only (a symlink could point at the
    reference), no caches or ``.pyc``; ValueError past ``limit`` bytes, naming ``what``."""
    total = 0
    dst.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_symlink() or SKIPPED & set(rel.parts) or path.suffix == ".pyc":
            continue
        if path.is_dir():
            (dst / rel).mkdir(parents=True, exist_ok=True)
        elif path.is_file():
            total += path.stat().st_size
            if total > limit:
                raise ValueError(f"{what} is over {limit // 2 ** 20} MB: submit only its source files")
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dst / rel)
