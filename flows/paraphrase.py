"""python -m flows.paraphrase --config full --kept data/filter/full/kept.jsonl --out data/paraphrase/full

The paraphrase + export stage as a Prefect flow.
"""
from __future__ import annotations

from prefect import flow

from flows.common import run_cli, stage_parser
from ste.config import load_params
from tasks.artifacts import publish_summary
from tasks.paraphrase import paraphrase_stage


@flow(name="paraphrase")
def paraphrase_flow(config: str, kept: str, out: str, params_path: str = "params.yaml") -> dict:
    """Balance the kept examples per API and export demonstrations and fine-tuning data."""
    return publish_summary(paraphrase_stage(load_params(params_path), config, kept, out), "paraphrase", config)


def main() -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--config", required=True, help="the exploration config (its API list)")
    parser.add_argument("--kept", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    load_params(args.params).explore.resolve(args.config)
    paraphrase_flow(args.config, args.kept, args.out, args.params)


if __name__ == "__main__":
    run_cli(main, stage=True)
