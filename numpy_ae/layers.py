r"""Layers with hand-written forward and backward passes.

Every layer follows one protocol (as in micrograd, the backward pass sits right
under the forward pass it reverses):

``forward(X, training=True) -> Y``
    computes the output and caches what backward needs.
``backward(dY) -> dX``
    takes :math:`\partial J/\partial Y` and returns :math:`\partial J/\partial X`,
    and ADDS (``+=``) the gradients of its parameters into its gradient arrays
    (``dW``, ``db``). Adding instead of assigning is what lets two layers share
    one weight matrix (tied weights). ``backward`` may overwrite ``dY`` in place
    (it saves memory traffic): a caller must not read ``dY`` afterwards.

Parameters are not owned by a layer: :class:`numpy_ae.model.Sequential` keeps all
parameters of a model in one flat vector ``theta`` and all gradients in one flat
vector ``grad``, and hands each layer *views* into them through :meth:`Layer.bind`.
A layer declares what it needs with :meth:`Layer.param_shapes`.

Conventions (fixed letters): ``N`` examples, ``D`` inputs, ``H`` hidden units.
Rows are examples, ``X`` has shape ``(N, D)``.

Speed. In a training pass (``training=True``) layers write their outputs into
scratch arrays they keep from one pass to the next (:func:`scratch`): a fresh
5 MB array per layer per L-BFGS step costs page faults that measured as much
as the arithmetic. So a training pass's outputs are overwritten by the next
training pass; inference (``training=False``) always returns fresh arrays.
"""
from __future__ import annotations

import numpy as np

from ._validation import check_positive_int

__all__ = [
    "Layer", "Dense", "TiedDense", "Sigmoid", "Tanh", "ReLU", "ELU", "Identity",
    "Softplus", "JoinCondition", "Dropout", "SELU", "ACTIVATIONS", "make_activation", "default_init", "sigmoid",
    "init_weights",
]


def scratch(owner, key, shape, dtype):
    """An uninitialised array ``owner`` keeps under ``key`` and reuses while shape and dtype match."""
    bufs = owner.__dict__.setdefault("_scratch", {})
    buf = bufs.get(key)
    if buf is None or buf.shape != shape or buf.dtype != dtype:
        buf = bufs[key] = np.empty(shape, dtype=dtype)
    return buf


def ones(owner, n, dtype):
    """A cached vector of ``n`` ones: ``ones @ dZ`` sums the rows of ``dZ`` (a BLAS GEMV,
    measured 2-3x faster than ``dZ.sum(axis=0)`` for tall ``dZ``)."""
    buf = scratch(owner, "ones", (n,), dtype)
    buf.fill(1.0)
    return buf


def accurate_sum(x):
    r""":math:`\sum_i x_i` over an array of any shape, as a Python float accumulated in float64.

    The objective is a scalar that L-BFGS's line search compares between
    nearby points, so the ROUNDING of its reductions must stay far below the
    decreases it looks for (1e-6 to 1e-8 of the cost late in a run). A float32
    array summed in float32 misses that: NumPy's pairwise sum of 10,000 x 784
    values is off by 4.5e-8 relative. Here each row (the first axis: one
    example) is summed in the array's own dtype, over few terms, and the row
    sums are added in float64: 6e-10 relative, for about the time of a float32
    sum. A vector is summed in float64 directly, as are float64 arrays.
    """
    x = np.asarray(x)
    if x.dtype == np.float64 or x.ndim < 2:
        return float(x.sum(dtype=np.float64))
    return float(x.reshape(x.shape[0], -1).sum(axis=1).sum(dtype=np.float64))


