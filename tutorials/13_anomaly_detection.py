# %% [markdown]
# # Tutorial 13: anomaly detection with autoencoders
#
# An autoencoder trained on normal data reconstructs normal data well and
# anything else badly, so its reconstruction error is an anomaly score. This
# tutorial applies that idea in two parts:
#
# **Part 1, time series** (this file): the Keras example
# "Timeseries anomaly detection using an Autoencoder" (trained on NAB's
# `art_daily_small_noise`, tested on `art_daily_jumpsup`), rebuilt in NumPy,
# run on a synthetic series of the same family with five kinds of anomaly,
# and compared with two baselines on the same windows:
#
# 1. the data: a daily cycle plus noise, and five labelled anomalies;
# 2. windows of one day at stride 1, as a view that copies nothing;
# 3. the 1-D convolutional autoencoder (the Keras network, 9,505 parameters),
#    its gradient check, and its training;
# 4. the threshold (the largest training-window error) and the point rule
#    (a point is anomalous when every window covering it is);
# 5. scores: point-level precision/recall/F1, window-level ROC AUC, against
#    a rolling z-score and PCA's reconstruction error, for every kind.
#
# **Part 2, images** is left for a later section of this file (the issue's
# tutorial covers both): it can be appended after the last cell, reusing the
# imports and `OUT`, `FAST` above; part 1 writes its figures to the same folder.
#
# Run it with `python tutorials/13_anomaly_detection.py` from the repository
# root, or open it as a notebook (the `# %%` lines are cells). With
# `NUMPY_AE_FAST=1` it uses 6 days of 48 steps and 3 epochs (seconds); the
# full run uses NAB's sizes (14 days of 288 five-minute steps) and the Keras
# training (up to 50 epochs, early stopping): a few minutes. Figures go to
# `out/tutorials/13_anomaly_detection/` (or `$NUMPY_AE_OUT/...`). The same
# experiment as a command: `python -m numpy_ae anomaly-timeseries`
# (`numpy_ae/experiments/anomaly_timeseries.py`).
#
# **Notation.** A series has `T` points; a window `L` steps (`window`);
# there are `N = T - L + 1` windows, stored as `(N, C, L)` arrays with
# `C = 1` channel (channels first, as every numpy_ae convolution).

# %%
import os
import pathlib
import time

import numpy as np

from numpy_ae import Conv1DAutoencoder
from numpy_ae.experiments.anomaly_timeseries import save_anomaly_figure
from numpy_ae.experiments.denoising import one_blas_thread
from numpy_ae.check.gradcheck import check_model
from numpy_ae.analysis.plotting import new_figure
from numpy_ae.data.series import KINDS, make_nab_like, sliding_windows, standardize
from numpy_ae.analysis.anomaly import detect, flag_points

FAST = os.environ.get("NUMPY_AE_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NUMPY_AE_OUT", "out/tutorials")) / "13_anomaly_detection"
OUT.mkdir(parents=True, exist_ok=True)
PERIOD = 48 if FAST else 288          # steps per day (288: one value every 5 minutes, as NAB)
DAYS = 6 if FAST else 14              # NAB's artificial series hold 14 days
EPOCHS = 3 if FAST else 50            # Keras: 50, with early stopping (patience 5)
WINDOW = PERIOD                       # one day per window, as in the Keras example
print(f"{'FAST mode: ' if FAST else ''}{DAYS} days of {PERIOD} steps, windows of {WINDOW}, up to {EPOCHS} epochs")

# %% [markdown]
# ## 1. The data: NAB's `art_daily` family
#
# NAB's artificial series are synthetic: a square-ish daily cycle (about 20 at
# night, 80 in the day) plus noise. `make_nab_like` draws one of that family:
# low until 06:00, a two-hour ramp, high from 08:00 to 18:00, a ramp down to
# 20:00 (the docstring gives the formula), plus Gaussian noise of standard
# deviation 2. A test series carries one anomaly on day `int(0.7 * days)`,
# labelled point by point:
#
# | kind | what happens | labelled |
# |---|---|---|
# | `jump-up` | the day's high phase rises by 60 (to ~140) | 06:00-20:00 |
# | `jump-down` | the high phase falls by 40 (to ~40) | 06:00-20:00 |
# | `flat-line` | the sensor sticks at its 06:00 value | 12 hours from 06:00 |
# | `noise-burst` | 5x the noise | 6 hours from 09:00 |
# | `frequency-change` | two daily cycles in one day | the whole day |
#
# The training series (`kind="none"`) has no anomaly, and a different seed
# from every test series.

