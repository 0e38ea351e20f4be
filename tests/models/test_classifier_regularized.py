"""EncoderClassifier on the encoders of the regularised autoencoders.

The rule under test (numpy_ae.models.classifier): penalty-only layers (KL, L1, contractive), training-only
selections (lifetime WTA) and noise are left out; KSparse is kept, and keeps round(alpha k) units in
training as at inference. Tiny data (three blobs, 60 examples of 8 inputs): every fit takes
milliseconds; the autoencoders are pretrained once per module.
"""
import warnings

import numpy as np

from numpy_ae.nn.fast import reference_class
import pytest

from numpy_ae import (ContractiveAutoencoder, EncoderClassifier, KSparseAutoencoder, RegularizedAutoencoder,
                      WTAAutoencoder)
from numpy_ae.models.classifier import encoder_layers_of
from numpy_ae.check.registry import REGISTRY, run_checks
from numpy_ae.nn.dense import Dense
from numpy_ae.nn.activations import Identity, ReLU, Sigmoid
from numpy_ae.nn.selection import KSparse, LifetimeWTA

N, D, C = 60, 8, 3

PRESETS = {  # name: (autoencoder, the layer types the classifier keeps under its softmax Dense)
    "regularized_everything": (
        lambda: RegularizedAutoencoder((6,), sparsity_target=0.2, sparsity_weight=1.0, l1_activity=0.01,
                                       contraction=0.1, noise="masking", noise_level=0.2, epochs=3, batch_size=20,
                                       random_state=0),
        [Dense, Sigmoid]),
    "contractive": (lambda: ContractiveAutoencoder((6,), contraction=0.1, epochs=3, batch_size=20, random_state=1),
                    [Dense, Sigmoid]),
    "k_sparse": (lambda: KSparseAutoencoder((6,), k=2, alpha=1.5, epochs=3, batch_size=20, random_state=2),
                 [Dense, Identity, KSparse]),
    "wta": (lambda: WTAAutoencoder((6,), lifetime_sparsity=0.2, epochs=3, batch_size=20, random_state=3),
            [Dense, ReLU]),
    "k_sparse_and_lifetime_wta": (
        lambda: RegularizedAutoencoder((6,), activation="relu", k_sparse=3, lifetime_sparsity=0.3, epochs=3,
                                       batch_size=20, random_state=4),
        [Dense, ReLU, KSparse]),
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(C), N // C)
    centres = rng.uniform(0.2, 0.8, (C, D))
    X = np.clip(centres[y] + 0.05 * rng.standard_normal((N, D)), 0.0, 1.0)  # in [0, 1]: cross-entropy presets
    return X, y


@pytest.fixture(scope="module")
def pretrained(data):
    X, _ = data
    return {name: make().fit(X) for name, (make, _) in PRESETS.items()}


def _fit(encoder, X, y, fine_tune):
    clf = EncoderClassifier(encoder, fine_tune=fine_tune, weight_decay=1e-3, softmax_max_iter=100, max_iter=30,
                            random_state=0)
    with warnings.catch_warnings():
        # a k-sparse code makes the objective piecewise smooth: L-BFGS may stop early on it (a warning that
        # says so is the intended behaviour, not what these tests are about)
        warnings.simplefilter("ignore")
        return clf.fit(X, y)


@pytest.mark.parametrize("name", list(PRESETS))
def test_the_classifier_keeps_the_encoding_and_leaves_pretraining_layers_out(pretrained, name):
    ae = pretrained[name]
    layers = encoder_layers_of(ae)
    assert [reference_class(type(l)) for l in layers] == PRESETS[name][1]  # a fast twin counts as its reference
    assert len(ae.encoder_layers) > len(layers) or name == "k_sparse"  # something was left out (k_sparse: nothing)


@pytest.mark.parametrize("fine_tune", [False, True])
@pytest.mark.parametrize("name", list(PRESETS))
def test_each_preset_as_encoder_fits_predicts_and_saves_exactly(pretrained, data, tmp_path, name, fine_tune):
    X, y = data
    ae = pretrained[name]
    dense = next(l for l in ae.encoder_layers if isinstance(l, Dense))  # (after the noise layer, if any)
    W0 = dense.W.copy()
    clf = _fit(ae, X, y, fine_tune)
    net = clf.network_
    assert [reference_class(type(l)) for l in net.layers] == PRESETS[name][1] + [Dense]
    np.testing.assert_array_equal(dense.W, W0)  # the autoencoder itself is not touched
    features = net.forward(X, training=False, layers=net.layers[:-1])
    if not fine_tune:
        # the softmax sits on exactly the autoencoder's transform: the layers left out are the identity at
        # inference, and KSparse keeps round(alpha k) units as transform does (bit for bit: same operations)
        np.testing.assert_array_equal(features, ae.transform(X))
    else:
        assert not np.array_equal(net.layers[0].W, W0)  # fine-tuning moved the encoder
    pred = clf.predict(X)
    assert pred.shape == (N,) and set(pred) <= set(clf.classes_)
    # three blobs 0.05 wide, centres 0.76-0.88 apart in 8 dimensions: every preset's features separate them
    # (measured 1.00 for all ten fits); 0.9 leaves room for a seed, not for a broken encoder (chance: 0.33)
    assert clf.score(X, y) >= 0.9, (name, fine_tune, clf.score(X, y))
    path = clf.save(tmp_path / "clf.npz")
    loaded = EncoderClassifier.load(path)
    assert loaded.encoder_spec_ == clf.encoder_spec_
    assert [type(l) for l in loaded.network_.layers] == [type(l) for l in net.layers]  # (init is not saved:
    # the weights are) and a KSparse comes back with the k it was fitted with:
    assert [(l.k, l.alpha) for l in loaded.network_.layers if isinstance(l, KSparse)] == \
           [(l.k, l.alpha) for l in net.layers if isinstance(l, KSparse)]
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.network_.theta, net.theta)


