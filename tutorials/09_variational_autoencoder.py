# %% [markdown]
# # Tutorial 9: the variational autoencoder
#
# Kingma & Welling's "Auto-Encoding Variational Bayes" (2014), read next to the
# VAE section of Hands-On Machine Learning's autoencoder chapter, one idea per
# section, each checked by a cell:
#
# 1. the evidence lower bound (ELBO), and why it bounds $\log p(x)$;
# 2. the KL divergence between two Gaussians in closed form, against Monte Carlo;
# 3. the reparameterisation trick, and the `Reparameterize` layer's
#    forward/backward with a gradient check at frozen noise;
# 4. the two parameterisations of the scale (`log_var` and `sigma`);
# 5. a gradient check of a whole (small) VAE;
# 6. training Hands-On ML's VAE on Fashion-MNIST, the test -ELBO in nats;
# 7. generating images from $z \sim \mathcal N(0, I)$, and reconstructions;
# 8. a 2-D latent space: codes coloured by class, and the decoded manifold;
# 9. the importance-weighted bound $\mathcal L_k$ (Burda et al.), which rises with $k$.
#
# Run it with `python tutorials/09_variational_autoencoder.py` from the
# repository root, or open it as a notebook (the `# %%` lines are cells). With
# `NUMPY_AE_FAST=1` it trains on a few thousand images for one epoch (seconds);
# the full run trains on all 60,000 images for 10 epochs (about 70 s for the
# 20-D model on a quiet 2-core machine, plus 5 epochs of the 2-D one). Figures go to
# `out/tutorials/09_variational_autoencoder/` (or `$NUMPY_AE_OUT/...`). The same
# experiment as a command: `python -m numpy_ae vae` (`numpy_ae/experiments/vae.py`).
#
# **Notation.** Examples are rows: `X` has shape `(N, D)`, D = 784 pixels; K
# latent units. $q(z\mid x) = \mathcal N(\mu(x), \operatorname{diag}\sigma^2(x))$
# is the encoder, $p(x\mid z)$ the decoder (Bernoulli here: the decoder outputs
# one logit per pixel), $p(z) = \mathcal N(0, I)$ the prior. All figures are in
# nats, **summed over pixels and latent units, averaged over examples**
# (DESIGN.md's convention, and pytorch/examples').
#
# **Data.** Fashion-MNIST (or MNIST, whichever `numpy_ae.data.find_mnist` finds
# first, e.g. under `$NUMPY_AE_DATA`). If neither is on disk and cannot be
# downloaded (fast mode never downloads), the tutorial says so loudly and runs
# on a synthetic stand-in: font-drawn digits
# (`numpy_ae.experiments.self_taught.glyph_digits`). Every step runs the same;
# the nats it prints then say nothing about (Fashion-)MNIST.

# %%
import os
import pathlib
import time

import numpy as np

from numpy_ae import VariationalAutoencoder
from numpy_ae.experiments.self_taught import digits_or_stand_in
from numpy_ae.experiments.vae import interpolate_codes, manifold_grid
from numpy_ae.check.gradcheck import check_layer, check_model
from numpy_ae.analysis.class_figures import save_codes
from numpy_ae.analysis.plotting import PIXEL_RANGE, save_image_grid, save_tiles
from numpy_ae.data import class_names
from numpy_ae.nn.reparameterize import Reparameterize, gaussian_kl

FAST = os.environ.get("NUMPY_AE_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NUMPY_AE_OUT", "out/tutorials")) / "09_variational_autoencoder"
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)


# what is on disk first; the full run may download Fashion-MNIST, fast mode never downloads
X_train, y_train, X_test, y_test, DATA = digits_or_stand_in(download=not FAST, n_stand_in=4000 if FAST else 20000,
                                                            test_fraction=1 / 5)
if FAST:  # a few thousand images: seconds, not minutes
    X_train, y_train, X_test, y_test = X_train[:3000], y_train[:3000], X_test[:1000], y_test[:1000]
NAMES = class_names("fashion-mnist" if DATA == "Fashion-MNIST" else "mnist")  # the glyph stand-in: digits too
print(f"{DATA}: train {X_train.shape}, test {X_test.shape}, pixels in [{X_train.min():.0f}, {X_train.max():.0f}]")
assert X_train.min() >= 0.0 and X_train.max() <= 1.0  # a Bernoulli decoder needs inputs in [0, 1]

