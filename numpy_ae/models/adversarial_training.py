r"""How an adversarial autoencoder trains (Makhzani et al., 2015): three phases on every minibatch.

:class:`AdversarialTraining` gives :class:`~numpy_ae.models.adversarial.AdversarialAutoencoder`
its objectives and its loop:

1. reconstruction: the autoencoder's loss, a step of the encoder and the decoder;
2. regularisation, discriminator: binary cross-entropy of ``D`` telling prior
   samples (label 1) from codes (label 0), a step of the discriminator;
3. regularisation, generator: the encoder fools ``D`` (codes labelled 1), its
   gradient through the discriminator's input gradient, a step of the encoder.

Two stabilisers of the game, both off at 0: ``code_noise`` (instance noise, Sønderby et al. 2016:
Gaussian noise of that standard deviation added to every point the discriminator sees, prior samples
and codes alike, in phases 2 and 3) and ``label_smoothing`` (one-sided, Salimans et al. 2016: the
prior samples' target is ``1 - label_smoothing`` instead of 1 in phase 2). A schedule: the three step
sizes of epoch e are the initial ones times ``learning_rate_decay ** (e - 1)`` (1: constant).

Each objective has its own Adam. Divergence stops training with
:class:`~numpy_ae.exceptions.TrainingDiverged`, as in the minibatch loop
(:func:`~numpy_ae.train.loop.check_growth`).
"""
from __future__ import annotations

import sys
import time

import numpy as np

from ..exceptions import TrainingDiverged
from ..train.loop import check_growth

__all__ = ["AdversarialTraining"]


