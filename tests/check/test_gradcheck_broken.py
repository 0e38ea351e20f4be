"""Deliberately broken backward passes: the checker must call each one wrong, at the right blocks only.

Each case is a small UFLDL sparse autoencoder (Dense -> sigmoid -> KL sparsity -> Dense/TiedDense ->
sigmoid, squared error, weight decay) with one classic student bug planted in one layer. The blocks
the bug reaches are listed by hand from the chain rule; every other block must NOT be called wrong
(its gradient is still right, so a verdict "wrong" there would send the student to the wrong place).
The check runs at UFLDL's own eps = 1e-4 at the initial point and after some training.
"""
import warnings

import numpy as np
import pytest

from numpy_ae import nn
from numpy_ae.check.gradcheck import check_layer, check_model
from numpy_ae.nn.losses import SquaredError
from numpy_ae.nn.sequential import Sequential
from numpy_ae.exceptions import ConvergenceWarning
from numpy_ae.train.lbfgs import lbfgs
from numpy_ae.nn.penalties import KLSparsity


# ---------------------------------------------------------------- the bugs
class KLMissingOverN(KLSparsity):
    """Missing factor: the sparsity delta without the 1/N that averaging over examples puts there."""
    def backward(self, dA):
        return dA + self.beta * self._slope(self.guard)


class KLDropped(KLSparsity):
    """The sparsity term is computed in forward (it is in J) but never added to delta."""
    def backward(self, dA):
        return dA


class KLSignError(KLSparsity):
    """Sign error in the KL delta: rho/rho_hat - (1-rho)/(1-rho_hat)."""
    def backward(self, dA):
        return dA - (self.beta / self.n) * self._slope(self.guard)


class DenseFactor(nn.Dense):
    """A stray factor 0.999 in dW: the smallest bug a student can make by a factor."""
    def backward(self, dZ):
        out = super().backward(dZ)
        self.dW *= 0.999
        return out


class DenseTransposed(nn.Dense):
    """dW = (X^T dZ)^T: a transposed matrix (possible without a shape error only when D_in = D_out)."""
    def backward(self, dZ):
        self.dW += (self.X.T @ dZ).T
        self.db += dZ.sum(axis=0)
        return dZ @ self.W.T


class DenseBiasMean(nn.Dense):
    """The bias gradient averaged, not summed, over the examples."""
    def backward(self, dZ):
        self.dW += self.X.T @ dZ
        self.db += dZ.mean(axis=0)
        return dZ @ self.W.T


class DenseBiasFirstRow(nn.Dense):
    """The bias gradient of the first example only."""
    def backward(self, dZ):
        self.dW += self.X.T @ dZ
        self.db += dZ[0]
        return dZ @ self.W.T


class TiedCountedOnce(nn.TiedDense):
    """Tied weights: the decoder's contribution to the shared W is never added (only the encoder's counts)."""
    def backward(self, dZ):
        self.db += dZ.sum(axis=0)
        return dZ @ self.source.W


# --------------------------------------------------------------- the model
D, H, N = 6, 4, 10


def sparse_ae(kl=KLSparsity, enc=nn.Dense, dec=nn.Dense, tied=None, n_hidden=H, seed=0):
    first = enc(D, n_hidden)
    second = tied(first) if tied else dec(n_hidden, D)
    return Sequential([first, nn.Sigmoid(), kl(sparsity=0.1, beta=3.0), second, nn.Sigmoid()],
                      SquaredError(), weight_decay=1e-3, random_state=seed)


# (name, model factory, blocks the bug reaches)
CASES = [
    ("kl_missing_1/N", lambda: sparse_ae(kl=KLMissingOverN), {"dense0.W", "dense0.b"}),
    ("kl_term_dropped", lambda: sparse_ae(kl=KLDropped), {"dense0.W", "dense0.b"}),
    ("kl_sign_error", lambda: sparse_ae(kl=KLSignError), {"dense0.W", "dense0.b"}),
    ("factor_0.999_in_dW", lambda: sparse_ae(dec=DenseFactor), {"densefactor3.W"}),
    ("transposed_dW", lambda: sparse_ae(dec=DenseTransposed, n_hidden=D), {"densetransposed3.W"}),
    ("bias_mean_not_sum", lambda: sparse_ae(dec=DenseBiasMean), {"densebiasmean3.b"}),
    ("bias_first_example", lambda: sparse_ae(enc=DenseBiasFirstRow), {"densebiasfirstrow0.b"}),
    ("tied_weight_counted_once", lambda: sparse_ae(tied=TiedCountedOnce), {"dense0.W"}),
]


def _data(seed=1):
    return np.random.default_rng(seed).uniform(0.1, 0.9, (N, D))


def _train(net, X, iters=30):
    """A few L-BFGS iterations on the model's own (broken) gradient: a 'trained' point.

    A wrong gradient can make the line search fail, and lbfgs says so with a ConvergenceWarning:
    expected here (any point the optimiser reached will do), so it is silenced.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = lbfgs(lambda th: net.loss_and_grad(th, X), net.theta.copy(), max_iter=iters)
    net.set_theta(res.x)
    return net


@pytest.mark.parametrize("trained", [False, True], ids=["init", "trained"])
@pytest.mark.parametrize("name, make, bad", CASES, ids=[c[0] for c in CASES])
def test_broken_gradient_is_wrong_at_the_right_blocks(name, make, bad, trained):
    X = _data()
    net = make()
    assert {b.name for b in net.blocks} >= bad  # the expected names exist (a typo would weaken the test)
    if trained:
        _train(net, X)
    res = check_model(net, X)  # UFLDL's eps = 1e-4
    assert not res.ok
    assert set(res.wrong_blocks) == bad, res.report()
    report = res.report()
    for line in report.splitlines()[1:]:
        assert ("wrong gradient here" in line) == (line.split()[0] in bad), report


def test_the_same_models_fixed_are_left_alone():
    """Control: the unbroken models (plain, square, tied) at the same points are not called wrong."""
    X = _data()
    for net in (sparse_ae(), sparse_ae(n_hidden=D), sparse_ae(tied=nn.TiedDense)):
        for _ in range(2):
            res = check_model(net, X)
            assert res.ok and not res.wrong_blocks, res.report()
            _train(net, X)


class SigmoidMissingSlopeFactor(nn.Sigmoid):
    def backward(self, dA):  # forgets the (1 - A) factor
        return dA * self.A


def test_broken_layer_alone_is_wrong_in_dX():
    X = np.random.default_rng(2).standard_normal((5, 4))
    res = check_layer(SigmoidMissingSlopeFactor(), X)
    assert res.wrong_blocks == ["dX"]
    v = res.verdicts["dX"]
    assert v.discrepancy > 10 * v.fd_error  # the rule that made it "wrong"
    assert "stays put" in v.reason
