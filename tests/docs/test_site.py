"""The documentation site: it builds with warnings as errors, loads nothing from the network, and
every local link in it resolves.

The site checked is ``$NUMPY_AE_DOCS_HTML`` when set (a site built before, by ``make docs``
for instance), else this module builds the CI variant itself (``NUMPY_AE_DOCS_GALLERY=off``:
every page, the API reference and the gallery's pages and downloads, the tutorials not
executed) into a temporary folder: what CI does (``.ci/run`` installs the docs extra with
``make docs-install`` before ``make test``; about 80 s on the 2-core machine). Without the docs
extra the module skips. Sphinx's own ``linkcheck``
needs the network; here nitpicky mode (in the build) resolves every cross-reference, and
:func:`test_every_local_link_resolves` follows every ``href``/``src`` of the built HTML,
anchors included.
"""
import html.parser
import json
import os
import pathlib
import re
import subprocess
import sys
import urllib.parse

import pytest

for module in ("sphinx", "sphinx_gallery", "numpydoc", "myst_parser", "furo", "pypandoc", "jupytext"):
    pytest.importorskip(module, reason="the docs extra is not installed: pip install -e '.[docs]'")

ROOT = pathlib.Path(__file__).resolve().parents[2]
TUTORIALS = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))
MODEL_PAGES = ["sparse", "denoising", "regularized", "vae", "convolutional", "stacked", "aae", "gsn", "pca"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    given = os.environ.get("NUMPY_AE_DOCS_HTML")
    if given:
        out = pathlib.Path(given).resolve()
        assert (out / "index.html").is_file(), f"NUMPY_AE_DOCS_HTML={given} holds no built site"
        return out
    work = tmp_path_factory.mktemp("docs")
    out = work / "html"
    env = dict(os.environ, NUMPY_AE_DOCS_GALLERY="off", NUMPY_AE_DOCS_WORK=str(work), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-n", "-q",
                           "-d", str(work / "doctrees"), "docs", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"the docs build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return out


class _Page(html.parser.HTMLParser):
    """The ids of a page and every URL its tags reference, with the tag and attribute."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.refs = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for key in ("href", "src", "data"):
            if attrs.get(key):
                self.refs.append((tag, key, attrs[key], attrs.get("rel") or ""))
        if attrs.get("srcset"):
            for part in attrs["srcset"].split(","):
                if part.strip():
                    self.refs.append((tag, "srcset", part.split()[0], ""))


def _parse(path):
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


@pytest.fixture(scope="module")
def pages(site):
    return {path: _parse(path) for path in sorted(site.rglob("*.html"))}


def test_the_site_has_its_pages(site, pages):
    assert (site / "index.html").is_file()
    for name in MODEL_PAGES:
        assert (site / "models" / f"{name}.html").is_file(), name
    for name in ("install", "choosing", "results", "benchmarks", "instructors", "api"):
        assert (site / f"{name}.html").is_file(), name
    gallery = [site / "tutorials" / f"{p.stem}.html" for p in TUTORIALS]
    assert len(gallery) == 14 and all(p.is_file() for p in gallery)
    api = list((site / "api").glob("numpy_ae.*.html"))
    assert len(api) > 80, len(api)


def test_model_pages_hold_the_reference_code_beside_the_equations(site):
    text = (site / "models" / "sparse.html").read_text()
    source = (ROOT / "numpy_ae" / "nn" / "penalties.py").read_text()
    assert "self._slope(self.guard)" in source          # what the page must show, taken from the source
    assert "_slope" in text and "guard" in text and 'class="eq-code' in text
    assert text.count('class="eq-code') >= 4
    assert 'href="../api/numpy_ae.nn.penalties.html#numpy_ae.nn.penalties.KLSparsity"' in text
    for name in MODEL_PAGES:
        page = (site / "models" / f"{name}.html").read_text()
        assert 'class="eq-code' in page and "highlight-python" in page and 'class="math' in page, name


def _is_remote(url):
    return bool(re.match(r"^(https?:)?//", url.strip(), re.I))


def test_no_script_style_font_or_image_comes_from_the_network(site, pages):
    offenders = []
    for path, page in pages.items():
        for tag, key, url, rel in page.refs:
            loads = tag in ("script", "img", "iframe", "source", "video", "audio", "embed", "object") or \
                (tag == "link" and "canonical" not in rel)
            if loads and _is_remote(url):
                offenders.append(f"{path.relative_to(site)}: <{tag} {key}={url!r}>")
        text = path.read_text(errors="replace")
        offenders += [f"{path.relative_to(site)}: {m}" for m in re.findall(r"@import\s+url\(\s*['\"]?https?://[^)]*\)", text)]
    for css in site.rglob("*.css"):
        for m in re.findall(r"url\(\s*['\"]?((?:https?:)?//[^)'\"]+)", css.read_text(errors="replace")):
            offenders.append(f"{css.relative_to(site)}: url({m})")
    assert not offenders, "\n".join(offenders[:20])


def test_maths_renders_with_the_mathjax_copy_in_the_site(site):
    text = (site / "models" / "vae.html").read_text()
    scripts = re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', text, re.I)
    assert scripts, "no MathJax script on a page full of maths"
    for src in scripts:
        assert not _is_remote(src)
        assert ((site / "models" / src.split("?")[0]).resolve()).is_file(), src
    assert (site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


def test_every_local_link_resolves(site, pages):
    ids = {path.resolve(): page.ids for path, page in pages.items()}
    broken = []
    for path, page in pages.items():
        for tag, key, url, _ in page.refs:
            parsed = urllib.parse.urlsplit(url)
            if parsed.scheme or url.startswith("//") or url.startswith("mailto:"):
                continue
            target = (path.parent / urllib.parse.unquote(parsed.path)).resolve() if parsed.path else path.resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{path.relative_to(site)}: {url}")
            elif parsed.fragment and target.suffix == ".html" and target in ids \
                    and urllib.parse.unquote(parsed.fragment) not in ids[target]:
                broken.append(f"{path.relative_to(site)}: {url} (no such anchor)")
    assert not broken, f"{len(broken)} broken links:\n" + "\n".join(broken[:30])


def test_the_downloads_are_the_tutorials_themselves(site):
    downloads = site / "_downloads"
    for tutorial in TUTORIALS:
        scripts = list(downloads.rglob(tutorial.name))
        notebooks = list(downloads.rglob(tutorial.stem + ".ipynb"))
        assert scripts and notebooks, tutorial.name
        assert all(p.read_bytes() == tutorial.read_bytes() for p in scripts), f"{tutorial.name}: not the source"
        nb = json.loads(notebooks[0].read_text())
        kinds = {cell["cell_type"] for cell in nb["cells"]}
        assert kinds == {"markdown", "code"}, kinds
        first = "".join(nb["cells"][0]["source"])
        assert first.lstrip().startswith("# Tutorial"), first[:80]