def accurate_sum_of_squares(x):
    r""":math:`\sum_i x_i^2` over an array of any shape, as a Python float accumulated in float64.

    As :func:`accurate_sum`, for the squared-error losses and weight decay.
    In float32, BLAS's ``flat @ flat`` accumulates in float32: its relative
    error was 2.3e-7 on 10,000 x 64 values and 1.7e-5 on 10,000 x 784. Here
    each row's dot product is taken in the array's dtype (``einsum``, over
    ``D`` terms) and the row sums are added in float64: 5e-10 relative, for
    about 3x the time of one float32 ``sdot`` (~0.1 ms on 10,000 x 64, small
    next to an evaluation). A vector (weight decay's ``theta[:n_decayed]``) is
    squared and summed in float64; float64 arrays use ``flat @ flat``.
    """
    x = np.asarray(x)
    if x.dtype == np.float64:
        flat = x.ravel()
        return float(flat @ flat)
    if x.ndim < 2:
        return float(np.square(x).sum(dtype=np.float64))
    rows = x.reshape(x.shape[0], -1)
    return float(np.einsum("ij,ij->i", rows, rows).sum(dtype=np.float64))


class Layer:
    """Base class: a layer with no parameters and no penalty.

    Attributes
    ----------
    name : str
        Set by the model (``"dense0"``, ``"sigmoid1"``, ...) for reports.
    penalty : float
        Value this layer adds to the objective in the last training forward
        pass (0 for ordinary layers; see :mod:`numpy_ae.regularizers`).
    """

    name = None
    penalty = 0.0

    def param_shapes(self):
        """Return ``{param_name: shape}`` of the parameters this layer owns."""
        return {}

    def decayed_params(self):
        """Names of the parameters that weight decay acts on (weights, not biases)."""
        return ()

    def bind(self, params, grads):
        """Receive views into the model's flat ``theta`` and ``grad``.

        ``params`` and ``grads`` map each name of :meth:`param_shapes` to an
        array of that shape. The layer keeps them as attributes ``<name>`` and
        ``d<name>``.
        """
        for key, view in params.items():
            setattr(self, key, view)
            setattr(self, "d" + key, grads[key])

    def init_params(self, rng):
        """Fill the bound parameter views with initial values."""

    def __getstate__(self):
        """Pickle without the reusable scratch buffers (they are re-allocated on the next pass)."""
        return {k: v for k, v in self.__dict__.items() if k != "_scratch"}

    def forward(self, X, training=True):
        raise NotImplementedError

    def backward(self, dY):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


# --------------------------------------------------------------------------
# Initialisation
# --------------------------------------------------------------------------

def init_weights(shape, method, rng, dtype=np.float64):
    r"""Draw a ``(D_in, D_out)`` weight matrix.

    ``"ufldl"``: uniform on :math:`[-r, r]`, :math:`r = \sqrt{6}/\sqrt{D_{in} + D_{out} + 1}`
    (UFLDL's ``initializeParameters.m``).
    ``"glorot"``: uniform on :math:`[-r, r]`, :math:`r = \sqrt{6/(D_{in} + D_{out})}`.
    ``"he"``: normal with standard deviation :math:`\sqrt{2/D_{in}}` (for ReLU/ELU).
    """
    fan_in, fan_out = shape
    if method == "ufldl":
        r = np.sqrt(6.0) / np.sqrt(fan_in + fan_out + 1)
        return rng.uniform(-r, r, size=shape).astype(dtype, copy=False)
    if method == "glorot":
        r = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-r, r, size=shape).astype(dtype, copy=False)
    if method == "he":
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype, copy=False)
    raise ValueError(f"init must be one of 'ufldl', 'glorot', 'he'; got {method!r}")


# --------------------------------------------------------------------------
# Affine layers
# --------------------------------------------------------------------------

