r"""``python -m numpy_ae anomaly-timeseries``: the Keras time-series anomaly example, with two baselines.

Train :class:`numpy_ae.models.sequence.Conv1DAutoencoder` (the Keras example's
network and training: Adam 1e-3, minibatches of 128, up to 50 epochs, the
last 10% of the windows for early stopping with patience 5) on the windows of
a clean series, score every window of a test series by its reconstruction's
mean absolute error, flag the windows above the largest training-window error
and the points all of whose windows are flagged
(:func:`numpy_ae.analysis.anomaly.detect`). The same windows are scored by two
baselines with the same threshold rule (the largest score on a training window):

rolling z-score
    mean :math:`|z_t|` over the window, :math:`z_t` the trailing z-score of
    each point against the ``window`` points before it (one day);
PCA reconstruction error
    the MAE of each window's projection on the top ``--pca-components``
    (default 16) principal directions of the training windows.

Beside the replica (the reference, whose "code" of 16 channels x 72 steps
holds 1,152 numbers for 288 inputs, so it reconstructs anomalies too), a
**bottleneck detector** is trained on the same windows:
``Conv1DAutoencoder(code_size=16, dropout=0)`` (a linear Dense code of
``--code-size`` numbers between the convolutions; minibatches of
``--detector-batch-size`` 32), scored by its **peak error**
(:func:`numpy_ae.analysis.anomaly.peak_error`: the largest ``--span``-point
mean absolute error in the window, ``--margin`` 8 positions left out at each
end where the zero padding reaches) with the same max-over-training threshold.
PCA is scored that way too (``pca_peak``, and ``pca_max`` with span 1), so the
comparison is like for like. Measured over the five kinds and seeds 0, 1, 2
(``--kind all --seed S --json``): detector mean F1 0.956 / 0.950 / 0.959
(lowest kind 0.877, frequency-change), PCA scored as in Keras 0.921 / 0.916 /
0.953, replica 0.264 / 0.209 / 0.467.

Data. By default both series come from
:func:`numpy_ae.data.series.make_nab_like`: 14 days at 5-minute steps, a
clean training series (seed ``--seed``) and a test series with one anomaly of
``--kind`` (seed ``--seed + 1``), labelled. With ``--train-csv`` and
``--test-csv`` it reads NAB-format files instead (``timestamp,value``;
labels from an optional ``label`` column of the test file, else the metrics
are null).

Output: ``anomalies.png`` in ``--out`` (the test series with labelled and
flagged points shaded, and the window error against the threshold), a
progress line per epoch, the flagged intervals as timestamps, and with
``--json`` one JSON line last::

    {"precision", "recall", "f1", "roc_auc",            # the autoencoder, points / windows
     "baseline_zscore_f1", "baseline_pca_f1",           # the baselines' point-level F1
     "threshold", "n_flagged",                          # the autoencoder's threshold and flagged points
     ...}                                               # baselines' precision/recall/AUC, sizes, timings

Precision, recall and F1 are point-level (flagged points against labelled
points); the ROC AUC is window-level (window scores against "the window
contains a labelled point"). ``--fast`` (tests): 6 days of 48 steps (30-minute
steps), windows of 48, 3 epochs.

Threads: minibatch products are small, so training runs with one BLAS thread
(:func:`numpy_ae.experiments.denoising.one_blas_thread`): on a loaded machine
a second thread spins waiting for a core; see ``benchmarks/README.md``.
"""
from __future__ import annotations

import os

import numpy as np

from .._validation import check_positive_int
from .registry import add_output, command, emit
from ..data.series import KINDS, make_nab_like, read_nab_csv, sliding_windows, standardize
from ..models.sequence import Conv1DAutoencoder
from ..analysis.anomaly import PEAK_MARGIN, PEAK_SPAN, detect
from .denoising import one_blas_thread
from ..analysis.class_figures import legend_outside
from ..analysis.plotting import new_figure

__all__ = ["run", "save_anomaly_figure", "anomaly_figure", "flagged_intervals", "ANOMALY_KINDS"]