@pytest.mark.parametrize("name", list(PRESETS))
def test_fine_tuning_lowers_the_objective_it_starts_from(pretrained, data, name):
    """Same seed, same pretrained encoder: the fine-tuned network's cost is below the cost of the network
    the softmax stage left (the point L-BFGS starts from)."""
    X, y = data
    before = _fit(pretrained[name], X, y, fine_tune=False)
    after = _fit(pretrained[name], X, y, fine_tune=True)
    start = before.loss_and_grad(before.network_.theta, X, y)[0]
    assert after.cost_ < start, (name, after.cost_, start)


def test_k_sparse_trains_with_the_support_it_predicts_with(pretrained, data):
    r"""KSparse(k=2, alpha=1.5) becomes KSparse(3) in the classifier: the training pass (fine-tuning) and
    the inference pass (softmax stage, predict) keep the same 3 of 6 units of every example."""
    X, y = data
    clf = _fit(pretrained["k_sparse"], X, y, fine_tune=True)
    net = clf.network_
    ks = net.layers[2]
    assert (ks.k, ks.alpha) == (3, 1.0) and ks.n_kept(6, training=True) == ks.n_kept(6, training=False) == 3
    train = net.forward(X, training=True, layers=net.layers[:3]).copy()
    infer = net.forward(X, training=False, layers=net.layers[:3])
    np.testing.assert_array_equal(train, infer)
    assert np.all(np.count_nonzero(infer, axis=1) == 3)
    # the pretrained autoencoder itself still keeps k = 2 in training and round(1.5 * 2) = 3 when encoding
    ae = pretrained["k_sparse"]
    assert ae.code_layers_[0].n_kept(6, training=True) == 2
    assert np.all(np.count_nonzero(ae.transform(X), axis=1) == 3)


def test_alpha_k_beyond_the_code_size_keeps_every_unit():
    ae = KSparseAutoencoder((4,), k=3, alpha=2.0, random_state=0).initialize(D)
    clf = EncoderClassifier.from_encoders(encoder_layers_of(ae), n_classes=2)
    assert clf.network_.layers[2].k == 4  # min(H, round(2 * 3))


def test_stacked_regularised_encoders_and_unfitted_ones_pretrained_in_fit(data):
    X, y = data
    first = ContractiveAutoencoder((6,), contraction=0.1, epochs=2, batch_size=20, random_state=5)
    second = KSparseAutoencoder((4,), k=2, epochs=2, batch_size=20, random_state=6)
    clf = _fit([first, second], X, y, fine_tune=True)  # both unfitted: pretrained greedily inside fit
    assert [reference_class(type(l)) for l in clf.network_.layers] == [Dense, Sigmoid, Dense, Identity, KSparse, Dense]
    assert not first._is_fitted() and not second._is_fitted()  # parameters stay untouched
    assert clf.score(X, y) >= 0.9  # as above


def test_a_training_only_layer_is_never_part_of_the_classifier(pretrained):
    wta = pretrained["wta"]
    assert any(isinstance(l, LifetimeWTA) for l in wta.encoder_layers)
    clf = EncoderClassifier.from_encoders(encoder_layers_of(wta), n_classes=3)
    assert not any(isinstance(l, LifetimeWTA) for l in clf.network_.layers)
    clf.network_.layers[0].W[...] = 0.0  # the classifier holds copies: the autoencoder keeps its weights
    assert np.any(wta.encoder_layers[0].W != 0.0)


def test_the_registered_gradient_check_of_a_fine_tuned_k_sparse_classifier_passes():
    run_checks([])  # fills REGISTRY
    fn, _ = REGISTRY["encoder_classifier_k_sparse"]
    result = fn()
    assert result.ok, result.report()
