"""Evaluate task: one student mode (baseline, ICL or fine-tuned) on the gold test set."""
from __future__ import annotations

from pathlib import Path

from tasks.common import stage_task
from tasks.finetune import UNTRAINED
from ste.config import Params
from ste.errors import ConfigError
from ste.evaluate.evaluate import predict, score
from ste.evaluate.retrieval import Retriever
from ste.finetune import load_student
from ste.io import read_jsonl, write_json, write_jsonl
from ste.llm.embedded import resolve_model_dir
from ste.llm.factory import build_chat_model
from ste.schemas import Example, TestItem
from ste.testset import load_testset
from ste.tools import build_registry
from ste.tools.base import Registry


def eval_items(params: Params, registry: Registry, config: str | None) -> tuple[list[str], list[TestItem]]:
    """The APIs under test and their gold items (evaluate.apis, capped per API)."""
    spec = params.evaluate.apis
    if spec == "explored":
        spec = (params.explore.resolve(config) if config else params.explore.defaults).apis
    apis = registry.select(spec)
    per_api: dict[str, int] = {}
    items = []
    for item in load_testset():
        if item.api in apis and item.split == params.evaluate.split and per_api.get(item.api, 0) < (params.evaluate.max_items_per_api or 10**9):
            per_api[item.api] = per_api.get(item.api, 0) + 1
            items.append(item)
    return apis, items


def student_model(params: Params, mode: str, adapter_dir: str | None):
    """The student as a chat model; the fine-tuned one is the base with the adapter merged in."""
    spec = params.llm.roles.student
    if mode == "finetuned" and (Path(adapter_dir) / UNTRAINED).exists():
        mode = "baseline"  # nothing was trained: the "fine-tuned" student is the base model (summary says why)
    if mode == "finetuned":
        if spec.backend != "local":
            raise ConfigError(f"{params.source}: llm.roles.student: the fine-tuned mode needs a local student")
        base = resolve_model_dir(spec.model, params.llm.models_dir, where=f"{params.source}: llm.roles.student.model")
        merged = load_student(base, Path(adapter_dir), Path(params.llm.models_dir) / "merged")
        spec = spec.model_copy(update={"model": str(merged)})
    return build_chat_model(spec, params.llm)


@stage_task
def evaluate_mode(params: Params, mode: str, out_dir: str, config: str | None = None,
                  demos_path: str | None = None, adapter_dir: str | None = None) -> dict:
    """Predict and score one mode; writes predictions.jsonl, metrics.json, per_api.csv under out_dir/mode."""
    registry = build_registry(params.tools)
    apis, items = eval_items(params, registry, config)
    retriever = None
    if mode == "icl":
        retriever = Retriever(read_jsonl(demos_path, Example), kind=params.evaluate.retriever)
    model = student_model(params, mode, adapter_dir)
    predictions = predict(model, registry, items, apis, mode, demos_retriever=retriever, k=params.evaluate.icl_k,
                          max_new_tokens=params.evaluate.max_new_tokens, batch=params.evaluate.batch_size)
    metrics, rows = score(predictions)
    out = Path(out_dir) / mode
    write_jsonl(out / "predictions.jsonl", predictions)
    write_json(out / "metrics.json", metrics)
    _write_csv(out / "per_api.csv", rows)
    return metrics


def _write_csv(path: Path, rows: list[dict]) -> None:
    import pandas as pd

    from ste.io import atomic_write_text

    atomic_write_text(path, pd.DataFrame(rows).to_csv(index=False))
