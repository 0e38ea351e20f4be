r"""The catalogue of exercises: what each copies, what it blanks, how it is graded.

An exercise is ONE :class:`Exercise` entry in :data:`EXERCISES`:

``name``, ``title``, ``summary``
    how ``python -m numpy_ae assignment list`` shows it;
``modules``
    the modules of ``numpy_ae`` the student works in, by dotted path
    (``"nn.dense"``, ``"check.gradcheck"``; always the reference forms in
    ``nn/``, never the fast twins in ``nn/fast``); the student package is
    these plus every module they import at module level (found by
    :func:`numpy_ae.course.package.module_closure`), copied with their relative
    imports into the same sub-folders of ``<DIR>/numpy_ae_student/``;
``blank``
    ``"module:function"`` or ``"module:Class.method"`` qualnames
    (``"nn.dense:Dense.backward"``) whose bodies
    become ``# YOUR CODE HERE`` / ``raise NotImplementedError()``
    (:mod:`numpy_ae.course.blank`); the library's source carries no markers;
``drop``
    ``"module:Name"`` top-level definitions removed from the copy because
    they would give a blanked body away (``ConvTranspose2D.forward`` is
    ``Conv2D``'s input gradient);
``tutorial``
    a percent script in ``numpy_ae/course/tutorials/`` the student runs
    (it imports ``numpy_ae_student``), shipped as ``.py`` and ``.ipynb``;
``tests``
    ``(name, points, function)``: ``function(pkg)`` gets the student's
    package (``pkg.nn.dense`` is the student's ``nn/dense.py``) and returns, or
    raises :class:`~numpy_ae.course.harness.Failed` (any other exception is
    the student's code failing, reported by the grader). Gradient checks run
    the trusted checker (:mod:`numpy_ae.course.harness`).

``requires`` names a ``"module:Name"`` that must exist in the installed
library; an exercise whose requirement is missing is listed as pending (the
contractive exercise waited for ``Contractive`` this way).

Problem sizes follow :mod:`numpy_ae.check.catalogue`: float64, N = 6 examples, D = 5
inputs, H = 4 hidden units, steps of 1e-5; every test takes milliseconds.
"""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass

import numpy as np

from . import harness as h
from .harness import Failed, require

__all__ = ["Exercise", "EXERCISES", "get_exercise", "available"]

N, D, H, K = 6, 5, 4, 3


@dataclass
class Exercise:
    name: str
    title: str
    summary: str
    modules: tuple
    blank: tuple
    tutorial: str
    tests: tuple                      # (name, points, fn(pkg))
    drop: tuple = ()
    requires: tuple = ()              # "module:Name" that must exist in numpy_ae for the exercise to be offered
    pending_note: str = ""
    time_limit: float = 10.0          # seconds per test (each takes milliseconds; 10 s allows a loaded machine)

    @property
    def max_score(self):
        return sum(points for _, points, _ in self.tests)

    def test(self, name):
        for test_name, points, fn in self.tests:
            if test_name == name:
                return points, fn
        raise ValueError(f"exercise {self.name!r} has no test {name!r}")


from ..check.catalogue.common import make_rng as _rng
from ..nn.losses import SoftmaxCrossEntropy, SquaredError
from ..nn.penalties import KLSparsity
from ..nn.reparameterize import gaussian_kl


# ==========================================================================
# UFLDL's sparse autoencoder
# ==========================================================================

def _sigmoid_backward(pkg):
    h.check_layer(pkg.nn.activations.Sigmoid(), 2.0 * _rng(0).standard_normal((N, D)))


def _dense_backward(pkg):
    h.check_layer(pkg.nn.dense.Dense(D, H), _rng(1).standard_normal((N, D)), random_state=1)


def _kl_sparsity_backward(pkg):
    A = _rng(2).uniform(0.05, 0.95, (N, H))  # sigmoid activations: KL sparsity acts on values in (0, 1)
    h.check_layer(pkg.nn.penalties.KLSparsity(sparsity=0.1, beta=3.0), A, random_state=2)


