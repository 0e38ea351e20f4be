r"""``python -m numpy_ae regularized``: one table of regularised autoencoders of the same size on the same data.

Eight models, each a :class:`numpy_ae.models.composable.RegularizedAutoencoder` with
one hidden (code) layer of ``H`` units (``--hidden``, default 256), the same
Adam settings, minibatches, epochs and seed; they differ only in the
regulariser at the code:

=================  ==================================================================================
``plain``          sigmoid code, cross-entropy, nothing else
``denoising``      + masking noise on the input (30% of the pixels zeroed)
``contractive``    + :math:`\lambda \lVert J_f(x)\rVert_F^2` (Rifai et al. 2011), :math:`\lambda` = 0.1
``kl-sparse-mse``  Hands-On ML's sparse autoencoder: KL sparsity (target 0.1, Keras weight 0.2), MSE
``kl-sparse-ce``   the same with cross-entropy (the weight converted, see below)
``l1``             + L1 activity (Hands-On ML 3rd ed.: Keras weight 1e-4, converted alike)
``k-sparse``       linear code, the k largest units kept per example (Makhzani & Frey 2013), k = 25
``fc-wta``         ReLU code, each unit keeps its top 5% over the minibatch (Makhzani & Frey 2015)
=================  ==================================================================================

Loss scales: Hands-On ML's weights, converted. Two Keras conventions differ
from ours. (1) tf.keras divides the value of an activity regulariser (the KL
and L1 penalties here) by the batch size, to make its strength
"batch-agnostic", and the book's ``fit`` uses Keras' default batch of 32: on
an objective averaged over examples, as ours is, the book's weight 0.2 acts as
0.2 / 32. (2) Keras averages its cross-entropy over pixels; ours
(:class:`numpy_ae.nn.losses.BinaryCrossEntropy`) sums over the ``D`` pixels (the
deeplearning.net and Kingma-Welling convention), so with the cross-entropy the
weight is also multiplied by ``D``: the same objective times ``D``, which
Adam's updates do not see (Adam divides by the gradient's running RMS). The
MSE is a mean over pixels in both. So ``kl-sparse-mse`` uses
:math:`\beta = 0.2/32`, ``kl-sparse-ce`` :math:`0.2 \cdot 784/32`, and ``l1``
:math:`10^{-4} \cdot 784/32`. (Taken at face value, :math:`\beta = 0.2` on 256
units dominates the MSE: the filters stay noise and the test MSE 0.06 after
10 epochs of the default run.)

Columns (all on the test split):

``test_mse``
    :math:`\frac{1}{ND}\sum (\hat x - x)^2` of ``reconstruct``.
``mean_activation``
    the mean code value (``transform``, i.e. the code as used at inference:
    k-sparse keeps :math:`\alpha k` units, WTA's lifetime sparsity is off).
``active_fraction``
    the share of (example, unit) code entries whose magnitude exceeds 10% of
    that unit's largest magnitude on the test set: 1 for a dense code, small
    for a sparse one, independent of each unit's scale.
``jacobian_norm``
    the mean over ``--jacobian-examples`` test images (default 50) of the
    Frobenius norm :math:`\lVert J_f(x)\rVert_F` of the encoder's Jacobian,
    from central differences of ``transform`` (step 1e-4, float64) along every
    pixel, so the same estimate serves every model, whatever its code layer.
``accuracy``
    test accuracy of :class:`numpy_ae.models.softmax.SoftmaxRegression` (weight decay
    1e-4, L-BFGS, 200 iterations) trained on the training codes; beside it
    ``raw_pixel_accuracy``, the same classifier on the pixels.

The published figures printed beside the table come from full MNIST, other
sizes and longer training (FC-WTA 1.2% test error with 2,000 units at 5%
lifetime sparsity, Makhzani & Frey 2015; k-sparse about 1.35% with 1,000 units
and k = 25, Makhzani & Frey 2013; CAE 1.14%, Rifai et al. 2011, with an SVM or
fine-tuning): they are a reference point, not a target this small run claims.

Figure ``filters.png``: the first 100 filters (columns of the first ``Dense``
layer's ``W``) of every model, one titled panel each, four panels to a row
(:func:`~numpy_ae.experiments.denoising.filter_panels_figure`: the eight models
in two rows, at most 1,280 pixels wide). JSON (last line, ``--json``):
``{"models": {"<name>": {"test_mse", "mean_activation", "active_fraction",
"jacobian_norm", "accuracy", "seconds", "classifier_stopped_early"}},
"raw_pixel_accuracy", ..., "claims"}`` (:func:`regularized_claims`); a classifier that stopped early is also printed
as a NOTE under its model.
"""
from __future__ import annotations

