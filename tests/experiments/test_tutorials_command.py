"""``python -m numpy_ae tutorials`` (numpy_ae.experiments.tutorials): the list, the copies, the refusals.

These run on the source checkout (its tutorials/ folder); tests/test_packaging.py runs the command
from a wheel installed into a temporary folder.
"""
import json
import os
import pathlib
import re
import stat

import pytest

from numpy_ae.cli import main
from numpy_ae.experiments.tutorials import PATTERN, tutorial_title, tutorials_folder, write_tutorials

ROOT = pathlib.Path(__file__).resolve().parents[2]
TUTORIALS = sorted((ROOT / "tutorials").glob(PATTERN))


def _json(capsys):
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_the_list_names_each_tutorial_with_its_title(capsys):
    assert len(TUTORIALS) == 14
    assert main(["tutorials"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 15 and lines[-1].startswith(f"14 tutorials in {ROOT / 'tutorials'}")
    assert main(["tutorials", "--json"]) == 0
    result = _json(capsys)
    assert result["source"] == str(ROOT / "tutorials") and result["out"] is None and result["written"] == []
    assert [r["file"] for r in result["tutorials"]] == [p.name for p in TUTORIALS]
    for row, line in zip(result["tutorials"], lines):
        number = int(row["file"][:2])
        assert re.fullmatch(rf"Tutorial {number}: \S.*", row["title"]), row
        assert line.split() == [row["file"]] + row["title"].split()


def test_a_file_without_a_heading_is_titled_by_its_name(tmp_path):
    path = tmp_path / "99_untitled.py"
    path.write_text("# %%\nprint('no markdown cell')\n")
    assert tutorial_title(path) == "99_untitled"


def test_the_folder_is_the_installed_copy_else_the_checkout(tmp_path):
    assert tutorials_folder() == ROOT / "tutorials"  # these tests run on a checkout
    package = tmp_path / "site" / "numpy_ae"
    (package / "tutorials").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no tutorials"):
        tutorials_folder(package)  # an installed package without them (no setup.cfg beside it)
    (package / "tutorials" / "01_x.py").write_text("# # Tutorial 1: x\n")
    assert tutorials_folder(package) == package / "tutorials"


def test_out_writes_every_tutorial_as_it_is(tmp_path, capsys):
    out = tmp_path / "new" / "folder"
    assert main(["tutorials", "--out", str(out), "--json"]) == 0
    result = _json(capsys)
    assert result["written"] == [str(out / p.name) for p in TUTORIALS]
    assert sorted(os.listdir(out)) == [p.name for p in TUTORIALS]  # no temporary file left
    for p in TUTORIALS:
        assert (out / p.name).read_bytes() == p.read_bytes()
        assert stat.S_IMODE((out / p.name).stat().st_mode) == 0o644


def test_a_tutorial_already_there_stops_everything_unless_force(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / TUTORIALS[3].name).write_text("my own edits\n")
    assert main(["tutorials", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --out {str(out)!r}: 1 of the 14 tutorials are there already "
                          f"({TUTORIALS[3].name}); pass --force") and err.count("\n") == 1
    assert os.listdir(out) == [TUTORIALS[3].name] and (out / TUTORIALS[3].name).read_text() == "my own edits\n"
    assert main(["tutorials", "--out", str(out), "--force"]) == 0
    assert all((out / p.name).read_bytes() == p.read_bytes() for p in TUTORIALS)


def test_force_replaces_a_link_not_what_it_points_to(tmp_path):
    elsewhere = tmp_path / "elsewhere.py"
    elsewhere.write_text("keep me\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / TUTORIALS[0].name).symlink_to(elsewhere)
    write_tutorials(out, force=True)
    assert elsewhere.read_text() == "keep me\n"
    assert not (out / TUTORIALS[0].name).is_symlink()
    assert (out / TUTORIALS[0].name).read_bytes() == TUTORIALS[0].read_bytes()


def test_a_folder_in_the_way_is_refused_even_with_force(tmp_path):
    out = tmp_path / "out"
    (out / TUTORIALS[1].name).mkdir(parents=True)
    with pytest.raises(ValueError, match=rf"{TUTORIALS[1].name} exist\(s\) there and is not a file"):
        write_tutorials(out, force=True)
    assert os.listdir(out) == [TUTORIALS[1].name]


def test_bad_arguments_are_one_line_errors(tmp_path, capsys):
    assert main(["tutorials", "--force"]) == 2
    assert capsys.readouterr().err.startswith("error: --force overwrites tutorials in --out; give --out DIR")
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    assert main(["tutorials", "--out", str(a_file)]) == 2  # checked before anything runs (add_output)
    assert capsys.readouterr().err == f"error: --out {str(a_file)!r}: exists and is not a folder\n"
