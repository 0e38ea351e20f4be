"""numpy_ae.analysis.novelty and ``python -m numpy_ae anomaly-images``: the rank AUROC, the held-out protocol, the scores."""
import json

import numpy as np
import pytest

import zlib

from numpy_ae import PCA, StackedAutoencoder, VariationalAutoencoder
from numpy_ae.cli import main
from numpy_ae.data import class_names
from numpy_ae.experiments.anomaly_images import format_table, novelty_claims, parse_classes
from numpy_ae.experiments.claims import claim_problems
from numpy_ae.analysis.novelty import (MutatedInputs, _roc_auc, binomial_nll_bits, complexity_corrected_score,
                                      compressed_bits, held_out_class_auroc, held_out_split, likelihood_ratio_score,
                                      mutate_pixels, neg_elbo_score, quantize_8bit, reconstruction_error)

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


def test_reconstruction_error_of_pca_uses_its_projection():
    rng = np.random.default_rng(5)
    X = rng.uniform(0, 1, (60, 7))
    pca = PCA(3).fit(X)
    expected = ((pca.inverse_transform(pca.transform(X)) - X) ** 2).sum(axis=1)
    np.testing.assert_allclose(reconstruction_error(pca, X), expected, rtol=1e-12)
    # on the span of its components (plus the mean) PCA reconstructs exactly: error 0
    inside = pca.mean_ + rng.standard_normal((5, 3)) @ pca.components_ * 0.01
    np.testing.assert_allclose(reconstruction_error(pca, inside), 0.0, atol=1e-20)


def test_held_out_protocol_takes_several_scores_of_one_model():
    rng = np.random.default_rng(6)
    X, y = _labelled_images(120, rng)
    Xt, yt = _labelled_images(60, rng)
    _Spy.seen = []
    runs = held_out_class_auroc(X, y, Xt, yt, [2], {"spy": (_Spy, lambda m, Z: {
        "first": np.asarray(Z)[:, 0], "minus": -np.asarray(Z)[:, 0]})})
    assert len(_Spy.seen) == 1 and set(runs[2]) == {"first", "minus"}  # one fit, two scores
    assert runs[2]["first"]["auroc"] == 1.0 and runs[2]["minus"]["auroc"] == 0.0


# ------------------------------------------------------- input complexity
def test_compressed_bits_is_zlib_in_bits_and_a_constant_image_is_shorter_than_noise():
    rng = np.random.default_rng(7)
    flat, noise = np.full((1, 784), 0.5), rng.integers(0, 256, (1, 784)) / 255.0
    X = np.vstack([flat, noise, np.zeros((1, 784))])
    bits = compressed_bits(X)
    assert bits[0] < 0.1 * bits[1] and bits[2] == bits[0]  # two constant images: the same length
    assert bits[1] == 8 * len(zlib.compress(np.rint(noise * 255).astype(np.uint8).tobytes(), 9))
    assert bits[1] > 784 * 8  # uniform noise does not compress: deflate's frame costs more than it saves
    assert compressed_bits(X, level=0)[0] > bits[0]  # level 0 stores the bytes
    np.testing.assert_array_equal(quantize_8bit([[0.0, 1.0, 0.5, 0.2]]), [[0, 255, 128, 51]])
    with pytest.raises(ValueError, match="level must be an integer zlib level 0..9"):
        compressed_bits(X, level=10)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        compressed_bits(X * 2)


def test_binomial_nll_bits_is_the_binomial_bound_in_bits():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(8)
    X = rng.integers(0, 256, (40, 10)) / 255.0
    vae = VariationalAutoencoder(hidden_layer_sizes=(5,), n_latent=2, epochs=1, random_state=0).fit(X)
    bits = binomial_nll_bits(vae, X, random_state=3)
    p = np.asarray(vae.inverse_transform(vae.sample_codes(X, random_state=3)), dtype=np.float64)
    nats = -stats.binom.logpmf(np.rint(X * 255), 255, p).sum(axis=1) + vae.elbo(X, random_state=3).kl
    np.testing.assert_allclose(bits, nats / np.log(2), rtol=1e-5)
    assert np.all(bits > 0)
    gaussian = VariationalAutoencoder(hidden_layer_sizes=(5,), n_latent=2, likelihood="gaussian", epochs=1,
                                      random_state=0).fit(X)
    with pytest.raises(ValueError, match="vae must have a Bernoulli decoder"):
        binomial_nll_bits(gaussian, X)


