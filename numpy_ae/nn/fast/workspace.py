r"""Arrays the fast twins reuse from one training step to the next, owned by the training step.

Allocating a fresh output array per layer per step costs page faults that can
take as long as the arithmetic on them (``benchmarks/README.md``). So during
:meth:`numpy_ae.nn.Sequential.compute`, the training step, the model lends each
layer a *workspace*, a dict of arrays kept between steps, as ``layer.workspace``,
and takes it back when the step ends. :func:`buffer` hands out an array from it,
or a fresh one when no workspace is lent, so that

* a layer called by hand (``layer.forward(X)``, ``model.forward(X)``, a
  gradient check) always returns fresh arrays: nothing it returns is changed by
  a later call;
* inside the training step, arrays are reused, and nothing outside the step
  can hold one (the step returns a float and fills the model's ``grad``).
"""
from __future__ import annotations

import numpy as np

__all__ = ["buffer", "row_sum"]


def buffer(layer, key, shape, dtype):
    """An array of ``shape`` and ``dtype`` for ``layer``'s intermediate ``key`` (contents undefined).

    From the workspace the training step lent ``layer`` (the same array at
    every step while shape and dtype match), else a fresh ``np.empty``.
    """
    workspace = layer.workspace
    if workspace is None:
        return np.empty(shape, dtype=dtype)
    buf = workspace.get(key)
    if buf is None or buf.shape != tuple(shape) or buf.dtype != dtype:
        buf = workspace[key] = np.empty(shape, dtype=dtype)
    return buf


def row_sum(layer, dZ):
    r""":math:`\sum_n \delta_n` over the rows of a 2-D ``dZ``, as ``ones @ dZ``: one BLAS GEMV, faster
    than ``dZ.sum(axis=0)`` for tall arrays. Returns a fresh vector of ``dZ.shape[1]``."""
    ones = buffer(layer, "ones", (dZ.shape[0],), dZ.dtype)
    ones.fill(1.0)
    return ones @ dZ
