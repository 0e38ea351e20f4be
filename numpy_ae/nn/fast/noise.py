r"""Fast twin of :mod:`numpy_ae.nn.noise`'s :class:`~numpy_ae.nn.noise.Dropout`: the mask scaled by
:math:`1/(1-r)` once per draw, in the input's dtype, and both passes one multiplication into a buffer.
The corruptions' reference forms are a single operation each already."""
from __future__ import annotations

import numpy as np

from .. import noise
from .workspace import buffer

__all__ = ["Dropout"]


class Dropout(noise.Dropout):
    """:class:`numpy_ae.nn.Dropout`, fast."""

    def forward(self, X, training=True):
        self.active = training and self.rate > 0
        if not self.active:
            return X
        keep, = self.draw_noise(X.shape)
        self.scaled_mask = np.multiply(keep, 1.0 / (1.0 - self.rate), out=buffer(self, "mask", X.shape, X.dtype))
        return np.multiply(X, self.scaled_mask, out=buffer(self, "Y", X.shape, X.dtype))

    def backward(self, dY):
        if not self.active:
            return dY
        return np.multiply(dY, self.scaled_mask, out=buffer(self, "dX", dY.shape, dY.dtype))
