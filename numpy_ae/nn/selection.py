r"""Selection layers: k-sparse and winner-take-all codes.
"""
from __future__ import annotations
import numpy as np
import math
import numbers
from .._validation import check_positive_int
from .layer import Layer

__all__ = ['KSparse', 'LifetimeWTA', 'SpatialWTA']


def _check_k(k, name="k"):
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"{name} must be an integer >= 1 (the number of code units kept per example); got {k!r}")
    return int(k)


def check_k_fits(k, n_units, name="k"):
    """ValueError unless ``1 <= k <= n_units`` (the code size)."""
    k = _check_k(k, name)
    if k > n_units:
        raise ValueError(f"{name} must be at most the code size {n_units} (the number of code units kept per "
                         f"example cannot exceed the units there are); got {k}")
    return k


def check_lifetime_sparsity(sparsity, name="sparsity"):
    """ValueError unless ``0 < sparsity <= 1``; return it as float."""
    if isinstance(sparsity, bool) or not isinstance(sparsity, numbers.Real) or not np.isfinite(sparsity) \
            or not 0.0 < sparsity <= 1.0:
        raise ValueError(f"{name} must be a number in (0, 1] (the fraction of the minibatch each unit keeps); "
                         f"got {sparsity!r}")
    return float(sparsity)


def _top_mask(A, k, axis):
    """Boolean mask of the ``k`` largest entries of ``A`` along ``axis`` (exactly ``k``; ties: argpartition's)."""
    n = A.shape[axis]
    if k >= n:
        return np.ones(A.shape, dtype=bool)
    idx = np.argpartition(A, n - k, axis=axis)
    idx = idx[n - k:] if axis == 0 else idx[:, n - k:]
    mask = np.zeros(A.shape, dtype=bool)
    np.put_along_axis(mask, idx, True, axis=axis)
    return mask


class KSparse(Layer):
    r"""The k-sparse code of Makhzani & Frey (2013): keep the ``k`` largest units of each example.

    Forward, on ``A (N, H)``: in a training pass each row keeps its ``k`` largest values (by value,
    not magnitude, as in the paper's :math:`\mathrm{supp}_k`) and the other ``H - k`` become 0; at
    inference (``training=False``) each row keeps its ``round(alpha * k)`` largest (at most ``H``:
    all of them). Ties: exactly ``k`` units are kept; when several share the k-th largest value,
    which of them stay is ``np.argpartition``'s choice (deterministic for a given array, not by
    index). Backward: the gradient flows only through the units kept (the support), the others get 0.

    Parameters
    ----------
    k : int >= 1
        Units kept per example in training. Checked against the code size ``H`` at the first
        forward pass, or at once when ``n_units`` is given.
    alpha : float > 0
        Inference keeps ``round(alpha * k)`` units (the paper's :math:`\alpha k`, :math:`\alpha \ge 1`;
        Python's ``round``, halves to even: 1.5 * 3 keeps 4), at least 1.
    n_units : int or None
        The code size ``H``, to check ``k`` at construction.
    """

    def __init__(self, k, alpha=1.0, n_units=None):
        self.k = _check_k(k)
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not np.isfinite(alpha) or alpha <= 0:
            raise ValueError(f"alpha must be a finite number > 0 (inference keeps round(alpha * k) units); "
                             f"got {alpha!r}")
        self.alpha = float(alpha)
        if n_units is not None:
            check_k_fits(self.k, check_positive_int(n_units, "n_units"))

    def n_kept(self, n_units, training):
        """Units kept per example: ``k`` in training, ``round(alpha * k)`` (capped at ``n_units``) at inference."""
        return self.k if training else min(n_units, max(1, int(round(self.alpha * self.k))))

    def forward(self, A, training=True):
        check_k_fits(self.k, A.shape[1])
        mask = _top_mask(A, self.n_kept(A.shape[1], training), axis=1)
        if training:
            self.mask = mask
        return A * mask

    def backward(self, dA):
        return dA * self.mask

    def __repr__(self):
        return f"KSparse(k={self.k}, alpha={self.alpha})"


class LifetimeWTA(Layer):
    r"""Lifetime winner-take-all (Makhzani & Frey 2015): each unit keeps its top ``sparsity`` of the minibatch.

    Forward, training pass, on ``A (N, H)`` (FC-WTA): for each unit (column) :math:`j`, the
    :math:`k = \lceil s N \rceil` largest activities over the N examples are kept, the others
    become 0 (exactly ``k`` per unit; ties: ``np.argpartition``'s choice). On feature maps
    ``A (N, C, H, W)`` (Conv-WTA, after :class:`SpatialWTA`): each example's map of channel
    :math:`c` is represented by its largest activity, and for each channel the ``k`` examples
    with the largest such winners keep their map whole; the other maps become 0.
    At inference the layer is the identity: the paper sparsifies in training only and encodes
    test data with the plain (ReLU) code.

    Backward: the gradient flows only through the activities kept.

    Parameters
    ----------
    sparsity : float in (0, 1]
        :math:`s`, the lifetime sparsity (the paper's FC-WTA: 5%).
    """

    def __init__(self, sparsity=0.05):
        self.sparsity = check_lifetime_sparsity(sparsity)

    def n_kept(self, n_examples):
        r""":math:`\lceil s N \rceil` (rounded to 9 decimals first, so 0.05 * 100 keeps 5, not 6)."""
        return max(1, int(math.ceil(round(self.sparsity * n_examples, 9))))

    def forward(self, A, training=True):
        if not training:
            return A
        k = self.n_kept(A.shape[0])
        if A.ndim == 2:
            self.mask = _top_mask(A, k, axis=0)
        else:  # (N, C, ...): rank each example's map by its largest activity, per channel
            winners = A.reshape(A.shape[0], A.shape[1], -1).max(axis=2)
            self.mask = _top_mask(winners, k, axis=0).reshape(A.shape[:2] + (1,) * (A.ndim - 2))
        return A * self.mask

    def backward(self, dA):
        return dA * self.mask

    def __repr__(self):
        return f"LifetimeWTA(sparsity={self.sparsity})"


class SpatialWTA(Layer):
    r"""Spatial winner-take-all of Conv-WTA (Makhzani & Frey 2015) on feature maps ``A (N, C, H, W)``.

    Training pass: in each example's map of each channel only the largest activity stays, all
    other positions become 0 (ties: the first maximum in C order, ``np.argmax``). Any trailing
    shape works (``(N, C, L)`` for sequences). Backward: the gradient flows only through the
    winners. At inference the layer is the identity: the paper uses the conv-WTA encoder's
    feature maps as they are for test data (no sparsity imposed).
    """

    def forward(self, A, training=True):
        if not training:
            return A
        if A.ndim < 3:
            raise ValueError(f"SpatialWTA needs feature maps (N, C, H, W) (or (N, C, L)); got shape {A.shape}")
        flat = A.reshape(A.shape[0], A.shape[1], -1)
        mask = np.zeros(flat.shape, dtype=bool)
        np.put_along_axis(mask, flat.argmax(axis=2)[..., None], True, axis=2)
        self.mask = mask.reshape(A.shape)
        return A * self.mask

    def backward(self, dA):
        return dA * self.mask
