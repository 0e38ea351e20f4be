"""The command line: gradcheck's table and JSON, sparse-patches' files and JSON, errors."""
import json
import subprocess
import sys

import matplotlib.image

from numpy_ae.cli import main


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
    assert set(result) == {"cost", "mean_activation", "seconds", "iterations", "converged", "message", "n_patches",
                           "n_hidden"}
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
    import pytest

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
