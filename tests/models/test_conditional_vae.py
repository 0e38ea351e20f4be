"""Side inputs (JoinCondition, Sequential.set_condition, train_minibatch(side=...)) and the ConditionalVAE."""
import numpy as np
import pytest

from numpy_ae import ConditionalVAE, VariationalAutoencoder, load
from numpy_ae.nn.dense import Dense
from numpy_ae.nn.activations import Identity
from numpy_ae.nn.condition import JoinCondition
from numpy_ae.nn.layer import Layer
from numpy_ae.nn.losses import SquaredError
from numpy_ae.nn.sequential import Sequential
from numpy_ae.train.optimizers import Adam
from numpy_ae.train.loop import train_minibatch


# ------------------------------------------------------------ the join layer
def test_join_condition_forward_and_backward_values():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 3))
    C = np.eye(4)[[0, 3, 1, 1, 2]].astype(np.float32)  # cast to X's dtype on the way
    layer = JoinCondition(4)
    layer.condition = C
    for training in (True, False):
        Y = layer.forward(X, training=training)
        assert Y.shape == (5, 7) and Y.dtype == np.float64
        np.testing.assert_array_equal(Y[:, :3], X)
        np.testing.assert_array_equal(Y[:, 3:], C)
    dY = rng.standard_normal((5, 7))
    dX = layer.backward(dY.copy())
    assert dX.shape == (5, 3)
    np.testing.assert_array_equal(dX, dY[:, :3])  # the condition is data: its part of dY is dropped
    assert layer.param_shapes() == {} and layer.penalty == 0.0


def test_join_condition_refuses_a_missing_or_misshapen_condition():
    layer = JoinCondition(2)
    with pytest.raises(ValueError, match="has no condition: set layer.condition"):
        layer.forward(np.zeros((3, 4)))
    layer.condition = np.zeros((2, 2))
    with pytest.raises(ValueError, match=r"condition must have shape \(3, 2\).*got \(2, 2\)"):
        layer.forward(np.zeros((3, 4)))
    layer.condition = np.zeros((3, 5))
    with pytest.raises(ValueError, match=r"condition must have shape \(3, 2\).*got \(3, 5\)"):
        layer.forward(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="n_conditions must be an integer >= 1"):
        JoinCondition(0)


def test_set_condition_reaches_every_join_layer_and_refuses_a_model_without_one():
    a, b = JoinCondition(2), JoinCondition(2)
    net = Sequential([a, Dense(5, 3), b, Dense(5, 4)], SquaredError(), dtype="float32", random_state=0)
    C = np.eye(2)[[0, 1, 1]]
    assert net.set_condition(C) == 2
    assert a.condition is b.condition and a.condition.dtype == np.float32
    np.testing.assert_array_equal(a.condition, C)
    with pytest.raises(ValueError, match="no layer of this model takes a condition"):
        Sequential([Dense(2, 2)], SquaredError()).set_condition(C)


# ------------------------------------------------- the loop carries the side
class _Recorder(Layer):
    """Identity that records every training input it sees (test-local, exempt from the coverage rule)."""

    def __init__(self):
        self.seen = []

    def forward(self, X, training=True):
        if training:
            self.seen.append(np.array(X))
        return X

    def backward(self, dY):
        return dY


def test_train_minibatch_slices_the_side_array_with_the_same_permutation():
    """Row n of X is (n,), its side input 2n + 1: every minibatch must keep them paired, in shuffled order."""
    N = 23
    X = np.arange(N, dtype=float)[:, None]
    side = 2.0 * X + 1.0
    rec = _Recorder()
    net = Sequential([JoinCondition(1), rec, Dense(2, 1)], SquaredError(), random_state=0)
    T = 3.0 * X  # the targets are sliced with the same indices too
    train_minibatch(net, X, T, optimizer=Adam(1e-3), epochs=2, batch_size=5, rng=np.random.default_rng(7),
                    verbose=False, side=side)
    assert len(rec.seen) == 2 * 5  # 2 epochs of ceil(23 / 5) minibatches
    rng = np.random.default_rng(7)
    for epoch in range(2):
        order = rng.permutation(N)  # the loop's own shuffling, replayed
        batches = rec.seen[5 * epoch:5 * (epoch + 1)]
        got = np.concatenate([b[:, 0] for b in batches])
        np.testing.assert_array_equal(got, order)
        assert not np.array_equal(got, np.arange(N))  # really shuffled
        for b in batches:
            np.testing.assert_array_equal(b[:, 1], 2.0 * b[:, 0] + 1.0)  # paired


