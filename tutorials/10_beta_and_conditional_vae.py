# %% [markdown]
# # Tutorial 10: beta-VAE, the capacity objective, and the conditional VAE
#
# Tutorial 9 built the variational autoencoder: an encoder that outputs a
# Gaussian $q(z \mid x) = \mathcal N(\mu(x), \operatorname{diag}\sigma^2(x))$,
# the reparameterisation $z = \mu + \sigma \odot \varepsilon$, a Bernoulli
# decoder, and the negative ELBO
#
# $$-\text{ELBO}(x) = \underbrace{-\mathbb E_q \log p(x \mid z)}_{\text{reconstruction } D}
#   + \underbrace{\mathrm{KL}(q(z \mid x)\,\|\,\mathcal N(0, I))}_{\text{rate } R},$$
#
# summed over the 784 pixels and the K latent units, averaged over examples, in
# nats. This tutorial changes what is minimised, then what is conditioned on:
#
# 1. **beta-VAE** (Higgins et al., 2017): minimise $D + \beta R$. A sweep over
#    $\beta \in \{0.5, 1, 2, 4, 8\}$ traces a rate-distortion curve.
# 2. **KL per latent unit and active units** as $\beta$ grows: the rate is
#    not spread evenly, and units switch off.
# 3. **The capacity objective** (Burgess et al., 2018): $D + \gamma\,|R - C|$
#    with the target rate $C$ raised during training.
# 4. **The conditional VAE** (Sohn et al., 2015): the label $y$ joins the
#    encoder input and $z$, so the decoder can generate a *chosen* class.
#
# Run it with `python tutorials/10_beta_and_conditional_vae.py` from the
# repository root, or open it as a notebook (the `# %%` lines are cells). With
# `NUMPY_AE_FAST=1` it uses small subsets and one or two epochs (seconds; the
# numbers then only show that the code runs). Figures go to
# `out/tutorials/10_beta_and_conditional_vae/` (or `$NUMPY_AE_OUT/...`). The same
# models from the command line: `python -m numpy_ae vae --beta 4` and
# `python -m numpy_ae vae --conditional`.
#
# **Data.** MNIST is found by `numpy_ae.data.find_mnist` (`$NUMPY_AE_DATA/mnist`,
# then `~/.cache/numpy_ae/mnist`; downloaded there in full mode). If it cannot be
# found, the tutorial says so loudly and runs on a *synthetic stand-in*:
# font-drawn digits (`numpy_ae.experiments.self_taught.glyph_digits`). The code
# runs the same; the numbers then say nothing about MNIST.

# %%
import os
import pathlib

import numpy as np

from numpy_ae import ConditionalVAE, VariationalAutoencoder
from numpy_ae.data import class_names, describe_dataset, find_mnist, load_mnist
from numpy_ae.experiments.self_taught import glyph_digits
from numpy_ae.experiments.vae import save_samples_per_class
from numpy_ae.analysis.class_figures import legend_outside
from numpy_ae.analysis.plotting import PIXEL_RANGE, save_tiles

FAST = os.environ.get("NUMPY_AE_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NUMPY_AE_OUT", "out/tutorials")) / "10_beta_and_conditional_vae"
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)

try:
    path = find_mnist("mnist", download=not FAST)  # fast mode never waits for a download
    X_train, y_train, X_test, y_test = load_mnist("mnist", data_home=path)
    print(describe_dataset("mnist", X_train, X_test, path))
    DATA = "MNIST"
except FileNotFoundError as exc:
    print("=" * 78)
    print("MNIST NOT FOUND: set NUMPY_AE_DATA to a folder holding mnist/ (see numpy_ae.data.find_mnist).")
    print("Running on a SYNTHETIC STAND-IN instead: font-drawn digits, not handwriting. The code runs")
    print("as on MNIST; the numbers printed below are NOT MNIST results.")
    print("(" + str(exc).splitlines()[0] + ")")
    print("=" * 78)
    X_all, y_all = glyph_digits(2500 if FAST else 24000, random_state=rng)
    n_test = len(X_all) // 6
    X_train, y_train, X_test, y_test = X_all[n_test:], y_all[n_test:], X_all[:n_test], y_all[:n_test]
    DATA = "synthetic glyph digits"

N_TRAIN, N_TEST = (2000, 500) if FAST else (20000, 5000)
X_train, y_train = X_train[:N_TRAIN], y_train[:N_TRAIN]
X_test, y_test = X_test[:N_TEST], y_test[:N_TEST]
SETTINGS = dict(hidden_layer_sizes=(64,) if FAST else (256,), n_latent=10, activation="elu",
                epochs=2 if FAST else 15, batch_size=128, learning_rate=1e-3, dtype="float32")
