"""Valid model files of several estimators, mutated at random (hypothesis): each loads as the saved model
or raises one ValueError naming the file; any other exception fails.

Two kinds of damage:

* ``damaged``: the file as an accident or a careless edit leaves it: members dropped, renamed or
  duplicated, arrays of another dtype, shape or value, JSON fields edited or garbled, the bytes
  truncated or flipped. Each must load to a model equal to the saved one (same class,
  hyperparameters, ``_state()`` and ``theta`` bit for bit, same outputs) or raise the ValueError.
* ``forged``: the same member-level edits, with the digest recomputed, as someone who knows the format
  would write them. Such a file describes another model, so it cannot be equal to the saved one; it
  must raise the ValueError or load as a consistent model: its state passes its class's declaration,
  it gives finite outputs, and it saves and loads again to itself.

Deterministic (``derandomize=True``) and bounded: ``EXAMPLES`` examples per kind.
"""
import io
import json
import pathlib
import tempfile
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

import numpy_ae
from numpy_ae.models.codec import content_digest
from numpy_ae.models.fields import check_state
from models.model_file_cases import as_loaded, assert_same_model, fit_case, output, probe_inputs

CASES = ("SparseAutoencoder", "LinearAutoencoder", "ConvAutoencoder(pool=None)", "ConditionalVAE",
         "AdversarialAutoencoder", "PCA", "EncoderClassifier")
EXAMPLES = {"damaged": 400, "forged": 300}
MEMBER_OPS = ("drop", "rename", "duplicate", "dtype", "shape", "value", "json_node", "json_text")
BYTE_OPS = ("truncate", "flip")
DTYPES = (np.float32, np.float64, np.int64, np.int8, bool, np.complex128, "<U8", ">f8", object)
VALUES = (np.nan, np.inf, -np.inf, 0.0, -1.0, 0.5, 1e300, 1e308, 2.0 ** 31, 123456789.0)
JSON_VALUES = (None, True, False, 0, -1, 1, 3, 10 ** 9, 10 ** 30, 0.5, -0.0, 1e308, "abc", "", [], {}, [1, 2],
               {"__tuple__": [1, 2]}, {"__tuple__": 3}, {"__float__": "nan"}, {"__float__": 1},
               {"__array__": [1.0, 2.0], "dtype": "float64"}, {"__array__": [1], "dtype": "object"},
               {"__estimator__": "PCA", "params": {}}, {"__estimator__": "Nope", "params": {}}, [[[[[[0]]]]]])
NAMES = ("theta", "params", "attrs", "format", "cls", "digest", "state__mean_", "state__fit", "state__classes_",
         "extra", "x/../theta", "state__")
SETTINGS = dict(derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    """label -> (members [(name, bytes)], the model the unchanged file loads as)."""
    folder = tmp_path_factory.mktemp("originals")
    out = {}
    for label in CASES:
        path = fit_case(label).save(folder / "m.npz")
        with zipfile.ZipFile(path) as zf:
            out[label] = ([(i.filename, zf.read(i)) for i in zf.infolist()], numpy_ae.load(path))
    return out


def _array(data):
    try:
        return np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
    except Exception:
        return None


def _npy(array):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)  # object arrays become pickles: load must refuse them
    return buf.getvalue()


def _json_nodes(value, path=()):
    yield path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        yield from _json_nodes(v, path + (k,))


