"""Every fast twin (numpy_ae.nn.fast) equals its reference (numpy_ae.nn) to round-off.

The twins are found by introspection: every Layer or Loss class defined in a module of numpy_ae.nn.fast
must subclass a reference class of numpy_ae.nn of the same name (a fast layer without a reference fails),
and every reference class with a twin must have a problem in tests/nn/twin_cases.py. On each problem, in
float64, from the same initial parameters: the outputs of a training pass, the input gradient, the
parameter gradients and the penalties, called by hand (fresh arrays) and inside two training steps
(``Sequential.compute``, where the twins reuse the model's buffers).

Tolerance: rtol 1e-12 (with an absolute floor of 1e-12 times the largest magnitude). The two forms
evaluate the same expressions in a different order or fusion (a GEMV for a column sum, the slope read off
the output), so they differ by a few ulps per operation, about 1e-15 relative; a wrong formula differs
by O(1).
"""
from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest

from numpy_ae import nn
from numpy_ae.nn import fast
from numpy_ae.nn.layer import Layer
from numpy_ae.nn.losses import Loss

from twin_cases import LAYER_CASES, LOSS_CASES, Probe

RTOL = 1e-12


def fast_modules():
    return [importlib.import_module(f"{fast.__name__}.{m.name}") for m in pkgutil.iter_modules(fast.__path__)]


def fast_classes():
    found = []
    for module in fast_modules():
        for obj in vars(module).values():
            if isinstance(obj, type) and obj.__module__ == module.__name__ and issubclass(obj, (Layer, Loss)):
                found.append(obj)
    return found


def close(actual, expected, what):
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    floor = RTOL * max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=floor, err_msg=what)


def test_twins_are_found():
    # guards the walker: were it to find nothing, every test below would pass vacuously
    assert {nn.Dense, nn.Sigmoid} <= set(fast.TWINS)
    assert set(fast.TWINS.values()) == set(fast_classes())


@pytest.mark.parametrize("twin", fast_classes(), ids=lambda c: c.__name__)
def test_every_fast_class_is_the_twin_of_a_reference(twin):
    reference = twin.__mro__[1]
    assert reference not in (Layer, Loss) and reference.__module__.startswith("numpy_ae.nn.") and not \
        reference.__module__.startswith("numpy_ae.nn.fast"), f"{twin.__qualname__} must subclass its reference class in numpy_ae.nn first"
    assert reference.__name__ == twin.__name__, f"{twin.__name__} is the twin of {reference.__name__}"
    assert "__init__" not in vars(twin), "a twin takes its reference's parameters: no __init__ of its own"
    assert fast.TWINS[reference] is twin
    assert reference in LAYER_CASES or reference in LOSS_CASES, (
        f"no problem in tests/nn/twin_cases.py for {reference.__name__}: add one")


def _layer_cases():
    return [pytest.param(cls, case, id=case.name)
            for cls, cases in LAYER_CASES.items() for case in cases
            if any(fast.TWINS.get(type(layer)) for layer in case.layers())]


def _build(case, X, fast_form, G):
    net = nn.Sequential(case.layers(), Probe(G), random_state=0, fast=fast_form)
    case.prepare(net, X)
    return net


@pytest.mark.parametrize("cls, case", _layer_cases())
def test_layer_twin_equals_reference(cls, case):
    rng = np.random.default_rng(1)
    X = case.X(rng)
    ref_net = nn.Sequential(case.layers(), Probe(np.zeros(1)), random_state=0)
    case.prepare(ref_net, X)
    G = rng.standard_normal(ref_net.forward(X, training=True).shape)
    ref, twin = _build(case, X, False, G), _build(case, X, True, G)
    assert any(type(l) in fast.TWINS.values() for l in twin.layers), "the fast model holds no twin"
    assert not any(type(l) in fast.TWINS.values() for l in ref.layers)
    close(twin.theta, ref.theta, "initial theta")

    # by hand: a training pass, then backward to the input
    Y_ref, Y_fast = ref.forward(X, training=True), twin.forward(X, training=True)
    close(Y_fast, Y_ref, f"{case.name}: forward")
    close(sum(l.penalty for l in twin.layers), sum(l.penalty for l in ref.layers), f"{case.name}: penalty")
    dX_ref, dX_fast = ref.backward(G.copy(), input_grad=True), twin.backward(G.copy(), input_grad=True)
    close(dX_fast, dX_ref, f"{case.name}: input gradient")
    close(twin.grad, ref.grad, f"{case.name}: parameter gradients")

    # two training steps: the second reuses the buffers of the first
    for step in range(2):
        J_ref, J_fast = ref.compute(X), twin.compute(X)
        close(J_fast, J_ref, f"{case.name}: objective, step {step}")
        close(twin.grad, ref.grad, f"{case.name}: parameter gradients, step {step}")


def _loss_cases():
    return [pytest.param(cls, case, id=case.name) for cls, cases in LOSS_CASES.items() for case in cases
            if fast.TWINS.get(cls)]


@pytest.mark.parametrize("cls, case", _loss_cases())
def test_loss_twin_equals_reference(cls, case):
    Y, T = case.YT(np.random.default_rng(2))
    ref, twin = case.loss(), fast.to_fast(case.loss())
    assert type(twin) is fast.TWINS[cls]
    for step in range(2):
        close(twin.forward(Y, T), ref.forward(Y, T), f"{case.name}: value")
        close(twin.backward(), ref.backward(), f"{case.name}: gradient")
        close(twin.output(Y), ref.output(Y), f"{case.name}: output")


def test_a_fast_layer_without_a_reference_is_caught(monkeypatch):
    class Doubler(Layer):  # a "fast" layer that subclasses no reference
        def forward(self, X, training=True):
            return 2 * X

    Doubler.__module__ = "numpy_ae.nn.fast.dense"
    with pytest.raises(AssertionError, match="must subclass its reference"):
        test_every_fast_class_is_the_twin_of_a_reference(Doubler)
