"""The continual flow on the tiny model: two trained batches and a skipped one, replay, chained adapters, resume."""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from ste.config.finetune import FinetuneSection
from ste.config.paraphrase import ParaphraseSection
from ste.core.io import read_json, read_jsonl, write_json, write_jsonl
from ste.core.schemas import Example
from ste.core.testset import load_testset
from ste.paraphrase.export import export_examples
from ste.training.finetune import finetune
from tests.helpers import run_cli_in_process

ROOT = Path(__file__).resolve().parents[1]
APIS = ["get_country_capital", "convert_units", "get_airport_by_code"]
BATCHES = [["get_country_capital", "convert_units"], ["number_to_words"], ["get_airport_by_code"]]
COUNTRIES = ["France", "Japan", "Kenya", "Peru", "Chile", "Spain", "Egypt", "Ghana", "Nepal", "Cuba"]
CODES = ["JFK", "LAX", "SFO", "NRT", "HND", "AMS", "FRA", "MAD", "DXB", "SIN"]
OUT = ["models/continual/replay", "data/eval/continual/replay", "metrics/continual/replay.csv",
       "metrics/continual/replay.json"]


def examples() -> list[Example]:
    out = [Example(id=f"cap-{i}", api="get_country_capital", query=f"Tell me the capital of {c}, please.",
                   arguments={"country": c}) for i, c in enumerate(COUNTRIES)]
    out += [Example(id=f"conv-{i}", api="convert_units", query=f"Please turn {i + 2} meters into feet.",
                    arguments={"value": i + 2, "from_unit": "meter", "to_unit": "foot"}) for i in range(10)]
    out += [Example(id=f"air-{i}", api="get_airport_by_code", query=f"Which airport has the IATA code {c} again?",
                    arguments={"code": c}) for i, c in enumerate(CODES)]
    return out


def make_workspace(root: Path, model_dir: Path, data: list[Example]) -> Path:
    """A project folder: a test set with three batches, the `full` config's export, params.yaml."""
    from ste.core.config import ToolsSection
    from ste.core.tools import build_registry

    testset = root / "data" / "testset"
    wanted = {api for b in BATCHES for api in b}
    items = [json.loads(line) for f in sorted((ROOT / "data" / "testset").glob("*.jsonl"))
             for line in f.read_text().splitlines() if line.strip()]
    write_jsonl(testset / "items.jsonl", [i for i in items if i["api"] in wanted])
    write_json(testset / "batches.json", BATCHES)
    export = root / "data" / "paraphrase" / "full"
    write_jsonl(export / "examples.jsonl", data)
    export_examples(data, build_registry(ToolsSection()), export, ParaphraseSection(final_answer_records=False),
                    apis=APIS)
    params = {
        "llm": {"cache": False, "models_dir": str(root / ".cache" / "models"),
                "roles": {"student": {"model": str(model_dir), "constrained": False}}},
        "explore": {"defaults": {"apis": APIS}, "configs": {"full": {}}},
        "finetune": {"epochs": 1, "lr": 1e-3, "batch_size": 8, "max_length": 1024},
        "evaluate": {"max_items_per_api": 2, "max_new_tokens": 8, "batch_size": 8},
        "continual": {"config": "full", "settings": {"replay": 0.2, "no_replay": 0.0}, "seed": 0},
    }
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    return root


@pytest.fixture(scope="module")
def workspace(tiny_model_dir, prefect_env, tmp_path_factory):
    """The replay setting run once, in-process, inside a scratch project folder."""
    from flows.continual import continual_flow

    root = make_workspace(tmp_path_factory.mktemp("continual"), tiny_model_dir, examples())
    cwd = os.getcwd()
    os.chdir(root)
    try:
        summary = continual_flow("replay", "data/paraphrase/full", *OUT, "data/testset")
    finally:
        os.chdir(cwd)
    return root, summary


def test_a_round_per_batch_with_data_and_the_table(workspace):
    root, summary = workspace
    assert summary["skipped_batches"] == [1] and summary["unbatched_apis"] == []
    rows = list(csv.DictReader(open(root / OUT[2])))
    assert [r["round"] for r in rows] == ["round 1 (batch 0)", "round 2 (batch 2)"]
    assert list(rows[0]) == ["round", "batch 0", "batch 2", "total"] and rows[0]["batch 2"] == ""
    assert all(0 <= float(r["total"]) <= 100 for r in rows)
    assert sorted(p.name for p in (root / OUT[0]).iterdir()) == ["round_1", "round_2"]

    from ste.report.continual import continual_section

    text = continual_section(root / "metrics" / "continual")
    assert "| round 2 (batch 2)" in text and "batch 0 · replay" in text and "Skipped batches" in text


