"""sparse-patches: the localisation figures and the claims of a short run, computed from the run.

The command's files, progress and JSON keys: test_cli.py::test_sparse_patches_small_run."""
import numpy as np
import pytest

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
