"""numpy_ae.experiments.denoise_budget: the clocks, the budget rules and epoch-by-epoch training.

Small synthetic data (200 images of 8x8): about 2 s of CPU time in all.
"""
import time

import numpy as np
import pytest

from numpy_ae import num_threads
from numpy_ae.experiments.denoise_budget import (EpochCurve, budget_row, conv_steps_for, fit_dense_on_budget,
                                                 indices_for_steps, one_thread)
from numpy_ae.models.stacked import DenoisingAutoencoder


def _data(n=200, d=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d)) * (rng.random((n, d)) < 0.3)
    return np.clip(X + 0.2 * rng.standard_normal(X.shape), 0, 1), X


def _dense(epochs=1, warm=True):
    return DenoisingAutoencoder(hidden_layer_sizes=(16,), corruption_level=0.0, epochs=epochs, warm_start=warm,
                                batch_size=20, random_state=3)


def test_epoch_by_epoch_training_is_one_fit_of_as_many_epochs():
    Xn, X = _data()
    whole = _dense(epochs=4, warm=False).fit(Xn, target=X)
    stepwise = _dense()
    curve = EpochCurve(stepwise, Xn[:50], X[:50], image_shape=(8, 8))
    fit_dense_on_budget(stepwise, Xn, X, curve, min_epochs=4, budget=0.0)   # budget 0: stops at min_epochs
    assert len(curve.rows) == 4
    np.testing.assert_array_equal(stepwise.network_.theta, whole.network_.theta)
    assert [r["epoch"] for r in curve.rows] == [1, 2, 3, 4]
    seconds = [r["cpu_seconds"] for r in curve.rows]
    assert all(a < b for a, b in zip(seconds, seconds[1:]))          # cumulative


def test_dense_training_runs_past_the_budget_and_stops_at_max_epochs():
    Xn, X = _data()
    model = _dense()
    curve = EpochCurve(model, Xn[:20], X[:20], image_shape=(8, 8))
    fit_dense_on_budget(model, Xn, X, curve, min_epochs=1, budget=1e9, max_epochs=3)
    assert len(curve.rows) == 3
    model = _dense()
    curve = EpochCurve(model, Xn[:20], X[:20], image_shape=(8, 8))
    per_epoch = EpochCurve(_dense(), Xn[:20], X[:20], image_shape=(8, 8))
    fit_dense_on_budget(per_epoch.model, Xn, X, per_epoch, min_epochs=1, budget=0.0)
    budget = 2.5 * per_epoch.rows[0]["cpu_seconds"]
    fit_dense_on_budget(model, Xn, X, curve, min_epochs=1, budget=budget)
    # Stopped by the budget: the last epoch passed it, the one before did not.
    assert curve.rows[-1]["cpu_seconds"] > budget >= curve.rows[-2]["cpu_seconds"]
    assert budget_row(curve.rows, budget)["epoch"] == len(curve.rows) - 1


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 2}, "model must train one epoch per fit with warm_start=True"),
    ({"warm_start": False}, "model must train one epoch per fit with warm_start=True"),
    ({"momentum": 0.9}, "model must use plain SGD"),
])
def test_a_model_that_cannot_train_epoch_by_epoch_is_refused(kwargs, message):
    Xn, X = _data(40)
    model = _dense().set_params(**kwargs)
    with pytest.raises(ValueError, match=message):
        fit_dense_on_budget(model, Xn, X, EpochCurve(model, Xn, X, image_shape=(8, 8)), 1, 0.0)


class _SlowModel:
    """reconstruct burns about 0.2 s of CPU time: the scoring the curve must not count."""

    def reconstruct(self, X):
        end = time.process_time() + 0.2
        while time.process_time() < end:
            pass
        return X


def test_the_curve_counts_training_time_not_its_own_scoring():
    Xn, X = _data(20)
    curve = EpochCurve(_SlowModel(), Xn, X, keep=(2,), image_shape=(8, 8))
    for _ in range(3):
        curve()            # nothing trains between the calls: about zero training seconds
    assert len(curve.rows) == 3 and set(curve.outputs) == {2}
    assert curve.rows[-1]["cpu_seconds"] < 0.1          # three scorings took 0.6 s
    np.testing.assert_array_equal(curve.outputs[2], Xn)
    assert curve.rows[0]["psnr"] < 100 and 0 < curve.rows[0]["ssim"] < 1


def test_budget_row_takes_the_most_epochs_within_the_budget():
    rows = [{"epoch": e, "cpu_seconds": 10.0 * e} for e in (1, 2, 3)]
    assert budget_row(rows, 25.0) == {"epoch": 2, "cpu_seconds": 20.0, "within_budget": True}
    assert budget_row(rows, 30.0)["epoch"] == 3
    assert budget_row(rows, 5.0) == {"epoch": 1, "cpu_seconds": 10.0, "within_budget": False}


def test_steps_and_subsets_for_a_budget():
    assert conv_steps_for(63.0, 75.0, 430) == 361          # 63 / 75 of 430 steps, rounded down
    assert conv_steps_for(0.0, 75.0, 430) == 1             # at least one step
    with pytest.raises(ValueError, match="seconds must be > 0"):
        conv_steps_for(1.0, 0.0, 10)
    idx = indices_for_steps(5, 128, 1000, [0, 3])             # less than an epoch: a random subset
    assert idx.shape == (640,) and len(set(idx.tolist())) == 640 and np.all(np.diff(idx) > 0)
    np.testing.assert_array_equal(idx, indices_for_steps(5, 128, 1000, [0, 3]))     # seeded
    idx = indices_for_steps(20, 128, 1000, 0)                  # 2560 rows: every example twice, 560 of them thrice
    counts = np.bincount(idx, minlength=1000)
    assert idx.shape == (2560,) and set(counts.tolist()) == {2, 3} and (counts == 3).sum() == 560
    assert np.array_equal(np.bincount(indices_for_steps(8, 125, 1000, 0)), np.ones(1000))  # exactly one epoch


def test_one_thread_pins_the_pool_and_restores_it():
    before = num_threads()
    with one_thread():
        assert num_threads() == 1
    assert num_threads() == before
