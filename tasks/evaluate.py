"""Evaluate task: one student mode (baseline, ICL or fine-tuned) on the gold test set."""
from __future__ import annotations

from pathlib import Path

from tasks.common import stage_task
from ste.config.evaluate import EvaluateParams
from ste.core.io import atomic_write_text, read_jsonl, write_json, write_jsonl
from ste.core.llm.base import ChatModel
from ste.core.schemas import Example, TestItem
from ste.core.testset import load_testset
from ste.core.tools import build_registry
from ste.core.tools.base import Registry
from ste.core.weights import student_model
from ste.evaluate.evaluate import predict, score
from ste.evaluate.items import eval_items, unseen_items
from ste.evaluate.leakage import training_overlap
from ste.evaluate.retrieval import Retriever


@stage_task
def evaluate_mode(params: EvaluateParams, mode: str, out_dir: str, testset: str, config: str | None = None,
                  demos_path: str | None = None, adapter_dir: str | None = None,
                  dpo_adapter: str | None = None) -> dict:
    """Predict and score one mode; writes predictions.jsonl, metrics.json, per_api.csv under out_dir/mode, and
    with `evaluate.unseen_apis` the same for those APIs under out_dir/mode/unseen (their metrics also under
    "unseen" in metrics.json). The trained modes load the SFT adapter, sft+dpo DPO's where it trained
    (`ste.core.weights.student_weights`)."""
    registry = build_registry(params.tools)
    seen, unseen = selections(params, registry, testset, config)
    retriever = None
    if mode == "icl":
        retriever = Retriever(read_jsonl(demos_path, Example), kind=params.evaluate.retriever)
    model = student_model(params.llm, mode, adapter_dir, dpo_adapter)
    out = Path(out_dir) / mode
    metrics = _predict_and_write(params, model, registry, seen, mode, retriever, out)
    metrics = {**metrics, "split": params.evaluate.split}
    if unseen[1]:
        metrics["unseen"] = _predict_and_write(params, model, registry, unseen, mode, retriever, out / "unseen")
    if retriever is not None:  # the kind the demonstrations came from: BM25 when the embedding model did not load
        metrics = {**metrics, **retriever.describe()}
    write_json(out / "metrics.json", metrics)
    return metrics


def _predict_and_write(params: EvaluateParams, model: ChatModel, registry: Registry,
                       selection: tuple[list[str], list[TestItem]], mode: str, retriever: Retriever | None,
                       out: Path) -> dict:
    """Score `selection` (its APIs, listed in the prompt, and their items); write predictions and per-API rates."""
    apis, items = selection
    predictions = predict(model, registry, items, apis, mode, demos_retriever=retriever, k=params.evaluate.icl_k,
                          max_new_tokens=params.evaluate.max_new_tokens, batch=params.evaluate.batch_size)
    metrics, rows = score(predictions)
    write_jsonl(out / "predictions.jsonl", predictions)
    _write_csv(out / "per_api.csv", rows)
    return metrics


def selections(params: EvaluateParams, registry: Registry, testset: str,
               config: str | None) -> tuple[tuple[list[str], list[TestItem]], tuple[list[str], list[TestItem]]]:
    """The seen and the unseen APIs of `config` (the defaults' without one), each with its gold items."""
    explored = (params.explore.resolve(config) if config else params.explore.defaults).apis
    gold = load_testset(testset)
    return (eval_items(params.evaluate, registry, gold, explored),
            unseen_items(params.evaluate, registry, gold, registry.select(explored)))


@stage_task(retries=0)
def leakage(params: EvaluateParams, config: str, examples_path: str, testset: str,
            pairs_path: str | None = None) -> dict:
    """How many of the config's evaluated items (seen and unseen APIs) its training data shows, by kind
    (`training_overlap`): its examples, and the replies of its DPO pairs (`pairs_path`)."""
    registry = build_registry(params.tools)
    (_, seen), (_, unseen) = selections(params, registry, testset, config)
    pairs = read_jsonl(pairs_path) if pairs_path else []
    replies = [m["content"] for pair in pairs for side in ("chosen", "rejected") for m in pair[side]]
    return training_overlap(seen + unseen, read_jsonl(examples_path, Example), registry, replies)


def _write_csv(path: Path, rows: list[dict]) -> None:
    import pandas as pd

    atomic_write_text(path, pd.DataFrame(rows).to_csv(index=False))
