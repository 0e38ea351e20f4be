"""``python -m numpy_ae reproduce`` (numpy_ae.experiments.reproduce, reproduce_table, claims).

The table writer and the collection of claims run on fake records (no training); name validation and
the refusal of a bad option need no data; a failing experiment is a real child process refused by its
own option check (about a second); one real ``reproduce --quick --only pca-demo`` runs the 3-2-3 linear
autoencoder in a child process (no data set; 2 to 4 s). All of it takes about 10 s.
"""
import json

import numpy as np
import pytest

from numpy_ae.cli import build_parser, main
from numpy_ae.experiments import reproduce as rep
from numpy_ae.experiments.claims import CLAIM_KEYS, claim, claim_problems
from numpy_ae.experiments.registry import COMMANDS
from numpy_ae.experiments.reproduce_table import COLUMNS, markdown, summary, table_rows, write_results


def fake_record(name, status="ok", claims=(), reason=None):
    return {"name": name, "status": status, "reason": reason, "returncode": 0 if status != "failed" else 1,
            "command": ["python", "-m", "numpy_ae", name, "--json"], "seconds": 1.5, "cpu_seconds": 1.25,
            "result": {"figure": 0.5}, "claims": list(claims), "files": [f"{name}/a.png"],
            "log": [f"logs/{name}.out", f"logs/{name}.err"]}


HOLDS = claim("Ours beats the baseline", True, 0.25, 0.5, 0.2, "Someone et al. 2020")
FAILS = claim("Ours | the pipe beats the baseline", False, 0.75, 0.5)


# ------------------------------------------------------------------ claims

def test_claim_converts_numpy_figures_and_checks_its_arguments():
    c = claim("x", np.bool_(True), np.float32(0.5), np.int64(2))
    assert tuple(c) == CLAIM_KEYS and c["holds"] is True and type(c["ours"]) is float and c["baseline"] == 2.0
    json.dumps(c)  # plain Python values
    with pytest.raises(ValueError, match="ours must be a real number"):
        claim("x", True, None)
    with pytest.raises(ValueError, match="text must be a non-empty sentence"):
        claim(" ", True, 1.0)
    with pytest.raises(ValueError, match="baseline must be a real number or None; got 'a'"):
        claim("x", True, 1.0, "a")


@pytest.mark.parametrize("claims, problem", [
    (None, "no \"claims\" list"), ([], "empty"), ({"claim": "x"}, "must be a list"),
    (["x"], "not an object"), ([{"claim": "x", "holds": True}], "lacks ours, baseline, published, source"),
    ([dict(HOLDS, holds="yes")], "\"holds\" must be true or false"),
    ([dict(HOLDS, ours=None)], "'ours' must be a number; got None"),
    ([dict(HOLDS, ours=float("nan"))], "'ours' must be a number"),
    ([dict(HOLDS, published="98%")], "'published' must be a number or null")])
def test_claim_problems_names_what_is_wrong(claims, problem):
    problems = claim_problems(claims)
    assert problems and problem in "; ".join(problems)


def test_well_formed_claims_have_no_problems():
    assert claim_problems([HOLDS, FAILS]) == []


# ------------------------------------------------------------------ names

def test_select_keeps_the_table_order_and_accepts_commas_and_repeats():
    assert rep.select(None) == list(rep.EXPERIMENTS) and rep.select([]) == list(rep.EXPERIMENTS)
    assert rep.select(["vae,deep-ae"]) == ["deep-ae", "vae"]
    assert rep.select(["gsn", " aae ", "gsn"]) == ["aae", "gsn"]


def test_select_refuses_unknown_names_and_lists_the_valid_ones():
    with pytest.raises(ValueError) as info:
        rep.select(["vae,nope", "deep_ae"])
    text = str(info.value)
    assert text.startswith("--only must name experiments") and "'nope', 'deep_ae'" in text
    assert "valid names: " + ", ".join(rep.EXPERIMENTS) in text


