"""numpy_ae.analysis.class_figures: class names on the colour bar, one colour per class, legends off the data."""
import numpy as np
import pytest

from numpy_ae.analysis.class_figures import class_colormap, codes_figure, legend_outside, save_codes
from numpy_ae.analysis.plotting import new_figure
from numpy_ae.data import class_names

from _figures import assert_legend_off_the_axes, extent as _extent  # noqa: E402  (tests/ is on sys.path)

NAMES = class_names("fashion-mnist")


def _codes(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 10
    return rng.standard_normal((n, 2)) + 3 * np.c_[np.cos(y), np.sin(y)], y


def test_colour_bar_ticks_are_the_class_names_one_per_class():
    Z, y = _codes()
    fig = codes_figure([("AAE", Z, y, None), ("VAE", Z[::-1], y[::-1], Z)], NAMES, title="codes")
    fig.canvas.draw()
    *panels, bar = fig.axes
    assert len(panels) == 2
    assert [t.get_text() for t in bar.get_yticklabels()] == list(NAMES)
    assert list(bar.get_yticks()) == list(range(10))        # tick k at label k: "Trouser" names label 1
    assert bar.get_ylabel() == "class"


def test_every_class_has_its_own_colour_and_labels_keep_theirs():
    Z, y = _codes()
    fig = codes_figure([("codes", Z, y, None)], NAMES)
    fig.canvas.draw()
    points = fig.axes[0].collections[0]
    colours = points.get_facecolors()[:, :3]
    cmap, _ = class_colormap(10)
    for k in range(10):
        np.testing.assert_allclose(colours[y == k], np.tile(cmap(k)[:3], ((y == k).sum(), 1)))
    assert len({tuple(c) for c in colours.round(6)}) == 10


def test_prior_samples_are_grey_beneath_the_codes():
    Z, y = _codes()
    P = np.random.default_rng(1).standard_normal((500, 2))
    fig = codes_figure([("AAE", Z, y, P)], NAMES)
    prior, codes = fig.axes[0].collections
    np.testing.assert_allclose(prior.get_facecolors()[0, :3], [0.75] * 3)
    assert codes.get_offsets().shape == (300, 2) and prior.get_offsets().shape == (500, 2)


def test_a_panel_of_prior_samples_only_and_no_colour_bar_without_codes():
    P = np.random.default_rng(1).standard_normal((50, 2))
    fig = codes_figure([("prior", None, None, P)], NAMES)
    assert len(fig.axes) == 1


@pytest.mark.parametrize("y, match", [(np.full(300, 10), r"range \[10, 10\]"),
                                      (np.zeros(299, dtype=int), "must be 300 integers"),
                                      (np.zeros(300), "dtype float64")])
def test_labels_that_are_not_indices_into_names_are_refused(y, match):
    Z, _ = _codes()
    with pytest.raises(ValueError, match=match):
        codes_figure([("codes", Z, y, None)], NAMES)


def test_save_codes_writes_the_png(tmp_path):
    Z, y = _codes()
    path = save_codes([("codes", Z, y, None)], tmp_path / "codes.png", NAMES, title="t")
    assert path.stat().st_size > 5000


def test_class_colormap_limits():
    with pytest.raises(ValueError, match="n_classes must be between 1 and 20"):
        class_colormap(21)


def test_legend_outside_covers_no_part_of_the_plot_area():
    fig = new_figure(700, 400)
    ax = fig.add_subplot()
    ax.bar(np.arange(5), [0.9, 0.95, 1.0, 0.97, 0.99], label="tall bars right up to the corners")
    ax.axhline(0.5, label="chance")
    legend = legend_outside(ax)
    fig.tight_layout()
    assert_legend_off_the_axes(fig, ax, legend)
    assert _extent(legend, fig).x0 > _extent(ax.patch, fig).x1   # to the right of it
