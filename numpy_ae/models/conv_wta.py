r"""The convolutional winner-take-all autoencoder: a :class:`~numpy_ae.models.convolutional.ConvAutoencoder`
whose code layers are spatial and lifetime winner-take-all selections (Makhzani & Frey, 2015).
"""
from __future__ import annotations
from .training import _set_params_from_locals
from .convolutional import ConvAutoencoder
from ..nn.selection import LifetimeWTA, SpatialWTA, check_lifetime_sparsity

__all__ = ['ConvWTAAutoencoder']


class ConvWTAAutoencoder(ConvAutoencoder):
    r"""The convolutional winner-take-all autoencoder of Makhzani & Frey (2015), "Winner-Take-All Autoencoders".

    A :class:`ConvAutoencoder` without pooling whose code feature maps
    ``(N, f_L, H, W)`` pass, in training only, through two parameter-free layers
    returned by :meth:`_code_layers`:

    1. spatial sparsity (:class:`~numpy_ae.nn.selection.SpatialWTA`): in each
       example's map of each channel only the largest activity stays;
    2. lifetime sparsity (:class:`~numpy_ae.nn.selection.LifetimeWTA`): for each
       channel, only the :math:`\lceil sN \rceil` examples of the minibatch with
       the largest winners keep their map.

    The decoder mirrors the encoder with stride-1 "same" convolutions, the last
    one linear (with one encoder layer it is a single convolution from the
    sparse maps to the image: the paper's deconvolution), so it learns to draw
    each winner's filter-shaped stroke; the gradient flows through the winners
    only. At inference (``transform``) both layers are the identity:
    the paper encodes test images with the dense ReLU feature maps, which is
    also what ``reconstruct`` decodes (a decoder trained on sparse maps, so its
    reconstructions of dense maps are not the point: the features are).

    Parameters
    ----------
    lifetime_sparsity : float in (0, 1]
        :math:`s`; default 0.05, the FC-WTA rate of the paper (its Conv-WTA
        experiments vary it).
    image_shape, filters, kernel_size, activation, loss, weight_decay, training... :
        As :class:`ConvAutoencoder`; ``pool`` is fixed to None (the paper's
        encoder has no pooling) and ``output_conv`` to False (class
        attributes, not hyperparameters). Defaults: one layer of 64 ReLU
        filters of 5x5, cross-entropy, Adam.
    """

    def __init__(self, image_shape=None, *, filters=(64,), kernel_size=5, lifetime_sparsity=0.05, activation="relu",
                 loss="cross_entropy", weight_decay=0.0, method="adam", max_iter=200, gtol=1e-5, epochs=10,
                 batch_size=128, learning_rate=None, momentum=0.9, nesterov=False, patience=None, verbose=0,
                 warm_start=False, dtype="float64", random_state=None, fast=True):
        _set_params_from_locals(self, locals())
        self._validate_params()

    # the paper's layout, fixed: read by ConvAutoencoder's builder, not hyperparameters
    pool = None
    decoder = "transpose"
    output_conv = False

    def _validate_params(self):
        check_lifetime_sparsity(self.lifetime_sparsity, "lifetime_sparsity")
        super()._validate_params()

    def _code_layers(self, code_shape):
        return [SpatialWTA(), LifetimeWTA(self.lifetime_sparsity)]
