"""Checks at the library's boundary.

Every check raises a ``ValueError`` whose message names the argument, the rule
it broke, the offending value, and where possible a fix. Nothing here is on a
hot path: models call these once per public call, never per L-BFGS step.
"""
from __future__ import annotations

import numbers
import warnings
import reprlib

import numpy as np

from .exceptions import data_conversion_warning

__all__ = [
    "check_array",
    "check_in_open_interval",
    "check_positive_int",
    "check_non_negative",
    "check_random_state",
    "check_float_dtype",
    "check_layer_sizes",
]


def check_array(X, name="X", *, n_features=None, ndim=2, dtype=np.float64,
                unit_interval=False, unit_interval_hint="", estimator=None):
    r"""Return ``X`` as a finite C-contiguous float array of ``ndim`` dimensions.

    Accepted element types: float, int and bool. Booleans count as 0 and 1
    (binary images and masks are valid data, and ``True`` already equals 1 in
    NumPy arithmetic). Refused, each with a ``ValueError`` that says how to
    convert: complex numbers (NumPy would silently drop the imaginary part),
    object arrays (``None``, mixed types, Python objects), strings, bytes,
    datetimes, timedeltas and structured records.

    Parameters
    ----------
    X : array_like
        Input, shape ``(N, D)`` when ``ndim == 2``; ``N >= 1`` and every other
        axis non-empty.
    name : str
        Name used in error messages.
    n_features : int or None
        Required size of the last axis.
    dtype : numpy dtype
        Floating dtype of the result (copied only if needed). A value finite
        in ``X`` but too large for ``dtype`` (1e300 in float32) is refused.
    unit_interval : bool
        Require every value to lie in ``[0, 1]``.
    unit_interval_hint : str
        Extra advice appended to the ``[0, 1]`` error message.
    estimator : str or None
        Who checks, for the feature-count message (scikit-learn's wording:
        "X has 3 features, but PCA is expecting 4 features as input").
    """
    if hasattr(X, "toarray") and hasattr(X, "nnz"):  # a scipy.sparse matrix or array
        raise TypeError(f"{name} is a scipy.sparse {type(X).__name__}; sparse input is not supported "
                        f"(every layer works on dense arrays): convert it with {name}.toarray()")
    try:
        X = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} must be convertible to a numeric array; got {type(X).__name__}: {exc}") from exc
    if X.dtype.kind == "c":
        raise ValueError(f"{name} must be real; got a complex array (dtype {X.dtype}). Complex data not "
                         f"supported: take {name}.real or np.abs({name}) first, whichever your data mean "
                         "(NumPy would silently drop the imaginary part).")
    if X.dtype == object:  # numbers held in an object array convert; anything else is a TypeError
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must hold numbers; converting its object array failed: {exc} "
                            "(float() argument must be a string or a real number)") from exc
    if X.dtype.kind not in "biuf":
        what = {"U": "string", "S": "bytes", "M": "datetime", "m": "timedelta",
                "V": "structured"}.get(X.dtype.kind, "non-numeric")
        raise ValueError(f"{name} must be numeric (float, int or bool); got a {what} array of dtype "
                         f"{X.dtype}. Convert it with np.asarray({name}, dtype=float) if its entries are "
                         "numbers, and remove any that are not.")
    if X.ndim != ndim:
        hint = ""
        if ndim == 2 and X.ndim == 1:
            hint = (" Reshape your data with X.reshape(1, -1) for a single example "
                    "or X.reshape(-1, 1) for a single feature.")
        raise ValueError(f"{name} must be a {ndim}-D array (rows are examples); "
                         f"got a {X.ndim}-D array of shape {X.shape}.{hint}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} must contain at least one example; got shape {X.shape} "
                         f"(0 sample(s) (shape={X.shape}) while a minimum of 1 is required)")
    if X.size == 0:
        raise ValueError(f"{name} must have at least one feature in every axis after the first: found 0 "
                         f"feature(s) (shape={X.shape}) while a minimum of 1 is required.")
    if n_features is not None and X.shape[-1] != n_features:
        if estimator is None:
            raise ValueError(f"{name} must have {n_features} features (columns); got shape {X.shape}")
        raise ValueError(f"{name} has {X.shape[-1]} features, but {estimator} is expecting {n_features} "
                         f"features as input (as in fit); got shape {X.shape}")
    bad = _first_non_finite(X)
    if bad:
        raise ValueError(f"{name} must be finite (no NaN or inf); found {bad[1]} at index {bad[0]}. "
                         "Remove or impute those entries first.")
    with np.errstate(over="ignore"):
        X = np.ascontiguousarray(X, dtype=dtype)
    bad = _first_non_finite(X)
    if bad:
        raise ValueError(f"{name} must fit in {X.dtype}; the value at index {bad[0]} overflows to {bad[1]}. "
                         f"Rescale {name} first.")
    if unit_interval:
        lo, hi = float(X.min()), float(X.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(f"{name} must lie in [0, 1] for this model; got values in "
                             f"[{lo:.4g}, {hi:.4g}].{(' ' + unit_interval_hint) if unit_interval_hint else ''}")
    return X


def _first_non_finite(X):
    """``(index, value)`` of the first NaN or inf in ``X`` in C order, or None."""
    finite = np.isfinite(X)
    if finite.all():
        return None
    index = tuple(int(i) for i in np.argwhere(~finite)[0])
    return index, X[index]


def check_in_open_interval(value, name, low=0.0, high=1.0):
    """Require ``low < value < high`` for a real ``value``; return it as float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) \
            or not (low < value < high):
        raise ValueError(f"{name} must be a number strictly between {low} and {high}; got {value!r}")
    return float(value)


def check_probability(value, name, meaning="a probability"):
    """Require a real ``0 <= value <= 1``; return it as float. ``meaning`` says what it is, for the message."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1] ({meaning}); got {value!r}")
    return float(value)


