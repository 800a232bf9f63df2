"""Continual-learning tasks: plan the rounds, run one round (fine-tune, then evaluate), write the tables."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pandas as pd

from tasks.common import stage_task
from tasks.evaluate import eval_items, student_model
from ste.config import Params
from ste.continual import Plan, Round, batch_scores, check_no_leakage, plan_rounds, round_fingerprint
from ste.continual_report import round_table
from ste.evaluate.evaluate import predict, score
from ste.finetune import finetune
from ste.io import atomic_write_text, read_json, read_jsonl, write_json, write_jsonl
from ste.llm.embedded import resolve_model_dir
from ste.schemas import Example
from ste.testset import load_batches, load_testset
from ste.tools import build_registry

log = logging.getLogger(__name__)


@stage_task(retries=0)
def plan_continual(params: Params, setting: str, data_dir: str) -> Plan:
    """examples.jsonl + sft.jsonl of the reused config -> each round's training records and test items."""
    examples = read_jsonl(Path(data_dir) / "examples.jsonl", Example)
    records = read_jsonl(Path(data_dir) / "sft.jsonl")
    check_no_leakage(examples, load_testset())  # every example trains in some round: check them all
    registry = build_registry(params.tools)
    have = {e.api for e in examples}
    # Test items of every API with examples (capped by evaluate.max_items_per_api); each round keeps its seen APIs'.
    evaluate = params.evaluate.model_copy(update={"apis": [a for a in registry.names() if a in have]})
    _, items = eval_items(params.model_copy(update={"evaluate": evaluate}), registry, None)
    c = params.continual
    return plan_rounds(examples, records, load_batches(), items, c.replay_ratio(setting), c.seed, c.general_ratio)


@stage_task(retries=0)
def run_round(params: Params, setting: str, rnd: Round, previous: dict | None, out_dir: str,
              predictions_dir: str) -> dict:
    """Fine-tune one round (from the previous round's weights or the base) and score it on the APIs seen so far.

    A round whose metrics.json matches its fingerprint (same data, settings and starting point) is reused.
    """
    lora = params.finetune.method == "lora"
    base = resolve_model_dir(params.llm.roles.student.model, params.llm.models_dir)
    chained = previous is not None and params.continual.start_from == "previous"
    model_dir, init = base, None
    if chained:  # LoRA continues the previous adapter; full fine-tuning continues the previous model
        model_dir, init = (base, Path(previous["weights"])) if lora else (Path(previous["weights"]), None)
    registry = build_registry(params.tools)
    # The student's prompt lists the reused config's APIs, as in its exported records.
    prompt_apis = registry.select(params.explore.resolve(params.continual.config).apis)
    fingerprint = round_fingerprint(
        rnd, str(base.resolve()), params.llm.roles.student.model_dump(), params.finetune.model_dump(),
        params.evaluate.max_new_tokens,
        params.tools.model_dump(), prompt_apis, previous["fingerprint"] if chained else None)
    round_dir = Path(out_dir) / rnd.name
    weights = round_dir / ("adapter" if lora else "model")
    if (round_dir / "metrics.json").exists() and weights.exists():
        done = read_json(round_dir / "metrics.json")
        if done.get("fingerprint") == fingerprint:
            log.info("%s: finished earlier with the same data and settings; reused", rnd.label)
            return done

    checkpoints = Path(params.llm.models_dir).parent / "checkpoints" / f"continual-{setting}-{rnd.name}"
    summary = finetune(model_dir, rnd.records, params.finetune, round_dir, checkpoints, init_adapter=init)
    write_json(round_dir / "summary.json", summary)

    predictions = predict(student_model(params, "finetuned", str(weights)), registry, rnd.items, prompt_apis,
                          "finetuned", max_new_tokens=params.evaluate.max_new_tokens,
                          batch=params.evaluate.batch_size)
    overall, per_api = score(predictions)
    write_jsonl(Path(predictions_dir) / rnd.name / "predictions.jsonl", predictions)
    replayed = [e.id for e in rnd.examples if e.source == "continual_replay"]
    result = {
        "round": rnd.number, "batch": rnd.batch, "label": rnd.label, "setting": setting,
        "replay_ratio": params.continual.replay_ratio(setting), "start_from": params.continual.start_from,
        "trained_apis": rnd.apis, "eval_apis": rnd.seen, "test_items": len(rnd.items),
        "fresh_examples": len(rnd.examples) - len(replayed), "replay_examples": len(replayed),
        "records": len(rnd.records), "general_records": sum(r.get("kind") == "general" for r in rnd.records),
        "replay_ids": replayed, "init": str(init or model_dir), "weights": str(weights),
        "per_batch": batch_scores(predictions, load_batches()), "overall": overall, "per_api": per_api,
        "fingerprint": fingerprint,
    }
    write_json(round_dir / "metrics.json", result)  # written last: its presence marks the round done
    return result


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
