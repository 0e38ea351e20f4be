# %% [markdown]
# # Exercise: the contractive autoencoder's Jacobian penalty
#
# The contractive autoencoder (Rifai et al., 2011) adds to the reconstruction
# cost the squared Frobenius norm of the encoder's Jacobian
# $J_f(x) = \partial h/\partial x$, averaged over the examples:
#
# $$P = \frac{\lambda}{N}\sum_n \lVert J_f(x_n)\rVert_F^2, \qquad
#   \lVert J_f(x)\rVert_F^2 = \sum_j g'(z_j)^2 \sum_i W_{ij}^2,$$
#
# for a code $h = g(z)$, $z = xW + b$, with `W` of shape `(D, H)`. In
# `numpy_ae_student/nn/penalties.py` you write:
#
# | function | what |
# |---|---|
# | `_slope_from_output(activation, H)` | $g'(z)$ and $dg'/dh$ as functions of the code $h$ (sigmoid, tanh) |
# | `contractive_penalty(H, W, activation)` | $\lVert J_f(x_n)\rVert_F^2$ of each example |
# | `Contractive.backward(dA)` | the penalty's gradient: into the delta of the code, and into the encoder's `dW` |
#
# `Contractive` sits right after the code activation; its forward pass (given)
# is the identity and records the penalty. The penalty depends on the code
# (through $g'$) AND on the encoder's weights (through $\sum_i W_{ij}^2$), so the
# backward pass has two parts: the term it adds to the incoming delta, and the
# term it ADDS into `self.dense.dW`, where the Dense layer adds its own share
# (as `TiedDense` does). Both carry a factor 2: the derivative of a square.
# The docstrings give the equations; examples are ROWS.

# %%
import numpy as np

from numpy_ae_student.check.gradcheck import check_layer, check_model
from numpy_ae_student.nn.activations import Sigmoid, Tanh
from numpy_ae_student.nn.dense import Dense, TiedDense
from numpy_ae_student.nn.losses import SquaredError
from numpy_ae_student.nn.penalties import Contractive, _slope_from_output, contractive_penalty
from numpy_ae_student.nn.sequential import Sequential

rng = np.random.default_rng(0)
N, D, H = 6, 5, 4  # a small problem: 6 examples, 5 inputs, 4 code units
EPS = 1e-5         # the finite-difference step (see numpy_ae_student/check/gradcheck.py)


def show(result):
    print(result.report())
    assert result.ok, "a wrong gradient: the block marked '<-- wrong gradient here' needs another look"


# %% [markdown]
# ## 1. The slope from the code
# For a sigmoid $g' = h(1-h)$, for tanh $g' = 1 - h^2$; `_slope_from_output`
# also returns $dg'/dh$, which the backward pass needs. Compare with $g'$
# computed from $z$ itself.

