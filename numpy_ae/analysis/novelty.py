r"""Novelty (anomaly) detection on images with autoencoders: the held-out-class protocol.

The protocol. A labelled image data set with classes :math:`1..C`; for a class
:math:`c` (the "novel" one) a model is trained on the training images of every
OTHER class only, and then scores every test image. A good novelty score is
high for the test images of class :math:`c` (never seen in training: the
positives) and low for the others (the negatives). The ranking is summarised by
the area under the ROC curve (AUROC): the probability that a random positive
scores higher than a random negative (ties count one half); 0.5 is chance,
1 a perfect ranking, below 0.5 means the novel class looks MORE normal than
the normal ones.

Two scores (one value per image, higher = more anomalous):

* :func:`reconstruction_error`: the squared reconstruction error of a plain
  autoencoder, summed over the D pixels (``reduction="sum"``,
  :math:`s(x) = \sum_d (\hat x_d - x_d)^2`) or averaged (``"mean"``: the same
  divided by D, which ranks the images identically);
* :func:`neg_elbo_score`: a VAE's negative evidence lower bound (in nats,
  summed over pixels and latent units), the "encoder-based" score: one sample
  of :math:`\varepsilon` per image from a seeded Generator (``k=1``), or minus
  Burda et al.'s importance-weighted bound :math:`-\mathcal L_k` with ``k``
  samples (tighter, ``k`` times the cost). Both are deterministic for a fixed
  ``random_state``.

:func:`held_out_split` builds the training set without class :math:`c` (and
returns the labels it kept, so a test can check that class :math:`c` is not
among them); :func:`held_out_class_auroc` runs the whole protocol for a list of
classes with any two model factories. ``python -m numpy_ae anomaly-images``
(:mod:`numpy_ae.experiments.anomaly_images`) runs it on Fashion-MNIST.
"""
from __future__ import annotations
import numbers
import numpy as np
from .._validation import check_array, check_positive_int, check_random_state
from .metrics import roc_auc

__all__ = ['held_out_split', 'reconstruction_error', 'neg_elbo_score', 'held_out_class_auroc', 'REDUCTIONS']



REDUCTIONS = ("sum", "mean")


def _roc_auc(scores, positive):
    r"""Area under the ROC curve of ``scores (N,)`` against ``positive (N,)`` (bool or 0/1): the rank-based
    (Mann-Whitney) :func:`numpy_ae.analysis.metrics.roc_auc`, ties counting 1/2,

    .. math::
        \mathrm{AUC} = \frac{R_+ - n_+(n_+ + 1)/2}{n_+\, n_-},

    with :math:`R_+` the sum of the positives' ranks (tied scores share the mean rank): the fraction of
    (positive, negative) pairs in which the positive scores higher. Higher score = more likely positive
    (here: the images of the held-out class).
    """
    return roc_auc(positive, scores)


def held_out_split(X_train, y_train, X_test, y_test, held_out):
    r"""The held-out-class protocol's data for the novel class ``held_out``.

    Parameters
    ----------
    X_train : array (N, D), y_train : array (N,)
    X_test : array (M, D), y_test : array (M,)
    held_out : a label present in ``y_train`` and ``y_test``

    Returns
    -------
    X_normal : array (N', D)
        The training images of every other class (the model never sees ``held_out``).
    y_normal : array (N',)
        Their labels (none equals ``held_out``).
    positive : array (M,) of bool
        ``y_test == held_out``: the anomalies among the test images (all of them are scored).
    """
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if len(X_train) != y_train.shape[0] or len(X_test) != y_test.shape[0]:
        raise ValueError(f"X and y must have the same number of rows; got {len(X_train)} and {y_train.shape[0]} "
                         f"(train), {len(X_test)} and {y_test.shape[0]} (test)")
    if not np.any(y_test == held_out):
        raise ValueError(f"held_out must be a class of the test set (it is the positive class); got {held_out!r}, "
                         f"test labels {np.unique(y_test).tolist()}")
    keep = y_train != held_out
    if not keep.any():
        raise ValueError(f"held_out={held_out!r} leaves no training images of another class")
    return np.asarray(X_train)[keep], y_train[keep], y_test == held_out


def reconstruction_error(model, X, reduction="sum"):
    r"""Squared reconstruction error of each image: :math:`\sum_d (\hat x_d - x_d)^2` (``"sum"``) or
    its mean over the D pixels (``"mean"``); ``model.reconstruct`` gives :math:`\hat x` (no noise).

    Returns an array of shape (N,), float64.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {list(REDUCTIONS)}; got {reduction!r}")
    X = check_array(X, "X")
    err = np.square(np.asarray(model.reconstruct(X), dtype=np.float64) - X).sum(axis=1)
    return err / X.shape[1] if reduction == "mean" else err


def neg_elbo_score(vae, X, k=1, random_state=0):
    r"""A VAE's novelty score: the negative ELBO of each image (``k=1``, one seeded sample of
    :math:`\varepsilon`), or :math:`-\mathcal L_k` (Burda et al.'s importance-weighted bound, ``k`` samples).

    In nats per image, summed over pixels and latent units; the same ``random_state``
    gives the same numbers. Returns an array of shape (N,), float64.
    """
    k = check_positive_int(k, "k")
    check_random_state(random_state)
    if k == 1:
        return np.asarray(vae.elbo(X, random_state=random_state).neg_elbo, dtype=np.float64)
    return -np.asarray(vae.importance_weighted_bound(X, k=k, random_state=random_state), dtype=np.float64)


def held_out_class_auroc(X_train, y_train, X_test, y_test, classes, models, n_train=None, callback=None):
    r"""Run the held-out-class protocol for each class of ``classes``.

    Parameters
    ----------
    X_train, y_train, X_test, y_test : arrays
        Rows are images: ``(N, D)``, ``(N,)``, ``(M, D)``, ``(M,)``.
    classes : sequence of labels
        The classes to hold out, one run each.
    models : dict name -> (make(), score(model, X))
        For each model: a factory of an unfitted estimator, and its score
        function (higher = more anomalous), e.g.
        ``{"ae": (lambda: StackedAutoencoder(...), reconstruction_error),
        "vae": (lambda: VariationalAutoencoder(...), neg_elbo_score)}``.
    n_train : int or None
        Train on the first ``n_train`` images of the other classes (None: all of them).
    callback : callable or None
        ``callback(label, name, model, scores, positive)`` after each model is scored.

    Returns
    -------
    dict label -> dict name -> {"auroc": float, "scores": array (M,), "n_train": int}
    """
    if n_train is not None:
        n_train = check_positive_int(n_train, "n_train")
    if isinstance(classes, (numbers.Integral, str)):
        classes = [classes]
    out = {}
    for label in classes:
        X_normal, _, positive = held_out_split(X_train, y_train, X_test, y_test, label)
        if n_train is not None:
            X_normal = X_normal[:n_train]
        out[label] = {}
        for name, (make, score) in models.items():
            model = make().fit(X_normal)
            s = np.asarray(score(model, X_test), dtype=np.float64)
            out[label][name] = {"auroc": _roc_auc(s, positive), "scores": s, "n_train": int(X_normal.shape[0])}
            if callback is not None:
                callback(label, name, model, s, positive)
    return out
