r"""``python -m numpy_ae deep-ae``: the deep (stacked) autoencoder of Hands-On ML, on Fashion-MNIST.

The stacked autoencoder of the autoencoder chapter of Hands-On Machine
Learning, trained end to end (no layer-wise pretraining) with Adam:

=====================  ==============================================================
network                784-300-150-300-784 (:class:`numpy_ae.models.stacked.StackedAutoencoder`
                       with ``hidden_layer_sizes=(300, 150)``), ELU hidden units,
                       linear output
initialisation         He-normal weights (standard deviation :math:`\sqrt{2/D_{in}}`), zero biases
loss                   mean squared error over all pixels,
                       :math:`J = \frac{1}{ND}\sum_{n,d} (\hat x_{nd} - x_{nd})^2`
optimiser              Adam, learning rate 1e-3, minibatches of 150, float32
data                   the 60,000 Fashion-MNIST training images, pixels in [0, 1];
                       the 10,000 test images are scored after every epoch (for
                       the curve only: no choice is made on them)
=====================  ==============================================================

``--tied`` makes each decoder layer reuse its mirror encoder layer's weight
matrix, transposed (:class:`numpy_ae.nn.dense.TiedDense`): the weights are
stored once, which halves them (561,934 parameters become 281,734: only the
decoder's biases stay its own). Here it also learns faster: test MSE 0.0065
after 5 epochs against 0.0124 untied (Fashion-MNIST, float32, seed 0).

Epochs. The default is 5, as in the book's first (TensorFlow 1) edition, which
trains this 784-300-150 network for 5 epochs in minibatches of 150 (on MNIST,
with an l2 penalty: ``--weight-decay``). The test error halves between epoch 1 and 5, then
falls more slowly (measured on Fashion-MNIST, float32, seed 0: test MSE 0.0243
after 1 epoch, 0.0124 after 5, 0.0087 after 10, against 0.0866 for predicting
the mean image). After 5 the reconstructions show each garment's shape and
shading, though not yet fine print or small checks (after 10 a little more):
a clearly trained model at a small cost (``benchmarks/bench_deep_ae.py`` times an epoch).

Writes into ``--out``: ``reconstructions.png`` (10 test images, with their
reconstructions below), ``loss.png`` (training and test MSE per epoch) and
the model ``deep_autoencoder.npz`` (reload with :func:`numpy_ae.load`).
With ``--json`` the last line is
``{"sec_per_epoch": ..., "test_mse": ..., "epochs": ..., "n_params": ..., ..., "claims": [...]}``; the claim
(:mod:`numpy_ae.experiments.claims`): the test MSE is below that of predicting the mean training image.
"""
from __future__ import annotations

import os

import numpy as np

from .._validation import check_positive_int
from .claims import claim
from .registry import add_output, command, emit
from ..models.stacked import StackedAutoencoder
from .mnist_sparse import DATASETS, add_data_options, load_dataset
from ..data import dataset_title
from ..analysis.plotting import PIXEL_RANGE, save_image_grid, save_loss_curve

__all__ = ["run", "LAYER_SIZES"]

#: The encoder; the decoder mirrors it.
LAYER_SIZES = (784, 300, 150)


