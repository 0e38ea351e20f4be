# %% [markdown]
# ## Sampling from a denoising autoencoder (GSN)
#
# Bengio, Yao, Alain and Vincent (2013), "Generalized Denoising Auto-Encoders
# as Generative Models", and Bengio et al. (2014), "Deep Generative Stochastic
# Networks Trainable by Backprop". A denoising autoencoder trained to undo a
# corruption $C(\tilde X \mid X)$ estimates $P_\theta(X \mid \tilde X)$, the
# distribution of clean images given a corrupted one. Alternate the two,
#
# $$\tilde x_t \sim C(\tilde X \mid x_t), \qquad x_{t+1} \sim P_\theta(X \mid \tilde x_t),$$
#
# and the Markov chain's stationary distribution estimates the data
# distribution (their consistency result): the denoiser is a generative model.
#
# * **The reconstruction distribution.** A sigmoid output trained with the
#   cross-entropy gives one Bernoulli mean $p_d$ per pixel; the chain SAMPLES
#   $x_{t+1,d} \sim \mathrm{Bernoulli}(p_d)$, so its states are binary images.
#   The images are binarised (pixels > 0.5) for training too: the chain feeds
#   binary states back into the network, which should have seen such inputs.
# * **Walkback.** Plain training only shows corruptions of training images, so
#   the chain can drift to "spurious modes" training never pushed back.
#   Walkback runs the chain $k$ steps from each training image $x$ with the
#   current model and trains the network to reconstruct the ORIGINAL $x$ from
#   every corrupted state along the way (`numpy_ae.gsn.walkback_pairs`, `fit_walkback`).
#
# Sample quality is judged by an independent classifier trained on real
# images: the share of samples it classifies with probability at least 0.9
# and how many classes they cover, next to a VAE's samples and real images.
# `python -m numpy_ae gsn` does the same at full size. With `NUMPY_AE_FAST=1`
# everything is tiny (a few seconds) and the samples are not yet digits.

# %%
import os
import pathlib

import numpy as np

from numpy_ae import DenoisingAutoencoder, EncoderClassifier, VariationalAutoencoder
from numpy_ae.data import find_mnist, load_mnist
from numpy_ae.gsn import binarize, fit_walkback, gsn_chain, sample_quality, walkback_pairs
from numpy_ae.plotting import save_image_grid

GSN_FAST = os.environ.get("NUMPY_AE_FAST") == "1"
GSN_OUT = pathlib.Path(os.environ.get("NUMPY_AE_OUT", "out/tutorials")) / "14_adversarial_and_generative"
GSN_OUT.mkdir(parents=True, exist_ok=True)

try:
    _path = find_mnist("mnist", download=not GSN_FAST)
    gsn_X, gsn_y, gsn_Xt, gsn_yt = load_mnist("mnist", data_home=_path, dtype=np.float32, download=False)
    gsn_X, gsn_Xt = binarize(gsn_X), binarize(gsn_Xt)
    GSN_DATA = True
except (FileNotFoundError, OSError) as exc:
    GSN_DATA = False
    print(f"SKIPPING the GSN part: MNIST not found ({str(exc).splitlines()[0]}). "
          "Set NUMPY_AE_DATA to a folder holding mnist/ to run it.")

if GSN_DATA and GSN_FAST:
    gsn_X, gsn_y = gsn_X[:1000], gsn_y[:1000]
GSN_EPOCHS, GSN_HIDDEN, GSN_STEPS, GSN_SAMPLES = (2, 64, 10, 100) if GSN_FAST else (10, 500, 100, 1000)

# %% [markdown]
# Walkback pairs, looked at: for $k = 3$ each image gives three training
# inputs, the image itself and two states of the chain run from it (before
# the model's own salt-and-pepper layer corrupts them in training), all with
# the image as target. With an untrained model the later states are noise.

# %%
if GSN_DATA:
    gsn_dae = DenoisingAutoencoder(hidden_layer_sizes=(GSN_HIDDEN,), corruption="salt-pepper", corruption_level=0.3,
                                   method="adam", learning_rate=1e-3, batch_size=100, epochs=GSN_EPOCHS,
                                   dtype="float32", random_state=0)
    gsn_dae.initialize(784)
    _states, _targets = walkback_pairs(gsn_dae, gsn_X[:6], 3, rng=0)
    print("walkback states", _states.shape, "targets", _targets.shape)
    print("wrote", save_image_grid([("x*_1 = x", _states[:6]), ("x*_2", _states[6:12]), ("x*_3", _states[12:])],
                                   GSN_OUT / "walkback_untrained.png", image_shape=(28, 28),
                                   title="walkback states from an untrained model"))

# %% [markdown]
# Train with walkback ($k = 3$; the pairs are rebuilt with the current model
# before every epoch), then run chains from random binary images.

# %%
if GSN_DATA:
    fit_walkback(gsn_dae, gsn_X, walkback=3, random_state=0, verbose=True)
    _rng = np.random.default_rng(1)
    _x0 = (_rng.random((GSN_SAMPLES, 784)) < 0.5).astype(np.float32)
    gsn_chain_out = gsn_chain(gsn_dae, _x0, GSN_STEPS, rng=_rng)
    _cols = sorted(set([0, 1, 2, 3] + list(np.linspace(3, GSN_STEPS, 9).round().astype(int))))
    print("wrote", save_image_grid([(f"chain {i + 1}", gsn_chain_out.states[_cols, i]) for i in range(8)],
                                   GSN_OUT / "gsn_chains.png", image_shape=(28, 28),
                                   title="GSN chains from noise; steps " + ", ".join(map(str, _cols))))

# %% [markdown]
# Judge the samples: an MLP trained on the real (binarised) training images
# classifies the chains' final states, as many binary VAE samples (decoder
# mean, then Bernoulli pixels), and as many real test images.

# %%
if GSN_DATA:
    _vae = VariationalAutoencoder(hidden_layer_sizes=(256,), n_latent=16, epochs=GSN_EPOCHS, batch_size=100,
                                  dtype="float32", random_state=0).fit(gsn_X)
    _means = _vae.sample(GSN_SAMPLES, random_state=2)
    _vae_samples = (np.random.default_rng(3).random(_means.shape) < _means).astype(np.float32)
    _clf = EncoderClassifier(hidden_layer_sizes=(256,), activation="relu", method="adam",
                             epochs=2 if GSN_FAST else 10, batch_size=100, softmax_max_iter=50,
                             random_state=0).fit(gsn_X.astype(np.float64), gsn_y)
    print(f"classifier test accuracy: {_clf.score(gsn_Xt.astype(np.float64), gsn_yt):.3f}")
    for _name, _imgs in (("GSN samples", gsn_chain_out.states[-1]), ("VAE samples", _vae_samples),
                         ("real test images", gsn_Xt[:GSN_SAMPLES])):
        _q = sample_quality(_clf.predict_proba(np.asarray(_imgs, dtype=np.float64)), threshold=0.9)
        print(f"{_name:<17} confident (p >= 0.9) {_q['confident_fraction']:.3f}  coverage "
              f"{_q['class_coverage']:.1f}  histogram {_q['histogram']}")

# %% [markdown]
# Reading the numbers: the real images' row is the ceiling this classifier
# allows (its own confidence on data it has never seen). A share of confident
# samples close to it, with all ten classes covered, means the chain produces
# digit-like images of every kind; a high share with a few classes only means
# the chain is stuck in a few modes. The classifier's confidence is only a
# proxy (it can be confident on images no person would call a digit), so look
# at `gsn_chains.png` too.
