"""Experiments: one module per command of ``python -m numpy_ae`` (see :mod:`numpy_ae.cli`).

Each module registers its command in :mod:`numpy_ae.experiments.registry` when imported; they are
imported here, explicitly (``gradcheck`` first: the order of ``--help``).
"""
from . import gradcheck
from . import (aae, anomaly_images, anomaly_timeseries, assignment, deep_ae, denoise_images, denoising, gsn,
               linear_decoder, mnist_sparse, pca_demo, regularized, reproduce, self_taught, sparse_patches, stacked,
               tutorials, vae)

__all__ = ["gradcheck", "aae", "anomaly_images", "anomaly_timeseries", "assignment", "deep_ae", "denoise_images",
           "denoising", "gsn", "linear_decoder", "mnist_sparse", "pca_demo", "regularized", "reproduce", "self_taught",
           "sparse_patches", "stacked", "tutorials", "vae"]
