"""SGD and Adam, both forms (the reference in train/optimizers.py, the fast twin in train/fast_optimizers.py):
the update rules against hand computations; frozen entries stay put; the twin equal to the reference to
round-off, and bitwise equal to itself whatever the thread count.
lbfgs: why it stopped (converged, stopped early with a ConvergenceWarning, or max_iter reached)."""
import warnings

import numpy as np
import pytest

from numpy_ae.exceptions import ConvergenceWarning
from numpy_ae.train import fast_optimizers, optimizers, threads
from numpy_ae.train.fast_optimizers import make_optimizer
from numpy_ae.train.lbfgs import lbfgs

FORMS = pytest.mark.parametrize("form", [optimizers, fast_optimizers], ids=["reference", "fast"])


@FORMS
def test_plain_sgd_step(form):
    theta, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    form.SGD(learning_rate=0.1).step(theta, g)
    np.testing.assert_allclose(theta, [0.95, -2.025], rtol=1e-15)


@FORMS
def test_momentum_accumulates_velocity(form):
    theta, g = np.zeros(1), np.ones(1)
    opt = form.SGD(learning_rate=0.1, momentum=0.9)
    opt.step(theta, g)  # v = -0.1
    opt.step(theta, g)  # v = -0.19
    np.testing.assert_allclose(theta, [-0.29], rtol=1e-14)


@FORMS
def test_nesterov_step(form):
    theta, g = np.zeros(1), np.ones(1)
    opt = form.SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    opt.step(theta, g)  # v = -0.1; theta += 0.9 * -0.1 - 0.1
    np.testing.assert_allclose(theta, [-0.19], rtol=1e-14)


