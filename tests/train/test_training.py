"""The minibatch loop through Autoencoder.fit: history, shuffling, validation, early stopping, divergence."""
import io

import numpy as np
import pytest

from numpy_ae import SparseAutoencoder
from numpy_ae.nn.dense import Dense
from numpy_ae.nn.losses import MeanSquaredError
from numpy_ae.nn.sequential import Sequential
from numpy_ae.train.optimizers import SGD
from numpy_ae.models.stacked import StackedAutoencoder
from numpy_ae.train.loop import TrainingDiverged, train_minibatch


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((600, 3))
    X = 1 / (1 + np.exp(-(Z @ rng.standard_normal((3, 12)))))  # 12-D data on a 3-D manifold, in (0, 1)
    return X[:500], X[500:]


def test_adam_fit_records_history_and_decreases_loss(data):
    X, X_val = data
    ae = StackedAutoencoder(hidden_layer_sizes=(6, 3), activation="elu", random_state=0)
    ae.set_params(method="adam", epochs=15, batch_size=50, learning_rate=1e-2).fit(X, validation_data=X_val)
    h = ae.history_
    assert len(h["loss"]) == len(h["val_loss"]) == len(h["seconds"]) == 15 == ae.n_epochs_
    assert h["loss"][-1] < 0.3 * h["loss"][0]
    assert h["val_loss"][-1] < 0.3 * h["val_loss"][0]


def test_sgd_fit_with_nesterov_trains(data):
    X, _ = data
    ae = StackedAutoencoder(hidden_layer_sizes=(6,), activation="sigmoid", random_state=0)
    ae.set_params(method="sgd", epochs=10, batch_size=20, learning_rate=0.5, nesterov=True).fit(X)
    assert ae.history_["loss"][-1] < 0.5 * ae.history_["loss"][0]


def test_minibatch_fit_is_reproducible(data):
    X, _ = data
    a = StackedAutoencoder(hidden_layer_sizes=(4,), random_state=3, method="adam", epochs=2, batch_size=64).fit(X)
    b = StackedAutoencoder(hidden_layer_sizes=(4,), random_state=3, method="adam", epochs=2, batch_size=64).fit(X)
    np.testing.assert_array_equal(a.theta, b.theta)
    # and the seed is used: a fit that ignored random_state would pass the line above too
    c = StackedAutoencoder(hidden_layer_sizes=(4,), random_state=4, method="adam", epochs=2, batch_size=64).fit(X)
    assert not np.array_equal(a.theta, c.theta)


def test_progress_line_per_epoch(data):
    X, X_val = data
    net = Sequential([Dense(12, 12)], MeanSquaredError(), random_state=0)
    out = io.StringIO()
    train_minibatch(net, X, optimizer=SGD(0.1), epochs=3, batch_size=100, rng=np.random.default_rng(0),
                    validation_data=X_val, stream=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 3 and lines[0].split()[:2] == ["epoch", "1/3"] and "val_loss" in lines[0]


class _ScriptedNet:
    """A stand-in network: every step moves theta by -lr; validation losses follow a script."""

    def __init__(self, val_losses):
        self.theta, self.grad, self.frozen = np.zeros(2), np.ones(2), np.zeros(2, dtype=bool)
        self.val_losses = iter(val_losses)

    def compute(self, X, T=None):
        return 1.0

    def evaluate(self, X, T=None):
        return next(self.val_losses)


def test_early_stopping_restores_the_best_parameters():
    X = np.zeros((10, 2))
    net = _ScriptedNet([5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 2.0])
    h = train_minibatch(net, X, optimizer=SGD(1.0), epochs=7, batch_size=10, rng=np.random.default_rng(0),
                        validation_data=X, patience=3, verbose=False)
    assert h["best_epoch"] == 3 and len(h["val_loss"]) == 6  # three epochs without improvement after epoch 3
    np.testing.assert_array_equal(net.theta, [-3.0, -3.0])  # one step per epoch: theta after epoch 3


def test_without_patience_all_epochs_run():
    X = np.zeros((10, 2))
    net = _ScriptedNet([5.0, 6.0, 7.0, 8.0])
    h = train_minibatch(net, X, optimizer=SGD(1.0), epochs=4, batch_size=5, rng=np.random.default_rng(0),
                        validation_data=X, verbose=False)
    assert len(h["loss"]) == 4 and h["best_epoch"] == 1
    np.testing.assert_array_equal(net.theta, [-8.0, -8.0])  # two minibatches per epoch


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # the divergence itself
def test_divergence_stops_with_the_epoch_named(data):
    X, _ = data
    ae = StackedAutoencoder(hidden_layer_sizes=(6,), activation="relu", random_state=0)
    # caught by the growth limit (epoch mean > 1000x the first minibatch) before it reaches inf
    with pytest.raises(TrainingDiverged, match=r"diverged in epoch \d+: the mean objective grew .*lower the "
                                               r"learning rate"):
        ae.set_params(method="sgd", epochs=50, batch_size=10, learning_rate=1e3, momentum=0.9).fit(X)


def test_bad_batch_size(data):
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1; got 0"):
        StackedAutoencoder(hidden_layer_sizes=(4,), method="adam", batch_size=0)


def test_batch_size_larger_than_the_data_is_one_full_batch(data):
    """As scikit-learn's MLP: a batch_size above N is cut to N (so the default 128 works on small data)."""
    X = data[0][:50]
    big = StackedAutoencoder(hidden_layer_sizes=(4,), epochs=2, batch_size=501, random_state=0).fit(X)
    full = StackedAutoencoder(hidden_layer_sizes=(4,), epochs=2, batch_size=50, random_state=0).fit(X)
    np.testing.assert_array_equal(big.theta, full.theta)


def test_bad_method(data):
    with pytest.raises(ValueError, match=r"method must be one of \['lbfgs', 'adam', 'sgd'\]; got 'newton'"):
        SparseAutoencoder(n_hidden=3, method="newton").fit(data[0])


def test_warm_start_continues(data):
    X, _ = data
    ae = StackedAutoencoder(hidden_layer_sizes=(4,), random_state=0, method="adam", epochs=3, batch_size=50).fit(X)
    before = ae.theta.copy()
    loss_before = ae.network_.evaluate(X)
    ae.set_params(method="adam", epochs=3, batch_size=50, warm_start=True).fit(X)
    assert not np.array_equal(before, ae.theta)
    assert ae.network_.evaluate(X) < loss_before


def test_fit_with_target_learns_the_mapping_to_the_target():
    # a linear autoencoder with as many code units as inputs can map X onto any linear function of X:
    # with target = 2 X it must output about 2 X, where with no target it outputs about X
    from numpy_ae import LinearAutoencoder

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    ae = LinearAutoencoder(4, random_state=0).fit(X, target=2 * X)
    np.testing.assert_allclose(ae.reconstruct(X), 2 * X, atol=1e-5)
    plain = LinearAutoencoder(4, random_state=0).fit(X)
    np.testing.assert_allclose(plain.reconstruct(X), X, atol=1e-5)


def test_fit_with_target_of_the_wrong_shape_names_the_argument():
    from numpy_ae import SparseAutoencoder

    X = np.random.default_rng(0).uniform(0.1, 0.9, size=(20, 6))
    with pytest.raises(ValueError, match="target"):
        SparseAutoencoder(3, max_iter=2).fit(X, target=X[:10])