# %%
train = make_nab_like("none", n_days=DAYS, period=PERIOD, random_state=0)
tests = {kind: make_nab_like(kind, n_days=DAYS, period=PERIOD, random_state=1) for kind in KINDS if kind != "none"}
print(f"training series: {train.values.size} points from {train.timestamps[0]} to {train.timestamps[-1]}")
for kind, s in tests.items():
    where = np.flatnonzero(s.labels)
    print(f"  {kind:<17} {s.labels.sum():4d} labelled points, {s.timestamps[where[0]]} .. {s.timestamps[where[-1]]}")

fig = new_figure(1100, 900)
for i, (name, s) in enumerate([("training (no anomaly)", train)] + list(tests.items())):
    ax = fig.add_subplot(6, 1, i + 1)
    days = np.arange(s.values.size) / PERIOD
    ax.plot(days, s.values, lw=0.6)
    if s.labels.any():
        a, b = np.flatnonzero(s.labels)[[0, -1]]
        ax.axvspan(days[a], days[b], color="tab:red", alpha=0.2, lw=0)
    ax.set_ylabel(name, rotation=0, ha="right", fontsize=8)
    ax.set_ylim(0, 160)
    ax.tick_params(labelsize=7)
fig.subplots_adjust(left=0.17, right=0.98, top=0.98, bottom=0.04, hspace=0.35)
fig.savefig(OUT / "series.png")
print("wrote", OUT / "series.png")

# %% [markdown]
# ## 2. Windows of one day, as a view
#
# The Keras example stacks `T - L + 1` copies of overlapping slices: for 14
# days that is 3,745 windows of 288 values, 8.6 MB for 32 KB of data.
# `sliding_windows` returns the same `(N, 1, L)` array as a **view**
# (`numpy.lib.stride_tricks.sliding_window_view`): window `j+1` starts one
# element after window `j`, so the strides do the work and nothing is
# copied. The view is read-only (a write would change `L` windows at once).
#
# Both series are standardised by the TRAINING mean and standard deviation,
# as in the Keras example: the test series must not be rescaled by its own
# statistics, or a jump would shrink.

# %%
mean, std, train_z = standardize(train.values)
W_train = sliding_windows(train_z, WINDOW)
print(f"windows {W_train.shape}, strides {W_train.strides} bytes, shares memory with the series: "
      f"{np.shares_memory(W_train, train_z)}, writeable: {W_train.flags.writeable}")
print(f"training mean {mean:.2f}, std {std:.2f}; window 5 equals train_z[5:5+L]: "
      f"{np.array_equal(W_train[5, 0], train_z[5:5 + WINDOW])}")

# %% [markdown]
# ## 3. The network: Keras' 1-D convolutional autoencoder
#
# `Conv1DAutoencoder()` with its defaults is the Keras example:
#
#     Conv1D(32, 7, stride 2, same) - ReLU - Dropout(0.2) - Conv1D(16, 7, stride 2, same) - ReLU
#     ConvTranspose1D(16, 7, stride 2) - ReLU - Dropout(0.2) - ConvTranspose1D(32, 7, stride 2) - ReLU
#     ConvTranspose1D(1, 7, same)
#
# A window of 288 steps becomes 144 then 72 steps of 16 channels (the code),
# and comes back to 288: each transposed convolution is given the padding and
# output padding that restore exactly the length its convolution read
# (`numpy_ae.models.sequence` explains the rule). Dropout (`numpy_ae.nn.noise.Dropout`,
# inverted: kept entries are scaled by 1/(1-r)) is active only in training and
# draws its masks from the model's seeded Generator. The parameter count
# matches Keras' `model.summary()` (for any window length; the count does not
# depend on L).
#
# Every layer's backward pass is checked numerically; here the whole network,
# small, with its dropout masks frozen so that each evaluation sees one function.

# %%
ae = Conv1DAutoencoder(random_state=0).initialize(288)
print(f"Keras network on windows of 288: {ae.n_params_} parameters (Keras: 9,505); code shape {ae.code_shape_}")
small = Conv1DAutoencoder(filters=(3, 2), kernel_size=3, dropout=0.25, activation="tanh", random_state=1)
small.initialize(11)
for layer in small.network_.layers:
    if hasattr(layer, "freeze_noise"):
        layer.freeze_noise()
result = check_model(small.network_, np.random.default_rng(2).standard_normal((4, 11)), eps=1e-5)
print(f"gradient check of a small Conv1DAutoencoder (11 -> 6 -> 3 -> 6 -> 11 steps): relative difference "
      f"{result.rel_diff:.1e} (tolerance {result.tol:.0e}): {'ok' if result.ok else 'FAILED'}")
