r"""Deep (stacked) autoencoders, denoising autoencoders, greedy layer-wise pretraining.

Follows the stacked- and denoising-autoencoder sections of Hands-On ML's
autoencoder chapter, UFLDL's "Building deep networks for classification"
and the deeplearning.net dA/SdA tutorials.

A :class:`StackedAutoencoder` with ``layer_sizes=[784, 300, 150]`` is the
symmetric network ``784-300-150-300-784``: each encoder layer is ``Dense`` +
activation, the decoder mirrors it. With ``tied=True`` each decoder layer is a
:class:`~numpy_ae.layers.TiedDense` reusing its mirror encoder layer's weight
matrix, transposed, with its own bias: the weights are stored once and both
uses add into the one gradient.

Greedy layer-wise pretraining, both ways Hands-On ML describes:

(a) :func:`pretrain_layerwise`: train one shallow autoencoder per layer, each
    on the codes of the previous one (computed once and cached), then
    :meth:`StackedAutoencoder.from_autoencoders` stacks their weights;
(b) :meth:`StackedAutoencoder.fit_in_phases`: one model trained in phases;
    phase k trains encoder layer k and its mirror decoder layer to reconstruct
    the output of encoder layer k-1, with the layers trained before frozen
    (excluded from the update).
"""
from __future__ import annotations

import numbers


from ._validation import check_array, check_float_dtype, check_non_negative
from .autoencoders import Autoencoder
from .layers import Dense, TiedDense, make_activation
from .losses import MeanSquaredError, make_loss
from .regularizers import make_corruption

__all__ = ["StackedAutoencoder", "DenoisingAutoencoder", "pretrain_layerwise"]


def _check_layer_sizes(layer_sizes):
    try:
        sizes = list(layer_sizes)
    except TypeError:
        raise ValueError(f"layer_sizes must be a list of layer widths like [784, 300, 150]; got {layer_sizes!r}") \
            from None
    if len(sizes) < 2:
        raise ValueError("layer_sizes must list the input size and at least one code size, e.g. [784, 300, 150], "
                         f"so the encoder can be mirrored into a decoder; got {sizes}")
    for i, n in enumerate(sizes):
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"layer_sizes[{i}] must be an integer >= 1; got {n!r} in {sizes}")
    return [int(n) for n in sizes]


