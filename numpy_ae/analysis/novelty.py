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
  ``random_state``;
* :func:`complexity_corrected_score`: Serra et al. (2020)'s input-complexity
  correction, :math:`S(x) = \mathrm{NLL}_{\text{bits}}(x) - L(x)`: the VAE's
  code length of the 8-bit image (:func:`binomial_nll_bits`) minus a generic
  compressor's (:func:`compressed_bits`, zlib's deflate), both in bits of the
  same 784 bytes. A likelihood model trained on clothes gives simple images
  (a sandal: mostly black background) a HIGH likelihood whatever their class;
  the compressor, which knows nothing of clothes, gives them a short code too,
  and the difference keeps what the model knows beyond simplicity;
* :func:`likelihood_ratio_score`: Ren et al. (2019)'s likelihood ratio,
  :math:`S(x) = \mathrm{NLL}_\theta(x) - \mathrm{NLL}_{\theta_0}(x)`, against a
  background model :math:`\theta_0` of the same family trained on the same
  images with a share of their pixels replaced by random levels
  (:func:`mutate_pixels`, :class:`MutatedInputs`): the background learns the
  population's low-level statistics (black background, grey levels) from the
  corrupted images, so the ratio is meant to keep only what the clean model
  knows beyond them.

Why the VAE's likelihood is re-read in bits: its Bernoulli decoder is a density
of continuous pixels in nats, not a code length of the 8-bit image, and its
cross-entropy is large even for a perfectly predicted grey pixel (0.69 nats at
:math:`x = p = 0.5`) and 0 for a black one, a complexity bias of its own.
:func:`binomial_nll_bits` reads the same decoder output :math:`p_d(z)` as a
Binomial(255, :math:`p_d`) distribution over the 256 levels :math:`k_d` of each
pixel (255 Bernoulli trials: the Bernoulli decoder's discrete twin, whose
maximum-likelihood :math:`p_d` is the one the cross-entropy training finds), so
it costs no retraining and both lengths are bits of the same image.

