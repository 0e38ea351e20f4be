r"""Deep (stacked) autoencoders, denoising autoencoders, greedy layer-wise pretraining.

Follows the stacked- and denoising-autoencoder sections of Hands-On ML's
autoencoder chapter, UFLDL's "Building deep networks for classification"
and the deeplearning.net dA/SdA tutorials.

A :class:`StackedAutoencoder` with ``hidden_layer_sizes=(300, 150)`` fitted on
784-pixel images is the symmetric network ``784-300-150-300-784``: each encoder layer is ``Dense`` +
activation, the decoder mirrors it. With ``tied=True`` each decoder layer is a
:class:`~numpy_ae.nn.dense.TiedDense` reusing its mirror encoder layer's weight
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
import time
import numpy as np
from .._validation import check_array, check_layer_sizes, check_non_negative
from .autoencoders import Autoencoder
from .training import _set_params_from_locals
from .builder import build_autoencoder_layers
from ..nn.dense import Dense, TiedDense
from ..nn.activations import default_init, make_activation
from ..nn.losses import MeanSquaredError, make_loss
from ..nn.noise import make_corruption

__all__ = ['StackedAutoencoder', 'DenoisingAutoencoder', 'pretrain_layerwise']






class StackedAutoencoder(Autoencoder):
    r"""A symmetric deep autoencoder: the encoder's widths ``hidden_layer_sizes``, the decoder its mirror.

    Network for ``hidden_layer_sizes = (H1, H2)`` on ``D`` inputs (rows are examples)::

        X (N, D) -> [corruption] -> Dense(D, H1) -> act -> Dense(H1, H2) -> act        (encoder)
                 -> Dense(H2, H1) -> act -> Dense(H1, D) -> output                      (decoder)

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int
        Each encoder layer's width, input side first (the last one is the code),
        as scikit-learn's MLP names it; ``D`` comes from the data.
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
    method, max_iter, gtol, epochs, batch_size, learning_rate, momentum, nesterov, patience, verbose, warm_start, dtype, random_state :
        Training, as for every autoencoder (:mod:`numpy_ae.models.autoencoders`); Adam
        (learning rate 1e-3) for 10 epochs of 128 examples by default.
    """

    def __init__(self, hidden_layer_sizes=(300, 150), *, activation="elu", loss="mse", output_activation=None,
                 tied=False, weight_decay=0.0, corruption=None, corruption_level=0.3, init=None,
                 method="adam", max_iter=400, gtol=1e-5, epochs=10, batch_size=128, learning_rate=None,
                 momentum=0.9, nesterov=False, patience=None, verbose=0, warm_start=False, dtype="float64",
                 random_state=None, fast=True):
        _set_params_from_locals(self, locals())
        self._validate_params()

    def _validate_params(self):
        check_layer_sizes(self.hidden_layer_sizes)
        make_activation(self.activation)  # validates the name
        make_loss(self.loss)
        if self.output_activation is not None:
            if self.loss == "cross_entropy":
                raise ValueError("output_activation must be None with loss='cross_entropy' (the loss takes "
                                 f"logits and applies the sigmoid itself); got {self.output_activation!r}")
            make_activation(self.output_activation)
        if not isinstance(self.tied, (bool, np.bool_)):
            raise ValueError(f"tied must be True or False; got {self.tied!r}")
        check_non_negative(self.weight_decay, "weight_decay")
        if self.corruption is not None:
            make_corruption(self.corruption, self.corruption_level)  # validates kind and level
        else:
            make_corruption("masking", self.corruption_level)  # the level must be valid all the same
        if self.init is not None:
            Dense(1, 1, init=self.init)
        super()._validate_params()

    def _init_method(self):
        """The weight initialisation used: ``init``, or He for ReLU/ELU and Glorot otherwise."""
        return default_init(self.activation, self.init)

    # ------------------------------------------------------------ structure
    def _make_network(self, n_features):
        """The shared builder of :mod:`numpy_ae.models.composable` with no code regulariser (the same layers
        :class:`~numpy_ae.models.composable.RegularizedAutoencoder` builds with every regulariser off)."""
        return build_autoencoder_layers(n_features, self.hidden_layer_sizes, activation=self.activation,
                                        output_activation=self.output_activation, loss=self.loss, tied=self.tied,
                                        init=self._init_method(), noise=self.corruption,
                                        noise_level=self.corruption_level)

    def _needs_unit_inputs(self):
        return self.loss == "cross_entropy"

    @property
    def layer_sizes_(self):
        """``[D, H1, ..., HK]``: the input size and every encoder width."""
        return [self.n_features_in_] + check_layer_sizes(self.hidden_layer_sizes)

    def encoder_dense(self):
        """The encoder's Dense layers, input side first."""
        return [l for l in self.encoder_layers if isinstance(l, Dense)]

    def decoder_dense(self):
        """The decoder's affine layers (Dense or TiedDense), code side first."""
        return [l for l in self.decoder_layers if isinstance(l, (Dense, TiedDense))]

    # ---------------------------------------------------- greedy, in phases
    def _phase_path(self, k):
        """Phase ``k`` (1-based): ``(path, trainable, target_layers)``.

        ``path`` is the encoder up to layer k followed by decoder layer k (its
        affine layer and activation); ``trainable`` are encoder layer k's Dense
        and its mirror; ``target_layers`` compute the phase's target, the
        output of encoder layer k-1 (empty for k = 1: the input itself).
        """
        enc, dec = self.encoder_layers, self.decoder_layers
        n_phases = len(check_layer_sizes(self.hidden_layer_sizes))
        offset = 1 if self.corruption else 0
        end = offset + 2 * k                   # encoder layer k ends at index end of `enc`
        dec_start = 2 * (n_phases - k)         # decoder layer k starts at dec_start of `dec`
        path = enc[:end] + dec[dec_start:dec_start + 2]
        trainable = [enc[end - 2], dec[dec_start]]
        target_layers = [] if k == 1 else list(enc[:offset + 2 * (k - 1)])
        return path, trainable, target_layers

    def fit_in_phases(self, X, y=None, *, epochs=None, callback=None):
        r"""Greedy layer-wise training of this one model, in phases (Hands-On ML's method (b)).

        Phase k (k = 1 .. K) trains encoder layer k and its mirror decoder
        layer to reconstruct the output of encoder layer k-1 (the input itself
        for k = 1, with the model's loss; mean squared error for inner phases),
        with every other parameter frozen. The path of phase k is the encoder up
        to layer k followed by decoder layer k; only the penalties and weight
        decay of the layers on that path count. Each phase runs the model's
        ``method`` (L-BFGS for ``max_iter`` iterations, or ``epochs`` epochs of
        Adam/SGD; ``epochs`` here may override it per phase: an int or a list;
        ``callback`` as in :meth:`fit`, called in every phase).
        Returns self, with ``phase_history_`` (one entry per phase: the minibatch
        history, or the L-BFGS cost history).
        """
        self._validate_params()
        X = self._check_X(X, fitting=True)
        self._clear_fit_attributes()
        net = self.initialize(X.shape[1])._network()
        n_phases = len(check_layer_sizes(self.hidden_layer_sizes))
        epochs = self.epochs if epochs is None else epochs
        per_phase = [epochs] * n_phases if isinstance(epochs, numbers.Integral) else list(epochs)
        if len(per_phase) != n_phases:
            raise ValueError(f"epochs must be an int or a list of {n_phases} ints (one per phase); got {epochs!r}")
        saved_epochs = self.epochs
        start = time.perf_counter()
        self.phase_history_, messages, converged = [], [], []
        try:
            for k in range(1, n_phases + 1):
                path, trainable, target_layers = self._phase_path(k)
                net.frozen[:] = True
                net.freeze(trainable, frozen=False)
                if k == 1:
                    T, loss = None, net.loss
                else:  # the target: the (clean) output of encoder layer k-1, computed once and cached
                    T = net.forward(X, training=False, layers=target_layers).copy()
                    loss = MeanSquaredError()
                if self.verbose:
                    print(f"phase {k}/{n_phases}: training {trainable[0]!r} and its mirror", flush=True)
                self.epochs = per_phase[k - 1]
                self._train(PhaseView(net, path, loss), X, T, callback=callback)
                self.phase_history_.append(self.history_ if self.method != "lbfgs" else self.cost_history_)
                messages.append(f"phase {k}: {self.message_}")
                converged.append(self.converged_)
        finally:
            self.epochs = saved_epochs
            net.frozen[:] = False
        _finish_phases(self, net, X, messages, converged, start)
        return self

    @classmethod
    def from_autoencoders(cls, autoencoders, **params):
        r"""Stack shallow autoencoders trained layer-wise into one deep autoencoder (method (a)).

        ``autoencoders[k]`` maps ``H_k -> H_{k+1} -> H_k``; the result has
        ``hidden_layer_sizes = (H_1, ..., H_K)`` on ``H_0`` inputs, encoder
        weights taken from each autoencoder's encoder in order and decoder
        weights from their decoders in reverse order. ``params`` are the new
        model's other hyperparameters (activation, loss, ...): they should
        match how the parts were trained.
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
        deep = cls(hidden_layer_sizes=tuple(sizes[1:]), **params).initialize(sizes[0])
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


def _finish_phases(est, net, X, messages, converged, start, nothing_done="no phase ran"):
    """The fit attributes after training in phases: drop the last phase's history, record the whole
    network's cost and every phase's convergence message (shared by the stacked and conv autoencoders)."""
    for stale in ("history_", "cost_history_", "n_iter_", "n_fev_", "n_epochs_"):
        est.__dict__.pop(stale, None)
    est.cost_ = float(net.evaluate(X))
    est.converged_ = all(converged)
    est.message_ = "; ".join(messages) or nothing_done
    est.fit_seconds_ = time.perf_counter() - start


class PhaseView:
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

    def set_theta(self, theta):
        self.net.set_theta(theta)

    def loss_and_grad(self, theta, X, T=None):
        """The phase's objective and gradient at ``theta`` (for L-BFGS and gradient checks)."""
        self.net.set_theta(theta)
        return self.compute(X, T), self.grad.copy()

    def evaluate(self, X, T=None):
        Y = self.net.forward(X, training=False, layers=self.path)
        return self.loss.forward(Y, X if T is None else T)


