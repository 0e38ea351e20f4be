"""The experiments' figures, read off their artists: class names where the data set has them, the regularised
comparison as a grid with legible titles, legends off the data, pixel images on PIXEL_RANGE (0 black).

The unit tests build the figures from made-up numbers (milliseconds); the CLI tests run the commands on the
real files at a tiny size (a second or two each) and catch the Figure each PNG was drawn from (``saved``).
"""
import numpy as np
import pytest

from numpy_ae.analysis.plotting import PIXEL_RANGE
from numpy_ae.cli import main
from numpy_ae.data import class_names
from numpy_ae.experiments.anomaly_images import auroc_bars_figure
from numpy_ae.experiments.anomaly_timeseries import anomaly_figure
from numpy_ae.experiments.denoising import MAX_PANELS_WIDTH, filter_panels_figure
from numpy_ae.experiments.gsn import histograms_figure
from numpy_ae.experiments.vae import samples_per_class

from _data import DATASET, needs_any_data  # noqa: E402  (tests/ is on sys.path under pytest)
from _figures import assert_legend_off_the_axes, extent  # noqa: E402

FASHION = class_names("fashion-mnist")
#: The width a page shows a figure at (a documentation column, a README): the titles must stay legible there.
PAGE_PX = 800
MIN_TITLE_PX = 11  # the smallest title height, in screen pixels at that width, we call legible


# --- the regularised comparison: a grid, not a strip --------------------------------------------------------
def _filter_panels(n_panels, K=100, P=784, seed=0):
    rng = np.random.default_rng(seed)
    return [(f"model {i}", rng.standard_normal((K, P))) for i in range(n_panels)]


