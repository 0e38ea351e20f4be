r"""Autoencoders as estimators: an encoder and a decoder built from layers.

:class:`Autoencoder` is the shared machinery (fit with L-BFGS, transform,
inverse_transform, reconstruct, save/load); each named autoencoder only says
which layers it is made of. Estimator conventions follow scikit-learn:
hyperparameters in ``__init__`` (checked there, so a typo fails at once),
``fit`` returns ``self``, learned attributes end in ``_``.
"""
from __future__ import annotations

import inspect
import json
import zipfile

import numpy as np

from ._validation import (check_array, check_float_dtype, check_in_open_interval, check_non_negative,
                          check_positive_int, check_random_state)
from .layers import Dense, make_activation
from .losses import make_loss
from .model import Sequential
from .optim import lbfgs
from .regularizers import KLSparsity

__all__ = ["Autoencoder", "SparseAutoencoder", "LinearAutoencoder", "load"]

_FORMAT = "numpy_ae.model.v1"
_CLASSES = {}


class Autoencoder:
    """Base class. Subclasses implement :meth:`_make_network` and list their hyperparameters in ``__init__``."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _CLASSES[cls.__name__] = cls

    # ------------------------------------------------------------- structure
    def _make_network(self, n_features):
        """Return ``(encoder_layers, decoder_layers, loss)`` for ``n_features`` inputs."""
        raise NotImplementedError

    def initialize(self, n_features):
        """Build the network for ``n_features`` inputs with fresh random parameters; return self.

        ``fit`` calls this; call it yourself to inspect or gradient-check the
        untrained model (``ae.initialize(64).loss_and_grad(ae.theta, X)``).
        """
        n_features = check_positive_int(n_features, "n_features")
        encoder, decoder, loss = self._make_network(n_features)
        self.rng_ = check_random_state(self.random_state)  # initialisation, then shuffling and noise
        self.network_ = Sequential(encoder + decoder, loss, weight_decay=self.weight_decay,
                                   dtype=getattr(self, "dtype", np.float64), random_state=self.rng_)
        self.n_encoder_layers_ = len(encoder)
        self.n_features_in_ = n_features
        return self

    def _network(self):
        net = getattr(self, "network_", None)
        if net is None:
            raise ValueError(f"this {type(self).__name__} is not initialised yet: call fit(X) "
                             "(or initialize(n_features)) first")
        return net

    @property
    def theta(self):
        """All parameters as one flat vector of shape ``(n_params,)`` (a view: writes change the model)."""
        return self._network().theta

    @property
    def encoder_layers(self):
        return self._network().layers[:self.n_encoder_layers_]

    @property
    def decoder_layers(self):
        return self._network().layers[self.n_encoder_layers_:]

    # ------------------------------------------------------------- objective
    def loss_and_grad(self, theta, X):
        r"""Objective and gradient at ``theta`` for inputs ``X (N, D)``: ``(J, grad (n_params,))``."""
        return self._network().loss_and_grad(theta, X)

    def cost(self, X):
        """The training objective at the current parameters (loss + penalties + weight decay)."""
        X = self._check_X(X)
        return self._network().compute(X)

    # -------------------------------------------------------------- fitting
    def _check_X(self, X, fitting=False):
        net = getattr(self, "network_", None)
        n_features = None if fitting or net is None else self.n_features_in_
        dtype = getattr(self, "dtype", np.float64)
        X = check_array(X, "X", n_features=n_features, dtype=dtype)
        if fitting and self._needs_unit_inputs():
            check_array(X, "X", unit_interval=True, unit_interval_hint=(
                f"{type(self).__name__} reconstructs through a sigmoid (or a cross-entropy), whose "
                "outputs lie in (0, 1), so it cannot match these inputs. Rescale them to [0, 1] "
                "(numpy_ae.data.sample_patches normalises patches to [0.1, 0.9]) or use a "
                "linear decoder (decoder='linear')."))
        return X

    def _needs_unit_inputs(self):
        return False

    def fit(self, X, max_iter=400, verbose=0, callback=None, gtol=1e-5, method="lbfgs", epochs=10,
            batch_size=128, learning_rate=None, momentum=0.9, nesterov=False, validation_data=None,
            patience=None, warm_start=False):
        r"""Train on ``X (N, D)``; return self.

        ``method="lbfgs"`` (the default, UFLDL's choice) runs scipy's L-BFGS-B on
        the whole data set for ``max_iter`` iterations. ``method="adam"`` or
        ``"sgd"`` runs the minibatch loop of :mod:`numpy_ae.training` for
        ``epochs`` epochs of ``batch_size`` examples.

        Parameters
        ----------
        X : array of shape (N, D)
        max_iter : int
            L-BFGS iterations (UFLDL: 400).
        verbose : int or bool
            L-BFGS: print the cost every ``verbose`` iterations (0: silent).
            Minibatch: print one line per epoch when true.
        callback : callable or None
            L-BFGS: ``callback(iteration, cost)``; minibatch: ``callback(epoch, history)``.
        gtol : float
            L-BFGS: stop when the largest gradient component falls below this.
        method : {"lbfgs", "adam", "sgd"}
        epochs, batch_size : int
            Minibatch settings (``1 <= batch_size <= N``).
        learning_rate : float or None
            Adam: 1e-3 by default; SGD: 0.01.
        momentum, nesterov :
            SGD only.
        validation_data : array (N_val, D) or None
            Scored after every epoch (minibatch methods).
        patience : int or None
            Early stopping after this many epochs without improvement.
        warm_start : bool
            Continue from the current parameters instead of re-initialising
            (greedy layer-wise training in phases needs it).

        Sets ``cost_`` (final objective) and, for L-BFGS, ``cost_history_``
        (objective after each iteration), ``n_iter_`` and ``n_fev_`` (evaluations); for minibatch methods
        ``history_`` (per-epoch ``loss``, ``val_loss``, ``seconds``) and
        ``n_epochs_``; always ``fit_seconds_``.
        """
        import time

        from .optim import make_optimizer
        from .training import train_minibatch

        if method not in ("lbfgs", "adam", "sgd"):
            raise ValueError(f"method must be 'lbfgs', 'adam' or 'sgd'; got {method!r}")
        X = self._check_X(X, fitting=True)
        for stale in ("history_", "cost_history_", "n_iter_", "n_fev_", "n_epochs_"):  # from an earlier fit
            self.__dict__.pop(stale, None)
        if not (warm_start and getattr(self, "network_", None) is not None
                and self.n_features_in_ == X.shape[1]):
            self.initialize(X.shape[1])
        net = self.network_
        start = time.perf_counter()
        if method == "lbfgs":
            max_iter = check_positive_int(max_iter, "max_iter")
            res = lbfgs(lambda theta: net.loss_and_grad(theta, X), net.theta, max_iter=max_iter,
                        callback=callback, verbose=verbose, gtol=gtol)
            net.set_theta(res.x)
            self.cost_ = float(res.fun)
            self.cost_history_ = list(res.history)
            self.n_iter_ = int(res.nit)
            self.n_fev_ = int(res.nfev)
        else:
            if validation_data is not None:
                validation_data = self._check_X(validation_data)
            optimizer = make_optimizer(method, learning_rate, momentum=momentum, nesterov=nesterov)
            self.history_ = train_minibatch(net, X, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
                                            rng=self.rng_, validation_data=validation_data, patience=patience,
                                            verbose=bool(verbose), callback=callback)
            self.cost_ = self.history_["loss"][-1]
            self.n_epochs_ = len(self.history_["loss"])
        self.fit_seconds_ = time.perf_counter() - start
        return self

    # ------------------------------------------------------------ inference
    def transform(self, X):
        """Codes (hidden activations) of ``X (N, D)``: shape ``(N, H)``."""
        X = self._check_X(X)
        for layer in self.encoder_layers:
            X = layer.forward(X, training=False)
        return X

    def inverse_transform(self, H):
        """Reconstruction from codes ``H (N, H)``: shape ``(N, D)``."""
        n_code = self.decoder_layers[0].param_shapes()["W"][0] if self.decoder_layers and \
            "W" in self.decoder_layers[0].param_shapes() else None
        H = check_array(H, "H", n_features=n_code, dtype=getattr(self, "dtype", np.float64))
        for layer in self.decoder_layers:
            H = layer.forward(H, training=False)
        return self._network().loss.output(H)

    def reconstruct(self, X):
        """``inverse_transform(transform(X))``: shape ``(N, D)``."""
        return self._network().predict(self._check_X(X))

    # --------------------------------------------------------- persistence
    def get_params(self):
        """Hyperparameters as given to ``__init__`` (JSON-serialisable ones)."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        params = {name: getattr(self, name) for name in names}
        if not isinstance(params.get("random_state"), (int, type(None))):
            params["random_state"] = None  # a Generator's state is not saved
        if "dtype" in params:
            params["dtype"] = np.dtype(params["dtype"]).name
        return params

    def save(self, path):
        """Write hyperparameters and ``theta`` to a NumPy ``.npz`` file (no pickle)."""
        net = self._network()
        np.savez(path, format=np.array(_FORMAT), cls=np.array(type(self).__name__),
                 params=np.array(json.dumps(self.get_params())),
                 n_features=np.array(self.n_features_in_), theta=net.theta,
                 cost_history=np.asarray(getattr(self, "cost_history_", []), dtype=np.float64))
        return path

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save` (``allow_pickle=False``)."""
        return load(path, expected=cls)


def load(path, expected=None):
    """Load any numpy_ae autoencoder saved with ``save``; raise ValueError for a foreign or broken file."""
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{path} is not a readable numpy_ae model file (truncated, corrupted "
                         f"or not an .npz written by save()): {exc}") from exc
    missing = {"format", "cls", "params", "n_features", "theta"} - set(data)
    if missing or str(data["format"]) != _FORMAT:
        raise ValueError(f"{path} is not a numpy_ae model file: expected format {_FORMAT!r} "
                         f"with keys format, cls, params, n_features, theta; missing {sorted(missing)}")
    name = str(data["cls"])
    klass = _CLASSES.get(name)
    if klass is None or (expected is not None and not issubclass(klass, expected)):
        raise ValueError(f"{path} holds a {name}, not a {getattr(expected, '__name__', 'known model')}")
    model = klass(**json.loads(str(data["params"]))).initialize(int(data["n_features"]))
    if data["theta"].shape != model.theta.shape:
        raise ValueError(f"{path}: theta has shape {data['theta'].shape}, the model needs {model.theta.shape}")
    model.theta[...] = data["theta"]
    if data.get("cost_history") is not None and data["cost_history"].size:
        model.cost_history_ = data["cost_history"].tolist()
        model.cost_ = model.cost_history_[-1]
    return model


class SparseAutoencoder(Autoencoder):
    r"""The sparse autoencoder of the UFLDL notes: one sigmoid hidden layer with KL sparsity.

    Network (``D`` visible, ``H`` hidden units; rows are examples)::

        X (N, D) -> Dense(D, H) -> Sigmoid -> KLSparsity(rho, beta) -> Dense(H, D) -> Sigmoid -> X_hat

    Objective, UFLDL's ``sparseAutoencoderCost`` averaged over examples:

    .. math::
        J = \frac{1}{2N}\sum_{n}\lVert \hat x_n - x_n\rVert^2
            + \frac{\lambda}{2}\left(\lVert W^{(1)}\rVert^2 + \lVert W^{(2)}\rVert^2\right)
            + \beta\sum_{j=1}^{H}\mathrm{KL}(\rho\,\|\,\hat\rho_j),
        \qquad \hat\rho_j = \frac1N\sum_n a^{(2)}_{nj}.

    UFLDL's :math:`W^{(1)}` is our ``dense0.W.T``. With ``decoder="linear"``
    the output layer is the identity (UFLDL's linear decoder), for inputs that
    are not in [0, 1] such as ZCA-whitened colour patches.

    Parameters
    ----------
    n_hidden : int
        H, hidden units (UFLDL: 25 for 8x8 patches).
    sparsity : float in (0, 1)
        :math:`\rho`, the target mean activation (UFLDL: 0.01).
    beta : float >= 0
        Weight of the sparsity penalty (UFLDL: 3).
    weight_decay : float >= 0
        :math:`\lambda` (UFLDL: 1e-4), weights only.
    decoder : {"sigmoid", "linear"}
        Output activation.
    init : {"ufldl", "glorot", "he"}
        Weight initialisation (UFLDL's uniform by default).
    dtype : {"float64", "float32"}
        Precision of the cost and gradient computations.
    random_state : None, int or numpy.random.Generator
    """

    def __init__(self, n_hidden=25, sparsity=0.01, beta=3.0, weight_decay=1e-4, decoder="sigmoid",
                 init="ufldl", dtype="float64", random_state=None):
        self.n_hidden = check_positive_int(n_hidden, "n_hidden")
        self.sparsity = check_in_open_interval(sparsity, "sparsity")
        self.beta = check_non_negative(beta, "beta")
        self.weight_decay = check_non_negative(weight_decay, "weight_decay")
        if decoder not in ("sigmoid", "linear"):
            raise ValueError(f"decoder must be 'sigmoid' or 'linear'; got {decoder!r}")
        self.decoder = decoder
        Dense(1, 1, init=init)  # raises ValueError for an unknown init
        self.init = init
        self.dtype = check_float_dtype(dtype)
        self.random_state = random_state

    def _make_network(self, n_features):
        encoder = [Dense(n_features, self.n_hidden, init=self.init), make_activation("sigmoid"),
                   KLSparsity(self.sparsity, self.beta)]
        decoder = [Dense(self.n_hidden, n_features, init=self.init), make_activation(self.decoder)]
        return encoder, decoder, make_loss("squared_error")

    def _needs_unit_inputs(self):
        return self.decoder == "sigmoid"

    def mean_activation(self, X):
        r"""Mean hidden activation over ``X``, averaged over units: compare with :math:`\rho`."""
        return float(self.transform(X).mean())


class LinearAutoencoder(Autoencoder):
    r"""An autoencoder with no non-linearity: it learns the PCA subspace.

    Network: ``X (N, D) -> Dense(D, K) -> Dense(K, D) -> X_hat`` with identity
    activations and UFLDL's squared error
    :math:`J = \frac{1}{2N}\sum_n \lVert \hat x_n - x_n \rVert^2` (plus
    :math:`\frac{\lambda}{2}\sum W^2` if ``weight_decay > 0``).

    With no weight decay the minimum of :math:`J` is reached exactly when the
    decoder's rows span the top-K principal subspace of the (centred) data
    (Baldi & Hornik, 1989; Hands-On ML, "Performing PCA with an Undercomplete
    Linear Autoencoder"): the reconstruction error then equals PCA's. The
    weights themselves are any basis of that subspace, not the principal
    components: they need be neither orthogonal nor sorted by variance.

    Parameters
    ----------
    n_components : int
        K, the size of the code.
    weight_decay : float >= 0
    dtype : {"float64", "float32"}
    random_state : None, int or numpy.random.Generator
    """

    def __init__(self, n_components=2, weight_decay=0.0, dtype="float64", random_state=None):
        self.n_components = check_positive_int(n_components, "n_components")
        self.weight_decay = check_non_negative(weight_decay, "weight_decay")
        self.dtype = check_float_dtype(dtype)
        self.random_state = random_state

    def _make_network(self, n_features):
        if self.n_components > n_features:
            raise ValueError(f"n_components must be <= the number of features ({n_features}); "
                             f"got {self.n_components}")
        encoder = [Dense(n_features, self.n_components, init="glorot"), make_activation("identity")]
        decoder = [Dense(self.n_components, n_features, init="glorot"), make_activation("identity")]
        return encoder, decoder, make_loss("squared_error")

    def fit(self, X, **kwargs):
        r"""As :meth:`Autoencoder.fit`, but trains on ``X - mean`` and then folds the mean into the
        biases (``b1 -= mean @ W1``, ``b2 += mean``): the same function of ``X``, the same
        objective (biases are not decayed), while an uncentred input makes L-BFGS need about
        twice the iterations (MNIST: ``|mean|^2 = 36`` against a top eigenvalue of 6)."""
        X = self._check_X(X, fitting=True)
        enc, dec = (self.encoder_layers[0], self.decoder_layers[0]) if kwargs.get("warm_start") and \
            getattr(self, "network_", None) is not None else (None, None)
        if enc is not None:  # undo the previous fold before training on centred data again
            enc.b += self.mean_ @ enc.W
            dec.b -= self.mean_
        self.mean_ = X.mean(axis=0)
        super().fit(X - self.mean_, **kwargs)
        self.encoder_layers[0].b -= self.mean_ @ self.encoder_layers[0].W
        self.decoder_layers[0].b += self.mean_
        return self

    @property
    def components_(self):
        """The decoder's weight rows, shape ``(K, D)``: a (non-orthogonal) basis of the learned subspace."""
        return self.decoder_layers[0].W
