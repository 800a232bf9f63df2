"""DPO tasks: preference pairs from the exploration artifacts, then DPO of the fine-tuned student on them."""
from __future__ import annotations

from pathlib import Path

from tasks.common import stage_task
from ste.config import Params
from ste.dpo import train_dpo
from ste.errors import ConfigError
from ste.exploit.filter import Verdict
from ste.exploit.pairs import export_pairs
from ste.finetune import UNTRAINED, untrained
from ste.io import read_jsonl, write_json, write_jsonl
from ste.launch import launch
from ste.llm.embedded import resolve_model_dir
from ste.schemas import Example, Trial
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


@stage_task(retries=1)
def dpo_stage(params: Params, config: str, sft_adapter: str, pairs_path: str, out_dir: str) -> dict:
    """SFT adapter + pairs.jsonl -> out_dir/adapter (the sft+dpo student), loss.csv, summary.json."""
    spec = params.llm.roles.student
    if spec.backend != "local":
        raise ConfigError("params.yaml: llm.roles.student: DPO needs a local student (backend: local)")
    out = Path(out_dir)
    # A marked folder here means no DPO ran: the sft+dpo student is then the SFT student itself.
    if not params.dpo.enabled:
        return untrained(out, "dpo.enabled is false in params.yaml")
    if (Path(sft_adapter) / UNTRAINED).exists():
        return untrained(out, f"{sft_adapter}: the SFT student is untrained (no fine-tuning records)")
    pairs = read_jsonl(pairs_path)
    if not pairs:
        return untrained(out, f"{pairs_path}: no preference pairs (no failed call met a successful one)")
    checkpoints = Path(params.llm.models_dir).parent / "checkpoints" / f"{config}-dpo"
    base = resolve_model_dir(spec.model, params.llm.models_dir, key="llm.roles.student.model")
    if params.dpo.processes > 1:  # N training processes (ste.launch), this one waits for them
        summary = launch("ste.dpo", params, processes=params.dpo.processes, checkpoints=checkpoints, model=base,
                         adapter=Path(sft_adapter), data=Path(pairs_path), out=out)
    else:
        summary = train_dpo(base, Path(sft_adapter), pairs, params.dpo, out, checkpoints)
    write_json(out / "summary.json", summary)
    return summary
