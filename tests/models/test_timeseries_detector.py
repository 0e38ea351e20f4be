"""The bottleneck detector of ``anomaly-timeseries``: the peak score, the margin, the code, the claims."""
import json

import numpy as np
import pytest

from numpy_ae import Conv1DAutoencoder
from numpy_ae.cli import main
from numpy_ae.check.gradcheck import check_model
from numpy_ae.analysis.anomaly import detect, flag_points, peak_error, window_labels
from numpy_ae.data.series import make_nab_like, sliding_windows, standardize


def test_peak_error_is_the_largest_moving_mean_of_the_error_in_the_middle_of_each_window():
    rng = np.random.default_rng(0)
    W, R = rng.standard_normal((9, 2, 20)), rng.standard_normal((9, 2, 20))
    E = np.abs(R - W).mean(axis=1)
    for span, margin in ((1, 0), (3, 2), (4, 8), (16, 2)):
        expected = [max(E[j, t:t + span].mean() for t in range(margin, 20 - margin - span + 1)) for j in range(9)]
        np.testing.assert_allclose(peak_error(W, R, span, margin), expected, rtol=1e-12)
    np.testing.assert_allclose(peak_error(W[:, 0], R[:, 0], 1, 0), np.abs(R - W)[:, 0].max(axis=1))
    with pytest.raises(ValueError, match=r"span must be <= window - 2 margin .* span=5, margin=8 for windows of 20"):
        peak_error(W, R, 5, 8)
    with pytest.raises(ValueError, match="margin must be an integer >= 0"):
        peak_error(W, R, 1, -1)
    with pytest.raises(ValueError, match="same shape"):
        peak_error(W, R[:, 0])


@pytest.mark.parametrize("margin", [0, 1, 3])
def test_flag_points_and_window_labels_with_a_margin_match_the_rule_by_brute_force(margin):
    rng = np.random.default_rng(margin)
    L, N = 9, 30
    wf = rng.random(N) < 0.7
    flags = flag_points(wf, L, margin)
    for i in range(N + L - 1):
        covering = [j for j in range(N) if j + margin <= i <= j + L - 1 - margin]
        assert flags[i] == (bool(covering) and all(wf[j] for j in covering)), i
    labels = rng.random(N + L - 1) < 0.05
    wl = window_labels(labels, L, margin)
    np.testing.assert_array_equal(wl, [labels[j + margin:j + L - margin].any() for j in range(N)])
    if margin == 0:
        np.testing.assert_array_equal(flag_points(wf, L), flags)


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


@pytest.mark.parametrize("fast", [False, True])
def test_the_bottleneck_network_passes_the_gradient_check(fast):
    # the dense code between the convolutions (dropout off: a deterministic objective), reference and fast layers
    ae = Conv1DAutoencoder((3, 2), code_size=3, dropout=0.0, dtype="float64", fast=fast, random_state=0)
    ae.initialize(12)
    rng = np.random.default_rng(2)
    ae.theta[...] = 0.3 * rng.standard_normal(ae.theta.shape)
    result = check_model(ae.network_, rng.standard_normal((4, 12)), eps=1e-5)
    assert result.ok and result.rel_diff < 1e-6, result.report()


def test_the_bottleneck_detector_sees_a_jump_down_the_replica_scores_below_normal():
    # the replica's failure: a drop towards the series' mean reconstructs BETTER than a normal day. A model with
    # a code of 8 numbers for 48 steps cannot copy the drop, so its windows over the drop stand out
    kw = dict(n_days=6, period=48)
    train, test = make_nab_like("none", random_state=0, **kw), make_nab_like("jump-down", random_state=1, **kw)
    W = sliding_windows(standardize(train.values)[2], 48)
    det_model = Conv1DAutoencoder(code_size=8, dropout=0.0, epochs=60, batch_size=32, random_state=0).fit(W)
    replica = Conv1DAutoencoder(epochs=1, random_state=0).fit(W)
    det = detect(replica, train.values, test.values, window=48, test_labels=test.labels, detector=det_model,
                 span=1, margin=2)
    m = det["detector"]["metrics"]
    assert m["roc_auc"] > 0.95 and m["f1"] > 0.5 and m["precision"] > 0.9
    assert det["detector"]["point_flags"].shape == test.values.shape
    assert det["pca_peak"]["metrics"]["f1"] > 0.5  # PCA under the same scoring, for the fair comparison


def test_cli_all_kinds_reports_every_kind_and_computes_its_claims(tmp_path, capsys):
    assert main(["anomaly-timeseries", "--fast", "--kind", "all", "--quiet", "--out", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    kinds = result["kinds"]
    assert set(kinds) == {"jump-up", "jump-down", "flat-line", "noise-burst", "frequency-change"}
    det, peak, pmax, pca, rep = ([v[key] for v in kinds.values()] for key in
                                 ("detector_f1", "baseline_pca_peak_f1", "baseline_pca_max_f1", "baseline_pca_f1", "f1"))
    assert result["mean_detector_f1"] == pytest.approx(np.mean(det)) and result["code_size"] == 16
    same, span1, keras, replica, every = result["claims"]
    assert span1["baseline"] == pytest.approx(np.mean(pmax)) and span1["holds"] == (np.mean(det) >= np.mean(pmax))
    assert same["ours"] == pytest.approx(np.mean(det)) and same["baseline"] == pytest.approx(np.mean(peak))
    assert same["holds"] == (np.mean(det) >= np.mean(peak))
    assert keras["baseline"] == pytest.approx(np.mean(pca)) and keras["holds"] == (np.mean(det) >= np.mean(pca))
    assert replica["baseline"] == pytest.approx(np.mean(rep)) and replica["holds"] == (np.mean(det) > np.mean(rep))
    assert every["ours"] == pytest.approx(min(det)) and every["holds"] == (min(det) > 0)
    assert all(set(c) == {"claim", "holds", "ours", "baseline", "published", "source"} for c in result["claims"])
    assert result["code_numbers"] == 16 * 12 and len(result["figures"]) == 5
    assert all((tmp_path / f"anomalies-{k}.png").stat().st_size > 0 for k in kinds)
    # even 3 epochs of the bottleneck on 6 days find the big anomalies, with no flag outside them
    assert kinds["jump-up"]["detector_f1"] > 0.5 and kinds["jump-up"]["detector_precision"] == 1.0
