r"""The convolutional autoencoder: convolution and pooling blocks, then transposed convolutions back.

Network, for images of ``C`` channels and ``H x W`` pixels and ``filters = (f_1, ..., f_L)``::

    X (N, C H W) -> Reshape(C, H, W)
      -> [Conv2D(f_l, k, "same") -> activation -> MaxPool2D(2)]  for l = 1..L       (encoder block l)
      -> _code_layers(code_shape)                               (none by default; see below)
      -> Flatten                                               code (N, f_L H_L W_L)
      -> Reshape(f_L, H_L, W_L)
      output_conv=True (Keras' denoiser):
      -> [ConvTranspose2D(f_l, k, stride 2) -> activation]      for l = L..1         (decoder)
         (decoder="upsample": [Upsample2D(2) -> Conv2D(f_l, k, "same") -> activation])
      -> Conv2D(C, k, "same") -> Flatten                        logits or values (N, C H W)
      output_conv=False (Hands-On ML; the mirror of the encoder):
      -> [ConvTranspose2D(f_{l-1}, k, stride 2) -> activation]  for l = L..2         (decoder block l)
      -> ConvTranspose2D(C, k, stride 2) -> Flatten             decoder block 1: logits or values

With ``output_conv=True`` the decoder keeps the encoder's channel counts one
step up (its block for level l outputs ``f_l`` channels) and a last "same"
convolution maps to the image's ``C`` channels. With ``output_conv=False``
decoder block l maps ``f_l`` channels back to ``f_{l-1}`` (``f_0 = C``) at
encoder block l's input size: it is the exact mirror of encoder block l, and
the last block is the output layer (no activation). That is the layout greedy
layer-wise pretraining needs (below).

The network's input and output are flat rows ``(N, C H W)`` (C order, channels
first), so the loss compares them with ``X`` laid out the same way, and every
method of :class:`~numpy_ae.models.autoencoders.Autoencoder` (fit on L-BFGS or
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
(per axis: Keras' ``padding="valid"``, 3 -> 7). ``decoder="upsample"`` needs
every size divisible by ``2**L``.

Inputs: ``(N, H, W)`` (one channel), ``(N, C, H, W)``, or flat ``(N, D)`` read
as ``image_shape`` (``(C, H, W)`` or ``(H, W)``). Flat input without
``image_shape`` is read as ``(1, 1, D)``: a one-row image, which works only with
``pool=None`` (scikit-learn's checks use that configuration). Outputs:
``reconstruct(X)`` has ``X``'s layout; ``inverse_transform(codes)`` has the
layout of the data ``fit`` saw (recorded as ``input_ndim_``).

The output layer has no activation: with ``loss="cross_entropy"`` the loss
takes logits and the reconstruction is their sigmoid (inputs must lie in
[0, 1]); with ``loss="mse"`` it is linear.

Greedy layer-wise pretraining (:meth:`ConvAutoencoder.fit_in_phases`) lives in
:mod:`numpy_ae.models.conv_phases`.

Where Conv-WTA plugs in: ``_code_layers``
-----------------------------------------
:meth:`ConvAutoencoder._code_layers` returns the layers inserted after the
last encoder block, before the ``Flatten`` (none here). They receive the code
feature maps ``(N, f_L, H_L, W_L)`` and must return that shape; they are part of
the encoder (``transform`` runs them with ``training=False``), of the network's
theta (saved and loaded with it; ``_rebuild`` calls ``_make_network`` again), and
of the top phase of :meth:`~ConvAutoencoder.fit_in_phases`. The convolutional
winner-take-all autoencoder (Makhzani & Frey, 2015;
:class:`~numpy_ae.models.conv_wta.ConvWTAAutoencoder`) is a subclass whose
``_code_layers`` returns two parameter-free layers: spatial sparsity (in each
example's feature map keep only the largest activity, zero the rest) and
lifetime sparsity (for each feature map keep the top ``k%`` of those winners
across the minibatch). In training their backward passes let the gradient
through the kept units only, so the decoder (a transposed convolution reading
the sparse feature maps) learns from the winners; at inference
(``training=False``) they are the identity: the sparsity acts only in
training. The paper's encoder has no pooling: use ``pool=None``, where the hook
sits right after the last convolution's activation.
(``numpy_ae.nn.selection.SpatialWTA`` and ``LifetimeWTA``, which take
``(N, C, H, W)`` maps, are such layers: ``return [SpatialWTA(),
LifetimeWTA(sparsity)]``.)
"""
from __future__ import annotations
import math
import numbers
import numpy as np
from .._validation import check_filters_and_kernel, array_ndim, check_array, check_float_dtype, check_non_negative
from .autoencoders import Autoencoder
from .training import _set_params_from_locals
from ..nn.conv import Conv2D, ConvTranspose2D
from ..nn.layer import Layer
from ..nn.activations import make_activation
from ..nn.losses import make_loss
from ..nn.spatial import Flatten, MaxPool2D, Reshape, Upsample2D
from .conv_phases import ConvPhases, forward_in_batches

