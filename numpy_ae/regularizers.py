r"""Penalties inserted into a network as layers.

What makes one autoencoder differ from another is a layer you insert, not a
copy of the model. A penalty layer is the identity in the forward pass, records
what its penalty needs, stores the penalty's value in ``self.penalty`` (the
model adds it to the objective), and in the backward pass adds the penalty's
gradient to the delta flowing through it.
"""
from __future__ import annotations

import numpy as np

import math
import numbers

from ._validation import check_in_open_interval, check_non_negative, check_positive_int
from .layers import Dense, Layer, accurate_sum, ones

__all__ = ["KLSparsity", "kl_divergence_bernoulli", "Corruption", "GaussianNoise", "MaskingNoise",
           "SaltAndPepperNoise", "make_corruption", "L1Activity", "Contractive", "contractive_penalty",
           "CONTRACTIVE_ACTIVATIONS", "KSparse", "LifetimeWTA", "SpatialWTA"]


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
            eps = np.finfo(A.dtype).eps
            rho_hat = ones(self, A.shape[0], A.dtype) @ A  # column sums as a GEMV: faster than A.mean(0)
            rho_hat /= A.shape[0]
            self.rho_hat = rho_hat
            self.guard = np.clip(rho_hat, eps, 1.0 - eps)  # c: the point where KL and its slope are taken
            self.n = A.shape[0]
            kl = kl_divergence_bernoulli(self.sparsity, self.guard)
            kl += self._slope(self.guard) * (rho_hat - self.guard)  # 0 inside [eps, 1 - eps]
            self.penalty = self.beta * float(kl.sum())
        return A

    def _slope(self, c):
        r""":math:`\mathrm{KL}'(c) = -\rho/c + (1-\rho)/(1-c)`, for ``c`` in :math:`[\epsilon, 1-\epsilon]`."""
        rho = self.sparsity
        return -rho / c + (1.0 - rho) / (1.0 - c)

    def backward(self, dA):
        term = (self.beta / self.n) * self._slope(self.guard)  # the derivative of the guarded penalty
        dA += term.astype(dA.dtype, copy=False)  # broadcast over the N rows
        return dA

    def __repr__(self):
        return f"KLSparsity(sparsity={self.sparsity}, beta={self.beta})"


# --------------------------------------------------------------------------
# Corruption for denoising autoencoders: active in training, identity at inference.
# --------------------------------------------------------------------------

class Corruption(Layer):
    r"""Base class of the noise layers of denoising autoencoders.

    In a training pass the input is corrupted with noise drawn from the layer's
    own ``numpy.random.Generator`` (spawned from the model's at construction);
    at inference (``training=False``) the layer is the identity. The model's
    loss compares the reconstruction with the CLEAN input, so the network
    learns to undo the noise.

    ``freeze_noise()`` keeps the noise of the next training pass for all later
    passes (same shape), so a gradient check sees one fixed function;
    ``freeze_noise(False)`` draws fresh noise again.
    """

    _abstract = True  # a base: its subclasses supply _sample/_corrupt/backward (and the gradient checks)

    def __init__(self, level):
        self.level = self._check_level(level)
        self.rng = np.random.default_rng()
        self.frozen_noise = False
        self._noise = None

    @staticmethod
    def _check_level(level):
        if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not 0.0 <= level < 1.0:
            raise ValueError(f"corruption level must be a number in [0, 1); got {level!r}")
        return float(level)

    def init_params(self, rng):
        self.rng = rng.spawn(1)[0]  # an independent stream: noise does not shift the initialisation

    def freeze_noise(self, frozen=True):
        self.frozen_noise = bool(frozen)
        self._noise = None

    def _draw(self, shape):
        """Noise for this pass: fresh, or the frozen draw when ``freeze_noise()`` was called."""
        if self.frozen_noise and self._noise is not None and self._noise[0].shape == shape:
            return self._noise
        self._noise = self._sample(shape)
        return self._noise

    def forward(self, X, training=True):
        self.active = training and self.level > 0
        return self._corrupt(X, *self._draw(X.shape)) if self.active else X

    def __repr__(self):
        return f"{type(self).__name__}({self.level})"


