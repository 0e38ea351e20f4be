r"""Checks of the layers on images and sequences (pooling, upsampling, reshaping, 1-D and 2-D convolutions
and their transposes) and of the convolutional autoencoders (whole, per pretraining phase, WTA, 1-D).
"""
from __future__ import annotations
import numpy as np
from ... import nn
from ...models.convolutional import ConvAutoencoder, forward_in_batches
from ...models.conv_wta import ConvWTAAutoencoder
from ...models.sequence import Conv1DAutoencoder
from ...models.stacked import PhaseView
from ...nn.losses import SquaredError
from ...nn.sequential import Sequential
from ..gradcheck import check_layer, check_model
from ..registry import register
from .common import D, EPS, N, distinct, frozen_noise, make_rng


# --------------------------------------------------------------------------
# Layers on images (numpy_ae.nn.spatial)
# --------------------------------------------------------------------------

def _register_spatial(name, make, shape, seed, cls):
    @register(f"layer_{name}", covers=(cls,))
    def _check():
        return check_layer(make(), distinct(shape, seed), random_state=seed, eps=EPS)


# (N, C, H, W): odd and non-square sizes, a batch of one, overlapping windows (stride < pool_size),
# windows with gaps (stride > pool_size) and trailing rows/columns that no window reaches
_register_spatial("maxpool2d", lambda: nn.MaxPool2D(2), (3, 2, 4, 6), 50, nn.MaxPool2D)
_register_spatial("maxpool2d_odd_floor", lambda: nn.MaxPool2D(2), (2, 3, 5, 7), 51, nn.MaxPool2D)
_register_spatial("maxpool2d_overlap_3s1", lambda: nn.MaxPool2D(3, stride=1), (2, 2, 5, 4), 52,
                  nn.MaxPool2D)
_register_spatial("maxpool2d_overlap_3s2_batch1", lambda: nn.MaxPool2D(3, stride=2), (1, 3, 7, 5), 53,
                  nn.MaxPool2D)
_register_spatial("maxpool2d_gaps_2s3", lambda: nn.MaxPool2D(2, stride=3), (2, 1, 5, 8), 54,
                  nn.MaxPool2D)
_register_spatial("upsample2d", lambda: nn.Upsample2D(2), (3, 2, 3, 5), 55, nn.Upsample2D)
_register_spatial("upsample2d_scale3_batch1", lambda: nn.Upsample2D(3), (1, 2, 3, 2), 56, nn.Upsample2D)
_register_spatial("flatten", nn.Flatten, (3, 2, 3, 5), 57, nn.Flatten)
_register_spatial("reshape", lambda: nn.Reshape((2, 3, 5)), (3, 30), 58, nn.Reshape)


@register("dense_reshape_maxpool_flatten", covers=(nn.Reshape, nn.MaxPool2D, nn.Upsample2D,
                                                   nn.Flatten))
def _spatial_model():
    r"""The image layers between Dense layers, one flat theta: Dense(5, 2*4*6) -> Tanh -> Reshape(2, 4, 6)
    -> MaxPool2D(3, stride=1) (overlapping) -> Upsample2D(2) -> Flatten -> Dense(2*4*8, 5), squared error.
    Random weights make ties in a window unlikely (none at this seed: the check would flag a kink)."""
    net = Sequential([nn.Dense(D, 48), nn.Tanh(), nn.Reshape((2, 4, 6)),
                      nn.MaxPool2D(3, stride=1), nn.Upsample2D(2), nn.Flatten(),
                      nn.Dense(2 * 4 * 8, D)], SquaredError(), weight_decay=1e-2, random_state=59)
    return check_model(net, make_rng(59).standard_normal((N, D)), eps=EPS)

# ---------------------------------------------------------------- convolutions
# Small images so each check takes milliseconds; sizes chosen so that every
# case has stride > 1 or padding, odd and non-square sizes, and one a batch of one.
# A convolution is linear in X and in (W, b), so the centred difference has no
# truncation error: only rounding (about 1e-16 |J| / eps) is left.

def _register_conv(name, make, x_shape, seed):
    layer_cls = type(make())

    @register(f"layer_{name}", covers=(layer_cls,))
    def _check():
        rng = make_rng(seed)
        return check_layer(make(), rng.standard_normal(x_shape), random_state=seed, eps=EPS)


_register_conv("conv2d_stride2_pad1", lambda: nn.Conv2D(2, 3, (3, 2), stride=2, padding=1), (2, 2, 7, 6), 50)
_register_conv("conv2d_stride_2x1_pad_0x2_batch1",
               lambda: nn.Conv2D(3, 2, (2, 3), stride=(2, 1), padding=(0, 2)), (1, 3, 5, 4), 51)
_register_conv("conv_transpose2d_stride2_pad1",
               lambda: nn.ConvTranspose2D(3, 2, (3, 2), stride=2, padding=1), (2, 3, 3, 4), 52)
_register_conv("conv_transpose2d_stride_1x3_batch1",
               lambda: nn.ConvTranspose2D(2, 3, (2, 3), stride=(1, 3), padding=(1, 0)), (1, 2, 3, 2), 53)
_register_conv("conv_transpose2d_output_padding_same",
               lambda: nn.ConvTranspose2D(2, 3, 3, stride=2, padding=1, output_padding=1), (2, 2, 3, 4), 58)
