"""python -m flows.explore --all --out data/explore        (or: --config full --out data/explore/full)

The explore stage as a Prefect flow: one task per (config, API), on the task runner params.yaml names
(`orchestration.task_runner`):
- `threads`: `explore.concurrency` API tasks at once in this process;
- `dask`: a Dask cluster, local (in this process) or the scheduler at `orchestration.dask_address`.
  Its workers must see the output folder (a shared filesystem) and reach the LLM server.
With `--all`, every config of params.yaml runs at once against one loaded explorer, each into
`<out>/<config>`: a request two configs send alike (every config's first trial, say) is computed once, and
what each config gets does not depend on the others running beside it. Each config resumes from its own fingerprint, so a
change to one config recomputes only that one. Each API task appends to its own part file, so a killed run
or a retried task resumes per API; the last task of a config merges its parts into trials.jsonl in a fixed
order. Next step: Ray (prefect-ray's RayTaskRunner) would plug into `task_runner` below the same way.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from prefect import flow
from prefect.futures import wait
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from flows.common import run_cli, stage_parser
from ste.config.explore import ExploreParams
from tasks.artifacts import publish_summary
from tasks.common import timed
from tasks.explore import explore_api, finish_explore, start_explore


def task_runner(params: ExploreParams) -> TaskRunner:
    """The Prefect task runner for the per-API tasks, as `orchestration` asks."""
    o, workers = params.orchestration, params.explore.concurrency
    if o.task_runner == "dask":
        from prefect_dask import DaskTaskRunner

        if o.dask_address:
            return DaskTaskRunner(address=o.dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": 1, "threads_per_worker": workers, "processes": False})
    return ThreadPoolTaskRunner(max_workers=workers)


@flow(name="explore")
def explore_flow(config: str, out: str, params_path: str = "params.yaml") -> dict:
    """Simulated trial and error on every selected API, with the config's memory settings."""
    return explore_configs_flow({config: out}, params_path, stage=f"explore@{config}")[config]


@flow(name="explore-all")
def explore_all_flow(out_root: str, params_path: str = "params.yaml") -> dict:
    """Every exploration config at once, each into `<out_root>/<config>`; folders of removed configs go."""
    configs = list(ExploreParams.load(params_path).explore.configs)
    for stale in Path(out_root).glob("*/run.json"):
        if stale.parent.name not in configs:
            shutil.rmtree(stale.parent)
    return explore_configs_flow({c: str(Path(out_root) / c) for c in configs}, params_path)


@flow(name="explore-configs")
def explore_configs_flow(runs: dict[str, str], params_path: str = "params.yaml", stage: str = "explore") -> dict:
    """Prepare each config's run, explore each (config, API) in its own task, merge each config's parts;
    `stage` names the run's timings (logs/timings/<stage>.json: wall time, peak RSS, trials run per minute)."""
    params = ExploreParams.load(params_path)
    with timed(stage) as timing:
        summaries = explore_apis.with_options(task_runner=task_runner(params))(runs, params_path)
        timing.count("trials", sum(s["trials"] - s.get("resumed_trials", 0) for s in summaries.values()))
    return {config: publish_summary(summary, "explore", config) for config, summary in summaries.items()}


@flow(name="explore-apis")
def explore_apis(runs: dict[str, str], params_path: str) -> dict:
    """The per-API tasks of `runs` (config -> output folder), API by API across configs."""
    params = ExploreParams.load(params_path)
    plans = {config: start_explore(params, config, out) for config, out in runs.items()}
    work = [(i, config, api) for config, plan in plans.items() for i, api in enumerate(plan.apis)]
    work.sort(key=lambda w: w[0])  # the configs' same API side by side (a stable sort): what they share runs once
    futures = [explore_api.with_options(task_run_name=f"explore-{config}-{api}").submit(params, plans[config], api)
               for _, config, api in work]
    wait(futures)  # every API runs to its end (its part is kept) before a failure is reported
    for future in futures:
        if future.state.is_failed():
            future.result()  # raises that API's own error (e.g. a rejected API key), not "trials missing"
    return {config: finish_explore(plan) for config, plan in plans.items()}


def main() -> None:
    parser = stage_parser(__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--config", help="one name under explore.configs (--out is its folder)")
    group.add_argument("--all", action="store_true", help="every config at once (--out is their parent folder)")
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args()
    params = ExploreParams.load(args.params)
    if args.all:
        explore_all_flow(args.out, args.params)
    else:
        params.explore.resolve(args.config)  # fail fast, before Prefect starts
        explore_flow(args.config, args.out, args.params)


if __name__ == "__main__":
    run_cli(main, stage=True)
