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


def _any_dataset():
    """``(name, folder)`` of Fashion-MNIST if present, else MNIST, else ``(None, None)``."""
    for name in ("fashion-mnist", "mnist"):
        try:
            return name, find_mnist(name, download=False)
        except FileNotFoundError:
            pass
    return None, None


DATASET, DATA_DIR = _any_dataset()
needs_any_data = pytest.mark.skipif(DATA_DIR is None, reason="neither Fashion-MNIST nor MNIST found: set "
                                    "NUMPY_AE_DATA (e.g. NUMPY_AE_DATA=../shared/data) to run on real data")
