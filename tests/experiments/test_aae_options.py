"""The ``aae`` command hands the AAE options a user gives to both AAEs, and leaves the others to each
model's own defaults (the supervised mixture's generator step differs: MIXTURE_DEFAULTS)."""
import pytest

from numpy_ae.cli import build_parser
from numpy_ae.experiments import aae


def _forwarded(monkeypatch, argv):
    seen = {}

    def fake_run(**kwargs):
        seen.update(kwargs)
        return None, {}

    monkeypatch.setattr(aae, "run", fake_run)
    args = build_parser().parse_args(["aae", *argv])
    assert aae.cmd_aae(args) == 0
    return {k: v for k, v in seen.items() if k in aae.AAE_DEFAULTS}


def test_options_not_given_are_not_forwarded(monkeypatch):
    assert _forwarded(monkeypatch, []) == {}


@pytest.mark.parametrize("value", ["0.001", "0.002"])
def test_a_given_generator_step_is_forwarded_even_when_it_equals_the_default(monkeypatch, value):
    # 0.001 is AAE_DEFAULTS' value: it used to be dropped, so the mixture AAE silently kept its 3e-3
    assert _forwarded(monkeypatch, ["--generator-learning-rate", value]) == {"generator_learning_rate": float(value)}

