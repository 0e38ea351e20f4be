r"""One composable autoencoder: any widths, activations, loss, and any set of code regularisers.

:class:`RegularizedAutoencoder` builds the symmetric network of
:class:`~numpy_ae.models.stacked.StackedAutoencoder` and inserts, after the code
activation (the last encoder layer), the regularisers it is asked for, each a
layer of :mod:`numpy_ae.nn.penalties`. For ``hidden_layer_sizes = (H1, H2)``
on ``D`` inputs::

    X (N, D) -> [noise] -> Dense(D, H1) -> activation -> Dense(H1, H2) -> code_activation   (encoder)
             -> [Contractive] -> [KLSparsity] -> [L1Activity] -> [KSparse] -> [LifetimeWTA]   (code)
             -> Dense(H2, H1) -> activation -> Dense(H1, D) -> [output_activation]            (decoder)

Fixed order at the code, and why:

1. ``Contractive`` first: it reads the activation's output :math:`h = g(z)`
   to get :math:`g'(z)`, so it must see the code before any unit is zeroed;
2. ``KLSparsity`` and ``L1Activity``: penalties on that same activation
   output (their gradients reach every unit);
3. ``KSparse`` then ``LifetimeWTA``: the selections, last, so the decoder sees
   the sparse code and the gradient of the reconstruction flows only through
   the units they keep. The selections carry no penalty.

A layer is present only when its setting asks for it (a weight > 0, a ``k``,
a sparsity), so with every regulariser off the network is exactly a
:class:`~numpy_ae.models.stacked.StackedAutoencoder`'s. The objective is

.. math:: J = L(\hat X, X) + P_{\text{contractive}} + P_{\text{KL}} + P_{L_1}
          + \frac{\lambda}{2}\sum W^2 ,

each penalty as reduced by its layer (averaged over examples).

Combinations refused with a ValueError, because they make no sense:

* ``contraction > 0`` with a code activation other than sigmoid or tanh: the
  closed form of the Jacobian needs :math:`g'(z)` as a function of the code
  (there is none here for ReLU, ELU, identity, softplus);
* ``sparsity_weight > 0`` (KL) with a code activation other than sigmoid: the
  KL penalty compares the mean activation with a probability :math:`\rho`, so
  the code must lie in (0, 1);
* ``k_sparse`` larger than the code size;
* ``output_activation`` with ``loss="cross_entropy"`` (the loss takes logits).

Combinations that are allowed but worth knowing: k-sparse or lifetime WTA on a
sigmoid code keeps the largest sigmoids (the paper's k-sparse code is linear,
FC-WTA's is ReLU); the penalties (KL, L1, contractive) act on the code before
the selections, so they also push on units the selections drop.
"""
from __future__ import annotations
import inspect
import numbers
import numpy as np
from .._validation import check_in_open_interval, check_layer_sizes, check_non_negative
from .autoencoders import Autoencoder
from .training import _set_params_from_locals
from .builder import build_autoencoder_layers
from ..nn.dense import Dense
from ..nn.activations import make_activation
from ..nn.losses import make_loss
from ..nn.penalties import Contractive, KLSparsity, L1Activity, check_contractive_activation, contractive_penalty
from ..nn.selection import KSparse, LifetimeWTA, check_k_fits, check_lifetime_sparsity
from ..nn.noise import make_corruption

__all__ = ['RegularizedAutoencoder', 'ContractiveAutoencoder', 'KSparseAutoencoder', 'WTAAutoencoder']




