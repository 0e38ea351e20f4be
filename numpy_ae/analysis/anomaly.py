r"""Anomaly scoring on time-series windows: thresholds, point flags, baselines, metrics.
"""
from __future__ import annotations
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from .._validation import check_positive_int
from .metrics import precision_recall_f1, roc_auc
from ..data.series import check_series, sliding_windows, standardize
from ..models.pca import PCA

__all__ = ['window_mae', 'flag_points', 'window_labels', 'max_threshold', 'rolling_zscore', 'rolling_zscore_scores', 'pca_window_scores', 'detect']




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


def _metrics(point_flags, window_scores, threshold, labels, window, prefix=""):
    out = {prefix + "threshold": float(threshold), prefix + "n_flagged": int(point_flags.sum()),
           prefix + "n_windows_flagged": int((window_scores > threshold).sum())}
    if labels is None:
        out.update({prefix + k: None for k in ("precision", "recall", "f1", "roc_auc")})
        return out
    p, r, f1 = precision_recall_f1(labels, point_flags)
    wl = window_labels(labels, window)
    auc = roc_auc(wl, window_scores) if 0 < wl.sum() < wl.size else None
    out.update({prefix + "precision": p, prefix + "recall": r, prefix + "f1": f1, prefix + "roc_auc": auc})
    return out


def detect(model, train_values, test_values, window=288, test_labels=None, n_components=16, zscore_span=None):
    r"""Run the autoencoder and both baselines on one train/test pair; return a dict of arrays and figures.

    ``model`` is a FITTED :class:`Conv1DAutoencoder` (trained on the windows of
    the standardised ``train_values``); ``train_values``, ``test_values`` are
    the raw series (standardised here by the training statistics). For each
    detector: window scores on both series, threshold = the largest training
    score (:func:`max_threshold`), window flags ``score > threshold``, point
    flags by :func:`flag_points`, and with ``test_labels``: point-level
    precision, recall and F1, and the window-level ROC AUC against
    :func:`window_labels` (None when the windows hold one class only).

    Returns
    -------
    dict
        ``"ae"``, ``"zscore"``, ``"pca"``: each ``{"train_scores", "scores", "threshold",
        "point_flags", "metrics"}``; ``"test_z"`` the standardised test series.
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
    return out
