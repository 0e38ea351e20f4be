"""ConvAutoencoder, continued: the Hands-On ML preset, greedy layer-wise pretraining (fit_in_phases),
and the code hook where Conv-WTA's sparsity layers will go (_code_layers)."""
import numpy as np
import pytest

from numpy_ae import ConvAutoencoder, load
from numpy_ae.nn.conv import Conv2D, ConvTranspose2D
from numpy_ae.nn.fast import reference_class
from numpy_ae.data import find_mnist
from numpy_ae.data.mnist import FILES, read_idx
from numpy_ae.nn.activations import SELU
from numpy_ae.nn.layer import Layer
from numpy_ae.nn.spatial import Flatten, MaxPool2D

from _data import DATA_DIR, DATASET  # noqa: E402  (tests/ is on sys.path under pytest)
from test_convae import _shapes  # noqa: E402


def _squares(n, seed, size=8, side=3):
    """``(n, size, size)`` images in [0.05, 0.95]: a bright ``side x side`` square at a random place."""
    rng = np.random.default_rng(seed)
    X = np.full((n, size, size), 0.05)
    for i in range(n):
        r, c = rng.integers(0, size - side + 1, 2)
        X[i, r:r + side, c:c + side] = 0.95
    return X




# ------------------------------------------------------------------ Hands-On ML preset

def test_hands_on_ml_has_the_books_46529_parameters_and_shapes():
    ae = ConvAutoencoder.hands_on_ml().initialize(784)
    # Keras' summary of the book's model, by hand (kernels k*k*C_in*C_out, plus one bias per output channel):
    #   encoder  Conv2D 1->16:   9*1*16  + 16 =    160
    #            Conv2D 16->32:  9*16*32 + 32 =  4,640
    #            Conv2D 32->64:  9*32*64 + 64 = 18,496    (23,296)
    #   decoder  Conv2DTranspose 64->32: 9*64*32 + 32 = 18,464
    #            Conv2DTranspose 32->16: 9*32*16 + 16 =  4,624
    #            Conv2DTranspose 16->1:  9*16*1  +  1 =    145    (23,233)
    #   total 46,529
    assert ae.n_params_ == ae.theta.size == 160 + 4_640 + 18_496 + 18_464 + 4_624 + 145 == 46_529
    assert [reference_class(type(la)) for la in ae.network_.layers if la.param_shapes()] == [Conv2D] * 3 + [ConvTranspose2D] * 3
    assert sum(isinstance(la, SELU) for la in ae.network_.layers) == 5  # every layer but the sigmoid output
    assert {la.init for la in ae.network_.layers if la.param_shapes()} == {"glorot"}  # Keras' default
    shapes = _shapes(ae, np.zeros((2, 784)))
    assert shapes == [(1, 28, 28),
                      (16, 28, 28), (16, 28, 28), (16, 14, 14),
                      (32, 14, 14), (32, 14, 14), (32, 7, 7),
                      (64, 7, 7), (64, 7, 7), (64, 3, 3),
                      (576,), (64, 3, 3),
                      (32, 7, 7), (32, 7, 7),        # "valid" transposed convolution: (3 - 1)*2 + 3 = 7
                      (16, 14, 14), (16, 14, 14),    # "same": 2 x 7
                      (1, 28, 28), (784,)]           # "same": 2 x 14, logits of the sigmoid
    assert ae.code_shape_ == (64, 3, 3)
    convt = [la for la in ae.network_.layers if isinstance(la, ConvTranspose2D)]
    assert [(la.padding, la.output_padding) for la in convt] == [((0, 0), (0, 0)), ((1, 1), (1, 1)),
                                                                ((1, 1), (1, 1))]
    # the book's training: binary cross-entropy, SGD with learning rate 1.0 on the pixel MEAN (Keras), which is
    # 1/784 on our per-image pixel SUM; no momentum; Keras' default batch of 32; 5 epochs
    assert (ae.loss, ae.method, ae.momentum, ae.batch_size, ae.epochs) == ("cross_entropy", "sgd", 0.0, 32, 5)
    assert ae.learning_rate == pytest.approx(1 / 784, rel=1e-15)
    assert ConvAutoencoder.hands_on_ml(epochs=1, random_state=3).get_params()["epochs"] == 1
    # the Keras denoiser keeps its layout (output_conv=True) and its 28,353 parameters
    assert ConvAutoencoder.keras_denoiser().initialize(784).n_params_ == 28_353


