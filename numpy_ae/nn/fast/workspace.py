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
  can hold one (the step returns a float and fills the model's ``grad``); there
  a twin's backward may also write into the gradient it was handed
  (:func:`writable`), which the step owns too.
"""
from __future__ import annotations

import numpy as np

__all__ = ["buffer", "row_sum", "writable"]


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


def writable(layer, dY):
    """Where a twin's ``backward`` may write its result, an array of ``dY``'s shape and dtype.

    Inside the training step (a workspace is lent), ``dY`` itself: every array
    passed between the layers of one step is the step's own (a buffer or a
    fresh array made in it) and nothing reads ``dY`` after the layer's
    backward, so writing in place saves a stream of memory traffic. On any
    other call, a fresh array: ``backward`` never changes the caller's ``dY``.
    """
    if layer.workspace is None:
        return np.empty_like(dY)
    return dY


def row_sum(layer, dZ):
    r""":math:`\sum_n \delta_n` over the rows of a 2-D ``dZ``, as ``ones @ dZ``: one BLAS GEMV, faster
    than ``dZ.sum(axis=0)`` for tall arrays. Returns a fresh vector of ``dZ.shape[1]``."""
    ones = buffer(layer, "ones", (dZ.shape[0],), dZ.dtype)
    ones.fill(1.0)
    return ones @ dZ
