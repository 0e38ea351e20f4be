"""ConvAutoencoder: shapes through the network, the Keras preset, training, persistence, bad input, float32."""
import numpy as np
import pytest

from numpy_ae import ConvAutoencoder, load
from numpy_ae.nn.conv import Conv2D, ConvTranspose2D
from numpy_ae.nn.fast import reference_class
from numpy_ae.nn.spatial import Flatten, MaxPool2D, Reshape, Upsample2D


def _squares(n, seed, size=8):
    """``(n, size, size)`` images in [0.05, 0.95]: a 3x3 bright square at a random place on a dark ground."""
    rng = np.random.default_rng(seed)
    X = np.full((n, size, size), 0.05)
    for i in range(n):
        r, c = rng.integers(0, size - 2, 2)
        X[i, r:r + 3, c:c + 3] = 0.95
    return X


def _shapes(ae, X):
    """The shape after every layer of the fitted network, for a batch X of flat rows."""
    out = []
    for layer in ae.network_.layers:
        X = layer.forward(X, training=False)
        out.append(X.shape[1:])
    return out


def test_keras_denoiser_has_28353_parameters_and_the_keras_shapes():
    ae = ConvAutoencoder.keras_denoiser().initialize(784)
    # 320 + 9,248 (conv 32) + 2 x 9,248 (transposed conv 32) + 289 (conv 1) = 28,353, as Keras' summary
    assert ae.n_params_ == ae.theta.size == 28_353
    assert [reference_class(type(la)) for la in ae.network_.layers if la.param_shapes()] == [Conv2D, Conv2D, ConvTranspose2D,
                                                                             ConvTranspose2D, Conv2D]
    shapes = _shapes(ae, np.zeros((2, 784)))
    assert shapes == [(1, 28, 28), (32, 28, 28), (32, 28, 28), (32, 14, 14), (32, 14, 14), (32, 14, 14),
                      (32, 7, 7), (32 * 49,), (32, 7, 7), (32, 14, 14), (32, 14, 14), (32, 28, 28), (32, 28, 28),
                      (1, 28, 28), (784,)]
    convt = [la for la in ae.network_.layers if isinstance(la, ConvTranspose2D)]
    assert all(la.stride == (2, 2) and la.padding == (1, 1) and la.output_padding == (1, 1) for la in convt)
    assert ae.loss == "cross_entropy" and ae.method == "adam"
    assert ConvAutoencoder.keras_denoiser(epochs=3).epochs == 3


@pytest.mark.parametrize("image_shape, decoder", [((3, 7, 9), "transpose"), ((2, 5, 6), "transpose"),
                                                  ((1, 8, 12), "upsample")])