def _kl_sparsity_penalty(pkg):
    r"""The penalty the layer records, against the reference, with units inside (0, 1) and outside it
    (the guard's tangent line uses ``_slope``): a sign error in KL' shows here even if backward is right."""

    rng = _rng(3)
    A = np.column_stack([rng.uniform(0.05, 0.95, (N, 2)), rng.uniform(-0.02, -0.01, N), rng.uniform(1.01, 1.02, N)])
    student, reference = pkg.nn.penalties.KLSparsity(0.1, 3.0), KLSparsity(0.1, 3.0)
    student.forward(A.copy(), training=True)
    reference.forward(A.copy(), training=True)
    # 1e-10: both sum the same four float64 terms; a formula slip changes the penalty by O(1)
    h.require_close("KLSparsity's penalty (beta * sum_j KL, with the guard's tangent for rho_hat outside (0, 1))",
                    float(h.value_of(student, "penalty")), reference.penalty, rtol=1e-10)


def _squared_error_backward(pkg):
    rng = _rng(4)
    h.check_loss(pkg.nn.losses.SquaredError(), rng.standard_normal((N, D)), rng.standard_normal((N, D)))


def _sparse_autoencoder_cost(pkg):
    r"""UFLDL's whole cost: D -> H sigmoid -> KL sparsity -> D sigmoid, squared error, weight decay 1e-3."""
    L, A, R, S = pkg.nn.dense, pkg.nn.activations, pkg.nn.penalties, pkg.nn.losses
    net = h.model_of([L.Dense(D, H), A.Sigmoid(), R.KLSparsity(0.1, 3.0), L.Dense(H, D), A.Sigmoid()],
                     S.SquaredError(), weight_decay=1e-3, random_state=5)
    h.check_model(net, _rng(5).uniform(0.1, 0.9, (N, D)))


SPARSE_AUTOENCODER = Exercise(
    name="sparse_autoencoder",
    title="UFLDL's sparse autoencoder: backpropagation by hand",
    summary="backward passes of Sigmoid, Dense and KL sparsity (and KL'), the squared-error gradient",
    modules=("nn.activations", "nn.dense", "nn.penalties", "nn.losses", "nn.sequential", "check.gradcheck"),
    blank=("nn.activations:Sigmoid.backward", "nn.dense:Dense.backward", "nn.penalties:KLSparsity._slope",
           "nn.penalties:KLSparsity.backward", "nn.losses:SquaredError.backward"),
    drop=("nn.dense:TiedDense",),  # its backward repeats Dense's bias and weight rules
    tutorial="sparse_autoencoder.py",
    tests=(("sigmoid_backward", 2, _sigmoid_backward),
           ("dense_backward", 3, _dense_backward),
           ("kl_sparsity_backward", 3, _kl_sparsity_backward),
           ("kl_sparsity_penalty", 1, _kl_sparsity_penalty),
           ("squared_error_backward", 2, _squared_error_backward),
           ("sparse_autoencoder_cost", 4, _sparse_autoencoder_cost)),
)


# ==========================================================================
# The variational autoencoder
# ==========================================================================

def _vae_input(rng, parameterization):
    mu = rng.standard_normal((N, K))
    if parameterization == "log_var":
        scale = rng.uniform(-2.0, 1.0, (N, K))
    else:  # sigma, either sign, away from the guard at 0
        scale = rng.uniform(0.3, 1.5, (N, K)) * rng.choice([-1.0, 1.0], (N, K))
    return mu, scale


