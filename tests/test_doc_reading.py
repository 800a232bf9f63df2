"""Documentation-reading training (paraphrase.doc_reading): each training prompt lists its example's API among tools
drawn for that example, never a tool of the unseen APIs' categories; the report compares it on the unseen APIs."""
from __future__ import annotations

import re

import pytest

from ste.config.paraphrase import ParaphraseParams, ParaphraseSection
from ste.config.params import parse_params
from ste.core.config import ToolsSection
from ste.core.errors import ConfigError
from ste.core.io import read_jsonl
from ste.core.llm.embedded import embedded_tokenizer_dir
from ste.core.schemas import Example
from ste.core.tools import build_registry
from ste.paraphrase.export import ALIAS_VERBS, aliases, distractor_pool, doc_reading_tools, export_examples, token_counter

LISTED = re.compile(r"^([a-z][a-z0-9_]*): ", re.M)  # a tool's first line in the tool-mode prompt
UNSEEN = ["from_roman_numeral", "get_local_time", "rgb_to_hex"]
EXPLORED = ["convert_units", "get_country_capital", "day_of_week", "find_emoji", "get_airport_by_code",
            "get_currency_info", "find_city", "lookup_zip_code"]  # params.yaml's: the evaluation prompt lists them


@pytest.fixture(scope="module")
def registry():
    return build_registry(ToolsSection())


def _params(**doc_reading) -> ParaphraseParams:
    return ParaphraseParams.parse({"explore": {"configs": {"full": {}, "doc_reading": {}}},
                                   "evaluate": {"unseen_apis": UNSEEN},
                                   "paraphrase": {"doc_reading": {"configs": ["doc_reading"], **doc_reading}}})


def _examples() -> list[Example]:
    return [Example(id=f"t{i}", api=api, query=f"question {i}", arguments={"country": "Kenya"})
            for i, api in enumerate(["get_country_capital", "find_emoji"] * 10)]


def test_the_pool_holds_out_every_tool_of_the_unseen_apis_categories(registry):
    pool = distractor_pool(registry, UNSEEN)
    held_out = {registry.get(a).category for a in UNSEEN}
    assert set(pool) == {a for a in registry.names() if registry.get(a).category not in held_out}
    assert not set(UNSEEN) & set(pool) and "to_roman_numeral" in registry and "to_roman_numeral" not in pool
    assert len(pool) < len(registry.names())


@pytest.fixture(scope="module")
def count_tokens():
    return token_counter(embedded_tokenizer_dir())


def test_training_prompts_list_the_api_among_drawn_tools_and_openai_specs_match(tmp_path, registry, count_tokens):
    params = _params(distractors=[2, 7])
    pool = distractor_pool(registry, params.evaluate.unseen_apis)
    examples = _examples()
    export_examples(examples, registry, tmp_path, params.paraphrase, apis=EXPLORED, distractor_pool=pool,
                    count_tokens=count_tokens)
    sft, oai = read_jsonl(tmp_path / "sft.jsonl"), read_jsonl(tmp_path / "openai.jsonl")
    lists = []
    budget = count_tokens(registry.describe(EXPLORED))
    for record, openai, example in zip(sft, oai, examples):
        listed = LISTED.findall(record["messages"][0]["content"])
        assert example.api in listed and set(listed) <= set(pool) and 1 <= len(listed) <= 8
        assert count_tokens(registry.describe(listed)) <= budget  # never longer than the evaluation prompt's list
        assert len(set(listed)) == len(listed)
        assert [t["function"]["name"] for t in openai["tools"]] == listed  # the same list in both formats
        assert record["messages"][2]["content"].startswith(f"Action: {example.api}\n")
        lists.append(listed)
    assert len({tuple(x) for x in lists}) == len(lists)  # drawn per example
    assert len({len(x) for x in lists}) > 1 and len({x.index(e.api) for x, e in zip(lists, examples)}) > 1


def test_an_examples_tool_list_depends_on_its_id_and_seed_only(registry):
    pool = distractor_pool(registry, UNSEEN)
    example = _examples()[3]
    first = doc_reading_tools(example, pool, (2, 7), seed=0)
    assert doc_reading_tools(example.model_copy(update={"query": "other words"}), pool, (2, 7), 0) == first
    assert doc_reading_tools(example, pool, (2, 7), seed=1) != first
    assert doc_reading_tools(example, pool, (0, 0), seed=0) == [example.api]
    short = doc_reading_tools(example, pool, (7, 7), seed=0, fits=lambda tools: len(tools) <= 3)
    assert len(short) == 3 and example.api in short and set(short) <= set(doc_reading_tools(example, pool, (7, 7), 0))


