"""No traps, in either form: a layer's forward never returns an array that a later call changes, and
backward never changes its argument.

Every concrete Layer and Loss class of numpy_ae.nn (found by walking the package) must have a problem in
tests/nn/twin_cases.py; each problem runs in its reference form and, where the class has one, its fast
twin. Called by hand (as a student would: ``a1 = layer.forward(X)``) and inside ``Sequential.compute``
(the training step, where the twins reuse buffers), the arrays handed out earlier must keep their values
bit for bit, and the incoming gradient must be left as it was.
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


def reference_classes():
    found = set()
    for info in pkgutil.iter_modules(nn.__path__):
        if info.name == "fast":
            continue
        module = importlib.import_module(f"{nn.__name__}.{info.name}")
        for obj in vars(module).values():
            if (isinstance(obj, type) and obj.__module__ == module.__name__ and issubclass(obj, (Layer, Loss))
                    and obj not in (Layer, Loss) and not obj.__name__.startswith("_")
                    and not obj.__dict__.get("_abstract", False)):
                found.add(obj)
    return sorted(found, key=lambda c: c.__name__)


def test_the_walker_finds_the_layers():
    names = {c.__name__ for c in reference_classes()}
    assert {"Dense", "Sigmoid", "KLSparsity", "Conv2D", "SquaredError"} <= names


@pytest.mark.parametrize("cls", reference_classes(), ids=lambda c: c.__name__)
def test_every_class_has_a_problem(cls):
    assert cls in LAYER_CASES or cls in LOSS_CASES, f"add a problem for {cls.__name__} to tests/nn/twin_cases.py"


def _cases():
    return [pytest.param(case, form, id=f"{case.name}-{form}")
            for cases in LAYER_CASES.values() for case in cases for form in ("reference", "fast")]


@pytest.mark.parametrize("case, form", _cases())
def test_layers_hand_out_no_array_that_changes(case, form):
    rng = np.random.default_rng(3)
    X1, X2 = case.X(rng), case.X(rng)
    probe = nn.Sequential(case.layers(), Probe(np.zeros(1)), random_state=0)
    case.prepare(probe, X1)
    G = rng.standard_normal(probe.forward(X1, training=True).shape)
    net = nn.Sequential(case.layers(), Probe(G), random_state=0, fast=form == "fast")
    case.prepare(net, X1)
    for layer in net.layers:  # each layer of the chain by hand, twice
        first_X = X1 if layer is net.layers[0] else net.forward(X1, training=True, layers=net.layers[:net.layers.index(layer)])
        second_X = X2 if layer is net.layers[0] else net.forward(X2, training=True, layers=net.layers[:net.layers.index(layer)])
        A1 = layer.forward(first_X, training=True)
        kept = np.array(A1, copy=True)
        A2 = layer.forward(second_X, training=True)
        assert np.array_equal(A1, kept), f"{layer!r}: a second forward changed the first call's output"
        dY = rng.standard_normal(np.shape(A2))
        dY_kept = dY.copy()
        dX1 = layer.backward(dY)
        assert np.array_equal(dY, dY_kept), f"{layer!r}: backward changed its argument"
        if dX1 is not None:
            dX1_kept = np.array(dX1, copy=True)
            layer.forward(first_X, training=True)
            layer.backward(rng.standard_normal(np.shape(A2)))
            assert np.array_equal(dX1, dX1_kept), f"{layer!r}: a later backward changed an earlier result"
    # the whole model: outputs handed out before a training step keep their values through it
    Y = net.forward(X1, training=True)
    kept = np.array(Y, copy=True)
    net.compute(X2)
    net.compute(X1)
    assert np.array_equal(Y, kept), "a training step changed an array forward had handed out"


@pytest.mark.parametrize("case", [c for cases in LOSS_CASES.values() for c in cases], ids=lambda c: c.name)
@pytest.mark.parametrize("form", ["reference", "fast"])
def test_losses_hand_out_no_array_that_changes(case, form):
    rng = np.random.default_rng(4)
    (Y1, T1), (Y2, T2) = case.YT(rng), case.YT(rng)
    loss = case.loss()
    if form == "fast":
        fast.to_fast(loss)
    Y1_kept, T1_kept = Y1.copy(), T1.copy()
    loss.forward(Y1, T1)
    d1 = loss.backward()
    d1_kept = np.array(d1, copy=True)
    assert np.array_equal(Y1, Y1_kept) and np.array_equal(T1, T1_kept), "the loss changed its inputs"
    loss.forward(Y2, T2)
    loss.backward()
    assert np.array_equal(d1, d1_kept), "a later call changed an earlier gradient"
