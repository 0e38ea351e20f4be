r"""The convolutional autoencoder: convolution and pooling blocks, then transposed convolutions back.

Network, for images of ``C`` channels and ``H x W`` pixels and ``filters = (f_1, ..., f_L)``::

    X (N, C H W) -> Reshape(C, H, W)
      -> [Conv2D(f_l, k, "same") -> activation -> MaxPool2D(2)]  for l = 1..L       (encoder)
      -> Flatten                                               code (N, f_L H_L W_L)
      -> Reshape(f_L, H_L, W_L)
      -> [ConvTranspose2D(f_l, k, stride 2) -> activation]      for l = L..1         (decoder)
         (decoder="upsample": [Upsample2D(2) -> Conv2D(f_l, k, "same") -> activation])
      -> Conv2D(C, k, "same") -> Flatten                        logits or values (N, C H W)

The network's input and output are flat rows ``(N, C H W)`` (C order, channels
first), so the loss compares them with ``X`` laid out the same way, and every
method of :class:`~numpy_ae.autoencoders.Autoencoder` (fit on L-BFGS or
minibatches, score, save/load) works unchanged. The code is flattened too:
``transform`` returns ``(N, D_code)``, so the estimator is a scikit-learn
transformer (``Pipeline``, ``GridSearchCV``); ``code_shape_`` gives its image
layout ``(f_L, H_L, W_L)``.

"Same" convolutions pad ``k // 2`` (odd ``k``). Pooling is PyTorch's floor
mode, ``H_{l+1} = floor(H_l / 2)``; each stride-2 transposed convolution is
given the padding ``p`` and ``output_padding`` ``o`` that bring ``H_{l+1}`` back to
exactly ``H_l``: :math:`2(H_{l+1} - 1) - 2p + k + o = H_l`. For an even size
and ``k = 3`` that is ``p = 1, o = 1``, PyTorch's rendering of Keras'
``Conv2DTranspose(strides=2, padding="same")``; an odd size gets ``p = 0, o = 0``
(per axis). ``decoder="upsample"`` needs every size divisible by ``2**L``.

Inputs: ``(N, H, W)`` (one channel), ``(N, C, H, W)``, or flat ``(N, D)`` read
as ``image_shape`` (``(C, H, W)`` or ``(H, W)``). Flat input without
``image_shape`` is read as ``(1, 1, D)``: a one-row image, which works only with
``pool=None`` (scikit-learn's checks use that configuration). Outputs:
``reconstruct(X)`` has ``X``'s layout; ``inverse_transform(codes)`` has the
layout of the data ``fit`` saw (recorded as ``input_ndim_``).

The output layer has no activation: with ``loss="cross_entropy"`` the loss
takes logits and the reconstruction is their sigmoid (inputs must lie in
[0, 1]); with ``loss="mse"`` it is linear.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ._validation import check_array, check_float_dtype, check_non_negative
from .autoencoders import Autoencoder, _set_params_from_locals
from .conv import Conv2D, ConvTranspose2D
from .layers import make_activation
from .losses import make_loss
from .spatial import Flatten, MaxPool2D, Reshape, Upsample2D

__all__ = ["ConvAutoencoder"]

LOSSES = ("cross_entropy", "mse")
DECODERS = ("transpose", "upsample")
POOLS = ("max", None)


def _check_image_shape(image_shape):
    """``image_shape`` as ``(C, H, W)`` (``(H, W)`` means one channel), or None."""
    if image_shape is None:
        return None
    try:
        shape = tuple(image_shape)
    except TypeError:
        shape = ()
    if len(shape) not in (2, 3) or any(isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1
                                       for d in shape):
        raise ValueError(f"image_shape must be None, (H, W) or (C, H, W) of integers >= 1; got {image_shape!r}")
    shape = tuple(int(d) for d in shape)
    return (1,) + shape if len(shape) == 2 else shape


def _ndim(X):
    """Dimensions of ``X`` as an array (None when it is no array: check_array then says why)."""
    try:
        return np.asarray(X).ndim
    except Exception:  # ragged lists and the like
        return None


class ConvAutoencoder(Autoencoder):
    r"""Convolutional autoencoder on images (see the module docstring for the network).

    Parameters
    ----------
    image_shape : None, (H, W) or (C, H, W)
        How to read flat ``(N, D)`` input (needed for it unless ``pool=None``);
        image input ``(N, H, W)`` / ``(N, C, H, W)`` must match it when given.
    filters : tuple of int >= 1
        Channels of the encoder's convolutions; the decoder mirrors them.
    kernel_size : odd int >= 1 (>= 3 for the transposed decoder with pooling)
    pool : {"max", None}
        2x2 max pooling after each encoder convolution (None: no pooling, and
        the decoder uses stride-1 convolutions).
    decoder : {"transpose", "upsample"}
        Stride-2 transposed convolutions, or nearest upsampling then a convolution.
    activation : str
        Hidden activation (``"relu"``, ``"elu"``, ``"tanh"``, ...).
    loss : {"cross_entropy", "mse"}
        Cross-entropy from logits (sigmoid output; inputs in [0, 1]) or mean squared error.
    weight_decay : float >= 0
        On kernels only.
    method, max_iter, gtol, epochs, batch_size, learning_rate, momentum, nesterov, patience, verbose, \