# %% [markdown]
# ## 1. The evidence lower bound
#
# A latent-variable model generates $x$ by drawing $z \sim p(z)$ and then
# $x \sim p_\theta(x\mid z)$. Its likelihood $\log p_\theta(x) = \log\int
# p_\theta(x\mid z)\,p(z)\,dz$ is an integral over all codes, intractable for a
# neural decoder, and so is the posterior $p_\theta(z\mid x)$. The VAE brings in
# an encoder $q_\phi(z\mid x)$ and uses, for ANY $q$,
#
# $$\log p_\theta(x)
#   = \underbrace{\mathbb E_{q}\bigl[\log p_\theta(x\mid z)\bigr]
#     - \mathrm{KL}\bigl(q_\phi(z\mid x)\,\|\,p(z)\bigr)}_{\text{ELBO } \mathcal L(x)}
#   \;+\; \underbrace{\mathrm{KL}\bigl(q_\phi(z\mid x)\,\|\,p_\theta(z\mid x)\bigr)}_{\ge 0}.$$
#
# (Write $\log p(x) = \mathbb E_q[\log p(x, z) - \log p(z\mid x)]$, which holds
# because $\log p(x)$ does not depend on $z$; add and subtract $\log q(z\mid x)$
# inside; split $\log p(x, z) = \log p(x\mid z) + \log p(z)$.) The last KL is
# never negative, so $\mathcal L(x) \le \log p(x)$: the ELBO is a lower bound on
# the evidence, with equality exactly when $q$ is the true posterior. Maximising
# it over $\theta$ and $\phi$ together raises the likelihood and pulls $q$
# towards the posterior. Its two terms are what a VAE trains: the expected
# reconstruction log-likelihood and the KL to the prior ("latent loss" in
# Hands-On ML). We minimise $-\mathcal L$: reconstruction + KL, in nats.
#
# **Checked on a model where everything is known.** With $p(z) = \mathcal N(0, 1)$
# and $p(x\mid z) = \mathcal N(wz, s^2)$ (one-dimensional, linear), $p(x) =
# \mathcal N(0, w^2 + s^2)$ and the posterior is $\mathcal N(m^*, v^*)$ with
# $v^* = s^2/(w^2 + s^2)$, $m^* = wx/(w^2+s^2)$. For $q = \mathcal N(m, v)$,
# $\mathbb E_q[\log p(x\mid z)] = -\tfrac12\log 2\pi s^2 - \bigl((x - wm)^2 + w^2 v\bigr)/2s^2$.
# Below, for many random $q$: the gap $\log p(x) - \mathcal L$ is positive and
# equals $\mathrm{KL}(q\,\|\,\text{posterior})$ to rounding; at $q$ = the posterior it is 0.

# %%
w, s2, x = 1.7, 0.3, 0.9


def elbo_linear_gaussian(m, v):
    """The ELBO of the 1-D linear-Gaussian model for q = N(m, v), via numpy_ae's gaussian_kl for the KL term."""
    expected_loglik = -0.5 * np.log(2 * np.pi * s2) - ((x - w * m) ** 2 + w ** 2 * v) / (2 * s2)
    return expected_loglik - gaussian_kl(m[:, None], np.log(v)[:, None])


log_px = -0.5 * np.log(2 * np.pi * (w ** 2 + s2)) - x ** 2 / (2 * (w ** 2 + s2))
v_post, m_post = s2 / (w ** 2 + s2), w * x / (w ** 2 + s2)
m, v = rng.normal(0.0, 1.0, 1000), rng.uniform(0.01, 2.0, 1000)
gap = log_px - elbo_linear_gaussian(m, v)
kl_to_posterior = 0.5 * (np.log(v_post / v) + (v + (m - m_post) ** 2) / v_post - 1)
at_posterior = log_px - elbo_linear_gaussian(np.array([m_post]), np.array([v_post]))[0]
print(f"log p(x) = {log_px:.6f}; over 1000 random q: gap log p(x) - ELBO in [{gap.min():.4f}, {gap.max():.2f}], "
      f"max |gap - KL(q || posterior)| = {np.abs(gap - kl_to_posterior).max():.1e}; gap at q = posterior: "
      f"{at_posterior:.1e}")
assert (gap > 0).all() and np.allclose(gap, kl_to_posterior, rtol=1e-10, atol=1e-12) and abs(at_posterior) < 1e-12

