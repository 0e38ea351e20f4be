r"""``python -m numpy_ae denoising``: the deeplearning.net denoising autoencoder (dA) on MNIST.

The dA of the deeplearning.net tutorial (Vincent et al., 2008) is
:class:`numpy_ae.models.stacked.DenoisingAutoencoder`: 784-500-784, sigmoid units,
tied weights, cross-entropy, and noise on the input only,

.. math::
    \tilde x \sim q(\tilde x \mid x),\quad h = \sigma(\tilde x W + b),\quad
    \hat x = \sigma(h W^\top + b'),\quad
    J = -\frac1N \sum_{n}\sum_{d=1}^{D} x_{nd}\log\hat x_{nd} + (1-x_{nd})\log(1-\hat x_{nd}),

the loss comparing the reconstruction with the CLEAN input :math:`x`
(:class:`numpy_ae.nn.losses.BinaryCrossEntropy`, summed over pixels, averaged
over examples: the tutorial's ``T.mean(T.sum(L, axis=1))``).

This command trains two dAs that differ ONLY in the corruption level: the one
asked for (``--corruption``, ``--level``) and a 0% "twin" (the corruption layer
is there but is the identity). Both start from the same initial weights and see
the minibatches in the same order (one seed); with ``--level 0`` the model is its
own twin and is trained once. It writes

``filters.png``
    the first 100 hidden units' weight vectors (rows of ``W.T``) as 28x28 tiles,
    0% on the left, the chosen level on the right (the tutorial's
    ``filters_corruption_0.png`` and ``filters_corruption_30.png``);
``denoising.png``
    ten test images: ``clean``, ``noisy`` (corrupted with the same process and
    level as in training) and ``denoised`` (the dA's reconstruction of the noisy one).

Training, as in the tutorial (``dA.py``): plain minibatch SGD, learning rate
0.1, minibatches of 20, 15 epochs. The tutorial trains on MNIST's 50,000
training images (37,500 updates); the default here is the first 10,000 of the
training split (``--examples``; 8,000 with the 10k MNIST subset used in CI).
Initial weights are Glorot's
uniform :math:`\pm\sqrt{6/(D+H)}`; the tutorial uses 4 times that for
sigmoid units.

Figures in the JSON line (``--json``), all on the test split:

``test_loss``
    the chosen dA's cross-entropy on the clean test images, no noise
    (:meth:`Sequential.evaluate`), in nats per image;
``noisy_mse``
    :math:`\frac{1}{ND}\sum (\tilde x - x)^2`: how far the corrupted test images
    are from the clean ones;
``denoised_mse``
    :math:`\frac{1}{ND}\sum (\hat x(\tilde x) - x)^2`: the same after the dA;
``filter_locality``, ``localised_filters``
    the median over hidden units of :func:`filter_locality` (share of a filter's
    squared weights within 3 pixels of its largest weight; white noise: about
    0.05), and the fraction of units whose locality exceeds 0.3;
``twin_test_loss``, ``twin_denoised_mse``, ``twin_filter_locality``, ``twin_localised_filters``
    the same for the 0% twin (an ordinary autoencoder, which was never shown noise);
``seconds``
    training wall time of the chosen dA (``twin_seconds``: of the twin);
``epochs``, ``n_train``, ``n_test``, ``corruption``, ``level``, ``dataset``, ``data_path``, ...
    what was run, on which data;
``claims``
    :func:`denoising_claims` (:mod:`numpy_ae.experiments.claims`).

Threads. With minibatches of 20, each product is a small ``20 x 784 x 500``
GEMM, too small to share between threads: on a machine busy with other
processes a second BLAS thread spins waiting for a core. Training therefore
runs with NumPy's BLAS limited to one thread (:func:`one_blas_thread`); on an
idle machine the difference is smaller. See ``benchmarks/README.md``.
"""
from __future__ import annotations

import os

import numpy as np

from .._validation import check_positive_int
from .claims import claim
from .registry import add_output, command, emit
from ..nn.noise import CORRUPTIONS, make_corruption
from ..models.stacked import DenoisingAutoencoder
from .mnist_sparse import DATASETS, add_data_options, load_dataset
from ..data import dataset_title
from ..analysis.plotting import PIXEL_RANGE, new_figure, save_image_grid, tile_images
from ..train.threads import blas_held_to_one

