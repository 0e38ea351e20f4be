r"""``assignment create``: write a self-contained student package for one exercise.

Layout of ``DIR`` (the folder handed out)::

    DIR/
      assignment.json          what the grader reads: exercise, package, modules, blanked functions
      README.md                for students: what to write, how to check it
      <exercise>.py            the tutorial, a percent script (``# %%`` cells)
      <exercise>.ipynb         the same tutorial as a notebook
      numpy_ae_student/        the modules the exercise needs, copied from numpy_ae
        __init__.py            (relative imports work as in numpy_ae)
        layers.py, ...         with the exercise's functions blanked

The package has its own name, ``numpy_ae_student``, so the grader can import
the trusted ``numpy_ae`` (checker, reference values) and the student's copy in
one process without one shadowing the other. It holds the exercise's modules
and every module they import at module level (:func:`module_closure`);
imports inside functions that reach a module not copied are not needed by the
exercise.
"""
from __future__ import annotations

import ast
import json
import pathlib
import shutil

from .blank import blank_source
from .exercises import get_exercise

__all__ = ["PACKAGE", "module_closure", "create_assignment", "percent_to_notebook", "read_assignment"]

PACKAGE = "numpy_ae_student"
MANIFEST = "assignment.json"
LIBRARY = pathlib.Path(__file__).resolve().parents[1]  # the installed numpy_ae package
TUTORIALS = pathlib.Path(__file__).resolve().parent / "tutorials"


def _module_path(module):
    path = LIBRARY / f"{module}.py"
    if not path.is_file():
        raise ValueError(f"module {module!r} is not part of numpy_ae (no {path.name} in {LIBRARY})")
    return path


def _top_level_imports(source):
    """Modules of the package that ``source`` imports at module level (``from .x import``, ``from . import x``)."""
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.append(node.module.split(".")[0])
            else:
                found.extend(alias.name for alias in node.names)
    return found


def module_closure(modules):
    """``modules`` and every module of numpy_ae they import at module level, recursively (sorted)."""
    todo, seen = list(modules), set()
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo.extend(_top_level_imports(_module_path(m).read_text()))
    return sorted(seen)


def _split_qualnames(items):
    """``["layers:Dense.backward", ...]`` -> ``{"layers": ["Dense.backward"], ...}``."""
    out = {}
    for item in items:
        module, sep, qualname = item.partition(":")
        if not sep or not module or not qualname:
            raise ValueError(f"an exercise names functions as 'module:Class.method'; got {item!r}")
        out.setdefault(module, []).append(qualname)
    return out


def percent_to_notebook(source):
    r"""A Jupyter notebook (nbformat 4 JSON, as a dict) from a percent script.

    ``# %% [markdown]`` starts a markdown cell (its lines lose their leading ``# ``),
    ``# %%`` a code cell; text before the first marker is a code cell when not
    blank. The same cells jupytext makes from the script (``make notebooks``
    uses jupytext itself); this small converter keeps ``assignment create``
    free of a dependency the library does not otherwise need.
    """
    cells, kind, buf = [], "code", []

    def flush():
        lines = buf[:]
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if lines:
            if kind == "markdown":
                lines = [l[2:] if l.startswith("# ") else l.lstrip("#") for l in lines]
            text = "\n".join(lines)
            cell = {"cell_type": kind, "id": f"cell-{len(cells)}", "metadata": {}, "source": text}
            if kind == "code":
                cell.update(execution_count=None, outputs=[])
            cells.append(cell)

    for line in source.splitlines():
        if line.startswith("# %%"):
            flush()
            buf = []
            kind = "markdown" if "[markdown]" in line else "code"
        else:
            buf.append(line)
    flush()
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                        "name": "python3"},
                                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def _readme(ex, solutions):
    fns = "\n".join(f"- `{PACKAGE}/{q.split(':')[0]}.py`: `{q.split(':')[1]}`" for q in ex.blank)
    tests = "\n".join(f"| {name} | {points} |" for name, points, _ in ex.tests)
    head = "Instructor's copy: the reference solution is in place." if solutions else \
        "Fill in the functions below; each body is marked `# YOUR CODE HERE`."
    return f"""# {ex.title}

{head}

The package `{PACKAGE}/` is a copy of the parts of numpy_ae this exercise needs.
Write the bodies of:

{fns}

Their docstrings give the equations and the shapes (N examples, D inputs, H
hidden units, K latent units or classes). Keep every signature. A backward pass
returns the gradient with respect to its input and ADDS (`+=`) its parameter
gradients into `self.dW`, `self.db`; it may overwrite the incoming gradient
`dY`, never the layer's input.

Work through the tutorial, `{ex.name}.py` (a script; run it with
`python {ex.name}.py` from this folder) or `{ex.name}.ipynb` (the same cells as
a notebook). It checks each function with a numerical gradient: a relative
difference below 1e-9 means your gradient is right.

## How it is graded ({ex.max_score} points)

| test | points |
|---|---|
{tests}

The grader runs the same gradient checks with the instructor's checker, plus
tests of the values your functions compute, each with a time limit. It reports
the block whose gradient is wrong (`dense0.W: wrong gradient`). Do not rename
files or functions.
"""


