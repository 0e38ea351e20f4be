r"""Fast twin of :class:`numpy_ae.nn.MaxPool2D`: a running maximum over the ``p^2`` strided slices of
the input, the winning offset kept as uint8, with no window copy and no argmax."""
from __future__ import annotations

import numpy as np

from .. import spatial
from .workspace import buffer_in, buffer_like, memory_order

__all__ = ["MaxPool2D"]


class MaxPool2D(spatial.MaxPool2D):
    """:class:`numpy_ae.nn.MaxPool2D`, fast. Offset ``(a, b)`` of every window is one strided slice
    ``X[:, :, a::s, b::s]``; forward keeps a running maximum over them (ties keep the earlier offset,
    the reference's rule) and backward routes ``dY`` through the slice of each maximum."""

    def _offsets(self, Ho, Wo):
        """``(o, (a, b), index)`` for each offset of the window, ``index`` selecting ``X[:, :, i s + a, j s + b]``."""
        p, s = self.pool_size, self.stride
        for a in range(p):
            for b in range(p):
                yield a * p + b, (slice(None), slice(None), slice(a, a + s * (Ho - 1) + 1, s),
                                  slice(b, b + s * (Wo - 1) + 1, s))

    def forward(self, X, training=True):
        self._check_input(X)
        N, C, H, W = X.shape
        p = self.pool_size
        Ho, Wo = self.output_shape(H, W)
        shape = (N, C, Ho, Wo)
        # every array in X's memory order (channels last from a fast convolution): strided slices of
        # contiguous runs of C values, and element-wise passes over operands laid out alike
        Y = buffer_like(self, "Y", X, shape)
        # k: which offset o = a p + b holds the maximum of each window (uint8 when p^2 <= 256)
        k_dtype = np.uint8 if p * p <= 256 else np.intp
        k = buffer_like(self, "k", X, shape, k_dtype)
        k.fill(0)
        larger = buffer_like(self, "larger", X, shape, bool)
        for o, index in self._offsets(Ho, Wo):
            if o == 0:
                np.copyto(Y, X[index])
                continue
            np.greater(X[index], Y, out=larger)  # strictly: a tie keeps the earlier offset (argmax's rule)
            np.maximum(Y, X[index], out=Y)
            if k.dtype == np.uint8:  # k = o where larger: o exceeds every earlier offset, so a maximum does it
                o_where_larger = larger.view(np.uint8)  # 1 where larger (bool and uint8 share their bytes)
                o_where_larger *= o
                np.maximum(k, o_where_larger, out=k)
            else:
                np.putmask(k, larger, o)
        self.k, self.X_shape, self.dtype, self.X_order = k, X.shape, X.dtype, memory_order(X)
        return Y

    def backward(self, dY):
        r"""For each offset ``(a, b)``: ``dX[:, :, i s + a, j s + b] += dY * [k = a p + b]``. One input is
        reached once per offset at most, so the ``+=`` of one offset never adds twice into one entry;
        overlapping windows (``s < p``) sum over the offsets. Without overlap each input belongs to at
        most one window, and the products are written in place instead of added."""
        p, s = self.pool_size, self.stride
        (H, W), (Ho, Wo) = self.X_shape[2:], dY.shape[2:]
        dX = buffer_in(self, "dX", self.X_shape, self.dtype, self.X_order)  # laid out as X was
        if s != p or H != Ho * p or W != Wo * p:
            dX.fill(0.0)  # inputs in no window, or in several, start from 0
        is_max = buffer_like(self, "is_max", self.k, dtype=bool)
        if memory_order(dY) != memory_order(self.k):
            # dY laid out unlike the forward's arrays (from a Flatten, say): one copy into their layout
            # makes the p^2 passes below run over operands stored alike (3.3 against 1.3 ms measured)
            aligned = buffer_like(self, "dY", self.k, dtype=dY.dtype)
            np.copyto(aligned, dY)
            dY = aligned
        for o, index in self._offsets(Ho, Wo):
            np.equal(self.k, o, out=is_max)
            if s >= p:
                np.multiply(dY, is_max, out=dX[index])
            else:
                routed = np.multiply(dY, is_max, out=buffer_like(self, "routed", self.k, dtype=self.dtype))
                dX[index] += routed
        return dX
