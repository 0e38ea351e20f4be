r"""Convolutional layers: Conv2D, ConvTranspose2D, Conv1D, ConvTranspose1D.

Images are ``(N, C, H, W)``: N examples, C channels, H rows, W columns
(channels first, as in PyTorch and CS231n); sequences are ``(N, C, L)``.

The convolution (a cross-correlation)
-------------------------------------
A 2-D convolution layer with ``F`` output channels and a ``kh x kw`` kernel has
weights ``W (F, C, kh, kw)`` and a bias ``b (F,)``. With ``X^p`` the input
zero-padded by ``p`` on each side and ``s`` the stride,

.. math::
    Y_{n f i j} = b_f + \sum_{c, u, v} W_{f c u v}\, X^p_{n, c, s i + u, s j + v},
    \qquad H' = \lfloor (H + 2p - k_h)/s \rfloor + 1 .

As in every deep-learning library the kernel is not flipped. The windows
:math:`X^p_{n, c, s i + u, s j + v}`, indexed ``(n, i, j, c, u, v)``, are
:func:`im2col` (a view by ``sliding_window_view``, no copy), and the sum is one
``np.einsum`` over ``(c, u, v)``: a dense layer applied to every patch.

Its backward pass is two convolutions
-------------------------------------
With :math:`\delta = \partial J/\partial Y` of shape ``(N, F, H', W')``:

.. math::
    \partial J/\partial W_{f c u v} \mathrel{+}= \sum_{n, i, j} \delta_{n f i j}\, X^p_{n, c, s i + u, s j + v},
    \qquad \partial J/\partial b_f \mathrel{+}= \sum_{n, i, j} \delta_{n f i j},

.. math::
    \partial J/\partial X^p_{n c y x} = \sum_{f, u, v} W_{f c u v}\, \delta_{n f i j}
    \quad\text{over } s i + u = y,\; s j + v = x,

then the padding is cropped. The first is the correlation of the input with
:math:`\delta`; the last is the full convolution of :math:`\delta` (spread out
by ``s - 1`` zeros between its pixels) with the kernel flipped in space and its
channel axes swapped. The code computes it as written: the gradient of every
patch, :math:`\delta_{nfij} W_{fcuv}`, scatter-added back to where the patch
came from (:func:`col2im`, the adjoint of :func:`im2col`, one ``+=`` per kernel
offset ``(u, v)``): a pixel in several overlapping patches gets the sum.

The transposed convolution is the adjoint
-----------------------------------------
For fixed weights, a convolution without bias is a linear map
:math:`\mathcal{C}: x \mapsto y` from ``(N, C, H, W)`` to ``(N, F, H', W')``.
Its adjoint :math:`\mathcal{C}^\top`, with
:math:`\langle \mathcal{C} x, y\rangle = \langle x, \mathcal{C}^\top y\rangle`,
is the input-gradient map above. :class:`ConvTranspose2D` is that map (plus a
bias): its forward is Conv2D's backward (scatter-add the weighted kernels, crop),
its input gradient is Conv2D's forward (pad, windows, contract). Where a
stride-``s`` convolution shrinks an image ``s`` times, its transpose enlarges it
``s`` times: :math:`H_{out} = (H - 1)s - 2p + k_h`. ``Conv2D(C, F)`` and
``ConvTranspose2D(F, C)`` both hold ``W (F, C, kh, kw)`` (PyTorch's layouts),
and with the same array they are each other's adjoint (``tests/nn/test_conv.py``).

The 1-D layers view ``(N, C, L)`` as ``(N, C, 1, L)`` and run the 2-D code with a
``1 x k`` kernel; their weights are ``(F, C, k)``.
"""
from __future__ import annotations
import numbers
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from .._validation import check_positive_int
from .layer import Layer

__all__ = ['Conv2D', 'ConvTranspose2D', 'Conv1D', 'ConvTranspose1D', 'im2col', 'col2im']