class GaussianNoise(Corruption):
    r"""Additive Gaussian noise: :math:`\tilde x = x + \sigma \varepsilon`, :math:`\varepsilon \sim \mathcal N(0, I)`.

    ``level`` is the standard deviation :math:`\sigma`, in [0, 1) like every
    corruption level (inputs are pixels in [0, 1]). Backward: the identity
    (:math:`\partial \tilde x / \partial x = I`).
    """

    def _sample(self, shape):
        return (self.level * self.rng.standard_normal(shape),)

    def _corrupt(self, X, noise):
        return X + noise.astype(X.dtype, copy=False)

    def backward(self, dY):
        return dY


class MaskingNoise(Corruption):
    r"""Masking noise (deeplearning.net's "corruption level"): each input is set to 0 with probability ``level``.

    :math:`\tilde x = m \odot x`, :math:`m_i \sim \mathrm{Bernoulli}(1 - \text{level})`;
    backward :math:`\partial J/\partial x = m \odot \partial J/\partial \tilde x`.
    No rescaling by :math:`1/(1-\text{level})` (that would be dropout's convention).
    """

    def _sample(self, shape):
        return (self.rng.random(shape) >= self.level,)

    def _corrupt(self, X, keep):
        return X * keep

    def backward(self, dY):
        if self.active:
            dY *= self._noise[0]
        return dY


class SaltAndPepperNoise(Corruption):
    r"""Salt-and-pepper noise: each input is replaced with probability ``level`` by 0 or 1 (equally likely).

    Backward: the gradient flows only through the inputs left untouched.
    """

    def _sample(self, shape):
        hit = self.rng.random(shape) < self.level
        salt = self.rng.random(shape) < 0.5
        return hit, salt

    def _corrupt(self, X, hit, salt):
        return np.where(hit, salt.astype(X.dtype), X)

    def backward(self, dY):
        if self.active:
            dY *= ~self._noise[0]
        return dY


CORRUPTIONS = {"gaussian": GaussianNoise, "masking": MaskingNoise, "salt-pepper": SaltAndPepperNoise}


def make_corruption(kind, level):
    """A corruption layer from its name: ``"gaussian"`` (level = std), ``"masking"``, ``"salt-pepper"``."""
    try:
        cls = CORRUPTIONS[kind]
    except (KeyError, TypeError):
        raise ValueError(f"corruption must be one of {sorted(CORRUPTIONS)}; got {kind!r}") from None
    return cls(level)


# --------------------------------------------------------------------------
# Code regularisers (issue 10): L1 activity, contractive, k-sparse, winner-take-all.
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
            self.penalty = self.weight * accurate_sum(np.abs(A)) / A.shape[0]
        return A

    def backward(self, dA):
        dA += (self.weight / self.A.shape[0]) * np.sign(self.A)
        return dA

    def __repr__(self):
        return f"L1Activity(weight={self.weight})"


def _slope_from_output(activation, H):
    r""":math:`g'(z)` written through the activation's output :math:`h = g(z)`, and :math:`dg'/dh`."""
    if activation == "sigmoid":
        return H * (1.0 - H), 1.0 - 2.0 * H
    return 1.0 - H * H, -2.0 * H


CONTRACTIVE_ACTIVATIONS = ("sigmoid", "tanh")


def _check_contractive_activation(activation, name="activation"):
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
    _check_contractive_activation(activation)
    H = np.asarray(H, dtype=np.float64)
    slope, _ = _slope_from_output(activation, H)
    return np.square(slope) @ np.square(np.asarray(W, dtype=np.float64)).sum(axis=0)


