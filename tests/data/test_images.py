"""Tests for numpy_ae.data.images: whitening, the default images, patch sampling."""
import numpy as np
import pytest
import scipy.io

from numpy_ae.data import load_color_images, load_images, sample_patches
from numpy_ae.data import images as images_module
from numpy_ae.data.images import whiten_image


@pytest.fixture(scope="module")
def images():
    return load_images()


def _raw_grey_square():
    """The unwhitened grey crop that the default images are made from."""
    grey = images_module._photo_rgb() @ images_module._LUMINANCE
    return images_module._centre_square(grey)


def _radial_power(image):
    """Radially averaged power spectrum; entry f is the mean power at |f| ~ f cycles/picture."""
    N = image.shape[0]
    power = np.abs(np.fft.fft2(image - image.mean())) ** 2
    f = np.fft.fftfreq(N) * N
    radius = np.rint(np.hypot(f[:, None], f[None, :])).astype(int).ravel()
    return np.bincount(radius, power.ravel()) / np.bincount(radius)


# --- whitening ---------------------------------------------------------------
def test_whiten_image_multiplies_a_cosine_by_the_filter_gain():
    # A cosine sampled at half-integer positions is symmetric about both image
    # edges, so the mirrored extension is the same cosine and whitening must
    # return it times R(f) = f exp(-(f/f0)^4) exactly (f in cycles per pixel).
    N = 64
    x = np.arange(N) + 0.5
    for k in (1, 4, 20, 31):
        image = np.tile(np.cos(2 * np.pi * k * x / N), (N, 1))       # varies along x only
        f = k / N
        gain = f * np.exp(-(f / 0.4) ** 4)
        np.testing.assert_allclose(whiten_image(image), gain * image, rtol=0, atol=1e-12)
        np.testing.assert_allclose(whiten_image(image.T), gain * image.T, rtol=0, atol=1e-12)


def test_whiten_image_removes_the_mean_and_accepts_stacks():
    rng = np.random.default_rng(0)
    stack = rng.random((3, 20, 30)) + 5.0
    white = whiten_image(stack)
    assert white.shape == stack.shape
    np.testing.assert_allclose(white[1], whiten_image(stack[1]), rtol=0, atol=1e-13)
    assert abs(white.mean()) < 0.05 * white.std()        # DC gain is 0; the 5.0 offset is gone


def test_whitening_flattens_the_power_spectrum(images):
    # Natural images have power ~ 1/f^a with a near 2 (this photograph: a ~ 2.9).
    # The filter multiplies power by f^2 exp(-2 (f/f0)^4), i.e. raises the
    # log-log slope by 2 minus the roll-off's share (about 0.1 over 8..128
    # cycles/picture with f0 = 205). Measured: -2.80 -> -0.89.
    f = np.arange(8, 129)
    raw = _radial_power(_raw_grey_square())[f]
    white = _radial_power(images[0])[f]
    slope_raw = np.polyfit(np.log(f), np.log(raw), 1)[0]
    slope_white = np.polyfit(np.log(f), np.log(white), 1)[0]
    assert slope_raw < -2.0
    assert 1.7 < slope_white - slope_raw < 2.1
    # Over a 16x frequency range an f^2 ramp shrinks the max/min spread of the
    # power by about 16^2 = 256x (measured 2100 -> 16); ask for at least 50x.
    assert (raw.max() / raw.min()) > 50 * (white.max() / white.min())


def test_whitening_moves_power_out_of_low_frequencies(images):
    N = 512
    f = np.fft.fftfreq(N) * N
    radius = np.hypot(f[:, None], f[None, :])
    low, nonzero = (radius > 0) & (radius < 8), radius > 0
    for image, lo, hi in [(_raw_grey_square(), 0.5, 1.0), (images[0], 0.0, 0.05)]:
        power = np.abs(np.fft.fft2(image - image.mean())) ** 2
        fraction = power[low].sum() / power[nonzero].sum()     # measured: 0.62 raw, 0.015 white
        assert lo < fraction < hi