:func:`held_out_split` builds the training set without class :math:`c` (and
returns the labels it kept, so a test can check that class :math:`c` is not
among them); :func:`held_out_class_auroc` runs the whole protocol for a list of
classes with any two model factories. ``python -m numpy_ae anomaly-images``
(:mod:`numpy_ae.experiments.anomaly_images`) runs it on Fashion-MNIST.
"""
from __future__ import annotations
import math
import numbers
import zlib
import numpy as np
from .._validation import check_array, check_positive_int, check_probability, check_random_state
from .metrics import roc_auc

__all__ = ['held_out_split', 'reconstruction_error', 'neg_elbo_score', 'quantize_8bit', 'compressed_bits',
           'binomial_nll_bits', 'complexity_corrected_score', 'mutate_pixels', 'MutatedInputs',
           'likelihood_ratio_score', 'held_out_class_auroc', 'REDUCTIONS']



REDUCTIONS = ("sum", "mean")
#: ``log C(255, k)`` in nats for the 256 levels ``k`` of an 8-bit pixel (:func:`binomial_nll_bits`).
LOG_BINOM_255 = np.array([math.lgamma(256) - math.lgamma(k + 1) - math.lgamma(256 - k) for k in range(256)])


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
    its mean over the D pixels (``"mean"``); ``model.reconstruct`` gives :math:`\hat x` (no noise), or
    ``model.inverse_transform(model.transform(X))`` for a model without it (:class:`~numpy_ae.models.pca.PCA`).

    Returns an array of shape (N,), float64.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {list(REDUCTIONS)}; got {reduction!r}")
    X = check_array(X, "X")
    X_hat = model.reconstruct(X) if hasattr(model, "reconstruct") else model.inverse_transform(model.transform(X))
    err = np.square(np.asarray(X_hat, dtype=np.float64) - X).sum(axis=1)
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


def quantize_8bit(X):
    """Images in [0, 1], rows ``(N, D)`` -> their 8-bit levels ``round(255 x)``, uint8 ``(N, D)``."""
    X = check_array(X, "X", unit_interval=True, unit_interval_hint="Pixels must lie in [0, 1] (X / 255).")
    return np.rint(X * 255.0).astype(np.uint8)


def compressed_bits(X, level=9):
    r"""The code length :math:`L(x)` of each 8-bit image: ``8 * len(zlib.compress(bytes, level))``, in bits.

    zlib (the standard library's deflate, PNG's compressor without PNG's row filters and chunk headers)
    compresses the row's :func:`quantize_8bit` bytes; its fixed 6-byte frame adds the same 48 bits to every
    image. Returns an array (N,) of float64.
    """
    if isinstance(level, bool) or not isinstance(level, numbers.Integral) or not 0 <= level <= 9:
        raise ValueError(f"level must be an integer zlib level 0..9; got {level!r}")
    Q = quantize_8bit(X)
    return np.array([8.0 * len(zlib.compress(row.tobytes(), int(level))) for row in Q])


def binomial_nll_bits(vae, X, random_state=0):
    r"""An upper bound on :math:`-\log_2 P(x)` of each 8-bit image under a VAE whose decoder is read as
    Binomial(255, :math:`p_d(z)`) on the level :math:`k_d = \mathrm{round}(255 x_d)` of each pixel, in bits.

    With :math:`x_d = k_d / 255`, :math:`-\log \mathrm{Bin}(k_d; 255, p_d) = 255\,\mathrm{BCE}(x_d, p_d) -
    \log\binom{255}{k_d}`, so the one-sample bound is

    .. math:: \frac{1}{\ln 2}\Bigl[255\,\text{recon}(x) - \sum_d \log\binom{255}{k_d} + \text{kl}(x)\Bigr],

    ``recon`` and ``kl`` being :meth:`~numpy_ae.models.variational.VariationalAutoencoder.elbo`'s parts on the
    quantised image with the seeded :math:`\varepsilon` (any :math:`q` gives a bound, so the one trained
    for the Bernoulli objective does). A Bernoulli-decoder VAE only. Returns an array (N,) of float64.
    """
    if getattr(vae, "likelihood", None) != "bernoulli":
        raise ValueError(f"vae must have a Bernoulli decoder (likelihood='bernoulli'); got "
                         f"{getattr(vae, 'likelihood', None)!r}")
    K = quantize_8bit(X)
    parts = vae.elbo(K / 255.0, random_state=random_state)
    log_binom = LOG_BINOM_255[K].sum(axis=1)
    return (255.0 * np.asarray(parts.recon, np.float64) - log_binom + np.asarray(parts.kl, np.float64)) / math.log(2)


def complexity_corrected_score(nll_bits, X, level=9):
    r"""Serra et al. (2020)'s score :math:`S(x) = \mathrm{NLL}_{\text{bits}}(x) - L(x)` (higher = more anomalous).

    ``nll_bits (N,)``: a model's code length of the 8-bit images in bits (:func:`binomial_nll_bits`);
    :math:`L(x)` is :func:`compressed_bits` of the rows of ``X (N, D)``. Returns an array (N,) of float64.
    """
    nll_bits = np.asarray(nll_bits, dtype=np.float64)
    L = compressed_bits(X, level)
    if nll_bits.shape != L.shape:
        raise ValueError(f"nll_bits must have one value per row of X: shape {L.shape}; got {nll_bits.shape}")
    return nll_bits - L


def mutate_pixels(X, rate, random_state=0):
    r"""Ren et al. (2019)'s input perturbation: each pixel of ``X (N, D)`` (in [0, 1]) independently, with
    probability ``rate``, replaced by a level :math:`k/255` with :math:`k` uniform on 0..255.

    Returns a new float array of ``X``'s shape and dtype (``X`` is not changed); the same ``random_state``
    gives the same mutation. ``rate`` must lie in [0, 1] (Ren et al. use 0.1 to 0.3).
    """
    check_probability(rate, "rate", "the share of pixels replaced")
    checked = check_array(X, "X", unit_interval=True, unit_interval_hint="Pixels must lie in [0, 1] (X / 255).")
    rng = check_random_state(random_state)
    given = np.asarray(X)
    out = np.array(given if given.dtype.kind == "f" else checked, copy=True)  # a float32 model stays float32
    hit = rng.random(out.shape) < rate
    out[hit] = rng.integers(0, 256, int(hit.sum())) / 255.0
    return out


class MutatedInputs:
    r"""A background model for :func:`likelihood_ratio_score`: ``fit(X)`` fits ``estimator`` on
    :func:`mutate_pixels` ``(X, rate, random_state)`` instead of ``X``; every other attribute
    (``elbo``, ``likelihood``, ``fit_seconds_``, ...) is the fitted estimator's.

    A model factory's product for :func:`held_out_class_auroc`, not a scikit-learn estimator (no
    ``get_params``). It keeps no state of its own: a refused or failed ``fit`` leaves ``estimator`` as
    the estimator's own transaction leaves it (numpy_ae's estimators: as it was). ``__init__`` only
    stores its arguments; ``fit`` checks ``rate`` before any training.

    Parameters
    ----------
    estimator : an unfitted estimator with ``fit(X)``
        The background model (Ren et al.: the same architecture as the model it is compared with).
    rate : float in [0, 1]
        The share of pixels mutated (default 0.2, the middle of Ren et al.'s 0.1-0.3).
    random_state : int or Generator
        Seeds the mutation.
    """

    def __init__(self, estimator, rate=0.2, random_state=0):
        self.estimator, self.rate, self.random_state = estimator, rate, random_state

    def fit(self, X, y=None):
        self.estimator.fit(mutate_pixels(X, self.rate, self.random_state))
        return self

    def __getattr__(self, name):  # only reached for names this wrapper does not have
        if name == "estimator":
            raise AttributeError(name)
        return getattr(self.estimator, name)


def likelihood_ratio_score(nll_bits, background_nll_bits):
    r"""Ren et al. (2019)'s score, minus the log likelihood ratio: :math:`S(x) = \mathrm{NLL}_\theta(x) -
    \mathrm{NLL}_{\theta_0}(x)` (higher = more anomalous), both in bits of the same 8-bit image
    (:func:`binomial_nll_bits` of the model and of its :class:`MutatedInputs` background).

    Returns an array (N,) of float64.
    """
    a, b = np.asarray(nll_bits, dtype=np.float64), np.asarray(background_nll_bits, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"nll_bits and background_nll_bits must be two arrays (N,) of the same N; got shapes "
                         f"{a.shape} and {b.shape}")
    return a - b


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
        function (higher = more anomalous; an array (M,), or a dict
        ``{score name: array (M,)}`` for several scores of one fitted model,
        each an entry of the result under its own name), e.g.
        ``{"ae": (lambda: StackedAutoencoder(...), reconstruction_error),
        "vae": (lambda: VariationalAutoencoder(...), neg_elbo_score)}``.
    n_train : int or None
        Train on the first ``n_train`` images of the other classes (None: all of them).
    callback : callable or None
        ``callback(label, name, model, scores, positive)`` after each score (``name``: the score's).

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
            scores = score(model, X_test)
            for key, s in (scores.items() if isinstance(scores, dict) else [(name, scores)]):
                s = np.asarray(s, dtype=np.float64)
                out[label][key] = {"auroc": _roc_auc(s, positive), "scores": s, "n_train": int(X_normal.shape[0])}
                if callback is not None:
                    callback(label, key, model, s, positive)
    return out