class Contractive(Layer):
    r"""The contractive penalty of Rifai et al. (2011), on the code ``A (N, H)`` that a sigmoid or tanh produced.

    It sits right after the code activation :math:`h = g(z)`, :math:`z = x W + b`, where ``dense``
    is the :class:`~numpy_ae.layers.Dense` layer computing :math:`z` (its ``W`` has shape ``(D, H)``).
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
        self.activation = _check_contractive_activation(activation)

    @property
    def source(self):
        """The layer whose weights the penalty reads (so a sub-network's weight decay counts them)."""
        return self.dense

    def forward(self, A, training=True):
        if training:
            self.A = A
            slope, self.dslope = _slope_from_output(self.activation, A)
            self.slope = slope
            self.colnorm = np.einsum("ij,ij->j", self.dense.W, self.dense.W)  # c_j = sum_i W_ij^2, shape (H,)
            self.penalty = self.weight * accurate_sum(np.square(slope) * self.colnorm) / A.shape[0]
        return A

    def backward(self, dA):
        scale = 2.0 * self.weight / self.A.shape[0]
        term = self.slope * self.dslope
        term *= scale * self.colnorm
        dA += term
        # dP/dW_ij = (2 lambda / N) W_ij sum_n g'_nj^2 (the column sums as a GEMV, as KLSparsity does)
        self.dense.dW += self.dense.W * (scale * (ones(self, self.A.shape[0], self.A.dtype) @ np.square(self.slope)))
        return dA

    def jacobian_norm2(self, A):
        """:math:`\\lVert J_f(x_n)\\rVert_F^2` of each example from its code ``A (N, H)``: shape ``(N,)``."""
        return contractive_penalty(A, self.dense.W, self.activation)

    def __repr__(self):
        return f"Contractive(weight={self.weight}, dense={self.dense.name or 'Dense'}, activation={self.activation!r})"


def _check_k(k, name="k"):
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"{name} must be an integer >= 1 (the number of code units kept per example); got {k!r}")
    return int(k)


def check_k_fits(k, n_units, name="k"):
    """ValueError unless ``1 <= k <= n_units`` (the code size)."""
    k = _check_k(k, name)
    if k > n_units:
        raise ValueError(f"{name} must be at most the code size {n_units} (the number of code units kept per "
                         f"example cannot exceed the units there are); got {k}")
    return k


def check_lifetime_sparsity(sparsity, name="sparsity"):
    """ValueError unless ``0 < sparsity <= 1``; return it as float."""
    if isinstance(sparsity, bool) or not isinstance(sparsity, numbers.Real) or not np.isfinite(sparsity) \
            or not 0.0 < sparsity <= 1.0:
        raise ValueError(f"{name} must be a number in (0, 1] (the fraction of the minibatch each unit keeps); "
                         f"got {sparsity!r}")
    return float(sparsity)


def _top_mask(A, k, axis):
    """Boolean mask of the ``k`` largest entries of ``A`` along ``axis`` (exactly ``k``; ties: argpartition's)."""
    n = A.shape[axis]
    if k >= n:
        return np.ones(A.shape, dtype=bool)
    idx = np.argpartition(A, n - k, axis=axis)
    idx = idx[n - k:] if axis == 0 else idx[:, n - k:]
    mask = np.zeros(A.shape, dtype=bool)
    np.put_along_axis(mask, idx, True, axis=axis)
    return mask


class KSparse(Layer):
    r"""The k-sparse code of Makhzani & Frey (2013): keep the ``k`` largest units of each example.

    Forward, on ``A (N, H)``: in a training pass each row keeps its ``k`` largest values (by value,
    not magnitude, as in the paper's :math:`\mathrm{supp}_k`) and the other ``H - k`` become 0; at
    inference (``training=False``) each row keeps its ``round(alpha * k)`` largest (at most ``H``:
    all of them). Ties: exactly ``k`` units are kept; when several share the k-th largest value,
    which of them stay is ``np.argpartition``'s choice (deterministic for a given array, not by
    index). Backward: the gradient flows only through the units kept (the support), the others get 0.

    Parameters
    ----------
    k : int >= 1
        Units kept per example in training. Checked against the code size ``H`` at the first
        forward pass, or at once when ``n_units`` is given.
    alpha : float > 0
        Inference keeps ``round(alpha * k)`` units (the paper's :math:`\alpha k`, :math:`\alpha \ge 1`;
        Python's ``round``, halves to even: 1.5 * 3 keeps 4), at least 1.
    n_units : int or None
        The code size ``H``, to check ``k`` at construction.
    """

    def __init__(self, k, alpha=1.0, n_units=None):
        self.k = _check_k(k)
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not np.isfinite(alpha) or alpha <= 0:
            raise ValueError(f"alpha must be a finite number > 0 (inference keeps round(alpha * k) units); "
                             f"got {alpha!r}")
        self.alpha = float(alpha)
        if n_units is not None:
            check_k_fits(self.k, check_positive_int(n_units, "n_units"))

    def n_kept(self, n_units, training):
        """Units kept per example: ``k`` in training, ``round(alpha * k)`` (capped at ``n_units``) at inference."""
        return self.k if training else min(n_units, max(1, int(round(self.alpha * self.k))))

    def forward(self, A, training=True):
        check_k_fits(self.k, A.shape[1])
        mask = _top_mask(A, self.n_kept(A.shape[1], training), axis=1)
        if training:
            self.mask = mask
        return A * mask

    def backward(self, dA):
        dA *= self.mask
        return dA

    def __repr__(self):
        return f"KSparse(k={self.k}, alpha={self.alpha})"