def _pad(A, padding):
    """``A (N, C, H, W)`` with ``padding = (ph, pw)`` zero rows and columns added on each side (a new array)."""
    (ph, pw) = padding
    return np.pad(A, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def im2col(Xp, kernel, stride):
    r"""All ``kh x kw`` patches of ``Xp (N, C, Hp, Wp)`` at stride ``(sh, sw)``, as a read-only view
    ``cols (N, H', W', C, kh, kw)``: :math:`\mathrm{cols}_{n i j c u v} = X^p_{n, c, s_h i + u, s_w j + v}`,
    :math:`H' = \lfloor (H_p - k_h)/s_h \rfloor + 1`."""
    (kh, kw), (sh, sw) = kernel, stride
    windows = sliding_window_view(Xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]  # (N, C, H', W', kh, kw)
    return windows.transpose(0, 2, 3, 1, 4, 5)


def col2im(dcols, padded_shape, stride):
    r"""The adjoint of :func:`im2col`: ``dXp`` of ``padded_shape (N, C, Hp, Wp)`` with
    :math:`dX^p_{n c y x} = \sum \mathrm{dcols}_{n i j c u v}` over :math:`s_h i + u = y,\ s_w j + v = x`.

    One ``+=`` of a strided slab per kernel offset ``(u, v)``; pixels no patch reaches get 0.
    """
    (N, Ho, Wo, C, kh, kw), (sh, sw) = dcols.shape, stride
    dXp = np.zeros(padded_shape, dtype=dcols.dtype)
    for u in range(kh):
        for v in range(kw):
            dXp[:, :, u:u + sh * (Ho - 1) + 1:sh, v:v + sw * (Wo - 1) + 1:sw] += \
                dcols[:, :, :, :, u, v].transpose(0, 3, 1, 2)
    return dXp


# --------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------

def _tuple(value, name, n, minimum):
    """``value`` as an ``n``-tuple of ints ``>= minimum`` (an int is repeated); ValueError otherwise."""
    rule = "a positive integer" if minimum == 1 else "an integer >= 0"
    items = (value,) * n if isinstance(value, numbers.Integral) and not isinstance(value, bool) else value
    try:
        items = tuple(items)
    except TypeError:
        items = None
    if items is None or len(items) != n or any(isinstance(v, bool) or not isinstance(v, numbers.Integral)
                                                or v < minimum for v in items):
        what = f"{rule} or a pair of them" if n == 2 else rule
        raise ValueError(f"{name} must be {what}; got {value!r}")
    return tuple(int(v) for v in items)


class _Conv(Layer):
    """Shared bookkeeping of the four convolution layers (argument checks, 1-D/2-D views).

    ``kernel_size``, ``stride``, ``padding`` are kept as tuples of the layer's
    spatial rank (1 or 2); ``_k``, ``_s``, ``_p`` are their 2-D forms (a 1-D layer
    is a 2-D layer with kernel ``(1, k)``, stride ``(1, s)``, padding ``(0, p)``).
    """

    rows_independent = True  # see numpy_ae.train.parallel
    _rank = 2
    _inits = ("he", "glorot")

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, init="he"):
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        r = self._rank
        self.kernel_size = _tuple(kernel_size, "kernel_size", r, 1)
        self.stride = _tuple(stride, "stride", r, 1)
        self.padding = _tuple(padding, "padding", r, 0)
        if init not in self._inits:
            raise ValueError(f"init must be one of {self._inits}; got {init!r}")
        self.init = init
        self._k = (1,) * (2 - r) + self.kernel_size
        self._s = (1,) * (2 - r) + self.stride
        self._p = (0,) * (2 - r) + self.padding

    # views between the layer's rank and the 2-D code
    def _to4d(self, A):
        return A if self._rank == 2 else A[:, :, None, :]

    def _from4d(self, A):
        return A if self._rank == 2 else A[:, :, 0, :]

    def _check_input(self, X):
        names = "(N, C, H, W)" if self._rank == 2 else "(N, C, L)"
        if not isinstance(X, np.ndarray) or X.ndim != self._rank + 2:
            raise ValueError(f"X must be a {self._rank + 2}-D array {names} for {type(self).__name__}; got "
                             f"{'shape ' + str(X.shape) if isinstance(X, np.ndarray) else type(X).__name__}")
        if X.shape[1] != self.in_channels:
            raise ValueError(f"X must have in_channels={self.in_channels} channels (axis 1); got X.shape "
                             f"{X.shape} with {X.shape[1]}")

    def _kernel(self):
        """``W`` as a 4-D array ``(n, m, kh, kw)`` (a view; a 1-D layer's ``W`` is ``(n, m, k)``)."""
        return self.W.reshape(self.W.shape[:2] + self._k)

    def _init_kernel(self, fan_in, fan_out, rng):
        if self.init == "he":
            self.W[...] = rng.standard_normal(self.W.shape) * np.sqrt(2.0 / fan_in)
        else:
            r = np.sqrt(6.0 / (fan_in + fan_out))
            self.W[...] = rng.uniform(-r, r, size=self.W.shape)
        self.b[...] = 0.0

    def decayed_params(self):
        return ("W",)

    def __repr__(self):
        def one(t):
            return t[0] if self._rank == 1 or t[0] == t[1] else t
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, kernel_size="
                f"{one(self.kernel_size)}, stride={one(self.stride)}, padding={one(self.padding)}, "
                f"init={self.init!r})")


