r"""How localised learned image filters are: the top-k energy share and the spatial spread.

A filter is one hidden unit's input weights ``w`` on an ``h x w`` patch
(for the UFLDL exercise: 64 weights on 8 x 8, one row of ``dense0.W.T``). Its
*energy* at pixel ``i`` is :math:`e_i = w_i^2` (the sign of a weight does not
matter: an edge detector has a positive and a negative lobe). Two numbers per
filter, both independent of the filter's scale:

**Top-k share**: the fraction of the energy in the ``k`` pixels with the most
of it,

.. math::
    s_k = \frac{\sum_{i \in \text{top } k} e_i}{\sum_i e_i} \in [k/D, 1].

1 for a filter on a single pixel; ``k/D`` for a uniform filter (8/64 = 0.125
for ``k = 8`` on 8 x 8).

**Spread**: the energy-weighted standard deviation of the pixel positions
:math:`p_i = (r_i, c_i)` around the energy centroid :math:`\bar p`, in pixels,

.. math::
    \bar p = \frac{\sum_i e_i p_i}{\sum_i e_i}, \qquad
    \sigma = \sqrt{\frac{\sum_i e_i \lVert p_i - \bar p\rVert^2}{\sum_i e_i}}.

0 for a single pixel; for a uniform ``h x w`` filter
:math:`\sqrt{(h^2 - 1)/12 + (w^2 - 1)/12}` (:func:`uniform_spread`):
:math:`\sqrt{10.5} = 3.240` px on 8 x 8. Smaller is more localised.

Which reference is honest? A random filter is not uniform: i.i.d. Gaussian
weights (a random direction in weight space, :func:`gaussian_filters`) put
about half of their energy in their top 8 of 64 pixels by chance (the square
of a Gaussian is heavy-tailed), while their spread stays near the uniform
value because the large weights sit anywhere. So the top-k share says little
about localisation unless it is compared with random filters measured the same
way; the spread is the number that separates a compact edge from scattered
weights. The experiment ``sparse-patches`` reports both, for the learned
filters and for Gaussian filters drawn in the same run.

The weights are taken as they are (their mean is not removed): on the
patches of :func:`numpy_ae.data.sample_patches`, whose pixels average about
0.5, a filter's mean only shifts its unit's input like a bias, and weight
decay keeps it small.
"""
from __future__ import annotations

import numpy as np

from .._validation import check_array, check_positive_int, check_random_state

__all__ = ["filter_localisation", "gaussian_filters", "uniform_spread"]


def _shape(shape):
    if len(tuple(shape)) != 2:
        raise ValueError(f"shape must be (height, width) of the patch; got {shape!r}")
    return tuple(check_positive_int(s, "shape") for s in shape)


def filter_localisation(filters, shape=(8, 8), top=8):
    r"""The top-``top`` energy share and the spatial spread of each filter (module docstring).

    Parameters
    ----------
    filters : array_like, shape ``(n_filters, h * w)``
        One filter per row, its pixels in row-major order (pixel ``(r, c)`` at
        column ``r * w + c``, as :func:`numpy_ae.data.sample_patches` lays them).
    shape : (int, int)
        The patch's ``(h, w)``.
    top : int, 1 <= top <= h * w
        How many pixels the share counts.

    Returns
    -------
    dict
        ``"top_share"`` (n_filters,), ``"spread"`` (n_filters,) in pixels and
        ``"centroid"`` (n_filters, 2) as (row, column), all float64 arrays.

    Raises
    ------
    ValueError
        If ``filters`` is not 2-D with ``h * w`` columns, is not finite, ``top``
        is out of range, or a filter is all zeros (its energy is 0: no position).
    """
    h, w = _shape(shape)
    F = check_array(filters, "filters", n_features=h * w)
    top = check_positive_int(top, "top")
    if top > h * w:
        raise ValueError(f"top must be <= the number of pixels h * w = {h * w}; got {top}")
    energy = F ** 2
    total = energy.sum(axis=1)
    if np.any(total == 0):
        raise ValueError(f"filters must not be all zeros (no energy, no position); rows "
                         f"{np.flatnonzero(total == 0)[:5].tolist()} are")
    share = np.sort(energy, axis=1)[:, -top:].sum(axis=1) / total
    rows, cols = np.divmod(np.arange(h * w), w)
    pos = np.stack([rows, cols], axis=1).astype(np.float64)          # (D, 2)
    p = energy / total[:, None]                                       # (n, D), rows sum to 1
    centroid = p @ pos                                                # (n, 2)
    sq = (pos ** 2).sum(axis=1)                                       # |p_i|^2
    var = p @ sq - (centroid ** 2).sum(axis=1)                        # E|p|^2 - |E p|^2
    spread = np.sqrt(np.maximum(var, 0.0))
    return {"top_share": share, "spread": spread, "centroid": centroid}


def gaussian_filters(n, shape=(8, 8), random_state=None):
    """``n`` random filters with i.i.d. standard normal weights, shape ``(n, h * w)``: the unlocalised reference."""
    h, w = _shape(shape)
    n = check_positive_int(n, "n")
    return check_random_state(random_state).standard_normal((n, h * w))


def uniform_spread(shape=(8, 8)):
    r"""The spread of a uniform ``h x w`` filter: :math:`\sqrt{(h^2-1)/12 + (w^2-1)/12}` pixels."""
    h, w = _shape(shape)
    return float(np.sqrt((h * h - 1) / 12 + (w * w - 1) / 12))
