"""RegularizedAutoencoder and its presets (numpy_ae.models.composable): the network each setting builds,
training with each regulariser, the measurements, and the combinations refused."""
import numpy as np

from numpy_ae.nn.fast import reference_class
import pytest

import numpy_ae
from numpy_ae import (ContractiveAutoencoder, KSparseAutoencoder, RegularizedAutoencoder, StackedAutoencoder,
                      WTAAutoencoder)
from numpy_ae.nn.dense import Dense, TiedDense
from numpy_ae.nn.activations import Sigmoid
from numpy_ae.nn.penalties import Contractive, KLSparsity, L1Activity
from numpy_ae.nn.selection import KSparse, LifetimeWTA
from numpy_ae.nn.noise import MaskingNoise

RNG = np.random.default_rng(0)
# 120 examples of 12 pixels in [0, 1] with structure to learn: 3 prototypes plus noise
X = np.clip(RNG.uniform(0, 1, (3, 12))[RNG.integers(0, 3, 120)] + 0.1 * RNG.standard_normal((120, 12)), 0, 1)


def test_layers_in_the_documented_order():
    ae = RegularizedAutoencoder((6, 5), activation="tanh", code_activation="sigmoid", tied=True,
                                loss="cross_entropy", contraction=0.1, sparsity_weight=0.5, l1_activity=0.01,
                                k_sparse=3, lifetime_sparsity=0.2, noise="masking", random_state=0).initialize(12)
    types = [type(l).__name__ for l in ae.network_.layers]
    assert types == ["MaskingNoise", "Dense", "Tanh", "Dense", "Sigmoid", "Contractive", "KLSparsity",
                     "L1Activity", "KSparse", "LifetimeWTA", "TiedDense", "Tanh", "TiedDense"]
    contractive = ae.network_.layers[5]
    assert contractive.dense is ae.network_.layers[3]  # the code's Dense, not the first one
    assert [reference_class(type(l)) for l in ae.code_layers_] == [Contractive, KLSparsity, L1Activity, KSparse, LifetimeWTA]
    assert isinstance(ae.network_.layers[0], MaskingNoise)


def test_everything_off_is_the_stacked_autoencoder():
    """No variant copies the model: with no regulariser the network (and so theta) is StackedAutoencoder's."""
    reg = RegularizedAutoencoder((5, 3), activation="elu", tied=True, random_state=4).initialize(12)
    sta = StackedAutoencoder((5, 3), activation="elu", tied=True, random_state=4).initialize(12)
    assert repr(reg.network_) == repr(sta.network_)
    np.testing.assert_array_equal(reg.theta, sta.theta)


@pytest.mark.parametrize("preset, general", [
    (ContractiveAutoencoder((5,), contraction=0.3, epochs=2, random_state=1),
     RegularizedAutoencoder((5,), contraction=0.3, loss="cross_entropy", tied=True, epochs=2, random_state=1)),
    (KSparseAutoencoder((6,), k=2, alpha=2.0, epochs=2, random_state=1),
     RegularizedAutoencoder((6,), code_activation="identity", k_sparse=2, k_sparse_alpha=2.0, tied=True, epochs=2,
                            random_state=1)),
    (WTAAutoencoder((6,), epochs=2, random_state=1),
     RegularizedAutoencoder((6,), activation="relu", lifetime_sparsity=0.05, epochs=2, random_state=1)),
])
def test_presets_are_the_general_estimator_with_their_defaults(preset, general):
    preset.fit(X)
    general.fit(X)
    assert repr(preset.network_) == repr(general.network_)
    np.testing.assert_array_equal(preset.theta, general.theta)  # bit for bit: the same network, the same fit
    np.testing.assert_array_equal(preset.transform(X), general.transform(X))


