r"""Affine layers: :class:`Dense` and the tied decoder :class:`TiedDense`.

Rows are examples: ``X`` has shape ``(N, D_in)``, and a dense layer computes
:math:`Z = X W + b` with ``W`` of shape ``(D_in, D_out)``. UFLDL writes examples
as columns, :math:`z^{(2)} = W^{(1)} x + b^{(1)}`, so UFLDL's :math:`W^{(1)}`
(shape ``(D_out, D_in)``) is our ``W.T``.
"""
from __future__ import annotations

import numpy as np

from .._validation import check_positive_int
from .layer import Layer, init_weights

__all__ = ["Dense", "TiedDense"]


class Dense(Layer):
    r"""Affine layer :math:`Z = X W + b`.

    Shapes: ``X (N, D_in)``, ``W (D_in, D_out)``, ``b (D_out,)``, ``Z (N, D_out)``.
    UFLDL's :math:`W^{(1)}` is our ``W.T``.

    Backward, for :math:`\delta = \partial J/\partial Z` of shape ``(N, D_out)``:

    .. math::
        \partial J/\partial W \mathrel{+}= X^\top \delta, \qquad
        \partial J/\partial b \mathrel{+}= \textstyle\sum_n \delta_n, \qquad
        \partial J/\partial X = \delta W^\top .

    Parameters
    ----------
    n_in, n_out : int
        ``D_in`` and ``D_out``.
    init : {"ufldl", "glorot", "he"}
        How :meth:`init_params` draws ``W`` (:func:`~numpy_ae.nn.init_weights`); ``b`` starts at 0.
    """

    rows_independent = True  # see numpy_ae.train.parallel

    def __init__(self, n_in, n_out, init="ufldl"):
        self.n_in = check_positive_int(n_in, "n_in")
        self.n_out = check_positive_int(n_out, "n_out")
        init_weights((1, 1), init, np.random.default_rng(0))  # validates `init`
        self.init = init

    def forward(self, X, training=True):
        self.X = X
        return X @ self.W + self.b

    def backward(self, dZ):
        self.dW += self.X.T @ dZ
        self.db += dZ.sum(axis=0)
        return dZ @ self.W.T

    def param_shapes(self):
        return {"W": (self.n_in, self.n_out), "b": (self.n_out,)}

    def decayed_params(self):
        return ("W",)

    def init_params(self, rng):
        self.W[...] = init_weights(self.W.shape, self.init, rng)
        self.b[...] = 0.0

    def __repr__(self):
        return f"Dense({self.n_in}, {self.n_out}, init={self.init!r})"


class TiedDense(Layer):
    r"""Decoder layer that reuses an encoder's weights, transposed: :math:`Z = X W_{enc}^\top + b`.

    Shapes: ``X (N, H)``, ``source.W (D, H)``, ``b (D,)``, ``Z (N, D)``.
    Only the bias belongs to this layer. The weight gradient of this use,
    :math:`(X^\top \delta)^\top = \delta^\top X`, is ADDED into ``source.dW``,
    where the encoder adds its own share: the shared matrix gets the sum.

    .. math::
        \partial J/\partial W_{enc} \mathrel{+}= \delta^\top X, \qquad
        \partial J/\partial b \mathrel{+}= \textstyle\sum_n \delta_n, \qquad
        \partial J/\partial X = \delta W_{enc} .
    """

    rows_independent = True  # see numpy_ae.train.parallel

    def __init__(self, source):
        if not isinstance(source, Dense):
            raise ValueError(f"source must be a Dense layer to tie to; got {type(source).__name__}")
        self.source = source

    def param_shapes(self):
        return {"b": (self.source.n_in,)}

    def init_params(self, rng):
        self.b[...] = 0.0

    def forward(self, X, training=True):
        self.X = X
        return X @ self.source.W.T + self.b

    def backward(self, dZ):
        self.source.dW += dZ.T @ self.X
        self.db += dZ.sum(axis=0)
        return dZ @ self.source.W

    def __repr__(self):
        return f"TiedDense(source={self.source.name or self.source!r})"