import os
import time
import warnings

import numpy as np

from .._validation import check_positive_int
from .claims import claim
from .registry import add_output, command, emit
from ..exceptions import ConvergenceWarning
from .denoising import one_blas_thread, save_filter_panels
from .mnist_sparse import DATASETS, add_data_options, load_dataset
from ..data import dataset_title
from ..models.composable import RegularizedAutoencoder
from ..models.softmax import SoftmaxRegression

__all__ = ["MODELS", "make_models", "jacobian_frobenius_norms", "active_fraction", "run"]

#: The models of the table, in order.
MODELS = ("plain", "denoising", "contractive", "kl-sparse-mse", "kl-sparse-ce", "l1", "k-sparse", "fc-wta")

#: Hands-On ML's weights as written for Keras (KL: target 0.1, weight 0.2; L1 activity: 1e-4), and the batch
#: size of its ``fit`` (Keras' default). tf.keras divides an activity regulariser's value by the batch size
#: (``Layer._handle_activity_regularization``: "make activity regularization strength batch-agnostic"), so on
#: an objective averaged over examples, as ours, the book's weight acts as ``weight / 32``.
KERAS_KL_WEIGHT, KERAS_L1, KERAS_BATCH = 0.2, 1e-4, 32

PUBLISHED = {"fc-wta": "1.2% test error (2,000 units, 5% lifetime sparsity; Makhzani & Frey 2015)",
             "k-sparse": "about 1.35% test error (1,000 units, k = 25; Makhzani & Frey 2013)",
             "contractive": "1.14% test error (Rifai et al. 2011)"}


def make_models(hidden=256, n_features=784, k=25, epochs=10, batch_size=128, learning_rate=1e-3, dtype="float32",
                seed=0, verbose=False, names=MODELS):
    """The models of the table, unfitted: ``{name: RegularizedAutoencoder}`` (see the module docstring)."""
    hidden = check_positive_int(hidden, "hidden")
    k = check_positive_int(k, "k")
    if k > hidden:
        raise ValueError(f"k must be <= hidden (the code size, {hidden}); got {k}")
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise ValueError(f"models must be among {', '.join(MODELS)}; got {', '.join(unknown)}")
    D = n_features
    common = dict(hidden_layer_sizes=(hidden,), method="adam", epochs=epochs, batch_size=batch_size,
                  learning_rate=learning_rate, dtype=dtype, random_state=seed, verbose=verbose)
    ce = dict(activation="sigmoid", loss="cross_entropy")
    configs = {
        "plain": ce,
        "denoising": ce | dict(noise="masking", noise_level=0.3),
        "contractive": ce | dict(contraction=0.1),
        "kl-sparse-mse": dict(activation="sigmoid", loss="mse", output_activation="sigmoid",
                              sparsity_target=0.1, sparsity_weight=KERAS_KL_WEIGHT / KERAS_BATCH),
        "kl-sparse-ce": ce | dict(sparsity_target=0.1, sparsity_weight=KERAS_KL_WEIGHT / KERAS_BATCH * D),
        "l1": ce | dict(l1_activity=KERAS_L1 / KERAS_BATCH * D),
        "k-sparse": dict(activation="identity", loss="cross_entropy", k_sparse=k),
        "fc-wta": dict(activation="relu", loss="cross_entropy", lifetime_sparsity=0.05),
    }
    return {name: RegularizedAutoencoder(**(common | configs[name])) for name in names}


