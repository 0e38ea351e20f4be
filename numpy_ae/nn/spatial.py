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

Vectorised: max pooling loops over the ``p x p`` offsets of a window, never
over pixels or examples. For offset ``(a, b)`` the entries ``X[:, :, i s + a, j s + b]``
of all windows are one strided slice of ``X`` (no copy); the forward pass
keeps a running maximum over the ``p^2`` slices, the backward pass adds each
output gradient back through the slice of its maximum. (A first version
copied the windows out with ``sliding_window_view``, took ``argmax`` and
scattered with ``np.bincount``, in float64 whatever the input: 37 ms forward
and 7 ms backward of CPU time on 128 x 32 images of 28 x 28 in float32,
against 8 ms and 7 ms now; ``benchmarks/bench_conv.py``.)
"""
from __future__ import annotations
import math
import numbers
import numpy as np
from .._validation import check_positive_int
from .layer import Layer, scratch

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
    ``a``, then smallest ``b``; ``np.argmax``'s rule). That is one valid
    subgradient; at a tie the max is not differentiable, so a gradient check
    must use inputs without ties.

    Parameters
    ----------
    pool_size : int >= 1
        Side ``p`` of the square window.
    stride : int >= 1 or None
        Step ``s`` between windows; None means ``pool_size`` (non-overlapping
        windows). ``stride < pool_size`` gives overlapping windows.
    """

    def __init__(self, pool_size=2, stride=None):
        self.pool_size = check_positive_int(pool_size, "pool_size")
        self.stride = self.pool_size if stride is None else check_positive_int(stride, "stride")

    def output_shape(self, H, W):
        """``(H_out, W_out)`` for an ``H x W`` input."""
        p, s = self.pool_size, self.stride
        return (H - p) // s + 1, (W - p) // s + 1

    def _offsets(self, Ho, Wo):
        """``(o, (a, b), index)`` for each offset of the window, ``index`` selecting ``X[:, :, i s + a, j s + b]``."""
        p, s = self.pool_size, self.stride
        for a in range(p):
            for b in range(p):
                yield a * p + b, (slice(None), slice(None), slice(a, a + s * (Ho - 1) + 1, s),
                                  slice(b, b + s * (Wo - 1) + 1, s))

    def forward(self, X, training=True):
        _check_images(X, "MaxPool2D")
        N, C, H, W = X.shape
        p = self.pool_size
        if p > H or p > W:
            raise ValueError(f"MaxPool2D: pool_size must be <= the input's height and width (H={H}, W={W}); "
                             f"got {p}")
        Ho, Wo = self.output_shape(H, W)
        shape = (N, C, Ho, Wo)
        Y = scratch(self, "Y", shape, X.dtype) if training else np.empty(shape, dtype=X.dtype)
        # k: which offset o = a p + b holds the maximum of each window (uint8 when p^2 <= 256)
        k_dtype = np.uint8 if p * p <= 256 else np.intp
        k = scratch(self, "k", shape, k_dtype) if training else np.empty(shape, dtype=k_dtype)
        k.fill(0)
        larger = scratch(self, "larger", shape, bool) if training else np.empty(shape, dtype=bool)
        for o, index in self._offsets(Ho, Wo):
            if o == 0:
                np.copyto(Y, X[index])
                continue
            np.greater(X[index], Y, out=larger)  # strictly: a tie keeps the earlier offset (argmax's rule)
            np.maximum(Y, X[index], out=Y)
            if k.dtype == np.uint8:  # k = o where larger: o exceeds every earlier offset, so a maximum does it
                o_where_larger = larger.view(np.uint8)  # 1 where larger (bool and uint8 share their bytes)
                o_where_larger *= o
                np.maximum(k, o_where_larger, out=k)  # (np.putmask: 3x slower)
            else:
                np.putmask(k, larger, o)
        self.k, self.X_shape, self.dtype = k, X.shape, X.dtype
        return Y

    def backward(self, dY):
        r"""For each offset ``(a, b)``: ``dX[:, :, i s + a, j s + b] += dY * [k = a p + b]``. One input is
        reached once per offset at most, so the ``+=`` of one offset never adds twice into one entry;
        overlapping windows (``s < p``) sum over the offsets. Without overlap each input belongs to at
        most one window, and the products are written in place instead of added."""
        p, s = self.pool_size, self.stride
        (H, W), (Ho, Wo) = self.X_shape[2:], dY.shape[2:]
        dX = scratch(self, "dX", self.X_shape, self.dtype)
        if s != p or H != Ho * p or W != Wo * p:
            dX.fill(0.0)  # inputs in no window, or in several, start from 0
        is_max = scratch(self, "is_max", dY.shape, bool)
        for o, index in self._offsets(Ho, Wo):
            np.equal(self.k, o, out=is_max)
            if s >= p:
                np.multiply(dY, is_max, out=dX[index])
            else:
                routed = np.multiply(dY, is_max, out=scratch(self, "routed", dY.shape, self.dtype))
                dX[index] += routed
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
