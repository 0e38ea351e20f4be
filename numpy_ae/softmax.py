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
:mod:`numpy_ae.losses`, so any :class:`~numpy_ae.model.Sequential` can end in it
(fine-tuning a stacked autoencoder: encoder layers, ``Dense(H, K)``, this loss,
with the labels passed as the target ``T``). :class:`SoftmaxRegression` is the
estimator: one ``Dense(D, K)`` layer and this loss, trained with L-BFGS.

Shapes: ``N`` examples, ``D`` inputs, ``K`` classes.
"""
from __future__ import annotations

import time
import warnings

import numpy as np

from ._validation import check_array, check_non_negative, check_positive_int, check_random_state
from .base import BaseEstimator
from .exceptions import data_conversion_warning
from .layers import Dense
from .losses import Loss
from .model import Sequential
from .optim import lbfgs

__all__ = ["softmax", "SoftmaxCrossEntropy", "SoftmaxRegression"]

INIT_SCALE = 0.005  # UFLDL's softmaxExercise.m: theta = 0.005 * randn(numClasses * inputSize, 1)


def softmax(Z):
    r"""Row-wise :math:`\mathrm{softmax}(Z)_{nk} = e^{z_{nk} - m_n} / \sum_j e^{z_{nj} - m_n}`,
    :math:`m_n = \max_j z_{nj}`.

    Subtracting the row maximum changes nothing mathematically, but every
    exponent is then <= 0 (no overflow) and the denominator >= 1 (no 0/0).
    ``Z (N, K)`` (or ``(K,)``) -> probabilities of the same shape, rows summing to 1.
    """
    Z = np.asarray(Z)
    E = Z - Z.max(axis=-1, keepdims=True)
    E = E.astype(np.result_type(E, np.float32), copy=False)  # integer logits -> float64
    np.exp(E, out=E)
    E /= E.sum(axis=-1, keepdims=True)
    return E


class SoftmaxCrossEntropy(Loss):
    r"""Cross-entropy between targets and :math:`\mathrm{softmax}(Z)`, from logits ``Z (N, K)``.

    Targets ``T`` are either integer labels ``(N,)`` in ``0..K-1`` or a matrix
    ``(N, K)`` (one-hot rows, or probabilities):

    .. math::
        J = -\frac{1}{N}\sum_n \log \mathrm{softmax}(Z)_{n, y_n}
          = -\frac{1}{N}\sum_{n,k} T_{nk} \log \mathrm{softmax}(Z)_{nk}.

    Computed stably with :math:`\log \mathrm{softmax}(z)_k = (z_k - m) - \log\sum_j e^{z_j - m}`,
    :math:`m = \max_j z_j` (exact for logits of 1e3 and beyond). Gradient
    :math:`\partial J/\partial Z = (\mathrm{softmax}(Z) - T)/N`; for a matrix
    whose rows do not sum to 1 the code uses the exact
    :math:`(\mathrm{softmax}(Z) \sum_k T_{nk} - T)/N`. As in the other losses,
    call ``backward()`` once per ``forward``.
    """

    def output(self, Z):
        return softmax(Z)

    def forward(self, Z, T):
        N, K = Z.shape
        T = self._check_targets(T, N, K)
        Zs = Z - Z.max(axis=1, keepdims=True)      # every row's max is 0: exp cannot overflow
        E = np.exp(Zs)
        s = E.sum(axis=1, keepdims=True)            # in [1, K]: its log is safe
        E /= s
        self.P, self.T = E, T
        if T.ndim == 1:                              # J = mean_n [log s_n - (z_{n,y_n} - m_n)]
            return float(np.log(s).sum() - Zs[np.arange(N), T].sum()) / N
        return -float(np.sum(T * (Zs - np.log(s)))) / N

    def backward(self):
        dZ, T = self.P, self.T                       # P is not needed again: reuse its memory
        if T.ndim == 1:
            dZ[np.arange(dZ.shape[0]), T] -= 1.0
        else:
            dZ *= T.sum(axis=1, keepdims=True)
            dZ -= T
        dZ *= 1.0 / dZ.shape[0]
        return dZ

    @staticmethod
    def _check_targets(T, N, K):
        T = np.asarray(T)
        if T.shape == (N, K):
            return T
        if T.shape != (N,):
            raise ValueError(f"T must be labels of shape ({N},) or a one-hot/probability matrix of shape "
                             f"({N}, {K}) for logits of shape ({N}, {K}); got shape {T.shape}")
        if T.dtype.kind not in "iu":
            raise ValueError(f"T as a label vector must hold integers 0..{K - 1}; got dtype {T.dtype} "
                             "(convert with T.astype(int), or pass a one-hot matrix)")
        lo, hi = int(T.min()), int(T.max())
        if lo < 0 or hi >= K:
            raise ValueError(f"labels in T must lie in 0..{K - 1} (one per logit column); got values in "
                             f"[{lo}, {hi}]. Map arbitrary labels with np.unique(y, return_inverse=True)")
        return T


def _check_labels(y, n_examples=None):
    """Return ``y`` as a 1-D array of class labels (of ``n_examples`` labels when given); ValueError otherwise.

    Labels may be integers, strings or integral floats; a float array with a
    non-integral value is a regression target, not labels ("Unknown label type").
    """
    if y is None:
        raise ValueError("this classifier requires y to be passed, but the target y is None: fit(X, y) needs "
                         "one class label per row of X")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(f"A column-vector y was passed when a 1d array was expected (shape {y.shape}); "
                      "flattened it: pass y.ravel() to silence this", data_conversion_warning(), stacklevel=3)
        y = y.ravel()
    if np.iscomplexobj(y):
        raise ValueError(f"y must hold class labels: complex data is not supported (Complex data not supported); "
                         f"got dtype {y.dtype}")
    if y.ndim != 1:
        hint = " Flatten it with y.ravel()." if y.ndim == 2 and 1 in y.shape else ""
        raise ValueError(f"y must be a 1-D array of class labels, one per row of X; got shape {y.shape}.{hint}")
    if n_examples is not None and y.shape[0] != n_examples:
        raise ValueError(f"y must have one label per row of X: X has {n_examples} rows, y has {y.shape[0]} labels")
    if y.dtype.kind in "iub" or y.dtype.kind in "US":
        return y
    if y.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))
        if bad.size == 0:
            return y.astype(np.int64)  # 0.0, 1.0, 2.0 are the labels 0, 1, 2
        raise ValueError(f"Unknown label type: y must hold class labels (integers or strings); got the continuous "
                         f"value {y[bad[0]].item()!r} at index {bad[0]} (a classifier cannot fit a regression target)")
    if y.dtype == object and all(isinstance(v, (str, int, np.integer)) for v in y.tolist()):
        kinds = {type(v) is str for v in y.tolist()}
        if len(kinds) == 1:
            return y
    raise ValueError(f"Unknown label type: y must hold integer or string class labels of one kind; got an array "
                     f"of dtype {y.dtype} (map other labels to integers first, e.g. "
                     "classes, y = np.unique(y, return_inverse=True))")


def _encode_labels(y):
    """``(classes, index)``: the sorted distinct labels and each label's position among them.

    ValueError when fewer than 2 classes are present (a classifier needs two).
    """
    classes, index = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(f"y has 1 class ({classes.tolist()}); a classifier needs at least 2 classes to fit")
    return classes, index.reshape(-1)


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

    def __init__(self, weight_decay=1e-4, *, max_iter=400, gtol=1e-5, verbose=0, random_state=None):
        self.weight_decay = weight_decay
        self.max_iter = max_iter
        self.gtol = gtol
        self.verbose = verbose
        self.random_state = random_state
        self._validate_params()

    def _validate_params(self):
        check_non_negative(self.weight_decay, "weight_decay")
        check_positive_int(self.max_iter, "max_iter")
        if isinstance(self.gtol, bool) or not isinstance(self.gtol, (int, float)) or not self.gtol > 0:
            raise ValueError(f"gtol must be a number > 0; got {self.gtol!r}")
        check_positive_int(self.verbose, "verbose", minimum=0)
        check_random_state(self.random_state)  # raises ValueError for anything but None, int, Generator

    def initialize(self, n_features, classes):
        """Build the network for ``n_features`` inputs and the labels ``classes``, freshly initialised; return self."""
        self._validate_params()
        n_features = check_positive_int(n_features, "n_features")
        classes, _ = _encode_labels(_check_labels(classes))
        rng = check_random_state(self.random_state)
        dense = Dense(n_features, classes.size)
        self.network_ = Sequential([dense], SoftmaxCrossEntropy(), weight_decay=self.weight_decay,
                                   random_state=rng)
        dense.W[...] = INIT_SCALE * rng.standard_normal(dense.W.shape)
        self.classes_, self.n_features_in_ = classes, n_features
        return self

    def _rebuild(self, state):
        saved = {k: v for k, v in vars(self).items() if k.endswith("_")}
        self.initialize(int(state["n_features_in_"]), state["classes_"])
        vars(self).update({k: v for k, v in saved.items() if k != "network_"})

    def _is_fitted(self):
        return getattr(self, "network_", None) is not None

    def fit(self, X, y):
        """Train on ``X (N, D)`` and class labels ``y (N,)``; return self."""
        self._validate_params()
        X = check_array(X, "X", estimator=type(self).__name__)
        y = _check_labels(y, X.shape[0])
        classes, y_index = _encode_labels(y)
        net = self.initialize(X.shape[1], classes).network_
        start = time.perf_counter()
        res = lbfgs(lambda theta: net.loss_and_grad(theta, X, y_index), net.theta, max_iter=self.max_iter,
                    gtol=self.gtol, verbose=int(self.verbose))
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
            from .exceptions import not_fitted_error
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
        y = _check_labels(y, X.shape[0])
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
        return float(np.mean(self.predict(X) == _check_labels(y, X.shape[0])))
