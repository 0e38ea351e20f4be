r"""Convolutional layers: Conv2D, ConvTranspose2D, Conv1D, ConvTranspose1D.

Written for a reader who knows the dense layer :math:`Z = XW + b`
(:class:`numpy_ae.nn.dense.Dense`). Images are ``(N, C, H, W)``: N examples, C
channels, H rows, W columns (channels first, as in PyTorch and CS231n);
sequences are ``(N, C, L)``.

A convolution is a dense layer applied to every patch
-----------------------------------------------------
A 2-D convolution layer with ``F`` output channels and a ``kh x kw`` kernel has
weights ``W (F, C, kh, kw)`` and a bias ``b (F,)``. After zero-padding the input
by ``p`` pixels on each side (``Xp``, of size ``Hp = H + 2p``), output pixel
``(i, j)`` of channel ``f`` reads the ``C x kh x kw`` patch whose top-left corner
is at ``(s i, s j)`` (``s`` the stride):

.. math::
    Y_{n f i j} = b_f + \sum_{c, u, v} W_{f c u v}\, X^p_{n, c, s i + u, s j + v},
    \qquad H' = \lfloor (H + 2p - k_h)/s \rfloor + 1 .

(As in every deep-learning library this is a cross-correlation: the kernel is not
flipped.) Lay every patch out as a row of length ``C kh kw``: the
"columns" matrix ``cols`` of shape ``(N H' W', C kh kw)`` (im2col). Then the
whole layer is ONE dense product,

.. math:: Z = \mathrm{cols}\; W_{mat}^\top + b, \qquad W_{mat} = W.\mathrm{reshape}(F, C k_h k_w),

a ``(N H' W', F)`` matrix that is reordered to ``(N, F, H', W')``. Here im2col
copies nothing by hand: ``numpy.lib.stride_tricks.sliding_window_view`` gives the
``(N, C, H'', W'', kh, kw)`` view of all windows of ``Xp`` without copying (the
stride ``s`` is a slice ``[::s]`` of it), and one ``copyto`` lays it out as
``cols``. That buffer holds ``kh kw / s^2`` times as many numbers as the input
(of the minibatch, never of the whole data set).

The backward pass is the dense backward, then a convolution
------------------------------------------------------------
With :math:`\delta = \partial J/\partial Z` reordered to ``(N H' W', F)``, the
three rules of :class:`~numpy_ae.nn.dense.Dense` hold row for row:

.. math::
    \partial J/\partial W_{mat} \mathrel{+}= \delta^\top \mathrm{cols}, \qquad
    \partial J/\partial b \mathrel{+}= \textstyle\sum_{n,i,j} \delta_{n f i j}, \qquad
    \partial J/\partial \mathrm{cols} = \delta\, W_{mat} .

The last one is the gradient of every patch. A pixel of ``Xp`` sits in several
overlapping patches, so its gradient is the SUM of its copies' gradients:
col2im, the adjoint of im2col, scatter-adds each patch gradient back to where
the patch came from. It loops over the ``kh kw`` kernel offsets ``(u, v)`` only,
each step adding a strided slab ``Xp[:, :, u::s, v::s]`` at once; then the
padding is cropped. Written out,

.. math::
    \partial J/\partial X^p_{n c y x} = \sum_{f, u, v} W_{f c u v}\, \delta_{n f i j}
    \quad\text{over } s i + u = y,\; s j + v = x,

which is itself a convolution: of :math:`\delta` (spread out by inserting
``s - 1`` zeros between its pixels) with the kernel flipped in space and with
its channel axes swapped. Likewise :math:`\partial J/\partial W_{fcuv} = \sum_{n,i,j}
\delta_{nfij} X^p_{n,c,si+u,sj+v}` is a correlation of the input with
:math:`\delta`. So backpropagation through a convolution is convolution, as
backpropagation through a dense layer is multiplication by :math:`W^\top`.

The transposed convolution is the adjoint
-----------------------------------------
For fixed weights, a convolution without bias is a linear map
:math:`\mathcal{C}: x \mapsto y` from ``(N, C, H, W)`` to ``(N, F, H', W')``.
Its adjoint :math:`\mathcal{C}^\top` is the map with
:math:`\langle \mathcal{C} x, y\rangle = \langle x, \mathcal{C}^\top y\rangle`
for all :math:`x, y`: exactly the input-gradient map above. A dense layer's
"transpose" multiplies by :math:`W^\top`; a convolution's transpose is
:class:`ConvTranspose2D`: its forward is Conv2D's backward (product with
:math:`W_{mat}`, then col2im, then crop), and its backward with respect to its
input is Conv2D's forward (pad, im2col, product with :math:`W_{mat}^\top`). Where
a stride-``s`` convolution shrinks an image ``s`` times, its transpose enlarges
it ``s`` times, so decoders use it to upsample:
:math:`H_{out} = (H - 1)s - 2p + k_h`. The two layers share the weight layout
``(C_big, C_small, kh, kw)``: ``Conv2D(C, F)`` and ``ConvTranspose2D(F, C)`` both
hold ``W (F, C, kh, kw)`` (PyTorch's layouts), and with the same array they are
each other's adjoint (``tests/test_conv.py`` checks the identity to 1e-12).

The 1-D layers view ``(N, C, L)`` as ``(N, C, 1, L)`` and run the 2-D code with a
``1 x k`` kernel; their weights are ``(F, C, k)``.

Speed and memory follow :mod:`numpy_ae.nn.layer`: a training pass writes into
scratch buffers the layer keeps (:func:`~numpy_ae.nn.layer.scratch`); their sizes
depend on the minibatch, not the data set. Inference returns fresh arrays.

Three choices make it fast (``benchmarks/bench_conv.py`` measures them; none
changes a formula above):

* Memory order. The padded images and the patches are indexed as above but
  stored with the channels last (:func:`laid_out`): im2col and col2im then
  move long contiguous runs, and the patch matrix is a view.
* Work on the side with fewer channels. The patches of a ``C``-channel
  image hold ``kh kw C`` numbers per pixel. When a stride-1 convolution has
  fewer outputs than inputs (``F < C``, e.g. the last layer of an image
  autoencoder, 32 -> 1), it multiplies first (``Xp (pixels, C) @ (C, kh kw F)``)
  and adds the ``kh kw`` shifted products, takes ``dW`` from shifted blocks
  of the padded input's rows, and computes ``dX`` as the convolution of
  :math:`\delta` with the flipped kernel (its patches have ``kh kw F`` numbers).
  Same numbers; for the 32 -> 1 layer on 128 images of 28 x 28 no 115 MB
  patch buffer, and 6 + 11 ms of CPU time forward + backward instead of 23 + 18.
* col2im receives one contiguous block per kernel offset (one product per
  offset writes it) and adds it with one ``+=``, never ``np.add.at``.
"""
from __future__ import annotations
import numbers
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from .._validation import check_positive_int
from .layer import Layer, scratch