def create_assignment(name, out, solutions=False, force=False):
    """Write the student's (or with ``solutions``, the instructor's) copy of exercise ``name`` into ``out``.

    Returns a dict describing what was written. ValueError for an unknown or
    pending exercise, or an ``out`` folder that exists and is not empty
    (unless ``force``: its contents are replaced).
    """
    ex = get_exercise(name)
    out = pathlib.Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {str(out)!r} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise ValueError(f"--out {str(out)!r} exists and is not empty: choose a new folder, or pass --force "
                             "to replace its contents")
        for child in out.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    blank, drop = _split_qualnames(ex.blank), _split_qualnames(ex.drop)
    for module in set(blank) | set(drop):
        if module not in ex.modules:
            raise ValueError(f"exercise {ex.name!r} blanks or drops in {module!r}, which is not in its modules")
    modules = module_closure(ex.modules)
    pkg = out / PACKAGE
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text(f'"""{ex.title}: a copy of the numpy_ae modules this exercise needs '
                                     f'({", ".join(modules)})."""\n')
    for module in modules:
        source = _module_path(module).read_text()
        if not solutions:
            source = blank_source(source, blank.get(module, ()), drop.get(module, ()), where=f"{module}.py")
        elif module in drop:
            source = blank_source(source, (), drop[module], where=f"{module}.py")
        (pkg / f"{module}.py").write_text(source)
    tutorial = (TUTORIALS / ex.tutorial).read_text()
    (out / f"{ex.name}.py").write_text(tutorial)
    (out / f"{ex.name}.ipynb").write_text(json.dumps(percent_to_notebook(tutorial), indent=1) + "\n")
    (out / "README.md").write_text(_readme(ex, solutions))
    manifest = {"exercise": ex.name, "package": PACKAGE, "modules": modules, "blanked": list(ex.blank),
                "dropped": list(ex.drop), "solutions": bool(solutions), "max_score": ex.max_score}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return dict(manifest, out=str(out), files=sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()))


def read_assignment(folder):
    """The manifest of an assignment folder, checked: ValueError when ``folder`` is not an assignment or a
    module the exercise needs is missing from it."""
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{str(folder)!r} is not a folder (expected one written by `python -m numpy_ae assignment "
                         "create`)")
    path = folder / MANIFEST
    if not path.is_file():
        raise ValueError(f"{str(folder)!r} is not an assignment: it has no {MANIFEST} (write one with `python -m "
                         "numpy_ae assignment create NAME --out DIR`)")
    try:
        manifest = json.loads(path.read_text())
        exercise, package, modules = manifest["exercise"], manifest["package"], list(manifest["modules"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a valid assignment manifest ({type(exc).__name__}: {exc})") from None
    get_exercise(exercise)
    if not isinstance(package, str) or not package.isidentifier() or package == "numpy_ae":
        raise ValueError(f"{path}: package must be the student package's name (not numpy_ae); got {package!r}")
    missing = [m for m in modules if not (folder / package / f"{m}.py").is_file()]
    if not (folder / package / "__init__.py").is_file():
        missing.insert(0, "__init__")
    if missing:
        raise ValueError(f"{str(folder)!r}: the student package {package}/ is missing module(s) "
                         f"{', '.join(m + '.py' for m in missing)}; restore them from the handed-out copy")
    return manifest
