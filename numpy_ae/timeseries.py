r"""Time-series anomaly detection with a 1-D convolutional autoencoder (the Keras/NAB example), and baselines.

The public reference is the Keras example "Timeseries anomaly detection using
an Autoencoder": train on NAB's artificial series ``art_daily_small_noise``
(14 days, one value every 5 minutes, so 288 steps a day), test on
``art_daily_jumpsup``; cut both into windows of one day (288 steps) at
stride 1; reconstruct each window with a convolutional autoencoder; a window
is anomalous when its reconstruction error exceeds the largest error seen on
a training window; a point is anomalous when every window covering it is.

What this module holds, in the order a reader meets it:

``make_nab_like``
    A documented generator of that family (a square-ish daily cycle plus
    Gaussian noise), with labelled anomalies of five kinds, so everything runs
    without downloading NAB. ``read_nab_csv`` reads NAB's own ``timestamp,value``
    files when a user has them.
``sliding_windows``
    All windows of a series as an ``(N, 1, L)`` read-only view (no copy).
``Conv1DAutoencoder``
    The Keras example's network as an estimator (scikit-learn conventions,
    save/load like every numpy_ae autoencoder).
``window_mae``, ``flag_points``, ``window_labels``
    Scoring windows, the point-flagging rule and the window labels.
``rolling_zscore_scores``, ``pca_window_scores``
    The two baselines, scored on the same windows with the same threshold rule.
``detect``
    Everything above on one train/test pair: thresholds, flags and metrics.

Shapes: ``T`` points in a series, ``L`` steps in a window (``window``),
``N = T - L + 1`` windows, ``C`` channels (1 for a univariate series).

Normalisation (as in the Keras example): the training series is standardised
by its own mean and standard deviation (``ddof=1``, pandas' ``std``), and the
test series by the TRAINING mean and standard deviation, so a jump in the test
series stays a jump.

The point-flagging rule and the series' ends
--------------------------------------------
Window :math:`j` covers points :math:`j, \dots, j + L - 1`. Point :math:`i` is
flagged when every window that covers it is anomalous: windows
:math:`\max(0, i - L + 1), \dots, \min(i, N - 1)`. In the middle of a series
that is :math:`L` windows; the first and last :math:`L - 1` points are covered
by fewer (point 0 by window 0 alone), and the rule is applied to the windows
that exist, so an anomalous first window flags point 0. (The Keras example
instead never flags the first and last :math:`L - 1` points, and its slice
``anomalies[i - L + 1 : i]`` checks :math:`L - 1` of the :math:`L` windows.)
A window's label, for the window-level ROC AUC, is True when it contains at
least one labelled point.
"""
from __future__ import annotations

import csv
import math
import numbers
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validation import array_ndim, check_array, check_float_dtype, check_non_negative, check_positive_int
from .autoencoders import Autoencoder, _set_params_from_locals
from .conv import Conv1D, ConvTranspose1D
from .layers import Dropout, make_activation
from .losses import make_loss
from .metrics import precision_recall_f1, roc_auc
from .spatial import Flatten, Reshape

__all__ = ["KINDS", "LabelledSeries", "daily_pattern", "make_nab_like", "read_nab_csv", "sliding_windows",
           "standardize", "Conv1DAutoencoder", "window_mae", "flag_points", "window_labels", "max_threshold",
           "rolling_zscore", "rolling_zscore_scores", "pca_window_scores", "detect"]

#: Anomaly kinds of :func:`make_nab_like` (``"none"``: a clean series, for training).
KINDS = ("none", "jump-up", "jump-down", "flat-line", "noise-burst", "frequency-change")

NAB_START = np.datetime64("2014-04-01T00:00:00")  # NAB's artificial series start on this day


class LabelledSeries(NamedTuple):
    """A series: ``values (T,)`` float64, ``timestamps (T,)`` datetime64[s], ``labels (T,)`` bool or None."""

    values: np.ndarray
    timestamps: np.ndarray
    labels: np.ndarray | None


# --------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------

