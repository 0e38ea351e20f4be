r"""``assignment create``: write a self-contained student package for one exercise.

Layout of ``DIR`` (the folder handed out)::

    DIR/
      assignment.json          what the grader reads: exercise, package, modules, blanked functions
      README.md                for students: what to write, how to check it
      <exercise>.py            the tutorial, a percent script (``# %%`` cells)
      <exercise>.ipynb         the same tutorial as a notebook
      numpy_ae_student/        the modules the exercise needs, copied from numpy_ae
        __init__.py            (relative imports work as in numpy_ae)
        _validation.py, exceptions.py
        nn/__init__.py         imports nothing: numpy_ae_student.nn.dense loads dense and what it imports
        nn/layer.py, nn/dense.py, ...   with the exercise's functions blanked
        check/gradcheck.py, ...

Nothing else is written at the top of ``DIR``; a non-empty ``DIR`` is replaced
(``--force``) only when it holds nothing else: :mod:`numpy_ae.course.handout`.

Modules are named by their dotted path in numpy_ae (``nn.dense``) and copied
to the same sub-folders. The package has its own name, ``numpy_ae_student``,
so the grader can import the trusted ``numpy_ae`` (checker, reference values)
and the student's copy in one process without one shadowing the other. It
holds the exercise's modules and every module they import at module level
through relative imports of any level (:func:`module_closure`); imports inside
functions that reach a module not copied are not needed by the exercise. A
sub-folder's ``__init__.py`` is copied only when a copied module imports that
package itself (``from .fast import TWINS``); otherwise it is written empty, so
that the reference ``nn/__init__.py`` (which imports every layer) never pulls
in modules the exercise does not copy.

The fast twins (``nn/fast``) are copied only when a copied module imports them,
and then without the twins of the classes under exercise
(:func:`_withheld_twins`): the student's reference form is the only form of
what the student writes.
"""
from __future__ import annotations

import ast
import json
import pathlib

from .blank import blank_source
from .exercises import get_exercise
from .handout import MANIFEST, PACKAGE, README, check_folder, remove_assignment

__all__ = ["PACKAGE", "module_closure", "module_file", "create_assignment", "percent_to_notebook",
           "read_assignment"]

LIBRARY = pathlib.Path(__file__).resolve().parents[1]  # the installed numpy_ae package
TUTORIALS = pathlib.Path(__file__).resolve().parent / "tutorials"


