"""Time-series anomaly detection: generator, CSV reader, windows, flagging, metrics, estimator, CLI."""
import json

import numpy as np
import pytest

from numpy_ae import Conv1DAutoencoder
from numpy_ae.cli import main
from numpy_ae.nn.noise import Dropout
from numpy_ae.analysis.metrics import average_ranks, precision_recall_f1, roc_auc
from numpy_ae.data.series import KINDS, daily_pattern, make_nab_like, read_nab_csv, sliding_windows, standardize
from numpy_ae.analysis.anomaly import detect, flag_points, rolling_zscore, rolling_zscore_scores, window_labels


# ------------------------------------------------------------------ generator
def test_clean_series_follows_the_daily_pattern():
    s = make_nab_like("none", n_days=3, period=288, noise=0.0, random_state=0)
    assert s.values.shape == s.timestamps.shape == s.labels.shape == (3 * 288,)
    assert not s.labels.any()
    assert s.timestamps[1] - s.timestamps[0] == np.timedelta64(5, "m")  # NAB's 5-minute steps
    assert str(s.timestamps[0]) == "2014-04-01T00:00:00"
    day = s.values[:288]
    np.testing.assert_array_equal(s.values[288:576], day)  # periodic
    assert day[:72].max() == 20.0 and day[96:216].min() == 80.0  # low before 06:00, high 08:00-18:00
    np.testing.assert_array_equal(day, daily_pattern(np.arange(288) / 288))


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "none"])
def test_labels_mark_exactly_the_changed_points(kind):
    n_days, period, day = 5, 96, 3
    clean = make_nab_like("none", n_days=n_days, period=period, anomaly_day=day, random_state=7)
    s = make_nab_like(kind, n_days=n_days, period=period, anomaly_day=day, random_state=7)
    lab = s.labels
    assert lab.any()
    where = np.flatnonzero(lab)
    assert where.min() >= day * period and where.max() < (day + 1) * period  # all on the anomaly day
    # same seed, same noise draws: outside the labels the series is the clean one, bit for bit
    np.testing.assert_array_equal(s.values[~lab], clean.values[~lab])
    diff = s.values[lab] - clean.values[lab]
    if kind == "jump-up":
        assert (diff > 0).all() and diff.max() == pytest.approx(60.0)
    elif kind == "jump-down":
        assert (diff < 0).all() and diff.min() == pytest.approx(-40.0)
    elif kind == "flat-line":
        assert np.unique(s.values[lab]).size == 1 and lab.sum() == period // 2  # stuck for 12 hours
    elif kind == "noise-burst":
        assert lab.sum() == period // 4  # 6 hours
        # 5x the noise: the burst's residual std is far above the clean 2.0 (24 draws of std 10: > 5 with
        # overwhelming probability at any seed; this one is fixed)
        resid = s.values[lab] - daily_pattern((np.flatnonzero(lab) % period) / period)
        assert resid.std() > 5.0
    elif kind == "frequency-change":
        assert lab.sum() == period
        u = (np.arange(period) / period)
        np.testing.assert_allclose(s.values[lab] - (clean.values[lab] - daily_pattern(u)),
                                   daily_pattern((2 * u) % 1.0), atol=1e-12)


def test_generator_bad_arguments():
    with pytest.raises(ValueError, match="kind must be one of"):
        make_nab_like("spike")
    with pytest.raises(ValueError, match="anomaly_day"):
        make_nab_like("jump-up", n_days=3, anomaly_day=3)
    with pytest.raises(ValueError, match="period"):
        make_nab_like(period=4)


# -------------------------------------------------------------------- windows
def test_windows_are_a_read_only_view_with_the_right_values():
    x = np.arange(10.0)
    W = sliding_windows(x, 4)
    assert W.shape == (7, 1, 4)
    for j in range(7):
        np.testing.assert_array_equal(W[j, 0], x[j:j + 4])
    assert np.shares_memory(W, x)  # no copy
    assert not W.flags.writeable
    with pytest.raises(ValueError):
        W[0, 0, 0] = 1.0


def test_series_shorter_than_a_window_or_with_nan_is_refused():
    with pytest.raises(ValueError, match=r"window must be <= the series length; got window=288 for a series of 100"):
        sliding_windows(np.zeros(100), 288)
    with pytest.raises(ValueError, match="NaN or infinite values .first at index 3"):
        sliding_windows(np.array([0.0, 1, 2, np.nan, 4, 5]), 2)
    with pytest.raises(ValueError, match="window must be an integer >= 1"):
        sliding_windows(np.zeros(5), 0)


