r"""Model files: :func:`save` writes an estimator atomically; :func:`load` trusts nothing in a file.

The file is a NumPy ``.npz`` (a zip of ``.npy`` members, no pickle): ``format``, ``cls`` (the class
name), ``params`` (hyperparameters, JSON), ``attrs`` (fitted scalars, lists and dicts, JSON), one
``state__<name>`` member per fitted array, ``theta`` (a network's parameters: the network itself is
rebuilt from the hyperparameters) and ``digest``. Format v3 is v2 plus ``digest``; v2 files still load.

Saving
------
``save`` writes a temporary file beside the destination (same folder, so the same file system) and
moves it over the destination with ``os.replace``, which is atomic: an interrupted or failing save
(Ctrl-C, a full disk, an error) leaves the previous file as it was and removes the temporary one.
It refuses a folder, names a missing parent folder (ValueError), refuses to write an attribute
``load`` would refuse (an undeclared one, a NaN array), and returns the path it wrote, always a
``str`` ending in ``.npz`` (``np.savez``'s rule), so ``load(model.save("m"))`` works.

Loading
-------
Every problem with a file is one ``ValueError`` that names the file and the problem; only a missing
file is a ``FileNotFoundError``. In order:

1. Sizes are bounded by the file before anything is allocated, and no pickle is read
   (:func:`~numpy_ae.models.codec.read_members`). A ``.npy`` file, a folder, a truncated or
   damaged zip (CRC) are refused there.
2. Hyperparameters are decoded strictly and pass the class's own checks (``klass(**params)``).
3. Fitted attributes are checked against what the class declares it saves
   (:mod:`numpy_ae.models.fields`): names, exact types, dtypes, shapes, finiteness, required ones.
4. The network is rebuilt under :func:`~numpy_ae.nn.sequential.limit_parameter_counts`: one whose
   parameter count is not the size of one of the file's parameter vectors (``theta``, the AAE's
   ``discriminator_theta_``) is refused before its ``theta`` is allocated, so a 1.6 kB file with
   ``n_hidden=10**9`` fails at once, and a network class without ``theta`` fails too. Sizes the
   parameters do not bound (a convolution's weights do not grow with the image): ``n_features_in_``
   above every array in the file is capped at :data:`MAX_INPUT_SIZE` values per example.
5. Consistency: whatever ``_rebuild`` recomputes (``n_features_in_``, image and code shapes,
   ``classes_``, the classifier's encoder layers...) must equal the file's value exactly; ``theta``
   must fit the rebuilt network in shape and dtype. A ``_rebuild`` must therefore not write the
   file's values back over what it computed: ``load`` puts back only what it did not compute.
   Then a probe: ``transform`` and ``inverse_transform`` (or ``predict_proba``) of two examples must
   run and give finite numbers (for at most :data:`PROBE_MAX_FEATURES` inputs).
6. For v3, the SHA-256 ``digest`` that ``save`` computed over every member must match what was read.

Why a digest: a changed number in ``theta``, a dropped ``cost_history_`` or an edited ``message_``
makes a valid file of *another* model, which no check of names, types and shapes can tell from the
original. With it, a file loads as the model that was saved (bit for bit: attributes, ``theta``,
outputs) or is refused. The checks 1-5 do not rely on it: a hand-made file with a matching digest
(or a v2 file, which has none) still passes all of them or is refused, and never crashes ``load``
with another exception or makes it allocate what the file does not hold.
"""
from __future__ import annotations
import contextlib
import inspect
import json
import os
import secrets
import stat
import numpy as np
from ..nn.sequential import limit_parameter_counts
from .codec import ESTIMATORS, construct, content_digest, from_json, json_field, read_members, text_field, to_json
from .fields import check_state, same, saved_attributes, short

__all__ = ["save", "load", "save_path", "ESTIMATORS", "FORMAT", "MAX_INPUT_SIZE", "PROBE_MAX_FEATURES"]

FORMAT, FORMAT_V2 = "numpy_ae.estimator.v3", "numpy_ae.estimator.v2"
HEADER = ("format", "cls", "params", "attrs")
MAX_INPUT_SIZE = 2 ** 20  # values per example beyond the largest array in the file (a 1024 x 1024 image)
PROBE_MAX_FEATURES = 2 ** 16
_MISSING = object()


