"""DPO with TRL's DPOTrainer (`dpo.engine: trl`): every row whole through the model, policy and reference.

The student keeps training its SFT LoRA adapter, and the reference model is the SFT student, frozen. TRL 1.x
does exactly this when it is handed a PeftModel that already holds a trained adapter and no `ref_model`: it
copies the adapter under the name "ref", trains "default", and computes the reference log-probs with "ref"
active, so no second model sits in memory. We chose that over merging the SFT adapter and training a fresh
LoRA on the merged model: the result would be a merged model plus a second adapter, which
`ste.core.weights.load_student` cannot load. Only the trained "default" adapter is saved.

Kept for GPU users and as the yardstick of the builtin engine (ste/dpo/train.py; tests/test_dpo.py checks that both
compute the same loss and gradients).
"""
from __future__ import annotations

import logging
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from ste.config.dpo import DPOSection
from ste.training.loop import SCHEDULES
from ste.training.outputs import save_weights

log = logging.getLogger(__name__)
METRICS = ("loss", "rewards/margins", "rewards/accuracies", "rewards/chosen", "rewards/rejected")  # TRL's names


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
        # Our settings, not TRL's defaults (bf16, gradient checkpointing on): those suit a GPU, not a 2-core machine.
        bf16=settings.mixed_precision == "bf16", fp16=False, gradient_checkpointing=settings.gradient_checkpointing,
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
    original = utils._use_triton
    utils._use_triton = lambda device: True
    try:
        yield
    finally:
        utils._use_triton = original


def _history(log_history: list[dict]) -> list[list]:
    """One row per optimizer step: step, epoch, then TRL's loss and reward metrics."""
    return [[h["step"], round(h["epoch"], 4), *(round(h[k], 6) for k in METRICS)]
            for h in log_history if "loss" in h and "rewards/margins" in h]




def train_trl(model_dir: Path, sft_adapter_dir: Path, used: list[dict], settings: DPOSection, out_dir: Path,
              checkpoint_dir: Path, tok, run_id: str, params: dict) -> dict[str, Any]:
    """Train with TRL and write out_dir/adapter (`params` as its params.json); the history and what the summary
    needs.

    `used` are the pairs that fit (`ste.dpo.train.fitting_pairs`). Checkpoints live in one folder per `run_id`
    (base, adapter, pairs, settings, code) under `checkpoint_dir`; a finished run deletes its folder, so a re-run
    trains again rather than reloading this result.
    """
    from transformers.trainer_utils import get_last_checkpoint

    run_dir = Path(checkpoint_dir) / run_id[:16]
    last = get_last_checkpoint(str(run_dir)) if run_dir.is_dir() else None
    trainer = dpo_trainer(model_dir, sft_adapter_dir, used, settings, run_dir)
    with scored_targets_only():
        trainer.train(resume_from_checkpoint=last)
    model = trainer.model
    model.eval()

    save_weights(out_dir / "adapter", model, tok, params, selected_adapters=["default"])  # not the "ref" copy
    shutil.rmtree(run_dir, ignore_errors=True)
    return {
        "history": _history(trainer.state.log_history), "steps": trainer.state.global_step,
        "resumed_from_step": int(last.rsplit("-", 1)[1]) if last else 0, "device": str(trainer.args.device),
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }
