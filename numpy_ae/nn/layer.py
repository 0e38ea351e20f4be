r"""Layers with hand-written forward and backward passes.

Every layer follows one protocol (as in micrograd, the backward pass sits right
under the forward pass it reverses):

``forward(X, training=True) -> Y``
    computes the output and caches what backward needs.
``backward(dY) -> dX``
    takes :math:`\partial J/\partial Y` and returns :math:`\partial J/\partial X`,
    and ADDS (``+=``) the gradients of its parameters into its gradient arrays
    (``dW``, ``db``). Adding instead of assigning is what lets two layers share
    one weight matrix (tied weights). ``backward`` never changes ``dY``.

Parameters are not owned by a layer: :class:`numpy_ae.nn.sequential.Sequential` keeps all
parameters of a model in one flat vector ``theta`` and all gradients in one flat
vector ``grad``, and hands each layer *views* into them through :meth:`Layer.bind`.
A layer declares what it needs with :meth:`Layer.param_shapes`.

Conventions (fixed letters): ``N`` examples, ``D`` inputs, ``H`` hidden units.
Rows are examples, ``X`` has shape ``(N, D)``.

Two forms. The classes of :mod:`numpy_ae.nn` are the reference forms: each
``forward`` and ``backward`` is its docstring's equations in plain NumPy, with
fresh output arrays. Their fast twins (:mod:`numpy_ae.nn.fast`) compute the
same values with buffers that only the model's training step lends them; so,
in either form, an array ``forward`` returns is never changed by a later call.
"""
from __future__ import annotations
import numpy as np

__all__ = ["Layer", "init_weights"]


class Layer:
    """Base class: a layer with no parameters and no penalty.

    Attributes
    ----------
    name : str
        Set by the model (``"dense0"``, ``"sigmoid1"``, ...) for reports.
    penalty : float
        Value this layer adds to the objective in the last training forward
        pass (0 for ordinary layers; see :mod:`numpy_ae.nn.penalties`).
    rows_independent : bool
        True when each example's output and gradient terms depend on its own
        row only and nothing is random: a training step may then be split by
        rows across threads (:mod:`numpy_ae.train.parallel`). False (the
        default) for batch statistics, selections across the batch, noise.
    batch_sums : bool
        True when the rows meet only in column sums of the input (the fast
        sparsity penalty's batch-mean activation): a split step then hands
        each block the whole batch's sums (:class:`numpy_ae.train.parallel.ColumnSums`).
    """

    name = None
    penalty = 0.0
    rows_independent = False
    batch_sums = False
    workspace = None  # lent by the model's training step to fast twins (numpy_ae.nn.fast.workspace)

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
        """Pickle without a workspace lent by a training step (it is lent again at the next one)."""
        return {k: v for k, v in self.__dict__.items() if k != "workspace"}

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
