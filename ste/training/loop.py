"""The training loop of fine-tuning (ste/training/finetune.py) and DPO (ste/dpo/train.py), under Hugging Face accelerate.

An objective says what the items are (chat rows, preference pairs), what one micro-batch of them costs and
how to cut it into passes that bound memory; this loop does the rest, top to bottom: seeded micro-batches per
epoch, gradient accumulation, clipping, the learning-rate schedule, resumable checkpoints, the loss history. `Accelerator` prepares the model, optimizer
and scheduler for one process (CPU or GPU) or for N processes started by `ste.training.launch` (DDP; FSDP for full
fine-tuning on GPUs). The processes split every micro-batch between them, so N processes of `batch_size`
rows take the very steps one process takes with N x `batch_size` rows.

The main process saves a checkpoint (trainable weights, optimizer, scheduler, every process's RNG state,
loss history, what the objective keeps) every `checkpoint_every` steps, outside the output folder; every
process resumes from it. It names the data, settings and code it belongs to (`ste.core.provenance`), and is
deleted once the run's outputs are written.
"""
from __future__ import annotations

import logging
import math
import os
import shutil
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

import torch
from tqdm import tqdm

from ste.core.errors import ConfigError, DataError

log = logging.getLogger(__name__)
CHECKPOINT = "last.pt"
SCHEDULES = {"cosine": "cosine", "linear": "linear", "constant": "constant_with_warmup"}


class Objective(Protocol):
    """What is trained: `size` items, and the loss of a micro-batch of them."""

    name: str  # shown on the progress bar
    size: int  # items (rows, pairs)
    columns: tuple[str, ...]  # metrics logged per step after the loss (loss.csv columns)

    def prepare(self, accelerator, model, saved: dict | None) -> dict:
        """Set up before the first step of this process; `saved` is what a resumed checkpoint kept.

        Returns what the checkpoint keeps (e.g. reference log-probs).
        """

    def norm(self, items: list[int]) -> Any:
        """What one optimizer step's losses are divided by (its items on every process together)."""

    def passes(self, items: list[int]) -> list[list[int]]:
        """A micro-batch cut into the forward and backward passes that bound its memory (often just one)."""

    def loss(self, model, items: list[int], norm: Any) -> tuple[torch.Tensor, dict[str, float]]:
        """The loss of `items` divided by `norm`, and their share of each metric in `columns` (same division)."""


@dataclass
class Run:
    """What a call of `train` did."""

    history: list[list]  # one row per optimizer step: step, epoch, loss, *columns
    start: int  # the step it resumed from
    stop: int  # the step it reached
    total: int  # the steps of the whole run
    device: str
    trainable_params: int
    processes: int


def epoch_order(n: int, batch: int, seed: int, epoch: int) -> list[list[int]]:
    """The micro-batches of one epoch: a shuffle that depends only on (seed, epoch), so a resume replays it."""
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    order = torch.randperm(n, generator=g).tolist()
    return [order[i: i + batch] for i in range(0, n, batch)]


def make_accelerator(settings, model):
    """An Accelerator for `settings` (mixed_precision, and fsdp for a fully fine-tuned model)."""
    from accelerate import Accelerator, FullyShardedDataParallelPlugin
    from accelerate.state import AcceleratorState

    fsdp = None
    if getattr(settings, "fsdp", False):
        if not torch.cuda.is_available():  # accelerate turns FSDP on for GPUs only; on CPU it would be plain DDP
            raise ConfigError("params.yaml: finetune.fsdp shards a model across GPUs and none is visible; "
                              "set fsdp: false")
        fsdp = FullyShardedDataParallelPlugin(
            fsdp_version=2, auto_wrap_policy="transformer_based_wrap", state_dict_type="FULL_STATE_DICT",
            transformer_cls_names_to_wrap=list(getattr(model, "_no_split_modules", None) or []))
    # accelerate keeps one state per process, fixed by the first Accelerator; a process that trains several
    # models in turn (continual rounds, tests) may change the precision, so that state starts afresh (the
    # process group, if any, is kept).
    AcceleratorState._reset_state()
    # The scheduler steps once per optimizer step: our step count already is that of the global batch.
    return Accelerator(cpu=not torch.cuda.is_available(), mixed_precision=settings.mixed_precision,
                       fsdp_plugin=fsdp, step_scheduler_with_optimizer=False)


