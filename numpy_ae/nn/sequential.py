r"""A model is a sequence of layers whose parameters live in one flat vector.

:class:`Sequential` allocates one vector ``theta`` for all parameters and one
vector ``grad`` for all gradients, and hands every layer views into both. So

* L-BFGS (scipy.optimize) and the minibatch optimisers work on that one vector,
  with no packing or unpacking per step;
* tied weights are two layers reading the same view;
* the gradient checker perturbs ``theta`` in place and every layer sees it.

Layout. Weights that weight decay acts on come first, then everything else
(biases), each block in layer order and C order. For a 1-hidden-layer
autoencoder this is UFLDL's ``theta = [W1(:); W2(:); b1; b2]`` (with our ``W``
being UFLDL's transposed). It makes weight decay one contiguous slice.

There is one source of gradients, :meth:`Sequential.loss_and_grad`:

.. math::
    J(\theta) = L(\hat Y, T) + \sum_{\text{penalty layers}} P
              + \frac{\lambda}{2} \sum_{\text{weights}} W^2 ,

the loss ``L`` as reduced by :mod:`numpy_ae.nn.losses`, the penalties recorded by
layers such as :class:`numpy_ae.nn.penalties.KLSparsity`, and weight decay with
``lambda`` not divided by N (UFLDL), biases not decayed.
"""
from __future__ import annotations
import contextlib
import contextvars
import math
import numpy as np
from .._validation import check_float_dtype, check_non_negative, check_random_state
from .fast import to_fast, to_reference
from .fast.reductions import accurate_sum_of_squares
from .layer import Layer

__all__ = ['Sequential', 'ParamBlock', 'limit_parameter_counts']


_ALLOWED_COUNTS = contextvars.ContextVar("numpy_ae_allowed_parameter_counts", default=None)


@contextlib.contextmanager
def limit_parameter_counts(counts, source):
    """Within the ``with`` block, refuse (``ValueError``) to build any :class:`Sequential` whose parameter
    count is not in ``counts``, before its ``theta`` is allocated.

    Loading a model file uses it: the file's parameter vectors give the only sizes its network may have,
    so hyperparameters that describe a huge network (``n_hidden=10**9``) fail at once, without the
    allocation. ``source`` says where ``counts`` come from, for the message (``"m.npz holds theta of 40
    parameters"``). It is a context variable: other threads are not affected.
    """
    token = _ALLOWED_COUNTS.set((frozenset(int(c) for c in counts), source))
    try:
        yield
    finally:
        _ALLOWED_COUNTS.reset(token)


class ParamBlock:
    """Where one parameter array lives in ``theta``: ``theta[offset:offset + size]``."""

    def __init__(self, name, layer, key, shape, offset, decayed):
        self.name, self.layer, self.key, self.shape = name, layer, key, tuple(shape)
        self.size = math.prod(map(int, self.shape))  # exact: np.prod would wrap around in int64
        self.offset = offset
        self.decayed = decayed

    @property
    def slice(self):
        return slice(self.offset, self.offset + self.size)

    def __repr__(self):
        return f"ParamBlock({self.name!r}, shape={self.shape}, theta[{self.offset}:{self.offset + self.size}])"