def test_the_cli_refuses_a_bad_name_before_running_anything(tmp_path, capsys):
    assert main(["reproduce", "--only", "sparse", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --only must name experiments") and "'sparse'" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("quick", [False, True], ids=["full", "quick"])
def test_every_experiment_is_a_command_whose_options_parse(quick, tmp_path):
    """The table's commands exist and accept their arguments (an option renamed in an experiment fails here)."""
    parser = build_parser()
    for name in rep.EXPERIMENTS:
        assert name in COMMANDS, name
        cmd = rep.command_line(name, quick, str(tmp_path))
        assert cmd[1:4] == ["-m", "numpy_ae", name] and cmd[-2:] == ["--out", str(tmp_path / name)]
        args = parser.parse_args(cmd[3:])
        assert args.json and args.quiet and args.command == name


# ------------------------------------------------------------------ the table

def test_rows_one_per_claim_and_one_for_each_experiment_that_did_not_give_claims():
    records = [fake_record("a", claims=[HOLDS, FAILS]),
               fake_record("b", status="failed", reason="exit status 1: boom"),
               fake_record("c", status="no-claims", reason="the result has no \"claims\" list")]
    rows = table_rows(records)
    assert [r["experiment"] for r in rows] == ["a", "a", "b", "c"] and all(tuple(r) == COLUMNS for r in rows)
    assert rows[0] == {"experiment": "a", "claim": "Ours beats the baseline", "ours": "0.25", "baseline": "0.5",
                       "published (source)": "0.2 (Someone et al. 2020)", "holds": "yes"}
    assert (rows[1]["holds"], rows[1]["published (source)"]) == ("no", "")
    assert rows[2]["holds"] == "FAILED" and "boom" in rows[2]["claim"]
    assert rows[3]["holds"] == "NO-CLAIMS"
    s = summary(records)
    assert (s["experiments"], s["ok"], s["not_ok"], s["claims"], s["claims_holding"]) == (3, 1, ["b", "c"], 2, 1)
    assert s["claims_not_holding"] == ["a: Ours | the pipe beats the baseline"]


def test_markdown_has_the_header_the_table_and_the_runs(tmp_path):
    head = rep.header(quick=True)
    head.update(total_seconds=3.0, total_cpu_seconds=2.5)
    records = [fake_record("a", claims=[HOLDS, FAILS]), fake_record("b", status="failed", reason="boom")]
    text = markdown(head, records)
    assert text.startswith("# numpy_ae reproduce: quick run")
    for part in (f"numpy_ae {head['version']}", f"{head['cores']} cores", head["date"], "total wall time 3.0 s",
                 "1 of 2 experiments ran and gave claims; NOT OK: b", "1 of 2 claims hold",
                 "| " + " | ".join(COLUMNS) + " |", "| a | Ours \\| the pipe beats the baseline | 0.75 | 0.5 |  | no |",
                 "| b | FAILED: boom |", "| a | ok | 1.5 | 1.2 | `python -m numpy_ae a --json` |"):
        assert part in text, part
    # every table row has as many cells as the header: the '|' inside a claim is escaped
    table = [line for line in text.splitlines() if line.startswith("| a |") or line.startswith("| b |")][:3]
    assert all(line.replace("\\|", "").count("|") == len(COLUMNS) + 1 for line in table)
    md, js = write_results(str(tmp_path / "new"), head, records)
    assert open(md).read() == text
    doc = json.load(open(js))
    assert doc["columns"] == list(COLUMNS) and doc["summary"]["not_ok"] == ["b"]
    assert doc["experiments"][0]["result"] == {"figure": 0.5} and doc["header"]["mode"] == "quick"


def test_header_says_what_ran_where():
    head = rep.header(quick=False)
    assert head["mode"] == "full" and head["cores"] >= 1 and head["date"].endswith("UTC")
    assert head["git_commit"] is None or len(head["git_commit"]) == 40


def test_a_failed_experiment_is_listed_and_the_exit_status_is_1(tmp_path, monkeypatch, capsys):
    seen = []

    def runner(name, quick, out):
        seen.append((name, quick))
        if name == "vae":
            return fake_record(name, status="failed", reason="exit status 1: Traceback ... MemoryError")
        return fake_record(name, claims=[HOLDS])

    monkeypatch.setattr(rep, "run_experiment", runner)
    assert main(["reproduce", "--quick", "--only", "deep-ae,vae", "--only", "aae", "--out", str(tmp_path)]) == 1
    assert seen == [("deep-ae", True), ("vae", True), ("aae", True)]  # the others still ran after the failure
    text = (tmp_path / "results.md").read_text()
    assert "| vae | FAILED: exit status 1: Traceback ... MemoryError |" in text and "NOT OK: vae" in text
    assert text.count("| Ours beats the baseline |") == 2
    assert main(["reproduce", "--only", "deep-ae", "--out", str(tmp_path), "--json"]) == 0  # all ok: 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last["summary"]["not_ok"] == [] and last["header"]["mode"] == "full"


def test_a_real_child_that_fails_is_recorded_with_its_error(tmp_path, monkeypatch):
    monkeypatch.setitem(rep.EXPERIMENTS, "pca-demo", ((), ("--n", "1")))  # pca-demo refuses --n 1: exit 2
    head, (rec,) = rep.reproduce(["pca-demo"], quick=True, out=str(tmp_path), verbose=False)
    assert rec["status"] == "failed" and rec["returncode"] == 2 and rec["reason"].startswith("exit status 2: error:")
    assert rec["claims"] == [] and rec["result"] is None
    assert (tmp_path / "logs" / "pca-demo.err").read_text().startswith("error:")
    assert "| pca-demo | FAILED: exit status 2: error:" in (tmp_path / "results.md").read_text()


def test_quick_run_of_one_experiment_end_to_end(tmp_path, capsys):
    assert main(["reproduce", "--quick", "--only", "pca-demo", "--out", str(tmp_path), "--json"]) == 0
    out = capsys.readouterr().out
    last = json.loads(out.strip().splitlines()[-1])
    assert last["summary"]["ok"] == 1 and last["header"]["mode"] == "quick"
    doc = json.loads((tmp_path / "results.json").read_text())
    (rec,) = doc["experiments"]
    assert rec["status"] == "ok" and rec["seconds"] > 0 and "pca-demo/pca_demo.png" in rec["files"]
    assert rec["command"][:4] == ["python", "-m", "numpy_ae", "pca-demo"]
    # the claims are the child's own, computed from its figures: at the defaults both hold
    angle, excess = rec["claims"]
    assert angle["ours"] == rec["result"]["max_principal_angle"] and angle["holds"]
    assert (excess["ours"], excess["baseline"]) == (rec["result"]["recon_mse"], rec["result"]["pca_recon_mse"])
    text = (tmp_path / "results.md").read_text()
    assert "| pca-demo | The 3-2-3 linear autoencoder learns PCA's plane" in text and "2 of 2 claims hold" in text
    assert (tmp_path / "logs" / "pca-demo.out").read_text().strip().splitlines()[-1].startswith("{")


def test_keep_re_runs_some_experiments_of_a_table_and_keeps_the_others(tmp_path, monkeypatch):
    runs = []

    def runner(name, quick, out):
        runs.append(name)
        return fake_record(name, claims=[HOLDS if len(runs) <= 2 else FAILS])

    out = str(tmp_path)
    rep.reproduce(["deep-ae", "vae"], out=out, runner=runner, verbose=False)
    first = json.load(open(tmp_path / "results.json"))["experiments"]
    real_header = rep.header  # the second run as if at another commit
    monkeypatch.setattr(rep, "header", lambda quick: {**real_header(quick), "git_commit": "f" * 40})
    head, records = rep.reproduce(["aae", "deep-ae"], out=out, runner=runner, verbose=False, keep=True)
    assert runs == ["deep-ae", "vae", "aae", "deep-ae"]
    assert [r["name"] for r in records] == ["deep-ae", "vae", "aae"]  # table order; vae kept, deep-ae re-run
    vae = records[1]
    assert vae["claims"] == first[1]["claims"] and vae["git_commit"] == first[1]["git_commit"]
    assert records[0]["claims"] == [FAILS] and records[0]["git_commit"] == "f" * 40
    assert head["total_seconds"] == pytest.approx(3 * 1.5) and head["total_cpu_seconds"] == pytest.approx(3 * 1.25)
    text = (tmp_path / "results.md").read_text()
    if first[1]["git_commit"] != "f" * 40:  # a table of two commits says which experiment ran at which
        assert "fffffff (deep-ae, aae)" in text and "several commits" in text
    doc = json.load(open(tmp_path / "results.json"))
    assert [r["name"] for r in doc["experiments"]] == ["deep-ae", "vae", "aae"]
    # without --keep the table holds this run only; a kept table of the other mode is refused
    _, records = rep.reproduce(["aae"], out=out, runner=runner, verbose=False)
    assert [r["name"] for r in records] == ["aae"]
    with pytest.raises(ValueError, match="from a full run; this is a quick run"):
        rep.reproduce(["aae"], quick=True, out=out, runner=runner, verbose=False, keep=True)
    assert runs[-1] == "aae" and len(runs) == 5  # refused before anything ran
