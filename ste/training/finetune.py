"""accelerate launch --multi_gpu --num_processes N -m ste.training.finetune --model DIR --data sft.jsonl --out DIR --checkpoints DIR

Fine-tune the student on chat records (sft.jsonl): LoRA with peft, or full fine-tuning. The finetune stage and
every continual round call `run_finetune`: `finetune` in this process, or this module in `finetune.processes`
processes (`ste.training.launch`).

The loss covers only the assistant turns, and the system prompt a micro-batch's records share (the API
descriptions, most of each record) goes through the model once; rows that share no start (`paraphrase.doc_reading`)
go in passes of at most `PASS_TOKENS` tokens. The loop itself (`ste.training.loop`, under accelerate) is shared
with DPO: resumable checkpoints (a run that was interrupted ends with the same weights as one that never
stopped), one or several processes, the loss history.
"""
from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F

from ste.config.finetune import FinetuneParams, FinetuneSection
from ste.core.errors import ConfigError, DataError
from ste.core.io import atomic_write_dir, read_jsonl
from ste.core.provenance import fingerprint
from ste.core.weights import adapter_key, save_merged
from ste.training.launch import in_processes, job_parser, run_job
from ste.training.loop import CHECKPOINT, train
from ste.training.outputs import save_weights, write_history

log = logging.getLogger(__name__)
IGNORE = -100  # label of tokens that carry no loss
# The most tokens one forward and backward pass puts through the model (`pass_tokens`): a micro-batch over it
# is split into passes whose gradients add up to the same step, so activation memory stays bounded where rows
# share no prompt start. The default configs' micro-batches stay within it (at most ~1600 tokens), unsplit.
# A constant, not a setting: the gradient is the same whatever the split, and params.json stays as it was.
PASS_TOKENS = 2048


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


def collate(rows: list[tuple[list[int], list[int]]], pad_id: int) -> dict[str, torch.Tensor]:
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


def run_fingerprint(model_dir: Path, records: list[dict], settings: FinetuneSection,
                 init_adapter: Path | None = None) -> str:
    """What a checkpoint must match to be resumed: same base (and starting adapter), data, settings and code."""
    fixed = settings.model_dump(exclude={"checkpoint_every"})  # how often to save does not change the result
    start = adapter_key(model_dir, init_adapter) if init_adapter is not None else None
    return fingerprint(str(Path(model_dir).resolve()), records, fixed, start, stage="finetune")


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


def pass_tokens(rows: list[tuple[list[int], list[int]]]) -> int:
    """Tokens a pass of `rows` puts through the model: their shared prefix once, then every row padded."""
    prefix = shared_prefix(rows)
    return prefix + len(rows) * (max(len(ids) for ids, _ in rows) - prefix)


def split_passes(items: list[int], rows_of: Callable[[int], list], budget: int | None = None) -> list[list[int]]:
    """`items` in order, cut into passes of at most `budget` tokens (default `PASS_TOKENS`) by `pass_tokens` of
    their rows; an item over the budget makes a pass alone."""
    budget = PASS_TOKENS if budget is None else budget
    passes: list[list[int]] = [[]]
    for item in items:
        if passes[-1] and pass_tokens([row for i in [*passes[-1], item] for row in rows_of(i)]) > budget:
            passes.append([])
        passes[-1].append(item)
    return passes