def run(dataset="fashion-mnist", out="out/deep-ae", epochs=5, batch_size=150, tied=False, dtype="float32",
        weight_decay=0.0, learning_rate=1e-3, seed=0, examples=None, verbose=True, data_home=None,
        download=True):
    r"""Train the 784-300-150-300-784 ELU autoencoder with Adam and write the figures.

    Parameters
    ----------
    dataset : {"fashion-mnist", "mnist"}
    out : str
        Folder for ``reconstructions.png``, ``loss.png`` and the model.
    epochs, batch_size : int
        Passes over the training images, and examples per Adam step.
    tied : bool
        Decoder weights are the encoder's, transposed (half the weights).
    dtype : {"float32", "float64"}
    weight_decay : float
        :math:`\lambda` of :math:`\frac{\lambda}{2}\sum W^2` (weights only; 0: none).
    learning_rate : float
        Adam's step size :math:`\eta`.
    seed : int
        Seeds the initial weights, then the shuffling.
    examples : int or None
        Train on the first ``examples`` training images only (quick runs); None: all.
    verbose : bool
        One line per epoch.
    data_home, download :
        Where to look for the data first, and whether to download it
        (see :func:`numpy_ae.experiments.mnist_sparse.load_dataset`).

    Returns
    -------
    model : StackedAutoencoder
    result : dict
        ``sec_per_epoch`` (mean wall time of an epoch, scoring the test set
        included), ``test_mse`` (``model.network_.evaluate(X_test)``: mean
        squared error per pixel on the test images), ``epochs``, ``n_params``,
        and ``train_mse`` (last epoch's mean training loss), ``mean_image_mse``
        (the test MSE of predicting the mean training image for every test
        image: what a model that ignores its input can reach), ``tied``,
        ``dtype``, ``dataset``, ``n_examples``, ``data_path``, and ``claims``
        (the first compared with ``mean_image_mse``).
    """
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    if examples is not None:
        examples = check_positive_int(examples, "examples")
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {dataset!r}")
    # Built (and its hyperparameters checked) before the data is read.
    ae = StackedAutoencoder(hidden_layer_sizes=tuple(LAYER_SIZES[1:]), activation="elu", loss="mse", tied=tied,
                            weight_decay=weight_decay, method="adam", epochs=epochs, batch_size=batch_size,
                            learning_rate=learning_rate, verbose=verbose, dtype=dtype, random_state=seed)
    X_train, _, X_test, _, path = load_dataset(dataset, data_home=data_home, download=download, dtype=dtype)
    X = X_train if examples is None else X_train[:examples]
    if X.shape[0] < X_train.shape[0]:
        print(f"using the first {X.shape[0]} of {X_train.shape[0]} training images", flush=True)
    if batch_size > X.shape[0]:
        raise ValueError(f"batch_size must be at most the number of training images ({X.shape[0]}); "
                         f"got {batch_size}: lower --batch-size or raise --examples")

    # An int seed makes fit() start again from exactly this initialisation.
    net = ae.initialize(X.shape[1]).network_
    sizes = "-".join(str(n) for n in list(LAYER_SIZES) + list(LAYER_SIZES[-2::-1]))
    n_weights = net.n_decayed  # the weight matrices (biases are not decayed)
    if tied:
        weights = (f"tied weights: {net.n_params:,} parameters instead of {net.n_params + n_weights:,} "
                   f"(the decoder reuses the encoder's {n_weights:,} weights, transposed: half the weights)")
    else:
        weights = (f"{net.n_params:,} parameters ({n_weights:,} weights; --tied would halve them, "
                   f"to {net.n_params - n_weights // 2:,} parameters)")
    print(f"training {sizes} ELU autoencoder ({dtype}), {weights}; Adam, learning rate {learning_rate}, "
          f"batch {batch_size}, {epochs} epoch(s)" + (f", weight decay {weight_decay}" if weight_decay else ""),
          flush=True)
    ae.fit(X, validation_data=X_test)

    test_mse = float(ae.network_.evaluate(X_test))
    mean_image = X.mean(axis=0, dtype=np.float64)
    mean_image_mse = float(np.mean((X_test - mean_image) ** 2))
    sec_per_epoch = float(np.mean(ae.history_["seconds"]))

    os.makedirs(out, exist_ok=True)
    name = dataset_title(dataset)
    shown = X_test[:10]
    figs = [save_image_grid([("input", shown), ("reconstruction", ae.reconstruct(shown))],
                            os.path.join(out, "reconstructions.png"), image_shape=(28, 28), value_range=PIXEL_RANGE,
                            title=f"{name} test images and their reconstructions ({sizes}"
                                  f"{', tied' if tied else ''})"),
            save_loss_curve({"training": ae.history_["loss"], "test": ae.history_["val_loss"]},
                            os.path.join(out, "loss.png"), ylabel="mean squared error per pixel",
                            title=f"{sizes} ELU autoencoder on {name}")]
    model_path = ae.save(os.path.join(out, "deep_autoencoder.npz"))

    result = {"sec_per_epoch": sec_per_epoch, "test_mse": test_mse, "epochs": ae.n_epochs_,
              "n_params": int(net.n_params), "train_mse": float(ae.history_["loss"][-1]),
              "mean_image_mse": mean_image_mse, "tied": bool(tied), "dtype": ae.dtype, "dataset": dataset,
              "n_examples": int(X.shape[0]), "data_path": str(path)}
    result["claims"] = [claim(f"The {sizes} autoencoder reconstructs test images better than predicting the mean "
                              "training image (test MSE per pixel)", test_mse < mean_image_mse, test_mse,
                              mean_image_mse, source="Hands-On ML, ch. 17 (the network; the book gives no figure)")]
    print(f"test MSE {test_mse:.6f} per pixel after {ae.n_epochs_} epoch(s) (predicting the mean training "
          f"image: {mean_image_mse:.6f}); {sec_per_epoch:.2f} s per epoch", flush=True)
    print("wrote " + ", ".join(str(f) for f in figs) + f" and {model_path}", flush=True)
    return ae, result


@command("deep-ae", "Hands-On ML's deep autoencoder 784-300-150-300-784 (ELU, MSE, Adam) on Fashion-MNIST")
def cmd_deep_ae(args):
    _, result = run(dataset=args.dataset, out=args.out, epochs=args.epochs, batch_size=args.batch_size,
                    tied=args.tied, dtype=args.dtype, weight_decay=args.weight_decay,
                    learning_rate=args.learning_rate, seed=args.seed, examples=args.examples,
                    verbose=not args.quiet, data_home=args.data_home, download=not args.no_download)
    emit(args, result, "")
    return 0


def _configure(p):
    add_data_options(p, default="fashion-mnist")
    add_output(p, "--out", kind="folder", default="out/deep-ae", help="folder for the figures and the model")
    p.add_argument("--epochs", type=int, default=5, help="passes over the training images (default: 5)")
    p.add_argument("--batch-size", type=int, default=150, help="examples per Adam step (default: 150)")
    p.add_argument("--examples", type=int, default=None,
                   help="train on the first N training images only, for quick runs (default: all)")
    p.add_argument("--tied", action="store_true",
                   help="decoder reuses the encoder's weights, transposed (half the weights)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="precision of the computation (default: float32, about twice as fast)")
    p.add_argument("--weight-decay", type=float, default=0.0,
                   help="lambda of (lambda/2) sum W^2, weights only (default: 0, none)")
    p.add_argument("--learning-rate", type=float, default=1e-3, help="Adam's step size (default: 0.001)")
    p.add_argument("--seed", type=int, default=0, help="seeds the initial weights and the shuffling")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_deep_ae.configure = _configure
