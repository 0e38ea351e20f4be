"""``python -m numpy_ae deep-ae``: the 784-300-150-300-784 ELU autoencoder (numpy_ae.experiments.deep_ae).

The end-to-end tests read the real files (CI: ``NUMPY_AE_DATA=../shared/data``;
Fashion-MNIST preferred, MNIST otherwise) and skip without them. They train
for one epoch on the first 12,000 (untied) and 6,000 (tied) training images,
80 and 40 Adam steps: measured 4.4 s in all with one BLAS thread and 14 s
with two (OpenBLAS threads wait for each other when other jobs share the
2 cores; load average 2.6).
"""
import json

import numpy as np
import pytest

from numpy_ae import load
from numpy_ae.cli import main
from numpy_ae.data import load_mnist
from numpy_ae.nn.activations import ELU


from _data import DATA_DIR, DATASET, needs_any_data  # noqa: E402  (tests/ is on sys.path under pytest)

needs_data = needs_any_data

# 784-300-150-300-784: four weight matrices, four bias vectors.
WEIGHTS = 2 * (784 * 300 + 300 * 150)
BIASES = 300 + 150 + 300 + 784
UNTIED = WEIGHTS + BIASES          # 561,934
TIED = WEIGHTS // 2 + BIASES       # 281,734: the decoder's weights are the encoder's


def run_cli(tmp_path, capsys, *extra):
    code = main(["deep-ae", "--dataset", DATASET, "--data-home", str(DATA_DIR), "--no-download",
                 "--epochs", "1", "--out", str(tmp_path), "--json", "--quiet", *extra])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out.strip().splitlines()[-1]), out


@pytest.fixture(scope="module")
def data():
    X_train, _, X_test, _ = load_mnist(DATASET, data_home=DATA_DIR, dtype=np.float32)
    return X_train, X_test


def mean_image_mse(X_train, X_test):
    r"""Test MSE of predicting the mean training image for every test image.

    The mean is the best prediction that ignores the input (it minimises the
    squared error among constants), so an autoencoder whose reconstructions
    depend on their input correctly must beat it. The untrained network is far
    above it (He init: test MSE 1.2 against 0.087 on Fashion-MNIST), so staying
    below needs working gradients: measured 0.052 after 80 steps (seeds 0-2:
    0.049-0.052) and 0.054 tied after 40. On the 10k MNIST subset (8,000
    training images, so 53 steps): 0.060 against 0.067, and 0.046 tied.
    """
    return float(np.mean((X_test.astype(np.float64) - X_train.mean(axis=0, dtype=np.float64)) ** 2))


@needs_data
def test_deep_ae_untied_json_files_and_beats_the_mean_image(tmp_path, capsys, data):
    result, out = run_cli(tmp_path, capsys, "--examples", "12000")
    assert {"sec_per_epoch", "test_mse", "epochs", "n_params"} <= set(result)
    assert result["epochs"] == 1 and result["sec_per_epoch"] > 0
    assert result["n_params"] == UNTIED == 561_934
    assert f"{DATASET} from {DATA_DIR}" in out                  # which data it used
    assert "epoch   1/1" not in out  # --quiet: no per-epoch line
    assert "--tied would halve" in out

    X_train, X_test = data
    assert result["n_examples"] == min(12000, len(X_train))
    baseline = mean_image_mse(X_train[:12000], X_test)
    assert result["mean_image_mse"] == pytest.approx(baseline, rel=1e-6)
    assert result["test_mse"] < baseline
    (claim,) = result["claims"]  # computed: the test MSE against the mean image's
    assert claim["holds"] and (claim["ours"], claim["baseline"]) == (result["test_mse"], result["mean_image_mse"])

    for name in ("reconstructions.png", "loss.png", "deep_autoencoder.npz"):
        assert (tmp_path / name).stat().st_size > 0, name
    model = load(tmp_path / "deep_autoencoder.npz")  # the saved model is the trained one
    assert model.network_.n_params == UNTIED
    assert model.network_.evaluate(X_test) == pytest.approx(result["test_mse"], rel=1e-6)


@needs_data
def test_deep_ae_tied_halves_the_weights(tmp_path, capsys, data):
    result, out = run_cli(tmp_path, capsys, "--examples", "6000", "--tied")
    assert result["n_params"] == TIED == 281_734
    assert result["tied"] is True and "half the weights" in out
    X_train, X_test = data
    assert result["test_mse"] < mean_image_mse(X_train[:6000], X_test)


def test_deep_ae_rejects_bad_settings_before_reading_data(capsys):
    assert main(["deep-ae", "--epochs", "0"]) == 2
    assert "epochs must be" in capsys.readouterr().err
    assert main(["deep-ae", "--weight-decay", "-1"]) == 2
    assert "weight_decay must be" in capsys.readouterr().err


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_elu_matches_its_definition(alpha):
    r"""The mask-free ELU (written for speed) against :math:`z` / :math:`\alpha(e^z - 1)` and their slopes."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((50, 40)).astype(np.float32)
    Z[0, :5] = 0.0  # the kink: A = 0 and slope alpha, as the definition's "otherwise" branch says
    dA = rng.standard_normal(Z.shape).astype(np.float32)
    layer = ELU(alpha)
    A = layer.forward(Z)
    np.testing.assert_array_equal(A, np.where(Z > 0, Z, alpha * np.expm1(Z)).astype(np.float32))
    dZ = layer.backward(dA.copy())
    # float32: A and A + alpha are each rounded (2 eps alpha), the product dA * slope once more
    atol = 3 * np.finfo(np.float32).eps * alpha * np.abs(dA).max()
    np.testing.assert_allclose(dZ, dA * np.where(Z > 0, 1.0, alpha * np.exp(Z)), rtol=0, atol=atol)
