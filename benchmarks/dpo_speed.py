"""OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/dpo_speed.py [--steps 3] [--batch 4] [--apis 8] [--trl-steps 1]

Speed and memory of DPO steps on the embedded model (float32 CPU): the builtin engine (ste/dpo/train.py: our loop,
the shared prompt through the model once per micro-batch, reference log-probs computed once up front) against
TRL's DPOTrainer (ste/dpo/trl_engine.py: every row whole, policy and reference, every step). The pairs are shaped
like real ones: the student's tool-mode prompt listing `--apis` APIs (the descriptions are most of its
tokens), a gold test query, its gold call as "chosen" and the same call with one argument renamed (an
invalid_args failure) as "rejected". Without --adapter, a fresh LoRA adapter of the `finetune` defaults plays
the SFT student (its weights do not change the cost). Each engine runs in its own process (peak RSS is per
process); prints seconds per step (the first, with warm-up, apart), the reference pass, peak RSS and ratios.
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
from contextlib import nullcontext
from pathlib import Path

from flows.common import use_process_env

use_process_env()  # offline, passive OpenMP threads: before torch loads

from ste.config.dpo import DPOSection
from ste.config.finetune import FinetuneSection
from ste.core.config import ToolsSection
from ste.core.io import peak_rss_mb
from ste.core.llm.embedded import embedded_model_dir
from ste.core.react import format_call
from ste.core.student import student_messages
from ste.core.testset import load_testset
from ste.core.tools import build_registry
from ste.dpo.train import fitting_pairs, train_dpo
from ste.dpo.trl_engine import dpo_trainer, scored_targets_only

TESTSET = Path(__file__).resolve().parents[1] / "data" / "testset"


def realistic_pairs(n: int, n_apis: int) -> list[dict]:
    registry = build_registry(ToolsSection())
    items = load_testset(TESTSET)
    apis = list(dict.fromkeys(i.api for i in items))[:n_apis]
    picked = [i for i in items if i.api in apis][:: max(1, len([i for i in items if i.api in apis]) // n)][:n]
    pairs = []
    for item in picked:
        key = next(iter(item.arguments))
        broken = {(f"{key}_name" if k == key else k): v for k, v in item.arguments.items()}
        pairs.append({"prompt": student_messages(registry, apis, item.query),
                      "chosen": [{"role": "assistant", "content": format_call(item.api, item.arguments)}],
                      "rejected": [{"role": "assistant", "content": format_call(item.api, broken)}],
                      "kind": "within_trial"})
    return pairs


def fresh_adapter(model_dir: Path, folder: Path) -> Path:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    f = FinetuneSection()
    get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir), LoraConfig(
        r=f.lora_r, lora_alpha=f.lora_alpha, target_modules=list(f.lora_targets), task_type="CAUSAL_LM",
    )).save_pretrained(folder)
    return folder


class Clock(logging.Handler):
    """When the training loop logs each step, and how long the reference pass took."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.steps: list[float] = []
        self.reference = ""

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if msg.startswith("step "):
            self.steps.append(time.perf_counter())
        elif msg.startswith("reference log-probs"):
            self.reference = msg


def builtin(model_dir: Path, adapter: Path, pairs: list[dict], settings: DPOSection, steps: int, tmp: Path) -> tuple:
    clock = Clock()
    for name in ("ste.training.loop", "ste.dpo.train"):
        logging.getLogger(name).addHandler(clock)
        logging.getLogger(name).setLevel(logging.INFO)
    start = time.perf_counter()
    train_dpo(model_dir, adapter, pairs, settings, tmp / "out", tmp / "ckpt", max_steps=steps)
    return [b - a for a, b in zip([start] + clock.steps, clock.steps)], clock.reference


