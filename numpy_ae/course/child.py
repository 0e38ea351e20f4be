r"""The student's side of the grader: ``python -I -S child.py READ_FD WRITE_FD PACKAGE ROOT``.

(``SITE``, a sixth argument, is where numpy lives inside the sandbox.)
A standalone script (the standard library and numpy only; it never imports
numpy_ae): the grader copies it into the sandbox (:mod:`numpy_ae.course.sandbox`)
and exchanges messages with it over two pipes. It imports the student's
package from ``ROOT`` and then does what each request asks, on the student's
objects only:

``{"op": "import", "modules": [...]}``
    import the package and the listed modules (each must come from ``ROOT``);
``{"op": "call", "target": T, "attr": name, "args": [...], "kwargs": {...}}``
    call ``name`` on a module of the package (``T = ["mod", "nn.dense"]``) or
    on an object made earlier (``T = ["obj", handle]``);
``{"op": "get" | "has" | "set", "target": T, "attr": name[, "value": v]}``
    read, test or set an attribute of the target;
``"after": [name, ...]`` on a call
    the target's attributes after it (a layer's ``penalty``);
``"keep": [name, ...]`` on a call, then ``{"op": "kept", "name": name}``
    the arguments exactly as the student's code received them, later (did
    ``backward`` change the ``X`` that ``forward`` was given?);
``{"op": "bind", "target": T, "params": {...}, "grads": {...}}``
    ``obj.bind(params, grads)`` with arrays this process keeps, so that
    later requests can ``push`` new values into them and ``pull`` the
    gradients out (``"push": [[handle, "params"|"grads", key, array]]``,
    ``"pull": [[handle, "params"|"grads", key]]`` on any request).

Only data crosses: arrays (numeric, boolean or text dtypes, as raw bytes after a
JSON header that gives each one's dtype and shape), numbers, strings, lists, tuples, dicts, and
*handles* (``{"__h__": "h3"}``) naming an object that stays here. The grader
computes every verdict itself from these values; nothing this process
returns, prints or writes is a score. Each message is an 8-byte length and
its payload; the grader reads at most :data:`MAX_MESSAGE` bytes.

Prints are captured (the last 2,000 characters of each request's output go
back with the answer); an exception becomes ``{"error": message}`` naming the
student's function, file and line.
"""
import contextlib
import importlib
import io
import json
import os
import pathlib
import sys
import traceback

if __name__ == "__main__" and len(sys.argv) > 5:  # the sandbox's numpy, before anything imports it
    sys.path.insert(0, sys.argv[5])
import numpy as np  # noqa: E402

MAX_MESSAGE = 64 * 2 ** 20
_KINDS = "biufcU"  # array kinds that cross: numbers, booleans, text (never objects)


# ------------------------------------------------------------------ codec (shared with the grader)
def encode(value, handle_of=None):
    """``value`` as a payload (bytes: a JSON header, then the arrays' bytes); objects become handles through
    ``handle_of(obj)``."""
    arrays = []

    def enc(v):
        if isinstance(v, np.ndarray):
            if v.dtype.kind not in _KINDS:
                raise TypeError(f"an array of dtype {v.dtype} cannot be sent (numbers, booleans or text only)")
            arrays.append(np.ascontiguousarray(v))
            return {"__a__": len(arrays) - 1}
        if isinstance(v, np.generic):
            return enc(v.item())
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, tuple):
            return {"__t__": [enc(u) for u in v]}
        if isinstance(v, list):
            return [enc(u) for u in v]
        if isinstance(v, dict):
            return {"__d__": [[enc(k), enc(u)] for k, u in v.items()]}
        if isinstance(v, (set, frozenset)):
            return sorted(enc(u) for u in v) if all(isinstance(u, str) for u in v) else [enc(u) for u in v]
        if isinstance(v, Handle):
            return {"__h__": v.name}
        if isinstance(v, Seed):
            return {"__rng__": int(v.seed)}
        if handle_of is None:
            raise TypeError(f"a {type(v).__name__} cannot be sent: data only (arrays, numbers, strings, lists)")
        return {"__h__": handle_of(v), "type": type(v).__name__}

    header = json.dumps({"meta": enc(value), "arrays": [[a.dtype.str, list(a.shape)] for a in arrays]}).encode()
    return b"".join([len(header).to_bytes(8, "big"), header] + [a.tobytes() for a in arrays])


class Handle:
    """The name of an object that lives in the student's process."""

    def __init__(self, name, type_name=""):
        self.name, self.type_name = str(name), str(type_name)


class Seed:
    """A ``numpy.random.Generator`` to make on the other side: ``default_rng(seed)``."""

    def __init__(self, seed):
        self.seed = int(seed)


def decode(payload, resolve=None):
    """The value of a payload; ``resolve(name)`` turns handles into objects (or keep :class:`Handle`).

    Each array's dtype must be a plain number, boolean or text type and its declared size must match the
    bytes that follow (checked before anything is allocated)."""
    size = int.from_bytes(payload[:8], "big")
    header = json.loads(payload[8:8 + size].decode())
    meta, arrays, offset = header["meta"], {}, 8 + size
    for i, (dtype, shape) in enumerate(header["arrays"]):
        dtype = np.dtype(str(dtype))
        shape = tuple(int(d) for d in shape)
        if dtype.kind not in _KINDS or dtype.fields is not None or dtype.subdtype is not None or min(shape,
                                                                                                      default=0) < 0:
            raise TypeError(f"refused an array of dtype {dtype} and shape {shape}")
        nbytes = dtype.itemsize
        for d in shape:
            nbytes *= d
        if nbytes > len(payload) - offset:
            raise ValueError("a message shorter than the arrays it declares")
        arrays[f"a{i}"] = np.frombuffer(payload, dtype=dtype, count=nbytes // max(dtype.itemsize, 1),
                                        offset=offset).reshape(shape).copy()
        offset += nbytes

    def dec(v):
        if isinstance(v, list):
            return [dec(u) for u in v]
        if isinstance(v, dict):
            if "__a__" in v:
                return arrays[f"a{int(v['__a__'])}"]
            if "__t__" in v:
                return tuple(dec(u) for u in v["__t__"])
            if "__d__" in v:
                return {dec(k): dec(u) for k, u in v["__d__"]}
            if "__h__" in v:
                return resolve(v["__h__"]) if resolve else Handle(v["__h__"], v.get("type", ""))
            if "__rng__" in v:
                return np.random.default_rng(int(v["__rng__"]))
            raise ValueError(f"unknown marker in message: {sorted(v)}")
        return v

    return dec(meta)