class StackedAutoencoder(Autoencoder):
    r"""A symmetric deep autoencoder: encoder ``layer_sizes``, decoder its mirror.

    Network for ``layer_sizes = [D, H1, H2]`` (rows are examples)::

        X (N, D) -> [corruption] -> Dense(D, H1) -> act -> Dense(H1, H2) -> act        (encoder)
                 -> Dense(H2, H1) -> act -> Dense(H1, D) -> output                      (decoder)

    Parameters
    ----------
    layer_sizes : list of int
        Input size, then each encoder layer's width (the last one is the code).
    activation : str
        Hidden activation (``"elu"``, ``"relu"``, ``"sigmoid"``, ``"tanh"``, ...).
    loss : {"mse", "squared_error", "cross_entropy"}
        ``"mse"``: :math:`\frac{1}{ND}\sum (\hat x - x)^2` (Hands-On ML's deep
        autoencoder); ``"squared_error"``: UFLDL's :math:`\frac{1}{2N}\sum\lVert\hat x - x\rVert^2`;
        ``"cross_entropy"``: from logits, for inputs in [0, 1] (deeplearning.net's dA).
    output_activation : str or None
        Activation of the last decoder layer. None: identity for the squared
        losses, and none at all for ``"cross_entropy"`` (which takes logits and
        reconstructs with a sigmoid).
    tied : bool
        Decoder layers reuse the transposed encoder weights.
    weight_decay : float
        :math:`\frac{\lambda}{2}\sum W^2` on weights only.
    corruption : None or {"gaussian", "masking", "salt-pepper"}
        Noise applied to the input in training (a denoising autoencoder).
    corruption_level : float in [0, 1)
        Masking/salt-and-pepper probability, or the Gaussian standard deviation.
    init : None or {"he", "glorot", "ufldl"}
        None: He for ReLU/ELU, Glorot otherwise.
    dtype : {"float64", "float32"}
    random_state : None, int or numpy.random.Generator
        Initialisation, then shuffling and noise.
    """

    def __init__(self, layer_sizes=(784, 300, 150), activation="elu", loss="mse", output_activation=None,
                 tied=False, weight_decay=0.0, corruption=None, corruption_level=0.3, init=None,
                 dtype="float64", random_state=None):
        self.layer_sizes = _check_layer_sizes(layer_sizes)
        make_activation(activation)  # validates the name
        self.activation = activation
        make_loss(loss)
        self.loss = loss
        if output_activation is not None:
            if loss == "cross_entropy":
                raise ValueError("output_activation must be None with loss='cross_entropy' (the loss takes "
                                 f"logits and applies the sigmoid itself); got {output_activation!r}")
            make_activation(output_activation)
        self.output_activation = output_activation
        self.tied = bool(tied)
        self.weight_decay = check_non_negative(weight_decay, "weight_decay")
        if corruption is not None:
            make_corruption(corruption, corruption_level)  # validates kind and level
        self.corruption = corruption
        self.corruption_level = float(corruption_level)
        if init is None:
            init = "he" if activation in ("relu", "elu") else "glorot"
        Dense(1, 1, init=init)
        self.init = init
        self.dtype = check_float_dtype(dtype)
        self.random_state = random_state

    # ------------------------------------------------------------ structure
    def _make_network(self, n_features):
        sizes = self.layer_sizes
        if n_features != sizes[0]:
            raise ValueError(f"X must have layer_sizes[0] = {sizes[0]} features; got {n_features}")
        encoder = [make_corruption(self.corruption, self.corruption_level)] if self.corruption else []
        dense = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            dense.append(Dense(a, b, init=self.init))
            encoder += [dense[-1], make_activation(self.activation)]
        decoder = []
        for k in range(len(dense) - 1, -1, -1):
            d = dense[k]
            decoder.append(TiedDense(d) if self.tied else Dense(d.n_out, d.n_in, init=self.init))
            if k > 0:
                decoder.append(make_activation(self.activation))
            elif self.loss != "cross_entropy":
                decoder.append(make_activation(self.output_activation or "identity"))
        return encoder, decoder, make_loss(self.loss)

    def _needs_unit_inputs(self):
        return self.loss == "cross_entropy"

    @property
    def n_params_(self):
        """Number of parameters (tied weights count once)."""
        return self._network().n_params

    def encoder_dense(self):
        """The encoder's Dense layers, input side first."""
        return [l for l in self.encoder_layers if isinstance(l, Dense)]

    def decoder_dense(self):
        """The decoder's affine layers (Dense or TiedDense), code side first."""
        return [l for l in self.decoder_layers if isinstance(l, (Dense, TiedDense))]

    # ---------------------------------------------------- greedy, in phases
    def fit_in_phases(self, X, epochs=5, verbose=0, **fit_kwargs):
        r"""Greedy layer-wise training of this one model, in phases (Hands-On ML's method (b)).

        Phase k (k = 1 .. K) trains encoder layer k and its mirror decoder
        layer to reconstruct the output of encoder layer k-1 (the input itself
        for k = 1, with the model's loss; mean squared error for inner phases),
        with every other parameter frozen. The path of phase k is the encoder up
        to layer k followed by decoder layer k. ``epochs`` is per phase (an int or
        a list); ``fit_kwargs`` go to the minibatch loop (``method``,
        ``batch_size``, ``learning_rate``...). Returns self, with
        ``phase_history_`` (one history per phase).
        """
        from .optim import make_optimizer
        from .training import train_minibatch

        X = self._check_X(X, fitting=True)
        net = self.initialize(X.shape[1])._network()
        method = fit_kwargs.pop("method", "adam")
        learning_rate = fit_kwargs.pop("learning_rate", None)
        n_phases = len(self.layer_sizes) - 1
        epochs = [epochs] * n_phases if isinstance(epochs, numbers.Integral) else list(epochs)
        if len(epochs) != n_phases:
            raise ValueError(f"epochs must be an int or a list of {n_phases} ints (one per phase); got {epochs}")
        self.phase_history_ = []
        for k in range(1, n_phases + 1):
            path, trainable, target_layers = self._phase_path(k)
            net.frozen[:] = True
            net.freeze(trainable, frozen=False)
            if k == 1:
                T, loss = None, net.loss
            else:  # the target: the (clean) output of encoder layer k-1, computed once and cached
                T = net.forward(X, training=False, layers=target_layers).copy()
                loss = MeanSquaredError()
            if verbose:
                print(f"phase {k}/{n_phases}: training {trainable[0]!r} and its mirror", flush=True)
            phase_net = _PhaseView(net, path, loss)
            history = train_minibatch(phase_net, X, T, optimizer=make_optimizer(method, learning_rate),
                                      epochs=epochs[k - 1], rng=self.rng_, verbose=bool(verbose), **fit_kwargs)
            self.phase_history_.append(history)
        net.frozen[:] = False
        self.cost_ = net.evaluate(X)
        return self

    def _phase_path(self, k):
        r"""Phase ``k`` (1-based) of :meth:`fit_in_phases`: ``(path, trainable, target_layers)``.

        ``path``: the encoder up to encoder layer k (with the corruption layer,
        if any), then decoder layer k (its affine layer and activation);
        ``trainable``: encoder layer k's ``Dense`` and its mirror decoder layer;
        ``target_layers``: the encoder up to layer k-1, whose output phase k
        reconstructs (empty for k = 1: the input itself).
        """
        enc, dec = self.encoder_layers, self.decoder_layers
        n_phases = len(self.layer_sizes) - 1
        offset = 1 if self.corruption else 0
        end = offset + 2 * k                 # encoder layer k ends at index end of `enc`
        dec_start = 2 * (n_phases - k)       # decoder layer k starts at index dec_start of `dec`
        path = enc[:end] + dec[dec_start:dec_start + 2]
        trainable = [enc[end - 2], dec[dec_start]]
        return path, trainable, enc[:end - 2] if k > 1 else []

    @classmethod
    def from_autoencoders(cls, autoencoders, **params):
        r"""Stack shallow autoencoders trained layer-wise into one deep autoencoder (method (a)).

        ``autoencoders[k]`` maps ``H_k -> H_{k+1} -> H_k``; the result has
        ``layer_sizes = [H_0, H_1, ..., H_K]``, encoder weights taken from each
        autoencoder's encoder in order and decoder weights from their decoders
        in reverse order. ``params`` are the new model's other hyperparameters
        (activation, loss, ...): they should match how the parts were trained.
        """
        sizes = []
        for k, ae in enumerate(autoencoders):
            enc = [l for l in ae.encoder_layers if isinstance(l, Dense)]
            if len(enc) != 1:
                raise ValueError(f"autoencoders[{k}] must be a shallow autoencoder (one encoder layer); "
                                 f"it has {len(enc)}")
            n_in, n_out = enc[0].n_in, enc[0].n_out
            if sizes and sizes[-1] != n_in:
                raise ValueError(f"layer sizes do not chain: autoencoders[{k - 1}] codes have {sizes[-1]} units "
                                 f"but autoencoders[{k}] takes {n_in} inputs")
            sizes += [n_in, n_out] if not sizes else [n_out]
        params.setdefault("tied", all(getattr(ae, "tied", False) for ae in autoencoders))
        deep = cls(layer_sizes=sizes, **params).initialize(sizes[0])
        enc_dense, dec_dense = deep.encoder_dense(), deep.decoder_dense()
        for k, ae in enumerate(autoencoders):
            src_enc = [l for l in ae.encoder_layers if isinstance(l, Dense)][0]
            src_dec = [l for l in ae.decoder_layers if isinstance(l, (Dense, TiedDense))][0]
            enc_dense[k].W[...] = src_enc.W
            enc_dense[k].b[...] = src_enc.b
            mirror = dec_dense[len(autoencoders) - 1 - k]
            if isinstance(mirror, Dense):
                mirror.W[...] = src_dec.W if isinstance(src_dec, Dense) else src_dec.source.W.T
            mirror.b[...] = src_dec.b
        return deep


