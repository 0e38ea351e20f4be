"""Bad input to the convolutional autoencoder and to the layers it is built from.

The rule: a ValueError that names the argument, the rule it breaks and the value it got. The layers'
own checks (numpy_ae.nn.conv, numpy_ae.nn.spatial) are tested here read-only; each case below was run and its
message read, and any layer that lacked a check would be marked ``xfail(strict=True)`` (none does).
"""
import numpy as np
import pytest

from numpy_ae import ConvAutoencoder
from numpy_ae.nn.conv import Conv1D, Conv2D, ConvTranspose1D, ConvTranspose2D
from numpy_ae.nn.spatial import MaxPool2D, Upsample2D


def _bound(layer):
    """A conv layer with its parameters bound (normally Sequential does that), so that forward runs."""
    shapes = layer.param_shapes()
    layer.bind({k: np.zeros(s) for k, s in shapes.items()}, {k: np.zeros(s) for k, s in shapes.items()})
    return layer


# ------------------------------------------------------------------ layers: wrong number of dimensions

@pytest.mark.parametrize("make, X, match", [
    (lambda: Conv2D(3, 2, 3), np.zeros((2, 3, 4)),
     r"X must be a 4-D array \(N, C, H, W\) for Conv2D; got shape \(2, 3, 4\)"),
    (lambda: ConvTranspose2D(3, 2, 3), np.zeros((2, 3, 4, 4, 1)),
     r"X must be a 4-D array \(N, C, H, W\) for ConvTranspose2D; got shape \(2, 3, 4, 4, 1\)"),
    (lambda: Conv1D(3, 2, 3), np.zeros((2, 3, 4, 4)), r"X must be a 3-D array \(N, C, L\) for Conv1D; got shape "
                                                       r"\(2, 3, 4, 4\)"),
    (lambda: ConvTranspose1D(3, 2, 3), np.zeros((2, 3)), r"X must be a 3-D array \(N, C, L\) for ConvTranspose1D"),
    (lambda: MaxPool2D(2), np.zeros((2, 3, 4)), r"MaxPool2D: X must be a 4-D array \(N, C, H, W\) .*; got shape "
                                                r"\(2, 3, 4\)"),
    (lambda: Upsample2D(2), np.zeros((2, 4, 4)), r"Upsample2D: X must be a 4-D array \(N, C, H, W\) .*; got shape "
                                                 r"\(2, 4, 4\)"),
])
def test_layers_wrong_number_of_dimensions(make, X, match):
    with pytest.raises(ValueError, match=match):
        _bound(make()).forward(X)


# ------------------------------------------------------------------ layers: channels

@pytest.mark.parametrize("make, X", [
    (lambda: Conv2D(3, 2, 3), np.zeros((2, 2, 5, 5))),
    (lambda: ConvTranspose2D(3, 2, 3), np.zeros((2, 4, 5, 5))),
    (lambda: Conv1D(3, 2, 3), np.zeros((2, 1, 5))),
])
def test_layers_channels_that_do_not_match(make, X):
    with pytest.raises(ValueError, match=rf"X must have in_channels=3 channels \(axis 1\); got X.shape "
                                         rf"\({X.shape[0]}, {X.shape[1]}, .*\) with {X.shape[1]}"):
        _bound(make()).forward(X)


# ------------------------------------------------------------------ layers: kernel larger than the padded input

@pytest.mark.parametrize("make, X, match", [
    (lambda: Conv2D(1, 1, 5), np.zeros((1, 1, 4, 6)),
     r"kernel_size must not exceed the padded input: kernel_size\[0\] = 5 > 4 \+ 2\*padding\[0\] = 4"),
    (lambda: Conv2D(1, 1, (3, 7), padding=(0, 1)), np.zeros((1, 1, 4, 4)),
     r"kernel_size must not exceed the padded input: kernel_size\[1\] = 7 > 4 \+ 2\*padding\[1\] = 6"),
    (lambda: Conv1D(1, 1, 5, padding=1), np.zeros((1, 1, 2)),
     r"kernel_size must not exceed the padded input: kernel_size\[0\] = 5 > 2 \+ 2\*padding\[0\] = 4"),
    (lambda: MaxPool2D(3), np.zeros((1, 1, 2, 5)),
     r"MaxPool2D: pool_size must be <= the input's height and width \(H=2, W=5\); got 3"),
    # a transposed convolution has no such limit; its rule is a non-empty output
    (lambda: ConvTranspose2D(1, 1, 3, padding=2), np.zeros((1, 1, 1, 1)),
     r"padding must leave an output of at least one pixel: .* = -1 on axis 0"),
])
def test_layers_kernel_larger_than_the_padded_input(make, X, match):
    with pytest.raises(ValueError, match=match):
        _bound(make()).forward(X)


# ------------------------------------------------------------------ layers: stride not a positive integer

@pytest.mark.parametrize("stride", [0, -1, 1.5, 2.0, True, "2", (1, 0), (1, 2, 3)])
@pytest.mark.parametrize("cls", [Conv2D, ConvTranspose2D])
def test_layers_stride_must_be_a_positive_integer(cls, stride):
    with pytest.raises(ValueError, match=rf"stride must be a positive integer or a pair of them; got "
                                         rf"{stride!r}".replace("(", r"\(").replace(")", r"\)")):
        cls(2, 2, 3, stride=stride)


@pytest.mark.parametrize("stride", [0, 1.5, (2, 2)])
def test_1d_layers_stride(stride):
    for cls in (Conv1D, ConvTranspose1D):
        with pytest.raises(ValueError, match=r"stride must be a positive integer; got "
                                             + repr(stride).replace("(", r"\(").replace(")", r"\)")):
            cls(2, 2, 3, stride=stride)


