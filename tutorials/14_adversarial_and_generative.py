# %% [markdown]
# # Tutorial 14: adversarial and generative autoencoders
#
# **Part 1: the adversarial autoencoder** (Makhzani, Shlens, Jaitly, Goodfellow
# & Frey, "Adversarial Autoencoders", 2015), one idea per section, each checked
# by a cell:
#
# 1. the idea: a GAN on the code space instead of the VAE's KL term;
# 2. the two priors (a Gaussian, and a mixture of 10 Gaussians on a circle);
# 3. measuring "codes follow the prior": the unbiased MMD estimate, checked
#    against its closed form;
# 4. the three training phases and a gradient check of each objective (the
#    generator's passes through the discriminator's INPUT gradient);
# 5. training on (Fashion-)MNIST with a 2-D code: the AAE against a plain
#    autoencoder, codes over prior samples, and the MMD of each;
# 6. the supervised mixture: each class on its own component, and images
#    decoded from each component.
#
# (Part 2, generative stochastic networks, is to be appended after section 6.)
#
# Run it with `python tutorials/14_adversarial_and_generative.py` from the
# repository root, or open it as a notebook (the `# %%` lines are cells). With
# `NUMPY_AE_FAST=1` it trains tiny models for one or two epochs (seconds);
# the full run trains on 10,000 images for 5 epochs per model. Figures go to
# `out/tutorials/14_adversarial_and_generative/` (or `$NUMPY_AE_OUT/...`). The
# same comparison as a command, with a VAE as well: `python -m numpy_ae aae`
# (`numpy_ae/experiments/aae.py`).
#
# **Notation.** Examples are rows: `X` has shape `(N, D)`; K is the code size
# (2 here, so codes can be drawn); $E$ the encoder, $G$ the decoder, $D$ the
# discriminator (it outputs a logit), $p(z)$ the prior, $\sigma$ the logistic
# sigmoid.
#
# **Data.** Fashion-MNIST or MNIST, whichever `numpy_ae.data.find_mnist` finds
# (e.g. under `$NUMPY_AE_DATA`). Without either (fast mode never downloads), the
# tutorial says so loudly and runs on font-drawn digits
# (`numpy_ae.experiments.self_taught.glyph_digits`): every step runs the same,
# but the numbers it prints then say nothing about (Fashion-)MNIST.

# %%
import os
import pathlib

import numpy as np

from numpy_ae import AdversarialAutoencoder, StackedAutoencoder
from numpy_ae.models.priors import GaussianPrior, MixturePrior
from numpy_ae.analysis.mmd import median_bandwidth, mmd
from numpy_ae.data import find_mnist, load_mnist
from numpy_ae.experiments.self_taught import digits_or_stand_in
from numpy_ae.check.registry import run_checks
from numpy_ae.analysis.class_figures import save_codes
from numpy_ae.analysis.plotting import PIXEL_RANGE, save_image_grid
from numpy_ae.data import class_names

FAST = os.environ.get("NUMPY_AE_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NUMPY_AE_OUT", "out/tutorials")) / "14_adversarial_and_generative"
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)


X_train, y_train, X_test, y_test, DATA = digits_or_stand_in(  # the MNIST subset loads faster in fast mode
    ("mnist", "fashion-mnist") if FAST else ("fashion-mnist", "mnist"), n_stand_in=3000 if FAST else 12000)
N_TRAIN, N_TEST = (1500, 1000) if FAST else (10000, 5000)
X_train, y_train, X_test, y_test = X_train[:N_TRAIN], y_train[:N_TRAIN], X_test[:N_TEST], y_test[:N_TEST]
NAMES = class_names("fashion-mnist" if DATA == "Fashion-MNIST" else "mnist")  # the glyph stand-in: digits too
print(f"{DATA}: train {X_train.shape}, test {X_test.shape}")


def scatter(panels, path, title, names=NAMES):
    """One panel per (name, codes, labels, prior samples): prior in grey, codes coloured by class, one colour
    bar of the class names (numpy_ae.analysis.class_figures.save_codes)."""
    print("wrote", save_codes(panels, path, names, title=title))


