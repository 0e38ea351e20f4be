r"""Checks of the losses, each against its ``backward()`` with respect to ``Y``.
"""
from __future__ import annotations
from ...nn.losses import BinaryCrossEntropy, GaussianNLL, MeanSquaredError, SoftmaxCrossEntropy, SquaredError
from ..gradcheck import check_loss
from ..registry import register
from .common import D, EPS, N, make_rng, register_loss


register_loss("squared_error", SquaredError)
register_loss("mean_squared_error", MeanSquaredError)
register_loss("cross_entropy_logits", BinaryCrossEntropy, targets_in_unit=True, logit_scale=3.0)
register_loss("gaussian_nll", lambda: GaussianNLL(variance=0.3), cls=GaussianNLL)


@register("loss_softmax_cross_entropy", covers=(SoftmaxCrossEntropy,))
def _softmax_loss():
    rng = make_rng(3)
    return check_loss(SoftmaxCrossEntropy(), 3.0 * rng.standard_normal((N, D)), rng.integers(0, D, N), eps=EPS)
