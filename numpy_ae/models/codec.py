r"""The bytes of a model file: its ``.npy`` members read with every size checked first, its JSON fields
encoded and decoded strictly, and the digest over its members.

Reading (:func:`read_members`) never allocates more than the file occupies: each member must be
stored uncompressed (as ``np.savez`` writes it) and no larger than the file, and its ``.npy`` header
must describe exactly the bytes that follow it. Object, structured, complex and date dtypes are
refused before any data is read (so no pickle is ever loaded), duplicate members are refused, and the
zip CRC of every member is checked. Any failure is one ``ValueError`` naming the file.

JSON (:func:`to_json`, :func:`from_json`): hyperparameters and fitted scalars. Beyond plain JSON there
are four markers: ``{"__tuple__": [...]}``, ``{"__float__": "nan"}`` for non-finite floats,
``{"__array__": [...], "dtype": "float64"}`` for small numeric arrays and ``{"__estimator__": name,
"params": {...}}`` for a nested estimator (hyperparameters only, built through its own class's checks).
Decoding accepts exactly what encoding writes: a malformed marker, a duplicate key or nesting deeper
than 40 levels is a ValueError.
"""
from __future__ import annotations
import hashlib
import io
import json
import math
import numbers
import os
import zipfile
import numpy as np
from .fields import short

__all__ = ["ESTIMATORS", "to_json", "from_json", "json_field", "text_field", "construct", "read_members",
           "content_digest"]

ESTIMATORS = {}  # class name -> class, filled by BaseEstimator.__init_subclass__ (for load)
_ARRAY_DTYPES = {np.dtype(t).name for t in (bool, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
                                             np.uint32, np.uint64, np.float16, np.float32, np.float64)}
_MAX_DEPTH = 40


