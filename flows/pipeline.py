"""python -m flows.pipeline --config full        (or --all)

The whole STE DAG in one Prefect flow, outside DVC: explore -> filter -> paraphrase ->
fine-tune -> evaluate (-> continual learning) -> report, with the same artifact paths as dvc.yaml.
DVC (`dvc repro`) is the way to run it incrementally; this flow is for a one-off run from Python or the UI.
"""
from __future__ import annotations

from prefect import flow

from flows.common import run_cli, stage_parser
from flows.continual import continual_flow
from flows.evaluate import evaluate_flow
from flows.explore import explore_flow
from flows.filter import filter_flow
from flows.finetune import finetune_flow
from flows.paraphrase import paraphrase_flow
from flows.report import report_flow
from ste.config import load_params


@flow(name="ste-pipeline")
def pipeline_flow(configs: list[str] | None = None, params_path: str = "params.yaml") -> str:
    """Run every stage for the given exploration configs (all of them when None), then the report."""
    params = load_params(params_path)
    configs = configs or list(params.explore.configs)
    evaluate_flow(["baseline"], "data/eval/baseline", "metrics/baseline.json", params_path=params_path)
    for c in configs:
        explore_flow(c, f"data/explore/{c}", params_path)
        filter_flow(f"data/explore/{c}/trials.jsonl", f"data/filter/{c}", params_path)
        paraphrase_flow(c, f"data/filter/{c}/kept.jsonl", f"data/paraphrase/{c}", params_path)
        finetune_flow(c, f"data/paraphrase/{c}/sft.jsonl", f"models/{c}", params_path)
        evaluate_flow(["icl", "finetuned"], f"data/eval/{c}", f"metrics/{c}.json", c,
                      f"data/paraphrase/{c}/demos.jsonl", f"models/{c}/adapter", params_path)
    if params.continual.config in configs:  # continual learning reuses that config's export
        for s in params.continual.settings:
            continual_flow(s, f"data/paraphrase/{params.continual.config}", f"models/continual/{s}",
                           f"data/eval/continual/{s}", f"metrics/continual/{s}.csv", f"metrics/continual/{s}.json",
                           params_path)
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
