r"""The grader's sandbox launcher: ``python -I -S sandbox.py CONFIG.json``; it starts the student's process.

A standalone script (the standard library only; it never imports numpy_ae): the
grader (:mod:`numpy_ae.course.remote`) copies it into a scratch folder and runs it
in a new process session (``setsid``). It isolates itself, sets the resource
limits, then runs the child (:mod:`numpy_ae.course.child`, also copied) with
``execv``. The configuration's ``mode`` is one of:

``"namespace"`` (Linux, when unprivileged user namespaces are available)
    New user, mount, PID, network and IPC namespaces. The child sees a root
    file system made of read-only binds of what it needs (the system's
    ``/usr``, ``/etc``, the Python installation with its ``site-packages``
    emptied, numpy and scipy under ``/site``, the student's package under
    ``/student``) and a small writable ``/tmp`` and ``/work``: no home folder,
    no repository, no installed numpy_ae, no network. The process that runs the
    student's code is PID 1 of its PID namespace, so when it ends (or is
    killed) every process it forked ends with it, daemons included. It runs as
    an unprivileged user inside the namespace, so it cannot undo the mounts.
``"user"`` (Linux or macOS, when the grader runs as root: Gradescope's containers)
    The child drops to an unprivileged uid and gid; the trusted files must be
    unreadable to it (the Gradescope ``setup.sh`` installs numpy_ae in a
    root-only folder). The grader kills every process of that uid when a
    session ends.
``"none"``
    Limits and a session, no isolation of the file system: for an
    instructor's own machine, and reported as such in every result.

In every mode, before ``execv``: resource limits (address space, CPU
seconds, file size, processes, open files), and a self-check that none of the
configuration's ``hidden`` paths can be read (exit status :data:`EXPOSED` and
a message on stderr if one can: the grader then refuses to grade).
"""
import ctypes
import ctypes.util
import json
import os
import sys

try:  # POSIX only; imported before the uid drop (an unprivileged user may not read the library)
    import resource
except ImportError:  # Windows: the grader refuses to grade there (numpy_ae.course.grade)
    resource = None

EXPOSED = 97   # exit status: a hidden path is readable from inside the sandbox
FAILED = 98    # exit status: the sandbox could not be set up

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
CLONE_NEWNET, CLONE_NEWIPC = 0x40000000, 0x08000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
_ST_FLAGS = ((os.ST_RDONLY, MS_RDONLY), (os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV),
             (getattr(os, "ST_NOEXEC", 8), MS_NOEXEC)) if hasattr(os, "ST_RDONLY") else ()
INSIDE_UID = 1000  # the child's uid inside the user namespace: not root, so execv clears its capabilities

_libc = None


def _c(name, *args):
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if getattr(_libc, name)(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{name}{args[:2]}: {os.strerror(err)}")


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _mount(src, dst, fstype=None, flags=0, data=None):
    enc = (lambda s: None if s is None else s.encode())
    _c("mount", enc(src), enc(dst), enc(fstype), ctypes.c_ulong(flags), enc(data))


def _bind(src, dst, writable=False):
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        open(dst, "a").close()
    _mount(src, dst, None, MS_BIND | MS_REC)
    if not writable:  # keep the flags the kernel locked (nosuid, nodev...), add read-only
        locked = 0
        st = os.statvfs(dst)
        for st_flag, ms_flag in _ST_FLAGS:
            if st.f_flag & st_flag:
                locked |= ms_flag
        _mount(None, dst, None, MS_REMOUNT | MS_BIND | MS_RDONLY | locked)


def enter_namespace(cfg):
    """Unshare, build the new root from ``cfg["binds"]``, ``cfg["empty"]``, ``cfg["links"]``; chroot into it."""
    uid, gid = os.getuid(), os.getgid()
    _c("unshare", CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC)
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{INSIDE_UID} {uid} 1")
    _write("/proc/self/gid_map", f"{INSIDE_UID} {gid} 1")
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    root = cfg["root"]
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=755")
    for src, dst, writable in cfg["binds"]:
        _bind(src, root + dst, writable)
    for path in cfg["empty"]:  # e.g. site-packages inside a bound Python installation
        if os.path.isdir(root + path):
            _mount("tmpfs", root + path, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=1k,mode=755")
    for name, target in cfg["links"]:
        os.symlink(target, root + name)
    os.makedirs(root + "/tmp", exist_ok=True)
    _mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    os.chroot(root)
    os.chdir("/")


def drop_user(cfg):
    os.setgroups([])
    os.setgid(cfg["gid"])
    os.setuid(cfg["uid"])


def set_limits(limits):
    names = {"AS": resource.RLIMIT_AS, "CPU": resource.RLIMIT_CPU, "FSIZE": resource.RLIMIT_FSIZE,
             "NPROC": resource.RLIMIT_NPROC, "NOFILE": resource.RLIMIT_NOFILE}
    for key, value in limits.items():
        if key in names:
            try:
                resource.setrlimit(names[key], (int(value), int(value)))
            except (ValueError, OSError):  # e.g. RLIMIT_AS on macOS: record, go on
                sys.stderr.write(f"sandbox: could not set RLIMIT_{key}\n")


def exposed(paths):
    """The hidden paths this process can still read (it must be none)."""
    found = []
    for path in paths:
        try:
            if os.path.isdir(path):
                os.listdir(path)
            else:
                open(path, "rb").close()
            found.append(path)
        except OSError:
            pass
    return found


def main(config_path):
    with open(config_path) as f:
        cfg = json.load(f)
    try:
        if cfg["mode"] == "namespace":
            enter_namespace(cfg)
            pid = os.fork()  # the child is PID 1 of the new PID namespace
            if pid:
                for fd in cfg["pass_fds"]:
                    os.close(fd)
                _, status = os.waitpid(pid, 0)
                os._exit(os.waitstatus_to_exitcode(status) % 256)
        elif cfg["mode"] == "user":
            drop_user(cfg)
        os.chdir(cfg["cwd"])
        set_limits(cfg["limits"])
    except OSError as exc:
        sys.stderr.write(f"sandbox: could not set up mode {cfg['mode']!r}: {exc}\n")
        os._exit(FAILED)
    leaks = exposed(cfg["hidden"])
    if leaks:
        sys.stderr.write(f"sandbox: the student's process can read {leaks}: refusing to run it\n")
        os._exit(EXPOSED)
    os.environ.clear()
    os.environ.update(cfg["env"])
    os.execv(cfg["argv"][0], cfg["argv"])


if __name__ == "__main__":
    main(sys.argv[1])
