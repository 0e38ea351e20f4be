"""numpy_ae.analysis.novelty and ``python -m numpy_ae anomaly-images``: the rank AUROC, the held-out protocol, the scores."""
import json

import numpy as np
import pytest

from numpy_ae import StackedAutoencoder, VariationalAutoencoder
from numpy_ae.cli import main
from numpy_ae.data import class_names
from numpy_ae.experiments.anomaly_images import format_table, novelty_claims, parse_classes
from numpy_ae.experiments.claims import claim_problems
from numpy_ae.analysis.novelty import _roc_auc, held_out_class_auroc, held_out_split, neg_elbo_score, reconstruction_error

from _data import needs_mnist  # noqa: E402  (tests/ is on sys.path under pytest)


def _pairwise_auc(scores, positive):
    """The definition: the share of (positive, negative) pairs the positive wins, ties counting 1/2."""
    pos, neg = scores[positive], scores[~positive]
    diff = pos[:, None] - neg[None, :]
    return ((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size


# ------------------------------------------------------------------ ROC AUC
def test_roc_auc_by_hand():
    # positives 0.35 and 0.8 against negatives 0.1 and 0.4: 0.35 wins 1 of 2 pairs, 0.8 both -> 3/4
    assert _roc_auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75
    # a tie counts one half: the positive 1 ties the negative 1 and loses to 2 -> (0.5 + 0) / 2
    assert _roc_auc([1.0, 1.0, 2.0], [1, 0, 0]) == 0.25
    assert _roc_auc([0, 1, 2, 3], [0, 0, 1, 1]) == 1.0 and _roc_auc([0, 1, 2, 3], [1, 1, 0, 0]) == 0.0
    assert _roc_auc([5, 5, 5, 5], [0, 1, 0, 1]) == 0.5  # all tied: chance exactly


@pytest.mark.parametrize("seed", range(3))
def test_roc_auc_matches_the_pairwise_definition_with_many_ties(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 6, 300).astype(float)  # six values only: ties everywhere
    positive = rng.random(300) < 0.3
    # rank sums of small integers are exact in float64: the two computations agree to rounding
    assert _roc_auc(scores, positive) == pytest.approx(_pairwise_auc(scores, positive), abs=1e-12)


def test_roc_auc_matches_sklearn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(4)
    scores = np.round(rng.standard_normal(500), 1)  # rounded: many ties
    positive = rng.random(500) < 0.2
    assert _roc_auc(scores, positive) == pytest.approx(metrics.roc_auc_score(positive, scores), abs=1e-12)


@pytest.mark.parametrize("scores, positive, match", [
    ([0.1, 0.2], [1, 1], "needs both classes"),
    ([0.1, np.nan], [0, 1], "scores must be finite"),
    ([0.1, 0.2], [0, 2], "must hold booleans or 0/1"),
    ([0.1, 0.2, 0.3], [0, 1], "same shape"),
])
def test_roc_auc_refuses_bad_input(scores, positive, match):
    with pytest.raises(ValueError, match=match):
        _roc_auc(scores, positive)


# ---------------------------------------------------------------- protocol
def _labelled_images(n, rng, n_classes=3, D=12):
    """Images whose first pixel spells their label (label / 10), so what a model was fit on can be read back."""
    y = rng.integers(0, n_classes, n)
    X = rng.uniform(0.05, 0.95, (n, D))
    X[:, 0] = y / 10.0
    return X, y


def test_held_out_split_keeps_every_other_class_and_marks_the_positives():
    rng = np.random.default_rng(0)
    X, y = _labelled_images(200, rng)
    Xt, yt = _labelled_images(50, rng)
    X_normal, y_normal, positive = held_out_split(X, y, Xt, yt, 1)
    assert 1 not in set(y_normal.tolist()) and set(y_normal.tolist()) == {0, 2}
    assert X_normal.shape[0] == int((y != 1).sum())
    np.testing.assert_array_equal(X_normal[:, 0], y_normal / 10.0)
    np.testing.assert_array_equal(positive, yt == 1)
    with pytest.raises(ValueError, match="held_out must be a class of the test set"):
        held_out_split(X, y, Xt, yt, 7)


class _Spy:
    """A stand-in model that records what it was fit on; scores by the first pixel."""
    seen = []

    def fit(self, X):
        _Spy.seen.append(np.asarray(X).copy())
        return self


def test_the_protocol_never_trains_on_the_held_out_class():
    rng = np.random.default_rng(1)
    X, y = _labelled_images(300, rng)
    Xt, yt = _labelled_images(90, rng)
    _Spy.seen = []
    runs = held_out_class_auroc(X, y, Xt, yt, [0, 1, 2],
                                {"spy": (_Spy, lambda m, Z: (np.asarray(Z)[:, 0] == 0.2).astype(float))},
                                n_train=150)
    assert len(_Spy.seen) == 3
    for label, seen in zip([0, 1, 2], _Spy.seen):
        labels = np.round(seen[:, 0] * 10).astype(int)  # the labels of the images the model was fit on
        assert label not in set(labels.tolist()) and seen.shape[0] == 150
    # the score is 1 on class 2 and 0 elsewhere: AUROC 1 when class 2 is held out; with class 0 held out the
    # positives lose to every class-2 negative and tie (1/2) with every class-1 negative, and vice versa
    n = np.bincount(yt, minlength=3)
    assert runs[2]["spy"]["auroc"] == 1.0
    assert runs[0]["spy"]["auroc"] == pytest.approx(0.5 * n[1] / (n[1] + n[2]), abs=1e-15)
    assert runs[1]["spy"]["auroc"] == pytest.approx(0.5 * n[0] / (n[0] + n[2]), abs=1e-15)


# ------------------------------------------------------------------ scores
def test_reconstruction_error_sum_and_mean_by_hand():
    rng = np.random.default_rng(2)
    X = rng.uniform(0, 1, (40, 6))
    ae = StackedAutoencoder(hidden_layer_sizes=(3,), epochs=1, random_state=0).fit(X)
    expected = ((ae.reconstruct(X) - X) ** 2).sum(axis=1)
    np.testing.assert_allclose(reconstruction_error(ae, X), expected, rtol=1e-12)
    np.testing.assert_allclose(reconstruction_error(ae, X, reduction="mean"), expected / 6, rtol=1e-12)
    with pytest.raises(ValueError, match="reduction must be one of"):
        reconstruction_error(ae, X, reduction="max")


def test_neg_elbo_score_is_seeded_and_matches_the_vae():
    rng = np.random.default_rng(3)
    X = rng.uniform(0, 1, (30, 8))
    vae = VariationalAutoencoder(hidden_layer_sizes=(5,), n_latent=2, epochs=1, random_state=0).fit(X)
    a, b, c = neg_elbo_score(vae, X, random_state=1), neg_elbo_score(vae, X, random_state=1), \
        neg_elbo_score(vae, X, random_state=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(a, vae.elbo(X, random_state=1).neg_elbo)
    np.testing.assert_array_equal(neg_elbo_score(vae, X, k=5, random_state=1),
                                  -vae.importance_weighted_bound(X, k=5, random_state=1))
    with pytest.raises(ValueError, match="k must be"):
        neg_elbo_score(vae, X, k=0)


# --------------------------------------------------------------------- CLI
def test_parse_classes_and_table():
    assert parse_classes(None) == list(range(10)) and parse_classes("all") == list(range(10))
    assert parse_classes("0, 3,9") == [0, 3, 9]
    for bad in ("10", "a,b", "1,1", ""):
        with pytest.raises(ValueError, match="--classes must be"):
            parse_classes(bad)
    table = format_table({"auroc": {"Trouser": {"ae": 0.9, "vae": 0.8}}, "mean_auroc_ae": 0.9, "mean_auroc_vae": 0.8})
    assert "Trouser" in table and "0.900" in table and "mean" in table


@needs_mnist
def test_anomaly_images_cli_end_to_end(tmp_path, capsys):
    # the 10k MNIST subset (2,000 test images to score) keeps this fast; Fashion-MNIST runs the same code
    code = main(["anomaly-images", "--dataset", "mnist", "--classes", "1,8", "--epochs", "1", "--n-train", "600",
                 "--out", str(tmp_path), "--json"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    names = class_names("mnist")
    assert {"auroc", "mean_auroc_ae", "mean_auroc_vae"} <= set(result)
    assert set(result["auroc"]) == {names[1], names[8]}
    for v in result["auroc"].values():
        assert set(v) == {"ae", "vae"} and all(0.0 <= s <= 1.0 for s in v.values())
    assert result["mean_auroc_ae"] == pytest.approx(np.mean([v["ae"] for v in result["auroc"].values()]))
    assert result["n_train"] == {names[1]: 600, names[8]: 600}
    assert any("held out" in line for line in lines)  # progress per class and model
    for name in ("auroc", "most_anomalous"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000, name
    claims = result["claims"]
    assert claim_problems(claims) == [] and len(claims) == 3
    vae = [v["vae"] for v in result["auroc"].values()]
    assert claims[0]["ours"] == pytest.approx(result["mean_auroc_vae"]) and claims[0]["holds"] == (np.mean(vae) >= 0.75)
    assert claims[1]["ours"] == pytest.approx(min(vae)) and claims[1]["holds"] == (min(vae) > 0.5)


def test_novelty_claims_follow_the_figures():
    result = {"vae_score": "-ELBO", "auroc": {"A": {"ae": 0.9, "vae": 0.95}, "B": {"ae": 0.4, "vae": 0.7}}}
    mean, lowest, ae_mean = novelty_claims(result)
    assert mean["holds"] and mean["ours"] == pytest.approx(0.825) and mean["baseline"] == pytest.approx(0.65)
    assert lowest["holds"] and lowest["ours"] == 0.7 and lowest["baseline"] == 0.4
    assert ae_mean["holds"] and ae_mean["ours"] == pytest.approx(0.65)
    result["auroc"]["B"] = {"ae": 0.05, "vae": 0.45}  # one class below chance; both means fall
    mean, lowest, ae_mean = novelty_claims(result)
    assert not mean["holds"] and not lowest["holds"] and lowest["ours"] == 0.45 and not ae_mean["holds"]


@pytest.mark.parametrize("argv, match", [
    (["--classes", "12"], "--classes must be"),
    (["--epochs", "0"], "epochs must be"),
    (["--iw-k", "0"], "iw_k must be"),
    (["--n-train", "-3"], "n_train must be"),
])
def test_anomaly_images_bad_options_exit_2(argv, match, capsys, tmp_path):
    assert main(["anomaly-images", "--out", str(tmp_path), "--no-download"] + argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and match in err
