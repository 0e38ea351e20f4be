"""The ``stacked`` command (numpy_ae.experiments.stacked): UFLDL's stacked autoencoder exercise.

The end-to-end test reads the real MNIST files (CI: ``NUMPY_AE_DATA=../shared/data``,
the 10k subset: 8,000 train / 2,000 test) and skips without them. It trains on
2,000 images with 30 L-BFGS iterations per stage (UFLDL: all 60,000 and 400),
about 6 s on an idle 2-core machine (up to a minute when it is busy). The other
tests need no data.
"""
import json

import matplotlib.image
import numpy as np

from numpy_ae import SparseAutoencoder
from numpy_ae.cli import main
from numpy_ae.data import load_mnist
from numpy_ae.experiments.stacked import stack_of, stacked_classification
from numpy_ae.analysis.features import encoder_filters


from _data import MNIST, needs_mnist  # noqa: E402  (tests/ is on sys.path under pytest)


def last_json(capsys):
    out = capsys.readouterr().out
    return json.loads(out.strip().splitlines()[-1]), out


@needs_mnist
def test_stacked_cli_small_run(tmp_path, capsys):
    code = main(["stacked", "--examples", "2000", "--iterations", "30", "--out", str(tmp_path), "--json",
                 "--quiet", "--data-home", str(MNIST)])
    assert code == 0
    result, out = last_json(capsys)
    assert set(result) == {"accuracy_before_finetune", "accuracy_after_finetune", "n_train", "n_test", "claims"}
    _, _, _, y_test = load_mnist("mnist", data_home=MNIST)
    assert result["n_train"] == 2000 and result["n_test"] == len(y_test)
    assert "mnist from" in out and str(MNIST) in out and "first 2000 of" in out  # which data, and how much

    before, after = result["accuracy_before_finetune"], result["accuracy_after_finetune"]
    # Chance is 0.12 (the most frequent digit: 242 of the subset's 2000 test images).
    # Measured at these settings: 0.63 before, 0.92 after fine-tuning. After 30
    # iterations the autoencoders' features are still poor, so the softmax on
    # them is weak; fine-tuning trains all 199,210 parameters on the labels and
    # gains 0.29. A pipeline that breaks the link between images and labels
    # scores near chance, one whose backpropagation into the encoders is wrong
    # stays near "before" (L-BFGS stops early on a bad gradient): the floors
    # below catch both and leave 0.1 or more for platform differences.
    assert before > 0.5
    assert after > 0.8
    # Fine-tuning starts from the "before" weights and L-BFGS never increases
    # its training objective, so test accuracy should not drop; 0.02 is two
    # standard errors of an accuracy near 0.8 on 2000 test images
    # (sqrt(0.8 * 0.2 / 2000) = 0.009), the room left for sampling noise.
    assert after >= before - 0.02
    assert after - before > 0.15  # and at these settings it gains a lot (measured 0.29)
    (claim,) = result["claims"]  # computed from this run: ours is after, the baseline before fine-tuning
    assert (claim["ours"], claim["baseline"], claim["holds"]) == (after, before, after > before)
    assert claim["published"] == 0.976 and "UFLDL" in claim["source"]

    # 200 tiles of 28x28, 15 per row (ceil(sqrt(200))), 14 rows, 1-pixel borders:
    # 15 * 29 + 1 = 436 by 14 * 29 + 1 = 407 pixels, drawn at scale ceil(512 / 436) = 2,
    # plus 30 pixels of title.
    for name in ("filters_layer1.png", "filters_layer2.png", "filters_layer1_finetuned.png"):
        image = matplotlib.image.imread(tmp_path / name)
        assert image.shape[:2] == (2 * 407 + 30, 2 * 436), name
    ae1 = SparseAutoencoder.load(tmp_path / "sae_layer1.npz")
    ae2 = SparseAutoencoder.load(tmp_path / "sae_layer2.npz")
    assert (ae1.n_features_in_, ae1.n_hidden, ae2.n_features_in_, ae2.n_hidden) == (784, 200, 200, 200)
    assert len(ae1.cost_history_) == 30


def test_stacked_rejects_bad_arguments_before_reading_data(tmp_path, capsys):
    for args, message in ((["--examples", "0"], "examples must be an integer >= 1; got 0"),
                          (["--iterations", "-3"], "iterations must be an integer >= 1; got -3"),
                          (["--finetune-weight-decay", "-1"], "finetune_weight_decay")):
        assert main(["stacked", "--out", str(tmp_path / "out"), *args]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_stacked_missing_data_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NUMPY_AE_DATA", str(tmp_path / "nothing"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    code = main(["stacked", "--dataset", "mnist", "--no-download", "--out", str(tmp_path / "out")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Could not find the mnist files") and "NUMPY_AE_DATA" in err
    assert not (tmp_path / "out").exists()


def test_stacked_classification_on_synthetic_data(capsys):
    # Four classes read off two latent factors, images squashed into (0, 1); a 20-12-6 stack.
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((1000, 4))
    X = 1 / (1 + np.exp(-(Z @ rng.standard_normal((4, 20)))))
    y = (Z[:, 0] > 0).astype(int) + 2 * (Z[:, 1] > 0).astype(int)
    result, parts, before, after = stacked_classification(X[:800], y[:800], X[800:], y[800:], iterations=100,
                                                          hidden=(12, 6), finetune_weight_decay=3e-4, random_state=0)
    assert result["n_train"] == 800 and result["n_test"] == 200
    # Two classifiers, two lambdas: the softmax's (1e-4) and fine-tuning's, on every weight matrix.
    assert before.network_.weight_decay == 1e-4 and after.network_.weight_decay == 3e-4
    # Fine-tuning copies the encoders: the autoencoders keep their weights.
    np.testing.assert_array_equal(parts[0].encoder_layers[0].W, before.network_.layers[0].W)
    assert not np.array_equal(parts[0].encoder_layers[0].W, after.network_.layers[0].W)
    assert result["train_accuracy_after_finetune"] >= result["train_accuracy_before_finetune"]
    # Chance is 0.265 (the most frequent of the 4 classes: 53 of the 200 test rows).
    # The layer-2 codes of this 20-feature toy carry no class information
    # (measured before fine-tuning: 0.265, the majority class); fine-tuning
    # recovers the classes (measured 0.97).
    assert result["accuracy_after_finetune"] > 0.85
    assert len(result["mean_activations"]) == 2 and set(result["stage_seconds"]) == {
        "layer1", "layer2", "softmax", "finetune"}
    assert "before fine-tuning" in capsys.readouterr().out


def test_stack_of_shows_layer_two_as_combinations_of_layer_one_filters():
    X = np.random.default_rng(0).uniform(0, 1, (50, 16))
    parts = [SparseAutoencoder(n_hidden=5, random_state=0).initialize(16),
             SparseAutoencoder(n_hidden=3, random_state=1).initialize(5)]
    deep = stack_of(parts)
    assert deep.layer_sizes_ == [16, 5, 3]
    np.testing.assert_allclose(deep.transform(X), parts[1].transform(parts[0].transform(X)), rtol=1e-12)
    W1, W2 = parts[0].encoder_layers[0].W, parts[1].encoder_layers[0].W
    np.testing.assert_allclose(encoder_filters(deep, layer=1), (W1 @ W2).T, rtol=1e-12)
