"""The UFLDL sparse autoencoder: the default experiment's result, save/load, bad input."""
import json

import numpy as np
import pytest

import numpy_ae
from numpy_ae import SparseAutoencoder
from numpy_ae.data import load_images, sample_patches


@pytest.fixture(scope="module")
def patches():
    return sample_patches(load_images(), n=10000, size=8, random_state=0)


@pytest.fixture(scope="module")
def trained(patches):
    """UFLDL's defaults: 64-25-64, rho 0.01, lambda 1e-4, beta 3, 10,000 patches, 400 iterations."""
    return SparseAutoencoder(random_state=0, max_iter=400).fit(patches)


def _orientation_concentration(filters):
    """Per 8x8 filter: the largest share of its Fourier energy inside a 45-degree orientation wedge.

    An oriented edge or grating puts most of its energy in one wedge (about 0.8 here); a random
    filter spreads it over all orientations (about 0.4, the wedge being a quarter of the circle).
    """
    fy, fx = np.fft.fftfreq(8)[:, None], np.fft.fftfreq(8)[None, :]
    angle, radius = np.mod(np.arctan2(fy, fx), np.pi), np.hypot(fx, fy)
    shares = []
    for w in filters:
        power = np.abs(np.fft.fft2(w - w.mean())) ** 2
        power[radius == 0] = 0
        best = 0.0
        for a in np.linspace(0, np.pi, 36, endpoint=False):
            dist = np.abs(np.angle(np.exp(2j * (angle - a)))) / 2
            best = max(best, power[dist < np.pi / 8].sum() / power.sum())
        shares.append(best)
    return np.array(shares)


def _spatial_spread(filters):
    """Energy-weighted variance of pixel position (pixels^2); 10.5 for energy spread evenly over 8x8."""
    energy = filters ** 2
    energy /= energy.sum(axis=(1, 2), keepdims=True)
    r, c = np.mgrid[0:8, 0:8]
    mr, mc = (energy * r).sum((1, 2)), (energy * c).sum((1, 2))
    return (energy * ((r - mr[:, None, None]) ** 2 + (c - mc[:, None, None]) ** 2)).sum((1, 2))


def test_default_run_reaches_target_sparsity(trained, patches):
    assert trained.n_iter_ == 400
    assert abs(trained.mean_activation(patches) - 0.01) < 0.25 * 0.01  # acceptance: "within 25% of rho"
    history = np.array(trained.cost_history_)
    assert history[-1] < 0.5 * history[0]  # L-BFGS made real progress
    assert np.all(np.diff(history) <= 1e-12)  # and never went up (L-BFGS's line search guarantees descent)


def test_default_run_learns_oriented_localised_filters(trained):
    filters = trained.network_.layers[0].W.T.reshape(-1, 8, 8)
    random = np.random.default_rng(0).uniform(-1, 1, filters.shape)
    # measured: trained median 0.83 vs random 0.39; spread 7.3 vs 10.3 pixels^2
    assert np.median(_orientation_concentration(filters)) > 0.6 > np.median(_orientation_concentration(random))
    assert np.median(_spatial_spread(filters)) < 9.0 < np.median(_spatial_spread(random))


def test_transform_inverse_transform_reconstruct_by_hand(trained, patches):
    """Each method against the network written out from its weights (not against another method
    running the same layers): H = sigmoid(X W1 + b1), X_hat = sigmoid(H W2 + b2)."""
    X = patches[:50]
    enc, dec = trained.network_.layers[0], trained.network_.layers[3]
    H = 1.0 / (1.0 + np.exp(-(X @ enc.W + enc.b)))
    X_hat = 1.0 / (1.0 + np.exp(-(H @ dec.W + dec.b)))
    # float64 round-off of two products of 64/25 terms and an exp: ~1e-15; 1e-12 leaves room, a wrong
    # weight, bias or activation is off by far more (the hidden units span (0, 1), X_hat [0.1, 0.9])
    np.testing.assert_allclose(trained.transform(X), H, rtol=1e-12)
    np.testing.assert_allclose(trained.inverse_transform(H), X_hat, rtol=1e-12)
    np.testing.assert_allclose(trained.reconstruct(X), X_hat, rtol=1e-12)
    assert H.shape == (50, 25) and X_hat.shape == (50, 64)
    assert np.ptp(H) > 0.5  # the code is not constant: the comparison above means something


def test_float32_matches_float64(patches):
    """The float32 cost agrees with float64 to float32 precision at the same theta."""
    X = patches[:2000]
    a = SparseAutoencoder(random_state=1).initialize(64)
    b = SparseAutoencoder(random_state=1, dtype="float32").initialize(64)
    Ja, ga = a.loss_and_grad(a.theta, X)
    Jb, gb = b.loss_and_grad(a.theta.astype(np.float32), X.astype(np.float32))
    assert gb.dtype == np.float32
    assert Jb == pytest.approx(Ja, rel=1e-5)
    assert np.linalg.norm(gb - ga) / np.linalg.norm(ga) < 1e-4


