r"""Sampling from a denoising autoencoder: the generative Markov chain and walkback training.

Bengio, Yao, Alain and Vincent, "Generalized Denoising Auto-Encoders as
Generative Models" (NIPS 2013), and Bengio et al., "Deep Generative
Stochastic Networks Trainable by Backprop" (ICML 2014). A denoising
autoencoder trained to reconstruct :math:`x` from a corrupted
:math:`\tilde x \sim C(\tilde X \mid x)` estimates the conditional
:math:`P_\theta(X \mid \tilde X)`. Alternating the two,

.. math::
    \tilde x_t \sim C(\tilde X \mid x_t), \qquad x_{t+1} \sim P_\theta(X \mid \tilde x_t),

is a Markov chain whose stationary distribution estimates the data
distribution (their main consistency result). :func:`gsn_chain` runs it.

The reconstruction distribution. With a sigmoid output trained by the
cross-entropy (``loss="cross_entropy"``), the network's output
:math:`p = \hat x(\tilde x) \in (0, 1)^D` is read as the means of
independent Bernoulli pixels, :math:`P_\theta(X \mid \tilde x) = \prod_d
p_d^{x_d}(1 - p_d)^{1 - x_d}`, and the chain SAMPLES :math:`x_{t+1, d} \sim
\mathrm{Bernoulli}(p_d)`: its states are binary images. (Taking :math:`p`
itself as the next state would be a deterministic iteration of the
reconstruction, not the chain of the theorem.) The cross-entropy is exactly
:math:`-\log P_\theta(x \mid \tilde x)` only for binary :math:`x`, and the chain
feeds binary states back into the network, so the model should be trained on
binarised images (``python -m numpy_ae gsn`` thresholds the pixels at 0.5):
trained on grey levels it would, after the first step, see inputs unlike any
of its training inputs.

Walkback (Bengio et al. 2013, the walkback algorithm; GSN 2014). Plain
denoising training only shows the network corruptions of training points, so
the chain can wander into "spurious modes" far from the data that training
never pushed back. Walkback runs the chain ``k`` steps from each training
example :math:`x` with the CURRENT model,

.. math::
    x^*_1 = x,\qquad \tilde x_j \sim C(\tilde X \mid x^*_j),\qquad
    x^*_{j+1} \sim P_\theta(X \mid \tilde x_j) \quad (j = 1..k),

and trains the network to reconstruct the ORIGINAL :math:`x` from every
:math:`\tilde x_j`: ``k`` training pairs per example. Here the number of steps
``k`` is fixed (as in the GSN paper) instead of drawn geometrically (the 2013
paper's variant).

How the pairs are used in training. :func:`walkback_pairs` returns the chain
states :math:`x^*_1..x^*_k` (stacked, shape ``(k N, D)``) and the targets
(:math:`x` repeated ``k`` times). :func:`fit_walkback` trains the model's
network on them through :func:`numpy_ae.train.loop.train_minibatch`
(``target`` = the original images, as ``Autoencoder.fit(X, target=T)``), and
the model's OWN corruption layer (``corruption=...`` of the
:class:`~numpy_ae.models.stacked.DenoisingAutoencoder`) draws
:math:`\tilde x_j \sim C(\tilde X \mid x^*_j)` in each training pass: so every
training pair is (a corruption of the walkback state :math:`x^*_j`, the
original :math:`x`), the walkback rule. The corruption used in training is a
fresh draw from the same :math:`C(\tilde X \mid x^*_j)` as the one that moved
the chain on, so each pair has the distribution of the walkback algorithm's
pairs; only the dependence between a pair and the next state is dropped,
which the training objective (a sum over pairs) does not see. The pairs are rebuilt
with the current model at every epoch.
"""
from __future__ import annotations
import copy
import time
from collections import namedtuple
import numpy as np
from .transaction import transactional
from .._validation import check_array, check_positive_int, check_random_state
from ..nn.noise import Corruption, make_corruption
from ..train.loop import train_minibatch
from ..train.fast_optimizers import make_optimizer

__all__ = ['gsn_chain', 'chain_samples', 'walkback_pairs', 'fit_walkback', 'sample_quality', 'GSNChain', 'binarize']



#: ``states`` (n_steps + 1, N, D): x_0 .. x_T (binary when sampled); ``means`` (n_steps, N, D): the
#: reconstruction means p_1 .. p_T each step sampled from.
GSNChain = namedtuple("GSNChain", ["states", "means"])


