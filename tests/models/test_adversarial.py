"""The adversarial autoencoder (numpy_ae.models.adversarial): MMD, priors, each phase's gradient and progress,
codes that match the prior, errors, save/load, and the ``aae`` command on a small subset of real data.

Everything is seeded. The networks are tiny (10 inputs, 32 hidden units), so the file takes a few seconds
of computation.
"""
import json

import numpy as np
import pytest

from numpy_ae import AdversarialAutoencoder, StackedAutoencoder, load
from numpy_ae.models.priors import GaussianPrior, MixturePrior, make_prior
from numpy_ae.analysis.mmd import median_bandwidth, mmd
from numpy_ae.check.gradcheck import check_function
from numpy_ae.check.registry import run_checks

from _data import DATASET, MNIST, needs_any_data  # noqa: E402  (tests/ is on sys.path under pytest)

CLI_DATASET = "mnist" if MNIST is not None else DATASET  # the 10k MNIST subset loads faster than Fashion-MNIST


def _data(n=512, seed=0):
    """10-D data on a curved 2-D sheet: x = sigmoid(u W + b), u uniform on [-1, 1]^2; values in (0, 1)."""
    rng = np.random.default_rng(seed)
    W, b = 2.0 * rng.standard_normal((2, 10)), 0.5 * rng.standard_normal(10)
    return 1.0 / (1.0 + np.exp(-(rng.uniform(-1.0, 1.0, (n, 2)) @ W + b)))


def _aae(**params):
    kw = dict(hidden_layer_sizes=(32,), discriminator_hidden=(32, 32), loss="mse", epochs=40, batch_size=64,
              learning_rate=1e-2, generator_learning_rate=1e-3, discriminator_learning_rate=1e-3, beta1=0.5,
              random_state=0)
    kw.update(params)
    return AdversarialAutoencoder(**kw)


# ------------------------------------------------------------------ MMD
def test_mmd_is_near_zero_for_one_distribution_and_matches_theory_for_a_shift():
    """Two samples of 500 from N(0, I_2), bandwidth h = 1.

    Same distribution: the estimator is unbiased with standard deviation 1.3e-3 here (measured over 200
    seeds; largest |value| 4.7e-3), so |MMD^2| < 6e-3 is 4.6 standard deviations. Shifted by d = 1 along
    z1: the closed form is 2 (h^2/(h^2+2))^(K/2) (1 - exp(-d^2 / (2 (h^2+2)))) = 0.1021, and the estimate's
    standard deviation is 0.014 (40 seeds), so it must lie within 0.1021 +- 0.07 (5 sd) and above 0.03.
    """
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((500, 2)), rng.standard_normal((500, 2))
    assert abs(mmd(X, Y, bandwidth=1.0)) < 6e-3
    theory = 2 * (1 / 3) * (1 - np.exp(-1 / 6))
    shifted = mmd(X, Y + [1.0, 0.0], bandwidth=1.0)
    assert shifted > 0.03 and abs(shifted - theory) < 0.07, (shifted, theory)
    # symmetric in its two arguments, and the median heuristic gives a positive estimate too
    assert mmd(Y + [1.0, 0.0], X, bandwidth=1.0) == pytest.approx(shifted, rel=1e-12)
    assert mmd(X, Y + [1.0, 0.0]) > 0.03


