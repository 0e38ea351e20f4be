r"""``python -m numpy_ae self-taught``: UFLDL's self-taught learning exercise.

Self-taught learning (Raina et al., 2007) learns features from UNLABELLED data
that need not come from the classes to be recognised, then trains a classifier
on those features of a few labelled examples. UFLDL's exercise (``stlExercise.m``):

1. split the MNIST training set by label: digits 5-9 are the unlabelled data
   (their labels are thrown away), digits 0-4 the labelled data, which is cut
   in half into a training and a test set;
2. learn :math:`H = 196` features from the unlabelled digits with the sparse
   autoencoder of the vectorisation exercise (:math:`\rho = 0.1`,
   :math:`\beta = 3`, :math:`\lambda = 3\cdot10^{-3}`, 400 L-BFGS iterations);
3. replace every labelled image :math:`x` by its hidden activations
   :math:`a = \sigma(x W + b)` (:meth:`numpy_ae.SparseAutoencoder.transform`,
   shape ``(N, 784) -> (N, 196)``);
4. train softmax regression (:math:`\lambda = 10^{-4}`) on the features of the
   training half and report the accuracy on the test half.

UFLDL reports 98.3% on full MNIST. As a baseline this command also trains the
same softmax regression on the raw pixels of the same split. For Fashion-MNIST
the same idea: classes 5-9 (sandal, shirt, sneaker, bag, ankle boot)
unlabelled, 0-4 (T-shirt, trouser, pullover, dress, coat) labelled.

Measured with the defaults (400 + 400 iterations, seed 0): on the 10k MNIST
subset (3,933 unlabelled, 2,034 / 2,033 labelled) features 0.9715 against
raw pixels 0.9587; on Fashion-MNIST (30,000 unlabelled, 15,000 / 15,000)
features 0.8469 against 0.8832: features of shoes and bags do not help to
tell tops from trousers.

The ``--json`` result's ``claims`` (:mod:`numpy_ae.experiments.claims`): the
features beat the raw pixels (UFLDL's 98.3% beside, from full MNIST).

The split uses the training files only; it is drawn with a seeded
``numpy.random.Generator`` (UFLDL takes the first half in file order).
"""
from __future__ import annotations

import os
import time

import numpy as np

from .._validation import check_positive_int, check_random_state
from ..models.autoencoders import SparseAutoencoder
from .claims import claim
from .registry import add_output, command, emit
from ..models.softmax import SoftmaxRegression
from .mnist_sparse import DATASETS, add_data_options, load_dataset
from ..analysis.plotting import save_tiles
from ..data import dataset_title, describe_dataset, find_mnist, load_mnist

#: UFLDL's test accuracy with the learned features (stlExercise, full MNIST).
UFLDL_ACCURACY = 0.983

__all__ = ["self_taught_split", "self_taught_learning", "glyph_digits", "digits_or_stand_in", "run",
           "UNLABELLED_CLASSES"]

#: Classes whose examples serve as unlabelled data (UFLDL: digits 5-9).
UNLABELLED_CLASSES = (5, 6, 7, 8, 9)


