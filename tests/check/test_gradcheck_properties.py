"""Property-based gradient checks (hypothesis): random stacks of layers, shapes and losses, in float64.

Every generated model must pass the checker (no block called wrong: the checker never cries wolf),
and the same model with one parameter block's backward gradient scaled by a random factor must be
called wrong at exactly that block (a block the checker confirmed in the correct model: at a ReLU
input of exactly 0 no derivative exists and the checker says "inconclusive" either way). Bounded and reproducible: ``derandomize=True`` fixes the examples,
50 of each, ``deadline=None`` (a check takes 5-50 ms on a shared CI core, too noisy for a deadline).
The check runs at UFLDL's eps = 1e-4, where truncation error often exceeds the 1e-9 threshold: the
verdict, not the threshold, has to keep these correct models from being reported.
"""
import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from numpy_ae import nn
from numpy_ae.check.gradcheck import check_model
from numpy_ae.nn.losses import BinaryCrossEntropy, MeanSquaredError, SquaredError
from numpy_ae.nn.sequential import Sequential
from numpy_ae.nn.noise import GaussianNoise, MaskingNoise, SaltAndPepperNoise
from numpy_ae.nn.penalties import KLSparsity
from numpy_ae.nn.losses import SoftmaxCrossEntropy

SETTINGS = settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
ACTIVATIONS = [nn.Sigmoid, nn.Tanh, nn.ELU, nn.Softplus, nn.Identity, nn.ReLU]
CORRUPTIONS = [GaussianNoise, MaskingNoise, SaltAndPepperNoise]
LOSSES = ["squared", "mse", "bce", "softmax"]


@st.composite
def models(draw):
    """A random Sequential, its data and targets: widths 2-5, 1-3 affine layers (Dense or TiedDense),
    activations, KL sparsity only right after a sigmoid, frozen corruption anywhere, a random loss."""
    n, d = draw(st.integers(2, 5)), draw(st.integers(2, 5))
    stack, width, dense = [], d, []
    if draw(st.booleans()):
        stack.append(draw(st.sampled_from(CORRUPTIONS))(draw(st.sampled_from([0.1, 0.3]))))
    for _ in range(draw(st.integers(1, 3))):
        tie_to = [l for l in dense if l.n_out == width]
        if tie_to and draw(st.booleans()):
            source = draw(st.sampled_from(tie_to))
            stack.append(nn.TiedDense(source))
            width = source.n_in
        else:
            dense.append(nn.Dense(width, draw(st.integers(2, 5))))
            stack.append(dense[-1])
            width = dense[-1].n_out
        activation = draw(st.sampled_from(ACTIVATIONS))
        stack.append(activation())
        if activation is nn.Sigmoid and draw(st.booleans()):
            stack.append(KLSparsity(sparsity=draw(st.sampled_from([0.05, 0.2, 0.5])), beta=3.0))
        if draw(st.integers(0, 4)) == 0:
            stack.append(draw(st.sampled_from(CORRUPTIONS))(0.2))
    loss_name = draw(st.sampled_from(LOSSES))
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if loss_name == "softmax":
        loss, T = SoftmaxCrossEntropy(), rng.integers(0, width, n)
    elif loss_name == "bce":
        loss, T = BinaryCrossEntropy(), rng.uniform(0, 1, (n, width))
    else:
        loss, T = (SquaredError() if loss_name == "squared" else MeanSquaredError()), rng.standard_normal((n, width))
    net = Sequential(stack, loss, weight_decay=draw(st.sampled_from([0.0, 0.1])), random_state=seed)
    for layer in net.layers:
        if hasattr(layer, "freeze_noise"):
            layer.freeze_noise()
    return net, X, T


STATS = {"models": 0, "analysed_blocks": 0, "broken": 0}


@SETTINGS
@given(models())
def test_random_correct_models_are_never_called_wrong(case):
    net, X, T = case
    res = check_model(net, X, T)
    assert res.ok, f"{net!r}\n{res.report()}"
    STATS["models"] += 1
    STATS["analysed_blocks"] += sum(v.verdict != "ok" for v in res.verdicts.values())


@SETTINGS
@given(models(), st.data())
def test_random_models_with_one_scaled_gradient_are_wrong_there(case, data):
    net, X, T = case
    # blocks the checker confirms in the correct model (not "inconclusive": e.g. a ReLU input exactly 0, where
    # no derivative exists) and whose backpropagated gradient is clearly above rounding level (a dead ReLU
    # unit's is exactly 0, and scaling 0 breaks nothing); weight decay is added after backward: left out here
    confirmed = {k for k, v in check_model(net, X, T).verdicts.items() if v.verdict in ("ok", "fd_error")}
    decay, net.weight_decay = net.weight_decay, 0.0
    net.compute(X, T)
    g = net.grad.copy()
    net.weight_decay = decay
    eligible = [b for b in net.blocks
                if b.name in confirmed and np.linalg.norm(g[b.slice]) > 1e-6 * np.linalg.norm(g)]
    assume(eligible)  # e.g. every gradient exactly 0 (all ReLU units dead): nothing to break
    block = data.draw(st.sampled_from(eligible), label="block")
    factor = data.draw(st.sampled_from([-1.0, 0.5, 0.9, 0.99, 1.01, 1.1, 2.0]), label="factor")
    layer, grad = block.layer, getattr(block.layer, "d" + block.key)
    plain = layer.backward

    def scaled_backward(dY):
        out = plain(dY)
        grad[...] *= factor  # the whole block: shares added earlier by a tied decoder are scaled too
        return out

    layer.backward = scaled_backward
    res = check_model(net, X, T)
    assert res.wrong_blocks == [block.name], f"{net!r}\nbroke {block.name} x{factor}\n{res.report()}"
    STATS["broken"] += 1
