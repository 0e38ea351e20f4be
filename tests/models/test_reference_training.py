"""One switch trains a whole estimator with the reference layers (``fast=False``) instead of their fast
twins (the default), and both give the same model to round-off.

Tolerance: the two forms differ by a few ulps per operation (tests/nn/test_fast_twins.py, rtol 1e-12);
over a short run these differences propagate through the optimiser but stay far below any training
effect. L-BFGS runs of 15 iterations and two epochs of Adam move theta by O(1e-1); agreement to 1e-8
relative (theta's norm) separates round-off from a wrong gradient by many orders of magnitude.
"""
import numpy as np
import pytest

import numpy_ae
from numpy_ae.nn import fast


def _X(shape, seed=0):
    return np.random.default_rng(seed).uniform(0.05, 0.95, shape)


CASES = [
    ("sparse L-BFGS", lambda f: numpy_ae.SparseAutoencoder(n_hidden=5, max_iter=15, random_state=0, fast=f), _X((40, 16))),
    ("stacked Adam", lambda f: numpy_ae.StackedAutoencoder((8, 4), epochs=2, batch_size=10, random_state=0, fast=f),
     _X((40, 12))),
    ("denoising", lambda f: numpy_ae.DenoisingAutoencoder((6,), epochs=2, batch_size=10, random_state=0, fast=f),
     _X((40, 12))),
]


@pytest.mark.parametrize("name, make, X", CASES, ids=[c[0] for c in CASES])
def test_reference_and_fast_training_agree(name, make, X):
    with_fast, with_reference = make(True).fit(X), make(False).fit(X)
    fast_types = set(fast.TWINS.values())
    assert any(type(l) in fast_types for l in with_fast.network_.layers)
    assert not any(type(l) in fast_types for l in with_reference.network_.layers)
    a, b = with_fast.network_.theta, with_reference.network_.theta
    assert np.linalg.norm(a - b) <= 1e-8 * np.linalg.norm(b)
    np.testing.assert_allclose(with_fast.transform(X), with_reference.transform(X), rtol=1e-7, atol=1e-9)


def test_fast_must_be_a_bool():
    with pytest.raises(ValueError, match="fast must be True"):
        numpy_ae.SparseAutoencoder(fast="no").fit(_X((10, 4)))
