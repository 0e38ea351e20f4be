# %% [markdown]
# # Exercise: softmax regression (UFLDL)
#
# In `numpy_ae_student/nn/losses.py` you write `SoftmaxCrossEntropy.forward` and
# `.backward`. With logits `Z = X @ W + b` of shape `(N, K)` and labels $y_n$:
#
# $$J = -\frac1N\sum_n \log\mathrm{softmax}(Z)_{n, y_n},\qquad
#   \frac{\partial J}{\partial Z} = \frac1N\bigl(\mathrm{softmax}(Z) - \mathrm{onehot}(y)\bigr).$$
#
# Targets are either labels `(N,)` or a matrix `(N, K)` of probabilities (the
# docstring says what to do then). Compute the log-softmax stably: subtract each
# row's maximum before `exp`, so logits of 1000 neither overflow nor give `nan`.

# %%
import numpy as np

from numpy_ae_student.check.gradcheck import check_loss, check_model
from numpy_ae_student.models.softmax import SoftmaxRegression
from numpy_ae_student.nn.losses import SoftmaxCrossEntropy

rng = np.random.default_rng(0)
N, D, K = 6, 5, 3
EPS = 1e-5


def show(result):
    print(result.report())
    assert result.ok, "a wrong gradient: the block marked '<-- wrong gradient here' needs another look"


# %% [markdown]
# ## 1. Values: uniform logits give log K; huge logits stay finite

# %%
loss = SoftmaxCrossEntropy()
print(loss.forward(np.zeros((N, K)), rng.integers(0, K, N)), "should be log 3 =", np.log(3))
assert np.isclose(loss.forward(np.zeros((N, K)), rng.integers(0, K, N)), np.log(3))
print(loss.forward(np.array([[1000.0, 0.0, -1000.0]]), np.array([0])), "should be 0")

# %% [markdown]
# ## 2. The gradient, for labels and for probability targets

# %%
show(check_loss(SoftmaxCrossEntropy(), 3 * rng.standard_normal((N, K)), rng.integers(0, K, N), eps=EPS))
show(check_loss(SoftmaxCrossEntropy(), 3 * rng.standard_normal((N, K)), rng.dirichlet(np.ones(K), N), eps=EPS))

# %% [markdown]
# ## 3. The whole model, with weight decay, then training
# `SoftmaxRegression` is one `Dense(D, K)` layer and your loss, trained with L-BFGS.

# %%
model = SoftmaxRegression(weight_decay=0.1, random_state=0).initialize(D, np.arange(K))
model.theta[...] = rng.standard_normal(model.theta.shape)
show(check_model(model.network_, rng.standard_normal((N, D)), rng.integers(0, K, N), eps=EPS))

y = np.repeat(np.arange(K), 50)
X = 4.0 * np.eye(K, D)[y] + rng.standard_normal((150, D))
clf = SoftmaxRegression(weight_decay=1e-4, max_iter=100, random_state=0).fit(X, y)
print(f"training accuracy {clf.score(X, y):.2f} on three blobs")
assert clf.score(X, y) > 0.95
