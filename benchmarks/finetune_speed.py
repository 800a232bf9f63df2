"""OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/finetune_speed.py [--steps 3] [--compare]

Seconds per optimizer step and peak RSS of the fine-tune loop (ste/training/loop.py) on the embedded model
(SmolLM2-135M, float32 CPU, LoRA of the `finetune` defaults), printed as figures and ratios. The records are
gold test queries with their gold calls behind the student's real tool-mode prompt (`student_messages`)
listing `--apis` built-in APIs; the queries all belong to the first two APIs, so a 2-API and an 8-API run
train on the very same targets behind a short and a long system prompt. Every micro-batch sends that shared
prompt through the model once, so a step should cost about what its target tokens cost, whatever the prompt.
Each configuration runs in its own process (peak RSS is per process): 8 APIs at batch 4 and 8, 2 APIs at
batch 4. --compare: the plain forward of whole rows against the shared-prefix forward, on the same batches.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flows.common import use_process_env

use_process_env()  # offline, passive OpenMP threads: before torch loads

from ste.config.finetune import FinetuneSection  # noqa: E402
from ste.core.config import ToolsSection
from ste.core.io import peak_rss_mb
from ste.core.llm.embedded import embedded_model_dir
from ste.core.react import format_call
from ste.core.student import student_messages
from ste.core.testset import load_testset
from ste.core.tools import build_registry
from ste.training.finetune import IGNORE, _batch_loss, collate, _load_model, encode, finetune, shared_prefix

TESTSET = Path(__file__).resolve().parents[1] / "data" / "testset"


def realistic_records(n: int, n_apis: int) -> list[dict]:
    """`n` gold items of the first two APIs, each behind a prompt listing the first `n_apis` APIs."""
    registry, items = build_registry(ToolsSection()), load_testset(TESTSET)
    apis = list(dict.fromkeys(i.api for i in items))[: max(2, n_apis)]
    picked = [i for i in items if i.api in apis[:2]][:n]
    return [{"messages": student_messages(registry, apis, i.query)
             + [{"role": "assistant", "content": format_call(i.api, i.arguments)}]} for i in picked]


class StepClock(logging.Handler):
    """The time of each "step i/n" line the training loop logs."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.times: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("step "):
            self.times.append(time.perf_counter())


def one(n_apis: int, batch: int, steps: int) -> dict:
    """Train `steps` steps in this process; seconds per step (the first, with warm-up, apart) and peak RSS."""
    from transformers import AutoTokenizer

    model_dir = embedded_model_dir()
    records = realistic_records(batch * steps, n_apis)
    tok = AutoTokenizer.from_pretrained(model_dir)
    rows = [encode(tok, r["messages"], 2048)[:2] for r in records]
    clock = StepClock()
    logging.getLogger("ste.training.loop").addHandler(clock)
    logging.getLogger("ste.training.loop").setLevel(logging.INFO)
    settings = FinetuneSection(batch_size=batch, epochs=1, max_length=2048)
    rss0 = peak_rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        finetune(model_dir, records, settings, Path(tmp) / "out", Path(tmp) / "ckpt", max_steps=steps)
    times = [b - a for a, b in zip([start] + clock.times, clock.times)]
    return {"apis": n_apis, "batch": batch, "prompt_tokens": sum(len(ids) for ids, _ in rows) // len(rows),
            "shared_prefix": shared_prefix(rows[:batch]),
            "target_tokens_per_step": sum(x != IGNORE for _, labels in rows for x in labels) // steps,
            "first_step_s": round(times[0], 2), "step_s": round(sum(times[1:]) / max(1, len(times) - 1), 2),
            "peak_rss_mb": peak_rss_mb(), "rss_before_mb": rss0}


def compare(batch: int, steps: int, n_apis: int) -> None:
    """Plain rows vs shared prefix on the same micro-batches (forward + backward, no optimizer)."""
    from transformers import AutoTokenizer

    model_dir = embedded_model_dir()
    tok = AutoTokenizer.from_pretrained(model_dir)
    rows = [encode(tok, r["messages"], 2048)[:2] for r in realistic_records(batch * steps, n_apis)]
    batches = [rows[i: i + batch] for i in range(0, len(rows), batch)]
    model = _load_model(model_dir, FinetuneSection())
    model.train()
    results = {}
    for share in (True, False):
        start = time.perf_counter()
        for micro in batches:
            n_targets = sum(x != IGNORE for _, labels in micro for x in labels[1:])
            _batch_loss(model, collate(micro, tok.pad_token_id), n_targets,
                        shared_prefix(micro) if share else 0).backward()
            model.zero_grad(set_to_none=True)
        results[share] = (time.perf_counter() - start) / len(batches)
    print(f"plain rows {results[False]:.2f} s/step, shared prefix {results[True]:.2f} s/step: "
          f"{results[False] / results[True]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--one", nargs=2, type=int, metavar=("APIS", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(*args.one, args.steps)))
        return
    if args.compare:
        compare(4, args.steps, 8)
        return
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)")
    runs = {}
    for apis, batch in ((8, 4), (8, 8), (2, 4)):
        out = subprocess.run([sys.executable, __file__, "--one", str(apis), str(batch), "--steps", str(args.steps)],
                             capture_output=True, text=True, check=True).stdout
        r = runs[apis, batch] = json.loads(out.strip().splitlines()[-1])
        print(f"{apis} APIs, batch {batch}: prompt ~{r['prompt_tokens']} tokens (shared {r['shared_prefix']}), "
              f"{r['target_tokens_per_step']} target tokens a step; first step {r['first_step_s']} s, then "
              f"{r['step_s']} s/step; peak RSS {r['peak_rss_mb']:.0f} MB; load {os.getloadavg()[0]:.2f}")
    a, b, c = runs[8, 4], runs[8, 8], runs[2, 4]
    print(f"batch 8 vs 4 (8 APIs): {b['step_s'] / a['step_s']:.2f}x the time for "
          f"{b['target_tokens_per_step'] / a['target_tokens_per_step']:.2f}x the target tokens")
    print(f"8 vs 2 APIs (batch 4, same targets): {a['step_s'] / c['step_s']:.2f}x the time for "
          f"{a['prompt_tokens'] / c['prompt_tokens']:.2f}x the prompt")


if __name__ == "__main__":
    main()
