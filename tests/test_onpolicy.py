"""On-policy pairs: the student's sampled replies, run, and only the ones that really failed become "rejected"."""
from __future__ import annotations

from ste.core.schemas import Example
from ste.dpo.onpolicy import on_policy_pairs
from tests.fakes import ScriptedChatModel
from tests.test_exploit import _registry

APIS = ["get_capital", "convert_length"]
FRANCE = Example(id="t1", api="get_capital", query="What is the capital of France?", arguments={"country": "France"})
MILES = Example(id="t2-p1", api="convert_length", query="How many km are 3 miles?", seed_id="t2",
                arguments={"value": 3, "from_unit": "mile", "to_unit": "kilometer"})
GONE = Example(id="t3", api="get_capital", query="Capital of Atlantis?", arguments={"country": "Atlantis"})


def student(replies: dict[tuple[str, int], str]) -> ScriptedChatModel:
    """Replies by (query, sample seed)."""
    return ScriptedChatModel(lambda messages, decoding: replies[(messages[-1]["content"], decoding.seed)])


def test_each_failure_is_shown_by_running_the_call():
    model = student({
        (FRANCE.query, 7): 'Action: get_capital\nAction Input: {"country":"France"}',  # the same call: no pair
        (FRANCE.query, 8): 'Action: get_capital\nAction Input: {"country": "Japan"}',  # other data
        (MILES.query, 7): "The answer is about 4.8 km.",  # no call at all
        (MILES.query, 8): 'Action: get_capital\nAction Input: {"country": "France"}',  # another API
        (GONE.query, 7): "never asked", (GONE.query, 8): "never asked",
    })
    pairs, counts = on_policy_pairs(model, _registry(), APIS, [FRANCE, MILES, GONE], samples=2, temperature=0.8,
                                    seed=7)
    # the example whose own call fails (Atlantis has no capital here) is skipped, never sampled
    assert counts["skipped"] == 1 and all(m[-1]["content"] != GONE.query for m, _ in model.requests)
    assert {d.seed for _, d in model.requests} == {7, 8} and {d.temperature for _, d in model.requests} == {0.8}
    assert [(p["api"], p["reason"], p["trial_ids"]) for p in pairs] == [
        ("convert_length", "student:malformed", ["t2"]),
        ("get_capital", "student:other_result", ["t1"]),
        ("convert_length", "student:wrong_api", ["t2"])]
    assert counts == {"samples": 4, "failed": 3, "succeeded": 1, "skipped": 1, "pairs": 3,
                      "reasons": {"student:malformed": 1, "student:other_result": 1, "student:wrong_api": 1},
                      "dropped": {"identical": 0, "duplicate": 0}}
    first = pairs[0]
    assert first["kind"] == "on_policy" and first["rejected"][0]["content"] == "The answer is about 4.8 km."
    assert first["chosen"][0]["content"] == ('Action: convert_length\nAction Input: '
                                             '{"value": 3, "from_unit": "mile", "to_unit": "kilometer"}')
    assert [m["role"] for m in first["prompt"]] == ["system", "user"] and first["prompt"][1]["content"] == MILES.query


def test_a_bad_status_is_a_failure_a_repeat_one_pair_and_the_same_data_no_failure():
    bad = 'Action: get_capital\nAction Input: {"nation": "France"}'
    # this test tool returns the same data for any target unit: a call with other values but the same result
    alike = 'Action: convert_length\nAction Input: {"value": 3, "from_unit": "mile", "to_unit": "meter"}'
    model = student({(FRANCE.query, 0): bad, (FRANCE.query, 1): bad, (MILES.query, 0): alike,
                     (MILES.query, 1): alike})
    pairs, counts = on_policy_pairs(model, _registry(), APIS, [FRANCE, MILES], samples=2, temperature=1.0, seed=0)
    assert [p["reason"] for p in pairs] == ["student:status:invalid_args"]
    assert counts["failed"] == 2 and counts["succeeded"] == 2 and counts["dropped"] == {"identical": 0, "duplicate": 1}
