"""Stacked, tied, denoising autoencoders; greedy pretraining both ways; fine-tuning."""
import copy

import numpy as np
import pytest

from numpy_ae import SparseAutoencoder
from numpy_ae.models.classifier import EncoderClassifier, encoder_layers_of
from numpy_ae.nn.dense import TiedDense
from numpy_ae.nn.noise import GaussianNoise, MaskingNoise, SaltAndPepperNoise, make_corruption
from numpy_ae.models.stacked import DenoisingAutoencoder, StackedAutoencoder, pretrain_layerwise


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((800, 4))
    X = 1 / (1 + np.exp(-(Z @ rng.standard_normal((4, 20)))))
    y = (Z[:, 0] > 0).astype(int) + 2 * (Z[:, 1] > 0).astype(int)  # 4 classes read off the latent factors
    return X, y


def test_architecture_is_mirrored():
    ae = StackedAutoencoder(hidden_layer_sizes=(300, 150), random_state=0).initialize(784)
    shapes = [l.W.shape for l in ae.network_.layers if hasattr(l, "W") and not isinstance(l, TiedDense)]
    assert shapes == [(784, 300), (300, 150), (150, 300), (300, 784)]
    assert ae.transform(np.zeros((2, 784))).shape == (2, 150)
    assert ae.reconstruct(np.zeros((2, 784))).shape == (2, 784)


def test_tied_weights_halve_the_weights():
    untied = StackedAutoencoder(hidden_layer_sizes=(300, 150), random_state=0).initialize(784)
    tied = StackedAutoencoder(hidden_layer_sizes=(300, 150), tied=True, random_state=0).initialize(784)
    weights = 784 * 300 + 300 * 150
    biases = 300 + 150 + 300 + 784
    assert untied.n_params_ == 2 * weights + biases
    assert tied.n_params_ == weights + biases
    dec = tied.decoder_dense()
    assert isinstance(dec[0], TiedDense) and dec[0].source is tied.encoder_dense()[1]


def test_he_init_for_elu_and_glorot_for_sigmoid():
    elu = StackedAutoencoder(hidden_layer_sizes=(5,), activation="elu", random_state=0)
    sigmoid = StackedAutoencoder(hidden_layer_sizes=(5,), activation="sigmoid", random_state=0)
    assert elu.init is None and sigmoid.init is None  # the hyperparameter is kept as given (clone needs it)
    assert elu._init_method() == "he" and sigmoid._init_method() == "glorot"
    W_elu = elu.initialize(400).encoder_dense()[0].W
    W_sig = sigmoid.initialize(400).encoder_dense()[0].W
    # He: normal, std sqrt(2/400) = 0.0707; Glorot: uniform on +-sqrt(6/405) = 0.1217, std 0.0703, bounded.
    # 2000 draws: the std is within 5% of its value (5 standard errors), the max tells the two apart.
    assert abs(W_elu.std() - np.sqrt(2 / 400)) < 0.05 * np.sqrt(2 / 400)
    assert np.abs(W_sig).max() <= np.sqrt(6 / 405) < np.abs(W_elu).max()


@pytest.mark.parametrize("sizes, match", [
    ([], "at least one code size"),
    ([300, 0], r"hidden_layer_sizes\[1\] must be an integer >= 1; got 0"),
    ([300, 2.5], r"hidden_layer_sizes\[1\] must be an integer >= 1; got 2.5"),
    ("300", r"hidden_layer_sizes\[0\] must be an integer >= 1; got '3'"),
    (None, "hidden_layer_sizes must be a sequence of layer widths"),
])
def test_bad_layer_sizes(sizes, match):
    with pytest.raises(ValueError, match=match):
        StackedAutoencoder(hidden_layer_sizes=sizes)


def test_hyperparameters_are_keyword_only():
    """The old positional StackedAutoencoder([784, 300, 150]) now fails loudly instead of building a different net."""
    assert StackedAutoencoder(10).hidden_layer_sizes == 10  # the first one may be positional, as in scikit-learn
    with pytest.raises(TypeError):
        StackedAutoencoder((10,), "elu")


def test_the_input_width_comes_from_the_data():
    ae = StackedAutoencoder(hidden_layer_sizes=(4,), epochs=1, batch_size=5, random_state=0).fit(np.zeros((5, 12)))
    assert ae.layer_sizes_ == [12, 4] and ae.n_features_in_ == 12
    with pytest.raises(ValueError, match="X has 10 features, but StackedAutoencoder is expecting 12"):
        ae.transform(np.zeros((2, 10)))


def test_cross_entropy_needs_unit_inputs():
    with pytest.raises(ValueError, match=r"X must lie in \[0, 1\]"):
        DenoisingAutoencoder(hidden_layer_sizes=(3,), batch_size=2).fit(np.full((4, 5), 2.0))


@pytest.mark.parametrize("level", [-0.1, 1.0, 1.5, float("nan")])
@pytest.mark.parametrize("kind", ["masking", "gaussian", "salt-pepper"])
def test_bad_corruption_level(kind, level):
    with pytest.raises(ValueError, match=r"corruption level must be a number in \[0, 1\)"):
        StackedAutoencoder(hidden_layer_sizes=(5,), corruption=kind, corruption_level=level)


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
    ae = DenoisingAutoencoder(hidden_layer_sizes=(8,), corruption_level=0.5, random_state=0).initialize(20)
    net = ae.network_
    net.layers[0].freeze_noise()
    J = net.compute(X)
    clean_target = net.loss.forward(net.forward(X, training=True), X)
    assert J == pytest.approx(clean_target, rel=1e-12)
    noisy = net.layers[0].forward(X)
    assert net.loss.forward(net.forward(X, training=True), noisy) != pytest.approx(J)


