r"""Anomaly scoring on time-series windows: thresholds, point flags, baselines, metrics.
"""
from __future__ import annotations
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from .._validation import check_positive_int
from .metrics import precision_recall_f1, roc_auc
from ..data.series import check_series, sliding_windows, standardize
from ..models.pca import PCA

#: The peak scoring's defaults (see :func:`peak_error`): points of the moving mean of the absolute error, and
#: the positions dropped at each end of a window (where the convolutions' zero padding reaches).
PEAK_SPAN = 3
PEAK_MARGIN = 8

__all__ = ['window_mae', 'peak_error', 'flag_points', 'window_labels', 'max_threshold', 'rolling_zscore',
           'rolling_zscore_scores', 'pca_reconstructions', 'pca_window_scores', 'detect', 'PEAK_SPAN',
           'PEAK_MARGIN']


# --------------------------------------------------------------------------
# Scores, thresholds, flags
# --------------------------------------------------------------------------

def window_mae(windows, reconstructions):
    r"""Mean absolute error per window: :math:`e_j = \frac{1}{CL}\sum |\hat x_j - x_j|`, shape ``(N,)``."""
    W = np.asarray(windows, dtype=np.float64)
    R = np.asarray(reconstructions, dtype=np.float64)
    if W.shape != R.shape:
        raise ValueError(f"windows and reconstructions must have the same shape; got {W.shape} and {R.shape}")
    return np.abs(R - W).reshape(W.shape[0], -1).mean(axis=1)


def _check_margin(span, margin, L):
    span = check_positive_int(span, "span")
    if isinstance(margin, bool) or not isinstance(margin, (int, np.integer)) or margin < 0:
        raise ValueError(f"margin must be an integer >= 0 (positions dropped at each end of a window); got "
                         f"{margin!r}")
    if span > L - 2 * int(margin):
        raise ValueError(f"span must be <= window - 2 margin (the points scored in a window); got span={span}, "
                         f"margin={margin} for windows of {L} steps")
    return span, int(margin)


def peak_error(windows, reconstructions, span=PEAK_SPAN, margin=PEAK_MARGIN):
    r"""Peak score of each window, shape ``(N,)``: the largest ``span``-point mean absolute error in its middle.

    .. math:: e_j = \max_{m \le t \le L - m - s} \frac{1}{s}\sum_{u=t}^{t+s-1}
              \frac{1}{C}\sum_c |\hat x_{jcu} - x_{jcu}|,

    ``windows`` and ``reconstructions`` of shape ``(N, C, L)`` or ``(N, L)``,
    ``s = span``, ``m = margin``: the window's positions ``m .. L-m-1``. The
    window MAE (:func:`window_mae`) dilutes a short anomaly by the normal
    points around it (an hour of 5-minute steps is 12 of 288 points); the peak
    does not. ``margin`` drops the ends of the window, where the zero padding
    of a convolutional autoencoder makes its error larger on normal data than
    in the middle (every point but the series' first and last ``m`` is still in
    the middle of some window: :func:`flag_points` with the same ``margin``).
    ``span = 1, margin = 0``: the largest absolute error in the window.
    """
    W = np.asarray(windows, dtype=np.float64)
    R = np.asarray(reconstructions, dtype=np.float64)
    if W.shape != R.shape or W.ndim not in (2, 3):
        raise ValueError(f"windows and reconstructions must have the same shape, (N, L) or (N, C, L); got "
                         f"{W.shape} and {R.shape}")
    E = np.abs(R - W)
    E = E.mean(axis=1) if E.ndim == 3 else E  # (N, L)
    span, m = _check_margin(span, margin, E.shape[1])
    E = E[:, m:E.shape[1] - m]
    c = np.concatenate((np.zeros((E.shape[0], 1)), np.cumsum(E, axis=1)), axis=1)
    return ((c[:, span:] - c[:, :-span]) / span).max(axis=1)


def max_threshold(train_scores):
    """The threshold rule of the Keras example, used for every detector here: the largest training-window score."""
    s = np.asarray(train_scores, dtype=np.float64)
    if s.ndim != 1 or s.size == 0 or not np.isfinite(s).all():
        raise ValueError(f"train_scores must be a non-empty 1-D array of finite scores; got shape {s.shape}")
    return float(s.max())


def _check_flags(flags, name):
    f = np.asarray(flags)
    if f.ndim != 1 or f.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array; got shape {f.shape}")
    return f.astype(bool)


