r"""Pictures of what an autoencoder learned: filter grids, reconstructions, loss curves.

:func:`tile_images` is UFLDL's ``display_network`` with our conventions: it
takes a matrix whose ROWS are images (``A`` of shape ``(K, P)``, e.g. the
hidden units' weight vectors ``W.T`` of a ``Dense`` layer with ``W`` of shape
``(D, H)``), and returns the grid as a plain array, so you can also show it
with your own matplotlib code. The ``save_*`` functions write PNG files and
return their path:

* generic: :func:`save_tiles`, :func:`save_image_grid`, :func:`save_loss_curve`;
* of a fitted model, in :mod:`numpy_ae.analysis.model_figures`:
  ``save_reconstructions``, ``save_filters``, ``save_top_activating``,
  ``save_activation_maximisation``. ``image_shape=None`` means square images
  (28 x 28 for MNIST's 784 pixels, 8 x 8 for 64-pixel patches).

matplotlib is imported inside the functions, and files are written through
``matplotlib.figure.Figure`` with the Agg canvas: no pyplot, no global figure
state, no window, so this works on a server and inside tests.

Pixel order: an image row of ``P = h * w * C`` numbers is reshaped in
row-major (C) order to ``(h, w)`` (grey) or ``(h, w, C)`` (colour, channels
last), the same order in which :func:`numpy_ae.data.sample_patches` flattens
patches. (UFLDL's MATLAB code reshapes column-major; its pictures of the same
filters therefore appear transposed relative to ours, which is harmless.)
"""
from __future__ import annotations
import math
import pathlib
import numpy as np
from .._validation import check_array, check_positive_int

__all__ = ['tile_images', 'save_tiles', 'save_image_grid', 'image_grid_figure', 'save_loss_curve', 'new_figure',
           'PIXEL_RANGE']

#: The grey scale of every figure of images whose values are pixel intensities (the data sets' images, and
#: what a decoder makes of them): 0 is black, 1 white, values outside clipped. The data sets' backgrounds
#: are 0, so they are black in every such figure, whatever range a reconstruction strays into.
PIXEL_RANGE = (0.0, 1.0)

_NORMALIZE = ("each", "global", None)


def _image_shape(P, shape, channels):
    """(h, w) of each image, inferred as a square when ``shape`` is None."""
    if shape is None:
        side = math.isqrt(P // channels)
        if side * side * channels != P:
            raise ValueError(f"cannot infer a square image shape from P = {P} values per image "
                             f"with channels={channels}; pass shape=(h, w)")
        return side, side
    h, w = (check_positive_int(s, "shape entries") for s in shape)
    if h * w * channels != P:
        raise ValueError(f"shape={tuple(shape)} with channels={channels} needs P = {h * w * channels} "
                         f"values per image; A has P = {P} columns")
    return h, w


def tile_images(A, shape=None, n_cols=None, pad=1, normalize="each", channels=1, pad_value=None):
    r"""Arrange the rows of ``A`` as images in a near-square grid.

    Parameters
    ----------
    A : array_like, shape ``(K, P)``
        ``K`` images, one per row, each of ``P = h * w * channels`` values in
        row-major order (channels last).
    shape : (int, int) or None
        ``(h, w)`` of each image; ``None`` means square, ``h = w = sqrt(P / channels)``.
    n_cols : int or None
        Images per grid row; default ``ceil(sqrt(K))``. The grid has
        ``n_rows = ceil(K / n_cols)`` rows; unused cells are border colour.
    pad : int, >= 0
        Border width in pixels, between images and around the grid.
    normalize : {"each", "global", None}
        ``"each"`` divides every image by its own largest absolute value, so
        each one spans ``[-1, 1]`` with 0 in the middle, as ``display_network``
        does: this shows each filter's pattern, not its size. ``"global"``
        divides all images by the largest absolute value of ``A``, keeping
        their relative sizes. An all-zero image stays 0. ``None`` leaves the
        values as they are. For colour (``channels=3``) the normalised values
        are then mapped from ``[-1, 1]`` to ``[0, 1]`` (0 becomes mid-grey),
        as UFLDL's ``displayColorNetwork``, but with one scale for all three
        channels of an image rather than one per channel, so hues are not
        distorted.
    channels : {1, 3}
        1 for grey, 3 for RGB.
    pad_value : float or None
        Border value. ``None``: black under the usual display range, i.e. -1
        for normalised grey (shown with ``vmin=-1, vmax=1``, as in
        ``display_network``), 0 for normalised colour, and ``A.min()`` when
        ``normalize=None``.

    Returns
    -------
    grid : ndarray, shape ``(pad + n_rows (h + pad), pad + n_cols (w + pad))``, or that
        with a trailing axis of 3 for colour. E.g. 25 images of 8 x 8 with
        ``pad=1`` give a 5 x 5 grid of ``5 * 8 + 6 = 46`` pixels a side.
    """
    A = check_array(A, "A", ndim=2)
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB); got {channels!r}")
    if normalize not in _NORMALIZE:
        raise ValueError(f"normalize must be 'each', 'global' or None; got {normalize!r}")
    pad = check_positive_int(pad, "pad", minimum=0)
    K, P = A.shape
    h, w = _image_shape(P, shape, channels)
    n_cols = math.ceil(math.sqrt(K)) if n_cols is None else check_positive_int(n_cols, "n_cols")
    n_rows = math.ceil(K / n_cols)

    if normalize is not None:
        if normalize == "each":
            scale = np.abs(A).max(axis=1, keepdims=True)    # (K, 1)
        else:
            scale = np.full((K, 1), np.abs(A).max())
        scale[scale == 0] = 1.0                             # all-zero images stay 0
        A = A / scale                                       # every value in [-1, 1]
        if channels == 3:
            A = (A + 1.0) / 2.0                             # [-1, 1] -> [0, 1]
    if pad_value is None:
        pad_value = float(A.min()) if normalize is None else (-1.0 if channels == 1 else 0.0)

    images = A.reshape(K, h, w, channels)
    grid = np.full((pad + n_rows * (h + pad), pad + n_cols * (w + pad), channels), float(pad_value))
    for k in range(K):
        i, j = divmod(k, n_cols)                            # grid row, grid column
        top, left = pad + i * (h + pad), pad + j * (w + pad)
        grid[top:top + h, left:left + w] = images[k]
    return grid[:, :, 0] if channels == 1 else grid


