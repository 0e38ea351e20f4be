"""Output destinations are checked before a command starts (numpy_ae.experiments.registry, numpy_ae.cli).

The destinations are found by walking the built parser (every subcommand, nested ones included): an
option declared with ``add_output`` carries ``output_kind``. An option that looks like a destination
(its name, or a help text that says it writes or saves) but is not declared fails
``test_every_destination_is_declared``; a command that declares none fails
``test_every_command_that_writes_declares_its_destination`` unless it is listed as writing nothing.
Each declared destination is then given unwritable paths: exit 2, one line ``error: --opt 'path': ...``,
before the command runs (in process, with the command replaced by a trap; and in a child process running
the real command, with a timeout, in a folder that must stay as it was).
"""
import argparse
import os
import re
import subprocess
import sys
import time

import pytest

from numpy_ae.cli import build_parser, main
from numpy_ae.experiments import registry
from numpy_ae.experiments.registry import DestinationError, add_output, check_destination, output_actions

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IS_ROOT = getattr(os, "geteuid", lambda: 1)() == 0  # POSIX; root ignores permission bits
WRITES_NOTHING = {("gradcheck",), ("assignment", "list")}  # commands that print only
NAME = re.compile(r"^--(out|output|outdir|save|results|dest|dump|export|write)(\b|-|_)")
HELP = re.compile(r"\b(write|writes|written|save|saves|folder for|store|export)\b", re.I)


def _leaves(parser, path=()):
    """(command path, parser) of every runnable (sub)command."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs and path:
        yield path, parser
    for action in subs:
        for name, sub in action.choices.items():
            yield from _leaves(sub, path + (name,))


LEAVES = dict(_leaves(build_parser()))
OUTPUTS = [(path, action) for path, p in LEAVES.items() for action in output_actions(p)]
OUTPUT_IDS = [" ".join(path) + " " + action.option_strings[0] for path, action in OUTPUTS]


def _looks_like_destination(action):
    return any(NAME.match(o) for o in action.option_strings) or bool(HELP.search(action.help or ""))


def _undeclared(parser):
    return [a.option_strings[0] for a in parser._actions if a.option_strings and a.nargs != 0  # not a flag
            and _looks_like_destination(a) and getattr(a, "output_kind", None) is None]


def test_the_detector_flags_an_undeclared_destination():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="out/x", help="folder for the figures")
    p.add_argument("--dump-to", help="writes the codes here")
    add_output(p, "--save-model", kind="file", help="save the model here")
    p.add_argument("--model", help="load a saved model instead of training")  # an input: not flagged
    p.add_argument("--plot", action="store_true", help="also write plot.png")  # a flag names no path
    assert _undeclared(p) == ["--out", "--dump-to"]


def test_every_destination_is_declared():
    found = {" ".join(path): _undeclared(p) for path, p in LEAVES.items() if _undeclared(p)}
    assert not found, f"options that write, declared without add_output (so never checked): {found}"


def test_every_command_that_writes_declares_its_destination():
    assert len(LEAVES) >= 18 and WRITES_NOTHING <= set(LEAVES)
    silent = sorted(" ".join(path) for path, p in LEAVES.items() if not output_actions(p))
    assert silent == sorted(" ".join(path) for path in WRITES_NOTHING)
    kinds = {(" ".join(path), a.option_strings[0]): a.output_kind for path, a in OUTPUTS}
    assert kinds[("anomaly-timeseries", "--save-model")] == kinds[("assignment grade", "--results")] == "file"
    assert kinds[("assignment create", "--out")] == kinds[("vae", "--out")] == "folder"
    assert len(OUTPUTS) == 20  # 18 --out folders, --save-model, --results


def _unwritable_folder(tmp_path):
    """A folder nothing can be created in, even by root (who ignores permission bits)."""
    if IS_ROOT:
        if not os.path.isdir("/proc"):
            pytest.skip("running as root without /proc: no folder root cannot write")
        return "/proc"
    ro = tmp_path / "read-only"
    ro.mkdir()
    ro.chmod(0o555)
    return str(ro)


def _bad_values(kind, tmp_path):
    """(bad value, what the reason says) for a destination of ``kind``."""
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    ro = _unwritable_folder(tmp_path)
    common = [(str(a_file / "sub" / "x.npz"), "is a file, not a folder"),
              (os.path.join(ro, "new", "x.npz"), "cannot create anything in"), ("", "an empty path")]
    if kind == "folder":
        return common + [(str(a_file), "exists and is not a folder"), (ro, "cannot create anything in")]
    return common + [(str(tmp_path), "is a folder")]


def _argv(path, parser, flag, value, tmp_path):
    """The command line of ``path`` with ``flag value``, the other required arguments filled in."""
    argv = list(path)
    for a in parser._actions:
        if a.dest == "help" or flag in a.option_strings:
            continue
        if not a.option_strings:  # positional: any value passes the parser (the command never runs)
            argv.append(a.choices[0] if a.choices else "x")
        elif a.required:
            assert getattr(a, "output_kind", None), f"{path}: fill in the required option {a.option_strings}"
            argv += [a.option_strings[0], str(tmp_path / "fine")]
    return argv + [flag, value]


@pytest.fixture
def trapped(monkeypatch):
    """Every command replaced by one that records that it ran."""
    ran = []
    for name, (fn, help) in list(registry.COMMANDS.items()):
        def trap(args, name=name):
            ran.append(name)
            return 0
        trap.configure = fn.configure
        monkeypatch.setitem(registry.COMMANDS, name, (trap, help))
    return ran


@pytest.mark.parametrize("path, action", OUTPUTS, ids=OUTPUT_IDS)
def test_unwritable_destination_stops_before_the_command(path, action, tmp_path, capsys, trapped):
    flag = action.option_strings[0]
    for value, reason in _bad_values(action.output_kind, tmp_path):
        start = time.perf_counter()
        assert main(_argv(path, LEAVES[path], flag, value, tmp_path)) == 2, value
        assert time.perf_counter() - start < 5.0
        out, err = capsys.readouterr()
        assert out == "" and trapped == [], value
        assert err.count("\n") == 1 and err.startswith(f"error: {flag} {value!r}: ") and reason in err, err
    assert main(_argv(path, LEAVES[path], flag, str(tmp_path / "new" / "x.npz"), tmp_path)) == 0
    assert trapped == [path[0]]  # a writable one lets the command run
    assert not (tmp_path / "new").exists()  # and the check created nothing


@pytest.mark.parametrize("path, action", OUTPUTS, ids=OUTPUT_IDS)
def test_the_real_command_refuses_in_a_child_process(path, action, tmp_path):
    """The real command, not a trap: it would train for seconds to minutes; it must stop at once."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "a-file").write_text("x")
    flag = action.option_strings[0]
    value = str(work / "a-file" / "dest")
    argv = _argv(path, LEAVES[path], flag, value, work)
    env = dict(os.environ, PYTHONPATH=ROOT, MPLBACKEND="Agg")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "numpy_ae", *argv], cwd=work, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == "" and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: {flag} {value!r}: {str(work / 'a-file')!r} is a file, not a folder")
    assert sorted(os.listdir(work)) == ["a-file"]  # no out/ folder, no half-written figure
    assert time.perf_counter() - start < 30.0


