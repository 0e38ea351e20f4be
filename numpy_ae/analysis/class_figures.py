r"""Figures whose colours stand for classes, and legends that stay off the data.

A latent space is read by its classes: :func:`codes_figure` draws 2-D codes
(a VAE's :math:`\mu(x)`, an adversarial autoencoder's :math:`E(x)`) coloured by
label, one panel per model, over optional grey prior samples, with ONE colour
bar whose ticks are the class NAMES (``numpy_ae.data.class_names``: "Trouser",
not 1). Each class gets one colour block (a discrete colour map with a
boundary between consecutive labels), so a colour cannot be read as a label
halfway between two.

:func:`legend_outside` puts an axes' legend to the right of its plot area,
where no bar, line or point can be (a legend inside the axes covers whatever
the data does there, and where that is depends on the run).

As in :mod:`numpy_ae.analysis.plotting`, matplotlib is imported inside the
functions and every figure lives on an Agg canvas (no pyplot state).
"""
from __future__ import annotations

import pathlib

import numpy as np

from .._validation import check_array
from .plotting import new_figure

__all__ = ["class_colormap", "class_colorbar", "codes_figure", "save_codes", "legend_outside"]


def class_colormap(n_classes):
    """``(cmap, norm)`` giving label ``k`` (``0 <= k < n_classes``) its own colour of ``tab10`` (``tab20``
    beyond 10 classes), with the boundaries between labels at ``k + 1/2``."""
    from matplotlib import colormaps
    from matplotlib.colors import BoundaryNorm, ListedColormap

    if not 1 <= n_classes <= 20:
        raise ValueError(f"n_classes must be between 1 and 20 (one distinct colour each); got {n_classes!r}")
    base = colormaps["tab10" if n_classes <= 10 else "tab20"]
    cmap = ListedColormap([base(k) for k in range(n_classes)], name=f"classes{n_classes}")
    return cmap, BoundaryNorm(np.arange(n_classes + 1) - 0.5, n_classes)


def class_colorbar(fig, mappable, names, ax, label="class"):
    """A colour bar beside ``ax`` (an Axes or a list of them) with one tick per class, labelled by its name.

    ``mappable`` is what a scatter coloured with :func:`class_colormap` returned. Returns the Colorbar.
    """
    bar = fig.colorbar(mappable, ax=ax, label=label, ticks=np.arange(len(names)))
    bar.ax.set_yticklabels(list(names))
    bar.ax.invert_yaxis()  # label 0 at the top, as a legend reads
    bar.ax.tick_params(length=0)
    return bar


def _check_labels(y, n, names, where):
    y = np.asarray(y)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer) or (n and (y.min() < 0 or y.max() >= len(names))):
        raise ValueError(f"the labels of {where} must be {n} integers in [0, {len(names)}) (one per code, indices "
                         f"into names); got shape {y.shape}, dtype {y.dtype}"
                         + (f", range [{y.min()}, {y.max()}]" if y.size and y.dtype.kind in "iu" else ""))
    return y


def codes_figure(panels, names, title=None, xlabel="z1", ylabel="z2", panel_px=420, point_size=3):
    r"""2-D codes coloured by class, one panel per model, with one colour bar of class names.

    Parameters
    ----------
    panels : list of (str, Z, y, P)
        Per panel: its title, the codes ``Z (N, 2)`` and their labels ``y (N,)``
        (integers indexing ``names``; ``Z`` and ``y`` may both be None: prior
        samples only), and prior samples ``P (M, 2)`` drawn in grey beneath
        (or None).
    names : sequence of str
        The class names, label ``k`` at index ``k`` (:func:`numpy_ae.data.class_names`).
    title : str or None
        Above all panels.
    xlabel, ylabel : str
        The axes' labels (the y label on the first panel only).
    panel_px : int
        Width of one panel in pixels; the colour bar adds about 140.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[:len(panels)]`` are the panels; the colour bar's axes come
        last (when any panel has codes), its tick labels the names.
    """
    if not panels:
        raise ValueError("panels must hold at least one (title, Z, y, P); got none")
    names = [str(n) for n in names]
    cmap, norm = class_colormap(len(names))
    fig = new_figure(panel_px * len(panels) + 140, 440 + (30 if title else 0))
    fig.set_layout_engine("constrained")
    axes, coloured = [], None
    for i, (name, Z, y, P) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        axes.append(ax)
        if P is not None:
            P = check_array(P, f"prior samples of panel {name!r}", ndim=2)
            ax.scatter(P[:, 0], P[:, 1], s=2, c="0.75", linewidths=0)
        if Z is not None:
            Z = check_array(Z, f"codes of panel {name!r}", ndim=2)
            y = _check_labels(y, Z.shape[0], names, f"panel {name!r}")
            coloured = ax.scatter(Z[:, 0], Z[:, 1], c=y, s=point_size, cmap=cmap, norm=norm, linewidths=0)
        if name:
            ax.set_title(name, fontsize=10)
        ax.set_xlabel(xlabel)
        if i == 0:
            ax.set_ylabel(ylabel)
    if coloured is not None:
        class_colorbar(fig, coloured, names, axes)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def save_codes(panels, path, names, title=None, **kwargs):
    """Write :func:`codes_figure` as a PNG; return the path (``kwargs``: that function's)."""
    codes_figure(panels, names, title=title, **kwargs).savefig(path)
    return pathlib.Path(path)


def legend_outside(ax, **kwargs):
    """The legend of ``ax``, to the right of its plot area (outside the axes: it can cover no data).

    Lay the figure out afterwards (``tight_layout`` or a constrained layout) so that it
    makes room for it. Returns the Legend; ``kwargs`` go to ``ax.legend``.
    """
    kwargs.setdefault("fontsize", 9)
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)
