"""Every branch of numpy_ae._validation, each error message matched in full.

The messages are part of the interface: they name the argument, the rule, the
offending value and a fix, so the tests compare whole strings, not fragments.
"""
import re
import warnings

import numpy as np
import pytest

from numpy_ae import PCA, SparseAutoencoder, nn
from numpy_ae._validation import (check_array, check_float_dtype, check_in_open_interval, check_non_negative,
                                  check_positive_int, check_random_state)
from numpy_ae.nn.losses import SquaredError
from numpy_ae.nn.sequential import Sequential


def raises_exactly(message):
    """``pytest.raises(ValueError)`` that requires the whole message, character for character."""
    return pytest.raises(ValueError, match="^" + re.escape(message) + "$")


# ------------------------------------------------------------- check_array: accepted input
def test_float64_c_contiguous_input_is_returned_as_is():
    X = np.arange(6.0).reshape(2, 3)
    assert check_array(X) is X  # no copy when nothing needs converting


@pytest.mark.parametrize("X", [[[1, 2], [3, 4]], np.array([[1, 2], [3, 4]], dtype=np.uint8),
                               np.array([[1, 2], [3, 4]], dtype=np.float32)])
def test_lists_ints_and_float32_become_float64(X):
    out = check_array(X)
    assert out.dtype == np.float64 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, [[1.0, 2.0], [3.0, 4.0]])


def test_fortran_order_becomes_c_contiguous():
    X = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    out = check_array(X)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, X)


def test_booleans_are_accepted_as_zero_and_one():
    out = check_array(np.array([[True, False], [False, True]]), unit_interval=True)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[1.0, 0.0], [0.0, 1.0]])


def test_requested_dtype_and_ndim():
    out = check_array(np.zeros((2, 3, 4)), "images", ndim=3, dtype=np.float32)
    assert out.dtype == np.float32 and out.shape == (2, 3, 4)


# ------------------------------------------------------------- check_array: refused input
def test_estimators_refuse_complex_input_instead_of_warning():
    """It used to reach np.ascontiguousarray(X, float), which drops the imaginary part with a ComplexWarning."""
    X = np.random.default_rng(0).uniform(0.1, 0.9, (10, 4)) * (1 + 1j)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning on the way to the ValueError
        for fit in (PCA().fit, SparseAutoencoder(n_hidden=2).fit):
            with pytest.raises(ValueError, match=r"^X must be real; got a complex array \(dtype complex128\)"):
                fit(X)


def test_complex_is_refused_even_with_zero_imaginary_part():
    with raises_exactly("X must be real; got a complex array (dtype complex128). Complex data not supported: "
                        "take X.real or np.abs(X) first, whichever your data mean (NumPy would silently drop "
                        "the imaginary part)."):
        check_array(np.ones((2, 2)) + 0j)
    with raises_exactly("Z must be real; got a complex array (dtype complex64). Complex data not supported: "
                        "take Z.real or np.abs(Z) first, whichever your data mean (NumPy would silently drop "
                        "the imaginary part)."):
        check_array(np.array([[1 + 2j]], dtype=np.complex64), "Z")


def test_object_arrays_of_numbers_convert_and_others_are_a_type_error():
    """As scikit-learn's check_array: boxed numbers are data; None becomes NaN and is refused as such."""
    np.testing.assert_array_equal(check_array(np.array([[1.0, 2]], dtype=object)), [[1.0, 2.0]])
    with raises_exactly("X must be finite (no NaN or inf); found nan at index (0, 1). "
                        "Remove or impute those entries first."):
        check_array([[1.0, None]])
    with pytest.raises(TypeError, match=r"^X must hold numbers; converting its object array failed: .*"
                                        r"\(float\(\) argument must be a string or a real number\)"):
        check_array(np.array([[1.0, {"a": 1}]], dtype=object))


@pytest.mark.parametrize("X, what, dtype", [
    ([["1", "2"]], "string", "<U1"),
    ([[b"1", b"2"]], "bytes", "|S1"),
    (np.array([["2024-01-01"]], dtype="datetime64[D]"), "datetime", "datetime64[D]"),
    (np.array([[1, 2]], dtype="timedelta64[s]"), "timedelta", "timedelta64[s]"),
    (np.zeros((2, 2), dtype="i4,i4"), "structured", "[('f0', '<i4'), ('f1', '<i4')]"),
])
def test_non_numeric_dtypes_are_refused(X, what, dtype):
    with raises_exactly(f"X must be numeric (float, int or bool); got a {what} array of dtype {dtype}. "
                        "Convert it with np.asarray(X, dtype=float) if its entries are numbers, "
                        "and remove any that are not."):
        check_array(X)


