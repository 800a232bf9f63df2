"""Explore task: simulated trial and error for one exploration config."""
from __future__ import annotations

from pathlib import Path

from tasks.common import stage_task
from ste.config import Params
from ste.explore import run_explore
from ste.llm.factory import build_chat_model
from ste.tools import build_registry


@stage_task
def explore(params: Params, config: str, out_dir: str) -> dict:
    """Explore the config's APIs; resumes from out_dir/trials.jsonl after a crash."""
    settings = params.explore.resolve(config)
    spec = params.llm.roles.explorer
    return run_explore(
        build_registry(params.tools),
        build_chat_model(spec, params.llm),
        settings,
        Path(out_dir),
        concurrency=params.explore.concurrency,
        local_explorer=spec.backend == "local",
        constrained=spec.use_constraints,
    )
