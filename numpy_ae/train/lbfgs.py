r"""L-BFGS over scipy.optimize on the model's flat parameter vector.
"""
from __future__ import annotations
import contextlib
import os
import time
import warnings
import numpy as np
import scipy.optimize
from .._validation import check_positive_int
from .optimizers import _ARMIJO_C1
from ..exceptions import ConvergenceWarning, TrainingDiverged

__all__ = ['lbfgs', 'single_threaded_scipy_blas']




@contextlib.contextmanager
def single_threaded_scipy_blas():
    """Limit the BLAS bundled with SciPy (not NumPy's) to one thread inside the block.

    Only a BLAS library that lives inside SciPy's own installation (the
    ``scipy.libs`` folder of a wheel) is limited; when NumPy and SciPy share one
    system BLAS there is no second pool to fight with and nothing changes.
    """
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # threadpoolctl is a dependency, but stay usable without it
        yield
        return
    scipy_dir = os.path.dirname(os.path.abspath(scipy.__file__))
    libs = [lib for lib in ThreadpoolController().select(user_api="blas").lib_controllers
            if os.path.abspath(lib.filepath).startswith((scipy_dir + os.sep, scipy_dir + ".libs" + os.sep))]
    old = [(lib, lib.num_threads) for lib in libs]
    try:
        for lib, _ in old:
            lib.set_num_threads(1)
        yield
    finally:
        for lib, n in old:
            lib.set_num_threads(n)


def lbfgs(fun, theta0, max_iter=400, callback=None, verbose=0, ftol=None, gtol=1e-5, maxcor=10, max_fun=None):
    r"""Minimise ``fun(theta) -> (J, grad)`` with scipy's L-BFGS-B, and say why it stopped.

    Parameters
    ----------
    fun : callable
        ``loss_and_grad``: returns the objective and its gradient, shape ``(P,)``.
    theta0 : ndarray of shape (P,)
        Starting point (not modified).
    max_iter : int
        Maximum number of L-BFGS iterations (UFLDL: 400).
    callback : callable or None
        Called as ``callback(iteration, cost)`` after every iteration.
    verbose : int
        Print ``iteration, cost, seconds`` every ``verbose`` iterations (0: silent).
    ftol, gtol, maxcor :
        scipy's stopping tolerances and memory size. ``ftol=None`` uses
        ``1e3 * machine epsilon`` (scipy's default factr=1e7 stops long before
        UFLDL's 400 iterations on the sparse autoencoder).
    max_fun : int or None
        Cap on the number of evaluations of ``fun``; None: ``2 * max_iter + 20``.
        A healthy run needs about 1.05 evaluations per iteration (the unit step
        is almost always accepted), so the cap only binds when line searches
        keep struggling, and then it is a runaway guard (at most twice the time
        of the iterations asked for). Reaching it before ``max_iter`` is an
        early stop and is reported as one.

    Returns
    -------
    scipy.optimize.OptimizeResult
        scipy's ``x``, ``fun``, ``nit``, ``nfev``, ``message``, and

        ``history`` : list of float
            the cost after each iteration;
        ``converged`` : bool
            scipy met its tolerances (projected gradient below ``gtol``, or a
            relative reduction of the objective below ``ftol`` after a step that
            passed the line search);
        ``stopped_early`` : bool
            ended before ``max_iter`` iterations without meeting the tolerances:
            a line search that failed, or the evaluation cap. Reaching
            ``max_iter`` is neither converged nor stopped early (UFLDL runs a
            fixed 400 iterations). A stop asked for by ``callback`` (raising
            ``StopIteration``) is not an early stop either.

    Warns
    -----
    numpy_ae.exceptions.ConvergenceWarning
        When ``stopped_early``, naming the iterations done, ``max_iter``, the
        evaluations, scipy's message and a hint. ``stacklevel=2``: the warning
        points at the caller of ``lbfgs``.

    Notes
    -----
    A failed line search can look like convergence. When the line search
    (Moré-Thuente's ``dcsrch``) cannot find a step with sufficient decrease,

    .. math:: J(\theta + s) \le J(\theta) + c_1\, \nabla J(\theta)^\top s, \qquad c_1 = 10^{-3},

    it may end with a warning ("rounding errors prevent progress", "xtol test
    satisfied") that L-BFGS-B treats as a new iterate; the objective then did
    not decrease, and scipy reports "CONVERGENCE: RELATIVE REDUCTION OF F".
    That is how a float32 sparse autoencoder whose objective was too noisy
    stopped after 24 of 400 iterations with ``success=True``. So a relative-
    reduction stop counts as converged only if the last step passed the test
    above (checked here from the last two iterates); otherwise it is an early
    stop.
    """
    max_iter = check_positive_int(max_iter, "max_iter")
    max_fun = 2 * max_iter + 20 if max_fun is None else check_positive_int(max_fun, "max_fun")
    history = []
    start = time.perf_counter()
    last_eval = []     # [(theta, J, grad)] of the latest evaluation
    fun_dtypes = set()  # dtypes of the gradients fun returned, for the hint
    iterates = []      # the last two iterates (theta, J, grad): the line search's start and end

    def fun64(theta):  # L-BFGS-B works in float64 whatever the model's dtype
        J, g = fun(theta)
        if not np.isfinite(J):
            raise TrainingDiverged(f"the objective became {J} during L-BFGS (after iteration {len(history)}); "
                                   "check the input scaling or lower weight_decay/beta")
        fun_dtypes.add(np.asarray(g).dtype)
        J, g = float(J), np.asarray(g, dtype=np.float64)
        last_eval[:] = [(theta.copy(), J, g)]
        if not iterates:  # the first evaluation is at theta0
            iterates.append(last_eval[0])
        return J, g

    def on_iteration(intermediate_result):
        iterates[:] = [iterates[-1], last_eval[0]]  # the accepted point is the last one evaluated
        history.append(float(intermediate_result.fun))
        k = len(history)
        if callback is not None:
            callback(k, history[-1])
        if verbose and (k % verbose == 0 or k == max_iter):
            print(f"  iter {k:5d}  cost {history[-1]:.6e}  {time.perf_counter() - start:7.2f} s", flush=True)

    options = {"maxiter": max_iter, "maxfun": max_fun, "gtol": gtol, "maxcor": maxcor,
               "ftol": 1e3 * np.finfo(np.float64).eps if ftol is None else ftol}
    with single_threaded_scipy_blas():
        res = scipy.optimize.minimize(fun64, np.array(theta0, dtype=np.float64), jac=True,
                                      method="L-BFGS-B", callback=on_iteration, options=options)
    res.history = history
    res.message = res.message.decode() if isinstance(res.message, bytes) else str(res.message)
    _explain_stop(res, iterates, max_iter, max_fun, fun_dtypes)
    if res.stopped_early:
        warnings.warn(f"L-BFGS stopped early: {res.nit} of max_iter={max_iter} iterations, {res.nfev} "
                      f"evaluations; scipy says {res.message!r}. {res.hint}", ConvergenceWarning, stacklevel=2)
    return res


