"""python -m flows.report --explore data/explore --metrics metrics --continual metrics/continual --eval data/eval \
    --models models --paraphrase data/paraphrase --out reports --plots reports/plots

The report stage as a Prefect flow: reports/ablation.md and ablation.png (every rate with its 95% interval,
the students compared on the same items) and the data of the DVC plots (reports/plots/*.csv), from every
stage's outputs; each input folder is an argument (dvc.yaml names them). Two evaluation modes to compare
within each config: --compare FIRST:SECOND (repeatable; default finetuned:icl and sft+dpo:finetuned).
"""
from __future__ import annotations

from prefect import flow

from flows.common import run_cli, stage_parser
from ste.config.report import ReportParams
from ste.core.errors import ConfigError
from ste.report.report import MODE_PAIRS
from tasks.artifacts import publish_markdown
from tasks.common import timed
from tasks.report import write_report


@flow(name="report")
def report_flow(out: str, params_path: str, explore: str, metrics: str, continual: str, eval_dir: str, models: str,
                paraphrase: str, plots: str | None = None, mode_pairs: list[tuple[str, str]] = MODE_PAIRS) -> str:
    """The ablation report across all exploration configs and evaluation modes."""
    params = ReportParams.load(params_path)
    with timed("report"):
        text = write_report(list(params.explore.configs), list(params.evaluate.modes), mode_pairs, explore, metrics,
                            continual, eval_dir, out, plots or f"{out}/plots", models, paraphrase)
    return publish_markdown(text, "ablation-report", "The ablation report (reports/ablation.md)")


def mode_pair(text: str) -> tuple[str, str]:
    first, sep, second = text.partition(":")
    if not (sep and first and second):
        raise ConfigError(f"--compare {text!r}: give two evaluation modes as FIRST:SECOND, e.g. finetuned:icl")
    return first, second


def main() -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--explore", required=True, help="the explore outputs (<config>/summary.json)")
    parser.add_argument("--metrics", required=True, help="the metrics files (<config>.json, baseline.json)")
    parser.add_argument("--continual", required=True, help="the continual tables (<setting>.csv/.json)")
    parser.add_argument("--eval", required=True, help="the predictions (<config>/<mode>/predictions.jsonl)")
    parser.add_argument("--models", required=True, help="the training curves and DPO summaries (<config>/...)")
    parser.add_argument("--paraphrase", required=True, help="the export summaries (preference pairs)")
    parser.add_argument("--out", required=True, help="receives ablation.md and ablation.png")
    parser.add_argument("--plots", default=None, help="receives the DVC plot data (default: OUT/plots)")
    parser.add_argument("--compare", action="append", metavar="FIRST:SECOND",
                        help="two evaluation modes to compare within each config (repeatable)")
    args = parser.parse_args()
    ReportParams.load(args.params)
    pairs = [mode_pair(p) for p in args.compare] if args.compare else MODE_PAIRS
    report_flow(args.out, args.params, args.explore, args.metrics, args.continual, args.eval, args.models,
                args.paraphrase, args.plots, pairs)


if __name__ == "__main__":
    run_cli(main, stage=True)