class Sequential:
    r"""Layers applied in order, a loss on the last output, weight decay on the weights.

    Parameters
    ----------
    layers : list of Layer
    loss : numpy_ae.nn.losses.Loss
    weight_decay : float
        :math:`\lambda` in :math:`\frac{\lambda}{2}\sum W^2`.
    dtype : float32 or float64
        Of ``theta``, ``grad`` and every computation (float64 for gradient checks).
        Anything else is a ``ValueError``: an integer dtype would truncate the
        initial weights to zero.
    random_state : None, int or numpy.random.Generator
        Used once, to initialise the parameters.
    fast : bool, default False
        Turn every layer and the loss into its fast twin (:mod:`numpy_ae.nn.fast`),
        in place: the same objects, so tied layers stay tied. The twins compute
        the same values to round-off, faster. False keeps the reference forms,
        the plain equations of :mod:`numpy_ae.nn` (what the estimators use with
        ``fast=False``).

    Attributes
    ----------
    theta, grad : ndarray of shape (n_params,)
        All parameters and all gradients. Layers hold views into them.
    blocks : list of ParamBlock
        One entry per parameter array, for reports (``"dense0.W"``) and freezing.
    """

    def __init__(self, layers, loss, weight_decay=0.0, dtype=np.float64, random_state=None, fast=False):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ValueError(f"layers[{i}] must be a numpy_ae Layer; got {type(layer).__name__}")
        self.fast = bool(fast)
        convert = to_fast if self.fast else to_reference
        self.layers = [convert(layer) for layer in layers]
        self.loss = convert(loss)
        self._workspaces = {}
        self.weight_decay = check_non_negative(weight_decay, "weight_decay")
        self.dtype = np.dtype(check_float_dtype(dtype))
        for i, layer in enumerate(self.layers):
            if layer.name is None:
                layer.name = f"{type(layer).__name__.lower()}{i}"

        # Decayed weights first, then the rest: weight decay is one slice.
        entries = [(layer, key, shape, key in layer.decayed_params())
                   for layer in self.layers for key, shape in layer.param_shapes().items()]
        entries.sort(key=lambda e: not e[3])  # stable: keeps layer order within each group
        self.blocks, offset = [], 0
        for layer, key, shape, decayed in entries:
            self.blocks.append(ParamBlock(f"{layer.name}.{key}", layer, key, shape, offset, decayed))
            offset += self.blocks[-1].size
        self.n_params = offset
        self.n_decayed = sum(b.size for b in self.blocks if b.decayed)
        allowed = _ALLOWED_COUNTS.get()
        if allowed is not None and self.n_params not in allowed[0]:
            raise ValueError(f"{allowed[1]}, but the network its hyperparameters describe has {self.n_params} "
                             f"parameters (it was not built)")

        self.theta = np.zeros(self.n_params, dtype=self.dtype)
        self.grad = np.zeros(self.n_params, dtype=self.dtype)
        for layer in self.layers:
            mine = [b for b in self.blocks if b.layer is layer]
            layer.bind({b.key: self.theta[b.slice].reshape(b.shape) for b in mine},
                       {b.key: self.grad[b.slice].reshape(b.shape) for b in mine})
        rng = check_random_state(random_state)
        for layer in self.layers:
            layer.init_params(rng)
        self.frozen = np.zeros(self.n_params, dtype=bool)

    # ------------------------------------------------------------------ passes
    def forward(self, X, training=False, layers=None):
        """Run every layer (or those in ``layers``, in order); return the last output (logits for a logit loss)."""
        for layer in self.layers if layers is None else layers:
            X = layer.forward(X, training=training)
        return X

    def backward(self, dY, input_grad=False, layers=None):
        """Backpropagate ``dY`` through every layer (or ``layers``), accumulating into ``grad``.

        Returns the gradient for the input ``X`` when ``input_grad`` is True
        (activation maximisation needs it), else None: training skips that product.
        """
        layers = self.layers if layers is None else layers
        stop = 0 if input_grad else next((i for i, l in enumerate(layers) if l.param_shapes()), 0)
        for i in range(len(layers) - 1, stop - 1, -1):
            layer = layers[i]
            if hasattr(layer, "input_grad"):  # only the first layer with parameters may skip it
                layer.input_grad = input_grad or i != stop
            dY = layer.backward(dY)
        return dY if input_grad else None

    def set_condition(self, C):
        r"""Hand the side input ``C (N, n_conditions)`` to every layer that takes one (``takes_condition``,
        e.g. :class:`~numpy_ae.nn.condition.JoinCondition`), cast to the model's dtype; return the number of layers.

        Call it before a pass whose rows are those of ``C``; the minibatch loop
        calls it with each minibatch's rows. A ValueError when no layer takes a
        condition (a side input that would silently go nowhere).
        """
        takers = [layer for layer in self.layers if getattr(layer, "takes_condition", False)]
        if not takers:
            raise ValueError("set_condition: no layer of this model takes a condition (add a JoinCondition layer)")
        C = np.asarray(C)
        if C.ndim != 2:
            raise ValueError(f"the condition must be a 2-D array (N, n_conditions); got shape {C.shape}")
        C = np.ascontiguousarray(C, dtype=self.dtype)
        for layer in takers:
            layer.condition = C
        return len(takers)

    def predict(self, X):
        """Inference output, mapped by the loss (e.g. the sigmoid of logits)."""
        return self.loss.output(self.forward(X, training=False))

    # -------------------------------------------------------------- objective
    def set_theta(self, theta):
        """Copy ``theta`` into the model's vector (nothing to do when it IS that vector)."""
        if theta is not self.theta:
            theta = np.asarray(theta)
            if theta.shape != self.theta.shape:
                raise ValueError(f"theta must have shape {self.theta.shape}; got {theta.shape}")
            self.theta[...] = theta

    def compute(self, X, T=None, layers=None, loss=None):
        r"""Evaluate :math:`J` at the current ``theta`` and fill ``self.grad``; return :math:`J`.

        ``X`` is the input ``(N, D)``, ``T`` the target (``X`` itself when None,
        as an autoencoder reconstructs its clean input). The hot path of every
        optimiser: no copies of ``theta`` or ``grad``.

        ``layers`` and ``loss`` evaluate a sub-network of this model instead
        (greedy layer-wise training in phases): its parameters keep their
        place in ``theta``; the parameters of the layers left out get a zero
        gradient, and only penalties of the layers on the path count. Weight
        decay then covers only the weights the path uses: those of its layers,
        and the source weights of a :class:`~numpy_ae.nn.dense.TiedDense` on it.
        """
        if T is None:
            T = X
        path = self.layers if layers is None else layers
        loss = self.loss if loss is None else loss
        self.grad.fill(0.0)
        self._lend_workspaces(path, loss)
        try:
            Y = self.forward(X, training=True, layers=path)
            J = loss.forward(Y, T)
            for layer in path:
                J += layer.penalty
            self.backward(loss.backward(), layers=path)
        finally:
            for owner in (*path, loss):
                owner.workspace = None
        for decayed in self._decayed_slices(layers) if self.weight_decay else ():
            w = self.theta[decayed]
            J += 0.5 * self.weight_decay * accurate_sum_of_squares(w)  # accumulated in float64
            self.grad[decayed] += self.weight_decay * w
        if self.frozen.any():
            self.grad[self.frozen] = 0.0
        return J

    def _lend_workspaces(self, path, loss):
        """Lend each fast layer and loss on the path its workspace for this training step
        (:mod:`numpy_ae.nn.fast.workspace`): arrays kept by the model from step to step."""
        if not self.fast:
            return
        for owner in (*path, loss):
            owner.workspace = self._workspaces.setdefault(id(owner), {})

    def _decayed_slices(self, layers=None):
        """Slices of ``theta`` that weight decay acts on: all decayed weights (one slice), or those a
        sub-network ``layers`` uses (a layer's own, and the weights it reads from a ``source`` layer)."""
        if layers is None:
            return (slice(0, self.n_decayed),)
        used = {id(l) for l in layers} | {id(l.source) for l in layers if getattr(l, "source", None) is not None}
        return tuple(b.slice for b in self.blocks if b.decayed and id(b.layer) in used)

    def loss_and_grad(self, theta, X, T=None):
        r"""Return :math:`(J(\theta), \nabla J(\theta))` with the gradient copied out.

        The one source of gradients for L-BFGS, SGD/Adam and the gradient
        checker. ``theta`` of shape ``(n_params,)`` is copied into the model first.
        """
        self.set_theta(theta)
        J = self.compute(X, T)
        return J, self.grad.copy()

    def evaluate(self, X, T=None, batch_size=2000, side=None):
        """The loss alone (no noise, no penalties, no weight decay) on ``X``, in batches of ``batch_size``.

        Averaged over examples the way the loss reduces, so it is comparable
        across data sets of different sizes (validation curves, test error).
        ``side`` (N, ...) is the side input of each example, handed to the model
        with :meth:`set_condition` batch by batch (the same rows as ``X``).
        """
        T = X if T is None else T
        total = 0.0
        for start in range(0, X.shape[0], batch_size):
            if side is not None:
                self.set_condition(side[start:start + batch_size])
            Y = self.forward(X[start:start + batch_size], training=False)
            total += self.loss.forward(Y, T[start:start + batch_size]) * Y.shape[0]
        return total / X.shape[0]

    # ------------------------------------------------------------ bookkeeping
    def block(self, name):
        """The :class:`ParamBlock` called ``name`` (e.g. ``"dense0.W"``)."""
        for b in self.blocks:
            if b.name == name:
                return b
        raise KeyError(f"no parameter block {name!r}; blocks are {[b.name for b in self.blocks]}")

    def freeze(self, layers, frozen=True):
        """Exclude (or re-include) the parameters of ``layers`` from updates: their gradient is zeroed."""
        for b in self.blocks:
            if any(b.layer is layer for layer in layers):
                self.frozen[b.slice] = frozen

    # ------------------------------------------------------------- pickling
    def __getstate__(self):
        """What pickle and deepcopy store: no workspaces (they are re-allocated on the next step)."""
        state = dict(self.__dict__)
        state["_workspaces"] = {}
        return state

    def __setstate__(self, state):
        """Make every layer's parameters views into ``theta`` and ``grad`` again.

        Pickle stores each view as an array of its own: without this step a
        loaded model's layers would no longer read ``theta`` (an optimiser
        would move nothing) and tied weights would come apart.
        """
        self.__dict__.update(state)
        for layer in self.layers:
            mine = [b for b in self.blocks if b.layer is layer]
            if mine:
                layer.bind({b.key: self.theta[b.slice].reshape(b.shape) for b in mine},
                           {b.key: self.grad[b.slice].reshape(b.shape) for b in mine})

    def __repr__(self):
        inner = ",\n  ".join(repr(l) for l in self.layers)
        return f"Sequential([\n  {inner}\n], loss={self.loss!r}, weight_decay={self.weight_decay}, n_params={self.n_params})"
