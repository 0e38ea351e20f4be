r"""Adversarial autoencoders (Makhzani, Shlens, Jaitly, Goodfellow & Frey, 2015).

An autoencoder whose codes are pushed towards a chosen prior :math:`p(z)` by
a GAN on the code space, instead of a KL term (the VAE). Three networks,
each its own :class:`~numpy_ae.nn.sequential.Sequential` with its own ``theta``:

* the encoder :math:`z = E(x)` (deterministic: Makhzani et al.'s first
  choice of :math:`q(z \mid x)`), and the decoder :math:`\hat x = G(z)`,
  together the autoencoder ``network_``;
* the discriminator :math:`D(z)`, a logit: large when it believes :math:`z`
  was drawn from the prior, small when it believes :math:`z` is a code
  (``discriminator_``).

What joins them is the discriminator's INPUT gradient: its backward pass
returns :math:`\partial J/\partial z` (``Sequential.backward(..., input_grad=True)``),
which the encoder's backward pass consumes. All backward passes are the
layers' hand-written ones.

Training, per minibatch :math:`x_1..x_N` (Makhzani et al., section 2), in
three phases, each with its own Adam optimiser:

1. **Reconstruction** (encoder and decoder):

   .. math:: J_{\text{rec}} = L\bigl(G(E(x)), x\bigr) + \frac{\lambda}{2}\sum W^2,

   :math:`L` the cross-entropy from logits summed over pixels and averaged over
   examples (``loss="cross_entropy"``, inputs in [0, 1]) or the mean squared
   error (``loss="mse"``), as :mod:`numpy_ae.nn.losses` reduces them.

2. **Regularisation, discriminator** (discriminator only): with prior samples
   :math:`z'_n \sim p(z)` (label 1) and the current codes :math:`z_n = E(x_n)`
   (label 0), the binary cross-entropy from logits averaged over the
   :math:`2N` pooled examples,

   .. math::
       J_D = \frac{1}{2N}\sum_{n=1}^{N}\Bigl[-\log\sigma\bigl(D(z'_n)\bigr)
                                             - \log\bigl(1 - \sigma(D(z_n))\bigr)\Bigr].

3. **Regularisation, generator** (encoder only, discriminator frozen): the
   non-saturating GAN loss (Goodfellow et al., 2014) with the encoder as the
   generator,

   .. math::
       J_G = -\frac{1}{N}\sum_{n=1}^{N}\log\sigma\bigl(D(E(x_n))\bigr), \qquad
       \frac{\partial J_G}{\partial \theta_E}
         = \sum_n \Bigl(\frac{\partial E(x_n)}{\partial\theta_E}\Bigr)^{\!\top}
           \underbrace{\frac{\partial J_G}{\partial z_n}}_{\text{D's input gradient}},
       \quad \frac{\partial J_G}{\partial D(z_n)} = \frac{\sigma(D(z_n)) - 1}{N}.

The codes of phases 2 and 3 are computed after the reconstruction update of
the same minibatch, as in the paper. Each phase's objective has a registered
gradient check (``python -m numpy_ae gradcheck --only aae_...``).

Priors. :class:`GaussianPrior` (:math:`\mathcal N(0, \sigma^2 I)`) and
:class:`MixturePrior` (10 elongated 2-D Gaussians on a circle, as in the
paper's figures). With ``supervised=True`` (mixture only) the labels ``y``
given to ``fit`` choose the component: codes of class :math:`c` must match
component :math:`c`. We implement this as Makhzani et al.'s section 5 does,
by giving the label to the discriminator: it sees :math:`[z, \text{onehot}(c)]`
(a :class:`~numpy_ae.nn.condition.JoinCondition` layer), prior samples are drawn
from component :math:`c` and paired with the same one-hot, so the game matches
:math:`q(z \mid c)` to :math:`p(z \mid c)` for every class. (The simpler
variant, drawing each prior sample from its label's component while the
discriminator sees :math:`z` alone, only matches the marginal of the codes to
the mixture and does NOT make class :math:`c` go to component :math:`c`.)
Every example of a supervised fit must have a label (no "unlabelled" class).

How close the codes are to the prior: :func:`mmd`, an unbiased estimate of
the squared maximum mean discrepancy with a Gaussian RBF kernel.

References: A. Makhzani, J. Shlens, N. Jaitly, I. Goodfellow, B. Frey,
"Adversarial Autoencoders" (2015, arXiv:1511.05644); I. Goodfellow et al.,
"Generative Adversarial Nets" (2014); A. Gretton, K. Borgwardt, M. Rasch,
B. Schölkopf, A. Smola, "A Kernel Two-Sample Test" (JMLR 2012).
"""
from __future__ import annotations
import numbers
import time
import numpy as np
from .._validation import check_float_dtype, check_labels, check_layer_sizes, check_non_negative, check_positive_int, check_random_state
from .adversarial_training import AdversarialTraining
from .autoencoders import Autoencoder
from .fields import LABELS, array
from .training import _set_params_from_locals
from ..nn.dense import Dense
from ..nn.condition import JoinCondition
from ..nn.activations import default_init, make_activation
from ..nn.losses import BinaryCrossEntropy, make_loss
from ..nn.sequential import Sequential
from ..train import fast_optimizers, optimizers
from ..analysis.mmd import mmd
from .priors import make_prior