def daily_pattern(phase, low=20.0, high=80.0):
    r"""The square-ish daily cycle of NAB's ``art_daily`` family at ``phase`` (fraction of the day, in [0, 1)).

    Low at night, high in the day, with linear ramps of two hours::

        00:00-06:00  low          06:00-08:00  ramp up
        08:00-18:00  high         18:00-20:00  ramp down     20:00-24:00  low

    .. math:: p(u) = \mathrm{low} + (\mathrm{high} - \mathrm{low})\,
              \mathrm{clip}\big(\min(12u - 3,\; 10 - 12u),\ 0,\ 1\big),

    with :math:`u` the phase (``12u - 3`` rises from 0 at 06:00 to 1 at 08:00;
    ``10 - 12u`` falls from 1 at 18:00 to 0 at 20:00). NAB's series have this
    shape and this range (about 20 to 80); the exact breakpoints here are ours.
    """
    u = np.asarray(phase, dtype=np.float64)
    ramp = np.clip(np.minimum(12.0 * u - 3.0, 10.0 - 12.0 * u), 0.0, 1.0)
    return low + (high - low) * ramp


def _check_kind(kind):
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}; got {kind!r}")
    return kind


def make_nab_like(kind="none", n_days=14, period=288, noise=2.0, anomaly_day=None, random_state=None):
    r"""A synthetic series of NAB's ``art_daily`` family: daily cycle + Gaussian noise + one labelled anomaly.

    The clean series is :func:`daily_pattern` (20 at night, 80 in the day) plus
    noise of standard deviation ``noise``: :math:`x_t = p(u_t) + \sigma\varepsilon_t`
    with :math:`u_t = (t \bmod P)/P`. Timestamps start on 2014-04-01 (as NAB's
    artificial series) and advance by ``86400 / period`` seconds: 5 minutes for
    ``period=288``, NAB's rate. One anomaly, on day ``anomaly_day`` (default
    ``int(0.7 n_days)``: day 9 of 0..13, as the jump in ``art_daily_jumpsup``
    falls on the 11th of 14 days), of the kind asked; ``labels`` marks exactly
    the points it changes:

    ``"none"``
        No anomaly (all labels False): the training series.
    ``"jump-up"``
        The day's high phase rises by 60, to about 140 (twice the usual swing),
        ramps included: :math:`x_t \mathrel{+}= 60\,r(u_t)`, with
        :math:`r = (p - 20)/60`. Labelled: 06:00-20:00 (14 hours).
    ``"jump-down"``
        The high phase falls by 40, to about 40: :math:`x_t \mathrel{-}= 40\,r(u_t)`.
        Labelled: 06:00-20:00.
    ``"flat-line"``
        A stuck sensor: from 06:00 for 12 hours the series holds the value it
        had at 06:00 (about 20, no noise) instead of rising. Labelled: those 12 hours.
    ``"noise-burst"``
        From 09:00 for 6 hours (inside the high phase) the noise is 5 times
        stronger (standard deviation ``5 noise``). Labelled: those 6 hours.
    ``"frequency-change"``
        The whole day runs the daily cycle twice: :math:`p(2u \bmod 1)`. It is
        continuous with its neighbours (both start and end at night). Labelled:
        the whole day.

    Parameters
    ----------
    kind : one of :data:`KINDS`
    n_days : int >= 1
    period : int >= 8
        Steps per day (288: one value every 5 minutes).
    noise : float >= 0
        Standard deviation of the Gaussian noise (NAB's "small noise" series
        varies by a few units around its pattern).
    anomaly_day : int in [0, n_days) or None
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    LabelledSeries
        ``values (T,)``, ``timestamps (T,)`` (datetime64[s]), ``labels (T,)`` bool, ``T = n_days * period``.
    """
    from ._validation import check_random_state

    _check_kind(kind)
    n_days = check_positive_int(n_days, "n_days")
    period = check_positive_int(period, "period")
    if period < 8:
        raise ValueError(f"period (steps per day) must be >= 8 to draw the daily cycle's ramps; got {period}")
    noise = check_non_negative(noise, "noise")
    if anomaly_day is None:
        anomaly_day = min(int(0.7 * n_days), n_days - 1)
    if isinstance(anomaly_day, bool) or not isinstance(anomaly_day, numbers.Integral) \
            or not 0 <= anomaly_day < n_days:
        raise ValueError(f"anomaly_day must be an integer in [0, n_days) = [0, {n_days}); got {anomaly_day!r}")
    rng = check_random_state(random_state)
    T = n_days * period
    t = np.arange(T)
    u = (t % period) / period
    clean = daily_pattern(u)
    eps = rng.standard_normal(T)
    values = clean + noise * eps
    labels = np.zeros(T, dtype=bool)
    day = slice(anomaly_day * period, (anomaly_day + 1) * period)
    ud = u[day]

    def hours(start, length):  # the points of the anomaly day from `start` o'clock for `length` hours
        a = anomaly_day * period + int(round(start / 24 * period))
        return slice(a, a + int(round(length / 24 * period)))

    if kind in ("jump-up", "jump-down"):
        ramp = (daily_pattern(ud) - 20.0) / 60.0
        values[day] += (60.0 if kind == "jump-up" else -40.0) * ramp
        labels[day] = ramp > 0
    elif kind == "flat-line":
        span = hours(6, 12)
        values[span] = values[span.start]
        labels[span] = True
    elif kind == "noise-burst":
        span = hours(9, 6)
        values[span] += 4.0 * noise * eps[span]  # total noise 5 * noise
        labels[span] = True
    elif kind == "frequency-change":
        values[day] = daily_pattern((2.0 * ud) % 1.0) + noise * eps[day]
        labels[day] = True
    step = np.timedelta64(int(round(86400 / period)), "s")
    return LabelledSeries(values, NAB_START + t * step, labels)


