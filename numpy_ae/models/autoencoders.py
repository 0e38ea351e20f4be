r"""Autoencoders as estimators: an encoder and a decoder built from layers.

:class:`Autoencoder` is the shared machinery (fit with L-BFGS or minibatches,
transform, inverse_transform, reconstruct, save/load); each named autoencoder
only says which layers it is made of. Estimator conventions follow
scikit-learn (:mod:`numpy_ae.models.base`): every hyperparameter, the training ones
included, is an ``__init__`` argument checked at once; ``fit(X, y=None)``
returns ``self``; learned attributes end in ``_``. So an autoencoder is a
transformer in a scikit-learn ``Pipeline``: UFLDL's self-taught learning is
``make_pipeline(SparseAutoencoder(n_hidden=196), SoftmaxRegression())``.

The training hyperparameters every autoencoder takes:

method : {"lbfgs", "adam", "sgd"}
    ``"lbfgs"``: scipy's L-BFGS-B on the whole data set (UFLDL's choice);
    ``"adam"``/``"sgd"``: the minibatch loop of :mod:`numpy_ae.train.loop`.
max_iter : int
    L-BFGS iterations (UFLDL: 400).
gtol : float
    L-BFGS: stop when the largest gradient component falls below this.
epochs, batch_size : int
    Minibatch settings (``batch_size`` larger than N is cut to N, as
    scikit-learn's MLP does).
learning_rate : float or None
    Adam: 1e-3 by default; SGD: 0.01.
momentum, nesterov :
    SGD only.
patience : int or None
    Minibatch early stopping after this many epochs without improvement
    (of the validation loss when ``fit`` gets ``validation_data``); the best
    parameters are restored.
verbose : int
    L-BFGS: print the cost every ``verbose`` iterations (0: silent).
    Minibatch: one line per epoch when non-zero.
warm_start : bool
    Continue from the current parameters instead of re-initialising.
dtype : {"float64", "float32"}
    Precision of the cost and gradient computations (L-BFGS itself stays in float64).
random_state : None, int or numpy.random.Generator
    Initialisation, then shuffling and noise. An int gives bitwise-identical fits.
"""
from __future__ import annotations
import time
from .._validation import check_array, check_float_dtype, check_in_open_interval, check_non_negative, check_positive_int, check_random_state
from .base import BaseEstimator
from .builder import build_autoencoder_layers
from .fields import Field, array
from .training import TrainingMixin, _set_params_from_locals, check_training_params
from ..exceptions import not_fitted_error
from ..nn.dense import Dense
from ..nn.activations import make_activation
from ..nn.losses import make_loss
from ..nn.sequential import Sequential
from ..nn.penalties import KLSparsity

__all__ = ['Autoencoder', 'SparseAutoencoder', 'LinearAutoencoder']



