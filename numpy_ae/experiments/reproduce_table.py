r"""The results table of ``python -m numpy_ae reproduce``: records in, Markdown and JSON out.

A *record* is what the command keeps of one experiment's run (see
:func:`numpy_ae.experiments.reproduce.run_experiment`):

``name``, ``status``
    the command's name, and ``"ok"`` or why not (:data:`STATUSES`);
``reason``
    a sentence when ``status`` is not ``"ok"`` (the last line of its stderr, the claims' problems...);
``command``
    the command line, as a list of strings;
``seconds``, ``cpu_seconds``
    its wall time, and the CPU time of its process (user + system, None where the platform has no
    ``resource`` module): the wall time grows when the machine is shared or the process is paused,
    the CPU time much less;
``result``
    its ``--json`` result (the figures), or None;
``claims``
    the ``"claims"`` list of that result (:mod:`numpy_ae.experiments.claims`), ``[]`` when it has none;
``files``
    the files it wrote into its ``--out`` folder, relative to the table's folder;
``log``
    its stdout and stderr, the file names relative to the table's folder;
``git_commit``, ``date``
    the commit and date of the run that made it (a table kept with ``--keep`` mixes runs).

:func:`table_rows` turns records into the rows of the table, one per claim
(and one for an experiment with no usable claims, which says why);
:func:`write_results` writes ``results.md`` and ``results.json``.
"""
from __future__ import annotations

import json
import os

__all__ = ["STATUSES", "MODES", "COLUMNS", "table_rows", "summary", "markdown", "write_results"]

#: ``"ok"``: it ran and gave well-formed claims; every other status makes ``reproduce`` exit 1.
STATUSES = {"ok": "ran, claims collected", "failed": "the command exited with an error",
            "no-json": "its last line of output is not a JSON object",
            "no-claims": "its result has no claims (or an empty list)",
            "bad-claims": "its claims are malformed"}

MODES = {"quick": "small data: each experiment's fast settings", "full": "each experiment at its documented defaults"}

COLUMNS = ("experiment", "claim", "ours", "baseline", "published (source)", "holds")


def _fmt(value):
    """A number for the table: 4 significant digits; '' for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


def _cell(text):
    """Text that cannot break a Markdown table row."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def table_rows(records):
    """The table: a list of dicts with the keys of :data:`COLUMNS` (cells as strings), in record order.

    An experiment whose status is not ``"ok"`` gets one row saying so (``holds``: its status in capitals),
    never none; its claims, if it gave some before the problem, follow.
    """
    rows = []
    for rec in records:
        if rec["status"] != "ok":
            rows.append({"experiment": rec["name"], "claim": f"{rec['status'].upper()}: {rec.get('reason') or ''}",
                         "ours": "", "baseline": "", "published (source)": "", "holds": rec["status"].upper()})
        for c in rec["claims"] if rec["status"] in ("ok", "bad-claims") else []:
            if not isinstance(c, dict):
                continue
            published = _fmt(c.get("published"))
            source = c.get("source")
            rows.append({"experiment": rec["name"], "claim": str(c.get("claim", "")), "ours": _fmt(c.get("ours")),
                         "baseline": _fmt(c.get("baseline")),
                         "published (source)": f"{published} ({source})" if published and source
                         else published or (f"({source})" if source else ""),
                         "holds": _fmt(c.get("holds")) if isinstance(c.get("holds"), bool) else "?"})
    return rows


def summary(records):
    """Counts: experiments run, ok and not, claims and how many hold."""
    claims = [c for r in records if r["status"] == "ok" for c in r["claims"]]
    return {"experiments": len(records), "ok": sum(r["status"] == "ok" for r in records),
            "not_ok": [r["name"] for r in records if r["status"] != "ok"], "claims": len(claims),
            "claims_holding": sum(bool(c["holds"]) for c in claims),
            "claims_not_holding": [f"{r['name']}: {c['claim']}" for r in records if r["status"] == "ok"
                                   for c in r["claims"] if not c["holds"]]}


def _seconds(value):
    return "" if value is None else f"{value:.1f}"


def markdown(header, records):
    """The Markdown text of ``results.md``: the header, the claims table, the runs (status, times, command)."""
    s = summary(records)
    total = header.get("total_seconds")
    lines = [f"# numpy_ae reproduce: {header['mode']} run", "",
             f"- numpy_ae {header['version']}, git commit {header.get('git_commit') or 'unknown'}"
             + (" (with uncommitted changes)" if header.get("git_dirty") else "")]
    by_commit = {}
    for rec in records:
        by_commit.setdefault(rec.get("git_commit") or "unknown", []).append(rec["name"])
    if len(by_commit) > 1:  # a table kept with --keep: which experiment ran at which commit
        lines.append("- the experiments ran at several commits: " + "; ".join(
            f"{c[:7]} ({', '.join(names)})" for c, names in by_commit.items()))
    lines += [
        f"- date {header['date']}; machine {header['machine']}, {header['cores']} cores; "
        f"Python {header['python']}, NumPy {header['numpy']}",
        f"- mode: {header['mode']} ({MODES.get(header['mode'], '')})",
        f"- total wall time {_seconds(total)} s (CPU {_seconds(header.get('total_cpu_seconds'))} s); "
        f"wall times include any time the machine spent on other work",
        f"- {s['ok']} of {s['experiments']} experiments ran and gave claims"
        + (f"; NOT OK: {', '.join(s['not_ok'])}" if s["not_ok"] else "")
        + f"; {s['claims_holding']} of {s['claims']} claims hold", "",
        "## Claims", "",
        "| " + " | ".join(COLUMNS) + " |", "|" + "|".join(["---"] * len(COLUMNS)) + "|"]
    for row in table_rows(records):
        lines.append("| " + " | ".join(_cell(row[c]) for c in COLUMNS) + " |")
    lines += ["", "## Runs", "", "| experiment | status | wall s | CPU s | command |", "|---|---|---|---|---|"]
    for rec in records:
        lines.append(f"| {rec['name']} | {rec['status']} | {_seconds(rec.get('seconds'))} | "
                     f"{_seconds(rec.get('cpu_seconds'))} | `{_cell(' '.join(rec['command']))}` |")
    lines += ["", "Each experiment's figures (its whole `--json` result) and the files it wrote are in "
              "`results.json`; its output is in `logs/`."]
    return "\n".join(lines) + "\n"


def write_results(out, header, records):
    """Write ``results.md`` and ``results.json`` into the folder ``out`` (made if missing); return both paths."""
    os.makedirs(out, exist_ok=True)
    md, js = os.path.join(out, "results.md"), os.path.join(out, "results.json")
    with open(md, "w", encoding="utf-8") as f:
        f.write(markdown(header, records))
    doc = {"header": header, "summary": summary(records), "columns": list(COLUMNS), "rows": table_rows(records),
           "experiments": records}
    with open(js, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, default=str)
        f.write("\n")
    return md, js