def _edit_json(text, a, b):
    """Delete, replace, rename or wrap one node of the JSON ``text``, or repeat one of its keys with another
    value (chosen by the ints a, b)."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if isinstance(doc, dict) and doc and b % 5 == 4:
        key = sorted(doc)[a % len(doc)]
        return text.rstrip()[:-1] + f", {json.dumps(key)}: {json.dumps(JSON_VALUES[(b // 5) % len(JSON_VALUES)])}}}"
    nodes = list(_json_nodes(doc))
    path = nodes[a % len(nodes)]
    if not path:
        return json.dumps(JSON_VALUES[b % len(JSON_VALUES)])
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    key, action = path[-1], b % 4
    if action == 0:
        del parent[key]
    elif action == 1:
        parent[key] = JSON_VALUES[(b // 4) % len(JSON_VALUES)]
    elif action == 2 and isinstance(parent, dict):
        parent[("fit", "x_", "cost_", "n_features_in_", "_private_", key + "_")[(b // 4) % 6]] = parent.pop(key)
    else:
        parent[key] = [parent[key]]
    return json.dumps(doc)


def _mutate_member(members, op, a, b, c):
    """Apply one member-level edit to ``members`` [(name, bytes)] in place (a no-op when it does not apply)."""
    if not members:
        return
    i = a % len(members)
    name, data = members[i]
    array = _array(data)
    if op == "drop":
        del members[i]
    elif op == "rename":
        members[i] = (NAMES[b % len(NAMES)] + ".npy", data)
    elif op == "duplicate":
        members.insert(b % (len(members) + 1), (name if c % 2 else members[b % len(members)][0], data))
    elif op in ("dtype", "shape", "value") and array is not None and array.dtype.kind != "U":
        flat = array.ravel()
        if op == "dtype":
            new = array.astype(DTYPES[b % len(DTYPES)])
        elif op == "shape":
            new = (flat[:-1], np.concatenate([flat, flat[:1]]), array[None], flat, array.T, flat[:0],
                   array[..., None])[b % 7]
        else:
            if not flat.size:
                return
            new = array.copy()
            try:
                new.ravel()[c % flat.size] = VALUES[b % len(VALUES)]  # (a view: array is contiguous)
            except (ValueError, OverflowError):
                return
        members[i] = (name, _npy(new))
    elif op in ("json_node", "json_text") and array is not None and array.dtype.kind == "U" and array.ndim == 0:
        text = str(array[()])
        if op == "json_node":
            text = _edit_json(text, b, c)
            if text is None:
                return
        else:
            k, ch = b % (len(text) + 1), '{}[]",:0a\\ -'[c % 12]
            text = (text[:k] + ch + text[k:], text[:k] + text[k + 1:], text[:k] + ch + text[k + 1:])[(c // 12) % 3]
        members[i] = (name, _npy(np.array(text)))


def _resign(members):
    """Recompute the digest over the members as load reads them (when every member reads as an array)."""
    arrays = {n[:-4]: _array(d) for n, d in members if n.endswith(".npy")}
    if any(a is None for a in arrays.values()):
        return
    digest = _npy(np.array(content_digest(arrays)))
    members[:] = [(n, digest if n == "digest.npy" else d) for n, d in members]


def _write(path, members, byte_ops=()):
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile's "Duplicate name"
        with zipfile.ZipFile(buf, "w") as zf:
            for name, data in members:
                zf.writestr(name, data)
    data = bytearray(buf.getvalue())
    for op, a, b in byte_ops:
        if op == "truncate":
            data = data[: a % (len(data) + 1)]
        elif data:
            data[a % len(data)] ^= b % 255 + 1
    pathlib.Path(path).write_bytes(bytes(data))


def _ops(kinds):
    """1 to 3 edits, each ``(kind, a, b, c)``: the ints choose where and what (modulo the sizes they index)."""
    return st.lists(st.tuples(st.sampled_from(kinds), *[st.integers(0, 2 ** 32)] * 3), min_size=1, max_size=3)


def _load_or_refuse(path):
    """The loaded model, or None after checking the ValueError names the file."""
    try:
        return numpy_ae.load(path)
    except ValueError as exc:
        assert str(exc).startswith(str(path)), str(exc)
        return None


@settings(max_examples=EXAMPLES["damaged"], **SETTINGS)
@given(label=st.sampled_from(CASES), ops=_ops(MEMBER_OPS + BYTE_OPS))
def test_a_damaged_file_loads_as_the_saved_model_or_raises_value_error(originals, label, ops):
    members, reference = list(originals[label][0]), originals[label][1]
    for op, a, b, c in ops:
        if op in MEMBER_OPS:
            _mutate_member(members, op, a, b, c)
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "m.npz"
        _write(path, members, [(op, a, b) for op, a, b, _ in ops if op in BYTE_OPS])
        model = _load_or_refuse(path)
    event(f"damaged: {'loaded, equal' if model is not None else 'ValueError'}")
    if model is not None:
        assert_same_model(model, reference)


@settings(max_examples=EXAMPLES["forged"], **SETTINGS)
@given(label=st.sampled_from(CASES), ops=_ops(MEMBER_OPS))
def test_a_forged_file_loads_as_a_consistent_model_or_raises_value_error(originals, label, ops):
    members = list(originals[label][0])
    for op, a, b, c in ops:
        _mutate_member(members, op, a, b, c)
    _resign(members)
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "m.npz"
        _write(path, members)
        model = _load_or_refuse(path)
        event(f"forged: {'loaded' if model is not None else 'ValueError'}")
        if model is None:
            return
        check_state(type(model), as_loaded(model._state()), "the loaded model")
        X, y = probe_inputs(model)
        assert np.isfinite(output(model, X, y)).all()
        assert_same_model(numpy_ae.load(model.save(pathlib.Path(folder) / "again.npz")), model)
