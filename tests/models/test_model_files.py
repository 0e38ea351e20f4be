"""Model files (numpy_ae.models.persistence): what each estimator declares it saves, atomic saves, and
every kind of bad file refused with one ValueError naming it. The random mutations of valid files are
in test_model_files_fuzz.py.

The estimators are found by introspection: every configuration of ``ESTIMATOR_CASES`` (the small ones
scikit-learn's checks use) plus the fits that set the rarer attributes (phases, walkback, capacity...).
"""
import copy
import io
import json
import os
import time
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest

import numpy_ae
from models.estimator_cases import ESTIMATOR_CASES, public_estimator_classes
from models.model_file_cases import X, Y, as_loaded, assert_same_model, fit_case
from numpy_ae.models import base, persistence
from numpy_ae.models.codec import content_digest
from numpy_ae.models.fields import NAME, check_state, saved_attributes
from numpy_ae.models.gsn import fit_walkback

def _extra_fits():
    """Fits that set the attributes the plain configurations do not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "SparseAutoencoder(method='adam')": numpy_ae.SparseAutoencoder(
                n_hidden=3, method="adam", epochs=2, random_state=0).fit(X),
            "StackedAutoencoder.fit_in_phases": numpy_ae.StackedAutoencoder(
                hidden_layer_sizes=(3, 2), epochs=1, random_state=0).fit_in_phases(X),
            "ConvAutoencoder.fit_in_phases": numpy_ae.ConvAutoencoder(
                image_shape=(2, 3), filters=(2,), output_conv=False, epochs=1, random_state=0).fit_in_phases(X),
            "ConvAutoencoder on (N, C, H, W)": numpy_ae.ConvAutoencoder(
                filters=(2,), epochs=1, random_state=0).fit(X.reshape(-1, 1, 2, 3)),
            "fit_walkback(DenoisingAutoencoder)": fit_walkback(numpy_ae.DenoisingAutoencoder(
                hidden_layer_sizes=(3,), epochs=1, random_state=0), X, walkback=2),
            "VariationalAutoencoder(capacity=1.0)": numpy_ae.VariationalAutoencoder(
                hidden_layer_sizes=(4,), n_latent=2, capacity=1.0, epochs=2, random_state=0).fit(X),
            "AdversarialAutoencoder(supervised=True)": numpy_ae.AdversarialAutoencoder(
                hidden_layer_sizes=(4,), discriminator_hidden=(4,), prior="mixture", n_components=3, supervised=True,
                epochs=2, random_state=0).fit(X, Y),
            "EncoderClassifier(encoder=SparseAutoencoder)": numpy_ae.EncoderClassifier(
                encoder=numpy_ae.SparseAutoencoder(n_hidden=3, max_iter=5, random_state=0), max_iter=5,
                softmax_max_iter=5, random_state=0).fit(X, Y),
            "LinearAutoencoder.initialize (saved before fit)": numpy_ae.LinearAutoencoder(2).initialize(6),
        }


@pytest.fixture(scope="module")
def fitted():
    out = {label: fit_case(label) for label in ESTIMATOR_CASES}
    out.update(_extra_fits())
    return out


# ------------------------------------------------------------ declarations
def test_every_fitted_state_matches_its_declaration(fitted):
    """The declaration cannot drift from what fit sets: every attribute a fit leaves is declared with its
    kind (and round-trips), for every configuration; a new attribute fails here until it is declared."""
    assert {type(e) for e in fitted.values()} >= set(public_estimator_classes().values())
    for label, est in fitted.items():
        check_state(type(est), as_loaded(est._state()), label)  # raises ValueError naming the problem


def test_every_declared_attribute_is_set_by_some_fit(fitted):
    """...and the other way round: no declaration names an attribute that no fit sets (a stale name)."""
    classes = {c for e in fitted.values() for c in type(e).__mro__ if "_saved_attributes" in vars(c)}
    unused = [(c.__name__, name) for c in classes for name, spec in vars(c)["_saved_attributes"].items()
              if spec is not None and not any(isinstance(e, c) and name in e._state() for e in fitted.values())]
    assert unused == []


@pytest.mark.parametrize("name, klass", sorted(public_estimator_classes().items()))
def test_declarations_name_fitted_attributes_only(name, klass):
    fields = saved_attributes(klass)
    assert fields, f"{name} declares nothing it saves"
    for attr, field in fields.items():
        assert NAME.match(attr) and not any(attr in vars(c) for c in klass.__mro__), attr
        for d in field.shape or ():
            assert not isinstance(d, str) or (fields[d].kind is int and fields[d].required), (attr, d)


@pytest.mark.parametrize("label", sorted(ESTIMATOR_CASES))
def test_save_load_round_trips_every_configuration(fitted, label, tmp_path):
    est = fitted[label]
    assert_same_model(numpy_ae.load(est.save(tmp_path / "m")), est)


# ------------------------------------------------------------------- save
def test_save_returns_the_path_it_wrote(fitted, tmp_path):
    est = fitted["SparseAutoencoder"]
    path = est.save(tmp_path / "m")  # np.savez appends .npz; save says so
    assert path == str(tmp_path / "m.npz") and isinstance(path, str) and os.path.isfile(path)
    assert est.save(str(tmp_path / "other.npz")) == str(tmp_path / "other.npz")
    assert_same_model(numpy_ae.load(est.save(tmp_path / "m")), est)
    assert sorted(os.listdir(tmp_path)) == ["m.npz", "other.npz"]  # no temporary file left beside


def test_save_refuses_a_folder_and_names_a_missing_one(fitted, tmp_path):
    est = fitted["PCA"]
    (tmp_path / "models.npz").mkdir()
    for folder in (tmp_path, tmp_path / "models", tmp_path / "models.npz"):
        folder.mkdir(exist_ok=True)
        with pytest.raises(ValueError, match="it is a folder"):
            est.save(folder)
    with pytest.raises(ValueError, match=r"the folder '.*nowhere' does not exist"):
        est.save(tmp_path / "nowhere" / "m.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models", "models.npz"]  # nothing written beside
    with pytest.raises(ValueError, match="path must be a file name"):
        est.save(3)
    with pytest.raises(ValueError, match="path is empty"):
        est.save("")


def test_save_refuses_what_load_would_refuse(fitted, tmp_path):
    est = copy.deepcopy(fitted["PCA"])
    est.note_ = "mine"
    with pytest.raises(ValueError, match="PCA does not save an attribute 'note_'"):
        est.save(tmp_path / "m.npz")
    del est.note_
    est.mean_ = est.mean_.copy()
    est.mean_[0] = np.nan
    with pytest.raises(ValueError, match=r"PCA.mean_ holds 1 non-finite"):
        est.save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def _fail_midway(monkeypatch, exc):
    """Make np.savez write the first members and half of the next one, then raise ``exc``."""
    real, calls = np.lib.format.write_array, []

    def write_array(fp, array, *args, **kwargs):
        calls.append(array.nbytes)
        if len(calls) == 3:
            buf = np.ascontiguousarray(array).tobytes()
            fp.write(buf[: len(buf) // 2])
            raise exc
        return real(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_array)
    return calls


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["disk full", "Ctrl-C"])
def test_an_interrupted_save_leaves_the_previous_file_intact(fitted, tmp_path, monkeypatch, exc):
    old, new = fitted["SparseAutoencoder"], fitted["SparseAutoencoder(decoder='linear')"]
    path = old.save(tmp_path / "m.npz")
    before = open(path, "rb").read()
    calls = _fail_midway(monkeypatch, exc)
    with pytest.raises(type(exc)):
        new.save(path)
    assert len(calls) == 3  # the failure did happen in the middle of writing the new file
    monkeypatch.undo()
    assert open(path, "rb").read() == before
    assert_same_model(numpy_ae.load(path), old)
    assert os.listdir(tmp_path) == ["m.npz"]  # the partial temporary file is gone
    _fail_midway(monkeypatch, exc)
    with pytest.raises(type(exc)):
        new.save(tmp_path / "first.npz")  # a first save that fails leaves nothing
    assert os.listdir(tmp_path) == ["m.npz"]


def test_save_keeps_the_permissions_of_the_file_it_replaces(fitted, tmp_path):
    path = fitted["PCA"].save(tmp_path / "m.npz")
    os.chmod(path, 0o640)
    fitted["ZCAWhitening"].save(path)
    assert os.stat(path).st_mode & 0o777 == 0o640


# ------------------------------------------------------------- bad files
def members(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def write(path, arrays, sign=True):
    """Write ``arrays`` as a model file; ``sign``: with a digest that matches (a deliberate, hand-made file)."""
    if sign and "digest" in arrays:
        arrays = {**arrays, "digest": np.array(content_digest(arrays))}
    np.savez(path, **arrays)
    return path


def edit(arrays, key, change):
    """``arrays`` with the JSON member ``key`` changed by ``change(dict)``."""
    d = json.loads(str(arrays[key]))
    change(d)
    return {**arrays, key: np.array(json.dumps(d))}


def test_a_file_without_theta_is_refused(fitted, tmp_path):
    arrays = members(fitted["SparseAutoencoder"].save(tmp_path / "m.npz"))
    del arrays["theta"]  # it used to load as an untrained, randomly initialised model
    with pytest.raises(ValueError, match=r"bad.npz: .*the file holds no theta \(the network's parameters\), but "
                                         r"the network its hyperparameters describe has 45 parameters"):
        numpy_ae.load(write(tmp_path / "bad.npz", arrays))


@pytest.mark.parametrize("name", ["fit", "_private_", "n_params_", "transform", "note_"])
def test_only_declared_fitted_attributes_are_set(fitted, tmp_path, name):
    """``{"fit": 5}`` used to set model.fit = 5; methods, properties, private and undeclared names are refused."""
    arrays = members(fitted["SparseAutoencoder"].save(tmp_path / "m.npz"))
    with pytest.raises(ValueError, match=f"bad.npz: .*'{name}'"):
        numpy_ae.load(write(tmp_path / "bad.npz", edit(arrays, "attrs", lambda d: d.update({name: 5}))))


def test_a_huge_network_is_refused_before_it_is_allocated(fitted, tmp_path):
    """n_hidden=10**9 in a 1.6 kB file used to try to allocate 246 GiB."""
    arrays = members(fitted["SparseAutoencoder"].save(tmp_path / "m.npz"))
    path = write(tmp_path / "bad.npz", edit(arrays, "params", lambda d: d.update(n_hidden=10 ** 9)))
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError, match=r"holds theta of 45 parameters, but the network its hyperparameters "
                                             r"describe has 13000000006 parameters \(it was not built\)"):
            numpy_ae.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6 and time.perf_counter() - start < 5


@pytest.mark.parametrize("shape", [(1, 1, 10 ** 9), (1, 10 ** 5, 10 ** 5)])
def test_an_image_size_the_file_does_not_hold_is_refused(fitted, tmp_path, shape):
    """A convolution's parameters do not grow with the image: the image size is capped, not allocated."""
    arrays = members(fitted["ConvAutoencoder(pool=None)"].save(tmp_path / "m.npz"))
    arrays = edit(arrays, "params", lambda d: d.update(image_shape={"__tuple__": list(shape)}))
    arrays = edit(arrays, "attrs", lambda d: d.update(n_features_in_=int(np.prod(shape)),
                                                      image_shape_={"__tuple__": list(shape)}))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="n_features_in_ = .* is larger than every array in the file and than "
                                             "MAX_INPUT_SIZE"):
            numpy_ae.load(write(tmp_path / "bad.npz", arrays))
        assert tracemalloc.get_traced_memory()[1] < 20e6
    finally:
        tracemalloc.stop()


