"""``assignment create --force`` replaces an earlier assignment and nothing else (numpy_ae.course.handout).

An earlier assignment: a manifest as ``create`` writes it, and at the top level only the entries ``create``
writes for that exercise (plus Python's and Jupyter's caches). Anything else is refused with every byte
left in place; the refusal, like every other check of ``create``, comes before anything is removed.
"""
import json
import os

import pytest

from numpy_ae.cli import main
from numpy_ae.course import package
from numpy_ae.course.exercises import EXERCISES, available
from numpy_ae.course.handout import CACHES, MANIFEST, PACKAGE, handout_entries, not_an_assignment
from numpy_ae.course.package import create_assignment

OFFERED = [name for name, ex in EXERCISES.items() if available(ex)]


def _snapshot(folder):
    """{relative path: bytes, or None for a folder} of everything under ``folder``."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            out[os.path.relpath(os.path.join(root, d), folder)] = None
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                out[os.path.relpath(os.path.join(root, f), folder)] = fh.read()
    return out


def _force(name, out):
    return main(["assignment", "create", name, "--out", str(out), "--force"])


@pytest.mark.parametrize("name", OFFERED)
def test_create_writes_exactly_the_handout_entries(tmp_path, name):
    info = create_assignment(name, tmp_path / "hw")
    top = {p.name: p.is_dir() for p in (tmp_path / "hw").iterdir()}
    assert top == handout_entries(name) and info["exercise"] == name
    assert not_an_assignment(tmp_path / "hw") is None  # what create writes is what --force recognises


def _earlier(tmp_path, name="softmax_regression"):
    out = tmp_path / "hw"
    create_assignment(name, out)
    return out


def _unrelated(tmp_path):
    out = tmp_path / "home"
    (out / "data").mkdir(parents=True)
    (out / "notes.txt").write_text("my notes")
    (out / "data" / "x.npy").write_bytes(b"\x93NUMPY")
    return out


def _plus_stray(tmp_path):
    out = _earlier(tmp_path)
    (out / "results.json").write_text('{"score": 9}')  # a grade's results, kept beside the folder
    return out


def _manifest_of_another_tool(tmp_path):
    out = tmp_path / "hw"
    out.mkdir()
    (out / MANIFEST).write_text(json.dumps({"exercise": "vae", "package": "their_package"}))
    (out / "README.md").write_text("theirs")
    return out


def _manifest_not_json(tmp_path):
    out = _earlier(tmp_path)
    (out / MANIFEST).write_text("not json {")
    return out


def _readme_is_a_folder(tmp_path):
    out = tmp_path / "hw"
    create_assignment("vae", out)
    (out / "README.md").unlink()
    (out / "README.md").mkdir()
    (out / "README.md" / "draft.txt").write_text("mine")
    return out


def _package_is_a_link(tmp_path):
    out = _earlier(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    (out / PACKAGE).rename(elsewhere)
    (out / PACKAGE).symlink_to(elsewhere, target_is_directory=True)
    return out


@pytest.mark.parametrize("make, reason", [
    (_unrelated, f"it has no {MANIFEST}"),
    (_plus_stray, "does not write: results.json"),
    (_manifest_of_another_tool, f"its {MANIFEST} is not one `assignment create` writes"),
    (_manifest_not_json, "cannot be read as JSON"),
    (_readme_is_a_folder, "does not write: README.md/"),
    (_package_is_a_link, f"does not write: {PACKAGE}/"),
])
def test_force_refuses_what_is_not_an_earlier_assignment_and_touches_nothing(tmp_path, capsys, make, reason):
    out = make(tmp_path)
    before, everything = _snapshot(out), _snapshot(tmp_path)
    assert _force("conv2d", out) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --out {str(out)!r} is not empty and does not look like an earlier "
                          "assignment: ") and reason in err and "nothing was changed" in err
    assert err.count("\n") == 1
    assert _snapshot(out) == before and _snapshot(tmp_path) == everything  # link targets included


def test_force_replaces_an_earlier_assignment(tmp_path, capsys):
    out = _earlier(tmp_path, "softmax_regression")
    student = out / PACKAGE / "models" / "softmax.py"
    student.write_text(student.read_text() + "\n# the student's edit\n")
    for cache in CACHES:
        (out / cache).mkdir()
        (out / cache / "x").write_text("cached")
    assert _force("conv2d", out) == 0
    assert {p.name: p.is_dir() for p in out.iterdir()} == handout_entries("conv2d")
    assert json.loads((out / MANIFEST).read_text())["exercise"] == "conv2d"
    assert not student.exists() and (out / PACKAGE / "nn" / "conv.py").is_file()


@pytest.mark.parametrize("force", [False, True])
def test_a_new_or_empty_folder_needs_no_force(tmp_path, force):
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "new" / "hw"):
        create_assignment("vae", out, force=force)
        assert not_an_assignment(out) is None


def test_without_force_even_an_earlier_assignment_is_refused(tmp_path, capsys):
    out = _earlier(tmp_path)
    before = _snapshot(out)
    assert main(["assignment", "create", "conv2d", "--out", str(out)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err and _snapshot(out) == before


def test_a_create_that_fails_its_checks_leaves_the_earlier_assignment(tmp_path, monkeypatch):
    out = _earlier(tmp_path)
    before = _snapshot(out)

    def fails(modules, library=None):
        raise ValueError("module 'nn.gone' is not part of numpy_ae")

    monkeypatch.setattr(package, "module_closure", fails)
    with pytest.raises(ValueError, match="nn.gone"):
        create_assignment("conv2d", out, force=True)
    assert _snapshot(out) == before


def test_a_create_interrupted_halfway_can_be_replaced(tmp_path, monkeypatch):
    """The manifest is written first: a half-written folder is still one --force recognises."""
    calls = []
    real = package.blank_source

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(package, "blank_source", interrupted)
    with pytest.raises(KeyboardInterrupt):
        create_assignment("sparse_autoencoder", tmp_path / "hw")
    monkeypatch.undo()
    assert (tmp_path / "hw" / MANIFEST).is_file() and not (tmp_path / "hw" / "README.md").exists()
    assert not_an_assignment(tmp_path / "hw") is None
    create_assignment("sparse_autoencoder", tmp_path / "hw", force=True)
    assert {p.name: p.is_dir() for p in (tmp_path / "hw").iterdir()} == handout_entries("sparse_autoencoder")