# %% [markdown]
# ## 2. The KL term in closed form
#
# For one latent unit, $q = \mathcal N(\mu, \sigma^2)$ and $p = \mathcal N(0, 1)$:
#
# $$\log q(z) = -\tfrac12\log 2\pi - \tfrac12\log\sigma^2 - \frac{(z-\mu)^2}{2\sigma^2},\qquad
#   \log p(z) = -\tfrac12\log 2\pi - \frac{z^2}{2}.$$
#
# Under $q$, $\mathbb E[(z-\mu)^2] = \sigma^2$ and $\mathbb E[z^2] = \mu^2 + \sigma^2$, so
#
# $$\mathrm{KL}(q\,\|\,p) = \mathbb E_q[\log q(z) - \log p(z)]
#   = -\tfrac12\log\sigma^2 - \tfrac12 + \tfrac12(\mu^2 + \sigma^2)
#   = \tfrac12\bigl(\sigma^2 + \mu^2 - 1 - \log\sigma^2\bigr),$$
#
# and with a diagonal covariance the K units are independent, so their KLs
# add: Kingma & Welling's appendix B, Hands-On ML's latent loss
# $\tfrac12\sum(\sigma^2 + \mu^2 - 1 - \log\sigma^2)$. It is 0 only at
# $\mu = 0, \sigma = 1$. `numpy_ae.nn.reparameterize.gaussian_kl(mu, log_var)`
# computes it per example, shapes `(N, K) -> (N,)`, as
# $\tfrac12\sum_k(\operatorname{expm1}\gamma - \gamma + \mu^2)$, $\gamma = \log\sigma^2$.
#
# Against a Monte-Carlo estimate: draw $S$ samples $z \sim q$, average
# $\log q(z) - \log p(z)$, and compare within 4 standard errors.

# %%
N_kl, K_kl, S = 5, 3, 100_000
mu = rng.normal(0.0, 1.0, (N_kl, K_kl))
log_var = rng.uniform(-2.0, 1.0, (N_kl, K_kl))
closed = gaussian_kl(mu, log_var)
eps = rng.standard_normal((S, N_kl, K_kl))
z = mu + np.exp(log_var / 2) * eps
log_q_minus_log_p = (-0.5 * log_var - 0.5 * eps ** 2 + 0.5 * z ** 2).sum(axis=2)  # (S, N): the 2 pi terms cancel
mc, se = log_q_minus_log_p.mean(axis=0), log_q_minus_log_p.std(axis=0) / np.sqrt(S)
for n in range(N_kl):
    print(f"example {n}: closed form {closed[n]:.4f} nats, Monte Carlo {mc[n]:.4f} +- {se[n]:.4f}")
assert (np.abs(mc - closed) < 4 * se).all()

# %% [markdown]
# ## 3. The reparameterisation trick
#
# The reconstruction term $\mathbb E_{q_\phi(z\mid x)}[\log p_\theta(x\mid z)]$
# is estimated with one sample $z \sim q$. But "draw $z$" is not a function of
# $\phi$ that backpropagation can differentiate: $\phi$ changes the
# *distribution* $z$ comes from, not the number drawn, so no gradient flows
# from the decoder back through the sample into $\mu$ and $\sigma$. One can
# still differentiate the density instead (the score-function estimator,
# $\nabla_\phi\mathbb E_q[f] = \mathbb E_q[f(z)\,\nabla_\phi\log q_\phi(z)]$),
# but its variance is large. Kingma & Welling move the randomness to an input:
#
# $$z = \mu + \sigma\odot\varepsilon,\qquad \varepsilon\sim\mathcal N(0, I),$$
#
# has the same distribution, and is now a differentiable function of $\mu$ and
# $\sigma$ for a given $\varepsilon$:
# $\partial z/\partial\mu = 1$, $\partial z/\partial\sigma = \varepsilon$. The
# gradient of $f(z)$ is routed to the encoder like any other layer's.
#
# A one-line illustration: $f(z) = z^2$, $q = \mathcal N(\mu, \sigma^2)$, so
# $\partial_\mu\mathbb E_q[f] = 2\mu$. The pathwise (reparameterised) estimate
# is $f'(z)\,\partial z/\partial\mu = 2z$; the score-function estimate is
# $f(z)\,(z-\mu)/\sigma^2$. Both are unbiased; compare their spread.

# %%
mu0, sigma0 = 1.5, 0.5
z1 = mu0 + sigma0 * rng.standard_normal(100_000)
pathwise, score = 2 * z1, z1 ** 2 * (z1 - mu0) / sigma0 ** 2
for label, g in (("pathwise (reparameterised)", pathwise), ("score function", score)):
    print(f"{label:27s}: mean {g.mean():.3f} (exact {2 * mu0}), standard deviation per sample {g.std():.2f}")
    assert abs(g.mean() - 2 * mu0) < 4 * g.std() / np.sqrt(len(g))
assert pathwise.std() < score.std() / 3