def _batches(n, size):
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def jacobian_frobenius_norms(transform, X, eps=1e-4, batch_rows=8192):
    r"""``||J_f(x_n)||_F`` for every row of ``X (N, D)``: shape ``(N,)``, by central differences.

    For each example, the ``2D`` inputs :math:`x \pm \epsilon e_i` go through
    ``transform`` (in batches of at most ``batch_rows`` rows) and

    .. math:: J_{ji} \approx \frac{f_j(x + \epsilon e_i) - f_j(x - \epsilon e_i)}{2\epsilon},
        \qquad \lVert J\rVert_F^2 = \sum_{i,j} J_{ji}^2 .

    The truncation error is :math:`O(\epsilon^2 f''')`; a unit whose support
    changes within :math:`\pm\epsilon` (a ReLU at 0, the k-th and (k+1)-th
    largest k-sparse units swapping) contributes a wrong column, which needs
    an input within 1e-4 of a kink: rare, and a bounded error per example.
    """
    X = np.asarray(X, dtype=np.float64)
    N, D = X.shape
    eye = np.eye(D) * eps
    norms = np.empty(N)
    per_batch = max(1, batch_rows // (2 * D))
    for sl in _batches(N, per_batch):
        Xb = X[sl]
        plus = (Xb[:, None, :] + eye).reshape(-1, D)
        minus = (Xb[:, None, :] - eye).reshape(-1, D)
        Fp = np.asarray(transform(plus), dtype=np.float64).reshape(len(Xb), D, -1)
        Fm = np.asarray(transform(minus), dtype=np.float64).reshape(len(Xb), D, -1)
        J = (Fp - Fm) / (2 * eps)
        norms[sl] = np.sqrt(np.einsum("nij,nij->n", J, J))
    return norms


def active_fraction(H, relative=0.1):
    r"""Share of entries of the codes ``H (N, K)`` with :math:`|h_{nj}| > 0.1 \max_n |h_{nj}|`."""
    A = np.abs(np.asarray(H, dtype=np.float64))
    peak = A.max(axis=0)
    return float(np.mean(A > relative * peak))


def _filters(model):
    """``W.T (H, D)`` of the model's first Dense layer."""
    for layer in model.encoder_layers:
        if hasattr(layer, "W"):
            return np.asarray(layer.W).T
    raise ValueError(f"{type(model).__name__} has no Dense layer in its encoder")


def _transform_batched(model, X, size=5000):
    return np.concatenate([model.transform(X[sl]) for sl in _batches(len(X), size)])


def evaluate(model, X_train, y_train, X_test, y_test, jacobian_examples=50, classifier_iter=200):
    """The table's columns for one fitted model (see the module docstring)."""
    R = np.concatenate([model.reconstruct(X_test[sl]) for sl in _batches(len(X_test), 5000)])
    test_mse = float(np.mean((R.astype(np.float64) - X_test) ** 2))
    H_test = _transform_batched(model, X_test)
    H_train = _transform_batched(model, X_train)
    jac = jacobian_frobenius_norms(lambda Z: model.transform(Z.astype(model.dtype)), X_test[:jacobian_examples])
    clf = SoftmaxRegression(weight_decay=1e-4, max_iter=classifier_iter, random_state=0)
    with warnings.catch_warnings(record=True) as caught:  # reported, not hidden: see the "classifier" key
        warnings.simplefilter("always", ConvergenceWarning)
        clf.fit(H_train.astype(np.float64), y_train)
    stopped = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    return {"test_mse": test_mse, "mean_activation": float(np.mean(H_test)), "active_fraction": active_fraction(H_test),
            "jacobian_norm": float(np.mean(jac)), "accuracy": float(clf.score(H_test.astype(np.float64), y_test)),
            "classifier": stopped[0] if stopped else f"converged or ran {classifier_iter} iterations",
            "classifier_stopped_early": bool(stopped)}


def run(dataset="mnist", out="out/regularized", hidden=256, k=25, epochs=10, n_train=10000, n_test=None,
        batch_size=128, learning_rate=1e-3, models=MODELS, jacobian_examples=50, classifier_iter=200,
        dtype="float32", seed=0, verbose=True, data_home=None, download=True):
    """Train every model, evaluate, write ``filters.png``; return ``(fitted models, result dict)``."""
    hidden, epochs, n_train = (check_positive_int(v, name) for v, name in
                               ((hidden, "hidden"), (epochs, "epochs"), (n_train, "n_train")))
    jacobian_examples = check_positive_int(jacobian_examples, "jacobian_examples")
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {dataset!r}")
    built = make_models(hidden=hidden, k=k, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                        dtype=dtype, seed=seed, verbose=verbose, names=tuple(models))  # bad settings fail here
    X_train, y_train, X_test, y_test, path = load_dataset(dataset, data_home=data_home, download=download,
                                                          dtype=dtype)
    X, y = X_train[:n_train], y_train[:n_train]
    Xt, yt = (X_test, y_test) if n_test is None else (X_test[:n_test], y_test[:n_test])
    print(f"{len(models)} autoencoders 784-{hidden}-784 on {len(X)} training images, tested on {len(Xt)}; "
          f"Adam (learning rate {learning_rate}), minibatches of {batch_size}, {epochs} epochs, {dtype}", flush=True)

    raw = SoftmaxRegression(weight_decay=1e-4, max_iter=classifier_iter, random_state=0)
    raw.fit(X.astype(np.float64), y)
    raw_accuracy = float(raw.score(Xt.astype(np.float64), yt))
    print(f"linear classifier on raw pixels: test accuracy {raw_accuracy:.4f}", flush=True)

    table = {}
    for name, model in built.items():
        print(f"== {name}: {model!r}", flush=True)
        start = time.perf_counter()
        with one_blas_thread():
            model.fit(X)
        seconds = time.perf_counter() - start
        row = evaluate(model, X, y, Xt, yt, jacobian_examples=jacobian_examples, classifier_iter=classifier_iter)
        row["seconds"] = seconds
        table[name] = row
        print(f"   {seconds:.1f} s; test MSE {row['test_mse']:.4f}, accuracy {row['accuracy']:.4f}", flush=True)
        if row["classifier_stopped_early"]:
            print(f"   NOTE: the linear classifier on these codes stopped early ({row['classifier']}); its accuracy "
                  f"is that of a classifier that did not converge", flush=True)

    head = f"{'model':<15}{'test MSE':>10}{'mean act.':>11}{'active':>8}{'||J||_F':>9}{'accuracy':>10}{'s':>7}"
    lines = [head, "-" * len(head)]
    for name, r in table.items():
        lines.append(f"{name:<15}{r['test_mse']:>10.4f}{r['mean_activation']:>11.3f}{r['active_fraction']:>8.1%}"
                     f"{r['jacobian_norm']:>9.2f}{r['accuracy']:>10.4f}{r['seconds']:>7.1f}")
    lines.append(f"{'raw pixels':<15}{'':>10}{'':>11}{'':>8}{'':>9}{raw_accuracy:>10.4f}")
    print("\n".join(lines))
    print("published, for orientation only (full MNIST, other sizes): "
          + "; ".join(f"{n}: {t}" for n, t in PUBLISHED.items()), flush=True)

    os.makedirs(out, exist_ok=True)
    name = dataset_title(dataset)
    fig = save_filter_panels([(n, _filters(m)) for n, m in built.items()], os.path.join(out, "filters.png"),
                             title=f"first {min(100, hidden)} of {hidden} filters per model, {len(X)} {name} "
                                   f"images, {epochs} epoch{'s' if epochs != 1 else ''}")
    print(f"wrote {fig}", flush=True)
    result = {"models": table, "raw_pixel_accuracy": raw_accuracy, "dataset": dataset, "data_path": str(path),
              "n_train": int(len(X)), "n_test": int(len(Xt)), "hidden": hidden, "k": k, "epochs": epochs,
              "batch_size": batch_size, "learning_rate": learning_rate, "dtype": dtype, "seed": seed,
              "published": PUBLISHED}
    result["claims"] = regularized_claims(table, raw_accuracy)
    return built, result


def regularized_claims(table, raw_accuracy):
    """The claims of docs/results.md, computed from the table ``{name: row}`` (only those its models allow).

    Every code beats raw pixels for a linear classifier (the worst one against them); the contractive
    penalty flattens the encoder (its mean Jacobian norm against the plain model's).
    """
    claims = []
    if table:
        worst = min(table, key=lambda n: table[n]["accuracy"])
        claims.append(claim(f"Every code of the table ({', '.join(table)}) beats the raw pixels for a linear "
                            f"classifier (the worst: {worst}; test accuracy)", table[worst]["accuracy"] > raw_accuracy,
                            table[worst]["accuracy"], raw_accuracy))
    if "contractive" in table and "plain" in table:
        ours, base = table["contractive"]["jacobian_norm"], table["plain"]["jacobian_norm"]
        claims.append(claim("The contractive penalty gives a flatter encoder than no regulariser (mean ||J_f(x)||_F "
                            "on test images)", ours < base, ours, base,
                            source="Rifai et al. 2011, Contractive Auto-Encoders"))
    return claims


@command("regularized", "plain, denoising, contractive, KL-sparse, L1, k-sparse and winner-take-all autoencoders "
                        "of one size on one data set: reconstruction, sparsity, Jacobian, linear accuracy")
def cmd_regularized(args):
    models = tuple(m.strip() for m in args.models.split(",")) if args.models else MODELS
    _, result = run(dataset=args.dataset, out=args.out, hidden=args.hidden, k=args.k, epochs=args.epochs,
                    n_train=args.n_train, n_test=args.n_test, batch_size=args.batch_size,
                    learning_rate=args.learning_rate, models=models, jacobian_examples=args.jacobian_examples,
                    classifier_iter=args.classifier_iter, dtype=args.dtype, seed=args.seed, verbose=not args.quiet,
                    data_home=args.data_home, download=not args.no_download)
    emit(args, result, "")
    return 0


def _configure(p):
    add_data_options(p)
    add_output(p, "--out", kind="folder", default="out/regularized", help="folder for filters.png")
    p.add_argument("--hidden", type=int, default=256, help="code units of every model (default 256)")
    p.add_argument("--k", type=int, default=25, help="units kept per example by the k-sparse model (default 25)")
    p.add_argument("--epochs", type=int, default=10, help="Adam epochs per model (default 10)")
    p.add_argument("--n-train", type=int, default=10000, help="train on the first N training images")
    p.add_argument("--n-test", type=int, default=None, help="test on the first N test images (default: all)")
    p.add_argument("--batch-size", type=int, default=128, help="minibatch size (default 128)")
    p.add_argument("--learning-rate", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    p.add_argument("--models", default=None, help=f"comma-separated subset of {','.join(MODELS)}")
    p.add_argument("--jacobian-examples", type=int, default=50,
                   help="test images over which the Jacobian norm is averaged (default 50)")
    p.add_argument("--classifier-iter", type=int, default=200, help="L-BFGS iterations of the linear classifier")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="precision of training")
    p.add_argument("--seed", type=int, default=0, help="seed of every model's weights and minibatches")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_regularized.configure = _configure