assert result.ok

# %% [markdown]
# Training follows the example: Adam at 1e-3, minibatches of 128, up to 50
# epochs, the last 10% of the windows held out, early stopping after 5 epochs
# without a lower validation loss (here the best epoch is restored; Keras'
# callback, without `restore_best_weights`, keeps the last). The held-out
# windows overlap the trained ones (stride 1), exactly as Keras'
# `validation_split` does on these arrays, so the validation loss is an
# optimistic stop signal, not a test score. Training runs with one BLAS
# thread: the products are small, and two threads fighting over two busy
# cores were 4-6 times slower here.

# %%
model = Conv1DAutoencoder(epochs=EPOCHS, dtype="float32", verbose=1, random_state=0)
start = time.perf_counter()
with one_blas_thread():
    model.fit(W_train)
print(f"{model.message_}; {time.perf_counter() - start:.1f} s; best validation MSE "
      f"{min(model.history_['val_loss']):.4f} (standardised units)")

# %% [markdown]
# ## 4. The threshold and the point rule
#
# Each window's score is the mean absolute error of its reconstruction. The
# threshold is the largest score over the TRAINING windows: the worst the
# model did on normal data. A test window above it is anomalous, and a point
# is anomalous when **every** window covering it is. In the middle of a
# series a point is covered by `L` windows; near the ends by fewer, and the
# rule uses those that exist (the Keras example never flags the first and
# last `L - 1` points). A small example with 6 windows of 3 points:

# %%
toy = np.array([False, True, True, True, False, False])
print("window flags:", toy.astype(int), "-> point flags:", flag_points(toy, 3).astype(int),
      "(point 3 is covered by windows 1, 2, 3)")

# %% [markdown]
# ## 5. Detection, scores and baselines
#
# `detect` scores the windows of the test series with the autoencoder and
# with two baselines, each thresholded by the same rule (its largest score on
# a training window) and turned into point flags by the same rule:
#
# * **rolling z-score**: each point against the mean and standard deviation of
#   the `L` points before it (one day; the first day has no full history and
#   scores 0), a window's score the mean `|z|` over it;
# * **PCA reconstruction error**: the MAE of each window's projection on the
#   top 16 principal directions of the training windows (a linear
#   autoencoder with a 16-number code, against the network's 16 x 72).
#
# Scores: point-level precision, recall and F1 of the flags against the
# labels, and the window-level ROC AUC of the raw scores against "the window
# contains a labelled point" (rank-based, ties counting one half:
# `numpy_ae.analysis.metrics.roc_auc`). The model is trained once: every test series
# is checked against the same training series.

# %%
rows = []
for kind, s in tests.items():
    with one_blas_thread():
        det = detect(model, train.values, s.values, window=WINDOW, test_labels=s.labels)
    m = {name: det[name]["metrics"] for name in ("ae", "zscore", "pca")}
    rows.append((kind, m))
    save_anomaly_figure(OUT / f"anomalies_{kind}.png", s.timestamps, s.values, s.labels, det["ae"]["point_flags"],
                        det["ae"]["scores"], det["ae"]["threshold"], WINDOW,
                        title=f"{kind}: {m['ae']['n_flagged']} points flagged by the autoencoder")
print(f"{'kind':<17} {'F1 AE':>6} {'z':>6} {'PCA':>6}   {'AUC AE':>6} {'z':>6} {'PCA':>6}   flagged (AE)")
for kind, m in rows:
    f1 = "  ".join(f"{m[k]['f1']:.3f}" for k in ("ae", "zscore", "pca"))
    auc = "  ".join(f"{m[k]['roc_auc']:.3f}" for k in ("ae", "zscore", "pca"))
    print(f"{kind:<17} {f1}   {auc}   {m['ae']['n_flagged']}")
print("wrote", ", ".join(str(OUT / f"anomalies_{k}.png") for k in tests))

# %% [markdown]
# The jump-up day is the example's own test: the autoencoder flags points
# inside it and nowhere else. The rest of the table deserves a careful read
# (the full run's figures are in the README, section "Anomaly detection on
# time series"): on this family PCA's linear reconstruction is the stronger
# detector on every kind (a daily cycle shifted in time spans a
# low-dimensional space, which 16 principal directions capture well), and the
# autoencoder scores jump-down windows LOWER than normal ones (an AUC below
# 0.5). The Keras network's code, 16 channels x 72 steps for 288 inputs, is
# wider than its input: nothing forces it to model only the normal day. Where
# the AUC is high but nothing is flagged (the flat line), the threshold rule,
# the largest error on any training window, is the weak point, not the
# ranking. The rolling z-score, which knows nothing of the daily cycle, sees
# the jump up and little else.