def test_the_pairing_decides_what_can_be_learned():
    """T = x + s is fitted exactly by [x, s] -> Dense only when s travels with its own x.

    With the side array of the right rows the loss falls below 1e-6; with the same values in another
    order (the pairing broken) the best linear fit of T on [x, s] leaves the variance of the part of
    s not explained by x: about var(s) = 1/12 * 4 = 0.33 here, far above the threshold.
    """
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (200, 1))
    s = rng.uniform(-1, 1, (200, 1))
    T = x + s

    def final_loss(side):
        net = Sequential([JoinCondition(1), Dense(2, 1, init="glorot"), Identity()], SquaredError(),
                         random_state=0)
        h = train_minibatch(net, x, T, optimizer=Adam(3e-2), epochs=150, batch_size=20,
                            rng=np.random.default_rng(1), verbose=False, side=side,
                            validation_data=(x, T, side))
        return h["loss"][-1], h["val_loss"][-1]

    good, good_val = final_loss(s)
    bad, _ = final_loss(s[::-1].copy())
    assert good < 1e-6 and good_val < 1e-6, (good, good_val)
    assert bad > 0.05, bad


def test_train_minibatch_refuses_a_side_array_of_the_wrong_length():
    net = Sequential([JoinCondition(1), Dense(2, 1)], SquaredError(), random_state=0)
    with pytest.raises(ValueError, match="side must have one row per example: X has 4 rows, side has 3"):
        train_minibatch(net, np.zeros((4, 1)), optimizer=Adam(1e-3), epochs=1, batch_size=2, verbose=False,
                        side=np.zeros((3, 1)))


# ----------------------------------------------------------- the conditional VAE
def _prototypes():
    r"""4 prototypes on 32 binary pixels: 0.1 everywhere, 0.9 on two blocks of each class's own.
    Squared distances between prototypes: 10.24 (neighbours) or 15.36."""
    P = np.full((4, 32), 0.1)
    for c in range(4):
        P[c, 8 * c:8 * c + 8] = 0.9
        P[c, (8 * c + 12) % 32:((8 * c + 16) % 32) or 32] = 0.9
    return P


def _labelled(seed, n):
    rng = np.random.default_rng(seed)
    P = _prototypes()
    y = rng.integers(0, 4, n)
    return (rng.random((n, 32)) < P[y]).astype(float), y


X_TRAIN, Y_TRAIN = _labelled(0, 800)
X_TEST, Y_TEST = _labelled(1, 2000)
SETTINGS = dict(hidden_layer_sizes=(16,), n_latent=2, epochs=40, batch_size=32, learning_rate=3e-3)


@pytest.mark.parametrize("seed", [0, 1])
def test_samples_of_class_c_lie_near_prototype_c(seed):
    r"""Given its class, a pixel is Bernoulli(P_c) independently of the others: the best decoder
    ignores z and outputs P_c. Every generated image (decoder mean) must be much nearer its own
    prototype than any other: squared distance below a quarter of the distance to the nearest other
    prototype (a decoder ignoring the label, or mixing two classes, sits about half-way: ratio near 1).
    Measured: worst ratio 0.044 (seed 0) and 0.15 (seed 1) over 800 samples."""
    P = _prototypes()
    cvae = ConditionalVAE(random_state=seed, **SETTINGS).fit(X_TRAIN, Y_TRAIN)
    for c in range(4):
        S = cvae.sample(200, y=c, random_state=seed)
        d = np.square(S[:, None, :] - P[None]).sum(axis=2)
        own, other = d[:, c], np.delete(d, c, axis=1).min(axis=1)
        assert np.all(own < 0.25 * other), (c, (own / other).max())


def test_the_conditional_elbo_beats_the_unconditional_one():
    r"""The data's true conditional entropy is H(X|Y) = 32 H_b(0.1) = 10.40 nats, so the conditional
    bound -ELBO >= -log p(x|y) has expectation >= 10.40; a good CVAE gets close (measured 10.56 on
    2,000 test images). The unconditional VAE bounds -log p(x) = H(X) = H(X|Y) + I(X;Y), and the
    classes are recognisable from x (prototypes >= 10 pixels apart), so I(X;Y) is about log 4 = 1.39
    nats: its -ELBO is at least 11.79 whatever it learns (measured 13.06 with the same budget). The
    CVAE must then win by at least 1.39 - 0.5 = 0.89 nats whenever it lies within 0.5 of 10.40."""
    entropy = 32 * -(0.1 * np.log(0.1) + 0.9 * np.log(0.9))
    cvae = ConditionalVAE(random_state=0, **SETTINGS).fit(X_TRAIN, Y_TRAIN)
    vae = VariationalAutoencoder(random_state=0, **SETTINGS).fit(X_TRAIN)
    c = cvae.elbo(X_TEST, Y_TEST)
    u = vae.elbo(X_TEST)
    se = c.neg_elbo.std() / np.sqrt(len(X_TEST))  # about 0.03
    assert entropy - 4 * se < c.neg_elbo.mean() < entropy + 0.5, (c.neg_elbo.mean(), entropy)
    assert u.neg_elbo.mean() > c.neg_elbo.mean() + 0.89, (u.neg_elbo.mean(), c.neg_elbo.mean())
    np.testing.assert_allclose(c.neg_elbo, c.recon + c.kl, rtol=1e-12)
    assert cvae.score(X_TEST, Y_TEST) == pytest.approx(-c.neg_elbo.mean(), rel=1e-12)


