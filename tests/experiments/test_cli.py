"""The command line: gradcheck's table and JSON, sparse-patches' files and JSON, errors, a closed stdout.

The output destinations: test_cli_destinations.py."""
import json
import os
import pathlib
import subprocess
import sys

import matplotlib.image
import pytest

from numpy_ae.cli import EXIT_BROKEN_PIPE, main
from numpy_ae.experiments import anomaly_timeseries


def test_gradcheck_json_and_exit_code(capsys):
    assert main(["gradcheck", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(out[-1])
    assert summary["all_ok"] is True
    names = {c["name"] for c in summary["checks"]}
    assert {"sparse_autoencoder", "layer_kl_sparsity", "ufldl_self_test"} <= names
    assert all(c["rel_diff"] < c["tol"] <= 1e-9 and c["ok"] for c in summary["checks"])
    assert any(line.startswith("check") for line in out)  # the table header


def test_gradcheck_fails_with_nonzero_exit(capsys, monkeypatch):
    from numpy_ae.check import gradcheck, registry

    registry.run_checks([])
    monkeypatch.setitem(registry.REGISTRY, "broken",
                        (lambda: gradcheck.CheckResult("broken", 0.5, blocks={"w": 0.5}), 1e-9))
    assert main(["gradcheck", "--json", "--only", "broken", "ufldl_self_test"]) == 1
    out = capsys.readouterr().out
    assert json.loads(out.strip().splitlines()[-1])["all_ok"] is False
    assert "wrong gradient here" in out


def test_sparse_patches_small_run(tmp_path, capsys):
    code = main(["sparse-patches", "--out", str(tmp_path), "--iterations", "30", "--patches", "2000", "--json"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert {"cost", "mean_activation", "seconds", "iterations", "converged", "message", "n_patches",
            "n_hidden", "claims"} <= set(result)         # the claims: tests/experiments/test_sparse_patches.py
    assert result["iterations"] == 30 and result["n_patches"] == 2000 and result["n_hidden"] == 25
    assert result["converged"] is False and "ITERATIONS REACHED LIMIT" in result["message"].upper()
    assert any("L-BFGS: stop: total no. of iterations reached limit" in line for line in lines)  # the reason
    assert any("iter    10" in line for line in lines)  # progress while it runs
    image = matplotlib.image.imread(tmp_path / "filters.png")
    assert image.ndim == 3 and min(image.shape[:2]) > 100
    assert (tmp_path / "sparse_autoencoder.npz").exists()


def test_bad_argument_gives_one_line_error(tmp_path, capsys):
    assert main(["sparse-patches", "--out", str(tmp_path), "--sparsity", "1.5", "--iterations", "1",
                 "--patches", "100"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: sparsity must be a number strictly between 0.0 and 1.0; got 1.5")


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "numpy_ae", "gradcheck", "--only", "ufldl_self_test", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["all_ok"] is True


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in ("gradcheck", "sparse-patches", "pca-demo", "mnist-sparse", "self-taught", "linear-decoder",
                 "deep-ae", "stacked", "denoising"):
        assert name in out


def test_gradcheck_unknown_name_is_a_clear_error(capsys):
    assert main(["gradcheck", "--only", "bogus", "ufldl_self_test"]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("error: no gradient check named 'bogus'; the registered checks are: ")
    assert "ufldl_self_test" in err and "sparse_autoencoder" in err and "Traceback" not in err
    assert "rel_diff" not in captured.out  # nothing ran


def test_gradcheck_prints_why_a_block_over_tol_is_not_a_bug(capsys, monkeypatch):
    import numpy as np

    from numpy_ae.check import gradcheck, registry

    registry.run_checks([])

    def truncated():  # sin at eps 1e-2: rel_diff ~1e-4 from truncation alone
        return gradcheck.check_function(lambda x: (float(np.sum(np.sin(x))), np.cos(x)), [0.3, 1.2], eps=1e-2)

    monkeypatch.setitem(registry.REGISTRY, "truncated", (truncated, 1e-9))
    assert main(["gradcheck", "--only", "truncated", "--json"]) == 0
    out = capsys.readouterr().out
    assert "finite-difference error (truncation), not a bug" in out and "falls like eps^2" in out
    assert "wrong gradient" not in out
    assert json.loads(out.strip().splitlines()[-1])["checks"][0]["verdicts"] == {"x": "fd_error"}


# ---------------------------------------------------------------- a reader that goes away, bad input paths
ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv", [["assignment", "list"], ["gradcheck", "--only", "ufldl_self_test"],
                                  ["pca-demo", "--out", "{tmp}"]])
def test_a_closed_stdout_ends_quietly_with_141(argv, tmp_path):
    """The reader is gone before the first line (``| head -1`` that already exited): every write fails.
    pca-demo prints its progress with flush=True: it stops at the first line, before drawing anything."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "numpy_ae", *[a.replace("{tmp}", str(tmp_path)) for a in argv]],
                              stdout=write, stderr=subprocess.PIPE, text=True, timeout=120, cwd=tmp_path,
                              env=dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg"))
    finally:
        os.close(write)
    assert proc.returncode == EXIT_BROKEN_PIPE == 141
    assert proc.stderr == ""  # no traceback, no "Exception ignored ... BrokenPipeError" at exit
    assert not (tmp_path / "pca_demo.png").exists()


def test_head_dash_1_reads_one_line_and_the_rest_is_quiet():
    proc = subprocess.run(f"{sys.executable} -m numpy_ae --help | head -1", shell=True, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0 and proc.stdout.startswith("usage: python -m numpy_ae") and proc.stderr == ""


def _csv(tmp_path):
    good = tmp_path / "series.csv"
    good.write_text("timestamp,value\n" + "".join(f"2020-01-01 00:{m:02d}:00,{m % 7}\n" for m in range(60)))
    return good


@pytest.mark.parametrize("bad, message", [
    ("{tmp}", "error: --train-csv '{tmp}': Is a directory"),
    ("{tmp}/series.csv/x", "error: --train-csv '{tmp}/series.csv/x': Not a directory"),
    ("{tmp}/binary.csv", "error: {tmp}/binary.csv: not a UTF-8 text file"),
])
def test_an_unreadable_input_path_is_one_line(tmp_path, capsys, bad, message):
    _csv(tmp_path)
    (tmp_path / "binary.csv").write_bytes(bytes(range(128, 256)))
    bad, message = bad.replace("{tmp}", str(tmp_path)), message.replace("{tmp}", str(tmp_path))
    assert main(["anomaly-timeseries", "--train-csv", bad, "--test-csv", str(tmp_path / "series.csv"),
                 "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_a_folder_given_as_a_model_file_is_one_line(tmp_path, capsys):
    assert main(["anomaly-timeseries", "--fast", "--model", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(tmp_path) in err and err.count("\n") == 1


@pytest.mark.parametrize("exc, line", [
    (PermissionError(13, "Permission denied", "{tmp}/in.csv"), "error: --train-csv '{tmp}/in.csv': Permission denied"),
    (IsADirectoryError(21, "Is a directory", "/elsewhere"), "error: '/elsewhere': Is a directory"),
    (NotADirectoryError(20, "Not a directory"), "error: [Errno 20] Not a directory"),
])
def test_os_errors_on_paths_are_one_line_naming_the_option(tmp_path, capsys, monkeypatch, exc, line):
    """As root no file is unreadable, so the command is made to raise what the OS would."""
    if exc.filename:
        exc.filename = exc.filename.replace("{tmp}", str(tmp_path))

    def raises(**kwargs):
        raise exc

    monkeypatch.setattr(anomaly_timeseries, "run", raises)
    assert main(["anomaly-timeseries", "--train-csv", f"{tmp_path}/in.csv", "--test-csv", "b.csv"]) == 2
    assert capsys.readouterr().err == line.replace("{tmp}", str(tmp_path)) + "\n"


@pytest.mark.skipif(getattr(os, "geteuid", lambda: 1)() == 0, reason="root reads any file")
def test_an_unreadable_csv_is_one_line(tmp_path, capsys):
    good = _csv(tmp_path)
    good.chmod(0)
    assert main(["anomaly-timeseries", "--train-csv", str(good), "--test-csv", str(good), "--quiet"]) == 2
    assert capsys.readouterr().err == f"error: --train-csv {str(good)!r}: Permission denied\n"


@pytest.mark.parametrize("bug", [TypeError("unsupported operand"), KeyError("n_hidden"), AttributeError("W")])
def test_a_bug_still_shows_its_traceback(monkeypatch, bug):
    def raises(**kwargs):
        raise bug

    monkeypatch.setattr(anomaly_timeseries, "run", raises)
    with pytest.raises(type(bug)):
        main(["anomaly-timeseries", "--fast"])