def train(model, objective: Objective, settings, checkpoint: Path, run_id: str,
          write: Callable[[Any, list, dict | None], None], *, max_steps: int | None = None,
          checkpoint_every: int | None = None) -> Run:
    """Train `model` on `objective`; when the last step is done, `write` the outputs and delete the checkpoint.

    Args:
        model: the model to train (its trainable parameters are those with requires_grad).
        objective: the items and their loss.
        settings: a FinetuneSection or DPOSection (epochs, lr, scheduler, batch_size, grad_accum, ...).
        checkpoint: the checkpoint file (resumed when its fingerprint is `run_id`).
        run_id: the fingerprint of what this run depends on (`ste.core.provenance.fingerprint`).
        write: called on the main process only, once the run is complete, with the trained (unwrapped) model,
            the loss history and, under FSDP, the full state dict (else None).
        max_steps: stop after this many optimizer steps in all (a time box); the checkpoint is kept.
        checkpoint_every: optimizer steps between checkpoints (default: `settings.checkpoint_every`).
    """
    from transformers import get_scheduler

    if settings.gradient_checkpointing:  # non-reentrant: LoRA's frozen inputs need no requires_grad hack
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    acc = make_accelerator(settings, model)
    params = [p for p in model.parameters() if p.requires_grad]
    trainable = sum(p.numel() for p in params)
    opt = torch.optim.AdamW(params, lr=settings.lr, weight_decay=0.0)
    procs, rank, per_process = acc.num_processes, acc.process_index, settings.batch_size
    micro_per_epoch = math.ceil(objective.size / (per_process * procs))
    steps_per_epoch = math.ceil(micro_per_epoch / settings.grad_accum)
    total = math.ceil(settings.epochs * steps_per_epoch)
    sched = get_scheduler(SCHEDULES[settings.scheduler], opt, num_warmup_steps=round(settings.warmup_ratio * total),
                          num_training_steps=total)
    model, opt, sched = acc.prepare(model, opt, sched)

    start, history, state = 0, [], _load_checkpoint(acc, model, opt, sched, Path(checkpoint), run_id)
    if state:
        start, history = state["step"], state["history"]
        log.info("resuming from %s at step %d of %d", checkpoint, start, total)
    kept = objective.prepare(acc, model, state.get("objective") if state else None)
    stop = total if max_steps is None else min(total, max_steps)
    checkpoint_every = checkpoint_every or settings.checkpoint_every

    model.train()
    bar = tqdm(total=total, initial=start, desc=objective.name, unit="step", file=sys.stderr, dynamic_ncols=True,
               disable=not acc.is_main_process)
    for step in range(start, stop):
        epoch, group = divmod(step, steps_per_epoch)
        batches = epoch_order(objective.size, per_process * procs, settings.seed, epoch)
        batches = batches[group * settings.grad_accum: (group + 1) * settings.grad_accum]
        norm = objective.norm(sum(batches, []))
        sums = torch.zeros(1 + len(objective.columns), dtype=torch.float64)
        for i, idx in enumerate(batches):
            mine = idx[rank * per_process: (rank + 1) * per_process]
            # Every process must take part in every backward: one left without items (an epoch's last, short
            # micro-batch) computes the first item with no weight.
            weight = 1.0 if mine else 0.0
            passes = objective.passes(mine or idx[:1])
            for j, part in enumerate(passes):
                # Gradients are summed across processes once per step, after its last pass.
                last = i == len(batches) - 1 and j == len(passes) - 1
                with nullcontext() if last else acc.no_sync(model), acc.autocast():
                    loss, metrics = objective.loss(model, part, norm)
                acc.backward(loss * (weight * procs))  # DDP averages gradients over processes; the loss is a sum
                sums += weight * torch.tensor([loss.item(), *(metrics[c] for c in objective.columns)],
                                              dtype=torch.float64)
        if procs > 1:
            sums = acc.reduce(sums.to(acc.device), "sum").cpu()
        acc.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        history.append([step + 1, round((step + 1) / steps_per_epoch, 4), *(round(v, 6) for v in sums.tolist())])
        bar.update(1)
        bar.set_postfix(loss=f"{history[-1][2]:.4f}", refresh=False)
        log.info("step %d/%d  loss %.4f", step + 1, total, history[-1][2])
        if (step + 1) % checkpoint_every == 0 or step + 1 == stop:
            _save_checkpoint(acc, model, opt, sched, Path(checkpoint), {
                "fingerprint": run_id, "processes": procs, "step": step + 1, "history": history, "objective": kept})
    bar.close()

    if stop == total:
        model.eval()
        fsdp = acc.distributed_type == "FSDP"
        state_dict = acc.get_state_dict(model) if fsdp else None  # every process takes part in gathering it
        if acc.is_main_process:
            write(acc.unwrap_model(model), history, state_dict)
            log.info("%s: outputs written after %d steps", objective.name, stop)
            # The run is complete and its outputs are written: a later run must train, never reload this one.
            _remove_checkpoint(Path(checkpoint))
        acc.wait_for_everyone()
    return Run(history=history, start=start, stop=stop, total=total, device=str(acc.device),
               trainable_params=trainable, processes=procs)


