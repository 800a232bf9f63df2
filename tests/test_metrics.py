"""The reference scoring rules, case by case, and executable correctness on a small real Registry."""
from __future__ import annotations

import pytest

from ste.evaluate.metrics import item_metrics, parse_call, summarize, values_equal
from ste.tools.base import Registry, Tool


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
    assert s == {"n": 4, "n_well_formed": 3, "well_formed": 0.75, "api_match": 2 / 3, "correct": 0.25,
                 "executable": 0.5}
    assert summarize([]) == {"n": 0, "n_well_formed": 0, "well_formed": 0.0, "api_match": 0.0, "correct": 0.0}
