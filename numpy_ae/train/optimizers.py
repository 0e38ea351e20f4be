r"""Optimisers over a model's flat parameter vector.

Full-batch: :func:`lbfgs`, scipy's L-BFGS-B fed by ``loss_and_grad`` (as
scikit-learn's ``_loss_grad_lbfgs`` does), the optimiser UFLDL uses (minFunc).

Minibatch: :class:`SGD` (with momentum and Nesterov momentum) and
:class:`Adam`, in reference form (the update rules as written); their fast
twins, and :func:`~numpy_ae.train.fast_optimizers.make_optimizer` that picks
one, are in :mod:`numpy_ae.train.fast_optimizers`. They share one interface,
stated here once:

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
on a machine with few cores the idle pool's spinning threads steal the core
the other pool needs. :func:`lbfgs` therefore limits SciPy's BLAS to one thread
for the duration of the optimisation (its L-BFGS vectors are short, one
thread is plenty) and leaves NumPy's pool alone for the big products.
"""
from __future__ import annotations
import numpy as np
from .._validation import check_in_open_interval

__all__ = ['SGD', 'Adam']




_ARMIJO_C1 = 1e-3  # L-BFGS-B's sufficient-decrease constant (ftol of its line search dcsrch)


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
        v = self.state["velocity"] = mu * self._buffer("velocity", theta) - lr * grad
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

    The reference form: the equations above as written, fresh arrays for
    every term, the moments kept in ``state["m"]`` and ``state["v"]``. Its
    fast twin (:mod:`numpy_ae.train.fast_optimizers`) computes the same update
    in place, with the corrections folded into two scalars, on several threads.
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
        m = self.state["m"] = b1 * self._buffer("m", theta) + (1.0 - b1) * grad
        v = self.state["v"] = b2 * self._buffer("v", theta) + (1.0 - b2) * grad ** 2
        m_hat = m / (1.0 - b1 ** t)  # bias corrections (Python floats keep a float32 model in float32)
        v_hat = v / (1.0 - b2 ** t)
        theta -= self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)
