"""Shared by the model-file tests (test_model_files.py, test_model_files_fuzz.py): fitted copies of the
``ESTIMATOR_CASES`` configurations and the comparison of two models."""
import copy
import inspect
import json
import warnings

import numpy as np

from models.estimator_cases import ESTIMATOR_CASES, NEEDS_Y, small_data
from numpy_ae.models.codec import from_json, to_json
from numpy_ae.models.fields import same

X, Y = small_data()


def fit_case(label):
    """A fitted copy of ``ESTIMATOR_CASES[label]`` (seeded: the same bits every run)."""
    est = copy.deepcopy(ESTIMATOR_CASES[label])
    if "random_state" in est.get_params(deep=False):
        est.set_params(random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, Y) if type(est).__name__ in NEEDS_Y else est.fit(X)


def as_loaded(state):
    """``state`` as a file holds it: arrays as they are, everything else through JSON."""
    return {k: v if isinstance(v, np.ndarray) else from_json(json.loads(json.dumps(to_json(v, k))), False)
            for k, v in state.items()}


def probe_inputs(model):
    """Two examples for ``model`` (and a label for each, for the models that take one)."""
    n = model.n_features_in_
    y = getattr(model, "classes_", None)
    return np.linspace(0.1, 0.9, 2 * n).reshape(2, n), (y[[0, -1]] if y is not None else None)


def output(est, X, y):
    """Class probabilities, or codes (``transform(X, y)`` for a model whose transform takes labels)."""
    if hasattr(est, "predict_proba"):
        return est.predict_proba(X)
    return est.transform(X, y) if "y" in inspect.signature(est.transform).parameters else est.transform(X)


def assert_same_model(a, b):
    """Same class, hyperparameters, fitted state and theta (bit for bit) and the same outputs."""
    assert type(a) is type(b)
    assert to_json(a.get_params(deep=False), "") == to_json(b.get_params(deep=False), "")
    sa, sb = as_loaded(a._state()), as_loaded(b._state())
    assert sa.keys() == sb.keys(), sa.keys() ^ sb.keys()
    assert all(same(sa[k], sb[k]) for k in sa), [k for k in sa if not same(sa[k], sb[k])]
    if getattr(a, "network_", None) is not None:
        assert same(a.network_.theta, b.network_.theta)
    X, y = probe_inputs(a)
    assert same(output(a, X, y), output(b, X, y))
