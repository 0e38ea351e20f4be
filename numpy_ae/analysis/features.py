r"""What a hidden unit responds to, computed (no plotting: :mod:`numpy_ae.analysis.plotting` draws these).

Four views of the units of a trained autoencoder's encoder, each a function of
the model and, where needed, data ``X (N, D)`` (rows are examples):

* :func:`encoder_filters`: the weights into each unit, ``W.T`` of shape
  ``(H, D)`` (rows of UFLDL's :math:`W^{(1)}`); for a deeper layer the linear
  combination :math:`(W_1 W_2 \cdots W_k)^\top` of the first layer's filters.
* :func:`top_activating_inputs`: the ``k`` rows of ``X`` on which each unit's
  activation is largest.
* :func:`activation_maximisation`: the input of fixed norm that maximises one
  unit's activation, by projected gradient ascent on the input, with the
  gradient from the network's own backward passes
  (:func:`activation_gradient`).
* :func:`closed_form_maximiser`: UFLDL's answer for a first-layer unit
  ("Visualizing a trained autoencoder"),

  .. math::
      x^\ast = \arg\max_{\lVert x\rVert \le r} f\Bigl(\sum_i W^{(1)}_{ji} x_i + b_j\Bigr)
             = r\,\frac{W^{(1)}_{j\cdot}}{\lVert W^{(1)}_{j\cdot}\rVert}
             \quad(\text{our } r\, W_{:,j}/\lVert W_{:,j}\rVert),

  for any increasing activation :math:`f` (by Cauchy-Schwarz,
  :math:`w^\top x \le \lVert w\rVert\,\lVert x\rVert`, with equality only for
  :math:`x \propto w`), against which the numerical ascent is tested.

Layers and units. ``layer`` counts the encoder's *hidden layers*: layer ``k``
(0-based; ``-1`` is the code) is the output of the activation after the
encoder's ``k``-th ``Dense`` layer, with ``H_k = Dense.n_out`` units. Its
*path* is the encoder's layers up to that activation, without the corruption
and sparsity layers: both are the identity at inference, but a
:class:`~numpy_ae.nn.penalties.KLSparsity` layer would add its (stale)
sparsity term to the backward pass, which is not part of :math:`\partial h/\partial x`.

Model state. These functions read ``theta`` and never write it. The backward
passes of :func:`activation_gradient` ADD parameter gradients into the model's
``grad`` (that is the layer protocol); the vector is saved before and restored
after, so a visualisation between two optimiser steps changes nothing. Layer
caches (``Dense.X``, ``Sigmoid.A``, scratch buffers) are overwritten, as by any
inference pass; the next training pass refills them.
"""
from __future__ import annotations
import contextlib
import numbers
import numpy as np
from .._validation import check_array, check_positive_int, check_random_state
from ..nn.dense import Dense
from ..nn.noise import Corruption
from ..nn.penalties import KLSparsity

__all__ = ['hidden_layer_sizes', 'unit_activations', 'top_activating_inputs', 'encoder_filters', 'closed_form_maximiser', 'activation_gradient', 'activation_maximisation', 'reconstruction_error_per_example']


# -------------------- Layers, paths and units --------------------

def _network(model):
    net = getattr(model, "network_", None)
    if net is None or not hasattr(model, "encoder_layers"):
        raise ValueError(f"model must be a fitted numpy_ae autoencoder (with network_ and encoder_layers); "
                         f"got a {type(model).__name__} without them: call fit(X) or initialize(n_features) first")
    return net


def _hidden_layers(model):
    """``[(path, dense), ...]``, one entry per encoder Dense layer, input side first."""
    _network(model)
    enc = list(model.encoder_layers)
    starts = [i for i, layer in enumerate(enc) if isinstance(layer, Dense)]
    if not starts:
        raise ValueError(f"the encoder of this {type(model).__name__} has no Dense layer to visualise")
    out = []
    for n, i in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(enc)
        path = [layer for layer in enc[:end] if not isinstance(layer, (Corruption, KLSparsity))]
        out.append((path, enc[i]))
    return out


def hidden_layer_sizes(model):
    """Units per encoder hidden layer, input side first: ``[H_0, H_1, ...]`` (the valid ``layer`` indices)."""
    return [dense.n_out for _, dense in _hidden_layers(model)]


def _resolve_layer(model, layer):
    """``(k, path, dense)`` for ``layer`` (an int, negative counts from the code)."""
    layers = _hidden_layers(model)
    L = len(layers)
    if isinstance(layer, bool) or not isinstance(layer, numbers.Integral) or not -L <= layer < L:
        raise ValueError(f"layer must be an integer in [-{L}, {L}): the encoder of this {type(model).__name__} "
                         f"has {L} hidden layer(s) with {[d.n_out for _, d in layers]} units "
                         f"(0 is the first, -1 the code); got {layer!r}")
    k = int(layer) % L
    return (k, *layers[k])


