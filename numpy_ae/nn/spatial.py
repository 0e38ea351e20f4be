r"""Layers on images: pooling, upsampling, and the reshapes between images and vectors.

All image arrays are channels first, ``(N, C, H, W)`` (as PyTorch and CS231n):
``N`` examples, ``C`` channels, ``H`` rows, ``W`` columns. None of these
layers has parameters; each follows the protocol of :mod:`numpy_ae.nn.layer`
(``forward(X, training)`` caches what ``backward(dY)`` needs and
``backward`` returns :math:`\partial J/\partial X`).

* :class:`MaxPool2D` keeps the largest value of each window; its backward
  pass sends each output's gradient to the position of that maximum.
* :class:`Upsample2D` repeats each pixel into an ``s x s`` block (nearest
  neighbour); its backward pass sums the gradient over each block (the adjoint).
* :class:`Flatten` and :class:`Reshape` move between ``(N, C, H, W)`` images
  and the ``(N, D)`` rows that :class:`~numpy_ae.nn.dense.Dense` reads; their
  backward passes reshape the gradient back.
"""
from __future__ import annotations
import math
import numbers
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._validation import check_positive_int
from .layer import Layer

__all__ = ['MaxPool2D', 'Upsample2D', 'Flatten', 'Reshape']


def _check_images(X, who):
    """Require a 4-D ``(N, C, H, W)`` array."""
    if np.ndim(X) != 4:
        raise ValueError(f"{who}: X must be a 4-D array (N, C, H, W) (channels first); got shape {np.shape(X)}")


class MaxPool2D(Layer):
    r"""Max pooling over ``p x p`` windows moved by ``s`` pixels (``p`` = ``pool_size``, ``s`` = ``stride``).

    Shapes: ``X (N, C, H, W)`` to ``Y (N, C, H_out, W_out)`` with

    .. math::
        H_{out} = \lfloor (H - p)/s \rfloor + 1, \qquad W_{out} = \lfloor (W - p)/s \rfloor + 1,

    .. math::
        Y_{n,c,i,j} = \max_{0 \le a, b < p} X_{n,c,\,is + a,\,js + b} .

    Rows and columns past the last full window are dropped (floor mode, as
    PyTorch's default) and get a zero gradient.

    Backward. Let :math:`(a^*, b^*)` be the position of the maximum in window
    :math:`(i, j)`. The max is locally the identity on that one entry, so

    .. math::
        \frac{\partial J}{\partial X_{n,c,r,q}} = \sum_{i,j:\; (is + a^*, js + b^*) = (r, q)}
        \frac{\partial J}{\partial Y_{n,c,i,j}} :

    each output's gradient goes to its maximum's position, and when windows
    overlap (``stride < pool_size``) one input may be the maximum of several
    windows and receives the SUM of their gradients.

    Ties: when a window holds its maximum more than once, the whole gradient
    goes to ONE position, the first in the window in row-major order (smallest
    ``a``, then smallest ``b``): ``np.argmax`` over the flattened window here,
    and in the fast twin a running maximum that moves only on a strictly larger
    value. That is one valid subgradient; at a tie the max is not differentiable, so a gradient check
    must use inputs without ties.

    Parameters
    ----------
    pool_size : int >= 1
        Side ``p`` of the square window.
    stride : int >= 1 or None
        Step ``s`` between windows; None means ``pool_size`` (non-overlapping
        windows). ``stride < pool_size`` gives overlapping windows.
    """

    rows_independent = True  # see numpy_ae.train.parallel

    def __init__(self, pool_size=2, stride=None):
        self.pool_size = check_positive_int(pool_size, "pool_size")
        self.stride = self.pool_size if stride is None else check_positive_int(stride, "stride")

    def output_shape(self, H, W):
        """``(H_out, W_out)`` for an ``H x W`` input."""
        p, s = self.pool_size, self.stride
        return (H - p) // s + 1, (W - p) // s + 1

    def _check_input(self, X):
        """ValueError unless ``X`` is ``(N, C, H, W)`` with ``H, W >= pool_size``."""
        _check_images(X, "MaxPool2D")
        H, W = X.shape[2:]
        p = self.pool_size
        if p > H or p > W:
            raise ValueError(f"MaxPool2D: pool_size must be <= the input's height and width (H={H}, W={W}); "
                             f"got {p}")

    def _windows(self, X):
        """The windows ``(N, C, H_out, W_out, p, p)`` of ``X`` (a read-only view)."""
        p, s = self.pool_size, self.stride
        return sliding_window_view(X, (p, p), axis=(2, 3))[:, :, ::s, ::s]

    def forward(self, X, training=True):
        self._check_input(X)
        p = self.pool_size
        windows = self._windows(X)
        k = windows.reshape(windows.shape[:4] + (p * p,)).argmax(axis=-1)  # a* p + b* of each window
        self.mask = (np.arange(p * p) == k[..., None]).reshape(windows.shape)  # 1 at each window's maximum
        self.X_shape, self.dtype = X.shape, X.dtype
        return windows.max(axis=(4, 5))

    def backward(self, dY):
        r"""``dX[:, :, i s + a, j s + b] += dY[:, :, i, j] * mask[:, :, i, j, a, b]``, one ``+=`` per
        offset ``(a, b)``: overlapping windows add up."""
        p, s = self.pool_size, self.stride
        Ho, Wo = dY.shape[2:]
        dX = np.zeros(self.X_shape, dtype=self.dtype)
        for a in range(p):
            for b in range(p):
                dX[:, :, a:a + s * (Ho - 1) + 1:s, b:b + s * (Wo - 1) + 1:s] += dY * self.mask[:, :, :, :, a, b]
        return dX

    def __repr__(self):
        return f"MaxPool2D(pool_size={self.pool_size}, stride={self.stride})"