@FORMS
def test_adam_matches_the_paper_for_three_steps(form):
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(3)]
    expected, m, v = theta.copy(), np.zeros(5), np.zeros(5)
    for t, g in enumerate(grads, start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        expected -= 1e-2 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    opt = form.Adam(learning_rate=1e-2)
    for g in grads:
        opt.step(theta, g)
    np.testing.assert_allclose(theta, expected, rtol=1e-13)


@FORMS
def test_adam_minimises_a_quadratic(form):
    target = np.array([3.0, -1.0, 0.5])
    theta, opt = np.zeros(3), form.Adam(learning_rate=0.05)
    for _ in range(2000):
        opt.step(theta, 2 * (theta - target))
    np.testing.assert_allclose(theta, target, atol=1e-4)


@pytest.mark.parametrize("opt", [optimizers.SGD(0.1, momentum=0.9), optimizers.Adam(0.1),
                                 fast_optimizers.SGD(0.1, momentum=0.9), fast_optimizers.Adam(0.1)])
def test_frozen_entries_do_not_move_even_with_momentum(opt):
    theta, frozen = np.zeros(4), np.array([True, False, True, False])
    opt.step(theta, np.ones(4))
    opt.step(theta, np.ones(4), frozen)
    assert theta[0] != 0 and theta[2] != 0  # moved in the first, unfrozen step
    first = theta.copy()
    opt.step(theta, np.ones(4), frozen)
    np.testing.assert_array_equal(theta[frozen], first[frozen])
    assert np.all(theta[~frozen] < first[~frozen])


@FORMS
def test_float32_state_follows_theta(form):
    theta = np.ones(3, dtype=np.float32)
    opt = form.Adam()
    opt.step(theta, np.ones(3, dtype=np.float32))
    assert theta.dtype == np.float32 and opt.state["m"].dtype == np.float32


@pytest.mark.parametrize("make, match", [
    (lambda: optimizers.SGD(learning_rate=0), "learning_rate must be a finite number > 0; got 0"),
    (lambda: fast_optimizers.Adam(learning_rate=-1e-3), "learning_rate must be a finite number > 0"),
    (lambda: optimizers.SGD(0.1, momentum=1.0), "momentum must be a number strictly between 0.0 and 1.0"),
    (lambda: fast_optimizers.SGD(0.1, nesterov=True), "nesterov=True needs a momentum"),
    (lambda: optimizers.Adam(beta1=1.0), "beta1 must be a number strictly between"),
    (lambda: threads.set_num_threads(0), "n must be an integer >= 1; got 0"),
    (lambda: make_optimizer("rmsprop"), "method must be 'lbfgs', 'adam' or 'sgd'; got 'rmsprop'"),
])
def test_bad_settings(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ---------------------------------------------------------------- the fast twins
TWIN_CASES = [("Adam", {}), ("SGD", {}), ("SGD", {"momentum": 0.9}), ("SGD", {"momentum": 0.9, "nesterov": True})]
SMALL_CHUNK, SMALL_BLOCK = 1 << 12, 1000  # made small here, so that a short vector has many chunks and blocks
LONG = 5 * SMALL_CHUNK + 17  # not a multiple of any count or of the block


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(threads, "MIN_CHUNK", SMALL_CHUNK)
    monkeypatch.setattr(fast_optimizers, "BLOCK", SMALL_BLOCK)


def _run(klass, kwargs, dtype, n_threads, steps=5):
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(LONG).astype(dtype)
    grads = [rng.standard_normal(LONG).astype(dtype) for _ in range(steps)]
    opt = klass(0.01, **kwargs)
    threads.set_num_threads(n_threads)
    try:
        for g in grads:
            opt.step(theta, g)
    finally:
        threads.set_num_threads(None)
    return theta


@pytest.mark.parametrize("name, kwargs", TWIN_CASES)
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_each_fast_optimizer_equals_its_reference(name, kwargs, dtype, rtol):
    """Five steps: the twin (in place, Adam's corrections folded) against the update rule as written.
    rtol: float64 round-off of a few operations per element; float32 the same at 1e-7, times the steps.
    atol = rtol / 10: theta is O(1), so near a zero crossing the error is absolute (a few ulps of 1)."""
    ref = _run(getattr(optimizers, name), kwargs, dtype, 1)
    fast = _run(getattr(fast_optimizers, name), kwargs, dtype, 2)
    assert fast.dtype == ref.dtype == dtype
    np.testing.assert_allclose(fast, ref, rtol=rtol, atol=rtol / 10)


@pytest.mark.parametrize("name, kwargs", TWIN_CASES)
def test_the_fast_optimizers_give_the_same_bits_for_any_thread_count(name, kwargs):
    runs = [_run(getattr(fast_optimizers, name), kwargs, np.float32, n) for n in (1, 2, 3, 4)]
    for other in runs[1:]:
        assert other.tobytes() == runs[0].tobytes()


def test_the_thread_count_follows_the_argument_then_the_environment(monkeypatch):
    monkeypatch.setenv(threads.ENV, "3")
    assert threads.num_threads() == 3
    threads.set_num_threads(2)
    try:
        assert threads.num_threads() == 2
    finally:
        threads.set_num_threads(None)
    monkeypatch.setenv(threads.ENV, "many")
    with pytest.raises(ValueError, match="NUMPY_AE_NUM_THREADS must be an integer >= 1; got 'many'"):
        threads.num_threads()
    monkeypatch.delenv(threads.ENV)
    assert threads.num_threads() >= 1


def test_an_exception_in_a_chunk_is_raised_after_every_chunk_finished():
    done = []

    def part(s):
        done.append(s.start)
        if s.start > 0:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        threads.chunked(part, 4 * threads.MIN_CHUNK, threads=4)
    assert len(done) == 4


# ---------------------------------------------------------------- lbfgs: why it stopped
SCALES = np.logspace(0, 3, 10)  # an ill-conditioned quadratic: L-BFGS needs tens of iterations


def quadratic(theta):
    """:math:`\\sum_i s_i (\\theta_i - 3)^2` in float64 and its exact gradient; minimum 0 at theta = 3."""
    d = theta - 3.0
    return float(d @ (SCALES * d)), 2.0 * SCALES * d


def noisy_quadratic(theta):
    """The quadratic plus 1, rounded to float32: the objective has steps of 1.2e-7 (one float32 ulp at 1).

    Once L-BFGS is so close that every decrease it asks for is below that step,
    no step passes the line search. scipy (1.17) then reports "CONVERGENCE:
    RELATIVE REDUCTION OF F" with success=True although the objective did not
    decrease: the false convergence a float32 sparse autoencoder showed.
    """
    d = theta - 3.0
    return float(np.float32(1.0) + (SCALES * d * d).astype(np.float32).sum(dtype=np.float32)), 2.0 * SCALES * d


def wrong_sign_gradient(theta):
    """:math:`\\lVert\\theta - 3\\rVert^2` with the gradient's sign flipped: every direction L-BFGS tries goes uphill."""
    return float((theta - 3.0) @ (theta - 3.0)), -2.0 * (theta - 3.0)


@pytest.mark.parametrize("fun", [noisy_quadratic, wrong_sign_gradient])
def test_lbfgs_warns_and_says_so_when_the_line_search_fails(fun):
    with pytest.warns(ConvergenceWarning) as record:
        res = lbfgs(fun, np.zeros(10), max_iter=200)
    assert res.stopped_early and not res.converged
    assert res.nit < 200 and isinstance(res.message, str) and res.message
    (w,) = record
    text = str(w.message)
    for part in (f"{res.nit} of max_iter=200 iterations", f"{res.nfev} evaluations", res.message, "gradcheck"):
        assert part in text
    assert w.filename == __file__  # stacklevel points at the caller of lbfgs


def test_lbfgs_float32_hint_names_the_dtype():
    def noisy32(theta):
        J, g = noisy_quadratic(theta)
        return J, g.astype(np.float32)

    with pytest.warns(ConvergenceWarning, match="dtype='float64'"):
        lbfgs(noisy32, np.zeros(10), max_iter=200)


def test_lbfgs_converging_quadratic_is_converged_and_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = lbfgs(quadratic, np.zeros(10), max_iter=200)
    assert res.converged and not res.stopped_early
    assert res.nit < 200
    np.testing.assert_allclose(res.x, 3.0, atol=1e-6)  # gtol 1e-5 on a gradient 2 s_i d_i, s_i >= 1


def test_lbfgs_reaching_max_iter_is_not_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = lbfgs(quadratic, np.zeros(10), max_iter=3)
    assert res.nit == 3 and len(res.history) == 3
    assert not res.converged and not res.stopped_early


def test_lbfgs_evaluation_cap_is_an_early_stop():
    with pytest.warns(ConvergenceWarning, match="max_fun=5 was reached"):
        res = lbfgs(quadratic, np.zeros(10), max_iter=200, max_fun=5)
    assert res.stopped_early and not res.converged and res.nit < 200


def test_lbfgs_stop_asked_by_the_callback_is_not_an_early_stop():
    def stop_at_3(k, cost):
        if k == 3:
            raise StopIteration

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = lbfgs(quadratic, np.zeros(10), max_iter=200, callback=stop_at_3)
    assert res.nit == 3 and not res.converged and not res.stopped_early


def test_lbfgs_bad_max_fun():
    with pytest.raises(ValueError, match="max_fun"):
        lbfgs(quadratic, np.zeros(10), max_fun=0)
