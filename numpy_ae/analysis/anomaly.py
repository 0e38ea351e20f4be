r"""Anomaly scoring on time-series windows: thresholds, point flags, baselines, metrics.
"""
from __future__ import annotations
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from .._validation import check_positive_int
from .metrics import precision_recall_f1, roc_auc
from ..data.series import check_series, sliding_windows, standardize
from ..models.pca import PCA

#: The bottleneck detector's defaults (see :func:`detect`): points of the centred moving mean of the point
#: errors, and the threshold's quantile of the training point scores (None: the largest, the Keras rule).
DETECTOR_SMOOTH = 12
DETECTOR_QUANTILE = None

__all__ = ['window_mae', 'point_errors', 'smooth_scores', 'flag_points', 'window_labels', 'max_threshold',
           'rolling_zscore', 'rolling_zscore_scores', 'pca_window_scores', 'quantile_threshold',
           'detector_scores', 'detect', 'DETECTOR_SMOOTH', 'DETECTOR_QUANTILE']




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


def point_errors(windows, reconstructions):
    r"""Reconstruction error of each POINT, shape ``(T,)``: its absolute error averaged over the windows covering it.

    .. math:: e_i = \frac{1}{|J_i|}\sum_{j \in J_i} \frac{1}{C}\sum_c |\hat x_{j,c,i-j} - x_{j,c,i-j}|,
              \qquad J_i = \max(0, i-L+1) .. \min(i, N-1),

    ``windows`` and ``reconstructions`` of shape ``(N, C, L)`` (stride-1
    windows of one series, :func:`~numpy_ae.data.series.sliding_windows`),
    ``T = N + L - 1``. Each point is covered by up to ``L`` windows, and each
    of them reconstructs it; averaging the ``|J_i|`` errors scores the point
    itself, where a window's MAE (:func:`window_mae`) scores a whole day.
    A loop over the ``L`` positions in a window, each an O(N) add.
    """
    W = np.asarray(windows, dtype=np.float64)
    R = np.asarray(reconstructions, dtype=np.float64)
    if W.shape != R.shape or W.ndim != 3:
        raise ValueError(f"windows and reconstructions must have the same shape (N, C, L); got {W.shape} and "
                         f"{R.shape}")
    E = np.abs(R - W).mean(axis=1)  # (N, L)
    N, L = E.shape
    total, count = np.zeros(N + L - 1), np.zeros(N + L - 1)
    for k in range(L):  # position k of window j is point j + k
        total[k:k + N] += E[:, k]
        count[k:k + N] += 1
    return total / count