def target_logits(model, batch: dict[str, torch.Tensor], prefix: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The logits of `batch` where the next token is a target in some row, and those next tokens.

    With `prefix` > 0 the first `prefix` tokens, the same in every row, go through the model once and their
    keys and values (with their gradients) are shared by the rows: the same logits, a fraction of the work.

    Returns:
        (logits [rows, kept positions, vocabulary], targets [rows, kept positions], IGNORE where none).
    """
    ids, cache = batch["input_ids"], None
    # Modules that recompute their forward in the backward pass (gradient checkpointing), when gradients flow.
    layers = _checkpointed(model) if prefix and torch.is_grad_enabled() else []
    if prefix:
        with _attrs(layers, gradient_checkpointing=False):  # the prefix pass fills the cache: no recompute there
            # Under DDP the prefix pass goes to the module itself: one DDP forward per backward.
            inner = model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model
            cache = inner(input_ids=ids[:1, :prefix], use_cache=True).past_key_values
        cache.batch_repeat_interleave(len(ids))
        if layers:
            _read_only(cache)
    targets = batch["labels"][:, prefix + 1:]
    # Logits only where the next token is a target: the vocabulary projection of every position
    # would cost more memory than the rest of the model on a small student.
    keep = (targets != IGNORE).any(0).nonzero().squeeze(1)
    with _attrs(layers, _can_checkpoint_with_cache=True):  # the rows only read the prefix cache
        logits = model(input_ids=ids[:, prefix:], attention_mask=batch["attention_mask"], past_key_values=cache,
                       use_cache=False, logits_to_keep=keep).logits
    return logits, targets[:, keep]


def _batch_loss(model, batch: dict[str, torch.Tensor], n_targets: int, prefix: int = 0) -> torch.Tensor:
    """Summed cross-entropy of the target tokens in `batch`, divided by the targets of the whole step."""
    logits, targets = target_logits(model, batch, prefix)
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE, reduction="sum") / n_targets


def _checkpointed(model) -> list:
    """The modules whose gradient checkpointing is on (the model, its layers) while it is in training mode."""
    return [m for m in model.modules() if m.__dict__.get("gradient_checkpointing") is True and m.training]


@contextmanager
def _attrs(modules: list, **values):
    """Set attributes on `modules` for the duration, then put back what each had."""
    missing = object()
    saved = [{k: m.__dict__.get(k, missing) for k in values} for m in modules]
    for m in modules:
        m.__dict__.update(values)
    try:
        yield
    finally:
        for m, old in zip(modules, saved):
            for k, v in old.items():
                if v is missing:
                    m.__dict__.pop(k, None)
                else:
                    m.__dict__[k] = v


def _read_only(cache) -> None:
    """Make each layer of a prefix cache return prefix + new keys without storing them.

    A checkpointed layer runs its forward again in the backward pass; a cache that grew in the first run
    would hand the replay the rows' own keys twice. Read-only, both runs see the prefix alone.
    """
    from transformers.cache_utils import DynamicLayer

    class PrefixLayer(DynamicLayer):
        def update(self, key_states, value_states, *args, **kwargs):
            return torch.cat([self.keys, key_states], dim=-2), torch.cat([self.values, value_states], dim=-2)

    for layer in cache.layers:
        if type(layer) is not DynamicLayer:
            raise ConfigError("gradient_checkpointing with a shared prompt prefix supports full-attention caches "
                              f"only, not {type(layer).__name__}; set gradient_checkpointing: false")
        layer.__class__ = PrefixLayer


class _Rows:
    """The fine-tuning objective: the summed cross-entropy of the target tokens over the step's targets."""

    name, columns = "finetune", ()

    def __init__(self, rows: list[tuple[list[int], list[int]]], pad_id: int):
        self.rows, self.pad_id, self.size, self.device = rows, pad_id, len(rows), "cpu"

    def prepare(self, accelerator, model, saved: dict | None) -> dict:
        self.device = accelerator.device
        return {}

    def norm(self, items: list[int]) -> int:
        return sum(x != IGNORE for i in items for x in self.rows[i][1][1:])

    def passes(self, items: list[int]) -> list[list[int]]:
        return split_passes(items, lambda i: [self.rows[i]])

    def loss(self, model, items: list[int], norm: int) -> tuple[torch.Tensor, dict]:
        micro = [self.rows[i] for i in items]
        prefix = shared_prefix(micro) if len(micro) > 1 else 0
        batch = {k: v.to(self.device) for k, v in collate(micro, self.pad_id).items()}
        return _batch_loss(model, batch, norm, prefix), {}


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

    Runs in every process of a multi-process launch (`ste.training.launch`); the main process writes the outputs.

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
        A summary: examples, tokens, steps, first and final loss, ... (what the inputs decide: the stage
        measures time and memory outside it, `tasks.common.timed`).
    """
    from transformers import AutoTokenizer, set_seed

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

    def write(model, history: list, state_dict: dict | None) -> None:
        _write_outputs(model, tok, model_dir, settings, out_dir, history, init_adapter, state_dict)

    run = train(_load_model(model_dir, settings, init_adapter), _Rows(rows, pad_id), settings,
                checkpoint_dir / CHECKPOINT, run_fingerprint(model_dir, records, settings, init_adapter), write,
                max_steps=max_steps, checkpoint_every=checkpoint_every)
    history = run.history
    return {
        "method": settings.method, "examples": len(rows), "skipped": len(records) - len(rows),
        "truncated": truncated, "tokens": sum(len(ids) for ids, _ in rows),
        "target_tokens": sum(x != IGNORE for _, labels in rows for x in labels),
        "trainable_params": run.trainable_params, "steps": run.stop, "total_steps": run.total,
        "epochs": settings.epochs, "resumed_from_step": run.start, "complete": run.stop == run.total,
        "first_loss": history[0][2] if history else None, "final_loss": history[-1][2] if history else None,
        "device": run.device, "init_adapter": str(init_adapter) if init_adapter else None,
        "processes": run.processes, "global_batch": settings.batch_size * settings.grad_accum * run.processes,
    }


def _write_outputs(model, tok, model_dir: Path, settings: FinetuneSection, out_dir: Path, history: list,
                   init_adapter: Path | None, state_dict: dict | None = None) -> None:
    meta = {"base_model": str(model_dir), "init_adapter": str(init_adapter) if init_adapter else None,
            **settings.model_dump()}
    folder = out_dir / ("adapter" if settings.method == "lora" else "model")
    save_weights(folder, model, tok, meta, state_dict=state_dict)
    if settings.merge and settings.method == "lora":
        atomic_write_dir(out_dir / "merged", lambda folder: save_merged(model, tok, folder))
    write_history(out_dir / "loss.csv", ["step", "epoch", "loss"], history)


def run_finetune(model_dir: Path, records: list[dict], settings: FinetuneSection, out_dir: Path, checkpoint_dir: Path,
                 *, init_adapter: Path | None = None) -> dict[str, Any]:
    """`finetune` in this process, or in `settings.processes` processes that this one waits for (`in_processes`)."""
    def here() -> dict[str, Any]:
        return finetune(model_dir, records, settings, out_dir, checkpoint_dir, init_adapter=init_adapter)

    return in_processes("ste.training.finetune", "finetune", settings, records, Path(checkpoint_dir), here,
                        model=model_dir, out=out_dir, init_adapter=init_adapter)


def main() -> int:
    parser = job_parser(__doc__)
    parser.add_argument("--data", type=Path, required=True, help="sft.jsonl")
    parser.add_argument("--init-adapter", type=Path, help="a LoRA adapter to continue (continual rounds)")
    args = parser.parse_args()
    return run_job(args, FinetuneParams, lambda params: finetune(args.model, read_jsonl(args.data), params.finetune,
                                                                 args.out, args.checkpoints,
                                                                 init_adapter=args.init_adapter))


if __name__ == "__main__":
    sys.exit(main())
