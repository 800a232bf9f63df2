"""python -m flows.dpo --config full --pairs data/paraphrase/full/pairs.jsonl \
    --examples data/paraphrase/full/examples.jsonl --adapter models/full/adapter --out models/full/dpo

The DPO stage as a Prefect flow: the fine-tuned student learns from failures too, the explorer's (the config's
preference pairs) and its own (replies sampled on its training queries that fail when run, ste/dpo/onpolicy.py). It
continues the SFT adapter against the SFT student, frozen; with no pairs (or DPO switched off) it writes a
marked untrained adapter, and the sft+dpo student is the SFT student.
"""
from __future__ import annotations

from prefect import flow

from flows.common import run_cli, stage_parser
from ste.config.dpo import DPOParams
from tasks.artifacts import publish_summary
from tasks.common import timed, trained_steps


@flow(name="dpo")
def dpo_flow(config: str, pairs: str, examples: str, adapter: str, out: str, params_path: str = "params.yaml") -> dict:
    """Continue one config's SFT adapter with DPO on its preference pairs and its own failures."""
    from tasks.dpo import dpo_stage  # torch: imported once run_cli has set the process environment

    with timed(f"dpo@{config}") as timing:
        summary = dpo_stage(DPOParams.load(params_path), config, adapter, pairs, examples, out)
        timing.count("steps", trained_steps(summary))
    return publish_summary(summary, "dpo", config)


def main() -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--config", required=True, help="the exploration config (names the checkpoints)")
    parser.add_argument("--pairs", required=True, help="the exploration pairs (the paraphrase stage's pairs.jsonl)")
    parser.add_argument("--examples", required=True, help="the examples SFT trained on (examples.jsonl)")
    parser.add_argument("--adapter", required=True, help="the SFT adapter folder (the finetune stage's adapter/)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    DPOParams.load(args.params)
    dpo_flow(args.config, args.pairs, args.examples, args.adapter, args.out, args.params)


if __name__ == "__main__":
    run_cli(main, stage=True)
