"""DPO task: preference training of the fine-tuned student on the explorer's failures and its own."""
from __future__ import annotations

import gc
from pathlib import Path

from tasks.common import stage_task
from ste.config.dpo import DPOParams
from ste.core.io import read_jsonl, write_json, write_jsonl
from ste.core.schemas import Example
from ste.core.weights import base_weights, is_untrained, mark_untrained
from ste.dpo.train import run_dpo, skip_reason
from ste.training.launch import checkpoint_dir


@stage_task(retries=0)
def dpo_stage(params: DPOParams, config: str, sft_adapter: str, pairs_path: str, examples_path: str,
              out_dir: str) -> dict:
    """SFT adapter + the exploration pairs + the SFT examples -> out_dir/pairs.jsonl (every pair trained on),
    adapter/ (the sft+dpo student), loss.csv, summary.json."""
    out, settings = Path(out_dir), params.dpo
    pairs, on_policy = read_jsonl(pairs_path), None
    if settings.enabled and not is_untrained(sft_adapter) and settings.on_policy_samples:
        student_pairs, on_policy = _on_policy(params, config, sft_adapter, examples_path)
        pairs += student_pairs
    write_jsonl(out / "pairs.jsonl", pairs)
    # A marked folder means no DPO ran: the sft+dpo student is then the SFT student itself.
    if reason := skip_reason(settings, Path(sft_adapter), pairs):
        summary = mark_untrained(out, reason)
    else:
        summary = run_dpo(base_weights(params.llm, params.finetune.base_model), Path(sft_adapter), pairs, settings,
                          out, checkpoint_dir(params.llm, f"{config}-dpo"))
    summary = {**summary, "exploration_pairs": len(pairs) - (on_policy or {}).get("pairs", 0), "on_policy": on_policy}
    write_json(out / "summary.json", summary)
    return summary


def _on_policy(params: DPOParams, config: str, sft_adapter: str, examples_path: str) -> tuple[list[dict], dict]:
    """The SFT student's failed replies on its training queries, as pairs (ste/dpo/onpolicy.py), and their counts."""
    from ste.core.tools import build_registry
    from ste.core.weights import student_model
    from ste.dpo.onpolicy import on_policy_pairs

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
