r"""The tutorials as a sphinx-gallery, with tutorials/*.py staying the source.

The 14 tutorials are jupytext percent scripts whose text cells are Markdown
(``# %% [markdown]``, ``$...$`` maths, backticks). sphinx-gallery reads the same
``# %%`` cell marker but parses text blocks as reStructuredText. So before
sphinx-gallery runs, :func:`write_gallery_sources` converts each tutorial into a
gallery script under ``docs/_build/gallery-src/`` (never committed):

* the first Markdown cell (the title and introduction) becomes the module
  docstring sphinx-gallery wants;
* every other Markdown cell becomes a ``# %%`` text block, converted to rST by
  pandoc (the ``pypandoc-binary`` wheel ships it: no system install);
* code cells are copied byte for byte, so what runs is the tutorial's code.

The tutorials write their figures as PNG files (``numpy_ae.analysis.plotting``
uses matplotlib's Agg canvas, not pyplot), into ``$NUMPY_AE_OUT/<tutorial>/``.
sphinx-gallery's matplotlib scraper would see none of them, so
:func:`png_scraper` collects, after each code block, the PNG files that block
wrote or rewrote and shows them under it.

The downloads: after the build, :func:`replace_downloads` overwrites the
gallery's ``.py`` download with the tutorial itself and its ``.ipynb`` with
jupytext's notebook of it (the one ``make notebooks`` writes), so a reader
downloads the real source, with Markdown cells, not the rST conversion.
"""
from __future__ import annotations

import os
import pathlib
import shutil

import jupytext
import pypandoc

_SPLIT = "NUMPYAEDOCSCELLBREAK"
# the PNGs each example has shown so far: {file: mtime}, reset when an example starts
_seen: dict[str, dict[str, float]] = {}


def _comment(text):
    return "\n".join(("# " + line).rstrip() for line in text.splitlines())


def md_cells_to_rst(cells):
    """Convert Markdown texts to rST with one pandoc call (one document, so section levels agree)."""
    joined = f"\n\n{_SPLIT}\n\n".join(cells)
    rst = pypandoc.convert_text(joined, "rst", format="markdown-smart", extra_args=["--wrap=none"])
    parts = [p.strip("\n") for p in rst.split(_SPLIT)]
    if len(parts) != len(cells):
        raise RuntimeError(f"pandoc merged or split cells: {len(cells)} in, {len(parts)} out")
    return parts


def gallery_script(path):
    """The sphinx-gallery form of one percent script (a str)."""
    nb = jupytext.read(path, fmt="py:percent")
    cells = nb.cells
    if not cells or cells[0].cell_type != "markdown":
        raise ValueError(f"{path}: a tutorial must start with a Markdown cell (its title)")
    texts = md_cells_to_rst([c.source for c in cells if c.cell_type == "markdown"])
    out, k = [], 0
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            text, k = texts[k], k + 1
            if i == 0:
                out.append('r"""\n' + text.replace('"""', r'\"\"\"') + '\n"""\n')
            else:
                out.append("# %%\n" + _comment(text) + "\n")
        else:
            out.append(cell.source.rstrip("\n") + "\n")
    return "\n".join(out)


GALLERY_HEADER = """\
Tutorials
=========

The 14 tutorials of ``tutorials/``, executed when this site was built, with
their printed output and figures. Each follows one source (UFLDL, Hands-On
Machine Learning, the deeplearning.net tutorials, Kingma & Welling, the papers)
and checks every claim it makes with an ``assert``. Each page ends with links to
download the tutorial as a Python script (the jupytext percent file itself: run
it with ``python``, or open it in Jupyter) and as a notebook.

{mode}
"""


def write_gallery_sources(tutorials_dir, dest, mode_note):
    """Write the gallery scripts of ``tutorials_dir/[0-9][0-9]_*.py`` into ``dest``; return their count."""
    tutorials_dir, dest = pathlib.Path(tutorials_dir), pathlib.Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    (dest / "GALLERY_HEADER.rst").write_text(GALLERY_HEADER.format(mode=mode_note))
    paths = sorted(tutorials_dir.glob("[0-9][0-9]_*.py"))
    for path in paths:
        (dest / path.name).write_text(gallery_script(path))
    return len(paths)


def png_scraper(block, block_vars, gallery_conf):
    """sphinx-gallery image scraper: the PNG files a code block wrote under ``$NUMPY_AE_OUT/<example>/``."""
    from sphinx_gallery.scrapers import figure_rst

    name = pathlib.Path(block_vars["src_file"]).stem
    folder = pathlib.Path(os.environ["NUMPY_AE_OUT"]) / name
    seen = _seen.setdefault(name, {})
    new = []
    for png in sorted(folder.rglob("*.png"), key=lambda p: (p.stat().st_mtime, str(p))):
        mtime = png.stat().st_mtime
        if seen.get(str(png)) != mtime:
            seen[str(png)] = mtime
            new.append(png)
    shown = []
    for png, target in zip(new, block_vars["image_path_iterator"]):
        shutil.copyfile(png, target)
        shown.append(target)
    if not shown:
        return ""
    title = ", ".join(p.stem.replace("_", " ") for p in new[:len(shown)])
    return figure_rst(shown, gallery_conf["src_dir"], fig_titles=title)


def reset_example_outputs(gallery_conf, fname):
    """sphinx-gallery ``reset_modules`` hook: forget what an example showed before it runs again."""
    _seen.pop(pathlib.Path(fname).stem, None)


def replace_downloads(app, exc):
    """``build-finished``: the .py download is the tutorial, the .ipynb jupytext's notebook of it."""
    if exc is not None or app.builder.format != "html":
        return
    tutorials = pathlib.Path(app.config.numpy_ae_tutorials_dir)
    downloads = pathlib.Path(app.outdir) / "_downloads"
    if not downloads.is_dir():
        return
    for path in downloads.rglob("*"):
        source = tutorials / (path.stem + ".py")
        if not source.is_file():
            continue
        if path.suffix == ".py":
            shutil.copyfile(source, path)
        elif path.suffix == ".ipynb":
            jupytext.write(jupytext.read(source, fmt="py:percent"), path, fmt="ipynb")


def setup(app):
    app.add_config_value("numpy_ae_tutorials_dir", "", "env")
    app.connect("build-finished", replace_downloads)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


__all__ = ["write_gallery_sources", "gallery_script", "png_scraper", "reset_example_outputs", "replace_downloads"]
os.environ.setdefault("MPLBACKEND", "Agg")
