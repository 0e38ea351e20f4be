"""Stacked, tied, denoising autoencoders; greedy pretraining both ways; fine-tuning."""
import numpy as np
import pytest

from numpy_ae import SparseAutoencoder
from numpy_ae.classifier import EncoderClassifier, encoder_layers_of
from numpy_ae.layers import TiedDense
from numpy_ae.regularizers import GaussianNoise, MaskingNoise, SaltAndPepperNoise, make_corruption
from numpy_ae.stacked import DenoisingAutoencoder, StackedAutoencoder, pretrain_layerwise


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((800, 4))
    X = 1 / (1 + np.exp(-(Z @ rng.standard_normal((4, 20)))))
    y = (Z[:, 0] > 0).astype(int) + 2 * (Z[:, 1] > 0).astype(int)  # 4 classes read off the latent factors
    return X, y


def test_architecture_is_mirrored():
    ae = StackedAutoencoder([784, 300, 150], random_state=0).initialize(784)
    shapes = [l.W.shape for l in ae.network_.layers if hasattr(l, "W") and not isinstance(l, TiedDense)]
    assert shapes == [(784, 300), (300, 150), (150, 300), (300, 784)]
    assert ae.transform(np.zeros((2, 784))).shape == (2, 150)
    assert ae.reconstruct(np.zeros((2, 784))).shape == (2, 784)


def test_tied_weights_halve_the_weights():
    untied = StackedAutoencoder([784, 300, 150], random_state=0).initialize(784)
    tied = StackedAutoencoder([784, 300, 150], tied=True, random_state=0).initialize(784)
    weights = 784 * 300 + 300 * 150
    biases = 300 + 150 + 300 + 784
    assert untied.n_params_ == 2 * weights + biases
    assert tied.n_params_ == weights + biases
    dec = tied.decoder_dense()
    assert isinstance(dec[0], TiedDense) and dec[0].source is tied.encoder_dense()[1]


def test_he_init_for_elu_and_glorot_for_sigmoid():
    assert StackedAutoencoder([10, 5], activation="elu").init == "he"
    assert StackedAutoencoder([10, 5], activation="sigmoid").init == "glorot"


@pytest.mark.parametrize("sizes, match", [
    ([784], "at least one code size, .* mirrored"),
    ([784, 0], r"layer_sizes\[1\] must be an integer >= 1; got 0"),
    ([784, 2.5], r"layer_sizes\[1\] must be an integer >= 1; got 2.5"),
    (784, "layer_sizes must be a list of layer widths"),
])
def test_bad_layer_sizes(sizes, match):
    with pytest.raises(ValueError, match=match):
        StackedAutoencoder(sizes)


def test_input_width_must_match_layer_sizes():
    with pytest.raises(ValueError, match=r"X must have layer_sizes\[0\] = 10 features; got 12"):
        StackedAutoencoder([10, 4]).fit(np.zeros((5, 12)), method="adam", batch_size=5)


def test_cross_entropy_needs_unit_inputs():
    with pytest.raises(ValueError, match=r"X must lie in \[0, 1\]"):
        DenoisingAutoencoder([5, 3]).fit(np.full((4, 5), 2.0), method="adam", batch_size=2)


@pytest.mark.parametrize("level", [-0.1, 1.0, 1.5, float("nan")])
@pytest.mark.parametrize("kind", ["masking", "gaussian", "salt-pepper"])
def test_bad_corruption_level(kind, level):
    with pytest.raises(ValueError, match=r"corruption level must be a number in \[0, 1\)"):
        StackedAutoencoder([10, 5], corruption=kind, corruption_level=level)


def test_unknown_corruption():
    with pytest.raises(ValueError, match="corruption must be one of"):
        make_corruption("dropout", 0.1)


# ------------------------------------------------------------ corruption layers
def _layer(cls, level, seed=0):
    layer = cls(level)
    layer.init_params(np.random.default_rng(seed))
    return layer