def test_methods_shapes_labels_of_any_kind_and_the_same_label_everywhere():
    names = np.array(["ankle", "bag", "coat", "dress"])
    cvae = ConditionalVAE(hidden_layer_sizes=(8,), n_latent=3, epochs=2, batch_size=32, random_state=0)
    cvae.fit(X_TRAIN[:200], names[Y_TRAIN[:200]])
    np.testing.assert_array_equal(cvae.classes_, names)
    y = names[Y_TRAIN[:10]]
    Z = cvae.transform(X_TRAIN[:10], y)
    assert Z.shape == (10, 3)
    R = cvae.inverse_transform(Z, y)
    assert R.shape == (10, 32) and np.all((R > 0) & (R < 1))
    np.testing.assert_allclose(cvae.reconstruct(X_TRAIN[:10], y), R, rtol=1e-12)
    assert cvae.sample(4, y="bag").shape == (4, 32)
    assert cvae.sample(4, y=names).shape == (4, 32)
    assert cvae.kl_per_unit(X_TRAIN[:10], y).shape == (3,)
    assert 0 <= cvae.active_units(X_TRAIN[:10], y) <= 3
    assert cvae.importance_weighted_bound(X_TRAIN[:10], y, k=5).shape == (10,)
    # the label matters: another class decodes the same code differently
    assert not np.allclose(cvae.inverse_transform(Z, np.full(10, "ankle")), cvae.inverse_transform(Z, np.full(10, "dress")))


def test_validation_data_takes_the_labels():
    cvae = ConditionalVAE(hidden_layer_sizes=(8,), n_latent=2, epochs=3, batch_size=32, random_state=0)
    cvae.fit(X_TRAIN[:200], Y_TRAIN[:200], validation_data=(X_TEST[:100], Y_TEST[:100]))
    assert len(cvae.history_["val_loss"]) == 3
    net = cvae.network_
    net.set_condition(np.eye(4)[Y_TEST[:100]])
    assert cvae.history_["val_loss"][-1] == pytest.approx(net.evaluate(X_TEST[:100]), rel=1e-12)
    with pytest.raises(ValueError, match=r"validation_data must be a pair \(X_val, y_val\)"):
        cvae.fit(X_TRAIN[:200], Y_TRAIN[:200], validation_data=X_TEST[:100])


@pytest.fixture(scope="module")
def fitted():
    return ConditionalVAE(hidden_layer_sizes=(8,), n_latent=2, epochs=2, batch_size=32,
                          random_state=0).fit(X_TRAIN[:200], Y_TRAIN[:200])


@pytest.mark.parametrize("call, match", [
    (lambda m: m.transform(X_TEST[:5], Y_TEST[:4]), "y must have one label per row of X: expected 5 labels, got 4"),
    (lambda m: m.transform(X_TEST[:2], [0.0, 1.5]), "y must hold class labels.*continuous value 1.5"),
    (lambda m: m.transform(X_TEST[:2], [0, 9]), r"y must hold labels seen by fit \(classes_ \[0, 1, 2, 3\]\); got 9"),
    (lambda m: m.transform(X_TEST[:2], ["a", "b"]), "y must hold labels seen by fit.*got 'a'"),
    (lambda m: m.transform(X_TEST[:2], None), "y is required"),
    (lambda m: m.inverse_transform(np.zeros((3, 2)), [0, 1]), "y must have one label per row of Z: expected 3"),
    (lambda m: m.sample(3, y=4), r"y must hold labels seen by fit.*got 4"),
    (lambda m: m.sample(3, y=-1), r"y must hold labels seen by fit.*got -1"),
    (lambda m: m.sample(3, y=[0, 1]), r"y must have one label per sample \(n_samples\): expected 3 labels, got 2"),
    (lambda m: m.sample(3), "y is required: the class to generate"),
    (lambda m: m.sample(0, y=1), "n_samples must be an integer >= 1"),
    (lambda m: m.elbo(X_TEST[:3], [0, 1]), "y must have one label per row of X"),
])
def test_bad_labels_are_value_errors_naming_argument_rule_and_value(fitted, call, match):
    with pytest.raises(ValueError, match=match):
        call(fitted)


