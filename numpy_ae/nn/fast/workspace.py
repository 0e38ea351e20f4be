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

__all__ = ["buffer", "buffer_in", "buffer_like", "memory_order", "row_sum", "writable"]


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


def memory_order(A):
    """The axes of ``A`` from the slowest-varying in memory to the fastest (by decreasing stride; ties,
    as for axes of length 1, keep their logical order): ``(0, 1, 2, 3)`` for a C-ordered image batch,
    ``(0, 2, 3, 1)`` for one stored channels last."""
    return tuple(sorted(range(A.ndim), key=lambda a: (-abs(A.strides[a]) if A.shape[a] > 1 else 0, a)))


def buffer_in(layer, key, shape, dtype, order):
    """:func:`buffer` indexed as ``shape`` whose axes lie in memory in the order ``order`` (slowest
    first): ``buffer_in(layer, "Y", (N, C, H, W), dtype, (0, 2, 3, 1))`` is indexed ``[n, c, y, x]``
    and stored ``(N, H, W, C)``."""
    stored = buffer(layer, key, [shape[a] for a in order], dtype)
    return stored if tuple(order) == tuple(range(len(order))) else stored.transpose(np.argsort(order))


def buffer_like(layer, key, like, shape=None, dtype=None):
    """:func:`buffer` indexed as ``shape`` (default ``like.shape``) and stored in ``like``'s memory order.

    An element-wise pass runs fastest when its operands share one memory order, so a twin that works
    element by element keeps the order its input came in (a channels-last image stays channels last).
    """
    return buffer_in(layer, key, like.shape if shape is None else tuple(shape),
                     like.dtype if dtype is None else dtype, memory_order(like))


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