def test_ragged_list_is_refused():
    with pytest.raises(ValueError, match=r"^X must be convertible to a numeric array; got list: "
                                         r"setting an array element with a sequence\."):
        check_array([[1.0, 2.0], [3.0]])


def test_wrong_ndim_with_a_reshape_hint_for_1d():
    with raises_exactly("X must be a 2-D array (rows are examples); got a 1-D array of shape (3,). Reshape "
                        "your data with X.reshape(1, -1) for a single example or X.reshape(-1, 1) for a single feature."):
        check_array(np.zeros(3))
    with raises_exactly("images must be a 3-D array (rows are examples); got a 2-D array of shape (2, 5)."):
        check_array(np.zeros((2, 5)), "images", ndim=3)


def test_empty_arrays_are_refused():
    # the wording in parentheses is scikit-learn's, which its estimator checks look for
    with raises_exactly("X must contain at least one example; got shape (0, 4) "
                        "(0 sample(s) (shape=(0, 4)) while a minimum of 1 is required)"):
        check_array(np.zeros((0, 4)))
    with raises_exactly("X must have at least one feature in every axis after the first: found 0 feature(s) "
                        "(shape=(5, 0)) while a minimum of 1 is required."):
        check_array(np.zeros((5, 0)))
    with raises_exactly("images must have at least one feature in every axis after the first: found 0 "
                        "feature(s) (shape=(2, 0, 3)) while a minimum of 1 is required."):
        check_array(np.zeros((2, 0, 3)), "images", ndim=3)


def test_wrong_number_of_features():
    with raises_exactly("X must have 4 features (columns); got shape (2, 3)"):
        check_array(np.zeros((2, 3)), n_features=4)
    with raises_exactly("X has 3 features, but PCA is expecting 4 features as input (as in fit); "
                        "got shape (2, 3)"):  # scikit-learn's wording, for estimators
        check_array(np.zeros((2, 3)), n_features=4, estimator="PCA")


