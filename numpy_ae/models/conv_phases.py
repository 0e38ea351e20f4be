r"""Greedy layer-wise pretraining of a stacked convolutional autoencoder, in phases (Hands-On ML's method).

:class:`ConvPhases` gives :class:`~numpy_ae.models.convolutional.ConvAutoencoder` its
:meth:`~ConvPhases.fit_in_phases`: phase l trains encoder block l and its mirror decoder
block l on a :class:`~numpy_ae.models.stacked.PhaseView` of the one model (every other
parameter frozen), then a last phase fine-tunes the whole network.

Hands-On ML's method (b) for a stacked autoencoder, with convolutional blocks
in place of dense layers, on the machinery of
:meth:`numpy_ae.models.stacked.StackedAutoencoder.fit_in_phases` (one model; each
phase is a :class:`~numpy_ae.models.stacked.PhaseView`, a path of the model's own
layers whose other parameters are frozen). Phase l = 1..L trains encoder
block l and its mirror decoder block l to reconstruct block l's input::

    phase l:  X -> Reshape -> [encoder blocks 1..l] -> [decoder block l] -> Flatten   ~   target

the target being ``X`` itself with the model's loss for l = 1, and for l > 1
the output of encoder block l-1 (computed once with blocks 1..l-1 fixed,
flattened) with the squared error, reduced as the model's loss is (summed
over features next to the cross-entropy, which sums over pixels; averaged
next to ``loss="mse"``): with plain SGD one learning rate then serves every
phase (with the mean, Hands-On ML's SGD step of 1/784 per pixel sum barely
moved the inner blocks). Only block l's parameters move; weight
decay counts the kernels on the path. A last phase fine-tunes the whole
network on its own objective. Needs ``output_conv=False``: with the Keras
layout no decoder block maps back to an encoder block's input.
"""
from __future__ import annotations

import numbers
import time

import numpy as np

from ..nn.losses import MeanSquaredError, SquaredError
from .stacked import PhaseView, _finish_phases

__all__ = ["ConvPhases", "forward_in_batches"]


def forward_in_batches(net, X, layers, batch_size=1000):
    """Inference through ``layers`` of ``net``, flattened to rows ``(N, D')``, a batch at a time (the
    convolutions' im2col buffers grow with the batch, not with ``N``)."""
    parts = [net.forward(X[i:i + batch_size], training=False, layers=layers) for i in range(0, X.shape[0], batch_size)]
    return np.concatenate([p.reshape(p.shape[0], -1) for p in parts])


