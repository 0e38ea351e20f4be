r"""What the estimators that train a network share: the training hyperparameters' checks, the
optimiser loop (L-BFGS over the whole data set, or minibatches with SGD/Adam) and the scikit-learn
``__init__`` convention (:func:`_set_params_from_locals`).
"""
from __future__ import annotations

import numbers

import numpy as np

from .._validation import check_fast, check_in_open_interval, check_positive_int, check_random_state
from ..train.lbfgs import lbfgs
from ..train.loop import train_minibatch
from ..train.parallel import whole_batch_objective
from ..train.fast_optimizers import make_optimizer

__all__ = ["METHODS", "TrainingMixin", "check_training_params"]


METHODS = ("lbfgs", "adam", "sgd")


def check_training_params(est):
    """Check the training hyperparameters shared by the estimators (ValueError naming the bad one).

    The L-BFGS settings (``max_iter``, ``gtol``) are checked when the estimator has them as
    hyperparameters (a minibatch-only model such as the VAE does not).
    """
    if est.method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}; got {est.method!r}")
    check_fast(est.fast)
    if "max_iter" in est._get_param_names():
        check_positive_int(est.max_iter, "max_iter")
    if "gtol" in est._get_param_names() and (
            isinstance(est.gtol, bool) or not isinstance(est.gtol, numbers.Real) or not est.gtol > 0
            or not np.isfinite(est.gtol)):
        raise ValueError(f"gtol must be a finite number > 0; got {est.gtol!r}")
    check_positive_int(est.epochs, "epochs")
    check_positive_int(est.batch_size, "batch_size")
    if est.learning_rate is not None and (isinstance(est.learning_rate, bool)
                                          or not isinstance(est.learning_rate, numbers.Real)
                                          or not np.isfinite(est.learning_rate) or est.learning_rate <= 0):
        raise ValueError(f"learning_rate must be None (the method's default) or a finite number > 0; "
                         f"got {est.learning_rate!r}")
    if est.momentum != 0:
        check_in_open_interval(est.momentum, "momentum")
    if not isinstance(est.nesterov, (bool, np.bool_)):
        raise ValueError(f"nesterov must be True or False; got {est.nesterov!r}")
    if est.patience is not None:
        check_positive_int(est.patience, "patience")
    if isinstance(est.verbose, bool):
        pass
    elif not isinstance(est.verbose, numbers.Integral) or est.verbose < 0:
        raise ValueError(f"verbose must be an integer >= 0 (or a bool); got {est.verbose!r}")
    if not isinstance(est.warm_start, (bool, np.bool_)):
        raise ValueError(f"warm_start must be True or False; got {est.warm_start!r}")
    check_random_state(est.random_state)


def _set_params_from_locals(obj, local_vars):
    """Store each ``__init__`` argument unchanged under its own name (scikit-learn's clone needs that)."""
    for name in type(obj)._get_param_names():
        setattr(obj, name, local_vars[name])


class TrainingMixin:
    """The optimiser loop shared by the autoencoders and the fine-tuned classifier.

    Reads the training hyperparameters (``method``, ``max_iter``, ``gtol``,
    ``epochs``, ``batch_size``, ``learning_rate``, ``momentum``, ``nesterov``,
    ``patience``, ``verbose``) and ``rng_``; sets ``cost_``, ``converged_``,
    ``message_`` and the history attributes.
    """

    # what a model file holds of a fit (numpy_ae.models.fields); fit_seconds_ is timed by each fit around the loop
    _saved_attributes = {"cost_": float, "converged_": bool, "message_": str, "n_iter_": int, "fit_seconds_": float,
                         "cost_history_": list, "n_fev_": int, "history_": dict, "n_epochs_": int}

    def _train(self, net, X, T, validation_data=None, callback=None, side=None):
        """Run the chosen optimiser on ``net`` (all of it, or a phase view); set the fit attributes.

        ``side``: a side input per example for the minibatch loop (see :func:`~numpy_ae.train.loop.train_minibatch`).
        """
        if self.method == "lbfgs":
            if side is not None:
                net.set_condition(side)  # the whole data set is every evaluation's batch
            with whole_batch_objective(net, X, T) as fun:  # split by rows across threads when it pays
                res = lbfgs(fun, net.theta, max_iter=self.max_iter, callback=callback, verbose=int(self.verbose),
                            gtol=self.gtol)
            net.set_theta(res.x)
            self.cost_ = float(res.fun)
            self.cost_history_ = list(res.history)
            self.n_iter_ = int(res.nit)
            self.n_fev_ = int(res.nfev)
            self.converged_ = bool(getattr(res, "converged", res.success))
            self.message_ = str(res.message)
            return
        if validation_data is not None:
            validation_data = self._check_X(validation_data) if not isinstance(validation_data, tuple) \
                else validation_data
        optimizer = make_optimizer(self.method, self.learning_rate, momentum=self.momentum, nesterov=self.nesterov,
                                   fast=self.fast)
        self.history_ = train_minibatch(net, X, T, optimizer=optimizer, epochs=self.epochs,
                                        batch_size=min(self.batch_size, X.shape[0]), rng=self.rng_,
                                        validation_data=validation_data, patience=self.patience,
                                        verbose=bool(self.verbose), callback=callback, side=side)
        self.n_epochs_ = self.n_iter_ = len(self.history_["loss"])  # n_iter_: epochs, as scikit-learn's MLP
        best = self.history_["best_epoch"]
        stopped = self.patience is not None and self.n_epochs_ < self.epochs
        # cost_ belongs to the parameters the model holds: after early stopping, those of the best epoch
        self.cost_ = float(self.history_["loss"][(best if stopped else self.n_epochs_) - 1])
        self.converged_ = bool(stopped)
        self.message_ = (f"early stopping after epoch {self.n_epochs_}: no improvement for {self.patience} epochs; "
                         f"restored the parameters of epoch {best}" if stopped
                         else f"ran all {self.n_epochs_} epochs")