class Dense(Layer):
    r"""Affine layer :math:`Z = X W + b`.

    Shapes: ``X (N, D_in)``, ``W (D_in, D_out)``, ``b (D_out,)``, ``Z (N, D_out)``.

    UFLDL writes examples as columns, :math:`z^{(2)} = W^{(1)} x + b^{(1)}`, so
    UFLDL's :math:`W^{(1)}` (shape ``(D_out, D_in)``) is our ``W.T``.

    Backward, for :math:`\delta = \partial J/\partial Z` of shape ``(N, D_out)``:

    .. math::
        \partial J/\partial W \mathrel{+}= X^\top \delta, \qquad
        \partial J/\partial b \mathrel{+}= \textstyle\sum_n \delta_n, \qquad
        \partial J/\partial X = \delta W^\top .

    Set ``input_grad = False`` on a first layer whose input is data: the
    model then skips the product :math:`\delta W^\top` nobody reads.
    """

    def __init__(self, n_in, n_out, init="ufldl"):
        self.n_in = check_positive_int(n_in, "n_in")
        self.n_out = check_positive_int(n_out, "n_out")
        init_weights((1, 1), init, np.random.default_rng(0))  # validates `init`
        self.init = init
        self.input_grad = True

    def param_shapes(self):
        return {"W": (self.n_in, self.n_out), "b": (self.n_out,)}

    def decayed_params(self):
        return ("W",)

    def init_params(self, rng):
        self.W[...] = init_weights(self.W.shape, self.init, rng)
        self.b[...] = 0.0

    def forward(self, X, training=True):
        self.X = X
        out = scratch(self, "Z", (X.shape[0], self.n_out), X.dtype) if training else None
        Z = np.matmul(X, self.W, out=out)
        Z += self.b
        return Z

    def backward(self, dZ):
        self.dW += self.X.T @ dZ
        self.db += ones(self, dZ.shape[0], dZ.dtype) @ dZ  # sum over the N rows
        if not self.input_grad:
            return None
        return np.matmul(dZ, self.W.T, out=scratch(self, "dX", self.X.shape, dZ.dtype))

    def __repr__(self):
        return f"Dense({self.n_in}, {self.n_out}, init={self.init!r})"


class TiedDense(Layer):
    r"""Decoder layer that reuses an encoder's weights, transposed: :math:`Z = X W_{enc}^\top + b`.

    Shapes: ``X (N, H)``, ``source.W (D, H)``, ``b (D,)``, ``Z (N, D)``.
    Only the bias belongs to this layer. The weight gradient of this use,
    :math:`(X^\top \delta)^\top = \delta^\top X`, is ADDED into ``source.dW``,
    where the encoder adds its own share: the shared matrix gets the sum.
    """

    def __init__(self, source):
        if not isinstance(source, Dense):
            raise ValueError(f"source must be a Dense layer to tie to; got {type(source).__name__}")
        self.source = source

    def param_shapes(self):
        return {"b": (self.source.n_in,)}

    def init_params(self, rng):
        self.b[...] = 0.0

    def forward(self, X, training=True):
        self.X = X
        out = scratch(self, "Z", (X.shape[0], self.source.n_in), X.dtype) if training else None
        Z = np.matmul(X, self.source.W.T, out=out)
        Z += self.b
        return Z

    def backward(self, dZ):
        self.source.dW += dZ.T @ self.X
        self.db += ones(self, dZ.shape[0], dZ.dtype) @ dZ
        return np.matmul(dZ, self.source.W, out=scratch(self, "dX", self.X.shape, dZ.dtype))

    def __repr__(self):
        return f"TiedDense(source={self.source.name or self.source!r})"


# --------------------------------------------------------------------------
# Activations (element-wise). Each caches what its derivative needs.
# --------------------------------------------------------------------------

