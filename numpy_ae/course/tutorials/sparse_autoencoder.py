# %% [markdown]
# # Exercise: UFLDL's sparse autoencoder, backpropagation by hand
#
# You write the backward passes of the sparse autoencoder of the UFLDL notes,
# one layer at a time, in the package `numpy_ae_student` next to this file:
#
# | where | what |
# |---|---|
# | `nn/activations.py` | `Sigmoid.backward` |
# | `nn/dense.py` | `Dense.backward` |
# | `nn/penalties.py` | `KLSparsity._slope` (the derivative of KL) and `KLSparsity.backward` |
# | `nn/losses.py` | `SquaredError.backward` |
#
# The docstrings give the equations. Conventions: examples are ROWS, `X` has
# shape `(N, D)`, a dense layer computes `Z = X @ W + b` with `W` of shape
# `(D_in, D_out)`: UFLDL's $W^{(1)}$ is our `W.T`. A backward pass receives
# $\partial J/\partial Y$ and returns $\partial J/\partial X$, and ADDS its
# parameter gradients into `self.dW`, `self.db`.
#
# The cost (UFLDL's, averaged over the N examples):
#
# $$J = \frac{1}{2N}\sum_n \lVert \hat x_n - x_n\rVert^2 + \frac{\lambda}{2}\sum W^2
#       + \beta \sum_j \mathrm{KL}(\rho \,\|\, \hat\rho_j).$$
#
# Each cell below checks one function with a centred-difference gradient
# (`numpy_ae_student.check.gradcheck`): UFLDL's norm-relative difference should be
# below 1e-9. Run the cells in order; a cell fails with `NotImplementedError`
# until you have written the function it checks.

# %%
import numpy as np

from numpy_ae_student.check.gradcheck import check_layer, check_loss, check_model
from numpy_ae_student.nn.activations import Sigmoid
from numpy_ae_student.nn.dense import Dense
from numpy_ae_student.nn.losses import SquaredError
from numpy_ae_student.nn.penalties import KLSparsity
from numpy_ae_student.nn.sequential import Sequential

rng = np.random.default_rng(0)
N, D, H = 6, 5, 4  # a small problem: 6 examples, 5 inputs, 4 hidden units
EPS = 1e-5         # the finite-difference step (see numpy_ae_student/check/gradcheck.py)


def show(result):
    print(result.report())
    assert result.ok, "a wrong gradient: the block marked '<-- wrong gradient here' needs another look"


# %% [markdown]
# ## 1. The sigmoid
# $a = \sigma(z)$, so $\partial J/\partial z = \partial J/\partial a \odot a(1 - a)$.

# %%
show(check_layer(Sigmoid(), 2.0 * rng.standard_normal((N, D)), eps=EPS))

# %% [markdown]
# ## 2. The dense layer
# Three gradients: `dW`, `db` (a sum over the N examples) and `dX`. Mind the
# transposes: every gradient has the shape of what it is the gradient of.

# %%
show(check_layer(Dense(D, H), rng.standard_normal((N, D)), eps=EPS))

# %% [markdown]
# ## 3. The KL sparsity penalty
# Forward is the identity and records $\hat\rho_j$; backward adds
# $\frac{\beta}{N}\,\mathrm{KL}'(\hat\rho_j)$ to every row of the incoming gradient
# (UFLDL: "add the sparsity term to $\delta^{(2)}$"). `_slope` is
# $\mathrm{KL}'(c) = -\rho/c + (1-\rho)/(1-c)$.

# %%
show(check_layer(KLSparsity(sparsity=0.1, beta=3.0), rng.uniform(0.05, 0.95, (N, H)), eps=EPS))

# %% [markdown]
# ## 4. The squared error
# $J = \frac{1}{2N}\sum_n \lVert y_n - t_n\rVert^2$: do not forget the $1/N$.

# %%
show(check_loss(SquaredError(), rng.standard_normal((N, D)), rng.standard_normal((N, D)), eps=EPS))

# %% [markdown]
# ## 5. The whole sparse autoencoder
# The model joins your layers; its gradient check reports every parameter block
# (`dense0.W`, `dense0.b`, `dense3.W`, `dense3.b`).

# %%
net = Sequential([Dense(D, H), Sigmoid(), KLSparsity(0.1, 3.0), Dense(H, D), Sigmoid()], SquaredError(),
                 weight_decay=1e-3, random_state=0)
X = rng.uniform(0.1, 0.9, (N, D))
show(check_model(net, X, eps=EPS))

# %% [markdown]
# ## 6. Train it
# With a correct gradient, L-BFGS (scipy) drives the cost down on 200 random
# "patches" of 5 pixels.

# %%
from scipy.optimize import minimize

X = rng.uniform(0.1, 0.9, (200, D))
J0 = net.loss_and_grad(net.theta, X)[0]
res = minimize(lambda theta: net.loss_and_grad(theta, X), net.theta.copy(), jac=True, method="L-BFGS-B",
               options={"maxiter": 100})
print(f"cost {J0:.4f} -> {res.fun:.4f} after {res.nit} L-BFGS iterations")
assert res.fun < J0