def test_denoising_autoencoder_learns_to_denoise(data):
    X, _ = data
    dae = DenoisingAutoencoder(hidden_layer_sizes=(10,), corruption="masking", corruption_level=0.3, random_state=0,
                               method="adam", epochs=30, batch_size=50, learning_rate=1e-2)
    dae.fit(X)
    noisy = _layer(MaskingNoise, 0.3, seed=5).forward(X)
    err_noisy = np.mean((noisy - X) ** 2)
    err_denoised = np.mean((dae.reconstruct(noisy) - X) ** 2)
    assert err_denoised < 0.5 * err_noisy  # measured about 0.1x


# --------------------------------------------------------- greedy pretraining
def test_layerwise_pretraining_and_stacking(data):
    X, _ = data
    parts = pretrain_layerwise(X, [10, 5], lambda a, b, k: StackedAutoencoder(
        hidden_layer_sizes=(b,), random_state=k, method="adam", epochs=10, batch_size=50, learning_rate=1e-2))
    deep = StackedAutoencoder.from_autoencoders(parts, activation="elu", random_state=0)
    assert deep.layer_sizes_ == [20, 10, 5]
    np.testing.assert_array_equal(deep.encoder_dense()[0].W, parts[0].encoder_dense()[0].W)
    np.testing.assert_array_equal(deep.decoder_dense()[0].W, parts[1].decoder_dense()[0].W)
    np.testing.assert_array_equal(deep.decoder_dense()[1].W, parts[0].decoder_dense()[0].W)
    # the deep code equals the code of the second part applied to the first part's code
    np.testing.assert_allclose(deep.transform(X[:5]), parts[1].transform(parts[0].transform(X[:5])), rtol=1e-12)
    untrained = StackedAutoencoder(hidden_layer_sizes=(10, 5), random_state=0).initialize(20)
    assert deep.network_.evaluate(X) < 0.5 * untrained.network_.evaluate(X)


def test_stacking_sizes_that_do_not_chain(data):
    a = StackedAutoencoder(hidden_layer_sizes=(10,), random_state=0).initialize(20)
    b = StackedAutoencoder(hidden_layer_sizes=(4,), random_state=0).initialize(8)
    with pytest.raises(ValueError, match="layer sizes do not chain: autoencoders\\[0\\] codes have 10 units "
                                         "but autoencoders\\[1\\] takes 8 inputs"):
        StackedAutoencoder.from_autoencoders([a, b])


def test_training_in_phases_freezes_the_trained_layers(data):
    X, _ = data
    ae = StackedAutoencoder(hidden_layer_sizes=(10, 5), random_state=0, batch_size=50, learning_rate=1e-2)
    snapshots = []
    ae.fit_in_phases(X, epochs=[8, 1], callback=lambda epoch, h: snapshots.append(ae.theta.copy()))
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
        X, [12, 6],
        lambda a, b, k: SparseAutoencoder(n_hidden=b, sparsity=0.1, beta=3.0, weight_decay=3e-3, random_state=k,
                                          max_iter=100))
    W0 = parts[0].encoder_layers[0].W.copy()
    before = EncoderClassifier(encoder=parts, fine_tune=False, softmax_max_iter=200, random_state=0)
    before.fit(X[:600], y[:600])
    after = EncoderClassifier(encoder=parts, fine_tune=True, softmax_max_iter=200, max_iter=200, random_state=0)
    after.fit(X[:600], y[:600])
    acc_before, acc_after = before.score(X[600:], y[600:]), after.score(X[600:], y[600:])
    assert acc_after > acc_before and acc_after > 0.85  # measured: about 0.8 before, 0.97 after
    # the autoencoders themselves were copied, not modified
    np.testing.assert_array_equal(parts[0].encoder_layers[0].W, W0)
    assert not np.shares_memory(after.network_.theta, parts[0].theta)
    # warm start from the softmax-only classifier: UFLDL's step 4 continues step 3
    warm = copy.deepcopy(before).set_params(fine_tune=True, warm_start=True, max_iter=200).fit(X[:600], y[:600])
    assert warm.score(X[600:], y[600:]) > acc_before


def test_unfitted_encoders_are_pretrained_on_X(data):
    X, y = data
    sae = SparseAutoencoder(n_hidden=6, sparsity=0.1, max_iter=50, random_state=0)
    clf = EncoderClassifier(encoder=sae, fine_tune=False, random_state=0).fit(X[:600], y[:600])
    assert not sae._is_fitted()  # the parameter itself stays untouched (scikit-learn's rule)
    fitted = copy.deepcopy(sae).fit(X[:600])
    np.testing.assert_array_equal(clf.network_.layers[0].W, fitted.encoder_layers[0].W)  # same seed, same fit


@pytest.mark.parametrize("n_classes", [1, 0, 2.7, True, "3"])
def test_from_encoders_checks_n_classes(n_classes):
    ae = StackedAutoencoder(hidden_layer_sizes=(5,), random_state=0).initialize(20)
    with pytest.raises(ValueError, match=r"n_classes must be an integer >= 2 .*; got " + repr(n_classes).replace(".", r"\.")):
        EncoderClassifier.from_encoders(encoder_layers_of(ae), n_classes)


def test_classifier_label_errors(data):
    X, y = data
    clf = EncoderClassifier(hidden_layer_sizes=(5,), random_state=0)
    with pytest.raises(ValueError, match=r"y has 1 class \(\[3\]\)"):
        clf.fit(X[:10], np.full(10, 3))
    with pytest.raises(ValueError, match="one label per row of X"):
        clf.fit(X[:10], y[:9])
