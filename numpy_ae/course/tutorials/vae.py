# %% [markdown]
# # Exercise: the variational autoencoder's reparameterisation and KL
#
# In `numpy_ae_student/nn/reparameterize.py` you write:
#
# - `gaussian_kl(mu, log_var)`: $\mathrm{KL}(\mathcal N(\mu, e^{\gamma})\,\|\,\mathcal N(0, I))$
#   per example, $-\tfrac12\sum_k (1 + \gamma_k - \mu_k^2 - e^{\gamma_k})$, with
#   $\gamma = \log\sigma^2$ (Kingma & Welling, appendix B);
# - `gaussian_kl_grad(mu, log_var)`: its gradient;
# - `Reparameterize.sigma_and_log_var`: $\sigma$ and $\log\sigma^2$ from the scale the
#   encoder outputs, for both parameterisations (`log_var`, or `sigma` itself);
# - `Reparameterize.backward`: the gradient of $z = \mu + \sigma\odot\varepsilon$
#   (the sampling path) plus the gradient of the KL penalty.
#
# Watch the parameterisation: with `log_var` the encoder outputs
# $\gamma = \log\sigma^2$, so $\sigma = e^{\gamma/2}$ and
# $d\sigma/d\gamma = \sigma/2$. Using `exp(log_var)` as the standard deviation,
# or treating $\gamma$ as $\sigma$, is the classic bug.

# %%
import numpy as np

from numpy_ae_student.check.gradcheck import check_function, check_layer, check_model
from numpy_ae_student.nn.activations import Tanh
from numpy_ae_student.nn.dense import Dense
from numpy_ae_student.nn.losses import BinaryCrossEntropy
from numpy_ae_student.nn.reparameterize import Reparameterize, gaussian_kl, gaussian_kl_grad
from numpy_ae_student.nn.sequential import Sequential

rng = np.random.default_rng(0)
N, D, H, K = 6, 5, 4, 3
EPS = 1e-5


def show(result):
    print(result.report())
    assert result.ok, "a wrong gradient: the block marked '<-- wrong gradient here' needs another look"


# %% [markdown]
# ## 1. The closed-form KL, against Monte Carlo
# $\mathrm{KL}(q\,\|\,p) = \mathbb E_q[\log q(z) - \log p(z)]$: an average over
# 200,000 samples agrees with the closed form to about 3 standard errors.

# %%
mu, log_var = rng.standard_normal((1, K)), rng.uniform(-1.0, 1.0, (1, K))
z = mu + np.exp(log_var / 2) * rng.standard_normal((200_000, K))
log_q = -0.5 * (((z - mu) ** 2) / np.exp(log_var) + log_var + np.log(2 * np.pi)).sum(1)
log_p = -0.5 * (z ** 2 + np.log(2 * np.pi)).sum(1)
mc, se = (log_q - log_p).mean(), (log_q - log_p).std() / np.sqrt(z.shape[0])
print(f"closed form {gaussian_kl(mu, log_var)[0]:.4f}, Monte Carlo {mc:.4f} +- {se:.4f}")
assert abs(gaussian_kl(mu, log_var)[0] - mc) < 5 * se

# %% [markdown]
# ## 2. Its gradient

# %%
w = rng.uniform(0.5, 2.0, N)


def f(x):
    X = x.reshape(N, 2 * K)
    dmu, dlv = gaussian_kl_grad(X[:, :K], X[:, K:])
    return float(w @ gaussian_kl(X[:, :K], X[:, K:])), np.hstack([w[:, None] * dmu, w[:, None] * dlv]).ravel()


show(check_function(f, np.hstack([rng.standard_normal((N, K)), rng.uniform(-2, 1, (N, K))]).ravel(), eps=EPS))

# %% [markdown]
# ## 3. The layer, both parameterisations
# The noise is frozen (`freeze_noise()`) so that the objective is a fixed
# function of the input while the checker perturbs it.

# %%
for parameterization, scale in (("log_var", rng.uniform(-2.0, 1.0, (N, K))),
                                ("sigma", rng.uniform(0.3, 1.5, (N, K)))):
    layer = Reparameterize(K, parameterization)
    layer.freeze_noise()
    show(check_layer(layer, np.hstack([rng.standard_normal((N, K)), scale]), eps=EPS))

# %% [markdown]
# ## 4. A whole (small) VAE
# Encoder `Dense -> tanh -> Dense(H, 2K)`, your layer, decoder
# `Dense -> tanh -> Dense(H, D)`, Bernoulli likelihood from logits.

# %%
rep = Reparameterize(K, "log_var")
rep.freeze_noise()
net = Sequential([Dense(D, H), Tanh(), Dense(H, 2 * K), rep, Dense(K, H), Tanh(), Dense(H, D)],
                 BinaryCrossEntropy(), random_state=0)
show(check_model(net, rng.uniform(0, 1, (N, D)), eps=EPS))
