"""python -m flows.pipeline --config full        (or --all)

The whole STE DAG in one Prefect flow, outside DVC: explore (every config at once) -> filter -> paraphrase
(and preference pairs) -> fine-tune -> DPO -> evaluate (-> continual learning) -> report, with the same artifact paths as dvc.yaml.
DVC (`dvc repro`) is the way to run it incrementally; this flow is for a one-off run from Python or the UI.
"""
from __future__ import annotations

from prefect import flow

from flows.common import run_cli, stage_parser
from flows.continual import continual_flow
from flows.dpo import dpo_flow
from flows.evaluate import evaluate_flow
from flows.explore import explore_configs_flow
from flows.filter import filter_flow
from flows.finetune import finetune_flow
from flows.paraphrase import paraphrase_flow
from flows.report import report_flow
from ste.config.params import load_params


@flow(name="ste-pipeline")
def pipeline_flow(configs: list[str] | None = None, params_path: str = "params.yaml") -> str:
    """Run every stage for the given exploration configs (all of them when None), then the report."""
    params = load_params(params_path)
    configs = configs or list(params.explore.configs)
    evaluate_flow(modes=["baseline"], out="data/eval/baseline", metrics="metrics/baseline.json",
                  params_path=params_path)
    explore_configs_flow(runs={c: f"data/explore/{c}" for c in configs}, params_path=params_path)
    for c in configs:
        filter_flow(trials=f"data/explore/{c}/trials.jsonl", out=f"data/filter/{c}", params_path=params_path)
        paraphrase_flow(config=c, kept=f"data/filter/{c}/kept.jsonl", out=f"data/paraphrase/{c}",
                        params_path=params_path, trials=f"data/explore/{c}/trials.jsonl",
                        verdicts=f"data/filter/{c}/verdicts.jsonl")
        finetune_flow(config=c, data=f"data/paraphrase/{c}/sft.jsonl", out=f"models/{c}", params_path=params_path)
        dpo_flow(config=c, pairs=f"data/paraphrase/{c}/pairs.jsonl", examples=f"data/paraphrase/{c}/examples.jsonl",
                 adapter=f"models/{c}/adapter", out=f"models/{c}/dpo", params_path=params_path)
        evaluate_flow(modes=["icl", "finetuned", "sft+dpo"], out=f"data/eval/{c}", metrics=f"metrics/{c}.json",
                      config=c, demos=f"data/paraphrase/{c}/demos.jsonl", adapter=f"models/{c}/adapter",
                      dpo_adapter=f"models/{c}/dpo/adapter", params_path=params_path)
    if params.continual.config in configs:  # continual learning reuses that config's export
        for s in params.continual.settings:
            continual_flow(setting=s, data=f"data/paraphrase/{params.continual.config}", out=f"models/continual/{s}",
                           predictions=f"data/eval/continual/{s}", table=f"metrics/continual/{s}.csv",
                           metrics=f"metrics/continual/{s}.json", params_path=params_path)
    return report_flow("reports", params_path)


def main() -> None:
    parser = stage_parser(__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--config", action="append", help="an exploration config (repeatable)")
    group.add_argument("--all", action="store_true", help="every config in params.yaml")
    args = parser.parse_args()
    params = load_params(args.params)
    for c in args.config or []:
        params.explore.resolve(c)
    pipeline_flow(None if args.all else args.config, args.params)


if __name__ == "__main__":
    run_cli(main)
