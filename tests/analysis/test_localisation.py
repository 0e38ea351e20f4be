"""Tests for numpy_ae.analysis.localisation: the top-k energy share and the spread of hand-made filters."""
import numpy as np
import pytest

from numpy_ae.analysis.localisation import filter_localisation, gaussian_filters, uniform_spread


def _grid_spread(h, w):
    """The spread of a uniform h x w filter, by brute force over the pixel positions."""
    r, c = np.divmod(np.arange(h * w), w)
    return float(np.sqrt(np.mean((r - r.mean()) ** 2 + (c - c.mean()) ** 2)))


def test_single_pixel_filter_has_share_one_spread_zero_and_sits_on_its_pixel():
    F = np.zeros((3, 64))
    F[0, 0] = 1.0
    F[1, 27] = -5.0                 # row 3, column 3; the sign does not matter
    F[2, 63] = 1e-8                 # nor the scale
    m = filter_localisation(F)
    np.testing.assert_allclose(m["top_share"], 1.0)
    np.testing.assert_allclose(m["spread"], 0.0, atol=1e-12)
    np.testing.assert_allclose(m["centroid"], [[0, 0], [3, 3], [7, 7]])


def test_uniform_filter_has_share_k_over_d_and_the_spread_of_the_grid():
    m = filter_localisation(np.full((1, 64), 0.3), top=8)
    np.testing.assert_allclose(m["top_share"], 8 / 64)
    np.testing.assert_allclose(m["spread"], np.sqrt(10.5))                # 3.2404 px: 5.25 per axis
    np.testing.assert_allclose(m["centroid"], [[3.5, 3.5]])
    assert uniform_spread() == pytest.approx(np.sqrt(10.5), rel=1e-15)
    for h, w in ((8, 8), (5, 12), (1, 7)):
        assert uniform_spread((h, w)) == pytest.approx(_grid_spread(h, w), rel=1e-12)
        got = filter_localisation(-np.ones((1, h * w)), shape=(h, w), top=1)
        assert got["spread"][0] == pytest.approx(_grid_spread(h, w), rel=1e-12)
        assert got["top_share"][0] == pytest.approx(1 / (h * w))


def test_two_pixel_filter_and_row_major_layout():
    F = np.zeros((1, 64))
    F[0, 0] = 2.0                  # (0, 0)
    F[0, 7] = -2.0                 # (0, 7): same row, 7 columns apart
    m = filter_localisation(F, top=1)
    assert m["top_share"][0] == pytest.approx(0.5)
    assert m["spread"][0] == pytest.approx(3.5)
    np.testing.assert_allclose(m["centroid"][0], [0.0, 3.5])
    # On a 2 x 32 patch the same columns are (0, 0) and (0, 7) too; on 32 x 2 they are (0, 0) and (3, 1).
    tall = filter_localisation(F, shape=(32, 2), top=1)
    assert tall["spread"][0] == pytest.approx(np.hypot(3, 1) / 2)


def test_gaussian_blob_spread_is_its_width_and_random_filters_are_unlocalised():
    r, c = np.divmod(np.arange(16 * 16), 16)
    s = 1.5
    blob = np.exp(-((r - 7.5) ** 2 + (c - 7.5) ** 2) / (4 * s * s))    # energy: sd s per axis, s sqrt(2) radially
    m = filter_localisation(blob[None], shape=(16, 16))
    assert m["spread"][0] == pytest.approx(s * np.sqrt(2), abs=1e-4)
    rand = filter_localisation(gaussian_filters(4000, random_state=0))
    # i.i.d. N(0, 1) weights: the top 8 of 64 squares hold about half the energy (heavy tail of chi^2_1;
    # 2 (a phi(a) + 1 - Phi(a)) = 0.50 with a = 1.53 in the limit), and the spread stays near the grid's.
    assert 0.47 < rand["top_share"].mean() < 0.51
    assert 3.1 < rand["spread"].mean() < uniform_spread()


def test_gaussian_filters_are_reproducible_and_shaped():
    a = gaussian_filters(5, shape=(4, 6), random_state=3)
    assert a.shape == (5, 24)
    np.testing.assert_array_equal(a, gaussian_filters(5, shape=(4, 6), random_state=3))


@pytest.mark.parametrize("kwargs, match", [
    (dict(filters=np.ones((2, 63))), r"filters must have 64 features \(columns\); got shape \(2, 63\)"),
    (dict(filters=np.ones(64)), "filters must be"),
    (dict(filters=np.zeros((2, 64))), r"filters must not be all zeros.*\[0, 1\]"),
    (dict(filters=np.ones((1, 64)), top=65), "top must be <= the number of pixels h \\* w = 64; got 65"),
    (dict(filters=np.ones((1, 64)), top=0), "top must be an integer >= 1; got 0"),
    (dict(filters=np.ones((1, 64)), shape=(64,)), r"shape must be \(height, width\)"),
    (dict(filters=np.full((1, 64), np.nan)), "filters"),
])
def test_bad_arguments_are_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        filter_localisation(**kwargs)
