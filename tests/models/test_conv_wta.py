"""ConvWTAAutoencoder: the Conv-WTA of Makhzani & Frey (2015) through ConvAutoencoder's _code_layers hook."""
import numpy as np
import pytest

from numpy_ae import ConvWTAAutoencoder
from numpy_ae.nn.selection import LifetimeWTA, SpatialWTA


def _images(n=64, seed=0):
    return np.random.default_rng(seed).uniform(0.0, 1.0, size=(n, 1, 8, 8))


def test_network_is_conv_then_spatial_and_lifetime_wta_then_one_linear_convolution():
    ae = ConvWTAAutoencoder((1, 8, 8), filters=(4,), kernel_size=3, random_state=0).initialize(64)
    names = [type(layer).__name__ for layer in ae.network_.layers]
    assert names == ["Reshape", "Conv2D", "ReLU", "SpatialWTA", "LifetimeWTA", "Flatten", "Reshape", "Conv2D",
                     "Flatten"]
    assert ae.code_shape_ == (4, 8, 8)  # no pooling


def test_training_pass_keeps_one_winner_per_map_and_the_top_share_of_the_batch():
    ae = ConvWTAAutoencoder((1, 8, 8), filters=(4,), kernel_size=3, lifetime_sparsity=0.25,
                            random_state=0).initialize(64)
    X = _images(16).reshape(16, -1)
    layers = ae.network_.layers
    A = X
    for layer in layers[:5]:  # up to and including the lifetime WTA, in training mode
        A = layer.forward(A, training=True)
    nonzero = (A != 0).sum(axis=(2, 3))  # (N, C): winners per example and map
    # spatial WTA leaves at most one entry per map; lifetime WTA keeps ceil(0.25 * 16) = 4 examples per channel
    assert nonzero.max() <= 1
    assert ((nonzero > 0).sum(axis=0) <= 4).all()
    assert isinstance(layers[3], SpatialWTA) and isinstance(layers[4], LifetimeWTA)


def test_transform_is_the_dense_relu_code_at_inference():
    ae = ConvWTAAutoencoder((1, 8, 8), filters=(4,), kernel_size=3, epochs=1, batch_size=16,
                            random_state=0).fit(_images())
    H = ae.transform(_images(8, seed=1))
    assert H.shape == (8, 4 * 8 * 8)
    # at inference the WTA layers are the identity: far more than one active unit per map
    assert (H.reshape(8, 4, 64) > 0).sum(axis=2).mean() > 1


def _bars(n=256, seed=0):
    """8x8 images of one horizontal and one vertical bar at random rows/columns: strokes a Conv-WTA can draw."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, 1, 8, 8))
    X[np.arange(n), 0, rng.integers(0, 8, n), :] = 1.0
    X[np.arange(n), 0, :, rng.integers(0, 8, n)] = 1.0
    return X


def test_training_reduces_the_loss_and_save_load_is_exact(tmp_path):
    X = _bars()
    ae = ConvWTAAutoencoder((1, 8, 8), filters=(8,), kernel_size=3, lifetime_sparsity=0.1, epochs=8,
                            batch_size=32, learning_rate=3e-2, random_state=0).fit(X)
    history = ae.history_["loss"]
    # the training objective (on the sparse code) falls from 42.2 to 30.8 nats per image in 8 epochs (measured);
    # it levels off there: with 8 maps at 10% lifetime sparsity most images keep no winner at all
    assert history[-1] < 0.8 * history[0]
    path = tmp_path / "wta.npz"
    ae.save(path)
    back = ConvWTAAutoencoder.load(path)
    np.testing.assert_array_equal(back.transform(X[:5]), ae.transform(X[:5]))


@pytest.mark.parametrize("s", [0.0, -0.1, 1.5, "a"])
def test_bad_lifetime_sparsity_names_the_argument(s):
    with pytest.raises(ValueError, match="lifetime_sparsity"):
        ConvWTAAutoencoder(lifetime_sparsity=s)


def test_pool_and_output_conv_are_fixed_not_hyperparameters():
    params = ConvWTAAutoencoder().get_params()
    assert "pool" not in params and "output_conv" not in params and params["lifetime_sparsity"] == 0.05
