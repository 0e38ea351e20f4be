"""Tests for numpy_ae.analysis.plotting: tile layout arithmetic, normalisation, files written."""
import matplotlib.image
import numpy as np
import pytest

from numpy_ae.analysis.plotting import save_image_grid, save_loss_curve, save_tiles, tile_images


def _filters(K, P, seed=0):
    return np.random.default_rng(seed).standard_normal((K, P))


def _tile(grid, k, n_cols, h, w, pad=1):
    """Tile k of a grid laid out by tile_images."""
    i, j = divmod(k, n_cols)
    top, left = pad + i * (h + pad), pad + j * (w + pad)
    return grid[top:top + h, left:left + w]


# --- layout -----------------------------------------------------------------------
def test_25_images_of_8x8_make_a_46_pixel_square():
    grid = tile_images(_filters(25, 64))
    assert grid.shape == (5 * 8 + 6, 5 * 8 + 6) == (46, 46)


@pytest.mark.parametrize("K, n_cols, pad, expected", [
    (10, None, 1, (3 * 8 + 4, 4 * 8 + 5)),     # ceil(sqrt(10)) = 4 columns, 3 rows
    (10, 5, 2, (2 * 8 + 3 * 2, 5 * 8 + 6 * 2)),
    (1, None, 0, (8, 8)),
    (7, 7, 1, (8 + 2, 7 * 8 + 8)),
])
def test_grid_shape_arithmetic(K, n_cols, pad, expected):
    assert tile_images(_filters(K, 64), n_cols=n_cols, pad=pad).shape == expected


def test_images_are_placed_row_major_with_black_borders():
    A = np.arange(6 * 12, dtype=float).reshape(6, 12) + 1.0   # six 3 x 4 images, all positive
    grid = tile_images(A, shape=(3, 4), n_cols=4, normalize=None, pad_value=-1.0)
    assert grid.shape == (1 + 2 * 4, 1 + 4 * 5)
    for k in range(6):
        np.testing.assert_array_equal(_tile(grid, k, 4, 3, 4), A[k].reshape(3, 4))
    # Borders and the two unused cells hold the pad value.
    used = np.zeros(grid.shape, dtype=bool)
    for k in range(6):
        i, j = divmod(k, 4)
        used[1 + i * 4:1 + i * 4 + 3, 1 + j * 5:1 + j * 5 + 4] = True
    assert np.all(grid[~used] == -1.0)


def test_each_normalisation_maps_every_tile_max_abs_to_one():
    A = _filters(9, 36) * np.arange(1, 10)[:, None]        # very different sizes per image
    A[4] = 0.0                                             # an all-zero filter
    grid = tile_images(A)
    for k in range(9):
        tile = _tile(grid, k, 3, 6, 6)
        expected = 0.0 if k == 4 else 1.0
        assert np.abs(tile).max() == pytest.approx(expected, abs=1e-15)
        if k != 4:
            np.testing.assert_allclose(tile, A[k].reshape(6, 6) / np.abs(A[k]).max(), rtol=1e-15)
    assert grid[0, 0] == -1.0                              # border: black under vmin=-1


def test_global_normalisation_keeps_relative_sizes():
    A = np.array([[1.0, -2.0, 0.5, 0.0], [4.0, 0.0, 0.0, -1.0]])
    grid = tile_images(A, normalize="global", n_cols=2, pad=0)
    np.testing.assert_allclose(grid, np.hstack([A[0].reshape(2, 2), A[1].reshape(2, 2)]) / 4.0)


def test_colour_tiles():
    A = _filters(16, 8 * 8 * 3)
    grid = tile_images(A, channels=3)
    assert grid.shape == (4 * 8 + 5, 4 * 8 + 5, 3)
    assert grid.min() >= 0.0 and grid.max() <= 1.0
    tile = _tile(grid, 5, 4, 8, 8)
    # Channel-last row-major layout, one scale for all three channels, 0 -> 0.5.
    np.testing.assert_allclose(tile, (A[5].reshape(8, 8, 3) / np.abs(A[5]).max() + 1) / 2, rtol=1e-15)
    assert np.all(grid[0, :] == 0.0)                       # black border