def test_mmd_equals_the_brute_force_sums_of_gretton_eq_3():
    """The vectorised estimate against the unbiased formula written as loops over pairs (i != j within each
    sample, all pairs across), on 7 and 9 points in 3-D, to round-off; and the median heuristic against the
    median of the explicit list of pairwise distances."""
    rng = np.random.default_rng(4)
    X, Y, h = rng.standard_normal((7, 3)), 0.5 + rng.standard_normal((9, 3)), 0.8
    k = lambda a, b: np.exp(-np.sum((a - b) ** 2) / (2 * h * h))  # noqa: E731
    m, n = len(X), len(Y)
    xx = sum(k(X[i], X[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(Y[i], Y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(X[i], Y[j]) for i in range(m) for j in range(n)) / (m * n)
    assert mmd(X, Y, bandwidth=h) == pytest.approx(xx + yy - 2 * xy, rel=1e-12, abs=1e-14)
    pooled = np.vstack([X, Y])
    d = [np.linalg.norm(pooled[i] - pooled[j]) for i in range(16) for j in range(i + 1, 16)]
    assert median_bandwidth(X, Y) == pytest.approx(np.median(d), rel=1e-12)


def test_mmd_median_bandwidth_and_subsampling():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 2))
    # the median distance between two N(0, I_2) points is sqrt(2 * 2 ln 2) = 1.665 (a Rayleigh median * sqrt 2)
    assert median_bandwidth(X) == pytest.approx(np.sqrt(4 * np.log(2)), rel=0.1)
    Y = rng.standard_normal((5000, 2))
    # max_samples caps the cost; the subsample is seeded, so the value is reproducible
    assert mmd(X, Y, max_samples=400, random_state=3) == mmd(X, Y, max_samples=400, random_state=3)


@pytest.mark.parametrize("kwargs, match", [
    (dict(kernel="laplace"), "kernel must be 'rbf'"),
    (dict(bandwidth=0.0), "bandwidth must be 'median' or a finite number > 0; got 0.0"),
    (dict(bandwidth="mean"), "bandwidth must be 'median'"),
])
def test_mmd_refuses_bad_options(kwargs, match):
    X = np.random.default_rng(0).standard_normal((10, 2))
    with pytest.raises(ValueError, match=match):
        mmd(X, X + 1, **kwargs)


# ---------------------------------------------------------------- priors
def test_mixture_prior_components_have_the_stated_means_and_spreads():
    prior = MixturePrior(n_components=10, dim=2, radius=2.0, radial_std=0.5, tangential_std=0.1)
    rng = np.random.default_rng(0)
    k = 3
    Z = prior.sample(4000, rng, labels=np.full(4000, k))
    phi = 2 * np.pi * k / 10
    u, t = np.array([np.cos(phi), np.sin(phi)]), np.array([-np.sin(phi), np.cos(phi)])
    # standard errors with 4000 draws: mean 0.5/63 = 0.008 radially, std about 1.1% relative: 5 se margins
    np.testing.assert_allclose(Z.mean(0), prior.means[k], atol=0.04)
    assert np.std((Z - prior.means[k]) @ u) == pytest.approx(0.5, rel=0.06)
    assert np.std((Z - prior.means[k]) @ t) == pytest.approx(0.1, rel=0.06)
    free = prior.sample(5000, rng)  # no labels: components drawn uniformly
    nearest = np.argmin(((free[:, None, :] - prior.means[None]) ** 2).sum(-1), axis=1)
    assert np.bincount(nearest, minlength=10).min() > 400  # 500 expected per component
    with pytest.raises(ValueError, match=r"labels must be an int array of shape \(3,\) with values in 0..9"):
        prior.sample(3, rng, labels=np.array([0, 10, 2]))
    with pytest.raises(ValueError, match="labels must be None for a GaussianPrior"):
        GaussianPrior(2).sample(3, rng, labels=np.zeros(3, dtype=int))


def test_component_of_finds_the_component_that_drew_each_prior_sample():
    """Samples of component k are assigned to k (tangential std 0.1 at radius 2 against spokes 36 degrees
    apart: 0.08% of 5000 fell nearer a neighbour, measured); a point on spoke 3, far out along it, is
    still spoke 3 (the radial std is 5 times the tangential: Mahalanobis, not Euclidean, distance)."""
    prior, k = MixturePrior(), np.arange(5000) % 10
    for dim in (2, 4):
        p = MixturePrior(dim=dim)
        assert np.mean(p.component_of(p.sample(5000, np.random.default_rng(dim), labels=k)) == k) > 0.995
    phi = 2 * np.pi * 3 / 10
    assert prior.component_of([[3.5 * np.cos(phi), 3.5 * np.sin(phi)]]).tolist() == [3]
    with pytest.raises(ValueError, match=r"Z must have shape \(N, 2\)"):
        prior.component_of(np.zeros((3, 3)))


def test_unknown_prior_is_a_value_error_naming_prior_the_rule_and_the_value():
    msg = r"prior must be one of \['gaussian', 'mixture'\] \(the distribution the codes are matched to\); got 'laplace'"
    with pytest.raises(ValueError, match=msg):
        AdversarialAutoencoder(prior="laplace")
    with pytest.raises(ValueError, match=msg):
        make_prior("laplace", 2)
    ae = AdversarialAutoencoder()
    with pytest.raises(ValueError, match="prior must be one of"):
        ae.set_params(prior="uniform")
    assert ae.prior == "gaussian"  # refused: unchanged
    for name, bad, rule in (("label_smoothing", 1.0, r"a number in \[0, 1\)"), ("code_noise", -0.1, "a finite number >= 0"),
                            ("learning_rate_decay", 0.0, r"a number in \(0, 1\]")):
        with pytest.raises(ValueError, match=f"{name} must be {rule}.*; got {bad}"):
            AdversarialAutoencoder(**{name: bad})
    with pytest.raises(ValueError, match="supervised=True needs prior='mixture'"):
        AdversarialAutoencoder(supervised=True)
    with pytest.raises(ValueError, match="y is required with supervised=True"):
        _aae(prior="mixture", supervised=True, epochs=1).fit(_data(20))
    with pytest.raises(ValueError, match="y has 4 classes but the mixture has n_components=3"):
        _aae(prior="mixture", supervised=True, n_components=3, epochs=1).fit(_data(20), np.arange(20) % 4)


# ------------------------------------------------------------- gradients
def test_every_phase_objective_passes_its_registered_gradient_check():
    names = ["aae_reconstruction_cross_entropy", "aae_reconstruction_mse", "aae_discriminator_gaussian",
             "aae_discriminator_supervised_mixture", "aae_generator_gaussian", "aae_generator_supervised_mixture",
             "aae_discriminator_input_gradient", "aae_generator_instance_noise", "aae_discriminator_label_smoothing"]
    for res in run_checks(names):
        assert res.ok and res.conclusive and res.rel_diff < 1e-9, res.report()


def test_discriminator_input_gradient_matches_finite_differences_on_a_trained_model():
    """The gradient the generator phase sends into the encoder, dJ/dz, at a trained (not random) point,
    against UFLDL-style centred differences in float64 (norm-relative difference below 1e-9)."""
    aae = _aae(epochs=3).fit(_data(128))
    rng = np.random.default_rng(5)
    Z_prior = aae.prior_.sample(16, rng)
    T = np.vstack([np.ones((16, 1)), np.zeros((16, 1))])

    def f(z):
        J, dZ = aae._discriminator_pass(np.vstack([Z_prior, z.reshape(16, 2)]), T, input_grad=True)
        return J, dZ[16:].ravel()

    res = check_function(f, aae.transform(_data(16, seed=9)).ravel(), eps=1e-5)
    assert res.rel_diff < 1e-9 and res.ok, res.report()


def test_each_phase_reduces_its_own_loss():
    """20 Adam steps of one phase alone, on one fixed minibatch (and fixed prior samples), from the same
    initial model: each objective falls. Measured: reconstruction x0.2, discriminator 0.69 -> 0.5, generator
    0.7 -> 0.3; the asserted factors leave wide margins (one step of Adam already moves each downhill)."""
    X = _data(32)
    aae = _aae().initialize(10)
    opt = aae._optimizers
    J0 = aae.reconstruction_loss_and_grad(X)
    for _ in range(20):
        aae.reconstruction_loss_and_grad(X)
        opt["reconstruction"].step(aae.network_.theta, aae.network_.grad)
    assert aae.reconstruction_loss_and_grad(X) < 0.7 * J0

    Zp, Zc = aae.prior_.sample(32, np.random.default_rng(0)), aae.encode(X)
    D0, _ = aae.discriminator_loss_and_grad(Zp, Zc)
    for _ in range(20):
        aae.discriminator_loss_and_grad(Zp, Zc)
        opt["discriminator"].step(aae.discriminator_.theta, aae.discriminator_.grad)
    D1, accuracy = aae.discriminator_loss_and_grad(Zp, Zc)
    assert D1 < 0.9 * D0 and accuracy > 0.5

    decoder_before = aae.network_.theta[aae._decoder_mask].copy()
    disc_before = aae.discriminator_.theta.copy()
    G0 = aae.generator_loss_and_grad(X)
    for _ in range(20):
        aae.generator_loss_and_grad(X)
        opt["generator"].step(aae.network_.theta, aae.network_.grad, aae._decoder_mask)
    assert aae.generator_loss_and_grad(X) < 0.9 * G0
    # the generator phase moves the encoder only: decoder and discriminator are untouched
    np.testing.assert_array_equal(aae.network_.theta[aae._decoder_mask], decoder_before)
    np.testing.assert_array_equal(aae.discriminator_.theta, disc_before)


# ------------------------------------------------------------- training
def test_aae_codes_are_closer_to_the_prior_than_a_plain_autoencoders(capsys):
    """Same data, hidden width, code size 2, epochs and reconstruction learning rate. MMD^2 to N(0, I) with
    h = 1 on the 512 training codes against 512 prior draws. Measured over seeds 0-2: the AAE 0.025-0.083,
    the plain AE 0.33-0.36 (its codes have std 0.1-0.3: nothing asks them to fill the prior), so the factor
    2 asserted here holds with room; the AAE also still reconstructs (MSE 0.0014-0.0023 against 0.001-0.0016
    for the plain AE, and 0.07 for predicting the mean)."""
    X = _data()
    aae = _aae(verbose=1).fit(X)
    ae = StackedAutoencoder(hidden_layer_sizes=(32, 2), loss="mse", epochs=40, batch_size=64, learning_rate=1e-2,
                            random_state=0).fit(X)
    P = np.random.default_rng(100).standard_normal((512, 2))
    m_aae, m_ae = mmd(aae.transform(X), P, bandwidth=1.0), mmd(ae.transform(X), P, bandwidth=1.0)
    assert m_aae < 0.5 * m_ae, (m_aae, m_ae)
    assert -aae.score(X) < 0.2 * np.mean((X - X.mean(0)) ** 2)
    assert aae.prior_mmd(X, bandwidth=1.0) < 0.5 * m_ae
    # history and progress: one entry and one line per epoch, with the three losses
    h = aae.history_
    assert all(len(h[k]) == 40 for k in ("reconstruction", "discriminator", "generator", "discriminator_accuracy"))
    assert h["reconstruction"][-1] < 0.2 * h["reconstruction"][0]
    out = capsys.readouterr().out
    assert out.count("discriminator") == 40 and "epoch  40/40" in out


def test_supervised_mixture_puts_each_class_on_its_component():
    """Three well separated clusters labelled 0, 1, 2; with supervised=True the discriminator sees the label,
    so the codes of class c must gather at component c: the mean code of each class is nearest to its own
    component's mean (components 120 degrees apart, radius 2). The generator here needs a step size 10 times
    the discriminator's (1e-2 against 1e-3): with 1e-3 for both the discriminator wins (accuracy 0.98) and the
    codes of all classes stay together near one component. With these settings every class met its own
    component for seeds 0-3 (distance of the class mean to it 0.08-0.35, the components 3.5 apart)."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 100)
    centres = rng.uniform(0.1, 0.9, (3, 10))
    X = np.clip(centres[y] + 0.05 * rng.standard_normal((300, 10)), 0, 1)
    aae = _aae(prior="mixture", n_components=3, supervised=True, generator_learning_rate=1e-2).fit(X, y + 10)
    assert aae.classes_.tolist() == [10, 11, 12]
    Z = aae.transform(X)
    means = aae.prior_.means
    for c in range(3):
        d = np.linalg.norm(means - Z[y == c].mean(0), axis=1)
        assert np.argmin(d) == c and d[c] < 1.0, (c, d)
    assert aae.sample(4, y=11, random_state=0).shape == (4, 10)
    with pytest.raises(ValueError, match="y holds a label 5 that fit did not see"):
        aae.sample(2, y=5)


def test_save_load_is_exact_including_the_discriminator(tmp_path):
    X = _data(64)
    aae = _aae(prior="mixture", n_components=4, supervised=True, epochs=2).fit(X, np.arange(64) % 4)
    back = load(aae.save(tmp_path / "aae.npz"))
    assert type(back) is AdversarialAutoencoder and repr(back) == repr(aae)
    np.testing.assert_array_equal(back.network_.theta, aae.network_.theta)
    np.testing.assert_array_equal(back.discriminator_.theta, aae.discriminator_.theta)
    np.testing.assert_array_equal(back.classes_, aae.classes_)
    np.testing.assert_array_equal(back.transform(X), aae.transform(X))
    np.testing.assert_array_equal(back.sample(5, y=2, random_state=1), aae.sample(5, y=2, random_state=1))
    assert back.history_ == aae.history_
    assert not hasattr(back, "discriminator_theta_")  # copied into the discriminator, not kept twice


def test_schedule_and_stabilisers_act_as_documented():
    """learning_rate_decay multiplies every step size by gamma each epoch (3 epochs: gamma^2 at the end);
    code_noise and label_smoothing change training (other bits than without), and at 0 draw nothing."""
    X = _data(64)
    aae = _aae(epochs=3, learning_rate_decay=0.5).fit(X)
    assert {k: o.learning_rate for k, o in aae._optimizers.items()} == pytest.approx(
        {"reconstruction": 0.25e-2, "discriminator": 0.25e-3, "generator": 0.25e-3})
    plain = _aae(epochs=2).fit(X).network_.theta
    for params in (dict(code_noise=0.2), dict(label_smoothing=0.1)):
        assert not np.array_equal(_aae(epochs=2, **params).fit(X).network_.theta, plain), params
    np.testing.assert_array_equal(_aae(epochs=2, code_noise=0.0, label_smoothing=0.0).fit(X).network_.theta, plain)


def test_same_seed_same_bits():
    X = _data(64)
    a, b = _aae(epochs=2, random_state=3).fit(X), _aae(epochs=2, random_state=3).fit(X)
    np.testing.assert_array_equal(a.network_.theta, b.network_.theta)
    np.testing.assert_array_equal(a.discriminator_.theta, b.discriminator_.theta)


# ------------------------------------------------------------------- CLI
@needs_any_data
def test_aae_cli_fast_mode_writes_figures_and_json(tmp_path, capsys):
    from numpy_ae.cli import main

    code = main(["aae", "--dataset", CLI_DATASET, "--prior", "mixture", "--n-train", "600", "--n-test", "300",
                 "--epochs", "1", "--hidden", "32", "--discriminator-hidden", "16", "--out", str(tmp_path),
                 "--json"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert {"mmd_aae", "mmd_vae", "mmd_vae_mean", "mmd_ae", "test_mse", "mixture_accuracy"} <= set(result)
    assert result["prior"] == "mixture" and result["n_train"] == 600 and result["n_test"] == 300
    # the claims are computed from this run's figures: holds is the comparison of ours with the baseline
    mmd_claims, (mix,) = result["claims"][:2], result["claims"][2:]
    assert [(c["ours"], c["baseline"]) for c in mmd_claims] == [(result["mmd_aae"], result["mmd_vae"]),
                                                                 (result["mmd_aae"], result["mmd_ae"])]
    assert all(c["holds"] == (c["ours"] < c["baseline"]) for c in mmd_claims)
    assert mix["ours"] == result["mixture_accuracy"] and mix["holds"] == (mix["ours"] >= 0.8)
    assert 0 <= mix["ours"] <= 1 and len(result["mixture_accuracy_per_class"]) == 10
    # MMD^2 with an RBF kernel lies in [-small, 2]; pixel MSE of images in [0, 1] lies in [0, 1]
    assert all(-0.05 < result[k] < 2 for k in ("mmd_aae", "mmd_vae", "mmd_ae")) and 0 < result["test_mse"] < 1
    assert any("the VAE targets N(0, I)" in line for line in lines)
    assert any("epoch   1/1" in line and "discriminator" in line for line in lines)
    for name in ("codes", "samples", "mixture_samples", "mixture_codes"):  # the supervised mixture AAE: by default
        assert (tmp_path / f"{name}.png").stat().st_size > 1000, name
    assert load(tmp_path / "aae.npz").prior == "mixture"


def test_aae_cli_unknown_prior_exits_2_naming_prior(capsys):
    from numpy_ae.cli import main

    assert main(["aae", "--prior", "laplace", "--n-train", "10"]) == 2
    assert capsys.readouterr().err.startswith("error: prior must be one of ['gaussian', 'mixture']")