#: The kinds ``--kind`` accepts (every generator kind but the clean "none").
ANOMALY_KINDS = tuple(k for k in KINDS if k != "none")


def flagged_intervals(flags):
    """``[(start, stop), ...]``: the runs of True in ``flags (T,)``, ``stop`` exclusive."""
    f = np.asarray(flags, dtype=bool)
    edges = np.diff(np.concatenate(([0], f.view(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def save_anomaly_figure(path, timestamps, values, labels, flags, errors, threshold, window, title=None,
                        detector_flags=None):
    r"""Write :func:`anomaly_figure` as a PNG; return ``path``."""
    anomaly_figure(timestamps, values, labels, flags, errors, threshold, window, title=title,
                   detector_flags=detector_flags).savefig(path)
    return path


def anomaly_figure(timestamps, values, labels, flags, errors, threshold, window, title=None, detector_flags=None):
    r"""The two-panel figure: the series with labelled/flagged points, and the window error vs the threshold.

    Top: ``values (T,)`` against time in days; labelled points shaded grey,
    flagged points shaded red (``detector_flags``, the bottleneck detector's
    flagged points: a dark band under the curve). Bottom: ``errors (N,)`` (the MAE of window
    :math:`j`, drawn at its centre :math:`j + (L-1)/2`) with the threshold as a
    dashed line. Each panel's legend to its right, off the curves. Returns the
    Figure (on an Agg canvas: no pyplot state).
    """
    ts = np.asarray(timestamps)
    days = (ts - ts[0]) / np.timedelta64(1, "D")
    step = float(days[1] - days[0]) if days.size > 1 else 1.0
    fig = new_figure(1300, 620)
    ax1 = fig.add_axes((0.06, 0.55, 0.70, 0.36))
    ax2 = fig.add_axes((0.06, 0.08, 0.70, 0.36), sharex=ax1)
    ax1.plot(days, values, color="tab:blue", lw=0.7, label="test series")
    if labels is not None:
        for k, (a, b) in enumerate(flagged_intervals(labels)):
            ax1.axvspan(days[a], days[b - 1] + step, color="0.6", alpha=0.35, lw=0,
                        label="labelled anomaly" if k == 0 else None)
    for k, (a, b) in enumerate(flagged_intervals(flags)):
        ax1.axvspan(days[a], days[b - 1] + step, color="tab:red", alpha=0.3, lw=0,
                    label="flagged by the Keras replica" if k == 0 else None)
    if detector_flags is not None:
        lo = float(np.min(values))
        for k, (a, b) in enumerate(flagged_intervals(detector_flags)):
            ax1.plot([days[a], days[b - 1] + step], [lo, lo], color="k", lw=5, solid_capstyle="butt",
                     label="flagged by the bottleneck detector" if k == 0 else None)
    ax1.set_ylabel("value")
    legend_outside(ax1)
    if title:
        ax1.set_title(title, fontsize=10)
    centres = days[(window - 1) // 2:(window - 1) // 2 + len(errors)]
    ax2.plot(centres, errors, color="tab:purple", lw=0.8, label="Keras replica: window MAE")
    ax2.axhline(threshold, color="k", ls="--", lw=1, label=f"threshold (max training MAE) {threshold:.3f}")
    ax2.set_xlabel(f"days since {str(ts[0])[:10]} (window errors at the window centres)")
    ax2.set_ylabel("MAE (standardised units)")
    legend_outside(ax2)
    return fig


def _fmt(ts):
    return str(ts).replace("T", " ")[:16]


KERAS_SOURCE = "Keras example 'Timeseries anomaly detection using an Autoencoder' (NAB art_daily series)"


def _train(model, W, name, save_model=None):
    conv = f"{model.filters} (kernel {model.kernel_size}, stride {model.stride}, dropout {model.dropout})"
    code = (f"code {model.code_size} numbers" if model.code_size is not None
            else "code: the last convolution's output")
    print(f"training {name}: Conv1DAutoencoder {conv}, {code}, on {W.shape[0]} windows of {W.shape[-1]} steps "
          f"(last {model.validation_split:.0%} held out for early stopping, patience {model.patience}), Adam "
          f"{model.learning_rate}, minibatches of {model.batch_size}, up to {model.epochs} epochs, {model.dtype}",
          flush=True)
    with one_blas_thread():
        model.fit(W)
    print(f"  {model.message_}; {model.fit_seconds_:.1f} s; code shape {tuple(model.code_shape_)}", flush=True)
    if save_model:
        os.makedirs(os.path.dirname(os.path.abspath(save_model)), exist_ok=True)  # checked before training
        print(f"saved the model to {model.save(save_model)}", flush=True)  # the path written (.npz added)
    return model


def _figures(det, test, window, pca_components):
    """The flat JSON figures of one test series (the Keras replica's under the keys of the original example)."""
    ae, z, pca, d, pp, pm = (det[k]["metrics"] for k in ("ae", "zscore", "pca", "detector", "pca_peak", "pca_max"))
    out = {"precision": ae["precision"], "recall": ae["recall"], "f1": ae["f1"], "roc_auc": ae["roc_auc"],
           "baseline_zscore_f1": z["f1"], "baseline_pca_f1": pca["f1"],
           "threshold": ae["threshold"], "n_flagged": ae["n_flagged"], "n_windows_flagged": ae["n_windows_flagged"]}
    keys = ("precision", "recall", "f1", "roc_auc", "threshold", "n_flagged")
    out.update({f"detector_{k}": d[k] for k in keys})
    out.update({f"baseline_pca_peak_{k}": pp[k] for k in keys})
    out.update({f"baseline_pca_max_{k}": pm[k] for k in keys})
    for name, m in (("zscore", z), ("pca", pca)):
        out.update({f"baseline_{name}_{k}": m[k] for k in ("precision", "recall", "roc_auc", "n_flagged")})
    out.update({"pca_components": pca_components, "n_points": int(test.values.size),
                "n_windows": int(det["ae"]["scores"].size), "window": window,
                "n_labelled": None if test.labels is None else int(test.labels.sum())})
    return out


def _claim(claim, holds, ours, baseline, source=None):
    return {"claim": claim, "holds": bool(holds), "ours": float(ours),
            "baseline": None if baseline is None else float(baseline), "published": None, "source": source}


def claims(per_kind, code_size, window):
    r"""The README's claims, computed from ``per_kind`` (``{name: figures}`` of :func:`_figures`, labelled runs).

    The detector's F1 (its mean over the series when there are several)
    against PCA's under the same scoring (the peak error: the fair
    comparison), under the peak error of span 1 (PCA's best here) and under the Keras scoring (the window MAE: the baseline
    as the example scores it), against the Keras replica's, and the
    detector's smallest F1 above 0.
    """
    runs = {k: v for k, v in per_kind.items() if v["f1"] is not None}
    if not runs:
        return []
    det, peak, pmax, pca, rep = (np.array([v[key] for v in runs.values()], dtype=np.float64) for key in
                                 ("detector_f1", "baseline_pca_peak_f1", "baseline_pca_max_f1", "baseline_pca_f1", "f1"))
    names = ", ".join(runs)
    on = f"on '{names}'" if len(runs) == 1 else f"over the anomaly kinds ({names})"
    ae = f"the bottleneck autoencoder ({code_size} numbers for {window} steps)"
    f1 = "F1" if len(runs) == 1 else "mean F1"
    return [_claim(f"{on.capitalize()} {ae} reaches a {f1} at least PCA's scored the same way (peak error)",
                   det.mean() >= peak.mean(), det.mean(), peak.mean()),
            _claim(f"{on.capitalize()} {ae} reaches a {f1} at least PCA's scored by its largest single error in "
                   f"the window's middle (span 1)", det.mean() >= pmax.mean(), det.mean(), pmax.mean()),
            _claim(f"{on.capitalize()} {ae} reaches a {f1} at least PCA's scored as in the Keras example (window "
                   f"MAE)", det.mean() >= pca.mean(), det.mean(), pca.mean()),
            _claim(f"{on.capitalize()} {ae} reaches a {f1} above the Keras replica's", det.mean() > rep.mean(),
                   det.mean(), rep.mean(), KERAS_SOURCE),
            _claim(f"{on.capitalize()} {ae} finds every anomaly (no F1 of 0)", det.min() > 0, det.min(),
                   peak.min())]


def run(kind="jump-up", train_csv=None, test_csv=None, interpolate=False, out="out/anomaly_timeseries",
        n_days=14, period=288, window=None, noise=2.0, epochs=50, batch_size=128, learning_rate=1e-3, patience=5,
        pca_components=16, code_size=16, detector_batch_size=32, detector_dropout=0.0, span=PEAK_SPAN,
        margin=PEAK_MARGIN, dtype="float32",
        seed=0, model_path=None, save_model=None, verbose=True):
    r"""Train (or load) the Keras replica, train the bottleneck detector, detect, draw; return ``(model, result)``.

    ``kind="all"`` scores every kind of :data:`ANOMALY_KINDS` with the same two
    trained models (the training series is the same clean one). ``window``
    defaults to ``period`` (one day). ``model_path`` loads a saved Keras
    replica (fitted on windows of ``window`` steps of the same standardised
    training series) instead of training it; ``save_model`` writes the trained
    one. ``code_size``, ``detector_batch_size``, ``detector_dropout``: the
    bottleneck detector's network and training (else as the replica's); ``span``, ``margin``: its scoring
    (:func:`numpy_ae.analysis.anomaly.detect`). Other parameters: see the
    command's options.
    """
    if kind not in ANOMALY_KINDS + ("all",):
        raise ValueError(f"kind must be one of {list(ANOMALY_KINDS) + ['all']}; got {kind!r}")
    if (train_csv is None) != (test_csv is None):
        raise ValueError(f"--train-csv and --test-csv go together; got train_csv={train_csv!r}, "
                         f"test_csv={test_csv!r}")
    period = check_positive_int(period, "period")
    window = period if window is None else check_positive_int(window, "window")
    epochs = check_positive_int(epochs, "epochs")
    code_size = check_positive_int(code_size, "code_size")
    if code_size >= window:
        raise ValueError(f"code_size must be smaller than the window (a bottleneck); got code_size={code_size} "
                         f"for windows of {window} steps")
    if train_csv is not None:
        train = read_nab_csv(train_csv, interpolate)
        tests = {os.path.basename(str(test_csv)): read_nab_csv(test_csv, interpolate)}
        source = {"train_csv": str(train_csv), "test_csv": str(test_csv)}
    else:
        train = make_nab_like("none", n_days=n_days, period=period, noise=noise, random_state=seed)
        tests = {k: make_nab_like(k, n_days=n_days, period=period, noise=noise, random_state=seed + 1)
                 for k in (ANOMALY_KINDS if kind == "all" else (kind,))}
        source = {"kind": kind, "n_days": n_days, "period": period, "noise": noise}
    _, _, train_z, _ = standardize(train.values, train.values)
    W = sliding_windows(train_z, window)
    for t in tests.values():
        sliding_windows(t.values, window)  # a test series shorter than a window fails before training
    training = dict(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, patience=patience,
                    dtype=dtype, verbose=verbose, random_state=seed)
    if model_path is not None:
        model = Conv1DAutoencoder.load(model_path)
        if tuple(model.series_shape_) != (1, window):
            raise ValueError(f"the model in {model_path} reads windows of shape {tuple(model.series_shape_)}; "
                             f"this run uses (1, window) = (1, {window})")
        print(f"loaded {model_path}", flush=True)
    else:
        model = _train(Conv1DAutoencoder(**training), W, "the Keras replica", save_model)
    detector = _train(Conv1DAutoencoder(code_size=code_size, dropout=detector_dropout,
                                        **{**training, "batch_size": detector_batch_size}),
                      W, "the bottleneck detector")
    os.makedirs(out, exist_ok=True)
    per_kind, figures = {}, []
    for name, test in tests.items():
        with one_blas_thread():
            det = detect(model, train.values, test.values, window=window, test_labels=test.labels,
                         n_components=pca_components, detector=detector, span=span, margin=margin)
        per_kind[name] = r = _figures(det, test, window, pca_components)
        fname = "anomalies.png" if len(tests) == 1 else f"anomalies-{name}.png"
        figures.append(str(save_anomaly_figure(
            os.path.join(out, fname), test.timestamps, test.values, test.labels, det["ae"]["point_flags"],
            det["ae"]["scores"], det["ae"]["threshold"], window, detector_flags=det["detector"]["point_flags"],
            title=f"{name}: {r['n_flagged']} points flagged by the Keras replica, {r['detector_n_flagged']} by "
                  f"the bottleneck detector")))
        _report(name, test, det, pca_components)
    settings = {"code_size": code_size, "detector_batch_size": detector_batch_size,
                "detector_dropout": detector_dropout, "span": span, "margin": margin, "window": window,
                "epochs_run": getattr(model, "n_epochs_", None), "fit_seconds": getattr(model, "fit_seconds_", None),
                "detector_epochs_run": detector.n_epochs_, "detector_fit_seconds": detector.fit_seconds_,
                "n_params": model.n_params_, "detector_n_params": detector.n_params_,
                "code_numbers": int(np.prod(model.code_shape_)), **source}
    if len(tests) == 1:
        result = {**per_kind[next(iter(tests))], **settings, "figure": figures[0]}
    else:
        result = {"kinds": per_kind, **settings, "figures": figures}
        for key in ("f1", "detector_f1", "baseline_pca_f1", "baseline_pca_peak_f1", "baseline_pca_max_f1",
                    "baseline_zscore_f1",
                    "roc_auc", "detector_roc_auc", "baseline_pca_roc_auc", "baseline_pca_peak_roc_auc"):
            vals = [v[key] for v in per_kind.values()]
            result[f"mean_{key}"] = float(np.mean(vals)) if None not in vals else None
            result[f"min_{key}"] = float(np.min(vals)) if None not in vals else None
    result["claims"] = claims(per_kind, code_size, window)
    print(f"wrote {', '.join(figures)}", flush=True)
    return model, result


def _report(name, test, det, pca_components):
    flags = det["ae"]["point_flags"]
    print(f"--- {name}", flush=True)
    for who, f in (("replica", flags), ("detector", det["detector"]["point_flags"])):
        for a, b in flagged_intervals(f):
            print(f"{who} flagged {_fmt(test.timestamps[a])} to {_fmt(test.timestamps[b - 1])} ({b - a} points)",
                  flush=True)
    if test.labels is not None:
        for a, b in flagged_intervals(test.labels):
            print(f"labelled {_fmt(test.timestamps[a])} to {_fmt(test.timestamps[b - 1])} ({b - a} points)",
                  flush=True)

    def line(who, m):
        if m["f1"] is None:
            return f"  {who:<28} {m['n_flagged']:5d} points flagged (no labels: no scores)"
        auc = "n/a" if m["roc_auc"] is None else f"{m['roc_auc']:.3f}"
        return (f"  {who:<28} precision {m['precision']:.3f}  recall {m['recall']:.3f}  F1 {m['f1']:.3f}  "
                f"window ROC AUC {auc}  ({m['n_flagged']} points flagged)")
    print("\n".join(["point-level scores, window-level ROC AUC:", line("Keras replica", det["ae"]["metrics"]),
                     line("bottleneck detector (peak)", det["detector"]["metrics"]),
                     line("rolling z-score", det["zscore"]["metrics"]),
                     line(f"PCA ({pca_components} comp.)", det["pca"]["metrics"]),
                     line(f"PCA ({pca_components} comp., peak)", det["pca_peak"]["metrics"]),
                     line(f"PCA ({pca_components} comp., span 1)", det["pca_max"]["metrics"])]), flush=True)


@command("anomaly-timeseries", "time-series anomaly detection (the Keras/NAB example) against z-score and PCA")
def cmd_anomaly_timeseries(args):
    fast = args.fast
    _, result = run(kind=args.kind, train_csv=args.train_csv, test_csv=args.test_csv, interpolate=args.interpolate,
                    out=args.out, n_days=args.days if args.days is not None else (6 if fast else 14),
                    period=args.period if args.period is not None else (48 if fast else 288),
                    window=args.window, noise=args.noise,
                    epochs=args.epochs if args.epochs is not None else (3 if fast else 50),
                    batch_size=args.batch_size, learning_rate=args.learning_rate, patience=args.patience,
                    pca_components=args.pca_components, code_size=args.code_size,
                    detector_batch_size=args.detector_batch_size, detector_dropout=args.detector_dropout,
                    span=args.span,
                    margin=args.margin, dtype=args.dtype, seed=args.seed,
                    model_path=args.model, save_model=args.save_model, verbose=not args.quiet)
    emit(args, result, "")
    return 0


def _configure(p):
    p.add_argument("--kind", choices=ANOMALY_KINDS + ("all",), default="jump-up",
                   help="anomaly of the synthetic test series (default jump-up, as NAB's art_daily_jumpsup; all: "
                        "every kind, scored by the same two trained models)")
    p.add_argument("--train-csv", help="NAB-format CSV (timestamp,value) to train on, instead of the generator")
    p.add_argument("--test-csv", help="NAB-format CSV to test on (an optional 'label' column gives the labels)")
    p.add_argument("--interpolate", action="store_true",
                   help="fill missing/NaN values of the CSVs linearly (default: an error)")
    add_output(p, "--out", kind="folder", default="out/anomaly_timeseries", help="folder for anomalies.png")
    p.add_argument("--days", type=int, default=None, help="days in each synthetic series (default 14; fast: 6)")
    p.add_argument("--period", type=int, default=None,
                   help="steps per day of the synthetic series (default 288, 5-minute steps; fast: 48)")
    p.add_argument("--window", type=int, default=None, help="window length in steps (default: one day, the period)")
    p.add_argument("--noise", type=float, default=2.0, help="noise standard deviation of the synthetic series")
    p.add_argument("--epochs", type=int, default=None, help="maximum epochs (default 50 as Keras; fast: 3)")
    p.add_argument("--batch-size", type=int, default=128, help="minibatch size (default 128)")
    p.add_argument("--learning-rate", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    p.add_argument("--patience", type=int, default=5, help="early-stopping patience in epochs (default 5)")
    p.add_argument("--pca-components", type=int, default=16, help="components of the PCA baseline (default 16)")
    p.add_argument("--code-size", type=int, default=16,
                   help="numbers in the bottleneck detector's code (default 16, below the window's steps)")
    p.add_argument("--detector-batch-size", type=int, default=32,
                   help="minibatch size of the bottleneck detector (default 32: four times the Adam steps of the "
                        "replica's 128 for the same epochs)")
    p.add_argument("--detector-dropout", type=float, default=0.0,
                   help="dropout of the bottleneck detector (default 0: the code is the regulariser)")
    p.add_argument("--span", type=int, default=PEAK_SPAN,
                   help=f"the detector's score: the largest mean error over this many points of a window "
                        f"(default {PEAK_SPAN})")
    p.add_argument("--margin", type=int, default=PEAK_MARGIN,
                   help=f"positions left out at each end of a window by the detector's score, where the "
                        f"convolutions' zero padding reaches (default {PEAK_MARGIN})")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="precision of training")
    p.add_argument("--seed", type=int, default=0, help="seed of the series (train: seed, test: seed+1) and model")
    p.add_argument("--model", help="load a saved Conv1DAutoencoder instead of training")
    add_output(p, "--save-model", kind="file", help="save the trained model to this .npz file")
    p.add_argument("--fast", action="store_true", help="tiny run for tests: 6 days of 48 steps, 3 epochs")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_anomaly_timeseries.configure = _configure