def _fashion_test_images(n):
    """The first ``n`` Fashion-MNIST test images as ``(n, 28, 28)`` in [0, 1] (only that file is read)."""
    directory = find_mnist("fashion-mnist", download=False)
    path = next(p for p in (directory / (FILES[2] + ".gz"), directory / FILES[2]) if p.is_file())
    return read_idx(path)[:n].astype(np.float64) / 255.0


@pytest.mark.parametrize("source", ["fashion-mnist", "synthetic"])
def test_hands_on_ml_short_training_lowers_the_loss(source):
    """Two SGD steps of the book's settings (a minibatch of 32, learning rate 1.0 per pixel mean) on 32 images.
    Measured (seeds 0-3): on the first 32 Fashion-MNIST test images the cross-entropy falls from about 548 to
    471-475 nats per image (ratios 0.85-0.87); on 9x9 squares from about 545 to 358-365 (0.65-0.67). Asking
    for at least 5% leaves room for other seeds, while a wrong gradient or a step 784 times too small (the
    pixel-sum/pixel-mean mix-up) would not get there."""
    if source == "fashion-mnist":
        if DATA_DIR is None or DATASET != "fashion-mnist":
            pytest.skip("Fashion-MNIST not found: set NUMPY_AE_DATA (e.g. NUMPY_AE_DATA=../shared/data)")
        X = _fashion_test_images(32)
    else:
        X = _squares(32, 0, size=28, side=9)
    ae = ConvAutoencoder.hands_on_ml(epochs=2, random_state=0)
    before = -ae.initialize(784).score(X)
    ae.fit(X)
    after = -ae.score(X)
    assert len(ae.history_["loss"]) == 2
    assert after < 0.95 * before
    assert ae.reconstruct(X).shape == X.shape == (32, 28, 28)


# ------------------------------------------------------------------ greedy layer-wise pretraining

def _stack(**kw):
    params = dict(image_shape=(1, 8, 8), filters=(3, 4, 2), output_conv=False, activation="elu",
                  weight_decay=0.01, epochs=1, batch_size=8, learning_rate=1e-2, random_state=0)
    return ConvAutoencoder(**(params | kw))


def _moved(before, after, net):
    """Names of the parameter blocks whose values changed."""
    return {b.name for b in net.blocks if not np.array_equal(before[b.slice], after[b.slice])}


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_each_phase_moves_only_its_blocks(k):
    """Run phase k alone (the others get 0 epochs) from the same initialisation: exactly the parameters of
    encoder block k and its mirror decoder block move (phase 4, the fine-tuning, moves every one)."""
    X = _squares(16, 1)
    theta0 = _stack().initialize(64).theta.copy()
    epochs = [0, 0, 0, 0]
    epochs[k - 1] = 2
    ae = _stack().fit_in_phases(X, epochs=epochs)
    net = ae.network_
    if k <= 3:
        _, trainable, _ = ae._phase_path(k)
        expected = {b.name for b in net.blocks if any(b.layer is la for la in trainable)}
        assert len(expected) == 4  # encoder block k's kernel and bias, its mirror's kernel and bias
    else:
        expected = {b.name for b in net.blocks}
    assert _moved(theta0, net.theta, net) == expected
    assert [h is None for h in ae.phase_history_] == [e == 0 for e in epochs]
    assert len(ae.phase_cost_) == 4