@pytest.mark.parametrize("make, match", [
    (lambda: MaxPool2D(2, stride=0), r"stride must be an integer >= 1; got 0"),
    (lambda: MaxPool2D(2, stride=1.0), r"stride must be an integer >= 1; got 1.0"),
    (lambda: MaxPool2D(0), r"pool_size must be an integer >= 1; got 0"),
    (lambda: Upsample2D(2.0), r"scale must be an integer >= 1; got 2.0"),
    (lambda: Conv2D(2, 2, 0), r"kernel_size must be a positive integer or a pair of them; got 0"),
    (lambda: Conv2D(2, 2, 3, padding=-1), r"padding must be an integer >= 0 or a pair of them; got -1"),
    (lambda: ConvTranspose2D(2, 2, 3, stride=2, output_padding=2),
     r"output_padding must be smaller than stride \(each axis\): output_padding=2, stride=\(2, 2\)"),
])
def test_layers_other_geometry_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ------------------------------------------------------------------ the estimator

@pytest.mark.parametrize("X, match", [
    (np.zeros(5), r"X must be a 2-D array .*; got a 1-D array of shape \(5,\)"),
    (np.zeros((2, 1, 28, 28, 1)), r"X must have 2 \(N, D\), 3 \(N, H, W\) or 4 \(N, C, H, W\) dimensions; got "
                                  r"shape \(2, 1, 28, 28, 1\)"),
    (np.zeros((2, 3, 28, 28)), r"X's channels must match the model's image shape \(C, H, W\) = \(1, 28, 28\); "
                               r"got X.shape \(2, 3, 28, 28\), read as \(3, 28, 28\)"),
    (np.zeros((2, 32, 32)), r"X's image size must match the model's image shape \(C, H, W\) = \(1, 28, 28\); "
                            r"got X.shape \(2, 32, 32\)"),
    (np.zeros((2, 1024)), r"image_shape must hold D = C\*H\*W values per example: image_shape=\(1, 28, 28\) "
                          r"holds 784, but X has D = 1024 features"),
])
@pytest.mark.parametrize("preset", ["hands_on_ml", "keras_denoiser"])
def test_presets_reject_data_of_another_shape(preset, X, match):
    with pytest.raises(ValueError, match=match):
        getattr(ConvAutoencoder, preset)(epochs=1).fit(X)


def test_fitted_model_rejects_another_image_shape():
    X = np.random.default_rng(0).uniform(0, 1, (4, 2, 8, 8))
    ae = ConvAutoencoder(filters=(2,), output_conv=False, epochs=1, random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"X's channels must match the model's image shape \(C, H, W\) = "
                                         r"\(2, 8, 8\); got X.shape \(4, 1, 8, 8\)"):
        ae.transform(X[:, :1])
    with pytest.raises(ValueError, match=r"X's image size must match .* \(2, 8, 8\); got X.shape \(4, 2, 8, 6\)"):
        ae.reconstruct(X[..., :6])
    with pytest.raises(ValueError, match=r"X's channels must match .* \(2, 8, 8\); got X.shape \(4, 8, 8\), "
                                         r"read as \(1, 8, 8\)"):
        ae.transform(X[:, 0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(kernel_size=0), r"kernel_size must be an odd integer >= 1 .*; got 0"),
    (dict(kernel_size=-3), r"kernel_size must be an odd integer >= 1 .*; got -3"),
    (dict(kernel_size=3.0), r"kernel_size must be an odd integer >= 1 .*; got 3.0"),
    (dict(kernel_size=True), r"kernel_size must be an odd integer >= 1 .*; got True"),
    (dict(kernel_size=(3, 3)), r"kernel_size must be an odd integer >= 1 .*; got \(3, 3\)"),
    (dict(output_conv="no"), r"output_conv must be True .* or False .*; got 'no'"),
    (dict(output_conv=None), r"output_conv must be True .* or False .*; got None"),
    (dict(activation="gelu"), r"activation must be one of \[.*'selu'.*\]; got 'gelu'"),
    (dict(image_shape=(1, 0, 28)), r"image_shape must be None, \(H, W\) or \(C, H, W\) of integers >= 1; "
                                   r"got \(1, 0, 28\)"),
])
def test_bad_hyperparameters_of_the_preset_fail_at_construction(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ConvAutoencoder.hands_on_ml(**kwargs)


def test_no_stride_or_kernel_rule_is_left_to_the_layers():
    """The estimator has no stride hyperparameter (pooling is 2x2 at stride 2; the transposed convolutions'
    stride 2 and padding are derived from the sizes), and its convolutions pad k // 2 ("same"), so the padded
    input H + 2 (k // 2) = H + k - 1 is never smaller than the kernel: a kernel larger than the image is
    legal and the image comes back at its size."""
    X = np.random.default_rng(0).normal(size=(6, 3, 3))
    ae = ConvAutoencoder(filters=(2,), kernel_size=7, pool=None, loss="mse", epochs=1, random_state=0).fit(X)
    assert ae.reconstruct(X).shape == X.shape and ae.code_shape_ == (2, 3, 3)
    mirror = ConvAutoencoder(filters=(2, 3), kernel_size=5, output_conv=False, loss="mse", epochs=1,
                             random_state=0).fit(np.random.default_rng(1).normal(size=(6, 2, 5, 7)))
    assert mirror.reconstruct(np.zeros((1, 2, 5, 7))).shape == (1, 2, 5, 7)  # 5x7 -> 2x3 -> 1x1 and back