# ------------------------------------------------------------------ save
def save(est, path):
    """Write the fitted estimator ``est`` to ``path`` (``.npz`` appended unless there) atomically.

    Returns the path written, a ``str``. ValueError for a folder, a missing parent folder or a
    fitted attribute ``load`` would refuse; nothing is written then.
    """
    est._check_is_fitted()
    name = type(est).__name__
    target = save_path(path)
    arrays, attrs, as_loaded = {}, {}, {}
    for key, value in est._state().items():
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                raise TypeError(f"cannot save {name}.{key}: an object array")
            arrays["state__" + key] = as_loaded[key] = value
        else:
            attrs[key] = to_json(value, f"{name}.{key}")
            as_loaded[key] = from_json(json.loads(json.dumps(attrs[key])), estimators=False)
    check_state(type(est), as_loaded, f"cannot save {target}")  # never write a file that load refuses
    net = getattr(est, "network_", None)
    if net is not None:
        arrays["theta"] = net.theta
    arrays.update(format=np.array(FORMAT), cls=np.array(name), attrs=np.array(json.dumps(attrs)),
                  params=np.array(json.dumps(to_json(est.get_params(deep=False), "params"))))
    arrays["digest"] = np.array(content_digest(arrays))
    fd, tmp = _temporary_beside(target)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileNotFoundError):  # a replaced file keeps its permissions
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def save_path(path):
    """The file ``save(path)`` writes (``.npz`` appended unless there), or ValueError for a folder or a
    missing parent folder: a command can check its destination before it trains."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path must be a file name (str or os.PathLike); got {type(path).__name__}")
    target = os.fsdecode(os.fspath(path))
    if not target:
        raise ValueError("path is empty; give a file name such as 'model.npz'")
    if os.path.isdir(target):
        raise ValueError(f"cannot save to {target!r}: it is a folder; give a file name such as "
                         f"{os.path.join(target, 'model.npz')!r}")
    target = target if target.endswith(".npz") else target + ".npz"  # np.savez's rule
    if os.path.isdir(target):
        raise ValueError(f"cannot save to {target!r}: it is a folder")
    folder = os.path.dirname(target)
    if folder and not os.path.isdir(folder):
        raise ValueError(f"cannot save to {target!r}: the folder {folder!r} does not exist (create it first, "
                         f"e.g. os.makedirs({folder!r}))")
    return target


def _temporary_beside(target):
    """A new file ``.<name>.<random>.tmp`` in ``target``'s folder (mode 0o666 less the umask): ``(fd, path)``."""
    folder, base = os.path.split(target)
    while True:
        tmp = os.path.join(folder, f".{base}.{secrets.token_hex(4)}.tmp")
        with contextlib.suppress(FileExistsError):
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp


