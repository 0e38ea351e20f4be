"""The checker's verdict: finite-difference error is not reported as a wrong gradient, a wrong one is.

Correct models are checked at points where UFLDL's plain threshold (1e-9 at eps 1e-4) fails for
reasons that are not bugs: trained and near-minimum points (small gradients, so truncation error is
large relative to them) and inputs or weights scaled by 1e3 and 1e-3 (rounding dominates, units
saturate). None may be called wrong. The error model itself is tested on functions whose
finite-difference errors are known in closed form.
"""
import numpy as np
import pytest

from numpy_ae import LinearAutoencoder, SparseAutoencoder, nn
from numpy_ae.check.gradcheck import MAX_FD_ERROR, SAFETY, check_function, check_layer, check_model
from numpy_ae.nn.noise import GaussianNoise
from numpy_ae.models.softmax import SoftmaxRegression
from numpy_ae.models.stacked import DenoisingAutoencoder, StackedAutoencoder


def _sin(x, factor=1.0):
    return float(np.sum(np.sin(3 * x))), factor * 3 * np.cos(3 * x)


X8 = np.random.default_rng(0).uniform(-1, 1, 8)


# ------------------------------------------------------------ the error model
def test_truncation_error_is_named_and_not_a_bug():
    # sin(3x) at eps 1e-2: truncation (eps^2/6) 27 sin / (3 cos) ~ 1e-4 relative, far above 1e-9
    res = check_function(_sin, X8, eps=1e-2)
    v = res.verdicts["x"]
    assert res.rel_diff > 1e-5 and res.ok
    assert (v.verdict, v.cause) == ("fd_error", "truncation"), v.reason
    assert "falls like eps^2" in v.reason
    # measured 100x smaller per decade, as eps^2 predicts (to 1%: the next Taylor term is 1e-4 smaller)
    assert v.rel_diffs[1e-2] / v.rel_diffs[1e-3] == pytest.approx(100, rel=0.01)


def test_rounding_error_is_named_and_not_a_bug():
    # J = 1e12 |x|^2 is ~1e12: rounding u|J|/eps = 2e-4/eps against a gradient ~1e12: 6e-9 at eps 1e-8
    res = check_function(lambda x: (1e12 * float(x @ x), 2e12 * x), X8, eps=1e-8)
    v = res.verdicts["x"]
    assert res.rel_diff > 1e-9 and res.ok
    assert (v.verdict, v.cause) == ("fd_error", "rounding"), v.reason
    assert "grows like 1/eps" in v.reason


@pytest.mark.parametrize("factor, eps", [(0.999, 1e-4), (1 - 1e-6, 1e-4), (-0.5, 1e-4), (2.0, 1e-2), (0.999, 1e-2)])
def test_wrong_gradient_stays_put_and_is_wrong(factor, eps):
    # the discrepancy (1 - factor)/(1 + factor) does not change with eps; the best step's finite-difference
    # error (~1e-10) is orders of magnitude smaller, even when the check starts at a poor eps = 1e-2
    res = check_function(lambda x: _sin(x, factor), X8, eps=eps)
    v = res.verdicts["x"]
    assert not res.ok and v.verdict == "wrong", v.reason
    assert v.discrepancy == pytest.approx(abs(1 - factor) / abs(1 + factor), rel=1e-2)
    assert v.discrepancy > SAFETY * v.fd_error and "stays put" in v.reason


def test_huge_objective_that_small_steps_cannot_move_is_not_wrong():
    # J = 1e10 + |x|^2: steps below ~1e-6 leave J unchanged (numerical gradient exactly 0), which must be
    # read as rounding (the floor u|J|/h), not as a gradient that "stays put" at the wrong value
    res = check_function(lambda x: (1e10 + float(x @ x), 2 * x), X8, eps=1e-4)
    assert res.ok and res.verdicts["x"].verdict in ("fd_error", "inconclusive"), res.report()


def test_unfrozen_noise_in_a_layer_check_is_refused_not_judged():
    # fresh noise at each evaluation: the numerical gradient would be noise/eps at every step
    X = np.random.default_rng(1).standard_normal((5, 4))
    with pytest.raises(ValueError, match=r"not a fixed function of theta.*freeze_noise"):
        check_layer(GaussianNoise(0.3), X)


@pytest.mark.parametrize("layer", [nn.ReLU(), nn.ELU()], ids=["relu", "elu"])
def test_kink_inside_the_step_is_not_wrong(layer):
    # inputs at +-3e-5: UFLDL's eps = 1e-4 straddles the kink at 0 (rel_diff 0.17 for ReLU); from 1e-5 on
    # it does not, and the error vanishes
    X = np.random.default_rng(1).standard_normal((5, 4))
    X[0], X[1] = 3e-5, -3e-5
    res = check_layer(layer, X)
    v = res.verdicts["dX"]
    assert res.rel_diff > 1e-6 and res.ok and v.verdict == "fd_error", res.report()


def test_fd_error_verdict_certifies_a_bound():
    """"fd_error" is granted only when the best-step error bound is at most MAX_FD_ERROR, so any bug larger
    than SAFETY * MAX_FD_ERROR = 1e-4 relative (a factor 0.999 gives 5e-4) would have been called wrong."""
    assert SAFETY * MAX_FD_ERROR <= 1e-4 < (1 - 0.999) / (1 + 0.999)


