r"""Fine-tuning: a pretrained encoder with a softmax output, trained end to end.

UFLDL's "Building deep networks for classification": train sparse
autoencoders greedily, train a softmax classifier on the last layer's
features, then treat encoder + softmax as one network and fine-tune every
weight by backpropagation from the classification cost

.. math::
    J = -\frac1N \sum_n \log p(y_n \mid x_n) + \frac{\lambda}{2} \sum_{\text{layers}} \lVert W \rVert^2 .

:class:`EncoderClassifier` is that network: copies of the encoder's layers,
then ``Dense(H, K)`` and :class:`~numpy_ae.nn.losses.SoftmaxCrossEntropy`, all in
one flat ``theta``.

Which layers of a regularised encoder the classifier keeps (:func:`encoder_layers_of`):

* left out, as UFLDL's fine-tuning cost has no sparsity term: the penalty-only
  layers (:class:`~numpy_ae.nn.penalties.KLSparsity`,
  :class:`~numpy_ae.nn.penalties.L1Activity`,
  :class:`~numpy_ae.nn.penalties.Contractive`: the identity in the forward
  pass, they only add to the pretraining objective), the training-only
  selections (:class:`~numpy_ae.nn.selection.LifetimeWTA`,
  :class:`~numpy_ae.nn.selection.SpatialWTA`: the identity at inference, so
  the features the autoencoder's ``transform`` gives are the plain code) and
  the corruption layers (identity at inference);
* kept: :class:`~numpy_ae.nn.selection.KSparse`, which is part of the encoding
  itself (its ``transform`` keeps the ``round(alpha k)`` largest units, and
  Makhzani & Frey classify that sparse code).

A kept ``KSparse(k, alpha)`` becomes ``KSparse(round(alpha k), alpha=1)`` in the
classifier: its TRAINING pass (fine-tuning) then keeps the same
:math:`\alpha k` units as its inference pass (the softmax stage's features,
``predict``), where the autoencoder's own layer keeps ``k`` in training.
Why: fine-tuning minimises the cost of the network that ``predict``
evaluates; with ``k`` in training and :math:`\alpha k` at prediction it would
fit a different network (sparser, with other units zeroed) from the one it is
used as, and from the one whose softmax layer the first stage trained on
:math:`\alpha k`-sparse features. Training with ``k`` is the autoencoder's
device to force sparse reconstructions; :math:`\alpha > 1` at encoding is the
paper's correction for it, and a classifier has no reconstruction to force.
With the default ``alpha = 1`` nothing changes. Measured on the MNIST 10k subset
(3000 training and 2000 test images; ``KSparseAutoencoder((200,), k=10, alpha=3)``,
10 Adam epochs, then 100 L-BFGS fine-tuning iterations; seeds 0 and 1): test
accuracy 0.940 and 0.934 fine-tuning with the 30 units it predicts with, 0.925
and 0.919 fine-tuning with k = 10 and predicting with 30 (softmax stage alone:
0.921 and 0.923).

As an estimator, ``EncoderClassifier(encoder=parts).fit(X, y)`` runs UFLDL's
steps 3 and 4: the softmax layer alone on the fixed features (L-BFGS), then,
with ``fine_tune=True``, every parameter. Encoders that are not fitted yet are
pretrained on ``X`` first (greedily, one after the other), so the whole of
UFLDL's recipe is one estimator that ``clone`` and ``GridSearchCV`` can use.
"""
from __future__ import annotations
import copy
import numbers
import time
import numpy as np
from .._validation import (check_array, check_labels, check_layer_sizes, check_non_negative, check_positive_int,
                           check_random_state, encode_labels)
from .autoencoders import Autoencoder
from .training import TrainingMixin, _set_params_from_locals, check_training_params
from .base import BaseEstimator
from .fields import LABELS, Field, array
from ..exceptions import not_fitted_error
from ..nn.activations import ACTIVATIONS, ELU, make_activation
from ..nn.dense import Dense
from ..nn.layer import Layer
from ..nn.fast import reference_class
from ..nn.sequential import Sequential
from ..nn.penalties import Contractive, KLSparsity, L1Activity
from ..nn.noise import Corruption
from ..nn.selection import KSparse, LifetimeWTA, SpatialWTA
from .softmax import INIT_SCALE, SoftmaxRegression
from ..nn.losses import SoftmaxCrossEntropy