__all__ = ['Conv2D', 'ConvTranspose2D', 'Conv1D', 'ConvTranspose1D', 'im2col', 'col2im', 'laid_out', 'rows', 'products_per_offset', 'IMAGE', 'PATCH_ROWS', 'PER_OFFSET']




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
    r"""An uninitialised array indexed as ``shape`` whose axes lie in memory in the order ``order``.

    ``laid_out((N, C, H, W), dtype, IMAGE)`` is indexed ``[n, c, y, x]`` but stored
    as an ``(N, H, W, C)`` array. Why the layers care (float32, 32 channels,
    minibatch of 128 images of 28 x 28): im2col and col2im copy and add
    strided slices, and NumPy is fast only when the innermost axis of both
    sides is a long contiguous run. Channels last, a patch is ``kh`` runs of
    ``kw C`` numbers (im2col 7 ms, against 79 ms from the patch layout
    ``(N, H', W', C, kh, kw)`` in C order, whose runs are ``kw = 3`` numbers); and
    col2im adds, per offset ``(u, v)``, a contiguous ``(N, H', W', C)`` block
    (:data:`PER_OFFSET`) into rows of ``W' C`` contiguous numbers of the image.
    """
    return np.empty([shape[a] for a in order], dtype=dtype).transpose(np.argsort(order))