# %% [markdown]
# ### The `Reparameterize` layer
#
# In numpy_ae the trick is a layer, the last of the encoder
# (`numpy_ae/models/variational.py`). Its input `X (N, 2K)` holds $\mu$ in the first K
# columns and $\gamma = \log\sigma^2$ in the last K. In training, `forward`
# draws $\varepsilon$ `(N, K)` from the layer's own Generator and returns
# $z = \mu + e^{\gamma/2}\odot\varepsilon$, recording
# `penalty` $= \beta\cdot\frac1N\sum_{n,k}\mathrm{KL}_{nk}$ (the KL term of the
# objective; $\beta = 1$ here). `backward(dz)` adds both paths into
# `dX = [dmu, dlog_var]`:
#
# $$\frac{\partial J}{\partial\mu} = \delta + \frac{\beta}{N}\mu,\qquad
#   \frac{\partial J}{\partial\gamma} = \tfrac12\,\delta\odot\varepsilon\odot\sigma + \frac{\beta}{2N}\bigl(e^{\gamma} - 1\bigr),
#   \qquad \delta = \frac{\partial J}{\partial z}$$
#
# (the sampling path times $d\sigma/d\gamma = \sigma/2$, plus the KL's own
# gradient). At inference (`training=False`) it returns $\mu$: a VAE's
# `transform` is deterministic. Below: the layer against these formulas
# written out in NumPy.

# %%
N_r, K_r = 6, 3
layer = Reparameterize(K_r, "log_var")
layer.rng = np.random.default_rng(1)       # normally spawned from the model's random_state
mu_r, lv_r = rng.normal(0.0, 1.0, (N_r, K_r)), rng.uniform(-2.0, 1.0, (N_r, K_r))
X_r = np.hstack([mu_r, lv_r])
z_r = layer.forward(X_r, training=True)
eps_r = layer.eps                             # the draw this pass used
sigma_r = np.exp(lv_r / 2)
dz = rng.standard_normal((N_r, K_r))
dX_r = layer.backward(dz).copy()
dmu_expected = dz + mu_r / N_r
dlv_expected = 0.5 * dz * eps_r * sigma_r + 0.5 * np.expm1(lv_r) / N_r
print(f"z = mu + exp(log_var/2) * eps: max error {np.abs(z_r - (mu_r + sigma_r * eps_r)).max():.1e}; "
      f"penalty {layer.penalty:.6f} = mean KL {gaussian_kl(mu_r, lv_r).mean():.6f}")
print(f"backward: dmu max error {np.abs(dX_r[:, :K_r] - dmu_expected).max():.1e}, "
      f"dlog_var max error {np.abs(dX_r[:, K_r:] - dlv_expected).max():.1e}")
assert np.allclose(z_r, mu_r + sigma_r * eps_r, rtol=1e-14, atol=1e-14)
assert np.isclose(layer.penalty, gaussian_kl(mu_r, lv_r).mean(), rtol=1e-12)
assert np.allclose(dX_r[:, :K_r], dmu_expected, rtol=1e-13) and np.allclose(dX_r[:, K_r:], dlv_expected, rtol=1e-13)
assert np.array_equal(layer.forward(X_r, training=False), mu_r)   # inference: the code is mu

# %% [markdown]
# ### Gradient check at frozen $\varepsilon$
#
# `check_layer` (`numpy_ae/check/gradcheck.py`) checks a layer's backward against its
# forward on $J = \sum R\odot z + \text{penalty}$ with a fixed random $R$, by
# centred differences with $\epsilon = 10^{-5}$ (see Tutorial 1 for why not
# $10^{-4}$), against UFLDL's bound of 1e-9 on the norm-relative difference.
# A centred difference compares $J$ at two nearby points; if every evaluation
# drew a new $\varepsilon$, the difference would be mostly noise.
# `freeze_noise()` keeps the next draw for all later passes, so the checker
# sees one smooth function of $(\mu, \gamma)$ (this is "the gradient at fixed
# $\varepsilon$", exactly what the reparameterisation trick differentiates).
# Without it, the checker evaluates $J$ twice at the same point first and
# refuses to give a verdict.

# %%
EPS = 1e-5
layer = Reparameterize(K_r, "log_var")
layer.freeze_noise()
result = check_layer(layer, X_r, random_state=3, eps=EPS, name="Reparameterize (log_var), eps frozen")
print(result.report())
assert result.rel_diff < 1e-9

try:
    check_layer(Reparameterize(K_r, "log_var"), X_r, random_state=3, eps=EPS)
    raise AssertionError("the checker should have refused a layer drawing fresh noise")
except ValueError as refusal:
    print(f"NOT frozen: {refusal}")

