""".venv/bin/python benchmarks/explore_trace.py [--api get_country_capital] [--trials 3] [--config full]

Where an exploration's time goes on the local engine: one episode of `--trials` trials of one API with the
`params.yaml` settings of `--config`, on the embedded model, printing one line per request (prompt tokens, how
many came from kept KV states, how many were computed, new tokens, seconds, the step's last message), the
totals, and each trial's question, outcome and rejected question attempts. No call cache and nothing written
outside a temporary folder.
"""
from __future__ import annotations

import argparse
import tempfile
import time

from pathlib import Path

import yaml

from flows.common import use_process_env
from ste.config.params import parse_params
from ste.core.llm.embedded import embedded_model_dir
from ste.core.llm.local import LocalChatModel
from ste.core.io import read_jsonl
from ste.core.schemas import Trial
from ste.explore.runner import run_explore
from tasks.explore import registry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", default="get_country_capital")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--config", default="full")
    args = parser.parse_args()
    use_process_env()
    raw = yaml.safe_load(open("params.yaml", encoding="utf-8"))
    raw["explore"]["defaults"].update(apis=[args.api], episodes=1, trials_per_episode=args.trials)
    params = parse_params(raw)
    spec = params.llm.roles.explorer
    model = LocalChatModel(embedded_model_dir(params.llm.models_dir), precision=spec.precision,
                           kv_cache_tokens=spec.kv_cache_tokens, models_dir=params.llm.models_dir)
    generate, totals = model.generate, {"requests": 0, "computed": 0, "new": 0, "decode_s": 0.0}

    def traced(messages, decoding):
        reused, computed, start = model.kv.reused, model.kv.computed, time.perf_counter()
        out = generate(messages, decoding)
        took = time.perf_counter() - start
        totals.update(requests=totals["requests"] + 1, computed=totals["computed"] + model.kv.computed - computed,
                      new=totals["new"] + out.completion_tokens)
        print(f"prompt {out.prompt_tokens:5d}  kept {model.kv.reused - reused:5d}  computed "
              f"{model.kv.computed - computed:5d}  new {out.completion_tokens:4d}  {took:5.1f} s  "
              f"{messages[-1]['content'][:50]!r}", flush=True)
        return out

    model.generate = traced
    settings = params.explore.resolve(args.config)
    tools = registry(params.tools)
    tools.prepare(tools.select(settings.apis))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        run_explore(tools, model, settings, out, concurrency=1, local_explorer=True, progress=False)
        wall = time.perf_counter() - start
        trials = read_jsonl(Path(out) / "trials.jsonl", Trial)
    for t in trials:
        reasons = [r["reason"] for r in t.imagination.get("rejected", [])]
        print(f"trial {t.index}: query {t.query!r}, solved {t.solved}, rejected attempts {reasons}")
    print(f"{args.trials} trials, {totals['requests']} requests in {wall:.1f} s: {totals['computed']} prompt tokens "
          f"computed, {totals['new']} new tokens ({totals['new'] / wall:.1f} new tokens/s overall)")


if __name__ == "__main__":
    main()
