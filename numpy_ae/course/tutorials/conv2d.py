# %% [markdown]
# # Exercise: the backward pass of a convolution
#
# In `numpy_ae_student/nn/conv.py` you write `Conv2D.backward`. The forward pass
# lays every patch of the padded input out as a row of `cols`
# (`im2col`, shape `(N H' W', C kh kw)`) and computes ONE dense product
# `Z = cols @ W_mat.T + b`. So the backward pass is the dense layer's:
#
# $$\partial J/\partial W_{mat} \mathrel{+}= \delta^\top \mathrm{cols},\quad
#   \partial J/\partial b_f \mathrel{+}= \textstyle\sum_{n,i,j}\delta_{nfij},\quad
#   \partial J/\partial \mathrm{cols} = \delta\,W_{mat},$$
#
# with $\delta$ reordered from `(N, F, H', W')` to `(N H' W', F)`; then
# `col2im` (given) scatter-adds the patch gradients back to the padded image,
# and the padding is cropped off. Read `Conv2D.forward` first: it keeps
# `self.cols`, `self.padded_shape` and `self.input_shape` for you.

# %%
import numpy as np

from numpy_ae_student.check.gradcheck import check_layer
from numpy_ae_student.nn.conv import Conv1D, Conv2D

rng = np.random.default_rng(0)
EPS = 1e-5


def show(result):
    print(result.report())
    assert result.ok, "a wrong gradient: the block marked '<-- wrong gradient here' needs another look"


# %% [markdown]
# ## 1. Stride 2, padding 1, a non-square kernel

# %%
show(check_layer(Conv2D(2, 3, (3, 2), stride=2, padding=1), rng.standard_normal((2, 2, 7, 6)), eps=EPS))

# %% [markdown]
# ## 2. Different strides and paddings per axis, a batch of one

# %%
show(check_layer(Conv2D(3, 2, (2, 3), stride=(2, 1), padding=(0, 2)), rng.standard_normal((1, 3, 5, 4)), eps=EPS))

# %% [markdown]
# ## 3. Conv1D runs your code on `(N, C, 1, L)`

# %%
show(check_layer(Conv1D(2, 3, 3, stride=2, padding=2), rng.standard_normal((2, 2, 9)), eps=EPS))
