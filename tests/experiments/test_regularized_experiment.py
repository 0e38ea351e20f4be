"""``python -m numpy_ae regularized`` (numpy_ae.experiments.regularized) and its helpers.

The helpers are checked against closed forms on small problems; the
end-to-end run reads the real MNIST files (CI: ``NUMPY_AE_DATA=../shared/data``)
and skips without them: all eight models, 64 code units, 1,500 images, 3
epochs (a few seconds each on an idle 2-core machine).
"""
import json

import matplotlib.image
import numpy as np
import pytest

from numpy_ae.cli import main
from numpy_ae.experiments.regularized import MODELS, active_fraction, jacobian_frobenius_norms, make_models

from _data import MNIST, needs_mnist  # noqa: E402  (tests/ is on sys.path under pytest)


def test_jacobian_norm_of_a_sigmoid_layer_matches_the_closed_form():
    # f(x) = sigmoid(x W + b): J = diag(h(1-h)) W^T, so ||J||_F^2 = sum_j (h_j(1-h_j))^2 sum_i W_ij^2.
    # Central differences with eps 1e-4 are exact to O(eps^2 f''') ~ 1e-9 relative; 1e-6 leaves room for rounding.
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(7, 4)), rng.normal(size=4)
    X = rng.normal(size=(5, 7))

    def f(Z):
        return 1.0 / (1.0 + np.exp(-(Z @ W + b)))

    H = f(X)
    exact = np.sqrt(((H * (1 - H)) ** 2) @ (W ** 2).sum(axis=0))
    np.testing.assert_allclose(jacobian_frobenius_norms(f, X), exact, rtol=1e-6)


def test_jacobian_norm_batches_give_the_same_answer():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(6, 3))
    X = rng.normal(size=(9, 6))
    one = jacobian_frobenius_norms(lambda Z: np.tanh(Z @ W), X, batch_rows=12)  # one example per batch
    many = jacobian_frobenius_norms(lambda Z: np.tanh(Z @ W), X, batch_rows=10 ** 6)
    np.testing.assert_allclose(one, many, rtol=1e-12)


def test_active_fraction_is_relative_to_each_unit():
    # unit 0 lives on a scale of 1e-3 and unit 1 on 1: each is judged against its own largest value
    H = np.array([[1e-3, 1.0], [5e-5, 0.5], [2e-4, 0.05]])
    # unit 0: 1e-3 and 2e-4 exceed 1e-4 (2 of 3); unit 1: 1.0 and 0.5 exceed 0.1 (2 of 3)
    assert active_fraction(H) == pytest.approx(4 / 6)
    assert active_fraction(np.zeros((3, 2))) == 0.0


def test_models_differ_only_in_the_code_regulariser():
    models = make_models(hidden=32, k=5, epochs=1)
    assert tuple(models) == MODELS
    shared = ("hidden_layer_sizes", "method", "epochs", "batch_size", "learning_rate", "random_state", "dtype")
    first = models["plain"].get_params()
    for m in models.values():
        params = m.get_params()
        assert all(params[k] == first[k] for k in shared)
    assert models["k-sparse"].k_sparse == 5
    assert models["fc-wta"].lifetime_sparsity == 0.05
    assert models["kl-sparse-ce"].sparsity_weight == pytest.approx(784 * models["kl-sparse-mse"].sparsity_weight)


@pytest.mark.parametrize("bad, match", [(dict(k=0), "k"), (dict(k=100, hidden=50), "k"), (dict(hidden=0), "hidden"),
                                        (dict(names=("plain", "nope")), "models")])
def test_bad_settings_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        make_models(**bad)


def test_cli_refuses_an_unknown_model(capsys):
    assert main(["regularized", "--models", "plain,nope", "--no-download"]) == 2
    assert "nope" in capsys.readouterr().err


@needs_mnist
def test_cli_runs_every_model_and_reports_the_table(tmp_path, capsys):
    # Adam at 1e-2 for 5 epochs of 2,000 images (80 updates): at 1e-3 the small sigmoid codes still sit on the
    # early plateau where every unit is near 1 and the output is the mean image
    code = main(["regularized", "--hidden", "64", "--k", "10", "--epochs", "5", "--learning-rate", "0.01",
                 "--n-train", "2000", "--n-test", "500", "--jacobian-examples", "10", "--classifier-iter", "60",
                 "--out", str(tmp_path), "--json", "--data-home", str(MNIST), "--no-download", "--quiet"])
    assert code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result["models"]) == set(MODELS)
    every, contractive = result["claims"]  # computed from the table
    accuracies = [row["accuracy"] for row in result["models"].values()]
    assert (every["ours"], every["baseline"]) == (min(accuracies), result["raw_pixel_accuracy"])
    assert every["holds"] == (min(accuracies) > result["raw_pixel_accuracy"])
    jac = {name: result["models"][name]["jacobian_norm"] for name in ("contractive", "plain")}
    assert (contractive["ours"], contractive["baseline"], contractive["holds"]) == (
        jac["contractive"], jac["plain"], jac["contractive"] < jac["plain"])
    from numpy_ae.data import load_mnist

    X_train, _, X_test, _ = load_mnist("mnist", data_home=str(MNIST), download=False)
    mean_image_mse = float(np.mean((X_test[:500] - X_train[:2000].mean(axis=0)) ** 2))  # about 0.067
    half_mse = float(np.mean((X_test[:500] - 0.5) ** 2))  # a constant 0.5 output: about 0.2
    for name, row in result["models"].items():
        assert {"test_mse", "active_fraction", "jacobian_norm", "accuracy", "mean_activation"} <= set(row), name
        assert all(np.isfinite(v) for k, v in row.items() if not k.startswith("classifier")), name
        # measured at these settings: 0.032 (k-sparse) to 0.058 (plain) for the models without a KL penalty,
        # 0.067 and 0.075 for the KL-sparse ones, whose penalty (weight 0.2 over 64 units) slows the
        # reconstruction early; an untrained model outputs about 0.5 everywhere
        bound = half_mse if name.startswith("kl-sparse") else mean_image_mse
        assert row["test_mse"] < bound, (name, row["test_mse"], bound)
        # a linear classifier on any of these codes beats chance (10%) by far (measured: 0.62 to 0.83)
        assert row["accuracy"] > 0.5, name
    rows = result["models"]
    # the k-sparse code keeps 10 of 64 units per example: at most 10/64 of the entries are non-zero
    assert rows["k-sparse"]["active_fraction"] <= 10 / 64 + 1e-9
    # the contractive penalty shrinks the Jacobian against the plain model trained alike (measured 0.78 vs 1.00)
    assert rows["contractive"]["jacobian_norm"] < rows["plain"]["jacobian_norm"]
    assert 0.5 < result["raw_pixel_accuracy"] <= 1.0
    img = matplotlib.image.imread(tmp_path / "filters.png")
    assert img.shape[0] > 50 and img.shape[1] > 8 * 50
