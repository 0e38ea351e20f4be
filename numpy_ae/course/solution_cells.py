r"""The solution cells of an nbgrader notebook: ``@solution("nn.dense:Dense.backward")`` over a function.

``assignment create NAME --nbgrader`` copies this file into the student package as
``numpy_ae_student/notebook.py`` (it imports nothing but the standard library, so
the package stays self-contained). In the notebook, each function the exercise
blanks is written in a cell of its own::

    @solution("nn.activations:Sigmoid.backward")
    def backward(self, dY):
        r'''...the docstring: equations and shapes...'''
        ### BEGIN SOLUTION
        ...
        ### END SOLUTION

The decorator does two things:

1. it puts the function into the package loaded in this kernel, as if written
   in the module's file: ``Sigmoid.backward`` becomes the cell's function, and
   its global names are the module's (``np``, the module's helpers), not the
   notebook's; so the tutorial's cells below check and train with it;
2. it records the function's source (the cell's text, without this decorator),
   which :func:`written` returns: the notebook's graded cells hand it to the
   instructor's grader, which puts it into a copy of the module file and grades
   that copy in its sandbox (:mod:`numpy_ae.course.nbcheck`).

Write everything the function needs inside it (a helper defined elsewhere in
the notebook is not visible from the module, here or when graded).
"""
import ast
import importlib
import inspect
import textwrap
import types

__all__ = ["solution", "written"]

_WRITTEN = {}  # qualname -> source of the function, as the cell defines it (this decorator removed)


def _parse(qualname):
    module, sep, name = qualname.partition(":")
    parts = name.split(".")
    if not sep or not module or not all(p.isidentifier() for p in parts) or len(parts) > 2:
        raise ValueError(f"@solution names a function as 'module:function' or 'module:Class.method' "
                         f"('nn.dense:Dense.backward'); got {qualname!r}")
    return module, parts


def _source(fn, qualname):
    """The source of ``fn`` as its cell defines it, dedented, without the ``@solution(...)`` line(s)."""
    try:
        text = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as exc:
        raise ValueError(f"@solution({qualname!r}): the source of {fn.__name__} cannot be read ({exc}); define "
                         "the function in a notebook cell") from None
    tree = ast.parse(text)
    node = tree.body[0]
    lines = text.splitlines(keepends=True)
    for dec in reversed(node.decorator_list):
        target = dec.func if isinstance(dec, ast.Call) else dec
        name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
        if name == "solution":
            del lines[dec.lineno - 1:dec.end_lineno]
    return "".join(lines)


def solution(qualname):
    """Decorator: the function below is the student's ``qualname`` (``"module:Class.method"``); see the module
    docstring. Returns the function as installed in the package."""
    module_name, parts = _parse(qualname)

    def record(fn):
        if not isinstance(fn, types.FunctionType):
            raise TypeError(f"@solution({qualname!r}) goes directly above a `def`; got {type(fn).__name__}")
        if fn.__name__ != parts[-1]:
            raise ValueError(f"@solution({qualname!r}) must decorate a function named {parts[-1]!r}; got "
                             f"{fn.__name__!r} (keep the name and the signature of the handed-out function)")
        module = importlib.import_module(f"{__package__}.{module_name}")
        owner = module
        if len(parts) == 2:
            owner = getattr(module, parts[0], None)
            if not isinstance(owner, type):
                raise ValueError(f"@solution({qualname!r}): {module.__name__} has no class {parts[0]!r}")
        source = _source(fn, qualname)
        # the same code, with the module's globals: it runs as if it were written in the module's file
        new = types.FunctionType(fn.__code__, vars(module), fn.__name__, fn.__defaults__, fn.__closure__)
        new.__kwdefaults__, new.__doc__, new.__annotations__ = fn.__kwdefaults__, fn.__doc__, fn.__annotations__
        new.__qualname__, new.__module__ = ".".join(parts), module.__name__
        setattr(owner, parts[-1], new)
        _WRITTEN[qualname] = source
        return new

    return record


def written():
    """``{qualname: source}`` of every function a solution cell of this kernel has defined."""
    return dict(_WRITTEN)