def new_figure(width_px, height_px, dpi=100):
    """A Figure with an Agg canvas, sized in pixels.

    matplotlib is imported here, when a figure is drawn: the CLI imports every experiment
    module (and so this one) for any command, ``gradcheck`` included."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _text_width_px(text, fontsize=None):
    """Width in pixels (at 100 dpi) of ``text`` in matplotlib's default font, or at ``fontsize`` points."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    width, _, _ = TextToPath().get_text_width_height_descent(text, FontProperties(size=fontsize), ismath=False)
    return width * 100 / 72  # points -> pixels


def _show(ax, grid, vmin, vmax):
    """Draw a tile grid on ``ax`` without ticks or frame."""
    if grid.ndim == 3:
        ax.imshow(np.clip(grid, 0.0, 1.0), interpolation="nearest")
    else:
        ax.imshow(grid, cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def save_tiles(A, path, title=None, scale=None, value_range=None, **tile_kwargs):
    r"""Write :func:`tile_images` of ``A`` as a PNG and return the path.

    Parameters
    ----------
    A : array_like, shape ``(K, P)``
        Images as rows, e.g. ``W.T`` for the filters of a layer with ``W`` ``(D, H)``.
    path : str or os.PathLike
        Output file, normally ``*.png``.
    title : str or None
        Text above the grid (adds 30 pixels to the height).
    scale : int or None
        Screen pixels per image pixel (nearest-neighbour, so every pixel of an
        8 x 8 filter stays a crisp square). ``None``: the smallest integer that
        makes the grid at least 512 pixels on its longer side.
    value_range : (float, float) or None
        With ``normalize=None``: the values shown black and white (values
        outside are clipped), e.g. :data:`PIXEL_RANGE` for images of pixel
        intensities; ``None``: the data's own range.
    **tile_kwargs
        Passed to :func:`tile_images` (``shape``, ``n_cols``, ``pad``, ``normalize``,
        ``channels``, ``pad_value``).

    Grey grids are drawn with a grey colormap over ``[-1, 1]`` (over
    ``value_range``, or the data's range, when ``normalize=None``); colour grids are clipped to ``[0, 1]``.
    Without a title the PNG is exactly ``scale`` times the grid's size.
    """
    normalized = tile_kwargs.get("normalize", "each") is not None
    if value_range is not None:
        if normalized:
            raise ValueError(f"value_range is for normalize=None (normalised tiles span [-1, 1]); got "
                             f"value_range={value_range!r} with normalize={tile_kwargs['normalize']!r}")
        tile_kwargs.setdefault("pad_value", _check_range(value_range)[0])
    grid = tile_images(A, **tile_kwargs)
    H, W = grid.shape[:2]
    scale = math.ceil(512 / max(H, W)) if scale is None else check_positive_int(scale, "scale")
    title_px = 30 if title else 0
    if normalized:
        vmin, vmax = -1.0, 1.0
    else:
        vmin, vmax = (float(grid.min()), float(grid.max())) if value_range is None else _check_range(value_range)

    fig = new_figure(W * scale, H * scale + title_px)
    ax = fig.add_axes((0.0, 0.0, 1.0, H * scale / (H * scale + title_px)))
    _show(ax, grid, vmin, vmax)
    if title:
        fig.text(0.5, 1.0 - 0.5 * title_px / (H * scale + title_px), title, ha="center", va="center")
    fig.savefig(path)
    return pathlib.Path(path)


def _check_range(value_range):
    """``(lo, hi)`` as floats, ``lo < hi`` (a ValueError naming ``value_range`` otherwise)."""
    try:
        lo, hi = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(f"value_range must be two numbers (black, white) such as (0, 1); "
                         f"got {value_range!r}") from None
    if not lo < hi:
        raise ValueError(f"value_range must be (black, white) with black < white; got {value_range!r}")
    return lo, hi


def save_image_grid(rows_of_images, path, image_shape, title=None, normalize=None, value_range=None):
    r"""Write :func:`image_grid_figure` as a PNG and return its path (the parameters are that function's)."""
    fig = image_grid_figure(rows_of_images, image_shape, title=title, normalize=normalize, value_range=value_range)
    fig.savefig(path)
    return pathlib.Path(path)


def image_grid_figure(rows_of_images, image_shape, title=None, normalize=None, value_range=None):
    r"""Labelled rows of images, e.g. inputs above their reconstructions, as a Figure.

    Parameters
    ----------
    rows_of_images : list of (str, array_like of shape ``(K, P)``)
        One ``(label, images)`` pair per figure row; row ``r`` shows its
        ``K_r`` images side by side with ``label`` on the left.
        E.g. ``[("input", X[:10]), ("reconstruction", X_hat[:10])]``.
    image_shape : (h, w) or (h, w, 3)
        Shape of one image; ``P = h * w`` (grey) or ``h * w * 3`` (colour).
    title : str or None
        Text above the rows.
    normalize : {None, "each", "global"}
        ``None`` (default) shows every row on one common scale, so a
        reconstruction can be compared with its input by brightness; the
        other options are as in :func:`tile_images`.
    value_range : (float, float) or None
        With ``normalize=None``, that common scale: the values shown black
        and white, values outside clipped. :data:`PIXEL_RANGE` for pixel
        intensities (a reconstruction straying below 0 then leaves the
        inputs' black background black); ``None``: from the smallest to the
        largest value over all rows.

    Returns
    -------
    matplotlib.figure.Figure
        On an Agg canvas; one axes per row, top to bottom, each labelled on its left.
    """
    if not rows_of_images:
        raise ValueError("rows_of_images must hold at least one (label, images) pair; got none")
    h, w = image_shape[:2]
    channels = image_shape[2] if len(image_shape) == 3 else 1
    rows = [(str(label), check_array(A, f"images of row {label!r}", ndim=2)) for label, A in rows_of_images]
    n_cols = max(A.shape[0] for _, A in rows)
    if value_range is not None and normalize is not None:
        raise ValueError(f"value_range is for normalize=None (normalised rows span [-1, 1]); got "
                         f"value_range={value_range!r} with normalize={normalize!r}")
    if value_range is not None:
        vmin, vmax = _check_range(value_range)
    elif normalize is None:
        vmin = min(float(A.min()) for _, A in rows)
        vmax = max(float(A.max()) for _, A in rows)
    else:
        vmin, vmax = (-1.0, 1.0)
    grids = [tile_images(A, shape=(h, w), n_cols=n_cols, normalize=normalize, channels=channels,
                         pad_value=vmin if normalize is None else None) for _, A in rows]

    scale = max(2, math.ceil(48 / max(h, w)))              # each image at least 48 pixels
    # the row labels sit left of the images: room for the longest (at least 140 pixels)
    label_px = max([140] + [math.ceil(_text_width_px(label)) + 16 for label, _ in rows])
    gap_px, title_px = 8, (30 if title else 0)
    width = label_px + grids[0].shape[1] * scale
    heights = [g.shape[0] * scale for g in grids]
    height = title_px + sum(heights) + gap_px * (len(grids) + 1)

    fig = new_figure(width, height)
    y = height - title_px - gap_px                          # top of the next row, in pixels
    for (label, _), grid, row_px in zip(rows, grids, heights):
        y -= row_px
        ax = fig.add_axes((label_px / width, y / height, 1.0 - label_px / width, row_px / height))
        _show(ax, grid, vmin, vmax)
        ax.text(-0.02, 0.5, label, transform=ax.transAxes, ha="right", va="center")
        y -= gap_px
    if title:
        fig.text(0.5, 1.0 - 0.5 * title_px / height, title, ha="center", va="center")
    return fig


_TRAINING_KEYS = {"loss", "val_loss", "seconds", "best_epoch"}


def _loss_curves(history):
    """``(curves, xlabel, best_epoch)`` from a dict of curves, a training history or a fitted model."""
    if not isinstance(history, dict):
        model = history
        if getattr(model, "history_", None) is not None:        # minibatch fit (adam, sgd)
            history = model.history_
        elif getattr(model, "cost_history_", None):              # L-BFGS fit
            return {"training objective": model.cost_history_}, "L-BFGS iteration", None
        else:
            raise ValueError("history must be a dict mapping names to lists of numbers, or a fitted model "
                             f"with history_ (minibatch) or cost_history_ (L-BFGS); got {type(model).__name__}")
    if "loss" in history and set(history) <= _TRAINING_KEYS and len(history) > 1:
        # A history of numpy_ae.train.loop.train_minibatch: {"loss", "val_loss", "seconds", "best_epoch"}.
        curves = {"training": history["loss"]}
        if len(history.get("val_loss") or ()):
            curves["validation"] = history["val_loss"]
        return curves, "epoch", history.get("best_epoch")
    return history, "epoch", None


def save_loss_curve(history, path, ylabel="cost", logy=False, xlabel=None, title=None):
    r"""Plot one line per entry of ``history`` and write it to ``path``.

    Parameters
    ----------
    history : dict of str -> sequence of float, or a fitted model
        E.g. ``{"train": [...], "validation": [...]}``; value ``t`` of each list
        is drawn at ``x = t + 1`` (epoch or iteration number). A training
        history as returned by :func:`numpy_ae.train.loop.train_minibatch` (a
        model's ``history_``: ``"loss"``, ``"val_loss"``, ``"seconds"``,
        ``"best_epoch"``) draws ``loss`` as "training", ``val_loss`` (when not
        empty) as "validation", and marks the best epoch. A fitted model is
        read through its ``history_`` (minibatch methods) or its
        ``cost_history_`` (L-BFGS).
    path : str or os.PathLike
        Output file.
    ylabel, xlabel, title : str
        Axis labels and an optional title. ``xlabel=None``: "epoch", or
        "L-BFGS iteration" for a model fitted with L-BFGS.
    logy : bool
        Logarithmic y axis; every finite value must then be positive.

    Returns
    -------
    pathlib.Path
    """
    if not history or (isinstance(history, dict) and not all(isinstance(k, str) for k in history)):
        raise ValueError("history must be a non-empty dict mapping names to lists of numbers; "
                         f"got {history!r}")
    history, default_xlabel, best_epoch = _loss_curves(history)
    xlabel = default_xlabel if xlabel is None else xlabel
    curves = {}
    for name, values in history.items():
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"history[{name!r}] must be a non-empty 1-D list of numbers; "
                             f"got shape {values.shape}")
        if logy and np.any(values[np.isfinite(values)] <= 0):
            raise ValueError(f"history[{name!r}] has values <= 0, which a log scale cannot show "
                             f"(min {values[np.isfinite(values)].min():.4g}); use logy=False")
        curves[name] = values

    from matplotlib.ticker import MaxNLocator

    fig = new_figure(640, 420)
    ax = fig.add_subplot()
    for name, values in curves.items():
        ax.plot(np.arange(1, values.size + 1), values, label=name,
                marker="o" if values.size < 30 else None, markersize=3)
    if best_epoch is not None and max(v.size for v in curves.values()) > 1:
        ax.axvline(best_epoch, color="grey", linestyle=":", label=f"best epoch ({best_epoch})")
    if logy:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # epochs, iterations: whole numbers
    n_max = max(v.size for v in curves.values())
    if n_max < 10:  # room for whole-number ticks around a short curve (one epoch: the tick 1 alone)
        ax.set_xlim(0.5, n_max + 0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    return pathlib.Path(path)

