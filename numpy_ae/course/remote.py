r"""What a test sees of the student's code: proxies that name the student's objects by handle.

``pkg.nn.dense.Dense(5, 4)`` (a :class:`RemotePackage`) makes the student's
``Dense`` in the sandboxed process of a :class:`~numpy_ae.course.session.Session` and
returns a :class:`RemoteObject`; ``obj.forward(X)`` sends ``X`` there and returns the
array that comes back. :class:`Student` keeps the arrays bound into the student's
layers equal on both sides (pushed before every request, gradients pulled after),
collects what the student's code printed, and starts a fresh session after a test
killed the last one. Nothing here runs the student's code or trusts its answers:
every answer is data, checked by the tests of :mod:`numpy_ae.course.harness`.
"""
from __future__ import annotations

from .child import Handle, Seed
from .session import ChildDied, StudentError

__all__ = ["Student", "RemotePackage", "RemoteObject", "attr", "has", "set_attr"]


# ------------------------------------------------------------------ the grader's view of the student
class Student:
    """What a test sees of the student's process: ``pkg`` (a :class:`RemotePackage`), the arrays bound
    into the student's layers (kept equal on both sides around every request), and what the code printed.

    ``session_factory()`` starts a :class:`Session`; a test that kills it (time limit, crash) leaves the
    next test a fresh one (:meth:`restart`)."""

    def __init__(self, session_factory, modules):
        self.session_factory, self.modules = session_factory, tuple(modules)
        self.session, self.printed, self.bound = None, "", {}
        self.pkg = RemotePackage(self)

    def start(self, deadline):
        """A running session whose package is imported (StudentError if the import fails)."""
        self.bound, self.printed, self.twins = {}, "", {}
        if self.session is None or self.session.proc is None:
            self.session = self.session_factory()
            self.session.deadline = deadline
            self.call({"op": "import", "modules": list(self.modules)})
        self.session.deadline = deadline
        return self

    def call(self, req):
        push, pull = [], []
        for handle, (params, grads) in self.bound.items():
            push += [[handle, "params", k, v] for k, v in params.items()]
            push += [[handle, "grads", k, v] for k, v in grads.items()]
            pull += [[handle, "grads", k] for k in grads]
        init = req.get("attr") == "init_params" and req["target"][0] == "obj" and req["target"][1] in self.bound
        if init:
            pull += [[req["target"][1], "params", k] for k in self.bound[req["target"][1]][0]]
        req = dict(req, push=push, pull=pull)
        try:
            value, pulled, printed = self.session.request(req)
        except StudentError as exc:
            self.printed = (self.printed + exc.args[1])[-2000:]
            raise StudentError(exc.args[0]) from None
        self.printed = (self.printed + printed)[-2000:]
        if len(pulled) != len(pull):
            raise ChildDied("the student's process answered with the wrong number of arrays")
        for (handle, kind, key), value_ in zip(pull, pulled):
            views = self.bound[handle][0 if kind == "params" else 1]
            if getattr(value_, "shape", None) != views[key].shape:
                raise StudentError(f"the student's {key} array changed shape to {getattr(value_, 'shape', None)}")
            views[key][...] = value_
        return value

    def bind(self, obj, params, grads):
        """Bind the student's ``obj`` to copies of ``params``/``grads``, kept equal to these views from now on."""
        self.bound.pop(obj._handle, None)  # re-bound: the old arrays are not pushed into the new ones
        self.call({"op": "bind", "target": ["obj", obj._handle], "params": dict(params), "grads": dict(grads)})
        self.bound[obj._handle] = (params, grads)

    def kept(self, name):
        """The argument ``name`` of an earlier call, as the student's process holds it now."""
        return self.call({"op": "kept", "name": name})

    def kill(self):
        """End the student's process; the next request starts a fresh one (``restart`` is the same)."""
        if self.session is not None:
            self.session.close()
        self.session = None

    restart = kill


# ------------------------------------------------------------------ proxies
def _wrap(student, value):
    if isinstance(value, Handle):
        return RemoteObject(student, value.name, value.type_name)
    if isinstance(value, list):
        return [_wrap(student, v) for v in value]
    if isinstance(value, tuple):
        return tuple(_wrap(student, v) for v in value)
    if isinstance(value, dict):
        return {k: _wrap(student, v) for k, v in value.items()}
    return value


def _unwrap(value):
    if isinstance(value, RemoteObject):
        return Handle(value._handle)
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    if hasattr(value, "bit_generator"):  # a Generator is made on the other side from a seed drawn here
        return Seed(int(value.integers(2 ** 62)))
    return value


class _Call:
    def __init__(self, student, target, attr):
        self._student, self._target, self._attr = student, target, attr

    def __call__(self, *args, **kwargs):
        if self._attr == "bind" and self._target[0] == "obj" and len(args) == 2 and not kwargs:
            obj = RemoteObject(self._student, self._target[1])
            return self._student.bind(obj, {k: v.copy() for k, v in args[0].items()},
                                      {k: v.copy() for k, v in args[1].items()})
        keep, after = kwargs.pop("__keep__", ()), kwargs.pop("__after__", ())
        req = {"op": "call", "target": self._target, "attr": self._attr, "args": _unwrap(list(args)),
               "kwargs": _unwrap(kwargs), "keep": list(keep), "after": list(after)}
        out = _wrap(self._student, self._student.call(req))
        if isinstance(out, RemoteObject) and self._target[0] == "mod":
            out._origin = (self._target[1], self._attr, args, kwargs)  # how to build the trusted twin
        return out


class RemotePackage:
    """The student's package as seen from the grader: ``pkg.nn.dense.Dense(5, 4)`` makes a remote object."""

    def __init__(self, student, path=""):
        self._student, self._path = student, path

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return RemotePackage(self._student, f"{self._path}.{name}" if self._path else name)

    def __call__(self, *args, **kwargs):
        module, _, name = self._path.rpartition(".")
        return _Call(self._student, ["mod", module], name)(*args, **kwargs)


class RemoteObject:
    """An object in the student's process, named by its handle; ``obj.method(...)`` calls it there."""

    def __init__(self, student, handle, type_name=""):
        self._student, self._handle, self._type_name = student, handle, type_name
        self._origin = None

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Call(self._student, ["obj", self._handle], name)

    def __repr__(self):
        return f"student {self._type_name or 'object'}"


def attr(obj, name):
    """The value of the student's ``obj.name`` (data, or a RemoteObject)."""
    return _wrap(obj._student, obj._student.call({"op": "get", "target": ["obj", obj._handle], "attr": name}))


def has(obj, name):
    return bool(obj._student.call({"op": "has", "target": ["obj", obj._handle], "attr": name}))


def set_attr(obj, name, value):
    obj._student.call({"op": "set", "target": ["obj", obj._handle], "attr": name, "value": _unwrap(value)})