def check_positive_int(value, name, minimum=1):
    """Require an integer ``value >= minimum``; return it as int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def check_non_negative(value, name):
    """Require a finite real ``value >= 0``; return it as float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    return float(value)


def check_random_state(random_state):
    """Return a ``numpy.random.Generator`` from None, an int seed >= 0, a SeedSequence or a Generator.

    There is no global seeding anywhere in numpy_ae: every random draw goes
    through a Generator obtained here. A Generator is returned as is (shared,
    not copied). ``True``/``False`` are refused: they are almost always a
    mistake for a seed.
    """
    if random_state is None or isinstance(random_state, np.random.SeedSequence):
        return np.random.default_rng(random_state)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool) and random_state >= 0:
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    raise ValueError("random_state must be None, an int seed >= 0 or a numpy.random.Generator; "
                     f"got {reprlib.repr(random_state)} ({type(random_state).__name__}). Pass an int such as 0 "
                     "for reproducible results, or np.random.default_rng(seed).")


def check_float_dtype(dtype):
    """Require float32 or float64; return the dtype's name (``"float32"``/``"float64"``).

    ``None`` means float64, as in NumPy. Integer dtypes are refused because the
    weights would be truncated (a uniform draw in (-0.3, 0.3) becomes all zeros),
    float16 and longdouble because nothing here is written or tested for them.
    """
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError):
        dt = None
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {dtype!r}. Use np.float64 (the default, "
                         "for gradient checks) or np.float32 (faster, half the memory).")
    return dt.name


def check_layer_sizes(layer_sizes, name="hidden_layer_sizes", example="(300, 150)"):
    """The widths as a list of ints >= 1 (an int is one layer); a ValueError naming ``name`` otherwise."""
    if isinstance(layer_sizes, numbers.Integral) and not isinstance(layer_sizes, bool):
        layer_sizes = (layer_sizes,)
    try:
        sizes = list(layer_sizes)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of layer widths like {example}; got {layer_sizes!r}") \
            from None
    if len(sizes) < 1:
        raise ValueError(f"{name} must list at least one code size, e.g. {example}; got {sizes}")
    for i, n in enumerate(sizes):
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"{name}[{i}] must be an integer >= 1; got {n!r} in {sizes}")
    return [int(n) for n in sizes]


