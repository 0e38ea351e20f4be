r"""Fast twins of :class:`numpy_ae.nn.ConvTranspose2D` and :class:`~numpy_ae.nn.ConvTranspose1D`: forward
by output phase (each phase of the output a stride-1 correlation of the input with some of the taps,
:func:`_phases`), backward by the fast Conv2D's im2col of the delta; the buffers, layouts and chunks of
:mod:`numpy_ae.nn.fast.conv`."""
from __future__ import annotations

import numpy as np

from .. import conv
from . import conv as fast_conv
from .conv import IMAGE, PATCH_ROWS, _Buffers, im2col, rows, sum_in_order
from .workspace import buffer

__all__ = ["ConvTranspose2D", "ConvTranspose1D"]


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
        # per chunk of images (sized for the largest phase), one buffer each for the gathered pixels
        # and the products, per thread
        largest_P = Cin * max(Q * Q2 * M * M2 for _, Q, _, M, _ in rows_h for _, Q2, _, M2, _ in rows_w)
        largest_Z = Co * max(Q * Q2 for _, Q, _, _, _ in rows_h for _, Q2, _, _, _ in rows_w)
        chunks = list(fast_conv.image_chunks(self, N, max(largest_P, 1)))

        def chunk(i, slot):
            first, n, size = chunks[i]
            images = slice(first, first + n)
            for r, Q, u0, M, c in rows_h:
                for r2, Q2, v0, M2, c2 in rows_w:
                    out = Yn[images, r::sh, r2::sw]  # (n, Q, Q2, C_out)
                    if not (M and M2):
                        np.copyto(out, self.b)
                        continue
                    # P[n, q, t, m, m2] = X[n, q + c - m, t + c2 - m2]: the phase's input pixels, tap by tap
                    P = buffer(self, f"P{slot}", (size * largest_P,), X.dtype)[:n * Q * Q2 * M * M2 * Cin]
                    P = P.reshape(n, Q, Q2, M, M2, Cin)
                    for m in range(M):
                        for m2 in range(M2):
                            y0, x0 = lo_h + c - m, lo_w + c2 - m2
                            np.copyto(P[:, :, :, m, m2], Xpad[images, y0:y0 + Q, x0:x0 + Q2])
                    taps = Wt[:, :, u0::sh, v0::sw].transpose(2, 3, 0, 1).reshape(M * M2 * Cin, Co)
                    Z = buffer(self, f"Z{slot}", (size * largest_Z,), X.dtype)[:n * Q * Q2 * Co]
                    Z = Z.reshape(n * Q * Q2, Co)
                    np.matmul(P.reshape(n * Q * Q2, M * M2 * Cin), taps, out=Z)
                    np.add(Z.reshape(n, Q, Q2, Co), self.b, out=out)

        self._in_chunks(chunk, len(chunks))
        return self._from4d(Y)

    def backward(self, dY):
        dY4 = self._to4d(dY)
        N, Co, Ho, Wo = dY4.shape
        (kh, kw), (ph, pw) = self._k, self._p
        self.db += dY4.sum(axis=(0, 2, 3))
        H, W = self.padded_shape[2] - kh, self.padded_shape[3] - kw  # (H - 1) s, (W - 1) s
        H, W = H // self._s[0] + 1, W // self._s[1] + 1
        K = kh * kw * Co
        dXm = buffer(self, "dXm", self.Xm.shape, dY.dtype) if self.input_grad else None
        # a few images at a time, so that each chunk's patches are still in cache for both products;
        # the chunks shared among the threads, each with its own scratch arrays
        chunks = list(fast_conv.image_chunks(self, N, H * W * K))

        def chunk(i, slot):
            first, n, size = chunks[i]
            dYp = self._buffer(f"dYp{slot}", (size,) + self.padded_shape[1:], dY.dtype, IMAGE)[:n]
            if ph or pw:
                dYp.fill(0.0)
            dYp[:, :, ph:ph + Ho, pw:pw + Wo] = dY4[first:first + n]
            cols = self._buffer(f"cols{slot}", (size, H, W, Co, kh, kw), dY.dtype, PATCH_ROWS)[:n]
            cols = rows(im2col(dYp, self._k, self._s, out=cols))  # (n H W, kh kw C_out)
            part = slice(first * H * W, (first + n) * H * W)
            if dXm is not None:
                np.matmul(cols, self.W_rows.T, out=dXm[part])
            return cols.T @ self.Xm[part]  # X_mat^T cols as (cols^T X_mat)^T: the faster order

        R = sum_in_order(self._in_chunks(chunk, len(chunks)))
        self._add_weight_rows(R.T)
        if dXm is None:
            return None
        return self._from4d(dXm.reshape(N, H, W, -1).transpose(0, 3, 1, 2))  # channels last



class ConvTranspose1D(conv.ConvTranspose1D, _Buffers):
    """:class:`numpy_ae.nn.ConvTranspose1D`, fast: :class:`ConvTranspose2D`'s code on ``(N, C_in, 1, L)``."""

    forward = ConvTranspose2D.forward
    backward = ConvTranspose2D.backward