# --------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------

class Conv2D(_Conv):
    r"""2-D convolution (cross-correlation) with zero padding and stride.

    Shapes: ``X (N, C, H, W)``, ``W (F, C, kh, kw)``, ``b (F,)``,
    ``Y (N, F, H', W')`` with :math:`H' = \lfloor (H + 2p_h - k_h)/s_h \rfloor + 1`
    and :math:`W' = \lfloor (W + 2p_w - k_w)/s_w \rfloor + 1`; ``C = in_channels``,
    ``F = out_channels``.

    .. math::
        Y_{n f i j} = b_f + \sum_{c=1}^{C} \sum_{u=0}^{k_h-1} \sum_{v=0}^{k_w-1}
        W_{f c u v}\, X^p_{n, c, s_h i + u, s_w j + v} .

    Backward, with :math:`\delta = \partial J/\partial Y`:

    .. math::
        \partial J/\partial W_{fcuv} \mathrel{+}= \textstyle\sum_{n,i,j} \delta_{nfij} X^p_{n,c,s_h i+u,s_w j+v},
        \quad \partial J/\partial b_f \mathrel{+}= \textstyle\sum_{n,i,j} \delta_{nfij},

    .. math::
        \partial J/\partial X = \mathrm{crop}_p\big(\mathrm{col2im}(\delta_{nfij} W_{fcuv})\big)

    (the module docstring writes both as convolutions).

    Parameters
    ----------
    in_channels, out_channels : int >= 1
    kernel_size : int or (kh, kw)
    stride : int or (sh, sw), each >= 1
    padding : int or (ph, pw), each >= 0 (zeros on both sides)
    init : ``"he"`` (normal, std :math:`\sqrt{2/(C k_h k_w)}`, for ReLU) or
        ``"glorot"`` (uniform on :math:`\pm\sqrt{6/((C + F) k_h k_w)}`); biases start at 0.
    """

    def param_shapes(self):
        return {"W": (self.out_channels, self.in_channels) + self.kernel_size, "b": (self.out_channels,)}

    def init_params(self, rng):
        area = self._k[0] * self._k[1]
        self._init_kernel(self.in_channels * area, self.out_channels * area, rng)

    def output_shape(self, input_shape):
        """Shape of ``Y`` for an input of shape ``input_shape``, after the input checks."""
        spatial = input_shape[2:]
        sizes = (1,) * (2 - self._rank) + tuple(spatial)
        out = []
        for axis, (n, k, s, p) in enumerate(zip(sizes, self._k, self._s, self._p)):
            if k > n + 2 * p:
                a = axis - (2 - self._rank)
                raise ValueError(f"kernel_size must not exceed the padded input: kernel_size[{a}] = {k} > "
                                 f"{n} + 2*padding[{a}] = {n + 2 * p} (input shape {tuple(input_shape)}); use a "
                                 "smaller kernel or more padding")
            out.append((n + 2 * p - k) // s + 1)
        return (input_shape[0], self.out_channels) + tuple(out[2 - self._rank:])

    def forward(self, X, training=True):
        self._check_input(X)
        self.output_shape(X.shape)
        self.Xp = _pad(self._to4d(X), self._p)  # (N, C, H + 2 ph, W + 2 pw)
        self.cols = im2col(self.Xp, self._k, self._s)  # (N, H', W', C, kh, kw), a view
        Y = np.einsum("nijcuv,fcuv->nfij", self.cols, self._kernel(), optimize=True) + self.b[:, None, None]
        return self._from4d(Y)

    def backward(self, dY):
        delta = self._to4d(dY)  # (N, F, H', W')
        dW = np.einsum("nfij,nijcuv->fcuv", delta, self.cols, optimize=True)
        self.dW += dW.reshape(self.dW.shape)
        self.db += delta.sum(axis=(0, 2, 3))
        dcols = np.einsum("nfij,fcuv->nijcuv", delta, self._kernel(), optimize=True)  # each patch's gradient
        dXp = col2im(dcols, self.Xp.shape, self._s)
        (ph, pw), (Hp, Wp) = self._p, self.Xp.shape[2:]
        return self._from4d(dXp[:, :, ph:Hp - ph, pw:Wp - pw])


class Conv1D(Conv2D):
    r"""1-D convolution on sequences, run as :class:`Conv2D` on ``(N, C, 1, L)``.

    Shapes: ``X (N, C, L)``, ``W (F, C, k)``, ``b (F,)``, ``Y (N, F, L')`` with
    :math:`L' = \lfloor (L + 2p - k)/s \rfloor + 1` and

    .. math:: Y_{n f i} = b_f + \sum_{c, u} W_{f c u}\, X^p_{n, c, s i + u} .

    Backward as in :class:`Conv2D` (:math:`\partial J/\partial W_{fcu} \mathrel{+}= \sum_{n,i}
    \delta_{nfi} X^p_{n,c,si+u}`, :math:`\partial J/\partial b` the sum of :math:`\delta` over
    ``n, i``, :math:`\partial J/\partial X` by col2im and cropping).
    ``kernel_size``, ``stride``, ``padding`` are ints.
    """

    _rank = 1


# --------------------------------------------------------------------------
# Transposed convolution
# --------------------------------------------------------------------------

class ConvTranspose2D(_Conv):
    r"""2-D transposed convolution: the adjoint of :class:`Conv2D`, used to upsample.

    Shapes: ``X (N, C_in, H, W)``, ``W (C_in, C_out, kh, kw)`` (the layout of
    ``Conv2D(C_out, C_in)``'s weights), ``b (C_out,)``, ``Y (N, C_out, H_out, W_out)``
    with :math:`H_{out} = (H - 1) s_h - 2 p_h + k_h`, :math:`W_{out} = (W - 1) s_w - 2 p_w + k_w`.

    Each input pixel stamps its kernel, weighted, onto the output at stride
    :math:`s`; overlaps add; then :math:`p` rows and columns are cropped from each side:

    .. math::
        Y_{n o y x} = b_o + \sum_{c, i, j, u, v} X_{n c i j}\, W_{c o u v}
        \quad\text{over } s_h i + u = y + p_h,\; s_w j + v = x + p_w .

    Computed as :class:`Conv2D`'s input gradient: the stamps
    ``dcols[n, i, j, o, u, v] = sum_c X[n, c, i, j] W[c, o, u, v]``, then col2im, crop, add ``b``. With
    ``b = 0`` and the same ``W``, :math:`\langle \mathrm{Conv2D}(x), y\rangle =
    \langle x, \mathrm{ConvTranspose2D}(y)\rangle` whenever ``Conv2D`` maps
    ``H_out`` back to ``H`` (that is, when :math:`s_h` divides :math:`H_{out} + 2p_h - k_h`).

    Backward is :class:`Conv2D`'s forward: with :math:`\delta = \partial J/\partial Y`
    padded by :math:`p` and ``cols = im2col(delta_p)`` of shape ``(N, H, W, C_out, kh, kw)``,

    .. math::
        \partial J/\partial W_{couv} \mathrel{+}= \textstyle\sum_{n,i,j} X_{ncij} \mathrm{cols}_{nijouv}, \quad
        \partial J/\partial b_o \mathrel{+}= \textstyle\sum_{n,y,x} \delta_{noyx}, \quad
        \partial J/\partial X_{ncij} = \textstyle\sum_{o,u,v} \mathrm{cols}_{nijouv} W_{couv} .

    Parameters as :class:`Conv2D`; ``"he"`` uses the fan-in of one output pixel,
    :math:`C_{in} k_h k_w / (s_h s_w)` (each output pixel receives about that many terms).

    ``output_padding`` (int or pair, each ``>= 0`` and ``< stride``; PyTorch's
    rule) adds ``o`` rows and columns at the bottom and right of the output:
    :math:`H_{out} = (H - 1) s_h - 2 p_h + k_h + o_h`. The stamped image is
    computed ``o`` rows larger (rows no input reaches hold 0, then ``b``), and
    only the top and left crop ``p``, the bottom and right crop ``p - o`` (when
    ``o > p`` the kept zero rows of the larger image extend it). This resolves the ambiguity of Conv2D's floor:
    ``Conv2D(k=3, s=2, p=1)`` maps both 13 and 14 rows to 7, and
    ``ConvTranspose2D(k=3, s=2, p=1, output_padding=1)`` maps 7 back to 14 ("same"
    padding doubling the size, as Keras' ``Conv2DTranspose(padding="same", strides=2)``).
    Backward is unchanged: with :math:`o < s` the extra rows are reached by no
    window of the padded gradient that would add an input row.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, init="he", output_padding=0):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding, init=init)
        self.output_padding = _tuple(output_padding, "output_padding", self._rank, 0)
        if any(o >= s for o, s in zip(self.output_padding, self.stride)):
            raise ValueError(f"output_padding must be smaller than stride (each axis): output_padding="
                             f"{output_padding!r}, stride={self.stride}")
        self._o = (0,) * (2 - self._rank) + self.output_padding

    def __repr__(self):
        text = super().__repr__()
        if any(self.output_padding):
            o = self.output_padding
            o = o[0] if self._rank == 1 or o[0] == o[1] else o
            text = text[:-1] + f", output_padding={o})"
        return text

    def param_shapes(self):
        return {"W": (self.in_channels, self.out_channels) + self.kernel_size, "b": (self.out_channels,)}

    def init_params(self, rng):
        area = self._k[0] * self._k[1]
        fan_in = max(1.0, self.in_channels * area / (self._s[0] * self._s[1]))
        self._init_kernel(fan_in, self.out_channels * area, rng)

    def output_shape(self, input_shape):
        """Shape of ``Y`` for an input of shape ``input_shape``; ValueError when it would be empty."""
        sizes = (1,) * (2 - self._rank) + tuple(input_shape[2:])
        out = []
        for axis, (n, k, s, p, o) in enumerate(zip(sizes, self._k, self._s, self._p, self._o)):
            size = (n - 1) * s - 2 * p + k + o
            if size < 1:
                a = axis - (2 - self._rank)
                raise ValueError(f"padding must leave an output of at least one pixel: (n - 1)*stride - "
                                 f"2*padding + kernel_size + output_padding = ({n} - 1)*{s} - 2*{p} + {k} + {o} "
                                 f"= {size} on axis {a} (input shape {tuple(input_shape)}); use less padding")
            out.append(size)
        return (input_shape[0], self.out_channels) + tuple(out[2 - self._rank:])


    def forward(self, X, training=True):
        self._check_input(X)
        self.output_shape(X.shape)
        self.X4 = self._to4d(X)  # (N, C_in, H, W)
        N, _, H, W = self.X4.shape
        (kh, kw), (sh, sw), (ph, pw), (oh, ow) = self._k, self._s, self._p, self._o
        stamps = np.einsum("ncij,couv->nijouv", self.X4, self._kernel(), optimize=True)
        Hp, Wp = (H - 1) * sh + kh + oh, (W - 1) * sw + kw + ow  # the stamped image, output_padding larger
        Yp = col2im(stamps, (N, self.out_channels, Hp, Wp), (sh, sw))
        Y = Yp[:, :, ph:Hp - ph, pw:Wp - pw] + self.b[:, None, None]
        return self._from4d(Y)

    def backward(self, dY):
        delta = self._to4d(dY)  # (N, C_out, H_out, W_out)
        cols = im2col(_pad(delta, self._p), self._k, self._s)  # (N, H, W, C_out, kh, kw)
        dW = np.einsum("ncij,nijouv->couv", self.X4, cols, optimize=True)
        self.dW += dW.reshape(self.dW.shape)
        self.db += delta.sum(axis=(0, 2, 3))
        dX = np.einsum("nijouv,couv->ncij", cols, self._kernel(), optimize=True)
        return self._from4d(dX)



class ConvTranspose1D(ConvTranspose2D):
    r"""1-D transposed convolution, the adjoint of :class:`Conv1D`, run as :class:`ConvTranspose2D` on ``(N, C, 1, L)``.

    Shapes: ``X (N, C_in, L)``, ``W (C_in, C_out, k)``, ``b (C_out,)``,
    ``Y (N, C_out, L_out)`` with :math:`L_{out} = (L - 1) s - 2p + k` and

    .. math:: Y_{n o y} = b_o + \sum_{c, i, u} X_{n c i} W_{c o u} \quad\text{over } s i + u = y + p .

    Backward: :math:`\partial J/\partial X` is :class:`Conv1D`'s forward of
    :math:`\delta` with the same weights; :math:`\partial J/\partial W` and
    :math:`\partial J/\partial b` as in :class:`ConvTranspose2D`.
    """

    _rank = 1