print(f"{DATA}: {len(X_train)} training and {len(X_test)} test images; every VAE below is "
      f"784-{SETTINGS['hidden_layer_sizes'][0]}-{SETTINGS['n_latent']}, ELU, Adam, {SETTINGS['epochs']} epochs")

# %% [markdown]
# ## 1. beta-VAE: a rate-distortion trade-off
#
# With $\beta$ weighting the KL term the training objective is
#
# $$J_\beta = \frac1N\sum_n \bigl[D_n + \beta R_n\bigr].$$
#
# Read $R$ as the number of nats the code carries about $x$ (on average over
# the data, $\mathbb E_x \mathrm{KL}(q(z\mid x)\,\|\,p(z))$ bounds the mutual
# information between $x$ and $z$ from above) and $D$ as what the decoder
# still gets wrong. A model that minimises $D + \beta R$ sits where the
# $(R, D)$ curve it can reach has slope $-\beta$: a small $\beta$ buys detail
# with rate, a large one pays distortion to save rate. At $\beta = 1$ the
# objective is the negative ELBO, the bound on $-\log p(x)$; at any other
# $\beta$ we still *report* $D + R$ (the ELBO) to compare.
#
# `VariationalAutoencoder(beta=...)`: the KL is the penalty of the
# `Reparameterize` layer, multiplied by $\beta$ in its forward and backward
# passes (gradient-checked for $\beta = 0.25, 3, 4, 0.5$ in
# `python -m numpy_ae gradcheck`).

# %%
BETAS = [0.5, 1.0, 2.0, 4.0, 8.0]
sweep = {}
for beta in BETAS:
    vae = VariationalAutoencoder(beta=beta, random_state=0, **SETTINGS).fit(X_train)
    parts = vae.elbo(X_test, random_state=0)
    sweep[beta] = dict(model=vae, D=float(parts.recon.mean()), R=float(parts.kl.mean()),
                       kl_units=vae.kl_per_unit(X_test), active=vae.active_units(X_test))
    s = sweep[beta]
    print(f"beta {beta:3g}: reconstruction D = {s['D']:7.2f}  KL R = {s['R']:6.2f}  -ELBO = {s['D'] + s['R']:7.2f} "
          f"nats;  {s['active']:2d} of {SETTINGS['n_latent']} units active")

# %%
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

R = np.array([sweep[b]["R"] for b in BETAS])
D = np.array([sweep[b]["D"] for b in BETAS])
fig, ax = plt.subplots(figsize=(6, 4.5))
ax.plot(R, D, "o-")
for b, r, d in zip(BETAS, R, D):
    ax.annotate(f"beta={b:g}", (r, d), textcoords="offset points", xytext=(6, 4))
ax.set_xlabel("rate R = KL(q(z|x) || N(0, I)), nats per image (test)")
ax.set_ylabel("distortion D = -log p(x|z), nats per image (test)")
ax.set_title(f"beta-VAE on {DATA}: reconstruction against KL")
fig.tight_layout()
fig.savefig(OUT / "rate_distortion.png", dpi=100)
plt.close(fig)

rate_falls = bool(np.all(np.diff(R) < 0))
distortion_rises = bool(np.all(np.diff(D) > 0))
print(f"as beta grows 0.5 -> 8: the KL falls at every step: {rate_falls}; the reconstruction error rises at every "
      f"step: {distortion_rises}")
print(f"the ELBO (D + R) is best at beta = {BETAS[int(np.argmin(D + R))]:g}")

# %% [markdown]
# **What it shows.** In full mode the points run from the top left
# ($\beta = 8$: few nats in the code, blurry reconstructions) to the bottom
# right ($\beta = 0.5$: a richer code, sharper reconstructions): the KL falls and
# the reconstruction error rises with $\beta$, the two lines printed above
# check it step by step. Nothing in between is free: the curve is the
# trade-off this architecture can reach, and $\beta$ only picks a point on it
# (Alemi et al., "Fixing a Broken ELBO", 2018). The sum $D + R$, the bound on
# $-\log p(x)$, is normally best near $\beta = 1$, which is what the ELBO
# optimises. (In fast mode two epochs on 2,000 images are too few for any of
# this to be reliable.)
#
# Reconstructions at both ends:

# %%
rows = [X_test[:10]] + [sweep[b]["model"].reconstruct(X_test[:10]) for b in (0.5, 8.0)]
save_tiles(np.vstack(rows), OUT / "reconstructions_beta.png", shape=(28, 28), n_cols=10, normalize=None,
           value_range=PIXEL_RANGE, scale=2, title="test images; reconstructions at beta = 0.5; at beta = 8")

