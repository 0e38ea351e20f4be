r"""``python -m numpy_ae mnist-sparse``: UFLDL's "vectorisation" exercise, a sparse autoencoder on MNIST.

UFLDL's exercise trains the sparse autoencoder of the 8x8-patch exercise on
whole 28x28 digits, which only finishes in reasonable time once the cost and
gradient are vectorised (one matrix product per layer for all examples at once,
as :class:`numpy_ae.nn.dense.Dense` does). Settings, from UFLDL's
``train.m`` of that exercise:

=====================  ==========================================
network                784-196-784, sigmoid hidden and output units
sparsity :math:`\rho`  0.1
:math:`\beta`          3
:math:`\lambda`        3e-3 (weight decay, not divided by N)
data                   the first 10,000 training images, pixels in [0, 1]
optimiser              400 L-BFGS iterations
=====================  ==========================================

Expected: first-layer filters that look like pen strokes (pieces of digits),
and a mean hidden activation near :math:`\rho`. Measured with the defaults
(float64, seed 0): on the 10k MNIST subset (all 8,000 training images) cost
12.11, mean activation 0.106; on the first 10,000 Fashion-MNIST images cost
11.33, mean activation 0.105 (filters: outlines of shoes, shirts, trousers).

Writes ``filters.png`` (the 196 rows of ``W.T``, UFLDL's ``W1``, as 28x28 tiles),
``reconstructions.png``, ``cost.png`` and the model ``sparse_autoencoder.npz``
into ``--out``.

Cost. One evaluation of the objective on ``N`` examples needs five matrix
products of ``N x 784 x 196`` (two forward, three backward; 15 GFLOP for
N = 10,000), and they set the run's time:
``benchmarks/bench_mnist_sparse.py`` compares a run with that floor.
"""
from __future__ import annotations

import os

import numpy as np

from .._validation import check_positive_int
from ..models.autoencoders import SparseAutoencoder
from .claims import claim
from .registry import add_output, command, emit
from ..data import dataset_title, describe_dataset, find_mnist, load_mnist
from ..analysis.plotting import PIXEL_RANGE, save_image_grid, save_loss_curve, save_tiles

__all__ = ["load_dataset", "run", "DATASETS"]

#: The data sets these experiments accept (``--dataset``).
DATASETS = ("mnist", "fashion-mnist")


def load_dataset(dataset="mnist", data_home=None, download=True, dtype="float64"):
    r"""Find and load MNIST or Fashion-MNIST, and print which files were used.

    Parameters
    ----------
    dataset : {"mnist", "fashion-mnist"}
    data_home : str or None
        Searched first; see :func:`numpy_ae.data.find_mnist` for the rest of the order
        (``$NUMPY_AE_DATA/<dataset>``, the user cache, ...).
    download : bool
        Download into the user cache when the files are nowhere on disk.
    dtype : {"float64", "float32"}
        Of the pixel arrays.

    Returns
    -------
    X_train : ndarray (N_train, 784), pixels in [0, 1]
    y_train : ndarray of int64 (N_train,)
    X_test, y_test : the same for the test split
    path : pathlib.Path, the directory the files came from

    Raises
    ------
    FileNotFoundError
        The files are nowhere on disk and could not be downloaded; the message
        lists every directory searched (the CLI prints it as ``error: ...``).
    """
    path = find_mnist(dataset, data_home=data_home, download=download)
    X_train, y_train, X_test, y_test = load_mnist(dataset, data_home=path, dtype=dtype, download=False)
    print(describe_dataset(dataset, X_train, X_test, path), flush=True)
    return X_train, y_train, X_test, y_test, path


