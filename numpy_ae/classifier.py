r"""Fine-tuning: a pretrained encoder with a softmax output, trained end to end.

UFLDL's "Building deep networks for classification": train sparse
autoencoders greedily, train a softmax classifier on the last layer's
features, then treat encoder + softmax as one network and fine-tune every
weight by backpropagation from the classification cost

.. math::
    J = -\frac1N \sum_n \log p(y_n \mid x_n) + \frac{\lambda}{2} \sum_{\text{layers}} \lVert W \rVert^2 .

:class:`EncoderClassifier` is that network: copies of the encoder's layers,
then ``Dense(H, K)`` and :class:`~numpy_ae.softmax.SoftmaxCrossEntropy`, all in
one flat ``theta``. Corruption and sparsity layers are left out (they are for pretraining).
"""
from __future__ import annotations

import copy
import time

import numpy as np

from ._validation import check_array, check_non_negative, check_random_state
from .layers import Dense, Layer
from .model import Sequential
from .optim import lbfgs, make_optimizer
from .regularizers import Corruption, KLSparsity
from .softmax import INIT_SCALE, SoftmaxCrossEntropy, SoftmaxRegression, _check_labels

__all__ = ["EncoderClassifier", "encoder_layers_of"]


def encoder_layers_of(models):
    """The encoder layers of one autoencoder or of a list of them (stacked in order).

    Noise and sparsity layers are left out: they shape pretraining, and UFLDL's
    fine-tuning cost has neither.
    """
    models = models if isinstance(models, (list, tuple)) else [models]
    layers = []
    for m in models:
        layers += [l for l in m.encoder_layers if not isinstance(l, (Corruption, KLSparsity))]
    return layers


class EncoderClassifier:
    r"""Encoder layers followed by a softmax classifier, fine-tuned end to end.

    Build with :meth:`from_encoders` (copies the pretrained weights, so the
    autoencoders stay as they were); ``fit(X, y)`` trains every parameter
    (``fine_tune=True``) or only the softmax layer on the fixed features
    (``fine_tune=False``, UFLDL's "before fine-tuning" classifier).

    Parameters
    ----------
    weight_decay : float
        :math:`\lambda` on every weight matrix (UFLDL's stacked exercise: 3e-3).
    random_state : None, int or numpy.random.Generator
        For the softmax layer's initial weights and minibatch shuffling.
    """

    def __init__(self, weight_decay=1e-4, random_state=None):
        self.weight_decay = check_non_negative(weight_decay, "weight_decay")
        self.random_state = random_state

    @classmethod
    def from_encoders(cls, encoder_layers, n_classes, weight_decay=1e-4, random_state=None, softmax=None):
        """Copy ``encoder_layers`` (e.g. ``encoder_layers_of(autoencoders)``) and add a softmax output.

        ``softmax``: an optional fitted :class:`~numpy_ae.softmax.SoftmaxRegression` on
        these features whose weights start the output layer.
        """
        self = cls(weight_decay=weight_decay, random_state=random_state)
        layers, values = [], []
        for i, layer in enumerate(encoder_layers):
            if not isinstance(layer, Layer):
                raise ValueError(f"encoder_layers[{i}] must be a Layer; got {type(layer).__name__}")
            values.append({k: getattr(layer, k).copy() for k in layer.param_shapes()})
            clone = copy.copy(layer)
            clone.__dict__.pop("_scratch", None)
            clone.name = None
            layers.append(clone)
        widths = [l.n_out for l in layers if isinstance(l, Dense)]
        if not widths:
            raise ValueError("encoder_layers must contain at least one Dense layer")
        n_features = next(l.n_in for l in layers if isinstance(l, Dense))
        output = Dense(widths[-1], int(n_classes))
        self.rng_ = check_random_state(random_state)
        self.network_ = Sequential(layers + [output], SoftmaxCrossEntropy(), weight_decay=weight_decay,
                                   random_state=self.rng_)
        for layer, vals in zip(layers, values):
            for k, v in vals.items():
                getattr(layer, k)[...] = v
        if softmax is not None:
            src = softmax.network_.layers[0]
            output.W[...], output.b[...] = src.W, src.b
        else:
            output.W[...] = INIT_SCALE * self.rng_.standard_normal(output.W.shape)
        self.output_ = output
        self.n_features_in_, self.classes_ = n_features, np.arange(int(n_classes))
        return self

    def fit(self, X, y, fine_tune=True, method="lbfgs", max_iter=400, epochs=10, batch_size=128,
            learning_rate=None, verbose=0):
        """Train on ``X (N, D)`` and labels ``y`` in ``0..K-1``; return self."""
        from .training import train_minibatch

        net = self._network()
        X = check_array(X, "X", n_features=self.n_features_in_, dtype=net.dtype)
        y = _check_labels(y, X.shape[0])
        if y.min() < 0 or y.max() >= self.classes_.size:
            raise ValueError(f"y must hold labels 0..{self.classes_.size - 1}; got values in [{y.min()}, {y.max()}]")
        net.frozen[:] = not fine_tune
        net.freeze([self.output_], frozen=False)
        start = time.perf_counter()
        if method == "lbfgs" and not fine_tune:
            # The features are fixed: compute them once and fit the softmax layer alone on them.
            H = net.forward(X, training=False, layers=net.layers[:-1])
            sm = SoftmaxRegression(weight_decay=self.weight_decay, max_iter=max_iter, random_state=self.rng_)
            sm.fit(H, y)
            if sm.classes_.size != self.classes_.size:
                raise ValueError(f"y must contain every class 0..{self.classes_.size - 1} to train the softmax "
                                 f"layer; got only {sm.classes_.tolist()}")
            self.output_.W[...], self.output_.b[...] = sm.network_.layers[0].W, sm.network_.layers[0].b
            self.cost_, self.n_iter_ = sm.cost_, sm.n_iter_
        elif method == "lbfgs":
            res = lbfgs(lambda theta: net.loss_and_grad(theta, X, y), net.theta, max_iter=max_iter, verbose=verbose)
            net.set_theta(res.x)
            self.cost_, self.n_iter_ = float(res.fun), int(res.nit)
        else:
            self.history_ = train_minibatch(net, X, y, optimizer=make_optimizer(method, learning_rate),
                                            epochs=epochs, batch_size=batch_size, rng=self.rng_,
                                            verbose=bool(verbose))
            self.cost_ = self.history_["loss"][-1]
        net.frozen[:] = False
        self.fit_seconds_ = time.perf_counter() - start
        return self

    # ------------------------------------------------------------------ use
    def _network(self):
        net = getattr(self, "network_", None)
        if net is None:
            raise ValueError("this EncoderClassifier has no network: build it with EncoderClassifier.from_encoders")
        return net

    def loss_and_grad(self, theta, X, y):
        """The fine-tuning objective and its gradient (for gradient checks)."""
        return self._network().loss_and_grad(theta, X, y)

    def predict_proba(self, X):
        net = self._network()
        return net.predict(check_array(X, "X", n_features=self.n_features_in_, dtype=net.dtype))

    def predict(self, X):
        return self.predict_proba(X).argmax(axis=1)

    def score(self, X, y):
        """Accuracy on ``X (N, D)`` and labels ``y (N,)``."""
        return float(np.mean(self.predict(X) == _check_labels(y, np.shape(X)[0])))
