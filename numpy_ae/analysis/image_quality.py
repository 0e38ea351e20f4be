r"""Image-quality metrics for denoising: PSNR and SSIM, in NumPy and SciPy.

Images are the rows of ``X (N, h w)`` (or an array ``(N, h, w)``), pixels in
``[0, data_range]``; every function compares an estimate ``X_hat`` with the
clean ``X``.

PSNR (:func:`psnr`)
-------------------
Peak signal-to-noise ratio in dB of the mean squared error POOLED over all
images and pixels,

.. math:: \mathrm{PSNR} = 10 \log_{10} \frac{R^2}{\frac{1}{N D}\sum_{n,d} (\hat x_{nd} - x_{nd})^2},

with the peak :math:`R` = ``data_range`` (1 for pixels in [0, 1]). Pooling,
rather than averaging per-image PSNRs, keeps one nearly perfect image from
dominating and stays finite.

SSIM (:func:`ssim`, :func:`ssim_per_image`)
-------------------------------------------
The structural similarity of Wang, Bovik, Sheikh & Simoncelli (2004), "Image
quality assessment: from error visibility to structural similarity", IEEE TIP
13(4). In a window around each pixel, with local means :math:`\mu`, variances
:math:`\sigma^2` and covariance :math:`\sigma_{xy}` of the two images,

.. math::
    \mathrm{SSIM} = \frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy} + C_2)}
                         {(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)},
    \qquad C_1 = (K_1 R)^2,\ C_2 = (K_2 R)^2,\ K_1 = 0.01,\ K_2 = 0.03,

averaged over the pixels whose window lies inside the image (a border of
half a window is cropped), then over the images. Two windows:

``window="uniform"`` (default)
    7x7 uniform, the variances with the sample (``n - 1``) normalisation:
    scikit-image's default, ``skimage.metrics.structural_similarity(a, b, data_range=1)``;
``window="gaussian"``
    Wang et al.'s 11x11 Gaussian of standard deviation 1.5, population
    normalisation: scikit-image's ``gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False``.

The local statistics come from :func:`scipy.ndimage.uniform_filter` /
:func:`scipy.ndimage.gaussian_filter` with reflected borders (as scikit-image),
for all images at once. The tests compare both windows with scikit-image
when it is installed (it is a test extra, not a dependency).
"""
from __future__ import annotations

import numbers

import numpy as np
from scipy import ndimage

__all__ = ["psnr", "ssim", "ssim_per_image", "SSIM_WINDOWS", "K1", "K2"]

K1, K2 = 0.01, 0.03
#: window name -> (window width in pixels, description)
SSIM_WINDOWS = {"uniform": (7, "7x7 uniform window, sample covariance (scikit-image's default)"),
                "gaussian": (11, "11x11 Gaussian window, sigma 1.5 (Wang et al. 2004)")}
_SIGMA, _TRUNCATE = 1.5, 3.5  # 2 * int(3.5 * 1.5 + 0.5) + 1 = 11 taps, as scikit-image


def _pair(X_hat, X):
    X_hat, X = np.asarray(X_hat, dtype=np.float64), np.asarray(X, dtype=np.float64)
    if X_hat.shape != X.shape:
        raise ValueError(f"X_hat must have X's shape {X.shape}; got {X_hat.shape}")
    return X_hat, X


def _data_range(data_range):
    if isinstance(data_range, bool) or not isinstance(data_range, numbers.Real) or not data_range > 0:
        raise ValueError(f"data_range must be a positive number (the pixel range, 1 for [0, 1]); got {data_range!r}")
    return float(data_range)


def psnr(X_hat, X, data_range=1.0):
    r"""PSNR in dB of the mean squared error pooled over all images and pixels (see the module docstring):
    :math:`10 \log_{10}(R^2 / \mathrm{MSE})`; ``inf`` when the arrays are equal."""
    X_hat, X = _pair(X_hat, X)
    R = _data_range(data_range)
    mse = float(np.mean((X_hat - X) ** 2))
    return float("inf") if mse == 0 else float(10.0 * np.log10(R * R / mse))


def _stack(X, image_shape):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 3:
        return X
    if X.ndim != 2:
        raise ValueError(f"X must be (N, h w) rows or (N, h, w) images; got shape {X.shape}")
    h, w = image_shape
    if h * w != X.shape[1]:
        raise ValueError(f"image_shape must multiply to the row length {X.shape[1]}; got {tuple(image_shape)}")
    return X.reshape(X.shape[0], h, w)


def ssim_per_image(X_hat, X, image_shape=(28, 28), data_range=1.0, window="uniform"):
    """The SSIM of each image (see the module docstring): an array of shape ``(N,)``.

    Parameters
    ----------
    X_hat, X : arrays (N, h w) or (N, h, w)
        The estimate and the clean images, the same shape.
    image_shape : (int, int)
        ``(h, w)`` of a row (ignored for 3-D input).
    data_range : float
        The pixel range :math:`R` (1 for [0, 1]).
    window : {"uniform", "gaussian"}
    """
    if window not in SSIM_WINDOWS:
        raise ValueError(f"window must be one of {', '.join(SSIM_WINDOWS)}; got {window!r}")
    X_hat, X = _pair(X_hat, X)
    A, B = _stack(X_hat, image_shape), _stack(X, image_shape)
    R = _data_range(data_range)
    width = SSIM_WINDOWS[window][0]
    if min(A.shape[1:]) < width:
        raise ValueError(f"images must be at least {width}x{width} pixels for the {window} window; got "
                         f"{A.shape[1]}x{A.shape[2]}")
    if window == "uniform":
        def smooth(Y):
            return ndimage.uniform_filter(Y, size=(1, width, width), mode="reflect")
        n = width * width
        norm = n / (n - 1.0)
    else:
        def smooth(Y):
            return ndimage.gaussian_filter(Y, sigma=(0.0, _SIGMA, _SIGMA), truncate=_TRUNCATE, mode="reflect")
        norm = 1.0
    mu_a, mu_b = smooth(A), smooth(B)
    var_a = norm * (smooth(A * A) - mu_a * mu_a)
    var_b = norm * (smooth(B * B) - mu_b * mu_b)
    cov = norm * (smooth(A * B) - mu_a * mu_b)
    C1, C2 = (K1 * R) ** 2, (K2 * R) ** 2
    S = ((2 * mu_a * mu_b + C1) * (2 * cov + C2)) / ((mu_a ** 2 + mu_b ** 2 + C1) * (var_a + var_b + C2))
    pad = (width - 1) // 2
    return S[:, pad:S.shape[1] - pad, pad:S.shape[2] - pad].mean(axis=(1, 2))


def ssim(X_hat, X, image_shape=(28, 28), data_range=1.0, window="uniform"):
    """The mean over the images of :func:`ssim_per_image` (1 for identical images; a float)."""
    return float(np.mean(ssim_per_image(X_hat, X, image_shape, data_range, window)))