def run(dataset="mnist", out="out/mnist-sparse", iterations=400, examples=10000, hidden=196, sparsity=0.1,
        beta=3.0, weight_decay=3e-3, dtype="float64", seed=0, verbose=20, data_home=None, download=True):
    r"""Train the 784-196-784 sparse autoencoder on the first ``examples`` training images.

    Parameters
    ----------
    dataset : {"mnist", "fashion-mnist"}
    out : str
        Folder for ``filters.png``, ``reconstructions.png``, ``cost.png`` and the model.
    iterations : int
        L-BFGS iterations (UFLDL: 400).
    examples : int
        Use the first ``min(examples, N_train)`` training images (UFLDL: 10,000;
        the 10k MNIST subset in ``shared/data`` has only 8,000).
    hidden, sparsity, beta, weight_decay :
        H, :math:`\rho`, :math:`\beta`, :math:`\lambda` (UFLDL: 196, 0.1, 3, 3e-3).
    dtype : {"float64", "float32"}
        Precision of the cost and gradient (float32: about twice as fast).
    seed : int
        Seeds the initial weights.
    verbose : int
        Print the cost every ``verbose`` iterations (0: silent).
    data_home, download :
        Where to look for the data first, and whether to download it (see :func:`load_dataset`).

    Returns
    -------
    model : SparseAutoencoder
    result : dict
        ``cost`` (final objective), ``mean_activation`` (mean hidden activation
        over the training images, compare with ``sparsity``),
        ``initial_mean_activation`` (the same before training), ``seconds``
        (L-BFGS wall time), ``iterations``, ``n_examples``, ``n_hidden``,
        ``dtype``, ``dataset``, ``data_path``; ``test_mse`` (reconstruction
        error per pixel on the test images) and ``mean_image_mse`` (the same
        for predicting the mean training image); ``claims``
        (:mod:`numpy_ae.experiments.claims`): the mean activation within 25% of
        :math:`\rho` (it starts near 0.5), the test MSE below the mean image's.
    """
    iterations = check_positive_int(iterations, "iterations")
    examples = check_positive_int(examples, "examples")
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {dataset!r}")
    # Built (and its hyperparameters checked) before the data is read.
    ae = SparseAutoencoder(n_hidden=hidden, sparsity=sparsity, beta=beta, weight_decay=weight_decay,
                           max_iter=iterations, verbose=verbose, dtype=dtype, random_state=seed)
    X_train, _, X_test, _, path = load_dataset(dataset, data_home=data_home, download=download, dtype=dtype)
    X = X_train[:examples]
    print(f"using the first {X.shape[0]} of {X_train.shape[0]} training images"
          + ("" if X.shape[0] >= examples else f" (asked for {examples}: that is all there is)"), flush=True)

    # An int random_state makes fit() start from exactly this initialisation.
    initial_act = ae.initialize(X.shape[1]).mean_activation(X)
    print(f"training {X.shape[1]}-{hidden}-{X.shape[1]} ({dtype}), rho {sparsity}, beta {beta}, "
          f"lambda {weight_decay}, with L-BFGS for {iterations} iterations "
          f"(mean hidden activation at the start: {initial_act:.3f})", flush=True)
    ae.fit(X)
    mean_act = ae.mean_activation(X)

    os.makedirs(out, exist_ok=True)
    filters = ae.network_.layers[0].W.T  # (H, 784): one row per hidden unit, UFLDL's W1
    name = dataset_title(dataset)
    figs = [save_tiles(filters, os.path.join(out, "filters.png"), shape=(28, 28),
                       title=f"{hidden} filters learned from {X.shape[0]} {name} images")]
    shown = X[:12]
    figs.append(save_image_grid([("input", shown), ("reconstruction", ae.reconstruct(shown))],
                                os.path.join(out, "reconstructions.png"), image_shape=(28, 28), value_range=PIXEL_RANGE,
                                title=f"{name}: inputs and their reconstructions"))
    if ae.cost_history_:
        figs.append(save_loss_curve({"training objective": ae.cost_history_}, os.path.join(out, "cost.png"),
                                    xlabel="L-BFGS iteration", logy=True))
    model_path = ae.save(os.path.join(out, "sparse_autoencoder.npz"))

    result = {"cost": ae.cost_, "mean_activation": mean_act, "initial_mean_activation": initial_act,
              "seconds": ae.fit_seconds_, "iterations": ae.n_iter_, "n_examples": int(X.shape[0]),
              "n_hidden": hidden, "dtype": ae.dtype, "dataset": dataset, "data_path": str(path),
              "test_mse": float(np.mean((ae.reconstruct(X_test).astype(np.float64) - X_test) ** 2)),
              "mean_image_mse": float(np.mean((X_test - X.mean(axis=0, dtype=np.float64)) ** 2))}
    src = "UFLDL, Sparse Autoencoder exercise (rho = 0.1 for MNIST; the mean activation should approach it)"
    result["claims"] = [
        claim(f"L-BFGS brings the mean hidden activation within 25% of the sparsity target rho = {sparsity:g} "
              "(baseline: before training)", abs(mean_act - sparsity) <= 0.25 * sparsity, mean_act, initial_act,
              source=src),
        claim("The sparse autoencoder reconstructs test images better than predicting the mean training image "
              "(MSE per pixel)", result["test_mse"] < result["mean_image_mse"], result["test_mse"],
              result["mean_image_mse"], source=src)]
    print(f"cost {ae.cost_:.6f} after {ae.n_iter_} iterations (L-BFGS: {ae.message_.lower()}) in {ae.fit_seconds_:.1f} s; mean hidden "
          f"activation {mean_act:.4f} (target rho {sparsity})", flush=True)
    print("wrote " + ", ".join(str(f) for f in figs) + f" and {model_path}", flush=True)
    return ae, result