class DenoisingAutoencoder(StackedAutoencoder):
    r"""The deeplearning.net denoising autoencoder (dA): one sigmoid layer, tied weights,
    cross-entropy, masking noise, trained with plain SGD.

    .. math::
        \tilde x = m \odot x,\quad h = \sigma(\tilde x W + b),\quad
        \hat x = \sigma(h W^\top + b'),\quad
        J = -\frac1N \sum_{n,d} x \log \hat x + (1-x)\log(1-\hat x),

    the loss comparing the reconstruction with the CLEAN input. The defaults are
    the tutorial's: 500 hidden units, 30% masking, SGD with learning rate 0.1,
    minibatches of 20, 15 epochs. Any :class:`StackedAutoencoder` option can be
    changed (``corruption="gaussian"``, deeper ``hidden_layer_sizes``, ...).
    """

    def __init__(self, hidden_layer_sizes=(500,), *, activation="sigmoid", loss="cross_entropy",
                 output_activation=None, tied=True, weight_decay=0.0, corruption="masking", corruption_level=0.3,
                 init=None, method="sgd", max_iter=400, gtol=1e-5, epochs=15, batch_size=20, learning_rate=0.1,
                 momentum=0.0, nesterov=False, patience=None, verbose=0, warm_start=False, dtype="float64",
                 random_state=None, fast=True):
        _set_params_from_locals(self, locals())
        self._validate_params()


def pretrain_layerwise(X, hidden_layer_sizes, make_autoencoder, verbose=0):
    r"""Greedy layer-wise pretraining with one shallow autoencoder per layer (method (a)).

    ``make_autoencoder(n_in, n_out, k)`` returns an untrained shallow
    autoencoder for layer ``k`` (0-based) with its training hyperparameters
    set; it is fitted on the codes of the previous one (``X (N, D)`` for
    k = 0), computed once with ``transform`` and cached. Returns the list of
    trained autoencoders: stack them with
    :meth:`StackedAutoencoder.from_autoencoders`, or hand them to a classifier
    (:class:`numpy_ae.models.classifier.EncoderClassifier` ``(encoder=parts)``).
    """
    X = check_array(X, "X")
    sizes = [X.shape[1]] + check_layer_sizes(hidden_layer_sizes)
    trained, codes = [], X
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        ae = make_autoencoder(a, b, k)
        if verbose:
            print(f"layer {k + 1}/{len(sizes) - 1}: training {a}-{b}-{a} on {codes.shape[0]} codes", flush=True)
        ae.fit(codes)
        trained.append(ae)
        codes = ae.transform(codes)
    return trained
