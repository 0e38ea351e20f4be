"""``python -m numpy_ae pca-demo``: the command, its JSON line and its figure.

The numbers behind the tolerances are in ``tests/models/test_linear_autoencoder.py``:
on the 3-D data the largest principal angle stays below 2.4e-6 rad and the
relative excess reconstruction error below 4.5e-10 (100 seeds), against
tolerances of 1e-3 and 1e-6.
"""
import json

import matplotlib.image
import numpy as np
import pytest

from numpy_ae.cli import main
from numpy_ae.experiments import pca_demo


def test_pca_demo_json_and_figure(tmp_path, capsys):
    out = tmp_path / "tmp"
    assert main(["pca-demo", "--json", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) >= 3, "progress lines come before the JSON line"
    result = json.loads(lines[-1])
    assert {"max_principal_angle", "recon_mse", "pca_recon_mse"} <= set(result)
    assert 0.0 <= result["max_principal_angle"] < 1e-3
    assert result["pca_recon_mse"] > 0
    assert result["recon_mse"] == pytest.approx(result["pca_recon_mse"], rel=1e-6)
    assert result["recon_mse"] >= result["pca_recon_mse"] * (1 - 1e-12)   # PCA is optimal
    angle, excess = result["claims"]  # computed from the run: both hold at the defaults
    assert angle["holds"] and angle["ours"] == result["max_principal_angle"]
    assert excess["holds"] and (excess["ours"], excess["baseline"]) == (result["recon_mse"], result["pca_recon_mse"])
    png = out / "pca_demo.png"
    assert png.is_file()
    image = matplotlib.image.imread(png)
    assert image.shape[0] > 300 and image.shape[1] > 900                  # three panels side by side


def test_pca_demo_without_json_prints_no_json(tmp_path, capsys):
    assert main(["pca-demo", "--quiet", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "principal angle" in out and "wrote" in out
    assert not any(line.startswith("{") for line in out.splitlines())


def test_run_returns_the_model_and_the_numbers(tmp_path):
    ae, result = pca_demo.run(out=str(tmp_path), n=100, seed=3, verbose=0)
    assert ae.components_.shape == (2, 3)
    assert result["max_principal_angle"] < 1e-3
    assert result["recon_mse"] == pytest.approx(result["pca_recon_mse"], rel=1e-6)
    # recon_mse is the mean over examples and features: recompute it from the model.
    X = pca_demo.make_3d_data(100, random_state=np.random.default_rng(3))  # run()'s first draws
    assert result["recon_mse"] == pytest.approx(((ae.reconstruct(X) - X) ** 2).mean(), rel=1e-12)


def test_the_claims_fail_when_training_stops_too_early(tmp_path):
    _, result = pca_demo.run(out=str(tmp_path), n=100, seed=3, max_iter=2, verbose=0)
    angle, excess = result["claims"]
    assert not angle["holds"] and not excess["holds"]  # two L-BFGS iterations do not find the plane
    assert angle["ours"] == result["max_principal_angle"] > pca_demo.CLAIM_ANGLE


def test_bad_arguments_give_one_clear_error(tmp_path, capsys):
    assert main(["pca-demo", "--n", "1", "--out", str(tmp_path)]) == 2
    assert "error: n must be an integer >= 2; got 1" in capsys.readouterr().err
