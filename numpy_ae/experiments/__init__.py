"""Experiments: one module per command of ``python -m numpy_ae`` (see numpy_ae.cli)."""