def array_ndim(X):
    """Dimensions of ``X`` as an array, or None when it is no array (ragged lists and the like:
    :func:`check_array` then says why)."""
    try:
        return np.asarray(X).ndim
    except Exception:
        return None



def check_labels(y, n_examples=None):
    """Return ``y`` as a 1-D array of class labels (of ``n_examples`` labels when given); ValueError otherwise.

    Labels may be integers, strings or integral floats; a float array with a
    non-integral value is a regression target, not labels ("Unknown label type").
    """
    if y is None:
        raise ValueError("this classifier requires y to be passed, but the target y is None: fit(X, y) needs "
                         "one class label per row of X")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(f"A column-vector y was passed when a 1d array was expected (shape {y.shape}); "
                      "flattened it: pass y.ravel() to silence this", data_conversion_warning(), stacklevel=3)
        y = y.ravel()
    if np.iscomplexobj(y):
        raise ValueError(f"y must hold class labels: complex data is not supported (Complex data not supported); "
                         f"got dtype {y.dtype}")
    if y.ndim != 1:
        hint = " Flatten it with y.ravel()." if y.ndim == 2 and 1 in y.shape else ""
        raise ValueError(f"y must be a 1-D array of class labels, one per row of X; got shape {y.shape}.{hint}")
    if n_examples is not None and y.shape[0] != n_examples:
        raise ValueError(f"y must have one label per row of X: X has {n_examples} rows, y has {y.shape[0]} labels")
    if y.dtype.kind in "iub" or y.dtype.kind in "US":
        return y
    if y.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))
        if bad.size == 0:
            return y.astype(np.int64)  # 0.0, 1.0, 2.0 are the labels 0, 1, 2
        raise ValueError(f"Unknown label type: y must hold class labels (integers or strings); got the continuous "
                         f"value {y[bad[0]].item()!r} at index {bad[0]} (a classifier cannot fit a regression target)")
    if y.dtype == object and all(isinstance(v, (str, int, np.integer)) for v in y.tolist()):
        kinds = {type(v) is str for v in y.tolist()}
        if len(kinds) == 1:
            return y
    raise ValueError(f"Unknown label type: y must hold integer or string class labels of one kind; got an array "
                     f"of dtype {y.dtype} (map other labels to integers first, e.g. "
                     "classes, y = np.unique(y, return_inverse=True))")


def encode_labels(y):
    """``(classes, index)``: the sorted distinct labels and each label's position among them.

    ValueError when fewer than 2 classes are present (a classifier needs two).
    """
    classes, index = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(f"y has 1 class ({classes.tolist()}); a classifier needs at least 2 classes to fit")
    return classes, index.reshape(-1)


def check_fast(fast):
    """``fast`` must be a bool: True trains with the fast twins (:mod:`numpy_ae.nn.fast`), False with the
    reference layers (:mod:`numpy_ae.nn`); both give the same result to round-off."""
    if not isinstance(fast, (bool, np.bool_)):
        raise ValueError(f"fast must be True (train with the fast twins of the layers) or False (the reference "
                         f"layers, the plain equations); got {fast!r}")
    return bool(fast)


def check_filters_and_kernel(filters, kernel_size):
    """A convolutional model's ``filters`` (a non-empty tuple of integers >= 1, one per layer) and
    ``kernel_size`` (an odd integer >= 1, so that 'same' padding is ``kernel_size // 2``)."""
    try:
        widths = tuple(filters)
    except TypeError:
        widths = ()
    if not widths or any(isinstance(f, bool) or not isinstance(f, numbers.Integral) or f < 1 for f in widths):
        raise ValueError(f"filters must be a non-empty tuple of integers >= 1; got {filters!r}")
    k = kernel_size
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1 or k % 2 == 0:
        raise ValueError(f"kernel_size must be an odd integer >= 1 (for 'same' padding k // 2); got {k!r}")