class RegularizedAutoencoder(Autoencoder):
    r"""An autoencoder whose code regularisers combine freely (see :mod:`numpy_ae.models.composable`).

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int
        Encoder widths, input side first; the last is the code size ``H``.
    activation : str
        Activation of the hidden layers (encoder and decoder).
    code_activation : str or None
        Activation of the code layer; None: the same as ``activation``.
    output_activation : str or None
        Activation of the last decoder layer. None: identity for the squared losses, and none
        at all for ``"cross_entropy"`` (from logits, reconstructing through a sigmoid).
    loss : {"mse", "squared_error", "cross_entropy"}
        As :class:`~numpy_ae.models.stacked.StackedAutoencoder`'s.
    tied : bool
        Decoder layers reuse the transposed encoder weights.
    weight_decay : float >= 0
        :math:`\frac{\lambda}{2}\sum W^2`, weights only.
    init : None or {"he", "glorot", "ufldl"}
        None: He for ReLU/ELU, Glorot otherwise.
    sparsity_target, sparsity_weight :
        KL sparsity (:class:`~numpy_ae.nn.penalties.KLSparsity`): target :math:`\rho` in (0, 1)
        and weight :math:`\beta \ge 0` (0: off). Needs a sigmoid code.
    l1_activity : float >= 0
        Weight of :class:`~numpy_ae.nn.penalties.L1Activity` (0: off).
    contraction : float >= 0
        Weight :math:`\lambda` of the contractive penalty
        (:class:`~numpy_ae.nn.penalties.Contractive`, 0: off). Needs a sigmoid or tanh code.
    k_sparse : int or None
        Keep the ``k`` largest code units per example (:class:`~numpy_ae.nn.selection.KSparse`);
        ``1 <= k <= H``. None: off.
    k_sparse_alpha : float > 0
        At inference (``transform``) keep ``round(alpha * k)`` units.
    lifetime_sparsity : float in (0, 1] or None
        Lifetime winner-take-all (:class:`~numpy_ae.nn.selection.LifetimeWTA`): each code unit
        keeps its top ``ceil(s N)`` activities of a minibatch in training. None: off.
    noise : None or {"gaussian", "masking", "salt-pepper"}
        Input corruption in training (a denoising autoencoder).
    noise_level : float in [0, 1)
        Its level (probability, or the Gaussian standard deviation).
    method, max_iter, gtol, epochs, batch_size, learning_rate, momentum, nesterov, patience, verbose, warm_start, dtype, random_state :
        Training, as for every autoencoder (:mod:`numpy_ae.models.autoencoders`); Adam for 10 epochs of
        128 by default. Lifetime sparsity is taken over each minibatch, so ``batch_size`` sets it.
    """

    # A named preset fixes some settings (class attribute _PRESET) and may call some by another
    # name (_NAMES: setting -> the preset's hyperparameter); everything else is read from self.
    _PRESET = {}
    _NAMES = {}

    def __init__(self, hidden_layer_sizes=(100,), *, activation="sigmoid", code_activation=None,
                 output_activation=None, loss="mse", tied=False, weight_decay=0.0, init=None, sparsity_target=0.05,
                 sparsity_weight=0.0, l1_activity=0.0, contraction=0.0, k_sparse=None, k_sparse_alpha=1.0,
                 lifetime_sparsity=None, noise=None, noise_level=0.3, method="adam", max_iter=400, gtol=1e-5,
                 epochs=10, batch_size=128, learning_rate=None, momentum=0.9, nesterov=False, patience=None,
                 verbose=0, warm_start=False, dtype="float64", random_state=None, fast=True):
        _set_params_from_locals(self, locals())
        self._validate_params()

    # ------------------------------------------------------------ settings
    @classmethod
    def _setting_defaults(cls):
        sig = inspect.signature(RegularizedAutoencoder.__init__)
        return {name: p.default for name, p in sig.parameters.items() if name in _SETTINGS}

    def _settings(self):
        """Every network setting: the base defaults, the preset's fixed values, then this estimator's own."""
        cfg = self._setting_defaults()
        cfg.update(self._PRESET)
        params = self._get_param_names()
        for key in _SETTINGS:
            name = self._NAMES.get(key, key)
            if name in params:
                cfg[key] = getattr(self, name)
        return cfg

    def _name(self, key):
        """The hyperparameter that holds setting ``key`` (for error messages)."""
        return self._NAMES.get(key, key)

    def _validate_params(self):
        cfg, name = self._settings(), self._name
        sizes = check_layer_sizes(cfg["hidden_layer_sizes"], name("hidden_layer_sizes"))
        make_activation(cfg["activation"])
        code = cfg["code_activation"] or cfg["activation"]
        if cfg["code_activation"] is not None:
            make_activation(cfg["code_activation"])
        make_loss(cfg["loss"])
        if cfg["output_activation"] is not None:
            if cfg["loss"] == "cross_entropy":
                raise ValueError("output_activation must be None with loss='cross_entropy' (the loss takes "
                                 f"logits and applies the sigmoid itself); got {cfg['output_activation']!r}")
            make_activation(cfg["output_activation"])
        if not isinstance(cfg["tied"], (bool, np.bool_)):
            raise ValueError(f"tied must be True or False; got {cfg['tied']!r}")
        check_non_negative(cfg["weight_decay"], "weight_decay")
        if cfg["init"] is not None:
            Dense(1, 1, init=cfg["init"])
        check_in_open_interval(cfg["sparsity_target"], name("sparsity_target"))
        if check_non_negative(cfg["sparsity_weight"], name("sparsity_weight")) > 0 and code != "sigmoid":
            raise ValueError(f"{name('sparsity_weight')} > 0 (KL sparsity) needs a sigmoid code, whose activations "
                             f"are probabilities in (0, 1) to compare with the target; the code activation is "
                             f"{code!r}. Use code_activation='sigmoid', or l1_activity for other codes")
        check_non_negative(cfg["l1_activity"], name("l1_activity"))
        if check_non_negative(cfg["contraction"], name("contraction")) > 0:
            which = "code_activation" if cfg["code_activation"] is not None else "activation"
            check_contractive_activation(code, f"{which} (the code's, with {name('contraction')} > 0)")
        if cfg["k_sparse"] is not None:
            check_k_fits(cfg["k_sparse"], sizes[-1], name("k_sparse"))
        a = cfg["k_sparse_alpha"]
        if isinstance(a, bool) or not isinstance(a, numbers.Real) or not np.isfinite(a) or a <= 0:
            raise ValueError(f"{name('k_sparse_alpha')} must be a finite number > 0 (inference keeps "
                             f"round(alpha * k) units); got {a!r}")
        if cfg["lifetime_sparsity"] is not None:
            check_lifetime_sparsity(cfg["lifetime_sparsity"], name("lifetime_sparsity"))
        make_corruption(cfg["noise"] or "masking", cfg["noise_level"])  # kind and level, even when off
        super()._validate_params()

    # ------------------------------------------------------------ structure
    def _code_layers(self, dense, code_activation):
        """The regularisers after the code activation, in the documented order."""
        cfg = self._settings()
        out = []
        if cfg["contraction"] > 0:
            out.append(Contractive(cfg["contraction"], dense, code_activation))
        if cfg["sparsity_weight"] > 0:
            out.append(KLSparsity(cfg["sparsity_target"], cfg["sparsity_weight"]))
        if cfg["l1_activity"] > 0:
            out.append(L1Activity(cfg["l1_activity"]))
        if cfg["k_sparse"] is not None:
            out.append(KSparse(cfg["k_sparse"], cfg["k_sparse_alpha"], n_units=dense.n_out))
        if cfg["lifetime_sparsity"] is not None:
            out.append(LifetimeWTA(cfg["lifetime_sparsity"]))
        return out

    def _make_network(self, n_features):
        cfg = self._settings()
        return build_autoencoder_layers(
            n_features, cfg["hidden_layer_sizes"], activation=cfg["activation"],
            code_activation=cfg["code_activation"], output_activation=cfg["output_activation"], loss=cfg["loss"],
            tied=cfg["tied"], init=cfg["init"], noise=cfg["noise"], noise_level=cfg["noise_level"],
            code_layers=self._code_layers)

    def _needs_unit_inputs(self):
        return self._settings()["loss"] == "cross_entropy"

    @property
    def code_layers_(self):
        """The regulariser layers after the code activation, in order (empty when none is on)."""
        enc = self.encoder_layers
        last_dense = max(i for i, l in enumerate(enc) if isinstance(l, Dense))
        return list(enc[last_dense + 2:])

    # ---------------------------------------------------------- measurements
    def jacobian_norm(self, X, method="auto", eps=None):
        r"""Mean Frobenius norm :math:`\frac1N\sum_n \lVert J_f(x_n)\rVert_F` of the encoder's Jacobian.

        :math:`J_f(x) = \partial\,\mathrm{transform}(x)/\partial x`, shape ``(H, D)`` per example,
        for the code as used at inference (k-sparse keeps ``round(alpha k)`` units; noise and
        lifetime WTA are off).

        ``method="closed_form"``: :func:`~numpy_ae.nn.penalties.contractive_penalty`, exact,
        for one encoder layer with a sigmoid or tanh code and no k-sparse selection.
        ``method="finite_differences"``: centred differences of the encoder, one input
        coordinate at a time (2 D passes of the layers after the first Dense, whose output
        moves by :math:`\pm\epsilon W_{i,:}`); step ``eps`` (default 1e-5 in float64, 1e-2 in
        float32), truncation error :math:`O(\epsilon^2)`, none for piecewise-linear codes
        (ReLU, k-sparse) away from their kinks. ``"auto"``: the closed form where it applies.
        """
        net = self._network()
        X = self._check_X(X)
        enc = self.encoder_layers
        dense = [l for l in enc if isinstance(l, Dense)]
        code = self._settings()["code_activation"] or self._settings()["activation"]
        closed = (len(dense) == 1 and code in ("sigmoid", "tanh")
                  and not any(isinstance(l, KSparse) for l in enc))
        if method == "auto":
            method = "closed_form" if closed else "finite_differences"
        if method == "closed_form":
            if not closed:
                raise ValueError("method='closed_form' needs one encoder layer with a sigmoid or tanh code and no "
                                 "k-sparse selection; use method='finite_differences'")
            H = net.forward(X, training=False, layers=enc[:enc.index(dense[0]) + 2])
            return float(np.mean(np.sqrt(contractive_penalty(H, dense[0].W, code))))
        if method != "finite_differences":
            raise ValueError(f"method must be 'auto', 'closed_form' or 'finite_differences'; got {method!r}")
        if eps is None:
            eps = 1e-5 if X.dtype == np.float64 else 1e-2
        first = enc.index(dense[0])
        rest = enc[first + 1:]
        Z = net.forward(X, training=False, layers=enc[:first + 1])
        total = np.zeros(X.shape[0])
        for i in range(X.shape[1]):
            step = eps * dense[0].W[i]
            up = net.forward(Z + step, training=False, layers=rest)
            down = net.forward(Z - step, training=False, layers=rest)
            total += np.square((up - down).astype(np.float64) / (2 * eps)).sum(axis=1)
        return float(np.mean(np.sqrt(total)))

    def active_fraction(self, X, threshold=0.0):
        """Fraction of code entries of ``transform(X)`` whose absolute value exceeds ``threshold``."""
        return float(np.mean(np.abs(self.transform(X)) > threshold))