# %% [markdown]
# ## 4. Two parameterisations of the scale
#
# The encoder's last Dense layer outputs $2K$ unconstrained numbers, but
# $\sigma$ must be positive (or at least $\sigma^2 > 0$). Hands-On ML shows two
# ways:
#
# * **`sigma`**: output $\sigma$ itself; latent loss
#   $\tfrac12\sum(\sigma^2 + \mu^2 - 1 - \log(\epsilon + \sigma^2))$, where a small
#   $\epsilon$ keeps $\log 0$ away (numpy_ae uses the dtype's smallest normal
#   number $\tau$, so the guard changes nothing wherever $\sigma^2$ is a normal
#   number). A negative output is harmless: $\mu + \sigma\varepsilon$ has the
#   same distribution with $|\sigma|$, and the KL depends on $\sigma^2$ only.
# * **`log_var`** (the default, and the form most code uses): output
#   $\gamma = \log\sigma^2$, any real number; then
#   $\sigma = \exp(\gamma/2)$ and the latent loss is the simpler
#   $\tfrac12\sum(e^{\gamma} + \mu^2 - 1 - \gamma)$, with no log of 0 anywhere.
#
# A misprint to be aware of: a widely read translation of Hands-On ML gives
# $\sigma = \exp(2/\gamma)$. It is $\exp(\gamma/2)$:
# $e^{\gamma/2} = (\sigma^2)^{1/2} = \sigma$. The misprinted form is not even
# defined at $\gamma = 0$ (unit variance, the prior's), and elsewhere agrees
# with the right one only on which side of 1 $\sigma$ lies. (A related, real bug: a well-known NumPy VAE used
# `exp(log_var)` as the standard deviation while its KL treated it as the
# variance; that is why numpy_ae spells the parameterisation in its names.)
#
# Below: the two layers at equivalent parameters ($\sigma = e^{\gamma/2}$),
# with the same $\varepsilon$, give the same $z$ and the same KL, and their
# scale gradients obey the chain rule
# $\partial J/\partial\gamma = \partial J/\partial\sigma\cdot\sigma/2$. Then
# the `sigma` layer's own gradient check.

# %%
gamma = np.log(np.array([4.0, 1.0, 0.25]))       # sigma^2 = 4, 1, 1/4: sigma = 2, 1, 1/2
print(f"gamma = {np.round(gamma, 4)}: exp(gamma/2) = {np.exp(gamma / 2)}, "
      f"misprinted exp(2/gamma) = {np.round(np.exp(2 / gamma[[0, 2]]), 4)} (and undefined at gamma = 0)")
assert np.allclose(np.exp(gamma / 2), [2.0, 1.0, 0.5]) and not np.allclose(np.exp(2 / gamma[[0, 2]]), [2.0, 0.5])

by_log_var, by_sigma = Reparameterize(K_r, "log_var"), Reparameterize(K_r, "sigma")
by_log_var.rng, by_sigma.rng = np.random.default_rng(7), np.random.default_rng(7)   # the same eps
z_lv = by_log_var.forward(np.hstack([mu_r, lv_r]), training=True)
z_s = by_sigma.forward(np.hstack([mu_r, np.exp(lv_r / 2)]), training=True)
d_lv, d_s = by_log_var.backward(dz)[:, K_r:].copy(), by_sigma.backward(dz)[:, K_r:].copy()
print(f"same eps, sigma = exp(log_var/2): max |z difference| {np.abs(z_lv - z_s).max():.1e}; "
      f"KL {by_log_var.penalty:.12f} (log_var) vs {by_sigma.penalty:.12f} (sigma); "
      f"max |dJ/dgamma - dJ/dsigma * sigma/2| {np.abs(d_lv - d_s * sigma_r / 2).max():.1e}")
assert np.allclose(z_lv, z_s, rtol=1e-14, atol=1e-14) and np.isclose(by_log_var.penalty, by_sigma.penalty, rtol=1e-12)
assert np.allclose(d_lv, d_s * sigma_r / 2, rtol=1e-12, atol=1e-15)

layer = Reparameterize(K_r, "sigma")
layer.freeze_noise()
result = check_layer(layer, np.hstack([mu_r, np.exp(lv_r / 2)]), random_state=4, eps=EPS,
                     name="Reparameterize (sigma), eps frozen")
print(result.report())
assert result.rel_diff < 1e-9

