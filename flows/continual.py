"""python -m flows.continual --setting replay --data data/paraphrase/full --out models/continual/replay \
    --predictions data/eval/continual/replay --table metrics/continual/replay.csv --metrics metrics/continual/replay.json \
    --testset data/testset --general data/general/instructions.jsonl

Continual learning with experience replay as a Prefect flow: one task per round. Round k fine-tunes on
the exported records of API batch k plus a replay sample of every earlier batch (continual.settings
names the ratio), starting from the previous round's adapter (continual.start_from), then scores the
test items of every API seen so far. Batches with no explored API are skipped. Nothing is explored
again: the data is continual.config's export. A re-run reuses every round that already finished.
"""
from __future__ import annotations

from prefect import flow

from flows.common import run_cli, stage_parser
from ste.config.continual import ContinualParams
from ste.core.errors import ConfigError
from tasks.artifacts import publish_summary
from tasks.common import timed
from tasks.continual import plan_continual, run_round, write_tables


@flow(name="continual")
def continual_flow(setting: str, data: str, out: str, predictions: str, table: str, metrics: str, testset: str,
                   general: str | None = None, params_path: str = "params.yaml") -> dict:
    """Run the rounds in order, each from the previous one's weights; write the round x batch table."""
    params = ContinualParams.load(params_path)
    with timed(f"continual@{setting}") as timing:
        plan = plan_continual(params, setting, data, testset, general)
        results, previous = [], None
        for rnd in plan.rounds:
            with timing.part(rnd.name):  # a reused round takes no time
                previous = run_round(params, setting, rnd, plan.batches, previous, out, predictions)
            results.append(previous)
        timing.count("rounds", len(results))
        summary = write_tables(plan, results, out, predictions, table, metrics)
    return publish_summary(summary, "continual", setting)


def main() -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--setting", required=True, help="a name in continual.settings (its replay ratio)")
    parser.add_argument("--data", required=True, help="the reused config's export (examples.jsonl, sft.jsonl)")
    parser.add_argument("--out", required=True, help="receives round_<k>/ (adapter, summary.json, metrics.json)")
    parser.add_argument("--predictions", required=True, help="receives round_<k>/predictions.jsonl")
    parser.add_argument("--table", required=True, help="the round x batch CSV")
    parser.add_argument("--metrics", required=True, help="the DVC metrics file to write")
    parser.add_argument("--testset", required=True, help="the gold test set's folder (*.jsonl, batches.json)")
    parser.add_argument("--general", help="the general instruction pool (read when continual.general_ratio > 0)")
    args = parser.parse_args()
    params = ContinualParams.load(args.params)
    params.continual.replay_ratio(args.setting)
    params.explore.resolve(params.continual.config)
    if params.llm.roles.student.backend != "local" and not params.finetune.base_model:
        raise ConfigError(f"{params.source}: llm.roles.student is served; continual learning fine-tunes, so set "
                          "finetune.base_model to a local folder of the student's base weights")
    continual_flow(args.setting, args.data, args.out, args.predictions, args.table, args.metrics, args.testset,
                   args.general, args.params)


if __name__ == "__main__":
    run_cli(main, stage=True)
