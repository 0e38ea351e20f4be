# %% [markdown]
# # Exercise: the backward pass of a convolution
#
# In `numpy_ae_student/nn/conv.py` you write `Conv2D.backward`. The forward pass
# pads the input (`Xp`), takes every patch of it (`im2col`, a view `cols` of shape
# `(N, H', W', C, kh, kw)`) and contracts them with the kernel in ONE
# `np.einsum`: a dense layer applied to every patch,
# $Y_{nfij} = b_f + \sum_{c,u,v} W_{fcuv}\,\mathrm{cols}_{nijcuv}$. So the
# backward pass is the dense layer's:
#
# $$\partial J/\partial W_{fcuv} \mathrel{+}= \textstyle\sum_{n,i,j} \delta_{nfij}\,\mathrm{cols}_{nijcuv},\quad
#   \partial J/\partial b_f \mathrel{+}= \textstyle\sum_{n,i,j}\delta_{nfij},\quad
#   \partial J/\partial \mathrm{cols}_{nijcuv} = \textstyle\sum_f \delta_{nfij}\,W_{fcuv},$$
#
# then `col2im` (given) scatter-adds the patch gradients back to the padded image,
# and the padding is cropped off. Read `Conv2D.forward` first: it keeps
# `self.Xp` (the padded input) and `self.cols` for you.

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
