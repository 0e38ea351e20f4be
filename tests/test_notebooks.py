"""Every tutorial converts to a notebook (jupytext) and executes in fast mode (nbclient).

The percent scripts in tutorials/ stay the source; ``make notebooks`` writes the
notebooks. Here each script is converted in memory, checked to keep every cell,
and executed in a fresh kernel with ``NUMPY_AE_FAST=1`` from the repository root,
as ``tests/test_tutorials.py`` runs it as a script. Both run: a notebook kernel
differs from a script (no ``__file__``, IPython's display hooks, the inline
matplotlib backend unless MPLBACKEND is set), so passing as a script does not
prove the notebook runs, and the script test needs no Jupyter packages.

The exercise tutorials of ``assignment create`` run the same way, as notebooks,
against the instructor's copy (the reference bodies in place).
"""
import pathlib

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")

from numpy_ae.course.exercises import EXERCISES, available  # noqa: E402
from numpy_ae.course.package import create_assignment  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))
OFFERED = [name for name, ex in EXERCISES.items() if available(ex)]
TIMEOUT = 900  # seconds per cell: the slowest fast-mode cell takes about a minute on a loaded 2-core machine


def _execute(nb, cwd):
    client = nbclient.NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"a cell failed:\n{str(exc)[-3000:]}")
    return nb


def test_tutorials_exist():
    assert TUTORIALS


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_converts_and_executes_as_a_notebook(path, tmp_path, monkeypatch):
    script = path.read_text()
    nb = jupytext.reads(script, fmt="py:percent")
    nbformat.validate(nb)
    n_markers = sum(line.startswith("# %%") for line in script.splitlines())
    assert len(nb.cells) >= n_markers, "jupytext lost cells"  # (a preamble before the first marker adds one)
    assert any(c.cell_type == "markdown" for c in nb.cells) and any(c.cell_type == "code" for c in nb.cells)
    monkeypatch.setenv("NUMPY_AE_FAST", "1")   # the kernel inherits the environment
    monkeypatch.setenv("NUMPY_AE_OUT", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    done = _execute(nb, ROOT)
    errors = [o for c in done.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert any(tmp_path.rglob("*.png")), f"{path.name} wrote no figure as a notebook"


@pytest.mark.parametrize("name", OFFERED)
def test_exercise_notebook_executes_on_the_instructors_copy(name, tmp_path, monkeypatch):
    folder = tmp_path / name
    create_assignment(name, folder, solutions=True)
    nb = nbformat.read(folder / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("PYTHONPATH", raising=False)
    done = _execute(nb, folder)  # the kernel starts in the folder: `import numpy_ae_student` finds the copy
    text = "".join(o.get("text", "") for c in done.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "FAILED" not in text and "rel_diff" in text