def test_fit_is_reproducible_with_a_seed(patches):
    a = SparseAutoencoder(random_state=3, max_iter=20).fit(patches[:500])
    b = SparseAutoencoder(random_state=3, max_iter=20).fit(patches[:500])
    np.testing.assert_array_equal(a.theta, b.theta)
    c = SparseAutoencoder(random_state=4, max_iter=20).fit(patches[:500])
    assert not np.array_equal(a.theta, c.theta)  # the seed is used: ignoring it would pass the line above


def test_save_load_round_trip(trained, patches, tmp_path):
    path = trained.save(tmp_path / "sae.npz")
    loaded = SparseAutoencoder.load(path)
    np.testing.assert_array_equal(loaded.theta, trained.theta)
    np.testing.assert_array_equal(loaded.transform(patches[:10]), trained.transform(patches[:10]))
    assert loaded.get_params() == trained.get_params()
    assert numpy_ae.load(path).cost_ == pytest.approx(trained.cost_)


def test_load_truncated_file(trained, tmp_path):
    path = trained.save(tmp_path / "sae.npz")
    data = open(path, "rb").read()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable numpy_ae model file"):
        SparseAutoencoder.load(tmp_path / "cut.npz")


def test_load_foreign_npz(tmp_path):
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    with pytest.raises(ValueError, match="not a numpy_ae model file"):
        SparseAutoencoder.load(tmp_path / "other.npz")


def test_load_refuses_pickles(tmp_path):
    np.savez(tmp_path / "pickled.npz", format=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a readable numpy_ae model file"):
        SparseAutoencoder.load(tmp_path / "pickled.npz")


def test_load_wrong_class(tmp_path):
    ae = numpy_ae.LinearAutoencoder(2, random_state=0).initialize(4)
    path = ae.save(tmp_path / "lin.npz")
    with pytest.raises(ValueError, match="holds a LinearAutoencoder, not a SparseAutoencoder"):
        SparseAutoencoder.load(path)


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad, match", [
    (np.full((4, 64), np.nan), "X must be finite .* found nan"),
    (np.full((4, 64), np.inf), "X must be finite .* found inf"),
    (np.zeros(64), "X must be a 2-D array .* got a 1-D array"),
    (np.full((4, 64), 2.0), r"X must lie in \[0, 1\] .* Rescale .*sample_patches.*linear decoder"),
])
def test_fit_rejects_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        SparseAutoencoder(max_iter=5).fit(bad)


def test_transform_wrong_number_of_features(trained):
    with pytest.raises(ValueError, match="X has 63 features, but SparseAutoencoder is expecting 64 features"):
        trained.transform(np.zeros((3, 63)))


def test_transform_before_fit():
    with pytest.raises(numpy_ae.NotFittedError, match="not fitted yet: call fit"):
        SparseAutoencoder().transform(np.zeros((3, 64)))


@pytest.mark.parametrize("kwargs, match", [
    ({"sparsity": 0.0}, "sparsity must be a number strictly between 0.0 and 1.0; got 0.0"),
    ({"sparsity": 1.2}, "sparsity must be a number strictly between 0.0 and 1.0; got 1.2"),
    ({"n_hidden": 0}, "n_hidden must be an integer >= 1; got 0"),
    ({"n_hidden": 2.5}, "n_hidden must be an integer >= 1; got 2.5"),
    ({"beta": -1.0}, "beta must be a finite number >= 0"),
    ({"weight_decay": float("nan")}, "weight_decay must be a finite number >= 0"),
    ({"decoder": "relu"}, "decoder must be 'sigmoid' or 'linear'"),
    ({"dtype": "int8"}, "dtype must be float32 or float64"),
])
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SparseAutoencoder(**kwargs)


@pytest.mark.parametrize("max_iter", [0, -3])
def test_non_positive_max_iter(max_iter, patches):
    with pytest.raises(ValueError, match=f"max_iter must be an integer >= 1; got {max_iter}"):
        SparseAutoencoder(max_iter=max_iter)
    ae = SparseAutoencoder()
    ae.max_iter = max_iter  # plain assignment skips set_params' check: fit checks again
    with pytest.raises(ValueError, match=f"max_iter must be an integer >= 1; got {max_iter}"):
        ae.fit(patches[:10])


def test_linear_decoder_accepts_inputs_outside_unit_interval():
    X = np.random.default_rng(0).standard_normal((50, 6))
    ae = SparseAutoencoder(n_hidden=3, decoder="linear", random_state=0, max_iter=10).fit(X)
    assert np.isfinite(ae.cost_)


def test_get_params_is_json_serialisable(trained):
    json.dumps(trained.get_params())
