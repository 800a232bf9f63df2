"""Preference pairs from scripted trials: each kind, what must never become a pair, the SFT prompt."""
from __future__ import annotations

from ste.config.filter import FilterSection
from ste.core.calls import same_call
from ste.core.schemas import Example, Turn
from ste.filter.filter import filter_trials, to_example
from ste.paraphrase.export import sft_records
from ste.paraphrase.pairs import KINDS, export_pairs, failed_call
from tests.test_exploit import _call, _registry, _trial

APIS = ["get_capital", "convert_length"]
FRANCE = _call("get_capital", {"country": "France"}, obs='{"capital": "Paris"}')
JAPAN = _call("get_capital", {"country": "Japan"}, obs='{"capital": "Tokyo"}')


def pairs_of(trials, paraphrases=()):
    """Filter the trials for real (rules + args_in_query, as the default pipeline), then build the pairs."""
    result = filter_trials(trials, _registry(), None, FilterSection(judge=False), require_args_in_query=True)
    return export_pairs(trials, result.verdicts, result.examples + list(paraphrases), _registry(), APIS)


def calls(pair) -> tuple[str, str]:
    return pair["chosen"][0]["content"], pair["rejected"][0]["content"]


def test_within_trial_pairs_a_failed_call_with_the_later_fix():
    trial = _trial("t", "What is the capital of France?",
                   [_call("get_capital", {"nation": "France"}, "invalid_args", "Error: unknown argument"), FRANCE])
    pairs, counts = pairs_of([trial])
    assert [p["kind"] for p in pairs] == ["within_trial"] and counts["within_trial"] == 1 and counts["pairs"] == 1
    assert calls(pairs[0]) == ('Action: get_capital\nAction Input: {"country": "France"}',
                               'Action: get_capital\nAction Input: {"nation": "France"}')
    assert pairs[0]["reason"] == "status:invalid_args" and pairs[0]["trial_ids"] == ["t"]
    # exactly the SFT record of that call: prompt + chosen
    sft = sft_records(to_example(trial, FRANCE), _registry(), APIS, final_answer=False)[0]["messages"]
    assert pairs[0]["prompt"] + pairs[0]["chosen"] == sft
    assert [m["role"] for m in pairs[0]["prompt"]] == ["system", "user"]


def test_no_pair_from_trials_that_did_not_really_fail():
    all_ok = _trial("all_ok", "What is the capital of France?", [FRANCE, FRANCE])
    # dropped only for never reaching a final answer, beside a kept trial on the same query: not a rejection
    unfinished = _trial("unfinished", "What's the capital of France?", [JAPAN], answer=None)
    blank = _trial("blank", "What is the capital of France ?", [JAPAN], answer=" ")
    pairs, counts = pairs_of([all_ok, unfinished, blank])
    assert pairs == [] and counts["pairs"] == 0 and all(counts[k] == 0 for k in KINDS)


def test_identical_calls_and_repeats_are_dropped_and_counted():
    retried = _call("get_capital", {"country": "FRANCE "}, "timeout", "Error: timed out")  # same call, once parsed
    twice = _call("get_capital", {"nation": "France"}, "invalid_args", "Error")
    trial = _trial("t", "What is the capital of France?", [retried, twice, twice, FRANCE])
    pairs, counts = pairs_of([trial])
    assert len(pairs) == 1 and calls(pairs[0])[1].endswith('{"nation": "France"}')
    assert counts["dropped"] == {"identical": 1, "duplicate": 1, "chosen_not_in_query": 0}
    assert same_call('Action: a\nAction Input: {"n": 5}', 'Action: a\nAction Input: {"n": "5.0"}')


def test_a_fix_with_values_the_query_never_states_is_not_chosen():
    trial = _trial("t", "What is the capital of France?",
                   [_call("get_capital", {"nation": "France"}, "invalid_args", "Error"), JAPAN])
    pairs, counts = pairs_of([trial])
    assert pairs == [] and counts["dropped"]["chosen_not_in_query"] == 1