def flag_points(window_flags, window, margin=0):
    r"""Point flags ``(T,)`` from window flags ``(N,)``: point i is anomalous when EVERY window covering it is.

    ``T = N + window - 1``. Window :math:`j` covers points :math:`j+m..j+L-1-m`
    (``m = margin``: the middle scored by :func:`peak_error`; 0: the whole
    window), so point :math:`i` is covered by windows
    :math:`\max(0, i-L+1+m)..\min(i-m, N-1)` (fewer than ``L - 2m`` near the
    ends: see the module docstring; the first and last ``m`` points, covered by
    none, are not flagged). Counted with a cumulative sum of the NON-anomalous
    windows: a point is flagged when none of its windows is normal. O(T), no loop.
    """
    f = _check_flags(window_flags, "window_flags")
    L = check_positive_int(window, "window")
    _, m = _check_margin(1, margin, L)
    N = f.size
    T = N + L - 1
    normal = np.concatenate(([0], np.cumsum(~f)))
    i = np.arange(T)
    first, last = np.clip(i - L + 1 + m, 0, N), np.clip(i - m, -1, N - 1)  # empty when last < first
    return (last >= first) & ((normal[np.maximum(last + 1, first)] - normal[first]) == 0)


def window_labels(point_labels, window, margin=0):
    """Window labels ``(N,)`` from point labels ``(T,)``: anomalous when its middle holds a labelled point.

    The middle: positions ``margin .. window - 1 - margin`` (0: the whole window), as in :func:`flag_points`.
    """
    p = _check_flags(point_labels, "point_labels")
    L = check_positive_int(window, "window")
    _, m = _check_margin(1, margin, L)
    if p.size < L:
        raise ValueError(f"window must be <= the number of labelled points; got window={L} for {p.size} labels")
    c = np.concatenate(([0], np.cumsum(p)))
    return (c[L - m:c.size - m] - c[m:c.size - L + m]) > 0


def rolling_zscore(values, span):
    r"""Trailing rolling z-score of each point: :math:`z_t = (x_t - m_t)/\max(s_t, 10^{-3})`.

    :math:`m_t, s_t` are the mean and standard deviation (``ddof=0``) of the
    ``span`` points BEFORE :math:`t`, :math:`x_{t-\mathrm{span}} .. x_{t-1}`. The
    first ``span`` points lack a full history (a warm-up) and get :math:`z = 0`:
    an anomaly there cannot be seen by this baseline. The floor on :math:`s_t`
    (for standardised series, a thousandth of the training std) keeps a flat
    history from dividing by zero.
    """
    x = check_series(values, "values").astype(np.float64)
    span = check_positive_int(span, "span", minimum=2)
    z = np.zeros_like(x)
    if x.size > span:
        hist = sliding_window_view(x[:-1], span)  # hist[k] = x[k:k+span], the history of t = k + span
        m, s = hist.mean(axis=1), hist.std(axis=1)
        z[span:] = (x[span:] - m) / np.maximum(s, 1e-3)
    return z


def rolling_zscore_scores(values, window, span=None):
    r"""Baseline 1: the mean :math:`|z|` of :func:`rolling_zscore` over each window, shape ``(N,)``.

    The same windows and the same aggregation (a mean of absolute values) as
    the autoencoder's MAE; ``span`` (default ``window``: one day) is the
    trailing history of each z-score.
    """
    z = np.abs(rolling_zscore(values, window if span is None else span))
    return sliding_windows(z, window)[:, 0, :].mean(axis=1)


def pca_reconstructions(train_windows, test_windows, n_components=16):
    r"""PCA's reconstructions of both sets of windows, ``(R_train (N_train, C L), R_test (N_test, C L))``.

    :class:`~numpy_ae.models.pca.PCA` with ``n_components`` principal directions is fitted
    on the training windows (flattened to ``(N, C L)``);
    :math:`\hat x = \bar x + U_k U_k^\top (x - \bar x)`: the autoencoder's
    reconstruction with a linear code of ``n_components`` numbers.
    """
    A = np.asarray(train_windows, dtype=np.float64).reshape(np.shape(train_windows)[0], -1)
    B = np.asarray(test_windows, dtype=np.float64).reshape(np.shape(test_windows)[0], -1)
    pca = PCA(n_components).fit(A)
    return tuple(pca.inverse_transform(pca.transform(M)) for M in (A, B))


