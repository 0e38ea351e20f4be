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
from .workspace import buffer, buffer_in

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
        return buffer_in(self, key, shape, dtype, layout)

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
            Z = Z.reshape(N * Ho * Wo, F)
        else:
            cols = im2col(Xp, self._k, self._s,
                          out=self._buffer("cols", (N, Ho, Wo, C, kh, kw), X.dtype, PATCH_ROWS))
            self.cols = rows(cols)  # (N H' W', kh kw C)
            Z = np.matmul(self.cols, self.W_rows.T, out=buffer(self, "Z", (N * Ho * Wo, F), X.dtype))
        Z += self.b  # Y = Z + b, returned stored channels last (the next layer's im2col reads it so)
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
        if narrow:
            # delta in the padded image's frame (zero outside the H' x W' outputs): then the pixels
            # under offset (u, v) of every output are the rows of Xp_rows shifted by u Wp + v, so
            # dW[:, :, u, v] = sum_r delta_p[r - u Wp - v] Xp_rows[r]: the kh kw shifted copies of the
            # (narrow) delta side by side, times Xp_rows, read once (one product instead of kh kw)
            delta_p = buffer(self, "delta_p", (N, Hp, Wp, F), dY.dtype)
            delta_p.fill(0.0)
            np.copyto(delta_p[:, :Ho, :Wo], dY4.transpose(0, 2, 3, 1))
            M = N * Hp * Wp
            delta_p = delta_p.reshape(M, F)
            D = buffer(self, "D", (M, kh, kw, F), dY.dtype)
            for u in range(kh):
                for v in range(kw):
                    shift = u * Wp + v
                    D[:shift, u, v] = 0.0
                    D[shift:, u, v] = delta_p[:M - shift]
            R = self.Xp_rows.T @ D.reshape(M, kh * kw * F)  # (C, kh kw F): R[c, (u, v, f)] = dW[f, c, u, v]
            self.dW.reshape(F, C, kh, kw)[...] += R.reshape(C, kh, kw, F).transpose(3, 0, 1, 2)
            self.db += dY4.sum(axis=(0, 2, 3))
        else:
            delta = self._pixel_rows("delta", dY4)  # (N H' W', F)
            self._add_weight_rows((self.cols.T @ delta).T)  # as (cols^T delta)^T: measured 1.1-1.5x faster
            self.db += delta.sum(axis=0)
        if not self.input_grad:
            return None
        H, W = Hp - 2 * ph, Wp - 2 * pw
        if self._dx_by_correlation():
            # The same numbers as col2im, from the side with no more channels: dX is the stride-1
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