class AdversarialTraining:
    """The three phases and the training loop (the model provides ``network_``, ``_discriminator``,
    ``_optimizers``, ``prior_``, ``encoder_layers``, ``_decoder_mask`` and ``_onehot``)."""

    def _discriminator_pass(self, Z, T, components=None, input_grad=False):
        r"""``J`` = BCE from logits of ``D(Z)`` against targets ``T (N, 1)``, averaged over the N rows; the
        discriminator's parameter gradient is left in ``discriminator_.grad`` (zeroed first); returns
        ``(J, dJ/dZ (N, K))`` with ``input_grad``, else ``(J, logits)``."""
        disc = self._discriminator
        disc.grad.fill(0.0)
        if components is not None:
            disc.set_condition(self._onehot(components))
        logits = disc.forward(Z, training=True)
        out = None if input_grad else np.array(logits)
        J = disc.loss.forward(logits, T)
        dZ = disc.backward(disc.loss.backward(), input_grad=input_grad)
        return J, (np.array(dZ) if input_grad else out)

    def reconstruction_loss_and_grad(self, X):
        r"""Phase 1: :math:`J_{\text{rec}}` on checked ``X``; fills ``network_.grad`` (encoder and decoder)."""
        return self.network_.compute(X)

    def discriminator_loss_and_grad(self, Z_prior, Z_codes, components=None):
        r"""Phase 2: :math:`J_D` for prior samples ``Z_prior (N, K)`` (target ``1 - label_smoothing``) and
        codes ``Z_codes (N, K)`` (target 0), both paired with ``components (N,)`` when supervised; fills
        ``discriminator_.grad``. The points are taken as given (``_train_step`` adds the instance noise).
        Returns ``(J, accuracy)``: the fraction of the 2N points on the right side of logit 0."""
        dtype = self.network_.dtype
        Z = np.vstack([Z_prior, Z_codes]).astype(dtype, copy=False)
        T = np.zeros((Z.shape[0], 1), dtype=dtype)
        T[:Z_prior.shape[0]] = 1.0 - self.label_smoothing
        comps = None if components is None else np.concatenate([components, components])
        J, logits = self._discriminator_pass(Z, T, comps)
        return J, float(np.mean((logits > 0) == (T > 0.5)))

    def generator_loss_and_grad(self, X, components=None, noise=None):
        r"""Phase 3: :math:`J_G = -\frac1N\sum_n\log\sigma(D(E(x_n) + \nu_n))` on checked ``X``, with the
        instance noise ``noise`` :math:`\nu` ``(N, K)`` (None: 0); its gradient with respect to the ENCODER's
        parameters goes into ``network_.grad`` (zeroed first; the decoder's part stays 0) through the
        discriminator's input gradient (:math:`\partial(z + \nu)/\partial z = I`). Returns :math:`J_G`."""
        Z = self.network_.forward(X, training=True, layers=self.encoder_layers)
        return self._generator_backward(Z, components, noise)

    def _generator_backward(self, Z, components=None, noise=None):
        """Phase 3 from the codes ``Z`` of the encoder's last training pass (its caches still in place)."""
        net = self.network_
        net.grad.fill(0.0)
        T = np.ones((Z.shape[0], 1), dtype=net.dtype)
        J, dZ = self._discriminator_pass(Z if noise is None else Z + noise, T, components, input_grad=True)
        self._discriminator.grad.fill(0.0)  # frozen in this phase: its gradient is not used
        net.backward(dZ, layers=self.encoder_layers)
        return J

    def _noisy(self, Z):
        """``Z`` plus instance noise of standard deviation ``code_noise`` (``Z`` itself when it is 0)."""
        if self.code_noise <= 0:
            return Z
        return Z + self.code_noise * self.rng_.standard_normal(Z.shape)

    def _train_step(self, X, components=None):
        """The three phases on one minibatch; returns ``(J_rec, J_D, J_G, accuracy)``, each before its step.

        The encoder does not change between phases 2 and 3, so one training pass of it gives the codes
        of both (phase 3 backpropagates through that pass's caches)."""
        net, disc, opt = self.network_, self._discriminator, self._optimizers
        J_rec = self.reconstruction_loss_and_grad(X)
        opt["reconstruction"].step(net.theta, net.grad)
        Z = net.forward(X, training=True, layers=self.encoder_layers)
        Z_prior = self.prior_.sample(X.shape[0], self.rng_, labels=components)
        J_D, accuracy = self.discriminator_loss_and_grad(self._noisy(Z_prior), self._noisy(Z), components)
        opt["discriminator"].step(disc.theta, disc.grad)
        noise = None  # the generator's instance noise, drawn as _noisy draws it
        if self.code_noise > 0:
            noise = (self.code_noise * self.rng_.standard_normal(Z.shape)).astype(Z.dtype)
        J_G = self._generator_backward(Z, components, noise)
        opt["generator"].step(net.theta, net.grad, self._decoder_mask)
        return J_rec, J_D, J_G, accuracy

    def _train(self, X, components=None, callback=None):
        N = X.shape[0]
        batch = min(self.batch_size, N)
        n_batches = -(-N // batch)
        keys = ("reconstruction", "discriminator", "generator", "discriminator_accuracy")
        history = {k: [] for k in keys}
        history["seconds"] = []
        self.history_ = history
        first = None  # the first minibatch's reconstruction loss: the scale divergence is measured against
        base = {k: opt.learning_rate for k, opt in self._optimizers.items()}
        for epoch in range(1, self.epochs + 1):
            t0 = time.perf_counter()
            for k, opt in self._optimizers.items():  # the schedule: every step size times decay^(epoch - 1)
                opt.learning_rate = base[k] * self.learning_rate_decay ** (epoch - 1)
            order = self.rng_.permutation(N)
            totals = np.zeros(4)
            for b in range(n_batches):
                idx = order[b * batch:(b + 1) * batch]
                values = self._train_step(X[idx], None if components is None else components[idx])
                if not np.all(np.isfinite(values)):
                    raise TrainingDiverged(
                        f"an objective became non-finite in epoch {epoch} (minibatch {b + 1}/{n_batches}): "
                        f"reconstruction {values[0]}, discriminator {values[1]}, generator {values[2]}; lower "
                        "the learning rates or check the input scaling")
                totals += np.asarray(values) * len(idx)
                first = values[0] if first is None else first
            for k, v in zip(keys, totals / N):
                history[k].append(float(v))
            check_growth(first, history["reconstruction"][-1], epoch, "the learning rates", "reconstruction loss")
            history["seconds"].append(time.perf_counter() - t0)
            if self.verbose:
                print(f"  epoch {epoch:3d}/{self.epochs}  reconstruction {history['reconstruction'][-1]:.5g}  "
                      f"discriminator {history['discriminator'][-1]:.4f}  generator {history['generator'][-1]:.4f}  "
                      f"D accuracy {history['discriminator_accuracy'][-1]:.3f}  {history['seconds'][-1]:6.2f} s",
                      file=sys.stdout, flush=True)
            if callback is not None:
                callback(epoch, history)
        self.n_epochs_ = len(history["seconds"])
        self.cost_ = history["reconstruction"][-1]
        self.message_ = f"ran all {self.n_epochs_} epochs"