def _hand_phase_objective(ae, X, k, lam):
    """Phase k's objective at the current parameters, assembled from the network's layers by position
    (not from _phase_path): the reconstruction of block k's input, plus weight decay on the path's kernels."""
    enc, dec = ae.encoder_layers, ae.decoder_layers  # [Reshape, (conv, act, pool) x 3, Flatten], [Reshape, ...]
    H = enc[0].forward(X, training=False)
    for la in enc[1:1 + 3 * (k - 1)]:  # blocks 1..k-1: the target
        H = la.forward(H, training=False)
    Z = H
    for la in enc[1 + 3 * (k - 1):1 + 3 * k]:  # block k
        Z = la.forward(Z, training=False)
    j = 1 + 2 * (3 - k)  # decoder block k starts here: (convT, act) for k = 3, 2, then the output convT
    for la in dec[j:j + (2 if k > 1 else 1)]:
        Z = la.forward(Z, training=False)
    assert Z.shape == H.shape  # the mirror block gives back block k's input shape
    if k == 1:  # cross-entropy from logits, summed over pixels, averaged over examples
        Z = Z.reshape(len(X), -1)
        loss = np.mean(np.sum(np.logaddexp(0, Z) - X * Z, axis=1))
    else:  # squared error summed over features, averaged over examples: the cross-entropy's reduction
        loss = 0.5 * np.sum((Z - H) ** 2) / len(X)
    kernels = [la.W for la in enc[1:1 + 3 * k:3]] + [dec[j].W]
    return loss + 0.5 * lam * sum(float(np.sum(W ** 2)) for W in kernels)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_the_phase_objective_is_the_reconstruction_of_the_block_input(k):
    """With one minibatch of all N examples, the first loss fit_in_phases records for phase k is the phase's
    objective at the initial parameters; it must equal the hand-assembled one. Rounding only (the minibatch is
    a permutation of X, sums reordered): 1e-12 relative."""
    X = _squares(12, 2).reshape(12, -1)
    lam = 0.05
    epochs = [0, 0, 0, 0]
    epochs[k - 1] = 1
    ae = _stack(method="sgd", batch_size=12, weight_decay=lam).fit_in_phases(X, epochs=epochs)
    fresh = _stack(weight_decay=lam).initialize(64)
    expected = _hand_phase_objective(fresh, X, k, lam)
    assert ae.phase_history_[k - 1]["loss"][0] == pytest.approx(expected, rel=1e-12)
    # and the same value straight from the phase's view of the model
    from numpy_ae.models.convolutional import forward_in_batches
    from numpy_ae.models.stacked import PhaseView
    path, _, target_layers = fresh._phase_path(k)
    net = fresh.network_
    T = None if k == 1 else forward_in_batches(net, X, target_layers)
    view = PhaseView(net, path, fresh._phase_loss(k))
    assert view.compute(X, T) == pytest.approx(expected, rel=1e-12)


def test_inner_phases_reduce_the_squared_error_as_the_model_reduces_its_loss():
    from numpy_ae.nn.losses import BinaryCrossEntropy, MeanSquaredError, SquaredError
    xent, mse = _stack().initialize(64), _stack(loss="mse").initialize(64)
    assert isinstance(xent._phase_loss(1), BinaryCrossEntropy) and xent._phase_loss(1) is xent.network_.loss
    assert [type(xent._phase_loss(k)) for k in (2, 3)] == [SquaredError] * 2  # summed over features
    from numpy_ae.nn.fast import reference_class  # the model's own loss is its fast twin
    assert [reference_class(type(mse._phase_loss(k))) for k in (1, 2, 3)] == [MeanSquaredError] * 3  # averaged