def test_complexity_corrected_score_is_the_nll_minus_the_code_length_in_bits():
    rng = np.random.default_rng(9)
    X = np.vstack([np.zeros((1, 784)), rng.integers(0, 256, (1, 784)) / 255.0])
    nll = np.array([1000.0, 1000.0])
    score = complexity_corrected_score(nll, X)
    np.testing.assert_array_equal(score, nll - compressed_bits(X))
    assert score[0] > score[1]  # the same likelihood is more surprising for the simple image
    with pytest.raises(ValueError, match="nll_bits must have one value per row of X"):
        complexity_corrected_score(nll[:1], X)


# --------------------------------------------------------------------- CLI
def test_parse_classes_and_table():
    assert parse_classes(None) == list(range(10)) and parse_classes("all") == list(range(10))
    assert parse_classes("0, 3,9") == [0, 3, 9]
    for bad in ("10", "a,b", "1,1", ""):
        with pytest.raises(ValueError, match="--classes must be"):
            parse_classes(bad)
    table = format_table({"auroc": {"Trouser": {"ae": 0.9, "vae": 0.8}, "Bag": {"ae": 0.7, "vae": 0.4}}})
    assert "Trouser" in table and "0.900" in table and "VAE -ELBO" in table and "PCA" not in table
    assert table.splitlines()[-1].split() == ["mean", "0.800", "0.600"]


