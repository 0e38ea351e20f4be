r"""Turn reference source into exercise source: blank function bodies, drop classes, keep docstrings.

The library's own source carries no ``### BEGIN SOLUTION`` markers (it stays
clean for readers); an exercise instead NAMES what to blank, as
``"module:Class.method"`` or ``"module:function"`` qualnames, and this module
finds those functions with :mod:`ast` and rewrites their lines:

* the ``def`` line(s), the decorators and the docstring are kept (the equations
  and shapes are the specification);
* everything else in the body, including comments inside it, becomes

  .. code-block:: python

      # YOUR CODE HERE
      raise NotImplementedError()

  at the body's indentation (nbgrader's convention).

``drop`` names whole top-level classes or functions to delete: code that would
give a blanked body away (``ConvTranspose2D.forward`` IS ``Conv2D``'s input
gradient, so the Conv2D exercise drops it).

Only line ranges are touched: the rest of the file, comments and layout
included, is copied byte for byte, so the student reads the same module as the
reference minus the blanked bodies.
"""
from __future__ import annotations

import ast
import re

__all__ = ["blank_source", "BLANK_LINES", "find_function", "removed_lines", "function_parts"]

BLANK_LINES = ("# YOUR CODE HERE", "raise NotImplementedError()")


def _split(qualname):
    """``"Class.method"`` -> ``["Class", "method"]`` (a module-level function: one part)."""
    parts = qualname.split(".")
    if not all(p.isidentifier() for p in parts) or len(parts) > 2:
        raise ValueError(f"a function to blank must be named 'function' or 'Class.method'; got {qualname!r}")
    return parts


def find_function(tree, qualname, where="<source>"):
    """The ``ast.FunctionDef`` (or ``ClassDef`` for a one-part name in ``drop``) called ``qualname``."""
    parts = _split(qualname)
    body = tree.body
    node = None
    for i, part in enumerate(parts):
        kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef) if i == 0 else (ast.FunctionDef,
                                                                                     ast.AsyncFunctionDef)
        node = next((n for n in body if isinstance(n, kinds) and n.name == part), None)
        if node is None:
            raise ValueError(f"{where}: no {'method' if i else 'class or function'} {part!r} "
                             f"(looking for {qualname!r})")
        body = getattr(node, "body", [])
    return node


def _docstring_end(fn):
    """Last line of ``fn``'s docstring, or None when it has none."""
    first = fn.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first.end_lineno
    return None


def _body_range(fn, lines, where):
    """``(start, stop, indent)``: 0-based line range ``[start, stop)`` to replace, and the body's indentation."""
    doc_end = _docstring_end(fn)
    stmts = fn.body[1:] if doc_end is not None else fn.body
    if fn.body[0].lineno == fn.lineno:
        raise ValueError(f"{where}: {fn.name} has its body on the def line; write it on lines of its own")
    body_line = lines[fn.body[0].lineno - 1]
    indent = body_line[:len(body_line) - len(body_line.lstrip())]
    if doc_end is not None:
        start = doc_end  # 0-based index of the line after the docstring
    else:
        start = fn.body[0].lineno - 1
        while start > fn.lineno and lines[start - 1].strip().startswith("#"):  # comments above the first statement
            start -= 1
    stop = fn.end_lineno if stmts else start
    # comments (and blank lines between them) still indented inside the function after its last statement
    j = stop
    while j < len(lines) and (lines[j].startswith(indent) and lines[j].strip().startswith("#")):
        j += 1
        stop = j
    return start, stop, indent


def blank_source(source, blank=(), drop=(), where="<source>"):
    """Return ``source`` with the functions in ``blank`` blanked and the definitions in ``drop`` removed.

    Parameters
    ----------
    source : str
        Python source of one module.
    blank : iterable of str
        ``"function"`` or ``"Class.method"`` qualnames whose bodies become
        :data:`BLANK_LINES` (docstring kept).
    drop : iterable of str
        Top-level class or function names to remove entirely (with their decorators).

    Raises ValueError naming the module and the qualname when one does not exist.
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    edits = []  # (start, stop, replacement lines)
    for qualname in blank:
        fn = find_function(tree, qualname, where)
        if isinstance(fn, ast.ClassDef):
            raise ValueError(f"{where}: {qualname!r} is a class; name one of its methods ('{qualname}.method')")
        start, stop, indent = _body_range(fn, lines, where)
        edits.append((start, stop, [f"{indent}{text}\n" for text in BLANK_LINES]))
    for name in drop:
        node = find_function(tree, name, where)
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        stop = node.end_lineno
        while stop < len(lines) and not lines[stop].strip():  # the blank lines that separated it
            stop += 1
        edits.append((first, stop, []))
    if drop:
        edits.extend(_unlist(tree, lines, drop))
    edits.sort()
    for (a0, a1, _), (b0, _, _) in zip(edits, edits[1:]):
        if b0 < a1:
            raise ValueError(f"{where}: overlapping edits (a blanked method inside a dropped class?)")
    for start, stop, new in reversed(edits):
        lines[start:stop] = new
    out = "".join(lines)
    ast.parse(out)  # the result must still be valid Python
    return out


def _unlist(tree, lines, names):
    """Edits that remove ``names`` from a top-level ``__all__ = [...]`` (a dropped name must not stay exported)."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            start, stop = node.lineno - 1, node.end_lineno
            text = "".join(lines[start:stop])
            for name in names:
                text = re.sub(rf"""\s*["']{re.escape(name)}["'],?""", "", text, count=1)
            return [(start, stop, [text])]
    return []


def removed_lines(source, qualname, where="<source>"):
    """The source lines of ``qualname``'s body that :func:`blank_source` removes (for tests and reports)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    fn = find_function(tree, qualname, where)
    start, stop, _ = _body_range(fn, lines, where)
    return lines[start:stop]


def function_parts(source, qualname, where="<source>"):
    """``(first, head, body, last, indent)`` of the function ``qualname`` in ``source``, by 0-based lines.

    ``source.splitlines()[first:last]`` is the whole definition (decorators included), of which
    ``head`` (decorators, ``def`` line, docstring) and ``body`` (what :func:`blank_source` replaces) are
    the lines; ``indent`` is the indentation of the ``def`` line (``"    "`` for a method). The nbgrader
    notebook wraps ``body`` in solution markers; its grader puts a student's function back at
    ``[first, last)`` of the blanked module.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    fn = find_function(tree, qualname, where)
    if isinstance(fn, ast.ClassDef):
        raise ValueError(f"{where}: {qualname!r} is a class; name one of its methods ('{qualname}.method')")
    start, stop, _ = _body_range(fn, lines, where)
    first = min([fn.lineno] + [d.lineno for d in fn.decorator_list]) - 1
    last = max(stop, fn.end_lineno)
    def_line = lines[fn.lineno - 1]
    return first, lines[first:start], lines[start:stop], last, def_line[:len(def_line) - len(def_line.lstrip())]