@pytest.mark.parametrize("cls", [GaussianNoise, MaskingNoise, SaltAndPepperNoise])
def test_corruption_is_identity_at_inference(cls):
    X = np.random.default_rng(0).uniform(0, 1, (50, 40))
    assert _layer(cls, 0.3).forward(X, training=False) is X


def test_masking_zeroes_the_right_fraction():
    X = np.ones((200, 500))
    Y = _layer(MaskingNoise, 0.3).forward(X)
    # 100,000 Bernoulli(0.3) draws: standard error 0.0014, so 0.01 is over 7 standard errors
    assert abs((Y == 0).mean() - 0.3) < 0.01
    assert set(np.unique(Y)) == {0.0, 1.0}


def test_salt_and_pepper_sets_zeros_and_ones():
    X = np.full((200, 500), 0.5)
    Y = _layer(SaltAndPepperNoise, 0.2).forward(X)
    assert abs((Y != 0.5).mean() - 0.2) < 0.01
    assert abs((Y == 1.0).mean() - 0.1) < 0.01 and abs((Y == 0.0).mean() - 0.1) < 0.01


def test_gaussian_noise_has_the_given_std():
    Y = _layer(GaussianNoise, 0.2).forward(np.zeros((200, 500)))
    assert abs(Y.std() - 0.2) < 0.002 and abs(Y.mean()) < 0.002


def test_frozen_noise_repeats_and_unfrozen_changes():
    layer = _layer(MaskingNoise, 0.5)
    X = np.ones((10, 10))
    a, b = layer.forward(X), layer.forward(X)
    assert not np.array_equal(a, b)
    layer.freeze_noise()
    c, d = layer.forward(X), layer.forward(X)
    np.testing.assert_array_equal(c, d)


def test_denoising_loss_compares_with_the_clean_input(data):
    X, _ = data
    ae = DenoisingAutoencoder([20, 8], corruption_level=0.5, random_state=0).initialize(20)
    net = ae.network_
    net.layers[0].freeze_noise()
    J = net.compute(X)
    clean_target = net.loss.forward(net.forward(X, training=True), X)
    assert J == pytest.approx(clean_target, rel=1e-12)
    noisy = net.layers[0].forward(X)
    assert net.loss.forward(net.forward(X, training=True), noisy) != pytest.approx(J)


def test_denoising_autoencoder_learns_to_denoise(data):
    X, _ = data
    dae = DenoisingAutoencoder([20, 10], corruption="masking", corruption_level=0.3, random_state=0)
    dae.fit(X, method="adam", epochs=30, batch_size=50, learning_rate=1e-2)
    noisy = _layer(MaskingNoise, 0.3, seed=5).forward(X)
    err_noisy = np.mean((noisy - X) ** 2)
    err_denoised = np.mean((dae.reconstruct(noisy) - X) ** 2)
    assert err_denoised < 0.5 * err_noisy  # measured about 0.1x


# --------------------------------------------------------- greedy pretraining
def test_layerwise_pretraining_and_stacking(data):
    X, _ = data
    parts = pretrain_layerwise(X, [20, 10, 5], lambda a, b, k: StackedAutoencoder([a, b], random_state=k),
                               fit_kwargs=dict(method="adam", epochs=10, batch_size=50, learning_rate=1e-2))
    deep = StackedAutoencoder.from_autoencoders(parts, activation="elu", random_state=0)
    assert deep.layer_sizes == [20, 10, 5]
    np.testing.assert_array_equal(deep.encoder_dense()[0].W, parts[0].encoder_dense()[0].W)
    np.testing.assert_array_equal(deep.decoder_dense()[0].W, parts[1].decoder_dense()[0].W)
    np.testing.assert_array_equal(deep.decoder_dense()[1].W, parts[0].decoder_dense()[0].W)
    # the deep code equals the code of the second part applied to the first part's code
    np.testing.assert_allclose(deep.transform(X[:5]), parts[1].transform(parts[0].transform(X[:5])), rtol=1e-12)
    untrained = StackedAutoencoder([20, 10, 5], random_state=0).initialize(20)
    assert deep.network_.evaluate(X) < 0.5 * untrained.network_.evaluate(X)