def trl(model_dir: Path, adapter: Path, pairs: list[dict], settings: DPOSection, steps: int, tmp: Path,
        all_positions: bool) -> tuple:
    from transformers import TrainerCallback

    trainer = dpo_trainer(model_dir, adapter, pairs, settings, tmp / "run")
    trainer.args.max_steps = steps
    ends: list[float] = []

    class StepEnd(TrainerCallback):
        def on_step_end(self, a, state, control, **kw):
            ends.append(time.perf_counter())

    trainer.add_callback(StepEnd())
    start = time.perf_counter()
    with scored_targets_only() if not all_positions else nullcontext():
        trainer.train()
    return [b - a for a, b in zip([start] + ends, ends)], "computed at every step"


def one(engine: str, args: argparse.Namespace) -> dict:
    from transformers import AutoTokenizer

    model_dir = args.model or embedded_model_dir()
    tmp = Path(tempfile.mkdtemp(prefix="dpo-speed-"))
    adapter = args.adapter or fresh_adapter(model_dir, tmp / "adapter")
    steps = args.steps if engine == "builtin" else args.trl_steps
    settings = DPOSection(batch_size=args.batch, epochs=1, engine=engine,
                          gradient_checkpointing=args.gradient_checkpointing)
    tok = AutoTokenizer.from_pretrained(model_dir)
    pairs, _ = fitting_pairs(tok, realistic_pairs(steps * args.batch, args.apis), settings.max_length)
    tokens = sum(len(tok(tok.apply_chat_template(p["prompt"] + p[k], tokenize=False))["input_ids"])
                 for p in pairs[: args.batch] for k in ("chosen", "rejected"))
    rss0 = peak_rss_mb()
    if engine == "builtin":
        times, reference = builtin(model_dir, adapter, pairs, settings, steps, tmp)
    else:
        times, reference = trl(model_dir, adapter, pairs, settings, steps, tmp, args.all_positions)
    return {"engine": engine, "pairs": len(pairs), "tokens_per_step": tokens, "first_step_s": round(times[0], 2),
            "later_steps_s": [round(t, 2) for t in times[1:]], "reference": reference,
            "peak_rss_mb": peak_rss_mb(), "rss_before_mb": rss0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a base model folder (default: the embedded model)")
    parser.add_argument("--adapter", type=Path, help="an SFT LoRA adapter of that model (default: a fresh one)")
    parser.add_argument("--steps", type=int, default=3, help="builtin engine steps")
    parser.add_argument("--trl-steps", type=int, default=1, help="TRL steps (slow)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--apis", type=int, default=8)
    parser.add_argument("--all-positions", action="store_true", help="TRL's CPU default: score prompt tokens too")
    parser.add_argument("--gradient-checkpointing", action="store_true", help="dpo.gradient_checkpointing: true")
    parser.add_argument("--engines", nargs="+", default=["builtin", "trl"], choices=["builtin", "trl"])
    parser.add_argument("--one", choices=["builtin", "trl"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args)))
        return
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)")
    runs = {}
    for engine in args.engines:
        out = subprocess.run([sys.executable, __file__, *sys.argv[1:], "--one", engine], capture_output=True,
                             text=True, check=True).stdout
        r = runs[engine] = json.loads(out.strip().splitlines()[-1])
        later = r["later_steps_s"]
        print(f"{engine}: {r['pairs']} pairs, prompt of {args.apis} APIs, {r['tokens_per_step']} tokens a step "
              f"(batch {args.batch}); first step {r['first_step_s']} s, later {later} s; reference: "
              f"{r['reference']}; peak RSS {r['peak_rss_mb']:.0f} MB; load {os.getloadavg()[0]:.2f}")
    if len(runs) == 2:
        b, t = runs["builtin"], runs["trl"]
        b_step = sum(b["later_steps_s"]) / len(b["later_steps_s"]) if b["later_steps_s"] else b["first_step_s"]
        print(f"TRL's first step / builtin's later steps: {t['first_step_s'] / b_step:.1f}x the time; peak RSS "
              f"{t['peak_rss_mb'] / b['peak_rss_mb']:.2f}x")


if __name__ == "__main__":
    main()
