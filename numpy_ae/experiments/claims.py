r"""The ``"claims"`` an experiment's ``--json`` result carries, and their check.

Each experiment compares what it measured with the baseline it ran beside it
and, where one exists, a published figure; ``python -m numpy_ae reproduce``
(:mod:`numpy_ae.experiments.reproduce`) collects these lists into one table.
A claim is a dict:

==============  ===========================================================================
``claim``       one sentence a README could state
``holds``       bool: the comparison, computed from the run (never written in by hand)
``ours``        float: the figure of this run the sentence is about
``baseline``    float or None: the same figure of the baseline run beside it
``published``   float or None: a published or peer figure on the same quantity
``source``      str or None: where ``published`` (or the claim) comes from
==============  ===========================================================================

A published figure is often measured on other data or at another size (full
MNIST where we train on a subset): the claim's sentence says what is compared,
and ``holds`` never depends on a figure that is not comparable.
"""
from __future__ import annotations

import math
import numbers

__all__ = ["CLAIM_KEYS", "claim", "claim_problems"]

CLAIM_KEYS = ("claim", "holds", "ours", "baseline", "published", "source")


def _number(value, name):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number or None; got {value!r}")
    return float(value)


def claim(text, holds, ours, baseline=None, published=None, source=None):
    """One claim (see the module docstring), its numbers as Python floats, ``holds`` as a bool.

    Parameters
    ----------
    text : str
        The sentence.
    holds : bool
        The computed comparison (a NumPy boolean is converted).
    ours, baseline, published : float or None
        ``ours`` is required.
    source : str or None
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"text must be a non-empty sentence; got {text!r}")
    if ours is None:
        raise ValueError("ours must be a real number (the figure the claim is about); got None")
    return {"claim": text, "holds": bool(holds), "ours": _number(ours, "ours"),
            "baseline": _number(baseline, "baseline"), "published": _number(published, "published"),
            "source": None if source is None else str(source)}


def claim_problems(claims):
    """What is wrong with a ``"claims"`` value read from a result: a list of sentences, empty when it is fine.

    A missing (None) or empty list is a problem: an experiment of the reproduce table must claim something.
    """
    if claims is None:
        return ["the result has no \"claims\" list"]
    if not isinstance(claims, list):
        return [f"\"claims\" must be a list; got {type(claims).__name__}"]
    if not claims:
        return ["the \"claims\" list is empty"]
    problems = []
    for i, c in enumerate(claims):
        if not isinstance(c, dict):
            problems.append(f"claim {i} is not an object: {c!r}")
            continue
        missing = [k for k in CLAIM_KEYS if k not in c]
        if missing:
            problems.append(f"claim {i} lacks {', '.join(missing)}")
            continue
        if not isinstance(c["claim"], str) or not c["claim"].strip():
            problems.append(f"claim {i}: \"claim\" must be a non-empty sentence; got {c['claim']!r}")
        if not isinstance(c["holds"], bool):
            problems.append(f"claim {i}: \"holds\" must be true or false; got {c['holds']!r}")
        for key in ("ours", "baseline", "published"):
            v = c[key]
            ok = (v is None and key != "ours") or (isinstance(v, (int, float)) and not isinstance(v, bool))
            if not ok or (isinstance(v, float) and math.isnan(v)):
                problems.append(f"claim {i}: {key!r} must be a number{'' if key == 'ours' else ' or null'}; "
                                f"got {v!r}")
        if c["source"] is not None and not isinstance(c["source"], str):
            problems.append(f"claim {i}: \"source\" must be a string or null; got {c['source']!r}")
    return problems