def test_standardize_uses_the_training_statistics():
    train, test = np.array([1.0, 2, 3, 4]), np.array([10.0, 2.5])
    mean, std, tz, sz = standardize(train, test)
    assert mean == 2.5 and std == pytest.approx(np.std(train, ddof=1))
    np.testing.assert_allclose(sz, (test - 2.5) / std)
    with pytest.raises(ValueError, match="constant"):
        standardize(np.ones(5))


# ------------------------------------------------------------------- flagging
def test_flag_points_by_hand():
    # 6 windows of 3 points: 8 points. Point 3 is covered by windows 1, 2, 3 (all anomalous); point 2 by
    # 0, 1, 2 (window 0 is normal); point 4 by 2, 3, 4 (window 4 is normal).
    flags = np.array([0, 1, 1, 1, 0, 0], dtype=bool)
    np.testing.assert_array_equal(flag_points(flags, 3), [0, 0, 0, 1, 0, 0, 0, 0])
    # ends: point 0 is covered by window 0 only, point 7 by window 5 only
    flags = np.array([1, 0, 0, 0, 0, 1], dtype=bool)
    np.testing.assert_array_equal(flag_points(flags, 3), [1, 0, 0, 0, 0, 0, 0, 1])


def test_flag_points_matches_the_rule_by_brute_force():
    rng = np.random.default_rng(0)
    for L in (1, 2, 5):
        for _ in range(20):
            f = rng.random(rng.integers(1, 15)) < 0.7
            T = f.size + L - 1
            want = [all(f[j] for j in range(max(0, i - L + 1), min(i, f.size - 1) + 1)) for i in range(T)]
            np.testing.assert_array_equal(flag_points(f, L), want)


def test_window_labels_contain_a_labelled_point():
    p = np.zeros(10, dtype=bool)
    p[6] = True
    np.testing.assert_array_equal(window_labels(p, 3), [0, 0, 0, 0, 1, 1, 1, 0])


def test_rolling_zscore_against_a_loop():
    x = np.random.default_rng(1).standard_normal(30)
    z = rolling_zscore(x, 5)
    assert (z[:5] == 0).all()  # warm-up
    for t in range(5, 30):
        h = x[t - 5:t]
        assert z[t] == pytest.approx((x[t] - h.mean()) / h.std(), rel=1e-12)
    s = rolling_zscore_scores(x, 4, span=5)
    assert s.shape == (27,) and s[10] == pytest.approx(np.abs(z[10:14]).mean())


# -------------------------------------------------------------------- metrics
def test_precision_recall_f1_by_hand():
    t = np.array([1, 1, 1, 0, 0, 0], dtype=bool)
    p = np.array([1, 1, 0, 1, 0, 0], dtype=bool)  # TP 2, FP 1, FN 1
    assert precision_recall_f1(t, p) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    assert precision_recall_f1(t, np.zeros(6, bool)) == (0.0, 0.0, 0.0)  # nothing flagged: 0, not NaN


def test_roc_auc_by_hand_and_with_ties():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    # positives 0.5, 0.9; negatives 0.5, 0.2: pairs 0.5 (tie) + 1 + 1 + 1 = 3.5 of 4
    assert roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]) == pytest.approx(0.875)
    np.testing.assert_array_equal(average_ranks([3.0, 1.0, 3.0, 2.0]), [3.5, 1.0, 3.5, 2.0])
    with pytest.raises(ValueError, match="both classes"):
        roc_auc([1, 1], [0.1, 0.2])


