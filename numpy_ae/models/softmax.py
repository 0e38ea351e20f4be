r"""Softmax regression (UFLDL's softmax exercise) and the softmax cross-entropy loss.

UFLDL writes examples as columns and has no bias: for :math:`K` classes,
:math:`p(y = k \mid x; \theta) = e^{\theta_k^\top x} / \sum_j e^{\theta_j^\top x}`.
Here rows are examples and the class scores (logits) are ``Z = X @ W + b``, so
UFLDL's ``theta`` (shape ``(K, D)``) is our ``W.T``, and we add a bias ``b (K,)``
that weight decay leaves alone (the library's convention). The objective,
UFLDL's ``softmaxCost.m`` plus that bias:

.. math::
    J(W, b) = -\frac{1}{N} \sum_{n=1}^{N} \sum_{k=1}^{K} 1\{y_n = k\} \log p(y_n = k \mid x_n)
              + \frac{\lambda}{2} \sum_{d,k} W_{dk}^2,
    \qquad
    \frac{\partial J}{\partial Z} = \frac{1}{N}\bigl(\mathrm{softmax}(Z) - \mathrm{onehot}(y)\bigr).

:class:`SoftmaxCrossEntropy` is the first term as a loss with the protocol of
:mod:`numpy_ae.nn.losses`, so any :class:`~numpy_ae.nn.sequential.Sequential` can end in it
(fine-tuning a stacked autoencoder: encoder layers, ``Dense(H, K)``, this loss,
with the labels passed as the target ``T``). :class:`SoftmaxRegression` is the
estimator: one ``Dense(D, K)`` layer and this loss, trained with L-BFGS.

Shapes: ``N`` examples, ``D`` inputs, ``K`` classes.
"""
from __future__ import annotations
import time
import numpy as np
from .._validation import check_fast, check_array, check_non_negative, check_positive_int, check_random_state
from .base import BaseEstimator
from .fields import LABELS, Field, array
from ..exceptions import not_fitted_error
from ..nn.dense import Dense
from ..nn.sequential import Sequential
from ..train.lbfgs import lbfgs
from ..train.parallel import whole_batch_objective
from .._validation import check_labels, encode_labels
from ..nn.losses import SoftmaxCrossEntropy

__all__ = ['SoftmaxRegression']



INIT_SCALE = 0.005  # UFLDL's softmaxExercise.m: theta = 0.005 * randn(numClasses * inputSize, 1)