def test_evaluation_covers_exactly_the_apis_seen_so_far(workspace):
    root, _ = workspace
    for k, seen in [(1, {"get_country_capital", "convert_units"}), (2, set(APIS))]:
        metrics = read_json(root / OUT[0] / f"round_{k}" / "metrics.json")
        predictions = read_jsonl(root / OUT[1] / f"round_{k}" / "predictions.jsonl")
        assert set(metrics["eval_apis"]) == seen == {p["api"] for p in predictions}
        assert len(predictions) == 2 * len(seen)  # evaluate.max_items_per_api
        batches = {f"batch {b}" for b in ([0] if k == 1 else [0, 2])}
        assert set(metrics["per_batch"]) == batches | {"total", "counts"}
        assert set(metrics["per_batch"]["counts"]) == batches | {"total"}
        assert metrics["per_batch"]["counts"]["total"] == [sum(p["correct"] for p in predictions), len(predictions)]


def test_replay_sample_and_no_leakage(workspace):
    root, _ = workspace
    first = read_json(root / OUT[0] / "round_1" / "metrics.json")
    second = read_json(root / OUT[0] / "round_2" / "metrics.json")
    assert first["replay_examples"] == 0 and first["fresh_examples"] == 20
    assert second["trained_apis"] == ["get_airport_by_code"] and second["fresh_examples"] == 10
    assert second["replay_examples"] == 4 and len(second["replay_ids"]) == 4  # 20% of batch 0's 20
    assert all(i.startswith(("cap-", "conv-")) for i in second["replay_ids"])
    from ste.continual.continual import round_training_set  # the same seeded sample as the planner's

    again = round_training_set(examples(), BATCHES, 2, 0.2, 0)
    assert [e.id for e in again if e.source == "continual_replay"] == second["replay_ids"]
    gold = {p["query"] for k in (1, 2) for p in read_jsonl(root / OUT[1] / f"round_{k}" / "predictions.jsonl")}
    assert not gold & {e.query for e in examples()}


def test_round_two_continues_round_one_adapter(workspace, tmp_path):
    root, _ = workspace
    first = root / OUT[0] / "round_1"
    assert read_json(first / "summary.json")["init_adapter"] is None
    second = read_json(root / OUT[0] / "round_2" / "summary.json")
    assert second["init_adapter"] == str(Path(OUT[0]) / "round_1" / "adapter")
    # And init_adapter really loads those weights: a near-zero learning rate leaves them as they were.
    model_dir = yaml.safe_load((root / "params.yaml").read_text())["llm"]["roles"]["student"]["model"]
    records = read_jsonl(root / "data" / "paraphrase" / "full" / "sft.jsonl")[:4]
    finetune(Path(model_dir), records, FinetuneSection(epochs=1, lr=1e-12, batch_size=4, max_length=1024),
             tmp_path / "o", tmp_path / "ckpt", init_adapter=first / "adapter")
    start = load_file(first / "adapter" / "adapter_model.safetensors")
    after = load_file(tmp_path / "o" / "adapter" / "adapter_model.safetensors")
    assert start.keys() == after.keys() and all(torch.allclose(start[k], after[k], atol=1e-7) for k in start)
    assert any(k.endswith("lora_B.weight") and start[k].abs().sum() > 0 for k in start)  # not a fresh adapter


def test_a_rerun_reuses_finished_rounds(workspace, prefect_env):
    from flows.continual import continual_flow

    root, _ = workspace
    first = root / OUT[0] / "round_1" / "adapter" / "adapter_model.safetensors"
    second = root / OUT[0] / "round_2" / "metrics.json"
    stamp = first.stat().st_mtime_ns
    second.unlink()  # as if killed before round 2 finished
    (root / OUT[0] / "round_3").mkdir()  # left by an earlier run with more batches
    cwd = os.getcwd()
    os.chdir(root)
    try:
        continual_flow("replay", "data/paraphrase/full", *OUT, "data/testset")
    finally:
        os.chdir(cwd)
    assert first.stat().st_mtime_ns == stamp and second.exists() and not (root / OUT[0] / "round_3").exists()


def test_cli_refuses_a_gold_query_in_the_training_data(tiny_model_dir, prefect_env, tmp_path, monkeypatch):
    gold = next(i for i in load_testset(ROOT / "data" / "testset") if i.api == "convert_units")
    leaked = examples() + [Example(id="leak", api="convert_units", query=gold.query, arguments=gold.arguments)]
    root = make_workspace(tmp_path, tiny_model_dir, leaked)
    monkeypatch.chdir(root)
    args = ["--data", "data/paraphrase/full", "--out", OUT[0], "--predictions", OUT[1], "--table", OUT[2],
            "--metrics", OUT[3], "--testset", "data/testset"]
    code, err = run_cli_in_process("continual", "--setting", "replay", *args)
    assert code == 2 and "gold test queries" in err and not (root / OUT[0]).exists()
    code, err = run_cli_in_process("continual", "--setting", "nope", *args)
    assert code == 2 and "params.yaml: continual.settings has no setting 'nope'" in err