def binarize(X, threshold=0.5):
    r"""``(X > threshold)`` as the dtype of ``X``: binary images (pixels 0 or 1) for a Bernoulli model."""
    X = np.asarray(X)
    if not 0.0 <= threshold < 1.0:
        raise ValueError(f"threshold must be in [0, 1); got {threshold!r}")
    return (X > threshold).astype(X.dtype if np.issubdtype(X.dtype, np.floating) else np.float64)


def _bernoulli_model(model):
    """Check that ``model`` is a fitted autoencoder whose output is a Bernoulli mean (sigmoid + cross-entropy)."""
    model._network()  # NotFittedError if it is not fitted
    if getattr(model, "loss", None) != "cross_entropy":
        raise ValueError(f"the GSN chain samples Bernoulli pixels from the reconstruction, which needs an "
                         f"autoencoder trained with loss='cross_entropy' (sigmoid outputs); got "
                         f"loss={getattr(model, 'loss', None)!r}")
    return model


def _corruption_for(model, corruption, rng):
    """A corruption layer drawing its noise from ``rng``: ``corruption`` (a Corruption layer, or a
    ``(kind, level)`` pair), or the model's own (``model.corruption``/``model.corruption_level``)."""
    if corruption is None:
        if getattr(model, "corruption", None) is None:
            raise ValueError("corruption must be given (a Corruption layer or a (kind, level) pair) when the model "
                             "has none of its own (corruption=None)")
        layer = make_corruption(model.corruption, model.corruption_level)
    elif isinstance(corruption, Corruption):
        layer = copy.copy(corruption)  # the caller's layer keeps its own Generator
        layer.freeze_noise(False)
    elif isinstance(corruption, tuple) and len(corruption) == 2:
        layer = make_corruption(*corruption)
    else:
        raise ValueError(f"corruption must be None (the model's own), a Corruption layer or a (kind, level) pair "
                         f"such as ('salt-pepper', 0.3); got {corruption!r}")
    layer.rng = rng
    return layer


def gsn_chain(model, x0, n_steps, corruption=None, rng=None, sample=True):
    r"""Run the denoising autoencoder's Markov chain ``n_steps`` steps from each row of ``x0``.

    One step (all chains at once): :math:`\tilde x = C(x_t)` (corruption
    layer in training mode, its noise from ``rng``); :math:`p = \hat x(\tilde x)`
    (``model.reconstruct``: the model's own corruption layer is off at
    inference); :math:`x_{t+1} = [u < p]`, :math:`u \sim U(0, 1)^{N \times D}`:
    a Bernoulli sample of every pixel (``sample=False``: :math:`x_{t+1} = p`,
    the deterministic mean-field iteration, for comparison only).

    Parameters
    ----------
    model : a fitted StackedAutoencoder/DenoisingAutoencoder with ``loss="cross_entropy"``
    x0 : array (N, D), values in [0, 1]
        The N chains' starting points (test images, or noise).
    n_steps : int >= 1
    corruption : None, a Corruption layer, or (kind, level)
        :math:`C`; None: the model's own ``corruption``/``corruption_level``.
    rng : None, int or numpy.random.Generator
        All the chain's randomness (corruption and Bernoulli draws): the same
        seed gives the same chain.
    sample : bool

    Returns
    -------
    GSNChain
        ``states`` (n_steps + 1, N, D): :math:`x_0..x_T` in the model's dtype
        (binary after step 0 when ``sample``); ``means`` (n_steps, N, D):
        :math:`p_1..p_T`.
    """
    _bernoulli_model(model)
    n_steps = check_positive_int(n_steps, "n_steps")
    rng = check_random_state(rng)
    x = check_array(x0, "x0", n_features=model.n_features_in_, dtype=model._network().dtype, unit_interval=True)
    layer = _corruption_for(model, corruption, rng)
    states = np.empty((n_steps + 1,) + x.shape, dtype=x.dtype)
    means = np.empty((n_steps,) + x.shape, dtype=x.dtype)
    states[0] = x
    for t, (state, p) in enumerate(_steps(model, x, n_steps, layer, rng, sample)):
        states[t + 1], means[t] = state, p
    return GSNChain(states, means)


def _steps(model, x, n_steps, layer, rng, sample=True):
    """Yield ``(x_{t+1}, p_{t+1})`` for t = 0 .. n_steps - 1: corrupt (``layer``), reconstruct, sample."""
    for _ in range(n_steps):
        p = model.reconstruct(layer.forward(x, training=True))
        x = (rng.random(p.shape) < p).astype(p.dtype) if sample else p
        yield x, p