# --------------------------------------------------------------------------
# NAB's CSV files
# --------------------------------------------------------------------------

_LABEL_COLUMNS = ("label", "is_anomaly", "anomaly")


def read_nab_csv(path, interpolate=False):
    r"""Read a NAB-format CSV file: a ``timestamp`` and a ``value`` column (header names in any case).

    NAB writes ``timestamp,value`` with timestamps like ``2014-04-01 00:00:00``.
    An optional label column (``label``, ``is_anomaly`` or ``anomaly``: 0/1 or
    true/false) is read as the point labels; NAB itself keeps labels apart
    (``labels/combined_windows.json``), so without one ``labels`` is None.

    Missing values (an empty cell, ``nan``, ``NaN``, ``null``): by default a
    ValueError naming the file, the line and the fix; with ``interpolate=True``
    they are filled linearly from the nearest finite values on each side (by
    position, not time; a run at either end takes the nearest finite value).
    Infinite values are always an error, and so are timestamps that do not
    increase strictly (rows out of order or repeated).

    Returns
    -------
    LabelledSeries
        ``values (T,)`` float64, ``timestamps (T,)`` datetime64[s], ``labels (T,)`` bool or None.
    """
    path = str(path)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"{path}: the file is empty; a NAB CSV needs a header 'timestamp,value' and rows")
    header = [h.strip().lower() for h in rows[0]]
    for column in ("timestamp", "value"):
        if column not in header:
            raise ValueError(f"{path}: no '{column}' column; a NAB CSV needs the columns 'timestamp' and 'value' "
                             f"(names in any case); the header has {rows[0]}")
    it, iv = header.index("timestamp"), header.index("value")
    il = next((header.index(c) for c in _LABEL_COLUMNS if c in header), None)
    body = [r for r in rows[1:] if any(cell.strip() for cell in r)]
    if not body:
        raise ValueError(f"{path}: no data rows after the header")
    values = np.empty(len(body))
    stamps = []
    labels = np.zeros(len(body), dtype=bool) if il is not None else None
    missing = []
    for k, row in enumerate(body):
        line = k + 2  # 1-based, after the header (blank lines are skipped)
        if len(row) <= max(it, iv, il if il is not None else 0):
            raise ValueError(f"{path}, line {line}: expected {len(header)} columns; got {row}")
        cell = row[iv].strip()
        if cell.lower() in ("", "nan", "null", "none", "na"):
            values[k] = np.nan
            missing.append(line)
        else:
            try:
                values[k] = float(cell)
            except ValueError:
                raise ValueError(f"{path}, line {line}: value must be a number; got {cell!r}") from None
            if not np.isfinite(values[k]):
                raise ValueError(f"{path}, line {line}: value must be finite; got {cell!r}")
        try:
            stamps.append(np.datetime64(row[it].strip().replace(" ", "T"), "s"))
        except ValueError:
            raise ValueError(f"{path}, line {line}: timestamp must be a date-time like '2014-04-01 00:00:00'; "
                             f"got {row[it]!r}") from None
        if il is not None:
            lab = row[il].strip().lower()
            if lab not in ("0", "1", "true", "false", "0.0", "1.0"):
                raise ValueError(f"{path}, line {line}: the label column '{header[il]}' must hold 0/1 or "
                                 f"true/false; got {row[il]!r}")
            labels[k] = lab in ("1", "true", "1.0")
    stamps = np.array(stamps, dtype="datetime64[s]")
    back = np.flatnonzero(np.diff(stamps) <= np.timedelta64(0, "s"))
    if back.size:
        k = int(back[0]) + 1
        raise ValueError(f"{path}, line {k + 2}: timestamps must increase strictly (a time series in order, no "
                         f"repeats); got {stamps[k]} after {stamps[k - 1]}")
    if missing:
        if not interpolate:
            raise ValueError(f"{path}: column 'value' has {len(missing)} missing or NaN values (first on line "
                             f"{missing[0]}); values must be finite: fill them, or pass interpolate=True "
                             "(--interpolate) to fill them linearly from their neighbours")
        ok = np.isfinite(values)
        if not ok.any():
            raise ValueError(f"{path}: column 'value' has no finite value to interpolate from")
        idx = np.arange(values.size)
        values[~ok] = np.interp(idx[~ok], idx[ok], values[ok])
    return LabelledSeries(values, stamps, labels)