_SETTINGS = ("hidden_layer_sizes", "activation", "code_activation", "output_activation", "loss", "tied",
             "weight_decay", "init", "sparsity_target", "sparsity_weight", "l1_activity", "contraction",
             "k_sparse", "k_sparse_alpha", "lifetime_sparsity", "noise", "noise_level")


_OFF = {"sparsity_weight": 0.0, "l1_activity": 0.0, "contraction": 0.0, "k_sparse": None,
        "lifetime_sparsity": None, "noise": None}


class ContractiveAutoencoder(RegularizedAutoencoder):
    r"""The contractive autoencoder of Rifai et al. (2011): a preset of :class:`RegularizedAutoencoder`.

    .. math:: J = L(\hat X, X) + \frac{\lambda}{N}\sum_n \lVert J_f(x_n)\rVert_F^2 ,\qquad
              \lVert J_f(x)\rVert_F^2 = \sum_j (h_j(1-h_j))^2 \sum_i W_{ij}^2

    for the sigmoid code (:class:`~numpy_ae.nn.penalties.Contractive`). Defaults as in the
    paper: sigmoid code, tied weights, cross-entropy (inputs in [0, 1]); ``contraction``
    :math:`\lambda = 0.1`. Only the code layer's Jacobian is penalised in a deeper encoder.
    Other regularisers are off here; :class:`RegularizedAutoencoder` combines them.

    Parameters
    ----------
    hidden_layer_sizes, activation, output_activation, loss, tied, weight_decay, init :
        As :class:`RegularizedAutoencoder`'s; ``activation`` is also the code's (sigmoid or tanh).
    contraction : float >= 0
        :math:`\lambda`.
    method, max_iter, gtol, epochs, batch_size, learning_rate, momentum, nesterov, patience, verbose, warm_start, dtype, random_state :
        Training (:mod:`numpy_ae.models.autoencoders`).
    """

    _PRESET = dict(_OFF, code_activation=None, sparsity_target=0.05, k_sparse_alpha=1.0, noise_level=0.3)

    def __init__(self, hidden_layer_sizes=(100,), *, contraction=0.1, activation="sigmoid", output_activation=None,
                 loss="cross_entropy", tied=True, weight_decay=0.0, init=None, method="adam", max_iter=400,
                 gtol=1e-5, epochs=10, batch_size=128, learning_rate=None, momentum=0.9, nesterov=False,
                 patience=None, verbose=0, warm_start=False, dtype="float64", random_state=None, fast=True):
        _set_params_from_locals(self, locals())
        self._validate_params()