def test_preset_defaults_are_the_documented_ones():
    c, k, w = ContractiveAutoencoder(), KSparseAutoencoder(), WTAAutoencoder()
    assert (c.contraction, c.activation, c.loss, c.tied) == (0.1, "sigmoid", "cross_entropy", True)
    assert (k.hidden_layer_sizes, k.k, k.alpha, k.code_activation, k.tied) == ((1000,), 25, 1.0, "identity", True)
    assert (w.lifetime_sparsity, w.activation, w.tied) == (0.05, "relu", False)
    assert "k_sparse" not in k.get_params() and "contraction" not in w.get_params()


@pytest.mark.parametrize("params", [
    dict(contraction=0.5),
    dict(sparsity_weight=0.5, sparsity_target=0.1),
    dict(l1_activity=0.01),
    dict(k_sparse=3, code_activation="identity"),
    dict(lifetime_sparsity=0.1, activation="relu"),
    dict(noise="gaussian", noise_level=0.1),
    dict(contraction=0.1, sparsity_weight=0.1, l1_activity=1e-3, k_sparse=4, lifetime_sparsity=0.5,
         noise="masking", weight_decay=1e-4, tied=True),
])
def test_fit_reduces_the_objective_with_each_regulariser(params):
    """The training objective (loss + penalties, at a frozen noise draw) falls by half or more in 30 epochs of Adam.

    Measured at these settings: it ends at 2% to 10% of where it started, for every case; an
    optimiser that does not follow the gradient of the penalised objective (a sign error in a
    penalty) stalls or rises instead.
    """
    ae = RegularizedAutoencoder((8,), learning_rate=0.01, epochs=30, batch_size=40, random_state=0, **params)
    ae.initialize(12)
    for layer in ae.network_.layers:
        if hasattr(layer, "freeze_noise"):
            layer.freeze_noise()
    before = ae.cost(X)
    ae.set_params(warm_start=True).fit(X)
    for layer in ae.network_.layers:  # freeze again: the objective at one fixed draw (as before training)
        if hasattr(layer, "freeze_noise"):
            layer.freeze_noise()
    after = ae.cost(X)
    assert after < 0.5 * before, (before, after)
    assert np.isfinite(ae.transform(X)).all()


def test_k_sparse_transform_keeps_round_alpha_k_units():
    ae = RegularizedAutoencoder((10,), code_activation="identity", k_sparse=3, k_sparse_alpha=1.5, epochs=2,
                                random_state=0).fit(X)
    H = ae.transform(X)
    np.testing.assert_array_equal((H != 0).sum(axis=1), np.full(len(X), 4))  # round(1.5 * 3) = 4 (round half even)
    assert ae.active_fraction(X) == pytest.approx(0.4)


def test_wta_codes_are_sparse_in_training_and_dense_at_inference():
    ae = WTAAutoencoder((10,), lifetime_sparsity=0.1, batch_size=40, epochs=2, random_state=0).fit(X)
    net = ae.network_
    H_train = net.forward(X[:40], training=True, layers=ae.encoder_layers)
    np.testing.assert_array_equal((H_train != 0).sum(axis=0) <= 4, np.ones(10, bool))  # ceil(0.1 * 40) = 4
    H = ae.transform(X[:40])  # inference: the plain ReLU code
    np.testing.assert_array_equal(H, np.maximum(X[:40] @ ae.encoder_layers[0].W + ae.encoder_layers[0].b, 0))


def test_contraction_shrinks_the_jacobian():
    """Same seed, same data: a strong contraction gives a smaller mean ||J||_F than none (Rifai et al.'s point).

    Measured: 0.94 without, 0.066 with contraction=1; the bound 0.3x leaves room for other platforms' BLAS."""
    def fitted(c):
        return RegularizedAutoencoder((8,), contraction=c, learning_rate=0.01, epochs=30, batch_size=40,
                                      random_state=0).fit(X)
    free, contracted = fitted(0.0).jacobian_norm(X), fitted(1.0).jacobian_norm(X)
    assert contracted < 0.3 * free, (free, contracted)