def _gaussian_kl_value(pkg):

    mu, log_var = _vae_input(_rng(10), "log_var")
    got = pkg.nn.reparameterize.gaussian_kl(mu, log_var, __keep__=("mu", "log_var"))
    require(np.array_equal(h.kept(pkg, "mu"), mu) and np.array_equal(h.kept(pkg, "log_var"), log_var),
            "input modified in place: gaussian_kl changed mu or log_var")
    # 1e-12: the same closed form in float64; a slip (sigma for sigma^2, a missing 1/2) is off by O(1)
    h.require_close("gaussian_kl(mu, log_var) (one KL per example, summed over the K latent units)", got,
                    gaussian_kl(mu, log_var), rtol=1e-12)


def _gaussian_kl_grad(pkg):
    r""":math:`f = \sum_n w_n \mathrm{KL}_n` against ``gaussian_kl_grad`` (as numpy_ae.check.catalogue' gaussian_kl)."""
    V = pkg.nn.reparameterize
    rng = _rng(11)
    w = rng.uniform(0.5, 2.0, N)
    x0 = np.hstack(_vae_input(rng, "log_var")).ravel()

    def f(x):
        X = x.reshape(N, 2 * K)
        mu, log_var = X[:, :K], X[:, K:]
        dmu, dlog_var = V.gaussian_kl_grad(mu, log_var)
        value = float(w @ np.asarray(V.gaussian_kl(mu, log_var)))
        for name, g in (("dmu", dmu), ("dlog_var", dlog_var)):
            h._array(f"gaussian_kl_grad's {name}", np.asarray(g), (N, K))
        return value, np.hstack([w[:, None] * dmu, w[:, None] * dlog_var]).ravel()

    h.check_function(f, x0, name="student gaussian_kl / gaussian_kl_grad")


def _reparameterize(parameterization, beta, seed):
    def test(pkg):
        layer = pkg.nn.reparameterize.Reparameterize(K, parameterization, beta=beta)
        layer.freeze_noise()
        h.check_layer(layer, np.hstack(_vae_input(_rng(seed), parameterization)), random_state=seed)
    return test


def _vae_cost(pkg):
    r"""A small whole VAE (tanh, log_var, Bernoulli decoder) with frozen eps: every block checked, so a
    wrong Reparameterize.backward shows in the encoder's blocks (dense0, dense2) and not the decoder's."""
    L, A = pkg.nn.dense, pkg.nn.activations
    rep = pkg.nn.reparameterize.Reparameterize(K, "log_var")
    rep.freeze_noise()
    net = h.model_of([L.Dense(D, H), A.Tanh(), L.Dense(H, 2 * K), rep, L.Dense(K, H), A.Tanh(), L.Dense(H, D)],
                     pkg.nn.losses.BinaryCrossEntropy(), random_state=12)
    h.check_model(net, _rng(12).uniform(0.0, 1.0, (N, D)))


VAE = Exercise(
    name="vae",
    title="The variational autoencoder: the reparameterisation trick and the Gaussian KL",
    summary="Reparameterize.backward (log_var and sigma), the closed-form KL and its gradient",
    modules=("nn.reparameterize", "nn.activations", "nn.dense", "nn.losses", "nn.sequential", "check.gradcheck"),
    blank=("nn.reparameterize:gaussian_kl", "nn.reparameterize:gaussian_kl_grad",
           "nn.reparameterize:Reparameterize.sigma_and_log_var", "nn.reparameterize:Reparameterize.backward"),
    tutorial="vae.py",
    tests=(("gaussian_kl_value", 2, _gaussian_kl_value),
           ("gaussian_kl_grad", 2, _gaussian_kl_grad),
           ("reparameterize_log_var", 3, _reparameterize("log_var", 1.0, 13)),
           ("reparameterize_sigma", 2, _reparameterize("sigma", 1.0, 14)),
           ("reparameterize_beta", 1, _reparameterize("log_var", 0.25, 15)),
           ("vae_cost", 3, _vae_cost)),
)


# ==========================================================================
# Convolution
# ==========================================================================

def _conv2d(seed, shape, *args, **kwargs):
    def test(pkg):
        h.check_layer(pkg.nn.conv.Conv2D(*args, **kwargs), _rng(seed).standard_normal(shape), random_state=seed)
    return test


