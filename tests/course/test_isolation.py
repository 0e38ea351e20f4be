"""The grader's choice of sandbox: the strongest mode that works, why the others did not, and a refusal
when a sandbox is required and none works."""
import os

import pytest

from numpy_ae.course import session
from numpy_ae.course.grade import format_table, grade
from numpy_ae.course.package import create_assignment


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    folder = tmp_path_factory.mktemp("iso") / "key"
    create_assignment("sparse_autoencoder", folder, solutions=True)
    return folder


def test_auto_takes_the_strongest_mode_this_machine_offers(key):
    result = grade(key)
    assert result["score"] == result["max_score"] == 15
    assert result["isolation"] == session.isolation_modes()[0] or result["isolation_notes"]


def test_a_refused_mode_falls_back_and_says_why(key, monkeypatch):
    """As on a root grader without namespaces whose trusted files are world-readable: the user mode refuses
    (its check inside the sandbox finds the trusted package readable), auto falls back to none, and the
    result and the table say so."""
    if os.geteuid() != 0:
        pytest.skip("the user mode needs a grader running as root")
    monkeypatch.setattr(session, "isolation_modes", lambda: ["user", "none"])
    result = grade(key)
    assert result["isolation"] == "none" and result["score"] == 15
    assert any("exposes the trusted files" in n for n in result["isolation_notes"])
    assert "WARNING: graded without a sandbox" in format_table(result)
    with pytest.raises(ValueError, match="cannot grade: the 'user' sandbox exposes the trusted files"):
        grade(key, require_isolation=True)


def test_require_isolation_contradicting_none_is_refused(key):
    with pytest.raises(ValueError, match="contradicts"):
        grade(key, isolation="none", require_isolation=True)