def sigmoid(Z, out=None):
    r""":math:`\sigma(z) = 1/(1+e^{-z})`, written in place into ``out`` when given.

    Two in-place forms, chosen by speed measured on this project's machines
    (10,000 x 64 arrays): in float32, :math:`\tfrac12(1 + \tanh(z/2))` (NumPy's
    float32 tanh is vectorised and 5x faster than its float64 one); in float64,
    ``1/(1 + exp(-z))`` computed in place (1.0 ms against 1.5 ms for the tanh
    form, and 3.5x faster than ``scipy.special.expit``), the last step as
    ``np.divide(1.0, out)``: NumPy's float64 ``reciprocal`` measured 2x slower
    than that division (0.43 ms against 0.22 ms). ``exp(-z)`` overflows to
    ``inf`` for z < -709, giving the correct 0; that overflow is expected, so its
    warning is silenced.
    """
    if Z.dtype == np.float32:
        out = np.multiply(Z, 0.5, out=out)
        np.tanh(out, out=out)
        out *= 0.5
        out += 0.5
        return out
    out = np.negative(Z, out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    return np.divide(1.0, out, out=out)


class Sigmoid(Layer):
    r""":math:`A = \sigma(Z)`; backward :math:`\partial J/\partial Z = \partial J/\partial A \odot A (1 - A)`."""

    def forward(self, Z, training=True):
        self.A = sigmoid(Z, out=scratch(self, "A", Z.shape, Z.dtype) if training else None)
        return self.A

    def backward(self, dA):
        slope = np.subtract(1.0, self.A, out=scratch(self, "slope", dA.shape, dA.dtype))
        slope *= self.A
        dA *= slope  # dZ overwrites dA (allowed by the protocol)
        return dA


class Tanh(Layer):
    r""":math:`A = \tanh(Z)`; backward :math:`\partial J/\partial Z = \partial J/\partial A \odot (1 - A^2)`."""

    def forward(self, Z, training=True):
        self.A = np.tanh(Z, out=scratch(self, "A", Z.shape, Z.dtype) if training else None)
        return self.A

    def backward(self, dA):
        slope = np.square(self.A, out=scratch(self, "slope", dA.shape, dA.dtype))
        np.subtract(1.0, slope, out=slope)
        dA *= slope
        return dA


class ReLU(Layer):
    r""":math:`A = \max(Z, 0)`; backward passes the gradient where :math:`Z > 0`."""

    def forward(self, Z, training=True):
        self.mask = np.greater(Z, 0.0, out=scratch(self, "mask", Z.shape, bool) if training else None)
        return np.maximum(Z, 0.0, out=scratch(self, "A", Z.shape, Z.dtype) if training else None)

    def backward(self, dA):
        dA *= self.mask
        return dA


class ELU(Layer):
    r"""Exponential linear unit, :math:`A = z` for :math:`z > 0`, :math:`\alpha(e^z - 1)` otherwise.

    Backward: :math:`\partial A/\partial z = 1` for :math:`z > 0`, else
    :math:`\alpha e^z = A + \alpha`.

    Written without masks: forward :math:`A = \alpha\,\mathrm{expm1}(\min(z, 0)) + \max(z, 0)`
    (each branch is exactly 0 where the other one applies), and since
    :math:`A > 0` exactly where :math:`z > 0`, the slope for :math:`\alpha = 1` is
    :math:`\min(A, 0) + 1`. ``np.copyto(..., where=mask)`` cost 126 us on a
    150 x 300 float32 batch, more than the ``expm1`` (16 us): forward plus
    backward went from 250 us to 80 us.
    """

    def __init__(self, alpha=1.0):
        self.alpha = float(alpha)

    def forward(self, Z, training=True):
        A = np.minimum(Z, 0.0, out=scratch(self, "A", Z.shape, Z.dtype) if training else None)
        np.expm1(A, out=A)
        if self.alpha != 1.0:
            A *= self.alpha
        A += np.maximum(Z, 0.0, out=scratch(self, "positive", Z.shape, Z.dtype) if training else None)
        self.A = A
        return A

    def backward(self, dA):
        slope = np.minimum(self.A, 0.0, out=scratch(self, "slope", dA.shape, dA.dtype))
        slope += self.alpha  # A + alpha = alpha e^z where z <= 0
        if self.alpha != 1.0:
            np.copyto(slope, 1.0, where=self.A > 0)
        dA *= slope
        return dA

    def __repr__(self):
        return f"ELU(alpha={self.alpha})"


class Identity(Layer):
    r""":math:`A = Z`: the linear units of a linear decoder or of the linear autoencoder."""

    def forward(self, Z, training=True):
        return Z

    def backward(self, dA):
        return dA


class Softplus(Layer):
    r""":math:`A = \log(1 + e^z)`, computed as ``logaddexp(0, z)`` (no overflow);
    backward :math:`\partial A/\partial z = \sigma(z)`."""

    def forward(self, Z, training=True):
        self.S = sigmoid(Z)
        return np.logaddexp(0.0, Z)

    def backward(self, dA):
        return dA * self.S


ACTIVATIONS = {
    "sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "elu": ELU,
    "identity": Identity, "linear": Identity, "softplus": Softplus,
}


def default_init(activation, init=None):
    """``init`` when given, else the usual pairing: He for ReLU/ELU, Glorot for everything else."""
    if init is not None:
        return init
    return "he" if ACTIVATIONS[activation] in (ReLU, ELU) else "glorot"


def make_activation(name):
    """Return a new activation layer from its name (``"sigmoid"``, ``"elu"``, ...)."""
    try:
        return ACTIVATIONS[name]()
    except (KeyError, TypeError):
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}; got {name!r}") from None


