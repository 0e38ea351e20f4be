"""Every ```python and ```bash block of README.md and docs/**/*.md runs as pasted.

Each block runs alone, in a fresh interpreter (python) or a fresh ``bash -euo pipefail`` (bash),
in an empty temporary folder, with this interpreter's folder first on PATH (so ``python`` is the
one that has numpy_ae, as ``source .venv/bin/activate`` makes it) and MPLBACKEND=Agg. The blocks
train small models on purpose, so each takes seconds.

A block may carry a marker, an HTML comment on the line just above its fence (invisible on
GitHub and in the site):

``<!-- test: skip: REASON -->``
    never run here (installs packages, trains for minutes, ...); the reason is required;
``<!-- test: needs mnist -->`` / ``<!-- test: needs fashion-mnist -->``
    skipped, saying so, when that data set is not on disk (``NUMPY_AE_DATA``), never downloaded;
``<!-- test: repo -->``
    run from the repository root instead of an empty folder (a block that reads tutorials/).

```text`` and ```console`` blocks (usage lines, printed output) are not code and are not run.
"""
import os
import pathlib
import re
import subprocess
import sys

import pytest

from numpy_ae.data import find_mnist

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "README.md"] + sorted(p for p in (ROOT / "docs").rglob("*.md") if "_build" not in p.parts)
FENCE = re.compile(r"^```(\w+)\s*$")
MARKER = re.compile(r"^<!--\s*test:\s*(.*?)\s*-->\s*$")
RUNNABLE = {"python", "bash"}
TIMEOUT = 300


def extract_blocks(path):
    """``[(language, code, marker or "", first line number)]`` of the fenced blocks of a Markdown file."""
    lines = path.read_text().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match is None or lines[i].startswith("````"):
            i += 1
            continue
        marker = MARKER.match(lines[i - 1]) if i else None
        start, i = i, i + 1
        body = []
        while i < len(lines) and lines[i] != "```":
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise ValueError(f"{path}:{start + 1}: a ``` fence that never closes")
        blocks.append((match.group(1), "\n".join(body) + "\n", marker.group(1) if marker else "", start + 1))
        i += 1
    return blocks


def _cases():
    cases = []
    for path in SOURCES:
        for lang, code, marker, line in extract_blocks(path):
            if lang in RUNNABLE:
                name = f"{path.relative_to(ROOT)}:{line}"
                cases.append(pytest.param(lang, code, marker, id=name))
    return cases


CASES = _cases()


def _has(name):
    try:
        find_mnist(name, download=False)
        return True
    except FileNotFoundError:
        return False


def test_the_blocks_are_found():
    assert len(CASES) >= 20, [c.id for c in CASES]
    readme = [c for c in CASES if c.id.startswith("README.md:")]
    assert len(readme) >= 3


def test_markers_are_known_and_skips_say_why():
    for path in SOURCES:
        for _, _, marker, line in extract_blocks(path):
            if not marker:
                continue
            assert re.fullmatch(r"skip: \S.{9,}|needs (mnist|fashion-mnist)|repo", marker), \
                f"{path.name}:{line}: unknown marker or a skip without its reason: {marker!r}"


@pytest.mark.parametrize("lang,code,marker", CASES)
def test_block_runs_as_pasted(lang, code, marker, tmp_path):
    if marker.startswith("skip:"):
        pytest.skip(marker[5:].strip())
    if marker.startswith("needs "):
        name = marker.split()[1]
        if not _has(name):
            pytest.skip(f"{name} not on disk (set NUMPY_AE_DATA, e.g. NUMPY_AE_DATA=../shared/data)")
    cwd = ROOT if marker == "repo" else tmp_path
    env = dict(os.environ, MPLBACKEND="Agg", PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    env.pop("NUMPY_AE_FAST", None)
    if lang == "python":
        cmd = [sys.executable, "-c", code]
    else:
        cmd = ["bash", "-euo", "pipefail", "-c", code]
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"exit {proc.returncode}\n--- code\n{code}--- stdout\n{proc.stdout[-3000:]}" \
                                 f"\n--- stderr\n{proc.stderr[-3000:]}"
