r"""``python -m numpy_ae stacked``: UFLDL's stacked autoencoder exercise, a 784-200-200-10 digit classifier.

UFLDL's "Implement deep networks for digit classification" (``stackedAEExercise.m``):

1. train a sparse autoencoder 784-200-784 on the training images (greedy
   layer-wise pretraining, layer 1);
2. train a second sparse autoencoder 200-200-200 on the layer-1 features
   :math:`a^{(2)} = \sigma(x W_1 + b_1)` of the same images (layer 2);
3. train softmax regression on the layer-2 features
   :math:`a^{(3)} = \sigma(a^{(2)} W_2 + b_2)`: the accuracy **before fine-tuning**;
4. treat encoder 1, encoder 2 and the softmax as ONE network and train every
   weight by backpropagation from the classification cost, starting from the
   pretrained weights: the accuracy **after fine-tuning**.

Steps 1-2 are :func:`numpy_ae.models.stacked.pretrain_layerwise` with
:class:`numpy_ae.SparseAutoencoder`; steps 3-4 are
:class:`numpy_ae.models.classifier.EncoderClassifier` (``fit(..., fine_tune=False)``,
then ``fit(..., fine_tune=True)``) on ``encoder_layers_of(autoencoders)``,
which keeps each encoder's Dense and sigmoid and leaves the KL-sparsity
layers out (the fine-tuning cost has no sparsity term).

=======================  =====================================================
autoencoders             H = 200 each, :math:`\rho = 0.1`, :math:`\beta = 3`,
                         :math:`\lambda = 3\cdot10^{-3}`, 400 L-BFGS iterations
softmax (step 3)         :math:`\lambda = 10^{-4}`
fine-tuning (step 4)     :math:`\lambda = 3\cdot10^{-3}` (softmax weights only; see
                         below), 400 L-BFGS iterations
UFLDL's result           87.7% before, 97.6% after fine-tuning (full MNIST)
=======================  =====================================================

Weight decay in fine-tuning. UFLDL fine-tunes with :math:`\lambda = 3\cdot10^{-3}`
(``stackedAEExercise.m`` passes its ``lambda`` to ``stackedAECost``), and the
usual ``stackedAECost.m`` decays only the softmax weights,
:math:`\frac{\lambda}{2}\lVert\theta_{softmax}\rVert^2`. ``EncoderClassifier``
has one ``weight_decay``, which in ``fit(fine_tune=True)`` acts on EVERY
weight matrix (both encoders and the softmax; never biases): UFLDL's setting
cannot be written with it, and its 3e-3 on all 199,000 weights is a different,
much stronger penalty. Measured on the 10k MNIST subset (8,000 train / 2,000
test), from the same pretrained autoencoders (accuracy 0.9075 before
fine-tuning), 400 iterations:

=====================================  ========  ========  ================
fine-tuning penalty                    test      train     :math:`\lVert W_1\rVert` (28.8 before)
=====================================  ========  ========  ================
3e-3 on every weight matrix            0.9090    0.9299    9.1
1e-4 on every weight matrix            0.9510    1.0000    18.7
3e-3 on the softmax weights only       0.9555    1.0000    225
=====================================  ========  ========  ================

With 3e-3 on all weights the decay term (3.7 at the start, against a
training cross-entropy of 0.27) dominates the objective: L-BFGS shrinks
:math:`W_1` to a third and fine-tuning gains nothing. 1e-4 on every weight matrix (the softmax's
:math:`\lambda`, and ``EncoderClassifier``'s default) comes within 0.005 of
UFLDL's softmax-only decay, inside the noise of 2,000 test images (one
standard error: 0.005), while keeping the encoder weights bounded; it is this
module's default (``finetune_weight_decay=1e-4``). The classifier after
fine-tuning is a second ``EncoderClassifier`` whose softmax layer starts from
the first one's weights (UFLDL's ``stackedAETheta = [saeSoftmaxOptTheta; stackparams]``),
so a different ``finetune_weight_decay`` can be tried (``--finetune-weight-decay``).

Other differences from UFLDL: our layers have biases in the softmax too;
UFLDL runs the softmax for 100 iterations (we run ``softmax_iterations``,
400 by default, to convergence); the data here may be a subset (the run says
which, with :func:`numpy_ae.data.describe_dataset`).

Figures written into ``--out``: ``filters_layer1.png`` (the 200 rows of
``W1.T``, UFLDL's ``W1``, as 28x28 images), ``filters_layer2.png`` (each
layer-2 unit drawn as the weighted combination of layer-1 filters it
computes, ``(W1 @ W2).T``: a linear picture that ignores the sigmoid between
the layers, as in Lee et al., 2008; :func:`numpy_ae.analysis.features.encoder_filters`
on :func:`stack_of` the two autoencoders), ``filters_layer1_finetuned.png`` (the
layer-1 filters after fine-tuning), and the two autoencoders
``sae_layer1.npz``, ``sae_layer2.npz`` (:func:`numpy_ae.load`).

Cost. Layer 1 dominates pretraining: five products of ``N x 784 x 200`` per
evaluation, like ``mnist-sparse``; fine-tuning needs three such products per
evaluation (no input gradient for the first layer).

Test accuracy before and after fine-tuning (defaults: 400 L-BFGS iterations
per stage, float64, seed 0; the wall times of these runs are in
``benchmarks/README.md``):

==============================================  ======  ======
data                                            before  after
==============================================  ======  ======
MNIST 10k subset: 8,000 train / 2,000 test      0.9055  0.9545
Fashion-MNIST, all 60,000 train / 10,000 test   0.7815  0.8887
Fashion-MNIST, first 20,000 train (--examples)  0.7785  0.8666
==============================================  ======  ======

UFLDL's 87.7% / 97.6% are for all 60,000 MNIST digits (10,000 test): the
subset's figures are not comparable with them (8,000 training and 2,000
test digits). On Fashion-MNIST ``--examples 20000`` gives most of the full
run's accuracy at about a third of its cost.
Fashion-MNIST's training accuracy after fine-tuning (0.964 on 60,000, 0.999
on 20,000) shows fine-tuning overfits the smaller set more.
"""
from __future__ import annotations