def test_stacking_sizes_that_do_not_chain(data):
    a = StackedAutoencoder([20, 10], random_state=0).initialize(20)
    b = StackedAutoencoder([8, 4], random_state=0).initialize(8)
    with pytest.raises(ValueError, match="layer sizes do not chain: autoencoders\\[0\\] codes have 10 units "
                                         "but autoencoders\\[1\\] takes 8 inputs"):
        StackedAutoencoder.from_autoencoders([a, b])


def test_training_in_phases_freezes_the_trained_layers(data):
    X, _ = data
    ae = StackedAutoencoder([20, 10, 5], random_state=0)
    snapshots = []
    ae.fit_in_phases(X, epochs=[8, 1], batch_size=50, learning_rate=1e-2,
                     callback=lambda epoch, h: snapshots.append(ae.theta.copy()))
    net = ae.network_
    outer = [net.block(n).slice for n in ("dense0.W", "dense0.b", "dense6.W", "dense6.b")]
    inner = [net.block(n).slice for n in ("dense2.W", "dense2.b", "dense4.W", "dense4.b")]
    after_phase1, after_phase2 = snapshots[7], snapshots[8]
    for s in outer:  # phase 2 must not touch the outer layers
        np.testing.assert_array_equal(after_phase1[s], after_phase2[s])
    for s in inner:  # phase 1 must not touch the inner layers...
        np.testing.assert_array_equal(snapshots[0][s], after_phase1[s])
    assert any(not np.array_equal(after_phase1[s], after_phase2[s]) for s in inner)  # ...phase 2 does
    assert len(ae.phase_history_) == 2
    assert ae.phase_history_[0]["loss"][-1] < ae.phase_history_[0]["loss"][0]
    assert not net.frozen.any()  # nothing stays frozen after pretraining


# ---------------------------------------------------------------- fine-tuning
def test_fine_tuning_improves_on_fixed_features(data):
    X, y = data
    parts = pretrain_layerwise(
        X, [20, 12, 6],
        lambda a, b, k: SparseAutoencoder(n_hidden=b, sparsity=0.1, beta=3.0, weight_decay=3e-3, random_state=k),
        fit_kwargs=dict(max_iter=100))
    layers = encoder_layers_of(parts)
    before = EncoderClassifier.from_encoders(layers, 4, weight_decay=1e-4, random_state=0)
    before.fit(X[:600], y[:600], fine_tune=False, max_iter=200)
    after = EncoderClassifier.from_encoders(layers, 4, weight_decay=1e-4, random_state=0)
    after.fit(X[:600], y[:600], fine_tune=True, max_iter=200)
    acc_before, acc_after = before.score(X[600:], y[600:]), after.score(X[600:], y[600:])
    assert acc_after > acc_before and acc_after > 0.85  # measured: about 0.8 before, 0.97 after
    # the autoencoders themselves were copied, not modified
    np.testing.assert_array_equal(parts[0].encoder_layers[0].W, layers[0].W)
    assert not np.shares_memory(after.network_.theta, parts[0].theta)


def test_classifier_label_errors(data):
    X, y = data
    ae = StackedAutoencoder([20, 5], random_state=0).initialize(20)
    clf = EncoderClassifier.from_encoders(encoder_layers_of(ae), 4)
    with pytest.raises(ValueError, match=r"y must hold labels 0..3; got values in \[0, 7\]"):
        clf.fit(X[:10], np.array([0, 1, 2, 3, 7, 0, 1, 2, 3, 0]))
    with pytest.raises(ValueError, match="one label per row of X"):
        clf.fit(X[:10], y[:9])
