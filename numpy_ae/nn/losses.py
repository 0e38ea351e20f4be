r"""Reconstruction losses, each with a hand-written gradient.

Protocol: ``forward(Y, T) -> J`` (a Python float) caches what it needs, and
``backward() -> dY`` returns :math:`\partial J/\partial Y`, shape ``(N, D)`` like
``Y``, as a fresh array (``Y`` and ``T`` are never changed). ``output(Y)`` maps
the network's last output to the reconstruction the loss compares with ``T``:
the identity, except for losses computed from logits.

Reductions (stated once, tested in ``tests/nn/test_losses.py``), with ``N``
examples and ``D`` outputs:

============================  ==============================================================
``SquaredError`` (UFLDL)      :math:`J = \frac{1}{2N} \sum_n \lVert y_n - t_n \rVert^2`
``MeanSquaredError``          :math:`J = \frac{1}{ND} \sum_{n,d} (y_{nd} - t_{nd})^2` (Keras' ``"mse"``)
``BinaryCrossEntropy``        :math:`J = -\frac{1}{N} \sum_{n,d} [t \log \sigma(z) + (1-t) \log(1-\sigma(z))]`
``GaussianNLL(v)``            :math:`J = \frac{1}{N} \sum_n [\frac{1}{2v}\lVert y_n - t_n\rVert^2 + \frac{D}{2}\log(2\pi v)]`
============================  ==============================================================

The cross-entropy is summed over pixels and averaged over examples, as in the
deeplearning.net denoising autoencoder tutorial and the VAE's negative ELBO.

The fast twins (:mod:`numpy_ae.nn.fast.losses`) accumulate every ``J`` in
float64 whatever the dtype of ``Y`` (:mod:`numpy_ae.nn.fast.reductions`): L-BFGS's
line search compares ``J`` at nearby points and needs its rounding far below the
decrease it asks for, which a float32 sum does not give.
"""
from __future__ import annotations

import numbers

import numpy as np

from .activations import sigmoid

__all__ = ['Loss', 'SquaredError', 'MeanSquaredError', 'BinaryCrossEntropy', 'GaussianNLL', 'LOSSES', 'make_loss',
           'softmax', 'SoftmaxCrossEntropy']


class Loss:
    """Base class. ``needs_unit_targets`` is True when targets must lie in [0, 1]."""

    needs_unit_targets = False
    rows_independent = False  # True: a mean over the examples (numpy_ae.train.parallel)
    workspace = None  # lent by the model's training step to fast twins (numpy_ae.nn.fast.workspace)

    def output(self, Y):
        """Reconstruction from the last layer's output (identity by default)."""
        return Y

    def __repr__(self):
        return f"{type(self).__name__}()"


class SquaredError(Loss):
    r"""UFLDL's :math:`J = \frac{1}{2N}\sum_n \lVert y_n - t_n\rVert^2`;
    :math:`\partial J/\partial Y = (Y - T)/N`."""

    rows_independent = True  # see numpy_ae.train.parallel

    def forward(self, Y, T):
        self.Y, self.T = Y, T
        return 0.5 * float(np.sum((Y - T) ** 2)) / Y.shape[0]

    def backward(self):
        return (self.Y - self.T) / self.Y.shape[0]


class MeanSquaredError(Loss):
    r""":math:`J = \frac{1}{ND}\sum_{n,d} (y_{nd} - t_{nd})^2`;
    :math:`\partial J/\partial Y = 2 (Y - T)/(ND)`."""

    rows_independent = True  # see numpy_ae.train.parallel

    def forward(self, Y, T):
        self.Y, self.T = Y, T
        return float(np.sum((Y - T) ** 2)) / Y.size

    def backward(self):
        return 2.0 * (self.Y - self.T) / self.Y.size


class BinaryCrossEntropy(Loss):
    r"""Cross-entropy between targets :math:`t \in [0, 1]` and :math:`\sigma(z)`, from logits ``Z``.

    Per element, :math:`\ell(z, t) = \log(1 + e^{z}) - t z`, computed as
    :math:`\max(z, 0) - t z + \log(1 + e^{-|z|})` which neither overflows nor
    takes the log of 0 (exact for :math:`|z|` of 1e3 and beyond). Summed over
    pixels, averaged over examples. Gradient:
    :math:`\partial J/\partial Z = (\sigma(Z) - T)/N`.
    """

    rows_independent = True  # see numpy_ae.train.parallel

    needs_unit_targets = True

    def output(self, Z):
        return sigmoid(Z)

    def forward(self, Z, T):
        self.Z, self.T = Z, T
        return float(np.sum(np.maximum(Z, 0.0) - Z * T + np.log1p(np.exp(-np.abs(Z))))) / Z.shape[0]

    def backward(self):
        return (sigmoid(self.Z) - self.T) / self.Z.shape[0]