class Autoencoder(TrainingMixin, BaseEstimator):
    """Base class. Subclasses implement :meth:`_make_network` and list their hyperparameters in ``__init__``.

    Attributes set by ``fit``: ``network_`` (the :class:`~numpy_ae.nn.sequential.Sequential`),
    ``n_features_in_``, ``cost_`` (final objective), ``converged_`` and ``message_``
    (why training stopped), ``fit_seconds_``; for L-BFGS ``cost_history_``
    (objective after each iteration), ``n_iter_`` and ``n_fev_``; for minibatch
    methods ``history_`` (per-epoch ``loss``, ``val_loss``, ``seconds``,
    ``best_epoch``) and ``n_epochs_``.
    """

    _unsaved = ("n_encoder_layers_",)
    _saved_attributes = {"n_features_in_": Field(int, required=True), "phase_history_": list, "walkback_": int}

    # ------------------------------------------------------------- structure
    def _make_network(self, n_features):
        """Return ``(encoder_layers, decoder_layers, loss)`` for ``n_features`` inputs."""
        raise NotImplementedError

    def _validate_params(self):
        check_training_params(self)
        check_float_dtype(self.dtype)

    def initialize(self, n_features):
        """Build the network for ``n_features`` inputs with fresh random parameters; return self.

        ``fit`` calls this; call it yourself to inspect or gradient-check the
        untrained model (``ae.initialize(64).loss_and_grad(ae.theta, X)``).
        """
        self._validate_params()
        n_features = check_positive_int(n_features, "n_features")
        encoder, decoder, loss = self._make_network(n_features)
        self.rng_ = check_random_state(self.random_state)  # initialisation, then shuffling and noise
        self.network_ = Sequential(encoder + decoder, loss, weight_decay=self.weight_decay,
                                   dtype=check_float_dtype(self.dtype), random_state=self.rng_, fast=self.fast)
        self.n_encoder_layers_ = len(encoder)
        self.n_features_in_ = n_features
        return self

    def _rebuild(self, state):
        self.initialize(state["n_features_in_"])  # load checks what it recomputes against the file

    def _is_fitted(self):
        return getattr(self, "network_", None) is not None

    def _network(self):
        net = getattr(self, "network_", None)
        if net is None:
            raise not_fitted_error(f"this {type(self).__name__} is not fitted yet: call fit(X) "
                                 "(or initialize(n_features)) first")
        return net

    @property
    def theta(self):
        """All parameters as one flat vector of shape ``(n_params,)`` (a view: writes change the model)."""
        return self._network().theta

    @property
    def n_params_(self):
        """Number of learned parameters: the length of ``theta`` (tied weights count once)."""
        return self._network().n_params

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
        X = check_array(X, "X", n_features=n_features, dtype=check_float_dtype(self.dtype),
                        estimator=type(self).__name__)
        if fitting and self._needs_unit_inputs():
            check_array(X, "X", unit_interval=True, unit_interval_hint=self._unit_inputs_hint(), dtype=X.dtype)
        return X

    def _needs_unit_inputs(self):
        return False

    def _check_data(self, X):
        """``_check_X`` for scoring methods, as strict as ``fit``: the fitted width and, when the
        reconstruction is a sigmoid or a cross-entropy, values in [0, 1] (data the model cannot
        reconstruct must not score better than the data it learned)."""
        X = self._check_X(X)
        if self._needs_unit_inputs():
            check_array(X, "X", unit_interval=True, unit_interval_hint=self._unit_inputs_hint(), dtype=X.dtype)
        return X

    def _unit_inputs_hint(self):
        """The fix a ValueError suggests for inputs outside [0, 1] (when :meth:`_needs_unit_inputs`)."""
        return (f"{type(self).__name__} reconstructs through a sigmoid (or a cross-entropy), whose "
                "outputs lie in (0, 1), so it cannot match these inputs. Rescale them to [0, 1] "
                "(numpy_ae.data.sample_patches normalises patches to [0.1, 0.9]) or use a "
                "linear decoder (decoder='linear').")

    def _clear_fit_attributes(self):
        for stale in ("history_", "cost_history_", "n_iter_", "n_fev_", "n_epochs_", "converged_", "message_",
                      "cost_", "fit_seconds_", "phase_history_"):
            self.__dict__.pop(stale, None)

    def fit(self, X, y=None, *, target=None, validation_data=None, callback=None):
        r"""Train on ``X (N, D)``; return self. ``y`` is ignored (an autoencoder reconstructs ``X``).

        Parameters
        ----------
        X : array of shape (N, D)
        y : ignored
            Present for scikit-learn's ``Pipeline``.
        target : array like ``X`` or None
            What the network must output for each row of ``X`` (default: ``X``
            itself). Denoising from fixed pairs, as in the Keras example:
            ``fit(noisy, target=clean)``. Checked as ``X`` is (same layout,
            same number of examples).
        validation_data : array (N_val, D), or ``(X_val, T_val)``, or None
            Scored after every epoch (minibatch methods; early stopping watches
            it). With ``target``, pass the pair ``(noisy_val, clean_val)``.
        callback : callable or None
            L-BFGS: ``callback(iteration, cost)``; minibatch: ``callback(epoch, history)``.

        Training follows the hyperparameters (``method``, ``max_iter``, ``epochs``...;
        see the module docstring). When L-BFGS stops before ``max_iter`` without
        meeting its tolerances, a :class:`~numpy_ae.exceptions.ConvergenceWarning`
        says why; ``converged_`` and ``message_`` record it either way.
        """
        self._validate_params()
        T = None
        if target is not None:  # checked first, so that what fit records of the layout is X's
            T = self._check_X(target, fitting=True)
        X = self._check_X(X, fitting=True)
        if T is not None and T.shape != X.shape:
            raise ValueError(f"target must have X's shape after the input checks, {X.shape}; got {T.shape}")
        self._clear_fit_attributes()
        if not (self.warm_start and getattr(self, "network_", None) is not None
                and self.n_features_in_ == X.shape[1]):
            self.initialize(X.shape[1])
        start = time.perf_counter()
        self._train(self.network_, X, T, validation_data=validation_data, callback=callback)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    # ------------------------------------------------------------ inference
    def transform(self, X):
        """Codes (hidden activations) of ``X (N, D)``: shape ``(N, H)``."""
        self._network()
        X = self._check_X(X)
        for layer in self.encoder_layers:
            X = layer.forward(X, training=False)
        return X

    def fit_transform(self, X, y=None, **fit_params):
        """``fit(X, **fit_params).transform(X)``: codes of shape ``(N, H)``."""
        return self.fit(X, y, **fit_params).transform(X)

    def inverse_transform(self, H):
        """Reconstruction from codes ``H (N, H)``: shape ``(N, D)``."""
        first = self.decoder_layers[0]
        shapes = first.param_shapes()
        n_code = shapes["W"][0] if "W" in shapes else getattr(getattr(first, "source", None), "n_out", None)
        H = check_array(H, "H", n_features=n_code, dtype=check_float_dtype(self.dtype),
                        estimator=type(self).__name__)
        for layer in self.decoder_layers:
            H = layer.forward(H, training=False)
        return self._network().loss.output(H)

    def reconstruct(self, X):
        """``inverse_transform(transform(X))``: shape ``(N, D)``."""
        net = self._network()
        return net.predict(self._check_X(X))

    def score(self, X, y=None):
        """Minus the reconstruction loss on ``X`` (no noise, penalties or weight decay): higher is better,
        so ``GridSearchCV`` can select an autoencoder on its own."""
        net = self._network()
        return -float(net.evaluate(self._check_data(X)))


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
    method, max_iter, gtol, epochs, batch_size, learning_rate, momentum, nesterov, patience, verbose, warm_start, dtype, random_state :
        Training, as for every autoencoder (:mod:`numpy_ae.models.autoencoders`); L-BFGS for 400 iterations by default.
    """

    def __init__(self, n_hidden=25, *, sparsity=0.01, beta=3.0, weight_decay=1e-4, decoder="sigmoid",
                 init="ufldl", method="lbfgs", max_iter=400, gtol=1e-5, epochs=10, batch_size=128,
                 learning_rate=None, momentum=0.9, nesterov=False, patience=None, verbose=0, warm_start=False,
                 dtype="float64", random_state=None, fast=True):
        _set_params_from_locals(self, locals())
        self._validate_params()

    def _validate_params(self):
        check_positive_int(self.n_hidden, "n_hidden")
        check_in_open_interval(self.sparsity, "sparsity")
        check_non_negative(self.beta, "beta")
        check_non_negative(self.weight_decay, "weight_decay")
        if self.decoder not in ("sigmoid", "linear"):
            raise ValueError(f"decoder must be 'sigmoid' or 'linear'; got {self.decoder!r}")
        Dense(1, 1, init=self.init)  # raises ValueError for an unknown init
        super()._validate_params()

    def _make_network(self, n_features):
        """The shared builder of :mod:`numpy_ae.models.builder`: one sigmoid layer, KL sparsity after it (kept
        even at ``beta = 0``, so the layer list and the saved model do not depend on ``beta``)."""
        return build_autoencoder_layers(n_features, (self.n_hidden,), activation="sigmoid",
                                        output_activation=self.decoder, loss="squared_error", init=self.init,
                                        code_layers=lambda dense, code: [KLSparsity(self.sparsity, self.beta)])

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
    max_iter, gtol :
        L-BFGS budget and tolerance. The defaults (1000 iterations, ``gtol=1e-10``)
        reach PCA's reconstruction error to 1e-6 relative or better on problems
        it has not been tuned on (the test suite checks 9-D and 784-D data).
    method, epochs, batch_size, learning_rate, momentum, nesterov, patience, verbose, warm_start, dtype, random_state :
        Training, as for every autoencoder (:mod:`numpy_ae.models.autoencoders`).

    Attributes
    ----------
    mean_ : ndarray (D,)
        The training mean; the model trains on centred data and folds it into its biases.
    """

    _saved_attributes = {"mean_": array(("n_features_in_",))}

    def __init__(self, n_components=2, *, weight_decay=0.0, method="lbfgs", max_iter=1000, gtol=1e-10,
                 epochs=10, batch_size=128, learning_rate=None, momentum=0.9, nesterov=False, patience=None,
                 verbose=0, warm_start=False, dtype="float64", random_state=None, fast=True):
        _set_params_from_locals(self, locals())
        self._validate_params()

    def _validate_params(self):
        check_positive_int(self.n_components, "n_components")
        check_non_negative(self.weight_decay, "weight_decay")
        super()._validate_params()

    def _make_network(self, n_features):
        if self.n_components > n_features:
            raise ValueError(f"n_components must be <= the number of features ({n_features}); "
                             f"got {self.n_components}")
        encoder = [Dense(n_features, self.n_components, init="glorot"), make_activation("identity")]
        decoder = [Dense(self.n_components, n_features, init="glorot"), make_activation("identity")]
        return encoder, decoder, make_loss("squared_error")

    def fit(self, X, y=None, **fit_params):
        r"""As :meth:`Autoencoder.fit`, but trains on ``X - mean`` and then folds the mean into the
        biases (``b1 -= mean @ W1``, ``b2 += mean``): the same function of ``X``, the same
        objective (biases are not decayed), while an uncentred input makes L-BFGS need about
        twice the iterations (MNIST: ``|mean|^2 = 36`` against a top eigenvalue of 6)."""
        self._validate_params()
        X = self._check_X(X, fitting=True)
        warm = self.warm_start and getattr(self, "network_", None) is not None and self.n_features_in_ == X.shape[1]
        if warm:  # undo the previous fold before training on centred data again
            self.encoder_layers[0].b += self.mean_ @ self.encoder_layers[0].W
            self.decoder_layers[0].b -= self.mean_
        mean = X.mean(axis=0)
        if fit_params.get("target") is not None:  # the same shift on both sides; undone by the fold below
            fit_params["target"] = self._check_X(fit_params["target"]) - mean
        super().fit(X - mean, **fit_params)
        self.mean_ = mean
        self.encoder_layers[0].b -= self.mean_ @ self.encoder_layers[0].W
        self.decoder_layers[0].b += self.mean_
        return self

    @property
    def components_(self):
        """The decoder's weight rows, shape ``(K, D)``: a (non-orthogonal) basis of the learned subspace."""
        return self.decoder_layers[0].W