import copy
import os
import time

import numpy as np

from .._validation import check_non_negative, check_positive_int, check_random_state
from ..models.autoencoders import SparseAutoencoder
from ..models.classifier import EncoderClassifier
from .claims import claim
from .registry import add_output, command, emit
from ..models.stacked import StackedAutoencoder, pretrain_layerwise
from .mnist_sparse import DATASETS, add_data_options, load_dataset
from ..data import dataset_title
from ..analysis.plotting import save_tiles
from ..analysis.model_figures import save_filters

__all__ = ["stacked_classification", "stack_of", "run", "UFLDL_ACCURACY"]

#: UFLDL's reported test accuracies on full MNIST (stackedAEExercise.m).
UFLDL_ACCURACY = {"before_finetune": 0.877, "after_finetune": 0.976}


def stack_of(autoencoders):
    r"""The trained sparse autoencoders stacked into one deep autoencoder, e.g. 784-200-200-200-784.

    :meth:`numpy_ae.models.stacked.StackedAutoencoder.from_autoencoders` with the parts'
    sigmoid units and squared error, so that :mod:`numpy_ae.analysis.features` and
    :func:`numpy_ae.analysis.model_figures.save_filters` can show any layer's units
    (``layer=1``: the rows of :math:`(W_1 W_2)^\top`).
    """
    return StackedAutoencoder.from_autoencoders(autoencoders, activation="sigmoid", loss="squared_error",
                                                output_activation="sigmoid")