def self_taught_split(y, unlabelled_classes=UNLABELLED_CLASSES, random_state=None):
    r"""Split example indices into unlabelled, labelled-train and labelled-test sets.

    Parameters
    ----------
    y : array of int, shape (N,)
        Labels of the whole (training) set.
    unlabelled_classes : sequence of int
        Examples of these classes become unlabelled data.
    random_state : None, int or numpy.random.Generator
        Shuffles the labelled examples before they are cut in half.

    Returns
    -------
    unlabelled, train, test : int arrays of indices into ``y``, each sorted
        The labelled examples (every class not in ``unlabelled_classes``) are
        shuffled and split: ``train`` gets :math:`\lceil M/2 \rceil` of the
        :math:`M` labelled examples, ``test`` the rest.
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0 or y.dtype.kind not in "iu":
        raise ValueError(f"y must be a non-empty 1-D array of integer labels; got dtype {y.dtype}, "
                         f"shape {y.shape}")
    is_unlabelled = np.isin(y, np.asarray(unlabelled_classes))
    unlabelled = np.flatnonzero(is_unlabelled)
    labelled = np.flatnonzero(~is_unlabelled)
    if unlabelled.size == 0 or labelled.size < 2:
        raise ValueError(f"unlabelled_classes={tuple(unlabelled_classes)} must leave at least one unlabelled "
                         f"and two labelled examples; got {unlabelled.size} unlabelled and "
                         f"{labelled.size} labelled (labels present: {np.unique(y).tolist()})")
    shuffled = check_random_state(random_state).permutation(labelled)
    n_train = (labelled.size + 1) // 2
    return unlabelled, np.sort(shuffled[:n_train]), np.sort(shuffled[n_train:])


def self_taught_learning(X_unlabelled, X_train, y_train, X_test, y_test, iterations=400, softmax_iterations=400,
                         hidden=196, sparsity=0.1, beta=3.0, weight_decay=3e-3, softmax_weight_decay=1e-4,
                         dtype="float64", random_state=0, verbose=0):
    r"""Learn features from ``X_unlabelled``, classify with them, and with raw pixels as a baseline.

    Parameters
    ----------
    X_unlabelled : array (N_u, D)
        Images in [0, 1] whose labels are not used.
    X_train, y_train, X_test, y_test : arrays (N_tr, D), (N_tr,), (N_te, D), (N_te,)
        The labelled halves.
    iterations : int
        L-BFGS iterations of the sparse autoencoder (UFLDL: 400).
    softmax_iterations : int
        L-BFGS iterations of each softmax regression.
    hidden, sparsity, beta, weight_decay :
        The sparse autoencoder's H, :math:`\rho`, :math:`\beta`, :math:`\lambda`.
    softmax_weight_decay : float
        :math:`\lambda` of the softmax regressions (UFLDL: 1e-4).
    dtype : {"float64", "float32"}
        Of the autoencoder's computations (the softmax regressions run in float64).
    random_state : int
        Seeds the initial weights of the autoencoder and of both classifiers.
    verbose : int
        Print the autoencoder's cost every ``verbose`` iterations (0: silent).

    Returns
    -------
    result : dict
        ``accuracy`` (softmax on the features), ``raw_pixel_accuracy``,
        ``n_unlabelled``, ``n_train``, ``n_test``, ``autoencoder_cost``,
        ``mean_activation``, ``seconds`` (all training, wall time).
    autoencoder : SparseAutoencoder
    """
    start = time.perf_counter()
    ae = SparseAutoencoder(n_hidden=hidden, sparsity=sparsity, beta=beta, weight_decay=weight_decay,
                           max_iter=iterations, verbose=verbose, dtype=dtype, random_state=random_state)
    print(f"learning {hidden} features from {len(X_unlabelled)} unlabelled images with a sparse autoencoder "
          f"({iterations} L-BFGS iterations, {dtype})", flush=True)
    ae.fit(X_unlabelled)
    mean_act = ae.mean_activation(X_unlabelled)
    print(f"  cost {ae.cost_:.4f} after {ae.n_iter_} iterations (L-BFGS: {ae.message_.lower()}) in {ae.fit_seconds_:.1f} s; "
          f"mean hidden activation {mean_act:.4f} (rho {sparsity})", flush=True)

    # Features: the hidden activations a = sigmoid(x W + b), shape (N, H).
    F_train, F_test = ae.transform(X_train), ae.transform(X_test)
    clf = SoftmaxRegression(weight_decay=softmax_weight_decay, max_iter=softmax_iterations,
                            random_state=random_state).fit(F_train, y_train)
    accuracy = clf.score(F_test, y_test)
    print(f"softmax on the {hidden} learned features: test accuracy {accuracy:.4f} "
          f"({clf.n_iter_} iterations, {clf.fit_seconds_:.1f} s)", flush=True)

    raw = SoftmaxRegression(weight_decay=softmax_weight_decay, max_iter=softmax_iterations,
                            random_state=random_state).fit(X_train, y_train)
    raw_accuracy = raw.score(X_test, y_test)
    print(f"softmax on the {X_train.shape[1]} raw pixels:   test accuracy {raw_accuracy:.4f} "
          f"({raw.n_iter_} iterations, {raw.fit_seconds_:.1f} s)", flush=True)
    result = {"accuracy": accuracy, "raw_pixel_accuracy": raw_accuracy, "n_unlabelled": int(len(X_unlabelled)),
              "n_train": int(len(X_train)), "n_test": int(len(X_test)), "autoencoder_cost": ae.cost_,
              "mean_activation": mean_act, "seconds": time.perf_counter() - start}
    return result, ae


def run(dataset="mnist", out="out/self-taught", iterations=400, softmax_iterations=400, unlabelled=None,
        hidden=196, dtype="float64", seed=0, verbose=20, data_home=None, download=True):
    r"""UFLDL's self-taught learning exercise on MNIST or Fashion-MNIST; return ``(result, autoencoder)``.

    Loads the training split (:func:`numpy_ae.experiments.mnist_sparse.load_dataset`),
    splits it with :func:`self_taught_split` (seeded by ``seed``), runs
    :func:`self_taught_learning` and writes the learned features as
    ``filters.png`` into ``out``. ``unlabelled`` caps the number of unlabelled
    images (the first ones in file order; default: all of them).
    The result also holds ``dataset``, ``data_path`` and ``claims``.
    """
    iterations = check_positive_int(iterations, "iterations")
    softmax_iterations = check_positive_int(softmax_iterations, "softmax_iterations")
    if unlabelled is not None:
        unlabelled = check_positive_int(unlabelled, "unlabelled")
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {dataset!r}")
    X, y, _, _, path = load_dataset(dataset, data_home=data_home, download=download, dtype=dtype)
    i_unl, i_train, i_test = self_taught_split(y, UNLABELLED_CLASSES, random_state=np.random.default_rng(seed))
    n_all_unl = i_unl.size
    i_unl = i_unl[:unlabelled]
    print(f"split of the {len(y)} training images: classes {UNLABELLED_CLASSES[0]}-{UNLABELLED_CLASSES[-1]} "
          f"unlabelled ({i_unl.size}" + (f" of {n_all_unl}" if i_unl.size < n_all_unl else "")
          + f"), classes 0-4 labelled: {i_train.size} to train, {i_test.size} to test", flush=True)
    result, ae = self_taught_learning(X[i_unl], X[i_train], y[i_train], X[i_test], y[i_test],
                                      iterations=iterations, softmax_iterations=softmax_iterations,
                                      hidden=hidden, dtype=dtype, random_state=seed, verbose=verbose)
    os.makedirs(out, exist_ok=True)
    fig = save_tiles(ae.network_.layers[0].W.T, os.path.join(out, "filters.png"), shape=(28, 28),
                     title=f"{hidden} features learned from {i_unl.size} unlabelled images")
    result.update(dataset=dataset, data_path=str(path))
    result["claims"] = [claim("Softmax regression on sparse-autoencoder features learned from unlabelled other classes "
                              "beats softmax regression on the raw pixels (test accuracy)",
                              result["accuracy"] > result["raw_pixel_accuracy"], result["accuracy"],
                              result["raw_pixel_accuracy"], UFLDL_ACCURACY,
                              "UFLDL self-taught learning exercise: 98.3% with features (full MNIST digits 0-4)")]
    print(f"features: test accuracy {result['accuracy']:.4f}, raw pixels: {result['raw_pixel_accuracy']:.4f}"
          f"; wrote {fig}", flush=True)
    return result, ae


# ------------------------------------------------ a stand-in when MNIST is absent

def _glyph_templates(size=64):
    """Digits 0-9 drawn in three of matplotlib's bundled fonts, normal and bold: (60, size, size) in [0, 1], labels (60,)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    styles = [(family, weight) for family in ("DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono")
              for weight in ("normal", "bold")]
    fig = Figure(figsize=(10 * size / 100, len(styles) * size / 100), dpi=100, facecolor="black")
    canvas = FigureCanvasAgg(fig)
    for r, (family, weight) in enumerate(styles):
        for digit in range(10):
            fig.text((digit + 0.5) / 10, 1 - (r + 0.5) / len(styles), str(digit), color="white",
                     fontsize=0.55 * size, family=family, weight=weight, ha="center", va="center")
    canvas.draw()
    grey = np.asarray(canvas.buffer_rgba())[..., 0].astype(np.float64) / 255.0
    cells = grey[:len(styles) * size, :10 * size].reshape(len(styles), size, 10, size).transpose(0, 2, 1, 3)
    return cells.reshape(-1, size, size), np.tile(np.arange(10), len(styles))


