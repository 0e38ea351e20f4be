r"""Benchmark: does cross-entropy speed up Hands-On ML's sparse autoencoder? Epochs and seconds to a test MSE.

Hands-On ML (chapter 17, "Sparse Autoencoders") trains a KL-sparse
autoencoder (sigmoid code of 300 units, target activation 0.1) and says that a
cross-entropy reconstruction loss speeds up convergence over the MSE. This
script measures it: the same network, data, seed, minibatches and Adam
settings, trained with each loss, several seeds; after every epoch the test
MSE :math:`\frac{1}{ND}\sum(\hat x - x)^2` of the reconstruction (whatever the
training loss), and the epochs and training seconds (evaluation excluded) each
run needs to reach a few test-MSE levels.

The network (:class:`numpy_ae.models.composable.RegularizedAutoencoder`):
784-100-300-100-784, ELU hidden layers (Hands-On ML: SELU), sigmoid code with
KL sparsity (target 0.1, the book's Keras weight 0.2), sigmoid output; Adam, learning rate 1e-3,
minibatches of 128, float32, Fashion-MNIST (the book's data).

The book's weight, converted (see :mod:`numpy_ae.experiments.regularized`):
tf.keras divides an activity regulariser's value by the batch size (32 in the
book's ``fit``), so on our per-example objective the KL weight is 0.2 / 32;
Keras averages the cross-entropy over pixels where ours sums over the
D = 784 pixels, so the cross-entropy run takes 0.2 * D / 32: its objective
is D times Keras', which Adam's updates do not see. The MSE is a mean over
pixels in both.

Levels. With ``m`` the largest final test MSE over all runs, the levels are
``m``, ``1.25 m`` and ``1.5 m``: every run reaches each of them by its last
epoch, so no run is compared on a level it never reached. Epoch counts do
not depend on the machine; seconds do (this machine is shared: read them as
a ratio within this process).

    .venv/bin/python benchmarks/bench_kl_loss.py [--seeds 3] [--epochs 15] [--n-train 20000]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from numpy_ae.models.composable import RegularizedAutoencoder
from numpy_ae.experiments.denoising import one_blas_thread  # noqa: E402
from numpy_ae.experiments.mnist_sparse import load_dataset  # noqa: E402
from numpy_ae.experiments.regularized import KERAS_BATCH, KERAS_KL_WEIGHT  # noqa: E402

LOSSES = ("mse", "cross_entropy")


def make(loss, epochs, seed, D=784):
    weight = KERAS_KL_WEIGHT / KERAS_BATCH * (D if loss == "cross_entropy" else 1)
    extra = dict(output_activation="sigmoid") if loss == "mse" else {}
    return RegularizedAutoencoder(hidden_layer_sizes=(100, 300), activation="elu", code_activation="sigmoid",
                                  loss=loss, sparsity_target=0.1, sparsity_weight=weight, method="adam",
                                  learning_rate=1e-3, batch_size=128, epochs=epochs, dtype="float32",
                                  random_state=seed, **extra)


def train(loss, seed, X, X_test, epochs):
    """Fit one model; return (test MSE after each epoch, cumulative training seconds after each epoch)."""
    model = make(loss, epochs, seed, D=X.shape[1])
    mse, seconds, spent = [], [], [0.0]
    clock = [time.perf_counter()]

    def after_epoch(epoch, history):
        now = time.perf_counter()
        spent[0] += now - clock[0]
        R = model.reconstruct(X_test).astype(np.float64)
        mse.append(float(np.mean((R - X_test) ** 2)))
        seconds.append(spent[0])
        clock[0] = time.perf_counter()  # the evaluation above is not training time

    with one_blas_thread():
        model.fit(X, callback=after_epoch)
    return np.array(mse), np.array(seconds), model


def first_reaching(curve, level):
    idx = np.flatnonzero(curve <= level)
    return int(idx[0]) if idx.size else None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--n-train", type=int, default=20000)
    p.add_argument("--n-test", type=int, default=5000)
    args = p.parse_args(argv)
    X_train, _, X_test, _, _ = load_dataset("fashion-mnist", dtype="float32")
    X, Xt = X_train[:args.n_train], X_test[:args.n_test].astype(np.float64)
    print(f"Hands-On ML's KL-sparse autoencoder 784-100-300-100-784 on {len(X)} Fashion-MNIST images, "
          f"{args.epochs} epochs, seeds 0..{args.seeds - 1}; test MSE on {len(Xt)} test images", flush=True)
    runs, failures = {}, []
    for seed in range(args.seeds):
        for loss in LOSSES:
            mse, sec, model = train(loss, seed, X, Xt, args.epochs)
            runs[loss, seed] = (mse, sec)
            done = len(mse) == args.epochs and np.all(np.isfinite(mse))
            if not done:
                failures.append(f"{loss} seed {seed}: {len(mse)} of {args.epochs} epochs, last MSE "
                                f"{mse[-1] if len(mse) else float('nan')}")
            print(f"  {loss:<14} seed {seed}: test MSE after epoch 1 {mse[0]:.4f}, final {mse[-1]:.4f}, "
                  f"{sec[-1]:.1f} s training, mean code activation {model.transform(Xt[:2000]).mean():.3f}",
                  flush=True)
    if failures:
        print("FAILED (no figure printed): " + "; ".join(failures))
        return 1
    top = max(float(m[-1]) for m, _ in runs.values())
    print(f"\nlevels: the largest final test MSE over all runs m = {top:.4f}, and 1.25 m, 1.5 m")
    print(f"{'level':>8} {'loss':<14}{'epochs to reach (per seed)':>30}{'median s':>10}")
    for factor in (1.5, 1.25, 1.0):
        level = factor * top
        for loss in LOSSES:
            epochs = [first_reaching(runs[loss, s][0], level) for s in range(args.seeds)]
            secs = [runs[loss, s][1][e] for s, e in enumerate(epochs)]
            print(f"{level:>8.4f} {loss:<14}{', '.join(str(e + 1) for e in epochs):>30}{np.median(secs):>10.1f}")
    for loss in LOSSES:
        finals = [runs[loss, s][0][-1] for s in range(args.seeds)]
        per_epoch = [runs[loss, s][1][-1] / args.epochs for s in range(args.seeds)]
        print(f"final test MSE with {loss}: median {np.median(finals):.4f} (seeds {', '.join(f'{f:.4f}' for f in finals)}); "
              f"median {np.median(per_epoch):.2f} s per epoch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