# %% [markdown]
# ## 5. A gradient check of a whole VAE
#
# `VariationalAutoencoder` is a `Sequential` like every other model in the
# library: Dense and activation layers, `Reparameterize` at the end of the
# encoder, a decoder mirroring it, and the Bernoulli reconstruction loss
# (`BinaryCrossEntropy` from logits, summed over pixels, averaged over
# examples). Its objective is
#
# $$J(\theta) = \frac1N\sum_n\Bigl[-\log p(x_n\mid z_n) + \beta\,\mathrm{KL}\bigl(q(z\mid x_n)\,\|\,\mathcal N(0, I)\bigr)\Bigr],
#   \qquad z_n = \mu(x_n) + \sigma(x_n)\odot\varepsilon_n,$$
#
# and `check_model` checks `loss_and_grad` block by block, on a small network
# (6 inputs, 4 tanh units, K = 3) with every noise layer frozen, in both
# parameterisations.

# %%
X_small = np.random.default_rng(5).uniform(0.0, 1.0, (8, 6))
for parameterization in ("log_var", "sigma"):
    small = VariationalAutoencoder(hidden_layer_sizes=(4,), n_latent=3, activation="tanh",
                                   parameterization=parameterization, random_state=6).initialize(6)
    small.reparameterize_.freeze_noise()
    result = check_model(small.network_, X_small, eps=EPS, name=f"6-4-3-4-6 VAE ({parameterization}), eps frozen")
    print(result.report())
    assert result.rel_diff < 1e-9

# %% [markdown]
# ## 6. Hands-On ML's VAE on Fashion-MNIST
#
# The network of Hands-On ML's VAE section: 784-500-500 ELU units, an output
# of $2 \times 20$ ($\mu$ and $\gamma$), the reparameterisation, and a
# 20-500-500-784 ELU decoder whose outputs are Bernoulli logits; Adam with
# learning rate $10^{-3}$, minibatches of 128, He initialisation, float32 (the
# gradient checks above use float64). These are the estimator's defaults.
#
# After training we report the test negative ELBO per image, in nats, with one
# sample of $\varepsilon$ per image (`vae.elbo(X, random_state=0)`): the
# reconstruction term $-\log p(x\mid z)$ (Bernoulli cross-entropy summed over
# the 784 pixels) plus the KL term (summed over the 20 units). For scale: a
# model that ignores the image and predicts every pixel's training-set mean
# intensity costs the cross-entropy of those means; a coin flip per pixel
# costs $784\log 2 = 543$ nats, and the untrained VAE, whose logits are
# random, costs more than that.
# The reference: 244.5 nats on Fashion-MNIST after 10 epochs.

# %%
EPOCHS = 2 if FAST else 10
vae = VariationalAutoencoder(hidden_layer_sizes=(500, 500), n_latent=20, activation="elu",
                             parameterization="log_var", likelihood="bernoulli", epochs=EPOCHS, batch_size=128,
                             learning_rate=1e-3, dtype="float32", verbose=0 if FAST else 1, random_state=0)
vae.initialize(X_train.shape[1])                   # the same weights fit starts from (random_state=0)
untrained = vae.elbo(X_test, random_state=0)
untrained_ink = float(vae.sample(60, random_state=0).mean())   # for section 7
start = time.perf_counter()
vae.fit(X_train)
seconds = time.perf_counter() - start
parts = vae.elbo(X_test, random_state=0)
p = np.clip(X_train.mean(axis=0, dtype=np.float64), 1e-6, 1 - 1e-6)
Xt = X_test.astype(np.float64)
pixel_means = float(-(Xt * np.log(p) + (1 - Xt) * np.log1p(-p)).sum(axis=1).mean())
print(f"trained on {len(X_train)} {DATA} images for {EPOCHS} epoch(s) in {seconds:.1f} s")
print(f"test -ELBO {parts.neg_elbo.mean():.2f} nats per image = reconstruction {parts.recon.mean():.2f} "
      f"+ KL {parts.kl.mean():.2f}  (untrained: {untrained.neg_elbo.mean():.1f}; "
      f"pixel means alone: {pixel_means:.1f})")
kl_units = vae.kl_per_unit(X_test)
print(f"KL per latent unit (nats): {np.round(kl_units, 2).tolist()}; "
      f"{vae.active_units(X_test)} of 20 units active (Burda et al.: Var_x(mu) > 0.01)")
assert np.allclose(parts.neg_elbo, parts.recon + parts.kl) and (parts.kl > 0).all()
assert np.isclose(kl_units.sum(), parts.kl.mean(), rtol=1e-6)
assert untrained.neg_elbo.mean() > 784 * np.log(2)
assert parts.neg_elbo.mean() < min(untrained.neg_elbo.mean() - 100, pixel_means)
if not FAST and DATA == "Fashion-MNIST":
    assert parts.neg_elbo.mean() < 255  # the reference: 244.5 nats after 10 epochs