def test_jacobian_norm_closed_form_and_finite_differences_agree():
    """Rel. 1e-7: the finite differences' truncation error is ~eps^2 = 1e-10 relative, rounding ~1e-11."""
    ae = RegularizedAutoencoder((5,), activation="tanh", random_state=0).initialize(12)
    ae.theta[...] = np.random.default_rng(1).standard_normal(ae.theta.shape)
    closed = ae.jacobian_norm(X[:20], method="closed_form")
    fd = ae.jacobian_norm(X[:20], method="finite_differences")
    assert closed == pytest.approx(fd, rel=1e-7)
    deep = RegularizedAutoencoder((6, 4), random_state=0).initialize(12)  # two layers: only differences apply
    with pytest.raises(ValueError, match="method='closed_form' needs one encoder layer"):
        deep.jacobian_norm(X, method="closed_form")
    # the chain rule by hand for the two-layer sigmoid encoder, against the finite differences
    (d1, _, d2, _) = deep.encoder_layers
    h1 = 1 / (1 + np.exp(-(X[:20] @ d1.W + d1.b)))
    h2 = 1 / (1 + np.exp(-(h1 @ d2.W + d2.b)))
    J = np.einsum("nk,jk,nj,ij->nki", h2 * (1 - h2), d2.W, h1 * (1 - h1), d1.W)  # (N, H2, D)
    exact = np.sqrt((J ** 2).sum(axis=(1, 2))).mean()
    assert deep.jacobian_norm(X[:20]) == pytest.approx(exact, rel=1e-7)


def test_transform_reconstruct_score_and_target():
    ae = RegularizedAutoencoder((6,), l1_activity=1e-3, epochs=2, random_state=0).fit(X)
    assert ae.transform(X).shape == (120, 6) and ae.reconstruct(X).shape == X.shape
    assert ae.score(X) == pytest.approx(-np.mean((ae.reconstruct(X) - X) ** 2), rel=1e-12)  # mse, no penalty
    noisy = np.clip(X + 0.1, 0, 1)
    ae2 = RegularizedAutoencoder((6,), epochs=2, random_state=0).fit(noisy, target=X)
    assert ae2.cost_ > 0


@pytest.mark.parametrize("params, match", [
    (dict(k_sparse=0), r"k_sparse must be an integer >= 1.*got 0"),
    (dict(k_sparse=9), r"k_sparse must be at most the code size 8.*got 9"),
    (dict(lifetime_sparsity=0.0), r"lifetime_sparsity must be a number in \(0, 1\].*got 0.0"),
    (dict(lifetime_sparsity=1.01), r"lifetime_sparsity must be a number in \(0, 1\].*got 1.01"),
    (dict(contraction=-0.1), r"contraction must be a finite number >= 0; got -0.1"),
    (dict(contraction=0.1, activation="relu"), r"activation \(the code's, with contraction > 0\) must be 'sigmoid' "
                                               r"or 'tanh'.*got 'relu'"),
    (dict(contraction=0.1, code_activation="identity"), r"code_activation .* must be 'sigmoid' or 'tanh'"),
    (dict(sparsity_weight=1.0, code_activation="tanh"), r"sparsity_weight > 0 \(KL sparsity\) needs a sigmoid code"),
    (dict(sparsity_target=1.0), r"sparsity_target must be a number strictly between 0.0 and 1.0"),
    (dict(l1_activity=-1), r"l1_activity must be a finite number >= 0; got -1"),
    (dict(k_sparse=2, k_sparse_alpha=0), r"k_sparse_alpha must be a finite number > 0"),
    (dict(noise="pink"), r"corruption must be one of"),
    (dict(loss="cross_entropy", output_activation="sigmoid"), r"output_activation must be None"),
    (dict(hidden_layer_sizes=()), r"hidden_layer_sizes must list at least one"),
])
def test_bad_settings_name_the_argument_the_rule_and_the_value(params, match):
    params = {"hidden_layer_sizes": (8,), **params}
    with pytest.raises(ValueError, match=match):
        RegularizedAutoencoder(**params)
    est = RegularizedAutoencoder((8,))
    with pytest.raises(ValueError, match=match):  # set_params refuses too, and leaves the estimator as it was
        est.set_params(**params)
    assert est.get_params() == RegularizedAutoencoder((8,)).get_params()


