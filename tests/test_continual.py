import pytest

from ste.continual import check_no_leakage, round_training_set, seen_apis
from ste.errors import ConfigError
from ste.schemas import Example, TestItem


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

    from ste.testset import load_batches, load_testset
    from ste.tools.builtin import builtin_tools

    batches = load_batches()
    names = [t.name for t in builtin_tools(datetime.date(2026, 1, 15))]
    flat = [api for b in batches for api in b]
    assert len(batches) == 4 and sorted(flat) == sorted(names)
    per_api = {}
    for item in load_testset():
        per_api[item.api] = per_api.get(item.api, 0) + 1
    assert all(per_api.get(n, 0) >= 10 for n in names)
