r"""Side inputs: :class:`JoinCondition` joins a condition to the data flowing through a model.
"""
from __future__ import annotations

import numpy as np

from .._validation import check_positive_int
from .layer import Layer

__all__ = ['JoinCondition']


class JoinCondition(Layer):
    r"""Join a side input (a condition, e.g. a one-hot label) to the data flowing through the network.

    The condition is not computed by the network: the model hands it to the
    layer before each pass (``layer.condition = C``, or
    :meth:`numpy_ae.nn.sequential.Sequential.set_condition`, which reaches every
    ``JoinCondition`` of a model; the minibatch loop does that with the rows of
    each minibatch, see :func:`numpy_ae.train.loop.train_minibatch`'s ``side``).

    Forward, for ``X (N, D)`` and the condition ``C (N, n_conditions)``:

    .. math:: Y = [X \;\; C] \quad (N, D + n_{\text{conditions}}),

    so a following ``Dense(D + n_conditions, H)`` computes
    :math:`X W_x + C W_c + b`: with a one-hot ``C`` the label adds its own
    row of :math:`W_c` (a per-class bias). ``C`` is cast to ``X``'s dtype.

    Backward, for :math:`\delta = \partial J/\partial Y` of shape ``(N, D + n_conditions)``:
    :math:`\partial J/\partial X = \delta_{:, :D}`. ``C`` is data, not a
    parameter: its part of :math:`\delta` is dropped. No parameters, no penalty.

    Parameters
    ----------
    n_conditions : int >= 1
        Width of the condition (the number of classes for a one-hot label).

    Attributes
    ----------
    condition : ndarray (N, n_conditions) or None
        The side input of the next passes; a ValueError names a missing one, the
        wrong width, or a row count that differs from ``X``'s.
    """

    takes_condition = True  # Sequential.set_condition hands the side input to every layer that says so

    def __init__(self, n_conditions):
        self.n_conditions = check_positive_int(n_conditions, "n_conditions")
        self.condition = None

    def checked_condition(self, X):
        """The condition for a pass on ``X``, after checking it is set and has the right shape."""
        C = self.condition
        if C is None:
            raise ValueError(f"{self.name or 'JoinCondition'} has no condition: set layer.condition (or call "
                             f"Sequential.set_condition(C)) with an (N, {self.n_conditions}) array before the pass")
        if C.ndim != 2 or C.shape[1] != self.n_conditions or C.shape[0] != X.shape[0]:
            raise ValueError(f"condition must have shape ({X.shape[0]}, {self.n_conditions}): one row per row of "
                             f"X {X.shape}; got {C.shape}")
        return C

    def forward(self, X, training=True):
        C = self.checked_condition(X)
        self.n_in = X.shape[1]
        return np.concatenate([X, C.astype(X.dtype)], axis=1)

    def backward(self, dY):
        return dY[:, :self.n_in].copy()

    def __repr__(self):
        return f"JoinCondition({self.n_conditions})"
