r"""Optimisers over a model's flat parameter vector.

Full-batch: :func:`lbfgs`, scipy's L-BFGS-B fed by ``loss_and_grad`` (as
scikit-learn's ``_loss_grad_lbfgs`` does), the optimiser UFLDL uses (minFunc).

Minibatch: :class:`SGD` (with momentum and Nesterov momentum) and
:class:`Adam`. They share one interface, stated here once:

``optimizer.step(theta, grad)``
    updates ``theta`` IN PLACE from the gradient ``grad`` (both flat arrays of
    the same shape and dtype, a model's ``theta`` and ``grad``). The optimiser
    keeps its own state (velocity, moments, step count), allocated at the
    first step; ``reset()`` forgets it.

Because ``theta`` is the one vector every layer views, an in-place step
updates the whole model with no packing or copying. Frozen parameters are
excluded by passing ``frozen`` (a boolean mask): their values are restored
after the step, so even momentum cannot move them.

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
import math
import os
import time
import warnings

import numpy as np
import scipy.optimize

from ._validation import check_in_open_interval, check_positive_int

__all__ = ["lbfgs", "single_threaded_scipy_blas", "SGD", "Adam", "make_optimizer"]


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


_ARMIJO_C1 = 1e-3  # L-BFGS-B's sufficient-decrease constant (ftol of its line search dcsrch)


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
    from .exceptions import ConvergenceWarning

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
            raise FloatingPointError(f"the objective became {J} during L-BFGS; check the input scaling "
                                     "or lower weight_decay/beta")
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
    struggle = ("Usual causes: a gradient that does not match the objective (check it with numpy_ae.gradcheck), "
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


def _check_learning_rate(learning_rate):
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) \
            or not np.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate must be a finite number > 0; got {learning_rate!r}")
    return float(learning_rate)


class _Optimizer:
    """Shared bookkeeping: state arrays allocated at the first step, frozen entries restored."""

    def reset(self):
        self.state = {}
        self.t = 0

    def _buffer(self, name, theta):
        buf = self.state.get(name)
        if buf is None or buf.shape != theta.shape or buf.dtype != theta.dtype:
            buf = self.state[name] = np.zeros_like(theta)
        return buf

    def step(self, theta, grad, frozen=None):
        """Update ``theta`` in place from ``grad``; entries where ``frozen`` is True keep their value."""
        kept = theta[frozen] if frozen is not None and frozen.any() else None
        self.t += 1
        self._update(theta, grad)
        if kept is not None:
            theta[frozen] = kept


class SGD(_Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum.

    Plain: :math:`\theta \leftarrow \theta - \eta g`.
    Momentum :math:`\mu`: :math:`v \leftarrow \mu v - \eta g,\ \theta \leftarrow \theta + v`.
    Nesterov (Sutskever et al. 2013, in the form that needs no look-ahead
    evaluation): :math:`v \leftarrow \mu v - \eta g,\ \theta \leftarrow \theta + \mu v - \eta g`.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        self.learning_rate = _check_learning_rate(learning_rate)
        if momentum != 0.0:
            check_in_open_interval(momentum, "momentum")
        self.momentum = float(momentum)
        if nesterov and not self.momentum:
            raise ValueError("nesterov=True needs a momentum in (0, 1); got momentum=0")
        self.nesterov = bool(nesterov)
        self.reset()

    def _update(self, theta, grad):
        lr, mu = self.learning_rate, self.momentum
        if not mu:
            theta -= lr * grad
            return
        v = self._buffer("velocity", theta)
        v *= mu
        v -= lr * grad
        if self.nesterov:
            theta += mu * v - lr * grad
        else:
            theta += v


class Adam(_Optimizer):
    r"""Adam (Kingma & Ba, 2015), bias-corrected, as in PyTorch's and Keras' defaults.

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g, \quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2, \quad
        \theta \leftarrow \theta - \eta\, \frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon}.

    Written with in-place operations on two scratch arrays: on a 270,000-parameter
    model one step then costs a few sweeps of memory, not a dozen temporaries.
    The bias corrections are folded into two scalars (Kingma & Ba's "more
    efficient order", the same number up to rounding):
    :math:`\theta \leftarrow \theta - \eta_t\, m / (\sqrt{v} + \hat\epsilon)` with
    :math:`\eta_t = \eta \sqrt{1-\beta_2^t} / (1-\beta_1^t)` and
    :math:`\hat\epsilon = \epsilon \sqrt{1-\beta_2^t}`.

    Speed: those scalars must be Python floats. A NumPy ``float64`` scalar in
    ``tmp *= c`` makes NumPy 2 (NEP 50) compute that float32 pass in float64:
    224 us instead of 31 us on 562,000 parameters. With Python floats and one
    pass less, a float32 step of the 784-300-150-300-784 autoencoder went from
    940 us to 690 us (of which 195 us is ``sqrt``, bound by the hardware).
    """

    def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.learning_rate = _check_learning_rate(learning_rate)
        self.beta1 = check_in_open_interval(beta1, "beta1")
        self.beta2 = check_in_open_interval(beta2, "beta2")
        if not epsilon > 0:
            raise ValueError(f"epsilon must be > 0; got {epsilon!r}")
        self.epsilon = float(epsilon)
        self.reset()

    def _update(self, theta, grad):
        b1, b2, t = self.beta1, self.beta2, self.t
        m, v, tmp = self._buffer("m", theta), self._buffer("v", theta), self._buffer("tmp", theta)
        m *= b1
        np.multiply(grad, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2
        np.square(grad, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        # lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps), multiplied above and below by sqrt(1 - b2^t)
        root_c2 = math.sqrt(1.0 - b2 ** t)  # a Python float: see the class docstring
        np.sqrt(v, out=tmp)
        tmp += self.epsilon * root_c2
        np.divide(m, tmp, out=tmp)
        tmp *= self.learning_rate * root_c2 / (1.0 - b1 ** t)
        theta -= tmp


def make_optimizer(method, learning_rate=None, momentum=0.9, nesterov=False):
    """``"adam"`` (default learning rate 1e-3) or ``"sgd"`` (0.01, momentum 0.9 unless given)."""
    if method == "adam":
        return Adam(1e-3 if learning_rate is None else learning_rate)
    if method == "sgd":
        return SGD(0.01 if learning_rate is None else learning_rate, momentum=momentum, nesterov=nesterov)
    raise ValueError(f"method must be 'lbfgs', 'adam' or 'sgd'; got {method!r}")