def _explain_stop(res, iterates, max_iter, max_fun, fun_dtypes):
    """Set ``res.converged``, ``res.stopped_early`` and ``res.hint`` (see :func:`lbfgs`)."""
    res.hint = ""
    user_stop = "CALLBACK" in res.message.upper()
    res.converged = bool(res.status == 0)
    if res.converged and "RELATIVE REDUCTION" in res.message.upper() and len(iterates) == 2:
        (x0, f0, g0), (x1, f1, _) = iterates
        if not f1 - f0 <= _ARMIJO_C1 * float(g0 @ (x1 - x0)):
            res.converged = False
            res.message += (f" (but the last line search failed: the objective went from {f0!r} to {f1!r}, "
                            "not the sufficient decrease L-BFGS-B asks for)")
    res.stopped_early = bool(not res.converged and res.nit < max_iter and not user_stop)
    if not res.stopped_early:
        return
    struggle = ("Usual causes: a gradient that does not match the objective (check it with numpy_ae.check.gradcheck), "
                "or an objective too noisy (rounding) for the small decrease the line search needs")
    if any(np.dtype(d).itemsize < 8 for d in fun_dtypes if np.dtype(d).kind == "f"):
        struggle += " (the objective was computed in float32: try dtype='float64')."
    else:
        struggle += " (near a minimum, rounding in float64 can do it: then a larger gtol stops cleanly)."
    if res.nfev > max_fun:
        res.hint = (f"The evaluation cap max_fun={max_fun} was reached: the line searches took "
                    f"{res.nfev / max(res.nit, 1):.1f} evaluations per iteration (about 1.05 is normal). "
                    f"Pass a larger max_fun, or find out why they struggle. {struggle}")
    else:
        res.hint = f"The line search found no step that decreases the objective enough. {struggle}"
