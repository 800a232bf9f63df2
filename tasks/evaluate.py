"""Evaluate task: one student mode (baseline, ICL or fine-tuned) on the gold test set."""
from __future__ import annotations

from pathlib import Path

from tasks.common import stage_task
from ste.config.evaluate import EvaluateParams
from ste.core.io import atomic_write_text, read_jsonl, write_json, write_jsonl
from ste.core.schemas import Example
from ste.core.testset import load_testset
from ste.core.tools import build_registry
from ste.core.weights import student_model
from ste.evaluate.evaluate import predict, score
from ste.evaluate.items import eval_items
from ste.evaluate.leakage import training_overlap
from ste.evaluate.retrieval import Retriever


@stage_task
def evaluate_mode(params: EvaluateParams, mode: str, out_dir: str, testset: str, config: str | None = None,
                  demos_path: str | None = None, adapter_dir: str | None = None,
                  dpo_adapter: str | None = None) -> dict:
    """Predict and score one mode; writes predictions.jsonl, metrics.json, per_api.csv under out_dir/mode.
    The trained modes load the SFT adapter, sft+dpo DPO's where it trained (`ste.core.weights.student_weights`)."""
    registry = build_registry(params.tools)
    explored = (params.explore.resolve(config) if config else params.explore.defaults).apis
    apis, items = eval_items(params.evaluate, registry, load_testset(testset), explored)
    retriever = None
    if mode == "icl":
        retriever = Retriever(read_jsonl(demos_path, Example), kind=params.evaluate.retriever)
    model = student_model(params.llm, mode, adapter_dir, dpo_adapter)
    predictions = predict(model, registry, items, apis, mode, demos_retriever=retriever, k=params.evaluate.icl_k,
                          max_new_tokens=params.evaluate.max_new_tokens, batch=params.evaluate.batch_size)
    metrics, rows = score(predictions)
    metrics = {**metrics, "split": params.evaluate.split}
    if retriever is not None:  # the kind the demonstrations came from: BM25 when the embedding model did not load
        metrics = {**metrics, **retriever.describe()}
    out = Path(out_dir) / mode
    write_jsonl(out / "predictions.jsonl", predictions)
    write_json(out / "metrics.json", metrics)
    _write_csv(out / "per_api.csv", rows)
    return metrics


@stage_task(retries=0)
def leakage(params: EvaluateParams, config: str, examples_path: str, testset: str) -> dict:
    """How many of the config's evaluated items its training data shows, by kind (`training_overlap`)."""
    registry = build_registry(params.tools)
    _, items = eval_items(params.evaluate, registry, load_testset(testset), params.explore.resolve(config).apis)
    return training_overlap(items, read_jsonl(examples_path, Example), registry)


def _write_csv(path: Path, rows: list[dict]) -> None:
    import pandas as pd

    atomic_write_text(path, pd.DataFrame(rows).to_csv(index=False))
