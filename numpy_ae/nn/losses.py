r"""Reconstruction losses, each with a hand-written gradient.

Protocol: ``forward(Y, T) -> J`` (a Python float) caches what it needs, and
``backward() -> dY`` returns :math:`\partial J/\partial Y`, shape ``(N, D)`` like
``Y``. ``output(Y)`` maps the network's last output to the reconstruction the
loss compares with ``T``: the identity, except for losses computed from logits.

Reductions (stated once, tested in ``tests/test_losses.py``), with ``N``
examples and ``D`` outputs:

============================  ==============================================================
``SquaredError`` (UFLDL)      :math:`J = \frac{1}{2N} \sum_n \lVert y_n - t_n \rVert^2`
``MeanSquaredError``          :math:`J = \frac{1}{ND} \sum_{n,d} (y_{nd} - t_{nd})^2` (Keras' ``"mse"``)
``BinaryCrossEntropy``        :math:`J = -\frac{1}{N} \sum_{n,d} [t \log \sigma(z) + (1-t) \log(1-\sigma(z))]`
``GaussianNLL(v)``            :math:`J = \frac{1}{N} \sum_n [\frac{1}{2v}\lVert y_n - t_n\rVert^2 + \frac{D}{2}\log(2\pi v)]`
============================  ==============================================================

The cross-entropy is summed over pixels and averaged over examples, as in the
deeplearning.net denoising autoencoder tutorial and the VAE's negative ELBO.

Precision. Every ``J`` is accumulated in float64 whatever the dtype of ``Y``
(:func:`numpy_ae.nn.layer.accurate_sum_of_squares`, :func:`numpy_ae.nn.layer.accurate_sum`):
the big element-wise work stays in the model's dtype, but L-BFGS's line search
compares ``J`` at nearby points and needs its rounding far below the decrease
it asks for. float32 BLAS dot products are off by 2e-7 (64 outputs) to 2e-5
(784 outputs) relative, as large as a late iteration's whole decrease.
"""
from __future__ import annotations
import numbers
import numpy as np
from .layer import accurate_sum, accurate_sum_of_squares, scratch
from .activations import sigmoid

__all__ = ['Loss', 'SquaredError', 'MeanSquaredError', 'BinaryCrossEntropy', 'GaussianNLL', 'LOSSES', 'make_loss', 'softmax', 'SoftmaxCrossEntropy']




class Loss:
    """Base class. ``needs_unit_targets`` is True when targets must lie in [0, 1]."""

    needs_unit_targets = False
    workspace = None  # lent by the model's training step to fast twins (numpy_ae.nn.fast.workspace)

    def output(self, Y):
        """Reconstruction from the last layer's output (identity by default)."""
        return Y

    def __repr__(self):
        return f"{type(self).__name__}()"


class SquaredError(Loss):
    r"""UFLDL's :math:`J = \frac{1}{2N}\sum_n \lVert y_n - t_n\rVert^2`;
    :math:`\partial J/\partial Y = (Y - T)/N`."""

    def forward(self, Y, T):
        self.diff = np.subtract(Y, T, out=scratch(self, "diff", Y.shape, Y.dtype))
        return 0.5 * accurate_sum_of_squares(self.diff) / Y.shape[0]

    def backward(self):
        dY = self.diff
        dY *= 1.0 / dY.shape[0]  # the cached difference is not needed again
        return dY


class MeanSquaredError(Loss):
    r""":math:`J = \frac{1}{ND}\sum_{n,d} (y_{nd} - t_{nd})^2`;
    :math:`\partial J/\partial Y = 2 (Y - T)/(ND)`."""

    def forward(self, Y, T):
        self.diff = np.subtract(Y, T, out=scratch(self, "diff", Y.shape, Y.dtype))
        return accurate_sum_of_squares(self.diff) / Y.size

    def backward(self):
        dY = self.diff
        dY *= 2.0 / dY.size
        return dY


