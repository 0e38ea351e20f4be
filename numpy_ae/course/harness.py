r"""What the autograder's tests are built from: the trusted checker run on the student's layers, across a
process boundary.

Every test of an exercise (:mod:`numpy_ae.course.exercises`) is a function
``test(pkg)`` that runs in the grader's own (trusted) process. ``pkg`` is a
:class:`~numpy_ae.course.remote.RemotePackage`: ``pkg.nn.dense.Dense(5, 4)``
makes the student's ``Dense`` in the student's sandboxed process and hands back
a proxy; calling its methods sends arrays there and brings arrays back
(:mod:`numpy_ae.course.remote`). A test either returns (passed) or raises
:class:`Failed` with the message the student reads. The gradient checker, the
model that holds the flat ``theta`` (:class:`~numpy_ae.nn.sequential.Sequential`)
and the reference values all live on this side; the numerical gradient is
computed here from the values the student's forward pass returns.

:class:`_RemoteLayer` puts one student layer into the trusted model: the
model binds its views of ``theta`` into it, and the arrays are kept equal on
both sides around every call. Each student layer also gets a *trusted twin*
built from the reference (``numpy_ae.nn``) with the same arguments and the
same parameters: the student's forward values (of a layer, a loss, a whole
model) must match the twin's, so a forward pass changed to make a gradient
check pass cheaply (``Y = 0``, ``dX = 0``) fails. Layers that draw noise
(``freeze_noise``) are compared by their gradients only.
"""
from __future__ import annotations

import importlib
import numbers

import numpy as np

from ..check import gradcheck
from ..nn.layer import Layer
from ..nn.sequential import Sequential
from .remote import RemoteObject, attr, has, set_attr

__all__ = ["Failed", "model_of", "reference_form", "smoke_layer", "require", "require_close", "check_layer",
           "check_loss", "check_model", "check_function", "value_of", "kept"]

EPS = 1e-5  # the catalogue's step (numpy_ae.check.catalogue): truncation ~1e-11, rounding ~1e-10, below tol 1e-9
FORWARD_RTOL = 1e-10  # the student's forward against the trusted twin's: the same float64 formulas


class Failed(Exception):
    """A test failed; the message is what the student reads."""


def kept(pkg_or_obj, name):
    """An argument of an earlier call (``__keep__=(name, ...)``) as the student's code holds it now."""
    return pkg_or_obj._student.kept(name)


def value_of(obj, name):
    """The student's ``obj.name`` as data (``float(layer.penalty)`` across the boundary)."""
    return attr(obj, name)


def _twin(obj):
    """The trusted reference object built as the student's ``obj`` was (None when there is none); one per
    student object, so that tied layers stay tied."""
    return _build_twin(obj, vars(obj._student).setdefault("twins", {}))


def _build_twin(obj, cache):
    student = obj._student
    if obj._handle in cache:
        return cache[obj._handle]
    twin = None
    origin = obj._origin
    if origin is not None:
        module, name, args, kwargs = origin
        try:
            klass = getattr(importlib.import_module(f"numpy_ae.{module}"), name)
            args = [_build_twin(a, cache) if isinstance(a, RemoteObject) else a for a in args]
            kwargs = {k: _build_twin(v, cache) if isinstance(v, RemoteObject) else v for k, v in kwargs.items()}
            if not any(a is None for a in args) and not any(v is None for v in kwargs.values()):
                twin = klass(*args, **kwargs)
        except (ImportError, AttributeError, TypeError, ValueError):
            twin = None
    bound = student.bound.get(obj._handle)
    if twin is not None and bound is not None:  # bound by the test itself (not through a model)
        twin.bind({k: v.copy() for k, v in bound[0].items()}, {k: np.zeros_like(v) for k, v in bound[1].items()})
    cache[obj._handle] = twin
    return twin


def _noisy(obj):
    return has(obj, "freeze_noise")


