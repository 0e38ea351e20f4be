"""Shared test set-up: tests/ is on sys.path so that every test folder (tests/nn, tests/models, ...,
mirroring the package) can import the helpers here (``_data``, ``_figures``); the ``saved`` fixture: the figures a test's code wrote."""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))


@pytest.fixture
def saved(monkeypatch):
    """The figures written while the test runs: ``{file name: Figure}`` (``Figure.savefig`` still writes)."""
    import matplotlib.figure  # here, not at the top: most tests draw nothing

    figures = {}
    original = matplotlib.figure.Figure.savefig

    def savefig(self, fname, *args, **kwargs):
        figures[str(getattr(fname, "name", fname)).replace("\\", "/").rsplit("/", 1)[-1]] = self
        return original(self, fname, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
    return figures
