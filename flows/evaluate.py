"""python -m flows.evaluate --config full --mode icl --mode finetuned --demos data/paraphrase/full/demos.jsonl \
    --adapter models/full/adapter --out data/eval/full --metrics metrics/full.json

The evaluate stage as a Prefect flow: one task per mode, metrics gathered into one DVC metrics file.
"""
from __future__ import annotations

from prefect import flow

from flows.common import run_cli, stage_parser
from ste.config import load_params
from ste.errors import ConfigError
from ste.io import write_json
from tasks.artifacts import publish_summary


@flow(name="evaluate")
def evaluate_flow(modes: list[str], out: str, metrics: str, config: str | None = None, demos: str | None = None,
                  adapter: str | None = None, params_path: str = "params.yaml") -> dict:
    """Evaluate each mode that params.yaml's evaluate.modes enables; write {mode: metrics}."""
    from tasks.evaluate import evaluate_mode  # torch: imported once run_cli has set the process environment

    params = load_params(params_path)
    results = {}
    for mode in modes:
        if mode in params.evaluate.modes:
            results[mode] = evaluate_mode(params, mode, out, config, demos, adapter)
    write_json(metrics, results)
    return publish_summary(results, "evaluate", config or "baseline")


def main() -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--config", help="the exploration config (its demonstrations and adapter)")
    parser.add_argument("--mode", action="append", required=True, choices=["baseline", "icl", "finetuned"])
    parser.add_argument("--demos")
    parser.add_argument("--adapter")
    parser.add_argument("--out", required=True)
    parser.add_argument("--metrics", required=True, help="the DVC metrics file to write")
    args = parser.parse_args()
    params = load_params(args.params)
    if args.config:
        params.explore.resolve(args.config)
    if "icl" in args.mode and not args.demos:
        raise ConfigError("--mode icl needs --demos (the demonstration pool)")
    if "finetuned" in args.mode and not args.adapter:
        raise ConfigError("--mode finetuned needs --adapter")
    evaluate_flow(args.mode, args.out, args.metrics, args.config, args.demos, args.adapter, args.params)


if __name__ == "__main__":
    run_cli(main, stage=True)