class _RemoteLayer(Layer):
    """A student's layer (in the student's process) inside the trusted :class:`~numpy_ae.nn.sequential.Sequential`.

    Its name starts with ``_`` so that ``tests/check/test_gradcheck_coverage.py`` does not ask for a gradient
    check of the wrapper itself: it has no maths of its own."""

    def __init__(self, obj, name):
        self.obj, self.name, self.params, self.grads = obj, name, {}, {}
        self.twin = None if _noisy(obj) else _twin(obj)

    def param_shapes(self):
        shapes = self.obj.param_shapes()
        require(isinstance(shapes, dict) and all(isinstance(k, str) for k in shapes),
                f"{self.obj!r}.param_shapes() must return a dict name -> shape; got {type(shapes).__name__}")
        try:
            return {k: tuple(int(d) for d in v) for k, v in shapes.items()}
        except (TypeError, ValueError):
            raise Failed(f"{self.obj!r}.param_shapes() must give each shape as a tuple of ints; got {shapes!r}")

    def decayed_params(self):
        names = self.obj.decayed_params()
        require(isinstance(names, (list, tuple)) and all(isinstance(k, str) for k in names),
                f"{self.obj!r}.decayed_params() must return parameter names; got {names!r}")
        return tuple(names)

    def bind(self, params, grads):
        self.params, self.grads = params, grads
        self.obj._student.bind(self.obj, params, grads)
        if self.twin is not None:
            self.twin.bind(params, {k: np.zeros_like(g) for k, g in grads.items()})

    def init_params(self, rng):
        self.obj.init_params(rng)

    def forward(self, X, training=True):
        Y = self.obj.forward(X, training=training, __after__=("penalty",))  # one round trip for both
        self._penalty = self.obj._student.session.after.get("penalty")
        return Y

    def backward(self, dY):
        return self.obj.backward(dY)

    @property
    def penalty(self):
        value = vars(self).pop("_penalty", None)  # the value read with the last forward, else ask
        value = attr(self.obj, "penalty") if value is None else value
        require(isinstance(value, numbers.Real), f"{self.obj!r}.penalty must be a number; got {value!r}")
        return float(value)

    @property
    def input_grad(self):
        if "_has_input_grad" not in vars(self):
            self._has_input_grad = has(self.obj, "input_grad")
        if not self._has_input_grad:
            raise AttributeError("input_grad")
        return attr(self.obj, "input_grad")

    @input_grad.setter
    def input_grad(self, value):
        if vars(self).get("_input_grad") is not bool(value):  # sent only when it changes
            set_attr(self.obj, "input_grad", bool(value))
            self._input_grad = bool(value)

    def __repr__(self):
        return repr(self.obj)


def _named(layers):
    out = []
    for i, layer in enumerate(layers):
        require(isinstance(layer, RemoteObject), f"the grader builds models of the student's layers only; got "
                                                 f"{type(layer).__name__}")
        out.append(_RemoteLayer(layer, f"{layer._type_name.lower()}{i}"))
    return out


def model_of(layers, loss, weight_decay=0.0, random_state=0):
    """A trusted Sequential (reference form) over the student's ``layers`` (named as the library names
    them) and ``loss`` (the student's, a proxy, or a trusted one)."""
    return Sequential(_named(layers), _loss_of(loss), weight_decay=weight_decay, random_state=random_state)


class _RemoteLoss:
    """The student's loss inside the trusted model."""

    def __init__(self, obj):
        self.obj, self.twin = obj, _twin(obj)

    def forward(self, Y, T):
        return _scalar(self.obj.forward(Y, T), f"{self.obj!r}.forward")

    def backward(self):
        return self.obj.backward()

    def output(self, Y):
        return self.obj.output(Y)


def _loss_of(loss):
    return _RemoteLoss(loss) if isinstance(loss, RemoteObject) else loss