def test_shapes_through_the_network_come_back_to_the_image(image_shape, decoder):
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (4,) + image_shape)
    ae = ConvAutoencoder(filters=(3, 2), decoder=decoder, epochs=1, random_state=0).fit(X)
    C, H, W = image_shape
    assert ae.image_shape_ == image_shape and ae.code_shape_ == (2, H // 4, W // 4)
    shapes = _shapes(ae, X.reshape(4, -1))
    assert shapes[-1] == (C * H * W,) and shapes[-2] == image_shape and shapes[0] == image_shape
    assert ae.transform(X).shape == (4, 2 * (H // 4) * (W // 4))
    assert ae.reconstruct(X).shape == X.shape
    assert ae.inverse_transform(ae.transform(X)).shape == X.shape
    if decoder == "upsample":
        assert any(isinstance(la, Upsample2D) for la in ae.decoder_layers)
    assert isinstance(ae.network_.layers[0], Reshape) and isinstance(ae.network_.layers[-1], Flatten)
    assert sum(isinstance(la, MaxPool2D) for la in ae.encoder_layers) == 2


def test_input_layouts():
    X3 = _squares(6, 0)
    ae = ConvAutoencoder(filters=(2,), epochs=1, random_state=0).fit(X3)
    assert ae.image_shape_ == (1, 8, 8) and ae.input_ndim_ == 3
    codes = ae.transform(X3)
    # the same images as (N, 1, H, W) or flat rows give the same codes; reconstruct keeps each layout
    np.testing.assert_array_equal(ae.transform(X3[:, None]), codes)
    np.testing.assert_array_equal(ae.transform(X3.reshape(6, -1)), codes)
    assert ae.reconstruct(X3[:, None]).shape == (6, 1, 8, 8)
    assert ae.reconstruct(X3.reshape(6, -1)).shape == (6, 64)
    assert ae.inverse_transform(codes).shape == (6, 8, 8)  # the layout fit saw
    flat = ConvAutoencoder(image_shape=(8, 8), filters=(2,), epochs=1, random_state=0).fit(X3.reshape(6, -1))
    assert flat.input_ndim_ == 2 and flat.inverse_transform(flat.transform(X3)).shape == (6, 64)
    # flat input without image_shape is a one-row image: fine without pooling
    one_row = ConvAutoencoder(filters=(2,), pool=None, loss="mse", epochs=1, random_state=0).fit(
        np.random.default_rng(1).normal(size=(10, 5)))
    assert one_row.image_shape_ == (1, 1, 5) and one_row.transform(np.zeros((2, 5))).shape == (2, 10)


def test_short_training_reduces_the_loss_clearly():
    """128 8x8 images of a 3x3 square at a random place. The best prediction that ignores the input is the
    mean image (cross-entropy is minimised by the mean): it costs about 28.9 nats per image; the entropy of the
    images themselves (the floor) is about 12.7. 30 Adam epochs (< 2 s) must get below 60% of the mean-image
    cost, i.e. the 2x2 code carries where the square is (measured: 38.8 before, 13.3 after)."""
    X = _squares(128, 0)
    params = dict(image_shape=(8, 8), filters=(8, 8), epochs=30, batch_size=16, learning_rate=1e-2, random_state=0)
    before = -ConvAutoencoder(**params).initialize(64).score(X)
    ae = ConvAutoencoder(**params).fit(X)
    after = -ae.score(X)
    m = X.mean(axis=0)
    mean_image = -np.mean(np.sum(X * np.log(m) + (1 - X) * np.log(1 - m), axis=(1, 2)))
    assert after < 0.6 * mean_image < before
    assert ae.history_["loss"][-1] < 0.5 * ae.history_["loss"][0]
    # held-out images of the same kind are reconstructed as well: it learned squares, not the training set
    assert -ae.score(_squares(64, 1)) < 0.6 * mean_image


@pytest.mark.parametrize("decoder", ["transpose", "upsample"])
def test_save_load_round_trip(tmp_path, decoder):
    X = _squares(10, 2)[:, None]
    ae = ConvAutoencoder(filters=(3, 2), decoder=decoder, loss="mse", epochs=2, random_state=0).fit(X)
    back = load(ae.save(tmp_path / "convae.npz"))
    assert type(back) is ConvAutoencoder and repr(back) == repr(ae)
    assert back.image_shape_ == (1, 8, 8) and back.code_shape_ == ae.code_shape_ and back.input_ndim_ == 4
    np.testing.assert_array_equal(back.theta, ae.theta)
    np.testing.assert_array_equal(back.transform(X), ae.transform(X))
    np.testing.assert_array_equal(back.reconstruct(X), ae.reconstruct(X))
    np.testing.assert_array_equal(back.inverse_transform(ae.transform(X)), ae.inverse_transform(ae.transform(X)))


def test_float32_works():
    X = _squares(32, 3).astype(np.float32)
    ae = ConvAutoencoder(filters=(4,), epochs=3, batch_size=8, learning_rate=1e-2, dtype="float32",
                         random_state=0).fit(X)
    assert ae.theta.dtype == np.float32
    assert ae.transform(X).dtype == np.float32 and ae.reconstruct(X).dtype == np.float32
    assert np.isfinite(ae.cost_) and ae.history_["loss"][-1] < ae.history_["loss"][0]
    ae64 = ConvAutoencoder(filters=(4,), epochs=3, batch_size=8, learning_rate=1e-2, random_state=0).fit(
        X.astype(np.float64))
    np.testing.assert_allclose(ae.reconstruct(X), ae64.reconstruct(X), atol=1e-3)


@pytest.mark.parametrize("kwargs, X, match", [
    (dict(), np.zeros((2, 3, 4, 4, 4)), r"X must have 2 \(N, D\), 3 \(N, H, W\) or 4 \(N, C, H, W\) dimensions; "
                                         r"got shape \(2, 3, 4, 4, 4\)"),
    (dict(image_shape=(2, 4, 4)), np.zeros((2, 3, 4, 4)), r"X's channels must match .* \(2, 4, 4\); got X.shape "
                                                           r"\(2, 3, 4, 4\)"),
    (dict(image_shape=(4, 4)), np.zeros((2, 5, 5)), r"X's image size must match .* \(1, 4, 4\)"),
    (dict(image_shape=(3, 4)), np.zeros((2, 13)), r"image_shape must hold D = C\*H\*W values per example: "
                                                   r"image_shape=\(3, 4\) holds 12, but X has D = 13"),
    (dict(filters=(2, 2, 2)), np.zeros((2, 6, 9)), r"too small for the pools: 3 poolings of 2 need H and W >= "
                                                    r"2\*\*3 = 8; got image shape \(1, 6, 9\)"),
    (dict(), np.zeros((2, 10)), r"too small for the pools.*\(1, 1, 10\)"),
    (dict(decoder="upsample"), np.zeros((2, 6, 10)), r"decoder='upsample' needs H and W divisible by 2\*\*2 = 4"),
    (dict(), np.full((2, 4, 4), 2.0), r"must lie in \[0, 1\]"),
])
def test_bad_input(kwargs, X, match):
    with pytest.raises(ValueError, match=match):
        ConvAutoencoder(epochs=1, **kwargs).fit(X)


def test_bad_input_after_fit():
    ae = ConvAutoencoder(filters=(2,), epochs=1, random_state=0).fit(_squares(4, 0)[:, None])
    with pytest.raises(ValueError, match=r"X's channels must match the model's image shape \(C, H, W\) = "
                                         r"\(1, 8, 8\); got X.shape \(2, 3, 8, 8\)"):
        ae.transform(np.zeros((2, 3, 8, 8)))
    with pytest.raises(ValueError, match=r"X's image size must match"):
        ae.transform(np.zeros((2, 8, 6)))
    with pytest.raises(ValueError, match=r"63 features"):
        ae.transform(np.zeros((2, 63)))
    with pytest.raises(ValueError, match=r"32 features"):
        ae.inverse_transform(np.zeros((2, 31)))


@pytest.mark.parametrize("kwargs, match", [
    (dict(image_shape=(0, 4)), r"image_shape must be None, \(H, W\) or \(C, H, W\) of integers >= 1; got \(0, 4\)"),
    (dict(image_shape=(1, 2, 3, 4)), r"image_shape must be .*; got \(1, 2, 3, 4\)"),
    (dict(filters=()), r"filters must be a non-empty tuple of integers >= 1; got \(\)"),
    (dict(filters=(4, 0)), r"filters must be .*; got \(4, 0\)"),
    (dict(kernel_size=4), r"kernel_size must be an odd integer >= 1 .*; got 4"),
    (dict(kernel_size=1), r"kernel_size must be >= 3 for decoder='transpose' with pooling"),
    (dict(pool="avg"), r"pool must be one of \['max', None\]; got 'avg'"),
    (dict(decoder="dense"), r"decoder must be one of \['transpose', 'upsample'\]; got 'dense'"),
    (dict(loss="l1"), r"loss must be one of \['cross_entropy', 'mse'\]; got 'l1'"),
    (dict(activation="swish"), r"activation must be one of"),
    (dict(weight_decay=-1.0), r"weight_decay must be a finite number >= 0; got -1.0"),
    (dict(method="newton"), r"method must be one of"),
])
def test_bad_hyperparameters_fail_at_construction(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ConvAutoencoder(**kwargs)
    ConvAutoencoder(kernel_size=1, pool=None)  # fine without pooling


def test_lbfgs_on_the_flat_theta_and_weight_decay():
    X = _squares(16, 4)
    ae = ConvAutoencoder(filters=(3,), method="lbfgs", max_iter=15, weight_decay=1e-3, random_state=0).fit(X)
    assert len(ae.cost_history_) >= 2 and ae.cost_history_[-1] < ae.cost_history_[0]
    assert ae.cost(X) > -ae.score(X)  # the objective adds weight decay to the reconstruction loss