def _phases(k, s, p, n_out):
    r"""The output rows of a transposed convolution along one axis, by phase: ``(r, Q, u0, M, c)`` for each
    ``r < s`` that has rows, meaning :math:`Y_{s q + r} = \sum_{m < M} X_{q + c - m} W_{u_0 + m s}` for
    ``q < Q`` (``X`` zero outside its ``n`` rows; ``M = 0``: no tap reaches the phase, only the bias).
    From :math:`Y_y = \sum X_i W_u` over :math:`s i + u = y + p`: the taps of row ``y = s q + r`` are the
    ``u`` congruent to ``r + p`` modulo ``s``."""
    phases = []
    for r in range(min(s, n_out)):
        u0 = (r + p) % s
        phases.append((r, -(-(n_out - r) // s), u0, -(-(k - u0) // s) if u0 < k else 0, (r + p - u0) // s))
    return phases


class ConvTranspose2D(conv.ConvTranspose2D, _Buffers):
    r""":class:`numpy_ae.nn.ConvTranspose2D`, fast. Forward by output phase ("sub-pixel"): the outputs
    ``Y[:, :, s_h q + r, s_w t + r']`` of one phase ``(r, r')`` are a stride-1 correlation of the input with
    the taps ``W[:, :, u_0 + m s_h, v_0 + m' s_w]`` (:func:`_phases`), one product of the gathered input
    pixels per phase written straight into its output pixels; no stamped image, no scatter-add. Backward is
    the fast Conv2D's im2col (the delta's patches at stride ``s``)."""

    def forward(self, X, training=True):
        self._check_input(X)
        self.output_shape(X.shape)
        X4 = self._to4d(X)
        N, Cin, H, W = X4.shape
        Co, (kh, kw), (sh, sw), (ph, pw), (oh, ow) = self.out_channels, self._k, self._s, self._p, self._o
        Ho, Wo = (H - 1) * sh + kh + oh - 2 * ph, (W - 1) * sw + kw + ow - 2 * pw
        self.Xm = self._pixel_rows("Xm", X4)  # (N H W, C_in), for dW in backward
        self.input_shape = X.shape
        self.W_rows = self._weight_rows(Cin)  # (C_in, kh kw C_out), for dX in backward
        self.padded_shape = (N, Co, (H - 1) * sh + kh + oh, (W - 1) * sw + kw + ow)  # the stamped image
        rows_h, rows_w = _phases(kh, sh, ph, Ho), _phases(kw, sw, pw, Wo)
        # X padded so that every X[q + c - m] of every phase is in range (zeros outside the image)
        lo_h = max([0] + [M - 1 - c for _, _, _, M, c in rows_h if M])
        hi_h = max([0] + [Q - 1 + c - (H - 1) for _, Q, _, M, c in rows_h if M])
        lo_w = max([0] + [M - 1 - c for _, _, _, M, c in rows_w if M])
        hi_w = max([0] + [Q - 1 + c - (W - 1) for _, Q, _, M, c in rows_w if M])
        Xpad = buffer(self, "Xpad", (N, H + lo_h + hi_h, W + lo_w + hi_w, Cin), X.dtype)
        if lo_h or hi_h or lo_w or hi_w:
            Xpad.fill(0.0)
        Xpad[:, lo_h:lo_h + H, lo_w:lo_w + W] = self.Xm.reshape(N, H, W, Cin)
        Y = self._buffer("Y", (N, Co, Ho, Wo), X.dtype, IMAGE)  # channels last
        Yn = Y.transpose(0, 2, 3, 1)  # (N, H_out, W_out, C_out), C-contiguous
        Wt = self.W.reshape(Cin, Co, kh, kw)
        # one buffer each for the gathered pixels and the products, sized for the largest phase
        P_size = N * Cin * max(Q * Q2 * M * M2 for _, Q, _, M, _ in rows_h for _, Q2, _, M2, _ in rows_w)
        Z_size = N * Co * max(Q * Q2 for _, Q, _, _, _ in rows_h for _, Q2, _, _, _ in rows_w)
        for r, Q, u0, M, c in rows_h:
            for r2, Q2, v0, M2, c2 in rows_w:
                out = Yn[:, r::sh, r2::sw]  # (N, Q, Q2, C_out)
                if not (M and M2):
                    np.copyto(out, self.b)
                    continue
                # P[n, q, t, m, m2] = X[n, q + c - m, t + c2 - m2]: the phase's input pixels, tap by tap
                P = buffer(self, "P", (P_size,), X.dtype)[:N * Q * Q2 * M * M2 * Cin].reshape(N, Q, Q2, M, M2, Cin)
                for m in range(M):
                    for m2 in range(M2):
                        y0, x0 = lo_h + c - m, lo_w + c2 - m2
                        np.copyto(P[:, :, :, m, m2], Xpad[:, y0:y0 + Q, x0:x0 + Q2])
                taps = Wt[:, :, u0::sh, v0::sw].transpose(2, 3, 0, 1).reshape(M * M2 * Cin, Co)
                Z = buffer(self, "Z", (Z_size,), X.dtype)[:N * Q * Q2 * Co].reshape(N * Q * Q2, Co)
                np.matmul(P.reshape(N * Q * Q2, M * M2 * Cin), taps, out=Z)
                np.add(Z.reshape(N, Q, Q2, Co), self.b, out=out)
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
        self._add_weight_rows((cols.T @ self.Xm).T)  # X_mat^T cols, computed as (cols^T X_mat)^T (faster)
        if not self.input_grad:
            return None
        dXm = np.matmul(cols, self.W_rows.T, out=buffer(self, "dXm", self.Xm.shape, dY.dtype))
        return self._from4d(dXm.reshape(N, H, W, -1).transpose(0, 3, 1, 2))  # channels last



class ConvTranspose1D(conv.ConvTranspose1D, _Buffers):
    """:class:`numpy_ae.nn.ConvTranspose1D`, fast: :class:`ConvTranspose2D`'s code on ``(N, C_in, 1, L)``."""

    forward = ConvTranspose2D.forward
    backward = ConvTranspose2D.backward