class LifetimeWTA(Layer):
    r"""Lifetime winner-take-all (Makhzani & Frey 2015): each unit keeps its top ``sparsity`` of the minibatch.

    Forward, training pass, on ``A (N, H)`` (FC-WTA): for each unit (column) :math:`j`, the
    :math:`k = \lceil s N \rceil` largest activities over the N examples are kept, the others
    become 0 (exactly ``k`` per unit; ties: ``np.argpartition``'s choice). On feature maps
    ``A (N, C, H, W)`` (Conv-WTA, after :class:`SpatialWTA`): each example's map of channel
    :math:`c` is represented by its largest activity, and for each channel the ``k`` examples
    with the largest such winners keep their map whole; the other maps become 0.
    At inference the layer is the identity: the paper sparsifies in training only and encodes
    test data with the plain (ReLU) code.

    Backward: the gradient flows only through the activities kept.

    Parameters
    ----------
    sparsity : float in (0, 1]
        :math:`s`, the lifetime sparsity (the paper's FC-WTA: 5%).
    """

    def __init__(self, sparsity=0.05):
        self.sparsity = check_lifetime_sparsity(sparsity)

    def n_kept(self, n_examples):
        r""":math:`\lceil s N \rceil` (rounded to 9 decimals first, so 0.05 * 100 keeps 5, not 6)."""
        return max(1, int(math.ceil(round(self.sparsity * n_examples, 9))))

    def forward(self, A, training=True):
        if not training:
            return A
        k = self.n_kept(A.shape[0])
        if A.ndim == 2:
            self.mask = _top_mask(A, k, axis=0)
        else:  # (N, C, ...): rank each example's map by its largest activity, per channel
            winners = A.reshape(A.shape[0], A.shape[1], -1).max(axis=2)
            self.mask = _top_mask(winners, k, axis=0).reshape(A.shape[:2] + (1,) * (A.ndim - 2))
        return A * self.mask

    def backward(self, dA):
        dA *= self.mask
        return dA

    def __repr__(self):
        return f"LifetimeWTA(sparsity={self.sparsity})"


class SpatialWTA(Layer):
    r"""Spatial winner-take-all of Conv-WTA (Makhzani & Frey 2015) on feature maps ``A (N, C, H, W)``.

    Training pass: in each example's map of each channel only the largest activity stays, all
    other positions become 0 (ties: the first maximum in C order, ``np.argmax``). Any trailing
    shape works (``(N, C, L)`` for sequences). Backward: the gradient flows only through the
    winners. At inference the layer is the identity: the paper uses the conv-WTA encoder's
    feature maps as they are for test data (no sparsity imposed).
    """

    def forward(self, A, training=True):
        if not training:
            return A
        if A.ndim < 3:
            raise ValueError(f"SpatialWTA needs feature maps (N, C, H, W) (or (N, C, L)); got shape {A.shape}")
        flat = A.reshape(A.shape[0], A.shape[1], -1)
        mask = np.zeros(flat.shape, dtype=bool)
        np.put_along_axis(mask, flat.argmax(axis=2)[..., None], True, axis=2)
        self.mask = mask.reshape(A.shape)
        return A * self.mask

    def backward(self, dA):
        dA *= self.mask
        return dA
