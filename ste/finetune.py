"""Fine-tune the student on chat records (sft.jsonl): LoRA with peft, or full fine-tuning.

A plain PyTorch loop rather than transformers.Trainer, so every step reads top to bottom. The loss
covers only the assistant turns. A checkpoint (trainable weights, optimizer, scheduler, RNG state,
loss history) is saved every `checkpoint_every` steps outside the output folder; a run that was
interrupted resumes from it and ends with the same weights as a run that never stopped. The checkpoint
names the data, settings and code it belongs to (`ste.provenance`), and is deleted once the run is done.
"""
from __future__ import annotations

import csv
import hashlib
import io
import logging
import math
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tqdm import tqdm

from ste.config import FinetuneSection
from ste.errors import ConfigError, DataError
from ste.io import atomic_write_dir, atomic_write_text, write_json
from ste.llm.embedded import convert_once
from ste.provenance import fingerprint

log = logging.getLogger(__name__)
IGNORE = -100  # label of tokens that carry no loss
CHECKPOINT = "last.pt"
SCHEDULES = {"cosine": "cosine", "linear": "linear", "constant": "constant_with_warmup"}


# ---------------------------------------------------------------- data
def encode(tokenizer, messages: list[dict], max_length: int) -> tuple[list[int], list[int], bool]:
    """Token ids and labels of one chat, rendered with the tokenizer's chat template.

    Labels are -100 everywhere except on the assistant turns' tokens (their content and end-of-turn
    token), so the loss is on the targets only.

    Returns:
        (input_ids, labels, truncated), both lists cut to `max_length`.
    """
    render = tokenizer.apply_chat_template
    text = render(messages, tokenize=False)
    spans = []  # character ranges of the assistant turns in `text`
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        upto = render(messages[: i + 1], tokenize=False)
        if not text.startswith(upto):
            raise DataError("the chat template does not render a conversation turn by turn; cannot mask the prompt")
        spans.append((len(render(messages[:i], tokenize=False, add_generation_prompt=True)), len(upto)))
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = enc["input_ids"]
    labels = [t if any(s <= a < e for s, e in spans) else IGNORE for t, (a, _) in zip(ids, enc["offset_mapping"])]
    return ids[:max_length], labels[:max_length], len(ids) > max_length


def _check(records: list[dict]) -> None:
    for n, r in enumerate(records, 1):
        msgs = r.get("messages") if isinstance(r, dict) else None
        if not isinstance(msgs, list) or not any(isinstance(m, dict) and m.get("role") == "assistant" for m in msgs):
            raise DataError(f"fine-tuning record {n}: needs 'messages' with at least one assistant turn")


