"""python -m flows.evaluate --config full --mode icl --mode finetuned --mode sft+dpo \
    --demos data/paraphrase/full/demos.jsonl --adapter models/full/adapter --dpo-adapter models/full/dpo/adapter \
    --dpo-pairs models/full/dpo/pairs.jsonl --out data/eval/full --metrics metrics/full.json --testset data/testset

The evaluate stage as a Prefect flow: one task per mode, metrics gathered into one DVC metrics file, with
the config's leakage count: how many evaluated items share a value, a near-identical query or a query template with the
examples the student trained on or retrieved (its demonstrations, which are its training examples), or have a value
in a reply of its DPO pairs.
The sft+dpo student is the DPO adapter; where DPO had nothing to train on, it is the SFT adapter.
"""
from __future__ import annotations

from typing import get_args

from prefect import flow

from flows.common import run_cli, stage_parser
from ste.config.evaluate import EvaluateParams
from ste.core.errors import ConfigError
from ste.core.io import write_json
from ste.core.weights import Mode
from tasks.artifacts import publish_summary
from tasks.common import timed


@flow(name="evaluate")
def evaluate_flow(modes: list[str], out: str, metrics: str, testset: str, config: str | None = None,
                  demos: str | None = None, adapter: str | None = None, params_path: str = "params.yaml",
                  dpo_adapter: str | None = None, dpo_pairs: str | None = None) -> dict:
    """Evaluate each mode that params.yaml's evaluate.modes enables; write {mode: metrics, "leakage": counts}."""
    from tasks.evaluate import evaluate_mode, leakage  # torch: imported once run_cli has set the process environment

    params = EvaluateParams.load(params_path)
    results = {}
    with timed(f"evaluate@{config}" if config else "evaluate_baseline") as timing:
        for mode in modes:
            if mode in params.evaluate.modes:
                with timing.part(mode) as part:  # model loading included
                    results[mode] = evaluate_mode(params, mode, out, testset, config, demos, adapter, dpo_adapter)
                    part["test items"] = results[mode].get("n", 0)
                timing.count("test items", part["test items"])
        if config and demos:
            results["leakage"] = leakage(params, config, demos, testset, dpo_pairs)
        write_json(metrics, results)
    return publish_summary(results, "evaluate", config or "baseline")


def main() -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--config", help="the exploration config (its demonstrations and adapter)")
    parser.add_argument("--mode", action="append", required=True, choices=get_args(Mode))
    parser.add_argument("--demos", help="the config's examples: ICL demonstrations, and what leakage is counted against")
    parser.add_argument("--adapter", help="the fine-tuned student's adapter")
    parser.add_argument("--dpo-adapter", help="the sft+dpo student's adapter (DPO's output)")
    parser.add_argument("--dpo-pairs", help="DPO's preference pairs: their replies count in the leakage too")
    parser.add_argument("--out", required=True)
    parser.add_argument("--metrics", required=True, help="the DVC metrics file to write")
    parser.add_argument("--testset", required=True, help="the gold test set's folder (*.jsonl)")
    args = parser.parse_args()
    params = EvaluateParams.load(args.params)
    if args.config:
        params.explore.resolve(args.config)
    if "icl" in args.mode and not args.demos:
        raise ConfigError("--mode icl needs --demos (the demonstration pool)")
    if {"finetuned", "sft+dpo"} & set(args.mode) and not args.adapter:
        raise ConfigError("--mode finetuned and --mode sft+dpo need --adapter (the SFT student)")
    if "sft+dpo" in args.mode and not args.dpo_adapter:
        raise ConfigError("--mode sft+dpo needs --dpo-adapter")
    evaluate_flow(args.mode, args.out, args.metrics, args.testset, args.config, args.demos, args.adapter, args.params,
                  args.dpo_adapter, args.dpo_pairs)


if __name__ == "__main__":
    run_cli(main, stage=True)