# %% [markdown]
# ## 1. The idea
#
# A VAE makes its codes follow a prior with a KL term per example. An
# adversarial autoencoder does it with a GAN whose "generator" is the encoder:
# a discriminator $D$ learns to tell prior samples $z' \sim p(z)$ from codes
# $z = E(x)$, and the encoder learns to fool it. At the game's equilibrium
# the distribution of the codes, $q(z) = \int q(z\mid x)\,p_{\text{data}}(x)\,dx$
# (the *aggregated posterior*), equals $p(z)$, so decoding prior samples gives
# images that look like the data. Nothing needs a density: any prior we can
# SAMPLE will do (the mixture below has no convenient KL to it).
#
# Per minibatch (Makhzani et al., section 2), three updates, each by its own
# Adam optimiser:
#
# 1. **reconstruction** (encoder + decoder): $J_{\text{rec}} = L(G(E(x)), x)$,
#    cross-entropy from logits summed over pixels, averaged over examples;
# 2. **discriminator**: $J_D = \frac{1}{2N}\sum_n\bigl[-\log\sigma(D(z'_n)) - \log(1-\sigma(D(z_n)))\bigr]$,
#    prior samples labelled 1, codes labelled 0;
# 3. **generator** (encoder only, $D$ frozen): the non-saturating loss
#    $J_G = -\frac1N\sum_n\log\sigma(D(E(x_n)))$.
#
# ## 2. The priors
#
# `GaussianPrior(2)` is $\mathcal N(0, I)$. `MixturePrior()` puts 10 elongated
# Gaussians on a circle of radius 2 (standard deviation 0.5 along the radius,
# 0.1 across), the shape of the paper's figures; `sample(n, rng, labels=...)`
# draws from chosen components.

# %%
gauss, mix = GaussianPrior(2), MixturePrior(n_components=10, dim=2)
Pg, Pm = gauss.sample(3000, rng), mix.sample(3000, rng)
labels = rng.integers(0, 10, 3000)
Pm_labelled = mix.sample(3000, rng, labels=labels)
k = 3
in_k = Pm_labelled[labels == k]
print(f"component {k}: mean {np.round(in_k.mean(0), 2)} (stated {np.round(mix.means[k], 2)}), "
      f"{len(in_k)} of 3000 draws")
assert np.linalg.norm(in_k.mean(0) - mix.means[k]) < 0.1  # 300 draws: standard error 0.5 / sqrt(300) = 0.03
scatter([("N(0, I)", None, None, Pg), ("mixture of 10", Pm_labelled, labels, None)], OUT / "priors.png",
        "the two priors (right: coloured by component)", names=[f"component {k}" for k in range(10)])

# %% [markdown]
# ## 3. Measuring how close the codes are to the prior: MMD
#
# The maximum mean discrepancy with a kernel $k$ compares two distributions
# through the means of $k$: $\mathrm{MMD}^2(P, Q) = \mathbb E\,k(x, x') +
# \mathbb E\,k(y, y') - 2\,\mathbb E\,k(x, y)$ for $x, x' \sim P$, $y, y' \sim Q$.
# With the Gaussian RBF kernel $k(a, b) = \exp(-\lVert a-b\rVert^2/2h^2)$ it is
# zero exactly when $P = Q$. `mmd(X, Y, bandwidth=h)` is Gretton et al.'s
# unbiased estimate (the $i = j$ terms left out of the within-sample sums), so
# for two samples of ONE distribution it scatters around 0, and can be slightly
# negative.
#
# **Checked against the closed form.** For $P = \mathcal N(0, I_K)$ and
# $Q = \mathcal N(d, I_K)$: $\mathrm{MMD}^2 = 2\bigl(\frac{h^2}{h^2+2}\bigr)^{K/2}
# \bigl(1 - e^{-\lVert d\rVert^2/2(h^2+2)}\bigr)$.
#
# **Bandwidth.** To compare several models against one prior, every estimate
# must use the same kernel: we fix $h$ as the median distance between prior
# samples (the median heuristic on the prior alone).

