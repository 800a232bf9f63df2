"""Filter task: keep the trials worth learning from, with every verdict kept for audit."""
from __future__ import annotations

from pathlib import Path

from tasks.common import stage_task
from ste.config.filter import FilterParams
from ste.core.errors import DataError
from ste.core.io import read_jsonl, write_json, write_jsonl
from ste.core.llm.factory import build_chat_model
from ste.core.schemas import Trial
from ste.core.tools import build_registry
from ste.filter.filter import filter_trials


@stage_task
def filter_stage(params: FilterParams, trials_path: str, out_dir: str) -> dict:
    """trials.jsonl -> kept.jsonl (examples), verdicts.jsonl (all trials), summary.json."""
    trials = read_jsonl(trials_path, Trial)
    if not trials:
        raise DataError(f"{trials_path}: no trials to filter (did exploration run with an empty API list?)")
    judge = build_chat_model(params.llm.roles.judge, params.llm) if params.filter.judge else None
    result = filter_trials(trials, build_registry(params.tools), judge, params.filter,
                           require_args_in_query=params.filter.args_in_query,
                           require_cited_observation=params.filter.cites_observation)
    out = Path(out_dir)
    write_jsonl(out / "kept.jsonl", result.examples)
    write_jsonl(out / "verdicts.jsonl", result.verdicts)
    write_json(out / "summary.json", result.summary)
    return result.summary
