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

Why a verdict and not just a threshold
--------------------------------------
A centred difference has two errors (Taylor expansion; :math:`u` the unit
roundoff, :math:`\delta_J \gtrsim u |J|` the rounding error of one evaluation of J):

.. math::
    g_i(h) - \partial_i J = \underbrace{\tfrac{h^2}{6}\,\partial_i^3 J + O(h^4)}_{\text{truncation}}
                          + \underbrace{O(\delta_J / h)}_{\text{rounding}} .

So when :math:`h` is divided by 10, truncation error falls 100-fold (like
:math:`h^2`), rounding error grows 10-fold (like :math:`1/h`), while the
discrepancy :math:`\partial_i J - a_i` of a WRONG gradient stays put. At a
trained point (small gradient) truncation alone can exceed 1e-9 at
:math:`h = 10^{-4}`, and at large scales rounding can: a plain threshold then
cries wolf. The checker therefore analyses every block whose :math:`r(h)` is
not below ``tol``:

1. It re-measures that block at the steps :math:`h_k = 10\,h, h, h/10, h/100,
   h/1000` (extended by up to two more decades when the best step lies at an
   end of the ladder). Blocks already below ``tol`` cost nothing extra.
2. If :math:`r(h_k) <` ``tol`` at some step, the gradient agrees there: the
   excess at ``eps`` was finite-difference error (verdict ``"fd_error"``).
3. Otherwise it estimates the finite-difference error at each inner step
   WITHOUT using the analytic gradient, from how much the numerical gradient
   moves when the step changes by 10, :math:`c_k = \lVert g(h_k) - g(h_{k+1})\rVert`:

   .. math:: E_k = \max\Bigl(\frac{c_{k-1}}{9},\ \frac{c_k}{9},\ \frac{\sqrt{n}\,u\,|J|}{h_k}\Bigr).

   Where truncation dominates, the error :math:`e_{k-1}` at the 10 times larger
   step is at least 10 times :math:`e_k` (100 times for a smooth function,
   10 times for one whose derivative has a kink within the step, such as ELU
   at 0), so :math:`c_{k-1} \ge |e_{k-1}| - |e_k| \ge 9 |e_k|`; where rounding
   dominates, :math:`e_{k+1}` is 10 times :math:`e_k` and :math:`c_k \approx 9`
   to :math:`11\,|e_k|`. Either way :math:`E_k \gtrsim |e_k|`, and a chance
   cancellation in one difference cannot hide the other. The last term is
   the least rounding error any step can have: :math:`J` itself is stored to
   :math:`u|J|/2` (:math:`n` elements in the block), which matters when
   :math:`J` is so large (1e22) that small steps do not change it at all.
   The best step :math:`k^*` minimises :math:`E_k`; the discrepancy there is
   :math:`D = \lVert g(h_{k^*}) - a\rVert`.
4. Verdict ``"wrong"`` iff :math:`D > K E_{k^*}` with :math:`K =` ``SAFETY`` = 10:
   the discrepancy is an order of magnitude beyond what the finite-difference
   error model explains at the best step. Otherwise ``"fd_error"`` when
   :math:`E_{k^*}` is at most ``MAX_FD_ERROR`` = 1e-5 of :math:`\lVert g + a\rVert`,
   else ``"inconclusive"``: no step gives a numerical gradient accurate
   enough to certify the block (its gradient is tiny next to :math:`J`'s
   rounding, a kink lies within :math:`h` of the point, or random noise is not
   frozen). ``"inconclusive"`` is not ``"wrong"``: ``CheckResult.ok`` stays True
   and ``CheckResult.conclusive`` is False.
5. Before calling a block wrong, its elements are tested for a kink exactly
   at the point (a ReLU input of exactly 0): there the centred difference is
   the mean of two different one-sided slopes at every step, so it stays put
   like a wrong gradient, but no derivative exists to check. Elements whose
   forward and backward differences disagree by a jump that does not shrink
   from :math:`h_{k^*}` to :math:`h_{k^*}/10` (see :func:`_kinks`) are set
   aside; if the rest agree, the verdict is ``"inconclusive"``.

Threshold, in words: ``"fd_error"`` certifies the block to a relative
:math:`K \cdot` ``MAX_FD_ERROR`` = 1e-4, and in practice to
:math:`K E_{k^*}/\lVert g + a\rVert`, typically 1e-6 to 1e-9 in float64
(printed in the report). So a bug a student can make by a factor (a missing
0.999 gives :math:`r = 5\cdot 10^{-4}`, a missing 1/N or a sign far more) is
never passed off as finite-difference error: it is ``"wrong"``, or, where no
step size gives an accurate enough numerical gradient, ``"inconclusive"``. A
bug below :math:`K E_{k^*}` cannot be told from finite-difference error by
any step size and is not claimed either way.