# %%
n = 500 if FAST else 2000
A, B = rng.standard_normal((n, 2)), rng.standard_normal((n, 2))
for d in (0.0, 0.5, 1.0):
    est = mmd(A, B + [d, 0.0], bandwidth=1.0)
    exact = 2 * (1 / 3) * (1 - np.exp(-d ** 2 / 6))
    print(f"shift {d}: MMD^2 estimate {est:+.4f}, exact {exact:.4f}")
    assert abs(est - exact) < (0.07 if FAST else 0.035)  # 5 standard deviations of the estimate (measured)
H = median_bandwidth(gauss.sample(2000, np.random.default_rng(1)))
print(f"median-heuristic bandwidth of N(0, I_2): {H:.3f} (theory sqrt(4 ln 2) = {np.sqrt(4 * np.log(2)):.3f})")

# %% [markdown]
# ## 4. Three phases, three gradient checks
#
# The three networks are separate `Sequential` models, each with its own flat
# `theta`. What joins them is one array: the discriminator's backward pass,
# called with `input_grad=True`, returns $\partial J_G/\partial z$ (N, K), and
# the encoder's backward pass takes it from there:
#
# $$\frac{\partial J_G}{\partial \theta_E} = \sum_n \Bigl(\frac{\partial E(x_n)}{\partial\theta_E}\Bigr)^{\!\top}
#   \frac{\partial J_G}{\partial z_n},\qquad \frac{\partial J_G}{\partial D(z_n)} = \frac{\sigma(D(z_n)) - 1}{N}.$$
#
# Each phase's objective is registered with the gradient checker (float64,
# small random networks, norm-relative difference below 1e-9):

# %%
names = ["aae_reconstruction_cross_entropy", "aae_discriminator_gaussian", "aae_discriminator_supervised_mixture",
         "aae_generator_gaussian", "aae_generator_supervised_mixture", "aae_discriminator_input_gradient"]
for res in run_checks(names):
    print(f"{res.name:40s} rel_diff {res.rel_diff:.2e}")
    assert res.ok and res.rel_diff < 1e-9

# %% [markdown]
# ## 5. Training on images with a 2-D code
#
# An AAE with a Gaussian prior and a plain autoencoder of the same widths
# (`StackedAutoencoder`; its 2-D code goes through an ELU like its other
# layers), trained for the same epochs. `history_` holds the three phases'
# losses per epoch; a discriminator accuracy near 0.5 means the codes are
# hard to tell from prior samples, near 1 that the discriminator is winning.

# %%
hidden = (64,) if FAST else (128, 128)
epochs = 2 if FAST else 5
aae = AdversarialAutoencoder(hidden_layer_sizes=hidden, n_latent=2, prior="gaussian", epochs=epochs,
                             dtype="float32", random_state=0, verbose=1).fit(X_train)
ae = StackedAutoencoder(hidden_layer_sizes=hidden + (2,), loss="cross_entropy", epochs=epochs, dtype="float32",
                        random_state=0).fit(X_train)
P = gauss.sample(2000, np.random.default_rng(2))
Z_aae, Z_ae = aae.transform(X_test), ae.transform(X_test)
m_aae, m_ae = mmd(Z_aae, P, bandwidth=H), mmd(Z_ae, P, bandwidth=H)
print(f"MMD^2 of the test codes to N(0, I) (h = {H:.3f}): AAE {m_aae:.4f}, plain AE {m_ae:.4f}")
print(f"discriminator accuracy in the last epoch: {aae.history_['discriminator_accuracy'][-1]:.3f}")
mse = float(np.mean((aae.reconstruct(X_test) - X_test) ** 2))
print(f"AAE test reconstruction MSE per pixel: {mse:.4f}")
if not FAST:
    assert m_aae < m_ae  # the point of the adversarial phases (one epoch of a tiny model proves nothing)