def stacked_classification(X_train, y_train, X_test, y_test, iterations=400, softmax_iterations=400,
                           finetune_iterations=None, hidden=(200, 200), sparsity=0.1, beta=3.0, weight_decay=3e-3,
                           softmax_weight_decay=1e-4, finetune_weight_decay=1e-4, dtype="float64",
                           random_state=0, verbose=0):
    r"""Greedy pretraining, softmax, fine-tuning; accuracy before and after fine-tuning.

    Parameters
    ----------
    X_train, y_train, X_test, y_test : arrays (N, D), (N,), (N_test, D), (N_test,)
        Images in [0, 1] (the sparse autoencoders reconstruct through a sigmoid)
        and labels 0..K-1.
    iterations : int
        L-BFGS iterations of each autoencoder (UFLDL: 400).
    softmax_iterations : int
        L-BFGS iterations of the softmax on the layer-2 features (UFLDL: 100).
    finetune_iterations : int or None
        L-BFGS iterations of fine-tuning (None: ``iterations``; UFLDL: 400).
    hidden : sequence of int
        Widths of the encoder layers (UFLDL: 200, 200); any depth works.
    sparsity, beta, weight_decay :
        :math:`\rho`, :math:`\beta`, :math:`\lambda` of every autoencoder (0.1, 3, 3e-3).
    softmax_weight_decay : float
        :math:`\lambda` of the softmax before fine-tuning (UFLDL: 1e-4).
    finetune_weight_decay : float
        :math:`\lambda` of fine-tuning, on every weight matrix (UFLDL: 3e-3 on the
        softmax weights only, which ``EncoderClassifier`` cannot express; 1e-4 on
        all weights matches its accuracy, see the module docstring).
    dtype : {"float64", "float32"}
        Of the autoencoders' computations (the classifiers run in float64).
    random_state : None, int or numpy.random.Generator
        Seeds every initialisation, in order: autoencoder 1, 2, ..., the softmax.
    verbose : int
        Print the cost every ``verbose`` L-BFGS iterations (0: silent); stage
        lines are always printed.

    Returns
    -------
    result : dict
        ``accuracy_before_finetune``, ``accuracy_after_finetune`` (test),
        ``train_accuracy_before_finetune``, ``train_accuracy_after_finetune``,
        ``n_train``, ``n_test``, ``mean_activations`` (per layer, compare with
        :math:`\rho`), ``autoencoder_costs``, ``seconds`` (total wall time) and
        ``stage_seconds`` (``{"layer1", "layer2", ..., "softmax", "finetune"}``).
    autoencoders : list of SparseAutoencoder
    before, after : EncoderClassifier
        The classifier with fixed pretrained features, and the fine-tuned one.
    """
    iterations = check_positive_int(iterations, "iterations")
    softmax_iterations = check_positive_int(softmax_iterations, "softmax_iterations")
    finetune_iterations = iterations if finetune_iterations is None else \
        check_positive_int(finetune_iterations, "finetune_iterations")
    softmax_weight_decay = check_non_negative(softmax_weight_decay, "softmax_weight_decay")
    finetune_weight_decay = check_non_negative(finetune_weight_decay, "finetune_weight_decay")
    hidden = [check_positive_int(h, "hidden widths") for h in hidden]
    rng = check_random_state(random_state)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    start = time.perf_counter()
    stage_seconds = {}

    # Steps 1-2: one sparse autoencoder per layer, each on the codes of the one before.
    sizes = [X_train.shape[1]] + hidden
    print(f"greedy layer-wise pretraining of {'-'.join(map(str, sizes))}: one sparse autoencoder per layer "
          f"(rho {sparsity}, beta {beta}, lambda {weight_decay}, {iterations} L-BFGS iterations each, {dtype})",
          flush=True)
    parts = pretrain_layerwise(
        X_train, hidden,
        lambda n_in, n_out, k: SparseAutoencoder(n_hidden=n_out, sparsity=sparsity, beta=beta,
                                                 weight_decay=weight_decay, max_iter=iterations, verbose=verbose,
                                                 dtype=dtype, random_state=rng),
        verbose=1)
    codes, mean_acts = X_train, []
    for k, ae in enumerate(parts, start=1):
        mean_acts.append(ae.mean_activation(codes))
        codes = ae.transform(codes)
        stage_seconds[f"layer{k}"] = ae.fit_seconds_
        print(f"  layer {k}: cost {ae.cost_:.4f} after {ae.n_iter_} iterations (L-BFGS: {ae.message_.lower()}) in {ae.fit_seconds_:.1f} s; "
              f"mean hidden activation {mean_acts[-1]:.4f} (rho {sparsity})", flush=True)

    # Step 3: softmax on the last layer's features, the encoders fixed (their Dense and Sigmoid layers are
    # copied; the sparsity layers are left out).
    before = EncoderClassifier(encoder=parts, fine_tune=False, weight_decay=softmax_weight_decay,
                               softmax_max_iter=softmax_iterations, random_state=rng).fit(X_train, y_train)
    stage_seconds["softmax"] = before.fit_seconds_
    acc_before, train_before = before.score(X_test, y_test), before.score(X_train, y_train)
    print(f"softmax (lambda {softmax_weight_decay}) on the {hidden[-1]} layer-{len(hidden)} features: "
          f"test accuracy {acc_before:.4f} (train {train_before:.4f}) before fine-tuning "
          f"[{before.n_iter_} iterations, {before.fit_seconds_:.1f} s]", flush=True)

    # Step 4: the whole network, from the pretrained encoders and the trained softmax.
    after = copy.deepcopy(before).set_params(fine_tune=True, warm_start=True, weight_decay=finetune_weight_decay,
                                             max_iter=finetune_iterations, verbose=verbose)
    n_params = after.network_.n_params
    print(f"fine-tuning all {n_params} parameters (lambda {finetune_weight_decay} on every weight matrix) "
          f"with L-BFGS for {finetune_iterations} iterations", flush=True)
    after.fit(X_train, y_train)
    stage_seconds["finetune"] = after.fit_seconds_
    acc_after, train_after = after.score(X_test, y_test), after.score(X_train, y_train)
    print(f"after fine-tuning: test accuracy {acc_after:.4f} (train {train_after:.4f}) "
          f"[{after.n_iter_} iterations, {after.fit_seconds_:.1f} s]", flush=True)

    result = {"accuracy_before_finetune": acc_before, "accuracy_after_finetune": acc_after,
              "n_train": int(len(X_train)), "n_test": int(len(X_test)),
              "train_accuracy_before_finetune": train_before, "train_accuracy_after_finetune": train_after,
              "mean_activations": mean_acts, "autoencoder_costs": [ae.cost_ for ae in parts],
              "iterations": iterations, "finetune_iterations": finetune_iterations,
              "finetune_weight_decay": finetune_weight_decay,
              "seconds": time.perf_counter() - start, "stage_seconds": stage_seconds}
    return result, parts, before, after