def test_a_creatable_folder_passes_and_nothing_is_created(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    check_destination("--out", "out/deep/er", "folder")  # relative, like the defaults
    check_destination("--out", str(tmp_path), "folder")  # an existing folder
    check_destination("--results", str(tmp_path / "r" / "results.json"), "file")
    (tmp_path / "old.json").write_text("{}")
    check_destination("--results", str(tmp_path / "old.json"), "file")  # an existing file is overwritten
    assert sorted(os.listdir(tmp_path)) == ["old.json"]  # no folder made, no probe left


@pytest.mark.parametrize("value, kind, reason", [
    ("{tmp}/a-file/../x", "folder", "is a file, not a folder"),  # the OS refuses 'file/..': so do we
    ("{tmp}/" + "n" * 300, "folder", "too long"),
    ("{tmp}/new/" + "n" * 300 + "/x.npz", "file", "too long"),
])
def test_paths_the_os_would_refuse(tmp_path, value, kind, reason):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(DestinationError, match=reason):
        check_destination("--out", value.replace("{tmp}", str(tmp_path)), kind)
    assert sorted(os.listdir(tmp_path)) == ["a-file"]


@pytest.mark.skipif(IS_ROOT, reason="root writes read-only files")
def test_a_read_only_existing_file_is_refused(tmp_path):
    target = tmp_path / "results.json"
    target.write_text("{}")
    target.chmod(0o444)
    with pytest.raises(DestinationError, match="cannot be written"):
        check_destination("--results", str(target), "file")


def test_add_output_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="kind must be one of"):
        add_output(argparse.ArgumentParser(), "--out", kind="dir")


def test_save_model_creates_the_folder_it_was_checked_against(tmp_path):
    """The check passes a file whose folder does not exist yet, so the command must make that folder."""
    target = tmp_path / "models" / "new" / "conv1d.npz"
    assert main(["anomaly-timeseries", "--fast", "--quiet", "--out", str(tmp_path / "figs"),
                 "--save-model", str(target)]) == 0
    assert target.is_file()