# ------------------------------------------------ correct models, hard points
def _tied_tanh_after_training(epochs=3):
    """A correct model that UFLDL's threshold alone calls wrong: a tied tanh 13-7-4 StackedAutoencoder
    (hidden_layer_sizes=(7, 4)) after Adam."""
    X = np.random.default_rng(0).uniform(0, 1, (200, 13))
    ae = StackedAutoencoder(hidden_layer_sizes=(7, 4), activation="tanh", tied=True, random_state=0)
    ae.set_params(method="adam", epochs=epochs, batch_size=8, learning_rate=1e-2).fit(X)
    return ae.network_, X


def test_tied_tanh_after_training_is_truncation_not_a_bug():
    net, X = _tied_tanh_after_training()
    res = check_model(net, X)  # UFLDL's eps = 1e-4, the default
    assert res.rel_diff > 1e-8  # UFLDL's threshold alone would report this correct gradient as wrong
    assert res.ok and res.conclusive, res.report()
    analysed = {k: v for k, v in res.verdicts.items() if v.verdict != "ok"}
    assert len(analysed) >= 4
    assert all(v.verdict == "fd_error" and v.cause == "truncation" for v in analysed.values()), res.report()
    assert "falls like eps^2" in res.report() and "wrong gradient" not in res.report()


def test_tied_tanh_after_training_with_a_factor_0999_is_wrong_there():
    net, X = _tied_tanh_after_training()
    enc = net.layers[0]
    plain = enc.backward

    def backward(dZ):
        out = plain(dZ)
        enc.dW *= 0.999  # this block only: the tied decoder's share is already in dW
        return out

    enc.backward = backward
    res = check_model(net, X)
    assert res.wrong_blocks == ["dense0.W"], res.report()


def _scaled_models():
    rng = np.random.default_rng(3)
    for activation in ("elu", "tanh", "sigmoid"):
        for what in ("inputs", "weights", "both"):
            for scale in (1e3, 1e-3):
                yield f"{activation}-{what}-x{scale:g}", activation, what, scale, rng.standard_normal((20, 6))


SCALED = list(_scaled_models())


@pytest.mark.parametrize("name, activation, what, scale, X", SCALED, ids=[s[0] for s in SCALED])
def test_scaled_models_are_not_called_wrong(name, activation, what, scale, X):
    net = StackedAutoencoder(hidden_layer_sizes=(4, 3), activation=activation, random_state=1).initialize(6).network_
    if what != "inputs":
        net.theta *= scale
    if what != "weights":
        X = scale * X
    res = check_model(net, X)
    assert res.ok, res.report()  # no block wrong; "inconclusive" is allowed where rounding swamps a gradient


def test_near_minimum_models_are_not_called_wrong():
    rng = np.random.default_rng(4)
    X = rng.uniform(0.1, 0.9, (30, 8))
    sae = SparseAutoencoder(n_hidden=5, random_state=0, max_iter=400).fit(X)      # L-BFGS to |grad| ~ 2e-5
    lin = LinearAutoencoder(n_components=3, random_state=0).fit(X)
    dae = DenoisingAutoencoder(hidden_layer_sizes=(5,), random_state=0, method="adam", epochs=20, batch_size=5).fit(X)
    for layer in dae.network_.layers:
        if hasattr(layer, "freeze_noise"):
            layer.freeze_noise()
    y = (X[:, 0] > 0.5).astype(int) + (X[:, 1] > 0.5)
    soft = SoftmaxRegression(weight_decay=1e-4, random_state=0).fit(X, y)
    results = [check_model(sae.network_, X), check_model(lin.network_, X), check_model(dae.network_, X),
               check_model(soft.network_, X, y)]
    for res in results:
        assert res.ok, res.report()
    # at least one of them fails UFLDL's plain threshold: the verdict is what keeps it from crying wolf
    assert max(r.rel_diff for r in results) > 1e-9


def test_kink_exactly_at_the_point_is_inconclusive_but_a_bug_elsewhere_still_shows():
    # two ReLU inputs exactly 0: the centred difference there is the mean of the one-sided slopes (0.5)
    # at every step, "staying put" like a bug, but the derivative does not exist
    X = np.random.default_rng(1).standard_normal((5, 4))
    X[0, :2] = 0.0
    res = check_layer(nn.ReLU(), X)
    v = res.verdicts["dX"]
    assert res.ok and v.verdict == "inconclusive" and v.cause == "kink at the point", res.report()
    assert "in 2 of 20 elements" in v.reason

    class ReLUTimes09(nn.ReLU):
        def backward(self, dA):
            return super().backward(dA) * 0.9

    res = check_layer(ReLUTimes09(), X)
    assert res.wrong_blocks == ["dX"] and "2 element(s) at a kink set aside" in res.report()


def test_unfrozen_noise_is_refused_with_the_fix_named():
    """Fresh noise on every pass makes a gradient check meaningless: say so, instead of any verdict."""
    from numpy_ae import StackedAutoencoder

    ae = StackedAutoencoder(hidden_layer_sizes=(4,), corruption="masking", random_state=0).initialize(6)
    X = np.random.default_rng(0).uniform(0, 1, (10, 6))
    with pytest.raises(ValueError, match=r"not a fixed function of theta.*call its freeze_noise\(\)"):
        check_model(ae.network_, X)
    ae.network_.layers[0].freeze_noise()
    assert check_model(ae.network_, X, eps=1e-5).ok