def _scalar(value, what):
    require(isinstance(value, numbers.Real) or (isinstance(value, np.ndarray) and value.ndim == 0),
            f"{what} must return a scalar; got {type(value).__name__} of shape {np.shape(value)}")
    return float(value)


def reference_form(estimator):
    """The student's ``estimator`` set to train with the reference forms (``fast=False``) when it has that
    hyperparameter, so that what it trains is the student's code, not a fast twin."""
    if "fast" in estimator.get_params(deep=False):
        estimator.set_params(fast=False)
    return estimator


def require(condition, message):
    if not condition:
        raise Failed(message)


def _finite(name, A):
    A = np.asarray(A)
    require(np.issubdtype(A.dtype, np.number), f"{name} is not a numeric array (dtype {A.dtype})")
    bad = ~np.isfinite(A)
    require(not bad.any(), f"{name} holds {int(bad.sum())} NaN or inf value(s) (first at index "
                           f"{np.argwhere(bad)[0].tolist() if bad.any() else None})")


def _array(name, value, shape):
    require(isinstance(value, np.ndarray), f"{name} must be a numpy array of shape {shape}; got "
                                           f"{type(value).__name__}")
    require(value.shape == tuple(shape), f"wrong shape: {name} has shape {value.shape}, expected {tuple(shape)}")
    _finite(name, value)


def smoke_layer(layer, X, random_state=0):
    r"""One training forward and one backward of the student's layer on ``X``, before any gradient check.

    ``layer`` is a :class:`_RemoteLayer` (bound: use :func:`model_of`). Fails with a message for: an output
    or ``dX`` that is not an array of the right shape, NaN or inf anywhere (output, ``dX``, parameter
    gradients), a forward value that differs from the trusted twin's, and a backward pass that changed the
    layer's input ``X`` in place (checked on the array the student's process received). Returns ``layer``.
    """
    what = layer.obj._type_name or "the layer"
    X = np.array(X, dtype=np.float64)
    Y = layer.obj.forward(X, training=True, __keep__=("X",))
    require(isinstance(Y, np.ndarray), f"{what}.forward returned {type(Y).__name__}, not an array")
    _finite(f"{what}.forward output", Y)
    if layer.twin is not None:
        expected = layer.twin.forward(X.copy(), training=True)
        require(np.shape(Y) == np.shape(expected), f"wrong shape: {what}.forward returned shape {np.shape(Y)}, "
                                                   f"expected {np.shape(expected)}")
        require_close(f"{what}.forward's output (a gradient check tests backward against your forward, so "
                      "forward must be right too)", Y, expected, rtol=FORWARD_RTOL, atol=1e-12)
        require_close(f"{what}'s penalty", layer.penalty, layer.twin.penalty, rtol=FORWARD_RTOL, atol=1e-12)
    dY = np.random.default_rng(random_state).standard_normal(Y.shape)
    for g in layer.grads.values():
        g[...] = 0.0
    dX = layer.backward(dY)
    _array(f"dX (what {what}.backward returned)", dX, X.shape)
    for k, g in layer.grads.items():
        _finite(f"{what}'s gradient d{k}", g)
    require(np.array_equal(layer.obj._student.kept("X"), X),
            f"input modified in place: {what}.backward changed the layer's input X (the array forward "
            "received); compute into new arrays instead")
    return layer


def _verdicts(result):
    """The student's message for a failed CheckResult: one line per wrong block, then the full report."""
    wrong = result.wrong_blocks
    lines = [f"{b}: wrong gradient" for b in wrong]
    return "\n".join(lines + ["", result.report()])


def _judge(result):
    if not result.ok:
        raise Failed(_verdicts(result))
    return result


def check_layer(layer, X, random_state=0, eps=EPS):
    """Smoke-test, then gradient-check (trusted :func:`numpy_ae.check.gradcheck.check_layer`) the student's layer."""
    adapter = model_of([layer], _ZeroLoss()).layers[0]  # binds parameters, names blocks
    smoke_layer(adapter, X, random_state)
    return _judge(gradcheck.check_layer(adapter, X, random_state=random_state, eps=eps,
                                        name=f"student {layer._type_name}"))