def test_pretraining_then_fine_tuning_lowers_the_reconstruction_error():
    """64 images of a 3x3 square at a random place on 8x8, filters (8, 8): two pretraining phases of 20 Adam
    epochs, then 20 epochs of fine-tuning. The images' own entropy, 12.70 nats per image, is the floor of the
    cross-entropy (the mean image costs 28.5). Measured (seed 0): the whole network's error is 54.6 after
    phase 1 (block 2 still random), 18.2 after phase 2, 14.1 after fine-tuning; over seeds 0-3 fine-tuning
    removed 73-77% of the excess over the floor. The test asks for half. And the model after the pretraining
    phases alone is exactly the state fit_in_phases reports before fine-tuning (same seed, same draws)."""
    X = _squares(64, 0)
    floor = -np.mean(np.sum(X * np.log(X) + (1 - X) * np.log(1 - X), axis=(1, 2)))
    params = dict(image_shape=(8, 8), filters=(8, 8), output_conv=False, activation="elu", batch_size=16,
                  learning_rate=1e-2, random_state=0)
    ae = ConvAutoencoder(**params).fit_in_phases(X, epochs=[20, 20, 20])
    pretrained = ConvAutoencoder(**params).fit_in_phases(X, epochs=[20, 20, 0])
    assert -pretrained.score(X) == pytest.approx(ae.phase_cost_[1], rel=1e-12)
    assert ae.phase_cost_[2] == pytest.approx(-ae.score(X), rel=1e-12)
    assert ae.phase_cost_[1] < ae.phase_cost_[0]  # phase 2 trained the block that phase 1 left random
    assert ae.phase_cost_[2] - floor < 0.5 * (ae.phase_cost_[1] - floor)
    # each pretraining phase lowered its own objective (measured 44.6 -> 14.9 and 65.0 -> 6.0)
    for h in ae.phase_history_[:2]:
        assert h["loss"][-1] < 0.5 * h["loss"][0]


def test_fit_in_phases_round_trips_and_works_with_lbfgs(tmp_path):
    X = _squares(10, 3)[:, None]
    ae = _stack(method="lbfgs", max_iter=3).fit_in_phases(X, epochs=[1, 0, 1, 1])
    assert [h is None for h in ae.phase_history_] == [False, True, False, False]
    assert all(isinstance(h, list) and len(h) >= 1 for h in ae.phase_history_ if h is not None)
    back = load(ae.save(tmp_path / "phases.npz"))
    assert back.phase_history_ == ae.phase_history_ and back.phase_cost_ == ae.phase_cost_
    np.testing.assert_array_equal(back.reconstruct(X), ae.reconstruct(X))
    # after a plain fit, the phase attributes are gone (they describe fit_in_phases only)
    ae.fit(X)
    assert not hasattr(ae, "phase_history_") and not hasattr(ae, "phase_cost_")


@pytest.mark.parametrize("kwargs, fit_kwargs, match", [
    (dict(output_conv=True), {}, r"fit_in_phases needs output_conv=False .*; got output_conv=True"),
    ({}, dict(epochs=[1, 1]), r"epochs must be None, an int >= 0 or a list of L \+ 1 = 4 ints >= 0 .*; "
                              r"got \[1, 1\]"),
    ({}, dict(epochs=[1, 1, -1, 1]), r"epochs must be .*; got \[1, 1, -1, 1\]"),
    ({}, dict(epochs=1.5), r"epochs must be .*; got 1.5"),
    ({}, dict(epochs=[1, 1, 1, True]), r"epochs must be .*; got \[1, 1, 1, True\]"),
])
def test_fit_in_phases_bad_input(kwargs, fit_kwargs, match):
    with pytest.raises(ValueError, match=match):
        _stack(**kwargs).fit_in_phases(_squares(4, 0), **fit_kwargs)


def test_phase_path_bad_k():
    ae = _stack().initialize(64)
    for k in (0, 4, 1.0, True):
        with pytest.raises(ValueError, match=rf"k must be a phase number from 1 to L = 3 \(one per encoder "
                                             rf"block\); got {k!r}"):
            ae._phase_path(k)


# ------------------------------------------------------------------ the code hook (_code_layers)

class _ChannelScale(Layer):
    r"""A test-local, identity-like code layer with one parameter per feature map: ``Y = g_c X`` (g starts at
    1, so the network starts as without it). Records the ``training`` flag of every forward pass."""

    def __init__(self, channels):
        self.channels = channels
        self.calls = []

    def param_shapes(self):
        return {"g": (self.channels,)}

    def init_params(self, rng):
        self.g[...] = 1.0

    def forward(self, X, training=True):
        self.calls.append(training)
        self.X = X
        return X * self.g[:, None, None]

    def backward(self, dY):
        self.dg += np.einsum("nchw,nchw->c", dY, self.X)
        return dY * self.g[:, None, None]