Cost: blocks below ``tol`` at ``eps`` cost nothing extra; a block analysed
costs 4 to 6 more numerical gradients of that block (8 more evaluations per
element), plus two one-sided passes before a verdict ``"wrong"``.

Registry: :func:`register` adds a named check (a function returning a
:class:`CheckResult`) and declares the layer and loss classes it covers;
``python -m numpy_ae gradcheck`` runs them all. The catalogue of registered
checks lives in :mod:`numpy_ae.check.catalogue`.
"""
from __future__ import annotations
from dataclasses import dataclass, field
import numpy as np

__all__ = ['numerical_gradient', 'rel_diff', 'CheckResult', 'BlockVerdict', 'check_model', 'check_layer', 'check_loss', 'check_function', 'DEFAULT_TOL', 'SAFETY', 'MAX_FD_ERROR', 'VERDICTS']



DEFAULT_TOL = 1e-9
SAFETY = 10.0        # K: "wrong" needs a discrepancy K times the finite-difference error bound
MAX_FD_ERROR = 1e-5  # "fd_error" needs a best-step error bound at most this, relative to ||g + a||
VERDICTS = ("ok", "fd_error", "wrong", "inconclusive")
_FLOOR = 1e-30  # keeps rel_diff defined when both gradients are exactly zero
_MAX_EXTRA_DECADES = 2


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


def _one_sided(f, x, h):
    r"""Forward and backward differences :math:`(J(x + h e_i) - J(x))/h` and :math:`(J(x) - J(x - h e_i))/h`
    (change and restore, as :func:`numerical_gradient`)."""
    flat = x.reshape(-1)
    f0 = f()
    fwd, bwd = np.zeros(flat.size), np.zeros(flat.size)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fwd[i] = (f() - f0) / h
        flat[i] = old - h
        bwd[i] = (f0 - f()) / h
        flat[i] = old
    return fwd, bwd


def _prober(f, x):
    """``probe(h)``: the centred-difference gradient of ``f`` w.r.t. ``x`` at step ``h``;
    ``probe(h, one_sided=True)``: the forward and backward differences."""
    def probe(h, one_sided=False):
        return _one_sided(f, x, h) if one_sided else numerical_gradient(f, x, h)
    return probe


def rel_diff(numeric, analytic):
    r"""UFLDL's norm-relative difference :math:`\lVert a - b\rVert / \lVert a + b\rVert`."""
    numeric = np.asarray(numeric, dtype=np.float64).ravel()
    analytic = np.asarray(analytic, dtype=np.float64).ravel()
    return float(np.linalg.norm(numeric - analytic) / max(np.linalg.norm(numeric + analytic), _FLOOR))


# --------------------------------------------------------------- verdicts
@dataclass
class BlockVerdict:
    r"""Why one parameter block passed or failed.

    Attributes
    ----------
    verdict : {"ok", "fd_error", "wrong", "inconclusive"}
        ``"ok"``: :math:`r(\epsilon) <` tol. ``"fd_error"``: over tol at
        :math:`\epsilon`, explained by finite-difference error (not a bug).
        ``"wrong"``: the analytic gradient is wrong. ``"inconclusive"``: the
        numerical gradient does not settle at any step size.
    cause : str or None
        For ``"fd_error"``: ``"truncation"`` (the excess falls like
        :math:`\epsilon^2` below ``eps``), ``"rounding"`` (it grows like
        :math:`1/\epsilon`) or ``"truncation at a kink"`` (it vanishes once the
        step no longer straddles a kink, e.g. of ReLU at 0).
    reason : str
        One line for the report: the measurements and the rule applied.
    rel_diffs : dict
        ``{step: r(step)}`` for every step measured (only ``eps`` for an ``"ok"`` block).
    best_eps, fd_error, discrepancy : float or None
        The best step :math:`h_{k^*}`, the error bound :math:`E_{k^*}` and the
        discrepancy :math:`D` there, both relative to :math:`\lVert g + a\rVert`.
    """

    verdict: str
    reason: str = ""
    cause: str = None
    rel_diffs: dict = field(default_factory=dict)
    best_eps: float = None
    fd_error: float = None
    discrepancy: float = None

    def to_dict(self):
        return {"verdict": self.verdict, "cause": self.cause, "reason": self.reason,
                "rel_diffs": {repr(float(h)): r for h, r in self.rel_diffs.items()},
                "best_eps": self.best_eps, "fd_error": self.fd_error, "discrepancy": self.discrepancy}


def _trend(r_big, r_small):
    """How r changed when the step was divided by 10."""
    if r_big >= 1e4 * r_small:
        return "drops abruptly (a kink inside the larger step)"
    if r_big >= 30.0 * r_small:
        return "falls like eps^2"
    if r_small >= 3.0 * r_big:
        return "grows like 1/eps"
    return "stays put"


