"""A call as the student writes it (`Action: <API>` + `Action Input: <JSON>`): parse one, compare two.

The comparison is the evaluation's (STE paper): values equal after `str(v).strip().lower()`, numbers
compared as numbers ("5.0" == 5), containers item by item.
"""
from __future__ import annotations

import math
from typing import Any

from ste.core.react import ACTION_LINE, parse_step


def parse_call(reply: str) -> tuple[str | None, dict | None]:
    """The (API name, arguments) a reply calls, or (None, None) when it is not a well-formed call.

    Any name on the Action line is accepted here: a call to an API that does not exist is still
    well-formed (it fails API match instead).
    """
    m = ACTION_LINE.search(reply or "")
    name = reply[m.end():].split("\n", 1)[0].strip().strip("`'\"*").strip() if m else ""
    step = parse_step(reply or "", [name] if name else [])
    return (step.action, step.action_input) if step.is_call else (None, None)


def _number(v: Any) -> float | None:
    if isinstance(v, bool):  # True is not 1 here: "true" vs "1" differ under the reference rule
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def values_equal(gold: Any, pred: Any) -> bool:
    """The reference rule (normalised strings), numbers compared as numbers, containers item by item."""
    if isinstance(gold, dict) and isinstance(pred, dict):
        return gold.keys() == pred.keys() and all(values_equal(gold[k], pred[k]) for k in gold)
    if isinstance(gold, list) and isinstance(pred, list):
        return len(gold) == len(pred) and all(values_equal(g, p) for g, p in zip(gold, pred))
    if str(gold).strip().lower() == str(pred).strip().lower():
        return True
    g, p = _number(gold), _number(pred)
    return g is not None and p is not None and math.isclose(g, p, rel_tol=1e-9, abs_tol=1e-12)


def same_call(a: str, b: str) -> bool:
    """Both texts parse to the same API with equal arguments (the evaluation's comparison)."""
    (api_a, args_a), (api_b, args_b) = parse_call(a), parse_call(b)
    return api_a is not None and api_a == api_b and values_equal(args_a, args_b)