# ------------------------------------------------------------------ load
def load(path, expected=None):
    """Load any numpy_ae estimator written by :func:`save` (with ``expected``, it must be one of those).

    FileNotFoundError for a missing file; ValueError, naming the file and the problem, for anything
    wrong with one (see the module docstring): never a model other than the one saved.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path must be a file name (str or os.PathLike); got {type(path).__name__}")
    where = os.fsdecode(os.fspath(path))
    arrays, digest = read_members(where)
    fmt = text_field(arrays, "format", where) if "format" in arrays else None
    missing = sorted(set(HEADER + (("digest",) if fmt == FORMAT else ())) - set(arrays))
    if fmt not in (FORMAT, FORMAT_V2) or missing:
        raise ValueError(f"{where} is not a numpy_ae model file of format {FORMAT!r} (found format {fmt!r}, "
                         f"missing keys {missing}); re-save it with this version of numpy_ae")
    name = text_field(arrays, "cls", where)
    klass = ESTIMATORS.get(name)
    if klass is None or (expected is not None and not issubclass(klass, expected)):
        raise ValueError(f"{where} holds a {name}, not a {getattr(expected, '__name__', 'known numpy_ae estimator')}")
    params = json_field(arrays, "params", where, "hyperparameters", estimators=True)
    try:
        model = construct(klass, params)
    except ValueError as exc:
        raise ValueError(f"{where}: its hyperparameters are refused: {exc}") from exc
    state = json_field(arrays, "attrs", where, "fitted attributes", estimators=False)
    for key in arrays:
        if key.startswith("state__") and key[7:] in state:
            raise ValueError(f"{where}: {key[7:]!r} is saved twice (in attrs and as an array)")
        if key.startswith("state__"):
            state[key[7:]] = arrays[key]
        elif key not in HEADER + ("theta", "digest") or (key == "digest" and fmt != FORMAT):
            raise ValueError(f"{where}: unexpected member {key!r}")
    check_state(klass, state, where)
    fields = saved_attributes(klass)
    vectors = {k: state.pop(k) for k in list(state) if fields[k].params}
    theta = arrays.get("theta")
    if theta is not None and (theta.ndim != 1 or theta.dtype.kind != "f"):
        raise ValueError(f"{where}: theta must be a 1-D float vector; got {theta.dtype} of shape {theta.shape}")
    if theta is not None and not np.isfinite(theta).all():
        raise ValueError(f"{where}: theta holds {int((~np.isfinite(theta)).sum())} non-finite values (NaN or inf); "
                         "the file is corrupt or was saved from a diverged model")
    n_features = state.get("n_features_in_", 0)
    if n_features > max(MAX_INPUT_SIZE, max(a.size for a in arrays.values())):
        raise ValueError(f"{where}: n_features_in_ = {n_features} is larger than every array in the file and than "
                         f"MAX_INPUT_SIZE = {MAX_INPUT_SIZE}; if you trust the file, raise "
                         "numpy_ae.models.persistence.MAX_INPUT_SIZE")
    source = "the file holds " + ", ".join([f"theta of {theta.size} parameters" if theta is not None else
                                            "no theta (the network's parameters)"] +
                                           [f"{k} of {v.size}" for k, v in vectors.items()])
    vars(model).update(state)
    try:
        with limit_parameter_counts([a.size for a in (theta, *vectors.values()) if a is not None], source):
            model._rebuild({**state, **vectors})
    except Exception as exc:
        raise ValueError(f"{where}: cannot rebuild the {name} it describes: {exc}") from exc
    net = vars(model).get("network_")
    if (net is None) != (theta is None):
        raise ValueError(f"{where}: " + (f"theta is saved but a {name} has no network" if net is None else source))
    if net is not None:
        if theta.shape != net.theta.shape or theta.dtype != net.theta.dtype:
            raise ValueError(f"{where}: theta has shape {theta.shape} and dtype {theta.dtype}; the model "
                             f"needs {net.theta.shape} {net.theta.dtype}")
        net.theta[...] = theta
    _agree(model, state, vectors, where)
    _probe(model, where)
    if fmt == FORMAT and text_field(arrays, "digest", where) != digest:
        raise ValueError(f"{where}: its contents do not match the digest save() wrote: the file was changed "
                         "or damaged after it was saved; re-save the model")
    return model


def _agree(model, state, vectors, where):
    """What the rebuild recomputed must be what the file says; put back what it did not recompute."""
    for key, value in state.items():
        now = vars(model).get(key, _MISSING)
        if now is _MISSING:
            setattr(model, key, value)
        elif not same(now, value):
            raise ValueError(f"{where}: {key} is {short(value)} in the file, but the {type(model).__name__} its "
                             f"hyperparameters and fitted sizes describe has {key} = {short(now)}")
    saved = model._state()
    for key, value in vectors.items():
        if key not in saved or not same(saved[key], value):
            raise ValueError(f"{where}: {key} does not fit the rebuilt {type(model).__name__}")


def _probe(model, where):
    """Two examples through the loaded model: finite outputs, or ValueError."""
    n = vars(model).get("n_features_in_")
    if type(n) is not int or not 0 < n <= PROBE_MAX_FEATURES:
        return
    X = np.linspace(0.1, 0.9, 2 * n).reshape(2, n)
    y = vars(model).get("classes_")
    y = y[[0, -1]] if isinstance(y, np.ndarray) and y.size else None

    def call(method, Z):
        return method(Z, y) if "y" in inspect.signature(method).parameters else method(Z)

    try:
        with np.errstate(all="ignore"):
            if hasattr(model, "predict_proba"):
                outs = [model.predict_proba(X)]
            else:
                outs = [call(model.transform, X)]
                if hasattr(model, "inverse_transform"):
                    outs.append(call(model.inverse_transform, outs[0]))
            finite = all(np.isfinite(np.asarray(out, dtype=float)).all() for out in outs)
    except Exception as exc:
        raise ValueError(f"{where}: the loaded {type(model).__name__} fails on a probe of 2 examples: "
                         f"{type(exc).__name__}: {exc}") from exc
    if not finite:
        raise ValueError(f"{where}: the loaded {type(model).__name__} gives non-finite outputs for a probe of 2 "
                         "examples in [0.1, 0.9] (its parameters are extreme)")
