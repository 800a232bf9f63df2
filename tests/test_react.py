"""The ReAct parser: tolerant of slips, strict on API names, never crashes."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ste.core.react import MAX_DEPTH, format_call, parse_json_object, parse_step

ALLOWED = ["get_weather", "convert_units"]


@pytest.mark.parametrize("text,args", [
    ('Thought: x\nAction: get_weather\nAction Input: {"city": "Paris"}', {"city": "Paris"}),
    ('  Action :   get_weather  \n  Action Input :  {"city": "Paris"}  ', {"city": "Paris"}),
    ('Action: `get_weather`\nAction Input: ```json\n{"city": "Paris"}\n```', {"city": "Paris"}),
    ("**Action:** get_weather\n**Action Input:** {'city': 'Paris', 'days': 2,}", {"city": "Paris", "days": 2}),
    ('Action: get_weather\nAction Input: {"city": "Paris"} I will now wait. {"other": 1}', {"city": "Paris"}),
    ('Action: get_weather Action Input: {city: "Paris", metric: True, note: None}',
     {"city": "Paris", "metric": True, "note": None}),
    ("Action: get_weather\nAction_Input: {'q': \"it's true\", 'n': [1, 2,],}", {"q": "it's true", "n": [1, 2]}),
    ('Action: "get_weather"\nAction Input: {"city": "São Paulo\\n"}', {"city": "São Paulo\n"}),
])
def test_tolerated_slips(text, args):
    step = parse_step(text, ALLOWED)
    assert step.is_call and step.action == "get_weather" and step.action_input == args, step.error


@pytest.mark.parametrize("text,needle", [
    ("Action: weather\nAction Input: {}", "'weather' is not an available API. Use exactly one of these API names: get_weather, convert_units"),
    ("Action: Get_Weather\nAction Input: {}", "'Get_Weather' is not an available API"),  # no case guessing
    ("Action: get_weather()\nAction Input: {}", "'get_weather()' is not an available API"),
    ("Action:\nAction Input: {}", "The Action line is empty"),
    ("I think it is sunny.", "No Action found"),
    ("Action: get_weather", "No Action Input found"),
    ("Action: get_weather\nAction Input: city=Paris", "no '{' found"),
    ('Action: get_weather\nAction Input: {"city": "Paris"', "braces are not balanced"),
    ('Action: get_weather\nAction Input: [{"city": "Paris"}]', "it is a list"),
    ('Action: get_weather\nAction Input: {"n": 1e999}', "finite"),
    ('Action: get_weather\nAction Input: {"n": NaN}', "NaN is not a valid argument value"),
    ('Action: get_weather\nAction Input: {"n": ' + "9" * 5000 + "}", "too many digits"),
    ("Action: get_weather\nAction Input: " + "{\"a\":" * 30 + "1" + "}" * 30, f"deeper than {MAX_DEPTH}"),
    ("Action: get_weather\nAction Input: {\"a\": __import__('os').system('x')}", "could not be read as JSON"),
    ("Final Answer:   ", "Final Answer is empty"),
])
def test_precise_errors(text, needle):
    step = parse_step(text, ALLOWED)
    assert step.error is not None and needle in step.error and not step.is_call and not step.is_final


def test_final_answer_and_thought():
    step = parse_step("Thought: I now know the final answer\nFinal Answer: It is 21 °C.", ALLOWED)
    assert step.is_final and step.final_answer == "It is 21 °C." and step.thought == "I now know the final answer"
    assert parse_step("Thought: done\nAction: None\nFinal Answer: 4", ALLOWED).final_answer == "4"
    # an Action before the Final Answer wins (the answer text is a hallucinated continuation)
    assert parse_step('Action: get_weather\nAction Input: {}\nFinal Answer: x', ALLOWED).is_call


def test_round_trip_of_the_canonical_format():
    args = {"city": "Zürich", "days": 3, "flags": [True, None], "nested": {"x": 1.5}}
    step = parse_step("Thought: go\n" + format_call("convert_units", args), ALLOWED)
    assert step.action == "convert_units" and step.action_input == args


def test_parse_json_object_returns_a_reason():
    assert parse_json_object('{"a": 1}') == ({"a": 1}, None)
    obj, reason = parse_json_object("{'a': }")
    assert obj is None and "could not be read as JSON" in reason


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.sampled_from(["", "Action: get_weather\nAction Input: ", "Final Answer: "]))
def test_no_input_crashes(noise, prefix):
    step = parse_step(prefix + noise, ALLOWED)
    assert (step.error is None) == (step.is_call or step.is_final)
    if step.is_call:
        assert step.action in ALLOWED and isinstance(step.action_input, dict)
        json.dumps(step.action_input, allow_nan=False)  # only finite, serialisable values get through


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=5))
def test_any_json_object_round_trips(args):
    step = parse_step(format_call("get_weather", args), ALLOWED)
    assert step.is_call and step.action_input == args


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=3000), st.sampled_from(["{", "[", "{\"a\":"]),
       st.integers(min_value=0, max_value=10_000))
def test_deep_nesting_and_giant_numbers_are_refused_not_crashed(depth, opener, digits):
    nested = opener * depth + "1" * max(digits, 1) + ("}" if opener != "[" else "]") * depth
    step = parse_step("Action: get_weather\nAction Input: " + nested, ALLOWED)
    assert step.action == "get_weather" and (step.error is not None or isinstance(step.action_input, dict))