__all__ = ['EncoderClassifier', 'encoder_layers_of']




# Layers that shape pretraining only: penalties (identity in the forward pass, a term of the pretraining
# objective), training-only selections (identity at inference) and corruption (identity at inference).
PRETRAINING_ONLY = (Corruption, KLSparsity, L1Activity, Contractive, LifetimeWTA, SpatialWTA)


def encoder_layers_of(models):
    """The encoder layers of one autoencoder or of a list of them (stacked in order).

    The layers of :data:`PRETRAINING_ONLY` are left out: noise, the penalty-only layers (KL
    sparsity, L1 activity, contractive) and the training-only selections (lifetime and spatial
    winner-take-all); they shape pretraining, and UFLDL's fine-tuning cost has none of them.
    :class:`~numpy_ae.nn.selection.KSparse` is kept: it is part of the encoding (see the module
    docstring for what its training pass does in the classifier).
    """
    models = models if isinstance(models, (list, tuple)) else [models]
    layers = []
    for m in models:
        layers += [l for l in m.encoder_layers if not isinstance(l, PRETRAINING_ONLY)]
    return layers


def _layer_spec(layer):
    """A JSON description of an encoder layer (Dense, an activation or KSparse), to rebuild a saved model."""
    cls = reference_class(type(layer))  # a fast twin is described as its reference
    if cls is Dense:
        return ["dense", layer.n_in, layer.n_out]
    if cls is ELU:
        return ["elu", layer.alpha]
    if cls is KSparse:
        return ["k_sparse", layer.k, layer.alpha]
    for name, activation in ACTIVATIONS.items():
        if cls is activation:
            return [name]
    raise ValueError(f"EncoderClassifier can hold Dense layers, activations and KSparse; got {layer!r}")


def _layer_from_spec(spec):
    if spec[0] == "dense":
        return Dense(int(spec[1]), int(spec[2]))
    if spec[0] == "elu":
        return ELU(alpha=float(spec[1]))
    if spec[0] == "k_sparse":
        return KSparse(int(spec[1]), alpha=float(spec[2]))
    return make_activation(spec[0])


def _check_n_classes(n_classes):
    if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2 (a classifier needs two classes); got {n_classes!r}")
    return int(n_classes)