# %% [markdown]
# ## 2. KL per latent unit, and active units
#
# The rate is a sum over latent units, $R = \sum_k \mathbb E_x \mathrm{KL}_k$
# (`kl_per_unit(X)`). A unit whose KL is about 0 has $q(z_k \mid x) \approx
# \mathcal N(0, 1)$ for every $x$: the decoder cannot read anything from it
# (posterior collapse of that unit). Burda et al. count a unit as **active**
# when its posterior mean moves with the input:
# $A_k = \operatorname{Var}_x \mu_k(x) > 10^{-2}$ (`active_units(X)`).
# Raising $\beta$ makes every nat of code more expensive: the KL of every
# unit shrinks, unevenly, and the weakest units are the first to approach 0
# (full mode, measured: at $\beta = 8$ two of the ten units carry under 0.1
# nats, against 1.5 or more each at $\beta = 1$). With 15 epochs on this
# subset all ten still pass the variance criterion at every $\beta$; longer
# training, or a larger $\beta$, switches them off completely.

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
width = 0.8 / len(BETAS)
K = SETTINGS["n_latent"]
for i, b in enumerate(BETAS):
    ax1.bar(np.arange(K) + i * width, np.sort(sweep[b]["kl_units"])[::-1], width=width, label=f"beta={b:g}")
ax1.set_xlabel("latent unit (sorted by KL, per model)")
ax1.set_ylabel("KL (nats, test mean)")
ax1.set_title("KL per latent unit")
legend_outside(ax1)  # beside the bars, never over them
ax2.plot(BETAS, [sweep[b]["active"] for b in BETAS], "o-")
ax2.set_xscale("log", base=2)
ax2.set_xlabel("beta")
ax2.set_ylabel(f"active units (of {K})")
ax2.set_ylim(0, K + 0.5)
ax2.set_title("active units, Var_x mu_k(x) > 0.01")
fig.tight_layout()
fig.savefig(OUT / "kl_per_unit_and_active_units.png", dpi=100)
plt.close(fig)
for b in BETAS:
    print(f"beta {b:3g}: KL per unit (sorted) " + " ".join(f"{v:5.2f}" for v in np.sort(sweep[b]["kl_units"])[::-1]))

# %% [markdown]
# ## 3. The capacity objective
#
# Burgess et al. ("Understanding disentangling in beta-VAE", 2018) replace
# $\beta R$ by a target: $J = D + \gamma\,\lvert R - C\rvert$, with $\gamma$
# large (1000 in the paper) and the capacity $C$ raised linearly during
# training. The KL is then pinned near $C$ at every stage: the model is
# allowed a few nats early, when it spends them on the factors that reduce
# the reconstruction error most, then more. In numpy_ae:
# `VariationalAutoencoder(capacity=C_max, capacity_gamma=gamma, capacity_epochs=E)`
# raises $C_e = C_{\max} \min(1, e / E)$ once per epoch (`capacity_schedule_`
# records it); the absolute value is the `Reparameterize` layer's penalty, with
# the subgradient $\gamma\,\operatorname{sign}(R - C)$ in its backward pass.

# %%
C_MAX = 10.0
cap = VariationalAutoencoder(capacity=C_MAX, capacity_gamma=100.0, random_state=0, **SETTINGS).fit(X_train)
parts = cap.elbo(X_test, random_state=0)
print("C per epoch: " + ", ".join(f"{c:.1f}" for c in cap.capacity_schedule_))
print(f"capacity objective, C = {cap.capacity_schedule_[-1]:.1f} nats at the end: test KL R = {parts.kl.mean():.2f}, "
      f"reconstruction D = {parts.recon.mean():.2f}, {cap.active_units(X_test)} active units")

# %% [markdown]
# The KL ends near the last $C$ (closer with more epochs and a larger
# $\gamma$): where beta-VAE needs a $\beta$ whose effect on the rate one can
# only find out by training, the capacity objective states the rate itself.