def test_lists_as_long_as_the_evaluations_pass_over_tools_that_do_not_fit(tmp_path, registry, count_tokens):
    pool = distractor_pool(registry, UNSEEN)
    example = _examples()[3]
    drawn = doc_reading_tools(example, pool, (7, 7), seed=0)
    barred = next(t for t in drawn if t != example.api)
    listed = doc_reading_tools(example, pool, (7, 7), seed=0, fits=lambda tools: barred not in tools)
    assert len(drawn) == len(listed) == 8 and barred not in listed and example.api in listed

    export_examples(_examples(), registry, tmp_path, _params(distractors=[7, 7]).paraphrase, apis=EXPLORED,
                    distractor_pool=pool, count_tokens=count_tokens)
    lengths = [len(LISTED.findall(r["messages"][0]["content"])) for r in read_jsonl(tmp_path / "sft.jsonl")]
    assert sum(n >= 7 for n in lengths) >= len(lengths) * 3 // 4  # most near the evaluation's 8, within its tokens


def _words(name: str) -> list[str]:
    words = name.split("_")
    return sorted(words[1:] if len(words) > 1 and words[0] in ALIAS_VERBS else words)


def test_renamed_prompts_call_every_listed_tool_by_another_name_with_its_own_description(tmp_path, registry):
    pool = distractor_pool(registry, UNSEEN)
    examples = _examples()
    export_examples(examples, registry, tmp_path, _params(rename=1.0).paraphrase, apis=EXPLORED, distractor_pool=pool)
    sft, oai = read_jsonl(tmp_path / "sft.jsonl"), read_jsonl(tmp_path / "openai.jsonl")
    calls = [r for r in sft if r["kind"] == "call"]
    assert len(calls) == len(examples) == len(oai)
    for record, openai, example in zip(calls, oai, examples):
        system = record["messages"][0]["content"]
        listed = LISTED.findall(system)
        assert not set(listed) & set(registry.names()) and len(set(listed)) == len(listed)
        called = record["messages"][2]["content"].split("\n")[0].removeprefix("Action: ")
        assert called in listed and _words(called) == _words(example.api) and record["api"] == called
        assert f"{called}: {registry.get(example.api).description}\n" in system  # the real tool's documentation
        assert [t["function"]["name"] for t in openai["tools"]] == listed
        assert openai["messages"][2]["tool_calls"][0]["function"]["name"] == called


def test_a_rename_share_renames_that_share_of_examples_drawn_by_id(registry):
    pool = distractor_pool(registry, UNSEEN)
    taken = set(registry.names())
    examples = [e.model_copy(update={"id": f"r{i}"}) for i, e in enumerate(_examples() * 10)]
    drawn = [aliases(e, doc_reading_tools(e, pool, (2, 7), 0), taken, 0.5, seed=0) for e in examples]
    assert 0.35 < sum(bool(d) for d in drawn) / len(drawn) < 0.65
    assert drawn == [aliases(e, doc_reading_tools(e, pool, (2, 7), 0), taken, 0.5, seed=0) for e in examples]
    assert all(aliases(e, [e.api], taken, 0.0, seed=0) == {} for e in examples)
    assert all(aliases(e, [e.api], taken, 1.0, seed=0) for e in examples)


def test_other_configs_keep_the_evaluation_prompt(tmp_path, registry):
    apis = ["get_country_capital", "find_emoji"]
    export_examples(_examples(), registry, tmp_path, ParaphraseSection(), apis=apis)
    for record in read_jsonl(tmp_path / "sft.jsonl"):
        assert LISTED.findall(record["messages"][0]["content"]) == apis


@pytest.mark.parametrize("doc_reading, expected", [
    ({"configs": ["nope"]}, "paraphrase.doc_reading.configs: nope not in explore.configs"),
    ({"distractors": [5, 2]}, "want \\[least, most\\]"),
    ({"distractors": [-1, 2]}, "want \\[least, most\\]"),
    ({"rename": 1.5}, "rename"),
])
def test_bad_doc_reading_settings_name_the_key(doc_reading, expected):
    with pytest.raises(ConfigError, match=expected):
        parse_params({"paraphrase": {"doc_reading": doc_reading}})
    with pytest.raises(ConfigError, match=expected):
        ParaphraseParams.parse({"paraphrase": {"doc_reading": doc_reading}})


def test_the_probe_lists_the_api_between_two_trained_or_two_new_names():
    from scripts.probe_tool_lists import three_tool_lists

    others = ["validate_iban", "add_days", "percent_of", "find_country_by_calling_code"]
    for api in EXPLORED:
        lists = three_tool_lists(api, f"{api}-1", EXPLORED, others)
        assert lists == three_tool_lists(api, f"{api}-1", EXPLORED, others)  # drawn from the item id alone
        trained, new = lists["trained names"], lists["new names"]
        assert trained[1] == new[1] == api and len(set(trained)) == len(set(new)) == 3
        assert set(trained) <= set(EXPLORED) and not set(new) - {api} - set(others)
