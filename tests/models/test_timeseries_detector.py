"""The bottleneck detector of ``anomaly-timeseries``: point errors, smoothing, thresholds, the code, the claims."""
import json

import numpy as np
import pytest

from numpy_ae import Conv1DAutoencoder
from numpy_ae.cli import main
from numpy_ae.analysis.anomaly import detect, point_errors, quantile_threshold, smooth_scores
from numpy_ae.data.series import make_nab_like, sliding_windows, standardize


def test_point_errors_average_each_points_error_over_the_windows_covering_it():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(30)
    W = sliding_windows(x, 7)
    R = np.asarray(W) + rng.standard_normal(W.shape)
    e = point_errors(W, R)
    assert e.shape == (30,)
    for i in range(30):
        js = [j for j in range(W.shape[0]) if j <= i < j + 7]
        assert e[i] == pytest.approx(np.mean([abs(R[j, 0, i - j] - x[i]) for j in js]))
    with pytest.raises(ValueError, match=r"same shape \(N, C, L\)"):
        point_errors(W, R[:, 0])


def test_smooth_scores_is_a_centred_moving_mean():
    s = np.arange(10.0) ** 2
    out = smooth_scores(s, 4)
    for i in range(10):
        a, b = max(0, i - 2), min(10, i + 2)
        assert out[i] == pytest.approx(s[a:b].mean())
    np.testing.assert_array_equal(smooth_scores(s, 1), s)
    with pytest.raises(ValueError, match="span"):
        smooth_scores(s, 0)


def test_quantile_threshold():
    s = np.arange(101.0)
    assert quantile_threshold(s) == 100.0 and quantile_threshold(s, 0.9) == pytest.approx(90.0)
    with pytest.raises(ValueError, match=r"q must be None .* in \(0, 1\); got 1.5"):
        quantile_threshold(s, 1.5)


def test_the_bottleneck_code_holds_code_size_numbers_and_survives_save_and_load(tmp_path):
    ae = Conv1DAutoencoder(code_size=8, epochs=1, random_state=0)
    X = np.random.default_rng(1).standard_normal((40, 1, 48))
    ae.fit(X)
    assert ae.code_shape_ == (8,) and ae.transform(X).shape == (40, 8)
    assert ae.reconstruct(X).shape == X.shape
    replica = Conv1DAutoencoder(random_state=0).initialize(48)
    assert np.prod(replica.code_shape_) == 16 * 12 > 48  # the Keras code: more numbers than the window holds
    back = Conv1DAutoencoder.load(ae.save(tmp_path / "b.npz"))
    np.testing.assert_array_equal(back.reconstruct(X), ae.reconstruct(X))
    with pytest.raises(ValueError, match="code_size must be an integer"):
        Conv1DAutoencoder(code_size=0)


def test_the_bottleneck_detector_sees_a_jump_down():
    # the replica's failure: a drop towards the series' mean reconstructs BETTER than a normal day. A model with
    # a code of 8 numbers for 48 steps cannot copy the drop, so its points stand out (6 days of 48 steps)
    kw = dict(n_days=6, period=48)
    train, test = make_nab_like("none", random_state=0, **kw), make_nab_like("jump-down", random_state=1, **kw)
    W = sliding_windows(standardize(train.values)[2], 48)
    det_model = Conv1DAutoencoder(code_size=8, epochs=60, random_state=0).fit(W)
    replica = Conv1DAutoencoder(epochs=1, random_state=0).fit(W)
    det = detect(replica, train.values, test.values, window=48, test_labels=test.labels, detector=det_model,
                 smooth=3)
    m = det["detector"]["metrics"]
    assert m["point_roc_auc"] > 0.95 and m["f1"] > 0.5
    assert det["detector"]["scores"].shape == test.values.shape


def test_cli_all_kinds_reports_every_kind_and_computes_its_claims(tmp_path, capsys):
    assert main(["anomaly-timeseries", "--fast", "--kind", "all", "--quiet", "--out", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    kinds = result["kinds"]
    assert set(kinds) == {"jump-up", "jump-down", "flat-line", "noise-burst", "frequency-change"}
    det = [v["detector_f1"] for v in kinds.values()]
    pca = [v["baseline_pca_f1"] for v in kinds.values()]
    assert result["mean_detector_f1"] == pytest.approx(np.mean(det)) and result["code_size"] == 16
    mean_claim, min_claim, replica_claim = result["claims"]
    assert mean_claim["ours"] == pytest.approx(np.mean(det)) and mean_claim["baseline"] == pytest.approx(np.mean(pca))
    assert mean_claim["holds"] == (np.mean(det) >= np.mean(pca))
    assert min_claim["ours"] == pytest.approx(min(det)) and min_claim["holds"] == (min(det) > 0)
    assert replica_claim["baseline"] == pytest.approx(np.mean([v["f1"] for v in kinds.values()]))
    assert all(set(c) == {"claim", "holds", "ours", "baseline", "published", "source"} for c in result["claims"])
    assert result["code_numbers"] == 16 * 12 and len(result["figures"]) == 5
    assert all((tmp_path / f"anomalies-{k}.png").stat().st_size > 0 for k in kinds)


def test_cli_refuses_a_code_as_large_as_the_window(tmp_path, capsys):
    assert main(["anomaly-timeseries", "--fast", "--code-size", "48", "--out", str(tmp_path)]) == 2
    assert "code_size must be smaller than the window" in capsys.readouterr().err
