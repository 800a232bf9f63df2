"""The numbers an exploration run reports (summary.json), overall and per API."""
from __future__ import annotations

from collections import Counter

from ste.core.schemas import Trial
from ste.core.text import normalise
from ste.explore.prompts import is_valid


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def stats(trials: list[Trial]) -> dict:
    """Counts and rates for a group of trials."""
    valid = [t for t in trials if is_valid(t)]
    judged = [t for t in valid if t.solved is not None]
    turns = [turn for t in trials for turn in t.turns]
    statuses = Counter(turn.status for turn in turns if turn.status is not None)
    seed_calls = [t.imagination["seed_call"] for t in trials if t.imagination.get("seed_call")]
    rejected = Counter(r["reason"] for t in trials for r in t.imagination.get("rejected", []))
    parse_errors = sum(t.parse_errors for t in trials)
    return {
        "trials": len(trials),
        "valid_queries": len(valid),
        "no_valid_query": len(trials) - len(valid),
        "rejected_queries": dict(sorted(rejected.items())),
        "final_answers": sum(t.final_answer is not None for t in valid),
        "solved": sum(t.solved is True for t in judged),
        "solved_rate": _rate(sum(t.solved is True for t in judged), len(judged)),
        "unique_query_rate": _rate(len({normalise(t.query) for t in valid}), len(valid)),
        "turns": len(turns),
        "parse_errors": parse_errors,
        "parse_error_rate": _rate(parse_errors, len(turns)),
        "calls": sum(t.n_calls for t in trials),
        "call_statuses": dict(sorted(statuses.items())),
        "ok_call_rate": _rate(statuses.get("ok", 0), sum(statuses.values())),
        "seed_calls": len(seed_calls),
        "prompt_tokens": sum(t.prompt_tokens for t in trials),
        "completion_tokens": sum(t.completion_tokens for t in trials),
        "llm_retries": sum(t.llm_retries for t in trials),
    }


def summarize(trials: list[Trial], apis: list[str], **extra) -> dict:
    """Overall stats, then one row per API (in selection order); `extra` keys are added at the top."""
    by_api = {api: [t for t in trials if t.api == api] for api in apis}
    return {**extra, **stats(trials), "per_api": [{"api": api, **stats(ts)} for api, ts in by_api.items()]}
