"""The help texts: every '%' shown once, and usage lines that name the program as it was run.

argparse %-formats every option's and subcommand's help string (``%(default)s``), and a description
only when it holds ``%(prog)``: so a '%' must be escaped in the one and not in the other. The walk
covers every parser of ``build_parser()``, nested subcommands included, so a new command whose help
holds a bare '%' (argparse's --help would raise) or a doubled one fails here.
"""
import argparse
import os
import pathlib
import subprocess
import sys

import pytest

from numpy_ae.cli import PROG_MODULE, PROG_SCRIPT, build_parser, main
from numpy_ae.experiments.registry import COMMANDS

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _every_parser(parser, path=()):
    """(command path, parser) of the parser and of every (nested) subcommand's parser."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _every_parser(sub, path + (name,))


PARSERS = dict(_every_parser(build_parser()))


def _flat(text):
    """The text without its whitespace: argparse wraps lines at spaces and after hyphens (784-200-...)."""
    return "".join(text.split())


def test_the_walk_finds_every_command():
    assert {path[0] for path in PARSERS if path} == set(COMMANDS)
    assert ("assignment", "create") in PARSERS and ("denoising",) in PARSERS


@pytest.mark.parametrize("path", list(PARSERS), ids=lambda p: " ".join(p) or "top")
def test_help_shows_each_percent_sign_once(path):
    text = PARSERS[path].format_help()  # raises for a bare '%' in an option's help
    assert "%%" not in text, [line for line in text.splitlines() if "%%" in line]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_command_shows_its_registered_text_as_it_is(name):
    """In the list of commands and as the subcommand's description, whatever '%' it holds."""
    registered = _flat(COMMANDS[name][1])
    assert registered in _flat(PARSERS[(name,)].format_help())
    assert registered in _flat(PARSERS[()].format_help())


def test_a_new_command_with_percent_signs_is_shown_right(monkeypatch):
    def cmd(args):
        return 0

    cmd.configure = lambda p: p.add_argument("--keep", type=float, default=0.05,
                                             help="share kept, 5%% by default (%(default)s)")
    monkeypatch.setitem(COMMANDS, "probe-cmd", (cmd, "keeps 5% of the units, 100% of the time"))
    parser = build_parser()
    listing = _flat(parser.format_help())
    own = _flat(dict(_every_parser(parser))[("probe-cmd",)].format_help())
    shown = _flat("keeps 5% of the units, 100% of the time")
    assert shown in listing and shown in own and _flat("share kept, 5% by default (0.05)") in own
    assert "%%" not in listing + own


def test_denoising_help_says_0_percent(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["denoising", "--help"])
    assert exc.value.code == 0
    out = _flat(capsys.readouterr().out)
    assert _flat("filters at 0% vs the chosen corruption") in out and "%%" not in out


def test_usage_names_the_console_script_by_default(capsys):
    """``numpy-ae`` (setup.cfg's console script) calls ``main()`` with no arguments."""
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0 and capsys.readouterr().out.startswith(f"usage: {PROG_SCRIPT} [-h] command")
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith(f"usage: {PROG_SCRIPT} [-h]")
    assert f"{PROG_SCRIPT}: error: argument command: invalid choice: 'no-such-command'" in err
    setup_cfg = (ROOT / "setup.cfg").read_text()
    assert f"{PROG_SCRIPT} = numpy_ae.cli:main" in setup_cfg


def test_usage_names_the_module_under_python_dash_m(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "numpy_ae", "denoising", "--help"], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: {PROG_MODULE} denoising [-h]") and PROG_MODULE == "python -m numpy_ae"
    assert _flat("filters at 0% vs") in _flat(proc.stdout)