@command("mnist-sparse", "UFLDL's vectorisation exercise: a 784-196-784 sparse autoencoder on MNIST digits")
def cmd_mnist_sparse(args):
    _, result = run(dataset=args.dataset, out=args.out, iterations=args.iterations, examples=args.examples,
                    hidden=args.hidden, sparsity=args.sparsity, beta=args.beta,
                    weight_decay=args.weight_decay, dtype=args.dtype, seed=args.seed,
                    verbose=0 if args.quiet else args.progress, data_home=args.data_home,
                    download=not args.no_download)
    emit(args, result, "")
    return 0


def add_data_options(p, default="mnist"):
    """``--dataset``, ``--data-home``, ``--no-download``: shared by the commands that read (Fashion-)MNIST."""
    p.add_argument("--dataset", choices=DATASETS, default=default, help=f"which data set (default: {default})")
    p.add_argument("--data-home", default=None,
                   help="folder searched first for the four IDX files (then $NUMPY_AE_DATA/<dataset>, "
                        "the user cache, ...)")
    p.add_argument("--no-download", action="store_true",
                   help="fail instead of downloading when the files are nowhere on disk")


def _configure(p):
    add_data_options(p)
    add_output(p, "--out", kind="folder", default="out/mnist-sparse", help="folder for the figures and the model")
    p.add_argument("--iterations", type=int, default=400, help="L-BFGS iterations (UFLDL: 400)")
    p.add_argument("--examples", type=int, default=10000,
                   help="use the first N training images (UFLDL: 10000; fewer if the data has fewer)")
    p.add_argument("--hidden", type=int, default=196, help="hidden units (UFLDL: 196)")
    p.add_argument("--sparsity", type=float, default=0.1, help="target activation rho (UFLDL: 0.1)")
    p.add_argument("--beta", type=float, default=3.0, help="sparsity weight beta (UFLDL: 3)")
    p.add_argument("--weight-decay", type=float, default=3e-3, help="lambda (UFLDL: 3e-3)")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                   help="precision of the cost computation (float32: about 2x faster)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    p.add_argument("--progress", type=int, default=20, help="print the cost every N iterations")
    p.add_argument("--quiet", action="store_true", help="no per-iteration progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_mnist_sparse.configure = _configure
