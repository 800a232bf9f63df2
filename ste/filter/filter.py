"""Filter explored trials into examples: code checks first, then the judge's three questions.

Every trial gets a Verdict (kept or the reason it was dropped, each check, each judge answer
and reason) so the filter can be audited. With a weak judge the code checks carry the signal:
the call's argument values appear in the query, and the answer repeats a value the call
returned. Both are reported for every trial; each gates only when asked to.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ste.config.filter import FilterSection
from ste.core.llm.base import ChatModel, Decoding
from ste.core.schemas import Example, Trial, Turn, Verdict, last_successful_call
from ste.core.text import argument_coverage, cites_observation
from ste.core.tools.base import Registry
from ste.filter.judge import QUESTIONS, judge_constraint, judge_messages, parse_judge_reply


@dataclass
class FilterResult:
    examples: list[Example]
    verdicts: list[Verdict]
    summary: dict = field(default_factory=dict)


def rule_checks(trial: Trial, precheck: bool = True) -> dict[str, bool]:
    """The code checks, in order; the first False is the drop reason.

    Always: the trial reached a final answer after a successful call. With `precheck`: the
    last call made succeeded and the final answer is not blank.
    """
    checks = {"final_answer": trial.final_answer is not None,
              "successful_call": last_successful_call(trial) is not None}
    if precheck:
        calls = [t for t in trial.turns if t.action]
        checks["last_call_ok"] = bool(calls) and calls[-1].status == "ok"
        checks["answer_not_empty"] = bool((trial.final_answer or "").strip())
    return checks


_DROP_REASON = {"final_answer": "no_final_answer", "successful_call": "no_successful_call",
                "last_call_ok": "last_call_failed", "answer_not_empty": "empty_final_answer",
                "args_in_query": "args_not_in_query", "cites_observation": "answer_ignores_observation"}


def to_example(trial: Trial, call: Turn) -> Example:
    return Example(id=trial.id, api=call.action, query=trial.query, arguments=call.action_input or {},
                   observation=call.observation or "", final_answer=(trial.final_answer or "").strip(),
                   source="explore", seed_id=trial.id)


def filter_trials(trials: list[Trial], registry: Registry, judge: ChatModel | None, settings: FilterSection,
                  *, require_args_in_query: bool = False, require_cited_observation: bool = False) -> FilterResult:
    """Keep the trials worth learning from, as examples built on their last successful call.

    Args:
        trials: explored trials, any APIs.
        registry: the tools (their descriptions are shown to the judge).
        judge: the judge role; None (or `settings.judge` false) filters by the code checks only.
        settings: `filter` section of params.yaml.
        require_args_in_query: also drop trials whose call uses argument values absent from the query.
        require_cited_observation: also drop trials whose answer repeats no value of the call's (JSON) result.

    Returns:
        Kept examples, one Verdict per trial (same order), and a summary of the counts.
    """
    verdicts = []
    for trial in trials:
        call = last_successful_call(trial)
        checks = rule_checks(trial, settings.precheck)
        found, missing = argument_coverage(call.action_input or {}, trial.query) if call else ([], [])
        covered = None if not (found or missing) else not missing
        cited = cites_observation(call.observation or "", trial.final_answer or "") if call else None
        if require_args_in_query:
            checks["args_in_query"] = covered is not False
        if require_cited_observation:
            checks["cites_observation"] = cited is not False
        failed = next((name for name, ok in checks.items() if not ok), None)
        verdicts.append(Verdict(trial_id=trial.id, api=call.action if call else trial.api, kept=failed is None,
                                reason=_DROP_REASON[failed] if failed else "kept", checks=checks,
                                args_in_query=covered, missing_args=missing, cites_observation=cited))
    judge_calls, retries = _ask_judge(trials, verdicts, registry, judge, settings) if judge and settings.judge else (0, 0)
    by_id = {t.id: t for t in trials}
    examples = [to_example(by_id[v.trial_id], last_successful_call(by_id[v.trial_id])) for v in verdicts if v.kept]
    return FilterResult(examples, verdicts, _summary(trials, verdicts, examples, judge_calls, retries))


def _ask_judge(trials: list[Trial], verdicts: list[Verdict], registry: Registry, judge: ChatModel,
               settings: FilterSection) -> tuple[int, int]:
    """Ask the three questions about every trial still kept (one batch); update its verdict.

    Returns:
        (judge calls, LLM requests retried on the way).
    """
    pending = [(t, v) for t, v in zip(trials, verdicts) if v.kept]
    if not pending:
        return 0, 0
    decoding = Decoding(max_tokens=settings.max_new_tokens, temperature=0.0, constraint=judge_constraint())
    replies = judge.chat_many([judge_messages(t, registry) for t, _ in pending], decoding)
    for (_, verdict), reply in zip(pending, replies):
        answers = parse_judge_reply(reply.text)
        verdict.judge = {q: {"answer": a.answer, "reason": a.reason} for q, a in zip(QUESTIONS, answers)}
        verdict.judge_raw = reply.text
        given = {a.answer for a in answers}
        if given != {"yes"}:
            verdict.kept = False
            verdict.reason = "judge_no" if "no" in given else "judge_unparsed"
    return len(pending), sum(r.retries for r in replies)


def _summary(trials: list[Trial], verdicts: list[Verdict], examples: list[Example], judge_calls: int,
             llm_retries: int) -> dict:
    kept_per_api = {api: 0 for api in sorted({t.api for t in trials} | {e.api for e in examples})}
    kept_per_api.update(Counter(e.api for e in examples))
    judge_answers = {q: dict(Counter(v.judge[q]["answer"] for v in verdicts if v.judge)) for q in QUESTIONS}
    checked = [v for v in verdicts if v.args_in_query is not None]
    return {
        "trials": len(trials),
        "kept": len(examples),
        "dropped": dict(Counter(v.reason for v in verdicts if not v.kept)),
        "kept_per_api": kept_per_api,
        "judge_calls": judge_calls,
        "llm_retries": llm_retries,
        "judge_answers": judge_answers,
        "args_in_query": {  # the code check, reported apart from the judge
            "checked": len(checked),
            "all_present": sum(v.args_in_query for v in checked),
            "kept_all_present": sum(bool(v.args_in_query) for v in verdicts if v.kept),
        },
        "cites_observation": {
            "checked": sum(v.cites_observation is not None for v in verdicts),
            "cited": sum(bool(v.cites_observation) for v in verdicts),
            "kept_cited": sum(bool(v.cites_observation) for v in verdicts if v.kept),
        },
    }
