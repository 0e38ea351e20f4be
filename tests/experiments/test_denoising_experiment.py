"""``python -m numpy_ae denoising`` (numpy_ae.experiments.denoising) and its helpers.

The end-to-end runs read the real MNIST files (CI: ``NUMPY_AE_DATA=../shared/data``,
the 10k subset) and skip without them. They train a small dA (784-100, 2,000
images, 5 epochs of the tutorial's SGD) and its 0% twin for each corruption
kind: about 3 s each on an idle 2-core machine. The error paths and the
helpers need no data.
"""
import json

import matplotlib.image
import numpy as np
import pytest

from numpy_ae.cli import main
from numpy_ae.experiments.denoising import corrupt, denoising_errors, filter_locality
from numpy_ae.nn.noise import MaskingNoise
from numpy_ae.models.stacked import DenoisingAutoencoder


from _data import MNIST, needs_mnist  # noqa: E402  (tests/ is on sys.path under pytest)

KEYS = {"corruption", "level", "test_loss", "noisy_mse", "denoised_mse", "twin_test_loss", "twin_denoised_mse",
        "filter_locality", "localised_filters", "twin_filter_locality", "twin_localised_filters", "seconds",
        "twin_seconds", "epochs", "n_train", "n_test", "hidden", "batch_size", "learning_rate", "momentum", "dtype",
        "dataset", "data_path", "claims"}

# Measured denoised_mse / noisy_mse at the settings below (seed 0, CI subset):
# masking 0.69, gaussian 0.26, salt-pepper 0.18. The bounds leave room for BLAS
# rounding on other machines but fail for a dA that does not learn to denoise:
# returning its noisy input gives a ratio of 1, and an untrained dA (every
# output near 0.5) about 7 for masking.
MAX_RATIO = {"masking": 0.85, "gaussian": 0.5, "salt-pepper": 0.4}


@needs_mnist
@pytest.mark.parametrize("kind", ["masking", "gaussian", "salt-pepper"])
def test_cli_denoises_and_writes_figures(kind, tmp_path, capsys):
    code = main(["denoising", "--corruption", kind, "--level", "0.3", "--examples", "2000", "--epochs", "5",
                 "--hidden", "100", "--out", str(tmp_path), "--json", "--data-home", str(MNIST), "--no-download"])
    assert code == 0
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    assert set(result) == KEYS
    assert (result["corruption"], result["level"], result["epochs"]) == (kind, 0.3, 5)
    assert result["n_train"] == 2000 and result["hidden"] == 100 and result["seconds"] > 0
    assert result["data_path"] == str(MNIST)
    assert "mnist from" in out and str(MNIST) in out                       # which data it used
    assert out.count("epoch   5/5") == 2                                    # progress: the dA and its 0% twin
    assert result["denoised_mse"] < MAX_RATIO[kind] * result["noisy_mse"]
    denoises, beats_twin, localised = result["claims"]  # computed from the figures above
    assert (denoises["ours"], denoises["baseline"]) == (result["denoised_mse"], result["noisy_mse"])
    assert denoises["holds"]
    assert beats_twin["holds"] == (result["denoised_mse"] < result["twin_denoised_mse"])
    assert localised["holds"] == (result["localised_filters"] > result["twin_localised_filters"])
    if kind == "gaussian":  # unclipped N(0, 0.3^2) noise: the mean square is 0.09 up to sampling error
        assert result["noisy_mse"] == pytest.approx(0.09, rel=0.01)
    # filters.png: two panels of 10 x 10 tiles of 28 x 28 with 1-pixel borders (291 pixels) drawn
    # at scale 2 (the largest within 1,280 pixels), 20-pixel gaps around them, 34 pixels of panel
    # titles, 36 of figure title and half a gap below.
    image = matplotlib.image.imread(tmp_path / "filters.png")
    assert image.shape[:2] == (36 + 2 * 291 + 34 + 10, 2 * 2 * 291 + 3 * 20)
    assert (tmp_path / "denoising.png").stat().st_size > 1000


def test_level_out_of_range_is_exit_code_2_before_reading_data(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NUMPY_AE_DATA", str(tmp_path / "nothing"))  # would fail later if data were read
    assert main(["denoising", "--level", "1.0", "--out", str(tmp_path / "out"), "--no-download"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: corruption level must be a number in [0, 1); got 1.0")
    assert not (tmp_path / "out").exists()


def test_missing_data_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NUMPY_AE_DATA", str(tmp_path / "nothing"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert main(["denoising", "--no-download", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Could not find the mnist files") and "NUMPY_AE_DATA" in err
    assert not (tmp_path / "out").exists()


def test_unknown_corruption_is_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["denoising", "--corruption", "dropout"])
    assert exc.value.code == 2
    assert "invalid choice: 'dropout'" in capsys.readouterr().err


# ------------------------------------------------------------------ helpers
def test_filter_locality():
    W = np.random.default_rng(0).standard_normal((784, 400))
    # White noise: 29 of the 784 pixels lie within 3 pixels of the peak, so about 29/784 = 0.037
    # plus the peak's own extra weight; measured median 0.047.
    assert 0.03 < np.median(filter_locality(W)) < 0.07
    blob = np.zeros((28, 28))
    blob[10:13, 5:8] = 1.0  # a 3x3 blob: all of its mass within 3 pixels of any of its pixels
    one = np.zeros((784, 2))
    one[:, 0] = blob.ravel()
    np.testing.assert_allclose(filter_locality(one), [1.0, 0.0])  # the all-zero filter gets 0


def test_corrupt_is_the_layer_and_is_seeded():
    X = np.random.default_rng(1).uniform(0, 1, (50, 30))
    a, b = corrupt(X, "masking", 0.4, random_state=7), corrupt(X, "masking", 0.4, random_state=7)
    np.testing.assert_array_equal(a, b)
    layer = MaskingNoise(0.4)
    layer.init_params(np.random.default_rng(7))
    np.testing.assert_array_equal(a, layer.forward(X, training=True))
    assert not np.array_equal(a, corrupt(X, "masking", 0.4, random_state=8))
    with pytest.raises(ValueError, match=r"corruption level must be a number in \[0, 1\); got 1.0"):
        corrupt(X, "masking", 1.0)


def test_denoising_errors_definitions():
    X = np.random.default_rng(2).uniform(0, 1, (20, 6))
    ae = DenoisingAutoencoder([6, 3], random_state=0).initialize(6)
    noisy = corrupt(X, "masking", 0.3, random_state=0)
    noisy_mse, denoised_mse = denoising_errors(ae, X, noisy, batch_size=7)  # batches of 7, 7 and 6
    assert noisy_mse == pytest.approx(np.mean((noisy - X) ** 2), rel=1e-12)
    assert denoised_mse == pytest.approx(np.mean((ae.reconstruct(noisy) - X) ** 2), rel=1e-12)