def smooth_scores(scores, span):
    r"""Centred moving mean of ``scores (T,)`` over ``span`` points (fewer at the ends), shape ``(T,)``.

    :math:`\bar s_i = \mathrm{mean}(s_a .. s_{b-1})`, :math:`a = \max(0, i - \lfloor span/2 \rfloor)`,
    :math:`b = \min(T, i - \lfloor span/2 \rfloor + span)`; ``span = 1`` returns a copy. Smoothing the
    errors before thresholding is what Hundman et al. (KDD 2018) do with an exponential average; a centred
    mean does not delay the flags.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"scores must be a non-empty 1-D array; got shape {s.shape}")
    span = check_positive_int(span, "span")
    c = np.concatenate(([0.0], np.cumsum(s)))
    i = np.arange(s.size)
    a = np.maximum(0, i - span // 2)
    b = np.minimum(s.size, i - span // 2 + span)
    return (c[b] - c[a]) / (b - a)


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


def flag_points(window_flags, window):
    r"""Point flags ``(T,)`` from window flags ``(N,)``: point i is anomalous when EVERY window covering it is.

    ``T = N + window - 1``. Window :math:`j` covers points :math:`j..j+L-1`, so
    point :math:`i` is covered by windows :math:`\max(0, i-L+1)..\min(i, N-1)`
    (fewer than ``L`` near the ends: see the module docstring). Counted with a
    cumulative sum of the NON-anomalous windows: a point is flagged when none
    of its windows is normal. O(T), no loop.
    """
    f = _check_flags(window_flags, "window_flags")
    L = check_positive_int(window, "window")
    N = f.size
    T = N + L - 1
    normal = np.concatenate(([0], np.cumsum(~f)))
    i = np.arange(T)
    first, last = np.maximum(0, i - L + 1), np.minimum(i, N - 1)
    return (normal[last + 1] - normal[first]) == 0


def window_labels(point_labels, window):
    """Window labels ``(N,)`` from point labels ``(T,)``: a window is anomalous when it contains a labelled point."""
    p = _check_flags(point_labels, "point_labels")
    L = check_positive_int(window, "window")
    if p.size < L:
        raise ValueError(f"window must be <= the number of labelled points; got window={L} for {p.size} labels")
    c = np.concatenate(([0], np.cumsum(p)))
    return (c[L:] - c[:-L]) > 0


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


def pca_window_scores(train_windows, test_windows, n_components=16):
    r"""Baseline 2: PCA reconstruction MAE of each window, ``(train_scores (N_train,), test_scores (N_test,))``.

    :class:`~numpy_ae.models.pca.PCA` with ``n_components`` principal directions is fitted
    on the training windows (flattened to ``(N, C L)``); a window's score is the
    mean absolute error of its projection :math:`\hat x = \bar x + U_k U_k^\top (x - \bar x)`,
    the autoencoder's score with a linear code of ``n_components`` numbers.
    """
    A = np.asarray(train_windows, dtype=np.float64).reshape(np.shape(train_windows)[0], -1)
    B = np.asarray(test_windows, dtype=np.float64).reshape(np.shape(test_windows)[0], -1)
    pca = PCA(n_components).fit(A)
    return tuple(window_mae(M, pca.inverse_transform(pca.transform(M))) for M in (A, B))


def quantile_threshold(train_scores, q=None):
    """The largest training score (``q=None``, :func:`max_threshold`) or its ``q``-quantile (``0 < q < 1``)."""
    if q is None:
        return max_threshold(train_scores)
    if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0.0 < q < 1.0:
        raise ValueError(f"q must be None (the largest score) or a quantile in (0, 1); got {q!r}")
    max_threshold(train_scores)  # the same checks
    return float(np.quantile(np.asarray(train_scores, dtype=np.float64), q))


def detector_scores(model, windows, smooth=DETECTOR_SMOOTH):
    r"""The bottleneck detector's scores of one series: ``(point_scores (T,), window_scores (N,))``.

    ``point_scores``: :func:`point_errors` of ``model``'s reconstructions,
    smoothed by :func:`smooth_scores` over ``smooth`` points; ``window_scores``:
    the same reconstructions' :func:`window_mae` (for the window-level ROC AUC
    every detector here reports).
    """
    R = model.reconstruct(windows)
    return smooth_scores(point_errors(windows, R), smooth), window_mae(windows, R)


def _metrics(point_flags, window_scores, threshold, labels, window, point_scores=None):
    out = {"threshold": float(threshold), "n_flagged": int(point_flags.sum()),
           "n_windows_flagged": int((window_scores > threshold).sum()) if point_scores is None else None}
    keys = ("precision", "recall", "f1", "roc_auc") + (() if point_scores is None else ("point_roc_auc",))
    if labels is None:
        out.update({k: None for k in keys})
        return out
    p, r, f1 = precision_recall_f1(labels, point_flags)
    wl = window_labels(labels, window)
    auc = roc_auc(wl, window_scores) if 0 < wl.sum() < wl.size else None
    out.update({"precision": p, "recall": r, "f1": f1, "roc_auc": auc})
    if point_scores is not None:
        out["point_roc_auc"] = roc_auc(labels, point_scores) if 0 < labels.sum() < labels.size else None
    return out


def detect(model, train_values, test_values, window=288, test_labels=None, n_components=16, zscore_span=None,
           detector=None, smooth=DETECTOR_SMOOTH, quantile=DETECTOR_QUANTILE):
    r"""Run the autoencoder, both baselines and (optionally) the bottleneck detector on one train/test pair.

    ``model`` is a FITTED :class:`Conv1DAutoencoder` (trained on the windows of
    the standardised ``train_values``); ``train_values``, ``test_values`` are
    the raw series (standardised here by the training statistics). For the
    autoencoder and the baselines (window detectors): window scores on both
    series, threshold = the largest training score (:func:`max_threshold`),
    window flags ``score > threshold``, point flags by :func:`flag_points`.
    ``detector``, a fitted bottleneck :class:`Conv1DAutoencoder`
    (``code_size`` set), is a POINT detector: :func:`detector_scores` (each
    point's reconstruction error averaged over the windows covering it,
    smoothed over ``smooth`` points), threshold = :func:`quantile_threshold`
    of its training point scores (``quantile`` None: the largest), a point
    flagged when its score is above it. With ``test_labels``, every detector
    gets point-level precision, recall and F1, and the window-level ROC AUC
    against :func:`window_labels` (None when the windows hold one class only;
    the point detector's windows are scored by their MAE); the point detector
    also its point-level ``point_roc_auc``.

    Returns
    -------
    dict
        ``"ae"``, ``"zscore"``, ``"pca"`` (and ``"detector"``): each ``{"train_scores", "scores",
        "threshold", "point_flags", "metrics"}`` (``"detector"``: ``scores`` per point, and
        ``"window_scores"``); ``"test_z"`` the standardised test series.
    """
    _, _, train_z, test_z = standardize(train_values, test_values)
    Wtr, Wte = sliding_windows(train_z, window), sliding_windows(test_z, window)
    labels = None if test_labels is None else _check_flags(test_labels, "test_labels")
    if labels is not None and labels.size != test_z.size:
        raise ValueError(f"test_labels must have one label per test point ({test_z.size}); got {labels.size}")
    scored = {"ae": (model.reconstruction_error(Wtr), model.reconstruction_error(Wte)),
              "zscore": (rolling_zscore_scores(train_z, window, zscore_span),
                         rolling_zscore_scores(test_z, window, zscore_span)),
              "pca": pca_window_scores(Wtr, Wte, n_components)}
    out = {"test_z": test_z}
    for name, (s_tr, s_te) in scored.items():
        thr = max_threshold(s_tr)
        flags = flag_points(s_te > thr, window)
        out[name] = {"train_scores": s_tr, "scores": s_te, "threshold": thr, "point_flags": flags,
                     "metrics": _metrics(flags, s_te, thr, labels, window)}
    if detector is not None:
        (p_tr, _), (p_te, w_te) = detector_scores(detector, Wtr, smooth), detector_scores(detector, Wte, smooth)
        thr = quantile_threshold(p_tr, quantile)
        flags = p_te > thr
        out["detector"] = {"train_scores": p_tr, "scores": p_te, "window_scores": w_te, "threshold": thr,
                           "point_flags": flags, "metrics": _metrics(flags, w_te, thr, labels, window, p_te)}
    return out