def _theta(fill=None, extra=0, dtype=None, ndim=1):
    def change(arrays):
        t = arrays["theta"]
        t = np.full_like(t, fill) if fill is not None else t
        t = np.concatenate([t, np.zeros(extra)]) if extra else t
        t = t.astype(dtype) if dtype else t
        arrays["theta"] = t.reshape(1, -1) if ndim == 2 else t
    return change


def _nested(depth):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


def _json_member(key, change):
    def apply(arrays):
        arrays.update(edit(arrays, key, change))
    return apply


def _set(key, value):
    def apply(arrays):
        arrays[key] = value
    return apply


def _drop(key):
    return lambda arrays: arrays.pop(key)


BAD = [  # (label, case, change to the members, message)
    ("params not a dict", "SparseAutoencoder", _set("params", np.array("[1, 2]")), "hyperparameters must be a dict"),
    ("params not JSON", "SparseAutoencoder", _set("params", np.array("{n_hidden")), "are not valid JSON"),
    ("duplicate JSON key", "SparseAutoencoder", _set("params", np.array('{"n_hidden": 3, "n_hidden": 4}')),
     r"duplicate keys \['n_hidden'\]"),
    ("bad hyperparameter", "SparseAutoencoder", _json_member("params", lambda d: d.update(n_hidden="three")),
     "hyperparameters are refused: n_hidden must be an integer"),
    ("unknown hyperparameter", "SparseAutoencoder", _json_member("params", lambda d: d.update(bogus=1)),
     r"unknown hyperparameters \['bogus'\]"),
    ("unknown estimator nested", "EncoderClassifier(encoder=SparseAutoencoder)",
     _json_member("params", lambda d: d.update(encoder={"__estimator__": "Nope", "params": {}})), "'Nope'"),
    ("a str for an int", "SparseAutoencoder", _json_member("attrs", lambda d: d.update(n_features_in_="6")),
     "n_features_in_ must be of type int; got str"),
    ("a bool for an int", "SparseAutoencoder", _json_member("attrs", lambda d: d.update(n_iter_=True)),
     "n_iter_ must be of type int; got bool"),
    ("an int for a float", "SparseAutoencoder", _json_member("attrs", lambda d: d.update(cost_=1)),
     "cost_ must be of type float; got int"),
    ("a required attribute missing", "SparseAutoencoder", _json_member("attrs", lambda d: d.pop("n_features_in_")),
     r"has no \['n_features_in_'\]"),
    ("a malformed marker", "ConvAutoencoder(pool=None)",
     _json_member("attrs", lambda d: d.update(code_shape_={"__tuple__": 5})), "malformed __tuple__"),
    ("an estimator among the attributes", "SparseAutoencoder",
     _json_member("attrs", lambda d: d.update(cost_={"__estimator__": "PCA", "params": {}})),
     "malformed __estimator__"),
    ("a too deep list", "SparseAutoencoder", _json_member("attrs", lambda d: d.update(cost_history_=_nested(45))),
     "nested more than 40 levels"),
    ("an undeclared array", "PCA", _set("state__foo_", np.zeros(3)), "PCA does not save an attribute 'foo_'"),
    ("an attribute twice", "PCA", lambda a: a.update(edit(a, "attrs", lambda d: d.update(mean_=1.0))), "saved twice"),
    ("an unexpected member", "PCA", _set("extra", np.zeros(1)), "unexpected member 'extra'"),
    ("no format", "PCA", _drop("format"), "not a numpy_ae model file of format"),
    ("another format", "PCA", _set("format", np.array("numpy_ae.estimator.v9")),
     "found format 'numpy_ae.estimator.v9'"),
    ("no digest in v3", "PCA", _drop("digest"), r"missing keys \['digest'\]"),
    ("an unknown class", "PCA", _set("cls", np.array("Nope")), "holds a Nope, not a known numpy_ae estimator"),
    ("format not text", "PCA", _set("format", np.arange(3)), "'format' must be a text scalar"),
    ("theta float32 for float64", "SparseAutoencoder", _theta(dtype=np.float32),
     "theta has shape .* and dtype float32"),
    ("theta 2-D", "SparseAutoencoder", _theta(ndim=2), "theta must be a 1-D float vector"),
    ("theta of ints", "SparseAutoencoder", _theta(dtype=np.int64), "theta must be a 1-D float vector"),
    ("theta one too long", "SparseAutoencoder", _theta(extra=1), "holds theta of 46 parameters, but the network"),
    ("theta extreme", "SparseAutoencoder(decoder='linear')", _theta(fill=1e308), "non-finite outputs|fails on a probe"),
    ("theta extreme (classifier)", "SoftmaxRegression", _theta(fill=1e308), "non-finite outputs|fails on a probe"),
    ("discriminator too short", "AdversarialAutoencoder",
     lambda a: a.update(state__discriminator_theta_=a["state__discriminator_theta_"][:-1]),
     "cannot rebuild .*: the file holds theta of 80 parameters, discriminator_theta_ of 16, but the network its "
     "hyperparameters describe has 17 parameters"),
    ("components_ of another shape", "PCA", lambda a: a.update(state__components_=a["state__components_"][:, :-1]),
     r"PCA.components_ has shape \(6, 5\); it must be \(n_components_=6, n_features_in_=6\)"),
    ("a NaN in an array", "PCA", lambda a: a["state__mean_"].__setitem__(0, np.nan), "mean_ holds 1 non-finite"),
    ("code_shape_ that disagrees", "ConvAutoencoder(pool=None)",
     _json_member("attrs", lambda d: d.update(code_shape_={"__tuple__": [2, 2, 3]})),
     r"code_shape_ is \(2, 2, 3\) in the file, but the ConvAutoencoder .* has code_shape_ = \(2, 1, 6\)"),
    ("image_shape_ that disagrees", "ConvAutoencoder(pool=None)",
     _json_member("attrs", lambda d: d.update(image_shape_={"__tuple__": [1, 2, 2]})), "image_shape_ is"),
    ("classes_ unsorted", "SoftmaxRegression", lambda a: a.update(state__classes_=a["state__classes_"][::-1].copy()),
     "classes_ is .* in the file"),
    ("classes_ of objects", "SoftmaxRegression", _set("state__classes_", np.array([0, "a"], dtype=object)),
     "no pickles"),
    ("classes_ 2-D", "ConditionalVAE", lambda a: a.update(state__classes_=a["state__classes_"][None]),
     r"classes_ has shape \(1, 3\)"),
    ("encoder spec of another width", "EncoderClassifier",
     _json_member("attrs", lambda d: d["encoder_spec_"][0].__setitem__(2, 5)), "but the network its hyperparameters"),
    ("encoder spec with a float", "EncoderClassifier",
     _json_member("attrs", lambda d: d["encoder_spec_"][0].__setitem__(2, 4.0)), "encoder_spec_ is"),
    ("encoder spec nonsense", "EncoderClassifier",
     _json_member("attrs", lambda d: d.update(encoder_spec_=[["dense"]])), "cannot rebuild the EncoderClassifier"),
]


