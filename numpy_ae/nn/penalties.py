r"""Penalties inserted into a network as layers.

What makes one autoencoder differ from another is a layer you insert, not a
copy of the model. A penalty layer is the identity in the forward pass, records
what its penalty needs, stores the penalty's value in ``self.penalty`` (the
model adds it to the objective), and in the backward pass adds the penalty's
gradient to the delta flowing through it.
"""
from __future__ import annotations
import numpy as np
from .._validation import check_in_open_interval, check_non_negative
from .dense import Dense
from .layer import Layer

__all__ = ['KLSparsity', 'kl_divergence_bernoulli', 'L1Activity', 'Contractive', 'contractive_penalty', 'CONTRACTIVE_ACTIVATIONS']


def kl_divergence_bernoulli(rho, rho_hat):
    r""":math:`\mathrm{KL}(\rho \,\|\, \hat\rho_j) = \rho \log\frac{\rho}{\hat\rho_j}
    + (1-\rho)\log\frac{1-\rho}{1-\hat\rho_j}`, element-wise over ``rho_hat``, in float64.

    Always computed in float64, whatever the dtype of ``rho_hat`` (``H`` values:
    free). Near its minimum the two terms are each of order
    :math:`\hat\rho_j - \rho` and cancel to :math:`(\hat\rho_j-\rho)^2 / (2\rho(1-\rho))`;
    in float32 each log is off by up to 6e-8 (the ratio
    :math:`(1-\rho)/(1-\hat\rho_j)` rounded next to 1), so
    :math:`\beta \sum_j \mathrm{KL}` of 25 units was off by 2e-6 (even negative),
    more than the decrease a late L-BFGS iteration needs: float32 sparse
    autoencoders stopped after 24 of 400 iterations on that noise.
    """
    rho_hat = np.asarray(rho_hat, dtype=np.float64)
    return rho * np.log(rho / rho_hat) + (1.0 - rho) * np.log((1.0 - rho) / (1.0 - rho_hat))


class KLSparsity(Layer):
    r"""UFLDL's sparsity penalty on the activations ``A`` (shape ``(N, H)``) it sits after.

    Forward: the identity. It records the batch-mean activation of each hidden unit,

    .. math:: \hat\rho_j = \frac{1}{N}\sum_{n} a_{nj},

    and the penalty :math:`\beta \sum_{j=1}^{H} \mathrm{KL}(\rho \,\|\, \hat\rho_j)`.

    Backward: the UFLDL rule "add the sparsity term to :math:`\delta^{(2)}`".
    UFLDL's cost is summed over examples; ours is averaged (divided by N), so
    the term each example receives is divided by N too:

    .. math:: \frac{\partial J}{\partial a_{nj}} \mathrel{+}=
              \frac{\beta}{N}\left(-\frac{\rho}{\hat\rho_j} + \frac{1-\rho}{1-\hat\rho_j}\right).

    Guard. A unit whose :math:`\hat\rho_j` reaches exactly 0 or 1 (saturated
    sigmoid, dead ReLU) would give ``inf``/``NaN``. Outside
    :math:`[\epsilon, 1-\epsilon]` (:math:`\epsilon` the machine epsilon of the
    dtype) the KL term is continued by its tangent line at the guard point
    :math:`c = \mathrm{clip}(\hat\rho_j, \epsilon, 1-\epsilon)`:

    .. math:: \widetilde{\mathrm{KL}}(\hat\rho_j) = \mathrm{KL}(\rho\,\|\,c)
              + \mathrm{KL}'(c)\,(\hat\rho_j - c), \qquad
              \mathrm{KL}'(c) = -\frac{\rho}{c} + \frac{1-\rho}{1-c},

    which is the exact KL inside the interval (there :math:`c = \hat\rho_j`).
    The penalty is this :math:`\widetilde{\mathrm{KL}}` and the backward pass
    uses its exact derivative :math:`\mathrm{KL}'(c)`, so objective and gradient
    agree everywhere (a plain clip would make the penalty flat where it
    clips while its gradient is not). At :math:`\hat\rho_j = 0` or 1 both are
    finite (:math:`\mathrm{KL}'(\epsilon) \approx -\rho/\epsilon`, about
    :math:`-4.5\cdot 10^{15}\rho` in float64), never NaN, and the gradient
    pushes the unit back towards :math:`\rho`. The tangent is C^1 at the guard
    point, so a gradient check must keep :math:`\hat\rho_j` either inside
    :math:`[\epsilon, 1-\epsilon]` or outside it by more than the step.

    Parameters
    ----------
    sparsity : float in (0, 1)
        The target activation :math:`\rho` (UFLDL: 0.01 for patches).
    beta : float >= 0
        Weight :math:`\beta` of the penalty (UFLDL: 3).
    """

    def __init__(self, sparsity=0.01, beta=3.0):
        self.sparsity = check_in_open_interval(sparsity, "sparsity")
        self.beta = check_non_negative(beta, "beta")

    def forward(self, A, training=True):
        if training:
            rho_hat = A.mean(axis=0)  # (H,)
            self.rho_hat = rho_hat
            self.guard = np.clip(rho_hat, np.finfo(A.dtype).eps, 1.0 - np.finfo(A.dtype).eps)  # c
            self.n = A.shape[0]
            kl = kl_divergence_bernoulli(self.sparsity, self.guard)
            kl += self._slope(self.guard) * (rho_hat - self.guard)  # the tangent: 0 inside [eps, 1 - eps]
            self.penalty = self.beta * float(kl.sum())
        return A

    def _slope(self, c):
        r""":math:`\mathrm{KL}'(c) = -\rho/c + (1-\rho)/(1-c)`, for ``c`` in :math:`[\epsilon, 1-\epsilon]`."""
        rho = self.sparsity
        return -rho / c + (1.0 - rho) / (1.0 - c)

    def backward(self, dA):
        term = (self.beta / self.n) * self._slope(self.guard)  # the derivative of the guarded penalty, (H,)
        return dA + term.astype(dA.dtype, copy=False)  # broadcast over the N rows

    def __repr__(self):
        return f"KLSparsity(sparsity={self.sparsity}, beta={self.beta})"


