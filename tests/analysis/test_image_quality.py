"""numpy_ae.analysis.image_quality: PSNR and SSIM, by hand and against scikit-image (a test extra).

Everything runs on small synthetic arrays: well under a second.
"""
import numpy as np
import pytest

from numpy_ae.analysis.image_quality import K1, K2, SSIM_WINDOWS, psnr, ssim, ssim_per_image


def _pair(n=6, shape=(28, 28), noise=0.3, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    X = np.stack([0.5 + 0.4 * np.sin(xx / (2 + i) + yy / (3 + i)) for i in range(n)])  # smooth structured images
    return np.clip(X + noise * rng.standard_normal(X.shape), 0, 1), X


def test_psnr_uses_the_peak_and_the_pooled_mse():
    X = np.zeros((2, 4))
    assert psnr(np.full((2, 4), 0.1), X) == pytest.approx(20.0, rel=1e-12)          # MSE 0.01, peak 1
    assert psnr(np.full((2, 4), 25.5), X, data_range=255) == pytest.approx(20.0)   # the same in 8-bit units
    assert psnr(X, X) == float("inf")
    with pytest.raises(ValueError, match="data_range must be a positive number"):
        psnr(X, X, data_range=0)


def test_ssim_of_constant_images_is_the_luminance_term_by_hand():
    # Constant images a and b: no variance, no covariance, so SSIM = (2ab + C1) / (a^2 + b^2 + C1) exactly.
    a, b = 0.2, 0.6
    C1 = (K1 * 1.0) ** 2
    expected = (2 * a * b + C1) / (a * a + b * b + C1)
    for window in SSIM_WINDOWS:
        got = ssim_per_image(np.full((3, 16, 16), a), np.full((3, 16, 16), b), window=window)
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert K2 == 0.03


def test_ssim_is_one_for_identical_images_and_falls_with_the_noise():
    _, X = _pair()
    assert ssim(X, X) == pytest.approx(1.0, abs=1e-12)
    values = [ssim(_pair(noise=s)[0], X) for s in (0.05, 0.1, 0.2, 0.4)]
    assert all(a > b for a, b in zip(values, values[1:])), values
    rows = ssim_per_image(_pair()[0].reshape(6, -1), X.reshape(6, -1), image_shape=(28, 28))  # (N, h w) rows
    np.testing.assert_array_equal(rows, ssim_per_image(_pair()[0], X))


@pytest.mark.parametrize("window, options", [
    ("uniform", {}),
    ("gaussian", {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False}),
])
def test_ssim_matches_scikit_image(window, options):
    metrics = pytest.importorskip("skimage.metrics")
    for noise, shape in ((0.3, (28, 28)), (0.05, (28, 28)), (0.2, (13, 20))):
        Y, X = _pair(noise=noise, shape=shape, seed=1)
        ours = ssim_per_image(Y, X, window=window)
        theirs = [metrics.structural_similarity(y, x, data_range=1.0, **options) for y, x in zip(Y, X)]
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda X: ssim(X, X[:, :-1]), "X_hat must have X's shape"),
    (lambda X: ssim(X, X, window="box"), "window must be one of uniform, gaussian"),
    (lambda X: ssim(X[:, :6, :6], X[:, :6, :6]), "images must be at least 7x7 pixels for the uniform window"),
    (lambda X: ssim(X.reshape(6, -1), X.reshape(6, -1), image_shape=(28, 27)), "image_shape must multiply"),
    (lambda X: ssim(X, X, data_range=-1), "data_range must be a positive number"),
])
def test_bad_arguments_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call(_pair()[1])
