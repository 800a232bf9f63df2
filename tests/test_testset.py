"""The gold test set is held out by construction, complete, executable, and states its values; the leak checks work."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from ste.core.config import ToolsSection
from ste.core.schemas import Example, TestItem
from ste.core.testset import load_testset
from ste.core.text import argument_coverage
from ste.core.tools import build_registry
from ste.evaluate.leakage import question_template, static_leaks, training_overlap, visible_material

ROOT = Path(__file__).resolve().parents[1]
TESTSET = ROOT / "data" / "testset"


@pytest.fixture(scope="module")
def registry():
    registry = build_registry(ToolsSection())
    registry.timeout_s = 30  # generous: the first calls load data files on a shared CPU
    return registry


@pytest.fixture(scope="module")
def visible(registry):
    return visible_material(registry, ROOT / "data" / "general" / "instructions.jsonl",
                            [ROOT / "ste" / stage / "templates" for stage in ("explore", "filter", "paraphrase")])


@pytest.fixture(scope="module")
def gold() -> list[TestItem]:
    return load_testset(TESTSET)


# ---------------------------------------------------------------- held out
def test_no_gold_value_or_query_is_visible_to_the_explorer_or_the_student(gold, registry, visible):
    assert static_leaks(gold, registry, visible) == []


def _item(api: str, arguments: dict, query: str = "Tell me, please.") -> TestItem:
    return TestItem(id=f"{api}-1", api=api, query=query, arguments=arguments)


def test_the_leak_check_reports_every_kind_of_visible_value(registry, visible):
    cases = [
        (_item("get_airport_by_code", {"code": "NRT"}), "get_airport_by_code.code schema examples"),
        (_item("get_airport_by_code", {"code": "CDG"}), "get_airport_by_code query seed 1"),  # "Which airport is CDG?"
        (_item("find_city", {"city": "zx81q"}), "question_examples.json[0] arguments"),  # case is normalised away
        (_item("find_city", {"city": "Ottawa"}), "instructions.jsonl line 1 message 2"),  # "...Canada is Ottawa."
        (_item("percent_of", {"percent": 15.0, "value": 73}), "percent_of.percent schema examples"),  # 15.0 is 15
        (_item("day_of_week", {"date": "1969-07-20"}), "day_of_week.date schema examples"),
    ]
    for item, source in cases:
        leaks = static_leaks([item], registry, visible)
        assert [leak.source for leak in leaks][:1] == [source], (item.arguments, leaks)
    copied = _item("get_airport_by_code", {"code": "HND"}, query="Which airport is CDG ?")
    assert [leak.value for leak in static_leaks([copied], registry, visible)] == ["query='Which airport is CDG ?'"]


def test_enum_values_flags_and_fresh_values_are_not_leaks(registry, visible):
    # "pressure" is a schema example of list_units, but a member of its enum: every prompt prints it anyway.
    assert static_leaks([_item("list_units", {"quantity": "pressure"})], registry, visible) == []
    assert static_leaks([_item("get_airport_by_code", {"code": "HND", "strict": True, "note": None})],
                        registry, visible) == []
    assert static_leaks([_item("convert_currency", {"amount": 9137, "from_currency": "EUR", "to_currency": "JPY"})],
                        registry, visible) == []


def test_training_overlap_counts_shared_values_copied_queries_and_values_in_training_text(registry):
    items = [
        TestItem(id="a-1", api="find_city", query="How many people live in Porto?", arguments={"city": "Porto"}),
        TestItem(id="a-2", api="percent_of", query="What is 18.5% of 73?", arguments={"percent": 18.5, "value": 73}),
        TestItem(id="a-3", api="list_units", query="List the common units of mass.", arguments={"quantity": "mass"}),
        TestItem(id="a-4", api="find_city", query="Where is Seville?", arguments={"city": "Seville"}),
        TestItem(id="a-5", api="find_city", query="Where is Leipzig?", arguments={"city": "Leipzig"}),
        TestItem(id="a-6", api="get_country_capital", query="What is the capital of Peru?",
                 arguments={"country": "Peru"}),
    ]
    examples = [
        Example(id="e-1", api="get_sun_times", query="Sunrise in porto?", arguments={"city": "porto"}),
        Example(id="e-2", api="percent_change", query="From 73.0 to 80?", arguments={"old_value": 73.0, "new_value": 80}),
        Example(id="e-3", api="list_units", query="List the common units of mass, please.", arguments={"quantity": "mass"}),
        Example(id="e-4", api="find_city", query="Which cities are in Saxony?", arguments={"region": "Saxony"},
                observation='[{"name": "Leipzig"}, {"name": "Dresden"}]'),
        Example(id="e-5", api="get_country_capital", query="What is the capital of Chile?",
                arguments={"country": "Chile"}, final_answer="Santiago is the capital of Chile."),
    ]
    overlap = training_overlap(items, examples, registry)
    assert overlap["ids"] == {"shared_value": ["a-1", "a-2"], "value_in_text": ["a-1", "a-5"],
                              "near_duplicate_query": ["a-3"], "same_template_query": ["a-6"], "value_in_dpo_reply": []}
    assert {k: v for k, v in overlap.items() if k != "ids"} == {
        "items": 6, "shared_value": 2, "value_in_text": 2, "near_duplicate_query": 1, "same_template_query": 1,
        "value_in_dpo_reply": 0, "any": 5}
    # Without a registry the enum value "mass" counts as shared too.
    assert training_overlap(items, examples)["ids"]["shared_value"] == ["a-1", "a-2", "a-3"]
    assert training_overlap(items, [])["any"] == 0
    # A DPO pair's reply, chosen or rejected, is trained on: a gold value in one counts.
    replies = ['Action: find_city\nAction Input: {"city": "Seville"}', "Final Answer: about 600,000 people."]
    with_dpo = training_overlap(items, examples, registry, replies)
    assert with_dpo["ids"]["value_in_dpo_reply"] == ["a-4"] and with_dpo["any"] == 6
    assert overlap["ids"]["value_in_dpo_reply"] == []


def test_a_question_template_masks_values_and_keeps_the_wording():
    capital = question_template("What is the capital of Australia?")
    assert capital == question_template("What is the capital of Nigeria?") == "what is the capital of <v>"
    assert question_template("How many days are there between 1 March and 15 June 2025?") == \
        question_template("How many days are there between 2026-03-02 and 2026-06-19?")
    assert question_template('Translate "good morning" to DE.') == "translate <v> to <v>"
    assert question_template("Name the capital city of Nigeria.") != capital
    assert question_template("Porto: what's its population?").startswith("porto")  # a sentence's first word is kept


def test_a_gold_question_with_a_seeds_template_is_a_leak(registry, visible):
    seed = registry.get("get_country_capital").examples[0]
    assert question_template(seed) == "what is the capital of <v>"  # the seed this test copies
    copied = _item("get_country_capital", {"country": "Nigeria"}, "What is the capital of Nigeria?")
    assert [leak.source for leak in static_leaks([copied], registry, visible)] == [
        "get_country_capital query seed 1 (template)"]


# ---------------------------------------------------------------- complete and correct
def test_fifteen_items_per_api_ten_test_and_five_dev(gold, registry):
    assert len({i.id for i in gold}) == len(gold) == 15 * len(registry)
    per_api = Counter((i.api, i.split) for i in gold)
    assert {api for api, _ in per_api} == set(registry.names())
    assert all(per_api[(api, "test")] == 10 and per_api[(api, "dev")] == 5 for api in registry.names())
    for item in gold:
        number = int(item.id.rsplit("-", 1)[1])
        assert item.id == f"{item.api}-{number}" and item.split == ("test" if number <= 10 else "dev"), item.id
    for path in TESTSET.glob("*.jsonl"):  # the split is written out, never left to the default
        assert all('"split"' in line for line in path.read_text(encoding="utf-8").splitlines()), path


def test_every_gold_call_executes(gold, registry):
    failures = [(i.id, r.observation) for i in gold if not (r := registry.call(i.api, i.arguments)).ok]
    assert failures == []


def test_every_question_states_its_values_and_not_its_api(gold, registry):
    for item in gold:
        assert argument_coverage(item.arguments, item.query)[1] == [], (item.id, item.query)
        assert item.api not in item.query
        required = registry.get(item.api).parameters.get("required", [])
        assert set(required) <= set(item.arguments), item.id
    assert len({i.query for i in gold}) == len(gold)


def test_the_generator_writes_exactly_the_shipped_files(tmp_path):
    from scripts.make_testset import SPECS, main

    main(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in TESTSET.glob("*.jsonl"))
    for path in tmp_path.iterdir():
        assert path.read_text(encoding="utf-8") == (TESTSET / path.name).read_text(encoding="utf-8"), path.name
    assert all(len(phrasings) >= 3 for phrasings, _ in SPECS.values())
    lines = [json.loads(line) for path in tmp_path.iterdir() for line in path.read_text().splitlines()]
    assert len(lines) == 990