def test_a_parse_error_that_wrote_a_call_is_rejected_as_written():
    broken = Turn(raw="Thought: look it up\nAction: get_capital\nAction Input: {country: France",
                  action="get_capital", parse_error="Action Input is not a valid JSON object",
                  observation="Action Input is not a valid JSON object")
    no_input = Turn(raw="Action: get_capital", action="get_capital", parse_error="No Action Input found.")
    trial = _trial("t", "What is the capital of France?", [no_input, broken, FRANCE])
    pairs, _ = pairs_of([trial])
    assert [calls(p)[1] for p in pairs] == ["Action: get_capital\nAction Input: {country: France"]
    assert pairs[0]["reason"] == "parse_error"
    assert failed_call(FRANCE) is None and failed_call(Turn(raw="Final Answer: Paris", final_answer="Paris")) is None


def test_across_trials_pairs_a_kept_call_with_a_failed_trial_on_the_same_question():
    kept = _trial("kept", "What is the capital of France?", [FRANCE])
    failed = _trial("failed", "What's the capital of France?",
                    [_call("get_capital", {"country": "Frankreich"}, "not_found", "Error: no such country")])
    pairs, counts = pairs_of([kept, failed])
    assert [p["kind"] for p in pairs] == ["across_trials"]
    assert pairs[0]["trial_ids"] == ["kept", "failed"] and pairs[0]["reason"] == "status:not_found"
    assert pairs[0]["prompt"][1]["content"] == "What is the capital of France?"  # the kept trial's query
    assert calls(pairs[0]) == ('Action: get_capital\nAction Input: {"country": "France"}',
                               'Action: get_capital\nAction Input: {"country": "Frankreich"}')
    # the filter dropped it for that failed call too: the same pair again, counted once as a repeat
    assert counts["dropped"]["duplicate"] == 1 and counts["after_filter"] == 0


def test_across_trials_matches_a_paraphrase_of_the_kept_query():
    kept = _trial("kept", "What is the capital of France?", [FRANCE])
    failed = _trial("failed", "Tell me which city is the capital of France!",
                    [_call("get_capital", {"country": "FR"}, "not_found", "Error")])
    reworded = Example(id="kept/p1", api="get_capital", query="Tell me which city is the capital of France.",
                       arguments={"country": "France"}, source="paraphrase", seed_id="kept")
    assert pairs_of([kept, failed])[0] == []  # the two questions differ too much
    pairs, _ = pairs_of([kept, failed], [reworded])
    assert len(pairs) == 1 and pairs[0]["prompt"][1]["content"] == reworded.query
    assert pairs[0]["trial_ids"] == ["kept", "failed"]


def test_after_filter_pairs_a_kept_call_with_a_dropped_call_whose_values_are_not_in_its_query():
    kept = _trial("kept", "What is the capital of Japan?", [JAPAN], answer="Tokyo.")
    wrong = _trial("wrong", "What's the capital of Japan?", [FRANCE], answer="Paris.")  # ran fine, wrong country
    pairs, counts = pairs_of([kept, wrong])
    assert [p["kind"] for p in pairs] == ["after_filter"] and counts["after_filter"] == 1
    assert pairs[0]["reason"] == "args_not_in_query" and pairs[0]["trial_ids"] == ["kept", "wrong"]
    assert calls(pairs[0]) == ('Action: get_capital\nAction Input: {"country": "Japan"}',
                               'Action: get_capital\nAction Input: {"country": "France"}')
    # an unrelated question never pairs, and an unsolved kept trial (reflection said no) gives no chosen call
    other = _trial("other", "What is the capital of Kenya?", [FRANCE], answer="Paris.")
    assert pairs_of([kept, other])[0] == []
    assert pairs_of([kept.model_copy(update={"solved": False}), wrong])[0] == []


def test_pairs_come_in_a_fixed_order_with_counts():
    trials = [
        _trial("fix", "What is the capital of Japan?", [_call("get_capital", {"land": "Japan"}, "error", "E"), JAPAN]),
        _trial("kept", "What is the capital of France?", [FRANCE]),
        _trial("wrong", "What's the capital of France?", [JAPAN]),
        _trial("failed", "what is the capital of france", [_call("get_capital", {"country": "Gaul"}, "not_found")]),
    ]
    pairs, counts = pairs_of(trials)
    assert [(p["kind"], p["trial_ids"]) for p in pairs] == [
        ("within_trial", ["fix"]), ("across_trials", ["kept", "failed"]), ("after_filter", ["kept", "wrong"])]
    assert counts["per_api"] == {"get_capital": 3} and counts["reasons"] == {
        "args_not_in_query": 1, "status:error": 1, "status:not_found": 1}
    assert pairs_of(trials) == (pairs, counts)
