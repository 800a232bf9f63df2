"""python -m flows.finetune --config full --data data/paraphrase/full/sft.jsonl --out models/full

The fine-tune stage as a Prefect flow.
"""
from __future__ import annotations

from prefect import flow

from flows.common import run_cli, stage_parser
from ste.config.finetune import FinetuneParams
from tasks.artifacts import publish_summary
from tasks.common import timed, trained_steps


@flow(name="finetune")
def finetune_flow(config: str, data: str, out: str, params_path: str = "params.yaml") -> dict:
    """Train the student on one config's exported records."""
    from tasks.finetune import finetune_stage  # torch: imported once run_cli has set the process environment

    with timed(f"finetune@{config}") as timing:
        summary = finetune_stage(FinetuneParams.load(params_path), data, out, config)
        timing.count("steps", trained_steps(summary))
    return publish_summary(summary, "finetune", config)


def main() -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--config", required=True, help="the exploration config (names the checkpoints)")
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    FinetuneParams.load(args.params)
    finetune_flow(args.config, args.data, args.out, args.params)


if __name__ == "__main__":
    run_cli(main, stage=True)