__all__ = ['ConvAutoencoder', 'forward_in_batches']


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


class ConvAutoencoder(ConvPhases, Autoencoder):
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
    output_conv : bool
        True: the decoder blocks keep the encoder's channel counts and a last
        "same" convolution maps to the image's channels (the Keras denoiser).
        False: decoder block l maps ``f_l`` channels back to ``f_{l-1}`` (``C``
        for the last), which is then the output layer: the exact mirror of the
        encoder (Hands-On ML; needed by :meth:`fit_in_phases`).
    activation : str
        Hidden activation (``"relu"``, ``"elu"``, ``"tanh"``, ...).
    loss : {"cross_entropy", "mse"}
        Cross-entropy from logits (sigmoid output; inputs in [0, 1]) or mean squared error.
    weight_decay : float >= 0
        On kernels only.
    method, max_iter, gtol, epochs, batch_size, learning_rate, momentum, nesterov, patience, verbose, warm_start, dtype, random_state :
        Training, as for every autoencoder (:mod:`numpy_ae.models.autoencoders`); Adam by default.

    Attributes
    ----------
    image_shape_ : (C, H, W)
    code_shape_ : (f_L, H_L, W_L)
    input_ndim_ : int
        2, 3 or 4: the layout of the data ``fit`` saw (that of ``inverse_transform``'s output).
    phase_history_, phase_cost_ : list
        After :meth:`fit_in_phases`: per phase (L pretraining phases, then the
        fine-tuning), the minibatch history or L-BFGS cost history (None for a
        skipped phase), and the whole network's reconstruction loss on ``X`` after it.
    """

    _saved_attributes = {"image_shape_": tuple, "code_shape_": tuple, "input_ndim_": int, "phase_cost_": list}

    def __init__(self, image_shape=None, *, filters=(32, 32), kernel_size=3, pool="max", decoder="transpose",
                 output_conv=True, activation="relu", loss="cross_entropy", weight_decay=0.0, method="adam",
                 max_iter=200, gtol=1e-5, epochs=10, batch_size=128, learning_rate=None, momentum=0.9, nesterov=False,
                 patience=None, verbose=0, warm_start=False, dtype="float64", random_state=None, fast=True):
        _set_params_from_locals(self, locals())
        self._validate_params()

    @classmethod
    def keras_denoiser(cls, **params):
        """The Keras denoising example (28,353 parameters on 28x28x1): Conv 32 - pool - Conv 32 - pool,
        two stride-2 transposed convolutions of 32, a 3x3 convolution to one sigmoid channel, cross-entropy.
        Keyword arguments override the training hyperparameters (e.g. ``epochs``, ``random_state``)."""
        preset = dict(image_shape=(1, 28, 28), filters=(32, 32), kernel_size=3, pool="max", decoder="transpose",
                      output_conv=True, activation="relu", loss="cross_entropy", method="adam", batch_size=128)
        return cls(**(preset | params))

    @classmethod
    def hands_on_ml(cls, **params):
        r"""Hands-On ML's convolutional autoencoder for Fashion-MNIST (2nd edition, chapter 17,
        "Convolutional Autoencoders"; notebook ``17_autoencoders_and_gans.ipynb``): 46,529 parameters.

        Encoder: Conv2D 16, 32, 64 (3x3, "same", SELU), each followed by 2x2 max
        pooling: 28 -> 14 -> 7 -> 3, code ``(64, 3, 3)``. Decoder, the mirror:
        ConvTranspose2D 32 (3x3, stride 2, "valid", SELU) 3 -> 7, ConvTranspose2D 16
        ("same", SELU) 7 -> 14, ConvTranspose2D 1 ("same", sigmoid) 14 -> 28.
        Binary cross-entropy, plain SGD with learning rate 1.0, minibatches of
        32 (Keras' default), 5 epochs.

        The book's loss averages the cross-entropy over the 784 pixels; ours sums
        it (:mod:`numpy_ae.nn.losses`), so the same SGD steps need
        ``learning_rate = 1.0 / 784`` (set here; override it with the image size
        if you change ``image_shape``). Not reproduced: Keras' Glorot
        initialisation of the transposed convolutions (ours takes the fan-in of
        one output pixel, ``C_in k^2 / 4``), and the exact placement of TF's
        "same" transposed convolution (ours is PyTorch's ``padding=1,
        output_padding=1``: same shapes and parameter count, the output grid
        shifted by one pixel). Keyword arguments override any hyperparameter.
        """
        preset = dict(image_shape=(1, 28, 28), filters=(16, 32, 64), kernel_size=3, pool="max",
                      decoder="transpose", output_conv=False, activation="selu", loss="cross_entropy",
                      method="sgd", learning_rate=1.0 / 784, momentum=0.0, batch_size=32, epochs=5)
        return cls(**(preset | params))

    # ------------------------------------------------------------- structure
    def _validate_params(self):
        _check_image_shape(self.image_shape)
        check_filters_and_kernel(self.filters, self.kernel_size)
        if self.pool not in POOLS:
            raise ValueError(f"pool must be one of {list(POOLS)}; got {self.pool!r}")
        if self.decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {list(DECODERS)}; got {self.decoder!r}")
        if not isinstance(self.output_conv, (bool, np.bool_)):
            raise ValueError(f"output_conv must be True (a last 'same' convolution to the image channels) or "
                             f"False (the last decoder block is the output layer); got {self.output_conv!r}")
        if self.pool is not None and self.decoder == "transpose" and self.kernel_size < 3:
            raise ValueError(f"kernel_size must be >= 3 for decoder='transpose' with pooling (a stride-2 "
                             f"transposed convolution of size 1 cannot double an image); got {self.kernel_size!r}")
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
        # encoder blocks; sizes[l] is the (H, W) entering block l + 1 (sizes[-1] the code's)
        enc_blocks, sizes, c = [], [(H, W)], C
        for f in filters:
            block = [Conv2D(c, f, k, padding=k // 2, init=init), make_activation(self.activation)]
            if self.pool is not None:
                block.append(MaxPool2D(2))
                sizes.append((sizes[-1][0] // 2, sizes[-1][1] // 2))
            enc_blocks.append(block)
            c = f
        self.image_shape_ = shape
        self.code_shape_ = (c,) + sizes[-1]
        code = list(self._code_layers(self.code_shape_))
        for i, layer in enumerate(code):
            if not isinstance(layer, Layer):
                raise ValueError(f"_code_layers must return numpy_ae Layers; item {i} is a {type(layer).__name__}")

        def upsample(c_in, c_out, i, init):  # from sizes[i + 1] back to sizes[i]
            if self.pool is None:
                return [Conv2D(c_in, c_out, k, padding=k // 2, init=init)]
            if self.decoder == "upsample":
                return [Upsample2D(2), Conv2D(c_in, c_out, k, padding=k // 2, init=init)]
            small, big = sizes[i + 1], sizes[i]
            r = [2 * s + k - 2 - b for s, b in zip(small, big)]  # 2p - o for each axis
            p = tuple((x + 1) // 2 for x in r)
            o = tuple(2 * pp - x for pp, x in zip(p, r))
            return [ConvTranspose2D(c_in, c_out, k, stride=2, padding=p, output_padding=o, init=init)]

        dec_blocks = [None] * len(filters)  # dec_blocks[l] mirrors enc_blocks[l]
        for i in reversed(range(len(filters))):
            if self.output_conv:  # Keras: keep f_l channels, then one more convolution to C below
                dec_blocks[i] = upsample(c, filters[i], i, init) + [make_activation(self.activation)]
                c = filters[i]
            elif i > 0:  # the mirror: back to block i's input channels
                dec_blocks[i] = upsample(filters[i], filters[i - 1], i, init) + [make_activation(self.activation)]
            else:  # the last block is the output layer: no activation (logits for the cross-entropy)
                dec_blocks[i] = upsample(filters[0], C, 0, "glorot")
        out = [Conv2D(c, C, k, padding=k // 2, init="glorot")] if self.output_conv else []
        self._enc_blocks, self._code, self._dec_blocks = enc_blocks, code, dec_blocks
        self._out = out + [Flatten()]
        encoder = [Reshape(shape)] + [la for b in enc_blocks for la in b] + code + [Flatten()]
        decoder = [Reshape(self.code_shape_)] + [la for b in reversed(dec_blocks) for la in b] + self._out
        return encoder, decoder, make_loss(self.loss)

    def _code_layers(self, code_shape):
        """Layers inserted after the last encoder block, before the ``Flatten`` of the code (none here).

        The hook for regularisers that act on the code's feature maps, such as
        the spatial and lifetime sparsity of the convolutional winner-take-all
        autoencoder (see the module docstring). ``code_shape`` is ``(f_L, H_L,
        W_L)``; the layers get ``(N, f_L, H_L, W_L)`` and must return that shape
        (:meth:`initialize` checks it). A subclass overrides this method and
        takes its options as ``__init__`` hyperparameters, so that a loaded
        model rebuilds the same layers. Called by :meth:`_make_network` for
        every new network; returns a list of new :class:`~numpy_ae.nn.layer.Layer`.
        """
        return []

    def initialize(self, n_features):
        """Build the network for ``n_features`` inputs with fresh parameters (see
        :meth:`Autoencoder.initialize`); checks that the ``_code_layers`` keep the code's shape."""
        super().initialize(n_features)
        if self._code:
            Y = self._network().forward(np.zeros((1, n_features), dtype=self.theta.dtype), training=False,
                                        layers=self.encoder_layers[:-1])
            if Y.shape[1:] != tuple(self.code_shape_):
                raise ValueError(f"_code_layers must keep the code's shape (f_L, H_L, W_L) = "
                                 f"{tuple(self.code_shape_)}; they return {Y.shape[1:]}")
        return self

    def _clear_fit_attributes(self):
        super()._clear_fit_attributes()
        self.__dict__.pop("phase_cost_", None)

    def _needs_unit_inputs(self):
        return self.loss == "cross_entropy"

    def _unit_inputs_hint(self):
        return ("ConvAutoencoder with loss='cross_entropy' reconstructs through a sigmoid, whose outputs lie "
                "in (0, 1). Rescale the images to [0, 1] (e.g. divide 8-bit pixels by 255) or use loss='mse'.")

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
        ndim = array_ndim(X)
        return self._as_input_layout(super().reconstruct(X), ndim)