def pca_window_scores(train_windows, test_windows, n_components=16):
    r"""Baseline 2: PCA reconstruction MAE of each window, ``(train_scores (N_train,), test_scores (N_test,))``.

    The MAE (:func:`window_mae`) of :func:`pca_reconstructions`.
    """
    R = pca_reconstructions(train_windows, test_windows, n_components)
    return tuple(window_mae(np.reshape(W, (np.shape(W)[0], -1)), r) for W, r in zip((train_windows, test_windows), R))


def _metrics(point_flags, window_scores, threshold, labels, window, margin=0):
    out = {"threshold": float(threshold), "n_flagged": int(point_flags.sum()),
           "n_windows_flagged": int((window_scores > threshold).sum())}
    if labels is None:
        out.update({k: None for k in ("precision", "recall", "f1", "roc_auc")})
        return out
    p, r, f1 = precision_recall_f1(labels, point_flags)
    wl = window_labels(labels, window, margin)
    auc = roc_auc(wl, window_scores) if 0 < wl.sum() < wl.size else None
    out.update({"precision": p, "recall": r, "f1": f1, "roc_auc": auc})
    return out


def detect(model, train_values, test_values, window=288, test_labels=None, n_components=16, zscore_span=None,
           detector=None, span=PEAK_SPAN, margin=PEAK_MARGIN):
    r"""Run the autoencoder, both baselines and (optionally) the bottleneck detector on one train/test pair.

    ``model`` is a FITTED :class:`Conv1DAutoencoder` (trained on the windows of
    the standardised ``train_values``); ``train_values``, ``test_values`` are
    the raw series (standardised here by the training statistics). Every
    detector: window scores on both series, threshold = the largest training
    score (:func:`max_threshold`, the Keras rule), window flags
    ``score > threshold``, point flags by :func:`flag_points`. ``model``,
    the rolling z-score and PCA are scored as in the Keras example, by each
    window's MAE. ``detector``, a fitted :class:`Conv1DAutoencoder` with a
    bottleneck (``code_size``), is scored by :func:`peak_error` (``span``,
    ``margin``), and so is PCA once more (``"pca_peak"``), so that the two are
    compared under the same scoring, and with ``span = 1`` (``"pca_max"``: the
    largest single error, PCA's best peak scoring on the synthetic kinds). With ``test_labels``: point-level
    precision, recall and F1, and the window-level ROC AUC against
    :func:`window_labels` (with the same ``margin`` for the peak scores; None
    when the windows hold one class only).

    Returns
    -------
    dict
        ``"ae"``, ``"zscore"``, ``"pca"`` (and ``"detector"``, ``"pca_peak"``, ``"pca_max"``): each ``{"train_scores",
        "scores", "threshold", "point_flags", "metrics"}``; ``"test_z"`` the standardised test series.
    """
    _, _, train_z, test_z = standardize(train_values, test_values)
    Wtr, Wte = sliding_windows(train_z, window), sliding_windows(test_z, window)
    labels = None if test_labels is None else _check_flags(test_labels, "test_labels")
    if labels is not None and labels.size != test_z.size:
        raise ValueError(f"test_labels must have one label per test point ({test_z.size}); got {labels.size}")
    P = pca_reconstructions(Wtr, Wte, n_components)
    flat = [np.reshape(W, (W.shape[0], -1)) for W in (Wtr, Wte)]
    scored = {"ae": ((model.reconstruction_error(Wtr), model.reconstruction_error(Wte)), 0),
              "zscore": ((rolling_zscore_scores(train_z, window, zscore_span),
                          rolling_zscore_scores(test_z, window, zscore_span)), 0),
              "pca": (tuple(window_mae(W, R) for W, R in zip(flat, P)), 0)}
    if detector is not None:
        scored["detector"] = (tuple(peak_error(W, detector.reconstruct(W), span, margin) for W in (Wtr, Wte)),
                              margin)
        scored["pca_peak"] = (tuple(peak_error(W, R, span, margin) for W, R in zip(flat, P)), margin)
        scored["pca_max"] = (tuple(peak_error(W, R, 1, margin) for W, R in zip(flat, P)), margin)
    out = {"test_z": test_z}
    for name, ((s_tr, s_te), m) in scored.items():
        thr = max_threshold(s_tr)
        flags = flag_points(s_te > thr, window, m)
        out[name] = {"train_scores": s_tr, "scores": s_te, "threshold": thr, "point_flags": flags,
                     "metrics": _metrics(flags, s_te, thr, labels, window, m)}
    return out