def test_roc_auc_equals_the_pair_count_and_sklearn():
    rng = np.random.default_rng(2)
    y = rng.random(200) < 0.3
    s = rng.integers(0, 8, 200).astype(float) + 2.0 * y  # many ties
    pos, neg = s[y], s[~y]
    pairs = ((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).mean()
    assert roc_auc(y, s) == pytest.approx(pairs, abs=1e-12)
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    assert roc_auc(y, s) == pytest.approx(sklearn_metrics.roc_auc_score(y, s), abs=1e-12)


# ----------------------------------------------------------------- CSV reader
def test_read_nab_csv(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("Timestamp,VALUE,label\n2014-04-01 00:00:00,20.5,0\n2014-04-01 00:05:00,21,1\n\n"
                    "2014-04-01 00:10:00,-3e1,false\n")
    s = read_nab_csv(path)
    np.testing.assert_array_equal(s.values, [20.5, 21.0, -30.0])
    np.testing.assert_array_equal(s.labels, [False, True, False])
    assert s.timestamps[2] - s.timestamps[0] == np.timedelta64(10, "m")
    plain = tmp_path / "plain.csv"
    plain.write_text("timestamp,value\n2014-04-01 00:00:00,1\n")
    assert read_nab_csv(plain).labels is None


def test_read_nab_csv_missing_column_and_nan(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,reading\n2014-04-01 00:00:00,1\n")
    with pytest.raises(ValueError, match=r"bad\.csv: no 'value' column"):
        read_nab_csv(bad)
    holes = tmp_path / "holes.csv"
    holes.write_text("timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,\n2014-04-01 00:10:00,nan\n"
                     "2014-04-01 00:15:00,7\n")
    with pytest.raises(ValueError, match=r"holes\.csv: column 'value' has 2 missing or NaN values \(first on line 3\)"):
        read_nab_csv(holes)
    np.testing.assert_allclose(read_nab_csv(holes, interpolate=True).values, [1.0, 3.0, 5.0, 7.0])
    unordered = tmp_path / "unordered.csv"
    unordered.write_text("timestamp,value\n2014-04-01 00:05:00,1\n2014-04-01 00:00:00,2\n")
    with pytest.raises(ValueError, match=r"line 3: timestamps must increase strictly"):
        read_nab_csv(unordered)


# ------------------------------------------------------------------ estimator
def test_keras_network_has_keras_parameter_count_and_lengths():
    ae = Conv1DAutoencoder(random_state=0).initialize(288)
    assert ae.n_params_ == 9505  # Keras' model.summary() for the example
    assert ae.code_shape_ == (16, 72)
    X = np.random.default_rng(0).standard_normal((3, 1, 288))
    assert ae.reconstruct(X).shape == (3, 1, 288)
    assert ae.transform(X).shape == (3, 16 * 72)


@pytest.mark.parametrize("L, stride", [(11, 2), (13, 3), (7, 2), (1, 2)])
def test_odd_lengths_come_back_exactly(L, stride):
    ae = Conv1DAutoencoder(filters=(3, 2), kernel_size=1 if L == 1 else 5, stride=stride, random_state=0)
    ae.initialize(L)
    X = np.random.default_rng(0).standard_normal((2, L))
    assert ae.reconstruct(X).shape == (2, L)


def test_window_shorter_than_the_kernel_is_refused():
    with pytest.raises(ValueError, match=r"window must be >= kernel_size: .*L = 5 steps.*kernel_size = 7"):
        Conv1DAutoencoder(epochs=1).fit(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="kernel_size must be an odd integer"):
        Conv1DAutoencoder(kernel_size=4)
    with pytest.raises(ValueError, match="validation_split"):
        Conv1DAutoencoder(validation_split=1.0)
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\).*got 1.5"):
        Conv1DAutoencoder(dropout=1.5)


def test_validation_split_holds_out_the_last_windows():
    X = np.random.default_rng(0).standard_normal((50, 1, 16))
    ae = Conv1DAutoencoder(filters=(2,), kernel_size=3, epochs=2, random_state=0).fit(X)
    assert ae.n_validation_ == 5 and len(ae.history_["val_loss"]) == 2  # 50 - floor(0.9 * 50)
    ae0 = Conv1DAutoencoder(filters=(2,), kernel_size=3, epochs=2, validation_split=0.0, random_state=0).fit(X)
    assert ae0.n_validation_ == 0 and not ae0.history_["val_loss"]


def test_multichannel_windows_save_and_load(tmp_path):
    X = np.random.default_rng(3).standard_normal((20, 2, 12))
    ae = Conv1DAutoencoder(filters=(3,), kernel_size=3, epochs=1, random_state=0).fit(X)
    assert ae.series_shape_ == (2, 12) and ae.reconstruct(X).shape == X.shape
    back = Conv1DAutoencoder.load(ae.save(tmp_path / "c.npz"))
    np.testing.assert_array_equal(back.reconstruct(X), ae.reconstruct(X))
    np.testing.assert_array_equal(back.reconstruction_error(X), ae.reconstruction_error(X))
    with pytest.raises(ValueError, match=r"match the model's \(C, L\) = \(2, 12\)"):
        ae.reconstruct(X[:, :1])


def test_dropout_scales_kept_entries_and_is_the_identity_at_inference():
    layer = Dropout(0.25)
    layer.init_params(np.random.default_rng(0))
    X = np.ones((200, 50))
    Y = layer.forward(X, training=True)
    assert set(np.unique(Y)) == {0.0, 1.0 / 0.75}
    # 10,000 Bernoulli(0.25) draws: the dropped fraction is within 5 standard errors (0.022) of 0.25
    assert abs((Y == 0).mean() - 0.25) < 0.022
    dX = layer.backward(np.ones_like(X))
    np.testing.assert_array_equal(dX, Y)  # the same mask and scale
    assert layer.forward(X, training=False) is X
    with pytest.raises(ValueError, match="rate must be a number in"):
        Dropout(1.0)


def test_detector_flags_a_big_jump():
    # a jump of 60 units on a series whose clean range is 20-80 (noise 2): the autoencoder's windows over the
    # jump reconstruct far worse than any training window, after only a few epochs
    kw = dict(n_days=6, period=48)
    train, test = make_nab_like("none", random_state=0, **kw), make_nab_like("jump-up", random_state=1, **kw)
    W = sliding_windows(standardize(train.values)[2], 48)
    ae = Conv1DAutoencoder(epochs=3, random_state=0).fit(W)
    det = detect(ae, train.values, test.values, window=48, test_labels=test.labels)
    flags = det["ae"]["point_flags"]
    assert flags.any()
    assert not (flags & ~test.labels).any()  # every flagged point is in the jump
    assert det["ae"]["metrics"]["roc_auc"] > 0.9


# ------------------------------------------------------------------------ CLI
def test_cli_fast_run_prints_every_key(tmp_path, capsys):
    assert main(["anomaly-timeseries", "--fast", "--quiet", "--out", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("precision", "recall", "f1", "roc_auc", "baseline_zscore_f1", "baseline_pca_f1", "threshold",
                "n_flagged"):
        assert key in result and result[key] is not None, key
    assert result["n_flagged"] > 0 and result["precision"] == 1.0  # flags only inside the jump-up day
    assert (tmp_path / "anomalies.png").stat().st_size > 0


def test_cli_reads_csv_files_and_refuses_bad_options(tmp_path, capsys):
    s = make_nab_like("none", n_days=4, period=48, random_state=0)
    t = make_nab_like("jump-down", n_days=4, period=48, random_state=1)
    for name, series in (("train.csv", s), ("test.csv", t)):
        rows = [f"{str(ts).replace('T', ' ')},{float(v)!r},{int(lab)}"
                for ts, v, lab in zip(series.timestamps, series.values, series.labels)]
        (tmp_path / name).write_text("timestamp,value,label\n" + "\n".join(rows) + "\n")
    argv = ["anomaly-timeseries", "--train-csv", str(tmp_path / "train.csv"), "--test-csv", str(tmp_path / "test.csv"),
            "--window", "48", "--epochs", "1", "--quiet", "--out", str(tmp_path), "--json"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["n_points"] == 192 and result["n_labelled"] == int(t.labels.sum())
    # a test file without labels, scored by the model saved from a first run: flags, but no scores
    (tmp_path / "nolabels.csv").write_text("\n".join(line.rsplit(",", 1)[0] for line in
                                                      (tmp_path / "test.csv").read_text().splitlines()) + "\n")
    model = str(tmp_path / "m.npz")
    assert main(argv[:-1] + ["--save-model", model]) == 0
    argv[4] = str(tmp_path / "nolabels.csv")
    capsys.readouterr()
    assert main(argv + ["--model", model]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["n_labelled"] is None and result["f1"] is None and result["roc_auc"] is None
    assert isinstance(result["n_flagged"], int) and result["threshold"] > 0
    assert main(["anomaly-timeseries", "--train-csv", str(tmp_path / "train.csv")]) == 2
    assert "--train-csv and --test-csv go together" in capsys.readouterr().err
    assert main(["anomaly-timeseries", "--fast", "--window", "500", "--out", str(tmp_path)]) == 2
    assert "window must be <= the series length" in capsys.readouterr().err
