r"""Fast twins of :mod:`numpy_ae.nn.conv`: im2col into reused buffers stored channels last, one
product per kernel offset for col2im, and for a stride-1 convolution with fewer outputs than inputs
(``F < C``) the "narrow" path that multiplies first and never builds the ``kh kw C`` patches.

Every array is indexed in the reference's logical order ((N, C, H, W) for images,
(N, H', W', C, kh, kw) for patches); :func:`laid_out` chooses only the memory order. The
narrow path: :math:`Z_{nij} = \sum_{u,v} P_{n,i+u,j+v,u,v}` with :math:`P = X^p W_{uv}^\top` for
every padded pixel, ``dW`` from shifted blocks of the padded input's rows, and ``dX`` the
stride-1 correlation of :math:`\delta` padded by ``k - 1 - p`` with the flipped kernel.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import conv
from .workspace import buffer

__all__ = ["Conv2D", "ConvTranspose2D", "Conv1D", "ConvTranspose1D", "im2col", "col2im", "laid_out", "rows",
           "products_per_offset", "IMAGE", "PATCH_ROWS", "PER_OFFSET"]


# --------------------------------------------------------------------------
# im2col and its adjoint
# --------------------------------------------------------------------------

# How the layers store their work arrays. Every formula indexes an array in its
# logical order ((N, C, H, W) for images, (N, H', W', C, kh, kw) for patches);
# the memory order is a separate choice, made for speed only (laid_out):
IMAGE = (0, 2, 3, 1)  # (N, C, H, W) stored (N, H, W, C): the C values of a pixel side by side ("channels last")
PATCH_ROWS = (0, 1, 2, 4, 5, 3)  # cols stored (N, H', W', kh, kw, C): rows() is a matrix, no copy
PER_OFFSET = (4, 5, 0, 1, 2, 3)  # dcols stored (kh, kw, N, H', W', C): one contiguous image per offset (u, v)


def laid_out(shape, dtype, order):
    r"""An uninitialised array indexed as ``shape`` whose axes lie in memory in the order ``order``
    (``laid_out((N, C, H, W), dtype, IMAGE)`` is indexed ``[n, c, y, x]``, stored ``(N, H, W, C)``)."""
    return np.empty([shape[a] for a in order], dtype=dtype).transpose(np.argsort(order))


def rows(cols):
    r"""``cols (N, H', W', C, kh, kw)`` stored as :data:`PATCH_ROWS` viewed as the matrix
    ``(N H' W', kh kw C)`` of patches, one per row (a view, no copy; the columns
    in the order ``(u, v, c)``, so the kernel is reordered to match:
    :meth:`_Buffers._weight_rows`)."""
    N, Ho, Wo, C, kh, kw = cols.shape
    return cols.transpose(0, 1, 2, 4, 5, 3).reshape(N * Ho * Wo, kh * kw * C)


def products_per_offset(A, W_rows, dcols):
    r"""``dcols[n, i, j, :, u, v] = A[(n, i, j)] @ W_rows[:, (u, v, :)]``: the product ``A @ W_rows``
    written into ``dcols (N, H', W', C, kh, kw)`` stored :data:`PER_OFFSET`.

    ``A (N H' W', K)``, ``W_rows (K, kh kw C)`` (columns in the order of :func:`rows`).
    One product per kernel offset, each writing one contiguous ``(N H' W', C)`` block.
    """
    N, Ho, Wo, C, kh, kw = dcols.shape
    W4 = W_rows.reshape(-1, kh, kw, C)
    per_offset = dcols.transpose(4, 5, 0, 1, 2, 3)  # (kh, kw, N, H', W', C), C-contiguous
    for u in range(kh):
        for v in range(kw):
            np.matmul(A, W4[:, u, v, :], out=per_offset[u, v].reshape(N * Ho * Wo, C))
    return dcols


def im2col(Xp, kernel, stride, out=None):
    r"""All ``kh x kw`` patches of the padded batch ``Xp (N, C, Hp, Wp)`` at stride ``(sh, sw)``.

    Returns ``cols (N, H', W', C, kh, kw)`` (``out`` when given, else a new
    array stored :data:`PATCH_ROWS`, see :func:`laid_out`), with
    :math:`\mathrm{cols}_{n i j c u v} = X^p_{n, c, s_h i + u, s_w j + v}` and
    :math:`H' = \lfloor (H_p - k_h)/s_h \rfloor + 1`. Each ``(n, i, j)`` is one
    patch: :func:`rows` gives them as the rows of the "columns" matrix. Fast
    when ``Xp`` is stored :data:`IMAGE` and ``out`` :data:`PATCH_ROWS` (one pass
    of contiguous runs of ``kw C`` numbers); correct for any layout.
    """
    (kh, kw), (sh, sw) = kernel, stride
    windows = sliding_window_view(Xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]  # (N, C, H', W', kh, kw), a view
    if out is None:
        out = laid_out(windows.shape[:1] + windows.shape[2:4] + windows.shape[1:2] + (kh, kw), Xp.dtype,
                       PATCH_ROWS)
    np.copyto(out, windows.transpose(0, 2, 3, 1, 4, 5))
    return out


def col2im(dcols, padded_shape, stride, out=None):
    r"""The adjoint of :func:`im2col`: scatter-add the patch gradients ``dcols (N, H', W', C, kh, kw)`` back.

    Returns ``dXp`` of ``padded_shape (N, C, Hp, Wp)`` (``out`` when given,
    else a new array stored :data:`IMAGE`) with
    :math:`dX^p_{n c y x} = \sum \mathrm{dcols}_{n i j c u v}` over
    :math:`s_h i + u = y,\ s_w j + v = x`. One vectorised ``+=`` per kernel
    offset ``(u, v)``: ``kh kw`` steps, none per pixel or example (and no
    ``np.add.at``). Rows or columns of ``Xp`` no patch reaches (when the
    stride does not divide evenly) get 0. Fast when ``dcols`` is stored
    :data:`PER_OFFSET` and ``out`` :data:`IMAGE`; correct for any layout.
    """
    N, Ho, Wo, C, kh, kw = dcols.shape
    sh, sw = stride
    dXp = laid_out(padded_shape, dcols.dtype, IMAGE) if out is None else out
    dXp.fill(0.0)
    for u in range(kh):
        for v in range(kw):
            dXp[:, :, u:u + sh * (Ho - 1) + 1:sh, v:v + sw * (Wo - 1) + 1:sw] += \
                dcols[:, :, :, :, u, v].transpose(0, 3, 1, 2)
    return dXp


class _Buffers:
    """Buffers in a chosen memory order, and the kernel as the matrix :func:`rows` multiplies."""

    input_grad = True  # the model sets False on a first layer whose input gradient nobody reads

    def _buffer(self, key, shape, dtype, layout):
        """:func:`~numpy_ae.nn.fast.workspace.buffer` indexed as ``shape``, stored in the axis order ``layout``."""
        return buffer(self, key, [shape[a] for a in layout], dtype).transpose(np.argsort(layout))

    def _weight_rows(self, n):
        """The kernel ``W (n, m, kh, kw)`` as the matrix ``(n, kh kw m)``: the order of :func:`rows`."""
        return self.W.reshape(self.W.shape[:2] + self._k).transpose(0, 2, 3, 1).reshape(n, -1)

    def _add_weight_rows(self, dW_rows):
        """``dW (n, m, kh, kw) += dW_rows (n, kh kw m)`` (the inverse of :meth:`_weight_rows`)."""
        (n, m), (kh, kw) = self.dW.shape[:2], self._k
        dW = self.dW.reshape(n, m, kh, kw)  # a view (a 1-D layer's dW is (n, m, k))
        dW += dW_rows.reshape(n, kh, kw, m).transpose(0, 3, 1, 2)


class Conv2D(conv.Conv2D, _Buffers):
    """:class:`numpy_ae.nn.Conv2D`, fast (module docstring)."""

    def forward(self, X, training=True):
        self._check_input(X)
        self.output_shape(X.shape)
        X4 = self._to4d(X)
        N, C, H, W = X4.shape
        F, (kh, kw), (ph, pw) = self.out_channels, self._k, self._p
        Xp = self._buffer("Xp", (N, C, H + 2 * ph, W + 2 * pw), X.dtype, IMAGE)
        if ph or pw:
            Xp.fill(0.0)
        Xp[:, :, ph:ph + H, pw:pw + W] = X4  # also without padding: im2col is fast from channels last
        Hp, Wp = Xp.shape[2:]
        Ho, Wo = (Hp - kh) // self._s[0] + 1, (Wp - kw) // self._s[1] + 1
        self.W_rows = self._weight_rows(F)  # (F, kh kw C), W_mat with its columns in the order of rows()
        self.padded_shape = Xp.shape
        self.input_shape = X.shape
        self.Xp_rows = Xp.transpose(0, 2, 3, 1).reshape(N * Hp * Wp, C)  # every padded pixel a row (a view)
        if self._narrow():
            # Fewer outputs than inputs: multiply first, then add the kh kw shifted products,
            # Z[n, i, j] = sum_{u,v} (Xp[n, i + u, j + v] @ W[:, :, u, v].T): no patches of C channels.
            self.cols = None
            P = np.matmul(self.Xp_rows, self.W_rows.reshape(F, kh * kw, C).transpose(2, 1, 0).reshape(C, -1),
                          out=buffer(self, "P", (N * Hp * Wp, kh * kw * F), X.dtype))
            P = P.reshape(N, Hp, Wp, kh, kw, F)
            Z = buffer(self, "Z", (N, Ho, Wo, F), X.dtype)
            np.copyto(Z, P[:, :Ho, :Wo, 0, 0])
            for u in range(kh):
                for v in range(kw):
                    if u or v:
                        Z += P[:, u:u + Ho, v:v + Wo, u, v]
        else:
            cols = im2col(Xp, self._k, self._s,
                          out=self._buffer("cols", (N, Ho, Wo, C, kh, kw), X.dtype, PATCH_ROWS))
            self.cols = rows(cols)  # (N H' W', kh kw C)
            Z = np.matmul(self.cols, self.W_rows.T, out=buffer(self, "Z", (N * Ho * Wo, F), X.dtype))
        Y = buffer(self, "Y", (N, F, Ho, Wo), X.dtype)
        np.add(Z.reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2), self.b[:, None, None], out=Y)
        return self._from4d(Y)

    def _narrow(self):
        """Stride 1 and fewer output than input channels: work from the output's side (see the class docstring)."""
        (ph, pw), (kh, kw) = self._p, self._k
        return self._s == (1, 1) and self.out_channels < self.in_channels and ph < kh and pw < kw

    def backward(self, dY):
        dY4 = self._to4d(dY)
        N, F, Ho, Wo = dY4.shape
        C, (kh, kw), (ph, pw) = self.in_channels, self._k, self._p
        (Hp, Wp), narrow = self.padded_shape[2:], self._narrow()
        if narrow:
            # delta in the padded image's frame (zero outside the H' x W' outputs): then the pixels
            # under offset (u, v) of every output are the rows of Xp_rows shifted by u Wp + v, and
            # dW[:, :, u, v] is one product of two contiguous blocks, no patches needed.
            delta_p = buffer(self, "delta_p", (N, Hp, Wp, F), dY.dtype)
            delta_p.fill(0.0)
            np.copyto(delta_p[:, :Ho, :Wo], dY4.transpose(0, 2, 3, 1))
            delta_p = delta_p.reshape(-1, F)
            dW = self.dW.reshape(F, C, kh, kw)  # a view
            M = delta_p.shape[0]
            for u in range(kh):
                for v in range(kw):
                    shift = u * Wp + v
                    dW[:, :, u, v] += delta_p[:M - shift].T @ self.Xp_rows[shift:]
            self.db += dY4.sum(axis=(0, 2, 3))
        else:
            delta = buffer(self, "delta", (N, Ho, Wo, F), dY.dtype)
            np.copyto(delta, dY4.transpose(0, 2, 3, 1))
            delta = delta.reshape(-1, F)
            self._add_weight_rows(delta.T @ self.cols)
            self.db += delta.sum(axis=0)
        if not self.input_grad:
            return None
        H, W = Hp - 2 * ph, Wp - 2 * pw
        dX = buffer(self, "dX", (N, C, H, W), dY.dtype)
        if narrow:
            # The same numbers as col2im, from the side with fewer channels: dX is the stride-1
            # correlation of delta, padded by k - 1 - p, with the kernel flipped and its channel
            # axes swapped (module docstring); its im2col has kh kw F columns instead of kh kw C.
            (qh, qw) = (kh - 1 - ph, kw - 1 - pw)
            dYp = self._buffer("dYp", (N, F, Ho + 2 * qh, Wo + 2 * qw), dY.dtype, IMAGE)
            if qh or qw:
                dYp.fill(0.0)
            dYp[:, :, qh:qh + Ho, qw:qw + Wo] = dY4
            cols = im2col(dYp, self._k, (1, 1),
                          out=self._buffer("dY_cols", (N, H, W, F, kh, kw), dY.dtype, PATCH_ROWS))
            W_flip = self.W.reshape(F, C, kh, kw)[:, :, ::-1, ::-1].transpose(2, 3, 0, 1).reshape(-1, C)
            dXm = np.matmul(rows(cols), W_flip, out=buffer(self, "dXm", (N * H * W, C), dY.dtype))
            np.copyto(dX, dXm.reshape(N, H, W, C).transpose(0, 3, 1, 2))
            return self._from4d(dX)
        dcols = self._buffer("dcols", (N, Ho, Wo, C, kh, kw), dY.dtype, PER_OFFSET)
        products_per_offset(delta, self.W_rows, dcols)  # dcols = delta W_mat
        dXp = col2im(dcols, self.padded_shape, self._s,
                     out=self._buffer("dXp", self.padded_shape, dY.dtype, IMAGE))
        np.copyto(dX, dXp[:, :, ph:ph + H, pw:pw + W])
        return self._from4d(dX)



