"""Shared by the tests that read figures: drawn pixels, extents, legends (the ``saved`` fixture is in conftest.py)."""
import numpy as np


def pixel(fig, ax, row, col):
    """The RGB (0..255) drawn for pixel (row, col) of the array shown in ``ax`` with ``imshow``."""
    fig.canvas.draw()
    x, y = ax.transData.transform((col, row))                  # imshow: column j at x = j, row i at y = i
    rgba = np.asarray(fig.canvas.buffer_rgba())
    return rgba[int(rgba.shape[0] - y), int(x), :3].astype(int)  # the buffer's rows run top-down


def extent(artist, fig):
    """The artist's bounding box in display pixels, once the figure is drawn."""
    return artist.get_window_extent(fig.canvas.get_renderer())


def assert_legend_off_the_axes(fig, ax, legend):
    """The legend covers no part of ``ax``'s plot area (so no bar, line or point) and lies inside the figure."""
    fig.canvas.draw()
    box, plot, page = extent(legend, fig), extent(ax.patch, fig), fig.bbox
    assert not box.overlaps(plot), (box, plot)
    assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1, (box, page)