def _collate(rows: list[tuple[list[int], list[int]]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad a micro-batch; padding gets no attention and no loss."""
    width = max(len(ids) for ids, _ in rows)
    out = {
        "input_ids": torch.full((len(rows), width), pad_id),
        "labels": torch.full((len(rows), width), IGNORE),
        "attention_mask": torch.zeros((len(rows), width), dtype=torch.long),
    }
    for i, (ids, labels) in enumerate(rows):
        out["input_ids"][i, : len(ids)] = torch.tensor(ids)
        out["labels"][i, : len(ids)] = torch.tensor(labels)
        out["attention_mask"][i, : len(ids)] = 1
    return out


def _epoch_order(n: int, settings: FinetuneSection, epoch: int) -> list[list[int]]:
    """The micro-batches of one epoch: a shuffle that depends only on (seed, epoch), so a resume replays it."""
    g = torch.Generator().manual_seed(settings.seed * 100_003 + epoch)
    order = torch.randperm(n, generator=g).tolist()
    return [order[i: i + settings.batch_size] for i in range(0, n, settings.batch_size)]


# ---------------------------------------------------------------- model
def _load_model(model_dir: Path, settings: FinetuneSection, init_adapter: Path | None = None):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    if settings.method == "full":
        return model
    from peft import LoraConfig, PeftModel, get_peft_model

    if init_adapter is not None:  # continue training an adapter: its own LoRA shape is kept
        return PeftModel.from_pretrained(model, init_adapter, is_trainable=True)

    config = LoraConfig(
        r=settings.lora_r, lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout,
        target_modules=list(settings.lora_targets), task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def _trainable(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def _fingerprint(model_dir: Path, records: list[dict], settings: FinetuneSection,
                 init_adapter: Path | None = None) -> str:
    """What a checkpoint must match to be resumed: same base (and starting adapter), data, settings and code."""
    fixed = settings.model_dump(exclude={"checkpoint_every"})  # how often to save does not change the result
    start = _adapter_key(model_dir, init_adapter) if init_adapter is not None else None
    return fingerprint(str(Path(model_dir).resolve()), records, fixed, start, code=("ste.finetune",))


def _save_checkpoint(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # never a half-written checkpoint


def _load_checkpoint(path: Path, fingerprint: str) -> dict | None:
    if not path.exists():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("fingerprint") != fingerprint:
        log.warning("%s: checkpoint of other data or settings; starting from scratch", path)
        return None
    return state


def shared_prefix(rows: list[tuple[list[int], list[int]]]) -> int:
    """How many leading tokens all rows share with no target among them (nor right after them).

    Records of one config start with the same system prompt (the API descriptions), most of each record.
    """
    first = rows[0][0]
    limit = min(len(ids) for ids, _ in rows) - 1  # every row keeps at least one token after the prefix
    n = 0
    while n < limit and all(ids[n] == first[n] and labels[n + 1] == IGNORE for ids, labels in rows):
        n += 1
    return n


def _batch_loss(model, batch: dict[str, torch.Tensor], n_targets: int, prefix: int = 0) -> torch.Tensor:
    """Summed cross-entropy of the target tokens in `batch`, divided by the targets of the whole step.

    With `prefix` > 0 the first `prefix` tokens, the same in every row, go through the model once and their
    keys and values (with their gradients) are shared by the rows: the same loss, a fraction of the work.
    """
    ids, cache = batch["input_ids"], None
    if prefix:
        cache = model(input_ids=ids[:1, :prefix], use_cache=True).past_key_values
        cache.batch_repeat_interleave(len(ids))
    targets = batch["labels"][:, prefix + 1:]
    # Logits only where the next token is a target: the vocabulary projection of every position
    # would cost more memory than the rest of the model on a small student.
    keep = (targets != IGNORE).any(0).nonzero().squeeze(1)
    logits = model(input_ids=ids[:, prefix:], attention_mask=batch["attention_mask"], past_key_values=cache,
                   use_cache=False, logits_to_keep=keep).logits
    return F.cross_entropy(logits.flatten(0, 1), targets[:, keep].flatten(), ignore_index=IGNORE,
                           reduction="sum") / n_targets


# ---------------------------------------------------------------- training
def finetune(
    model_dir: Path,
    records: list[dict],
    settings: FinetuneSection,
    out_dir: Path,
    checkpoint_dir: Path,
    *,
    max_steps: int | None = None,
    checkpoint_every: int | None = None,
    init_adapter: Path | None = None,
) -> dict[str, Any]:
    """Train the student on chat records and write the result to `out_dir`.

    Args:
        model_dir: the base model (a local Hugging Face folder).
        records: {"messages": [system, user, assistant, (user, assistant)...]} chat records.
        settings: the `finetune` section of params.yaml.
        out_dir: receives adapter/ (LoRA) or model/ (full), merged/ if settings.merge, and loss.csv.
        checkpoint_dir: where the resumable checkpoint lives (keep it out of DVC outputs).
        max_steps: stop after this many optimizer steps in all (a time box); the checkpoint is kept,
            nothing is written to `out_dir`, and the next call continues.
        checkpoint_every: optimizer steps between checkpoints (default: `settings.checkpoint_every`).
        init_adapter: a LoRA adapter folder to continue training (continual learning) instead of a
            fresh adapter; its LoRA shape (r, alpha, target modules) wins over `settings`.

    Returns:
        A summary: examples, tokens, steps, wall time, peak RSS, first and final loss, ...
    """
    from transformers import AutoTokenizer, get_scheduler, set_seed

    t0 = time.time()
    model_dir, out_dir, checkpoint_dir = Path(model_dir), Path(out_dir), Path(checkpoint_dir)
    init_adapter = Path(init_adapter) if init_adapter is not None else None
    _check(records)
    if init_adapter is not None and settings.method != "lora":
        raise ConfigError("finetune: init_adapter continues a LoRA adapter; to continue full fine-tuning, "
                          "pass the previous model folder as model_dir")
    if init_adapter is not None and not (init_adapter / "adapter_config.json").exists():
        raise DataError(f"{init_adapter}: no adapter_config.json (not a finished LoRA adapter)")
    set_seed(settings.seed)
    tok = AutoTokenizer.from_pretrained(model_dir)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id

    encoded = [encode(tok, r["messages"], settings.max_length) for r in records]
    rows = [(ids, labels) for ids, labels, _ in encoded if any(x != IGNORE for x in labels)]
    truncated = sum(t for *_, t in encoded)
    if not rows:
        raise DataError(f"no fine-tuning record keeps a target token within max_length={settings.max_length}; "
                        f"raise finetune.max_length in {settings.source}")
    if len(rows) < len(records):
        log.warning("%d of %d records lost their whole target to max_length=%d; skipped",
                    len(records) - len(rows), len(records), settings.max_length)

    model = _load_model(model_dir, settings, init_adapter)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=settings.lr, weight_decay=0.0)
    micro_per_epoch = math.ceil(len(rows) / settings.batch_size)
    steps_per_epoch = math.ceil(micro_per_epoch / settings.grad_accum)
    total = math.ceil(settings.epochs * steps_per_epoch)
    sched = get_scheduler(SCHEDULES[settings.scheduler], opt, num_warmup_steps=round(settings.warmup_ratio * total),
                          num_training_steps=total)

    ckpt_path = checkpoint_dir / CHECKPOINT
    run_id = _fingerprint(model_dir, records, settings, init_adapter)
    state = _load_checkpoint(ckpt_path, run_id)
    start, history = 0, []
    if state:
        unknown = model.load_state_dict(state["weights"], strict=False).unexpected_keys
        if unknown:  # the fingerprint matched, so the file was changed by hand or by another version
            raise DataError(f"{ckpt_path}: the checkpoint holds weights the model lacks ({', '.join(unknown[:3])}); "
                            "delete it to train from scratch")
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"])
        start, history = state["step"], state["history"]
        log.info("resuming from %s at step %d of %d", ckpt_path, start, total)
    stop = total if max_steps is None else min(total, max_steps)
    checkpoint_every = checkpoint_every or settings.checkpoint_every

    model.train()
    bar = tqdm(total=stop, initial=start, desc="fine-tune", unit="step", file=sys.stderr, dynamic_ncols=True)
    for step in range(start, stop):
        epoch, group = divmod(step, steps_per_epoch)
        batches = _epoch_order(len(rows), settings, epoch)
        batches = batches[group * settings.grad_accum: (group + 1) * settings.grad_accum]
        n_targets = sum(x != IGNORE for i in sum(batches, []) for x in rows[i][1][1:])
        step_loss = 0.0
        for idx in batches:
            micro = [rows[i] for i in idx]
            prefix = shared_prefix(micro) if len(micro) > 1 else 0
            batch = {k: v.to(device) for k, v in _collate(micro, pad_id).items()}
            loss = _batch_loss(model, batch, n_targets, prefix)
            loss.backward()
            step_loss += loss.item()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        history.append([step + 1, round((step + 1) / steps_per_epoch, 4), round(step_loss, 6)])
        log.info("step %d/%d  loss %.4f", step + 1, total, step_loss)  # the bar is for a person, the log for Prefect
        bar.update(1)
        bar.set_postfix(loss=f"{step_loss:.4f}", refresh=False)
        if (step + 1) % checkpoint_every == 0 or step + 1 == stop:
            _save_checkpoint(ckpt_path, {
                "fingerprint": run_id, "step": step + 1, "history": history, "weights": _trainable(model),
                "optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "rng": torch.get_rng_state(),
            })
    bar.close()

    summary = {
        "method": settings.method, "examples": len(rows), "skipped": len(records) - len(rows),
        "truncated": truncated, "tokens": sum(len(ids) for ids, _ in rows),
        "target_tokens": sum(x != IGNORE for _, labels in rows for x in labels),
        "trainable_params": sum(p.numel() for p in params), "steps": stop, "total_steps": total,
        "epochs": settings.epochs, "resumed_from_step": start, "complete": stop == total,
        "first_loss": history[0][2] if history else None, "final_loss": history[-1][2] if history else None,
        "device": device, "init_adapter": str(init_adapter) if init_adapter else None,
    }
    if stop == total:
        model.eval()
        _write_outputs(model, tok, model_dir, settings, out_dir, history, init_adapter)
        # The run is complete and its outputs are written: a later run must train, never reload this one.
        ckpt_path.unlink(missing_ok=True)
    summary["wall_s"] = round(time.time() - t0, 2)
    summary["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return summary


def _write_outputs(model, tok, model_dir: Path, settings: FinetuneSection, out_dir: Path, history: list,
                   init_adapter: Path | None) -> None:
    def save(folder: Path) -> None:
        model.save_pretrained(folder)
        tok.save_pretrained(folder)
        write_json(folder / "params.json", {"base_model": str(model_dir),
                                            "init_adapter": str(init_adapter) if init_adapter else None,
                                            **settings.model_dump()})

    # Each folder appears whole or not at all: the evaluate stage must never load half an adapter.
    atomic_write_dir(out_dir / ("adapter" if settings.method == "lora" else "model"), save)
    if settings.merge and settings.method == "lora":
        atomic_write_dir(out_dir / "merged", lambda folder: _save_merged(model, tok, folder))
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([["step", "epoch", "loss"], *history])
    atomic_write_text(out_dir / "loss.csv", text.getvalue())


def _save_merged(peft_model, tok, target: Path) -> None:
    """The adapter folded into the base weights: a plain model folder any loader can read."""
    peft_model.merge_and_unload().save_pretrained(target)
    tok.save_pretrained(target)


# ---------------------------------------------------------------- no data
UNTRAINED = "UNTRAINED"  # marker file in an adapter folder: no data, the student stays the base model


def mark_untrained(out_dir: Path, reason: str) -> dict[str, Any]:
    """What a fine-tune with no data leaves (a result, not a crash of the whole DAG): an adapter folder
    holding only the UNTRAINED marker with the reason, and an empty loss curve. Returns the summary."""
    atomic_write_text(Path(out_dir) / "adapter" / UNTRAINED, reason + "\n")
    atomic_write_text(Path(out_dir) / "loss.csv", "step,loss\n")
    return {"examples": 0, "steps": 0, "complete": False, "untrained": reason}


def is_untrained(adapter_dir: str | Path | None) -> bool:
    """Whether `adapter_dir` is the marked output of a fine-tune that had no data."""
    return adapter_dir is not None and (Path(adapter_dir) / UNTRAINED).exists()


# ---------------------------------------------------------------- loading
def _adapter_key(model_dir: Path, adapter_dir: Path) -> str:
    h = hashlib.sha256(str(Path(model_dir).resolve()).encode())
    for f in sorted(adapter_dir.iterdir()):
        if f.is_file():
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def load_student(model_dir: Path, adapter_dir: Path, cache_dir: Path) -> Path:
    """A loadable model folder for a fine-tuned student (for LocalChatModel).

    A LoRA adapter is merged into its base once, into `cache_dir/student-<hash of the adapter>`;
    later calls return that folder. A fully fine-tuned model folder is returned as it is.
    """
    adapter_dir = Path(adapter_dir)
    if (adapter_dir / "config.json").exists():
        return adapter_dir
    if not (adapter_dir / "adapter_config.json").exists():
        raise DataError(f"{adapter_dir}: no adapter_config.json or config.json (did the finetune stage run?)")

    def merge(tmp: Path) -> None:
        from peft import PeftModel
        from transformers import AutoModelForCausalLM, AutoTokenizer

        base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        _save_merged(PeftModel.from_pretrained(base, adapter_dir), AutoTokenizer.from_pretrained(adapter_dir), tmp)

    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    return convert_once(cache_dir / f"student-{_adapter_key(model_dir, adapter_dir)}", merge)
