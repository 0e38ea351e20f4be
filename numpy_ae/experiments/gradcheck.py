"""``python -m numpy_ae gradcheck``: run every registered numerical gradient check (:mod:`numpy_ae.check`)."""
from __future__ import annotations

import json

from ..check.registry import run_checks
from .registry import command


@command("gradcheck", "run every registered numerical gradient check")
def cmd_gradcheck(args):
    results = run_checks(args.only or None)  # ValueError listing the valid names for an unknown one
    width = max(len(r.name) for r in results)
    print(f"{'check':<{width}}  {'rel_diff':>10}  {'tol':>7}  ok")
    for r in results:
        status = "NO" if not r.ok else "yes" if r.conclusive else "yes (inconclusive block)"
        print(f"{r.name:<{width}}  {r.rel_diff:10.3e}  {r.tol:7.0e}  {status}")
    failed = [r for r in results if not r.ok]
    for r in results:  # why: a failure, or a block over tol that the checker explained or could not judge
        if not r.ok or any(v.verdict != "ok" and r.blocks[k] >= r.tol for k, v in r.verdicts.items()):
            print("\n" + r.report())
    all_ok = not failed
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if args.json:
        print(json.dumps({"checks": [r.to_dict() for r in results], "all_ok": all_ok}))
    return 0 if all_ok else 1


def _configure_gradcheck(p):
    p.add_argument("--only", nargs="*", help="names of the checks to run (default: all)")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


cmd_gradcheck.configure = _configure_gradcheck
