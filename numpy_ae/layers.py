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
"""
from __future__ import annotations

import numpy as np

from ._validation import check_positive_int

__all__ = [
    "Layer", "Dense", "TiedDense", "Sigmoid", "Tanh", "ReLU", "ELU", "Identity",
    "Softplus", "ACTIVATIONS", "make_activation", "sigmoid", "init_weights",
]


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
        Z = X @ self.W
        Z += self.b
        return Z

    def backward(self, dZ):
        self.dW += self.X.T @ dZ
        self.db += dZ.sum(axis=0)
        return dZ @ self.W.T if self.input_grad else None

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
        Z = X @ self.source.W.T
        Z += self.b
        return Z

    def backward(self, dZ):
        self.source.dW += dZ.T @ self.X
        self.db += dZ.sum(axis=0)
        return dZ @ self.source.W

    def __repr__(self):
        return f"TiedDense(source={self.source.name or self.source!r})"


# --------------------------------------------------------------------------
# Activations (element-wise). Each caches what its derivative needs.
# --------------------------------------------------------------------------

def sigmoid(Z, out=None):
    r""":math:`\sigma(z) = 1/(1+e^{-z}) = \tfrac12(1 + \tanh(z/2))`.

    The tanh form never overflows (``np.exp(-z)`` warns for z < -709) and
    measured several times faster than ``1/(1+np.exp(-z))`` here. Written in
    place into ``out`` when given.
    """
    out = np.multiply(Z, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


class Sigmoid(Layer):
    r""":math:`A = \sigma(Z)`; backward :math:`\partial J/\partial Z = \partial J/\partial A \odot A (1 - A)`."""

    def forward(self, Z, training=True):
        self.A = sigmoid(Z)
        return self.A

    def backward(self, dA):
        dZ = 1.0 - self.A
        dZ *= self.A
        dZ *= dA
        return dZ


class Tanh(Layer):
    r""":math:`A = \tanh(Z)`; backward :math:`\partial J/\partial Z = \partial J/\partial A \odot (1 - A^2)`."""

    def forward(self, Z, training=True):
        self.A = np.tanh(Z)
        return self.A

    def backward(self, dA):
        dZ = np.square(self.A)
        np.subtract(1.0, dZ, out=dZ)
        dZ *= dA
        return dZ


class ReLU(Layer):
    r""":math:`A = \max(Z, 0)`; backward passes the gradient where :math:`Z > 0`."""

    def forward(self, Z, training=True):
        self.mask = Z > 0
        return np.maximum(Z, 0.0)

    def backward(self, dA):
        return dA * self.mask


class ELU(Layer):
    r"""Exponential linear unit, :math:`A = z` for :math:`z > 0`, :math:`\alpha(e^z - 1)` otherwise.

    Backward: :math:`\partial A/\partial z = 1` for :math:`z > 0`, else
    :math:`\alpha e^z = A + \alpha`.
    """

    def __init__(self, alpha=1.0):
        self.alpha = float(alpha)

    def forward(self, Z, training=True):
        self.mask = Z > 0
        A = np.expm1(np.minimum(Z, 0.0))
        A *= self.alpha
        np.copyto(A, Z, where=self.mask)
        self.A = A
        return A

    def backward(self, dA):
        slope = self.A + self.alpha
        np.copyto(slope, 1.0, where=self.mask)
        slope *= dA
        return slope

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


def make_activation(name):
    """Return a new activation layer from its name (``"sigmoid"``, ``"elu"``, ...)."""
    try:
        return ACTIVATIONS[name]()
    except (KeyError, TypeError):
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}; got {name!r}") from None