# %% [markdown]
# ## 7. Generating new images, and reconstructions
#
# The decoder alone is a generative model: draw $z \sim p(z) = \mathcal N(0, I)$
# and decode (`vae.sample(60)`, Hands-On ML's "generating digits"; the figure
# shows the decoder's mean, the pixel probabilities). This works because the
# KL term pulled every $q(z\mid x)$ towards the prior, so codes drawn from the
# prior land where the decoder has been trained. The generated images should
# look like the data set's classes; they are blurrier than the data, the usual
# VAE look (the mean of a Bernoulli decoder, not a sample from it).
#
# Reconstructions decode $z = \mu(x)$ (`vae.reconstruct`), and the
# interpolation decodes the straight line between two test images' codes
# (`interpolate_codes` from `numpy_ae/experiments/vae.py`).

# %%
generated = vae.sample(60, random_state=0)
save_tiles(generated, OUT / "generated.png", shape=(28, 28), n_cols=10, normalize=None, value_range=PIXEL_RANGE,
           scale=2, title=f"60 images decoded from z ~ N(0, I) ({DATA})")
save_image_grid([("test image", X_test[:10]), ("reconstruction", vae.reconstruct(X_test[:10]))],
                OUT / "reconstructions.png", image_shape=(28, 28), value_range=PIXEL_RANGE,
                title=f"{DATA} test images and their reconstructions (z = mu)")
i, j = 0, int(np.flatnonzero(y_test != y_test[0])[0])
save_image_grid([(f"{NAMES[y_test[i]]} -> {NAMES[y_test[j]]}", interpolate_codes(vae, X_test[i], X_test[j]))],
                OUT / "interpolation.png", image_shape=(28, 28), value_range=PIXEL_RANGE,
                title="decoding the straight line between two test images' codes")
ink_gap, untrained_gap = abs(generated.mean() - X_test.mean()), abs(untrained_ink - X_test.mean())
print(f"generated: {generated.shape}, mean pixel {generated.mean():.3f} (test images: {X_test.mean():.3f}, "
      f"the untrained decoder's samples: {untrained_ink:.3f}); figures in {OUT}")
assert generated.shape == (60, 784) and generated.min() >= 0 and generated.max() <= 1
assert ink_gap < 0.75 * untrained_gap  # training moved the samples' ink towards the data's ...
if not FAST:
    assert ink_gap < 0.05               # ... and after a full run they carry about as much ink as the data
recon100 = vae.reconstruct(X_test[:100])
own = np.linalg.norm(recon100 - X_test[:100], axis=1).mean()
other = np.linalg.norm(recon100 - np.roll(X_test[:100], 1, axis=0), axis=1).mean()
print(f"reconstructions: mean distance to their own image {own:.2f}, to another test image {other:.2f}")
assert own < 0.7 * other  # a reconstruction resembles its own input, not just "an image of the data set"

# %% [markdown]
# ## 8. A 2-D latent space
#
# With K = 2 the codes can be drawn. Two pictures from Kingma & Welling
# (figure 4) and Hands-On ML: the test images' codes $\mu(x)$ coloured by
# class, and the decoder evaluated on a 15 x 15 grid of the prior's quantiles
# $\Phi^{-1}(0.05), \dots, \Phi^{-1}(0.95)$ (`manifold_grid`). The KL term keeps
# the codes on the prior's scale: a spread of about 1 per axis, nearly all
# within a few units of the origin, so the grid of prior quantiles covers
# where the data are (centred only roughly: the KL penalises each
# $q(z\mid x)$, not the cloud of all codes). Classes occupy regions, and the
# grid shows one class morphing into the next.

# %%
vae2 = VariationalAutoencoder(hidden_layer_sizes=(500, 500), n_latent=2, activation="elu", epochs=EPOCHS if FAST else 5,
                              dtype="float32", random_state=0).fit(X_train)
codes = vae2.transform(X_test).astype(np.float64)
train_codes = vae2.transform(X_train).astype(np.float64)
centroids = np.array([train_codes[y_train == c].mean(axis=0) for c in range(10)])   # one per class, from training codes
nearest = np.argmin(((codes[:, None, :] - centroids[None]) ** 2).sum(axis=2), axis=1)
accuracy = float((nearest == y_test).mean())
parts2 = vae2.elbo(X_test, random_state=0)
print(f"2-D VAE: test -ELBO {parts2.neg_elbo.mean():.2f} = {parts2.recon.mean():.2f} + KL {parts2.kl.mean():.2f}; "
      f"codes mean {np.round(codes.mean(axis=0), 2)}, std {np.round(codes.std(axis=0), 2)}, "
      f"{(np.linalg.norm(codes, axis=1) < 4).mean():.1%} within radius 4; "
      f"nearest class centroid in code space: {accuracy:.2f} correct (chance 0.10)")
