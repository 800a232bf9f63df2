"""Continual-learning tasks: plan the rounds, run one round (fine-tune, then evaluate), write the tables."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from tasks.common import stage_task
from ste.config.continual import ContinualParams
from ste.continual.continual import Plan, Round, check_no_leakage, plan_rounds, round_table, train_and_score
from ste.core.io import atomic_write_text, read_json, read_jsonl, write_json, write_jsonl
from ste.core.schemas import Example
from ste.core.testset import load_batches, load_testset
from ste.core.tools import build_registry
from ste.evaluate.items import eval_items
from ste.training.launch import checkpoint_dir


@stage_task(retries=0)
def plan_continual(params: ContinualParams, setting: str, data_dir: str, testset: str, general: str | None) -> Plan:
    """examples.jsonl + sft.jsonl of the reused config (+ the test set, the general pool) -> each round's training
    records and test items."""
    examples = read_jsonl(Path(data_dir) / "examples.jsonl", Example)
    records = read_jsonl(Path(data_dir) / "sft.jsonl")
    gold = load_testset(testset)
    check_no_leakage(examples, gold)  # every example trains in some round: check them all
    registry = build_registry(params.tools)
    # Test items of every API with examples (capped by evaluate.max_items_per_api); each round keeps its seen APIs'.
    have = {e.api for e in examples}
    evaluate = params.evaluate.model_copy(update={"apis": [a for a in registry.names() if a in have]})
    _, items = eval_items(evaluate, registry, gold)
    c = params.continual
    return plan_rounds(examples, records, load_batches(testset), items, c.replay_ratio(setting), c.seed,
                       c.general_ratio, general)


@stage_task(retries=0)
def run_round(params: ContinualParams, setting: str, rnd: Round, batches: list[list[str]], previous: dict | None,
              out_dir: str, predictions_dir: str) -> dict:
    """Fine-tune one round and score it; a round whose metrics.json matches its fingerprint is reused."""
    round_dir = Path(out_dir) / rnd.name
    done = read_json(round_dir / "metrics.json") if (round_dir / "metrics.json").exists() else None
    checkpoints = checkpoint_dir(params.llm, f"continual-{setting}-{rnd.name}")
    outcome = train_and_score(params, setting, rnd, batches, previous, round_dir, checkpoints, done)
    if not outcome.reused:
        write_json(round_dir / "summary.json", outcome.summary)
        write_jsonl(Path(predictions_dir) / rnd.name / "predictions.jsonl", outcome.predictions)
        write_json(round_dir / "metrics.json", outcome.result)  # written last: its presence marks the round done
    return outcome.result


@stage_task(retries=0)
def write_tables(plan: Plan, results: list[dict], out_dir: str, predictions_dir: str, table: str,
                 metrics: str) -> dict:
    """The round x batch CSV and the DVC metrics JSON; drops round folders left by an earlier, longer plan."""
    current = {r.name for r in plan.rounds}
    for folder in (Path(out_dir), Path(predictions_dir)):
        for old in folder.glob("round_*"):
            if old.name not in current:
                shutil.rmtree(old)
    atomic_write_text(table, pd.DataFrame(round_table(results)).to_csv(index=False))
    summary = {
        "rounds": {r["label"]: r["per_batch"] for r in results},
        "final_total": results[-1]["per_batch"]["total"],
        "skipped_batches": plan.skipped, "unbatched_apis": plan.unbatched,
    }
    write_json(metrics, summary)
    return summary
