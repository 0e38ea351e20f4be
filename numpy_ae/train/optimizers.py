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
on a machine with few cores the idle pool's spinning threads steal the core
the other pool needs. :func:`lbfgs` therefore limits SciPy's BLAS to one thread
for the duration of the optimisation (its L-BFGS vectors are short, one
thread is plenty) and leaves NumPy's pool alone for the big products.
"""
from __future__ import annotations
import math
import numpy as np
from .._validation import check_in_open_interval

__all__ = ['SGD', 'Adam', 'make_optimizer']




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

    Written with in-place operations on scratch arrays (a few sweeps of memory
    per step, no temporaries). The bias-corrected moments
    :math:`\hat m = m / (1-\beta_1^t)` and :math:`\hat v = v / (1-\beta_2^t)` are
    not stored: their corrections are folded into two scalars (Kingma & Ba's
    "more efficient order", the same number up to rounding, one pass over memory
    less), :math:`\theta \leftarrow \theta - \eta_t\, m / (\sqrt{v} + \hat\epsilon)` with
    :math:`\eta_t = \eta \sqrt{1-\beta_2^t} / (1-\beta_1^t)` and
    :math:`\hat\epsilon = \epsilon \sqrt{1-\beta_2^t}`. Those scalars are Python
    floats: a NumPy ``float64`` scalar would make NumPy 2 (NEP 50) compute a
    float32 pass in float64 (``benchmarks/README.md``).
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
        m *= b1  # m = b1 m + (1 - b1) g
        np.multiply(grad, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2  # v = b2 v + (1 - b2) g^2
        np.square(grad, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        # m_hat = m / c1, v_hat = v / c2;  theta -= lr m_hat / (sqrt(v_hat) + eps), which is
        # theta -= (lr sqrt(c2) / c1) m / (sqrt(v) + eps sqrt(c2)): multiplied above and below by sqrt(c2)
        c1, c2 = 1.0 - b1 ** t, 1.0 - b2 ** t  # Python floats: see the class docstring
        np.sqrt(v, out=tmp)
        tmp += self.epsilon * math.sqrt(c2)
        np.divide(m, tmp, out=tmp)
        tmp *= self.learning_rate * math.sqrt(c2) / c1
        theta -= tmp


def make_optimizer(method, learning_rate=None, momentum=0.9, nesterov=False):
    """``"adam"`` (default learning rate 1e-3) or ``"sgd"`` (0.01, momentum 0.9 unless given)."""
    if method == "adam":
        return Adam(1e-3 if learning_rate is None else learning_rate)
    if method == "sgd":
        return SGD(0.01 if learning_rate is None else learning_rate, momentum=momentum, nesterov=nesterov)
    raise ValueError(f"method must be 'lbfgs', 'adam' or 'sgd'; got {method!r}")