class KSparseAutoencoder(RegularizedAutoencoder):
    r"""The k-sparse autoencoder of Makhzani & Frey (2013): a preset of :class:`RegularizedAutoencoder`.

    :math:`z = \mathrm{supp}_k(x W + b)`, :math:`\hat x = z W^\top + b'`: a linear code of which
    each example keeps its ``k`` largest units in training, ``round(alpha * k)`` at encoding
    (:class:`~numpy_ae.nn.selection.KSparse`), tied weights, squared error. Defaults: 1000 code
    units, ``k = 25`` (the paper's MNIST setting), ``alpha = 1``.

    Parameters
    ----------
    hidden_layer_sizes, activation, code_activation, output_activation, loss, tied, weight_decay, init :
        As :class:`RegularizedAutoencoder`'s (``code_activation="identity"``: linear code).
    k : int
        Units kept per example in training, ``1 <= k <=`` the code size.
    alpha : float > 0
        Inference keeps ``round(alpha * k)`` units.
    method, max_iter, gtol, epochs, batch_size, learning_rate, momentum, nesterov, patience, verbose, warm_start, dtype, random_state :
        Training (:mod:`numpy_ae.models.autoencoders`).
    """

    _PRESET = dict(_OFF, sparsity_target=0.05, noise_level=0.3)
    _NAMES = {"k_sparse": "k", "k_sparse_alpha": "alpha"}

    def __init__(self, hidden_layer_sizes=(1000,), *, k=25, alpha=1.0, activation="sigmoid",
                 code_activation="identity", output_activation=None, loss="mse", tied=True, weight_decay=0.0,
                 init=None, method="adam", max_iter=400, gtol=1e-5, epochs=10, batch_size=128, learning_rate=None,
                 momentum=0.9, nesterov=False, patience=None, verbose=0, warm_start=False, dtype="float64",
                 random_state=None, fast=True):
        _set_params_from_locals(self, locals())
        self._validate_params()