def _check_units(units, n_units, k, name="unit"):
    """``units`` (an int, a sequence of ints or None for all) as an int array; and whether it was a scalar."""
    if units is None:
        return np.arange(n_units), False
    scalar = isinstance(units, numbers.Integral) and not isinstance(units, bool)
    arr = np.atleast_1d(np.asarray(units))
    if arr.ndim != 1 or arr.size == 0 or not (np.issubdtype(arr.dtype, np.integer) and arr.dtype != bool):
        raise ValueError(f"{name} must be an integer or a non-empty 1-D sequence of integers; got {units!r}")
    bad = arr[(arr < 0) | (arr >= n_units)]
    if bad.size:
        raise ValueError(f"{name} must lie in [0, {n_units}): layer {k} has {n_units} units; got {bad[0]}"
                         + (f" in {units!r}" if not scalar else ""))
    return arr.astype(np.intp), scalar


def _check_X(model, X):
    net = _network(model)
    return check_array(X, "X", n_features=getattr(model, "n_features_in_", None), dtype=net.dtype)


def _check_positive(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    return float(value)


# -------------------- Activations on data --------------------

def unit_activations(model, X, layer=-1, batch_size=1000):
    r"""Activations of hidden layer ``layer`` on ``X (N, D)``: shape ``(N, H_k)``, inference mode (no noise)."""
    X = _check_X(model, X)
    _, path, dense = _resolve_layer(model, layer)
    batch_size = check_positive_int(batch_size, "batch_size")
    net = _network(model)
    A = np.empty((X.shape[0], dense.n_out), dtype=net.dtype)
    for start in range(0, X.shape[0], batch_size):
        A[start:start + batch_size] = net.forward(X[start:start + batch_size], training=False, layers=path)
    return A


def top_activating_inputs(model, X, layer=-1, k=9, batch_size=1000, return_values=False):
    r"""Indices of the ``k`` rows of ``X`` that most activate each unit of hidden layer ``layer``.

    Parameters
    ----------
    model : fitted Autoencoder
    X : array (N, D)
    layer : int
        Hidden layer (0 first, -1 the code); see the module docstring.
    k : int, 1 <= k <= N
    batch_size : int
        Rows per forward pass; the running top ``k`` is merged batch by batch,
        so memory is ``O(batch_size * H)`` however large N is.
    return_values : bool
        Also return the activations.

    Returns
    -------
    indices : ndarray of int, shape ``(H_k, k)``
        Row ``j`` lists unit ``j``'s most activating examples, largest
        activation first; ties go to the smaller index, i.e. row ``j`` equals
        ``np.argsort(-A[:, j], kind="stable")[:k]`` for ``A = unit_activations(model, X, layer)``.
    values : ndarray, shape ``(H_k, k)``
        The activations ``A[indices[j], j]`` (only when ``return_values``).
    """
    X = _check_X(model, X)
    _, path, dense = _resolve_layer(model, layer)
    N = X.shape[0]
    k = check_positive_int(k, "k")
    if k > N:
        raise ValueError(f"k must be at most the number of examples N = {N}; got {k}")
    batch_size = check_positive_int(batch_size, "batch_size")
    net = _network(model)
    best_val = np.empty((0, dense.n_out), dtype=net.dtype)   # (<= k, H), sorted by (-value, index)
    best_idx = np.empty((0, dense.n_out), dtype=np.intp)
    for start in range(0, N, batch_size):
        A = net.forward(X[start:start + batch_size], training=False, layers=path)   # (B, H)
        idx = np.broadcast_to(np.arange(start, start + A.shape[0])[:, None], A.shape)
        vals, inds = np.vstack([best_val, A]), np.vstack([best_idx, idx])
        # Candidates are in index order within ties (earlier best first, then this batch), so a
        # stable sort on -value breaks ties by the smaller index.
        order = np.argsort(-vals, axis=0, kind="stable")[:k]
        best_val = np.take_along_axis(vals, order, axis=0)
        best_idx = np.take_along_axis(inds, order, axis=0)
    return (best_idx.T.copy(), best_val.T.copy()) if return_values else best_idx.T.copy()


def reconstruction_error_per_example(model, X, batch_size=1000):
    r"""Squared reconstruction error of each row, :math:`\lVert \hat x_n - x_n\rVert^2`: shape ``(N,)``.

    Inference mode (no noise); ``np.argsort(-err)[:n]`` gives the worst-reconstructed examples.
    """
    X = _check_X(model, X)
    batch_size = check_positive_int(batch_size, "batch_size")
    err = np.empty(X.shape[0])
    for start in range(0, X.shape[0], batch_size):
        Xb = X[start:start + batch_size]
        err[start:start + batch_size] = np.sum((model.reconstruct(Xb) - Xb) ** 2, axis=1)
    return err


# -------------------- Filters --------------------

def encoder_filters(model, layer=0):
    r"""Each unit's filter in input space, shape ``(H_k, D)``: one row per unit.

    Layer 0: ``W.T`` of the first Dense layer (``W`` is ``(D, H_0)``), i.e. the
    rows of UFLDL's :math:`W^{(1)}`. Layer ``k > 0``: the rows of
    :math:`(W_0 W_1 \cdots W_k)^\top`, each unit's weights on the units below
    passed down linearly to the pixels (the activations and biases are
    ignored). It is the usual first look at deeper features (e.g. Lee et al.,
    2008, who show second-layer units as weighted sums of first-layer
    filters); it is exact only for linear activations, which is why
    :func:`top_activating_inputs` and :func:`activation_maximisation` exist.
    """
    k, _, _ = _resolve_layer(model, layer)
    dense = [d for _, d in _hidden_layers(model)][:k + 1]
    M = dense[0].W
    for d in dense[1:]:
        M = M @ d.W                                           # (D, H_i) @ (H_i, H_{i+1})
    return np.array(M.T)


# -------------------- Gradients on the input, and activation maximisation --------------------

@contextlib.contextmanager
def _grad_preserved(net, path):
    """Restore ``net.grad`` and the Dense layers' ``input_grad`` flags on exit (backward adds into ``grad``)."""
    saved = net.grad.copy()
    flags = [(layer, layer.input_grad) for layer in path if hasattr(layer, "input_grad")]
    try:
        yield
    finally:
        net.grad[...] = saved
        for layer, flag in flags:
            layer.input_grad = flag


def _forward_backward(net, path, X, units):
    """Activations ``h (U,)`` of unit ``units[r]`` at row ``r`` of ``X (U, D)``, and their gradients ``(U, D)``.

    Rows are independent examples (no batch coupling on the path), so one
    backward pass with a one-hot ``dY`` per row gives every row's own gradient.
    The caller restores ``net.grad`` (see :func:`_grad_preserved`).
    """
    A = net.forward(X, training=False, layers=path)           # (U, H); Dense caches X at inference too
    rows = np.arange(X.shape[0])
    h = A[rows, units].copy()
    dY = np.zeros_like(A)
    dY[rows, units] = 1.0                                     # d h_{units[r]} / d A[r, :]
    dX = net.backward(dY, input_grad=True, layers=path)
    return h, np.array(dX)                                    # a fresh array already; the copy keeps the contract explicit


def activation_gradient(model, X, units, layer=-1):
    r"""Gradient of one unit's activation with respect to the input, one unit per row.

    Row ``r`` is :math:`\partial h_{u_r}(x_r) / \partial x_r` for ``u = units``,
    computed by the network's own backward passes: forward ``X`` along the
    layer's path (inference mode), then backward a one-hot ``dY`` with
    ``input_grad=True``. For a first-layer sigmoid unit this is
    :math:`\sigma'(z_{u}) \, W_{:,u}`.

    Parameters
    ----------
    X : array (U, D)
    units : int or sequence of U ints (an int is used for every row)
    layer : int

    Returns
    -------
    dX : ndarray, shape ``(U, D)``. The model's ``theta`` and ``grad`` are unchanged.
    """
    X = _check_X(model, X)
    k, path, dense = _resolve_layer(model, layer)
    units, _ = _check_units(units, dense.n_out, k, "units")
    if units.size == 1:
        units = np.repeat(units, X.shape[0])
    if units.size != X.shape[0]:
        raise ValueError(f"units must be one integer or one per row of X ({X.shape[0]}); got {units.size}")
    net = _network(model)
    with _grad_preserved(net, path):
        return _forward_backward(net, path, X, units)[1]


def closed_form_maximiser(model, unit=None, norm=1.0):
    r"""UFLDL's maximally activating input of a first-layer unit: ``norm * W[:, j] / ||W[:, j]||``.

    Valid for layer 0 of any model whose first activation is increasing
    (sigmoid, tanh, ReLU, ELU, softplus, identity): see the module docstring.

    Returns ``(D,)`` for an int ``unit``, ``(U, D)`` for a sequence, ``(H_0, D)`` for None.
    """
    norm = _check_positive(norm, "norm")
    _, _, dense = _resolve_layer(model, 0)
    units, scalar = _check_units(unit, dense.n_out, 0)
    Wt = dense.W.T[units]                                     # (U, D)
    lengths = np.linalg.norm(Wt, axis=1, keepdims=True)
    if np.any(lengths == 0):
        raise ValueError(f"unit {units[np.flatnonzero(lengths[:, 0] == 0)[0]]} has all-zero weights: every input "
                         "of the given norm activates it equally, so there is no single maximiser")
    x = norm * Wt / lengths
    return x[0] if scalar else x


def activation_maximisation(model, unit=None, layer=-1, norm=1.0, steps=200, learning_rate=0.5,
                            normalize_gradient=True, random_state=None, return_activation=False):
    r"""The input of L2 norm ``norm`` that maximises a unit's activation, by projected gradient ascent.

    .. math::
        x^\ast = \arg\max_{\lVert x\rVert_2 = r} h_j(x), \qquad
        x \leftarrow x + \eta\, g, \quad x \leftarrow r\, x / \lVert x\rVert ,

    starting from a random direction, with :math:`g = \partial h_j/\partial x`
    from :func:`activation_gradient` (the network's backward passes). With
    ``normalize_gradient=True`` (default) the step is
    :math:`g = r\,\nabla h_j / \lVert\nabla h_j\rVert`: ``learning_rate`` is then
    a fraction of the radius, whatever the slope of the unit (a saturated
    sigmoid has :math:`\sigma' \approx e^{-z}`, which makes a fixed plain step
    either far too small or too large from unit to unit). With ``False`` it is
    the plain gradient. A step that lowers a row's activation is refused and
    that row's step halved, so each unit's activation never decreases (beyond
    rounding: changes smaller than ``1e4 * eps * (1 + |h|)``, 2e-12 in float64,
    are not counted as decreases, since near the maximum :math:`h` is flat to
    rounding while :math:`x` still moves by ~1e-8).

    For a first-layer unit with an increasing activation the answer is UFLDL's
    closed form (:func:`closed_form_maximiser`): every gradient is a positive
    multiple of :math:`w = W_{:,j}`, so every step shrinks the angle to
    :math:`w`; with normalised steps :math:`\tan\theta \leftarrow \sin\theta /
    (\cos\theta + \eta)`, a factor :math:`1/(1+\eta)` per step near the end:
    :math:`1.5^{-200} \approx 10^{-35}` for the defaults, i.e. to rounding.

    Parameters
    ----------
    model : fitted Autoencoder
    unit : int, sequence of ints, or None
        Unit(s) of hidden layer ``layer``; None: all of them. Several units are
        optimised together, one row each (one forward and one backward pass per step).
    layer : int
        Hidden layer (0 the first, -1 the code).
    norm : float > 0
        :math:`r`, the L2 norm of the result (UFLDL: :math:`\lVert x\rVert^2 \le 1`,
        so 1; the typical norm of the training images gives pictures in the data's range).
    steps : int >= 1
    learning_rate : float > 0
        :math:`\eta`, the initial step (per row; halved when refused).
    normalize_gradient : bool
    random_state : None, int or numpy.random.Generator
        The random starting directions.
    return_activation : bool
        Also return the final activations.

    Returns
    -------
    x : ndarray, shape ``(D,)`` for an int ``unit``, else ``(U, D)``
        Each row has L2 norm ``norm``. The model's ``theta`` and ``grad`` are unchanged.
    h : float or ndarray (U,)
        The activations at ``x`` (only when ``return_activation``).
    """
    k, path, dense = _resolve_layer(model, layer)
    units, scalar = _check_units(unit, dense.n_out, k)
    norm = _check_positive(norm, "norm")
    steps = check_positive_int(steps, "steps")
    learning_rate = _check_positive(learning_rate, "learning_rate")
    net = _network(model)
    rng = check_random_state(random_state)
    D = model.n_features_in_

    def project(X):
        lengths = np.linalg.norm(X, axis=1, keepdims=True)
        lengths[lengths == 0] = 1.0                           # a zero row cannot happen from a random start
        return norm * X / lengths

    def direction(G):
        if not normalize_gradient:
            return G
        lengths = np.linalg.norm(G, axis=1, keepdims=True)
        lengths[lengths == 0] = np.inf                        # a flat unit (dead ReLU): no step
        return norm * G / lengths

    X = project(rng.standard_normal((units.size, D)).astype(net.dtype))
    # Near the maximum h is flat (quadratic in the angle to the optimum): once the angle is ~1e-8,
    # h changes by less than its rounding error, and comparing rounded values would refuse good
    # steps and stall. So a step is refused only when it lowers h by more than rounding.
    tol = 1e4 * np.finfo(net.dtype).eps
    lr = np.full((units.size, 1), learning_rate)
    with _grad_preserved(net, path):
        h, G = _forward_backward(net, path, X, units)
        for _ in range(steps):
            X_new = project(X + lr * direction(G))
            h_new, G_new = _forward_backward(net, path, X_new, units)
            accept = h_new >= h - tol * (1.0 + np.abs(h))
            X[accept], h[accept], G[accept] = X_new[accept], h_new[accept], G_new[accept]
            lr[~accept] *= 0.5
    x = X[0] if scalar else X
    if return_activation:
        return x, (float(h[0]) if scalar else h)
    return x