class _PhaseView:
    r"""A sub-network of a Sequential (a path of its layers and a loss) with the interface the
    minibatch loop and the gradient checker need: ``theta``, ``grad``, ``frozen``, ``blocks``,
    ``compute``, ``loss_and_grad`` and ``evaluate``.

    Its objective is :meth:`Sequential.compute` on the path: the loss of the
    path's output, the penalties of the layers on the path, and
    :math:`\frac{\lambda}{2}\sum W^2` over the weights the path uses only.
    """

    def __init__(self, net, path, loss):
        self.net, self.path, self.loss = net, path, loss
        self.theta, self.grad, self.frozen, self.blocks = net.theta, net.grad, net.frozen, net.blocks

    def compute(self, X, T=None):
        return self.net.compute(X, T, layers=self.path, loss=self.loss)

    def loss_and_grad(self, theta, X, T=None):
        self.net.set_theta(theta)
        J = self.compute(X, T)
        return J, self.grad.copy()

    def evaluate(self, X, T=None):
        Y = self.net.forward(X, training=False, layers=self.path)
        return self.loss.forward(Y, X if T is None else T)


class DenoisingAutoencoder(StackedAutoencoder):
    r"""The deeplearning.net denoising autoencoder (dA): one sigmoid layer, tied weights,
    cross-entropy, masking noise.

    .. math::
        \tilde x = m \odot x,\quad h = \sigma(\tilde x W + b),\quad
        \hat x = \sigma(h W^\top + b'),\quad
        J = -\frac1N \sum_{n,d} x \log \hat x + (1-x)\log(1-\hat x),

    the loss comparing the reconstruction with the CLEAN input. Any
    :class:`StackedAutoencoder` option can be changed (``corruption="gaussian"``,
    deeper ``layer_sizes``, ...).
    """

    def __init__(self, layer_sizes=(784, 500), activation="sigmoid", loss="cross_entropy", output_activation=None,
                 tied=True, weight_decay=0.0, corruption="masking", corruption_level=0.3, init=None,
                 dtype="float64", random_state=None):
        super().__init__(layer_sizes=layer_sizes, activation=activation, loss=loss,
                         output_activation=output_activation, tied=tied, weight_decay=weight_decay,
                         corruption=corruption, corruption_level=corruption_level, init=init, dtype=dtype,
                         random_state=random_state)


def pretrain_layerwise(X, layer_sizes, make_autoencoder, fit_kwargs=None, verbose=0):
    r"""Greedy layer-wise pretraining with one shallow autoencoder per layer (method (a)).

    ``make_autoencoder(n_in, n_out, k)`` returns an untrained shallow
    autoencoder for layer ``k`` (0-based); it is fitted on the codes of the
    previous one (``X`` for k = 0), computed once with ``transform`` and
    cached. Returns the list of trained autoencoders: stack them with
    :meth:`StackedAutoencoder.from_autoencoders`, or take their encoders for a
    classifier (:class:`numpy_ae.classifier.EncoderClassifier`).
    """
    sizes = _check_layer_sizes(layer_sizes)
    X = check_array(X, "X", n_features=sizes[0])
    fit_kwargs = dict(fit_kwargs or {})
    trained, codes = [], X
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        ae = make_autoencoder(a, b, k)
        if verbose:
            print(f"layer {k + 1}/{len(sizes) - 1}: training {a}-{b}-{a} on {codes.shape[0]} codes", flush=True)
        ae.fit(codes, **fit_kwargs)
        trained.append(ae)
        codes = ae.transform(codes)
    return trained


