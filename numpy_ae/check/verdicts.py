r"""Finite differences, and the verdict that tells finite-difference error from a wrong gradient.

The functions :mod:`numpy_ae.check.gradcheck` builds its checks from: :func:`numerical_gradient`
(centred differences, change and restore), :func:`rel_diff` (UFLDL's figure) and :func:`analyse`
(the verdict on one block over ``tol``). Imports nothing of the package.

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
"""
from __future__ import annotations
from dataclasses import dataclass, field
import numpy as np

__all__ = ['numerical_gradient', 'one_sided_differences', 'prober', 'rel_diff', 'BlockVerdict', 'analyse',
           'SAFETY', 'MAX_FD_ERROR', 'VERDICTS']

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


def one_sided_differences(f, x, h):
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


def prober(f, x):
    """``probe(h)``: the centred-difference gradient of ``f`` w.r.t. ``x`` at step ``h``;
    ``probe(h, one_sided=True)``: the forward and backward differences."""
    def probe(h, one_sided=False):
        return one_sided_differences(f, x, h) if one_sided else numerical_gradient(f, x, h)
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


def analyse(numeric, analytic, regrad, eps, tol, J=0.0):
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