# --------------------------------------------------------------------------
# Side inputs
# --------------------------------------------------------------------------

class JoinCondition(Layer):
    r"""Join a side input (a condition, e.g. a one-hot label) to the data flowing through the network.

    The condition is not computed by the network: the model hands it to the
    layer before each pass (``layer.condition = C``, or
    :meth:`numpy_ae.model.Sequential.set_condition`, which reaches every
    ``JoinCondition`` of a model; the minibatch loop does that with the rows of
    each minibatch, see :func:`numpy_ae.training.train_minibatch`'s ``side``).

    Forward, for ``X (N, D)`` and the condition ``C (N, n_conditions)``:

    .. math:: Y = [X \;\; C] \quad (N, D + n_{\text{conditions}}),

    so a following ``Dense(D + n_conditions, H)`` computes
    :math:`X W_x + C W_c + b`: with a one-hot ``C`` the label adds its own
    row of :math:`W_c` (a per-class bias). ``C`` is cast to ``X``'s dtype.

    Backward, for :math:`\delta = \partial J/\partial Y` of shape ``(N, D + n_conditions)``:
    :math:`\partial J/\partial X = \delta_{:, :D}`. ``C`` is data, not a
    parameter: its part of :math:`\delta` is dropped. No parameters, no penalty.

    Parameters
    ----------
    n_conditions : int >= 1
        Width of the condition (the number of classes for a one-hot label).

    Attributes
    ----------
    condition : ndarray (N, n_conditions) or None
        The side input of the next passes; a ValueError names a missing one, the
        wrong width, or a row count that differs from ``X``'s.
    """

    takes_condition = True  # Sequential.set_condition hands the side input to every layer that says so

    def __init__(self, n_conditions):
        self.n_conditions = check_positive_int(n_conditions, "n_conditions")
        self.condition = None

    def forward(self, X, training=True):
        C = self.condition
        if C is None:
            raise ValueError(f"{self.name or 'JoinCondition'} has no condition: set layer.condition (or call "
                             f"Sequential.set_condition(C)) with an (N, {self.n_conditions}) array before the pass")
        if C.ndim != 2 or C.shape[1] != self.n_conditions or C.shape[0] != X.shape[0]:
            raise ValueError(f"condition must have shape ({X.shape[0]}, {self.n_conditions}): one row per row of "
                             f"X {X.shape}; got {C.shape}")
        N, D = X.shape
        Y = scratch(self, "Y", (N, D + self.n_conditions), X.dtype) if training \
            else np.empty((N, D + self.n_conditions), dtype=X.dtype)
        Y[:, :D] = X
        Y[:, D:] = C
        self.n_in = D
        return Y

    def backward(self, dY):
        return dY[:, :self.n_in]

    def __repr__(self):
        return f"JoinCondition({self.n_conditions})"


# --------------------------------------------------------------------------
# Dropout (time series, issue 11)
# --------------------------------------------------------------------------

