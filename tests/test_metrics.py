"""The reference scoring rules, case by case, and executable correctness on a small real Registry."""
from __future__ import annotations

import pytest

from ste.core.calls import parse_call, values_equal
from ste.core.errors import ConfigError
from ste.core.llm.base import Decoding
from ste.core.schemas import Example, TestItem
from ste.core.tools.base import Registry, Tool
from ste.evaluate.evaluate import predict, score
from ste.evaluate.metrics import item_metrics, summarize
from ste.evaluate.retrieval import Retriever
from tests.fakes import ScriptedChatModel


def _add(a: float, b: float) -> dict:
    return {"sum": a + b}


def _greet(name: str, formal: bool = False) -> str:
    return f"Good day, {name}." if formal else f"Hi {name}!"


def num(desc: str) -> dict:
    return {"type": "number", "description": desc}


REGISTRY = Registry([
    Tool("add", "Add two numbers.", "math",
         {"type": "object", "properties": {"a": num("first"), "b": num("second")}, "required": ["a", "b"]}, _add),
    Tool("greet", "Greet someone.", "text",
         {"type": "object", "properties": {"name": {"type": "string"}, "formal": {"type": "boolean"}},
          "required": ["name"]}, _greet),
])


def call(api: str, args: str) -> str:
    return f"Thought: easy.\nAction: {api}\nAction Input: {args}"


@pytest.mark.parametrize("reply, gold, expected", [
    (call("greet", '{"name": "Ada"}'), {"name": "Ada"}, (True, True, True)),
    (call("greet", '{"name": "  ada "}'), {"name": "Ada"}, (True, True, True)),  # strip + lower
    (call("greet", '{"name": "Ada", "formal": true}'), {"name": "Ada"}, (True, True, True)),  # extra key allowed
    (call("greet", '{"formal": true}'), {"name": "Ada"}, (True, True, False)),  # missing key
    (call("greet", '{"name": "Bob"}'), {"name": "Ada"}, (True, True, False)),  # wrong value
    (call("add", '{"a": 1, "b": 2}'), {"name": "Ada"}, (True, False, False)),  # wrong API
    (call("wave", '{"name": "Ada"}'), {"name": "Ada"}, (True, False, False)),  # unknown API: well-formed
    ("Hello Ada, nice to meet you!", {"name": "Ada"}, (False, False, False)),  # no call
    (call("greet", "name=Ada"), {"name": "Ada"}, (False, False, False)),  # not JSON
    ("Action: greet", {"name": "Ada"}, (False, False, False)),  # no Action Input
    ("Final Answer: Hi Ada!", {"name": "Ada"}, (False, False, False)),
])
def test_reference_rules(reply, gold, expected):
    m = item_metrics(reply, "greet", gold)
    assert (m["well_formed"], m["api_match"], m["correct"]) == expected
    assert m["executable"] is None  # no registry given


@pytest.mark.parametrize("gold, pred, equal", [
    (5, "5.0", True), (5, 5.0, True), ("5", 5, True), (0.1, "0.10", True), (1000, "1e3", True),
    (5, 5.01, False), (5, "five", False),
    (True, "true", True), (True, "True ", True), (True, 1, False),  # booleans are not numbers
    ("New York", "new york", True), ("New York", "NewYork", False),
    ([1, "a"], [1.0, "A"], True), ([1, 2], [2, 1], False), ({"x": 1}, {"x": "1"}, True), ({"x": 1}, {}, False),
])
def test_values_equal(gold, pred, equal):
    assert values_equal(gold, pred) is equal


def test_parse_call_reads_any_api_name():
    assert parse_call(call("`no_such_api`", "{'q': 1,}")) == ("no_such_api", {"q": 1})
    assert parse_call("") == (None, None)


def test_executable_correctness_runs_both_calls():
    swapped = item_metrics(call("add", '{"a": 3, "b": 2}'), "add", {"a": 2, "b": 3}, REGISTRY)
    assert swapped["executable"] and not swapped["correct"]  # same result, different arguments
    same = item_metrics(call("add", '{"a": 2, "b": "3.0"}'), "add", {"a": 2, "b": 3}, REGISTRY)
    assert same["correct"] and not same["executable"]  # "3.0" is a string: the schema refuses it
    assert not item_metrics(call("add", '{"a": 2, "b": 4}'), "add", {"a": 2, "b": 3}, REGISTRY)["executable"]
    assert not item_metrics(call("wave", '{"a": 2}'), "add", {"a": 2, "b": 3}, REGISTRY)["executable"]
    assert not item_metrics("no call", "add", {"a": 2, "b": 3}, REGISTRY)["executable"]
    failing_gold = item_metrics(call("greet", '{"name": "x"}'), "greet", {"name": 7}, REGISTRY)
    assert not failing_gold["executable"]  # the gold call itself fails validation