class EncoderClassifier(TrainingMixin, BaseEstimator):
    r"""Encoder layers followed by a softmax classifier, fine-tuned end to end.

    ``fit(X, y)`` builds the network from ``encoder`` (copies of its layers:
    the autoencoders stay as they are), trains the softmax layer alone on the
    fixed features with L-BFGS (``softmax_max_iter`` iterations; UFLDL's
    "before fine-tuning" classifier) and then, when ``fine_tune`` is True,
    every parameter with ``method`` (UFLDL: L-BFGS).

    Parameters
    ----------
    encoder : None, a fitted or unfitted autoencoder, or a list of them
        The encoder(s) to put under the softmax, input side first. Unfitted ones
        are first fitted on ``X`` (each on the codes of the one before: greedy
        pretraining); fitted ones are used as they are. None: a randomly
        initialised encoder of ``hidden_layer_sizes`` (an MLP, no pretraining).
        Any autoencoder of :mod:`numpy_ae.models.composable` works: its penalty-only and
        training-only layers are left out, a k-sparse selection is kept and keeps
        ``round(alpha k)`` units in fine-tuning too (module docstring).
    hidden_layer_sizes : tuple of int
        Widths of the random encoder when ``encoder`` is None.
    activation : str
        Its activation when ``encoder`` is None.
    fine_tune : bool
        Train every parameter after the softmax layer (True) or stop after it.
    weight_decay : float
        :math:`\lambda` on every weight matrix (UFLDL's stacked exercise: 3e-3).
    softmax_max_iter : int
        L-BFGS iterations of the softmax stage.
    method, max_iter, gtol, epochs, batch_size, learning_rate, momentum, nesterov, patience, verbose, warm_start, random_state :
        Fine-tuning, as the autoencoders' training hyperparameters. With
        ``warm_start`` a fitted classifier skips the softmax stage and
        fine-tunes from its current parameters.

    Attributes
    ----------
    classes_, n_features_in_, network_, output_ (the softmax Dense layer),
    encoder_spec_ (the encoder's layers, for saving), softmax_cost_, cost_,
    n_iter_, converged_, message_, fit_seconds_.
    """

    _estimator_type = "classifier"
    _unsaved = ("output_",)
    _saved_attributes = {"n_features_in_": Field(int, required=True), "encoder_spec_": Field(list, required=True),
                         "classes_": array((None,), dtypes=LABELS, required=True),
                         "softmax_cost_": float}

    def __init__(self, encoder=None, *, hidden_layer_sizes=(100,), activation="sigmoid", fine_tune=True,
                 weight_decay=1e-4, softmax_max_iter=400, method="lbfgs", max_iter=400, gtol=1e-5, epochs=10,
                 batch_size=128, learning_rate=None, momentum=0.9, nesterov=False, patience=None, verbose=0,
                 warm_start=False, random_state=None, fast=True):
        _set_params_from_locals(self, locals())
        self._validate_params()

    def _validate_params(self):
        encoders = self.encoder if isinstance(self.encoder, (list, tuple)) else [self.encoder]
        for i, e in enumerate(encoders):
            if self.encoder is not None and not isinstance(e, Autoencoder):
                raise ValueError(f"encoder must be None, an autoencoder or a list of autoencoders; "
                                 f"got {type(e).__name__} at position {i}")
        check_layer_sizes(self.hidden_layer_sizes)
        make_activation(self.activation)
        if not isinstance(self.fine_tune, (bool, np.bool_)):
            raise ValueError(f"fine_tune must be True or False; got {self.fine_tune!r}")
        check_non_negative(self.weight_decay, "weight_decay")
        check_positive_int(self.softmax_max_iter, "softmax_max_iter")
        check_training_params(self)

    # ------------------------------------------------------------ building
    def _encoder_layers(self, X):
        """Copies of the encoder's layers (fitting unfitted encoders on ``X`` first)."""
        if self.encoder is None:
            sizes = [X.shape[1]] + check_layer_sizes(self.hidden_layer_sizes)
            layers = []
            for a, b in zip(sizes[:-1], sizes[1:]):
                layers += [Dense(a, b, init="glorot"), make_activation(self.activation)]
            return layers, True
        encoders = list(self.encoder) if isinstance(self.encoder, (list, tuple)) else [self.encoder]
        codes, fitted = X, []
        for k, e in enumerate(encoders):
            if not e._is_fitted():
                if self.verbose:
                    print(f"pretraining encoder {k + 1}/{len(encoders)} ({type(e).__name__}) on "
                          f"{codes.shape[0]} examples", flush=True)
                e = copy.deepcopy(e).fit(codes)
            fitted.append(e)
            if k < len(encoders) - 1:
                codes = e.transform(codes)
        return _copy_layers(encoder_layers_of(fitted)), False

    def _build(self, layers, n_features, classes, init_layers):
        widths = [l.n_out for l in layers if isinstance(l, Dense)]
        if not widths:
            raise ValueError("the encoder must contain at least one Dense layer")
        values = [] if init_layers else [{k: getattr(l, k).copy() for k in l.param_shapes()} for l in layers]
        output = Dense(widths[-1], len(classes))
        self.rng_ = check_random_state(self.random_state)
        self.network_ = Sequential(layers + [output], SoftmaxCrossEntropy(), weight_decay=self.weight_decay,
                                   random_state=self.rng_, fast=self.fast)
        if not init_layers:  # keep the pretrained weights (Sequential initialised the views afresh)
            for layer, vals in zip(layers, values):
                for k, v in vals.items():
                    getattr(layer, k)[...] = v
        output.W[...] = INIT_SCALE * self.rng_.standard_normal(output.W.shape)
        self.output_ = output
        self.encoder_spec_ = [_layer_spec(l) for l in layers]
        self.n_features_in_ = int(n_features)
        self.classes_ = np.asarray(classes)
        return self

    def _rebuild(self, state):  # load checks what it recomputes (encoder_spec_, classes_) against the file
        layers = [_layer_from_spec(spec) for spec in state["encoder_spec_"]]
        self._build(layers, state["n_features_in_"], state["classes_"], init_layers=True)

    @classmethod
    def from_encoders(cls, encoder_layers, n_classes, **params):
        """A classifier on copies of ``encoder_layers`` (e.g. ``encoder_layers_of(autoencoders)``) for labels
        ``0..n_classes-1``, built but not trained: for gradient checks, or ``fit`` with ``warm_start=True``."""
        n_classes = _check_n_classes(n_classes)
        self = cls(**params)
        for i, layer in enumerate(encoder_layers):
            if not isinstance(layer, Layer):
                raise ValueError(f"encoder_layers[{i}] must be a Layer; got {type(layer).__name__}")
        layers = _copy_layers(encoder_layers)
        n_features = next((l.n_in for l in layers if isinstance(l, Dense)), None)
        if n_features is None:
            raise ValueError("encoder_layers must contain at least one Dense layer")
        return self._build(layers, n_features, np.arange(n_classes), init_layers=False)

    # ------------------------------------------------------------- fitting
    def _is_fitted(self):
        return getattr(self, "network_", None) is not None

    def _network(self):
        net = getattr(self, "network_", None)
        if net is None:
            raise not_fitted_error("this EncoderClassifier is not fitted yet: call fit(X, y) first")
        return net

    def fit(self, X, y):
        """Train on ``X (N, D)`` and class labels ``y (N,)``; return self."""
        self._validate_params()
        X = check_array(X, "X", estimator=type(self).__name__)
        y = check_labels(y, X.shape[0])
        classes, y_index = encode_labels(y)
        start = time.perf_counter()
        for stale in ("history_", "cost_history_", "n_iter_", "n_fev_", "n_epochs_", "converged_", "message_"):
            self.__dict__.pop(stale, None)
        warm = (self.warm_start and self._is_fitted() and self.n_features_in_ == X.shape[1]
                and np.array_equal(self.classes_, classes))
        if not warm:
            layers, fresh = self._encoder_layers(X)
            self._build(layers, X.shape[1], classes, init_layers=fresh)
            self._fit_softmax(X, y_index)
        net = self.network_
        net.weight_decay = float(self.weight_decay)
        if self.fine_tune:
            self._train(net, X, y_index)
        else:
            self.cost_ = self.softmax_cost_
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _fit_softmax(self, X, y_index):
        """UFLDL's step 3: the softmax layer alone, on the fixed features, with L-BFGS."""
        net = self.network_
        H = net.forward(X, training=False, layers=net.layers[:-1])
        sm = SoftmaxRegression(weight_decay=self.weight_decay, max_iter=self.softmax_max_iter, gtol=self.gtol,
                               random_state=self.rng_).fit(H, y_index)
        self.output_.W[...], self.output_.b[...] = sm.network_.layers[0].W, sm.network_.layers[0].b
        self.softmax_cost_ = sm.cost_
        self.n_iter_, self.converged_, self.message_ = sm.n_iter_, sm.converged_, sm.message_

    # ------------------------------------------------------------------ use
    def _check_X(self, X):
        net = self._network()
        return check_array(X, "X", n_features=self.n_features_in_, dtype=net.dtype, estimator=type(self).__name__)

    def loss_and_grad(self, theta, X, y):
        """The fine-tuning objective and its gradient (labels ``y`` as positions in ``classes_``)."""
        return self._network().loss_and_grad(theta, X, y)

    def predict_proba(self, X):
        """Class probabilities ``(N, K)``, columns in the order of ``classes_``."""
        return self._network().predict(self._check_X(X))

    def predict(self, X):
        """The most probable label of each row of ``X (N, D)``, from ``classes_``."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def score(self, X, y):
        """Accuracy on ``X (N, D)`` and labels ``y (N,)``."""
        X = self._check_X(X)
        return float(np.mean(self.predict(X) == check_labels(y, X.shape[0])))


def _copy_layers(layers):
    """Independent copies of ``layers`` (their parameter values are copied by the caller).

    A ``KSparse(k, alpha)`` becomes ``KSparse(round(alpha k), alpha=1)`` (at most the code size): the
    classifier trains with the code it predicts with (module docstring)."""
    out, width = [], None
    for layer in layers:
        if isinstance(layer, KSparse):
            kept = layer.k if width is None else layer.n_kept(width, training=False)
            if width is None and layer.alpha != 1.0:
                raise ValueError("a KSparse layer must follow a Dense layer in an EncoderClassifier (its inference "
                                 f"support round(alpha * k) needs the code size); got {layer!r} first")
            out.append(KSparse(kept, alpha=1.0, n_units=width))
            continue
        if isinstance(layer, Dense):
            width = layer.n_out
        clone = copy.copy(layer)
        clone.__dict__.pop("workspace", None)
        clone.name = None
        out.append(clone)
    return out