warm_start, dtype, random_state :
        Training, as for every autoencoder (:mod:`numpy_ae.autoencoders`); Adam by default.

    Attributes
    ----------
    image_shape_ : (C, H, W)
    code_shape_ : (f_L, H_L, W_L)
    input_ndim_ : int
        2, 3 or 4: the layout of the data ``fit`` saw (that of ``inverse_transform``'s output).
    """

    def __init__(self, image_shape=None, *, filters=(32, 32), kernel_size=3, pool="max", decoder="transpose",
                 activation="relu", loss="cross_entropy", weight_decay=0.0, method="adam", max_iter=200,
                 gtol=1e-5, epochs=10, batch_size=128, learning_rate=None, momentum=0.9, nesterov=False,
                 patience=None, verbose=0, warm_start=False, dtype="float64", random_state=None):
        _set_params_from_locals(self, locals())
        self._validate_params()

    @classmethod
    def keras_denoiser(cls, **params):
        """The Keras denoising example (28,353 parameters on 28x28x1): Conv 32 - pool - Conv 32 - pool,
        two stride-2 transposed convolutions of 32, a 3x3 convolution to one sigmoid channel, cross-entropy.
        Keyword arguments override the training hyperparameters (e.g. ``epochs``, ``random_state``)."""
        preset = dict(image_shape=(1, 28, 28), filters=(32, 32), kernel_size=3, pool="max", decoder="transpose",
                      activation="relu", loss="cross_entropy", method="adam", batch_size=128)
        return cls(**(preset | params))

    # ------------------------------------------------------------- structure
    def _validate_params(self):
        _check_image_shape(self.image_shape)
        try:
            filters = tuple(self.filters)
        except TypeError:
            filters = ()
        if not filters or any(isinstance(f, bool) or not isinstance(f, numbers.Integral) or f < 1 for f in filters):
            raise ValueError(f"filters must be a non-empty tuple of integers >= 1; got {self.filters!r}")
        k = self.kernel_size
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1 or k % 2 == 0:
            raise ValueError(f"kernel_size must be an odd integer >= 1 (for 'same' padding k // 2); got {k!r}")
        if self.pool not in POOLS:
            raise ValueError(f"pool must be one of {list(POOLS)}; got {self.pool!r}")
        if self.decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {list(DECODERS)}; got {self.decoder!r}")
        if self.pool is not None and self.decoder == "transpose" and k < 3:
            raise ValueError(f"kernel_size must be >= 3 for decoder='transpose' with pooling (a stride-2 "
                             f"transposed convolution of size 1 cannot double an image); got {k!r}")
        make_activation(self.activation)
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {list(LOSSES)}; got {self.loss!r}")
        check_non_negative(self.weight_decay, "weight_decay")
        super()._validate_params()

    def _image_shape_for(self, n_features):
        """``(C, H, W)`` for flat rows of ``n_features``: image_shape, else the fitted shape, else (1, 1, D)."""
        shape = _check_image_shape(self.image_shape)
        if shape is None:
            fitted = getattr(self, "image_shape_", None)
            shape = tuple(fitted) if fitted is not None and math.prod(fitted) == n_features else (1, 1, n_features)
        if math.prod(shape) != n_features:
            raise ValueError(f"image_shape must hold D = C*H*W values per example: image_shape={self.image_shape!r} "
                             f"holds {math.prod(shape)}, but X has D = {n_features} features")
        return shape

    def _make_network(self, n_features):
        C, H, W = shape = self._image_shape_for(n_features)
        filters, k = tuple(int(f) for f in self.filters), int(self.kernel_size)
        L = len(filters) if self.pool is not None else 0
        if min(H, W) < 2 ** L:
            raise ValueError(f"the image is too small for the pools: {L} poolings of 2 need H and W >= 2**{L} = "
                             f"{2 ** L}; got image shape {shape} (use fewer filters or pool=None)")
        if self.decoder == "upsample" and (H % 2 ** L or W % 2 ** L):
            raise ValueError(f"decoder='upsample' needs H and W divisible by 2**{L} = {2 ** L} (one doubling per "
                             f"pool); got image shape {shape} (use decoder='transpose')")
        init = "he" if self.activation in ("relu", "elu") else "glorot"
        encoder, sizes, c = [Reshape(shape)], [(H, W)], C
        for f in filters:
            encoder += [Conv2D(c, f, k, padding=k // 2, init=init), make_activation(self.activation)]
            if self.pool is not None:
                encoder.append(MaxPool2D(2))
                sizes.append((sizes[-1][0] // 2, sizes[-1][1] // 2))
            c = f
        encoder.append(Flatten())
        self.image_shape_ = shape
        self.code_shape_ = (c,) + sizes[-1]
        decoder = [Reshape(self.code_shape_)]
        for i, f in reversed(list(enumerate(filters))):
            if self.pool is None:
                decoder.append(Conv2D(c, f, k, padding=k // 2, init=init))
            elif self.decoder == "upsample":
                decoder += [Upsample2D(2), Conv2D(c, f, k, padding=k // 2, init=init)]
            else:
                small, big = sizes[i + 1], sizes[i]
                r = [2 * s + k - 2 - b for s, b in zip(small, big)]  # 2p - o for each axis
                p = tuple((x + 1) // 2 for x in r)
                o = tuple(2 * pp - x for pp, x in zip(p, r))
                decoder.append(ConvTranspose2D(c, f, k, stride=2, padding=p, output_padding=o, init=init))
            decoder.append(make_activation(self.activation))
            c = f
        decoder += [Conv2D(c, C, k, padding=k // 2, init="glorot"), Flatten()]
        return encoder, decoder, make_loss(self.loss)

    def _needs_unit_inputs(self):
        return self.loss == "cross_entropy"

    def _unit_inputs_hint(self):
        return ("ConvAutoencoder with loss='cross_entropy' reconstructs through a sigmoid, whose outputs lie "
                "in (0, 1). Rescale the images to [0, 1] (e.g. divide 8-bit pixels by 255) or use loss='mse'.")

    @property
    def n_params_(self):
        """Number of learned parameters (28,353 for :meth:`keras_denoiser` on 28x28x1)."""
        return int(self.theta.size)

    # ---------------------------------------------------------------- inputs
    def _check_X(self, X, fitting=False):
        """Images ``(N, H, W)``, ``(N, C, H, W)`` or flat ``(N, D)`` to the network's flat rows ``(N, C H W)``."""
        if hasattr(X, "toarray") and hasattr(X, "nnz"):
            return super()._check_X(X, fitting)  # its TypeError
        try:
            X = np.asarray(X)
        except Exception:  # ragged lists and the like: check_array says why
            return super()._check_X(X, fitting)
        ndim = X.ndim
        if ndim not in (3, 4):
            if ndim > 4:
                raise ValueError(f"X must have 2 (N, D), 3 (N, H, W) or 4 (N, C, H, W) dimensions; got shape "
                                 f"{X.shape}")
            if fitting and ndim == 2:
                self.__dict__.pop("image_shape_", None)  # a flat X is read anew (image_shape or (1, 1, D))
                self._image_shape_for(X.shape[1])  # image_shape must match D
            Xf = super()._check_X(X, fitting)
            if fitting:
                self.input_ndim_ = 2
            return Xf
        X = check_array(X, "X", ndim=ndim, dtype=check_float_dtype(self.dtype), estimator=type(self).__name__)
        shape = (1,) + X.shape[1:] if ndim == 3 else X.shape[1:]
        expected = _check_image_shape(self.image_shape)
        net = getattr(self, "network_", None)
        if not fitting and net is not None:
            expected = tuple(self.image_shape_)
        if expected is not None and shape != expected:
            what = "channels" if shape[0] != expected[0] else "image size"
            raise ValueError(f"X's {what} must match the model's image shape (C, H, W) = {expected}; got X.shape "
                             f"{X.shape}, read as {shape}")
        if fitting:
            self.image_shape_ = shape
            self.input_ndim_ = ndim
        return super()._check_X(X.reshape(X.shape[0], -1), fitting)

    def _as_input_layout(self, R, ndim):
        C, H, W = self.image_shape_
        if ndim == 4:
            return R.reshape(-1, C, H, W)
        if ndim == 3 and C == 1:
            return R.reshape(-1, H, W)
        return R

    # ------------------------------------------------------------ inference
    def transform(self, X):
        """Codes of ``X``: shape ``(N, D_code)``, the flattened ``code_shape_`` feature maps."""
        return super().transform(X)

    def inverse_transform(self, H):
        """Reconstruction from codes ``(N, D_code)``, in the layout of the data ``fit`` saw."""
        net = self._network()
        H = check_array(H, "H", n_features=math.prod(self.code_shape_), dtype=check_float_dtype(self.dtype),
                        estimator=type(self).__name__)
        for layer in self.decoder_layers:
            H = layer.forward(H, training=False)
        return self._as_input_layout(net.loss.output(H), getattr(self, "input_ndim_", 2))

    def reconstruct(self, X):
        """``inverse_transform(transform(X))`` in ``X``'s own layout."""
        ndim = _ndim(X)
        return self._as_input_layout(super().reconstruct(X), ndim)