scatter([(f"AAE (MMD {m_aae:.3f})", Z_aae[:2000], y_test[:2000], P),
         (f"plain AE (MMD {m_ae:.3f})", Z_ae[:2000], y_test[:2000], P)],
        OUT / "codes_gaussian.png", f"{DATA} test codes over N(0, I) samples (grey)")
save_image_grid([("decoded z ~ N(0, I)", aae.sample(12, random_state=0))], OUT / "samples_gaussian.png",
                image_shape=(28, 28), value_range=PIXEL_RANGE, title="AAE: images decoded from prior samples")

# %% [markdown]
# ## 6. The supervised mixture: one class per component
#
# With `supervised=True` and a mixture prior, `fit(X, y)` gives the label to
# the discriminator as well (a `JoinCondition` layer: it sees $[z,
# \mathrm{onehot}(c)]$), and each prior sample is drawn from component $c$
# and paired with the same one-hot: the game then matches the codes of class
# $c$ to component $c$, as in Makhzani et al.'s section 5. (Drawing prior
# samples per label while the discriminator sees $z$ alone would only match the
# codes' overall distribution to the mixture.) Decoding samples of component
# $c$ then gives images of class $c$ -- once the game has got there.
#
# **Measured, and not there yet in a short run.** On a tiny 3-class problem
# (`tests/models/test_adversarial.py`) every class reaches its component. On 10,000
# Fashion-MNIST images after 5 epochs (128-128 network) only 14% to 32% of the
# test codes lie nearest to their own class's component (chance 10%), for
# generator/discriminator step sizes 1e-3/1e-4 and 3e-3/3e-4: the discriminator
# wins (accuracy 0.6-0.86) before the encoder has moved the classes apart.
# Longer helps: 20 epochs at 3e-3/3e-4 reached about 50% (oscillating between
# 24% and 60% over the last ten epochs). The cell prints the figure for your
# run; it does not assert it.

# %%
sup = AdversarialAutoencoder(hidden_layer_sizes=hidden, n_latent=2, prior="mixture", supervised=True,
                             epochs=epochs, dtype="float32", random_state=0).fit(X_train, y_train)
Z = sup.transform(X_test)
comp = np.searchsorted(sup.classes_, y_test)
nearest = np.argmin(((Z[:, None, :] - sup.prior_.means[None]) ** 2).sum(-1), axis=1)
agree = float(np.mean(nearest == comp))
print(f"test codes nearest to their own class's component: {agree:.1%} (chance: 10%); discriminator "
      f"accuracy in the last epoch {sup.history_['discriminator_accuracy'][-1]:.3f}")
scatter([(f"supervised AAE ({agree:.0%} on their component)", Z[:2000], y_test[:2000],
          sup.prior_.sample(2000, np.random.default_rng(3)))], OUT / "codes_mixture.png",
        f"{DATA} test codes over the mixture prior")
rows = [(NAMES[c], sup.sample(10, y=c, random_state=int(c))) for c in sup.classes_]
save_image_grid(rows, OUT / "samples_mixture.png", image_shape=(28, 28), value_range=PIXEL_RANGE,
                title="supervised AAE: each row decoded from one component")


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
#   every corrupted state along the way (`numpy_ae.models.gsn.walkback_pairs`, `fit_walkback`).
#
# Sample quality is judged by an independent classifier trained on real
# images: the share of samples it classifies with probability at least 0.9
# and how many classes they cover, next to a VAE's samples and real images.
# `python -m numpy_ae gsn` does the same at full size. With `NUMPY_AE_FAST=1`
# everything is tiny (a few seconds) and the samples are not yet digits.

# %%
from numpy_ae import DenoisingAutoencoder, EncoderClassifier, VariationalAutoencoder
from numpy_ae.models.gsn import binarize, fit_walkback, gsn_chain, sample_quality, walkback_pairs
from numpy_ae.analysis.plotting import save_image_grid

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
