"""Fine-tune task: LoRA (or full) fine-tuning of the student on the exported chat records."""
from __future__ import annotations

from pathlib import Path

from tasks.common import stage_task
from ste.config import Params
from ste.errors import ConfigError
from ste.finetune import UNTRAINED, finetune, untrained
from ste.io import read_jsonl, write_json
from ste.launch import launch
from ste.llm.embedded import resolve_model_dir

__all__ = ["UNTRAINED", "finetune_stage"]  # UNTRAINED: evaluate and dpo read the marker through here too


@stage_task(retries=1)
def finetune_stage(params: Params, data_path: str, out_dir: str, run_name: str) -> dict:
    """sft.jsonl -> out_dir/adapter, loss.csv, summary.json (checkpoints under .cache, for resume)."""
    spec = params.llm.roles.student
    if spec.backend != "local":
        raise ConfigError("params.yaml: llm.roles.student: fine-tuning needs a local student (backend: local)")
    records = read_jsonl(data_path)
    if not records:  # an ablation that kept nothing is a result, not a crash of the whole DAG
        return untrained(Path(out_dir), f"{data_path}: no fine-tuning records (filtering kept no trial)")
    checkpoints = Path(params.llm.models_dir).parent / "checkpoints" / run_name
    base = resolve_model_dir(spec.model, params.llm.models_dir, key="llm.roles.student.model")
    if params.finetune.processes > 1:  # N training processes (ste.launch), this one waits for them
        summary = launch("ste.finetune", params, processes=params.finetune.processes, checkpoints=checkpoints,
                         model=base, data=Path(data_path), out=Path(out_dir))
    else:
        summary = finetune(base, records, params.finetune, Path(out_dir), checkpoints)
    write_json(Path(out_dir) / "summary.json", summary)
    return summary