class Dropout(Layer):
    r"""Inverted dropout (Srivastava et al., 2014; Keras' ``Dropout``): active in training, identity at inference.

    In a training pass each entry of ``X`` (any shape ``(N, ...)``) is kept with
    probability :math:`1 - r` and scaled by :math:`1/(1 - r)`, so its expected
    value is unchanged and inference needs no rescaling:

    .. math::
        Y = \frac{m \odot X}{1 - r}, \quad m_i \sim \mathrm{Bernoulli}(1 - r), \qquad
        \frac{\partial J}{\partial X} = \frac{m \odot \delta}{1 - r}.

    (Compare :class:`~numpy_ae.regularizers.MaskingNoise`, the same mask without
    the rescaling, which corrupts the input of a denoising autoencoder.) The mask
    is drawn from the layer's own Generator, spawned from the model's at
    initialisation, so a seeded model drops the same units every run.
    ``freeze_noise()`` keeps the mask of the next training pass for all later
    passes (same shape), so a gradient check sees one fixed function;
    ``freeze_noise(False)`` draws fresh masks again. No parameters, no penalty.

    Parameters
    ----------
    rate : float in [0, 1)
        :math:`r`, the probability of dropping an entry (Keras' ``rate``; 0 makes
        the layer the identity).
    """

    def __init__(self, rate=0.5):
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)) or not 0.0 <= rate < 1.0:
            raise ValueError(f"rate must be a number in [0, 1) (the probability of dropping an entry); got {rate!r}")
        self.rate = float(rate)
        self.rng = np.random.default_rng()
        self.frozen_noise = False
        self._mask = None

    def init_params(self, rng):
        self.rng = rng.spawn(1)[0]  # an independent stream: masks do not shift the initialisation

    def freeze_noise(self, frozen=True):
        self.frozen_noise = bool(frozen)
        self._mask = None

    def forward(self, X, training=True):
        self.active = training and self.rate > 0
        if not self.active:
            return X
        if not (self.frozen_noise and self._mask is not None and self._mask.shape == X.shape):
            keep = self.rng.random(X.shape) >= self.rate
            self._mask = keep.astype(X.dtype) * (1.0 / (1.0 - self.rate))  # m / (1 - r), in X's dtype
        if self._mask.dtype != X.dtype:
            self._mask = self._mask.astype(X.dtype)
        Y = scratch(self, "Y", X.shape, X.dtype)
        return np.multiply(X, self._mask, out=Y)

    def backward(self, dY):
        if self.active:
            dY *= self._mask
        return dY

    def __repr__(self):
        return f"Dropout({self.rate})"

# SELU (issue 9: Hands-On ML's convolutional autoencoder)
# --------------------------------------------------------------------------

class SELU(Layer):
    r"""Scaled exponential linear unit (Klambauer et al., 2017), Hands-On ML's activation of choice:
    :math:`A = \lambda z` for :math:`z > 0`, :math:`\lambda\alpha(e^z - 1)` otherwise, with the paper's
    constants :math:`\lambda \approx 1.0507`, :math:`\alpha \approx 1.6733` (those of Keras' ``"selu"``).

    Backward: :math:`\partial A/\partial z = \lambda` for :math:`z > 0`, else
    :math:`\lambda\alpha e^z = A + \lambda\alpha`; as in :class:`ELU`, the slope
    is read off the cached output, :math:`\min(A, 0) + \lambda\alpha` where
    :math:`A \le 0`, and :math:`\lambda` where :math:`A > 0`.
    Shapes: any; ``A`` has ``Z``'s shape.
    """

    scale = 1.0507009873554804934193349852946
    alpha = 1.6732632423543772848170429916717

    def forward(self, Z, training=True):
        A = np.minimum(Z, 0.0, out=scratch(self, "A", Z.shape, Z.dtype) if training else None)
        np.expm1(A, out=A)
        A *= self.alpha
        A += np.maximum(Z, 0.0, out=scratch(self, "positive", Z.shape, Z.dtype) if training else None)
        A *= self.scale
        self.A = A
        return A

    def backward(self, dA):
        slope = np.minimum(self.A, 0.0, out=scratch(self, "slope", dA.shape, dA.dtype))
        slope += self.scale * self.alpha  # A + lambda alpha = lambda alpha e^z where z <= 0
        np.copyto(slope, self.scale, where=self.A > 0)
        dA *= slope
        return dA


ACTIVATIONS["selu"] = SELU