class _ZeroLoss:
    def forward(self, Y, T):
        return 0.0

    def backward(self):
        return None

    def output(self, Y):
        return Y


def check_loss(loss, Y, T, eps=EPS):
    """The student's loss: forward finite and equal to the trusted twin's, backward an array of ``Y``'s
    shape, inputs unchanged; then the trusted check."""
    what = loss._type_name or "the loss"
    Y = np.array(Y, dtype=np.float64)
    T = np.array(T, copy=True)
    J = _scalar(loss.forward(Y, T, __keep__=("Y", "T")), f"{what}.forward")
    _finite(f"{what}.forward value", J)
    twin = _twin(loss)
    if twin is not None:
        require_close(f"{what}.forward's value", J, twin.forward(Y.copy(), T.copy()), rtol=FORWARD_RTOL)
    dY = loss.backward()
    _array(f"dY (what {what}.backward returned)", dY, Y.shape)
    student = loss._student
    require(np.array_equal(student.kept("Y"), Y) and np.array_equal(student.kept("T"), T),
            f"input modified in place: {what} changed Y or T")
    return _judge(gradcheck.check_loss(_RemoteLoss(loss), Y, T, eps=eps, name=f"student {what}"))


def _twin_model(net):
    """A trusted model of fresh twins with ``net``'s layout and theta, or None (noise, or no twin)."""
    cache = {}
    layers = []
    for layer in net.layers:
        if not isinstance(layer, _RemoteLayer) or layer.twin is None:
            return None
        layers.append(_build_twin(layer.obj, cache))
    loss = net.loss
    if isinstance(loss, _RemoteLoss):
        loss = None if loss.twin is None else _build_twin(loss.obj, cache)
    if loss is None or any(t is None for t in layers):
        return None
    twin = Sequential(layers, loss, weight_decay=net.weight_decay, random_state=0)
    require(twin.n_params == net.n_params and [b.shape for b in twin.blocks] == [b.shape for b in net.blocks],
            "the model's parameters differ from the reference's (did param_shapes change?)")
    twin.theta[...] = net.theta
    return twin


def check_model(net, X, T=None, eps=EPS):
    """A forward/backward smoke test of the whole model (its objective equal to the trusted twin model's),
    then the trusted per-block check."""
    J, grad = net.loss_and_grad(net.theta, X, T)
    _finite("the objective J", J)
    require(np.ndim(J) == 0, f"the objective must be a scalar; got shape {np.shape(J)}")
    for b in net.blocks:
        _finite(f"the gradient of {b.name}", grad[b.slice])
    twin = _twin_model(net)
    if twin is not None:
        require_close("the model's objective J (forward passes, penalties and weight decay)", J,
                      twin.loss_and_grad(twin.theta, X, T)[0], rtol=FORWARD_RTOL)
    return _judge(gradcheck.check_model(net, X, T, eps=eps, name="student model"))


def check_function(f_and_grad, x, eps=EPS, name="function"):
    return _judge(gradcheck.check_function(f_and_grad, x, eps=eps, name=name))


def require_close(name, got, expected, rtol=1e-10, atol=0.0):
    """``got`` finite, of ``expected``'s shape, within ``rtol`` of it (the message gives the worst element)."""
    _array(name, np.asarray(got) if np.ndim(got) else np.asarray(got), np.shape(expected))
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    err = np.abs(got - expected)
    bad = err > atol + rtol * np.abs(expected)
    if bad.any():
        i = np.unravel_index(np.argmax(err - rtol * np.abs(expected)), err.shape) if err.ndim else ()
        raise Failed(f"{name} differs from the reference: at index {list(i)} got {got[i]!r}, expected "
                     f"{expected[i]!r} ({int(bad.sum())} of {bad.size} values off by more than rtol {rtol:g})")