@pytest.mark.parametrize("bad, shown", [(np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_non_finite_values_are_located(bad, shown):
    X = np.zeros((3, 4))
    X[2, 1] = bad
    X[2, 3] = bad  # the first in C order is reported
    with raises_exactly(f"X must be finite (no NaN or inf); found {shown} at index (2, 1). "
                        "Remove or impute those entries first."):
        check_array(X)


def test_finite_value_that_overflows_the_requested_dtype():
    X = np.array([[1.0, 1e300]])  # float32's largest is 3.4e38
    with raises_exactly("X must fit in float32; the value at index (0, 1) overflows to inf. Rescale X first."):
        check_array(X, dtype=np.float32)


def test_unit_interval_with_and_without_hint():
    assert check_array([[0.0, 1.0]], unit_interval=True).shape == (1, 2)  # both ends are inside
    with raises_exactly("X must lie in [0, 1] for this model; got values in [-0.5, 2]."):
        check_array([[-0.5, 2.0]], unit_interval=True)
    with raises_exactly("X must lie in [0, 1] for this model; got values in [0, 1.5]. Divide by 255."):
        check_array([[0.0, 1.5]], unit_interval=True, unit_interval_hint="Divide by 255.")


# ------------------------------------------------------------------- scalar checks
@pytest.mark.parametrize("value", [0.5, 1e-300, np.float32(0.25)])
def test_open_interval_accepts(value):
    out = check_in_open_interval(value, "rho")
    assert out == float(value) and type(out) is float


@pytest.mark.parametrize("value", [0.0, 1.0, -0.1, 1.5, np.nan, np.inf, True, "0.5", None, 0.5j])
def test_open_interval_refuses(value):
    with raises_exactly(f"rho must be a number strictly between 0.0 and 1.0; got {value!r}"):
        check_in_open_interval(value, "rho")


def test_open_interval_with_other_bounds():
    assert check_in_open_interval(5, "t", low=0, high=10) == 5.0
    with raises_exactly("t must be a number strictly between 0 and 10; got 10"):
        check_in_open_interval(10, "t", low=0, high=10)


@pytest.mark.parametrize("value", [1, 7, np.int64(3)])
def test_positive_int_accepts(value):
    out = check_positive_int(value, "n")
    assert out == value and type(out) is int


@pytest.mark.parametrize("value", [0, -2, 2.5, 3.0, "3", True, None])
def test_positive_int_refuses(value):
    with raises_exactly(f"n must be an integer >= 1; got {value!r}"):
        check_positive_int(value, "n")


def test_positive_int_with_a_minimum():
    assert check_positive_int(2, "n", minimum=2) == 2
    with raises_exactly("n must be an integer >= 2; got 1"):
        check_positive_int(1, "n", minimum=2)


@pytest.mark.parametrize("value", [0, 0.0, 3, 1e-3, np.float32(2.0)])
def test_non_negative_accepts(value):
    out = check_non_negative(value, "beta")
    assert out == float(value) and type(out) is float


@pytest.mark.parametrize("value", [-1e-12, -1, np.nan, np.inf, False, "1", None])
def test_non_negative_refuses(value):
    with raises_exactly(f"beta must be a finite number >= 0; got {value!r}"):
        check_non_negative(value, "beta")


# ------------------------------------------------------------------ random state
def test_random_state_from_none_int_seedsequence_and_generator():
    assert isinstance(check_random_state(None), np.random.Generator)
    np.testing.assert_array_equal(check_random_state(5).random(3), np.random.default_rng(5).random(3))
    np.testing.assert_array_equal(check_random_state(np.int64(5)).random(3), np.random.default_rng(5).random(3))
    np.testing.assert_array_equal(check_random_state(np.random.SeedSequence(5)).random(3),
                                  np.random.default_rng(5).random(3))
    rng = np.random.default_rng(0)
    assert check_random_state(rng) is rng  # shared, not copied


@pytest.mark.parametrize("value, shown", [
    (-1, "-1 (int)"),
    (True, "True (bool)"),
    (0.5, "0.5 (float)"),
    ("seed", "'seed' (str)"),
])
def test_random_state_refuses(value, shown):
    with raises_exactly(f"random_state must be None, an int seed >= 0 or a numpy.random.Generator; got {shown}. "
                        "Pass an int such as 0 for reproducible results, or np.random.default_rng(seed)."):
        check_random_state(value)


def test_random_state_legacy_randomstate_is_refused():
    # the repr holds a memory address, and reprlib shortens it: match around it
    with pytest.raises(ValueError, match=r"^random_state must be None, an int seed >= 0 or a numpy\.random\.Generator; "
                                         r"got RandomState\(M.* \(RandomState\)\. Pass an int such as 0 for "
                                         r"reproducible results, or np\.random\.default_rng\(seed\)\.$"):
        check_random_state(np.random.RandomState(0))


# ------------------------------------------------------------------------- dtype
@pytest.mark.parametrize("dtype, name", [(np.float32, "float32"), ("float32", "float32"), ("f4", "float32"),
                                         (np.float64, "float64"), (float, "float64"), (None, "float64")])
def test_float_dtype_accepts(dtype, name):
    assert check_float_dtype(dtype) == name


@pytest.mark.parametrize("dtype", [int, "int8", np.float16, np.longdouble, np.complex128, bool, object, "nope"])
def test_float_dtype_refuses(dtype):
    with raises_exactly(f"dtype must be float32 or float64; got {dtype!r}. Use np.float64 (the default, "
                        "for gradient checks) or np.float32 (faster, half the memory)."):
        check_float_dtype(dtype)


def _net(**kw):
    return Sequential([nn.Dense(6, 4), nn.Sigmoid(), nn.Dense(4, 6)], SquaredError(), random_state=0,
                      **kw)


@pytest.mark.parametrize("dtype", [int, np.int32, "int64", bool, np.float16])
def test_sequential_refuses_non_float_dtypes(dtype):
    """Sequential(dtype=int) used to truncate the uniform initial weights, all |W| < 0.7, to zeros."""
    with raises_exactly(f"dtype must be float32 or float64; got {dtype!r}. Use np.float64 (the default, "
                        "for gradient checks) or np.float32 (faster, half the memory)."):
        _net(dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, "float64", None])
def test_sequential_float_dtypes_initialise_non_zero_weights(dtype):
    net = _net(dtype=dtype)
    assert net.theta.dtype == net.grad.dtype == net.dtype == np.dtype(dtype)
    assert np.all(net.layers[0].W != 0) and net.layers[0].W.dtype == net.dtype