def test_summarize_rates():
    items = [
        item_metrics(call("add", '{"a": 1, "b": 2}'), "add", {"a": 1, "b": 2}, REGISTRY),  # correct
        item_metrics(call("add", '{"a": 2, "b": 1}'), "add", {"a": 1, "b": 2}, REGISTRY),  # executable only
        item_metrics(call("greet", '{"name": "x"}'), "add", {"a": 1, "b": 2}, REGISTRY),  # wrong API
        item_metrics("I don't know.", "add", {"a": 1, "b": 2}, REGISTRY),  # malformed
    ]
    s = summarize(items)
    assert s == {"n": 4,
                 "n_well_formed": 3, "well_formed": 0.75, "well_formed_ci": [0.3006, 0.9544],
                 "n_api_match": 2, "api_match": 2 / 3, "api_match_ci": [0.2077, 0.9385],  # out of the well-formed
                 "n_correct": 1, "correct": 0.25, "correct_ci": [0.0456, 0.6994],
                 "n_executable": 2, "executable": 0.5, "executable_ci": [0.15, 0.85]}
    empty = summarize([])
    assert (empty["n"], empty["correct"], empty["correct_ci"], empty["api_match_ci"]) == (0, 0.0, [0.0, 1.0], [0.0, 1.0])
    assert "executable" not in empty


def test_interval_columns_split_each_interval_for_csv_rows():
    from ste.evaluate.metrics import interval_columns

    row = interval_columns({"n": 10, "correct": 0.6, "correct_ci": [0.3127, 0.8318]})
    assert row == {"n": 10, "correct": 0.6, "correct_lo": 0.3127, "correct_hi": 0.8318}


# ---------------------------------------------------------------- predictions and scoring
def bm25(pool):
    return Retriever(pool, "bm25")


class CountingModel(ScriptedChatModel):
    """Counts batches, to check that predictions go through chat_many in batches."""

    def __init__(self, replies):
        super().__init__(replies)
        self.batches = []

    async def achat_many(self, batch, decoding=Decoding()):
        self.batches.append(len(batch))
        return await super().achat_many(batch, decoding)


ITEMS = [
    TestItem(id="t1", api="add", query="What is 2 plus 3?", arguments={"a": 2, "b": 3}),
    TestItem(id="t2", api="add", query="Add 10 and 5.", arguments={"a": 10, "b": 5}),
    TestItem(id="t3", api="greet", query="Say hello to Ada.", arguments={"name": "Ada"}),
]
DEMOS = [
    Example(id="d1", api="greet", query="Say hi to Bob.", arguments={"name": "Bob"}),
    Example(id="d2", api="add", query="What is 7 plus 1?", arguments={"a": 7, "b": 1}),
    Example(id="d3", api="add", query="Add 4 and 4.", arguments={"a": 4, "b": 4}),
]
REPLIES = {  # a student that gets t1 right (with a trailing imagined observation), t2 wrong, t3 not a call
    "What is 2 plus 3?": 'Action: add\nAction Input: {"a": 2, "b": 3}\nObservation: 5',
    "Add 10 and 5.": 'Action: add\nAction Input: {"a": 10, "b": 6}\n\nThat is it.',
    "Say hello to Ada.": "Hello Ada!",
}


def test_predict_icl_prompts_batches_and_scores():
    model = CountingModel(lambda msgs, dec: REPLIES[msgs[-1]["content"]])
    preds = predict(model, REGISTRY, ITEMS, ["add", "greet"], "icl", bm25(DEMOS), k=2, batch=2)
    assert model.batches == [2, 1]
    messages, decoding = model.requests[0]
    assert decoding.temperature == 0 and {"\n\n", "Observation:"} <= set(decoding.stop)
    assert messages[-1] == {"role": "user", "content": "What is 2 plus 3?"}
    assert "What is 7 plus 1?" in messages[0]["content"] and "Add two numbers." in messages[0]["content"]
    assert preds[0]["demos"][0] == "d2" and len(preds[0]["demos"]) == 2
    assert [p["correct"] for p in preds] == [True, False, False]
    assert [p["well_formed"] for p in preds] == [True, True, False]
    assert preds[0]["reply"] == 'Action: add\nAction Input: {"a": 2, "b": 3}\n'  # cut at the stop string
    assert preds[1]["action_input"] == {"a": 10, "b": 6} and preds[1]["executable"] is False

    overall, per_api = score(preds)
    assert {k: overall[k] for k in ("n", "n_well_formed", "well_formed", "api_match", "correct", "executable")} == {
        "n": 3, "n_well_formed": 2, "well_formed": 2 / 3, "api_match": 1.0, "correct": 1 / 3, "executable": 1 / 3}
    assert overall["correct_ci"] == [0.0615, 0.7923] and overall["n_correct"] == 1
    assert [(r["api"], r["n"], r["correct"]) for r in per_api] == [("add", 2, 0.5), ("greet", 1, 0.0)]
    assert (per_api[0]["correct_lo"], per_api[0]["correct_hi"]) == (0.0945, 0.9055)  # 1 of 2, as CSV columns


def test_predict_baseline_has_no_demonstrations():
    model = CountingModel(lambda msgs, dec: REPLIES[msgs[-1]["content"]])
    preds = predict(model, REGISTRY, ITEMS, ["add", "greet"], "baseline", bm25(DEMOS), execute=False)
    assert all(p["demos"] == [] and p["executable"] is None for p in preds)
    assert "Examples:" not in model.requests[0][0][0]["content"] and model.batches == [3]
    with pytest.raises(ConfigError, match="ICL"):
        predict(model, REGISTRY, ITEMS, ["add"], "icl")


def test_predict_shows_a_progress_bar_and_keeps_its_log_lines(capsys, caplog):
    model = CountingModel(lambda msgs, dec: REPLIES[msgs[-1]["content"]])
    with caplog.at_level("INFO", logger="ste.core.student"):
        predict(model, REGISTRY, ITEMS, ["add", "greet"], "baseline", batch=2)
    assert "evaluate baseline: 100%" in capsys.readouterr().err and "3/3" in caplog.text