def chain_samples(model, n_chains, per_chain=1, burn_in=100, thin=1, corruption=None, rng=None):
    r"""Samples from ``n_chains`` independent chains started from random binary images, after a burn-in, thinned.

    Each chain starts from its own image of Bernoulli(0.5) pixels and runs
    :func:`gsn_chain`'s step (corrupt, reconstruct, sample); the first
    ``burn_in`` steps are discarded, then every ``thin``-th state is kept,
    ``per_chain`` of them: the states :math:`x_t` at
    :math:`t = b + j\,k` for :math:`j = 1..m` (:math:`b` = ``burn_in``,
    :math:`k` = ``thin``, :math:`m` = ``per_chain``). The chains together use
    one stream of randomness, in :func:`gsn_chain`'s order (the start images
    first): the result equals ``gsn_chain(model, x0, b + m k, ...)``'s
    states at those steps, without keeping the other states in memory.

    Parameters
    ----------
    model : a fitted DenoisingAutoencoder with ``loss="cross_entropy"`` (see :func:`gsn_chain`)
    n_chains : int >= 1
    per_chain : int >= 1
        Samples kept from each chain.
    burn_in : int >= 0
        Steps discarded before the first kept state.
    thin : int >= 1
        Steps between two kept states of a chain.
    corruption : None, a Corruption layer, or (kind, level)
        The chain's :math:`C` (None: the model's own training corruption).
    rng : None, int or numpy.random.Generator

    Returns
    -------
    samples : array (per_chain * n_chains, D)
        Binary; rows ``j n .. (j + 1) n - 1`` are the chains' ``j``-th kept states.
    means : array (per_chain * n_chains, D)
        The reconstruction means each kept state was drawn from.
    """
    _bernoulli_model(model)
    n_chains = check_positive_int(n_chains, "n_chains")
    per_chain = check_positive_int(per_chain, "per_chain")
    burn_in = check_positive_int(burn_in, "burn_in", minimum=0)
    thin = check_positive_int(thin, "thin")
    rng = check_random_state(rng)
    dtype = model._network().dtype
    x0 = (rng.random((n_chains, model.n_features_in_)) < 0.5).astype(dtype)
    layer = _corruption_for(model, corruption, rng)
    kept, kept_means = [], []
    for t, (state, p) in enumerate(_steps(model, x0, burn_in + per_chain * thin, layer, rng), start=1):
        if t > burn_in and (t - burn_in) % thin == 0:
            kept.append(state)
            kept_means.append(p)
    return np.concatenate(kept), np.concatenate(kept_means)


def walkback_pairs(model, X, k, corruption=None, rng=None):
    r"""Walkback training data: ``k`` chain states per example and the original examples as targets.

    :math:`x^*_1 = x`, and :math:`x^*_{j+1}` is one step of :func:`gsn_chain`
    from :math:`x^*_j` (corrupt with ``corruption``, reconstruct with the
    current ``model``, sample Bernoulli pixels), for :math:`j < k`.

    Returns
    -------
    states : array (k N, D)
        Rows ``j N .. (j + 1) N - 1`` hold :math:`x^*_{j+1}` of every example
        (the first block is ``X`` itself). Training corrupts each row
        (:func:`fit_walkback`: the model's own corruption layer), which makes
        the pair (corrupted walkback state, original example).
    targets : array (k N, D)
        ``X`` stacked ``k`` times: every walkback step reconstructs the ORIGINAL example.
    """
    k = check_positive_int(k, "k")
    X = check_array(X, "X", n_features=model.n_features_in_, dtype=model._network().dtype, unit_interval=True)
    if k == 1:
        return X.copy(), X.copy()
    chain = gsn_chain(model, X, k - 1, corruption=corruption, rng=rng)
    N, D = X.shape
    return chain.states.reshape(k * N, D), np.tile(X, (k, 1))