def rows(cols):
    r"""``cols (N, H', W', C, kh, kw)`` stored as :data:`PATCH_ROWS` viewed as the matrix
    ``(N H' W', kh kw C)`` of patches, one per row (a view, no copy; the columns
    in the order ``(u, v, c)``, so the kernel is reordered to match:
    :meth:`_Conv._weight_rows`)."""
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
    """Shared bookkeeping of the four convolution layers (argument checks, 1-D/2-D views, buffers).

    ``kernel_size``, ``stride``, ``padding`` are kept as tuples of the layer's
    spatial rank (1 or 2); ``_k``, ``_s``, ``_p`` are their 2-D forms (a 1-D layer
    is a 2-D layer with kernel ``(1, k)``, stride ``(1, s)``, padding ``(0, p)``).
    """

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
        self.input_grad = True

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

    def _buffer(self, key, shape, dtype, training, layout=None):
        """A scratch array (training) or a fresh one (inference), indexed as ``shape``, stored in the
        axis order ``layout`` (:func:`laid_out`; None: C order)."""
        if layout is None:
            return scratch(self, key, shape, dtype) if training else np.empty(shape, dtype=dtype)
        bufs = self.__dict__.setdefault("_scratch", {})
        buf = bufs.get(key) if training else None
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = laid_out(shape, dtype, layout)
            if training:
                bufs[key] = buf
        return buf

    def _weight_rows(self, n):
        """The kernel ``W (n, m, kh, kw)`` as the matrix ``(n, kh kw m)``: the order of :func:`rows`."""
        return self.W.reshape(self.W.shape[:2] + self._k).transpose(0, 2, 3, 1).reshape(n, -1)

    def _add_weight_rows(self, dW_rows):
        """``dW (n, m, kh, kw) += dW_rows (n, kh kw m)`` (the inverse of :meth:`_weight_rows`)."""
        (n, m), (kh, kw) = self.dW.shape[:2], self._k
        dW = self.dW.reshape(n, m, kh, kw)  # a view (a 1-D layer's dW is (n, m, k))
        dW += dW_rows.reshape(n, kh, kw, m).transpose(0, 3, 1, 2)

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
        W_{f c u v}\, X^p_{n, c, s_h i + u, s_w j + v},

    computed as ``cols @ W_mat.T`` with ``cols = im2col(Xp)`` of shape
    ``(N H' W', C kh kw)`` and ``W_mat = W.reshape(F, C kh kw)``.

    Backward, with :math:`\delta = \partial J/\partial Y` reordered to ``(N H' W', F)``:

    .. math::
        \partial J/\partial W_{mat} \mathrel{+}= \delta^\top \mathrm{cols}, \quad
        \partial J/\partial b_f \mathrel{+}= \textstyle\sum_{n,i,j} \delta_{nfij}, \quad
        \partial J/\partial X = \mathrm{crop}_p\big(\mathrm{col2im}(\delta W_{mat})\big).

    ``input_grad = False`` skips :math:`\partial J/\partial X` (a first layer fed with data).

    With stride 1 and ``F < C`` the same numbers are computed from the output's
    side, without the ``kh kw C`` patches (module docstring, "Work on the side
    with fewer channels"): :math:`Z_{nij} = \sum_{u,v} P_{n,i+u,j+v,u,v}` with
    :math:`P = X^p W_{uv}^\top` for every padded pixel, and
    :math:`\partial J/\partial X` the correlation of :math:`\delta` padded by
    ``k - 1 - p`` with the flipped kernel.

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
        X4 = self._to4d(X)
        N, C, H, W = X4.shape
        F, (kh, kw), (ph, pw) = self.out_channels, self._k, self._p
        Xp = self._buffer("Xp", (N, C, H + 2 * ph, W + 2 * pw), X.dtype, training, layout=IMAGE)
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
                          out=self._buffer("P", (N * Hp * Wp, kh * kw * F), X.dtype, training))
            P = P.reshape(N, Hp, Wp, kh, kw, F)
            Z = self._buffer("Z", (N, Ho, Wo, F), X.dtype, training)
            np.copyto(Z, P[:, :Ho, :Wo, 0, 0])
            for u in range(kh):
                for v in range(kw):
                    if u or v:
                        Z += P[:, u:u + Ho, v:v + Wo, u, v]
        else:
            cols = im2col(Xp, self._k, self._s,
                          out=self._buffer("cols", (N, Ho, Wo, C, kh, kw), X.dtype, training, layout=PATCH_ROWS))
            self.cols = rows(cols)  # (N H' W', kh kw C)
            Z = np.matmul(self.cols, self.W_rows.T, out=self._buffer("Z", (N * Ho * Wo, F), X.dtype, training))
        Y = self._buffer("Y", (N, F, Ho, Wo), X.dtype, training)
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
            delta_p = self._buffer("delta_p", (N, Hp, Wp, F), dY.dtype, True)
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
            delta = scratch(self, "delta", (N, Ho, Wo, F), dY.dtype)
            np.copyto(delta, dY4.transpose(0, 2, 3, 1))
            delta = delta.reshape(-1, F)
            self._add_weight_rows(delta.T @ self.cols)
            self.db += delta.sum(axis=0)
        if not self.input_grad:
            return None
        H, W = Hp - 2 * ph, Wp - 2 * pw
        dX = scratch(self, "dX", (N, C, H, W), dY.dtype)
        if narrow:
            # The same numbers as col2im, from the side with fewer channels: dX is the stride-1
            # correlation of delta, padded by k - 1 - p, with the kernel flipped and its channel
            # axes swapped (module docstring); its im2col has kh kw F columns instead of kh kw C.
            (qh, qw) = (kh - 1 - ph, kw - 1 - pw)
            dYp = self._buffer("dYp", (N, F, Ho + 2 * qh, Wo + 2 * qw), dY.dtype, True, layout=IMAGE)
            if qh or qw:
                dYp.fill(0.0)
            dYp[:, :, qh:qh + Ho, qw:qw + Wo] = dY4
            cols = im2col(dYp, self._k, (1, 1),
                          out=self._buffer("dY_cols", (N, H, W, F, kh, kw), dY.dtype, True, layout=PATCH_ROWS))
            W_flip = self.W.reshape(F, C, kh, kw)[:, :, ::-1, ::-1].transpose(2, 3, 0, 1).reshape(-1, C)
            dXm = np.matmul(rows(cols), W_flip, out=scratch(self, "dXm", (N * H * W, C), dY.dtype))
            np.copyto(dX, dXm.reshape(N, H, W, C).transpose(0, 3, 1, 2))
            return self._from4d(dX)
        dcols = self._buffer("dcols", (N, Ho, Wo, C, kh, kw), dY.dtype, True, layout=PER_OFFSET)
        products_per_offset(delta, self.W_rows, dcols)  # dcols = delta W_mat
        dXp = col2im(dcols, self.padded_shape, self._s,
                     out=self._buffer("dXp", self.padded_shape, dY.dtype, True, layout=IMAGE))
        np.copyto(dX, dXp[:, :, ph:ph + H, pw:pw + W])
        return self._from4d(dX)


