"""DPO tasks: preference pairs from the exploration artifacts, then DPO of the fine-tuned student on them."""
from __future__ import annotations

from pathlib import Path

from tasks.common import stage_task
from ste.config import Params
from ste.dpo import train_dpo
from ste.exploit.filter import Verdict
from ste.exploit.pairs import export_pairs
from ste.finetune import is_untrained, mark_untrained
from ste.io import read_jsonl, write_json, write_jsonl
from ste.launch import launch
from ste.schemas import Example, Trial
from ste.student import base_weights
from ste.tools import build_registry


@stage_task
def pairs_stage(params: Params, config: str, trials_path: str, verdicts_path: str, kept_path: str,
                out_dir: str) -> dict:
    """trials.jsonl + verdicts.jsonl + examples.jsonl -> pairs.jsonl, summary.json (counts)."""
    registry = build_registry(params.tools)
    apis = registry.select(params.explore.resolve(config).apis)  # the student's prompt, as in SFT and evaluation
    pairs, counts = export_pairs(read_jsonl(trials_path, Trial), read_jsonl(verdicts_path, Verdict),
                                 read_jsonl(kept_path, Example), registry, apis)
    write_jsonl(Path(out_dir) / "pairs.jsonl", pairs)
    write_json(Path(out_dir) / "summary.json", counts)
    return counts


@stage_task(retries=0)
def dpo_stage(params: Params, config: str, sft_adapter: str, pairs_path: str, out_dir: str) -> dict:
    """SFT adapter + pairs.jsonl -> out_dir/adapter (the sft+dpo student), loss.csv, summary.json."""
    out = Path(out_dir)
    pairs = read_jsonl(pairs_path)
    # A marked folder means no DPO ran: the sft+dpo student is then the SFT student itself.
    reason = ("dpo.enabled is false" if not params.dpo.enabled else
              f"{sft_adapter}: the SFT student is untrained (no fine-tuning records)" if is_untrained(sft_adapter) else
              f"{pairs_path}: no preference pairs (no failed call met a successful one)" if not pairs else None)
    if reason:
        summary = mark_untrained(out, reason)
    else:
        checkpoints = Path(params.llm.models_dir).parent / "checkpoints" / f"{config}-dpo"
        base = base_weights(params)
        if params.dpo.processes > 1:  # N training processes (ste.launch), this one waits for them
            summary = launch("ste.dpo", params, processes=params.dpo.processes, checkpoints=checkpoints, model=base,
                             adapter=Path(sft_adapter), data=Path(pairs_path), out=out)
        else:
            summary = train_dpo(base, Path(sft_adapter), pairs, params.dpo, out, checkpoints)
    write_json(out / "summary.json", summary)
    return summary
