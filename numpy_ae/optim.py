r"""Optimisers over a model's flat parameter vector.

Full-batch: :func:`lbfgs`, scipy's L-BFGS-B fed by ``loss_and_grad`` (as
scikit-learn's ``_loss_grad_lbfgs`` does), the optimiser UFLDL uses (minFunc).

Threads. NumPy and SciPy wheels each bundle their own OpenBLAS, each with its
own thread pool. During L-BFGS the two alternate many times per iteration
(NumPy's matrix products in the cost, SciPy's BLAS calls inside L-BFGS-B);
on a 2-core machine the idle pool's spinning threads steal the core the
other pool needs. :func:`lbfgs` therefore limits SciPy's BLAS to one thread
for the duration of the optimisation (its L-BFGS vectors are short, one
thread is plenty) and leaves NumPy's pool alone for the big products.
"""
from __future__ import annotations

import contextlib
import os
import time

import numpy as np
import scipy.optimize

from ._validation import check_positive_int

__all__ = ["lbfgs", "single_threaded_scipy_blas"]


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


def lbfgs(fun, theta0, max_iter=400, callback=None, verbose=0, ftol=None, gtol=1e-5, maxcor=10):
    r"""Minimise ``fun(theta) -> (J, grad)`` with scipy's L-BFGS-B.

    Parameters
    ----------
    fun : callable
        ``loss_and_grad``: returns the objective and its gradient, shape ``(P,)``.
    theta0 : ndarray of shape (P,)
        Starting point (not modified).
    max_iter : int
        Maximum number of L-BFGS iterations (UFLDL: 400). The number of
        function evaluations is capped at ``2 * max_iter + 20``.
    callback : callable or None
        Called as ``callback(iteration, cost)`` after every iteration.
    verbose : int
        Print ``iteration, cost, seconds`` every ``verbose`` iterations (0: silent).
    ftol, gtol, maxcor :
        scipy's stopping tolerances and memory size. ``ftol=None`` uses
        ``1e3 * machine epsilon`` (scipy's default factr=1e7 stops long before
        UFLDL's 400 iterations on the sparse autoencoder).

    Returns
    -------
    scipy.optimize.OptimizeResult
        With ``x``, ``fun``, ``nit``, ``nfev``, ``message``, and ``history``
        (the cost after each iteration).
    """
    max_iter = check_positive_int(max_iter, "max_iter")
    history = []
    start = time.perf_counter()

    def on_iteration(intermediate_result):
        history.append(float(intermediate_result.fun))
        k = len(history)
        if callback is not None:
            callback(k, history[-1])
        if verbose and (k % verbose == 0 or k == max_iter):
            print(f"  iter {k:5d}  cost {history[-1]:.6e}  {time.perf_counter() - start:7.2f} s", flush=True)

    def fun64(theta):  # L-BFGS-B works in float64 whatever the model's dtype
        J, g = fun(theta)
        if not np.isfinite(J):
            raise FloatingPointError(f"the objective became {J} during L-BFGS; check the input scaling "
                                     "or lower weight_decay/beta")
        return float(J), np.asarray(g, dtype=np.float64)

    options = {"maxiter": max_iter, "maxfun": 2 * max_iter + 20, "gtol": gtol, "maxcor": maxcor,
               "ftol": 1e3 * np.finfo(np.float64).eps if ftol is None else ftol}
    with single_threaded_scipy_blas():
        res = scipy.optimize.minimize(fun64, np.array(theta0, dtype=np.float64), jac=True,
                                      method="L-BFGS-B", callback=on_iteration, options=options)
    res.history = history
    return res
