"""python -m flows.pairs --config full --trials data/explore/full/trials.jsonl --verdicts data/filter/full/verdicts.jsonl --kept data/paraphrase/full/examples.jsonl --out data/pairs/full

The preference-pairs stage as a Prefect flow: what the explorer got wrong against what worked.
"""
from __future__ import annotations

from prefect import flow

from flows.common import run_cli, stage_parser
from ste.config import load_params
from tasks.dpo import pairs_stage


@flow(name="pairs")
def pairs_flow(config: str, trials: str, verdicts: str, kept: str, out: str, params_path: str = "params.yaml") -> dict:
    """Build one config's preference pairs from its trials, verdicts and kept examples."""
    return pairs_stage(load_params(params_path), config, trials, verdicts, kept, out)


def main() -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--config", required=True, help="the exploration config (its API list)")
    parser.add_argument("--trials", required=True)
    parser.add_argument("--verdicts", required=True)
    parser.add_argument("--kept", required=True, help="the kept examples and their paraphrases (examples.jsonl)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    load_params(args.params).explore.resolve(args.config)
    pairs_flow(args.config, args.trials, args.verdicts, args.kept, args.out, args.params)


if __name__ == "__main__":
    run_cli(main, stage=True)
