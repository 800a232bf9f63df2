"""The evaluate stage's parts: which gold items a student is scored on (the APIs under test, the evaluated
split, a cap per API), and what an ICL run records about its demonstrations."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ste.config.evaluate import EvaluateSection
from ste.config.params import parse_params
from ste.core.config import ToolsSection
from ste.core.errors import ConfigError
from ste.core.io import write_jsonl
from ste.core.schemas import Example, TestItem
from ste.core.tools import build_registry
from ste.evaluate import retrieval
from ste.evaluate.items import eval_items, unseen_items
from tests.helpers import react_responder, stub_role
from tests.openai_stub import serve_stub


def item(api: str, n: int, split: str = "test") -> TestItem:
    return TestItem(id=f"{api}-{n}", api=api, query=f"question {n} about {api}", arguments={}, split=split)


GOLD = [item("convert_units", 1, "dev"), item("convert_units", 2), item("get_country_capital", 1),
        item("convert_units", 3), item("get_airport_by_code", 1), item("convert_units", 4),
        item("get_country_capital", 2, "dev")]


@pytest.fixture(scope="module")
def registry():
    return build_registry(ToolsSection())


@pytest.fixture(autouse=True)
def gold(monkeypatch):
    monkeypatch.setattr("tasks.evaluate.load_testset", lambda folder: list(GOLD))


def ids(items: list[TestItem]) -> list[str]:
    return [i.id for i in items]


def test_explored_apis_the_evaluated_split_and_the_cap(registry):
    explored = ["convert_units", "get_country_capital"]
    apis, items = eval_items(EvaluateSection(), registry, GOLD, explored)
    assert apis == explored
    assert ids(items) == ["convert_units-2", "get_country_capital-1", "convert_units-3", "convert_units-4"]
    _, items = eval_items(EvaluateSection(split="dev"), registry, GOLD, explored)
    assert ids(items) == ["convert_units-1", "get_country_capital-2"]
    _, items = eval_items(EvaluateSection(max_items_per_api=1), registry, GOLD, explored)
    assert ids(items) == ["convert_units-2", "get_country_capital-1"]


def test_an_explicit_selection_wins_over_the_explored_apis(registry):
    apis, items = eval_items(EvaluateSection(apis=["get_airport_by_code"]), registry, GOLD, ["convert_units"])
    assert apis == ["get_airport_by_code"] and ids(items) == ["get_airport_by_code-1"]
    with pytest.raises(ConfigError):
        eval_items(EvaluateSection(apis=["no_such_api"]), registry, GOLD)


def test_icl_metrics_name_the_retriever_actually_used(tmp_path, monkeypatch):
    """The embedding model does not load: the demonstrations come from BM25, and metrics.json says so and why."""
    from tasks.evaluate import evaluate_mode

    def broken():
        raise OSError("model files missing")

    monkeypatch.setattr(retrieval, "_encoder", broken)
    demos = tmp_path / "demos.jsonl"
    write_jsonl(demos, [Example(id="d1", api="convert_units", query="How many feet is 3 meters?",
                                arguments={"value": 3, "from_unit": "meter", "to_unit": "foot"})])
    with serve_stub(react_responder) as url:
        params = parse_params({"llm": {"cache": False, "roles": {"student": stub_role(url)}},
                               "evaluate": {"apis": ["convert_units"], "retriever": "embedding", "icl_k": 1}})
        metrics = evaluate_mode.fn(params, "icl", str(tmp_path / "out"), "gold", demos_path=str(demos))
    written = json.loads((tmp_path / "out" / "icl" / "metrics.json").read_text())
    assert written == metrics and metrics["n"] == 3  # GOLD's convert_units items of the test split
    assert metrics["retriever"] == "bm25" and "OSError: model files missing" in metrics["retriever_fallback"]


def test_leakage_counts_items_that_share_a_value_or_a_query_with_the_training_examples(tmp_path):
    from tasks.evaluate import leakage

    gold = [TestItem(id="u-1", api="convert_units", query="How many feet is 41 fathoms?",
                     arguments={"value": 41, "from_unit": "fathom", "to_unit": "foot"}),
            TestItem(id="u-2", api="convert_units", query="Convert 9 furlongs to meters.",
                     arguments={"value": 9, "from_unit": "furlong", "to_unit": "meter"})]
    examples = tmp_path / "examples.jsonl"
    write_jsonl(examples, [Example(id="e1", api="convert_units", query="What is 41 in cubits?",
                                   arguments={"value": 41, "from_unit": "cubit", "to_unit": "inch"})])
    params = parse_params({"explore": {"defaults": {"apis": ["convert_units"]}}})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("tasks.evaluate.load_testset", lambda folder: gold)
        counts = leakage.fn(params, "full", str(examples), "gold")
    assert counts["items"] == 2 and counts["shared_value"] == 1 and counts["ids"]["shared_value"] == ["u-1"]


def test_the_sft_dpo_student_is_the_dpo_adapter_or_else_the_sft_adapter(tmp_path, monkeypatch, prefect_env):
    """evaluate_flow hands each trained mode both adapters and `student_weights` picks: DPO's adapter, or the SFT
    adapter when DPO had no data. Its timings (each mode's too) go to logs/timings, not into the metrics."""
    import flows.evaluate as flow_module
    import tasks.evaluate as task_module
    from ste.core.io import TIMINGS_ENV
    from ste.core.weights import mark_untrained, student_weights

    seen = {}
    monkeypatch.setattr(task_module, "evaluate_mode", lambda params, mode, out, testset, config, demos, sft, dpo:
                        seen.setdefault(mode, student_weights(mode, sft, dpo)[1]) and {"n": 2})
    monkeypatch.setenv(TIMINGS_ENV, str(tmp_path / "timings"))
    params = tmp_path / "params.yaml"
    params.write_text("evaluate: {modes: [finetuned, sft+dpo]}\n")
    dpo = tmp_path / "dpo" / "adapter"
    run = flow_module.evaluate_flow.fn
    run(["finetuned", "sft+dpo"], str(tmp_path / "e"), str(tmp_path / "m.json"), "gold", adapter="sft", dpo_adapter=str(dpo),
        params_path=str(params))
    assert seen == {"finetuned": Path("sft"), "sft+dpo": dpo}
    assert json.loads((tmp_path / "m.json").read_text()) == {"finetuned": {"n": 2}, "sft+dpo": {"n": 2}}
    timing = json.loads((tmp_path / "timings" / "evaluate_baseline.json").read_text())  # no --config: the baseline's
    assert timing["counts"] == {"test items": 4} and set(timing["parts"]) == {"finetuned", "sft+dpo"}
    mark_untrained(dpo.parent, "no pairs")
    seen.clear()
    run(["finetuned", "sft+dpo"], str(tmp_path / "e"), str(tmp_path / "m.json"), "gold", adapter="sft", dpo_adapter=str(dpo),
        params_path=str(params))
    assert seen == {"finetuned": Path("sft"), "sft+dpo": Path("sft")}


def test_one_rule_decides_what_each_mode_scores(tmp_path):
    from ste.core.weights import mark_untrained, student_weights

    sft, dpo = tmp_path / "sft" / "adapter", tmp_path / "dpo" / "adapter"
    assert student_weights("icl", sft, dpo) == ("icl", None)
    assert student_weights("finetuned", sft, dpo) == ("finetuned", sft)
    assert student_weights("sft+dpo", sft, dpo) == ("sft+dpo", dpo)
    assert student_weights("sft+dpo", sft) == ("sft+dpo", sft)
    mark_untrained(dpo.parent, "no pairs")
    assert student_weights("sft+dpo", sft, dpo) == ("sft+dpo", sft)
    mark_untrained(sft.parent, "no records")
    assert student_weights("finetuned", sft, dpo) == ("baseline", None)
    assert student_weights("sft+dpo", sft, dpo) == ("baseline", None)


def test_a_served_student_is_asked_for_its_adapter_by_name(tmp_path, monkeypatch):
    """vLLM's LoRA convention: the model name is the adapter's path in the project; a retrained adapter is asked
    again (its hash is part of the cache key), an untrained one stands for the base model."""
    from tasks.evaluate import evaluate_mode

    adapter = tmp_path / "models" / "full" / "adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text('{"r": 8}')
    monkeypatch.chdir(tmp_path)

    def responder(messages, request):
        served = request["model"] == "models/full/adapter"
        return "Action: convert_units\nAction Input: {}" if served else "I would rather chat."

    with serve_stub(responder) as url:
        params = parse_params({"llm": {"cache": True, "cache_dir": str(tmp_path / "cache"),
                                       "roles": {"student": stub_role(url, model="base-model", load_adapters=True)}},
                               "evaluate": {"apis": ["convert_units"]}})
        metrics = evaluate_mode.fn(params, "finetuned", str(tmp_path / "out"), "gold", adapter_dir="models/full/adapter")
        assert metrics["correct"] == 1.0 and metrics["n"] == 3
        evaluate_mode.fn(params, "finetuned", str(tmp_path / "out"), "gold", adapter_dir="models/full/adapter")
        (adapter / "adapter_config.json").write_text('{"r": 16}')  # retrained: new weights, same name
        evaluate_mode.fn(params, "finetuned", str(tmp_path / "out"), "gold", adapter_dir="models/full/adapter")
        models = [r["model"] for r in url.requests]
        assert url.adapters == {"models/full/adapter": str(adapter.resolve())}  # registered at run time, once
        (adapter / "UNTRAINED").write_text("no data")
        base = evaluate_mode.fn(params, "finetuned", str(tmp_path / "out"), "gold", adapter_dir="models/full/adapter")
        assert url.requests[-1]["model"] == "base-model" and base["correct"] == 0.0
    assert models == ["models/full/adapter"] * 6  # 3 items, asked twice: once per adapter version


def test_unseen_apis_are_chosen_like_the_seen_ones_and_must_not_be_explored(registry):
    settings = EvaluateSection(unseen_apis=["get_airport_by_code"], max_items_per_api=1)
    apis, items = unseen_items(settings, registry, GOLD, ["convert_units"])
    assert apis == ["get_airport_by_code"] and ids(items) == ["get_airport_by_code-1"]
    assert unseen_items(EvaluateSection(), registry, GOLD, ["convert_units"]) == ([], [])
    with pytest.raises(ConfigError, match="get_airport_by_code explored by this config"):
        unseen_items(settings, registry, GOLD, ["convert_units", "get_airport_by_code"])


def test_unseen_apis_are_scored_apart_with_only_their_documentation_in_the_prompt(tmp_path):
    """A stubbed student over real HTTP: the seen items' prompts list the explored API, the unseen items' prompts
    list only the unseen one; both are scored and written, the unseen under metrics["unseen"]."""
    from tasks.evaluate import evaluate_mode

    prompts = []

    def responder(messages, request):
        prompts.append(messages[0]["content"])
        return react_responder(messages, request)

    with serve_stub(responder) as url:
        params = parse_params({"llm": {"cache": False, "roles": {"student": stub_role(url)}},
                               "explore": {"defaults": {"apis": ["convert_units"]}},
                               "evaluate": {"unseen_apis": ["get_airport_by_code"]}})
        metrics = evaluate_mode.fn(params, "baseline", str(tmp_path / "out"), "gold")
    assert metrics["n"] == 3 and metrics["unseen"]["n"] == 1  # GOLD's test items of each
    out = tmp_path / "out" / "baseline"
    assert json.loads((out / "metrics.json").read_text()) == metrics
    unseen = [json.loads(line) for line in (out / "unseen" / "predictions.jsonl").read_text().splitlines()]
    assert [p["id"] for p in unseen] == ["get_airport_by_code-1"]
    assert (out / "unseen" / "per_api.csv").exists()
    assert len(prompts) == 4
    assert sum("get_airport_by_code" in p and "convert_units" not in p for p in prompts) == 1
    assert sum("convert_units" in p and "get_airport_by_code" not in p for p in prompts) == 3
