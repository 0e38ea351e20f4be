r"""What the autograder's tests are built from: the trusted checker run on the student's layers.

Every test of an exercise (:mod:`numpy_ae.course.exercises`) is a function
``test(pkg)`` that receives the student's package (``pkg.layers``,
``pkg.regularizers``, ... : the student's copies) and either returns (passed)
or raises :class:`Failed` with the message the student reads. The gradient
checker, the model that holds the flat ``theta`` and the reference values all
come from the installed, trusted ``numpy_ae``; only the layers and losses under
test come from the student.

The trusted :class:`~numpy_ae.nn.sequential.Sequential` accepts only its own
:class:`~numpy_ae.nn.layer.Layer` subclasses, and a student's ``Dense`` subclasses
the student's ``Layer``: :class:`_StudentLayer` wraps one student layer so that the
trusted model can bind its views of ``theta`` into it and call its
forward/backward, and the per-block report names the blocks as the library
does (``dense0.W``, ``dense3.b``).

Only the reference forms are graded: the trusted model is built with
``fast=False`` (when :class:`~numpy_ae.nn.sequential.Sequential` has that
argument), a student's estimator is switched to its reference form by
:func:`reference_form`, and a layer whose class comes from a fast-twin module
(``nn/fast``) is refused.
"""
from __future__ import annotations

import inspect

import numpy as np

from ..check import gradcheck
from ..nn.layer import Layer
from ..nn.sequential import Sequential

__all__ = ["Failed", "model_of", "reference_form", "smoke_layer", "require", "require_close", "check_layer",
           "check_loss", "check_model", "check_function"]

EPS = 1e-5  # the catalogue's step (numpy_ae.check.catalogue): truncation ~1e-11, rounding ~1e-10, below tol 1e-9


class Failed(Exception):
    """A test failed; the message is what the student reads."""


class _StudentLayer(Layer):
    """A student's layer inside the trusted :class:`~numpy_ae.nn.sequential.Sequential` (duck-typed delegation).

    Its name starts with ``_`` so that ``tests/check/test_gradcheck_coverage.py`` does not ask for a gradient
    check of the wrapper itself: it has no maths of its own."""

    def __init__(self, inner, name):
        self.__dict__["inner"] = inner
        self.__dict__["name"] = name

    def param_shapes(self):
        return self.inner.param_shapes()

    def decayed_params(self):
        return self.inner.decayed_params()

    def bind(self, params, grads):
        self.inner.bind(params, grads)

    def init_params(self, rng):
        self.inner.init_params(rng)

    def forward(self, X, training=True):
        return self.inner.forward(X, training=training)

    def backward(self, dY):
        return self.inner.backward(dY)

    @property
    def penalty(self):
        return self.inner.penalty

    def __getattr__(self, key):  # input_grad, freeze_noise, ...
        return getattr(self.__dict__["inner"], key)

    def __setattr__(self, key, value):
        if key == "name":
            self.__dict__["name"] = value
        else:
            setattr(self.inner, key, value)

    def __repr__(self):
        return f"student {self.inner!r}"


_FAST = ".nn.fast"  # the fast twins' subpackage: its classes are never what is graded


def _is_twin(obj):
    module = type(obj).__module__
    return module.endswith(_FAST) or _FAST + "." in module


def _reference(obj):
    if _is_twin(obj):
        raise RuntimeError(f"the grader was handed a fast twin ({type(obj).__module__}.{type(obj).__name__}); it "
                           "grades the reference forms only")
    return obj


def _named(layers):
    return [_StudentLayer(_reference(l), f"{type(l).__name__.lower()}{i}") for i, l in enumerate(layers)]


_SEQUENTIAL_HAS_FAST = "fast" in inspect.signature(Sequential).parameters


def model_of(layers, loss, weight_decay=0.0, random_state=0):
    """A trusted Sequential over the student's ``layers`` (named as the library names them) and ``loss``,
    in reference form (``fast=False``: the student's layers are never swapped for twins)."""
    kwargs = {"fast": False} if _SEQUENTIAL_HAS_FAST else {}
    return Sequential(_named(layers), _reference(loss), weight_decay=weight_decay, random_state=random_state,
                      **kwargs)


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


def smoke_layer(layer, X, random_state=0, what=None):
    r"""One training forward and one backward of the student's ``layer`` on ``X``, before any gradient check.

    Fails with a message for: an output or ``dX`` that is not an array of the right shape, NaN or inf
    anywhere (output, ``dX``, parameter gradients), and a backward pass that changed the layer's input ``X``
    in place (the protocol allows overwriting ``dY``, never ``X``). ``layer`` must already be bound (use
    :func:`model_of`); returns ``layer``.
    """
    what = what or type(layer).__name__
    X = np.array(X, dtype=np.float64)
    X0 = X.copy()
    Y = layer.forward(X, training=True)
    require(isinstance(Y, np.ndarray), f"{what}.forward returned {type(Y).__name__}, not an array")
    _finite(f"{what}.forward output", Y)
    dY = np.random.default_rng(random_state).standard_normal(Y.shape)
    grads = {k: getattr(layer, "d" + k) for k in layer.param_shapes()}
    for g in grads.values():
        g[...] = 0.0
    dX = layer.backward(dY)
    _array(f"dX (what {what}.backward returned)", dX, X.shape)
    for k, g in grads.items():
        _finite(f"{what}'s gradient d{k}", g)
    require(np.array_equal(X, X0), f"input modified in place: {what}.backward changed the layer's input X "
                                   "(the array forward received); compute into new arrays instead")
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
    probe = model_of([layer], _ZeroLoss())  # binds parameters, names blocks
    smoke_layer(layer, X, random_state)
    adapter = probe.layers[0]
    return _judge(gradcheck.check_layer(adapter, X, random_state=random_state, eps=eps,
                                        name=f"student {type(layer).__name__}"))


class _ZeroLoss:
    def forward(self, Y, T):
        return 0.0

    def backward(self):
        return None

    def output(self, Y):
        return Y


def check_loss(loss, Y, T, eps=EPS):
    """The student's loss: forward finite, backward an array of ``Y``'s shape, then the trusted check."""
    Y = np.array(Y, dtype=np.float64)
    Y0, T0 = Y.copy(), np.array(T, copy=True)
    J = loss.forward(Y, T)
    require(np.ndim(J) == 0, f"{type(loss).__name__}.forward must return a scalar; got {type(J).__name__} of "
                             f"shape {np.shape(J)}")
    _finite(f"{type(loss).__name__}.forward value", J)
    dY = loss.backward()
    _array(f"dY (what {type(loss).__name__}.backward returned)", dY, Y.shape)
    require(np.array_equal(Y, Y0) and np.array_equal(T, T0),
            f"input modified in place: {type(loss).__name__} changed Y or T")
    return _judge(gradcheck.check_loss(loss, Y, T, eps=eps, name=f"student {type(loss).__name__}"))


def check_model(net, X, T=None, eps=EPS):
    """A forward/backward smoke test of the whole model, then the trusted per-block check."""
    J, grad = net.loss_and_grad(net.theta, X, T)
    _finite("the objective J", J)
    require(np.ndim(J) == 0, f"the objective must be a scalar; got shape {np.shape(J)}")
    for b in net.blocks:
        _finite(f"the gradient of {b.name}", grad[b.slice])
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