def run(dataset="mnist", out="out/stacked", iterations=400, examples=None, softmax_iterations=400,
        finetune_weight_decay=1e-4, dtype="float64", seed=0, verbose=50, data_home=None, download=True):
    r"""UFLDL's stacked autoencoder exercise on MNIST or Fashion-MNIST; return ``(model, result)``.

    Loads the data (:func:`numpy_ae.experiments.mnist_sparse.load_dataset`, which
    prints :func:`~numpy_ae.data.describe_dataset`), trains on the first
    ``examples`` training images (None: all), tests on the whole test split,
    writes the filter images and the two autoencoders into ``out``.
    ``model`` is the fine-tuned :class:`~numpy_ae.models.classifier.EncoderClassifier`;
    ``result`` is :func:`stacked_classification`'s plus ``dataset``, ``data_path``,
    ``files`` and ``claims`` (:mod:`numpy_ae.experiments.claims`: fine-tuning raises the test accuracy
    over the softmax on the pretrained features; UFLDL's figure beside, from full MNIST).
    """
    iterations = check_positive_int(iterations, "iterations")
    if examples is not None:
        examples = check_positive_int(examples, "examples")
    check_positive_int(softmax_iterations, "softmax_iterations")
    check_non_negative(finetune_weight_decay, "finetune_weight_decay")
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {dataset!r}")
    X_all, y_all, X_test, y_test, path = load_dataset(dataset, data_home=data_home, download=download, dtype=dtype)
    X, y = X_all[:examples], y_all[:examples]
    print(f"training on the first {len(X)} of {len(X_all)} training images"
          + (f" (asked for {examples}: that is all there is)" if examples and len(X) < examples else "")
          + f"; testing on all {len(X_test)} test images", flush=True)

    result, parts, before, after = stacked_classification(
        X, y, X_test, y_test, iterations=iterations, softmax_iterations=softmax_iterations,
        finetune_weight_decay=finetune_weight_decay, dtype=dtype, random_state=seed, verbose=verbose)

    os.makedirs(out, exist_ok=True)
    name = dataset_title(dataset)
    deep = stack_of(parts)  # 784-200-200-200-784, to draw both layers' units in pixel space
    files = [
        save_filters(deep, os.path.join(out, "filters_layer1.png"), layer=0, image_shape=(28, 28),
                     title=f"layer 1: the {deep.layer_sizes_[1]} filters W1.T of the first autoencoder ({name})"),
        save_filters(deep, os.path.join(out, "filters_layer2.png"), layer=1, image_shape=(28, 28),
                     title="layer 2: rows of (W1 W2).T, weighted sums of layer-1 filters"),
        save_tiles(after.network_.layers[0].W.T, os.path.join(out, "filters_layer1_finetuned.png"), shape=(28, 28),
                   title="layer 1 after fine-tuning"),
        parts[0].save(os.path.join(out, "sae_layer1.npz")),
        parts[1].save(os.path.join(out, "sae_layer2.npz")),
    ]
    result.update(dataset=dataset, data_path=str(path), files=[str(f) for f in files])
    before_acc, after_acc = result["accuracy_before_finetune"], result["accuracy_after_finetune"]
    result["claims"] = [claim("Fine-tuning the whole 784-200-200-10 network raises the test accuracy over the softmax "
                              "on the pretrained features", after_acc > before_acc, after_acc, before_acc,
                              UFLDL_ACCURACY["after_finetune"],
                              f"UFLDL stacked autoencoder exercise: {UFLDL_ACCURACY['before_finetune']:.1%} before, "
                              f"{UFLDL_ACCURACY['after_finetune']:.1%} after fine-tuning (full MNIST)")]
    print(f"{name}, {result['n_train']} train / {result['n_test']} test: accuracy "
          f"{result['accuracy_before_finetune']:.4f} before, {result['accuracy_after_finetune']:.4f} after "
          f"fine-tuning (UFLDL, full MNIST: {UFLDL_ACCURACY['before_finetune']:.3f}, "
          f"{UFLDL_ACCURACY['after_finetune']:.3f}); {result['seconds']:.0f} s in all", flush=True)
    print("wrote " + ", ".join(str(f) for f in files), flush=True)
    return after, result