@pytest.mark.parametrize("label, case, change, match", BAD, ids=[b[0] for b in BAD])
def test_a_bad_file_is_one_value_error_naming_it(fitted, tmp_path, label, case, change, match):
    arrays = members(fitted[case].save(tmp_path / "m.npz"))
    change(arrays)
    path = tmp_path / "bad.npz"
    np.savez(path, **(arrays if "digest" not in arrays else {**arrays, "digest": np.array(content_digest(arrays))}),
             allow_pickle=True)
    with pytest.raises(ValueError, match=match) as info:
        numpy_ae.load(path)
    assert str(info.value).startswith(str(path))


def test_a_file_changed_after_saving_is_refused_by_its_digest(fitted, tmp_path):
    """Valid files of another model: without the digest they would load as that model."""
    path = fitted["SparseAutoencoder"].save(tmp_path / "m.npz")
    arrays = members(path)
    theta = arrays["theta"].copy()
    theta[0] += 1e-3
    for changed in ({**arrays, "theta": theta}, edit(arrays, "attrs", lambda d: d.pop("cost_history_")),
                    edit(arrays, "attrs", lambda d: d.update(message_="converged"))):
        with pytest.raises(ValueError, match="do not match the digest save.. wrote: the file was changed"):
            numpy_ae.load(write(tmp_path / "bad.npz", changed, sign=False))
        numpy_ae.load(write(tmp_path / "signed.npz", changed))  # the same change, signed: a valid file


