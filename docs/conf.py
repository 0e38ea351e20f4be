"""Sphinx configuration of the numpy_ae documentation site (``make docs``; docs/README.md says how and why).

Tools, and why these:

* Sphinx, because the API reference must come from the package's numpydoc
  docstrings (``autosummary`` + ``numpydoc``) and the model pages must include
  the reference code from the source (``literalinclude :pyobject:``), so neither
  can drift from the code; ``nitpicky`` turns every unresolved name into a
  warning and ``-W`` every warning into an error.
* sphinx-gallery for the tutorials rather than myst-nb: it runs plain scripts
  (the tutorials are scripts first, notebooks second), keeps each block's printed
  output, offers the .py and .ipynb downloads, times every example, and takes a
  custom image scraper, which the tutorials need because they write their
  figures as PNG files instead of displaying them (``_ext/tutorial_gallery.py``).
  myst-nb would show none of those figures without changing the tutorials.
* MyST-Parser so that pages are Markdown like README.md (one syntax for the code
  blocks that tests/docs/ extracts and runs) and so that benchmarks/README.md is
  included as it is, not copied.
* sphinx-mathjax-offline: a MathJax 3 copy inside a PyPI wheel, copied into
  ``_static/mathjax``; the site loads no script, style or font from the network
  (tests/docs/test_site.py checks the built HTML).
* furo: a theme with a searchable sidebar that ships all its assets.

The gallery has three modes, from ``NUMPY_AE_DOCS_GALLERY``: ``fast`` (the
default of ``make docs``: every tutorial runs with ``NUMPY_AE_FAST=1``),
``full`` (the tutorials' full runs: long) and ``off`` (pages, downloads and
links built, tutorials not run: the CI variant).
"""
import os
import pathlib
import sys

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))

import numpy_ae  # noqa: E402
import tutorial_gallery  # noqa: E402

project = "numpy_ae"
author = "the numpy_ae developers"
copyright = "the numpy_ae developers"
release = version = numpy_ae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "tutorial_gallery",
    "api_names",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "README.md", "Thumbs.db", ".DS_Store", "tutorials/*.ipynb",
                    "tutorials/*.py", "tutorials/*.md5", "tutorials/*.zip", "tutorials/*.json"]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["numpy_ae.css"]
html_theme = "furo"
html_title = f"numpy_ae {release}"
html_show_sourcelink = False
html_theme_options = {"navigation_with_keys": True}

# every cross-reference must resolve (internal links checked); warnings are errors (-W in the Makefile)
nitpicky = True
# names from other projects: no intersphinx (it needs the network), so these stay plain text
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|scipy|matplotlib|sklearn|torch|pathlib|os|sys|ast|inspect|subprocess|signal|resource|"
                r"collections|typing|threading|multiprocessing|json|enum|zipfile|io|argparse)(\..*)?"),
    # private names are not documented (the reference is of the public API): a base class or a
    # docstring that names one keeps it as text
    (r"py:.*", r"(.*\.)?_[A-Za-z]\w*(\.\w+)*"),
]

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# the API reference: one page per public module, class and function, from the numpydoc docstrings
autosummary_generate = True
autosummary_imported_members = False
autosummary_ignore_module_all = True
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": True}
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# ---- the gallery ---------------------------------------------------------------------------------------
GALLERY_MODE = os.environ.get("NUMPY_AE_DOCS_GALLERY", "fast")
if GALLERY_MODE not in ("fast", "full", "off"):
    raise ValueError(f"NUMPY_AE_DOCS_GALLERY must be 'fast', 'full' or 'off'; got {GALLERY_MODE!r}")
MODE_NOTE = {
    "fast": "This build ran every tutorial in its fast mode (``NUMPY_AE_FAST=1``: fewer examples and "
            "iterations, seconds per tutorial), so the printed figures are smaller runs than the tutorials' "
            "own defaults; run a tutorial without the variable for its full result.",
    "full": "This build ran every tutorial in full (no ``NUMPY_AE_FAST``).",
    "off": "This build did not run the tutorials (``NUMPY_AE_DOCS_GALLERY=off``, the CI variant): the pages "
           "show the code and text only; ``make docs`` runs them.",
}[GALLERY_MODE]
if GALLERY_MODE == "fast":
    os.environ["NUMPY_AE_FAST"] = "1"
else:
    os.environ.pop("NUMPY_AE_FAST", None)
os.environ.setdefault("MPLBACKEND", "Agg")
BUILD = pathlib.Path(os.environ.get("NUMPY_AE_DOCS_WORK", DOCS / "_build"))
os.environ["NUMPY_AE_OUT"] = str(BUILD / "tutorial-figures")
GALLERY_SRC = BUILD / "gallery-src"
N_TUTORIALS = tutorial_gallery.write_gallery_sources(ROOT / "tutorials", GALLERY_SRC, MODE_NOTE)
numpy_ae_tutorials_dir = str(ROOT / "tutorials")

sphinx_gallery_conf = {
    "examples_dirs": [str(GALLERY_SRC)],
    "gallery_dirs": ["tutorials"],
    "filename_pattern": r"/\d\d_",          # run every tutorial, not only plot_*.py
    "plot_gallery": GALLERY_MODE != "off",
    "image_scrapers": ("tutorial_gallery.png_scraper",),
    "reset_modules": ("tutorial_gallery.reset_example_outputs",),
    "abort_on_example_error": True,
    "download_all_examples": False,         # the zips would hold the rST conversions, not the tutorials
    "remove_config_comments": True,
    "doc_module": ("numpy_ae",),            # names in the code link to the API reference
    "reference_url": {"numpy_ae": None},
    "backreferences_dir": "api/backreferences",
    "inspect_global_variables": False,
    "min_reported_time": 0,
    "write_computation_times": False,       # its pages load jQuery and DataTables from a CDN
    "show_signature": False,
    "within_subsection_order": "FileNameSortKey",
}
