r"""Natural images and the 8x8 patches the UFLDL sparse autoencoder learns from.

UFLDL's exercise trains on ``IMAGES.mat``: ten 512 x 512 photographs of
natural scenes, whitened by Olshausen & Field. :func:`load_images` reads that
file when you have it, and otherwise builds a stand-in from the one
photograph that ships with matplotlib, so the exercise runs with no download:

``grace_hopper.jpg`` (600 x 512, colour)
    The only real photograph in ``matplotlib/mpl-data/sample_data``. (Its
    neighbour ``Minduka_Present_Blue_Pack.png`` is a 128 x 128 clip-art icon
    of a gift box on a transparent background: flat colour regions and
    drawn outlines, not natural image statistics, so it is not used.)

The stand-in is made in four steps.

1. **Grey.** Luminance ``Y = 0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601, as
   MATLAB's ``rgb2gray``), with ``R, G, B`` in ``[0, 1]``.
2. **Whiten** the whole 600 x 512 photograph with Olshausen & Field's filter
   (:func:`whiten_image`): in the Fourier domain multiply by

   .. math::

       R(f) = |f| \, e^{-(|f| / f_0)^4}, \qquad f_0 = 0.4 N
       \text{ cycles per picture (0.4 cycles per pixel)},

   inverse FFT and keep the real part. Natural images have an amplitude
   spectrum close to ``1/|f|``, so the ramp ``|f|`` flattens it (the power
   spectrum becomes roughly constant, "white") and the ``exp(-(f/f0)^4)``
   roll-off stops the ramp from amplifying noise and aliasing near the
   Nyquist frequency. ``load_images(whiten=False)`` skips this step.
3. **Crop** the central 512 x 512 square (rows 44..555), the size UFLDL uses.
   Whitening before cropping means the crop's border pixels were filtered
   with real neighbours.
4. **Balance orientations.** One photograph has preferred directions (the
   flag's stripes, the uniform's vertical edges), and a sparse autoencoder
   learns edge detectors in proportion to how often each orientation
   occurs. So the result holds the 8 symmetries of the square (4 rotations
   by 90 degrees, each with and without a mirror flip): for every edge at
   angle ``theta`` the set also holds ``-theta``, ``theta + 90`` and
   ``90 - theta``. These copies are exact (no interpolation), and the
   whitening filter is isotropic, so whitening commutes with them. Eight, not
   ten as in ``IMAGES.mat``: with 10 copies some orientations would appear
   twice as often as others. Each image then gets zero mean and unit variance.

About the FFT's wrap-around: ``fft2`` treats an image as periodic, so the
jump from its bottom row to its top row acts like a strong edge, and the
filter turns it into bright lines along the borders (2 to 3 times the
interior's standard deviation in this photograph). Olshausen's ``sparsenet``
avoids them by never sampling within 4 pixels of a border, but UFLDL samples
everywhere. :func:`whiten_image` therefore mirrors the image on every side
before the FFT (a symmetric extension, so the periodic copy has no jumps),
filters, and cuts the original region back out. Apart from the borders this
gives the same result as the plain recipe.

:func:`sample_patches` then follows UFLDL's ``sampleIMAGES.m``; see its
docstring. :func:`load_color_images` gives the same photograph in colour,
unwhitened, for the colour linear-decoder exercise (which uses ZCA whitening
on the patches instead, see :mod:`numpy_ae.models.pca`).

References
----------
Olshausen, B. A. & Field, D. J. (1997). Sparse coding with an overcomplete
basis set: a strategy employed by V1? *Vision Research* 37(23), 3311-3325.
The filter and the ``make-your-own-images`` recipe come from Olshausen's
``sparsenet`` page.
"""
from __future__ import annotations

import functools
import os

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._validation import check_array, check_positive_int, check_random_state

__all__ = ["load_images", "load_color_images", "sample_patches", "whiten_image"]

_PHOTO = "grace_hopper.jpg"       # 600 x 512 x 3, uint8
_LUMINANCE = np.array([0.299, 0.587, 0.114])
_SIDE = 512                       # UFLDL's image side