def _zip(path, members_):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members_:
            zf.writestr(name, data)
    return path


def test_files_that_are_not_model_files(fitted, tmp_path):
    good = fitted["SparseAutoencoder"].save(tmp_path / "m.npz")
    data = open(good, "rb").read()
    np.save(tmp_path / "a.npy", np.zeros(3))  # it used to say "ndarray does not support the context manager protocol"
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x10
    (tmp_path / "flipped.npz").write_bytes(bytes(flipped))
    np.savez_compressed(tmp_path / "compressed.npz", **members(good))
    header = np.lib.format.header_data_from_array_1_0(np.zeros(3))
    header["shape"] = (10 ** 12,)  # 8 TB declared, 24 bytes held: refused before any allocation
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    _zip(tmp_path / "liar.npz", [("theta.npy", buf.getvalue() + bytes(24))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile's "Duplicate name"
        _zip(tmp_path / "dup.npz", [("theta.npy", b"x"), ("theta.npy", b"y")])
    (tmp_path / "text.npz").write_text("hello")
    (tmp_path / "folder.npz").mkdir()
    cases = {"a.npy": "it is a .npy file", "cut.npz": "not a readable numpy_ae model file",
             "flipped.npz": "not a readable numpy_ae model file", "compressed.npz": "is compressed",
             "liar.npz": r"declares shape \(1000000000000,\)", "dup.npz": r"duplicate members \['theta.npy'\]",
             "text.npz": "not a readable", "folder.npz": "it is a folder"}
    for name, match in cases.items():
        with pytest.raises(ValueError, match=match):
            numpy_ae.load(tmp_path / name)
    with pytest.raises(FileNotFoundError):
        numpy_ae.load(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="path must be a file name"):
        numpy_ae.load(None)


def test_load_of_the_expected_class(fitted, tmp_path):
    path = fitted["PCA"].save(tmp_path / "pca.npz")
    assert type(numpy_ae.PCA.load(path)) is numpy_ae.PCA
    with pytest.raises(ValueError, match="holds a PCA, not a ZCAWhitening"):
        numpy_ae.ZCAWhitening.load(path)


def test_the_module_names_still_work(fitted, tmp_path):
    path = fitted["PCA"].save(tmp_path / "pca.npz")
    assert base.load is persistence.load is numpy_ae.load and base.ESTIMATORS is persistence.ESTIMATORS
    assert_same_model(base.load(path), fitted["PCA"])
