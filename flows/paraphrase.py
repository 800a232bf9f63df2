"""python -m flows.paraphrase --config full --kept data/filter/full/kept.jsonl --out data/paraphrase/full \
    --trials data/explore/full/trials.jsonl --verdicts data/filter/full/verdicts.jsonl \
    --general data/general/instructions.jsonl

The paraphrase + export stage as a Prefect flow: the examples balanced by paraphrase, exported as ICL
demonstrations and fine-tuning records, and (given --trials and --verdicts) the preference pairs of what the
explorer got wrong against what worked (pairs.jsonl, for DPO; ste/paraphrase/pairs.py).
"""
from __future__ import annotations

from prefect import flow

from flows.common import run_cli, stage_parser
from ste.config.paraphrase import ParaphraseParams
from tasks.artifacts import publish_summary
from tasks.common import timed
from tasks.paraphrase import paraphrase_stage


@flow(name="paraphrase")
def paraphrase_flow(config: str, kept: str, out: str, params_path: str = "params.yaml", trials: str | None = None,
                    verdicts: str | None = None, general: str | None = None) -> dict:
    """Balance the kept examples per API; export demonstrations, fine-tuning data and preference pairs."""
    with timed(f"paraphrase@{config}") as timing:
        summary = paraphrase_stage(ParaphraseParams.load(params_path), config, kept, out, trials, verdicts, general)
        timing.count("LLM calls", summary.get("calls", 0))
    return publish_summary(summary, "paraphrase", config)


def main() -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--config", required=True, help="the exploration config (its API list)")
    parser.add_argument("--kept", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--trials", help="the config's trials.jsonl (for the preference pairs)")
    parser.add_argument("--verdicts", help="the filter's verdicts.jsonl (for the preference pairs)")
    parser.add_argument("--general", help="the general instruction pool (read when paraphrase.general_ratio > 0)")
    args = parser.parse_args()
    ParaphraseParams.load(args.params).explore.resolve(args.config)
    paraphrase_flow(args.config, args.kept, args.out, args.params, args.trials, args.verdicts, args.general)


if __name__ == "__main__":
    run_cli(main, stage=True)