@command("stacked", "UFLDL's stacked autoencoder: 784-200-200-10, greedy pretraining, then fine-tuning")
def cmd_stacked(args):
    _, result = run(dataset=args.dataset, out=args.out, iterations=args.iterations, examples=args.examples,
                    softmax_iterations=args.softmax_iterations, finetune_weight_decay=args.finetune_weight_decay,
                    dtype=args.dtype, seed=args.seed, verbose=0 if args.quiet else args.progress,
                    data_home=args.data_home, download=not args.no_download)
    summary = {k: result[k] for k in ("accuracy_before_finetune", "accuracy_after_finetune", "n_train", "n_test",
                                      "claims")}
    emit(args, summary, "")
    return 0


def _configure(p):
    add_data_options(p)
    add_output(p, "--out", kind="folder", default="out/stacked",
               help="folder for the filter images and the autoencoders")
    p.add_argument("--iterations", type=int, default=400,
                   help="L-BFGS iterations of each autoencoder and of fine-tuning (UFLDL: 400)")
    p.add_argument("--examples", type=int, default=None,
                   help="train on the first N training images (default: all of them)")
    p.add_argument("--softmax-iterations", type=int, default=400,
                   help="L-BFGS iterations of the softmax before fine-tuning (UFLDL: 100)")
    p.add_argument("--finetune-weight-decay", type=float, default=1e-4,
                   help="lambda of fine-tuning, on every weight matrix (default 1e-4; UFLDL's 3e-3 decays the "
                        "softmax weights only: on every matrix it cancels the gain of fine-tuning)")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                   help="precision of the autoencoders' computations (float32: about 2x faster)")
    p.add_argument("--seed", type=int, default=0, help="seed of every initialisation")
    p.add_argument("--progress", type=int, default=50, help="print the cost every N iterations")
    p.add_argument("--quiet", action="store_true", help="no per-iteration progress")
    p.add_argument("--json", action="store_true",
                   help="print {accuracy_before_finetune, accuracy_after_finetune, n_train, n_test, claims} as the "
                        "last line")


cmd_stacked.configure = _configure
