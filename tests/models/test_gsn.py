"""numpy_ae.models.gsn and ``python -m numpy_ae gsn``: the denoising autoencoder's Markov chain, walkback, sample quality."""
import inspect
import json

import numpy as np
import pytest

from numpy_ae import DenoisingAutoencoder, StackedAutoencoder, load
from numpy_ae.cli import build_parser, main
from numpy_ae.experiments import gsn as gsn_experiment
from numpy_ae.experiments.claims import claim_problems
from numpy_ae.models.gsn import binarize, chain_samples, fit_walkback, gsn_chain, sample_quality, walkback_pairs
from numpy_ae.nn.noise import MaskingNoise, make_corruption

from _data import needs_mnist  # noqa: E402  (tests/ is on sys.path under pytest)

RNG = np.random.default_rng(0)
# binary "images" of 16 pixels: two prototypes with 10% of the pixels flipped
PROTOS = np.array([[1] * 8 + [0] * 8, [0] * 8 + [1] * 8], dtype=float)
X_BIN = np.abs(PROTOS[RNG.integers(0, 2, 120)] - (RNG.random((120, 16)) < 0.1))


def _dae(seed=0, **kw):
    params = dict(hidden_layer_sizes=(6,), corruption="salt-pepper", corruption_level=0.2, method="adam",
                  learning_rate=1e-2, epochs=3, batch_size=20, random_state=seed)
    params.update(kw)
    return DenoisingAutoencoder(**params)


DAE = _dae().fit(X_BIN)


# --------------------------------------------------------------------- chain
def test_chain_states_are_binary_with_the_right_shapes():
    x0 = RNG.uniform(0, 1, (5, 16))  # grey starting points: only x_0 may be non-binary
    chain = gsn_chain(DAE, x0, 4, rng=1)
    assert chain.states.shape == (5, 5, 16) and chain.means.shape == (4, 5, 16)
    np.testing.assert_array_equal(chain.states[0], x0)
    assert set(np.unique(chain.states[1:]).tolist()) <= {0.0, 1.0}
    assert np.all((chain.means > 0) & (chain.means < 1))  # sigmoid outputs: Bernoulli means strictly inside


def test_one_chain_step_is_corrupt_reconstruct_sample():
    x0 = X_BIN[:7]
    chain = gsn_chain(DAE, x0, 1, rng=5)
    rng = np.random.default_rng(5)  # the chain draws its corruption, then the Bernoulli uniforms, from one stream
    layer = make_corruption("salt-pepper", 0.2)  # the model's own noise
    layer.rng = rng
    p = DAE.reconstruct(layer.forward(x0, training=True))
    np.testing.assert_array_equal(chain.means[0], p)
    np.testing.assert_array_equal(chain.states[1], (rng.random(p.shape) < p).astype(float))


def test_chain_without_sampling_follows_the_means_and_other_corruptions_are_accepted():
    chain = gsn_chain(DAE, X_BIN[:3], 3, corruption=("masking", 0.5), rng=0, sample=False)
    np.testing.assert_array_equal(chain.states[1:], chain.means)
    layer = MaskingNoise(0.5)
    own = layer.rng
    gsn_chain(DAE, X_BIN[:3], 2, corruption=layer, rng=0)
    assert layer.rng is own  # the caller's layer is not rewired to the chain's Generator


