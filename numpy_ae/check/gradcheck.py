r"""Numerical gradient checking, as in UFLDL's ``computeNumericalGradient.m``,
with a verdict that tells finite-difference error from a wrong gradient.

For a scalar function :math:`J(\theta)` the centred difference

.. math:: g_i(h) = \frac{J(\theta + h e_i) - J(\theta - h e_i)}{2h}

is compared with the analytic gradient :math:`a` by UFLDL's norm-relative difference

.. math:: r(h) = \frac{\lVert g(h) - a \rVert}{\lVert g(h) + a \rVert},

"usually less than 1e-9" in float64 for UFLDL's :math:`h = 10^{-4}`. Each
coordinate is changed in place and restored ("change and restore"), so a
model's flat ``theta`` is checked without copying the model, one parameter
block (``dense0.W``, ``dense1.b``, ...) at a time.

How a block over ``tol`` is judged (``"ok"``, ``"fd_error"``, ``"wrong"`` or
``"inconclusive"``) is explained in :mod:`numpy_ae.check.verdicts`.

Registry: :func:`numpy_ae.check.registry.register` adds a named check (a function returning a
:class:`CheckResult`) and declares the layer and loss classes it covers;
``python -m numpy_ae gradcheck`` runs them all. The catalogue of registered
checks lives in :mod:`numpy_ae.check.catalogue`.
"""
from __future__ import annotations
from dataclasses import dataclass, field
import numpy as np
from .verdicts import (MAX_FD_ERROR, SAFETY, VERDICTS, BlockVerdict, analyse, numerical_gradient, prober,
                       rel_diff)

__all__ = ['numerical_gradient', 'rel_diff', 'CheckResult', 'BlockVerdict', 'check_model', 'check_layer', 'check_loss', 'check_function', 'DEFAULT_TOL', 'SAFETY', 'MAX_FD_ERROR', 'VERDICTS']

DEFAULT_TOL = 1e-9


@dataclass
class CheckResult:
    """Outcome of one gradient check: overall and per parameter block.

    ``rel_diff`` is UFLDL's norm-relative figure over all blocks at the check's
    ``eps``; ``blocks`` the same figure per block; ``verdicts`` a
    :class:`BlockVerdict` per block. ``ok`` is True when every block is
    ``"ok"`` or ``"fd_error"`` (none wrong, none inconclusive); a result built
    without verdicts falls back to ``rel_diff < tol``.
    """

    name: str
    rel_diff: float
    tol: float = DEFAULT_TOL
    blocks: dict = field(default_factory=dict)
    verdicts: dict = field(default_factory=dict)
    eps: float = None
    classes: frozenset = frozenset()  # Layer and Loss classes this check exercised

    @property
    def ok(self):
        if self.verdicts:
            return not self.wrong_blocks
        return bool(np.isfinite(self.rel_diff) and self.rel_diff < self.tol)

    @property
    def conclusive(self):
        """False when the numerical gradient of some block is too noisy to confirm its analytic gradient."""
        return all(v.verdict != "inconclusive" for v in self.verdicts.values())

    @property
    def wrong_blocks(self):
        """Names of the blocks whose gradient is wrong."""
        return [k for k, v in self.verdicts.items() if v.verdict == "wrong"]

    def _status(self):
        if not self.ok:
            return "FAILED"
        if not self.conclusive:
            return "ok, but INCONCLUSIVE for some block (no wrong gradient found; see why below)"
        return "ok"

    def report(self):
        """The overall line, then one line per block: its rel_diff and, when it was analysed, the
        verdict and why."""
        eps = f" at eps {self.eps:.0e}" if self.eps else ""
        lines = [f"{self.name}: rel_diff {self.rel_diff:.3e}{eps} (tol {self.tol:.0e}) {self._status()}"]
        for block, diff in self.blocks.items():
            v = self.verdicts.get(block)
            if v is None:
                flag = "   <-- wrong gradient here" if not self.ok and not diff < self.tol else ""
            elif v.verdict == "ok":
                flag = ""
            elif v.verdict == "wrong":
                flag = f"   <-- wrong gradient here: {v.reason}"
            elif v.verdict == "fd_error":
                flag = f"   finite-difference error ({v.cause}), not a bug: {v.reason}"
            else:
                flag = f"   inconclusive: {v.reason}"
            lines.append(f"  {block:<20s} {diff:.3e}{flag}")
        return "\n".join(lines)

    def to_dict(self):
        return {"name": self.name, "rel_diff": self.rel_diff, "tol": self.tol, "ok": self.ok,
                "conclusive": self.conclusive, "verdicts": {k: v.verdict for k, v in self.verdicts.items()}}


