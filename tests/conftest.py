"""Shared test set-up: tests/ is on sys.path so that every test folder (tests/nn, tests/models, ...,
mirroring the package) can import the helpers here (``_data``)."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