# --- default images -------------------------------------------------------------
def test_default_images_shape_zero_mean_unit_variance(images):
    assert images.shape == (8, 512, 512) and images.dtype == np.float64
    np.testing.assert_allclose(images.mean(axis=(1, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose(images.var(axis=(1, 2)), 1.0, rtol=1e-12)


def test_default_images_are_the_eight_symmetries_of_one_image(images):
    first = images[0]
    expected = [np.rot90(img, k) for img in (first, first[:, ::-1]) for k in range(4)]
    np.testing.assert_array_equal(images, np.stack(expected))


def test_load_images_returns_a_fresh_copy_each_call():
    a = load_images()
    a[:] = 0.0
    b = load_images()
    assert b.var() > 0.5 and b.flags.writeable


def test_unwhitened_images_are_the_standardised_grey_crop_in_its_eight_symmetries(images):
    raw = load_images(whiten=False)
    assert raw.shape == images.shape == (8, 512, 512)
    grey = _raw_grey_square()
    first = (grey - grey.mean()) / grey.std()
    expected = [np.rot90(img, k) for img in (first, first[:, ::-1]) for k in range(4)]
    np.testing.assert_allclose(raw, np.stack(expected), rtol=0, atol=1e-12)
    # Not whitened: the photograph's steep spectrum (most power at low frequencies), unlike the default images.
    low, high = _radial_power(raw[0])[4:16].mean(), _radial_power(raw[0])[128:250].mean()
    white_low, white_high = _radial_power(images[0])[4:16].mean(), _radial_power(images[0])[128:250].mean()
    assert low / high > 50 * (white_low / white_high)                # measured: 7535 vs 37
    raw[:] = 0.0                                  # a fresh copy: the next call is unchanged
    assert load_images(whiten=False).var() > 0.5


def test_whiten_must_be_a_bool_and_true_with_a_file(tmp_path):
    with pytest.raises(ValueError, match="whiten must be True or False; got 'no'"):
        load_images(whiten="no")
    path = tmp_path / "IMAGES.mat"
    scipy.io.savemat(path, {"IMAGES": np.ones((4, 4, 2))})
    with pytest.raises(ValueError, match="whiten=False applies to the built-in images only"):
        load_images(path, whiten=False)
    assert load_images(path, whiten=True).shape == (2, 4, 4)


def test_load_color_images():
    colour = load_color_images()
    assert colour.shape == (8, 512, 512, 3) and colour.dtype == np.float64
    assert colour.min() >= 0.0 and colour.max() <= 1.0
    # Same crop and the same 8 rotations/mirrorings, in the same order, as the grey images.
    raw = _raw_grey_square()
    expected = [np.rot90(img, k) for img in (raw, raw[:, ::-1]) for k in range(4)]
    np.testing.assert_allclose(colour @ images_module._LUMINANCE, np.stack(expected), atol=1e-12)


# --- IMAGES.mat -----------------------------------------------------------------
def test_load_images_reads_ufldl_mat_file(tmp_path):
    rng = np.random.default_rng(1)
    stored = rng.standard_normal((16, 12, 3))                 # MATLAB layout (H, W, n)
    path = tmp_path / "IMAGES.mat"
    scipy.io.savemat(path, {"IMAGES": stored})
    loaded = load_images(path)
    assert loaded.shape == (3, 16, 12)
    for i in range(3):
        np.testing.assert_array_equal(loaded[i], stored[:, :, i])


def test_load_images_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_images(tmp_path / "nope.mat")


def test_load_images_missing_variable(tmp_path):
    path = tmp_path / "other.mat"
    scipy.io.savemat(path, {"IMAGES_RAW": np.zeros((4, 4, 2))})
    with pytest.raises(ValueError, match=r"variable named 'IMAGES'.*IMAGES_RAW"):
        load_images(path)


# --- patches ----------------------------------------------------------------------
def test_sample_patches_shape_range_and_dtype(images):
    patches = sample_patches(images, n=10000, size=8, random_state=0)
    assert patches.shape == (10000, 64) and patches.dtype == np.float64
    assert patches.min() >= 0.1 and patches.max() <= 0.9
    # About 1% of whitened pixels lie beyond 3 std and are clipped to the ends.
    assert patches.min() == 0.1 and patches.max() == pytest.approx(0.9, abs=1e-15)


def test_sample_patches_is_deterministic_given_a_seed(images):
    a = sample_patches(images, n=50, random_state=3)
    b = sample_patches(images, n=50, random_state=np.random.default_rng(3))
    c = sample_patches(images, n=50, random_state=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_raw_patches_are_row_major_windows_of_the_images():
    # Image i holds 1000 i + 10 r + c, so each raw patch says where it came from.
    r, c = np.meshgrid(np.arange(10), np.arange(7), indexing="ij")
    stack = np.stack([1000 * i + 10 * r + c for i in range(3)]).astype(float)   # (3, 10, 7)
    patches = sample_patches(stack, n=200, size=3, random_state=0, normalize=None)
    assert patches.shape == (200, 9)
    for p in patches:
        i, top, left = int(p[0] // 1000), int(p[0] % 1000 // 10), int(p[0] % 10)
        np.testing.assert_array_equal(p.reshape(3, 3), stack[i, top:top + 3, left:left + 3])
    # Patches come from every image (200 draws over 3 images).
    assert {int(v // 1000) for v in patches[:, 0]} == {0, 1, 2}


def test_ufldl_normalisation_on_a_hand_made_image():
    # Two 2 x 2 images, so each holds exactly one 2 x 2 patch:
    #   (0 2 / 0 2) and (2 0 / 2 0). Each patch's own mean is 1, leaving
    #   entries -1 and +1; the std over all patches' pixels is 1, so pstd = 3,
    #   nothing is clipped, and x -> (x + 3) / 3 * 0.4 + 0.1 maps
    #   -1 -> 0.3667 and +1 -> 0.6333, in the same row-major places.
    stack = np.array([[[0.0, 2.0], [0.0, 2.0]],
                      [[2.0, 0.0], [2.0, 0.0]]])
    lo, hi = (-1 + 3) / 3 * 0.4 + 0.1, (1 + 3) / 3 * 0.4 + 0.1
    patches = sample_patches(stack, n=40, size=2, random_state=0)
    assert patches.shape == (40, 4)
    for p in patches:
        assert np.allclose(p, [lo, hi, lo, hi], rtol=0, atol=1e-15) \
            or np.allclose(p, [hi, lo, hi, lo], rtol=0, atol=1e-15)


def test_ufldl_normalisation_matches_sampleIMAGES_recipe(images):
    raw = sample_patches(images, n=500, random_state=7, normalize=None)
    out = sample_patches(images, n=500, random_state=7)
    centred = raw - raw.mean(axis=1, keepdims=True)          # each patch's own mean removed
    np.testing.assert_allclose(centred.mean(axis=1), 0.0, atol=1e-14)
    pstd = 3 * centred.std()                                  # UFLDL: pstd = 3 * std(patches(:))
    expected = (np.clip(centred, -pstd, pstd) + pstd) / pstd * 0.4 + 0.1
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-15)


def test_colour_patches_are_channel_last():
    colour = load_color_images()
    patches = sample_patches(colour, n=100, size=8, random_state=0, normalize=None)
    assert patches.shape == (100, 8 * 8 * 3)
    assert patches.min() >= 0.0 and patches.max() <= 1.0
    # Channel k of pixel (r, c) is at column (r * 8 + c) * 3 + k: reshape gives RGB pixels
    # that appear in the image (check the first pixel of a few patches).
    pixels = colour.reshape(-1, 3)
    for p in patches[:5]:
        assert np.any(np.all(pixels == p.reshape(8, 8, 3)[0, 0], axis=1))
    normalised = sample_patches(colour, n=100, size=8, random_state=0)
    assert normalised.shape == (100, 192) and 0.1 <= normalised.min() and normalised.max() <= 0.9


# --- errors -----------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, -5, 2.5, True])
def test_bad_n(images, n):
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        sample_patches(images, n=n)


def test_size_larger_than_the_images():
    with pytest.raises(ValueError, match=r"size must be <= the image sides \(H, W\) = \(6, 9\); got 7"):
        sample_patches(np.zeros((2, 6, 9)), size=7)


def test_bad_size():
    with pytest.raises(ValueError, match="size must be an integer >= 1; got 0"):
        sample_patches(np.zeros((2, 6, 9)), size=0)


def test_two_d_images_are_rejected():
    with pytest.raises(ValueError, match=r"images must be a 3-D .* got a 2-D array of shape \(6, 9\).*image\[None\]"):
        sample_patches(np.zeros((6, 9)), size=2)


def test_nan_in_images():
    stack = np.ones((2, 6, 9))
    stack[1, 2, 3] = np.nan
    with pytest.raises(ValueError, match=r"images must be finite.*index \(1, 2, 3\)"):
        sample_patches(stack, size=2)


def test_bad_normalize():
    with pytest.raises(ValueError, match="normalize must be 'ufldl' or None; got 'zca'"):
        sample_patches(np.random.default_rng(0).random((1, 6, 6)), size=2, normalize="zca")


def test_constant_images_cannot_be_normalised():
    with pytest.raises(ValueError, match="zero variance"):
        sample_patches(np.full((2, 6, 6), 3.0), size=2)