def _module_path(module, library=None):
    """The source file of ``module``, a dotted path inside numpy_ae (``"nn.dense"``; a package's ``__init__.py``)."""
    library = LIBRARY if library is None else pathlib.Path(library)
    parts = module.split(".")
    if not module or not all(p.isidentifier() for p in parts):
        raise ValueError(f"a module of numpy_ae is named by its dotted path ('nn.dense'); got {module!r}")
    base = library.joinpath(*parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    raise ValueError(f"module {module!r} is not part of numpy_ae (no {'/'.join(parts)}.py in {library})")


def _is_module(module, library=None):
    try:
        _module_path(module, library)
    except ValueError:
        return False
    return True


def _is_package(module, library=None):
    return _module_path(module, library).name == "__init__.py"


def _resolve(module, level, target, library=None):
    """The dotted path that ``from <level dots><target> import ...`` written in ``module`` refers to."""
    package = module.split(".") if _is_package(module, library) else module.split(".")[:-1]
    if level - 1 > len(package):
        raise ValueError(f"{module}: a relative import of level {level} reaches above numpy_ae")
    base = package[:len(package) - (level - 1)]
    return ".".join(base + (target.split(".") if target else []))


def _top_level_imports(source, module, library=None):
    """Modules of numpy_ae that ``source`` (the text of ``module``) imports at module level, by dotted path.

    Relative imports of any level: ``from .layer import Layer`` in ``nn.dense`` gives ``nn.layer``,
    ``from .._validation import x`` gives ``_validation``, ``from . import fast`` gives ``nn.fast`` (a
    name that is a submodule or subpackage), ``from .fast import TWINS`` gives the package ``nn.fast``.
    The package of a submodule (``nn`` for ``nn.layer``) is not a dependency: the student package's
    sub-folders get ``__init__.py`` files that import nothing.
    """
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            target = _resolve(module, node.level, node.module, library)
            if node.module:
                found.append(target)
            for alias in node.names:
                sub = f"{target}.{alias.name}" if target else alias.name
                if alias.name != "*" and _is_module(sub, library):
                    found.append(sub)
                elif not node.module and target:
                    found.append(target)  # ``from .. import name`` where name is not a module: the package itself
    return found


def module_closure(modules, library=None):
    """``modules`` and every module of numpy_ae they import at module level, recursively (sorted dotted paths)."""
    todo, seen = list(modules), set()
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo.extend(_top_level_imports(_module_path(m, library).read_text(), m, library))
    return sorted(seen)


def module_file(module, is_package=False):
    """Where ``module`` lives inside a package folder, relative to it: ``nn/dense.py``, ``nn/fast/__init__.py``."""
    parts = module.split(".")
    return "/".join(parts + ["__init__.py"]) if is_package else "/".join(parts) + ".py"


def _student_file(pkg, module, library=None):
    """The file of ``module`` in the student package folder ``pkg`` (the library decides: module or package)."""
    return pkg / module_file(module, _is_package(module, library))


def _split_qualnames(items):
    """``["nn.dense:Dense.backward", ...]`` -> ``{"nn.dense": ["Dense.backward"], ...}``."""
    out = {}
    for item in items:
        module, sep, qualname = item.partition(":")
        if not sep or not module or not qualname:
            raise ValueError(f"an exercise names functions as 'module:Class.method' (module a dotted path such "
                             f"as 'nn.dense'); got {item!r}")
        out.setdefault(module, []).append(qualname)
    return out


# ------------------------------------------------------------------ fast twins
# A copied module may need the fast-twin machinery (``nn.fast``: Sequential(fast=True) looks its twins up
# there). The student package then has it, but never the twin of a class the exercise blanks or drops (nor
# of a subclass of one): the twin's forward/backward would give the solution away, and
# ``Sequential(fast=True)`` would run it instead of the student's code. Without the twin, the class has none
# in the student package and every model there runs the student's reference form.
FAST = "nn.fast"


def _is_fast(module):
    return module == FAST or module.startswith(FAST + ".")


def _class_bases(module, source, library=None):
    """``{class name: [(module, name) of each base]}`` for the top-level classes of ``module``; a base named
    through an import (``Dense`` from ``..dense``, ``dense.Dense`` after ``from .. import dense``) resolves to
    the module that defines it, a base defined in ``module`` to ``module`` itself."""
    tree = ast.parse(source)
    names, modules = {}, {}  # local name -> (module, name); local name -> module
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            target = _resolve(module, node.level, node.module, library)
            for alias in node.names:
                local = alias.asname or alias.name
                sub = f"{target}.{alias.name}" if target else alias.name
                if _is_module(sub, library):
                    modules[local] = sub
                else:
                    names[local] = (target, alias.name)
    out = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = []
            for b in node.bases:
                if isinstance(b, ast.Name):
                    bases.append(names.get(b.id, (module, b.id)))
                elif isinstance(b, ast.Attribute) and isinstance(b.value, ast.Name) and b.value.id in modules:
                    bases.append((modules[b.value.id], b.attr))
            out[node.name] = bases
    return out


def _withheld_twins(modules, blank, drop, library=None):
    """``{fast module: [class names]}``: the twins in ``modules`` of the classes under exercise (those with a
    blanked method or dropped), and of their subclasses."""
    tainted = {(m, q.split(".")[0]) for m, qs in list(blank.items()) + list(drop.items()) for q in qs}
    bases = {(m, c): bs for m in modules for c, bs in _class_bases(m, _module_path(m, library).read_text(),
                                                                   library).items()}
    grew = True
    while grew:
        grew = False
        for cls, bs in bases.items():
            if cls not in tainted and any(b in tainted for b in bs):
                tainted.add(cls)
                grew = True
    out = {}
    for m, c in sorted(tainted):
        if _is_fast(m) and (m, c) in bases:
            out.setdefault(m, []).append(c)
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
    fns = "\n".join(f"- `{PACKAGE}/{module_file(q.split(':')[0])}`: `{q.split(':')[1]}`" for q in ex.blank)
    tests = "\n".join(f"| {name} | {points} |" for name, points, _ in ex.tests)
    head = "Instructor's copy: the reference solution is in place." if solutions else \
        "Fill in the functions below; each body is marked `# YOUR CODE HERE`."
    return f"""# {ex.title}

{head}

The package `{PACKAGE}/` is a copy of the parts of numpy_ae this exercise needs,
in the same folders (`nn/` the layers and losses, `check/` the gradient checker,
...). Write the bodies of:

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
    pending exercise, or an ``out`` that is a file or a non-empty folder. With
    ``force``, a non-empty ``out`` that looks like an earlier assignment (only the
    entries ``create`` writes, see :mod:`numpy_ae.course.handout`) is replaced;
    any other is refused all the same. Everything is checked before anything in
    ``out`` changes.
    """
    ex = get_exercise(name)
    out = pathlib.Path(out)
    replace = check_folder(out, force)  # refused before any work; nothing changes until all is checked
    blank, drop = _split_qualnames(ex.blank), _split_qualnames(ex.drop)
    for module in set(blank) | set(drop):
        if module not in ex.modules:
            raise ValueError(f"exercise {ex.name!r} blanks or drops in {module!r}, which is not in its modules")
    fast = [m for m in ex.modules if _is_fast(m)]
    if fast:
        raise ValueError(f"exercise {ex.name!r} names the fast twins {', '.join(fast)}: an exercise works in the "
                         "reference forms (nn/*.py), never in nn/fast")
    modules = module_closure(ex.modules)
    withheld = _withheld_twins(modules, blank, drop)
    if replace:
        remove_assignment(out)
    pkg = out / PACKAGE
    pkg.mkdir(parents=True, exist_ok=True)
    manifest = {"exercise": ex.name, "package": PACKAGE, "modules": modules, "blanked": list(ex.blank),
                "dropped": list(ex.drop), "withheld_twins": [f"{m}:{c}" for m, cs in withheld.items() for c in cs],
                "solutions": bool(solutions), "max_score": ex.max_score}
    # first: a create interrupted halfway leaves a folder that --force recognises (and grade calls incomplete)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    (pkg / "__init__.py").write_text(f'"""{ex.title}: a copy of the numpy_ae modules this exercise needs '
                                     f'({", ".join(modules)})."""\n')
    for module in modules:
        source = _module_path(module).read_text()
        where = module_file(module, _is_package(module))
        if not solutions:
            source = blank_source(source, blank.get(module, ()), drop.get(module, ()), where=where)
        elif module in drop:
            source = blank_source(source, (), drop[module], where=where)
        if module in withheld:  # the fast twins of the classes under exercise (see _withheld_twins)
            source = blank_source(source, (), withheld[module], where=where)
        path = _student_file(pkg, module)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    for folder in sorted({p for m in modules for p in _student_file(pkg, m).parents if pkg in p.parents}):
        if not (folder / "__init__.py").is_file():  # a sub-folder whose package no copied module imports
            name = ".".join(folder.relative_to(pkg).parts)
            (folder / "__init__.py").write_text(f'"""numpy_ae.{name}, the modules of it this exercise needs; '
                                                'imports nothing (import each module by its path)."""\n')
    tutorial = (TUTORIALS / ex.tutorial).read_text()
    (out / f"{ex.name}.py").write_text(tutorial)
    (out / f"{ex.name}.ipynb").write_text(json.dumps(percent_to_notebook(tutorial), indent=1) + "\n")
    (out / README).write_text(_readme(ex, solutions))
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
    root = folder / package
    try:
        missing = [module_file(m) for m in modules
                   if not any((root / module_file(m, p)).is_file() for p in (False, True))]
    except (AttributeError, TypeError) as exc:
        raise ValueError(f"{path}: modules must be a list of dotted paths ({type(exc).__name__}: {exc})") from None
    folders = sorted({"/".join(m.split(".")[:i]) for m in modules for i in range(1, m.count(".") + 1)})
    missing = [f"{f}/__init__.py" for f in folders if not (root / f / "__init__.py").is_file()] + missing
    if not (root / "__init__.py").is_file():
        missing.insert(0, "__init__.py")
    if missing:
        raise ValueError(f"{str(folder)!r}: the student package {package}/ is missing module(s) "
                         f"{', '.join(missing)}; restore them from the handed-out copy")
    return manifest
