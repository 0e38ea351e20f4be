"""The objective of one phase of fit_in_phases: weight decay on the path's weights only, and its gradient."""
import numpy as np
import pytest

from numpy_ae.check.gradcheck import check_model
from numpy_ae.nn.dense import Dense, TiedDense
from numpy_ae.nn.losses import MeanSquaredError
from numpy_ae.models.stacked import StackedAutoencoder, PhaseView

LAMBDA = 0.5


def _phase(k, tied, corruption=None):
    ae = StackedAutoencoder(hidden_layer_sizes=(4, 3, 2), activation="tanh", tied=tied, weight_decay=LAMBDA,
                            corruption=corruption, random_state=k).initialize(5)
    net = ae.network_
    path, trainable, target_layers = ae._phase_path(k)
    X = np.random.default_rng(k).uniform(0, 1, (6, 5))
    T = None if k == 1 else net.forward(X, training=False, layers=target_layers).copy()
    view = PhaseView(net, path, net.loss if k == 1 else MeanSquaredError())
    return ae, net, path, trainable, view, X, T


@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_weight_decay_covers_the_path_weights_only(k, tied):
    ae, net, path, _, view, X, T = _phase(k, tied)
    J = view.compute(X, T)
    used = [l for l in path if isinstance(l, Dense)] + [l.source for l in path if isinstance(l, TiedDense)]
    decayed = list({id(l): l for l in used}.values())  # a tied source counts once: W is one array
    assert len(decayed) == (k if tied else k + 1)  # encoder layers 1..k, plus the mirror's own W if untied
    Y = net.forward(X, training=True, layers=path)
    expected = view.loss.forward(Y, X if T is None else T) + 0.5 * LAMBDA * sum(float(np.sum(l.W ** 2))
                                                                                 for l in decayed)
    assert J == pytest.approx(expected, rel=1e-13)
    on_path = {id(l) for l in path} | {id(l.source) for l in path if isinstance(l, TiedDense)}
    for b in net.blocks:
        if id(b.layer) not in on_path:  # off the path: no loss term, no weight decay, so exactly zero
            assert np.all(view.grad[b.slice] == 0.0), b.name
    assert any(id(b.layer) not in on_path for b in net.blocks)  # the case exists: phases skip layers


def test_phase_1_tied_decays_the_shared_matrix_once():
    _, net, path, _, view, X, T = _phase(1, tied=True)
    W = net.layers[0].W
    J = view.compute(X, T)
    net.weight_decay = 0.0
    J0 = view.compute(X, T)
    assert J - J0 == pytest.approx(0.5 * LAMBDA * float(np.sum(W ** 2)), rel=1e-12)


@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_phase_objective_gradient(k, tied):
    _, _, _, _, view, X, T = _phase(k, tied, corruption="masking")
    for layer in view.path:
        if hasattr(layer, "freeze_noise"):
            layer.freeze_noise()
    res = check_model(view, X, T, eps=1e-5)
    assert res.rel_diff < 1e-9 and res.ok and res.conclusive, res.report()