def _result(name, specs, tol, eps, classes=(), J=0.0):
    r"""Build a CheckResult from ``{block: (numeric, analytic, regrad)}``; ``regrad(h)`` recomputes
    the block's numerical gradient at step ``h`` (called only for blocks over ``tol``)."""
    blocks = {k: rel_diff(n, a) for k, (n, a, _) in specs.items()}
    verdicts = {}
    for k, (n, a, regrad) in specs.items():
        if blocks[k] < tol:
            verdicts[k] = BlockVerdict("ok", f"rel_diff {blocks[k]:.1e} at eps {eps:.0e} < tol {tol:.0e}",
                                       rel_diffs={eps: blocks[k]})
        else:
            verdicts[k] = analyse(n, a, regrad, eps, tol, J)
    num = np.concatenate([np.ravel(n) for n, _, _ in specs.values()])
    ana = np.concatenate([np.ravel(a) for _, a, _ in specs.values()])
    return CheckResult(name, rel_diff(num, ana), tol, blocks, verdicts, eps, frozenset(classes))


def _spec(f, x, analytic, eps):
    """``(numeric, analytic, regrad)`` for the array ``x`` that ``f()`` reads."""
    return numerical_gradient(f, x, eps), analytic, prober(f, x)


def check_function(f_and_grad, x, eps=1e-4, tol=DEFAULT_TOL, name="function"):
    r"""Check ``f_and_grad(x) -> (value, gradient)`` at ``x`` (UFLDL's ``checkNumericalGradient``)."""
    x = np.array(x, dtype=np.float64)
    J, analytic = f_and_grad(x)
    analytic = np.array(analytic, dtype=np.float64)
    return _result(name, {"x": _spec(lambda: f_and_grad(x)[0], x, analytic, eps)}, tol, eps, J=float(J))


def _classes_of(model):
    layers = list(getattr(model, "path", None) or getattr(model, "layers", []))
    # a fast twin (numpy_ae.nn.fast) subclasses its reference: exercising it counts for both
    return {cls for obj in (*layers, model.loss) for cls in type(obj).__mro__}


def _require_deterministic(f, J):
    """Refuse to check a function that changes between two evaluations at the same point.

    Unfrozen noise (a corruption layer drawing afresh) makes every centred
    difference meaningless; saying so beats any verdict about the gradient.
    """
    again = f()
    if again != J:
        raise ValueError(f"the objective is not a fixed function of theta: two evaluations at the same theta gave "
                         f"{J!r} and {again!r}. A layer draws fresh randomness on every pass (a corruption or "
                         "sampling layer): call its freeze_noise() before checking gradients")


def check_model(model, X, T=None, eps=1e-4, tol=DEFAULT_TOL, name="model"):
    r"""Check :meth:`Sequential.loss_and_grad` at the model's current ``theta``, block by block.

    ``model`` is a :class:`~numpy_ae.nn.sequential.Sequential` or anything with its
    ``theta``, ``blocks``, ``compute(X, T)`` and ``loss_and_grad(theta, X, T)``
    (e.g. the sub-network of one phase of
    :meth:`~numpy_ae.models.stacked.StackedAutoencoder.fit_in_phases`).
    Layers with randomness (corruption, sampling) must hold their noise fixed
    across evaluations for this to mean anything: see those layers' ``freeze_noise``.
    """
    J, analytic = model.loss_and_grad(model.theta, X, T)

    def f():
        return model.compute(X, T)

    _require_deterministic(f, J)
    numeric = numerical_gradient(f, model.theta, eps)
    specs = {}
    for b in model.blocks:
        view = model.theta[b.slice]
        specs[b.name] = (numeric[b.slice], analytic[b.slice], prober(f, view))
    return _result(name, specs, tol, eps, _classes_of(model), J)