# --------------------------------------------------------------------------
# Code regularisers: L1 activity, contractive.
# --------------------------------------------------------------------------

class L1Activity(Layer):
    r"""L1 activity regularisation of the code ``A (N, H)`` it sits after (Hands-On ML, 3rd ed.).

    Forward: the identity; the penalty, averaged over examples and summed over units, is

    .. math:: P = \frac{\lambda}{N} \sum_{n=1}^{N}\sum_{j=1}^{H} \lvert a_{nj} \rvert .

    Backward: :math:`\partial P/\partial a_{nj} = \frac{\lambda}{N}\,\mathrm{sign}(a_{nj})`,
    the subgradient 0 at :math:`a_{nj} = 0` (``np.sign``): a unit sitting exactly at 0 (a dead
    ReLU, a unit zeroed by a selection) receives nothing from the penalty.

    This is the reduction of Keras' ``ActivityRegularization(l1=...)``, the layer Hands-On ML puts
    after its sigmoid coding layer (Keras sums over the units and divides by the batch size), so
    ``weight`` plays the role of its ``l1``.

    Parameters
    ----------
    weight : float >= 0
        :math:`\lambda`.
    """

    def __init__(self, weight=1e-3):
        self.weight = check_non_negative(weight, "weight")

    def forward(self, A, training=True):
        if training:
            self.A = A
            self.penalty = float(self.weight * np.sum(np.abs(A)) / A.shape[0])
        return A

    def backward(self, dA):
        return dA + (self.weight / self.A.shape[0]) * np.sign(self.A)

    def __repr__(self):
        return f"L1Activity(weight={self.weight})"


def _slope_from_output(activation, H):
    r""":math:`g'(z)` written through the activation's output :math:`h = g(z)`, and :math:`dg'/dh`."""
    if activation == "sigmoid":
        return H * (1.0 - H), 1.0 - 2.0 * H
    return 1.0 - H * H, -2.0 * H


CONTRACTIVE_ACTIVATIONS = ("sigmoid", "tanh")


def check_contractive_activation(activation, name="activation"):
    if activation not in CONTRACTIVE_ACTIVATIONS:
        raise ValueError(f"{name} must be 'sigmoid' or 'tanh' for a contractive penalty (the closed form of the "
                         f"Jacobian needs g'(z) as a function of the code h = g(z)); got {activation!r}")
    return activation