# ---------------------------------------------------------------------------
# Whitening
# ---------------------------------------------------------------------------
def whiten_image(image, f0=0.4):
    r"""Filter ``image`` with Olshausen & Field's whitening filter.

    .. math::

        \hat I(f) = \mathcal{F}[I](f) \; |f| \, e^{-(|f|/f_0)^4}, \qquad
        I_{\rm white} = \mathrm{Re}\, \mathcal{F}^{-1}[\hat I]

    Frequencies are in cycles per pixel, so ``f0 = 0.4`` is the recipe's
    ``f_0 = 0.4 N`` cycles per picture for an ``N x N`` image; the factor
    ``N`` between the two only scales the output. The DC term is multiplied
    by 0, so the mean is removed. The image is mirrored on every side before
    the FFT (see the module docstring), which removes the wrap-around
    artefacts at its borders.

    Parameters
    ----------
    image : array_like, shape ``(H, W)`` or ``(n, H, W)``
        Grey image(s); a stack is filtered image by image.
    f0 : float
        Roll-off frequency in cycles per pixel (Nyquist is 0.5).

    Returns
    -------
    ndarray, same shape as ``image``
        The filtered image(s). Not rescaled: scale to unit variance yourself
        (as :func:`load_images` does) if you need it.
    """
    image = np.asarray(image, dtype=np.float64)
    H, W = image.shape[-2:]
    # Symmetric extension: half an image of mirror copy on each side, so the
    # padded array is (2H, 2W) and its periodic copy has no jumps.
    pad = [(0, 0)] * (image.ndim - 2) + [(H // 2, H - H // 2), (W // 2, W - W // 2)]
    padded = np.pad(image, pad, mode="symmetric")

    # Frequencies in cycles per pixel. rfft2 keeps only the non-negative
    # x-frequencies (the others are their complex conjugates for a real
    # image), and irfft2 returns the real part of the inverse transform.
    fy = np.fft.fftfreq(2 * H)[:, None]
    fx = np.fft.rfftfreq(2 * W)[None, :]
    rho = np.sqrt(fx ** 2 + fy ** 2)           # |f|
    filt = rho * np.exp(-(rho / f0) ** 4)      # R(f)

    white = np.fft.irfft2(np.fft.rfft2(padded) * filt, s=padded.shape[-2:])
    return white[..., H // 2:H // 2 + H, W // 2:W // 2 + W]


def _dihedral_copies(image, axes=(-2, -1)):
    """The 8 symmetries of a square image: 4 rotations, each also mirrored.

    ``axes`` are the image's (row, column) axes: (-2, -1) for (..., N, N),
    (0, 1) for a colour image (N, N, 3).
    """
    mirrored = np.flip(image, axis=axes[1])
    return [np.rot90(img, k, axes=axes) for img in (image, mirrored) for k in range(4)]


# ---------------------------------------------------------------------------
# The default images, built once per process
# ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _photo_rgb():
    """grace_hopper.jpg as float64 in [0, 1], shape (600, 512, 3). Read-only."""
    import matplotlib.cbook
    from PIL import Image            # matplotlib's own image reader, lighter to import

    with Image.open(matplotlib.cbook.get_sample_data(_PHOTO, asfileobj=False)) as photo:
        rgb = np.asarray(photo.convert("RGB"), dtype=np.float64) / 255.0
    rgb.setflags(write=False)
    return rgb


def _centre_square(image, side=_SIDE):
    """Central side x side crop of an image (H, W, ...)."""
    H, W = image.shape[:2]
    r, c = (H - side) // 2, (W - side) // 2
    return image[r:r + side, c:c + side]


@functools.lru_cache(maxsize=2)
def _default_images(whiten=True):
    """The stand-in for IMAGES.mat (whitened) or IMAGES_RAW.mat (not), shape (8, 512, 512). Read-only."""
    grey = _photo_rgb() @ _LUMINANCE                        # (600, 512)
    white = _centre_square(whiten_image(grey) if whiten else grey)   # (512, 512)
    white = (white - white.mean()) / white.std()            # zero mean, unit variance
    images = np.stack(_dihedral_copies(white))              # (8, 512, 512), exact copies
    images.setflags(write=False)
    return images


@functools.lru_cache(maxsize=1)
def _default_color_images():
    """The colour photograph's 8 symmetric copies, shape (8, 512, 512, 3). Read-only."""
    square = _centre_square(_photo_rgb())                   # (512, 512, 3)
    images = np.stack(_dihedral_copies(square, axes=(0, 1)))
    images.setflags(write=False)
    return images


# ---------------------------------------------------------------------------
# Public loaders
# ---------------------------------------------------------------------------
def load_images(path=None, whiten=True):
    r"""Whitened (by default) grey natural images, shape ``(n_images, H, W)``, float64.

    Parameters
    ----------
    path : str, os.PathLike or None
        ``None`` (default): the built-in stand-in described in the module
        docstring, 8 images of 512 x 512, each with zero mean and unit
        variance. Built on the first call (which imports matplotlib) and
        cached, so later calls only copy it.

        A path: UFLDL's ``IMAGES.mat``, read with ``scipy.io.loadmat``. Its
        variable ``IMAGES`` is stored MATLAB-style as ``(512, 512, 10)``
        (image index last) and is returned transposed to ``(10, 512, 512)``.
        It is returned as stored: UFLDL's file is already whitened.
    whiten : bool
        ``True`` (default): the built-in images are whitened (step 2 of the
        module docstring), as UFLDL's ``IMAGES.mat``. ``False``: step 2 is
        skipped, giving the grey photograph's crop and its 8 copies, each
        with zero mean and unit variance (the counterpart of UFLDL's
        ``IMAGES_RAW.mat``). Only for the built-in images: a file is returned
        as stored, so ``whiten=False`` with a ``path`` is an error.

    Returns
    -------
    images : ndarray, shape ``(n_images, H, W)``
        A fresh copy; changing it does not change later calls.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file has no variable ``IMAGES``, or it is not a finite
        2-D or 3-D numeric array; if ``whiten`` is not a bool, or is False
        with a ``path``.
    """
    if not isinstance(whiten, (bool, np.bool_)):
        raise ValueError(f"whiten must be True or False; got {whiten!r}")
    if path is None:
        return _default_images(bool(whiten)).copy()
    if not whiten:
        raise ValueError(f"whiten=False applies to the built-in images only; a file ({os.fspath(path)!r}) is "
                         "returned as stored (UFLDL's IMAGES.mat is already whitened). Pass path=None, or "
                         "whiten=True to read the file.")

    import scipy.io

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"path must name an existing IMAGES.mat file; {path!r} does not exist. "
            "Download it from the UFLDL sparse autoencoder exercise, or call "
            "load_images() without a path for the built-in images.")
    try:
        contents = scipy.io.loadmat(path)
    except NotImplementedError as exc:   # MATLAB v7.3 files are HDF5
        raise ValueError(f"{path!r} is a MATLAB v7.3 (HDF5) file, which scipy.io.loadmat "
                         "cannot read; re-save it in MATLAB with save(..., '-v7').") from exc
    if "IMAGES" not in contents:
        found = sorted(k for k in contents if not k.startswith("__"))
        raise ValueError(f"{path!r} must contain a variable named 'IMAGES'; "
                         f"found variables {found}")
    images = np.asarray(contents["IMAGES"])
    if images.ndim == 2:                  # a single image saved as (H, W)
        images = images[:, :, None]
    if images.ndim != 3:
        raise ValueError(f"IMAGES in {path!r} must be a 3-D (H, W, n_images) array; "
                         f"got shape {images.shape}")
    images = np.transpose(images, (2, 0, 1))            # (H, W, n) -> (n, H, W)
    return check_array(images, "IMAGES", ndim=3).copy()


def load_color_images():
    r"""The built-in photograph in colour, shape ``(8, 512, 512, 3)``, values in ``[0, 1]``.

    The same central 512 x 512 crop of ``grace_hopper.jpg`` as
    :func:`load_images`, in its 8 rotated and mirrored copies, as RGB with
    channels last. Not whitened: the colour exercise samples raw patches
    (``sample_patches(..., normalize=None)``) and ZCA-whitens those.
    Cached like :func:`load_images`; each call returns a fresh copy.
    """
    return _default_color_images().copy()


# ---------------------------------------------------------------------------
# Patches
# ---------------------------------------------------------------------------
def sample_patches(images, n=10000, size=8, random_state=None, normalize="ufldl"):
    r"""Sample ``n`` random ``size x size`` patches, one per row.

    Each patch picks an image uniformly at random and a top-left corner
    uniformly among all positions where the patch fits, as UFLDL's
    ``sampleIMAGES.m`` does. All patches are gathered at once by fancy-indexing
    a ``sliding_window_view`` of the images (no Python loop per patch).

    With ``normalize="ufldl"`` the patches are then rescaled as in
    ``sampleIMAGES.m``, so they fit a sigmoid output layer:

    .. math::

        x \leftarrow x - \bar x \quad \text{(each patch's own mean, over its pixels)}

        \sigma_p = 3 \, \mathrm{std}(\text{all pixels of all patches}), \qquad
        x \leftarrow \mathrm{clip}(x, -\sigma_p, \sigma_p) / \sigma_p \in [-1, 1]

        x \leftarrow 0.4 \, (x + 1) + 0.1 \in [0.1, 0.9]

    For colour patches the mean removed is the patch's mean over all its
    pixels and channels (its brightness), which keeps the colour contrasts.

    Parameters
    ----------
    images : array_like, shape ``(n_images, H, W)`` or ``(n_images, H, W, C)``
        Grey or channels-last colour images, finite.
    n : int, >= 1
        Number of patches ``N``.
    size : int, 1 <= size <= min(H, W)
        Side of the square patches.
    random_state : None, int or numpy.random.Generator
        Source of the random positions; the same seed gives the same patches.
    normalize : {"ufldl", None}
        ``"ufldl"`` as above; ``None`` returns the raw pixel values (the
        colour pipeline whitens those with ZCA instead).

    Returns
    -------
    patches : ndarray, shape ``(N, size * size * C)``
        Row ``i`` is patch ``i`` flattened in row-major (C) order:
        ``patches[i].reshape(size, size)`` for grey, ``.reshape(size, size, C)``
        for colour, i.e. pixel ``(r, c)`` channel ``k`` sits at column
        ``(r * size + c) * C + k``.
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(
            "images must be a 3-D (n_images, H, W) grey or 4-D (n_images, H, W, C) colour array; "
            f"got a {images.ndim}-D array of shape {images.shape}. "
            "For a single image pass image[None].")
    images = check_array(images, "images", ndim=images.ndim)
    n = check_positive_int(n, "n")
    size = check_positive_int(size, "size")
    n_images, H, W = images.shape[:3]
    if size > min(H, W):
        raise ValueError(f"size must be <= the image sides (H, W) = {(H, W)}; got {size}")
    if normalize not in ("ufldl", None):
        raise ValueError(f"normalize must be 'ufldl' or None; got {normalize!r}")
    rng = check_random_state(random_state)

    # Random image and top-left corner for each patch, each of shape (N,).
    which = rng.integers(n_images, size=n)
    top = rng.integers(H - size + 1, size=n)
    left = rng.integers(W - size + 1, size=n)

    # windows[i, r, c] is the (size, size) patch of image i with top-left
    # corner (r, c): a view, nothing is copied until the fancy index below.
    windows = sliding_window_view(images, (size, size), axis=(1, 2))
    patches = windows[which, top, left]         # (N, size, size) or (N, C, size, size)
    if images.ndim == 4:
        patches = np.moveaxis(patches, 1, -1)   # channels last: (N, size, size, C)
    patches = patches.reshape(n, -1)            # row-major flatten, copies

    if normalize == "ufldl":
        patches -= patches.mean(axis=1, keepdims=True)
        pstd = 3.0 * patches.std()
        if pstd == 0.0:
            raise ValueError("images give patches with zero variance after removing each "
                             "patch's mean (constant images?); cannot apply normalize='ufldl'. "
                             "Use normalize=None or images with some contrast.")
        np.clip(patches, -pstd, pstd, out=patches)
        patches = (patches + pstd) / pstd * 0.4 + 0.1    # [-pstd, pstd] -> [0.1, 0.9]
    return patches