def _conv1d_backward(pkg):
    r"""Conv1D runs Conv2D's backward on (N, C, 1, L): nothing new to write, but it must work there too."""
    h.check_layer(pkg.nn.conv.Conv1D(2, 3, 3, stride=2, padding=2), _rng(22).standard_normal((2, 2, 9)),
                  random_state=22)


def _conv_model(pkg):
    r"""Conv2D(2, 3, 3, padding 1) -> tanh -> Conv2D(3, 2, 3, stride 1, padding 1), squared error against X."""

    C, L = pkg.nn.conv, pkg.nn.activations
    net = h.model_of([C.Conv2D(2, 3, 3, padding=1), L.Tanh(), C.Conv2D(3, 2, 3, padding=1)], SquaredError(),
                     weight_decay=1e-2, random_state=23)
    h.check_model(net, _rng(23).standard_normal((2, 2, 5, 4)))


CONV2D = Exercise(
    name="conv2d",
    title="Convolution: the backward pass of Conv2D (im2col, col2im)",
    summary="Conv2D.backward: dW, db and dX through im2col/col2im, stride and padding",
    modules=("nn.conv", "nn.activations", "nn.sequential", "check.gradcheck"),
    blank=("nn.conv:Conv2D.backward",),
    drop=("nn.conv:ConvTranspose2D", "nn.conv:ConvTranspose1D"),  # ConvTranspose2D.forward is Conv2D's input gradient
    tutorial="conv2d.py",
    tests=(("conv2d_stride2_pad1", 4, _conv2d(20, (2, 2, 7, 6), 2, 3, (3, 2), stride=2, padding=1)),
           ("conv2d_stride_2x1_pad_0x2_batch1", 2, _conv2d(21, (1, 3, 5, 4), 3, 2, (2, 3), stride=(2, 1),
                                                          padding=(0, 2))),
           ("conv1d_backward", 1, _conv1d_backward),
           ("conv_model", 2, _conv_model)),
)


# ==========================================================================
# Softmax regression
# ==========================================================================

def _softmax_value(pkg):

    rng = _rng(30)
    Z, y = 3.0 * rng.standard_normal((N, K)), rng.integers(0, K, N)
    P = rng.dirichlet(np.ones(K), N)
    for T, what in ((y, "labels"), (P, "a probability matrix")):
        got = pkg.nn.losses.SoftmaxCrossEntropy().forward(Z, T, __keep__=("Z",))
        require(np.array_equal(h.kept(pkg, "Z"), Z), "input modified in place: SoftmaxCrossEntropy.forward changed Z")
        # 1e-12: the same float64 sums; a missing 1/N or log is off by O(1)
        h.require_close(f"the softmax cross-entropy with {what} as targets", float(got),
                        SoftmaxCrossEntropy().forward(Z, T), rtol=1e-12)
    big = np.array([[1000.0, 0.0, -1000.0], [0.0, 800.0, 0.0]])
    got = pkg.nn.losses.SoftmaxCrossEntropy().forward(big, np.array([0, 2]))
    h.require_close("the cross-entropy of logits of size 1000 (subtract each row's max before exp)", float(got),
                    SoftmaxCrossEntropy().forward(big, np.array([0, 2])), rtol=1e-12)


def _softmax_grad(targets):
    def test(pkg):
        rng = _rng(31)
        T = rng.integers(0, K, N) if targets == "labels" else rng.dirichlet(np.ones(K), N)
        h.check_loss(pkg.nn.losses.SoftmaxCrossEntropy(), 3.0 * rng.standard_normal((N, K)), T)
    return test


def _softmax_regression_cost(pkg):
    r"""UFLDL's softmaxCost: Dense(D, K) + the student's loss + (lambda/2) sum W^2, at random weights."""
    net = h.model_of([pkg.nn.dense.Dense(D, K)], pkg.nn.losses.SoftmaxCrossEntropy(), weight_decay=0.1, random_state=32)
    rng = _rng(32)
    net.theta[...] = rng.standard_normal(net.n_params)
    h.check_model(net, rng.standard_normal((N, D)), rng.integers(0, K, N))


