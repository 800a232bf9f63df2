"""Explore tasks: prepare a run, explore one API (the unit a task runner spreads out), merge the parts."""
from __future__ import annotations

import threading

from tasks.common import stage_task
from ste.config.explore import ExploreParams
from ste.core.config import ToolsSection
from ste.core.llm.base import ChatModel
from ste.core.llm.factory import build_chat_model
from ste.core.tools import Registry, build_registry
from ste.explore.runner import RunPlan, finish_run, run_explore_api, start_run

_REGISTRIES: dict[str, Registry] = {}
_LOCK = threading.Lock()


def registry(tools: ToolsSection) -> Registry:
    """The tool registry, built once per process (a build costs 0.2-2 s of CPU; a worker runs many API tasks)."""
    key = tools.model_dump_json()
    with _LOCK:
        if key not in _REGISTRIES:
            _REGISTRIES[key] = build_registry(tools)
        return _REGISTRIES[key]


def explorer(params: ExploreParams) -> ChatModel:
    """The explorer role's model (a local model is loaded once per process, see ste.core.llm.factory)."""
    return build_chat_model(params.llm.roles.explorer, params.llm)


@stage_task(retries=0)
def start_explore(params: ExploreParams, config: str, out_dir: str) -> RunPlan:
    """Prepare out_dir for the config's run (resume or start fresh); return the plan every API task gets."""
    spec = params.llm.roles.explorer
    return start_run(registry(params.tools), explorer(params), params.explore.resolve(config), out_dir,
                     local_explorer=spec.backend == "local", constrained=spec.use_constraints)


@stage_task
def explore_api(params: ExploreParams, plan: RunPlan, api: str) -> int:
    """Run one API's missing trials into its part file; a retry resumes from that part. The API's data is loaded
    first (once per process): no trial's timed tool call loads it, and data that does not load fails the task."""
    tools = registry(params.tools)
    tools.prepare([api])
    return run_explore_api(tools, explorer(params), plan, api)


@stage_task(retries=0)
def finish_explore(plan: RunPlan) -> dict:
    """Merge the parts into trials.jsonl and write summary.json (fails, naming them, if an API is unfinished)."""
    return finish_run(plan)
