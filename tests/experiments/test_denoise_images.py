"""``python -m numpy_ae denoise-images`` (numpy_ae.experiments.denoise_images) and its helpers.

The helpers (noise, PSNR, the parameter choices) run on synthetic or tiny
arrays. One end-to-end run reads the real images (Fashion-MNIST if present,
else MNIST; skipped without either): 512 training images, one epoch of the conv
AE on minibatches of 32, a 100-unit dense dA for two epochs and then on until it
passes the conv AE's CPU seconds (about 40 epochs), a conv AE of one step at the
dense dA's: 30-45 s of wall time on the shared 2-core machine at load 10.
"""
import json

import numpy as np
import pytest

from numpy_ae.cli import main
from numpy_ae.experiments.claims import claim_problems
from numpy_ae.experiments.denoise_claims import denoise_claims
from numpy_ae.experiments.denoise_images import (DEFAULT_LEVELS, add_noise, choose_parameter, classical_methods,
                                                 gaussian_filter_images, psnr)

from _data import DATA_DIR, DATASET, needs_any_data  # noqa: E402  (tests/ is on sys.path under pytest)


# --------------------------------------------------------------------- noise
def test_default_levels_are_documented_values():
    assert DEFAULT_LEVELS == {"gaussian": 0.4, "masking": 0.3, "salt-pepper": 0.2}


@pytest.mark.parametrize("noise", ["gaussian", "masking", "salt-pepper"])
def test_noise_is_seeded_clipped_and_keeps_dtype(noise):
    X = np.random.default_rng(1).random((50, 784)).astype(np.float32)
    A = add_noise(X, noise, random_state=3)
    assert A.dtype == np.float32 and A.shape == X.shape
    assert A.min() >= 0.0 and A.max() <= 1.0
    np.testing.assert_array_equal(A, add_noise(X, noise, random_state=3))   # same seed, same noise
    assert not np.array_equal(A, add_noise(X, noise, random_state=4))       # another seed, other noise
    np.testing.assert_array_equal(add_noise(X, noise, level=0.0, random_state=3), X)  # level 0: no noise


def test_gaussian_noise_has_the_level_as_standard_deviation():
    # Mid-grey pixels: with std 0.1, clipping at 0 or 1 needs 5 sigma (probability 6e-7), so the noise is
    # N(0, 0.01) up to sampling error: 1e5 samples give the std to about 0.1 / sqrt(2e5) = 2.2e-4.
    X = np.full((100, 1000), 0.5)
    E = add_noise(X, "gaussian", 0.1, random_state=0) - X
    assert abs(E.mean()) < 5 * 0.1 / np.sqrt(E.size)
    assert E.std() == pytest.approx(0.1, abs=1e-3)
    # At level 0.4 on black pixels half the noise is clipped away: E[max(0, 0.4 z)] = 0.4 / sqrt(2 pi) = 0.160.
    black = add_noise(np.zeros((100, 1000)), "gaussian", 0.4, random_state=0)
    assert (black == 0).mean() == pytest.approx(0.5, abs=0.01) and black.mean() == pytest.approx(0.160, abs=0.002)


def test_masking_zeroes_the_level_fraction_and_leaves_the_rest():
    X = np.random.default_rng(0).uniform(0.2, 1.0, (200, 500))  # no pixel is 0 before the noise
    A = add_noise(X, "masking", 0.3, random_state=1)
    zeroed = A == 0
    # 1e5 Bernoulli(0.3) draws: standard error sqrt(0.21 / 1e5) = 1.4e-3; 5 of them is 0.007.
    assert zeroed.mean() == pytest.approx(0.3, abs=0.007)
    np.testing.assert_array_equal(A[~zeroed], X[~zeroed])


def test_salt_and_pepper_sets_the_level_fraction_to_0_or_1_with_equal_odds():
    X = np.full((200, 500), 0.5)
    A = add_noise(X, "salt-pepper", 0.2, random_state=1)
    hit = A != 0.5
    assert set(np.unique(A[hit])) == {0.0, 1.0}
    assert hit.mean() == pytest.approx(0.2, abs=0.006)          # 5 standard errors of 1e5 Bernoulli(0.2)
    assert (A[hit] == 1.0).mean() == pytest.approx(0.5, abs=0.012)  # 5 standard errors of 2e4 fair coins


