"""Per-item metrics of a predicted call against the gold call, and their aggregation.

The reference definitions (STE paper): well-formed = the reply parses into an Action and a JSON
Action Input; API match = right API among the well-formed; correct = right API and every gold
argument present with an equal value after `str(v).strip().lower()` (extra keys allowed).
We add: numbers compare numerically ("5.0" == 5), and executable correctness: the predicted and
the gold call both run through the Registry and return the same data.
"""
from __future__ import annotations

from typing import Any

from ste.core.calls import parse_call, values_equal
from ste.core.stats import wilson
from ste.core.tools.base import Registry


def arguments_match(gold: dict, pred: dict) -> bool:
    """Every gold key present in `pred` with an equal value; extra predicted keys are allowed."""
    return all(k in pred and values_equal(v, pred[k]) for k, v in gold.items())


def executes_alike(registry: Registry, api: str, args: dict, gold_api: str, gold_args: dict) -> bool:
    """Both calls succeed and return the same data."""
    pred = registry.call(api, args)
    if not pred.ok:
        return False
    gold = registry.call(gold_api, gold_args)
    return gold.ok and pred.data == gold.data


def item_metrics(reply: str, gold_api: str, gold_args: dict, registry: Registry | None = None) -> dict[str, Any]:
    """Metrics of one reply: action, action_input, well_formed, api_match, correct, executable.

    `executable` is None without a registry; api_match is False for a reply that is not well-formed.
    """
    api, args = parse_call(reply)
    well_formed = api is not None
    api_match = well_formed and api == gold_api
    out = {
        "action": api, "action_input": args, "well_formed": well_formed, "api_match": api_match,
        "correct": api_match and arguments_match(gold_args, args),
        "executable": None,
    }
    if registry is not None:
        out["executable"] = well_formed and executes_alike(registry, api, args, gold_api, gold_args)
    return out


def summarize(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Rates over items, each with its count and 95% Wilson interval (`<rate>_ci`: [lo, hi]).

    well_formed/all, api_match/well-formed, correct/all, executable/all (only when every item was executed).
    Counts: n, n_well_formed, n_api_match, n_correct, n_executable.
    """
    n = len(items)
    formed = sum(bool(i["well_formed"]) for i in items)
    counts = {"well_formed": (formed, n), "api_match": (sum(bool(i["api_match"]) for i in items), formed),
              "correct": (sum(bool(i["correct"]) for i in items), n)}
    if items and all(i.get("executable") is not None for i in items):
        counts["executable"] = (sum(bool(i["executable"]) for i in items), n)
    out: dict[str, Any] = {"n": n}
    for rate, (k, total) in counts.items():
        out[f"n_{rate}"] = k
        out[rate] = k / total if total else 0.0
        out[f"{rate}_ci"] = [round(v, 4) for v in wilson(k, total)]
    return out


def interval_columns(summary: dict[str, Any]) -> dict[str, Any]:
    """A summary with each `<rate>_ci` pair as two columns, `<rate>_lo` and `<rate>_hi` (for CSV rows)."""
    out = {}
    for key, value in summary.items():
        if key.endswith("_ci"):
            out[key[:-3] + "_lo"], out[key[:-3] + "_hi"] = value
        else:
            out[key] = value
    return out