class SoftmaxRegression(BaseEstimator):
    r"""Multinomial logistic regression trained with L-BFGS (UFLDL's softmax regression exercise).

    Network: ``X (N, D) -> Dense(D, K) -> SoftmaxCrossEntropy``; the objective is
    the module's :math:`J(W, b)`, with weight decay :math:`\frac{\lambda}{2}\sum W^2`
    on ``W`` only. UFLDL's model has no bias; ours has ``b (K,)``, not decayed.
    Weights start at ``0.005 * randn`` as in UFLDL, biases at 0.

    Parameters
    ----------
    weight_decay : float >= 0
        :math:`\lambda` (UFLDL: 1e-4), not divided by N.
    max_iter : int >= 1
        L-BFGS iterations (UFLDL's exercise uses 100).
    gtol : float > 0
        L-BFGS: stop when the largest gradient component falls below this.
    verbose : int
        Print the cost every ``verbose`` iterations (0: silent).
    random_state : None, int or numpy.random.Generator
        For the initial weights.

    Attributes
    ----------
    classes_ : ndarray (K,)
        The sorted distinct labels seen in ``fit`` (integers or strings); column
        ``k`` of ``predict_proba`` is ``classes_[k]``.
    network_ : Sequential
    n_features_in_ : int
    n_iter_, cost_, converged_, message_, fit_seconds_ :
        L-BFGS iterations, final :math:`J`, whether L-BFGS met its tolerances and
        why it stopped, training time.
    """

    _estimator_type = "classifier"

    _saved_attributes = {"n_features_in_": Field(int, required=True),
                         "classes_": array((None,), dtypes=LABELS, required=True),
                         "cost_": float, "n_iter_": int, "converged_": bool, "message_": str, "fit_seconds_": float}

    def __init__(self, weight_decay=1e-4, *, max_iter=400, gtol=1e-5, verbose=0, random_state=None, fast=True):
        self.weight_decay = weight_decay
        self.max_iter = max_iter
        self.gtol = gtol
        self.verbose = verbose
        self.random_state = random_state
        self.fast = fast
        self._validate_params()

    def _validate_params(self):
        check_non_negative(self.weight_decay, "weight_decay")
        check_positive_int(self.max_iter, "max_iter")
        if isinstance(self.gtol, bool) or not isinstance(self.gtol, (int, float)) or not self.gtol > 0:
            raise ValueError(f"gtol must be a number > 0; got {self.gtol!r}")
        check_positive_int(self.verbose, "verbose", minimum=0)
        check_random_state(self.random_state)  # raises ValueError for anything but None, int, Generator
        check_fast(self.fast)

    def initialize(self, n_features, classes):
        """Build the network for ``n_features`` inputs and the labels ``classes``, freshly initialised; return self."""
        self._validate_params()
        n_features = check_positive_int(n_features, "n_features")
        classes, _ = encode_labels(check_labels(classes))
        rng = check_random_state(self.random_state)
        dense = Dense(n_features, classes.size)
        self.network_ = Sequential([dense], SoftmaxCrossEntropy(), weight_decay=self.weight_decay,
                                   random_state=rng, fast=self.fast)
        dense.W[...] = INIT_SCALE * rng.standard_normal(dense.W.shape)
        self.classes_, self.n_features_in_ = classes, n_features
        return self

    def _rebuild(self, state):  # load checks what it recomputes (classes_, n_features_in_) against the file
        self.initialize(state["n_features_in_"], state["classes_"])

    def _is_fitted(self):
        return getattr(self, "network_", None) is not None

    def fit(self, X, y):
        """Train on ``X (N, D)`` and class labels ``y (N,)``; return self."""
        self._validate_params()
        X = check_array(X, "X", estimator=type(self).__name__)
        y = check_labels(y, X.shape[0])
        classes, y_index = encode_labels(y)
        net = self.initialize(X.shape[1], classes).network_
        start = time.perf_counter()
        with whole_batch_objective(net, X, y_index) as fun:  # split by rows across threads when it pays
            res = lbfgs(fun, net.theta, max_iter=self.max_iter, gtol=self.gtol, verbose=int(self.verbose))
        net.set_theta(res.x)
        self.fit_seconds_ = time.perf_counter() - start
        self.n_iter_, self.cost_ = int(res.nit), float(res.fun)
        self.converged_ = bool(getattr(res, "converged", res.success))
        self.message_ = str(res.message)
        return self

    # ------------------------------------------------------------------ use
    def _network(self):
        net = getattr(self, "network_", None)
        if net is None:
            raise not_fitted_error("this SoftmaxRegression is not fitted yet: call fit(X, y) first")
        return net

    def _check_X(self, X):
        self._network()
        return check_array(X, "X", n_features=self.n_features_in_, estimator=type(self).__name__)

    @property
    def theta(self):
        """All parameters ``[W.ravel(), b]`` as one flat vector ``(D*K + K,)`` (a view: writes change the model)."""
        return self._network().theta

    def loss_and_grad(self, theta, X, y):
        r""":math:`(J(\theta), \nabla J(\theta))` for ``X (N, D)`` and labels ``y (N,)`` from ``classes_``."""
        X = self._check_X(X)
        y = check_labels(y, X.shape[0])
        index = np.searchsorted(self.classes_, y).clip(0, self.classes_.size - 1)
        unseen = self.classes_[index] != y
        if unseen.any():
            raise ValueError(f"y holds labels not in classes_ {self.classes_.tolist()}: "
                             f"{np.unique(y[unseen]).tolist()}")
        return self.network_.loss_and_grad(theta, X, index)

    def predict_proba(self, X):
        """Class probabilities ``(N, K)``, columns in the order of ``classes_``; rows sum to 1."""
        return self._network().predict(self._check_X(X))

    def predict(self, X):
        """The most probable label of each row of ``X (N, D)``: shape ``(N,)``, values from ``classes_``."""
        logits = self._network().forward(self._check_X(X))
        return self.classes_[logits.argmax(axis=1)]

    def score(self, X, y):
        """Accuracy on ``X (N, D)``, ``y (N,)``; a label never seen in fit counts as a miss."""
        X = self._check_X(X)
        return float(np.mean(self.predict(X) == check_labels(y, X.shape[0])))
