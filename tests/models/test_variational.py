"""Variational autoencoders: the KL term, the reparameterisation layer, the bounds, training, bad input.

Statistical tests state their sample size and compare with a standard error
(SE) computed from the same samples; every draw is seeded, so each test is a
fixed computation that either meets its bound or not. A bound of 4 SE would
be missed by chance with probability 6e-5 for a correct implementation.
"""
import warnings

import numpy as np
import pytest

import numpy_ae
from numpy_ae import VariationalAutoencoder
from numpy_ae.check.gradcheck import check_model
from numpy_ae.nn.losses import GaussianNLL
from numpy_ae.train.loop import TrainingDiverged
from numpy_ae.nn.reparameterize import Reparameterize, gaussian_kl, gaussian_kl_grad

LOG_2PI = np.log(2 * np.pi)


def manifold(n, seed=0):
    """Binary data on a 2-D manifold in 16-D: t ~ U(-1/2, 1/2)^2, x_d ~ Bernoulli(sigmoid(2 t W + b))."""
    rng = np.random.default_rng(seed)
    W = np.random.default_rng(100).standard_normal((2, 16)) * 4
    b = np.random.default_rng(101).standard_normal(16)
    t = rng.uniform(-0.5, 0.5, (n, 2))
    P = 1 / (1 + np.exp(-(2 * t @ W + b)))
    return (rng.uniform(size=P.shape) < P).astype(float)


@pytest.fixture(scope="module")
def trained():
    """A VAE (16-32-(2x4) / 4-32-16, ELU) trained 40 epochs on 1,000 examples: about 0.2 s."""
    X = manifold(1000)
    vae = VariationalAutoencoder((32,), n_latent=4, epochs=40, batch_size=50, random_state=0)
    start = vae.initialize(16).elbo(X).neg_elbo.mean()
    vae.fit(X)
    return vae, X, start


def _layer(parameterization, beta=1.0, seed=0):
    layer = Reparameterize(3, parameterization, beta=beta)
    layer.init_params(np.random.default_rng(seed))
    return layer


# ------------------------------------------------------------------ the KL term
def test_gaussian_kl_formula_and_shapes():
    mu = np.array([[0.0, 1.0], [2.0, -1.0]])
    log_var = np.array([[0.0, np.log(4.0)], [-1.0, 0.0]])
    expected = 0.5 * np.array([(1 + 0 - 1 - 0) + (4 + 1 - 1 - np.log(4.0)),
                               (np.exp(-1.0) + 4 - 1 + 1) + (1 + 1 - 1 - 0)])
    kl = gaussian_kl(mu, log_var)
    assert kl.shape == (2,) and kl.dtype == np.float64
    np.testing.assert_allclose(kl, expected, rtol=1e-15)
    assert gaussian_kl(np.zeros((3, 5)), np.zeros((3, 5))).tolist() == [0.0] * 3  # q = p: KL exactly 0
    dmu, dlog_var = gaussian_kl_grad(mu, log_var)
    np.testing.assert_array_equal(dmu, mu)
    np.testing.assert_allclose(dlog_var, 0.5 * (np.exp(log_var) - 1), rtol=1e-15)
    with pytest.raises(ValueError, match="one shape"):
        gaussian_kl(np.zeros((2, 3)), np.zeros((2, 4)))


def test_gaussian_kl_equals_a_monte_carlo_estimate_within_4_standard_errors():
    r"""KL(q||p) = E_q[log q(z) - log p(z)], estimated with M = 200,000 draws of z ~ q per example,
    for 4 posteriors from sharp (sigma = 0.14) to wide (sigma = 2.7). SE = std of the terms / sqrt(M)."""
    rng = np.random.default_rng(7)
    M = 200_000
    mu = np.array([[0.0, 0.5, -1.0], [2.0, 0.0, 0.3], [-0.7, 1.5, 0.0], [0.1, -0.2, 3.0]])
    log_var = np.array([[0.0, -1.0, 1.0], [-4.0, 2.0, 0.5], [0.2, -0.3, -2.0], [1.0, 0.0, -0.5]])
    closed = gaussian_kl(mu, log_var)
    for n in range(len(mu)):
        sigma = np.exp(log_var[n] / 2)
        eps = rng.standard_normal((M, 3))
        z = mu[n] + sigma * eps
        log_q = (-0.5 * eps ** 2 - np.log(sigma) - 0.5 * LOG_2PI).sum(axis=1)
        log_p = (-0.5 * z ** 2 - 0.5 * LOG_2PI).sum(axis=1)
        terms = log_q - log_p
        se = terms.std() / np.sqrt(M)
        assert abs(terms.mean() - closed[n]) < 4 * se, (n, terms.mean(), closed[n], se)
        assert se < 0.02 * closed[n]  # and the test has teeth: the SE is under 2% of the KL itself