@pytest.mark.parametrize("noise, level, message", [
    ("masking", 1.5, "level must be in [0, 1] for masking noise"),
    ("salt-pepper", -0.1, "level must be in [0, 1] for salt-pepper noise"),
    ("gaussian", -0.4, "level must be >= 0 for gaussian noise"),
    ("gaussian", float("nan"), "level must be a finite number"),
    ("speckle", 0.1, "noise must be one of gaussian, masking, salt-pepper"),
])
def test_bad_noise_or_level_is_a_value_error(noise, level, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        add_noise(np.zeros((2, 4)), noise, level)


# ---------------------------------------------------------------------- PSNR
def test_psnr_is_that_of_the_pooled_mean_squared_error():
    X = np.zeros((2, 4))
    X_hat = np.array([[0.1] * 4, [0.01] * 4])
    # By hand: per-image MSEs 0.01 and 0.0001, pooled MSE 0.00505, 10 log10(1 / 0.00505) = 22.967 dB
    # (the mean of the per-image PSNRs would be (20 + 40) / 2 = 30 dB).
    assert psnr(X_hat, X) == pytest.approx(10 * np.log10(1 / 0.00505), rel=1e-12)
    assert psnr(X_hat, X) == pytest.approx(22.967, abs=1e-3)
    assert psnr(np.full((3, 5), 0.1), np.zeros((3, 5))) == pytest.approx(20.0, rel=1e-12)  # MSE 0.01
    assert psnr(X, X) == float("inf")
    with pytest.raises(ValueError, match="X_hat must have X's shape"):
        psnr(np.zeros((2, 3)), X)


# -------------------------------------------------------- parameter choices
def test_choose_parameter_takes_the_best_validation_psnr_and_the_first_of_ties():
    clean = np.full((4, 9), 0.5)
    noisy = clean + 0.2

    def shrink(X, p):  # removes a fraction p of the offset: p = 1 is perfect
        return X - 0.2 * min(p, 1.0)
    best, scores = choose_parameter(shrink, (0.0, 0.5, 1.0, 2.0), noisy, clean)
    assert best == 1.0 and set(scores) == {0.0, 0.5, 1.0, 2.0}  # 1.0 and 2.0 tie at inf: the first wins
    assert scores[0.0] == pytest.approx(psnr(noisy, clean))


def _tiny_images(n, seed):
    """Smooth 14x14 images in [0, 1] (blurred blobs), as PCA and the filters expect."""
    rng = np.random.default_rng(seed)
    X = (rng.random((n, 196)) < 0.08).astype(np.float64)
    return np.clip(3 * gaussian_filter_images(X, 1.0, image_shape=(14, 14)), 0, 1)


def test_classical_choices_depend_on_the_validation_split_only():
    X_train, X_val, X_test = _tiny_images(300, 0), _tiny_images(60, 1), _tiny_images(40, 2)
    Xn_val = add_noise(X_val, "gaussian", 0.4, random_state=5)
    # Two different test sets (other images, another noise kind): the same choices.
    a = classical_methods(X_train, Xn_val, X_val, add_noise(X_test, "gaussian", 0.4, random_state=6), (14, 14))
    b = classical_methods(X_train, Xn_val, X_val, add_noise(X_test[::-1] * 0.5, "masking", 0.5, random_state=7),
                          (14, 14))
    assert a[0] == b[0] and a[1] == b[1]
    assert a[2]["gaussian filter"].shape == (40, 196)
    # The choices follow the validation split: with nearly clean validation images the best Gaussian filter
    # is the narrowest candidate and PCA keeps more components than at noise level 0.4.
    c = classical_methods(X_train, add_noise(X_val, "gaussian", 0.01, random_state=5), X_val, X_test, (14, 14))
    assert c[0]["gaussian filter"] < a[0]["gaussian filter"]
    assert c[0]["pca"] > a[0]["pca"]


# ----------------------------------------------------------------------- CLI
METHODS = ("noisy", "conv_ae", "dense_dae", "gaussian_filter", "median_filter", "pca", "best_classical")
KEYS = ({f"{m}_{k}" for m in ("psnr", "ssim") for k in METHODS} |
        {"sec_per_epoch", "epochs", "n_params", "best_classical", "gaussian_sigma", "median_size", "pca_components",
         "val_psnr_gaussian_sigma", "val_psnr_median_size", "val_psnr_pca_components", "conv_seconds",
         "conv_cpu_seconds", "dense_cpu_seconds", "conv_val_loss", "dense_sec_per_epoch", "dense_epochs",
         "batch_size", "dataset", "data_path", "noise", "level", "seed", "n_train", "n_val", "n_test", "dtype",
         "figure", "claims", "clock", "conv_curve", "dense_curve", "equal_epochs", "equal_seconds_conv_budget",
         "equal_seconds_dense_budget"})


@needs_any_data
def test_fast_cli_run_reports_every_key_and_the_conv_ae_denoises(tmp_path, capsys):
    code = main(["denoise-images", "--dataset", DATASET, "--data-home", str(DATA_DIR), "--no-download",
                 "--n-train", "512", "--n-val", "100", "--n-test", "100", "--batch-size", "32", "--epochs", "1",
                 "--learning-rate", "0.01", "--dense-epochs", "2", "--dense-hidden", "100", "--seed", "0",
                 "--out", str(tmp_path), "--json"])
    assert code == 0
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    assert set(result) == KEYS
    assert (result["n_train"], result["n_val"], result["n_test"], result["epochs"]) == (512, 100, 100, 1)
    assert result["n_params"] == 28353 and result["sec_per_epoch"] > 0
    assert (result["noise"], result["level"]) == ("gaussian", 0.4)
    assert "epoch   1/1" in out and "test PSNR" in out                 # progress lines and the table
    # 16 Adam steps: measured 11.7 dB against 10.8 dB for the noisy input on Fashion-MNIST, 13.1 against
    # 11.0 on the MNIST subset (an untrained network, outputs near 0.5, scores about 8 dB); half a dB of
    # margin still fails a network that only learned to copy its input.
    assert result["psnr_conv_ae"] > result["psnr_noisy"] + 0.5
    # Every learned and classical method is better than doing nothing at this noise level (measured on
    # Fashion-MNIST: the 2-epoch dense dA 12.4 dB against 10.8 noisy; with 16 steps the conv AE's SSIM, 0.29,
    # is still below the noisy input's 0.36, so no SSIM ordering is asserted here).
    for key in ("psnr_dense_dae", "psnr_gaussian_filter", "psnr_median_filter", "psnr_pca"):
        assert result[key] > result["psnr_noisy"], key
    assert result["psnr_best_classical"] == max(result["psnr_gaussian_filter"], result["psnr_median_filter"],
                                                result["psnr_pca"])
    assert (tmp_path / "denoised.png").stat().st_size > 1000
    # The three comparisons, from the curves of this run.
    conv_rows, dense_rows = result["conv_curve"], result["dense_curve"]
    assert len(conv_rows) == 1 and len(dense_rows) >= 2
    ee, cb, db = (result[k] for k in ("equal_epochs", "equal_seconds_conv_budget", "equal_seconds_dense_budget"))
    assert ee["conv"]["epoch"] == ee["dense"]["epoch"] == 1
    assert cb["budget_cpu_seconds"] == result["conv_cpu_seconds"] == conv_rows[-1]["cpu_seconds"] > 0
    # The dense dA ran past the conv AE's budget; the row compared is the last one within it.
    assert dense_rows[-1]["cpu_seconds"] > cb["budget_cpu_seconds"]
    if cb["dense"]["within_budget"]:
        assert cb["dense"]["cpu_seconds"] <= cb["budget_cpu_seconds"] < dense_rows[cb["dense"]["epoch"]]["cpu_seconds"]
    assert db["budget_cpu_seconds"] == result["dense_cpu_seconds"] == dense_rows[1]["cpu_seconds"]  # 2 epochs
    assert db["dense"]["psnr"] == result["psnr_dense_dae"] and db["conv"]["steps"] >= 1
    assert db["conv"]["epochs"] == db["conv"]["steps"] / 16       # 512 pairs in minibatches of 32: 16 per epoch
    for row in conv_rows + dense_rows:
        assert 0 < row["ssim"] < 1 and row["cpu_seconds"] > 0
    assert dense_rows[-1]["psnr"] > dense_rows[0]["psnr"] + 1.0   # measured +3.3 dB over 40 epochs of 26 steps
    # The claims are well formed and computed from this run's figures.
    claims = result["claims"]
    assert claim_problems(claims) == [] and len(claims) == 10
    assert claims[0]["holds"] is True and claims[0]["ours"] == result["psnr_conv_ae"]
    assert claims[0]["baseline"] == result["psnr_noisy"]
    assert claims[4]["holds"] == (ee["conv"]["psnr"] > ee["dense"]["psnr"])
    assert claims[7]["ours"] == cb["conv"]["ssim"] and claims[7]["baseline"] == cb["dense"]["ssim"]
    assert claims[8]["holds"] == (db["conv"]["psnr"] > db["dense"]["psnr"])


def _row(psnr, ssim, epoch=1):
    return {"psnr": psnr, "ssim": ssim, "epoch": epoch, "cpu_seconds": 10.0 * epoch}


def test_claims_follow_the_figures():
    base = {"psnr_noisy": 10.7, "ssim_noisy": 0.3, "psnr_conv_ae": 17.3, "ssim_conv_ae": 0.6, "psnr_dense_dae": 19.0,
            "psnr_best_classical": 15.4, "best_classical": "pca", "epochs": 1, "dense_epochs": 15,
            "equal_epochs": {"epochs": 1, "conv": _row(17.3, 0.6), "dense": _row(16.0, 0.62)},
            "equal_seconds_conv_budget": {"conv": _row(17.3, 0.6), "dense": _row(19.1, 0.7, 17)},
            "equal_seconds_dense_budget": {"conv": dict(_row(17.0, 0.55), steps=360), "dense": _row(19.0, 0.7, 15)}}
    claims = denoise_claims(base)
    assert claim_problems(claims) == []
    assert [c["holds"] for c in claims] == [True, True, True, True, True, False, False, False, False, False]
    assert "(1 epoch)" in claims[0]["claim"] and "(15 epochs)" in claims[3]["claim"] and "pca" in claims[2]["claim"]
    assert "SSIM" in claims[5]["claim"] and claims[5]["ours"] == 0.6 and claims[5]["baseline"] == 0.62
    worse = denoise_claims(dict(base, psnr_conv_ae=10.0))   # a conv AE that made things worse
    assert [c["holds"] for c in worse[:4]] == [False, True, False, True]
    assert worse[0]["ours"] == 10.0 and worse[0]["baseline"] == 10.7
    faster = dict(base, equal_seconds_dense_budget={"conv": dict(_row(19.5, 0.75), steps=360),
                                                    "dense": _row(19.0, 0.7, 15)})
    assert [c["holds"] for c in denoise_claims(faster)[8:]] == [True, True]


@pytest.mark.parametrize("argv, message", [
    (["--noise", "masking", "--level", "1.5"], "error: level must be in [0, 1] for masking noise"),
    (["--epochs", "0"], "error: epochs must be"),
    (["--n-val", "0"], "error: n_val must be"),
])
def test_bad_options_exit_2_with_a_clear_message_before_reading_data(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NUMPY_AE_DATA", str(tmp_path / "nothing"))  # would fail later if data were read
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert main(["denoise-images", "--no-download", "--out", str(tmp_path / "out")] + argv) == 2
    assert capsys.readouterr().err.startswith(message)
    assert not (tmp_path / "out").exists()


@needs_any_data
def test_validation_split_too_large_is_exit_2(tmp_path, capsys):
    assert main(["denoise-images", "--dataset", DATASET, "--data-home", str(DATA_DIR), "--no-download",
                 "--n-val", "100000", "--out", str(tmp_path / "out")]) == 2
    assert "error: n_val must leave training images" in capsys.readouterr().err


def test_unknown_noise_is_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["denoise-images", "--noise", "speckle"])
    assert exc.value.code == 2
    assert "invalid choice: 'speckle'" in capsys.readouterr().err