class _ScaledCodeAE(ConvAutoencoder):
    """A ConvAutoencoder with one _ChannelScale at the code (how a Conv-WTA subclass will plug in)."""

    def _code_layers(self, code_shape):
        return [_ChannelScale(code_shape[0])]


def _code_layer(ae):
    found = [la for la in ae.network_.layers if isinstance(la, _ChannelScale)]
    assert len(found) == 1
    return found[0]


def test_code_layers_sit_between_the_last_block_and_the_flatten_and_are_trained(tmp_path):
    X = _squares(32, 4)[:, None]
    ae = _ScaledCodeAE(filters=(3, 2), epochs=3, batch_size=8, learning_rate=1e-2, random_state=0).fit(X)
    layer = _code_layer(ae)
    enc = list(ae.encoder_layers)
    i = enc.index(layer)
    assert isinstance(enc[i - 1], MaxPool2D) and isinstance(enc[i + 1], Flatten) and i + 2 == len(enc)
    assert "g" in layer.param_shapes() and any(b.layer is layer for b in ae.network_.blocks)
    assert not np.allclose(layer.g, 1.0)  # trained: its gradient reached the optimiser
    assert layer.calls.count(True) == 3 * 4  # a training pass per minibatch: 3 epochs of 32 / 8
    del layer.calls[:]
    codes = ae.transform(X)
    assert layer.calls == [False]  # inference: transform runs the code layers with training=False
    np.testing.assert_allclose(codes.reshape(32, 2, 2, 2) / layer.g[:, None, None],
                               _plain_codes(ae, X), rtol=1e-12)
    # saved and loaded: the rebuilt network has the layer again, with the trained g
    back = load(ae.save(tmp_path / "hook.npz"))
    assert type(back) is _ScaledCodeAE
    np.testing.assert_array_equal(_code_layer(back).g, layer.g)
    np.testing.assert_array_equal(back.transform(X), codes)


def _plain_codes(ae, X):
    """The codes before the code layer (the last pooling's output)."""
    H = X.reshape(len(X), -1)
    for la in ae.encoder_layers[:-2]:
        H = la.forward(H, training=False)
    return H


def test_code_layers_join_the_top_phase_only():
    X = _squares(16, 5)
    params = dict(image_shape=(8, 8), filters=(3, 2), output_conv=False, batch_size=8, learning_rate=1e-2,
                  random_state=0)
    ae = _ScaledCodeAE(**params).initialize(64)
    assert _code_layer(ae) in ae._phase_path(2)[0] and _code_layer(ae) not in ae._phase_path(1)[0]
    ae = _ScaledCodeAE(**params).fit_in_phases(X, epochs=[2, 0, 0])
    np.testing.assert_array_equal(_code_layer(ae).g, 1.0)  # phase 1 does not reach the code
    ae = _ScaledCodeAE(**params).fit_in_phases(X, epochs=[0, 2, 0])
    assert not np.allclose(_code_layer(ae).g, 1.0)  # phase 2 (the top block) trains it


class _NotALayer(ConvAutoencoder):
    def _code_layers(self, code_shape):
        return [np.tanh]


class _ShapeChanging(ConvAutoencoder):
    def _code_layers(self, code_shape):
        return [MaxPool2D(2)]


def test_code_layers_must_be_layers_that_keep_the_shape():
    with pytest.raises(ValueError, match=r"_code_layers must return numpy_ae Layers; item 0 is a ufunc"):
        _NotALayer(filters=(2,), epochs=1).fit(_squares(4, 0))
    with pytest.raises(ValueError, match=r"_code_layers must keep the code's shape \(f_L, H_L, W_L\) = "
                                         r"\(2, 4, 4\); they return \(2, 2, 2\)"):
        _ShapeChanging(filters=(2,), epochs=1).fit(_squares(4, 0))
