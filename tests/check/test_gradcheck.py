"""The gradient checker itself, and every registered check (tolerance 1e-9, float64)."""
import numpy as np
import pytest

from numpy_ae import SparseAutoencoder, nn
from numpy_ae.check.registry import REGISTRY, run_checks
from numpy_ae.check.gradcheck import check_function, check_layer, check_model, numerical_gradient, rel_diff
from numpy_ae.nn.losses import SquaredError
from numpy_ae.nn.sequential import Sequential

run_checks([])  # imports the catalogue so REGISTRY is filled for parametrize


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_registered_check_passes(name):
    (result,) = run_checks([name])
    assert result.tol <= 1e-9
    assert result.rel_diff < result.tol, result.report()
    assert result.ok and result.conclusive and not result.wrong_blocks, result.report()


def test_run_checks_rejects_unknown_names_listing_the_valid_ones():
    with pytest.raises(ValueError, match=r"no gradient check named 'bogus'; the registered checks are: .*"
                                         r"ufldl_self_test"):
        run_checks(["ufldl_self_test", "bogus"])


def test_ufldl_self_test_value():
    # UFLDL: for h(x) = x1^2 + 3 x1 x2 at (4, 10) the difference is about 2e-12.
    (res,) = run_checks(["ufldl_self_test"])
    assert 1e-14 < res.rel_diff < 1e-11


def test_numerical_gradient_restores_input_exactly():
    x = np.random.default_rng(0).standard_normal((3, 4))
    before = x.copy()
    g = numerical_gradient(lambda: float(np.sum(x ** 3)), x)
    assert np.array_equal(x, before)
    # centred error for x^3 is exactly eps^2 * f''' / 6 = 1e-8 (plus rounding ~1e-12)
    np.testing.assert_allclose(g, 3 * before ** 2, rtol=0, atol=1.01e-8)


def test_rel_diff_is_norm_relative_and_zero_safe():
    assert rel_diff([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_diff([0.0], [0.0]) == 0.0
    assert rel_diff([1.0, 0.0], [0.0, 1.0]) == pytest.approx(1.0)


class _BrokenSigmoid(nn.Sigmoid):
    def backward(self, dA):  # forgets the (1 - A) factor: a classic student bug
        return dA * self.A


def test_checker_detects_a_wrong_layer_gradient():
    X = np.random.default_rng(1).standard_normal((5, 4))
    res = check_layer(_BrokenSigmoid(), X, eps=1e-5)
    assert not res.ok and res.rel_diff > 1e-2


def test_block_report_points_at_the_wrong_block(monkeypatch):
    """A model whose output bias gradient is wrong: only that block is flagged."""
    class BadBias(nn.Dense):
        def backward(self, dZ):
            out = super().backward(dZ)
            self.db *= 2.0
            return out

    net = Sequential([nn.Dense(4, 3), nn.Sigmoid(), BadBias(3, 4)], SquaredError(), random_state=0)
    res = check_model(net, np.random.default_rng(2).uniform(0, 1, (6, 4)), eps=1e-5)
    assert not res.ok
    bad = {name for name, diff in res.blocks.items() if diff > 1e-6}
    assert bad == {"badbias2.b"}
    assert "badbias2.b" in res.report() and "wrong gradient here" in res.report()


def test_sparse_autoencoder_at_ufldl_epsilon():
    """The full UFLDL cost with lambda and beta non-zero passes at UFLDL's own eps = 1e-4."""
    ae = SparseAutoencoder(n_hidden=5, sparsity=0.1, beta=3.0, weight_decay=1e-3, random_state=3).initialize(8)
    X = np.random.default_rng(3).uniform(0.1, 0.9, (10, 8))
    res = check_model(ae.network_, X, eps=1e-4)
    assert res.rel_diff < 1e-9, res.report()


def test_check_function_on_a_wrong_gradient():
    res = check_function(lambda x: (float(x @ x), x), [1.0, 2.0])  # true gradient is 2x
    assert not res.ok and res.rel_diff == pytest.approx(1 / 3, rel=1e-6)