# %% [markdown]
# ## 4. The conditional VAE: generating a chosen digit
#
# A VAE's decoder generates from $z \sim \mathcal N(0, I)$, and which digit
# comes out depends on where $z$ falls. A conditional VAE gives the label to
# both networks:
#
# $$q(z \mid x, y) = \mathcal N(\mu(x, c), \operatorname{diag}\sigma^2(x, c)), \qquad
#   p(x \mid z, y) \text{ from the decoder of } (z, c), \qquad c = \mathrm{onehot}(y),$$
#
# with the prior $\mathcal N(0, I)$ unchanged. Its ELBO bounds
# $-\log p(x \mid y)$. The label is a **side input**: the layer
# `JoinCondition(10)` returns $[X, C]$ with $C$ handed to it before each pass
# (`Sequential.set_condition(C)`); its backward pass returns only the part of
# the gradient that belongs to $X$. In training, `train_minibatch(..., side=onehot)`
# slices the one-hot rows with the same shuffled indices as the images, so
# every minibatch carries both arrays of its examples.
#
# ```
# X (N, 784) -> JoinCondition(10) -> Dense(794, H) -> ELU -> Dense(H, 2K) -> Reparameterize(K)
#            -> JoinCondition(10) -> Dense(K + 10, H) -> ELU -> Dense(H, 784)     (Bernoulli logits)
# ```
#
# `ConditionalVAE` takes the same hyperparameters as `VariationalAutoencoder`;
# every method that runs a network needs the labels: `fit(X, y)`,
# `transform(X, y)`, `elbo(X, y)`, and `sample(n, y=3)`.

# %%
cvae = ConditionalVAE(random_state=0, **SETTINGS).fit(X_train, y_train)
c_parts = cvae.elbo(X_test, y_test, random_state=0)
u = sweep[1.0]
print(f"conditional VAE: -ELBO = {c_parts.neg_elbo.mean():.2f} nats (bound on -log p(x|y)) = "
      f"D {c_parts.recon.mean():.2f} + R {c_parts.kl.mean():.2f}")
print(f"VAE (beta = 1):  -ELBO = {u['D'] + u['R']:.2f} nats (bound on -log p(x))   = D {u['D']:.2f} + R {u['R']:.2f}")
print(f"difference {u['D'] + u['R'] - c_parts.neg_elbo.mean():.2f} nats; "
      f"-log p(x) + log p(x|y) = -log p(y|x) + log(1/p(y)) is at most log 10 = {np.log(10):.2f} in expectation")

if FAST:
    print("(fast mode: two epochs on 2,000 images; the conditional model starts slower, so the comparison above "
          "means nothing until both have trained: about 6 epochs here)")

# %% [markdown]
# **Generating chosen digits.** `samples_per_class` decodes the same 10
# codes $z \sim \mathcal N(0, I)$ with each label, one row per label. With
# the 10 latent units above, the conditional model still keeps much of the
# digit's identity in $z$ (nothing stops it: the encoder sees $x$), so a
# column can look like the same digit whatever the row says. With only
# $K = 2$ latent units the code has no room to spare: the label is the
# cheapest way to say which digit, and $z$ is left with the style.

# %%
save_samples_per_class(cvae, OUT / "samples_per_class_k10.png", n_per_class=10, random_state=0,
                       names=class_names("mnist"),
                       title=f"conditional VAE, K = 10, on {DATA}: one row per label, the same 10 codes per column")
cvae2 = ConditionalVAE(random_state=0, **{**SETTINGS, "n_latent": 2}).fit(X_train, y_train)
print(f"conditional VAE with K = 2: -ELBO = {cvae2.elbo(X_test, y_test, random_state=0).neg_elbo.mean():.2f} nats")
save_samples_per_class(cvae2, OUT / "samples_per_class.png", n_per_class=10, random_state=0,
                       names=class_names("mnist"),
                       title=f"conditional VAE, K = 2, on {DATA}: one row per label, the same 10 codes per column")
print("wrote", OUT / "samples_per_class_k10.png", "and", OUT / "samples_per_class.png")

# %% [markdown]
# In `samples_per_class.png` (K = 2, full mode) each row is the digit its
# label asks for and each column keeps one style (thickness, slant, width)
# across the ten digits; a code far in the tails of $\mathcal N(0, I)$, where
# no training image was encoded, decodes to a smudge in every row. The
# conditional bound is lower than the VAE's (full mode, K = 10: 125.8 against
# 127.1 nats on the MNIST subset, measured): part of what the plain VAE had to
# encode in $z$, and pay for in KL, the conditional model receives for free.
# The gap cannot exceed $\mathbb E[\log p(y\mid x) - \log p(y)] \le \log 10$
# nats on the true likelihoods (the information the label carries about the
# image); a bound that beats it by more would be a bug, or a weaker VAE.
#
# ## Where to go from here
#
# * `python -m numpy_ae vae --conditional --latent 2` for the full-size model
#   with a 2-D code; compare its `latent_codes.png` (codes coloured by class)
#   with the plain VAE's: the less the codes cluster by class, the less of
#   the label $z$ has to carry.
# * `python -m numpy_ae gradcheck`: `layer_join_condition`,
#   `conditional_vae_bernoulli` and `conditional_vae_gaussian_sigma_beta_2`
#   check the join layer and the whole conditional objective with frozen noise.