class Conv1D(conv.Conv1D, _Buffers):
    """:class:`numpy_ae.nn.Conv1D`, fast: :class:`Conv2D`'s code on ``(N, C, 1, L)``."""

    forward = Conv2D.forward
    backward = Conv2D.backward
    _narrow = Conv2D._narrow


class ConvTranspose2D(conv.ConvTranspose2D, _Buffers):
    """:class:`numpy_ae.nn.ConvTranspose2D`, fast: forward is the fast Conv2D's col2im, backward its im2col."""

    def forward(self, X, training=True):
        self._check_input(X)
        self.output_shape(X.shape)
        X4 = self._to4d(X)
        N, Cin, H, W = X4.shape
        Co, (kh, kw), (sh, sw), (ph, pw) = self.out_channels, self._k, self._s, self._p
        Xm = buffer(self, "Xm", (N, H, W, Cin), X.dtype)
        np.copyto(Xm, X4.transpose(0, 2, 3, 1))
        self.Xm = Xm.reshape(-1, Cin)
        self.input_shape = X.shape
        self.W_rows = self._weight_rows(Cin)  # (C_in, kh kw C_out): W_mat, its columns in the order of rows()
        dcols = self._buffer("dcols", (N, H, W, Co, kh, kw), X.dtype, PER_OFFSET)
        products_per_offset(self.Xm, self.W_rows, dcols)  # dcols = X_mat W_mat
        (oh, ow) = self._o
        Hp, Wp = (H - 1) * sh + kh + oh, (W - 1) * sw + kw + ow  # the stamped image, output_padding larger
        Yp = col2im(dcols, (N, Co, Hp, Wp), (sh, sw),
                    out=self._buffer("Yp", (N, Co, Hp, Wp), X.dtype, IMAGE))
        self.padded_shape = Yp.shape
        Ho, Wo = (H - 1) * sh + kh + oh - 2 * ph, (W - 1) * sw + kw + ow - 2 * pw
        Y = buffer(self, "Y", (N, Co, Ho, Wo), X.dtype)
        np.add(Yp[:, :, ph:ph + Ho, pw:pw + Wo], self.b[:, None, None], out=Y)
        return self._from4d(Y)

    def backward(self, dY):
        dY4 = self._to4d(dY)
        N, Co, Ho, Wo = dY4.shape
        (kh, kw), (ph, pw) = self._k, self._p
        dYp = self._buffer("dYp", self.padded_shape, dY.dtype, IMAGE)
        if ph or pw:
            dYp.fill(0.0)
        dYp[:, :, ph:ph + Ho, pw:pw + Wo] = dY4
        self.db += dY4.sum(axis=(0, 2, 3))
        H, W = self.padded_shape[2] - kh, self.padded_shape[3] - kw  # (H - 1) s, (W - 1) s
        H, W = H // self._s[0] + 1, W // self._s[1] + 1
        cols = im2col(dYp, self._k, self._s, out=self._buffer("cols", (N, H, W, Co, kh, kw), dY.dtype, PATCH_ROWS))
        cols = rows(cols)  # (N H W, kh kw C_out)
        self._add_weight_rows(self.Xm.T @ cols)
        if not self.input_grad:
            return None
        dXm = np.matmul(cols, self.W_rows.T, out=buffer(self, "dXm", self.Xm.shape, dY.dtype))
        dX = buffer(self, "dX", (N, self.in_channels, H, W), dY.dtype)
        np.copyto(dX, dXm.reshape(N, H, W, -1).transpose(0, 3, 1, 2))
        return self._from4d(dX)



class ConvTranspose1D(conv.ConvTranspose1D, _Buffers):
    """:class:`numpy_ae.nn.ConvTranspose1D`, fast: :class:`ConvTranspose2D`'s code on ``(N, C_in, 1, L)``."""

    forward = ConvTranspose2D.forward
    backward = ConvTranspose2D.backward