def glyph_digits(n, random_state=None):
    r"""A synthetic, digit-like stand-in for MNIST when the real files are absent: ``X (n, 784)``, ``y (n,)``.

    Each image is one of the digits 0-9 as drawn by a font bundled with
    matplotlib (three families, normal and bold), white on black like MNIST,
    randomly rotated (up to 15 degrees), sheared, scaled to a box of about
    20x20 pixels, centred by its centre of mass in a 28x28 frame and shifted
    by up to 1.5 pixels (MNIST's own normalisation). The labels are uniform
    over 0-9. These are NOT handwritten digits: results on them only show
    that code runs, not how well it works on MNIST.
    """
    from scipy import ndimage

    n = check_positive_int(n, "n")
    rng = check_random_state(random_state)
    templates, template_labels = _glyph_templates()
    extents, centres = [], []  # of each template: side of its bounding box, centre of mass
    for glyph in templates:
        rows, cols = np.nonzero(glyph > 0.1)
        extents.append(max(np.ptp(rows), np.ptp(cols)) + 1)
        centres.append(np.array(ndimage.center_of_mass(glyph)))
    pick = rng.integers(0, len(templates), n)
    X = np.empty((n, 28, 28))
    for k, t in enumerate(pick):
        angle, shear = np.deg2rad(rng.uniform(-15, 15)), rng.uniform(-0.25, 0.25)
        scale = 20.0 * rng.uniform(0.8, 1.05) / extents[t]
        c, s = np.cos(angle), np.sin(angle)
        M = scale * np.array([[c, -s], [s, c]]) @ np.array([[1.0, shear], [0.0, 1.0]])  # glyph -> frame
        inverse = np.linalg.inv(M)
        centre_out = 13.5 + rng.uniform(-1.5, 1.5, 2)
        X[k] = ndimage.affine_transform(templates[t], inverse, offset=centres[t] - inverse @ centre_out,
                                        output_shape=(28, 28), order=1)
    return np.clip(X, 0.0, 1.0).reshape(n, 784), template_labels[pick].astype(np.int64)



