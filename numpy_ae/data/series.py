r"""Time series with labelled anomalies: a NAB-like generator, NAB's CSV format, sliding windows.
"""
from __future__ import annotations
import csv
import numbers
from typing import NamedTuple
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from .._validation import check_non_negative, check_positive_int
from .._validation import check_random_state

__all__ = ['KINDS', 'LabelledSeries', 'daily_pattern', 'make_nab_like', 'read_nab_csv', 'sliding_windows', 'standardize', 'check_series']



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
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a UTF-8 text file ({exc}); a NAB CSV is text, 'timestamp,value' "
                         "then one row per time step") from None
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

def check_series(values, name):
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
    x = check_series(values, "values")
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
    x = check_series(train, "train").astype(np.float64)
    if x.size < 2:
        raise ValueError(f"the training series needs at least 2 points for a standard deviation; got {x.size}")
    mean, std = float(x.mean()), float(x.std(ddof=1))
    if not std > 0:
        raise ValueError(f"the training series is constant (std = 0, every value {x[0]!r}); it cannot be "
                         "standardised")
    out = [mean, std, (x - mean) / std]
    for i, o in enumerate(others):
        out.append((check_series(o, f"series {i + 1}").astype(np.float64) - mean) / std)
    return tuple(out)