# ------------------------------------------------------------------ JSON
def to_json(value, where):
    """Hyperparameters and fitted scalars as JSON (``where`` names the value in a TypeError)."""
    if ESTIMATORS.get(type(value).__name__) is type(value):
        return {"__estimator__": type(value).__name__, "params": to_json(value.get_params(deep=False), where)}
    if isinstance(value, np.random.Generator):
        return None  # a Generator's state is not saved: a loaded model draws from a fresh one
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        v = float(value)
        return {"__float__": repr(v)} if not np.isfinite(v) else v
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {str(k): to_json(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, tuple):
        return {"__tuple__": [to_json(v, where) for v in value]}
    if isinstance(value, list):
        return [to_json(v, where) for v in value]
    if isinstance(value, np.ndarray) and value.dtype.name in _ARRAY_DTYPES:
        return {"__array__": value.tolist(), "dtype": value.dtype.name}
    raise TypeError(f"cannot save {where}: {type(value).__name__} is not JSON-serialisable")


def from_json(value, estimators, depth=0):
    """Decode what :func:`to_json` wrote (``estimators``: whether nested estimators may appear)."""
    if depth > _MAX_DEPTH:
        raise ValueError(f"nested more than {_MAX_DEPTH} levels deep")
    if isinstance(value, list):
        return [from_json(v, estimators, depth + 1) for v in value]
    if not isinstance(value, dict):
        return value
    marker = [k for k in ("__estimator__", "__tuple__", "__float__", "__array__") if k in value]
    if not marker:
        return {k: from_json(v, estimators, depth + 1) for k, v in value.items()}
    keys, v = set(value), value[marker[0]]
    if marker == ["__estimator__"] and estimators and keys == {"__estimator__", "params"} and isinstance(v, str):
        klass, params = ESTIMATORS.get(v), from_json(value["params"], estimators, depth + 1)
        if klass is None or not isinstance(params, dict):
            raise ValueError(f"a nested estimator must be a known numpy_ae class with a dict of params; got {v!r}")
        return construct(klass, params)
    if marker == ["__tuple__"] and keys == {"__tuple__"} and isinstance(v, list):
        return tuple(from_json(x, estimators, depth + 1) for x in v)
    if marker == ["__float__"] and keys == {"__float__"} and isinstance(v, str) and len(v) < 40:
        return float(v)
    if marker == ["__array__"] and keys == {"__array__", "dtype"} and str(value["dtype"]) in _ARRAY_DTYPES:
        return np.array(v, dtype=str(value["dtype"]))
    raise ValueError(f"malformed {marker[0]} entry {short(value)}")


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate keys {sorted({k for k in keys if keys.count(k) > 1})}")
    return dict(pairs)


def construct(klass, params):
    """``klass(**params)`` through the class's own checks; ValueError for unknown names or a refused value."""
    try:
        names = klass._get_param_names()
        unknown = set(params) - set(names)
        if unknown:
            raise ValueError(f"unknown hyperparameters {sorted(unknown)} for {klass.__name__}; it takes {names}")
        return klass(**params)
    except ValueError:
        raise
    except Exception as exc:  # a check that chokes on a value of the wrong type: still a bad hyperparameter
        raise ValueError(f"{klass.__name__} refuses these hyperparameters: {type(exc).__name__}: {exc}") from exc


def text_field(arrays, key, where):
    """The text scalar member ``key``."""
    a = arrays[key]
    if a.shape != () or a.dtype.kind != "U":
        raise ValueError(f"{where}: {key!r} must be a text scalar; got {a.dtype} of shape {a.shape}")
    return str(a[()])


def json_field(arrays, key, where, what, estimators):
    """The JSON dict in the text member ``key`` (``what`` it holds, for messages), decoded by :func:`from_json`."""
    text = text_field(arrays, key, where)
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{where}: its {what} ({key!r}) are not valid JSON: {type(exc).__name__}: {exc}") from exc
    try:
        value = from_json(value, estimators)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise ValueError(f"{where}: its {what} ({key!r}) are refused: {type(exc).__name__}: {exc}") from exc
    if not isinstance(value, dict):
        raise ValueError(f"{where}: its {what} must be a dict of name -> value; got {type(value).__name__}")
    return value


# ------------------------------------------------------------------ members
def content_digest(arrays):
    """SHA-256 (hex) of the members ``{name: array}`` (``digest`` left out): names, dtypes, shapes, bytes."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        if name != "digest":
            a = arrays[name]
            h.update(json.dumps([name, a.dtype.str, list(a.shape)]).encode() + b"\0")
            h.update(a.tobytes(order="C"))
    return h.hexdigest()


def read_members(where):
    """``({name: array in native byte order}, digest of the members as read)``; FileNotFoundError for a
    missing file, ValueError for anything else."""
    size = os.path.getsize(where)
    try:
        if os.path.isdir(where):
            raise ValueError("it is a folder")
        with open(where, "rb") as fh:
            if fh.read(6) == b"\x93NUMPY":
                raise ValueError("it is a .npy file (one array), not the .npz that save() writes")
            fh.seek(0)
            with zipfile.ZipFile(fh) as zf:
                infos = zf.infolist()
                names = [i.filename for i in infos]
                if len(set(names)) != len(names):
                    raise ValueError(f"duplicate members {sorted({n for n in names if names.count(n) > 1})}")
                arrays = {}
                for info in infos:
                    key = info.filename[:-4]
                    if not info.filename.endswith(".npy") or not _is_member_name(key):
                        raise ValueError(f"unexpected member {info.filename!r}")
                    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 1 or \
                            max(info.file_size, info.compress_size) > size:
                        raise ValueError(f"member {info.filename!r} is compressed, encrypted or larger than the file")
                    arrays[key] = _parse_npy(zf.read(info), key)
    except Exception as exc:
        raise ValueError(f"{where} is not a readable numpy_ae model file (truncated, corrupted or not an .npz "
                         f"written by save()): {exc}") from exc
    digest = content_digest(arrays)
    return {k: a if a.dtype.isnative else a.astype(a.dtype.newbyteorder("=")) for k, a in arrays.items()}, digest


def _is_member_name(key):
    return bool(key) and key[0].isascii() and key[0].isalpha() and all(c.isascii() and (c.isalnum() or c == "_")
                                                                        for c in key)


def _parse_npy(raw, key):
    fp = io.BytesIO(raw)
    version = np.lib.format.read_magic(fp)
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f"member {key!r}: .npy format version {version} is not one save() writes")
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read(fp)
    if dtype.hasobject or dtype.names is not None or dtype.subdtype is not None or dtype.kind not in "biufUS":
        raise ValueError(f"member {key!r} has dtype {dtype}: only numbers and strings are read (no pickles)")
    count = math.prod(shape)
    if any(d < 0 for d in shape) or count * dtype.itemsize != len(raw) - fp.tell():
        raise ValueError(f"member {key!r} declares shape {shape} of {dtype} ({count * dtype.itemsize} bytes) "
                         f"but holds {len(raw) - fp.tell()} bytes")
    flat = np.frombuffer(raw, dtype=dtype, count=count, offset=fp.tell())
    return np.array(flat.reshape(shape[::-1]).T if fortran else flat.reshape(shape), order="C")
