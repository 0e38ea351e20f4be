r"""Detection metrics in NumPy: precision, recall, F1 and the ROC AUC (ties handled).

Labels are booleans (or 0/1): ``True`` marks an anomaly (the positive class).

Precision, recall and F1 count true positives :math:`TP`, false positives
:math:`FP` and false negatives :math:`FN`:

.. math::
    P = \frac{TP}{TP + FP}, \qquad R = \frac{TP}{TP + FN}, \qquad F_1 = \frac{2PR}{P + R}.

A ratio whose denominator is 0 (nothing flagged: no precision; nothing to
find: no recall) is reported as 0.0, scikit-learn's ``zero_division=0``.

The ROC AUC is the probability that a randomly chosen positive scores above
a randomly chosen negative, ties counting one half. That is the Mann-Whitney
U statistic divided by :math:`n_+ n_-`; with the ranks :math:`r_i` of all
scores (tied scores share the mean of their ranks),

.. math::
    \mathrm{AUC} = \frac{\sum_{i \in +} r_i - n_+(n_+ + 1)/2}{n_+ n_-},

exactly the area under the ROC curve drawn through every distinct threshold
(trapezoids where tied scores move both rates at once), which is what
``sklearn.metrics.roc_auc_score`` returns. It is undefined with one class only:
a ValueError says so.
"""
from __future__ import annotations
import numpy as np

__all__ = ['precision_recall_f1', 'roc_auc', 'average_ranks']




def _labels(y, name):
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of labels; got shape {y.shape}")
    if y.dtype != bool:
        if not np.issubdtype(y.dtype, np.number) or not np.isin(y, (0, 1)).all():
            raise ValueError(f"{name} must hold booleans or 0/1 (True = anomaly); got values "
                             f"{np.unique(y)[:5].tolist()}")
        y = y.astype(bool)
    return y


def precision_recall_f1(y_true, y_pred):
    r"""``(precision, recall, f1)`` of the boolean predictions ``y_pred (N,)`` against ``y_true (N,)``.

    A ratio with a zero denominator is 0.0 (see the module docstring).
    """
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have the same shape; got {t.shape} and {p.shape}")
    tp = int(np.count_nonzero(t & p))
    fp = int(np.count_nonzero(~t & p))
    fn = int(np.count_nonzero(t & ~p))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def average_ranks(x):
    """Ranks 1..N of ``x (N,)`` in increasing order, tied values sharing the mean of their ranks."""
    x = np.asarray(x)
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    # start of each run of equal values in the sorted order
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    ends = np.r_[starts[1:], xs.size]  # exclusive
    mean_rank = (starts + 1 + ends) / 2.0  # mean of the ranks starts+1 .. ends
    ranks = np.empty(x.size, dtype=np.float64)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def roc_auc(y_true, scores):
    r"""Area under the ROC curve of ``scores (N,)`` (higher = more anomalous) against ``y_true (N,)``.

    Rank-based (Mann-Whitney), ties counting one half; see the module docstring.
    """
    t = _labels(y_true, "y_true")
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != t.shape:
        raise ValueError(f"y_true and scores must have the same shape; got {t.shape} and {s.shape}")
    if not np.isfinite(s).all():
        raise ValueError(f"scores must be finite; got {int((~np.isfinite(s)).sum())} NaN or infinite values")
    n_pos = int(t.sum())
    n_neg = t.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"roc_auc needs both classes in y_true; got {n_pos} positives and {n_neg} negatives")
    r = average_ranks(s)
    return float((r[t].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))