class GaussianNLL(Loss):
    r"""Negative log-likelihood of targets under :math:`\mathcal N(y_n, v I)`, in nats: a VAE's Gaussian decoder.

    .. math::
        J = \frac{1}{N}\sum_{n=1}^{N}\Bigl[\frac{1}{2v}\lVert y_n - t_n\rVert^2
            + \frac{D}{2}\log(2\pi v)\Bigr], \qquad
        \frac{\partial J}{\partial Y} = \frac{Y - T}{vN},

    summed over the ``D`` outputs and averaged over the ``N`` examples, like the
    cross-entropy (Bernoulli likelihood) it replaces for real-valued data.
    ``variance`` :math:`v > 0` is fixed, not learned; with :math:`v = 1` the
    first term is UFLDL's squared error :math:`\frac{1}{2N}\sum_n\lVert y_n - t_n\rVert^2`.
    The constant does not change the gradient but makes :math:`J` a log-likelihood
    (comparable across variances and with other papers' figures).
    """

    rows_independent = True  # see numpy_ae.train.parallel

    def __init__(self, variance=1.0):
        if isinstance(variance, bool) or not isinstance(variance, numbers.Real) or not np.isfinite(variance) \
                or variance <= 0:
            raise ValueError(f"variance must be a finite number > 0 (the decoder's fixed output variance); "
                             f"got {variance!r}")
        self.variance = float(variance)

    def constant(self, Y):
        r""":math:`\frac{D}{2}\log(2\pi v)` for outputs ``Y`` of ``D`` values per example."""
        return 0.5 * Y[0].size * np.log(2.0 * np.pi * self.variance)

    def forward(self, Y, T):
        self.Y, self.T = Y, T
        return 0.5 / self.variance * float(np.sum((Y - T) ** 2)) / Y.shape[0] + self.constant(Y)

    def backward(self):
        return (self.Y - self.T) / (self.variance * self.Y.shape[0])

    def __repr__(self):
        return f"GaussianNLL(variance={self.variance})"


LOSSES = {
    "squared_error": SquaredError,
    "mse": MeanSquaredError,
    "cross_entropy": BinaryCrossEntropy,
}


def make_loss(name):
    """Return a new loss from its name: ``"squared_error"``, ``"mse"`` or ``"cross_entropy"``."""
    try:
        return LOSSES[name]()
    except (KeyError, TypeError):
        raise ValueError(f"loss must be one of {sorted(LOSSES)}; got {name!r}") from None


def softmax(Z):
    r"""Row-wise :math:`\mathrm{softmax}(Z)_{nk} = e^{z_{nk} - m_n} / \sum_j e^{z_{nj} - m_n}`,
    :math:`m_n = \max_j z_{nj}`.

    Subtracting the row maximum changes nothing mathematically, but every
    exponent is then <= 0 (no overflow) and the denominator >= 1 (no 0/0).
    ``Z (N, K)`` (or ``(K,)``) -> probabilities of the same shape, rows summing to 1
    (in float64 for integer logits).
    """
    Z = np.asarray(Z)
    Zs = Z - Z.max(axis=-1, keepdims=True)
    E = np.exp(Zs.astype(np.result_type(Zs, np.float32), copy=False))  # integer logits: in float64
    return E / E.sum(axis=-1, keepdims=True)


class SoftmaxCrossEntropy(Loss):
    r"""Cross-entropy between targets and :math:`\mathrm{softmax}(Z)`, from logits ``Z (N, K)``.

    Targets ``T`` are either integer labels ``(N,)`` in ``0..K-1`` (read as
    one-hot rows) or a matrix ``(N, K)`` (one-hot rows, or probabilities):

    .. math::
        J = -\frac{1}{N}\sum_n \log \mathrm{softmax}(Z)_{n, y_n}
          = -\frac{1}{N}\sum_{n,k} T_{nk} \log \mathrm{softmax}(Z)_{nk}.

    Computed stably with :math:`\log \mathrm{softmax}(z)_k = (z_k - m) - \log\sum_j e^{z_j - m}`,
    :math:`m = \max_j z_j` (exact for logits of 1e3 and beyond). Gradient
    :math:`\partial J/\partial Z = (\mathrm{softmax}(Z) - T)/N`; for a matrix
    whose rows do not sum to 1 the code uses the exact
    :math:`(\mathrm{softmax}(Z) \sum_k T_{nk} - T)/N`.
    """

    rows_independent = True  # see numpy_ae.train.parallel

    def output(self, Z):
        return softmax(Z)

    def forward(self, Z, T):
        N, K = Z.shape
        T = self._check_targets(T, N, K)
        if T.ndim == 1:
            T = np.eye(K, dtype=Z.dtype)[T]        # labels as one-hot rows
        Zs = Z - Z.max(axis=1, keepdims=True)      # every row's max is 0: exp cannot overflow
        E = np.exp(Zs)
        s = np.sum(E, axis=1, keepdims=True)       # in [1, K]: its log is safe
        self.P, self.T = E / s, T
        return -float(np.sum(T * (Zs - np.log(s)))) / N   # log softmax(Z) = Zs - log s

    def backward(self):
        P, T = self.P, self.T
        return (P * T.sum(axis=1, keepdims=True) - T) / P.shape[0]

    @staticmethod
    def _check_targets(T, N, K):
        T = np.asarray(T)
        if T.shape == (N, K):
            return T
        if T.shape != (N,):
            raise ValueError(f"T must be labels of shape ({N},) or a one-hot/probability matrix of shape "
                             f"({N}, {K}) for logits of shape ({N}, {K}); got shape {T.shape}")
        if T.dtype.kind not in "iu":
            raise ValueError(f"T as a label vector must hold integers 0..{K - 1}; got dtype {T.dtype} "
                             "(convert with T.astype(int), or pass a one-hot matrix)")
        lo, hi = int(T.min()), int(T.max())
        if lo < 0 or hi >= K:
            raise ValueError(f"labels in T must lie in 0..{K - 1} (one per logit column); got values in "
                             f"[{lo}, {hi}]. Map arbitrary labels with np.unique(y, return_inverse=True)")
        return T