@pytest.mark.parametrize("y, match", [
    (None, "requires y to be passed"),
    (Y_TRAIN[:10], "y must have one label per row of X: X has 20 rows, y has 10"),
    (np.linspace(0, 1, 20), "continuous value"),
    (np.zeros(20, dtype=int), "y has 1 class"),
])
def test_fit_refuses_bad_labels(y, match):
    with pytest.raises(ValueError, match=match):
        ConditionalVAE(hidden_layer_sizes=(4,), n_latent=2, epochs=1).fit(X_TRAIN[:20], y)


def test_reproducible_per_seed(tmp_path):
    def fit(seed):
        return ConditionalVAE(hidden_layer_sizes=(8,), n_latent=2, epochs=2, batch_size=32,
                              random_state=seed).fit(X_TRAIN[:200], Y_TRAIN[:200])
    a, b, c = fit(3), fit(3), fit(4)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert not np.array_equal(a.theta, c.theta)
    np.testing.assert_array_equal(a.sample(5, y=2, random_state=1), b.sample(5, y=2, random_state=1))
    assert not np.array_equal(a.sample(5, y=2, random_state=1), a.sample(5, y=2, random_state=2))
    np.testing.assert_array_equal(a.elbo(X_TEST[:50], Y_TEST[:50], random_state=5).neg_elbo,
                                  b.elbo(X_TEST[:50], Y_TEST[:50], random_state=5).neg_elbo)
    back = load(a.save(tmp_path / "cvae.npz"))
    np.testing.assert_array_equal(back.classes_, a.classes_)
    np.testing.assert_array_equal(back.sample(5, y=2, random_state=1), a.sample(5, y=2, random_state=1))


def test_lbfgs_is_refused_and_the_network_joins_the_label_twice(fitted):
    with pytest.raises(ValueError, match="method must be 'adam' or 'sgd'"):
        ConditionalVAE(method="lbfgs")
    layers = fitted.network_.layers
    joins = [i for i, layer in enumerate(layers) if isinstance(layer, JoinCondition)]
    assert joins == [0, fitted.n_encoder_layers_]  # encoder input, and z
    assert layers[1].W.shape == (32 + 4, 8) and layers[fitted.n_encoder_layers_ + 1].W.shape == (2 + 4, 8)


def test_loss_and_grad_and_cost_hand_the_labels_to_the_network(fitted):
    """The estimator's objective with labels y is the network's with onehot(y) set as its condition."""
    X, y = X_TEST[:20], Y_TEST[:20]
    for layer in fitted.network_.layers:
        if hasattr(layer, "freeze_noise"):
            layer.freeze_noise()
    try:
        J, g = fitted.loss_and_grad(fitted.theta.copy(), X, y)
        net = fitted.network_
        net.set_condition(np.eye(4)[y])
        J2, g2 = net.loss_and_grad(net.theta.copy(), X)
        assert J == J2
        np.testing.assert_array_equal(g, g2)
        assert fitted.cost(X, y) == J
        # another labelling is another objective
        assert fitted.loss_and_grad(fitted.theta.copy(), X, (y + 1) % 4)[0] != J
    finally:
        for layer in fitted.network_.layers:
            if hasattr(layer, "freeze_noise"):
                layer.freeze_noise(False)


def test_lbfgs_training_hands_the_whole_side_array_to_the_model():
    """TrainingMixin's L-BFGS path evaluates the whole data set: the side array is set once, all rows."""
    from numpy_ae.models.training import TrainingMixin

    class _Fit(TrainingMixin):
        method, max_iter, gtol, verbose = "lbfgs", 200, 1e-10, 0

    rng = np.random.default_rng(0)
    x, s = rng.uniform(-1, 1, (50, 1)), rng.uniform(-1, 1, (50, 1))
    net = Sequential([JoinCondition(1), Dense(2, 1, init="glorot"), Identity()], SquaredError(), random_state=0)
    est = _Fit()
    est._train(net, x, x + s, side=s)
    assert est.cost_ < 1e-12  # T = x + s is fitted exactly only with the side rows paired with x
    np.testing.assert_allclose(net.layers[1].W.ravel(), [1.0, 1.0], atol=1e-6)