class BinaryCrossEntropy(Loss):
    r"""Cross-entropy between targets :math:`t \in [0, 1]` and :math:`\sigma(z)`, from logits ``Z``.

    Per element, :math:`\ell(z, t) = \log(1 + e^{z}) - t z`, computed as
    :math:`\max(z, 0) - t z + \log(1 + e^{-|z|})` which neither overflows nor
    takes the log of 0 (exact for :math:`|z|` of 1e3 and beyond). Summed over
    pixels, averaged over examples. Gradient:
    :math:`\partial J/\partial Z = (\sigma(Z) - T)/N`.
    """

    needs_unit_targets = True

    def output(self, Z):
        return sigmoid(Z)

    def forward(self, Z, T):
        self.Z, self.T = Z, T
        ell = np.abs(Z)
        np.negative(ell, out=ell)
        np.exp(ell, out=ell)
        np.log1p(ell, out=ell)
        ell += np.maximum(Z, 0.0)
        ell -= T * Z
        return accurate_sum(ell) / Z.shape[0]

    def backward(self):
        dZ = sigmoid(self.Z)
        dZ -= self.T
        dZ *= 1.0 / dZ.shape[0]
        return dZ


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

    def __init__(self, variance=1.0):
        if isinstance(variance, bool) or not isinstance(variance, numbers.Real) or not np.isfinite(variance) \
                or variance <= 0:
            raise ValueError(f"variance must be a finite number > 0 (the decoder's fixed output variance); "
                             f"got {variance!r}")
        self.variance = float(variance)

    def forward(self, Y, T):
        self.diff = np.subtract(Y, T, out=scratch(self, "diff", Y.shape, Y.dtype))
        N, D = Y.shape[0], Y[0].size
        const = 0.5 * D * np.log(2.0 * np.pi * self.variance)
        return 0.5 / self.variance * accurate_sum_of_squares(self.diff) / N + const

    def backward(self):
        dY = self.diff
        dY *= 1.0 / (self.variance * dY.shape[0])
        return dY

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
    ``Z (N, K)`` (or ``(K,)``) -> probabilities of the same shape, rows summing to 1.
    """
    Z = np.asarray(Z)
    E = Z - Z.max(axis=-1, keepdims=True)
    E = E.astype(np.result_type(E, np.float32), copy=False)  # integer logits -> float64
    np.exp(E, out=E)
    E /= E.sum(axis=-1, keepdims=True)
    return E


class SoftmaxCrossEntropy(Loss):
    r"""Cross-entropy between targets and :math:`\mathrm{softmax}(Z)`, from logits ``Z (N, K)``.

    Targets ``T`` are either integer labels ``(N,)`` in ``0..K-1`` or a matrix
    ``(N, K)`` (one-hot rows, or probabilities):

    .. math::
        J = -\frac{1}{N}\sum_n \log \mathrm{softmax}(Z)_{n, y_n}
          = -\frac{1}{N}\sum_{n,k} T_{nk} \log \mathrm{softmax}(Z)_{nk}.

    Computed stably with :math:`\log \mathrm{softmax}(z)_k = (z_k - m) - \log\sum_j e^{z_j - m}`,
    :math:`m = \max_j z_j` (exact for logits of 1e3 and beyond). Gradient
    :math:`\partial J/\partial Z = (\mathrm{softmax}(Z) - T)/N`; for a matrix
    whose rows do not sum to 1 the code uses the exact
    :math:`(\mathrm{softmax}(Z) \sum_k T_{nk} - T)/N`. As in the other losses,
    call ``backward()`` once per ``forward``.
    """

    def output(self, Z):
        return softmax(Z)

    def forward(self, Z, T):
        N, K = Z.shape
        T = self._check_targets(T, N, K)
        Zs = Z - Z.max(axis=1, keepdims=True)      # every row's max is 0: exp cannot overflow
        E = np.exp(Zs)
        s = E.sum(axis=1, keepdims=True)            # in [1, K]: its log is safe
        E /= s
        self.P, self.T = E, T
        if T.ndim == 1:                              # J = mean_n [log s_n - (z_{n,y_n} - m_n)]
            return float(np.log(s).sum() - Zs[np.arange(N), T].sum()) / N
        return -float(np.sum(T * (Zs - np.log(s)))) / N

    def backward(self):
        dZ, T = self.P, self.T                       # P is not needed again: reuse its memory
        if T.ndim == 1:
            dZ[np.arange(dZ.shape[0]), T] -= 1.0
        else:
            dZ *= T.sum(axis=1, keepdims=True)
            dZ -= T
        dZ *= 1.0 / dZ.shape[0]
        return dZ

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
