"""A fit is a transaction (numpy_ae.models.transaction): it commits a complete, finite state or leaves
the estimator exactly as it was.

Faults are injected generically: a trace function counts the calls into numpy_ae's own Python code
during a clean fit, then, in a fresh attempt, raises at the k-th call for several k spread over the
whole fit (input checks, initialisation, the first and the last steps of training, the final
bookkeeping). Every public estimator (found by introspection), a first fit and a refit, an ordinary
exception and a KeyboardInterrupt: afterwards the estimator's attributes must be the ones it had
before, bit for bit.
"""
import inspect
import os
import sys
import warnings

import numpy as np
import pytest

import numpy_ae
from numpy_ae.exceptions import FitInterruptedWarning, TrainingDiverged
from numpy_ae.models import transaction
from numpy_ae.models.gsn import fit_walkback
from models.estimator_cases import ESTIMATOR_CASES, NEEDS_Y, public_estimator_classes, small_data

PACKAGE = os.path.dirname(numpy_ae.__file__) + os.sep
MACHINERY = transaction.__file__  # the transaction's own frames are not fault points
# generator and coroutine frames are not fault points either: an exception raised while a generator is being
# closed (``any(... for ...)`` stopping early) cannot propagate, so the fault would silently not happen
NOT_A_POINT = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def is_point(frame):
    code = frame.f_code
    return code.co_filename.startswith(PACKAGE) and code.co_filename != MACHINERY and not code.co_flags & NOT_A_POINT
X, Y = small_data()
X2, Y2 = small_data(seed=1)


class Injected(RuntimeError):
    pass


def fresh(label):
    est = ESTIMATOR_CASES[label]
    params = est.get_params(deep=False)
    if "random_state" in params:
        params["random_state"] = 0
    return type(est)(**params)


def fit_args(label, X, y):
    return (X, y) if label.split("(")[0] in NEEDS_Y else (X,)


def count_calls(fn):
    """Run ``fn()``; return how many Python calls into numpy_ae it made."""
    n = [0]

    def tracer(frame, event, arg):
        if event == "call" and is_point(frame):
            n[0] += 1

    sys.settrace(tracer)
    try:
        fn()
    finally:
        sys.settrace(None)
    return n[0]


def fail_at(fn, k, exc):
    """Run ``fn()``, raising ``exc`` at its k-th Python call into numpy_ae; return True if it was raised."""
    n = [0]

    def tracer(frame, event, arg):
        if event == "call" and is_point(frame):
            n[0] += 1
            if n[0] == k:
                sys.settrace(None)
                raise exc("injected")

    sys.settrace(tracer)
    try:
        fn()
    except exc:
        return True
    finally:
        sys.settrace(None)
    return False


_seen = set()


def same(a, b, where="state"):
    """Bit-for-bit equality of two attribute values (arrays by dtype, shape and bytes; networks by theta)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), where
    elif isinstance(a, np.random.Generator):
        assert a.bit_generator.state == b.bit_generator.state, where
    elif isinstance(a, numpy_ae.nn.Sequential):
        same(a.theta, b.theta, where + ".theta")
        assert repr(a) == repr(b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b)):
            same(u, v, f"{where}[{i}]")
    elif isinstance(a, numpy_ae.BaseEstimator):
        assert type(a) is type(b), where
        same(vars(a), vars(b), where)
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b), where
    elif hasattr(a, "__dict__") and not isinstance(a, type) and not callable(a):  # layers, optimisers...
        assert type(a) is type(b), where
        if (id(a), id(b)) not in _seen:
            _seen.add((id(a), id(b)))
            same(a.__getstate__(), b.__getstate__(), where)
    else:
        assert a == b or a is b, (where, a, b)


def state_of(est):
    """The estimator's attributes, copied (what must come back after a failed fit)."""
    import copy
    return {k: (v if k in est._get_param_names() else copy.deepcopy(v)) for k, v in vars(est).items()}


def assert_restored(est, before):
    _seen.clear()
    assert set(vars(est)) == set(before), set(vars(est)) ^ set(before)
    for k, v in before.items():
        same(vars(est)[k], v, k)


def test_every_public_estimator_has_a_case():
    assert set(public_estimator_classes()) == {type(e).__name__ for e in ESTIMATOR_CASES.values()}


FAULTS = [(Injected, "exception"), (KeyboardInterrupt, "interrupt")]