assert (codes.std(axis=0) > 0.3).all() and (codes.std(axis=0) < 2.5).all()
assert (np.linalg.norm(codes, axis=1) < 4).mean() > 0.9
assert accuracy > (0.2 if FAST else 0.5)  # at least twice chance after a short run; 0.62 after the full one

# one colour per class, the colour bar labelled with the class names (numpy_ae.analysis.class_figures)
save_codes([(None, codes, y_test, None)], OUT / "latent_codes.png", NAMES, xlabel="z1 (mu)", ylabel="z2 (mu)",
           panel_px=520, title=f"test codes mu(x) of {DATA}, coloured by class")
save_tiles(manifold_grid(vae2, n=15), OUT / "manifold.png", shape=(28, 28), n_cols=15, normalize=None,
           value_range=PIXEL_RANGE,
           title="the decoder over the 2-D latent space (prior quantiles 0.05..0.95)")

# %% [markdown]
# ## 9. A tighter bound: importance weighting
#
# The ELBO is one bound among many. Burda, Grosse & Salakhutdinov (2016) average
# $k$ importance weights $w_j = p(x\mid z_j)\,p(z_j)/q(z_j\mid x)$,
# $z_j \sim q(z\mid x)$, inside the log:
#
# $$\mathcal L_k(x) = \mathbb E\Bigl[\log\frac1k\sum_{j=1}^{k} w_j\Bigr] \le \log p(x).$$
#
# Since $\mathbb E[w_j] = p(x)$, Jensen's inequality gives the bound; $\mathcal L_1$
# is the ELBO, $\mathcal L_k$ rises with $k$ and tends to $\log p(x)$ as
# $k\to\infty$ (papers report $-\mathcal L_{5000}$ as the "test
# log-likelihood"). `vae.importance_weighted_bound(X, k)` computes it per
# example with log-sum-exp. The gap between $\mathcal L_1$ and $\mathcal L_{100}$
# is a lower bound on how much the ELBO underestimates $\log p(x)$ because $q$ is
# not the true posterior.

# %%
X_iw = X_test[:200 if FAST else 1000]
bounds = {k: float(vae.importance_weighted_bound(X_iw, k=k, random_state=1).mean()) for k in (1, 10, 100)}
elbo_iw = -vae.elbo(X_iw, random_state=2).neg_elbo
se_elbo = float(elbo_iw.std() / np.sqrt(len(elbo_iw)))
print(f"{len(X_iw)} test images, mean bound in nats: " + ", ".join(f"L_{k} = {b:.2f}" for k, b in bounds.items())
      + f"; ELBO (another eps) {elbo_iw.mean():.2f} +- {se_elbo:.2f}")
assert bounds[1] < bounds[10] < bounds[100]
assert abs(bounds[1] - elbo_iw.mean()) < 2.0 + 4 * se_elbo  # L_1 is an estimate of the ELBO (paired draws differ)

# %% [markdown]
# ## What to expect
#
# The full run on Fashion-MNIST (all 60,000 training images, 10 epochs,
# float32, seed 0; test set of 10,000) printed: test -ELBO 244.47 nats per
# image = reconstruction 228.02 + KL 16.45 (untrained 984.1, pixel means alone
# 385.0; `python -m numpy_ae vae` measured the same 244.5), all 20 units active
# by Burda et al.'s criterion although three of them carry only 0.01 nats;
# the 2-D model after 5 epochs 265.41 = 259.35 + KL 6.06, its nearest class
# centroid right for 62% of the test codes; on 1,000 test images
# $\mathcal L_1 = -243.99$, $\mathcal L_{10} = -241.00$,
# $\mathcal L_{100} = -239.97$ nats: the ELBO underestimates $\log p(x)$ by at
# least 4 nats. The generated images are recognisable garments (shirts,
# dresses, trousers, shoes, boots, bags), blurrier than the data; in the 2-D
# codes trousers, bags and the three kinds of shoe have regions of their own,
# while the upper-body garments (T-shirt, pullover, coat, shirt) overlap. In
# fast mode (3,000 images, 2 epochs) the numbers are some 50 nats worse and
# the samples are mostly blobs; every assertion holds in both modes.
#
# Things to try: `parameterization="sigma"` (the same objective; does training
# differ?); `beta=4` (a beta-VAE: a larger KL weight, blurrier reconstructions,
# fewer active units; tutorial 10); `n_latent=50` and watch `kl_per_unit` for
# units the model leaves at the prior (posterior collapse).
