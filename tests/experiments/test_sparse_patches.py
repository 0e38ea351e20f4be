"""sparse-patches: the localisation figures and the claims of a short run, computed from the run; --no-whiten.

The command's files, progress and JSON keys: test_cli.py::test_sparse_patches_small_run."""
import json

import numpy as np
import pytest
import scipy.io

from numpy_ae.cli import main
from numpy_ae.analysis.localisation import filter_localisation, uniform_spread
from numpy_ae.experiments import sparse_patches
from numpy_ae.experiments.claims import claim_problems


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sparse-patches")
    return sparse_patches.run(out=str(out), iterations=30, patches=1000, seed=0, verbose=0)


def test_localisation_figures_are_those_of_the_learned_filters(short_run):
    ae, result = short_run
    m = filter_localisation(ae.network_.layers[0].W.T)
    loc = result["localisation"]
    assert loc["spread_mean"] == pytest.approx(m["spread"].mean(), rel=1e-12)
    assert loc["top_share_mean"] == pytest.approx(m["top_share"].mean(), rel=1e-12)
    assert loc["spread_median"] == pytest.approx(np.median(m["spread"]), rel=1e-12)
    assert result["uniform_spread"] == pytest.approx(np.sqrt(10.5))
    rand = result["random_localisation"]
    assert 3.1 < rand["spread_mean"] < uniform_spread() and 0.47 < rand["top_share_mean"] < 0.51


def test_claims_are_well_formed_and_computed_from_the_run(short_run):
    _, result = short_run
    claims = result["claims"]
    assert claim_problems(claims) == []
    activation = next(c for c in claims if "activation" in c["claim"])
    assert activation["ours"] == result["mean_activation"]
    assert activation["holds"] == (abs(result["mean_activation"] - 0.01) <= 0.0025)
    spread = next(c for c in claims if "random Gaussian filters" in c["claim"])
    assert spread["ours"] == result["localisation"]["spread_mean"]
    assert spread["baseline"] == result["random_localisation"]["spread_mean"]
    # Even 30 iterations on 1,000 patches give filters more compact than random ones (measured: about 2.9 vs 3.2).
    assert spread["holds"] and spread["ours"] < spread["baseline"] - 0.1
    assert len({c["claim"] for c in claims}) == len(claims)   # no claim twice


def test_comparison_claim_is_whitened_against_unwhitened(short_run):
    _, result = short_run
    assert result["whiten"] is True and result["compare"]["whiten"] is False
    white, raw = result["localisation"], result["compare"]["localisation"]
    assert white != raw                                       # two different trainings
    c = next(c for c in result["claims"] if "unwhitened" in c["claim"])
    assert (c["ours"], c["baseline"]) == (white["spread_mean"], raw["spread_mean"])
    assert c["holds"] == (white["spread_mean"] < raw["spread_mean"])
    assert len(result["claims"]) == 3


def _json(capsys):
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_no_whiten_trains_on_the_unwhitened_images_and_the_comparison_is_that_run(tmp_path, capsys):
    tiny = ["--patches", "500", "--iterations", "10", "--quiet", "--json"]
    assert main(["sparse-patches", "--out", str(tmp_path / "a"), *tiny]) == 0
    both = _json(capsys)
    assert main(["sparse-patches", "--out", str(tmp_path / "b"), "--no-whiten", "--no-compare", *tiny]) == 0
    raw = _json(capsys)
    # Same seed: the --no-whiten run is the default run's comparison, figure for figure.
    assert raw["whiten"] is False and raw["compare"] is None and len(raw["claims"]) == 2
    assert raw["localisation"] == both["compare"]["localisation"] and raw["cost"] == both["compare"]["cost"]
    assert raw["localisation"] != both["localisation"]
    assert "unwhitened patches are localised" in raw["claims"][1]["claim"]
    assert (tmp_path / "a" / "filters_unwhitened.png").exists() and not (tmp_path / "b" / "filters_whitened.png").exists()
    assert main(["sparse-patches", "--out", str(tmp_path / "c"), "--no-whiten", *tiny]) == 0
    flipped = _json(capsys)                                    # unwhitened first, then the whitened comparison
    assert flipped["compare"]["localisation"] == both["localisation"]
    assert flipped["claims"][2] == next(c for c in both["claims"] if "unwhitened" in c["claim"])
    assert (tmp_path / "c" / "filters_whitened.png").exists()


def test_no_whiten_with_an_images_file_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "IMAGES.mat"
    scipy.io.savemat(path, {"IMAGES": np.random.default_rng(0).standard_normal((32, 32, 2))})
    assert main(["sparse-patches", "--out", str(tmp_path / "o"), "--images", str(path), "--no-whiten",
                 "--patches", "100", "--iterations", "1"]) == 2
    assert capsys.readouterr().err.startswith("error: whiten=False applies to the built-in images only")
    with pytest.raises(ValueError, match="whiten and compare must be True or False; got whiten='yes'"):
        sparse_patches.run(out=str(tmp_path / "o"), whiten="yes")
