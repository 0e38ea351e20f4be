r"""Numerical gradient checking, as in UFLDL's ``computeNumericalGradient.m``.

For a scalar function :math:`J(\theta)` the centred difference

.. math:: g_i \approx \frac{J(\theta + \epsilon e_i) - J(\theta - \epsilon e_i)}{2\epsilon}

has error :math:`O(\epsilon^2)`; with UFLDL's :math:`\epsilon = 10^{-4}` in
float64 a correct analytic gradient agrees to a norm-relative difference

.. math:: \frac{\lVert g_{num} - g_{ana} \rVert}{\lVert g_{num} + g_{ana} \rVert}

of about 1e-9 or smaller (UFLDL: "usually less than 1e-9"). Each coordinate is
changed in place and restored ("change and restore"), so a model's flat
``theta`` is checked without copying the model.

A failing check reports every parameter block (``dense0.W``, ``dense1.b``, ...)
separately, so a student sees WHICH gradient is wrong.

Registry: :func:`register` adds a named check (a function returning a
:class:`CheckResult`); ``python -m numpy_ae gradcheck`` runs them all. The
catalogue of registered checks lives in :mod:`numpy_ae.checks`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "numerical_gradient", "rel_diff", "CheckResult", "check_model", "check_layer",
    "check_loss", "check_function", "register", "REGISTRY", "run_checks", "DEFAULT_TOL",
]

DEFAULT_TOL = 1e-9
_FLOOR = 1e-30  # keeps rel_diff defined when both gradients are exactly zero


def numerical_gradient(f, x, eps=1e-4):
    r"""Centred-difference gradient of the scalar function ``f()`` with respect to array ``x``.

    ``x`` is changed in place, one element at a time, and restored exactly;
    ``f`` takes no arguments and must read ``x`` (e.g. ``x`` is a model's
    ``theta`` or a layer's input). Returns an array shaped like ``x``.
    """
    flat = x.reshape(-1)  # a view for a contiguous x: writes reach the caller's array
    if not np.shares_memory(flat, x):
        raise ValueError("x must be a contiguous array so it can be changed in place")
    g = np.zeros(flat.shape, dtype=np.float64)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        f_plus = f()
        flat[i] = old - eps
        f_minus = f()
        flat[i] = old
        g[i] = (f_plus - f_minus) / (2.0 * eps)
    return g.reshape(x.shape)


def rel_diff(numeric, analytic):
    r"""UFLDL's norm-relative difference :math:`\lVert a - b\rVert / \lVert a + b\rVert`."""
    numeric = np.asarray(numeric, dtype=np.float64).ravel()
    analytic = np.asarray(analytic, dtype=np.float64).ravel()
    return float(np.linalg.norm(numeric - analytic) / max(np.linalg.norm(numeric + analytic), _FLOOR))


@dataclass
class CheckResult:
    """Outcome of one gradient check: overall and per parameter block."""

    name: str
    rel_diff: float
    tol: float = DEFAULT_TOL
    blocks: dict = field(default_factory=dict)

    @property
    def ok(self):
        return bool(np.isfinite(self.rel_diff) and self.rel_diff < self.tol)

    def report(self):
        """A few lines: the overall verdict, then each block; when the check fails, the blocks over
        the tolerance are flagged. (A passing check flags nothing: a block whose gradient is tiny,
        such as an output bias, can show a larger relative difference from truncation alone.)"""
        lines = [f"{self.name}: rel_diff {self.rel_diff:.3e} (tol {self.tol:.0e}) {'ok' if self.ok else 'FAILED'}"]
        for block, diff in self.blocks.items():
            flag = "   <-- wrong gradient here" if not self.ok and not diff < self.tol else ""
            lines.append(f"  {block:<20s} {diff:.3e}{flag}")
        return "\n".join(lines)

    def to_dict(self):
        return {"name": self.name, "rel_diff": self.rel_diff, "tol": self.tol, "ok": self.ok}


def _result(name, pairs, tol):
    """Build a CheckResult from ``{block: (numeric, analytic)}``."""
    blocks = {k: rel_diff(n, a) for k, (n, a) in pairs.items()}
    num = np.concatenate([np.ravel(n) for n, _ in pairs.values()])
    ana = np.concatenate([np.ravel(a) for _, a in pairs.values()])
    return CheckResult(name, rel_diff(num, ana), tol, blocks)


def check_function(f_and_grad, x, eps=1e-4, tol=DEFAULT_TOL, name="function"):
    r"""Check ``f_and_grad(x) -> (value, gradient)`` at ``x`` (UFLDL's ``checkNumericalGradient``)."""
    x = np.array(x, dtype=np.float64)
    _, analytic = f_and_grad(x)
    numeric = numerical_gradient(lambda: f_and_grad(x)[0], x, eps)
    return _result(name, {"x": (numeric, analytic)}, tol)


def check_model(model, X, T=None, eps=1e-4, tol=DEFAULT_TOL, name="model"):
    r"""Check :meth:`Sequential.loss_and_grad` at the model's current ``theta``, block by block.

    Layers with randomness (corruption, sampling) must hold their noise fixed
    across evaluations for this to mean anything: see those layers' ``freeze_noise``.
    """
    analytic = model.loss_and_grad(model.theta, X, T)[1]
    numeric = numerical_gradient(lambda: model.compute(X, T), model.theta, eps)
    pairs = {b.name: (numeric[b.slice], analytic[b.slice]) for b in model.blocks}
    return _result(name, pairs, tol)


def check_layer(layer, X, random_state=0, eps=1e-4, tol=DEFAULT_TOL, name=None):
    r"""Check one layer's backward pass against its forward pass.

    The scalar checked is :math:`J = \sum_{n,k} R_{nk} Y_{nk} + P`, with
    :math:`Y` = ``layer.forward(X)``, :math:`R` a fixed random matrix and
    :math:`P` the layer's penalty, so :math:`\partial J/\partial Y = R`. Both the
    input gradient ``dX`` and every parameter gradient are checked. A layer with
    parameters is wrapped in a one-layer :class:`~numpy_ae.model.Sequential` to
    get its flat ``theta``.
    """
    from .model import Sequential

    class _Probe:  # J = sum(R * Y): a "loss" whose gradient is R
        def forward(self, Y, T):
            return float(np.sum(R * Y))

        def backward(self):
            return R.copy()

    rng = np.random.default_rng(random_state)
    X = np.array(X, dtype=np.float64)
    net = Sequential([layer], _Probe(), random_state=rng)
    R = rng.standard_normal(np.shape(layer.forward(X.copy(), training=True)))

    net.grad.fill(0.0)
    net.compute(X)
    analytic = {b.name: net.grad[b.slice].copy() for b in net.blocks}
    net.forward(X.copy(), training=True)
    analytic["dX"] = net.backward(R.copy(), input_grad=True)

    pairs = {"dX": (numerical_gradient(lambda: net.compute(X), X, eps), analytic["dX"])}
    for b in net.blocks:
        pairs[b.name] = (numerical_gradient(lambda: net.compute(X), net.theta[b.slice], eps), analytic[b.name])
    return _result(name or repr(layer), pairs, tol)


def check_loss(loss, Y, T, eps=1e-4, tol=DEFAULT_TOL, name=None):
    """Check a loss's ``backward()`` against its ``forward(Y, T)``, with respect to ``Y``."""
    Y = np.array(Y, dtype=np.float64)
    loss.forward(Y, T)
    analytic = loss.backward().copy()
    numeric = numerical_gradient(lambda: loss.forward(Y, T), Y, eps)
    return _result(name or repr(loss), {"dY": (numeric, analytic)}, tol)


# ---------------------------------------------------------------- registry
REGISTRY = {}


def register(name, tol=DEFAULT_TOL):
    """Decorator: register ``fn() -> CheckResult`` under ``name`` with tolerance ``tol``."""

    def deco(fn):
        if name in REGISTRY:
            raise ValueError(f"a gradient check named {name!r} is already registered")
        REGISTRY[name] = (fn, tol)
        return fn

    return deco


def run_checks(names=None):
    """Run the registered checks (all, or those in ``names``); return a list of CheckResult."""
    from . import checks  # noqa: F401  (importing it fills REGISTRY)
    del checks

    results = []
    for key in names or sorted(REGISTRY):
        fn, tol = REGISTRY[key]
        res = fn()
        res.name, res.tol = key, tol
        results.append(res)
    return results