# %%
Z = 2.0 * rng.standard_normal((N, H))
for name, g, g_prime in (("sigmoid", lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
                         ("tanh", np.tanh, lambda z: 1 / np.cosh(z) ** 2)):
    slope, dslope = _slope_from_output(name, g(Z))
    step = 1e-6
    fd = (_slope_from_output(name, g(Z) + step)[0] - _slope_from_output(name, g(Z) - step)[0]) / (2 * step)
    print(f"{name}: max |g' - reference| = {np.abs(slope - g_prime(Z)).max():.1e}, "
          f"max |dg'/dh - centred difference| = {np.abs(dslope - fd).max():.1e}")
    assert np.allclose(slope, g_prime(Z), rtol=1e-10, atol=1e-14) and np.allclose(dslope, fd, atol=1e-7)

# %% [markdown]
# ## 2. The Jacobian norm, against finite differences of the encoder
# Move one input coordinate at a time by $\pm\epsilon$ and watch the code move:
# the squared norm of those columns of $J_f$ must equal your closed form.

# %%
W, b = rng.standard_normal((D, H)), 0.1 * rng.standard_normal(H)
X = rng.standard_normal((N, D))


def encode(X):
    return 1 / (1 + np.exp(-(X @ W + b)))


numerical = np.zeros(N)
for i in range(D):
    e = np.zeros(D)
    e[i] = EPS
    numerical += np.square((encode(X + e) - encode(X - e)) / (2 * EPS)).sum(axis=1)
closed = contractive_penalty(encode(X), W, "sigmoid")
print("closed form  ", np.round(closed, 6))
print("differences  ", np.round(numerical, 6))
assert np.allclose(closed, numerical, rtol=1e-8)

# %% [markdown]
# ## 3. The delta of the code
# The layer alone, with the encoder's weights held fixed: `dX` is the incoming
# delta plus $\partial P/\partial h$. (A one-layer model gives the Dense layer
# its `W`.)

# %%
for name, low in (("sigmoid", 0.05), ("tanh", -0.95)):
    dense = Dense(D, H)
    Sequential([dense], SquaredError(), random_state=1)
    show(check_layer(Contractive(2.0, dense, name), rng.uniform(low, 0.95, (N, H)), eps=EPS))

# %% [markdown]
# ## 4. The encoder's weights, in a whole contractive autoencoder
# `Dense -> sigmoid -> Contractive -> TiedDense -> sigmoid` (Rifai et al. tie the
# decoder to the encoder), squared error, weight decay. A wrong share in
# `dense.dW` shows in `dense0.W`; a wrong delta of the code in `dense0.W` and
# `dense0.b` both; the decoder's bias `tieddense3.b` never sees the penalty.

# %%
dense = Dense(D, H)
net = Sequential([dense, Sigmoid(), Contractive(1.0, dense, "sigmoid"), TiedDense(dense), Sigmoid()],
                 SquaredError(), weight_decay=1e-3, random_state=2)
net.theta[...] = rng.standard_normal(net.n_params)  # weights of order 1: the penalty's terms count
show(check_model(net, rng.uniform(0.1, 0.9, (N, D)), eps=EPS))

# %% [markdown]
# ## 5. A tanh encoder, untied
# The same penalty for a tanh code, with a separate decoder.

# %%
dense = Dense(D, H)
net = Sequential([dense, Tanh(), Contractive(2.0, dense, "tanh"), Dense(H, D)], SquaredError(), random_state=3)
net.theta[...] = rng.standard_normal(net.n_params)
show(check_model(net, rng.standard_normal((N, D)), eps=EPS))

# %% [markdown]
# ## 6. What the penalty does
# Train the tied sigmoid autoencoder with L-BFGS on 200 random points near a
# line in 5 dimensions, with and without the penalty: the contraction weight
# trades a little reconstruction for an encoder that moves less when the input
# moves ($\frac1N\sum_n\lVert J_f(x_n)\rVert_F$ smaller). Too large a weight
# (0.3 here) flattens the code altogether: every input gets the same code.

# %%
from scipy.optimize import minimize

t = rng.uniform(-1.0, 1.0, (200, 1))
X = 0.5 + 0.3 * t @ rng.standard_normal((1, D)) / np.sqrt(D) + 0.02 * rng.standard_normal((200, D))
norms = {}
for weight in (0.0, 0.01):
    dense = Dense(D, H)
    layers = [dense, Sigmoid()] + ([Contractive(weight, dense, "sigmoid")] if weight else [])
    net = Sequential(layers + [TiedDense(dense), Sigmoid()], SquaredError(), random_state=4)
    res = minimize(lambda theta: net.loss_and_grad(theta, X), net.theta.copy(), jac=True, method="L-BFGS-B",
                   options={"maxiter": 100})
    net.theta[...] = res.x
    codes = net.forward(X, training=False, layers=net.layers[:2])
    reconstruction = 0.5 * np.mean(np.sum((net.predict(X) - X) ** 2, axis=1))
    norms[weight] = np.mean(np.sqrt(contractive_penalty(codes, dense.W)))
    print(f"contraction {weight}: reconstruction cost {reconstruction:.5f}, mean ||J_f||_F = {norms[weight]:.3f}")
assert norms[0.01] < norms[0.0]
