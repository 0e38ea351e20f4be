r"""Figures of a fitted model: its reconstructions, its filters, the inputs its units like best.

:func:`save_reconstructions` (inputs above their reconstructions), :func:`save_filters`
(first-layer weights, or deeper layers' linear combinations of them),
:func:`save_top_activating` (the training inputs that most activate each unit),
:func:`save_activation_maximisation` (the input of fixed norm each unit likes best).
The numbers come from :mod:`numpy_ae.analysis.features`; the tiling and saving from
:mod:`numpy_ae.analysis.plotting`. ``image_shape=None`` means square images.
"""
from __future__ import annotations

import numpy as np

from . import features
from .._validation import check_array, check_positive_int
from .plotting import _image_shape, save_image_grid, save_tiles

__all__ = ['save_reconstructions', 'save_filters', 'save_top_activating', 'save_activation_maximisation']


def _grid_shape(P, image_shape):
    """``(shape, channels)`` for ``tile_images`` from ``image_shape`` = None (square grey), (h, w) or (h, w, 3)."""
    if image_shape is None:
        return _image_shape(P, None, 1), 1
    image_shape = tuple(image_shape)
    if len(image_shape) not in (2, 3) or (len(image_shape) == 3 and image_shape[2] not in (1, 3)):
        raise ValueError(f"image_shape must be (h, w) or (h, w, 3); got {image_shape!r}")
    channels = image_shape[2] if len(image_shape) == 3 else 1
    return _image_shape(P, image_shape[:2], channels), channels


def save_reconstructions(model, X, path, n=10, image_shape=None, title=None, indices=None):
    r"""Write the first ``n`` rows of ``X`` (or ``X[indices]``) above their reconstructions.

    Parameters
    ----------
    model : fitted Autoencoder
        ``model.reconstruct(X)`` gives :math:`\hat X` (inference: no noise).
    X : array (N, D)
    path : str or os.PathLike
    n : int
        How many examples (at most N).
    image_shape : None, (h, w) or (h, w, 3)
        None: square grey images.
    title : str or None
        Default: the count and the mean squared error per image,
        :math:`\frac1n\sum_n \lVert\hat x_n - x_n\rVert^2`.
    indices : sequence of int or None
        Which rows to show instead of the first ``n`` (e.g. the worst ones,
        ``np.argsort(-features.reconstruction_error_per_example(model, X))[:10]``).

    Both rows share one grey scale, the inputs' range (inputs and reconstructions compare by
    brightness; a reconstruction straying beyond it is clipped, so the inputs look as in every other
    figure of them: MNIST's background black).
    """
    X = check_array(X, "X")
    if indices is None:
        shown = X[:check_positive_int(n, "n")]
    else:
        indices = np.asarray(indices)
        if indices.ndim != 1 or indices.size == 0 or not np.issubdtype(indices.dtype, np.integer) \
                or indices.min() < -X.shape[0] or indices.max() >= X.shape[0]:
            raise ValueError(f"indices must be a non-empty 1-D list of row numbers of X (N = {X.shape[0]}); "
                             f"got {indices!r}")
        shown = X[indices]
    (h, w), channels = _grid_shape(X.shape[1], image_shape)
    X_hat = np.asarray(model.reconstruct(shown))
    if title is None:
        err = features.reconstruction_error_per_example(model, shown).mean()
        title = f"{len(shown)} inputs and their reconstructions (mean squared error per image {err:.3g})"
    shape = (h, w) if channels == 1 else (h, w, channels)
    lo, hi = float(shown.min()), float(shown.max())
    return save_image_grid([("input", shown), ("reconstruction", X_hat)], path, image_shape=shape, title=title,
                           value_range=(lo, hi) if lo < hi else None)


def save_filters(model, path, layer=0, image_shape=None, units=None, title=None, **tile_kwargs):
    r"""Write each unit's filter as a tile: ``W.T`` of the first layer, UFLDL's ``display_network(W1')``.

    ``layer > 0`` (or -1 for the code of a deeper model) shows the rows of
    :math:`(W_0 W_1 \cdots W_k)^\top`, each unit's weights passed down
    linearly to the pixels (:func:`numpy_ae.analysis.features.encoder_filters`).
    ``units`` selects rows (default all); each tile is scaled to its own
    largest absolute value, mid-grey is 0. ``tile_kwargs`` go to
    :func:`save_tiles` (``n_cols``, ``scale``, ``normalize``...).
    """
    A = features.encoder_filters(model, layer)
    k = layer % len(features.hidden_layer_sizes(model))
    if units is not None:
        A = A[features._check_units(units, A.shape[0], k, "units")[0]]
    shape, channels = _grid_shape(A.shape[1], image_shape)
    if title is None:
        title = (f"first-layer filters, W.T ({A.shape[0]} units)" if k == 0 else
                 f"layer {k}: rows of (W0 ... W{k}).T, linear combinations of first-layer filters")
    return save_tiles(A, path, title=title, shape=shape, channels=channels, **tile_kwargs)


def save_top_activating(model, X, path, units=None, k=9, layer=-1, image_shape=None, title=None):
    r"""Write one row per unit: the ``k`` rows of ``X`` that activate it most, largest first.

    ``units`` defaults to the first 10 units of hidden layer ``layer`` (all if
    fewer). Each row is labelled with the unit and its largest activation.
    The rankings come from :func:`numpy_ae.analysis.features.top_activating_inputs`.
    """
    X = check_array(X, "X")
    idx, vals = features.top_activating_inputs(model, X, layer=layer, k=k, return_values=True)
    n_layer = len(features.hidden_layer_sizes(model))
    kk = layer % n_layer
    units = np.arange(min(10, idx.shape[0])) if units is None else \
        features._check_units(units, idx.shape[0], kk, "units")[0]
    (h, w), channels = _grid_shape(X.shape[1], image_shape)
    rows = [(f"unit {j}: {vals[j, 0]:.4g}", X[idx[j]]) for j in units]
    if title is None:
        title = f"the {k} inputs (of {X.shape[0]}) that most activate each unit of layer {kk}"
    shape = (h, w) if channels == 1 else (h, w, channels)
    return save_image_grid(rows, path, image_shape=shape, title=title)


def save_activation_maximisation(model, path, units=None, layer=-1, image_shape=None, title=None, n_cols=None,
                                 **kwargs):
    r"""Write, for each unit, the input of fixed L2 norm that maximises its activation.

    Computed by :func:`numpy_ae.analysis.features.activation_maximisation` (``kwargs``:
    ``norm``, ``steps``, ``learning_rate``, ``normalize_gradient``,
    ``random_state``); ``units`` defaults to every unit of hidden layer
    ``layer``. Each tile is scaled to its own largest absolute value, mid-grey is 0.
    """
    X = features.activation_maximisation(model, units, layer=layer, **kwargs)
    X = np.atleast_2d(X)
    shape, channels = _grid_shape(X.shape[1], image_shape)
    if title is None:
        k = layer % len(features.hidden_layer_sizes(model))
        title = f"layer {k}: inputs of norm {kwargs.get('norm', 1.0):.3g} maximising each unit"
    return save_tiles(X, path, title=title, shape=shape, channels=channels, n_cols=n_cols)