def test_tile_errors():
    with pytest.raises(ValueError, match="cannot infer a square image shape from P = 10"):
        tile_images(_filters(4, 10))
    with pytest.raises(ValueError, match=r"shape=\(3, 3\) with channels=1 needs P = 9"):
        tile_images(_filters(4, 10), shape=(3, 3))
    with pytest.raises(ValueError, match="channels must be 1"):
        tile_images(_filters(4, 16), channels=2)
    with pytest.raises(ValueError, match="normalize must be"):
        tile_images(_filters(4, 16), normalize="max")
    with pytest.raises(ValueError, match="A must be a 2-D array"):
        tile_images(np.zeros(16))


# --- files ------------------------------------------------------------------------
def test_save_tiles_writes_a_png_scaled_by_an_integer(tmp_path):
    path = save_tiles(_filters(25, 64), tmp_path / "filters.png")
    assert path == tmp_path / "filters.png"
    image = matplotlib.image.imread(path)
    scale = -(-512 // 46)                                  # ceil(512 / 46) = 12
    assert image.shape == (46 * scale, 46 * scale, 4)
    # The top-left pixel is border: black. A nearest-neighbour upscale keeps
    # each grid pixel a uniform scale x scale block.
    np.testing.assert_allclose(image[0, 0, :3], 0.0)
    block = image[scale:2 * scale, scale:2 * scale, 0]
    assert np.all(block == block[0, 0])


def test_save_tiles_with_title_and_colour(tmp_path):
    path = save_tiles(_filters(4, 5 * 5 * 3), tmp_path / "c.png", title="colour", scale=10, channels=3)
    image = matplotlib.image.imread(path)
    assert image.shape == (13 * 10 + 30, 13 * 10, 4)


def test_save_image_grid(tmp_path):
    X = np.random.default_rng(0).random((10, 28 * 28))
    path = save_image_grid([("input", X), ("reconstruction", 0.9 * X)], tmp_path / "r.png",
                           image_shape=(28, 28), title="reconstructions")
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[1] > image.shape[0] > 2 * 28 * 2


def test_save_loss_curve(tmp_path):
    path = save_loss_curve({"train": [3.0, 2.0, 1.5], "validation": [3.2, 2.5, 2.0]},
                           tmp_path / "loss.png", logy=True)
    assert matplotlib.image.imread(path).shape == (420, 640, 4)
    with pytest.raises(ValueError, match=r"history\['train'\] has values <= 0"):
        save_loss_curve({"train": [1.0, 0.0]}, tmp_path / "bad.png", logy=True)
    with pytest.raises(ValueError, match="history must be a non-empty dict"):
        save_loss_curve({}, tmp_path / "bad.png")


# --- lazy import --------------------------------------------------------------------
def test_importing_plotting_does_not_import_matplotlib():
    import subprocess
    import sys
    code = ("import sys, numpy_ae.analysis.plotting, numpy_ae.analysis.features; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'); "
            "assert not bad, bad")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


# --- pictures of a fitted model -----------------------------------------------------
@pytest.fixture(scope="module")
def sae():
    """A 16-5-16 sparse autoencoder on 4 x 4 'images', briefly trained."""
    from numpy_ae import SparseAutoencoder
    X = np.random.default_rng(0).random((80, 16))
    return SparseAutoencoder(n_hidden=5, sparsity=0.1, random_state=0, max_iter=10).fit(X), X


@pytest.fixture(scope="module")
def deep_adam():
    from numpy_ae.models.stacked import StackedAutoencoder
    X = np.random.default_rng(1).random((60, 16))
    ae = StackedAutoencoder(hidden_layer_sizes=(6, 3), activation="sigmoid", random_state=0)
    return ae.set_params(method="adam", epochs=4, batch_size=20).fit(X, validation_data=X[:20]), X


def _readable_png(path):
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[2] == 4 and image.dtype == np.float32
    assert image[..., :3].std() > 0.05                     # not a blank canvas
    return image


def test_save_reconstructions(tmp_path, sae):
    from numpy_ae.analysis.model_figures import save_reconstructions
    ae, X = sae
    path = save_reconstructions(ae, X, tmp_path / "rec.png", n=6, image_shape=(4, 4))
    assert path == tmp_path / "rec.png"
    image = _readable_png(path)
    # save_image_grid: 4 x 4 images at scale ceil(48 / 4) = 12, six in a row with 1-pixel borders,
    # after a 140-pixel label column; two rows of (4 + 2) * 12 pixels, a 30-pixel title, 8-pixel gaps.
    assert image.shape[:2] == (30 + 2 * 6 * 12 + 3 * 8, 140 + (1 + 6 * 5) * 12)
    image = _readable_png(save_reconstructions(ae, X, tmp_path / "worst.png", indices=[3, 1], title="two"))
    assert image.shape[1] == 140 + (1 + 2 * 5) * 12
    with pytest.raises(ValueError, match="indices must be a non-empty 1-D list of row numbers of X"):
        save_reconstructions(ae, X, tmp_path / "bad.png", indices=[80])


def test_save_filters_first_and_deeper_layers(tmp_path, sae, deep_adam):
    from numpy_ae.analysis.model_figures import save_filters
    image = _readable_png(save_filters(sae[0], tmp_path / "f.png"))
    # 5 tiles of 4 x 4: 3 columns, 2 rows -> 11 x 16 pixels, scaled by ceil(512 / 16) = 32, plus a title
    assert image.shape[:2] == (11 * 32 + 30, 16 * 32)
    image = _readable_png(save_filters(deep_adam[0], tmp_path / "f1.png", layer=1, scale=10))
    assert image.shape[:2] == ((1 + 2 * 5) * 10 + 30, (1 + 2 * 5) * 10)   # 3 tiles: 2 x 2 grid
    with pytest.raises(ValueError, match=r"units must lie in \[0, 5\)"):
        save_filters(sae[0], tmp_path / "bad.png", units=[7])
    with pytest.raises(ValueError, match=r"layer must be an integer in \[-1, 1\)"):
        save_filters(sae[0], tmp_path / "bad.png", layer=1)


def test_save_top_activating(tmp_path, sae):
    from numpy_ae.analysis.model_figures import save_top_activating
    ae, X = sae
    image = _readable_png(save_top_activating(ae, X, tmp_path / "top.png", units=[0, 2, 4], k=4))
    # three labelled rows of four 4 x 4 images at scale 12
    assert image.shape[:2] == (30 + 3 * 6 * 12 + 4 * 8, 140 + (1 + 4 * 5) * 12)
    image = _readable_png(save_top_activating(ae, X, tmp_path / "all.png", k=2))
    assert image.shape[0] == 30 + 5 * 6 * 12 + 6 * 8                       # default: all 5 (<= 10) units
    with pytest.raises(ValueError, match=r"k must be at most the number of examples N = 80"):
        save_top_activating(ae, X, tmp_path / "bad.png", k=81)


def test_save_activation_maximisation(tmp_path, sae, deep_adam):
    from numpy_ae.analysis.model_figures import save_activation_maximisation
    image = _readable_png(save_activation_maximisation(sae[0], tmp_path / "am.png", layer=0, norm=2.0,
                                                       random_state=0, steps=50))
    assert image.shape[:2] == (11 * 32 + 30, 16 * 32)
    image = _readable_png(save_activation_maximisation(deep_adam[0], tmp_path / "am1.png", units=[1, 2],
                                                       layer=-1, steps=20, random_state=0))
    assert image.shape[:2] == (6 * 47 + 30, 11 * 47)            # 2 tiles in a row: 6 x 11, scale ceil(512 / 11)
    with pytest.raises(ValueError, match=r"norm must be a finite number > 0"):
        save_activation_maximisation(sae[0], tmp_path / "bad.png", norm=-1.0)
    with pytest.raises(ValueError, match=r"unit must lie in \[0, 5\)"):
        save_activation_maximisation(sae[0], tmp_path / "bad.png", units=[5])


def test_save_loss_curve_from_models_and_training_histories(tmp_path, sae, deep_adam):
    ae, _ = deep_adam
    assert set(ae.history_) == {"loss", "val_loss", "seconds", "best_epoch"}
    for source in (ae, ae.history_, sae[0]):                    # minibatch model, its history_, an L-BFGS model
        _readable_png(save_loss_curve(source, tmp_path / "loss.png"))
    # a training history without validation data: the empty val_loss list is skipped, not an error
    history = {"loss": [3.0, 2.0, 1.0], "val_loss": [], "seconds": [0.1, 0.1, 0.1], "best_epoch": 3}
    assert matplotlib.image.imread(save_loss_curve(history, tmp_path / "h.png", logy=True)).shape == (420, 640, 4)
    with pytest.raises(ValueError, match="fitted model with history_"):
        save_loss_curve(object(), tmp_path / "bad.png")