def _softmax_regression_fit(pkg):
    r"""The student's SoftmaxRegression (L-BFGS on the student's loss) on three Gaussian blobs 4 standard
    deviations apart: the reference reaches 100% on the 150 training points; 95% leaves room for
    rounding differences in L-BFGS, not for a wrong objective (which stalls near chance, 33%)."""
    rng = _rng(33)
    centres = 4.0 * np.eye(3, 5)
    y = np.repeat(np.arange(3), 50)
    X = centres[y] + rng.standard_normal((150, 5))
    model = h.reference_form(pkg.models.softmax.SoftmaxRegression(weight_decay=1e-4, max_iter=100,
                                                                  random_state=0)).fit(X, y)
    acc = float(np.mean(model.predict(X) == y))
    require(acc >= 0.95, f"SoftmaxRegression.fit reached a training accuracy of {acc:.2f} on three well-separated "
                         "blobs; the reference reaches 1.00 (is the objective or its gradient wrong?)")


SOFTMAX_REGRESSION = Exercise(
    name="softmax_regression",
    title="UFLDL's softmax regression: the cross-entropy and its gradient",
    summary="SoftmaxCrossEntropy.forward (stable) and .backward, trained with L-BFGS",
    modules=("nn.losses", "models.softmax", "check.gradcheck"),
    blank=("nn.losses:SoftmaxCrossEntropy.forward", "nn.losses:SoftmaxCrossEntropy.backward"),
    tutorial="softmax_regression.py",
    tests=(("softmax_loss_value", 2, _softmax_value),
           ("softmax_loss_gradient_labels", 3, _softmax_grad("labels")),
           ("softmax_loss_gradient_probabilities", 1, _softmax_grad("probabilities")),
           ("softmax_regression_cost", 2, _softmax_regression_cost),
           ("softmax_regression_fit", 2, _softmax_regression_fit)),
)


# ==========================================================================
# The contractive autoencoder (Rifai et al. 2011)
# ==========================================================================

_ACT_RANGE = {"sigmoid": (0.05, 0.95), "tanh": (-0.95, 0.95)}  # codes a sigmoid/tanh can output, off its limits


def _slope_reference(activation, Z):
    r""":math:`g'(z)` from the pre-activation :math:`z` itself (not from :math:`h`): an independent reference."""
    if activation == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-Z))
        return s * (1.0 - s)
    return 1.0 / np.cosh(Z) ** 2


def _activate(activation, Z):
    return 1.0 / (1.0 + np.exp(-Z)) if activation == "sigmoid" else np.tanh(Z)


def _bound_dense(pkg, seed, scale=1.0):
    r"""The student's ``Dense(D, H)`` with its own ``W``, ``b``, ``dW``, ``db`` arrays (no model needed)."""
    rng = _rng(seed)
    dense = pkg.nn.dense.Dense(D, H)
    dense.bind({"W": scale * rng.standard_normal((D, H)), "b": 0.1 * rng.standard_normal(H)},
               {"W": np.zeros((D, H)), "b": np.zeros(H)})
    return dense