class ConvPhases:
    """The phases of :meth:`fit_in_phases`, for a model with ``_enc_blocks``, ``_dec_blocks``, ``_code``,
    ``_out`` (the layers of its blocks) and ``output_conv=False``."""

    # ---------------------------------------------------- greedy, in phases
    def _n_blocks(self):
        return len(self._enc_blocks)

    def _phase_path(self, k):
        """Phase ``k`` (1-based, ``k <= L``): ``(path, trainable, target_layers)``.

        ``path`` runs the encoder up to block k (and the ``_code_layers`` when
        k = L), then decoder block k and a ``Flatten``; ``trainable`` are the
        layers of encoder block k and of its mirror (and the code layers when
        k = L, their parameters if any); ``target_layers`` compute
        the phase's target, the output of encoder block k-1 (empty for k = 1:
        the input itself). Needs ``output_conv=False``.
        """
        self._network()
        if self.output_conv:
            raise ValueError("fit_in_phases needs output_conv=False (decoder block l the mirror of encoder block "
                             "l, mapping its output back to its input); got output_conv=True, whose decoder "
                             "keeps the encoder's channels and ends in an extra convolution")
        L = self._n_blocks()
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= L:
            raise ValueError(f"k must be a phase number from 1 to L = {L} (one per encoder block); got {k!r}")
        enc = self.encoder_layers
        up_to = [enc[0]] + [la for b in self._enc_blocks[:k] for la in b]  # Reshape, blocks 1..k
        path = up_to + (self._code if k == L else []) + self._dec_blocks[k - 1] + [self._out[-1]]
        trainable = self._enc_blocks[k - 1] + (self._code if k == L else []) + self._dec_blocks[k - 1]
        target_layers = [] if k == 1 else [enc[0]] + [la for b in self._enc_blocks[:k - 1] for la in b]
        return path, trainable, target_layers

    def _phase_loss(self, k):
        r"""The loss of phase ``k``: the model's own for k = 1 (and for the fine-tuning); for an inner
        phase the squared error, reduced as the model's loss is, so that one learning rate serves every
        phase (plain SGD feels the scale; Adam hardly does): :math:`\frac{1}{2N}\sum_n \lVert \hat h_n -
        h_n\rVert^2` (summed over features) next to the cross-entropy summed over pixels, and
        :math:`\frac{1}{ND}\sum (\hat h - h)^2` next to ``loss="mse"``."""
        if k == 1 or k > self._n_blocks():
            return self._network().loss
        return SquaredError() if self.loss == "cross_entropy" else MeanSquaredError()

    def fit_in_phases(self, X, y=None, *, epochs=None, callback=None):
        r"""Greedy layer-wise pretraining of this stacked convolutional autoencoder, then fine-tuning.

        Phase l (l = 1 .. L, one per encoder block) trains encoder block l and
        its mirror decoder block l to reconstruct block l's input: ``X`` with the
        model's loss for l = 1; for l > 1 the output of encoder block l-1
        (computed once, blocks 1..l-1 fixed), flattened, with the squared
        error reduced as the model's loss is (:meth:`_phase_loss`: summed over
        features for the cross-entropy, averaged for ``"mse"``, so that one
        learning rate serves every phase). Every other parameter is
        frozen, and weight decay counts the kernels on the phase's path only
        (:class:`~numpy_ae.models.stacked.PhaseView`, as in
        :meth:`StackedAutoencoder.fit_in_phases <numpy_ae.models.stacked.StackedAutoencoder.fit_in_phases>`).
        Phase L + 1 fine-tunes the whole network on the model's objective.
        Needs ``output_conv=False`` (the layout of :meth:`hands_on_ml`).

        Each phase runs the model's ``method``. ``epochs``: None (the
        hyperparameter, for every phase), an int, or a list of L + 1 ints
        ``>= 0``, one per phase, the last for the fine-tuning; 0 skips a phase
        (under L-BFGS too, where otherwise ``max_iter`` counts). ``callback``
        as in :meth:`~numpy_ae.models.convolutional.ConvAutoencoder.fit`, called in every phase. ``y`` is ignored. Returns
        self, with ``phase_history_`` and ``phase_cost_`` (see the class docstring).
        """
        self._validate_params()
        if self.output_conv:
            raise ValueError("fit_in_phases needs output_conv=False (decoder block l the mirror of encoder block "
                             "l, mapping its output back to its input); got output_conv=True, whose decoder "
                             "keeps the encoder's channels and ends in an extra convolution")
        X = self._check_X(X, fitting=True)
        self._clear_fit_attributes()
        net = self.initialize(X.shape[1])._network()
        L = self._n_blocks()
        epochs = self.epochs if epochs is None else epochs
        if isinstance(epochs, numbers.Integral) and not isinstance(epochs, bool):
            per_phase = [epochs] * (L + 1)
        else:
            try:
                per_phase = list(epochs)
            except TypeError:
                per_phase = []
        if len(per_phase) != L + 1 or any(isinstance(e, bool) or not isinstance(e, numbers.Integral) or e < 0
                                          for e in per_phase):
            raise ValueError(f"epochs must be None, an int >= 0 or a list of L + 1 = {L + 1} ints >= 0 (one per "
                             f"block, then the fine-tuning; 0 skips a phase); got {epochs!r}")
        saved_epochs = self.epochs
        start = time.perf_counter()
        self.phase_history_, self.phase_cost_, messages, converged = [], [], [], []
        try:
            for k in range(1, L + 2):
                if k <= L:
                    path, trainable, target_layers = self._phase_path(k)
                    net.frozen[:] = True
                    net.freeze(trainable, frozen=False)
                    T = None if k == 1 else forward_in_batches(net, X, target_layers)
                    view = PhaseView(net, path, self._phase_loss(k))
                    what = f"phase {k}/{L + 1}: encoder block {k} and its mirror"
                else:
                    net.frozen[:] = False
                    T, view, what = None, net, f"phase {k}/{L + 1}: fine-tuning the whole network"
                if per_phase[k - 1] == 0:
                    self.phase_history_.append(None)
                else:
                    if self.verbose:
                        print(what, flush=True)
                    self.epochs = int(per_phase[k - 1])
                    self._train(view, X, T, callback=callback)
                    self.phase_history_.append(self.history_ if self.method != "lbfgs" else self.cost_history_)
                    messages.append(f"phase {k}: {self.message_}")
                    converged.append(self.converged_)
                self.phase_cost_.append(float(net.evaluate(X)))
        finally:
            self.epochs = saved_epochs
            net.frozen[:] = False
        _finish_phases(self, net, X, messages, converged, start, nothing_done="every phase skipped (epochs 0)")
        return self