# %% [markdown]
# What did the network learn? A probe: scale the day-aligned training
# windows (standardised, so scaling shrinks or stretches the daily swing
# around the training mean) and score them. A model of "the normal day"
# would reconstruct every scaling but 1 badly.

# %%
days_z = np.array(W_train[::PERIOD])  # windows starting at midnight: whole normal days
for a in (0.0, 0.5, 1.0, 1.5, 2.0):
    print(f"training days scaled by {a:3.1f}: mean window MAE {model.reconstruction_error(a * days_z).mean():.3f}")

# %% [markdown]
# # Part 2: images

# %% [markdown]
# ## Novelty detection on images: one Fashion-MNIST class held out
#
# The time-series part scored windows of one signal; here the "normal" data
# are nine of Fashion-MNIST's ten classes and the anomalies the tenth. The
# held-out-class protocol (`numpy_ae.analysis.novelty`):
#
# 1. pick a class $c$; train on the training images of the OTHER nine classes only;
# 2. score every test image (higher = more anomalous);
# 3. the test images of class $c$ are the positives: the ROC AUC of the scores
#    is the probability that a random novel image scores higher than a random
#    normal one (ties count 1/2). 0.5 is chance; below 0.5 the novel class
#    looks MORE normal than the normal ones.
#
# Two scores, one per model:
#
# * a dense autoencoder (`StackedAutoencoder` 784-128-32-128-784): the squared
#   reconstruction error SUMMED over the 784 pixels, $s(x) = \sum_d (\hat x_d - x_d)^2$;
# * a VAE (784-256-16): the negative ELBO in nats, $-\mathcal L(x) =
#   -\log p(x\mid z) + \mathrm{KL}(q(z\mid x)\,\|\,p(z))$ with one sample of
#   $\varepsilon$ from a seeded Generator: the encoder-based score of the
#   intrusion-detection use (a bound on $-\log p(x)$: improbable images score high).
#
# The AUROC is computed from ranks (the Mann-Whitney statistic):
# $\mathrm{AUC} = (R_+ - n_+(n_+ + 1)/2) / (n_+ n_-)$, $R_+$ the sum of the
# positives' ranks with tied scores sharing the mean rank. The same as
# `python -m numpy_ae anomaly-images` (`numpy_ae/experiments/anomaly_images.py`).
# With `NUMPY_AE_FAST=1` one class is held out, on 3,000 training images for one epoch.

# %%
from numpy_ae import StackedAutoencoder, VariationalAutoencoder
from numpy_ae.data import class_names, find_mnist, load_mnist
from numpy_ae.experiments.anomaly_images import format_table, save_auroc_bars
from numpy_ae.analysis.novelty import _roc_auc, held_out_class_auroc, neg_elbo_score, reconstruction_error
from numpy_ae.analysis.class_figures import legend_outside
from numpy_ae.analysis.plotting import save_image_grid

IMG_FAST = os.environ.get("NUMPY_AE_FAST") == "1"
IMG_OUT = pathlib.Path(os.environ.get("NUMPY_AE_OUT", "out/tutorials")) / "13_anomaly_detection"
IMG_OUT.mkdir(parents=True, exist_ok=True)

try:
    _path = find_mnist("fashion-mnist", download=not IMG_FAST)
    img_X_train, img_y_train, img_X_test, img_y_test = load_mnist("fashion-mnist", data_home=_path,
                                                                  dtype=np.float32, download=False)
    IMG_DATA = True
except (FileNotFoundError, OSError) as exc:
    IMG_DATA = False
    print(f"SKIPPING the image novelty part: Fashion-MNIST not found ({str(exc).splitlines()[0]}). "
          "Set NUMPY_AE_DATA to a folder holding fashion-mnist/ to run it.")

# %% [markdown]
# The rank formula against the definition (every positive-negative pair),
# on scores with many ties:

# %%
_rng = np.random.default_rng(0)
_s = _rng.integers(0, 5, 400).astype(float)
_pos = _rng.random(400) < 0.25
_pairs = _s[_pos][:, None] - _s[~_pos][None, :]
_by_pairs = ((_pairs > 0).sum() + 0.5 * (_pairs == 0).sum()) / _pairs.size
print(f"AUROC from ranks {_roc_auc(_s, _pos):.6f}, from all {_pairs.size} pairs {_by_pairs:.6f}")
assert abs(_roc_auc(_s, _pos) - _by_pairs) < 1e-12