# ---------------------------------------------------------------- checkpoints
def _rng_state() -> dict[str, torch.Tensor]:
    return {"cpu": torch.get_rng_state(), **({"cuda": torch.cuda.get_rng_state()} if torch.cuda.is_available() else {})}


def _trainable(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().cpu().clone() for n, p in model.named_parameters() if p.requires_grad}


def _save_checkpoint(acc, model, opt, sched, path: Path, meta: dict) -> None:
    from accelerate.utils import gather_object

    rngs = gather_object([_rng_state()]) if acc.num_processes > 1 else [_rng_state()]
    if acc.distributed_type == "FSDP":  # sharded weights and optimizer: accelerate's own format, one folder
        acc.save_state(str(path.with_suffix(".fsdp")))
    if acc.is_main_process:
        if acc.distributed_type != "FSDP":
            meta = {**meta, "weights": _trainable(acc.unwrap_model(model)), "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict()}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        torch.save({**meta, "rng": rngs}, tmp)
        os.replace(tmp, path)  # never a half-written checkpoint
    acc.wait_for_everyone()


def _load_checkpoint(acc, model, opt, sched, path: Path, fingerprint: str) -> dict | None:
    if not path.exists():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("fingerprint") != fingerprint:
        log.warning("%s: checkpoint of other data, settings or code; starting from scratch", path)
        return None
    if state.get("processes") != acc.num_processes:  # other global batches: the steps it counted are not ours
        log.warning("%s: checkpoint of a run in %s processes, this one has %d; starting from scratch", path,
                    state.get("processes"), acc.num_processes)
        return None
    if acc.distributed_type == "FSDP":
        acc.load_state(str(path.with_suffix(".fsdp")))
    else:
        unknown = acc.unwrap_model(model).load_state_dict(state["weights"], strict=False).unexpected_keys
        if unknown:
            raise DataError(f"{path}: the checkpoint holds weights the model lacks ({', '.join(unknown[:3])}); "
                            "delete it to start over")
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
    rngs = state["rng"]
    rng = rngs[acc.process_index] if len(rngs) == acc.num_processes else rngs[0]
    torch.set_rng_state(rng["cpu"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state(rng["cuda"])
    return state


def _remove_checkpoint(path: Path) -> None:
    path.unlink(missing_ok=True)
    shutil.rmtree(path.with_suffix(".fsdp"), ignore_errors=True)