def send(fd, payload):
    data = len(payload).to_bytes(8, "big") + payload
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def receive(fd, read=os.read):
    """One message from ``fd`` (``read(fd, n)`` may enforce a deadline); EOFError when the pipe closes."""
    def exactly(n):
        chunks, got = [], 0
        while got < n:
            chunk = read(fd, min(n - got, 1 << 20))
            if not chunk:
                raise EOFError("the other side closed the pipe")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    size = int.from_bytes(exactly(8), "big")
    if size > MAX_MESSAGE:
        raise ValueError(f"a message of {size} bytes is over the limit of {MAX_MESSAGE}")
    return exactly(size)


# ------------------------------------------------------------------ the student's side
class _Tail(io.TextIOBase):
    """Keeps only the last ``limit`` characters written (a print in an endless loop must not fill memory)."""

    def __init__(self, limit=2000):
        self.limit, self.text = limit, ""

    def writable(self):
        return True

    def write(self, s):
        self.text = (self.text + str(s))[-self.limit:]
        return len(s)


def _student_frame(tb, root):
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


def describe(exc, root):
    """The student's message for an exception raised by their code."""
    where = _student_frame(exc.__traceback__, root)
    if isinstance(exc, NotImplementedError) and where:
        return f"not implemented: {where[0]} ({where[1]}, line {where[2]}) raises NotImplementedError"
    if isinstance(exc, NotImplementedError):
        return f"not implemented: {exc}"
    text = f"{type(exc).__name__}: {exc}"
    if where:
        return f"error in {where[0]} ({where[1]}, line {where[2]}: `{where[3]}`): {text}"
    return f"error (outside your package, called with your code's results): {text}"


class Student:
    """The objects made for the grader, by handle, and the arrays bound into them."""

    def __init__(self, package, root):
        self.package, self.root = package, pathlib.Path(root).resolve()
        self.objects, self.bound, self.kept, self.pkg = {}, {}, {}, None

    def handle_of(self, obj):
        for name, known in self.objects.items():
            if known is obj:
                return name
        name = f"h{len(self.objects)}"
        self.objects[name] = obj
        return name

    def target(self, spec):
        kind, name = spec
        if kind == "mod":
            return importlib.import_module(f"{self.package}.{name}") if name else self.pkg
        return self.objects[name]

    def run(self, req):
        for h, kind, key, value in req.get("push", ()):
            self.bound[h][kind][key][...] = value
        op = req["op"]
        if op == "ping":
            result = "pong"
        elif op == "import":
            result = self.load(req["modules"])
        elif op == "call":
            args = req.get("args", ())
            for name, value in zip(req.get("keep", ()), args):  # the very arrays the student's code receives
                self.kept[name] = value
            result = getattr(self.target(req["target"]), req["attr"])(*args, **req.get("kwargs", {}))
        elif op == "kept":
            result = self.kept[req["name"]]
        elif op == "get":
            result = getattr(self.target(req["target"]), req["attr"])
        elif op == "has":
            result = hasattr(self.target(req["target"]), req["attr"])
        elif op == "set":
            setattr(self.target(req["target"]), req["attr"], req["value"])
            result = None
        elif op == "bind":
            h = req["target"][1]
            params = {k: np.array(v, dtype=np.float64) for k, v in req["params"].items()}
            grads = {k: np.array(v, dtype=np.float64) for k, v in req["grads"].items()}
            self.bound[h] = {"params": params, "grads": grads}
            result = self.objects[h].bind(params, grads)
        else:
            raise ValueError(f"unknown request {op!r}")
        pulled = [np.array(self.bound[h][kind][key], copy=True) for h, kind, key in req.get("pull", ())]
        after = {name: getattr(self.target(req["target"]), name) for name in req.get("after", ())}
        return result, pulled, after

    def load(self, modules):
        sys.path.insert(0, str(self.root))
        self.pkg = importlib.import_module(self.package)
        for module in modules:
            importlib.import_module(f"{self.package}.{module}")
        for name, mod in list(sys.modules.items()):
            if name == self.package or name.startswith(self.package + "."):
                where = pathlib.Path(getattr(mod, "__file__", "") or "").resolve()
                if self.root not in where.parents:
                    raise ImportError(f"{name} was imported from {where}, not from the assignment folder")
        return None


def main(read_fd, write_fd, package, root, site=None):
    student = Student(package, root)
    np.seterr(all="ignore")
    while True:
        try:
            req = decode(receive(read_fd), resolve=lambda name: student.objects[name])
        except EOFError:
            return 0
        captured = _Tail()
        try:
            with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
                result, pulled, after = student.run(req)
            payload = encode({"ok": result, "pulled": pulled, "after": after, "printed": captured.text},
                             student.handle_of)
        except BaseException as exc:  # noqa: B902  (SystemExit, KeyboardInterrupt from student code included)
            payload = encode({"error": describe(exc, student.root), "printed": captured.text})
        send(write_fd, payload)


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:]))
