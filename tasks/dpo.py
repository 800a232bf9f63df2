"""DPO task: preference training of the fine-tuned student on the explorer's failures and its own."""
from __future__ import annotations

import gc
from pathlib import Path

from tasks.common import stage_task
from ste.core.config import Params
from ste.dpo.train import train_dpo
from ste.core.io import read_jsonl, write_json, write_jsonl
from ste.training.launch import launch
from ste.core.schemas import Example
from ste.core.weights import base_weights, is_untrained, mark_untrained


@stage_task(retries=0)
def dpo_stage(params: Params, config: str, sft_adapter: str, pairs_path: str, examples_path: str,
              out_dir: str) -> dict:
    """SFT adapter + the exploration pairs + the SFT examples -> out_dir/pairs.jsonl (every pair trained on),
    adapter/ (the sft+dpo student), loss.csv, summary.json."""
    out, settings = Path(out_dir), params.dpo
    pairs, on_policy = read_jsonl(pairs_path), None
    untrained_sft = is_untrained(sft_adapter)
    if settings.enabled and not untrained_sft and settings.on_policy_samples:
        student_pairs, on_policy = _on_policy(params, config, sft_adapter, examples_path)
        pairs += student_pairs
    write_jsonl(out / "pairs.jsonl", pairs)
    # A marked folder means no DPO ran: the sft+dpo student is then the SFT student itself.
    reason = ("dpo.enabled is false" if not settings.enabled else
              f"{sft_adapter}: the SFT student is untrained (no fine-tuning records)" if untrained_sft else
              "no preference pairs: no failed call of the explorer met a successful one, and no sampled reply of "
              "the student failed" if not pairs else None)
    if reason:
        summary = mark_untrained(out, reason)
    else:
        checkpoints = Path(params.llm.models_dir).parent / "checkpoints" / f"{config}-dpo"
        base = base_weights(params.llm, params.finetune.base_model)
        if settings.processes > 1:  # N training processes (ste.training.launch), this one waits for them
            summary = launch("ste.dpo.train", params, processes=settings.processes, checkpoints=checkpoints, model=base,
                             adapter=Path(sft_adapter), data=out / "pairs.jsonl", out=out)
        else:
            summary = train_dpo(base, Path(sft_adapter), pairs, settings, out, checkpoints)
    summary = {**summary, "exploration_pairs": len(pairs) - (on_policy or {}).get("pairs", 0), "on_policy": on_policy}
    write_json(out / "summary.json", summary)
    return summary


def _on_policy(params: Params, config: str, sft_adapter: str, examples_path: str) -> tuple[list[dict], dict]:
    """The SFT student's failed replies on its training queries, as pairs (ste/dpo/onpolicy.py), and their counts."""
    from ste.dpo.onpolicy import on_policy_pairs
    from ste.core.tools import build_registry
    from ste.core.weights import student_model

    registry = build_registry(params.tools)
    apis = registry.select(params.explore.resolve(config).apis)  # the prompt SFT trained with
    model = student_model(params.llm, "finetuned", sft_adapter)
    try:
        return on_policy_pairs(model, registry, apis, read_jsonl(examples_path, Example),
                               params.dpo.on_policy_samples, params.dpo.on_policy_temperature, params.dpo.seed,
                               params.evaluate.max_new_tokens)
    finally:
        del model
        gc.collect()  # the sampling model goes before the training models load