@needs_mnist
def test_anomaly_images_cli_end_to_end(tmp_path, capsys):
    # the 10k MNIST subset (2,000 test images to score) keeps this fast; Fashion-MNIST runs the same code
    code = main(["anomaly-images", "--dataset", "mnist", "--classes", "1,8", "--epochs", "1", "--n-train", "600",
                 "--out", str(tmp_path), "--json"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    names = class_names("mnist")
    assert {"auroc", "mean_auroc", "mean_auroc_ae", "mean_auroc_vae", "mean_auroc_vae_corrected"} <= set(result)
    assert set(result["auroc"]) == {names[1], names[8]}
    keys = {"ae", "pca", "vae", "vae_bits", "vae_corrected", "zlib", "vae_llr", "background"}
    for v in result["auroc"].values():
        assert set(v) == keys and all(0.0 <= s <= 1.0 for s in v.values())
    for key in keys:
        assert result["mean_auroc"][key] == pytest.approx(np.mean([v[key] for v in result["auroc"].values()]))
    assert result["mean_auroc_ae"] == result["mean_auroc"]["ae"]
    # a 1 is the simplest digit: zlib alone calls it normal (AUROC far below 0.5); the correction must not
    assert result["auroc"][names[1]]["zlib"] < 0.2 and result["auroc"][names[1]]["vae_corrected"] > 0.5
    assert result["n_train"] == {names[1]: 600, names[8]: 600}
    assert any("held out" in line for line in lines)  # progress per class and model
    for name in ("auroc", "most_anomalous"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000, name
    claims = result["claims"]
    assert claim_problems(claims) == [] and len(claims) == 6
    assert result["mutation_rate"] == 0.2 and result["mean_auroc_vae_llr"] == result["mean_auroc"]["vae_llr"]
    llr = [v["vae_llr"] for v in result["auroc"].values()]
    assert claims[5]["ours"] == pytest.approx(np.mean(llr)) and claims[5]["holds"] == (np.mean(llr) > result["mean_auroc_vae"])
    cor = [v["vae_corrected"] for v in result["auroc"].values()]
    assert claims[0]["ours"] == pytest.approx(np.mean(cor)) and claims[0]["holds"] == (np.mean(cor) >= 0.75)
    assert claims[0]["baseline"] == pytest.approx(result["mean_auroc_vae"])
    assert claims[1]["ours"] == pytest.approx(min(cor)) and claims[1]["holds"] == (min(cor) > 0.5)
    assert claims[2]["holds"] == (np.mean(cor) > result["mean_auroc_vae"])


def test_novelty_claims_follow_the_figures():
    def result(*rows):
        keys = ("ae", "pca", "vae", "vae_corrected")
        return {"auroc": {f"c{i}": dict(zip(keys, row)) for i, row in enumerate(rows)}}

    mean, lowest, beats_raw, beats_pca, ae = novelty_claims(result((0.9, 0.8, 0.6, 0.95), (0.4, 0.6, 0.3, 0.7)))
    assert mean["holds"] and mean["ours"] == pytest.approx(0.825) and mean["baseline"] == pytest.approx(0.45)
    assert lowest["holds"] and lowest["ours"] == 0.7 and lowest["baseline"] == 0.3
    assert beats_raw["holds"] and beats_pca["holds"] and beats_pca["baseline"] == pytest.approx(0.7)
    assert ae["holds"] and ae["ours"] == pytest.approx(0.65)
    # one class below chance; the corrected mean under 0.75, the raw -ELBO's and PCA's, the AE under chance
    mean, lowest, beats_raw, beats_pca, ae = novelty_claims(result((0.9, 0.8, 0.8, 0.95), (0.05, 0.7, 0.7, 0.45)))
    assert not mean["holds"] and not lowest["holds"] and lowest["ours"] == 0.45
    assert not beats_raw["holds"] and not beats_pca["holds"] and not ae["holds"]


@pytest.mark.parametrize("argv, match", [
    (["--classes", "12"], "--classes must be"),
    (["--epochs", "0"], "epochs must be"),
    (["--iw-k", "0"], "iw_k must be"),
    (["--n-train", "-3"], "n_train must be"),
    (["--mutation-rate", "1.5"], "mutation_rate must be a probability in [0, 1]"),
])
def test_anomaly_images_bad_options_exit_2(argv, match, capsys, tmp_path):
    assert main(["anomaly-images", "--out", str(tmp_path), "--no-download"] + argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and match in err


# ------------------------------------------------------- background model (Ren et al.)
def test_mutate_pixels_replaces_the_given_share_with_uniform_levels_and_leaves_x_alone():
    rng = np.random.default_rng(10)
    X = (rng.random((400, 50)) < 0.5).astype(np.float32) * 0.0  # all black: a changed pixel is visible
    X0 = X.copy()
    M = mutate_pixels(X, 0.2, random_state=3)
    np.testing.assert_array_equal(X, X0)  # a new array; X is untouched
    assert M.dtype == X.dtype and M.shape == X.shape
    changed = M != 0
    # 20,000 pixels, each hit w.p. 0.2 (and then nonzero w.p. 255/256): binomial sd 0.0028, so 5 sd is 0.014
    assert abs(changed.mean() - 0.2 * 255 / 256) < 0.014
    levels = np.rint(M[changed] * 255)
    np.testing.assert_allclose(M[changed] * 255, levels, atol=1e-4)  # on the 8-bit grid
    # uniform on 1..255 given nonzero: mean 128, sd of the mean of ~4,000 draws about 1.2
    assert abs(levels.mean() - 128) < 6
    np.testing.assert_array_equal(M, mutate_pixels(X, 0.2, random_state=3))
    np.testing.assert_array_equal(mutate_pixels(X, 0.0), X)
    assert np.all(mutate_pixels(X, 1.0, random_state=4) >= 0)
    for bad in (-0.1, 1.5, True, "0.2"):
        with pytest.raises(ValueError, match="rate must be a probability in"):
            mutate_pixels(X, bad)


def test_mutated_inputs_fits_its_estimator_on_mutated_images():
    seen = []

    class Recorder:
        likelihood = "bernoulli"

        def fit(self, X):
            seen.append(np.array(X))
            return self

    X = np.zeros((300, 20))
    bg = MutatedInputs(Recorder(), rate=0.3, random_state=5).fit(X)
    assert bg.likelihood == "bernoulli"  # the estimator's attributes
    np.testing.assert_array_equal(seen[0], mutate_pixels(X, 0.3, random_state=5))
    assert 0.25 < (seen[0] != 0).mean() < 0.35
    refused = MutatedInputs(Recorder(), rate=2)  # scikit-learn's convention: __init__ only stores
    with pytest.raises(ValueError, match="rate must be a probability"):
        refused.fit(X)
    assert len(seen) == 1  # refused before the estimator was trained
    with pytest.raises(AttributeError):
        bg.no_such_attribute


def test_likelihood_ratio_score_is_the_difference_of_the_bits():
    a, b = np.array([10.0, 5.0, 7.0]), np.array([9.0, 1.0, 7.5])
    np.testing.assert_array_equal(likelihood_ratio_score(a, b), [1.0, 4.0, -0.5])
    with pytest.raises(ValueError, match="must be two arrays"):
        likelihood_ratio_score(a, b[:2])