# %% [markdown]
# Train and score. Each held-out class trains two fresh models; the progress
# line shows how many of each model's 10 top-scored test images belong to the
# held-out class.

# %%
if IMG_DATA:
    img_classes = [1] if IMG_FAST else list(range(10))
    img_n_train, img_epochs = (3000, 1) if IMG_FAST else (20000, 2)
    img_names = class_names("fashion-mnist")
    img_tops = []

    def _note(label, name, model, scores, positive):
        top = np.argsort(-scores, kind="stable")[:10]
        img_tops.append((f"{img_names[label]} ({name})", img_X_test[top]))
        print(f"held out {img_names[label]!r}, {name}: AUROC {_roc_auc(scores, positive):.3f}, "
              f"{int(positive[top].sum())}/10 of the top-scored are {img_names[label]!r}")

    img_models = {
        "ae": (lambda: StackedAutoencoder(hidden_layer_sizes=(128, 32), loss="cross_entropy", epochs=img_epochs,
                                          dtype="float32", random_state=0), reconstruction_error),
        "vae": (lambda: VariationalAutoencoder(hidden_layer_sizes=(256,), n_latent=16, epochs=img_epochs,
                                               dtype="float32", random_state=0),
                lambda m, X: neg_elbo_score(m, X, random_state=0)),
    }
    img_runs = held_out_class_auroc(img_X_train, img_y_train, img_X_test, img_y_test, img_classes, img_models,
                                    n_train=img_n_train, callback=_note)
    img_auroc = {img_names[c]: {k: img_runs[c][k]["auroc"] for k in img_models} for c in img_classes}
    img_result = {"auroc": img_auroc,
                  "mean_auroc_ae": float(np.mean([v["ae"] for v in img_auroc.values()])),
                  "mean_auroc_vae": float(np.mean([v["vae"] for v in img_auroc.values()]))}
    print(format_table(img_result))
    print("wrote", save_auroc_bars(img_auroc, IMG_OUT / "auroc.png", title="AUROC with each class held out"))
    print("wrote", save_image_grid(img_tops, IMG_OUT / "most_anomalous.png", image_shape=(28, 28),
                                   title="the highest-scored test images"))

# %% [markdown]
# How the two groups' scores overlap, for the first held-out class: the
# AUROC is the chance that a draw from the orange histogram lies right of a
# draw from the blue one.

# %%
if IMG_DATA:
    _c = img_classes[0]
    _fig = new_figure(1100, 320)
    for _i, _name in enumerate(img_models):
        _ax = _fig.add_subplot(1, 2, _i + 1)
        _sc, _p = img_runs[_c][_name]["scores"], img_y_test == _c
        _bins = np.linspace(_sc.min(), np.quantile(_sc, 0.995), 50)
        _ax.hist(_sc[~_p], bins=_bins, density=True, alpha=0.6, label="other classes (normal)")
        _ax.hist(_sc[_p], bins=_bins, density=True, alpha=0.6, label=f"{img_names[_c]} (novel)")
        _ax.set_title(f"{_name}: AUROC {img_runs[_c][_name]['auroc']:.3f}")
        _ax.set_xlabel("squared error (sum over pixels)" if _name == "ae" else "-ELBO (nats)")
    legend_outside(_ax)  # one legend for both panels, right of the second
    _fig.tight_layout()
    _fig.savefig(IMG_OUT / "score_histograms.png")
    print("wrote", IMG_OUT / "score_histograms.png")

# %% [markdown]
# Reading the table. Both scores measure how well a model trained on the
# other classes explains an image, not what the image shows. A run of the
# command on all ten classes (README, "Novelty detection on images": 10,000
# training images, 2 epochs) gave the VAE's -ELBO an AUROC BELOW 0.5 for
# trousers, dresses, sandals and sneakers (0.23 to 0.39): images with little
# ink, which a Bernoulli decoder explains cheaply whatever it was trained on,
# so the novel class looks more likely than the normal ones. Likelihood-type
# scores are known to behave this way (Nalisnick et al., "Do deep generative
# models know what they don't know?", 2019). The AE's squared error did better
# on those classes (0.58 to 0.75) and worse on shirts (0.49; presumably a shirt is
# reconstructed well from T-shirts, pullovers and coats); bags and ankle boots
# stood out for both scores (0.65 to 0.94). A high likelihood does not mean
# "in distribution".