def _contractive_slope(pkg):
    r"""``_slope_from_output(activation, h)`` returns :math:`(g'(z), dg'/dh)` as functions of :math:`h = g(z)`:
    against :math:`g'` computed from :math:`z` itself, and :math:`dg'/dh` by a centred difference in :math:`h`."""
    rng = _rng(40)
    for activation in ("sigmoid", "tanh"):
        Z = 2.0 * rng.standard_normal((N, H))
        A = _activate(activation, Z)
        out = pkg.nn.penalties._slope_from_output(activation, A, __keep__=("activation", "H"))
        require(isinstance(out, tuple) and len(out) == 2,
                f"_slope_from_output({activation!r}, H) must return a pair (g'(z), dg'/dh); got {type(out).__name__}")
        slope, dslope = out
        require(np.array_equal(h.kept(pkg, "H"), A), "input modified in place: _slope_from_output changed H")
        # 1e-12: g'(z) from h and from z agree to rounding (float64); a wrong formula is off by O(1)
        h.require_close(f"g'(z) for {activation} (the first value _slope_from_output returns)", slope,
                        _slope_reference(activation, Z), rtol=1e-12, atol=1e-15)
        # g' is a polynomial of degree 2 in h, so the centred difference is exact up to rounding (~1e-11)
        step = 1e-5
        up = pkg.nn.penalties._slope_from_output(activation, A + step)[0]
        down = pkg.nn.penalties._slope_from_output(activation, A - step)[0]
        h.require_close(f"dg'/dh for {activation} (the second value _slope_from_output returns)", dslope,
                        (up - down) / (2 * step), rtol=1e-6, atol=1e-9)


def _contractive_penalty_closed_form(pkg):
    r"""``contractive_penalty(H, W)`` against :math:`\lVert J_f(x)\rVert_F^2` of the Jacobian matrix
    :math:`J = \mathrm{diag}(g'(z))\,W^\top` built entry by entry, and the layer's ``penalty`` against
    :math:`\frac{\lambda}{N}\sum_n \lVert J_f(x_n)\rVert_F^2`, for a sigmoid and a tanh code."""
    rng = _rng(41)
    for activation in ("sigmoid", "tanh"):
        dense = _bound_dense(pkg, 41 if activation == "sigmoid" else 42, scale=1.5)
        X = rng.standard_normal((N, D))
        W, b = h.value_of(dense, "W"), h.value_of(dense, "b")
        Z = X @ W + b
        A = _activate(activation, Z)
        slope = _slope_reference(activation, Z)
        jacobians = slope[:, :, None] * W.T[None, :, :]      # (N, H, D): dh_j/dx_i of each example
        expected = np.square(jacobians).sum(axis=(1, 2))
        got = pkg.nn.penalties.contractive_penalty(A, W, activation, __keep__=("H", "W"))
        require(np.array_equal(h.kept(pkg, "W"), W) and np.array_equal(h.kept(pkg, "H"), A),
                "input modified in place: contractive_penalty changed H or W")
        # 1e-10: two float64 evaluations of the same sums; a missing square or a wrong g' is off by O(1)
        h.require_close(f"contractive_penalty(H, W, {activation!r}) (||J_f(x_n)||_F^2 per example)", got, expected,
                        rtol=1e-10)
        layer = pkg.nn.penalties.Contractive(0.7, dense, activation)
        layer.forward(A.copy(), training=True)
        h.require_close(f"Contractive's penalty (lambda/N * sum_n ||J_f(x_n)||_F^2, {activation})",
                        float(h.value_of(layer, "penalty")), 0.7 * expected.mean(), rtol=1e-10)


def _contractive_backward(activation, seed):
    def test(pkg):
        r"""The layer alone: ``dX`` (the penalty's gradient with respect to the code, added to the delta),
        with the encoder's ``W`` held fixed."""
        lo, hi = _ACT_RANGE[activation]
        layer = pkg.nn.penalties.Contractive(2.0, _bound_dense(pkg, seed, scale=1.5), activation)
        h.check_layer(layer, _rng(seed).uniform(lo, hi, (N, H)), random_state=seed)
    return test


class _PenaltyOnly:
    """A loss of 0 whose gradient is 0: the objective of a model over it is its layers' penalties alone."""

    def forward(self, Y, T):
        self.shape = Y.shape
        return 0.0

    def backward(self):
        return np.zeros(self.shape)

    def output(self, Y):
        return Y