def contractive_penalty(H, W, activation="sigmoid"):
    r"""Squared Frobenius norm of the Jacobian :math:`\partial h/\partial x` of one encoder layer, per example.

    For :math:`h = g(x W + b)` (``x (D,)``, ``W (D, H)``), :math:`J_f(x) = \mathrm{diag}(g'(z))\,W^\top`, so

    .. math:: \lVert J_f(x)\rVert_F^2 = \sum_{j=1}^{H} g'(z_j)^2 \sum_{i=1}^{D} W_{ij}^2,

    with :math:`g' = h(1-h)` for a sigmoid and :math:`1-h^2` for tanh.

    Parameters
    ----------
    H : array (N, H)
        The codes :math:`h = g(z)` of ``N`` examples.
    W : array (D, H)
        The weights of the layer that produced :math:`z`.
    activation : {"sigmoid", "tanh"}

    Returns
    -------
    ndarray (N,) : :math:`\lVert J_f(x_n)\rVert_F^2` for each example (float64).
    """
    check_contractive_activation(activation)
    H = np.asarray(H, dtype=np.float64)
    slope, _ = _slope_from_output(activation, H)
    return np.square(slope) @ np.square(np.asarray(W, dtype=np.float64)).sum(axis=0)


class Contractive(Layer):
    r"""The contractive penalty of Rifai et al. (2011), on the code ``A (N, H)`` that a sigmoid or tanh produced.

    It sits right after the code activation :math:`h = g(z)`, :math:`z = x W + b`, where ``dense``
    is the :class:`~numpy_ae.nn.dense.Dense` layer computing :math:`z` (its ``W`` has shape ``(D, H)``).
    Forward: the identity; the penalty, averaged over examples, is :math:`\lambda` times the
    squared Frobenius norm of the Jacobian :math:`J_f(x) = \partial h/\partial x`:

    .. math:: P = \frac{\lambda}{N}\sum_{n}\sum_{j} g'(z_{nj})^2 \, c_j, \qquad c_j = \sum_i W_{ij}^2,

    with :math:`g'(z) = h(1-h)` (sigmoid) or :math:`1 - h^2` (tanh), computed from the output :math:`h`.

    Backward. :math:`P` depends on :math:`h` (through :math:`g'`) and on :math:`W` (through :math:`c`):

    .. math::
        \frac{\partial P}{\partial h_{nj}} = \frac{2\lambda}{N}\, g'(z_{nj})\, \frac{dg'}{dh}\, c_j,
        \qquad \frac{dg'}{dh} = 1 - 2h \ \text{(sigmoid)}, \ -2h \ \text{(tanh)},

    added to the incoming delta (the activation's backward then multiplies by :math:`g'(z)`), and

    .. math:: \frac{\partial P}{\partial W_{ij}} = \frac{2\lambda}{N}\, W_{ij} \sum_n g'(z_{nj})^2 ,

    ADDED into ``dense.dW``, where the Dense layer adds its own share, as tied weights do. Both
    carry a factor 2 (the derivative of a square); one public pure-NumPy version drops it.

    Only the layer that computes the code is penalised: in a deeper encoder :math:`x` is the
    previous layer's output, not the data.

    Parameters
    ----------
    weight : float >= 0
        :math:`\lambda`, the contraction weight.
    dense : Dense
        The encoder layer whose output (through ``activation``) this layer receives.
    activation : {"sigmoid", "tanh"}
        The code activation; anything else is a ValueError (no closed form here).
    """

    def __init__(self, weight, dense, activation="sigmoid"):
        self.weight = check_non_negative(weight, "weight")
        if not isinstance(dense, Dense):
            raise ValueError(f"dense must be the encoder's Dense layer; got {type(dense).__name__}")
        self.dense = dense
        self.activation = check_contractive_activation(activation)

    @property
    def source(self):
        """The layer whose weights the penalty reads (so a sub-network's weight decay counts them)."""
        return self.dense

    def forward(self, A, training=True):
        if training:
            self.A = A
            self.slope, self.dslope = _slope_from_output(self.activation, A)  # g'(z), dg'/dh: (N, H)
            self.colnorm = np.square(self.dense.W).sum(axis=0)  # c_j = sum_i W_ij^2, (H,)
            self.penalty = float(self.weight * np.sum(np.square(self.slope) * self.colnorm) / A.shape[0])
        return A

    def backward(self, dA):
        scale = 2.0 * self.weight / self.A.shape[0]  # 2 lambda / N
        dA = dA + scale * self.slope * self.dslope * self.colnorm
        self.dense.dW += self.dense.W * (scale * (np.square(self.slope).sum(axis=0)))  # (D, H) * (H,)
        return dA

    def jacobian_norm2(self, A):
        """:math:`\\lVert J_f(x_n)\\rVert_F^2` of each example from its code ``A (N, H)``: shape ``(N,)``."""
        return contractive_penalty(A, self.dense.W, self.activation)

    def __repr__(self):
        return f"Contractive(weight={self.weight}, dense={self.dense.name or 'Dense'}, activation={self.activation!r})"