@pytest.mark.parametrize("label", sorted(ESTIMATOR_CASES))
@pytest.mark.parametrize("refit", [False, True], ids=["first-fit", "refit"])
def test_a_fit_that_does_not_finish_leaves_the_estimator_as_it_was(label, refit):
    est = fresh(label)
    if refit:
        est.fit(*fit_args(label, X, Y))
    probe = output(est, X[:5]) if refit and label.split("(")[0] != "ConditionalVAE" else None
    before = state_of(est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = state_copy(est)  # the same fit on a copy, to count its calls
        n = count_calls(lambda: other.fit(*fit_args(label, X2, Y2)))
    assert n >= 8, n
    opened = count_calls(lambda: transaction.Backup(est))  # a fault before these is before the fit began
    points = sorted({1, 2, max(n // 10, 1), n // 4, n // 2, 3 * n // 4, n - 2, n})  # input checks ... the end
    for exc, _ in FAULTS:
        for k in points:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                raised = fail_at(lambda: est.fit(*fit_args(label, X2, Y2)), k, exc)
            assert raised, (label, exc, k, n)
            assert_restored(est, before)
            if exc is KeyboardInterrupt and k > opened:
                assert any(issubclass(w.category, FitInterruptedWarning) for w in caught)
    assert est._is_fitted() == refit
    if probe is not None:
        np.testing.assert_array_equal(output(est, X[:5]), probe)
    # and the estimator still works: a fit after all those failures is the fit it would have been
    est.fit(*fit_args(label, X2, Y2))
    assert est._is_fitted()


def output(est, X):
    return est.transform(X) if hasattr(est, "transform") else est.predict_proba(X)


def state_copy(est):
    """An independent copy of a fitted estimator (to count the calls of a refit without changing ``est``)."""
    import copy
    return copy.deepcopy(est)


def test_interrupt_restores_and_says_so():
    ae = numpy_ae.StackedAutoencoder(hidden_layer_sizes=(3,), epochs=3, random_state=0).fit(X)
    theta = ae.theta.copy()
    cost = ae.cost_

    def stop(epoch, history):
        raise KeyboardInterrupt

    with pytest.warns(FitInterruptedWarning, match="left as it was before the call \\(fitted by its previous fit\\)"):
        with pytest.raises(KeyboardInterrupt):
            ae.fit(X2, callback=stop)
    np.testing.assert_array_equal(ae.theta, theta)
    assert ae.cost_ == cost


def test_the_notes_on_a_refused_fit_say_what_state_is_kept():
    ae = numpy_ae.SparseAutoencoder(n_hidden=3, max_iter=5, random_state=0)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN") as info:
        ae.fit(bad)
    assert any("left as it was before the call (unfitted)" in n for n in info.value.__notes__)
    assert not ae._is_fitted()


@pytest.mark.parametrize("make, fit", [
    (lambda: numpy_ae.StackedAutoencoder(hidden_layer_sizes=(4, 3), epochs=2, random_state=0),
     lambda est, X: est.fit_in_phases(X)),
    (lambda: numpy_ae.ConvAutoencoder(filters=(2,), pool=None, output_conv=False, epochs=1,
                                     random_state=0),
     lambda est, X: est.fit_in_phases(X)),
    (lambda: numpy_ae.DenoisingAutoencoder(hidden_layer_sizes=(4,), epochs=2, random_state=0),
     lambda est, X: fit_walkback(est, X, walkback=2)),
], ids=["stacked-phases", "conv-phases", "walkback"])
def test_the_other_fitting_methods_are_transactions_too(make, fit):
    est = make()
    fit(est, X)
    before = state_of(est)
    other = state_copy(est)
    n = count_calls(lambda: fit(other, X2))
    for k in sorted({1, n // 3, 2 * n // 3, n}):
        assert fail_at(lambda: fit(est, X2), k, Injected)
        assert_restored(est, before)


def test_the_cases_the_issue_reported():
    """A refused fit used to break a fitted model: lost image_shape_, random weights after a bad validation set."""
    rng = np.random.default_rng(0)
    images = rng.uniform(0.1, 0.9, (12, 1, 4, 4))
    conv = numpy_ae.ConvAutoencoder(filters=(2,), epochs=1, random_state=0).fit(images)
    codes = conv.transform(images)
    flat = images.reshape(12, -1).copy()
    flat[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        conv.fit(flat)
    assert conv.image_shape_ == (1, 4, 4)
    np.testing.assert_array_equal(conv.transform(images), codes)
    with pytest.raises(ValueError):
        conv.fit(rng.uniform(0.1, 0.9, (12, 1, 6, 6)) * np.inf)
    assert conv.image_shape_ == (1, 4, 4)

    sae = numpy_ae.StackedAutoencoder(hidden_layer_sizes=(3,), epochs=2, random_state=0).fit(X)
    theta = sae.theta.copy()
    bad = X.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sae.fit(X, validation_data=bad)
    np.testing.assert_array_equal(sae.theta, theta)


def test_a_diverging_run_stops_names_the_epoch_and_keeps_the_previous_state():
    sae = numpy_ae.StackedAutoencoder(hidden_layer_sizes=(3,), epochs=2, random_state=0).fit(X)
    theta = sae.theta.copy()
    sae.set_params(learning_rate=1e3, epochs=5)
    with pytest.raises(TrainingDiverged, match=r"in epoch \d: the mean objective grew.*lower the learning rate"):
        sae.fit(X)
    np.testing.assert_array_equal(sae.theta, theta)
    assert sae.message_ == "ran all 2 epochs"
    vae = numpy_ae.VariationalAutoencoder(hidden_layer_sizes=(4,), n_latent=2, method="sgd", learning_rate=1e3,
                                          epochs=5, random_state=0)
    with pytest.raises(TrainingDiverged, match="epoch"):
        vae.fit(X)
    assert not vae._is_fitted()


def test_an_overflowing_objective_leaves_no_nan_model():
    """SparseAutoencoder(beta=1e300) used to leave a 'fitted' model with NaN weights."""
    ae = numpy_ae.SparseAutoencoder(n_hidden=3, beta=1e300, max_iter=20, random_state=0)
    with pytest.raises(TrainingDiverged, match="left as it was|beta"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ae.fit(X)
    assert not ae._is_fitted()


def test_the_adversarial_loop_catches_divergence_too():
    aae = numpy_ae.AdversarialAutoencoder(hidden_layer_sizes=(4,), discriminator_hidden=(4,), loss="mse",
                                          epochs=2, random_state=0).fit(X)
    theta = aae.theta.copy()
    aae.set_params(learning_rate=1e3, epochs=5)
    with pytest.raises(TrainingDiverged, match=r"epoch \d: the mean reconstruction loss grew"):
        aae.fit(X)
    np.testing.assert_array_equal(aae.theta, theta)
