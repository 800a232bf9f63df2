"""python -m flows.filter --config full --trials data/explore/full/trials.jsonl --out data/filter/full

The filter stage as a Prefect flow.
"""
from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.common import run_cli, stage_parser
from ste.config.filter import FilterParams
from tasks.artifacts import publish_summary
from tasks.common import timed
from tasks.filter import filter_stage


@flow(name="filter")
def filter_flow(trials: str, out: str, params_path: str = "params.yaml") -> dict:
    """Rule checks and the judge's three questions on every explored trial."""
    config = Path(out).name
    with timed(f"filter@{config}") as timing:
        summary = filter_stage(FilterParams.load(params_path), trials, out)
        timing.count("trials", summary["trials"])
    return publish_summary(summary, "filter", config)


def main() -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--config", help="the exploration config (for the run's name only)")
    parser.add_argument("--trials", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    FilterParams.load(args.params)
    filter_flow.with_options(flow_run_name=f"filter-{args.config}" if args.config else None)(
        args.trials, args.out, args.params)


if __name__ == "__main__":
    run_cli(main, stage=True)
