r"""Fast twins of :mod:`numpy_ae.nn.conv`: im2col into reused buffers stored channels last, a few images
at a time, and for a stride-1 convolution with fewer outputs than inputs (``F < C``) the "narrow" path
that multiplies first and never builds the ``kh kw C`` patches. (The transposed convolutions are in
:mod:`numpy_ae.nn.fast.conv_transpose`.)

Every array is indexed in the reference's logical order ((N, C, H, W) for images,
(N, H', W', C, kh, kw) for patches); :func:`laid_out` chooses only the memory order. Images leave
a fast convolution stored channels last (outputs and input gradients), the layout the next one's
im2col reads fastest, and the element-wise twins keep whatever layout they are given. Inside the
training step the work goes in chunks of whole images (:func:`image_chunks`) so that a chunk's
patches are multiplied while still in cache, the chunks shared among numpy_ae's threads with each
matrix product on one BLAS thread (:func:`numpy_ae.train.threads.in_slots`); the partial ``dW`` of
the chunks are summed in chunk order, so the bits do not depend on which thread did which.

The narrow path: :math:`Z_{nij} = \sum_{u,v} P_{n,i+u,j+v,u,v}` with :math:`P = X^p W_{uv}^\top` for
every padded pixel, ``dW`` from shifted copies of the padded delta times the padded input's rows, and
``dX`` (whenever stride 1 and ``F <= C``) the stride-1 correlation of :math:`\delta` padded by
``k - 1 - p`` with the flipped kernel.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import conv
from ...train.threads import in_slots
from .workspace import buffer, buffer_in

__all__ = ["Conv2D", "Conv1D", "im2col", "col2im", "laid_out", "rows", "products_per_offset", "image_chunks",
           "sum_in_order", "IMAGE", "PATCH_ROWS", "PER_OFFSET", "CHUNK_ELEMENTS"]


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


CHUNK_ELEMENTS = 1 << 19  # patch numbers per chunk (2 MiB in float32): about one core's L2 cache


def image_chunks(layer, N, per_image):
    """``(first, n, size)`` covering the ``N`` images of a minibatch in chunks of ``n <= size`` images
    holding at most :data:`CHUNK_ELEMENTS` patch numbers (``per_image`` each; at least one image per
    chunk; allocate a chunk's buffers for ``size`` images and slice them, so that a shorter last chunk
    reuses them). Inside the training step the patches of a chunk are written and read again while in
    cache; on any other call (no workspace, fresh arrays every time) one chunk, as the reference does."""
    size = N if layer.workspace is None else max(1, min(N, CHUNK_ELEMENTS // max(per_image, 1)))
    for first in range(0, N, size):
        yield first, min(size, N - first), size


def sum_in_order(parts):
    """``parts[0] + parts[1] + ...`` in that order, into the first (the same bits for any thread count)."""
    total = parts[0]
    for p in parts[1:]:
        total += p
    return total


class _Buffers:
    """Buffers in a chosen memory order, and the kernel as the matrix :func:`rows` multiplies."""

    input_grad = True  # the model sets False on a first layer whose input gradient nobody reads
    # a training step split by rows pays (numpy_ae.train.parallel): every weight is used at every position,
    # so half a batch still makes large products, and the im2col / col2im passes halve per thread
    split_pays = True

    def _buffer(self, key, shape, dtype, layout):
        """:func:`~numpy_ae.nn.fast.workspace.buffer` indexed as ``shape``, stored in the axis order ``layout``."""
        return buffer_in(self, key, shape, dtype, layout)

    def _in_chunks(self, work, n_chunks):
        """``[work(i, slot) for i in range(n_chunks)]``, the chunks shared among
        :func:`~numpy_ae.train.threads.num_threads` threads inside the training step (each product then
        on one BLAS thread, :func:`~numpy_ae.train.threads.in_slots`); on any other call, in this thread."""
        if self.workspace is None:
            return [work(i, 0) for i in range(n_chunks)]
        return in_slots(work, n_chunks)

    def _pixel_rows(self, key, A4):
        """``A4 (N, C, H, W)`` as the matrix ``(N H W, C)`` of its pixels: a view when ``A4`` is stored
        channels last (as every fast convolution returns its images), else a copy into a buffer."""
        N, C, H, W = A4.shape
        rows_ = A4.transpose(0, 2, 3, 1)
        if rows_.flags.c_contiguous:
            return rows_.reshape(N * H * W, C)
        out = buffer(self, key, (N, H, W, C), A4.dtype)
        np.copyto(out, rows_)
        return out.reshape(N * H * W, C)

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
        Z = buffer(self, "Z", (N * Ho * Wo, F), X.dtype)
        if self._narrow():
            # Fewer outputs than inputs: multiply first, then add the kh kw shifted products,
            # Z[n, i, j] = sum_{u,v} (Xp[n, i + u, j + v] @ W[:, :, u, v].T): no patches of C channels.
            self.cols = None
            W_taps = self.W_rows.reshape(F, kh * kw, C).transpose(2, 1, 0).reshape(C, -1)
            chunks = list(image_chunks(self, N, Hp * Wp * kh * kw * F))

            def chunk(i, slot):
                first, n, size = chunks[i]
                P = buffer(self, f"P{slot}", (size * Hp * Wp, kh * kw * F), X.dtype)[:n * Hp * Wp]
                np.matmul(self.Xp_rows[first * Hp * Wp:(first + n) * Hp * Wp], W_taps, out=P)
                P = P.reshape(n, Hp, Wp, kh, kw, F)
                Zc = Z[first * Ho * Wo:(first + n) * Ho * Wo].reshape(n, Ho, Wo, F)
                np.add(P[:, :Ho, :Wo, 0, 0], self.b, out=Zc)
                for u in range(kh):
                    for v in range(kw):
                        if u or v:
                            Zc += P[:, u:u + Ho, v:v + Wo, u, v]
        else:
            cols = self._buffer("cols", (N, Ho, Wo, C, kh, kw), X.dtype, PATCH_ROWS)
            self.cols = rows(cols)  # (N H' W', kh kw C), kept for dW
            chunks = list(image_chunks(self, N, Ho * Wo * kh * kw * C))

            def chunk(i, slot):
                first, n, _ = chunks[i]
                part = slice(first * Ho * Wo, (first + n) * Ho * Wo)
                im2col(Xp[first:first + n], self._k, self._s, out=cols[first:first + n])
                np.matmul(self.cols[part], self.W_rows.T, out=Z[part])  # the chunk's patches still in cache
                Z[part] += self.b
        self._in_chunks(chunk, len(chunks))
        # Y = Z + b, returned stored channels last (the next layer's im2col reads it so)
        return self._from4d(Z.reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2))

    def _narrow(self):
        """Stride 1 and fewer output than input channels: work from the output's side (see the class docstring)."""
        (ph, pw), (kh, kw) = self._p, self._k
        return self._s == (1, 1) and self.out_channels < self.in_channels and ph < kh and pw < kw

    def _dx_by_correlation(self):
        """Stride 1 and no more output than input channels: ``dX`` as the correlation of the padded delta with
        the flipped kernel (an im2col of ``kh kw F`` columns and one product) instead of the ``kh kw C``
        patch gradients and col2im; for 32 -> 32 channels at 14 x 14 (minibatch 128, float32, one
        thread) about 4.5 ms against 7.5 ms."""
        (ph, pw), (kh, kw) = self._p, self._k
        return self._s == (1, 1) and self.out_channels <= self.in_channels and ph < kh and pw < kw

    def backward(self, dY):
        dY4 = self._to4d(dY)
        N, F, Ho, Wo = dY4.shape
        C, (kh, kw), (ph, pw) = self.in_channels, self._k, self._p
        (Hp, Wp), narrow = self.padded_shape[2:], self._narrow()
        H, W = Hp - 2 * ph, Wp - 2 * pw
        (qh, qw) = (kh - 1 - ph, kw - 1 - pw)
        by_correlation = self.input_grad and self._dx_by_correlation()
        dXm = buffer(self, "dXm", (N * H * W, C), dY.dtype) if by_correlation else None
        W_flip = self.W.reshape(F, C, kh, kw)[:, :, ::-1, ::-1].transpose(2, 3, 0, 1).reshape(-1, C)
        delta = None if narrow else self._pixel_rows("delta", dY4)  # (N H' W', F)
        self.db += dY4.sum(axis=(0, 2, 3))
        per_image = max(Hp * Wp * kh * kw * F if narrow else Ho * Wo * kh * kw * C, H * W * kh * kw * F)
        chunks = list(image_chunks(self, N, per_image))

        def chunk(i, slot):
            first, n, size = chunks[i]
            if narrow:
                # delta in the padded image's frame (zero outside the H' x W' outputs): then the pixels
                # under offset (u, v) of every output are the rows of Xp_rows shifted by u Wp + v, so
                # dW[:, :, u, v] = sum_r delta_p[r - u Wp - v] Xp_rows[r]: the kh kw shifted copies of the
                # (narrow) delta side by side, times Xp_rows, read once (one product instead of kh kw).
                # Whole images per chunk: a shift into the previous image lands in its zero margin.
                M = n * Hp * Wp
                delta_p = buffer(self, f"delta_p{slot}", (size, Hp, Wp, F), dY.dtype)[:n]
                delta_p.fill(0.0)
                np.copyto(delta_p[:, :Ho, :Wo], dY4[first:first + n].transpose(0, 2, 3, 1))
                delta_p = delta_p.reshape(M, F)
                D = buffer(self, f"D{slot}", (size * Hp * Wp, kh, kw, F), dY.dtype)[:M]
                for u in range(kh):
                    for v in range(kw):
                        shift = u * Wp + v
                        D[:shift, u, v] = 0.0
                        D[shift:, u, v] = delta_p[:M - shift]
                # (C, kh kw F): R[c, (u, v, f)] = dW[f, c, u, v]
                R = self.Xp_rows[first * Hp * Wp:(first + n) * Hp * Wp].T @ D.reshape(M, kh * kw * F)
            else:
                part = slice(first * Ho * Wo, (first + n) * Ho * Wo)
                R = self.cols[part].T @ delta[part]  # (kh kw C, F): dW's rows, as (cols^T delta)^T (faster)
            if by_correlation:
                # The same numbers as col2im, from the side with no more channels: dX is the stride-1
                # correlation of delta, padded by k - 1 - p, with the kernel flipped and its channel
                # axes swapped (module docstring); its im2col has kh kw F columns instead of kh kw C.
                dYp = self._buffer(f"dYp{slot}", (size, F, Ho + 2 * qh, Wo + 2 * qw), dY.dtype, IMAGE)[:n]
                if qh or qw:
                    dYp.fill(0.0)
                dYp[:, :, qh:qh + Ho, qw:qw + Wo] = dY4[first:first + n]
                cols = self._buffer(f"dY_cols{slot}", (size, H, W, F, kh, kw), dY.dtype, PATCH_ROWS)[:n]
                im2col(dYp, self._k, (1, 1), out=cols)
                np.matmul(rows(cols), W_flip, out=dXm[first * H * W:(first + n) * H * W])
            return R

        R = sum_in_order(self._in_chunks(chunk, len(chunks)))
        if narrow:
            self.dW.reshape(F, C, kh, kw)[...] += R.reshape(C, kh, kw, F).transpose(3, 0, 1, 2)
        else:
            self._add_weight_rows(R.T)
        if not self.input_grad:
            return None
        if by_correlation:
            return self._from4d(dXm.reshape(N, H, W, C).transpose(0, 3, 1, 2))  # channels last
        dcols = self._buffer("dcols", (N, Ho, Wo, C, kh, kw), dY.dtype, PER_OFFSET)
        products_per_offset(delta, self.W_rows, dcols)  # dcols = delta W_mat
        dXp = col2im(dcols, self.padded_shape, self._s,
                     out=self._buffer("dXp", self.padded_shape, dY.dtype, IMAGE))
        dX = self._buffer("dX", (N, C, H, W), dY.dtype, IMAGE)  # channels last, as dXp
        np.copyto(dX, dXp[:, :, ph:ph + H, pw:pw + W])
        return self._from4d(dX)



class Conv1D(conv.Conv1D, _Buffers):
    """:class:`numpy_ae.nn.Conv1D`, fast: :class:`Conv2D`'s code on ``(N, C, 1, L)``."""

    forward = Conv2D.forward
    backward = Conv2D.backward
    _narrow = Conv2D._narrow
    _dx_by_correlation = Conv2D._dx_by_correlation