# --------------------------------------------------------------------------
# Windows and normalisation
# --------------------------------------------------------------------------

def _check_series(values, name):
    x = np.asarray(values)
    if x.ndim != 1:
        raise ValueError(f"{name} must be a 1-D series of values (T,); got shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise ValueError(f"{name} must hold numbers; got dtype {x.dtype}")
    bad = ~np.isfinite(x)
    if bad.any():
        raise ValueError(f"{name} must be finite: it has {int(bad.sum())} NaN or infinite values (first at index "
                         f"{int(np.flatnonzero(bad)[0])}); fill them first (read_nab_csv(..., interpolate=True) "
                         "interpolates linearly)")
    return x


def sliding_windows(values, window=288):
    r"""All windows of ``window`` consecutive points, stride 1, as a read-only view ``(N, 1, L)``.

    ``W[j, 0, :] = values[j:j + L]``, ``N = T - L + 1``, ``L = window``. Built with
    ``numpy.lib.stride_tricks.sliding_window_view``: no value is copied (the
    view's strides step one element per window), so the windows of a year
    at 5-minute steps cost nothing; the view is read-only, since writing one
    window would change ``L`` of them. Copy it (``np.array(W)``) to modify it.
    A series shorter than one window, or with NaN, is a ValueError.
    """
    x = _check_series(values, "values")
    if isinstance(window, bool) or not isinstance(window, numbers.Integral) or window < 1:
        raise ValueError(f"window must be an integer >= 1; got {window!r}")
    if x.size < window:
        raise ValueError(f"the series must hold at least one window: window must be <= the series length; got "
                         f"window={window} for a series of {x.size} points")
    return sliding_window_view(x, int(window))[:, None, :]


def standardize(train, *others):
    r"""``(mean, std, train_z, *others_z)``: standardise by the TRAINING series' mean and std (``ddof=1``).

    :math:`z = (x - \bar x_{train}) / s_{train}`, the Keras example's normalisation
    (pandas' ``std``, with :math:`N - 1`); the test series get the training
    statistics, so a jump keeps its size.
    """
    x = _check_series(train, "train").astype(np.float64)
    if x.size < 2:
        raise ValueError(f"the training series needs at least 2 points for a standard deviation; got {x.size}")
    mean, std = float(x.mean()), float(x.std(ddof=1))
    if not std > 0:
        raise ValueError(f"the training series is constant (std = 0, every value {x[0]!r}); it cannot be "
                         "standardised")
    out = [mean, std, (x - mean) / std]
    for i, o in enumerate(others):
        out.append((_check_series(o, f"series {i + 1}").astype(np.float64) - mean) / std)
    return tuple(out)


# --------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------

class Conv1DAutoencoder(Autoencoder):
    r"""1-D convolutional autoencoder on windows of a series: the Keras time-series anomaly example's network.

    Network, for windows of ``C`` channels and ``L`` steps and ``filters = (f_1, ..., f_M)``
    (defaults: the Keras example, ``filters=(32, 16)``, ``kernel_size=7``, ``stride=2``)::

        X (N, C L) -> Reshape(C, L)
          -> [Conv1D(f_m, k, stride s, "same") -> ReLU (-> Dropout)]   m = 1..M      (encoder)
          -> Flatten                                                   code (N, f_M L_M)
          -> Reshape(f_M, L_M)
          -> [ConvTranspose1D(f_m, k, stride s) -> ReLU (-> Dropout)]  m = M..1      (decoder)
          -> ConvTranspose1D(C, k, stride 1, "same") -> Flatten        reconstruction (N, C L)

    Dropout (rate ``dropout``, training only; :class:`~numpy_ae.layers.Dropout`)
    follows every block but the last of the encoder and of the decoder: for two
    blocks that is after the first convolution and after the first transposed
    convolution, as in Keras. Loss: mean squared error (Keras' ``"mse"``,
    :class:`~numpy_ae.losses.MeanSquaredError`). For ``L = 288``: 288 -> 144 -> 72
    -> 144 -> 288 steps, 9,505 parameters, as Keras' summary reports.

    "Same" padding. A stride-``s`` convolution pads ``k // 2`` on both sides
    (odd ``k``), giving :math:`L' = \lceil L/s \rceil`, Keras' "same" length
    (Keras pads asymmetrically, 2 left and 3 right for ``k = 7, s = 2`` on an
    even length; here 3 and 3, so the sampling grid is shifted by one step).
    Each transposed convolution gets the padding ``p`` and ``output_padding`` ``o``
    that bring its input back to exactly the length the matching convolution
    read: :math:`(L' - 1)s - 2p + k + o = L`.

    Training follows the example: Adam (learning rate 1e-3), minibatches of
    128, up to 50 epochs, the last ``validation_split = 0.1`` of the windows
    held out (Keras' ``validation_split`` takes the last part, before
    shuffling) and early stopping after ``patience = 5`` epochs without a
    lower validation loss. Unlike Keras' ``EarlyStopping`` (without
    ``restore_best_weights``), the best epoch's parameters are restored.

    Inputs: ``(N, L)`` (one channel), ``(N, C, L)`` (e.g. :func:`sliding_windows`),
    or flat rows ``(N, C L)`` of a model fitted on ``C`` channels. ``L`` must be
    at least ``kernel_size`` (ValueError otherwise).

    Parameters
    ----------
    filters : tuple of int >= 1
    kernel_size : odd int >= 1
    stride : int >= 1
    dropout : float in [0, 1)
    activation : str
    weight_decay : float >= 0
    validation_split : float in [0, 1)
        Fraction of the windows (the last ones) held out for early stopping
        when ``fit`` gets no ``validation_data`` (minibatch methods; L-BFGS
        trains on all windows); 0 trains on all of them
        (early stopping then watches the training loss). When the split would
        leave no window on either side, all windows are trained on.
    method, max_iter, gtol, epochs, batch_size, learning_rate, momentum, nesterov, patience, verbose, \
warm_start, dtype, random_state :
        Training, as for every autoencoder (:mod:`numpy_ae.autoencoders`).

    Attributes
    ----------
    series_shape_ : (C, L)
    code_shape_ : (f_M, L_M)
    """

    def __init__(self, filters=(32, 16), *, kernel_size=7, stride=2, dropout=0.2, activation="relu",
                 weight_decay=0.0, validation_split=0.1, method="adam", max_iter=200, gtol=1e-5, epochs=50,
                 batch_size=128, learning_rate=None, momentum=0.9, nesterov=False, patience=5, verbose=0,
                 warm_start=False, dtype="float64", random_state=None):
        _set_params_from_locals(self, locals())
        self._validate_params()

    # ------------------------------------------------------------- structure
    def _validate_params(self):
        try:
            filters = tuple(self.filters)
        except TypeError:
            filters = ()
        if not filters or any(isinstance(f, bool) or not isinstance(f, numbers.Integral) or f < 1 for f in filters):
            raise ValueError(f"filters must be a non-empty tuple of integers >= 1; got {self.filters!r}")
        k = self.kernel_size
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1 or k % 2 == 0:
            raise ValueError(f"kernel_size must be an odd integer >= 1 (for 'same' padding k // 2); got {k!r}")
        check_positive_int(self.stride, "stride")
        d = self.dropout
        if isinstance(d, bool) or not isinstance(d, numbers.Real) or not 0.0 <= d < 1.0:
            raise ValueError(f"dropout must be a number in [0, 1) (the probability of dropping an entry); got {d!r}")
        make_activation(self.activation)
        check_non_negative(self.weight_decay, "weight_decay")
        v = self.validation_split
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0.0 <= v < 1.0:
            raise ValueError(f"validation_split must be a number in [0, 1) (the fraction of windows held out); "
                             f"got {v!r}")
        super()._validate_params()

    def _series_shape_for(self, n_features):
        fitted = getattr(self, "series_shape_", None)
        if fitted is not None and math.prod(fitted) == n_features:
            return tuple(int(d) for d in fitted)
        return (1, int(n_features))

    def _make_network(self, n_features):
        C, L = self._series_shape_for(n_features)
        k, s = int(self.kernel_size), int(self.stride)
        if L < k:
            raise ValueError(f"window must be >= kernel_size: each example is a window of L = {L} steps, shorter "
                             f"than the kernel (kernel_size = {k}); use longer windows or a smaller kernel_size")
        filters = tuple(int(f) for f in self.filters)
        init = "he" if self.activation in ("relu", "elu") else "glorot"
        M = len(filters)
        encoder, lengths, c = [Reshape((C, L))], [L], C
        for m, f in enumerate(filters):
            encoder += [Conv1D(c, f, k, stride=s, padding=k // 2, init=init), make_activation(self.activation)]
            if self.dropout > 0 and m < M - 1:
                encoder.append(Dropout(self.dropout))
            lengths.append((lengths[-1] - 1) // s + 1)  # ceil(L / s)
            c = f
        encoder.append(Flatten())
        self.series_shape_ = (C, L)
        self.code_shape_ = (c, lengths[-1])
        decoder = [Reshape(self.code_shape_)]
        for m in reversed(range(M)):
            small, big = lengths[m + 1], lengths[m]
            r = (small - 1) * s + k - big  # 2p - o
            p = max(0, (r + 1) // 2)
            decoder += [ConvTranspose1D(c, filters[m], k, stride=s, padding=p, output_padding=2 * p - r, init=init),
                        make_activation(self.activation)]
            if self.dropout > 0 and m > 0:
                decoder.append(Dropout(self.dropout))
            c = filters[m]
        decoder += [ConvTranspose1D(c, C, k, stride=1, padding=k // 2, init="glorot"), Flatten()]
        return encoder, decoder, make_loss("mse")

    # ---------------------------------------------------------------- inputs
    def _check_X(self, X, fitting=False):
        """Windows ``(N, L)``, ``(N, C, L)`` or flat ``(N, C L)`` to the network's flat rows ``(N, C L)``."""
        if hasattr(X, "toarray") and hasattr(X, "nnz"):
            return super()._check_X(X, fitting)  # its TypeError
        ndim = array_ndim(X)
        if ndim != 3:
            if ndim is not None and ndim > 3:
                raise ValueError(f"X must have 2 (N, L) or 3 (N, C, L) dimensions; got shape {np.shape(X)}")
            if fitting:
                self.__dict__.pop("series_shape_", None)  # (N, L) is read as one channel
            return super()._check_X(X, fitting)
        X = check_array(X, "X", ndim=3, dtype=check_float_dtype(self.dtype), estimator=type(self).__name__)
        shape = X.shape[1:]
        if not fitting and getattr(self, "network_", None) is not None and shape != tuple(self.series_shape_):
            raise ValueError(f"X's windows must match the model's (C, L) = {tuple(self.series_shape_)}; got "
                             f"X.shape {X.shape}")
        if fitting:
            self.series_shape_ = shape
        return super()._check_X(X.reshape(X.shape[0], -1), fitting)

    def fit(self, X, y=None, *, target=None, validation_data=None, callback=None):
        r"""Train on windows ``X`` (``(N, L)`` or ``(N, C, L)``); return self. ``y`` is ignored.

        Without ``validation_data``, the last ``validation_split`` of the windows
        (``N - floor(N (1 - validation_split))`` of them, Keras' rule) are held
        out for early stopping and not trained on.
        """
        self._validate_params()
        self.n_validation_ = 0
        if validation_data is None and target is None and self.validation_split > 0 and self.method != "lbfgs":
            try:
                Xa = np.asarray(X)
            except Exception:  # ragged lists and the like: the input checks say why
                Xa = None
            n = Xa.shape[0] if Xa is not None and Xa.ndim >= 2 else 0
            split = int(n * (1.0 - self.validation_split))
            if 1 <= split < n:
                super().fit(Xa[:split], y, validation_data=Xa[split:], callback=callback)
                self.n_validation_ = n - split
                return self
        return super().fit(X, y, target=target, validation_data=validation_data, callback=callback)

    def _as_input_layout(self, R, ndim):
        C, L = self.series_shape_
        return R.reshape(-1, C, L) if ndim == 3 else R

    # ------------------------------------------------------------ inference
    def reconstruct(self, X):
        """The reconstruction of ``X``, in ``X``'s own layout (``(N, L)`` or ``(N, C, L)``)."""
        return self._as_input_layout(super().reconstruct(X), array_ndim(X))

    def reconstruction_error(self, X, batch_size=1024):
        r"""Mean absolute error of each window's reconstruction, shape ``(N,)``: the Keras example's score.

        :math:`e_j = \frac{1}{C L}\sum_{c, t} |\hat x_{jct} - x_{jct}|`, computed in
        batches of ``batch_size`` windows (a read-only view of a long series is
        copied one batch at a time).
        """
        self._network()
        X = np.asarray(X)
        n = X.shape[0]
        out = np.empty(n, dtype=np.float64)
        for a in range(0, n, batch_size):
            Xb = self._check_X(X[a:a + batch_size])
            R = self._network().predict(Xb)
            out[a:a + batch_size] = np.abs(R - Xb).mean(axis=1, dtype=np.float64)
        return out


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
    x = _check_series(values, "values").astype(np.float64)
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

    :class:`~numpy_ae.pca.PCA` with ``n_components`` principal directions is fitted
    on the training windows (flattened to ``(N, C L)``); a window's score is the
    mean absolute error of its projection :math:`\hat x = \bar x + U_k U_k^\top (x - \bar x)`,
    the autoencoder's score with a linear code of ``n_components`` numbers.
    """
    from .pca import PCA

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
