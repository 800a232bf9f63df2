"""python -m flows.explore --config full --out data/explore/full

The explore stage as a Prefect flow (one run per exploration config).
"""
from __future__ import annotations

from prefect import flow

from flows.common import run_cli, stage_parser
from ste.config import load_params
from tasks.explore import explore


@flow(name="explore")
def explore_flow(config: str = "full", out: str = "data/explore/full", params_path: str = "params.yaml") -> dict:
    """Simulated trial and error on every selected API, with the config's memory settings."""
    return explore(load_params(params_path), config, out)


def main() -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--config", required=True, help="a name under explore.configs")
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args()
    load_params(args.params).explore.resolve(args.config)  # fail fast, before Prefect starts
    explore_flow(args.config, args.out, args.params)


if __name__ == "__main__":
    run_cli(main)
