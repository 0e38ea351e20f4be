r"""The conditional VAE: labels fed to the encoder and the decoder.
"""
from __future__ import annotations
import time
import numpy as np
from .._validation import (check_array, check_float_dtype, check_labels, check_positive_int, check_random_state,
                           encode_labels)
from ..nn.dense import Dense
from ..nn.condition import JoinCondition
from .fields import LABELS, array
from .variational import VariationalAutoencoder

__all__ = ['ConditionalVAE']




class ConditionalVAE(VariationalAutoencoder):
    r"""A conditional VAE (Sohn et al., 2015): encoder and decoder both see a one-hot label.

    The model, for a label :math:`y` among ``C`` classes with one-hot :math:`c = \mathrm{onehot}(y)`:
    :math:`q(z \mid x, y) = \mathcal N(\mu(x, c), \operatorname{diag}\sigma^2(x, c))`,
    :math:`p(x \mid z, y)` from the decoder of :math:`(z, c)`, and the prior
    :math:`p(z) = \mathcal N(0, I)`, independent of :math:`y`. The objective is
    the VAE's with everything conditioned on :math:`y`:

    .. math:: J = \frac1N\sum_n\bigl[-\log p(x_n\mid z_n, y_n) + \beta\,\mathrm{KL}(q(z\mid x_n, y_n)\,\|\,\mathcal N(0, I))\bigr],
              \qquad -\text{ELBO}_n \ge -\log p(x_n \mid y_n).

    Network for ``hidden_layer_sizes = (H1,)``, ``n_latent = K`` on ``D`` inputs and ``C`` classes::

        X (N, D) -> JoinCondition(C) -> Dense(D + C, H1) -> act -> Dense(H1, 2K) -> Reparameterize(K)   (encoder)
                 -> JoinCondition(C) -> Dense(K + C, H1) -> act -> Dense(H1, D)                         (decoder)

    Both :class:`~numpy_ae.nn.condition.JoinCondition` layers receive the same
    one-hot rows through :meth:`Sequential.set_condition
    <numpy_ae.nn.sequential.Sequential.set_condition>`; ``fit`` hands the labels to the
    minibatch loop as its ``side`` array, which slices them with each
    minibatch's indices. Generation decodes :math:`z \sim \mathcal N(0, I)`
    with the label of one's choice: :meth:`sample` ``(n, y=3)``.

    scikit-learn. A transformer's ``transform(X)`` takes no ``y``; here every
    method that runs the encoder or the decoder needs the label, so ``y`` is a
    REQUIRED argument of ``fit``, ``transform``, ``inverse_transform``,
    ``reconstruct``, ``elbo``, ``score`` and the rest, never silently guessed.
    ``__sklearn_tags__`` marks the target as required (``fit(X, y)``), so
    ``clone``, ``get_params``/``set_params`` and ``GridSearchCV`` (which passes
    ``y`` to ``fit`` and ``score``) work; a ``Pipeline`` step or scikit-learn's
    transformer checks that call ``transform(X)`` alone get a TypeError naming
    the missing ``y`` (``tests/models/test_sklearn.py`` lists those checks).

    Labels: any values (integers, strings, integral floats) as for
    :class:`~numpy_ae.models.softmax.SoftmaxRegression`; ``classes_`` holds the sorted
    distinct labels seen by ``fit`` and fixes the one-hot columns. A label of the
    wrong length, a non-integer float or a label not in ``classes_`` is a
    ValueError naming the argument, the rule and the value.

    Parameters
    ----------
    Those of :class:`VariationalAutoencoder`, unchanged.

    Attributes
    ----------
    classes_ : ndarray (C,)
        The labels seen by ``fit``, sorted; column ``k`` of the one-hot code is ``classes_[k]``.
    """

    _saved_attributes = {"classes_": array((None,), dtypes=LABELS, required=True)}

    def initialize(self, n_features, classes=None):
        r"""Build the network for ``n_features`` inputs and the labels ``classes`` (their distinct values,
        at least 2); return self. ``fit`` calls this; call it yourself to inspect or gradient-check the
        untrained model (then hand it a condition with ``network_.set_condition``)."""
        if classes is None:
            raise ValueError("classes must be given: a ConditionalVAE's network depends on the number of classes "
                             "(fit(X, y) passes the distinct labels of y)")
        self.classes_, _ = encode_labels(check_labels(classes))
        super().initialize(n_features)
        return self

    def _rebuild(self, state):  # load checks what it recomputes (classes_, n_features_in_) against the file
        self.initialize(state["n_features_in_"], state["classes_"])

    def _make_network(self, n_features):
        C = len(self.classes_)
        encoder, decoder, loss = super()._make_network(n_features)
        encoder[0] = Dense(n_features + C, encoder[0].n_out, init=encoder[0].init)
        decoder[0] = Dense(self.n_latent + C, decoder[0].n_out, init=decoder[0].init)
        return [JoinCondition(C)] + encoder, [JoinCondition(C)] + decoder, loss

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True  # fit(X, y): the labels are part of every example
        return tags

    # ------------------------------------------------------------- labels
    def _onehot(self, y, n, name="y", per="row of X"):
        r"""One-hot rows ``(n, C)`` in the model's dtype for the labels ``y`` (one per row), checked."""
        if y is None:
            raise ValueError(f"{name} is required: a ConditionalVAE needs the class label of every example "
                             f"(one of classes_ {self.classes_.tolist()})")
        arr = np.asarray(y)
        if arr.ndim == 1 and arr.shape[0] != n:
            raise ValueError(f"{name} must have one label per {per}: expected {n} labels, got {arr.shape[0]}")
        try:
            labels = check_labels(arr, n)
        except ValueError as exc:
            raise ValueError(str(exc).replace("y must", f"{name} must", 1).replace("y has", f"{name} has", 1)) \
                from None
        classes = self.classes_
        if (labels.dtype.kind in "US") != (classes.dtype.kind in "US"):
            bad = labels[:1]
        else:
            index = np.searchsorted(classes, labels).clip(0, classes.size - 1)
            bad = labels[classes[index] != labels]
        if bad.size:
            raise ValueError(f"{name} must hold labels seen by fit (classes_ {classes.tolist()}); got "
                             f"{bad[0].item()!r}, which is not one of them")
        index = np.searchsorted(classes, labels)
        out = np.zeros((n, classes.size), dtype=self._network().dtype)
        out[np.arange(n), index] = 1.0
        return out

    def _condition(self, X, y, name="y"):
        """Check ``X``, hand the one-hot ``y`` to the network; return the checked ``X``."""
        X = self._check_X(X)
        self._network().set_condition(self._onehot(y, X.shape[0], name))
        return X

    # ------------------------------------------------------------- fitting
    def fit(self, X, y=None, *, validation_data=None, callback=None):
        r"""Train on ``X (N, D)`` with labels ``y (N,)``; return self.

        ``validation_data``: ``(X_val, y_val)`` or None, scored after every
        epoch (the reconstruction term at :math:`z = \mu`, as for the VAE).
        The labels travel with each minibatch as the loop's ``side`` array.
        """
        self._validate_params()
        X = self._check_X(X, fitting=True)
        if y is None:
            raise ValueError("ConditionalVAE requires y to be passed, but the target y is None: fit(X, y) needs "
                             "one class label per row of X")
        y = check_labels(y, X.shape[0])
        classes, index = encode_labels(y)
        self._clear_fit_attributes()
        if not (self.warm_start and getattr(self, "network_", None) is not None
                and self.n_features_in_ == X.shape[1] and np.array_equal(self.classes_, classes)):
            self.initialize(X.shape[1], classes)
        side = np.zeros((X.shape[0], classes.size), dtype=self.network_.dtype)
        side[np.arange(X.shape[0]), index] = 1.0
        if validation_data is not None:
            if not (isinstance(validation_data, tuple) and len(validation_data) == 2):
                raise ValueError("validation_data must be a pair (X_val, y_val) for a ConditionalVAE; got "
                                 f"{type(validation_data).__name__}")
            X_val = self._check_X(validation_data[0])
            validation_data = (X_val, None, self._onehot(validation_data[1], X_val.shape[0], "y_val"))
        start = time.perf_counter()
        self._train(self.network_, X, None, validation_data=validation_data, callback=callback, side=side)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """``fit(X, y).transform(X, y)``: the posterior means, shape (N, K)."""
        return self.fit(X, y, **fit_params).transform(X, y)

    def loss_and_grad(self, theta, X, y):
        r"""Objective and gradient at ``theta`` for inputs ``X (N, D)`` and labels ``y (N,)``."""
        X = self._condition(X, y)
        return self._network().loss_and_grad(theta, X)

    def cost(self, X, y):
        """The training objective at the current parameters, for ``X`` and labels ``y``."""
        X = self._condition(X, y)
        return self._network().compute(X)

    # ------------------------------------------------------------- inference
    def transform(self, X, y):
        r"""The posterior means :math:`\mu(x, y)`, shape ``(N, K)``; ``y (N,)`` the labels of ``X``."""
        self._network()
        X = self._condition(X, y)
        for layer in self.encoder_layers:
            X = layer.forward(X, training=False)
        return X

    def inverse_transform(self, Z, y):
        r"""The decoder mean for codes ``Z (N, K)`` and labels ``y (N,)``: shape ``(N, D)``."""
        net = self._network()
        Z = check_array(Z, "Z", n_features=self.n_latent, dtype=check_float_dtype(self.dtype),
                        estimator=type(self).__name__)
        net.set_condition(self._onehot(y, Z.shape[0], "y", per="row of Z"))
        for layer in self.decoder_layers:
            Z = layer.forward(Z, training=False)
        return net.loss.output(Z)

    def reconstruct(self, X, y):
        r"""The decoder mean at :math:`z = \mu(x, y)`, with the same label: shape ``(N, D)``."""
        X = self._condition(X, y)
        return self._network().predict(X)

    def elbo(self, X, y, random_state=0):
        r"""The negative ELBO of :math:`-\log p(x_n \mid y_n)` per example and its two parts
        (see :meth:`VariationalAutoencoder.elbo`), with labels ``y (N,)``: an :class:`ELBO` of (N,) arrays."""
        X = self._condition(X, y)
        return super().elbo(X, random_state=random_state)

    def importance_weighted_bound(self, X, y, k=50, random_state=0):
        r"""Burda et al.'s :math:`\mathcal L_k \le \log p(x_n \mid y_n)` per example (N,), in nats."""
        X = self._condition(X, y)
        return super().importance_weighted_bound(X, k=k, random_state=random_state)

    def kl_per_unit(self, X, y):
        r"""KL of each latent unit averaged over ``X`` with labels ``y``: shape (K,), nats."""
        X = self._condition(X, y)
        return super().kl_per_unit(X)

    def active_units(self, X, y, threshold=1e-2):
        r"""Burda et al.'s active units, :math:`\operatorname{Var}_x \mu_k(x, y) > ` ``threshold``."""
        mu = np.asarray(self.transform(X, y), dtype=np.float64)
        return int((mu.var(axis=0) > threshold).sum())

    def sample(self, n_samples, y=None, random_state=None):
        r"""Generate images of chosen classes: decode :math:`z \sim \mathcal N(0, I)` with label ``y``.

        Parameters
        ----------
        n_samples : int >= 1
        y : a label of ``classes_``, or an array of ``n_samples`` labels
            The class of each sample (required).
        random_state : None, int or Generator
            Draws the codes ``(n_samples, K)``.

        Returns
        -------
        ndarray (n_samples, D): decoder means.
        """
        n_samples = check_positive_int(n_samples, "n_samples")
        self._network()
        if y is None:
            raise ValueError(f"y is required: the class to generate, one of classes_ {self.classes_.tolist()} "
                             f"(or an array of n_samples={n_samples} labels)")
        labels = np.asarray(y)
        if labels.ndim == 0:
            labels = np.full(n_samples, labels.item(), dtype=labels.dtype)
        Z = check_random_state(random_state).standard_normal((n_samples, self.n_latent))
        self._onehot(labels, n_samples, "y", per="sample (n_samples)")  # checked before decoding
        return self.inverse_transform(Z.astype(check_float_dtype(self.dtype)), labels)

    def score(self, X, y=None):
        """Minus the mean negative ELBO on ``X`` with labels ``y`` (one fixed sample, seed 0), in nats."""
        return -float(self.elbo(X, y).neg_elbo.mean())
