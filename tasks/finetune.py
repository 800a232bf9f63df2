"""Fine-tune task: LoRA (or full) fine-tuning of the student on the exported chat records."""
from __future__ import annotations

from pathlib import Path

from tasks.common import stage_task
from ste.core.config import Params
from ste.training.finetune import finetune
from ste.core.io import read_jsonl, write_json
from ste.training.launch import launch
from ste.core.weights import base_weights, mark_untrained


@stage_task(retries=0)
def finetune_stage(params: Params, data_path: str, out_dir: str, run_name: str) -> dict:
    """sft.jsonl -> out_dir/adapter, loss.csv, summary.json (checkpoints under .cache, for resume)."""
    records = read_jsonl(data_path)
    if not records:  # an ablation that kept nothing is a result: the evaluate stage scores the base model
        summary = mark_untrained(Path(out_dir), f"{data_path}: no fine-tuning records (filtering kept no trial)")
    else:
        checkpoints = Path(params.llm.models_dir).parent / "checkpoints" / run_name
        base = base_weights(params.llm, params.finetune.base_model)
        if params.finetune.processes > 1:  # N training processes (ste.training.launch), this one waits for them
            summary = launch("ste.training.finetune", params, processes=params.finetune.processes, checkpoints=checkpoints,
                             model=base, data=Path(data_path), out=Path(out_dir))
        else:
            summary = finetune(base, records, params.finetune, Path(out_dir), checkpoints)
    write_json(Path(out_dir) / "summary.json", summary)
    return summary