__all__ = ["run", "corrupt", "denoising_errors", "filter_locality", "save_filter_panels", "filter_panels_figure",
           "MAX_PANELS_WIDTH", "one_blas_thread",
           "CORRUPTION_KINDS"]

#: The corruption processes ``--corruption`` accepts (numpy_ae.nn.penalties).
CORRUPTION_KINDS = tuple(CORRUPTIONS)
_LEVEL_MEANING = {"masking": "probability of zeroing a pixel", "gaussian": "standard deviation of the noise",
                  "salt-pepper": "probability of setting a pixel to 0 or 1"}


def one_blas_thread():
    """Limit the BLAS libraries to one thread inside the ``with`` block (small minibatch products; see the
    module notes): :func:`numpy_ae.train.threads.blas_held_to_one`, the training loop's own mechanism."""
    return blas_held_to_one()


def corrupt(X, corruption, level, random_state=None):
    r"""Corrupt ``X (N, D)`` once, with the corruption layer the dA trains with; return ``X_noisy (N, D)``.

    The same :class:`numpy_ae.nn.noise.Corruption` layer as inside the
    model, run in training mode on its own Generator (seeded by ``random_state``),
    so the test images get exactly the noise process the dA was trained to undo.
    Gaussian noise is not clipped: pixels may leave [0, 1].
    """
    layer = make_corruption(corruption, level)
    layer.init_params(np.random.default_rng(random_state))
    return np.array(layer.forward(X, training=True), dtype=X.dtype)


def denoising_errors(model, X_clean, X_noisy, batch_size=2000):
    r"""``(noisy_mse, denoised_mse)``: mean squared differences from ``X_clean`` per pixel.

    :math:`\frac{1}{ND}\sum (\tilde x - x)^2` and :math:`\frac{1}{ND}\sum (\hat x(\tilde x) - x)^2`,
    with :math:`\hat x` = ``model.reconstruct`` (no noise added inside: the
    corruption layer is the identity at inference).
    """
    noisy = float(np.mean((X_noisy.astype(np.float64) - X_clean) ** 2))
    sq = 0.0
    for start in range(0, X_clean.shape[0], batch_size):
        X_hat = model.reconstruct(X_noisy[start:start + batch_size]).astype(np.float64)
        sq += float(np.sum((X_hat - X_clean[start:start + batch_size]) ** 2))
    return noisy, sq / X_clean.size


def filter_locality(W, shape=(28, 28), radius=3.0):
    r"""How localised each filter is: shape ``(H,)`` for ``W (D, H)``, values in (0, 1].

    Each hidden unit's weights :math:`w` (a column of ``W``, pixels in row-major
    order of ``shape``) are treated as a mass :math:`w_p^2` over pixel positions
    :math:`p`; the locality is the share of that mass within ``radius`` pixels
    of the filter's largest weight :math:`p^* = \arg\max_p |w_p|`,

    .. math:: \ell = \sum_{\lVert p - p^*\rVert \le r} w_p^2 \Big/ \sum_p w_p^2 .

    With ``radius=3`` the disc holds 29 of the 784 pixels, so white noise gives
    about 0.05; a stroke detector (a blob or a short bar) 0.3 and more. An
    all-zero filter gets 0.
    """
    W = np.asarray(W, dtype=np.float64)
    h, w = shape
    rows, cols = np.divmod(np.arange(h * w), w)
    mass = W ** 2
    total = mass.sum(axis=0)
    peak = np.abs(W).argmax(axis=0)                                        # (H,)
    dist2 = (rows[:, None] - rows[peak]) ** 2 + (cols[:, None] - cols[peak]) ** 2  # (D, H)
    near = (mass * (dist2 <= radius ** 2)).sum(axis=0)
    return np.divide(near, total, out=np.zeros_like(near), where=total > 0)


#: The widest a multi-panel figure of filters is drawn (pixels): shown in a page about 800 pixels wide, its
#: titles (14 points: 19 pixels at 100 dpi) are then still at least 12 pixels tall.
MAX_PANELS_WIDTH = 1280


