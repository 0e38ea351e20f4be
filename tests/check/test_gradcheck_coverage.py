"""Every Layer and Loss subclass in the package has a registered gradient check, found without a list.

The rule (stated in numpy_ae/check/catalogue.py): a check declares what it covers with
``register(name, covers=(Class, ...))``. Exempt: Layer and Loss themselves, names
starting with "_", and abstract bases with ``_abstract = True`` in their own body.
"""
import importlib
import pkgutil

import pytest

import numpy_ae
from numpy_ae.check.registry import COVERS, REGISTRY, run_checks
from numpy_ae.nn.layer import Layer
from numpy_ae.nn.losses import Loss

run_checks([])  # imports numpy_ae.check.catalogue: fills REGISTRY and COVERS


def _import_all_modules():
    for info in pkgutil.walk_packages(numpy_ae.__path__, prefix="numpy_ae."):
        if not info.name.endswith("__main__"):  # importing it would run the command line
            importlib.import_module(info.name)


def _subclasses(root):
    found, todo = set(), [root]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def concrete_classes():
    _import_all_modules()
    classes = set()
    for root in (Layer, Loss):
        for cls in _subclasses(root):
            if not cls.__module__.startswith("numpy_ae."):  # test-local classes (tests.*, __main__)
                continue
            if cls.__name__.startswith("_") or cls.__dict__.get("_abstract", False):
                continue
            if cls.__module__.startswith("numpy_ae.nn.fast."):  # twins: tests/nn/test_fast_twins.py
                continue
            classes.add(cls)
    return classes


def test_discovery_finds_the_known_classes():
    # guards the walker itself: were it to find nothing, the coverage test below would pass vacuously
    names = {c.__name__ for c in concrete_classes()}
    assert {"Dense", "TiedDense", "Sigmoid", "KLSparsity", "MaskingNoise", "SquaredError",
            "BinaryCrossEntropy", "SoftmaxCrossEntropy"} <= names
    assert "Corruption" not in names and "Layer" not in names and "Loss" not in names


def test_every_layer_and_loss_has_a_registered_check():
    covered = {cls for classes in COVERS.values() for cls in classes}
    missing = sorted(f"{c.__module__}.{c.__name__}" for c in concrete_classes() - covered)
    assert not missing, (f"no registered gradient check covers {missing}: register one in numpy_ae/check/catalogue.py "
                         "with register(name, covers=(TheClass,))")


def test_a_new_uncovered_class_would_be_caught(monkeypatch):
    class Doubler(Layer):  # defined as if in the package: the walker must report it
        def forward(self, X, training=True):
            return 2 * X

        def backward(self, dY):
            return 2 * dY

    monkeypatch.setattr(Doubler, "__module__", "numpy_ae.nn.layer")
    covered = {cls for classes in COVERS.values() for cls in classes}
    assert Doubler in concrete_classes() - covered


@pytest.mark.parametrize("name", sorted(n for n in REGISTRY if COVERS[n]))
def test_declared_coverage_is_exercised(name):
    """A check may only claim the classes whose backward pass it actually ran."""
    (res,) = run_checks([name])
    assert set(COVERS[name]) <= res.classes, (name, COVERS[name], res.classes)