_register_conv("conv_transpose2d_output_padding_gt_padding",
               lambda: nn.ConvTranspose2D(2, 2, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2)),
               (1, 2, 3, 2), 59)


@register("conv_autoencoder")
def _conv_autoencoder():
    """A small ConvAutoencoder (float64, 5x6 images of 2 channels): Conv-ReLU-MaxPool twice, two stride-2
    transposed convolutions (odd and even sizes: padding/output_padding per axis), cross-entropy from logits.
    Inputs are drawn so no pooling window holds a tie."""
    ae = ConvAutoencoder(image_shape=(2, 5, 6), filters=(3, 2), activation="elu", weight_decay=1e-2,
                         random_state=60).initialize(60)
    X = make_rng(60).uniform(0.05, 0.95, (3, 60))
    return check_model(ae.network_, X, eps=EPS)


_register_conv("conv1d_stride2_pad2", lambda: nn.Conv1D(2, 3, 3, stride=2, padding=2), (2, 2, 9), 54)
_register_conv("conv1d_batch1", lambda: nn.Conv1D(3, 2, 4, stride=3), (1, 3, 11), 55)
_register_conv("conv_transpose1d_stride3_pad1",
               lambda: nn.ConvTranspose1D(3, 2, 4, stride=3, padding=1), (2, 3, 5), 56)
_register_conv("conv_transpose1d_batch1", lambda: nn.ConvTranspose1D(2, 2, 3, stride=2), (1, 2, 4), 57)


@register("conv1d_autoencoder")
def _conv1d_autoencoder():
    r"""A small Conv1DAutoencoder (windows of 11 steps, 2 channels): two stride-2 Conv1D + tanh (dropout
    between them, mask frozen), transposed convolutions back (11 -> 6 -> 3 -> 6 -> 11: odd and even
    lengths, padding and output_padding per stage), a last stride-1 transposed convolution, MSE, weight decay."""
    ae = Conv1DAutoencoder(filters=(3, 2), kernel_size=3, dropout=0.25, activation="tanh", weight_decay=1e-2,
                           random_state=72).initialize(22)
    ae.series_shape_ = (2, 11)
    ae.initialize(22)  # rebuilt as 2 channels of 11 steps
    X = make_rng(72).standard_normal((4, 22))
    return check_model(frozen_noise(ae.network_), X, eps=EPS)


# ---- conv autoencoder phases
# Greedy layer-wise pretraining of ConvAutoencoder (fit_in_phases): each phase's objective on its own
# path (encoder blocks 1..k, decoder block k), with weight decay on the path's kernels only; the
# fine-tuning phase is the whole mirror network. One channel of 8x9 images, three poolings
# (8x9 -> 4x4 -> 2x2 -> 1x1: odd and even sizes, so the transposed convolutions use per-axis padding
# and output padding). Inputs are continuous random numbers: no pooling window holds a tie.


def _conv_phase_model(seed, activation, image_shape=(1, 8, 9), filters=(3, 2, 2)):
    D = int(np.prod(image_shape))
    ae = ConvAutoencoder(image_shape=image_shape, filters=filters, output_conv=False, activation=activation,
                         weight_decay=0.1, random_state=seed).initialize(D)
    return ae, make_rng(seed).uniform(0.05, 0.95, (3, D))


def _register_conv_phase(k, activation, seed):
    r"""Phase ``k`` of :meth:`~numpy_ae.models.convolutional.ConvAutoencoder.fit_in_phases`: the path's loss
    (cross-entropy against ``X`` for k = 1, squared error summed over features against block k-1's
    output after),
    plus :math:`\frac{\lambda}{2}\sum W^2` over the kernels on the path (:math:`\lambda = 0.1`)."""
    @register(f"conv_autoencoder_phase{k}_{activation}")
    def _check():
        ae, X = _conv_phase_model(seed, activation)
        net = ae.network_
        path, _, target_layers = ae._phase_path(k)
        T = None if k == 1 else forward_in_batches(net, X, target_layers)
        view = PhaseView(net, path, ae._phase_loss(k))
        return check_model(view, X, T, eps=EPS)


for _k in (1, 2, 3):
    _register_conv_phase(_k, "selu", 70 + _k)


@register("conv_autoencoder_mirror_selu", covers=(nn.SELU,))
def _conv_autoencoder_mirror():
    """The fine-tuning phase: the whole ConvAutoencoder with output_conv=False (the decoder ends in a
    stride-2 transposed convolution to the image's channels, as Hands-On ML's), SELU, weight decay;
    2 channels of 4x5 images, two poolings (4x5 -> 2x2 -> 1x1)."""
    ae, X = _conv_phase_model(75, "selu", image_shape=(2, 4, 5), filters=(3, 2))
    return check_model(ae.network_, X, eps=EPS)


# ---- convolutional winner-take-all autoencoder
@register("conv_wta_autoencoder")
def _conv_wta_autoencoder():
    """ConvWTAAutoencoder (float64, 5x6 images): Conv-ReLU, spatial then lifetime WTA (half the batch), a linear
    convolution back, cross-entropy, weight decay. Uniform inputs give distinct activities, so no selection
    changes within the step."""
    ae = ConvWTAAutoencoder(image_shape=(1, 5, 6), filters=(3,), kernel_size=3, lifetime_sparsity=0.5,
                            weight_decay=1e-2, random_state=88).initialize(30)
    X = make_rng(88).uniform(0.05, 0.95, (4, 30))
    return check_model(ae.network_, X, eps=EPS)
