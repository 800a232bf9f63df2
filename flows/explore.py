"""python -m flows.explore --config full --out data/explore/full

The explore stage as a Prefect flow: one task per API, on the task runner params.yaml names
(`orchestration.task_runner`):
- `threads`: `explore.concurrency` APIs at once in this process;
- `dask`: a Dask cluster, local (in this process) or the scheduler at `orchestration.dask_address`.
  Its workers must see the output folder (a shared filesystem) and reach the LLM server.
Each API task appends to its own part file, so a killed run or a retried task resumes per API; the
last task merges the parts into trials.jsonl in a fixed order. Next step: Ray (prefect-ray's
RayTaskRunner) would plug into `task_runner` below the same way.
"""
from __future__ import annotations

from prefect import flow
from prefect.futures import wait
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from flows.common import run_cli, stage_parser
from ste.config import Params, load_params
from tasks.artifacts import publish_summary
from tasks.explore import explore_api, finish_explore, start_explore


def task_runner(params: Params) -> TaskRunner:
    """The Prefect task runner for the per-API tasks, as `orchestration` asks."""
    o, workers = params.orchestration, params.explore.concurrency
    if o.task_runner == "dask":
        from prefect_dask import DaskTaskRunner

        if o.dask_address:
            return DaskTaskRunner(address=o.dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": 1, "threads_per_worker": workers, "processes": False})
    return ThreadPoolTaskRunner(max_workers=workers)


@flow(name="explore")
def explore_flow(config: str = "full", out: str = "data/explore/full", params_path: str = "params.yaml") -> dict:
    """Simulated trial and error on every selected API, with the config's memory settings."""
    runner = task_runner(load_params(params_path))
    return publish_summary(explore_apis.with_options(task_runner=runner)(config, out, params_path), "explore", config)


@flow(name="explore-apis")
def explore_apis(config: str, out: str, params_path: str) -> dict:
    """Prepare the run, explore each API in its own task, merge the parts."""
    params = load_params(params_path)
    plan = start_explore(params, config, out)
    futures = [explore_api.with_options(task_run_name=f"explore-{api}").submit(params, plan, api)
               for api in plan.apis]
    wait(futures)  # every API runs to its end (its part is kept) before a failure is reported
    for future in futures:
        if future.state.is_failed():
            future.result()  # raises that API's own error (e.g. a rejected API key), not "trials missing"
    return finish_explore(plan)


def main() -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--config", required=True, help="a name under explore.configs")
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args()
    load_params(args.params).explore.resolve(args.config)  # fail fast, before Prefect starts
    explore_flow(args.config, args.out, args.params)


if __name__ == "__main__":
    run_cli(main, stage=True)