def test_preset_errors_use_the_presets_names():
    with pytest.raises(ValueError, match=r"^k must be at most the code size 10.*got 11"):
        KSparseAutoencoder((10,), k=11)
    with pytest.raises(ValueError, match=r"^k must be an integer >= 1"):
        KSparseAutoencoder((10,), k=0)
    with pytest.raises(ValueError, match=r"^alpha must be a finite number > 0"):
        KSparseAutoencoder((10,), k=2, alpha=-1)
    with pytest.raises(ValueError, match=r"^lifetime_sparsity must be a number in \(0, 1\]"):
        WTAAutoencoder(lifetime_sparsity=2)
    with pytest.raises(ValueError, match=r"^activation \(the code's, with contraction > 0\) must be 'sigmoid'"):
        ContractiveAutoencoder(activation="elu")
    with pytest.raises(ValueError, match=r"^contraction must be a finite number >= 0"):
        ContractiveAutoencoder(contraction=-1)


def test_contractive_layer_reads_the_live_weights_after_load(tmp_path):
    """After save/load the Contractive layer must read the loaded encoder's weights (views into theta)."""
    ae = ContractiveAutoencoder((5,), contraction=0.5, epochs=2, random_state=0).fit(X)
    back = numpy_ae.load(ae.save(tmp_path / "cae.npz"))
    layer = [l for l in back.network_.layers if isinstance(l, Contractive)][0]
    assert np.shares_memory(layer.dense.W, back.network_.theta)
    assert back.cost(X) == ae.cost(X)
    assert isinstance(back.network_.layers[0], Dense) and isinstance(back.network_.layers[1], Sigmoid)
    assert isinstance(back.network_.layers[3], TiedDense)


def test_sparse_and_denoising_autoencoders_are_the_same_builder():
    """SparseAutoencoder, DenoisingAutoencoder and RegularizedAutoencoder build through one builder:
    the same settings give the same layers and the same initial theta, bit for bit."""
    sae = numpy_ae.SparseAutoencoder(7, sparsity=0.02, beta=2.0, random_state=3).initialize(12)
    reg = RegularizedAutoencoder((7,), sparsity_target=0.02, sparsity_weight=2.0, loss="squared_error",
                                 output_activation="sigmoid", init="ufldl", weight_decay=1e-4,
                                 random_state=3).initialize(12)
    assert repr(sae.network_) == repr(reg.network_)
    np.testing.assert_array_equal(sae.theta, reg.theta)
    dae = numpy_ae.DenoisingAutoencoder((6,), random_state=5).initialize(12)
    reg = RegularizedAutoencoder((6,), loss="cross_entropy", tied=True, noise="masking", noise_level=0.3,
                                 random_state=5).initialize(12)
    assert repr(dae.network_) == repr(reg.network_)
    np.testing.assert_array_equal(dae.theta, reg.theta)


def test_deepcopy_keeps_the_contractive_layer_on_the_copied_weights():
    import copy

    ae = RegularizedAutoencoder((5,), contraction=0.5, random_state=0).initialize(12)
    twin = copy.deepcopy(ae)
    layer = [l for l in twin.network_.layers if isinstance(l, Contractive)][0]
    assert layer.dense is twin.network_.layers[0] and np.shares_memory(layer.dense.W, twin.network_.theta)
    twin.theta[...] *= 2.0  # the copy's penalty follows the copy's weights, the original's does not move
    assert twin.cost(X) != ae.cost(X)
    assert ae.cost(X) == RegularizedAutoencoder((5,), contraction=0.5, random_state=0).initialize(12).cost(X)
