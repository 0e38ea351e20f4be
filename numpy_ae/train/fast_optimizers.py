r"""The fast twins of the optimisers: the same update rules, in place, on several threads.

Each twin subclasses its reference class in :mod:`numpy_ae.train.optimizers`
(same name, same parameters and state names) and overrides only ``_update``:

* scratch arrays owned by the optimiser, every operation ``out=``/in place
  (a few sweeps of memory per step, no temporaries);
* Adam's bias corrections folded into two scalars (Kingma & Ba's "more
  efficient order": the same number up to rounding, one pass less):
  :math:`\theta \leftarrow \theta - \eta_t\, m / (\sqrt{v} + \hat\epsilon)` with
  :math:`\eta_t = \eta \sqrt{1-\beta_2^t} / (1-\beta_1^t)` and
  :math:`\hat\epsilon = \epsilon \sqrt{1-\beta_2^t}`, Python floats (a NumPy
  ``float64`` scalar would make NumPy 2 compute a float32 pass in float64);
* the flat ``theta`` cut into contiguous chunks updated by
  :func:`numpy_ae.train.threads.chunked` on :func:`~numpy_ae.train.threads.num_threads`
  threads (for vectors long enough to pay), each chunk in blocks of :data:`BLOCK`
  elements so that the dozen passes of an update stay in cache: element-wise,
  so the bits do not depend on the thread count or the block size.

``tests/train/test_optim.py`` checks each twin against its reference to
round-off, and bitwise across thread counts.
"""
from __future__ import annotations

import math

import numpy as np

from . import optimizers
from .threads import chunked

__all__ = ["SGD", "Adam", "make_optimizer"]


BLOCK = 1 << 16  # elements per pass: the dozen passes of an update stay in cache, so memory is read once


def _in_blocks(fn, s):
    """``fn`` on consecutive blocks of at most :data:`BLOCK` elements of the slice ``s`` (the same bits)."""
    for a in range(s.start, s.stop, BLOCK):
        fn(slice(a, min(a + BLOCK, s.stop)))


class SGD(optimizers.SGD):
    """:class:`numpy_ae.train.optimizers.SGD`, in place and on several threads."""

    def _update(self, theta, grad):
        lr, mu, nesterov = self.learning_rate, self.momentum, self.nesterov
        v = self._buffer("velocity", theta) if mu else None
        tmp = self._buffer("tmp", theta)

        def part(s):
            ts, th = tmp[s], theta[s]
            np.multiply(grad[s], lr, out=ts)
            if not mu:
                th -= ts
                return
            vs = v[s]
            vs *= mu  # v = mu v - lr g
            vs -= ts
            if nesterov:  # theta += mu v - lr g
                th -= ts
                np.multiply(vs, mu, out=ts)
                th += ts
            else:
                th += vs

        chunked(lambda s: _in_blocks(part, s), theta.shape[0])


class Adam(optimizers.Adam):
    """:class:`numpy_ae.train.optimizers.Adam`, in place, corrections folded, on several threads."""

    def _update(self, theta, grad):
        b1, b2, t = self.beta1, self.beta2, self.t
        m, v, tmp = self._buffer("m", theta), self._buffer("v", theta), self._buffer("tmp", theta)
        c1, c2 = 1.0 - b1 ** t, 1.0 - b2 ** t  # Python floats: see the module docstring
        eps, scale = self.epsilon * math.sqrt(c2), self.learning_rate * math.sqrt(c2) / c1

        def block(s):
            ms, vs, ts, g = m[s], v[s], tmp[s], grad[s]
            ms *= b1  # m = b1 m + (1 - b1) g
            np.multiply(g, 1.0 - b1, out=ts)
            ms += ts
            vs *= b2  # v = b2 v + (1 - b2) g^2
            np.square(g, out=ts)
            ts *= 1.0 - b2
            vs += ts
            np.sqrt(vs, out=ts)  # theta -= scale m / (sqrt(v) + eps)
            ts += eps
            np.divide(ms, ts, out=ts)
            ts *= scale
            theta[s] -= ts

        chunked(lambda s: _in_blocks(block, s), theta.shape[0])


def make_optimizer(method, learning_rate=None, momentum=0.9, nesterov=False, fast=True):
    """``"adam"`` (default learning rate 1e-3) or ``"sgd"`` (0.01, momentum 0.9 unless given): the fast twin,
    or with ``fast=False`` the reference form of :mod:`numpy_ae.train.optimizers`."""
    family = {"Adam": Adam, "SGD": SGD} if fast else {"Adam": optimizers.Adam, "SGD": optimizers.SGD}
    if method == "adam":
        return family["Adam"](1e-3 if learning_rate is None else learning_rate)
    if method == "sgd":
        return family["SGD"](0.01 if learning_rate is None else learning_rate, momentum=momentum, nesterov=nesterov)
    raise ValueError(f"method must be 'lbfgs', 'adam' or 'sgd'; got {method!r}")