# ------------------------------------------------------------ the layer itself
def test_the_two_parameterisations_give_the_same_objective_at_equivalent_parameters():
    """sigma = exp(log_var / 2): same z, same KL penalty (to 1e-12 relative), and gradients related
    by the chain rule dJ/dlog_var = dJ/dsigma * sigma / 2 (to 1e-12)."""
    rng = np.random.default_rng(3)
    mu = rng.standard_normal((50, 3))
    log_var = rng.uniform(-4.0, 3.0, (50, 3))
    sigma = np.exp(log_var / 2)
    a, b = _layer("log_var", beta=1.7, seed=5), _layer("sigma", beta=1.7, seed=5)  # same eps stream
    za = a.forward(np.hstack([mu, log_var]))
    zb = b.forward(np.hstack([mu, sigma]))
    np.testing.assert_allclose(za, zb, rtol=1e-13, atol=1e-15)
    assert a.penalty == pytest.approx(b.penalty, rel=1e-12)
    assert a.penalty == pytest.approx(1.7 * gaussian_kl(mu, log_var).mean(), rel=1e-12)
    dz = rng.standard_normal((50, 3))
    da, db = a.backward(dz.copy()).copy(), b.backward(dz.copy()).copy()
    np.testing.assert_allclose(da[:, :3], db[:, :3], rtol=1e-12)  # dJ/dmu
    np.testing.assert_allclose(da[:, 3:], db[:, 3:] * sigma / 2, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("parameterization", ["log_var", "sigma"])
def test_z_has_mean_mu_and_standard_deviation_sigma(parameterization):
    """M = 100,000 rows with the same (mu, sigma): per unit, the sample mean is within 4 SE of mu
    (SE = sigma / sqrt(M)) and the sample std within 4 SE of sigma (SE of a normal sample's std:
    sigma / sqrt(2M))."""
    M = 100_000
    mu, sigma = np.array([0.5, -2.0, 0.0]), np.array([0.1, 1.0, 3.0])
    scale = np.log(sigma ** 2) if parameterization == "log_var" else sigma
    X = np.tile(np.concatenate([mu, scale]), (M, 1))
    z = _layer(parameterization, seed=11).forward(X)
    assert z.shape == (M, 3)
    assert np.all(np.abs(z.mean(axis=0) - mu) < 4 * sigma / np.sqrt(M))
    assert np.all(np.abs(z.std(axis=0) - sigma) < 4 * sigma / np.sqrt(2 * M))


def test_freeze_noise_makes_the_training_forward_deterministic():
    X = np.random.default_rng(0).standard_normal((8, 6))
    layer = _layer("log_var")
    first, second = layer.forward(X).copy(), layer.forward(X).copy()
    assert not np.array_equal(first, second)  # fresh eps each pass
    layer.freeze_noise()
    frozen = layer.forward(X).copy()
    np.testing.assert_array_equal(layer.forward(X), frozen)
    np.testing.assert_array_equal(layer.forward(X), frozen)
    layer.freeze_noise(False)
    assert not np.array_equal(layer.forward(X), frozen)


@pytest.mark.parametrize("parameterization", ["log_var", "sigma"])
def test_inference_returns_mu(parameterization):
    X = np.random.default_rng(1).standard_normal((5, 6))
    layer = _layer(parameterization)
    out = layer.forward(X, training=False)
    np.testing.assert_array_equal(out, X[:, :3])
    assert not np.shares_memory(out, X)
    with pytest.raises(ValueError, match=r"takes \(N, 6\) inputs"):
        layer.forward(np.zeros((5, 5)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigma_parameterisation_stays_finite_as_sigma_goes_to_0(dtype):
    """sigma columns at 0, 1e-300 (1e-40 in float32: a subnormal) and -0.0: penalty and gradient finite,
    no warning, and the penalty is the guarded KL 0.5 (sigma^2 + mu^2 - 1 - log(tau + sigma^2))."""
    tiny_sigma = 1e-300 if dtype == np.float64 else 1e-40
    mu = np.array([[0.3, -1.0, 0.0], [1.0, 0.0, 2.0]])
    sigma = np.array([[0.0, tiny_sigma, -0.0], [tiny_sigma, 0.0, 1.0]])
    X = np.hstack([mu, sigma]).astype(dtype)
    layer = _layer("sigma", beta=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = layer.forward(X)
        dX = layer.backward(np.ones((2, 3), dtype=dtype))
    assert np.all(np.isfinite(z)) and np.all(np.isfinite(dX)) and np.isfinite(layer.penalty)
    tau = np.finfo(dtype).tiny
    s2 = sigma.astype(dtype).astype(np.float64) ** 2
    expected = 2.0 * (0.5 * (s2 + mu.astype(dtype).astype(np.float64) ** 2 - 1 - np.log(tau + s2))).sum() / 2
    assert layer.penalty == pytest.approx(expected, rel=1e-6 if dtype == np.float32 else 1e-14)
    assert layer.penalty > 0.5 * -np.log(tau)  # large (the KL's pole), but a number
    # the KL gradient pulls sigma away from 0 (dKL/dsigma ~ -1/sigma < 0 for a tiny positive sigma)
    layer.freeze_noise()
    layer.forward(X)
    d0 = layer.backward(np.zeros((2, 3), dtype=dtype))
    assert d0[0, 4] < 0 and d0[1, 3] < 0 and d0[0, 3] == 0.0  # exactly 0 at sigma = 0 (the guarded KL's minimum slope)


def test_reparameterize_checks_its_arguments():
    for make, match in [(lambda: Reparameterize(0), "n_latent must be an integer >= 1; got 0"),
                        (lambda: Reparameterize(2, "std"), "parameterization must be one of"),
                        (lambda: Reparameterize(2, beta=-1.0), "beta must be a finite number >= 0; got -1.0")]:
        with pytest.raises(ValueError, match=match):
            make()


# --------------------------------------------------------------- the Gaussian likelihood
def test_gaussian_nll_is_the_normal_log_density_summed_over_pixels_averaged_over_examples():
    rng = np.random.default_rng(2)
    Y, T = rng.standard_normal((7, 5)), rng.standard_normal((7, 5))
    v = 0.3
    log_density = -0.5 * (T - Y) ** 2 / v - 0.5 * np.log(2 * np.pi * v)  # log N(t; y, v), element-wise
    loss = GaussianNLL(variance=v)
    assert loss.forward(Y, T) == pytest.approx(-log_density.sum(axis=1).mean(), rel=1e-14)
    np.testing.assert_allclose(loss.backward(), (Y - T) / (v * 7), rtol=1e-14)
    for bad in (0, -1.0, np.inf, "1", True):
        with pytest.raises(ValueError, match="variance must be a finite number > 0"):
            GaussianNLL(bad)


# ----------------------------------------------------------------- the estimator
def test_the_training_objective_is_the_negative_elbo_per_example():
    """With beta = 1 and no weight decay, the model's objective with a given eps equals the mean of
    elbo(X).neg_elbo drawn with the same eps (the reduction: summed over pixels and latent units,
    averaged over examples), to 1e-12."""
    X = manifold(40)
    vae = VariationalAutoencoder((6,), n_latent=3, random_state=0).initialize(16)
    layer = vae.reparameterize_
    layer.freeze_noise()
    layer._eps = np.random.default_rng(9).standard_normal((40, 3))  # the draw elbo(X, 9) makes
    J = vae.network_.compute(X)
    parts = vae.elbo(X, random_state=9)
    assert J == pytest.approx(parts.neg_elbo.mean(), rel=1e-12)
    np.testing.assert_allclose(parts.neg_elbo, parts.recon + parts.kl, rtol=1e-15)
    assert layer.penalty == pytest.approx(parts.kl.mean(), rel=1e-12)


def test_elbo_is_reproducible_per_seed(trained):
    vae, X, _ = trained
    a, b, c = vae.elbo(X[:100], 3), vae.elbo(X[:100], 3), vae.elbo(X[:100], 4)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.recon, c.recon)
    np.testing.assert_array_equal(a.kl, c.kl)  # closed form: no eps in it
    assert a.recon.shape == a.kl.shape == a.neg_elbo.shape == (100,)
    assert np.all(a.kl >= 0) and np.all(a.recon > 0)
    np.testing.assert_array_equal(vae.importance_weighted_bound(X[:50], k=3, random_state=1),
                                  vae.importance_weighted_bound(X[:50], k=3, random_state=1))


def test_training_lowers_the_negative_elbo_and_sample_generates(trained):
    vae, X, start = trained
    final = vae.elbo(X).neg_elbo.mean()
    assert final < 0.5 * start, (start, final)  # measured: 19.9 -> 7.7 nats per example
    X_test = manifold(500, seed=1)
    assert vae.elbo(X_test).neg_elbo.mean() < 0.5 * start  # it generalises: the same manifold, new points
    assert vae.score(X_test) == -vae.elbo(X_test).neg_elbo.mean()
    S = vae.sample(7, random_state=0)
    assert S.shape == (7, 16) and np.all((S > 0) & (S < 1))
    np.testing.assert_array_equal(S, vae.sample(7, random_state=0))
    assert not np.array_equal(S, vae.sample(7, random_state=1))
    np.testing.assert_array_equal(vae.reconstruct(X[:5]), vae.inverse_transform(vae.transform(X[:5])))


def test_transform_is_mu_and_deterministic(trained):
    vae, X, _ = trained
    H = X[:20]
    for layer in vae.encoder_layers[:-1]:
        H = layer.forward(H, training=False)
    np.testing.assert_array_equal(vae.transform(X[:20]), H[:, :4])
    np.testing.assert_array_equal(vae.transform(X[:20]), vae.transform(X[:20]))


def test_sample_codes_draw_q_z_given_x(trained):
    """One row repeated 4000 times: the draws have mean mu(x) and standard deviation sigma(x) (from the
    encoder's log_var output, sigma = exp(log_var / 2)) within 5 standard errors; seeded: same seed, same draws."""
    vae, X, _ = trained
    H = np.repeat(X[:1], 4000, axis=0)
    Z = vae.sample_codes(H, random_state=1)
    for layer in vae.encoder_layers[:-1]:
        H = layer.forward(H, training=False)
    mu, sigma = H[0, :4], np.exp(H[0, 4:] / 2)
    assert np.all(np.abs(Z.mean(0) - mu) < 5 * sigma / np.sqrt(4000)), (Z.mean(0), mu)
    np.testing.assert_allclose(Z.std(0), sigma, rtol=5 / np.sqrt(2 * 4000))
    np.testing.assert_array_equal(vae.sample_codes(X[:5], random_state=2), vae.sample_codes(X[:5], random_state=2))


def test_importance_weighted_bound_exceeds_the_elbo_and_grows_with_k(trained):
    r"""Burda et al.: E[L_1] = ELBO, and E[L_k] is non-decreasing in k with L_k -> log p(x).

    On 2,000 test examples (per-example differences are paired, and the same seed makes the k draws
    nested: L_10 uses the first 10 of L_100's samples), each mean difference is compared with its
    standard error: L_1 agrees with -neg_elbo within 4 SE (both unbiased for the ELBO; measured
    0.9 SE), and L_10 - L_1 and L_100 - L_10 are positive by more than 4 SE (measured 14 and 7 SE):
    a real increase, not noise."""
    vae, _, _ = trained
    X = manifold(2000, seed=2)
    elbo = -vae.elbo(X, random_state=5).neg_elbo
    L = {k: vae.importance_weighted_bound(X, k=k, random_state=6) for k in (1, 10, 100)}

    def mean_and_se(d):
        return d.mean(), d.std() / np.sqrt(len(d))

    m, se = mean_and_se(L[1] - elbo)
    assert abs(m) < 4 * se, (m, se)
    for a, b in ((1, 10), (10, 100)):
        m, se = mean_and_se(L[b] - L[a])
        assert m > 4 * se, (a, b, m, se)
    m, se = mean_and_se(L[100] - elbo)
    assert m > 4 * se
    assert np.all(L[100] < 0)  # a bound on log p(x) of binary data: a log-probability, below 0


def test_kl_per_unit_and_active_units(trained):
    vae, X, _ = trained
    per_unit = vae.kl_per_unit(X)
    assert per_unit.shape == (4,) and np.all(per_unit >= 0)
    assert per_unit.sum() == pytest.approx(vae.elbo(X).kl.mean(), rel=1e-12)
    variances = vae.transform(X).var(axis=0)
    assert vae.active_units(X) == int((variances > 1e-2).sum())
    assert vae.active_units(X) >= 2  # a 2-D manifold needs at least two informative units
    assert vae.active_units(X, threshold=0.0) == 4 and vae.active_units(X, threshold=1e9) == 0


def test_gaussian_likelihood_and_sigma_parameterisation_train_on_real_valued_data():
    rng = np.random.default_rng(4)
    t = rng.uniform(-1, 1, (600, 1))
    X = np.hstack([np.sin(3 * t), np.cos(3 * t), t ** 2, t]) + 0.05 * rng.standard_normal((600, 4))
    vae = VariationalAutoencoder((16,), n_latent=2, likelihood="gaussian", variance=0.01,
                                 parameterization="sigma", epochs=60, batch_size=50, random_state=0)
    start = vae.initialize(4).elbo(X).neg_elbo.mean()
    vae.fit(X)
    end = vae.elbo(X).neg_elbo.mean()
    assert end < start - 0.5 * abs(start), (start, end)  # measured: 687 -> 8.8 nats per example
    assert vae.sample(3, random_state=0).shape == (3, 4)


def test_float32_training_and_scoring():
    X = manifold(200).astype(np.float32)
    vae = VariationalAutoencoder((8,), n_latent=2, epochs=5, batch_size=50, dtype="float32", random_state=0).fit(X)
    assert vae.transform(X).dtype == np.float32 and vae.sample(2, random_state=0).dtype == np.float32
    assert np.all(np.isfinite(vae.elbo(X).neg_elbo))


def test_the_gradient_checker_refuses_unfrozen_noise():
    vae = VariationalAutoencoder((4,), n_latent=2, random_state=0).initialize(5)
    with pytest.raises(ValueError, match="freeze_noise"):
        check_model(vae.network_, np.random.default_rng(0).uniform(0, 1, (6, 5)), eps=1e-5)


# ----------------------------------------------------------------------- bad input
@pytest.mark.parametrize("params, match", [
    ({"n_latent": 0}, "n_latent must be an integer >= 1; got 0"),
    ({"n_latent": 2.5}, "n_latent must be an integer >= 1; got 2.5"),
    ({"beta": -0.5}, "beta must be a finite number >= 0; got -0.5"),
    ({"parameterization": "std"}, r"parameterization must be one of \['log_var', 'sigma'\].*got 'std'"),
    ({"likelihood": "poisson"}, r"likelihood must be one of \['bernoulli', 'gaussian'\].*got 'poisson'"),
    ({"variance": 0.0}, "variance must be a finite number > 0.*got 0.0"),
    ({"method": "lbfgs"}, "method must be 'adam' or 'sgd'"),
    ({"capacity": -1.0}, "capacity must be a finite number >= 0; got -1.0"),
    ({"capacity_gamma": np.nan}, "capacity_gamma must be a finite number >= 0; got nan"),
    ({"capacity_epochs": 0}, "capacity_epochs must be an integer >= 1; got 0"),
    ({"hidden_layer_sizes": (4, 0)}, r"hidden_layer_sizes\[1\] must be an integer >= 1"),
    ({"activation": "swish"}, "activation must be one of"),
])
def test_bad_hyperparameters_fail_at_construction_and_in_set_params(params, match):
    with pytest.raises(ValueError, match=match):
        VariationalAutoencoder(**params)
    with pytest.raises(ValueError, match=match):
        VariationalAutoencoder().set_params(**params)


def test_bernoulli_likelihood_needs_inputs_in_0_1(trained):
    vae, X, _ = trained
    bad = X[:10] * 2.0
    with pytest.raises(ValueError, match=r"X must lie in \[0, 1\].*likelihood='gaussian'"):
        VariationalAutoencoder((4,), n_latent=2, epochs=1).fit(bad)
    with pytest.raises(ValueError, match=r"X must lie in \[0, 1\]"):
        vae.elbo(bad)
    with pytest.raises(ValueError, match=r"X must lie in \[0, 1\]"):
        vae.importance_weighted_bound(bad, k=2)
    VariationalAutoencoder((4,), n_latent=2, likelihood="gaussian", epochs=1).fit(bad)  # no such rule


def test_sample_and_bounds_check_their_counts(trained):
    vae, X, _ = trained
    for n in (0, -3, 2.0):
        with pytest.raises(ValueError, match="n_samples must be an integer >= 1"):
            vae.sample(n)
    with pytest.raises(ValueError, match="k must be an integer >= 1; got 0"):
        vae.importance_weighted_bound(X[:5], k=0)
    with pytest.raises(numpy_ae.NotFittedError):
        VariationalAutoencoder().sample(3)


def test_training_stops_with_training_diverged_naming_the_epoch():
    X = manifold(200)
    vae = VariationalAutoencoder((8,), n_latent=2, method="sgd", learning_rate=1e3, momentum=0.0, epochs=5,
                                 batch_size=25, random_state=0)
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged, match=r"became nan in epoch 1 \(minibatch"):
        vae.fit(X)


# --------------------------------------------------------- the capacity objective
def test_capacity_penalty_is_gamma_times_the_distance_of_the_mean_kl_to_c():
    rng = np.random.default_rng(8)
    mu, log_var = rng.standard_normal((10, 3)), rng.uniform(-2, 1, (10, 3))
    mean_kl = gaussian_kl(mu, log_var).mean()
    dz = rng.standard_normal((10, 3))
    for C, sign in ((0.5 * mean_kl, 1.0), (2.0 * mean_kl, -1.0)):
        layer = Reparameterize(3, capacity=C, gamma=7.0, beta=123.0)  # beta is not used with a capacity
        layer.init_params(np.random.default_rng(0))
        layer.forward(np.hstack([mu, log_var]))
        assert layer.penalty == pytest.approx(7.0 * abs(mean_kl - C), rel=1e-12)
        dX = layer.backward(dz.copy())
        np.testing.assert_allclose(dX[:, :3], dz + 7.0 * sign * mu / 10, rtol=1e-12)  # gamma sign(KL-C) for beta


def test_capacity_rises_linearly_per_epoch():
    X = manifold(100)
    vae = VariationalAutoencoder((8,), n_latent=2, epochs=4, capacity=4.0, random_state=0).fit(X)
    np.testing.assert_allclose(vae.capacity_schedule_, [1.0, 2.0, 3.0, 4.0], rtol=1e-15)
    vae.set_params(capacity_epochs=2).fit(X)
    np.testing.assert_allclose(vae.capacity_schedule_, [2.0, 4.0, 4.0, 4.0], rtol=1e-15)
    assert vae.reparameterize_.capacity == 4.0
    assert not hasattr(vae.set_params(capacity=None).fit(X), "capacity_schedule_")


def test_capacity_objective_steers_the_kl_to_c():
    """Burgess et al.: with gamma = 100 the mean KL settles at C (measured 2.14 for C = 2 and 6.24 for
    C = 6, within 10%: the minibatch KL oscillates about the kink of |KL - C|), and more capacity buys a
    better reconstruction (measured 7.1 -> 6.5 nats)."""
    X = manifold(1000)
    out = {}
    for C in (2.0, 6.0):
        vae = VariationalAutoencoder((32,), n_latent=4, epochs=40, batch_size=50, capacity=C, capacity_gamma=100.0,
                                     capacity_epochs=20, random_state=0).fit(X)
        out[C] = vae.elbo(X)
        assert abs(out[C].kl.mean() - C) < 0.1 * C, (C, out[C].kl.mean())
    assert out[6.0].recon.mean() < out[2.0].recon.mean() - 0.3