__all__ = ['AdversarialAutoencoder']




# --------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------
LOSSES = ("cross_entropy", "mse")


def _check_sizes(sizes, name, example):
    return check_layer_sizes(sizes, name=name, example=example)


def _check_rate(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    return float(value)


class AdversarialAutoencoder(AdversarialTraining, Autoencoder):
    r"""An adversarial autoencoder: encoder, decoder and a discriminator on the codes (see the module docstring).

    Networks for ``hidden_layer_sizes = (H1, H2)``, ``n_latent = K``, ``discriminator_hidden = (M1, M2)``
    on ``D`` inputs::

        encoder        X (N, D) -> Dense(D, H1) -> act -> Dense(H1, H2) -> act -> Dense(H2, K)   (linear code z)
        decoder        z (N, K) -> Dense(K, H2) -> act -> Dense(H2, H1) -> act -> Dense(H1, D)   (logits or x_hat)
        discriminator  z (N, K) [-> JoinCondition(C)] -> Dense(K[+C], M1) -> act -> Dense(M1, M2) -> act
                                                      -> Dense(M2, 1)                        (logit of "prior")

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int
        Encoder widths, input side first; the decoder mirrors them.
    n_latent : int >= 1
        K, the code size (2: codes you can plot over the prior).
    activation : str
        Hidden activation of all three networks (``"elu"``, ``"relu"``, ``"tanh"``...).
    loss : {"cross_entropy", "mse"}
        Reconstruction loss: cross-entropy from logits summed over pixels
        (inputs in [0, 1]; the reconstruction is the sigmoid of the logits), or
        the mean squared error with a linear output.
    prior : {"gaussian", "mixture"}
        :math:`p(z)`: ``"gaussian"`` is :math:`\mathcal N(0, I)`; ``"mixture"`` is
        :class:`MixturePrior` with ``n_components`` components (radius 2, stds 0.5
        and 0.1). Anything else is a ValueError naming ``prior``.
    n_components : int >= 1
        Components of the mixture prior (unused for the Gaussian).
    supervised : bool
        With ``prior="mixture"``: ``fit(X, y)`` matches the codes of class c
        to component c (the discriminator sees the one-hot label; see the module
        docstring); ``y`` is then required and may have at most
        ``n_components`` classes. False: ``y`` is ignored (as in a ``Pipeline``).
        Measured: a small 3-class problem reaches it; on 10,000 Fashion-MNIST
        images, 50 epochs (discriminator 2e-3, generator 1e-3, no decay) put
        71% to 75% of test codes nearest their own component (seeds 0-2).
    discriminator_hidden : int or tuple of int
        Widths of the discriminator's hidden layers.
    learning_rate : float > 0
        Adam's step size for the reconstruction phase.
    discriminator_learning_rate, generator_learning_rate : float > 0
        Adam's step sizes for the two regularisation phases.
    beta1 : float in (0, 1)
        Adam's first-moment decay for the two regularisation phases (the
        reconstruction phase uses 0.9).
    code_noise : float >= 0
        Instance noise: the standard deviation of Gaussian noise added to the
        prior samples and the codes the discriminator sees (phases 2 and 3,
        not the reconstruction); it blurs both distributions alike, so the
        discriminator cannot win on fine detail (0: none).
    label_smoothing : float in [0, 1)
        One-sided label smoothing: the prior samples' target in phase 2 is
        ``1 - label_smoothing`` (0: the plain GAN target 1).
    learning_rate_decay : float in (0, 1]
        The schedule: in epoch e all three step sizes are their initial
        values times ``learning_rate_decay ** (e - 1)`` (1: constant).
    weight_decay : float >= 0
        :math:`\frac{\lambda}{2}\sum W^2` on the autoencoder's weights, in the
        reconstruction objective.
    epochs, batch_size : int
        Passes over the data and examples per minibatch (cut to N).
    verbose : int
        Non-zero: one line per epoch with the three losses.
    dtype : {"float64", "float32"}
    random_state : None, int or Generator
        Initialisation of all three networks, shuffling and prior samples.

    Attributes
    ----------
    network_ : Sequential
        The autoencoder (encoder then decoder layers).
    discriminator_ : Sequential
        The discriminator (saved with the model).
    history_ : dict
        Per epoch: ``"reconstruction"``, ``"discriminator"``, ``"generator"``
        (each phase's objective averaged over the epoch's minibatches, before
        each step), ``"discriminator_accuracy"`` (the fraction of the epoch's
        prior samples and codes the discriminator labelled correctly, before
        its step), ``"seconds"``.
    classes_ : ndarray
        With ``supervised=True``: the labels; ``classes_[c]`` goes to component c.
    """

    _unsaved = ("n_encoder_layers_",)
    _saved_attributes = {"discriminator_theta_": array(params=True, required=True),
                         "classes_": array((None,), dtypes=LABELS)}

    def __init__(self, hidden_layer_sizes=(500, 500), *, n_latent=2, activation="elu", loss="cross_entropy",
                 prior="gaussian", n_components=10, supervised=False, discriminator_hidden=(128, 128),
                 learning_rate=1e-3, discriminator_learning_rate=5e-4, generator_learning_rate=1e-3, beta1=0.9,
                 code_noise=0.0, label_smoothing=0.0, learning_rate_decay=1.0, weight_decay=0.0, epochs=10,
                 batch_size=128, verbose=0, dtype="float64", random_state=None, fast=True):
        _set_params_from_locals(self, locals())
        self._validate_params()

    # ------------------------------------------------------------ structure
    def _validate_params(self):
        _check_sizes(self.hidden_layer_sizes, "hidden_layer_sizes", "(500, 500)")
        check_positive_int(self.n_latent, "n_latent")
        make_activation(self.activation)
        if not isinstance(self.loss, str) or self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {list(LOSSES)} (the reconstruction loss); got {self.loss!r}")
        check_positive_int(self.n_components, "n_components")
        make_prior(self.prior, self.n_latent, self.n_components)  # ValueError naming prior
        if not isinstance(self.supervised, (bool, np.bool_)):
            raise ValueError(f"supervised must be True or False; got {self.supervised!r}")
        if self.supervised and self.prior != "mixture":
            raise ValueError(f"supervised=True needs prior='mixture' (each class is matched to one of its "
                             f"components); got prior={self.prior!r}")
        _check_sizes(self.discriminator_hidden, "discriminator_hidden", "(128, 128)")
        for name in ("learning_rate", "discriminator_learning_rate", "generator_learning_rate"):
            _check_rate(getattr(self, name), name)
        if isinstance(self.beta1, bool) or not isinstance(self.beta1, numbers.Real) or not 0 < self.beta1 < 1:
            raise ValueError(f"beta1 must be a number strictly between 0 and 1; got {self.beta1!r}")
        check_non_negative(self.code_noise, "code_noise")
        if isinstance(self.label_smoothing, bool) or not isinstance(self.label_smoothing, numbers.Real) \
                or not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be a number in [0, 1) (the prior samples' target is 1 minus "
                             f"it); got {self.label_smoothing!r}")
        if isinstance(self.learning_rate_decay, bool) or not isinstance(self.learning_rate_decay, numbers.Real) \
                or not 0 < self.learning_rate_decay <= 1:
            raise ValueError(f"learning_rate_decay must be a number in (0, 1] (the step sizes' factor per epoch); "
                             f"got {self.learning_rate_decay!r}")
        check_non_negative(self.weight_decay, "weight_decay")
        check_positive_int(self.epochs, "epochs")
        check_positive_int(self.batch_size, "batch_size")
        if isinstance(self.verbose, bool):
            pass
        elif not isinstance(self.verbose, numbers.Integral) or self.verbose < 0:
            raise ValueError(f"verbose must be an integer >= 0 (or a bool); got {self.verbose!r}")
        check_float_dtype(self.dtype)
        check_random_state(self.random_state)

    def _make_network(self, n_features):
        sizes = [n_features] + _check_sizes(self.hidden_layer_sizes, "hidden_layer_sizes", "(500, 500)")
        init, K = default_init(self.activation), self.n_latent
        encoder = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            encoder += [Dense(a, b, init=init), make_activation(self.activation)]
        encoder.append(Dense(sizes[-1], K, init="glorot"))  # the code is linear: the prior decides its range
        decoder, widths = [], [K] + sizes[:0:-1]
        for a, b in zip(widths[:-1], widths[1:]):
            decoder += [Dense(a, b, init=init), make_activation(self.activation)]
        decoder.append(Dense(widths[-1], n_features, init="glorot"))
        loss = BinaryCrossEntropy() if self.loss == "cross_entropy" else make_loss("mse")
        return encoder, decoder, loss

    def _make_discriminator(self):
        init = default_init(self.activation)
        layers, width = [], self.n_latent
        if self.supervised:
            layers.append(JoinCondition(self.n_components))
            width += self.n_components
        for h in _check_sizes(self.discriminator_hidden, "discriminator_hidden", "(128, 128)"):
            layers += [Dense(width, h, init=init), make_activation(self.activation)]
            width = h
        layers.append(Dense(width, 1, init="glorot"))
        return Sequential(layers, BinaryCrossEntropy(), dtype=check_float_dtype(self.dtype), random_state=self.rng_,
                          fast=self.fast)

    def initialize(self, n_features):
        """Build the autoencoder and the discriminator with fresh parameters and fresh optimisers; return self."""
        super().initialize(n_features)
        self._discriminator = self._make_discriminator()
        self._decoder_mask = np.zeros(self.network_.n_params, dtype=bool)
        for b in self.network_.blocks:
            if any(b.layer is layer for layer in self.decoder_layers):
                self._decoder_mask[b.slice] = True
        Adam = fast_optimizers.Adam if self.fast else optimizers.Adam
        self._optimizers = {"reconstruction": Adam(self.learning_rate),
                            "discriminator": Adam(self.discriminator_learning_rate, beta1=self.beta1),
                            "generator": Adam(self.generator_learning_rate, beta1=self.beta1)}
        return self

    @property
    def discriminator_(self):
        """The discriminator, a :class:`~numpy_ae.nn.sequential.Sequential` (after ``fit`` or ``initialize``)."""
        self._network()
        return self._discriminator

    @property
    def prior_(self):
        """The prior the codes are matched to (a :class:`GaussianPrior` or :class:`MixturePrior`)."""
        return make_prior(self.prior, self.n_latent, self.n_components)

    def _needs_unit_inputs(self):
        return self.loss == "cross_entropy"

    def _unit_inputs_hint(self):
        return ("The cross-entropy reconstruction models each input as a probability, so inputs must lie in "
                "[0, 1]. Rescale them (e.g. X / 255 for images) or use loss='mse'.")

    # ------------------------------------------------------------ persistence
    def _state(self):
        state = super()._state()
        state["discriminator_theta_"] = self._discriminator.theta
        return state

    def _rebuild(self, state):  # load checks that the discriminator took the file's parameters, bit for bit
        super()._rebuild(state)
        self._discriminator.set_theta(state["discriminator_theta_"])

    # ------------------------------------------------------------ the phases
    def _onehot(self, components):
        """One-hot rows ``(N, n_components)`` in the model's dtype for component indices ``(N,)``."""
        C = np.zeros((components.shape[0], self.n_components), dtype=self.network_.dtype)
        C[np.arange(components.shape[0]), components] = 1.0
        return C

    def encode(self, X):
        """Codes of already checked ``X`` (N, D): the encoder at inference, a fresh array (N, K)."""
        return self.network_.forward(X, training=False, layers=self.encoder_layers)

    # -------------------------------------------------------------- fitting
    def _clear_fit_attributes(self):
        super()._clear_fit_attributes()
        self.__dict__.pop("classes_", None)

    def _components_of(self, y, n):
        """Component index ``(n,)`` of each label of ``y`` (``classes_[c]`` -> c)."""
        y = check_labels(y, n)
        pos = np.searchsorted(self.classes_, y)
        pos = np.minimum(pos, len(self.classes_) - 1)
        if not np.array_equal(self.classes_[pos], y):
            bad = y[self.classes_[pos] != y][0].item()
            raise ValueError(f"y holds a label {bad!r} that fit did not see; classes_ are {self.classes_.tolist()}")
        return pos

    def fit(self, X, y=None, *, callback=None):
        r"""Train on ``X (N, D)`` (labels ``y (N,)`` when ``supervised``, else ignored); return self.

        Every epoch shuffles the examples (``random_state``) and runs the three
        phases on each minibatch. ``callback(epoch, history)`` after every epoch.
        A non-finite objective stops at once with an error naming the epoch.
        """
        self._validate_params()
        X = self._check_X(X, fitting=True)
        self._clear_fit_attributes()
        components = None
        if self.supervised:
            if y is None:
                raise ValueError("y is required with supervised=True: the label of every example chooses its "
                                 "mixture component (or use supervised=False)")
            y = check_labels(y, X.shape[0])  # the checks every classifier makes (0.5, inf, str mixed with int)
            classes = np.unique(y)
            if len(classes) > self.n_components:
                raise ValueError(f"y has {len(classes)} classes but the mixture has n_components="
                                 f"{self.n_components}; supervised=True needs one component per class")
            self.classes_ = classes
            components = self._components_of(y, X.shape[0])
        self.initialize(X.shape[1])
        start = time.perf_counter()
        self._train(X, components, callback)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    # ------------------------------------------------------------ inference
    def sample(self, n_samples, y=None, random_state=None):
        r"""Generate: decode ``n_samples`` prior draws :math:`z \sim p(z)`; returns ``(n_samples, D)``.

        ``y`` (mixture prior only): a label (of ``classes_`` when supervised, else
        a component index) or an array of ``n_samples`` of them, choosing the
        component of each draw. ``random_state`` draws the codes.
        """
        n_samples = check_positive_int(n_samples, "n_samples")
        self._network()
        components = None
        if y is not None:
            if self.prior != "mixture":
                raise ValueError(f"y chooses mixture components; this model's prior is {self.prior!r} (pass y=None)")
            labels = np.asarray(y)
            if labels.ndim == 0:
                labels = np.full(n_samples, labels.item(), dtype=labels.dtype)
            components = self._components_of(labels, n_samples) if self.supervised else labels
        Z = self.prior_.sample(n_samples, check_random_state(random_state), labels=components)
        return self.inverse_transform(Z.astype(check_float_dtype(self.dtype)))

    def prior_mmd(self, X, n_prior=2000, bandwidth="median", random_state=0):
        r""":func:`mmd` between the codes of ``X`` and ``n_prior`` draws from the prior (seeded by ``random_state``)."""
        Z = np.asarray(self.transform(X), dtype=np.float64)
        rng = check_random_state(random_state)
        return mmd(Z, self.prior_.sample(check_positive_int(n_prior, "n_prior", minimum=2), rng),
                   bandwidth=bandwidth, random_state=rng)