def _analyse(numeric, analytic, regrad, eps, tol, J=0.0):
    r"""Verdict for one block whose :math:`r(\epsilon)` is not below ``tol`` (see the module docstring).

    ``regrad(h)`` recomputes the block's numerical gradient at step ``h`` (``regrad(h, one_sided=True)``
    its forward and backward differences); ``J`` is the objective's value at the point, for the
    rounding floor :math:`\sqrt{n}\,u |J| / h`.
    """
    a = np.ravel(analytic).astype(np.float64)
    grads = {eps: np.ravel(numeric)}
    steps = [eps * 10.0 ** j for j in (1, 0, -1, -2, -3)]  # descending

    def g(h):
        if h not in grads:
            grads[h] = np.ravel(regrad(h))
        return grads[h]

    floor = np.sqrt(a.size) * np.finfo(np.float64).eps * abs(J)  # J itself is stored to u|J|/2

    def bounds():
        c = [np.linalg.norm(g(steps[k]) - g(steps[k + 1])) for k in range(len(steps) - 1)]
        return [max(c[k - 1] / 9.0, c[k] / 9.0, floor / steps[k]) for k in range(1, len(steps) - 1)]

    for h in steps:
        g(h)
    E = bounds()
    for _ in range(_MAX_EXTRA_DECADES):  # the best step at an end of the ladder: look one decade further
        k = int(np.argmin(E))
        if k == 0:
            steps.insert(0, steps[0] * 10.0)
        elif k == len(E) - 1:
            steps.append(steps[-1] / 10.0)
        else:
            break
        g(steps[0]), g(steps[-1])
        E = bounds()

    r = {h: rel_diff(g(h), a) for h in steps}
    k_best = int(np.argmin(E)) + 1
    h_best = steps[k_best]
    scale = max(np.linalg.norm(g(h_best) + a), _FLOOR)
    D = np.linalg.norm(g(h_best) - a)
    fd, disc = float(E[k_best - 1] / scale), float(D / scale)

    i = steps.index(eps)
    shown = steps[max(i - 1, 0):i + 3]
    ladder = ", ".join(f"{r[h]:.1e} at eps {h:.0e}" for h in shown)
    below = steps[i + 1]
    trend = _trend(r[eps], r[below])
    cause = {"falls like eps^2": "truncation", "grows like 1/eps": "rounding",
             "drops abruptly (a kink inside the larger step)": "truncation at a kink"}.get(trend)
    why = f"rel_diff {ladder}: from eps {eps:.0e} to {below:.0e} it {trend}"
    detail = dict(rel_diffs=r, best_eps=h_best, fd_error=fd, discrepancy=disc)

    best_r = min(r.values())
    if best_r < tol:
        h_ok = min(r, key=r.get)
        if cause is None:  # the trend below eps was unclear: name the error the better step removed
            cause = "truncation" if h_ok < eps else "rounding"
        return BlockVerdict("fd_error", f"{why} -> {cause} error, not a bug (below tol at eps {h_ok:.0e}: "
                                        f"{best_r:.1e})", cause, **detail)
    kinks = _kinks(a, regrad, h_best, E[k_best - 1]) if D > SAFETY * E[k_best - 1] else None
    if kinks is not None and kinks.any():
        rest = np.linalg.norm((g(h_best) - a)[~kinks])
        if rest <= SAFETY * E[k_best - 1]:
            return BlockVerdict("inconclusive", f"{why}; not differentiable here: in {int(kinks.sum())} of "
                                                f"{a.size} elements the one-sided differences disagree by a "
                                                f"jump that does not shrink with eps (a kink exactly at this "
                                                f"point, e.g. a ReLU input of exactly 0), so no derivative "
                                                f"exists there to check; the other elements agree",
                                "kink at the point", **detail)
        D, disc = rest, float(rest / scale)  # judge the elements that have a derivative
        detail["discrepancy"] = disc
        why += f"; {int(kinks.sum())} element(s) at a kink set aside"
    if D > SAFETY * E[k_best - 1]:
        return BlockVerdict("wrong", f"{why}; at the best step {h_best:.0e} the finite-difference error is at "
                                     f"most {fd:.1e} but the discrepancy is {disc:.1e} "
                                     f"(> {SAFETY:g}x) -> wrong gradient", None, **detail)
    if fd > MAX_FD_ERROR:
        return BlockVerdict("inconclusive", f"{why}; the numerical gradient changes by {fd:.1e} (relative) "
                                            f"between steps even at the best step {h_best:.0e}: it cannot confirm "
                                            "this gradient (a kink within eps of the point? noise not frozen? a "
                                            "gradient below rounding level?)", None, **detail)
    if cause is None:
        cause = "truncation" if h_best < eps else "rounding"
    return BlockVerdict("fd_error", f"{why} -> {cause} error, not a bug: at the best step {h_best:.0e} the "
                                    f"discrepancy {disc:.1e} is within {SAFETY:g}x the finite-difference error "
                                    f"bound {fd:.1e} (a bug above {SAFETY * fd:.0e} would show)", cause, **detail)


