"""Preference training (DPO) of the fine-tuned student on pairs from exploration, with TRL's DPOTrainer.

The student keeps training its SFT LoRA adapter on pairs.jsonl (ste/exploit/pairs.py), and the
reference model is the SFT student, frozen. TRL 1.x does exactly this when it is handed a PeftModel
that already holds a trained adapter and no `ref_model`: it copies the adapter under the name "ref",
trains "default", and computes the reference log-probs with "ref" active, so no second model sits in
memory. We chose that over merging the SFT adapter and training a fresh LoRA on the merged model:
the result would be a merged model plus a second adapter, which `ste.finetune.load_student` cannot
load. Only the trained "default" adapter is saved, so base + that folder is the "sft+dpo" student,
loaded like any fine-tuned one.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import resource
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

import torch

from ste.config import DPOSection
from ste.errors import ConfigError, DataError
from ste.finetune import SCHEDULES, _adapter_key
from ste.io import atomic_write_dir, atomic_write_text, write_json

log = logging.getLogger(__name__)
METRICS = ("loss", "rewards/margins", "rewards/accuracies", "rewards/chosen", "rewards/rejected")  # TRL's names


# ---------------------------------------------------------------- data
def _check(pairs: list[dict]) -> None:
    for n, p in enumerate(pairs, 1):
        ok = isinstance(p, dict) and isinstance(p.get("prompt"), list) and p["prompt"] and all(
            isinstance(p.get(k), list) and len(p[k]) == 1 and isinstance(p[k][0], dict)
            and p[k][0].get("role") == "assistant" for k in ("chosen", "rejected"))
        if not ok:
            raise DataError(f"preference pair {n}: needs 'prompt' (chat messages) and 'chosen' and 'rejected' "
                            "(one assistant message each); see ste/exploit/pairs.py")


def _token_count(tok, messages: list[dict], prompt: bool) -> int:
    text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=prompt)
    return len(tok(text, add_special_tokens=False)["input_ids"])


def fitting_pairs(tok, pairs: list[dict], max_length: int) -> tuple[list[dict], int]:
    """The pairs whose prompt leaves room for the calls within `max_length`, and how many calls get cut.

    TRL would drop a pair whose prompt alone fills `max_length` without a word; here it is logged, and
    counted in the summary. None left is an error that names the key to raise.
    """
    kept, truncated = [], 0
    for p in pairs:
        if _token_count(tok, p["prompt"], prompt=True) < max_length:
            kept.append(p)
            truncated += any(_token_count(tok, p["prompt"] + p[k], prompt=False) > max_length
                             for k in ("chosen", "rejected"))
    if len(kept) < len(pairs):
        log.warning("%d of %d pairs skipped: their prompt has max_length=%d tokens or more",
                    len(pairs) - len(kept), len(pairs), max_length)
    if not kept:
        raise DataError(f"no preference pair leaves room for a call within max_length={max_length}; "
                        "raise dpo.max_length in params.yaml")
    return kept, truncated


# ---------------------------------------------------------------- trainer
def dpo_trainer(model_dir: Path, sft_adapter_dir: Path, pairs: list[dict], settings: DPOSection, run_dir: Path):
    """A DPOTrainer that continues the SFT adapter against a frozen copy of it (the reference)."""
    from datasets import Dataset
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed
    from transformers.trainer_callback import PrinterCallback, ProgressCallback
    from trl import DPOConfig, DPOTrainer

    set_seed(settings.seed)
    tok = AutoTokenizer.from_pretrained(model_dir)
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, sft_adapter_dir, is_trainable=True)
    loss_type, weights = [settings.loss_type], None
    if settings.sft_weight > 0:
        loss_type, weights = [settings.loss_type, "sft"], [1.0, settings.sft_weight]
    args = DPOConfig(
        output_dir=str(run_dir), seed=settings.seed, num_train_epochs=settings.epochs,
        per_device_train_batch_size=settings.batch_size, gradient_accumulation_steps=settings.grad_accum,
        learning_rate=settings.lr, lr_scheduler_type=SCHEDULES[settings.scheduler], warmup_steps=settings.warmup_ratio,
        beta=settings.beta, loss_type=loss_type, loss_weights=weights, label_smoothing=settings.label_smoothing,
        max_length=settings.max_length,
        # float32 on CPU: TRL's defaults (bf16, gradient checkpointing on) suit a GPU, not a 2-core machine.
        bf16=False, fp16=False, gradient_checkpointing=settings.gradient_checkpointing,
        use_cpu=not torch.cuda.is_available(),
        logging_steps=1, save_strategy="steps", save_steps=settings.checkpoint_every, save_total_limit=1,
        report_to="none", disable_tqdm=True, dataloader_num_workers=0,
    )
    rows = [{k: p[k] for k in ("prompt", "chosen", "rejected")} for p in pairs]
    trainer = DPOTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tok)
    if "ref" not in model.peft_config:  # TRL would then compare against the base model, not the SFT student
        raise RuntimeError("TRL did not keep a frozen copy of the SFT adapter as the reference; check the trl version")
    for cb in (PrinterCallback, ProgressCallback):  # their per-step dicts and bars; one log line instead
        trainer.remove_callback(cb)
    trainer.add_callback(_log_steps())
    return trainer


def _log_steps():
    from transformers import TrainerCallback

    class LogSteps(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "rewards/margins" in logs:
                log.info("step %d/%d  loss %.4f  margin %.4f", state.global_step, state.max_steps, logs["loss"],
                         logs["rewards/margins"])

    return LogSteps()


@contextmanager
def scored_targets_only():
    """Have TRL's fused LM head score only the call tokens, on every device.

    Off CUDA, TRL 1.x projects every position through the vocabulary (fixed tile shapes suit compilers such
    as Neuron's) and masks the prompt out afterwards. Our prompts are ~30 times longer than the calls, so on
    a CPU that projection cost most of a step and gigabytes of memory (the tiny test model, a batch of 8
    eight-API pairs: 105 s and 5.3 GB a step, 10 s and 1.6 GB with this). Scoring only the call tokens gives
    the same log-probabilities.
    """
    from trl.trainer import utils

    if not hasattr(utils, "_use_triton"):  # a TRL that decides this elsewhere: leave it as it is
        yield
        return
    with patch.object(utils, "_use_triton", lambda device: True):
        yield


def _fingerprint(model_dir: Path, sft_adapter_dir: Path, pairs: list[dict], settings: DPOSection) -> str:
    """What a checkpoint must match to be resumed: same base, SFT adapter, pairs and settings."""
    fixed = settings.model_dump(exclude={"checkpoint_every", "enabled"})
    blob = json.dumps([_adapter_key(model_dir, sft_adapter_dir), pairs, fixed], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _history(log_history: list[dict]) -> list[list]:
    """One row per optimizer step: step, epoch, then TRL's loss and reward metrics."""
    return [[h["step"], round(h["epoch"], 4), *(round(h[k], 6) for k in METRICS)]
            for h in log_history if "loss" in h and "rewards/margins" in h]


# ---------------------------------------------------------------- training
def train_dpo(model_dir: Path, sft_adapter_dir: Path, pairs: list[dict], settings: DPOSection, out_dir: Path,
              checkpoint_dir: Path) -> dict[str, Any]:
    """Continue the SFT student's LoRA adapter with DPO on preference pairs; write it to `out_dir`.

    Args:
        model_dir: the base model (a local Hugging Face folder).
        sft_adapter_dir: the SFT LoRA adapter (the finetune stage's adapter/): the starting point and,
            frozen, the reference model.
        pairs: {"prompt", "chosen", "rejected"} conversational preference pairs (pairs.jsonl).
        settings: the `dpo` section of params.yaml.
        out_dir: receives adapter/ (the sft+dpo student: load it with `ste.finetune.load_student`) and
            loss.csv (step, epoch, loss, rewards/margins, rewards/accuracies, rewards/chosen, rewards/rejected).
        checkpoint_dir: where resumable checkpoints live, one folder per (base, adapter, pairs, settings);
            keep it out of DVC outputs.

    Returns:
        A summary: pairs used and skipped, steps, first and final loss and margin, wall time, peak RSS, ...
    """
    from transformers import AutoTokenizer
    from transformers.trainer_utils import get_last_checkpoint

    t0 = time.time()
    model_dir, sft_adapter_dir, out_dir = Path(model_dir), Path(sft_adapter_dir), Path(out_dir)
    _check(pairs)
    if not (sft_adapter_dir / "adapter_config.json").exists():
        raise ConfigError(f"{sft_adapter_dir}: no adapter_config.json; DPO continues a LoRA adapter "
                          "(finetune.method: lora) and needs the finetune stage to have run")
    tok = AutoTokenizer.from_pretrained(model_dir)
    used, truncated = fitting_pairs(tok, pairs, settings.max_length)

    run_dir = Path(checkpoint_dir) / _fingerprint(model_dir, sft_adapter_dir, used, settings)
    last = get_last_checkpoint(str(run_dir)) if run_dir.is_dir() else None
    trainer = dpo_trainer(model_dir, sft_adapter_dir, used, settings, run_dir)
    with scored_targets_only():
        trainer.train(resume_from_checkpoint=last)
    history = _history(trainer.state.log_history)
    model = trainer.model
    model.eval()

    def save(folder: Path) -> None:
        model.save_pretrained(folder, selected_adapters=["default"])  # not the "ref" copy
        tok.save_pretrained(folder)
        write_json(folder / "params.json", {"base_model": str(model_dir), "sft_adapter": str(sft_adapter_dir),
                                            **settings.model_dump()})

    # The folder appears whole or not at all: the evaluate stage must never load half an adapter.
    atomic_write_dir(out_dir / "adapter", save)
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([["step", "epoch", *METRICS], *history])
    atomic_write_text(out_dir / "loss.csv", text.getvalue())
    first, final = history[0], history[-1]  # at least one step: there is at least one pair
    return {
        "pairs": len(used), "skipped": len(pairs) - len(used), "truncated": truncated,
        "kinds": dict(sorted(Counter(p.get("kind", "unknown") for p in used).items())),
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "steps": trainer.state.global_step, "epochs": settings.epochs,
        "resumed_from_step": int(last.rsplit("-", 1)[1]) if last else 0,
        "first_loss": first[2], "final_loss": final[2], "first_margin": first[3], "final_margin": final[3],
        "final_accuracy": final[4], "reference": "the SFT adapter, frozen", "sft_adapter": str(sft_adapter_dir),
        "device": str(trainer.args.device), "wall_s": round(time.time() - t0, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
