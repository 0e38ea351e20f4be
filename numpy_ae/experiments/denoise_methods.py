r"""The noise and the classical denoisers of ``python -m numpy_ae denoise-images``.

:func:`add_noise` corrupts images (every kind clipped to [0, 1] and seeded);
:func:`gaussian_filter_images`, :func:`median_filter_images` and
:func:`pca_denoiser` are the classical methods, and :func:`classical_methods`
runs the three with each one's parameter chosen on a validation pair
(:func:`choose_parameter`, by PSNR: :func:`numpy_ae.analysis.image_quality.psnr`).
See :mod:`numpy_ae.experiments.denoise_images` for the protocol.
"""
from __future__ import annotations

import numbers

import numpy as np
from scipy.ndimage import gaussian_filter, median_filter

from ..analysis.image_quality import psnr
from ..models.pca import PCA

__all__ = ["NOISES", "DEFAULT_LEVELS", "LEVEL_MEANING", "SIGMAS", "MEDIAN_SIZES", "PCA_COMPONENTS", "check_level",
           "add_noise", "gaussian_filter_images", "median_filter_images", "pca_denoiser", "choose_parameter",
           "classical_methods"]

#: The noise kinds ``--noise`` accepts, with their default levels.
NOISES = ("gaussian", "masking", "salt-pepper")
DEFAULT_LEVELS = {"gaussian": 0.4, "masking": 0.3, "salt-pepper": 0.2}
LEVEL_MEANING = {"gaussian": "standard deviation of the added noise",
                 "masking": "probability of zeroing a pixel",
                 "salt-pepper": "probability of setting a pixel to 0 or 1"}

#: Candidate parameters tried on the validation split.
SIGMAS = (0.3, 0.5, 0.7, 0.85, 1.0, 1.25, 1.5, 2.0)
MEDIAN_SIZES = (2, 3, 4, 5, 6, 7)
PCA_COMPONENTS = (8, 16, 24, 32, 48, 64, 96, 128, 192, 256)


def check_level(noise, level):
    """``level`` as a float, checked for ``noise`` (a ValueError names the rule); ``noise`` is checked too."""
    if noise not in NOISES:
        raise ValueError(f"noise must be one of {', '.join(NOISES)}; got {noise!r}")
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not np.isfinite(level):
        raise ValueError(f"level must be a finite number; got {level!r}")
    level = float(level)
    if noise == "gaussian" and level < 0:
        raise ValueError(f"level must be >= 0 for gaussian noise (the standard deviation); got {level}")
    if noise != "gaussian" and not 0.0 <= level <= 1.0:
        raise ValueError(f"level must be in [0, 1] for {noise} noise (the {LEVEL_MEANING[noise]}); got {level}")
    return level


def add_noise(X, noise="gaussian", level=None, random_state=None):
    r"""Return a noisy copy of ``X (N, D)`` (pixels in [0, 1]), clipped to [0, 1], in ``X``'s dtype.

    ``noise="gaussian"``: :math:`\mathrm{clip}(x + L\varepsilon)`, :math:`\varepsilon \sim N(0,1)`;
    ``"masking"``: each pixel zeroed with probability :math:`L`;
    ``"salt-pepper"``: each pixel replaced with probability :math:`L` by 0 or 1 (equal odds).
    ``level=None`` takes :data:`DEFAULT_LEVELS`. ``random_state`` seeds a
    :class:`numpy.random.Generator` (the same seed gives the same noise).
    """
    level = check_level(noise, DEFAULT_LEVELS.get(noise) if level is None else level)
    X = np.asarray(X)
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"X must hold floating-point pixels in [0, 1]; got dtype {X.dtype}")
    rng = np.random.default_rng(random_state)
    if noise == "gaussian":
        noisy = X + level * rng.standard_normal(X.shape)
    elif noise == "masking":
        noisy = np.where(rng.random(X.shape) < level, 0.0, X)
    else:
        hit = rng.random(X.shape) < level
        noisy = np.where(hit, (rng.random(X.shape) < 0.5).astype(X.dtype), X)
    return np.clip(noisy, 0.0, 1.0).astype(X.dtype, copy=False)


def _images(X, image_shape):
    return np.asarray(X).reshape((-1,) + tuple(image_shape))


def gaussian_filter_images(X, sigma, image_shape=(28, 28)):
    """Each row of ``X (N, h w)`` smoothed as an ``h x w`` image by a Gaussian of std ``sigma`` pixels."""
    out = gaussian_filter(_images(X, image_shape), sigma=(0.0, sigma, sigma), mode="nearest")
    return out.reshape(np.shape(X))


def median_filter_images(X, size, image_shape=(28, 28)):
    """Each row of ``X (N, h w)`` through a ``size x size`` median filter as an ``h x w`` image."""
    out = median_filter(_images(X, image_shape), size=(1, size, size), mode="nearest")
    return out.reshape(np.shape(X))


def pca_denoiser(X_clean_train):
    r"""``project(X, k)``: the projection of ``X (N, D)`` onto the first ``k`` principal directions of
    ``X_clean_train``, :math:`\mu + (X - \mu) V_k^\top V_k`, clipped to [0, 1] (one PCA fit for every k)."""
    pca = PCA().fit(np.asarray(X_clean_train, dtype=np.float64))

    def project(X, k):
        V = pca.components_[:k]
        Xc = np.asarray(X, dtype=np.float64) - pca.mean_
        return np.clip(pca.mean_ + (Xc @ V.T) @ V, 0.0, 1.0)
    return project


def choose_parameter(denoise, candidates, X_val_noisy, X_val_clean):
    r"""The candidate with the best validation PSNR, and every candidate's PSNR.

    ``denoise(X_noisy, p)`` returns the denoised images for parameter ``p``;
    only the VALIDATION pair is read (the test set plays no part in the choice).
    Returns ``(best, {p: psnr})``; ties go to the first candidate.
    """
    scores = {p: psnr(denoise(X_val_noisy, p), X_val_clean) for p in candidates}
    best = max(candidates, key=lambda p: scores[p])  # max keeps the first of equal scores
    return best, scores


def classical_methods(X_train, X_val_noisy, X_val_clean, X_test_noisy, image_shape=(28, 28)):
    r"""The Gaussian filter, the median filter and PCA, each with its parameter chosen on the validation pair.

    ``X_train (N, D)`` are clean training images (PCA's fit); ``X_val_noisy``
    and ``X_val_clean`` the validation pair every choice is made on;
    ``X_test_noisy`` the images to denoise, read only AFTER the choices.
    Returns ``(choices, val_scores, outputs)``: dicts keyed by ``"gaussian filter"``,
    ``"median filter"``, ``"pca"`` of the chosen sigma / size / k, of every
    candidate's validation PSNR, and of the denoised ``X_test_noisy``.
    """
    project = pca_denoiser(X_train)
    ks = tuple(k for k in PCA_COMPONENTS if k <= min(X_train.shape))
    methods = {"gaussian filter": (lambda X, s: gaussian_filter_images(X, s, image_shape), SIGMAS),
               "median filter": (lambda X, m: median_filter_images(X, m, image_shape), MEDIAN_SIZES),
               "pca": (project, ks)}
    choices, val_scores, outputs = {}, {}, {}
    for name, (denoise, candidates) in methods.items():
        choices[name], val_scores[name] = choose_parameter(denoise, candidates, X_val_noisy, X_val_clean)
    for name, (denoise, _) in methods.items():
        outputs[name] = denoise(X_test_noisy, choices[name])
    return choices, val_scores, outputs