def _kinks(a, regrad, h, E):
    r"""Elements of the block at which the objective is not differentiable (a kink exactly at the point).

    A kink at the point (a ReLU input exactly 0, e.g. a zero bias on an input row zeroed by masking
    noise) makes the centred difference the mean of the two one-sided slopes at every step, so it
    "stays put" like a wrong gradient, and the derivative the analytic gradient should match does not
    exist. It shows in the one-sided differences: for a smooth function they differ by about
    :math:`h |J''|` (shrinking 10-fold with the step) plus rounding (at most about 20 times the
    element's share :math:`E/\sqrt{n}` of the error bound at :math:`h/10`); at a kink by a jump that
    stays. An element counts as a kink when, at :math:`h` and :math:`h/10`, the gap exceeds 100 times
    that share and does not shrink below half its value. Its analytic value is then not judged: with
    several ReLU units at 0, the usual convention :math:`\max(0, z)' = 0` at 0 need not even lie
    between the one-sided slopes. (Left undetected: an element whose one-sided slopes happen to agree
    although the kinks of several units make the objective non-differentiable around it.)
    """
    share = E / np.sqrt(a.size)
    gaps = []
    for step in (h, h / 10.0):
        fwd, bwd = regrad(step, one_sided=True)
        gaps.append(np.abs(fwd - bwd))
    return (gaps[0] > 100 * share) & (gaps[1] > 100 * share) & (gaps[1] >= 0.5 * gaps[0])


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
            verdicts[k] = _analyse(n, a, regrad, eps, tol, J)
    num = np.concatenate([np.ravel(n) for n, _, _ in specs.values()])
    ana = np.concatenate([np.ravel(a) for _, a, _ in specs.values()])
    return CheckResult(name, rel_diff(num, ana), tol, blocks, verdicts, eps, frozenset(classes))


def _spec(f, x, analytic, eps):
    """``(numeric, analytic, regrad)`` for the array ``x`` that ``f()`` reads."""
    return numerical_gradient(f, x, eps), analytic, _prober(f, x)


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
        specs[b.name] = (numeric[b.slice], analytic[b.slice], _prober(f, view))
    return _result(name, specs, tol, eps, _classes_of(model), J)


def check_layer(layer, X, random_state=0, eps=1e-4, tol=DEFAULT_TOL, name=None):
    r"""Check one layer's backward pass against its forward pass.

    The scalar checked is :math:`J = \sum_{n,k} R_{nk} Y_{nk} + P`, with
    :math:`Y` = ``layer.forward(X)``, :math:`R` a fixed random matrix and
    :math:`P` the layer's penalty, so :math:`\partial J/\partial Y = R`. Both the
    input gradient ``dX`` and every parameter gradient are checked. A layer with
    parameters is wrapped in a one-layer :class:`~numpy_ae.nn.sequential.Sequential` to
    get its flat ``theta``.
    """
    from ..nn.sequential import Sequential

    class _Probe:  # J = sum(R * Y): a "loss" whose gradient is R
        def forward(self, Y, T):
            return float(np.sum(R * Y))

        def backward(self):
            return R.copy()

    rng = np.random.default_rng(random_state)
    X = np.array(X, dtype=np.float64)
    net = Sequential([layer], _Probe(), random_state=rng)
    R = rng.standard_normal(np.shape(layer.forward(X.copy(), training=True)))

    J = net.compute(X)
    analytic = {b.name: net.grad[b.slice].copy() for b in net.blocks}
    net.forward(X.copy(), training=True)
    # a copy: a layer may return dX in a scratch buffer it reuses, which every later f() (a training pass
    # with its backward) would overwrite with the gradient at the perturbed point
    analytic["dX"] = net.backward(R.copy(), input_grad=True).copy()

    def f():
        return net.compute(X)

    _require_deterministic(f, J)
    specs = {"dX": _spec(f, X, analytic["dX"], eps)}
    for b in net.blocks:
        specs[b.name] = _spec(f, net.theta[b.slice], analytic[b.name], eps)
    return _result(name or repr(layer), specs, tol, eps, set(type(layer).__mro__), J)


def check_loss(loss, Y, T, eps=1e-4, tol=DEFAULT_TOL, name=None):
    """Check a loss's ``backward()`` against its ``forward(Y, T)``, with respect to ``Y``."""
    Y = np.array(Y, dtype=np.float64)
    J = loss.forward(Y, T)
    analytic = loss.backward().copy()
    return _result(name or repr(loss), {"dY": _spec(lambda: loss.forward(Y, T), Y, analytic, eps)}, tol, eps,
                   {type(loss)}, J)