def _contractive_weight_gradient(pkg):
    r"""Dense(D, H) -> sigmoid -> Contractive with a loss of 0: the objective is the penalty alone, so
    ``dense0.W`` checks the penalty's gradient ADDED into ``dense.dW`` and ``dense0.b`` the path through
    the code. Weights of order 1 so that the penalty's terms are not negligible."""
    dense = pkg.nn.dense.Dense(D, H)
    net = h.model_of([dense, pkg.nn.activations.Sigmoid(), pkg.nn.penalties.Contractive(2.0, dense, "sigmoid")],
                     _PenaltyOnly(),
                     random_state=43)
    rng = _rng(43)
    net.theta[...] = rng.standard_normal(net.n_params)
    h.check_model(net, rng.standard_normal((N, D)))


def _contractive_autoencoder_cost(pkg):
    r"""Rifai et al.'s contractive autoencoder, small: Dense(D, H) -> sigmoid -> Contractive -> TiedDense
    -> sigmoid, squared error, weight decay 1e-3; a wrong penalty gradient shows in ``dense0.W`` (the
    shared weights) or ``dense0.b``, never in the decoder's bias ``tieddense3.b``."""
    L, A = pkg.nn.dense, pkg.nn.activations
    dense = L.Dense(D, H)
    net = h.model_of([dense, A.Sigmoid(), pkg.nn.penalties.Contractive(1.0, dense, "sigmoid"), L.TiedDense(dense),
                      A.Sigmoid()], pkg.nn.losses.SquaredError(), weight_decay=1e-3, random_state=44)
    rng = _rng(44)
    net.theta[...] = rng.standard_normal(net.n_params)
    h.check_model(net, rng.uniform(0.1, 0.9, (N, D)))


CONTRACTIVE = Exercise(
    name="contractive",
    title="The contractive autoencoder: the Jacobian penalty's gradient",
    summary="g'(z) and dg'/dh from the code, the closed-form Jacobian norm, Contractive.backward (the code's "
            "delta and the encoder's dW)",
    modules=("nn.penalties", "nn.activations", "nn.dense", "nn.losses", "nn.sequential", "check.gradcheck"),
    blank=("nn.penalties:_slope_from_output", "nn.penalties:contractive_penalty", "nn.penalties:Contractive.backward"),
    tutorial="contractive.py",
    tests=(("contractive_slope", 1, _contractive_slope),
           ("contractive_penalty_closed_form", 2, _contractive_penalty_closed_form),
           ("contractive_backward_sigmoid", 3, _contractive_backward("sigmoid", 45)),
           ("contractive_backward_tanh", 2, _contractive_backward("tanh", 46)),
           ("contractive_weight_gradient", 3, _contractive_weight_gradient),
           ("contractive_autoencoder_cost", 3, _contractive_autoencoder_cost)),
    requires=("nn.penalties:Contractive",),
    pending_note="waits for nn.penalties.Contractive",
)


EXERCISES = {e.name: e for e in (SPARSE_AUTOENCODER, VAE, CONV2D, SOFTMAX_REGRESSION, CONTRACTIVE)}


def available(exercise):
    """True when every ``requires`` entry exists in the installed numpy_ae (and the exercise has tests)."""
    for req in exercise.requires:
        module, name = req.split(":")
        try:
            found = importlib.util.find_spec(f"numpy_ae.{module}") is not None
        except ModuleNotFoundError:  # a parent package that does not exist
            found = False
        if not found or not hasattr(importlib.import_module(f"numpy_ae.{module}"), name):
            return False
    return bool(exercise.tests)


def get_exercise(name):
    """The exercise called ``name``; ValueError listing the exercises for an unknown or pending one."""
    ex = EXERCISES.get(name)
    if ex is None:
        raise ValueError(f"no exercise named {name!r}; the exercises are: {', '.join(EXERCISES)} "
                         "(python -m numpy_ae assignment list)")
    if not available(ex):
        raise ValueError(f"exercise {name!r} is not available yet: it {ex.pending_note or 'has no tests'}")
    return ex


__all__ += ["Failed"]
