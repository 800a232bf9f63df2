"""Fine-tune task: LoRA (or full) fine-tuning of the student on the exported chat records."""
from __future__ import annotations

from pathlib import Path

from tasks.common import stage_task
from ste.config.finetune import FinetuneParams
from ste.core.io import read_jsonl, write_json
from ste.core.weights import base_weights, mark_untrained
from ste.training.finetune import run_finetune
from ste.training.launch import checkpoint_dir


@stage_task(retries=0)
def finetune_stage(params: FinetuneParams, data_path: str, out_dir: str, run_name: str) -> dict:
    """sft.jsonl -> out_dir/adapter, loss.csv, summary.json (checkpoints under .cache, for resume)."""
    records = read_jsonl(data_path)
    if not records:  # an ablation that kept nothing is a result: the evaluate stage scores the base model
        summary = mark_untrained(Path(out_dir), f"{data_path}: no fine-tuning records (filtering kept no trial)")
    else:
        summary = run_finetune(base_weights(params.llm, params.finetune.base_model), records, params.finetune,
                               Path(out_dir), checkpoint_dir(params.llm, run_name))
    write_json(Path(out_dir) / "summary.json", summary)
    return summary