def test_eight_models_make_two_rows_of_four_within_the_page_width():
    fig = filter_panels_figure(_filter_panels(8), title="first 100 of 256 filters per model")
    width, height = fig.get_size_inches() * fig.dpi
    assert width <= MAX_PANELS_WIDTH == 1280 and height < width            # not a 4836 x 660 strip
    lefts = sorted({round(ax.get_position().x0, 6) for ax in fig.axes})
    bottoms = sorted({round(ax.get_position().y0, 6) for ax in fig.axes})
    assert (len(fig.axes), len(lefts), len(bottoms)) == (8, 4, 2)
    # row by row: panel i in row i // 4 (top first), column i % 4
    for i, ax in enumerate(fig.axes):
        assert round(ax.get_position().x0, 6) == lefts[i % 4]
        assert round(ax.get_position().y0, 6) == bottoms[::-1][i // 4]
        assert ax.get_title() == f"model {i}"


def test_panel_titles_are_legible_at_page_width_and_overlap_nothing():
    fig = filter_panels_figure(_filter_panels(8), title="first 100 of 256 filters per model")
    fig.canvas.draw()
    width = fig.get_size_inches()[0] * fig.dpi
    shown = min(1.0, PAGE_PX / width)
    titles = [ax.title for ax in fig.axes]
    for t in titles:
        assert t.get_fontsize() * fig.dpi / 72 * shown >= MIN_TITLE_PX, t.get_fontsize()
    boxes = [extent(t, fig) for t in titles]
    images = [extent(ax, fig) for ax in fig.axes]
    for i, box in enumerate(boxes):
        assert not any(box.overlaps(other) for j, other in enumerate(boxes) if j != i)
        assert not any(box.overlaps(image) for image in images)
        assert 0 <= box.x0 and box.x1 <= fig.bbox.x1


def test_two_panels_stay_side_by_side_at_scale_2():
    fig = filter_panels_figure(_filter_panels(2))
    assert len({round(ax.get_position().y0, 6) for ax in fig.axes}) == 1
    assert fig.get_size_inches()[0] * fig.dpi == 2 * 2 * 291 + 3 * 20   # 10 x 10 tiles of 28 + 1 at scale 2


# --- legends off the data --------------------------------------------------------------------------------
def test_novelty_bars_keep_the_legend_beside_them_and_name_the_classes():
    tall = {name: {"ae": 0.97, "vae": 0.99} for name in FASHION}           # bars up to every corner
    fig = auroc_bars_figure(tall, title="AUROC")
    ax = fig.axes[0]
    assert_legend_off_the_axes(fig, ax, ax.get_legend())
    bars = [extent(p, fig) for p in ax.patches]
    assert len(bars) == 20 and not any(extent(ax.get_legend(), fig).overlaps(b) for b in bars)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(FASHION)
    every = {name: {"ae": 0.97, "pca": 0.9, "vae": 0.99, "vae_bits": 0.5, "vae_corrected": 0.98, "zlib": 0.4}
             for name in FASHION}                                             # the run's six scores: four drawn
    fig = auroc_bars_figure(every, title="AUROC")
    ax = fig.axes[0]
    assert_legend_off_the_axes(fig, ax, ax.get_legend())
    bars = [extent(p, fig) for p in ax.patches]
    assert len(bars) == 40 and not any(extent(ax.get_legend(), fig).overlaps(b) for b in bars)
    assert len(ax.get_legend().get_texts()) == 5  # four scores and the chance line


def test_class_histograms_tick_the_class_names_and_keep_the_legend_off_the_bars():
    counts = {"GSN samples": [0, 1, 42, 27, 1, 3, 9, 15, 1, 1], "real test images": [6] * 10}
    fig = histograms_figure(counts, names=FASHION)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(FASHION)
    assert_legend_off_the_axes(fig, ax, ax.get_legend())
    with pytest.raises(ValueError, match="one name per class"):
        histograms_figure(counts, names=FASHION[:9])


def test_time_series_legends_leave_the_curves_alone():
    T = 200
    ts = np.datetime64("2014-04-01T00:00") + np.arange(T) * np.timedelta64(5, "m")
    values = np.r_[np.full(100, 80.0), np.full(100, 20.0)]                # high where a legend used to sit
    labels = np.zeros(T, bool)
    labels[120:140] = True
    fig = anomaly_figure(ts, values, labels, labels, np.linspace(0, 2, T - 47), 1.0, 48, title="t")
    for ax in fig.axes:
        assert_legend_off_the_axes(fig, ax, ax.get_legend())


# --- class names in the generative figures ---------------------------------------------------------------
def test_conditional_samples_rows_are_named_by_class():
    from numpy_ae import ConditionalVAE

    rng = np.random.default_rng(0)
    X, y = rng.uniform(0, 1, (60, 784)), rng.integers(0, 3, 60)
    cvae = ConditionalVAE(hidden_layer_sizes=(8,), n_latent=2, epochs=1, random_state=0).fit(X, y)
    rows = samples_per_class(cvae, n_per_class=2, names=FASHION)
    assert [label for label, _ in rows] == ["T-shirt/top", "Trouser", "Pullover"]
    with pytest.raises(ValueError, match="names must name every label"):
        samples_per_class(cvae, names=FASHION[:2])


def _colour_bar_names(fig):
    return [t.get_text() for t in fig.axes[-1].get_yticklabels()]


@needs_any_data
def test_aae_codes_name_the_classes_and_samples_use_the_pixel_range(tmp_path, saved):
    assert main(["aae", "--dataset", DATASET, "--epochs", "1", "--n-train", "400", "--n-test", "300",
                 "--hidden", "32", "--discriminator-hidden", "16", "--quiet", "--out", str(tmp_path)]) == 0
    codes = saved["codes.png"]
    assert len(codes.axes) == 4 and _colour_bar_names(codes) == list(class_names(DATASET))  # 3 panels + the bar
    assert saved["samples.png"].axes[0].images[0].get_clim() == PIXEL_RANGE


@needs_any_data
def test_aae_mixture_rows_name_the_class_of_their_component(tmp_path, saved):
    assert main(["aae", "--dataset", DATASET, "--prior", "mixture", "--supervised", "--epochs", "1",
                 "--n-train", "400", "--n-test", "300", "--hidden", "32", "--discriminator-hidden", "16",
                 "--quiet", "--out", str(tmp_path)]) == 0
    labels = [t.get_text() for ax in saved["samples.png"].axes for t in ax.texts]
    assert labels == [f"component {k}: {name}" for k, name in enumerate(class_names(DATASET))]


@needs_any_data
def test_vae_figures_name_the_classes_and_number_the_units(tmp_path, saved):
    assert main(["vae", "--dataset", DATASET, "--epochs", "1", "--examples", "600", "--hidden", "16",
                 "--latent", "2", "--quiet", "--out", str(tmp_path)]) == 0
    names = class_names(DATASET)
    assert _colour_bar_names(saved["latent_codes.png"]) == list(names)
    (label,) = [t.get_text() for t in saved["interpolation.png"].axes[0].texts]
    first, second = label.split(" -> ")
    assert first in names and second in names and first != second
    kl = saved["kl_per_unit.png"].axes[0]
    lo, hi = kl.get_xlim()
    assert [t for t in kl.get_xticks() if lo <= t <= hi] == [0, 1]   # unit 0 and unit 1, no -0.25 or 0.75
    for name in ("generated.png", "reconstructions.png", "manifold.png"):
        assert saved[name].axes[0].images[0].get_clim() == PIXEL_RANGE, name


@needs_any_data
def test_conditional_vae_rows_are_the_class_names(tmp_path, saved):
    assert main(["vae", "--conditional", "--dataset", DATASET, "--epochs", "1", "--examples", "600",
                 "--hidden", "16", "--latent", "2", "--quiet", "--out", str(tmp_path)]) == 0
    labels = [t.get_text() for ax in saved["samples_per_class.png"].axes for t in ax.texts]
    assert labels == list(class_names(DATASET))


@needs_any_data
def test_deep_autoencoder_reconstructions_on_the_pixel_range(tmp_path, saved):
    # its decoder is linear (MSE): reconstructions stray below 0, which used to turn the inputs' background grey
    assert main(["deep-ae", "--dataset", DATASET, "--epochs", "1", "--examples", "600", "--quiet",
                 "--out", str(tmp_path)]) == 0
    fig = saved["reconstructions.png"]
    assert [ax.images[0].get_clim() for ax in fig.axes] == [PIXEL_RANGE, PIXEL_RANGE]
