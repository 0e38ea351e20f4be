"""The figure conventions of numpy_ae.analysis.plotting, read off the drawn pixels and the figures' artists:
pixel images on one grey scale (0 black, 1 white), row labels inside the figure, whole-number epochs."""
import numpy as np
import pytest

from numpy_ae.analysis.plotting import PIXEL_RANGE, image_grid_figure, save_loss_curve, save_tiles

from _figures import pixel as _pixel  # noqa: E402  (tests/ is on sys.path under pytest)


def _inputs_and_dark_reconstructions():
    """Images on a 0 background with a bright square; 'reconstructions' that stray below 0, as the deep
    autoencoder's linear outputs do (MSE, no sigmoid)."""
    X = np.zeros((4, 28 * 28))
    X.reshape(4, 28, 28)[:, 10:18, 10:18] = 1.0
    X_hat = X - 0.4 + 0.05 * np.random.default_rng(0).standard_normal(X.shape)
    return X, X_hat


def test_on_the_pixel_range_the_inputs_background_stays_black_whatever_the_reconstructions_do():
    X, X_hat = _inputs_and_dark_reconstructions()
    fig = image_grid_figure([("input", X), ("reconstruction", X_hat)], (28, 28), value_range=PIXEL_RANGE)
    top = fig.axes[0]
    assert top.images[0].get_clim() == PIXEL_RANGE
    # grid pixel (1, 1) is the first image's corner (pad 1): background 0 -> black; (14, 14) its square -> white
    assert list(_pixel(fig, top, 1, 1)) == [0, 0, 0]
    assert list(_pixel(fig, top, 14, 14)) == [255, 255, 255]


def test_without_it_the_common_scale_turns_the_same_background_grey():
    # what the deep autoencoder's figure did: the scale ran from min(X_hat) < 0, so 0 was drawn grey
    X, X_hat = _inputs_and_dark_reconstructions()
    fig = image_grid_figure([("input", X), ("reconstruction", X_hat)], (28, 28))
    grey = _pixel(fig, fig.axes[0], 1, 1)
    assert 70 < grey[0] < 140 and grey[0] == grey[1] == grey[2]


def test_save_tiles_on_the_pixel_range_shows_a_dim_image_dim(tmp_path, saved):
    A = np.linspace(0.3, 0.5, 2 * 64).reshape(2, 64)             # a faint decoder output: nothing near 0
    save_tiles(A, tmp_path / "dim.png", normalize=None, value_range=PIXEL_RANGE, scale=4)
    save_tiles(A, tmp_path / "stretched.png", normalize=None, scale=4)
    dim, stretched = saved["dim.png"], saved["stretched.png"]
    assert dim.axes[0].images[0].get_clim() == (0.0, 1.0)
    assert abs(_pixel(dim, dim.axes[0], 1, 1)[0] - 0.3 * 255) <= 1  # value 0.3 drawn at 30% grey
    assert _pixel(stretched, stretched.axes[0], 1, 1)[0] == 0       # the data's range: 0.3 drawn black
    assert _pixel(dim, dim.axes[0], 0, 0)[0] == 0                   # the border is black on either scale


@pytest.mark.parametrize("kwargs, match", [
    ({"normalize": "each", "value_range": (0, 1)}, "value_range is for normalize=None"),
    ({"value_range": (1, 0)}, "black < white"),
    ({"value_range": "01x"}, "two numbers")])
def test_value_range_errors(kwargs, match):
    X, X_hat = _inputs_and_dark_reconstructions()
    with pytest.raises(ValueError, match=match):
        image_grid_figure([("input", X)], (28, 28), **kwargs)


def test_long_row_labels_are_not_cut_off():
    # the supervised AAE's rows, "component 9: Ankle boot", used to lose their first letters
    X, _ = _inputs_and_dark_reconstructions()
    labels = ["component 9: Ankle boot", "input", "a rather longer label than the column allows"]
    fig = image_grid_figure([(label, X) for label in labels], (28, 28), title="t")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for ax in fig.axes for t in ax.texts]
    assert [t.get_text() for t in texts] == labels
    for t in texts:
        box = t.get_window_extent(renderer)
        assert box.x0 >= 0, (t.get_text(), box.x0)                 # inside the figure
        assert box.x1 <= fig.axes[0].get_window_extent(renderer).x0   # and left of the images


@pytest.mark.parametrize("n_epochs", [1, 3, 40])
def test_loss_curves_tick_whole_epochs_only(tmp_path, saved, n_epochs):
    save_loss_curve({"training": np.linspace(1, 0.5, n_epochs), "test": np.linspace(1.1, 0.6, n_epochs)},
                    tmp_path / "loss.png")
    ax = saved["loss.png"].axes[0]
    lo, hi = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
    assert ticks and all(float(t).is_integer() for t in ticks)
    assert 1 in ticks or n_epochs > 10
