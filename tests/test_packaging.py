"""The wheel: built as the docs say (``pip wheel . --no-deps``), it holds every module of the package, the 14
tutorials, the course's data files and the LICENSE; installed into a bare folder (``pip install --target``,
no dependencies, so no network beyond the build's), its console script and ``tutorials`` command work.

The build runs on a copy of what setup.cfg reads (setup.cfg, pyproject.toml, README.md, LICENSE, numpy_ae/,
tutorials/), so it leaves no ``build/`` behind in the repository and needs nothing else of it. pip builds in
an isolated environment (setuptools and wheel from the package index, as for any user): about 10 s.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))
COPIED = ("setup.cfg", "pyproject.toml", "README.md", "LICENSE", "numpy_ae", "tutorials")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    for name in COPIED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copyfile(ROOT / name, src / name)
    dist = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(src)],
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"pip wheel failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    wheels = list(dist.glob("numpy_ae-*-py3-none-any.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _package_files():
    """Every file of numpy_ae/ a wheel must carry: the modules and the course's data files."""
    return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "numpy_ae").rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def test_the_wheel_holds_the_package_the_tutorials_and_the_license(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        missing = [f for f in _package_files() if f not in names]
        assert not missing, f"not in the wheel (a package missing from setup.cfg's list?): {missing[:10]}"
        assert len(TUTORIALS) == 14
        for tutorial in TUTORIALS:
            assert zf.read(f"numpy_ae/tutorials/{tutorial.name}") == tutorial.read_bytes(), tutorial.name
        info = wheel.name.split("-py3")[0] + ".dist-info"
        licenses = [n for n in names if n.startswith(info) and n.endswith("LICENSE")]
        assert licenses and zf.read(licenses[0]) == (ROOT / "LICENSE").read_bytes()
        assert "numpy-ae = numpy_ae.cli:main" in zf.read(f"{info}/entry_points.txt").decode()
        assert "License: MIT" in zf.read(f"{info}/METADATA").decode()
    stray = sorted({n.split("/")[0] for n in names} - {"numpy_ae", info})
    assert not stray, f"top-level entries besides the package: {stray}"  # no tutorials/, tests/, docs/


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    target = tmp_path_factory.mktemp("target")
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
                           str(wheel)], capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return target


def _run(installed, cwd, *argv):
    """Run from a folder outside the repository with only the installed copy on PYTHONPATH (numpy etc. come
    from this interpreter's environment)."""
    env = dict(os.environ, PYTHONPATH=str(installed), MPLBACKEND="Agg")
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=120, cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL)


def test_the_console_script_and_the_module_name_themselves(installed, tmp_path):
    script = installed / "bin" / "numpy-ae"
    assert script.is_file()
    proc = _run(installed, tmp_path, str(script), "--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: numpy-ae [-h] command"), proc.stderr
    proc = _run(installed, tmp_path, sys.executable, "-m", "numpy_ae", "--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: python -m numpy_ae [-h] command"), proc.stderr


def test_an_installed_wheel_writes_its_tutorials_out(installed, tmp_path):
    out = tmp_path / "my-tutorials"
    proc = _run(installed, tmp_path, str(installed / "bin" / "numpy-ae"), "tutorials", "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["source"] == str(installed / "numpy_ae" / "tutorials")  # the wheel's copy, not the checkout
    assert sorted(os.listdir(out)) == [p.name for p in TUTORIALS]
    assert all((out / p.name).read_bytes() == p.read_bytes() for p in TUTORIALS)
    again = _run(installed, tmp_path, sys.executable, "-m", "numpy_ae", "tutorials", "--out", str(out))
    assert again.returncode == 2 and "pass --force" in again.stderr