class WTAAutoencoder(RegularizedAutoencoder):
    r"""The fully-connected winner-take-all autoencoder (FC-WTA, Makhzani & Frey 2015): a preset.

    A ReLU code of which each unit keeps, in training, its top ``lifetime_sparsity`` of the
    minibatch's activities (:class:`~numpy_ae.nn.selection.LifetimeWTA`; 5% by default, the
    paper's); at encoding the plain ReLU code. Untied linear decoder, mean squared error.

    Parameters
    ----------
    hidden_layer_sizes, activation, output_activation, loss, tied, weight_decay, init :
        As :class:`RegularizedAutoencoder`'s (``activation`` is also the code's).
    lifetime_sparsity : float in (0, 1]
        Fraction of each minibatch a unit keeps (``ceil(s * batch)`` activities).
    method, max_iter, gtol, epochs, batch_size, learning_rate, momentum, nesterov, patience, verbose, warm_start, dtype, random_state :
        Training (:mod:`numpy_ae.models.autoencoders`).
    """

    _PRESET = dict(_OFF, code_activation=None, sparsity_target=0.05, k_sparse_alpha=1.0, noise_level=0.3)

    def __init__(self, hidden_layer_sizes=(1000,), *, lifetime_sparsity=0.05, activation="relu",
                 output_activation=None, loss="mse", tied=False, weight_decay=0.0, init=None, method="adam",
                 max_iter=400, gtol=1e-5, epochs=10, batch_size=128, learning_rate=None, momentum=0.9, nesterov=False,
                 patience=None, verbose=0, warm_start=False, dtype="float64", random_state=None, fast=True):
        _set_params_from_locals(self, locals())
        self._validate_params()