def test_chain_seeds_reproduce():
    a, b, c = (gsn_chain(DAE, X_BIN[:4], 6, rng=s).states for s in (3, 3, 4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_chain_refuses_what_it_cannot_sample():
    mse = StackedAutoencoder(hidden_layer_sizes=(3,), corruption="masking", epochs=1, random_state=0).fit(X_BIN)
    with pytest.raises(ValueError, match="loss='cross_entropy'"):
        gsn_chain(mse, X_BIN[:2], 1)
    clean = _dae(corruption=None).fit(X_BIN)
    with pytest.raises(ValueError, match="corruption must be given"):
        gsn_chain(clean, X_BIN[:2], 1)
    gsn_chain(clean, X_BIN[:2], 1, corruption=("gaussian", 0.1))  # an explicit corruption is enough
    with pytest.raises(ValueError, match="corruption must be None"):
        gsn_chain(DAE, X_BIN[:2], 1, corruption="masking")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        gsn_chain(DAE, X_BIN[:2] * 2, 1)
    with pytest.raises(ValueError, match="n_steps must be"):
        gsn_chain(DAE, X_BIN[:2], 0)


def test_chain_samples_keep_every_thin_th_state_after_the_burn_in():
    samples, means = chain_samples(DAE, n_chains=4, per_chain=3, burn_in=5, thin=2, rng=11)
    assert samples.shape == means.shape == (12, 16)
    rng = np.random.default_rng(11)  # the same stream: the start images first, then gsn_chain's draws
    x0 = (rng.random((4, 16)) < 0.5).astype(float)
    chain = gsn_chain(DAE, x0, 5 + 3 * 2, rng=rng)
    for j, t in enumerate((7, 9, 11)):  # b + j k for j = 1..3
        np.testing.assert_array_equal(samples[4 * j:4 * (j + 1)], chain.states[t])
        np.testing.assert_array_equal(means[4 * j:4 * (j + 1)], chain.means[t - 1])
    # no burn-in, thin 1: the states of steps 1, 2, ...
    s1, _ = chain_samples(DAE, 2, per_chain=2, burn_in=0, rng=3)
    rng = np.random.default_rng(3)
    ref = gsn_chain(DAE, (rng.random((2, 16)) < 0.5).astype(float), 2, rng=rng)
    np.testing.assert_array_equal(s1, ref.states[1:].reshape(4, 16))
    lower, _ = chain_samples(DAE, 4, per_chain=3, burn_in=5, thin=2, corruption=("salt-pepper", 0.05), rng=11)
    assert not np.array_equal(lower, samples)  # the chain's own corruption is used


@pytest.mark.parametrize("kw, match", [
    ({"n_chains": 0}, r"n_chains must be an integer >= 1; got 0"),
    ({"per_chain": 0}, r"per_chain must be an integer >= 1; got 0"),
    ({"burn_in": -1}, r"burn_in must be an integer >= 0; got -1"),
    ({"thin": 0}, r"thin must be an integer >= 1; got 0"),
    ({"thin": 1.5}, r"thin must be an integer >= 1; got 1.5"),
])
def test_chain_samples_refuses_bad_settings(kw, match):
    params = dict(n_chains=2, per_chain=1, burn_in=0, thin=1)
    params.update(kw)
    with pytest.raises(ValueError, match=match):
        chain_samples(DAE, **params)


# ------------------------------------------------------------------ walkback
def test_walkback_pairs_are_k_chain_steps_from_the_data():
    X = X_BIN[:10]
    states, targets = walkback_pairs(DAE, X, 3, rng=7)
    assert states.shape == targets.shape == (30, 16)
    np.testing.assert_array_equal(targets, np.vstack([X, X, X]))  # every step reconstructs the ORIGINAL x
    np.testing.assert_array_equal(states[:10], X)  # x*_1 = x
    chain = gsn_chain(DAE, X, 2, rng=7)  # x*_2, x*_3: the chain's next two states, same seed
    np.testing.assert_array_equal(states[10:20], chain.states[1])
    np.testing.assert_array_equal(states[20:30], chain.states[2])
    one, t1 = walkback_pairs(DAE, X, 1, rng=7)
    np.testing.assert_array_equal(one, X)
    np.testing.assert_array_equal(t1, X)


def test_fit_walkback_trains_and_reproduces():
    a = fit_walkback(_dae(seed=2), X_BIN, walkback=2, epochs=10, random_state=1)
    b = fit_walkback(_dae(seed=2), X_BIN, walkback=2, epochs=10, random_state=1)
    c = fit_walkback(_dae(seed=2), X_BIN, walkback=2, epochs=10, random_state=9)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert not np.array_equal(a.theta, c.theta)  # the walkback chains' seed changes the pairs, so the fit
    assert len(a.history_["loss"]) == 10 and a.walkback_ == 2 and a.n_epochs_ == 10
    # two prototypes with 10% of the pixels flipped: the cross-entropy over 16 pixels starts near
    # 16 log 2 = 11.1 nats and can fall no lower than the flips' entropy, 16 H(0.1) = 5.2 nats;
    # measured 11.2 -> 5.4 in 10 epochs, so 0.6 of the first epoch's value is a clear margin
    assert a.history_["loss"][-1] < 0.6 * a.history_["loss"][0]
    # and the trained chain stays near the prototypes: the mean Hamming distance of its state after 5 steps
    # to the nearest prototype (data: 1.6; measured 2.35; an untrained chain's noise: about 6.4) is below 4
    states = gsn_chain(a, X_BIN[:20], 5, rng=0).states[-1]
    dist = np.abs(states[:, None, :] - PROTOS[None]).sum(axis=2).min(axis=1)
    assert dist.mean() < 4


def test_fit_walkback_refuses_bad_settings():
    with pytest.raises(ValueError, match="walkback must be"):
        fit_walkback(_dae(), X_BIN, walkback=0)
    with pytest.raises(ValueError, match="a corruption"):
        fit_walkback(_dae(corruption=None), X_BIN)
    with pytest.raises(ValueError, match="minibatch method"):
        fit_walkback(_dae(method="lbfgs"), X_BIN)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fit_walkback(_dae(), X_BIN + 1)


# ----------------------------------------------------------- sample quality
def test_sample_quality_by_hand():
    proba = np.array([[0.95, 0.05, 0.0], [0.2, 0.7, 0.1], [0.05, 0.05, 0.9], [0.91, 0.0, 0.09]])
    q = sample_quality(proba, threshold=0.9)
    assert q["confident_fraction"] == 0.75  # 0.95, 0.9 (>= counts) and 0.91; not 0.7
    assert q["histogram"] == [2, 1, 1] and q["class_coverage"] == 1.0
    assert sample_quality(proba[[0, 3]])["class_coverage"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="threshold must be"):
        sample_quality(proba, threshold=0)


def test_binarize():
    np.testing.assert_array_equal(binarize(np.array([[0.0, 0.5, 0.51, 1.0]])), [[0, 0, 1, 1]])
    assert binarize(np.zeros((1, 2), dtype=np.float32)).dtype == np.float32


# ----------------------------------------------------------------------- CLI
@needs_mnist
def test_gsn_cli_end_to_end(tmp_path, capsys):
    code = main(["gsn", "--dataset", "mnist", "--examples", "500", "--epochs", "1", "--hidden", "32",
                 "--walkback", "2", "--burn-in", "3", "--thin", "2", "--chains", "20", "--samples", "60", "--clf-epochs", "1", "--out", str(tmp_path),
                 "--json"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert {"confident_fraction", "class_coverage", "vae_confident_fraction", "class_histogram",
            "vae_class_coverage", "vae_class_histogram", "real_confident_fraction", "real_class_coverage",
            "classifier_test_accuracy", "threshold", "gsn_mean_confident_fraction",
            "vae_mean_confident_fraction"} <= set(result)
    for key in ("confident_fraction", "class_coverage", "vae_confident_fraction", "real_confident_fraction"):
        assert 0.0 <= result[key] <= 1.0, key
    assert sum(result["class_histogram"]) == sum(result["vae_class_histogram"]) == 60
    assert result["class_coverage"] == np.count_nonzero(result["class_histogram"]) / 10
    assert result["walkback"] == 2 and result["threshold"] == 0.9
    # 20 chains, 3 samples each, burn-in 3, every 2nd state: 3 + 2 * 3 = 9 steps per chain
    assert (result["n_chains"], result["per_chain"], result["burn_in"], result["thin"], result["steps"]) == \
        (20, 3, 3, 2, 9)
    # the default corruption (0.45, issue 20: at 0.3 or 0.4 the chains over-visit one class more) trains and samples
    assert result["noise"] == "salt-pepper 0.45" and result["chain_noise"] == 0.45
    assert result["vae_epochs"] == 2  # by default as many updates as the DAE: epochs x walkback
    assert result["classifier_test_accuracy"] > 0.5  # one epoch on 500 images: far above the 0.1 of chance
    assert any("walkback k=2" in line for line in lines)  # progress while it trains
    for name in ("chains", "chains_from_test", "samples", "histogram"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000, name
    dae = load(tmp_path / "gsn_dae.npz")
    assert dae.hidden_layer_sizes == (32,) and dae.corruption == "salt-pepper"
    # the claims are computed from this run's histograms and fractions
    assert claim_problems(result["claims"]) == []
    balance, confident = result["claims"]
    h = np.array(result["class_histogram"])
    assert balance["ours"] == pytest.approx(h.max() / h.sum()) == result["largest_class_share"]
    assert balance["baseline"] == pytest.approx(max(result["vae_class_histogram"]) / 60)
    assert balance["holds"] == (balance["ours"] <= 0.2) and "20%" in balance["claim"]
    assert confident["ours"] == result["confident_fraction"]
    assert confident["baseline"] == result["vae_confident_fraction"]
    assert confident["holds"] == (result["confident_fraction"] >= result["vae_confident_fraction"])


def test_gsn_default_noise_is_the_same_in_the_cli_and_run():
    """``--noise`` without the option and ``run()`` without the argument are the one documented default."""
    args = build_parser().parse_args(["gsn"])
    assert args.noise == inspect.signature(gsn_experiment.run).parameters["noise"].default == 0.45
    assert args.chain_noise is None  # None: the training level


@pytest.mark.parametrize("argv, match", [
    (["--walkback", "0"], "walkback must be"),
    (["--threshold", "1.5"], "threshold must be a probability"),
    (["--noise", "1.2"], "corruption level must be"),
    (["--burn-in", "-1"], "burn_in must be an integer >= 0; got -1"),
    (["--thin", "0"], "thin must be an integer >= 1; got 0"),
    (["--chains", "0"], "chains must be an integer >= 1; got 0"),
    (["--chains", "7"], "chains must divide samples (each chain gives samples / chains of them); got chains=7 for "
                        "samples=1000"),
    (["--chain-noise", "1"], "chain_noise must be a salt-and-pepper level in [0, 1)"),
    (["--samples", "0"], "samples must be"),
])
def test_gsn_bad_options_exit_2(argv, match, capsys, tmp_path):
    assert main(["gsn", "--out", str(tmp_path), "--no-download"] + argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and match in err
