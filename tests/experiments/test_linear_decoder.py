"""Tests for UFLDL's linear-decoder exercise: ``python -m numpy_ae linear-decoder``.

Sizes are small (hundreds to a few thousand patches, 16 to 64 hidden units),
so the whole file runs in a few seconds; the default 20,000-patch, 400-unit run
is exercised by hand (see numpy_ae/experiments/linear_decoder.py).
"""
import json

import matplotlib.image
import numpy as np
import pytest

from numpy_ae import SparseAutoencoder
from numpy_ae.cli import main
from numpy_ae.data import load_color_images, sample_patches
from numpy_ae.experiments.linear_decoder import (downsample_images, pixel_filters, reconstruction_error,
                                                 whitened_color_patches)
from numpy_ae.nn.activations import sigmoid
from numpy_ae.analysis.plotting import tile_images

EPSILON = 0.1  # UFLDL's ZCA regulariser for this exercise


@pytest.fixture(scope="module")
def whitened():
    """3000 whitened colour patches (N, 192) and their fitted ZCAWhitening."""
    return whitened_color_patches(3000, epsilon=EPSILON, random_state=np.random.default_rng(0))


# ------------------------------------------------------------------------ CLI
def test_cli_json_figure_and_models(tmp_path, capsys):
    hidden = 16
    code = main(["linear-decoder", "--patches", "500", "--iterations", "5", "--hidden", str(hidden),
                 "--dtype", "float64", "--quiet", "--json", "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    assert {"cost", "mean_activation", "seconds", "iterations", "n_patches", "n_hidden"} <= set(result)
    assert result["n_patches"] == 500 and result["n_hidden"] == hidden
    assert 1 <= result["iterations"] <= 5 and result["seconds"] > 0
    assert np.isfinite(result["cost"]) and 0 < result["mean_activation"] < 1
    assert 0 < result["reconstruction_error"] and 0 < result["data_variance"]
    rec, sparse = result["claims"]  # computed from the run
    assert (rec["ours"], rec["baseline"]) == (result["reconstruction_error"], result["data_variance"])
    assert rec["holds"] == (result["reconstruction_error"] < 0.25 * result["data_variance"])
    assert sparse["ours"] == result["mean_activation"]

    # 16 filters of 8x8x3 tile into a 4 x 4 grid of 4 * 9 + 1 = 37 pixels a side, colour
    grid = tile_images(np.ones((hidden, 192)), channels=3)
    assert grid.shape == (37, 37, 3)
    png = matplotlib.image.imread(tmp_path / "filters.png")
    scale = -(-512 // 37)                      # save_tiles: smallest integer scale reaching 512 pixels
    assert png.shape == (37 * scale + 30, 37 * scale, 4)  # + 30 pixels of title; RGBA
    rgb = png[30:, :, :3]
    assert np.ptp(rgb[..., 0] - rgb[..., 1]) > 0.1, "filters.png should be in colour, not grey"

    for name in ("linear_decoder.npz", "zca_whitening.npz"):
        assert (tmp_path / name).is_file()
    with np.load(tmp_path / "zca_whitening.npz") as z:
        assert z["mean"].shape == (192,) and z["W"].shape == (192, 192) and float(z["epsilon"]) == EPSILON


def test_cli_rejects_a_downsample_that_leaves_no_patch(tmp_path, capsys):
    assert main(["linear-decoder", "--downsample", "100", "--patches", "10", "--out", str(tmp_path)]) == 2
    assert "downsample" in capsys.readouterr().err


# ------------------------------------------------------------- preprocessing
def test_downsample_averages_blocks():
    images = np.random.default_rng(0).uniform(size=(2, 17, 16, 3))
    small = downsample_images(images, 2)
    assert small.shape == (2, 8, 8, 3)          # the 17th row does not fill a block: dropped
    np.testing.assert_allclose(small[1, 3, 5], images[1, 6:8, 10:12].mean(axis=(0, 1)), rtol=1e-14)
    np.testing.assert_array_equal(downsample_images(images, 1), images)


def test_zca_matches_ufldl_recipe(whitened):
    r"""``(X - mean) @ W_`` with ``W_ = U diag(1/sqrt(S + eps)) U'`` of the 1/N covariance, as in UFLDL."""
    rng = np.random.default_rng(0)
    X = sample_patches(downsample_images(load_color_images(), 4), n=3000, size=8, random_state=rng,
                       normalize=None)
    Xw, zca = whitened
    Xc = X - X.mean(axis=0)                     # meanPatch over patches, per feature
    sigma = Xc.T @ Xc / X.shape[0]              # sigma = patches * patches' / numPatches
    U, S, _ = np.linalg.svd(sigma)
    ZCAWhite = U @ np.diag(1.0 / np.sqrt(S + EPSILON)) @ U.T
    np.testing.assert_allclose(zca.W_, ZCAWhite, atol=1e-10)
    np.testing.assert_allclose(Xw, Xc @ ZCAWhite, atol=1e-10)


def test_whitened_covariance_is_identity_where_variance_exceeds_epsilon(whitened):
    r"""With :math:`\Sigma = U \Lambda U^T`, the whitened covariance is exactly

    .. math:: C = U \frac{\Lambda}{\Lambda + \epsilon} U^T = I - \epsilon (\Sigma + \epsilon I)^{-1},

    so it is the identity up to :math:`\epsilon / (\lambda_i + \epsilon)` in
    direction :math:`u_i`. With pixels in [0, 1] most of the 192 directions
    have :math:`\lambda_i < \epsilon = 0.1` and are damped, not whitened (UFLDL's
    low-pass); the directions with :math:`\lambda_i > 10 \epsilon` are within
    :math:`1/11 < 0.091` of unit variance and uncorrelated. Round-off: entries
    are O(1), so 1e-10 is generous for float64.
    """
    Xw, zca = whitened
    lam, U = zca.explained_variance_, zca.components_.T
    C = np.cov(Xw, rowvar=False, bias=True)
    np.testing.assert_allclose(Xw.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(C, (U * (lam / (lam + EPSILON))) @ U.T, atol=1e-10)
    assert np.linalg.eigvalsh(C).max() < 1.0    # whitening with epsilon > 0 never overshoots unit variance

    top = lam > 10 * EPSILON
    assert top.sum() >= 2                        # measured: the mean brightness and the blue-red axis
    Ct = U[:, top].T @ C @ U[:, top]
    bound = EPSILON / (lam[top].min() + EPSILON)
    assert np.abs(Ct - np.eye(top.sum())).max() <= bound + 1e-10
    assert bound < 1 / 11


# ---------------------------------------------------------------- the model
def test_pixel_filters_are_w_times_zcawhite(whitened):
    r"""On a raw patch, hidden unit j computes ``sigmoid((x - mean) @ F[j] + b_j)``, F = UFLDL's ``W * ZCAWhite``."""
    Xw, zca = whitened
    ae = SparseAutoencoder(n_hidden=8, sparsity=0.035, beta=5.0, weight_decay=3e-3, decoder="linear",
                           random_state=1).initialize(192)
    X = zca.inverse_transform(Xw[:20])           # back to raw pixels
    F = pixel_filters(ae, zca)
    assert F.shape == (8, 192)
    b = ae.network_.layers[0].b
    np.testing.assert_allclose(ae.transform(Xw[:20]), sigmoid((X - zca.mean_) @ F.T + b), atol=1e-12)


def test_trained_linear_decoder_reconstructs_well_below_the_data_variance(whitened):
    r"""Reconstruction error against :math:`\frac{1}{2N}\sum \lVert x_n\rVert^2`, the error of ``x_hat = 0``.

    Whitened patches have zero mean, so ``x_hat = 0`` is the best constant
    prediction: ratio 1 means nothing learned (the freshly initialised network
    does worse, about 2.2: its random decoder weights add noise). After 50
    L-BFGS iterations on 1000 patches a 64-unit code reconstructs them with a
    ratio of 0.31 (measured; 0.27 after 100 iterations, 0.14 for the default
    20,000-patch, 400-unit run). The
    bound 0.5 leaves room for other BLAS builds and seeds, while a decoder that
    cannot follow the data (a squashing output, a wrong output delta) stays at 1
    or above.
    """
    Xw, _ = whitened
    Xw = Xw[:1000]
    ae = SparseAutoencoder(n_hidden=64, sparsity=0.035, beta=5.0, weight_decay=3e-3, decoder="linear",
                           max_iter=50, random_state=0).initialize(192)
    variance = 0.5 * np.sum(Xw ** 2) / Xw.shape[0]
    assert reconstruction_error(ae, Xw) / variance > 1
    ae.set_params(warm_start=True).fit(Xw)  # from the initialisation measured above
    ratio = reconstruction_error(ae, Xw) / variance
    assert ratio < 0.5, f"reconstruction error is {ratio:.2f} of the variance"
    assert ae.cost_ < ae.cost_history_[0]


def test_sigmoid_decoder_refuses_whitened_patches(whitened):
    Xw, _ = whitened
    assert Xw.min() < 0 and Xw.max() > 1        # whitened values leave [0, 1] on both sides
    with pytest.raises(ValueError, match="linear decoder"):
        SparseAutoencoder(n_hidden=8, decoder="sigmoid", max_iter=1).fit(Xw[:100])
