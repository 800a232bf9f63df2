"""DPO task: preference training of the fine-tuned student on the pairs the paraphrase stage exported."""
from __future__ import annotations

from pathlib import Path

from tasks.common import stage_task
from ste.config import Params
from ste.dpo import train_dpo
from ste.finetune import is_untrained, mark_untrained
from ste.io import read_jsonl, write_json
from ste.launch import launch
from ste.student import base_weights


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
