r"""The estimator base class: scikit-learn's conventions without importing scikit-learn.

Every public estimator (the autoencoders, :class:`~numpy_ae.models.softmax.SoftmaxRegression`,
:class:`~numpy_ae.models.classifier.EncoderClassifier`, :class:`~numpy_ae.models.pca.PCA`,
:class:`~numpy_ae.models.pca.ZCAWhitening`) derives from :class:`BaseEstimator`:

* every hyperparameter, the training ones included (``max_iter``, ``method``,
  ``epochs``, ``batch_size``, ``learning_rate``...), is an ``__init__``
  argument, stored unchanged under its own name (so ``sklearn.base.clone``
  can rebuild the estimator from ``get_params()``);
* ``__init__`` and ``set_params`` check the values at once (a typo fails
  where it is made, with a ``ValueError`` naming the argument, the rule and
  the value), and ``fit`` checks them again (``set_params`` may have been
  bypassed by plain attribute assignment);
* ``fit(X, y=None)`` returns ``self``; what it learns ends in ``_``;
* ``get_params(deep=True)``, ``set_params(**params)`` (nested ``a__b``
  names too), a ``repr`` listing the non-default parameters, and
  ``__sklearn_tags__``, built only when scikit-learn asks for it.

So the estimators work in ``Pipeline``, ``clone`` and ``GridSearchCV`` when
scikit-learn is installed, and the package never needs it.

Persistence (:mod:`numpy_ae.models.persistence`): :meth:`BaseEstimator.save` writes
hyperparameters and the fitted attributes the class declares (``_saved_attributes``) to one
``.npz`` file, atomically; :func:`load` reads it back exactly (bit for bit) or refuses it with a
ValueError. A network's parameters are saved as its one flat ``theta``; the network itself is
rebuilt from the hyperparameters.
"""
from __future__ import annotations
import inspect
from ..exceptions import not_fitted_error
from .finite import OUTPUT_METHODS, finite_outputs
from .transaction import TRANSACTIONAL_METHODS, transactional
from . import persistence
from .persistence import ESTIMATORS, load

__all__ = ['BaseEstimator', 'load', 'ESTIMATORS']



class BaseEstimator:
    """Base class of every numpy_ae estimator (see the module docstring).

    Subclasses implement ``_validate_params()`` (raise ValueError for a bad
    hyperparameter) and, when they hold a network, ``_rebuild(state)`` (make
    the network for a loaded estimator). ``_estimator_type`` is
    ``"transformer"`` or ``"classifier"``.
    """

    _estimator_type = "transformer"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        ESTIMATORS[cls.__name__] = cls
        # defined here or brought by a mixin that is not an estimator: each wrapper skips what is wrapped
        for name in dict.fromkeys(OUTPUT_METHODS + TRANSACTIONAL_METHODS):
            method = getattr(cls, name, None)
            if not callable(method) or isinstance(method, type):
                continue
            wrapped = method
            if name in OUTPUT_METHODS:  # no silent inf/NaN from finite input (numpy_ae.models.finite)
                wrapped = finite_outputs(wrapped)
            if name in TRANSACTIONAL_METHODS:  # every fit is a transaction (numpy_ae.models.transaction)
                wrapped = transactional(wrapped)
            if wrapped is not method:
                setattr(cls, name, wrapped)

    # ------------------------------------------------------------ parameters
    @classmethod
    def _get_param_names(cls):
        sig = inspect.signature(cls.__init__)
        names = []
        for p in sig.parameters.values():
            if p.name == "self":
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ must list its hyperparameters explicitly "
                                "(no *args or **kwargs), as scikit-learn's clone needs")
            names.append(p.name)
        return sorted(names)

    def get_params(self, deep=True):
        """Hyperparameters as given to ``__init__`` (``deep``: also those of nested estimators, as ``a__b``)."""
        out = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{name}__{k}", v) for k, v in value.get_params(deep=True).items())
            out[name] = value
        return out

    def set_params(self, **params):
        """Set hyperparameters (``name=value``, or ``nested__name=value``); check them; return self."""
        if not params:
            return self
        valid = self._get_param_names()
        nested, own = {}, {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for estimator {type(self).__name__}; "
                                 f"valid parameters are {valid}")
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                own[name] = value
        before = {name: getattr(self, name) for name in own}
        vars(self).update(own)
        try:
            self._validate_params()
        except ValueError:
            vars(self).update(before)  # a refused value leaves the estimator as it was
            raise
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def _validate_params(self):
        """Raise ValueError for a bad hyperparameter (subclasses override)."""

    def _needs_unit_inputs(self):
        """True when ``fit`` requires inputs in [0, 1] (a sigmoid or cross-entropy reconstruction)."""
        return False

    def __repr__(self):
        defaults = {name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()}
        shown = []
        for name in self._get_param_names():
            value = getattr(self, name, None)
            default = defaults.get(name, inspect.Parameter.empty)
            try:
                same = value is default or bool(value == default)
            except (ValueError, TypeError):
                same = False
            if not same:
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    # ------------------------------------------------------------ fitted state
    def __sklearn_is_fitted__(self):
        return self._is_fitted()

    def _is_fitted(self):
        return any(k.endswith("_") and not k.startswith("_") for k in vars(self))

    def _check_is_fitted(self):
        if not self._is_fitted():
            raise not_fitted_error(f"this {type(self).__name__} is not fitted yet: call fit(X) first")

    def __sklearn_tags__(self):
        """Tags for scikit-learn's checks and meta-estimators (imported only when scikit-learn asks)."""
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags, TransformerTags

        classifier = self._estimator_type == "classifier"
        return Tags(
            estimator_type=self._estimator_type,
            target_tags=TargetTags(required=classifier),
            transformer_tags=None if classifier else TransformerTags(),
            classifier_tags=ClassifierTags(multi_class=True) if classifier else None,
            input_tags=InputTags(two_d_array=True, allow_nan=False, positive_only=self._needs_unit_inputs()),
            non_deterministic=False,
        )

    # ------------------------------------------------------------- persistence
    def _state(self):
        """Everything ``fit`` learned, as ``{name: value}`` (subclasses add to it)."""
        skip = {"network_", "rng_"} | set(getattr(self, "_unsaved", ()))
        return {k: v for k, v in vars(self).items()
                if k.endswith("_") and not k.startswith("__") and k not in skip}

    def _rebuild(self, state):
        """Recreate what :meth:`_state` left out (e.g. the network) for a loaded estimator."""

    def save(self, path):
        """Write hyperparameters and fitted state to a NumPy ``.npz`` file (no pickle), atomically; return
        the path written, a str (``.npz`` appended unless there). See :func:`numpy_ae.models.persistence.save`."""
        return persistence.save(self, path)

    @classmethod
    def load(cls, path):
        """Read an estimator written by :meth:`save` (``allow_pickle=False``); it must be a ``cls``."""
        return load(path, expected=cls)
