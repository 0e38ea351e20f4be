r"""``python -m numpy_ae reproduce``: every headline experiment at its documented defaults, one results table.

Runs each experiment of :data:`EXPERIMENTS` (all of them, or those ``--only``
names) as its own process, ``python -m numpy_ae <name> --json --quiet --out
<out>/<name>``, one after the other, and reads the last line of its output:
the JSON result (:func:`numpy_ae.experiments.registry.emit`), whose
``"claims"`` list (:mod:`numpy_ae.experiments.claims`) compares what it
measured with the baseline it ran beside it and, where one exists, a
published figure. Why processes and not calls in this one: an experiment that
crashes, or leaves threads, warnings filters or memory behind, cannot touch
the next one, and the JSON line is the contract the experiments already keep
for scripts and tests; the price is a second or two of start-up each.

``--quick`` runs the same commands with each one's own small settings
(:data:`EXPERIMENTS`: fewer images, epochs or iterations; ``--fast`` where a
command has it): the same code on small data, for a check in minutes. Its
figures are not the documented results; its claims often do not hold.

Writes into ``--out`` (default ``out/reproduce``): ``results.md`` (a header:
numpy_ae version, git commit, date, machine and cores, quick or full, the
total time; the table: experiment, claim, ours, baseline, published figure
and its source, holds; then each experiment's status, wall and CPU seconds
and command), ``results.json`` (the same, plus each experiment's whole
result and the files it wrote), ``<name>/`` (each experiment's figures) and
``logs/<name>.out``, ``.err`` (its output). See
:mod:`numpy_ae.experiments.reproduce_table`.

``--keep`` keeps the records already in ``--out/results.json`` for the
experiments this run does not run (a long full table re-run one experiment at a
time, or after one experiment changed): the table then covers them all, each
record naming the commit and date it ran at, the header listing the commits
when there are several, and the total times are the sums of the experiments'.
A kept table of the other mode (quick against full) is refused.

Exit status: 0 when every experiment ran and gave well-formed claims (whether
or not they hold: the table says); 1 when one failed, printed no JSON or gave
no claims: it is listed in the table as such, and the table is written
first. 2 for a bad option (an unknown ``--only`` name).
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

from .. import __version__
from .claims import claim_problems
from .registry import add_output, command, emit
from .reproduce_table import markdown, summary, write_results

try:  # POSIX: the CPU time of each child process
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None

__all__ = ["EXPERIMENTS", "select", "command_line", "run_experiment", "header", "kept_records", "reproduce"]

#: name -> (arguments of the full run: the documented defaults, so none; arguments of ``--quick``). In the order
#: of docs/results.md.
EXPERIMENTS = {
    "sparse-patches": ((), ("--patches", "2000", "--iterations", "60")),
    "mnist-sparse": ((), ("--examples", "1000", "--iterations", "40")),
    "self-taught": ((), ("--unlabelled", "1000", "--iterations", "40", "--softmax-iterations", "50")),
    "linear-decoder": ((), ("--patches", "2000", "--iterations", "40")),
    "pca-demo": ((), ()),
    "deep-ae": ((), ("--examples", "5000", "--epochs", "2")),
    "stacked": ((), ("--examples", "1000", "--iterations", "30", "--softmax-iterations", "30")),
    "denoising": ((), ("--examples", "2000", "--epochs", "5")),
    "vae": ((), ("--examples", "2000", "--epochs", "2")),
    "denoise-images": ((), ("--n-train", "1000", "--n-val", "200", "--n-test", "500", "--dense-epochs", "2")),
    "regularized": ((), ("--n-train", "2000", "--n-test", "500", "--epochs", "3", "--jacobian-examples", "10",
                         "--classifier-iter", "50")),
    "anomaly-timeseries": (("--kind", "all"), ("--fast", "--kind", "all")),  # the claims are over the five kinds
    "anomaly-images": ((), ("--n-train", "2000", "--epochs", "1", "--classes", "1,8")),
    "aae": ((), ("--n-train", "1000", "--n-test", "500", "--epochs", "1")),
    "gsn": ((), ("--examples", "1000", "--epochs", "1", "--samples", "100", "--chains", "20", "--burn-in", "20",
                 "--thin", "5", "--clf-epochs", "1")),
}


def select(only=None):
    """The experiments to run, in :data:`EXPERIMENTS` order: all, or those ``only`` names.

    ``only``: None, or a list of strings, each a name or a comma-separated list of names (``--only`` given
    several times). A ValueError names every unknown name and lists the valid ones.
    """
    if not only:
        return list(EXPERIMENTS)
    asked = [n.strip() for item in only for n in str(item).split(",")]
    unknown = [n for n in asked if n not in EXPERIMENTS]
    if unknown:
        raise ValueError(f"--only must name experiments of the reproduce table (comma-separated or repeated); got "
                         f"{', '.join(repr(n) for n in unknown)}; valid names: {', '.join(EXPERIMENTS)}")
    return [n for n in EXPERIMENTS if n in asked]


def command_line(name, quick, out):
    """The command that runs experiment ``name``: a list for :class:`subprocess.Popen`."""
    full, fast = EXPERIMENTS[name]
    return [sys.executable, "-m", "numpy_ae", name, *(fast if quick else full), "--json", "--quiet",
            "--out", os.path.join(out, name)]


def _child_env():
    """This environment, with this copy of numpy_ae first on the path and a non-interactive matplotlib."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _cpu():
    if resource is None:
        return None
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _last_json(path):
    """The last non-empty line of the file ``path`` as a JSON object, or None."""
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    if not lines:
        return None
    try:
        value = json.loads(lines[-1])
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _last_line(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [line.strip() for line in f.read().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _files(folder, top):
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.relpath(os.path.join(d, f), top) for d, _, fs in os.walk(folder) for f in fs)


def run_experiment(name, quick, out):
    """Run one experiment in its own process; return its record (see :mod:`numpy_ae.experiments.reproduce_table`)."""
    cmd = command_line(name, quick, out)
    logs = os.path.join(out, "logs")
    os.makedirs(logs, exist_ok=True)
    out_log, err_log = os.path.join(logs, f"{name}.out"), os.path.join(logs, f"{name}.err")
    cpu0, start = _cpu(), time.perf_counter()
    with open(out_log, "w", encoding="utf-8") as fo, open(err_log, "w", encoding="utf-8") as fe:
        code = subprocess.call(cmd, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL, env=_child_env())
    seconds, cpu1 = time.perf_counter() - start, _cpu()
    result = _last_json(out_log)
    claims = result.get("claims") if result is not None else None
    if code != 0:
        status, reason = "failed", f"exit status {code}: {_last_line(err_log) or 'no message on stderr'}"
    elif result is None:
        status, reason = "no-json", f"the last line of {os.path.relpath(out_log, out)} is not a JSON object"
    else:
        problems = claim_problems(claims)
        status = "ok" if not problems else ("no-claims" if not claims else "bad-claims")
        reason = "; ".join(problems) or None
    return {"name": name, "status": status, "reason": reason, "returncode": code,
            "command": ["python", "-m", "numpy_ae", *cmd[3:]], "seconds": seconds,
            "cpu_seconds": None if cpu0 is None else cpu1 - cpu0,
            "result": None if result is None else {k: v for k, v in result.items() if k != "claims"},
            "claims": claims if isinstance(claims, list) else [], "files": _files(os.path.join(out, name), out),
            "log": [os.path.relpath(out_log, out), os.path.relpath(err_log, out)]}


def _git(*args):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        done = subprocess.run(["git", "-C", root, *args], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def header(quick):
    """The table's header: version, git commit (None outside a git checkout), date, machine, cores, mode."""
    commit = _git("rev-parse", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"version": __version__, "git_commit": commit, "git_dirty": bool(dirty),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.node() or 'unknown'} ({platform.platform()})", "cores": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__, "mode": "quick" if quick else "full"}


def kept_records(out, quick, names):
    """The records of ``out/results.json`` for experiments not in ``names`` (``--keep``), in table order.

    ``[]`` when there is no such file. A ValueError when it is not a results table, or one of the other mode.
    """
    path = os.path.join(out, "results.json")
    if not os.path.exists(path):
        return []
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        mode, old = doc["header"]["mode"], doc["experiments"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"--keep: {path} is not a reproduce results table ({exc})") from None
    want = "quick" if quick else "full"
    if mode != want:
        raise ValueError(f"--keep: the table in {path} is from a {mode} run; this is a {want} run (use another --out)")
    for rec in old:  # records written before records carried their commit: the table's own
        rec.setdefault("git_commit", doc["header"].get("git_commit"))
        rec.setdefault("date", doc["header"].get("date"))
    return [rec for rec in old if rec.get("name") in EXPERIMENTS and rec["name"] not in names]


def _in_table_order(records):
    order = list(EXPERIMENTS)
    return sorted(records, key=lambda r: order.index(r["name"]) if r["name"] in order else len(order))


def reproduce(names, quick=False, out="out/reproduce", runner=None, verbose=True, keep=False):
    """Run ``names`` (see :func:`select`) with ``runner(name, quick, out)``, write the table; return ``(header, records)``.

    ``runner`` returns a record (:mod:`numpy_ae.experiments.reproduce_table`); None: :func:`run_experiment`.
    Each record gets the ``git_commit`` and ``date`` of this run. ``keep``: keep the other experiments' records
    already in ``out`` (:func:`kept_records`). The table is rewritten after every experiment, so a run stopped
    half-way leaves what it had.
    """
    runner = run_experiment if runner is None else runner
    kept = kept_records(out, quick, names) if keep else []
    head, records = header(quick), []
    for i, name in enumerate(names, 1):
        if verbose:
            print(f"[{i}/{len(names)}] {name}{' (quick)' if quick else ''} ...", flush=True)
        rec = runner(name, quick, out)
        rec.update(git_commit=head["git_commit"], date=head["date"])
        records.append(rec)
        table = _in_table_order(kept + records)
        cpu = [r.get("cpu_seconds") for r in table]
        head.update(total_seconds=float(sum(r["seconds"] for r in table)),
                    total_cpu_seconds=None if None in cpu else float(sum(cpu)),
                    seconds={r["name"]: r["seconds"] for r in table},
                    commits=sorted({r.get("git_commit") or "unknown" for r in table}))
        write_results(out, head, table)
        if verbose:
            held = sum(bool(c.get("holds")) for c in rec["claims"] if isinstance(c, dict))
            print(f"    {rec['status']} in {rec['seconds']:.1f} s: {held} of {len(rec['claims'])} claims hold"
                  + (f" ({rec['reason']})" if rec["status"] != "ok" else ""), flush=True)
    if not records:
        write_results(out, head, kept)
    return head, _in_table_order(kept + records)


@command("reproduce", "every headline experiment at its documented defaults (or --quick: small data), one results "
                      "table: ours, the baseline, the published figure, whether each claim holds")
def cmd_reproduce(args):
    names = select(args.only)  # a bad name fails here, before anything runs
    try:
        head, records = reproduce(names, quick=args.quick, out=args.out, keep=args.keep)
    except ValueError as exc:  # a --keep table of the other mode: nothing ran
        raise SystemExit(f"reproduce: error: {exc}") from None
    s = summary(records)
    emit(args, {"header": head, "summary": s, "results": os.path.join(args.out, "results.md"),
                "experiments": [{k: r[k] for k in ("name", "status", "reason", "seconds", "claims")}
                                for r in records]},
         markdown(head, records) + f"wrote {os.path.join(args.out, 'results.md')} and results.json")
    return 0 if not s["not_ok"] else 1


def _configure(p):
    p.add_argument("--quick", action="store_true",
                   help="the same experiments on small data (each one's fast settings): minutes, not hours")
    p.add_argument("--only", action="append", default=None, metavar="NAME",
                   help=f"run only these experiments (repeat, or comma-separate): {', '.join(EXPERIMENTS)}")
    add_output(p, "--out", kind="folder", default="out/reproduce",
               help="folder for results.md, results.json, each experiment's figures and logs "
                    "(default: out/reproduce)")
    p.add_argument("--keep", action="store_true",
                   help="keep the results already in --out for the experiments not run now (with --only: re-run "
                        "some of a table); each row says its commit")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_reproduce.configure = _configure
