"""Models saved before the code moved into subpackages (numpy_ae 0.1, flat modules) load and give the
same outputs: the save format names classes, not module paths, and the layers are rebuilt by each
estimator. The expected outputs were computed by the code that saved the files; the reloaded model
computes them with today's layers (fast twins by default), so they agree to round-off, not bit for bit:
rtol 1e-12 for float64 models.
"""
import pathlib

import numpy as np
import pytest

import numpy_ae

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize("name, cls", [("sparse_autoencoder_v0.1", numpy_ae.SparseAutoencoder),
                                       ("conv_autoencoder_v0.1", numpy_ae.ConvAutoencoder),
                                       ("vae_v0.1", numpy_ae.VariationalAutoencoder)])
def test_a_model_saved_before_the_move_loads_and_agrees(name, cls):
    model = numpy_ae.load(FIXTURES / f"{name}.npz")
    assert type(model) is cls
    with np.load(FIXTURES / f"{name}_expected.npz") as expected:
        np.testing.assert_allclose(model.transform(expected["X"]), expected["H"], rtol=1e-12, atol=1e-12)
        if "X_hat" in expected.files:
            np.testing.assert_allclose(model.reconstruct(expected["X"]), expected["X_hat"], rtol=1e-12, atol=1e-12)
