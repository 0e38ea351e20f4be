r"""Cross-references that follow the package's re-exports, and the table of the top-level names.

The API reference documents every object once, where it is defined
(``numpy_ae.nn.dense.Dense``), while docstrings and pages name it as it is
imported (``numpy_ae.nn.Dense``, ``numpy_ae.SparseAutoencoder``) or by its
short name inside a module that imports it (``lbfgs``). Sphinx resolves neither
by itself, and in nitpicky mode each is a warning. :func:`resolve` (Sphinx's
``missing-reference`` event) finds the object the name denotes, by importing it
exactly as Python would, and links to where that object is documented; failing
that, a short name that matches exactly one documented object's last
component(s). A name that still does not resolve stays a warning, so a typo
or a reference to something undocumented fails the build.

``.. toplevel-names::`` writes the table of ``numpy_ae.__all__``: each name,
linked to its documented home, with the first line of its docstring, so the
list cannot drift from the package.
"""
from __future__ import annotations

import importlib
import inspect

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode


def canonical_name(dotted):
    """``"numpy_ae.nn.Dense"`` -> ``"numpy_ae.nn.dense.Dense"``: where the object is defined, or None."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except Exception:  # not a module (or not importable): try a shorter prefix
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return None
            obj = getattr(obj, attr)
        break
    else:
        return None
    if inspect.ismodule(obj):
        return obj.__name__
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        return None
    return f"{module}.{qualname}"


def _candidates(target, module, cls):
    target = target.lstrip(".~")
    names = [target]
    if module and not target.startswith("numpy_ae."):
        if cls:
            names.append(f"{module}.{cls}.{target}")
        names.append(f"{module}.{target}")
    for name in names:
        found = canonical_name(name)
        if found:
            yield found
        yield name


# the object types a role may point to, for the short-name match
_KINDS = {"func": {"function"}, "class": {"class", "exception"}, "exc": {"exception", "class"},
          "meth": {"method", "classmethod", "staticmethod"}, "mod": {"module"},
          "attr": {"attribute", "property"}, "data": {"data"}}


def _documented_owner(objects, target, module, cls, reftype):
    """Where an object autodoc does not document is described: a module constant on its module's page,
    a special method (``__init_subclass__``) on its class's."""
    target = target.lstrip(".~")
    if reftype in ("data", "const", "obj") and module and "." not in target:
        mod = importlib.import_module(module)
        if hasattr(mod, target) and module in objects:
            return module
    head, _, last = target.rpartition(".")
    if reftype == "meth" and last.startswith("__") and last.endswith("__") and head:
        home = canonical_name(head)
        if home in objects:
            return home
    return None


def resolve(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    domain = env.get_domain("py")
    objects = domain.objects
    target = node["reftarget"]
    for name in _candidates(target, node.get("py:module"), node.get("py:class")):
        entry = objects.get(name)
        if entry is not None:
            return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, name)
    owner = _documented_owner(objects, target, node.get("py:module"), node.get("py:class"), node["reftype"])
    if owner is not None:
        entry = objects[owner]
        return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, owner)
    short = target.lstrip(".~")
    kinds = _KINDS.get(node["reftype"])
    matches = [name for name, entry in objects.items()
               if name.endswith("." + short) and name.startswith("numpy_ae.")
               and (kinds is None or entry.objtype in kinds)]
    if len(matches) == 1:
        entry = objects[matches[0]]
        return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, matches[0])
    return None


class TopLevelNames(SphinxDirective):
    """A table of ``numpy_ae.__all__``, each name linked to its documented home."""

    def run(self):
        package = importlib.import_module("numpy_ae")
        lines = [".. list-table::", "   :header-rows: 1", "   :widths: 30 70", "",
                 "   * - ``numpy_ae.<name>``", "     - what it is"]
        for name in package.__all__:
            if name.startswith("__"):
                continue
            obj = getattr(package, name)
            home = canonical_name(f"numpy_ae.{name}")
            role = "class" if inspect.isclass(obj) else "func"
            doc = inspect.getdoc(obj) or ""
            summary = doc.strip().splitlines()[0] if doc.strip() else ""
            lines += [f"   * - :{role}:`{name} <{home}>`", f"     - {summary}"]
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source="toplevel-names"), self.content_offset, container)
        return container.children


def setup(app):
    app.connect("missing-reference", resolve)
    app.add_directive("toplevel-names", TopLevelNames)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