@transactional
def fit_walkback(model, X, walkback=3, epochs=None, random_state=None, verbose=None):
    r"""Train a denoising autoencoder with walkback (see the module docstring); return the model.

    Parameters
    ----------
    model : StackedAutoencoder or DenoisingAutoencoder
        With ``loss="cross_entropy"`` and a ``corruption`` (that is :math:`C`:
        the same noise moves the walkback chains and corrupts the training
        inputs). Its training hyperparameters are used (``method`` "adam" or
        "sgd", ``batch_size``, ``learning_rate``...); it is initialised afresh
        unless ``warm_start`` and fitted.
    X : array (N, D), values in [0, 1] (binary for an exact Bernoulli model)
    walkback : int >= 1
        k, the walkback steps per example (1: plain denoising training).
    epochs : int or None
        Passes over the ``k N`` pairs, which are rebuilt with the current
        model before every epoch (None: ``model.epochs``).
    random_state : None, int or Generator
        The walkback chains' randomness (the model's own ``random_state`` seeds
        its initialisation, shuffling and training noise).
    verbose : None or bool
        One line per epoch (None: ``model.verbose``).

    The training loop is :func:`numpy_ae.train.loop.train_minibatch`, the one
    ``model.fit(states, target=targets)`` runs; it is called directly, one
    epoch at a time, so that one optimiser (Adam's moment estimates) carries
    over the epochs while the pairs change (a ``fit`` per epoch would restart it).

    Sets on the model: ``history_`` (per-epoch ``loss`` over the pairs,
    ``seconds``), ``n_epochs_``, ``cost_``, ``walkback_``, ``fit_seconds_``,
    ``converged_`` (False: a fixed budget), ``message_``.
    """
    if getattr(model, "loss", None) != "cross_entropy" or getattr(model, "corruption", None) is None:
        raise ValueError(f"walkback training needs a denoising autoencoder with loss='cross_entropy' and a "
                         f"corruption; got loss={getattr(model, 'loss', None)!r}, "
                         f"corruption={getattr(model, 'corruption', None)!r}")
    if model.method not in ("adam", "sgd"):
        raise ValueError(f"walkback training rebuilds its pairs every epoch, so it needs a minibatch method "
                         f"('adam' or 'sgd'); got method={model.method!r}")
    walkback = check_positive_int(walkback, "walkback")
    epochs = model.epochs if epochs is None else check_positive_int(epochs, "epochs")
    verbose = bool(model.verbose if verbose is None else verbose)
    rng = check_random_state(random_state)
    model._validate_params()
    X = model._check_X(X, fitting=True)
    model._clear_fit_attributes()
    if not (model.warm_start and getattr(model, "network_", None) is not None
            and model.n_features_in_ == X.shape[1]):
        model.initialize(X.shape[1])
    net = model.network_
    optimizer = make_optimizer(model.method, model.learning_rate, momentum=model.momentum, nesterov=model.nesterov,
                               fast=model.fast)
    history = {"loss": [], "val_loss": [], "seconds": [], "best_epoch": None}
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        states, targets = walkback_pairs(model, X, walkback, rng=rng)
        h = train_minibatch(net, states, targets, optimizer=optimizer, epochs=1,
                            batch_size=min(model.batch_size, states.shape[0]), rng=model.rng_, verbose=False)
        history["loss"].append(h["loss"][0])
        history["seconds"].append(h["seconds"][0])
        if verbose:
            print(f"  epoch {epoch:3d}/{epochs}  walkback k={walkback}: {states.shape[0]} pairs  "
                  f"loss {h['loss'][0]:.4f}  {time.perf_counter() - start:6.1f} s", flush=True)
    history["best_epoch"] = int(np.argmin(history["loss"])) + 1
    model.history_ = history
    model.n_epochs_ = model.n_iter_ = epochs
    model.cost_ = float(history["loss"][-1])
    model.walkback_ = walkback
    model.converged_ = False
    model.message_ = f"ran all {epochs} epochs of walkback training (k={walkback})"
    model.fit_seconds_ = time.perf_counter() - start
    return model


def sample_quality(proba, threshold=0.9):
    r"""How an independent classifier sees a set of images, from its class probabilities ``proba (N, K)``.

    Returns a dict: ``confident_fraction`` (the share of images whose largest
    class probability is at least ``threshold``), ``class_coverage`` (the share
    of the K classes that are the predicted label of at least one image),
    ``histogram`` (how many images are predicted as each class, a list of K
    ints) and ``mean_max_proba``.
    """
    proba = check_array(proba, "proba")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1]; got {threshold!r}")
    K = proba.shape[1]
    top = proba.max(axis=1)
    hist = np.bincount(proba.argmax(axis=1), minlength=K)
    return {"confident_fraction": float(np.mean(top >= threshold)),
            "class_coverage": float(np.count_nonzero(hist) / K),
            "histogram": [int(v) for v in hist],
            "mean_max_proba": float(top.mean())}