class Conv1D(Conv2D):
    r"""1-D convolution on sequences, run as :class:`Conv2D` on ``(N, C, 1, L)``.

    Shapes: ``X (N, C, L)``, ``W (F, C, k)``, ``b (F,)``, ``Y (N, F, L')`` with
    :math:`L' = \lfloor (L + 2p - k)/s \rfloor + 1` and

    .. math:: Y_{n f i} = b_f + \sum_{c, u} W_{f c u}\, X^p_{n, c, s i + u} .

    Backward as in :class:`Conv2D` (:math:`\partial J/\partial W \mathrel{+}= \delta^\top
    \mathrm{cols}`, :math:`\partial J/\partial b` the sum of :math:`\delta` over
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

    Computed as :class:`Conv2D`'s input gradient: ``dcols = X_mat @ W_mat`` with
    ``X_mat`` of shape ``(N H W, C_in)``, then col2im, crop, add ``b``. With
    ``b = 0`` and the same ``W``, :math:`\langle \mathrm{Conv2D}(x), y\rangle =
    \langle x, \mathrm{ConvTranspose2D}(y)\rangle` whenever ``Conv2D`` maps
    ``H_out`` back to ``H`` (that is, when :math:`s_h` divides :math:`H_{out} + 2p_h - k_h`).

    Backward is :class:`Conv2D`'s forward: with :math:`\delta = \partial J/\partial Y`
    padded by :math:`p` and ``cols = im2col(delta_p)`` of shape ``(N H W, C_out kh kw)``,

    .. math::
        \partial J/\partial W_{mat} \mathrel{+}= X_{mat}^\top \mathrm{cols}, \quad
        \partial J/\partial b_o \mathrel{+}= \textstyle\sum_{n,y,x} \delta_{noyx}, \quad
        \partial J/\partial X_{mat} = \mathrm{cols}\, W_{mat}^\top .

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
        X4 = self._to4d(X)
        N, Cin, H, W = X4.shape
        Co, (kh, kw), (sh, sw), (ph, pw) = self.out_channels, self._k, self._s, self._p
        Xm = self._buffer("Xm", (N, H, W, Cin), X.dtype, training)
        np.copyto(Xm, X4.transpose(0, 2, 3, 1))
        self.Xm = Xm.reshape(-1, Cin)
        self.input_shape = X.shape
        self.W_rows = self._weight_rows(Cin)  # (C_in, kh kw C_out): W_mat, its columns in the order of rows()
        dcols = self._buffer("dcols", (N, H, W, Co, kh, kw), X.dtype, training, layout=PER_OFFSET)
        products_per_offset(self.Xm, self.W_rows, dcols)  # dcols = X_mat W_mat
        (oh, ow) = self._o
        Hp, Wp = (H - 1) * sh + kh + oh, (W - 1) * sw + kw + ow  # the stamped image, output_padding larger
        Yp = col2im(dcols, (N, Co, Hp, Wp), (sh, sw),
                    out=self._buffer("Yp", (N, Co, Hp, Wp), X.dtype, training, layout=IMAGE))
        self.padded_shape = Yp.shape
        Ho, Wo = (H - 1) * sh + kh + oh - 2 * ph, (W - 1) * sw + kw + ow - 2 * pw
        Y = self._buffer("Y", (N, Co, Ho, Wo), X.dtype, training)
        np.add(Yp[:, :, ph:ph + Ho, pw:pw + Wo], self.b[:, None, None], out=Y)
        return self._from4d(Y)

    def backward(self, dY):
        dY4 = self._to4d(dY)
        N, Co, Ho, Wo = dY4.shape
        (kh, kw), (ph, pw) = self._k, self._p
        dYp = self._buffer("dYp", self.padded_shape, dY.dtype, True, layout=IMAGE)
        if ph or pw:
            dYp.fill(0.0)
        dYp[:, :, ph:ph + Ho, pw:pw + Wo] = dY4
        self.db += dY4.sum(axis=(0, 2, 3))
        H, W = self.padded_shape[2] - kh, self.padded_shape[3] - kw  # (H - 1) s, (W - 1) s
        H, W = H // self._s[0] + 1, W // self._s[1] + 1
        cols = im2col(dYp, self._k, self._s, out=self._buffer("cols", (N, H, W, Co, kh, kw), dY.dtype, True,
                                                               layout=PATCH_ROWS))
        cols = rows(cols)  # (N H W, kh kw C_out)
        self._add_weight_rows(self.Xm.T @ cols)
        if not self.input_grad:
            return None
        dXm = np.matmul(cols, self.W_rows.T, out=scratch(self, "dXm", self.Xm.shape, dY.dtype))
        dX = scratch(self, "dX", (N, self.in_channels, H, W), dY.dtype)
        np.copyto(dX, dXm.reshape(N, H, W, -1).transpose(0, 3, 1, 2))
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