class Upsample2D(Layer):
    r"""Nearest-neighbour upsampling by an integer factor ``s`` (``scale``).

    Shapes: ``X (N, C, H, W)`` to ``Y (N, C, sH, sW)``,
    :math:`Y_{n,c,r,q} = X_{n,c,\lfloor r/s \rfloor,\lfloor q/s \rfloor}`
    (each pixel repeated into an ``s x s`` block, ``np.repeat`` on both axes).

    Backward: :math:`Y = U X` is linear, and its gradient is the adjoint
    :math:`U^\top`, which sums each block:

    .. math::
        \frac{\partial J}{\partial X_{n,c,i,j}} = \sum_{0 \le a, b < s}
        \frac{\partial J}{\partial Y_{n,c,\,is + a,\,js + b}},

    computed as a reshape to ``(N, C, H, s, W, s)`` and a sum over the two
    ``s`` axes; so :math:`\langle U x, y\rangle = \langle x, U^\top y\rangle`.

    Parameters
    ----------
    scale : int >= 1
    """

    rows_independent = True  # see numpy_ae.train.parallel

    def __init__(self, scale=2):
        self.scale = check_positive_int(scale, "scale")

    def forward(self, X, training=True):
        _check_images(X, "Upsample2D")
        s = self.scale
        return np.repeat(np.repeat(X, s, axis=2), s, axis=3)

    def backward(self, dY):
        N, C, sH, sW = dY.shape
        s = self.scale
        return dY.reshape(N, C, sH // s, s, sW // s, s).sum(axis=(3, 5))

    def __repr__(self):
        return f"Upsample2D(scale={self.scale})"


class Flatten(Layer):
    r"""``X (N, d_1, ..., d_k)`` to ``Y (N, d_1 \cdots d_k)`` in C order (the rows Dense reads).

    For an image, :math:`Y_{n,\,(c H + r) W + q} = X_{n,c,r,q}`. Backward
    reshapes :math:`\partial J/\partial Y` back to ``X``'s shape. A reshape
    of a contiguous array is a view: no copy either way.
    """

    rows_independent = True  # see numpy_ae.train.parallel

    def forward(self, X, training=True):
        if np.ndim(X) < 2:
            raise ValueError(f"Flatten: X must have at least 2 dimensions (N, ...); got shape {np.shape(X)}")
        self.X_shape = X.shape
        return X.reshape(X.shape[0], -1)

    def backward(self, dY):
        return dY.reshape(self.X_shape)


class Reshape(Layer):
    r"""``X (N, D)`` to ``Y (N, *shape)``, with :math:`D = \prod` ``shape`` (C order): the inverse of Flatten.

    E.g. ``Reshape((C, H, W))`` turns the rows of a Dense layer into images
    for :class:`MaxPool2D` or :class:`Upsample2D`. Backward reshapes
    :math:`\partial J/\partial Y` back to ``(N, D)``. An input of any shape
    ``(N, ...)`` with ``prod(...) = prod(shape)`` is accepted; a ValueError
    names a size that differs.

    Parameters
    ----------
    shape : tuple of int >= 1
        The shape of one example after the layer (without ``N``).
    """

    rows_independent = True  # see numpy_ae.train.parallel

    def __init__(self, shape):
        if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
            shape = (shape,)
        try:
            shape = tuple(shape)
        except TypeError:
            raise ValueError(f"shape must be a tuple of integers >= 1; got {shape!r}") from None
        if not shape:
            raise ValueError(f"shape must be a non-empty tuple of integers >= 1; got {shape!r}")
        for d in shape:
            if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1:
                raise ValueError(f"shape must be a tuple of integers >= 1; got {shape!r}")
        self.shape = tuple(int(d) for d in shape)
        self.size = math.prod(self.shape)

    def forward(self, X, training=True):
        if np.ndim(X) < 2:
            raise ValueError(f"Reshape: X must have at least 2 dimensions (N, D); got shape {np.shape(X)}")
        D = math.prod(X.shape[1:])
        if D != self.size:
            raise ValueError(f"Reshape: X must have {self.size} = prod(shape={self.shape}) values per example "
                             f"(shape (N, {self.size})); got shape {X.shape} with {D} per example")
        self.X_shape = X.shape
        return X.reshape((X.shape[0],) + self.shape)

    def backward(self, dY):
        return dY.reshape(self.X_shape)

    def __repr__(self):
        return f"Reshape({self.shape})"