def save_filter_panels(panels, path, shape=(28, 28), n_filters=100, scale=None, title=None, n_cols=None):
    """Write :func:`filter_panels_figure` as a PNG; return the path (the parameters are that function's)."""
    filter_panels_figure(panels, shape=shape, n_filters=n_filters, scale=scale, title=title,
                         n_cols=n_cols).savefig(path)
    return path


def filter_panels_figure(panels, shape=(28, 28), n_filters=100, scale=None, title=None, n_cols=None):
    r"""Filter grids in a grid of panels, each with its own title, as a Figure.

    Parameters
    ----------
    panels : list of (str, A)
        ``A (K, P)`` the filters as rows (``W.T`` of a ``Dense`` layer); the
        first ``n_filters`` rows of each are tiled with
        :func:`numpy_ae.analysis.plotting.tile_images` (each filter scaled by
        its largest absolute weight: mid-grey is 0).
    shape : (h, w)
        Of one filter.
    n_filters : int
        Filters shown per panel (at most each ``A``'s K).
    scale : int or None
        Screen pixels per filter pixel; None: the largest that keeps the
        figure within :data:`MAX_PANELS_WIDTH` pixels (at least 1).
    title : str or None
        Above all panels.
    n_cols : int or None
        Panels per row; None: all in one row up to 4, else 4 (8 models: 2 rows of 4).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per panel, row by row, each titled (14 points); on an Agg canvas (no pyplot state).
    """
    if not panels:
        raise ValueError("panels must hold at least one (title, filters) pair; got none")
    n_filters = check_positive_int(n_filters, "n_filters")
    n_cols = min(len(panels), 4) if n_cols is None else check_positive_int(n_cols, "n_cols")
    n_rows = -(-len(panels) // n_cols)
    grids = [tile_images(np.asarray(A)[:n_filters], shape=shape) for _, A in panels]
    H, W = max(g.shape[0] for g in grids), max(g.shape[1] for g in grids)
    gap, label_px, top_px = 20, 34, (36 if title else 0)
    if scale is None:
        scale = max(1, (MAX_PANELS_WIDTH - (n_cols + 1) * gap) // (n_cols * W))
    scale = check_positive_int(scale, "scale")
    cell_w, cell_h = W * scale + gap, H * scale + label_px
    width, height = n_cols * cell_w + gap, top_px + n_rows * cell_h + gap // 2

    fig = new_figure(width, height)
    for i, ((label, _), grid) in enumerate(zip(panels, grids)):
        r, c = divmod(i, n_cols)
        left = gap + c * cell_w
        bottom = height - top_px - (r + 1) * cell_h
        h, w = grid.shape[0] * scale, grid.shape[1] * scale
        ax = fig.add_axes((left / width, bottom / height, w / width, h / height))
        ax.imshow(grid, cmap="gray", vmin=-1.0, vmax=1.0, interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(label, fontsize=14, pad=6)
    if title:
        fig.text(0.5, 1.0 - 0.5 * top_px / height, title, ha="center", va="center", fontsize=14)
    return fig


def run(corruption="masking", level=0.3, dataset="mnist", out="out/denoising", epochs=15, examples=10000,
        hidden=500, batch_size=20, learning_rate=0.1, momentum=0.0, dtype="float32", seed=0, verbose=True,
        data_home=None, download=True):
    r"""Train the dA at ``level`` and its 0% twin, write the figures; return ``(model, twin, result)``.

    Parameters
    ----------
    corruption : {"masking", "gaussian", "salt-pepper"}
    level : float in [0, 1)
        Masking / salt-and-pepper probability, or the Gaussian standard deviation.
    dataset : {"mnist", "fashion-mnist"}
    out : str
        Folder for ``filters.png`` and ``denoising.png``.
    epochs, batch_size, learning_rate, momentum :
        Minibatch SGD (the tutorial: 15, 20, 0.1, no momentum).
    examples : int
        Train on the first ``min(examples, N_train)`` training images.
    hidden : int
        H, hidden units (the tutorial: 500).
    dtype : {"float32", "float64"}
    seed : int
        Initial weights and shuffling (shared by the twin), and the test noise.
    verbose : bool
        One progress line per epoch.
    data_home, download :
        See :func:`numpy_ae.experiments.mnist_sparse.load_dataset`.

    Returns
    -------
    model, twin : DenoisingAutoencoder
        Trained at ``level`` and at 0.
    result : dict
        The JSON figures described in the module docstring.
    """
    epochs = check_positive_int(epochs, "epochs")
    examples = check_positive_int(examples, "examples")
    hidden = check_positive_int(hidden, "hidden")
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {dataset!r}")
    # Built first: a bad corruption kind or level fails here, before any data is read.
    params = dict(hidden_layer_sizes=(hidden,), corruption=corruption, method="sgd", learning_rate=learning_rate,
                  momentum=momentum, batch_size=batch_size, epochs=epochs, verbose=verbose, dtype=dtype,
                  random_state=seed)
    model = DenoisingAutoencoder(corruption_level=level, **params)
    twin = DenoisingAutoencoder(corruption_level=0.0, **params)  # same seed: same start, same minibatches
    level = model.corruption_level

    X_train, _, X_test, _, path = load_dataset(dataset, data_home=data_home, download=download, dtype=dtype)
    X = X_train[:examples]
    print(f"training on the first {X.shape[0]} of {X_train.shape[0]} training images, testing on all "
          f"{X_test.shape[0]} test images", flush=True)
    for ae in (model, twin):
        ae.set_params(batch_size=min(batch_size, len(X)))
    trained = [(model, level)] + ([(twin, 0.0)] if level > 0 else [])
    for ae, lev in trained:
        print(f"dA 784-{hidden}-784 (tied, sigmoid, cross-entropy), {corruption} noise at level {lev:g} "
              f"({_LEVEL_MEANING[corruption]}): SGD, learning rate {learning_rate}, momentum {momentum}, "
              f"minibatches of {ae.batch_size}, {epochs} epochs, {dtype}", flush=True)
        with one_blas_thread():
            ae.fit(X)
        print(f"  done in {ae.fit_seconds_:.1f} s; training objective {ae.cost_:.3f}", flush=True)
    if level == 0:
        twin = model

    X_test64 = X_test.astype(np.float64)
    X_noisy = corrupt(X_test, corruption, level, random_state=[1, seed])  # a stream of its own
    noisy_mse, denoised_mse = denoising_errors(model, X_test64, X_noisy)
    _, twin_denoised_mse = denoising_errors(twin, X_test64, X_noisy)
    locality, twin_locality = (filter_locality(ae.encoder_dense()[0].W) for ae in (model, twin))
    result = {"corruption": corruption, "level": level, "test_loss": model.network_.evaluate(X_test),
              "noisy_mse": noisy_mse, "denoised_mse": denoised_mse,
              "twin_test_loss": twin.network_.evaluate(X_test), "twin_denoised_mse": twin_denoised_mse,
              "filter_locality": float(np.median(locality)), "localised_filters": float(np.mean(locality > 0.3)),
              "twin_filter_locality": float(np.median(twin_locality)),
              "twin_localised_filters": float(np.mean(twin_locality > 0.3)),
              "seconds": model.fit_seconds_, "twin_seconds": twin.fit_seconds_, "epochs": epochs,
              "n_train": int(X.shape[0]), "n_test": int(X_test.shape[0]), "hidden": hidden,
              "batch_size": model.batch_size, "learning_rate": learning_rate, "momentum": momentum,
              "dtype": dtype, "dataset": dataset, "data_path": str(path)}
    result["claims"] = denoising_claims(result)

    os.makedirs(out, exist_ok=True)
    pct = f"{100 * level:g}%" if corruption != "gaussian" else f"sigma {level:g}"
    name = dataset_title(dataset)
    figs = [save_filter_panels(
        [("0% corruption", twin.encoder_dense()[0].W.T), (f"{pct} corruption", model.encoder_dense()[0].W.T)],
        os.path.join(out, "filters.png"),
        title=f"first {min(100, hidden)} of {hidden} dA filters, {corruption} noise, {X.shape[0]} {name} images, "
              f"{epochs} epoch{'s' if epochs != 1 else ''}")]
    shown = slice(0, 10)
    figs.append(save_image_grid(  # only Gaussian noise leaves [0, 1]: PIXEL_RANGE shows it clipped
        [("clean", X_test[shown]), ("noisy", X_noisy[shown]), ("denoised", model.reconstruct(X_noisy[shown]))],
        os.path.join(out, "denoising.png"), image_shape=(28, 28), value_range=PIXEL_RANGE,
        title=f"{name} test images, {corruption} noise at {pct}"))
    print(f"test cross-entropy {result['test_loss']:.2f} nats/image (0% twin: {result['twin_test_loss']:.2f}); "
          f"mean squared error per pixel: noisy {noisy_mse:.4f}, denoised {denoised_mse:.4f} "
          f"(0% twin: {twin_denoised_mse:.4f}); localised filters (locality > 0.3) "
          f"{result['localised_filters']:.0%} (0% twin: {result['twin_localised_filters']:.0%})", flush=True)
    print("wrote " + ", ".join(str(f) for f in figs), flush=True)
    return model, twin, result


def denoising_claims(r):
    """The claims of a :func:`run` result ``r``, computed from it: the dA denoises, better than its 0% twin, with
    more localised filters (Vincent et al. 2008; the tutorial's filter figures). Only the first at level 0."""
    src = "Vincent et al. 2008; deeplearning.net dA tutorial (filters at 0% and 30%, qualitative)"
    claims = [claim("The denoising autoencoder brings corrupted test images closer to the clean ones (MSE per pixel: "
                    "denoised, against the corrupted input)", r["denoised_mse"] < r["noisy_mse"], r["denoised_mse"],
                    r["noisy_mse"], source=src)]
    if r["level"] > 0:
        claims += [claim("It denoises better than its twin trained without corruption (MSE per pixel)",
                         r["denoised_mse"] < r["twin_denoised_mse"], r["denoised_mse"], r["twin_denoised_mse"],
                         source=src),
                   claim("Training with corruption gives more localised filters than without (share of filters "
                         "with locality > 0.3)", r["localised_filters"] > r["twin_localised_filters"],
                         r["localised_filters"], r["twin_localised_filters"], source=src)]
    return claims


@command("denoising", "the deeplearning.net denoising autoencoder: filters at 0% vs the chosen corruption, denoising")
def cmd_denoising(args):
    _, _, result = run(corruption=args.corruption, level=args.level, dataset=args.dataset, out=args.out,
                       epochs=args.epochs, examples=args.examples, hidden=args.hidden, batch_size=args.batch_size,
                       learning_rate=args.learning_rate, momentum=args.momentum, dtype=args.dtype, seed=args.seed,
                       verbose=not args.quiet, data_home=args.data_home, download=not args.no_download)
    emit(args, result, "")
    return 0


def _configure(p):
    add_data_options(p)
    p.add_argument("--corruption", choices=CORRUPTION_KINDS, default="masking",
                   help="noise process (default: masking, the tutorial's)")
    p.add_argument("--level", type=float, default=0.3,
                   help="corruption level in [0, 1): masking/salt-and-pepper probability or Gaussian std "
                        "(default 0.3)")
    add_output(p, "--out", kind="folder", default="out/denoising", help="folder for filters.png and denoising.png")
    p.add_argument("--epochs", type=int, default=15, help="SGD epochs (the tutorial: 15)")
    p.add_argument("--examples", type=int, default=10000, help="train on the first N training images")
    p.add_argument("--hidden", type=int, default=500, help="hidden units (the tutorial: 500)")
    p.add_argument("--batch-size", type=int, default=20, help="minibatch size (the tutorial: 20)")
    p.add_argument("--learning-rate", type=float, default=0.1, help="SGD learning rate (the tutorial: 0.1)")
    p.add_argument("--momentum", type=float, default=0.0, help="SGD momentum in [0, 1) (the tutorial: none)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="precision of training")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights, the shuffling and the test noise")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_denoising.configure = _configure
