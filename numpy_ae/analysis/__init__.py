r"""Measuring what an autoencoder learned: metrics, MMD, novelty scores (and, in submodules, plots).

The numbers are importable from here: :func:`~numpy_ae.analysis.mmd.mmd` and
:func:`~numpy_ae.analysis.mmd.median_bandwidth`; the metrics
:func:`~numpy_ae.analysis.metrics.precision_recall_f1` and
:func:`~numpy_ae.analysis.metrics.roc_auc`; the novelty protocol
:func:`~numpy_ae.analysis.novelty.held_out_class_auroc` with its scores
:func:`~numpy_ae.analysis.novelty.reconstruction_error` and
:func:`~numpy_ae.analysis.novelty.neg_elbo_score`. These modules need only NumPy.
The figures (:mod:`numpy_ae.analysis.plotting`, :mod:`numpy_ae.analysis.model_figures`),
the feature visualisations (:mod:`numpy_ae.analysis.features`) and the time-series
scoring (:mod:`numpy_ae.analysis.anomaly`) are imported from their modules.
"""
from .metrics import precision_recall_f1, roc_auc
from .mmd import median_bandwidth, mmd
from .novelty import held_out_class_auroc, held_out_split, neg_elbo_score, reconstruction_error

__all__ = ["mmd", "median_bandwidth", "precision_recall_f1", "roc_auc", "held_out_class_auroc", "held_out_split",
           "reconstruction_error", "neg_elbo_score"]
