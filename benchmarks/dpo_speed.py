"""OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/dpo_speed.py [--model DIR] [--adapter DIR] [--steps 4] [--batch 4]

Speed and memory of DPO steps (ste/dpo.py, TRL's DPOTrainer) on the embedded model, float32 CPU. The pairs are
shaped like real ones: the student's tool-mode prompt listing `--apis` APIs (the descriptions are most of its
tokens), a gold test query, its gold call as "chosen" and the same call with one argument renamed (an
invalid_args failure) as "rejected". Without --adapter, a fresh LoRA adapter of the `finetune` defaults plays
the SFT student (its weights do not change the cost). Prints seconds per step (the first, with warm-up, apart),
tokens per step, and the peak RSS; stops early after --max-seconds of training.
"""
from __future__ import annotations

import argparse
import resource
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from ste.config import DPOSection, FinetuneSection, ToolsSection
from ste.dpo import dpo_trainer, fitting_pairs, scored_targets_only
from ste.llm.embedded import embedded_model_dir
from ste.react import format_call
from ste.student import student_messages
from ste.testset import load_testset
from ste.tools import build_registry


def realistic_pairs(n: int, n_apis: int) -> list[dict]:
    registry = build_registry(ToolsSection())
    items = load_testset()
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a base model folder (default: the embedded model)")
    parser.add_argument("--adapter", type=Path, help="an SFT LoRA adapter of that model (default: a fresh one)")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--apis", type=int, default=8)
    parser.add_argument("--all-positions", action="store_true", help="TRL's CPU default: score prompt tokens too")
    parser.add_argument("--max-seconds", type=float, default=170)
    args = parser.parse_args()

    from transformers import AutoTokenizer, TrainerCallback

    model_dir = args.model or embedded_model_dir()
    tmp = Path(tempfile.mkdtemp(prefix="dpo-speed-"))
    adapter = args.adapter or fresh_adapter(model_dir, tmp / "adapter")
    settings = DPOSection(batch_size=args.batch, epochs=1)
    tok = AutoTokenizer.from_pretrained(model_dir)
    pairs, _ = fitting_pairs(tok, realistic_pairs(args.steps * args.batch, args.apis), settings.max_length)
    lengths = [len(tok.apply_chat_template(p["prompt"] + p["chosen"], tokenize=False)) for p in pairs]
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    trainer = dpo_trainer(model_dir, adapter, pairs, settings, tmp / "run")
    trainer.args.max_steps = args.steps
    ends: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, a, state, control, **kw):
            ends.append(time.perf_counter())
            control.should_training_stop = ends[-1] - start > args.max_seconds

    trainer.add_callback(Clock())
    start = time.perf_counter()
    with scored_targets_only() if not args.all_positions else nullcontext():
        trainer.train()
    steps = [b - a for a, b in zip([start] + ends, ends)]
    tokens = sum(len(tok(tok.apply_chat_template(p["prompt"] + p[k], tokenize=False))["input_ids"])
                 for p in pairs[: args.batch] for k in ("chosen", "rejected"))
    print(f"model {model_dir.name}: {len(pairs)} pairs, prompt of {args.apis} APIs, ~{sum(lengths) // len(lengths)} "
          f"characters a sequence; {tokens} tokens a step (chosen + rejected rows, batch {args.batch})")
    print(f"steps run: {len(steps)}; first step {steps[0]:.1f} s; later steps "
          f"{', '.join(f'{s:.1f}' for s in steps[1:])} s; mean {sum(steps) / len(steps):.1f} s/step")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
          f"({rss0:.0f} MB before the model was loaded)")


if __name__ == "__main__":
    main()