def digits_or_stand_in(names=("fashion-mnist", "mnist"), download=False, n_stand_in=12000, test_fraction=1 / 6):
    r"""The first of ``names`` found on disk (or downloaded, with ``download``) as float32 rows in [0, 1];
    else font-drawn digits (:func:`glyph_digits`), announced loudly.

    For the tutorials: every step runs without the data sets, and says so. Returns
    ``(X_train, y_train, X_test, y_test, name)`` with ``name`` "Fashion-MNIST", "MNIST" or
    "synthetic glyph digits"; the stand-in has ``n_stand_in`` images, the last ``test_fraction`` of
    them the test split.
    """
    for allow_download in ((False, True) if download else (False,)):  # what is on disk first
        for name in names:
            try:
                path = find_mnist(name, download=allow_download)
                X_tr, y_tr, X_te, y_te = load_mnist(name, data_home=path, dtype=np.float32, download=False)
            except (FileNotFoundError, OSError):
                continue
            print(describe_dataset(name, X_tr, X_te, path))
            return X_tr, y_tr, X_te, y_te, dataset_title(name)
    print("=" * 78)
    print(f"NONE OF {', '.join(names)} FOUND: set NUMPY_AE_DATA to a folder holding them")
    print("(see numpy_ae.data.find_mnist). Running on a SYNTHETIC STAND-IN instead: font-drawn digits.")
    print("The code runs as on (Fashion-)MNIST; the figures printed below are NOT (Fashion-)MNIST results.")
    print("=" * 78)
    X, y = glyph_digits(n_stand_in, random_state=np.random.default_rng(1))
    X = X.astype(np.float32)
    cut = len(X) - int(round(len(X) * test_fraction))
    return X[:cut], y[:cut], X[cut:], y[cut:], "synthetic glyph digits"

@command("self-taught", "UFLDL's self-taught learning: features from digits 5-9, softmax on digits 0-4")
def cmd_self_taught(args):
    result, _ = run(dataset=args.dataset, out=args.out, iterations=args.iterations,
                    softmax_iterations=args.softmax_iterations, unlabelled=args.unlabelled, hidden=args.hidden,
                    dtype=args.dtype, seed=args.seed, verbose=0 if args.quiet else args.progress,
                    data_home=args.data_home, download=not args.no_download)
    emit(args, result, "")
    return 0


def _configure(p):
    add_data_options(p)
    add_output(p, "--out", kind="folder", default="out/self-taught", help="folder for filters.png")
    p.add_argument("--iterations", type=int, default=400, help="L-BFGS iterations of the autoencoder (UFLDL: 400)")
    p.add_argument("--softmax-iterations", type=int, default=400, help="L-BFGS iterations of each softmax")
    p.add_argument("--unlabelled", type=int, default=None,
                   help="use at most this many unlabelled images (default: all of classes 5-9)")
    p.add_argument("--hidden", type=int, default=196, help="hidden units (UFLDL: 196)")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                   help="precision of the autoencoder's computations")
    p.add_argument("--seed", type=int, default=0, help="seed of the split and of the initial weights")
    p.add_argument("--progress", type=int, default=20, help="print the cost every N iterations")
    p.add_argument("--quiet", action="store_true", help="no per-iteration progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_self_taught.configure = _configure
