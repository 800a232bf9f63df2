from pathlib import Path

import pytest

from ste.continual.continual import check_no_leakage, round_training_set, seen_apis
from ste.core.errors import ConfigError
from ste.core.schemas import Example, TestItem

TESTSET = Path(__file__).resolve().parents[1] / "data" / "testset"


def _examples():
    out = []
    for api in ["a1", "a2", "b1", "b2"]:
        out += [Example(id=f"{api}-{i}", api=api, query=f"q {api} {i}", arguments={"i": i}) for i in range(10)]
    return out


BATCHES = [["a1", "a2"], ["b1", "b2"]]


def test_round_one_is_its_batch_only():
    train = round_training_set(_examples(), BATCHES, 0, ratio=0.5, seed=0)
    assert {e.api for e in train} == {"a1", "a2"} and len(train) == 20


def test_replay_ratio_and_seed():
    train = round_training_set(_examples(), BATCHES, 1, ratio=0.1, seed=0)
    replay = [e for e in train if e.source == "continual_replay"]
    assert len(train) == 20 + 2 and len(replay) == 2  # 10% of batch 0's 20 examples
    assert {e.api for e in replay} <= {"a1", "a2"}
    again = round_training_set(_examples(), BATCHES, 1, ratio=0.1, seed=0)
    assert [e.id for e in again] == [e.id for e in train]
    other = {tuple(e.id for e in round_training_set(_examples(), BATCHES, 1, 0.1, s)) for s in range(6)}
    assert len(other) > 1  # the seed matters


def test_no_replay_means_new_batch_only():
    train = round_training_set(_examples(), BATCHES, 1, ratio=0.0, seed=0)
    assert {e.api for e in train} == {"b1", "b2"}


def test_seen_apis_and_bad_round():
    assert seen_apis(BATCHES, 1) == ["a1", "a2", "b1", "b2"]
    assert seen_apis(BATCHES, 0) == ["a1", "a2"]
    with pytest.raises(ConfigError, match="2 API batches"):
        round_training_set(_examples(), BATCHES, 2, 0.1, 0)


def test_leakage_is_refused():
    train = _examples()
    check_no_leakage(train, [TestItem(id="t", api="a1", query="something else", arguments={})])
    with pytest.raises(ConfigError, match="gold test queries"):
        check_no_leakage(train, [TestItem(id="t", api="a1", query="Q  a1 3", arguments={})])


def test_shipped_batches_cover_every_builtin_api_once():
    import datetime

    from ste.core.testset import load_batches, load_testset
    from ste.core.tools.builtin import builtin_tools

    batches = load_batches(TESTSET)
    names = [t.name for t in builtin_tools(datetime.date(2026, 1, 15))]
    flat = [api for b in batches for api in b]
    assert len(batches) == 4 and sorted(flat) == sorted(names)
    per_api = {}
    for item in load_testset(TESTSET):
        per_api[item.api] = per_api.get(item.api, 0) + 1
    assert all(per_api.get(n, 0) >= 10 for n in names)


# ---------------------------------------------------------------- planning the rounds
def _records(examples):
    return [{"messages": [{"role": "user", "content": e.query}], "id": e.id, "api": e.api, "kind": "call"}
            for e in examples] + [{"messages": [], "id": "general/0", "api": None, "kind": "general"}]


def _items():
    return [TestItem(id=f"t-{api}-{i}", api=api, query=f"gold {api} {i}", arguments={})
            for api in ["a1", "a2", "b1", "b2", "c1"] for i in range(2)]


def test_plan_skips_batches_without_data_and_keeps_their_labels():
    from ste.continual.continual import plan_rounds

    batches = [["a1", "a2"], ["c1"], ["b1", "b2", "z9"]]  # c1 and z9 have no examples
    examples = [e for e in _examples() if e.api != "a2"]
    plan = plan_rounds(examples, _records(examples), batches, _items(), ratio=0.1, seed=0)
    assert plan.skipped == [1] and plan.unbatched == []
    assert [(r.number, r.batch, r.label, r.name) for r in plan.rounds] == [
        (1, 0, "round 1 (batch 0)", "round_1"), (2, 2, "round 2 (batch 2)", "round_2")]
    first, second = plan.rounds
    assert first.apis == ["a1"] and first.seen == ["a1"] and {i.api for i in first.items} == {"a1"}
    assert second.apis == ["b1", "b2"] and second.seen == ["a1", "b1", "b2"]
    assert {i.api for i in second.items} == {"a1", "b1", "b2"}  # no c1 (skipped), no a2 (no data)
    assert [r["id"] for r in second.records] == [e.id for e in second.examples]  # general records of sft.jsonl dropped
    assert sum(e.source == "continual_replay" for e in second.examples) == 1  # 10% of a1's 10, rounded up


def test_plan_reports_unbatched_apis_and_refuses_stale_exports():
    from ste.continual.continual import plan_rounds
    from ste.core.errors import DataError

    examples = _examples()
    plan = plan_rounds(examples, _records(examples), [["a1", "a2"]], _items(), 0.0, 0)
    assert plan.unbatched == ["b1", "b2"] and len(plan.rounds) == 1
    with pytest.raises(DataError, match="no chat record in sft.jsonl"):
        plan_rounds(examples, _records(examples)[5:], BATCHES, _items(), 0.0, 0)
    with pytest.raises(DataError, match="no example.s API is in any continual-learning batch"):
        plan_rounds(examples, _records(examples), [["c1"]], _items(), 0.0, 0)


def test_general_records_are_mixed_in_with_their_ratio(tmp_path):
    from ste.continual.continual import plan_rounds
    from ste.core.io import write_jsonl

    pool = tmp_path / "general.jsonl"
    write_jsonl(pool, [{"messages": [{"role": "user", "content": f"g{i}"}]} for i in range(50)])
    examples = _examples()
    plan = plan_rounds(examples, _records(examples), BATCHES, _items(), 0.0, 0, general_ratio=0.2, general_path=pool)
    kinds = [r["kind"] for r in plan.rounds[0].records]
    assert kinds.count("call") == 20 and kinds.count("general") == 5  # 5 of 25 = 20%


def test_batch_scores():
    from ste.continual.continual import batch_scores

    preds = [{"api": "a1", "correct": True}, {"api": "a2", "correct": False}, {"api": "b1", "correct": True}]
    assert batch_scores(preds, BATCHES) == {"batch 0": 50.0, "batch 1": 100.0, "total": 66.7,
                                            "counts": {"batch 0": [1, 2], "batch 1": [1, 1], "total": [2, 3]}}