class _OneLayer:
    """One layer's parameters in one flat ``theta`` and ``grad``, laid out as
    :class:`~numpy_ae.nn.sequential.Sequential` lays them out (weights first), so
    :func:`check_layer` needs nothing of :mod:`numpy_ae.nn`: the layer protocol
    (``param_shapes``, ``decayed_params``, ``bind``, ``init_params``, ``forward``,
    ``backward``, ``penalty``) is all it uses. ``J = sum(R * Y) + penalty``."""

    def __init__(self, layer, rng):
        if layer.name is None:
            layer.name = f"{type(layer).__name__.lower()}0"
        shapes = layer.param_shapes()
        keys = sorted(shapes, key=lambda k: k not in layer.decayed_params())  # stable: decayed first
        self.layer, self.blocks, offset = layer, [], 0
        for key in keys:
            size = int(np.prod(shapes[key], dtype=np.int64))
            self.blocks.append((f"{layer.name}.{key}", key, slice(offset, offset + size)))
            offset += size
        self.theta, self.grad = np.zeros(offset), np.zeros(offset)
        layer.bind({k: self.theta[s].reshape(shapes[k]) for _, k, s in self.blocks},
                   {k: self.grad[s].reshape(shapes[k]) for _, k, s in self.blocks})
        layer.init_params(rng)

    def backward(self, R, input_grad):
        if hasattr(self.layer, "input_grad"):  # a layer with parameters may skip dX when not asked for it
            self.layer.input_grad = input_grad
        return self.layer.backward(R.copy())

    def compute(self, X, R):
        self.grad.fill(0.0)
        Y = self.layer.forward(X, training=True)
        J = float(np.sum(R * Y)) + self.layer.penalty
        self.backward(R, input_grad=False)
        return J


def check_layer(layer, X, random_state=0, eps=1e-4, tol=DEFAULT_TOL, name=None):
    r"""Check one layer's backward pass against its forward pass.

    The scalar checked is :math:`J = \sum_{n,k} R_{nk} Y_{nk} + P`, with
    :math:`Y` = ``layer.forward(X)``, :math:`R` a fixed random matrix and
    :math:`P` the layer's penalty, so :math:`\partial J/\partial Y = R`. Both the
    input gradient ``dX`` and every parameter gradient are checked. The layer's
    parameters are bound to one flat ``theta`` (initialised from ``random_state``).
    """
    rng = np.random.default_rng(random_state)
    X = np.array(X, dtype=np.float64)
    net = _OneLayer(layer, rng)
    R = rng.standard_normal(np.shape(layer.forward(X.copy(), training=True)))

    J = net.compute(X, R)
    analytic = {name_: net.grad[s].copy() for name_, _, s in net.blocks}
    layer.forward(X.copy(), training=True)
    # a copy: a layer may return dX in a buffer it reuses, which every later f() (a training pass
    # with its backward) would overwrite with the gradient at the perturbed point
    analytic["dX"] = np.array(net.backward(R, input_grad=True), copy=True)

    def f():
        return net.compute(X, R)

    _require_deterministic(f, J)
    specs = {"dX": _spec(f, X, analytic["dX"], eps)}
    for name_, _, s in net.blocks:
        specs[name_] = _spec(f, net.theta[s], analytic[name_], eps)
    return _result(name or repr(layer), specs, tol, eps, set(type(layer).__mro__), J)


def check_loss(loss, Y, T, eps=1e-4, tol=DEFAULT_TOL, name=None):
    """Check a loss's ``backward()`` against its ``forward(Y, T)``, with respect to ``Y``."""
    Y = np.array(Y, dtype=np.float64)
    J = loss.forward(Y, T)
    analytic = loss.backward().copy()
    return _result(name or repr(loss), {"dY": _spec(lambda: loss.forward(Y, T), Y, analytic, eps)}, tol, eps,
                   {type(loss)}, J)
