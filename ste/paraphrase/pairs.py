"""Preference pairs from exploration: a call that worked against one that did not, for DPO.

STE keeps only the successful trials; the explorer's mistakes, with the execution feedback that
exposed them, are natural "rejected" answers. Every pair is in TRL's conversational preference
format, with the very prompt SFT trains on (`ste.core.student.student_messages`):

    {"prompt": [system, user], "chosen": [assistant], "rejected": [assistant],
     "kind": ..., "reason": ..., "trial_ids": [...], "api": ...}

- within_trial: in one trial, a call that failed (a non-ok status, or a parse error in a reply
  that still named the API and wrote an input) and a later call of the same trial that succeeded.
  The later call must use only values its query states (the filter's `args_in_query` rule), so a
  lucky call with made-up values is never "chosen".
- across_trials: a kept example (a kept trial's call, for its query or a paraphrase of it) and a
  failed call of a trial the filter dropped, on a near-identical query of the same API.
- after_filter: a kept example and the call the filter judged in a dropped trial on a near-identical
  query, when the drop concerns the call itself (it failed, or its values are not in its query);
  a drop for another reason (no final answer, an empty answer, the judge) never makes a pair.

A rejected call is always one that executed with a non-ok status or one the filter dropped for its
own sake; `reason` says which. A pair whose two calls are the same once parsed (same API, arguments
equal under the evaluation's `values_equal`) is dropped, and so is a repeat of an earlier pair; both
are counted.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict

from ste.core.errors import DataError
from ste.core.pairs import PairSet
from ste.core.react import format_call
from ste.core.schemas import Example, Trial, Turn, Verdict, last_successful_call
from ste.core.text import argument_coverage, near_duplicate
from ste.core.tools.base import Registry

KINDS = ("within_trial", "across_trials", "after_filter")
CALL_DROPS = ("no_successful_call", "last_call_failed", "args_not_in_query")  # verdicts about the call itself
_RAW_INPUT = re.compile(r"(?im)^[ \t>*#_-]*action[ _]?input[ \t*_]*:[ \t*_]*(.*?)(?:\n\s*\n|\Z)", re.S)


def failed_call(turn: Turn) -> tuple[str, str] | None:
    """(call text, reason) of a turn whose call failed; None for a success, a final answer or no call.

    A call that ran and got a non-ok status is written in canonical form; a reply the parser refused
    counts when it named the API and wrote an Action Input, and is kept as the model wrote it.
    """
    if not turn.action:
        return None
    if turn.status is not None:
        return (format_call(turn.action, turn.action_input or {}), f"status:{turn.status}") if turn.status != "ok" else None
    if turn.parse_error is None:
        return None
    if turn.action_input is not None:
        return format_call(turn.action, turn.action_input), "parse_error"
    m = _RAW_INPUT.search(turn.raw)
    written = m.group(1).strip() if m else ""
    return (f"Action: {turn.action}\nAction Input: {written}", "parse_error") if written else None


def export_pairs(trials: list[Trial], verdicts: list[Verdict], kept_examples: list[Example], registry: Registry,
                 apis: list[str]) -> tuple[list[dict], dict]:
    """Build the preference pairs of one exploration config.

    Args:
        trials: every explored trial (trials.jsonl), in run order.
        verdicts: the filter's verdict on each trial (verdicts.jsonl).
        kept_examples: the kept examples and their paraphrases (the paraphrase stage's examples.jsonl).
        registry: the tools (their descriptions make the prompt).
        apis: the APIs the student's prompt lists: the list SFT and evaluation use.

    Returns:
        The pairs (within_trial, then across_trials, then after_filter; each in trial order) and the
        counts: per kind, per API, per reason, and the pairs dropped as identical, duplicate, or with
        a "chosen" call whose values are not in its query.
    """
    by_id = {v.trial_id: v for v in verdicts}
    missing = [t.id for t in trials if t.id not in by_id]
    if missing:
        raise DataError(f"verdicts.jsonl has no verdict for trial {missing[0]} ({len(missing)} in all); "
                        "re-run the filter stage on these trials")
    unknown = sorted({t.api for t in trials} - set(apis))
    if unknown:
        raise DataError(f"trials explore APIs the student prompt does not list: {', '.join(unknown)}; add them to apis")
    groups = _kept_groups(trials, by_id, kept_examples)
    out = PairSet(registry, apis)
    for trial in trials:
        _within_trial(trial, out)
    dropped = [t for t in trials if not by_id[t.id].kept]
    for trial in dropped:
        for turn in trial.turns:
            bad = failed_call(turn)
            if bad and turn.status is not None:  # executed and failed: a parse error is within_trial's only
                _against_kept("across_trials", trial, groups, bad, out)
    for trial in dropped:
        reason = by_id[trial.id].reason
        judged = _judged_call(trial) if reason in CALL_DROPS else None
        if judged:
            _against_kept("after_filter", trial, groups, (judged, reason), out)
    counts = {kind: sum(p["kind"] == kind for p in out.pairs) for kind in KINDS}
    counts.update(pairs=len(out.pairs), per_api=dict(sorted(Counter(p["api"] for p in out.pairs).items())),
                  reasons=dict(sorted(Counter(p["reason"] for p in out.pairs).items())),
                  dropped={k: out.dropped[k] for k in ("identical", "duplicate", "chosen_not_in_query")})
    return out.pairs, counts


def _within_trial(trial: Trial, out: PairSet) -> None:
    turns = trial.turns
    for i, turn in enumerate(turns):
        bad = failed_call(turn)
        fix = next((t for t in turns[i + 1:] if t.action and t.status == "ok"), None) if bad else None
        if fix is None:
            continue
        if argument_coverage(fix.action_input or {}, trial.query)[1]:
            out.dropped["chosen_not_in_query"] += 1
            continue
        out.add("within_trial", trial.api, trial.query, format_call(fix.action, fix.action_input or {}), bad[0],
                bad[1], [trial.id])


def _kept_groups(trials: list[Trial], by_id: dict[str, Verdict], kept: list[Example]) -> dict[str, list[list[Example]]]:
    """API -> the kept trials' examples, one list per trial (its own query first, then its paraphrases).

    A kept trial the explorer's reflection judged unsolved gives no "chosen" call.
    """
    solved = {t.id for t in trials if by_id[t.id].kept and t.solved is not False}
    per_trial: dict[str, list[Example]] = defaultdict(list)
    for ex in kept:
        root = ex.seed_id or ex.id
        if root not in by_id or not by_id[root].kept:
            raise DataError(f"kept example {ex.id} comes from trial {root}, which the verdicts do not keep; "
                            "examples.jsonl and verdicts.jsonl are from different runs (re-run paraphrase)")
        if root in solved:
            per_trial[root].append(ex)
    groups: dict[str, list[list[Example]]] = defaultdict(list)
    for t in trials:
        if per_trial.get(t.id):
            groups[t.api].append(sorted(per_trial[t.id], key=lambda e: e.source != "explore"))
    return groups


def _against_kept(kind: str, trial: Trial, groups: dict[str, list[list[Example]]], bad: tuple[str, str],
                  out: PairSet) -> None:
    """Pair a rejected call of `trial` with each kept trial of its API whose query (or a paraphrase) matches."""
    for group in groups.get(trial.api, []):
        match = next((e for e in group if near_duplicate(e.query, trial.query)), None)
        if match is not None:
            out.add(kind, match.api, match.query, format_call(match.api, match.arguments), bad[0], bad[1],
                    [match.seed_id or match.id, trial.id])


def _judged_call(trial: Trial) -> str | None:
    """The call the filter judged: the last successful one, else the last one made."""
    call = last_successful_call(trial) or next((t for t in reversed(trial.turns) if t.action and t.status), None)
    return format_call(call.action, call.action_input or {}) if call else None
