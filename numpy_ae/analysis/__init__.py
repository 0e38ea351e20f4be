r"""Measuring what an autoencoder learned: metrics, MMD, novelty scores (and, in submodules, plots).

The numbers are importable from here: the metrics
:func:`~numpy_ae.analysis.metrics.precision_recall_f1` and
:func:`~numpy_ae.analysis.metrics.roc_auc`; the novelty protocol
:func:`~numpy_ae.analysis.novelty.held_out_class_auroc` with its scores
:func:`~numpy_ae.analysis.novelty.reconstruction_error` and
:func:`~numpy_ae.analysis.novelty.neg_elbo_score`, and Serra et al.'s complexity correction
:func:`~numpy_ae.analysis.novelty.complexity_corrected_score` of
:func:`~numpy_ae.analysis.novelty.binomial_nll_bits` and
:func:`~numpy_ae.analysis.novelty.compressed_bits`, and Ren et al.'s likelihood ratio
:func:`~numpy_ae.analysis.novelty.likelihood_ratio_score` against a background model trained on
:func:`~numpy_ae.analysis.novelty.mutate_pixels` images (:class:`~numpy_ae.analysis.novelty.MutatedInputs`). These modules need only NumPy (and the
standard library's zlib).
The maximum mean discrepancy is ``from numpy_ae.analysis.mmd import mmd``: the
function is not re-exported here, where its name would hide the module
:mod:`numpy_ae.analysis.mmd` (``numpy_ae.analysis.mmd`` must stay the module).
The figures (:mod:`numpy_ae.analysis.plotting`, :mod:`numpy_ae.analysis.model_figures`),
the feature visualisations (:mod:`numpy_ae.analysis.features`) and the time-series
scoring (:mod:`numpy_ae.analysis.anomaly`) are imported from their modules.
"""
from .metrics import precision_recall_f1, roc_auc
from .novelty import (MutatedInputs, binomial_nll_bits, complexity_corrected_score, compressed_bits,
                      held_out_class_auroc, held_out_split, likelihood_ratio_score, mutate_pixels, neg_elbo_score,
                      reconstruction_error)

__all__ = ["precision_recall_f1", "roc_auc", "held_out_class_auroc", "held_out_split",
           "reconstruction_error", "neg_elbo_score", "binomial_nll_bits", "compressed_bits",
           "complexity_corrected_score", "mutate_pixels", "MutatedInputs", "likelihood_ratio_score"]
