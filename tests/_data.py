"""Shared by the tests that need the real MNIST files: where they are, and a skip marker."""
import pytest

from numpy_ae.data import find_mnist


def _mnist_dir():
    try:
        return find_mnist("mnist", download=False)
    except FileNotFoundError:
        return None


MNIST = _mnist_dir()
needs_mnist = pytest.mark.skipif(MNIST is None, reason="MNIST files not found: set NUMPY_AE_DATA "
                                 "(e.g. NUMPY_AE_DATA=../shared/data) to run the experiments on real data")
