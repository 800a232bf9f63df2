"""accelerate launch --multi_gpu --num_processes N -m ste.dpo.train --model DIR --adapter DIR --data pairs.jsonl --out DIR --checkpoints DIR

Preference training (DPO) of the fine-tuned student on pairs from exploration. The dpo stage calls `run_dpo`:
`train_dpo` in this process, or this module in `dpo.processes` processes (`ste.training.launch`).

The student keeps training its SFT LoRA adapter on pairs.jsonl (ste/paraphrase/pairs.py), and the reference
model is the SFT student, frozen. Two engines (`dpo.engine`):

- builtin (the default): DPO as the second objective of our training loop (ste/training/loop.py, accelerate).
  A micro-batch of pairs is one batch of rows [chosen_1, rejected_1, chosen_2, ...] that share the system
  prompt: that prefix goes through the model once and only the call tokens are scored
  (`ste.training.finetune.target_logits`). The reference never changes, so its log-probs are computed once, before
  the first step, without gradients, and kept in the checkpoint. The losses are TRL's (sigmoid, hinge, ipo,
  robust, plus `sft_weight` times the chosen calls' token loss); tests/test_dpo.py checks loss and
  gradients against TRL's DPOTrainer.
- trl: TRL's DPOTrainer (ste/dpo/trl_engine.py), which sends every row whole through the model, policy and
  reference, at every step.

Only the trained adapter is saved, so base + that folder is the "sft+dpo" student, loaded like any
fine-tuned one (`ste.core.weights.load_student`).
"""
from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ste.config.dpo import DPOParams, DPOSection
from ste.core.errors import ConfigError, DataError
from ste.core.io import read_jsonl
from ste.core.provenance import fingerprint
from ste.core.weights import adapter_key, is_untrained
from ste.dpo.trl_engine import METRICS, train_trl
from ste.training.finetune import IGNORE, collate, encode, shared_prefix, split_passes, target_logits
from ste.training.launch import in_processes, job_parser, run_job
from ste.training.loop import CHECKPOINT, train
from ste.training.outputs import save_weights, write_history

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- data
def _check(pairs: list[dict]) -> None:
    for n, p in enumerate(pairs, 1):
        ok = isinstance(p, dict) and isinstance(p.get("prompt"), list) and p["prompt"] and all(
            isinstance(p.get(k), list) and len(p[k]) == 1 and isinstance(p[k][0], dict)
            and p[k][0].get("role") == "assistant" for k in ("chosen", "rejected"))
        if not ok:
            raise DataError(f"preference pair {n}: needs 'prompt' (chat messages) and 'chosen' and 'rejected' "
                            "(one assistant message each); see ste/paraphrase/pairs.py")


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


# ---------------------------------------------------------------- the builtin objective
Row = tuple[list[int], list[int]]  # token ids, labels (IGNORE outside the call)


class _Pairs:
    """DPO on (chosen, rejected) rows: the loss of a micro-batch of pairs against the frozen reference."""

    name, columns = "dpo", METRICS[1:]

    def __init__(self, pairs: list[tuple[Row, Row]], pad_id: int, settings: DPOSection):
        self.pairs, self.pad_id, self.settings, self.size = pairs, pad_id, settings, len(pairs)
        self.device, self.ref = "cpu", torch.zeros(0, 2)

    def logps(self, model, items: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed log-probs of the call tokens of rows [chosen_1, rejected_1, ...], and their token counts."""
        rows = [row for i in items for row in self.pairs[i]]
        batch = {k: v.to(self.device) for k, v in collate(rows, self.pad_id).items()}
        logits, targets = target_logits(model, batch, shared_prefix(rows))
        mask = targets != IGNORE
        logits = logits.float()
        token = logits.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1) - logits.logsumexp(-1)
        return (token * mask).sum(1), mask.sum(1)

    def prepare(self, accelerator, model, saved: dict | None) -> dict:
        """The reference log-probs [pairs, (chosen, rejected)]: the starting SFT student, once, no gradients."""
        self.device = accelerator.device
        if saved is not None:  # a resumed run: the starting weights are gone, the checkpoint kept them
            self.ref = saved["ref"]
            return saved
        t0, inner, procs = time.perf_counter(), accelerator.unwrap_model(model), accelerator.num_processes
        ref = torch.zeros(self.size, 2)
        mine = list(range(accelerator.process_index, self.size, procs))  # each process its share, then summed
        inner.eval()  # no dropout: the reference is the SFT model itself
        with torch.no_grad(), accelerator.autocast():
            for i in range(0, len(mine), self.settings.batch_size):
                chunk = mine[i: i + self.settings.batch_size]
                ref[chunk] = self.logps(inner, chunk)[0].view(-1, 2).float().cpu()
        inner.train()
        self.ref = accelerator.reduce(ref.to(self.device), "sum").cpu() if procs > 1 else ref
        log.info("reference log-probs of %d pairs in %.1f s", self.size, time.perf_counter() - t0)
        return {"ref": self.ref}

    def norm(self, items: list[int]) -> tuple[int, int]:
        """Pairs of the step, and their chosen calls' tokens (the sft term's mean)."""
        return len(items), sum(x != IGNORE for i in items for x in self.pairs[i][0][1][1:])

    def passes(self, items: list[int]) -> list[list[int]]:
        return split_passes(items, lambda i: list(self.pairs[i]))  # a pair's two rows share their prompt

    def loss(self, model, items: list[int], norm: tuple[int, int]) -> tuple[torch.Tensor, dict[str, float]]:
        s, (n_pairs, n_chosen) = self.settings, norm
        logps, counts = self.logps(model, items)
        ref = self.ref[items].to(logps.device)
        chosen, rejected = logps[0::2] - ref[:, 0], logps[1::2] - ref[:, 1]  # log-ratios against the reference
        delta = chosen - rejected
        if s.loss_type == "sigmoid":
            per_pair = -F.logsigmoid(s.beta * delta)
        elif s.loss_type == "hinge":
            per_pair = torch.relu(1 - s.beta * delta)
        elif s.loss_type == "ipo":  # per-token log-ratios, as TRL (and the IPO authors) normalise them
            per_pair = (chosen / counts[0::2] - rejected / counts[1::2] - 1 / (2 * s.beta)) ** 2
        else:  # robust: a share label_smoothing of the pairs is assumed flipped
            ls = s.label_smoothing
            per_pair = (-(1 - ls) * F.logsigmoid(s.beta * delta) + ls * F.logsigmoid(-s.beta * delta)) / (1 - 2 * ls)
        loss = per_pair.sum() / n_pairs
        if s.sft_weight:
            loss = loss - s.sft_weight * logps[0::2].sum() / n_chosen
        r_chosen, r_rejected = s.beta * chosen.detach(), s.beta * rejected.detach()
        return loss, {
            "rewards/margins": (r_chosen - r_rejected).sum().item() / n_pairs,
            "rewards/accuracies": (r_chosen > r_rejected).sum().item() / n_pairs,
            "rewards/chosen": r_chosen.sum().item() / n_pairs, "rewards/rejected": r_rejected.sum().item() / n_pairs,
        }


def _load_policy(model_dir: Path, sft_adapter_dir: Path):
    """The SFT student with its adapter trainable: the policy starts where SFT ended."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    return PeftModel.from_pretrained(base, sft_adapter_dir, is_trainable=True)


def run_fingerprint(model_dir: Path, sft_adapter_dir: Path, pairs: list[dict], settings: DPOSection) -> str:
    """What a checkpoint must match to be resumed: same base, SFT adapter, pairs, settings and code."""
    fixed = settings.model_dump(exclude={"checkpoint_every", "enabled"})
    return fingerprint(adapter_key(model_dir, sft_adapter_dir), pairs, fixed, stage="dpo")


def adapter_params(model_dir: Path, sft_adapter_dir: Path, settings: DPOSection) -> dict:
    """What the DPO adapter's params.json records: its base, the SFT adapter it continues, the settings."""
    return {"base_model": str(model_dir), "sft_adapter": str(sft_adapter_dir), **settings.model_dump()}


def _train_builtin(model_dir: Path, sft_adapter_dir: Path, used: list[dict], settings: DPOSection, out_dir: Path,
                   checkpoint_dir: Path, tok, max_steps: int | None, checkpoint_every: int | None) -> dict:
    from transformers import set_seed

    set_seed(settings.seed)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    rows = [tuple(encode(tok, p["prompt"] + p[k], settings.max_length)[:2] for k in ("chosen", "rejected"))
            for p in used]

    def write(model, history: list, state_dict: dict | None) -> None:
        save_weights(out_dir / "adapter", model, tok, adapter_params(model_dir, sft_adapter_dir, settings))
        write_history(out_dir / "loss.csv", ["step", "epoch", *METRICS], history)

    run = train(_load_policy(model_dir, sft_adapter_dir), _Pairs(rows, pad_id, settings), settings,
                Path(checkpoint_dir) / CHECKPOINT, run_fingerprint(model_dir, sft_adapter_dir, used, settings), write,
                max_steps=max_steps, checkpoint_every=checkpoint_every)
    return {"history": run.history, "steps": run.stop, "total_steps": run.total, "complete": run.stop == run.total,
            "resumed_from_step": run.start, "device": run.device, "trainable_params": run.trainable_params,
            "processes": run.processes}


# ---------------------------------------------------------------- training
def train_dpo(model_dir: Path, sft_adapter_dir: Path, pairs: list[dict], settings: DPOSection, out_dir: Path,
              checkpoint_dir: Path, *, max_steps: int | None = None,
              checkpoint_every: int | None = None) -> dict[str, Any]:
    """Continue the SFT student's LoRA adapter with DPO on preference pairs; write it to `out_dir`.

    Runs in every process of a multi-process launch (`ste.training.launch`, builtin engine); the main process writes.

    Args:
        model_dir: the base model (a local Hugging Face folder).
        sft_adapter_dir: the SFT LoRA adapter (the finetune stage's adapter/): the starting point and,
            frozen, the reference model.
        pairs: {"prompt", "chosen", "rejected"} conversational preference pairs (pairs.jsonl).
        settings: the `dpo` section of params.yaml (`engine` picks builtin or trl).
        out_dir: receives adapter/ (the sft+dpo student: load it with `ste.core.weights.load_student`) and
            loss.csv (step, epoch, loss, rewards/margins, rewards/accuracies, rewards/chosen, rewards/rejected).
        checkpoint_dir: where resumable checkpoints live; keep it out of DVC outputs.
        max_steps: builtin engine: stop after this many optimizer steps in all (a time box); the checkpoint
            is kept, nothing is written to `out_dir`, and the next call continues.
        checkpoint_every: builtin engine: optimizer steps between checkpoints (default: settings').

    Returns:
        A summary: pairs used and skipped, steps, first and final loss and margin, ... (what the inputs decide:
        the stage measures time and memory outside it, `tasks.common.timed`).
    """
    from transformers import AutoTokenizer

    model_dir, sft_adapter_dir, out_dir = Path(model_dir), Path(sft_adapter_dir), Path(out_dir)
    _check(pairs)
    if not (sft_adapter_dir / "adapter_config.json").exists():
        raise ConfigError(f"{sft_adapter_dir}: no adapter_config.json; DPO continues a LoRA adapter "
                          "(finetune.method: lora) and needs the finetune stage to have run")
    tok = AutoTokenizer.from_pretrained(model_dir)
    used, truncated = fitting_pairs(tok, pairs, settings.max_length)
    if settings.engine == "trl":
        run = train_trl(model_dir, sft_adapter_dir, used, settings, out_dir, checkpoint_dir, tok,
                        run_fingerprint(model_dir, sft_adapter_dir, used, settings),
                        adapter_params(model_dir, sft_adapter_dir, settings))
        write_history(out_dir / "loss.csv", ["step", "epoch", *METRICS], run["history"])
    else:
        run = _train_builtin(model_dir, sft_adapter_dir, used, settings, out_dir, checkpoint_dir, tok, max_steps,
                             checkpoint_every)
    history = run.pop("history")
    first, final = (history[0], history[-1]) if history else ([None] * 7, [None] * 7)
    return {
        "engine": settings.engine, "pairs": len(used), "skipped": len(pairs) - len(used), "truncated": truncated,
        "kinds": dict(sorted(Counter(p.get("kind", "unknown") for p in used).items())), **run,
        "epochs": settings.epochs, "first_loss": first[2], "final_loss": final[2], "first_margin": first[3],
        "final_margin": final[3], "final_accuracy": final[4], "reference": "the SFT adapter, frozen",
        "sft_adapter": str(sft_adapter_dir),
    }


def run_dpo(model_dir: Path, sft_adapter_dir: Path, pairs: list[dict], settings: DPOSection, out_dir: Path,
            checkpoint_dir: Path) -> dict[str, Any]:
    """`train_dpo` in this process, or in `settings.processes` processes that this one waits for (`in_processes`)."""
    return in_processes("ste.dpo.train", "dpo", settings, pairs, Path(checkpoint_dir),
                        lambda: train_dpo(model_dir, sft_adapter_dir, pairs, settings, out_dir, checkpoint_dir),
                        model=model_dir, adapter=sft_adapter_dir, out=out_dir)


def skip_reason(settings: DPOSection, sft_adapter: Path, pairs: list[dict]) -> str | None:
    """Why the dpo stage trains nothing (its adapter folder is then marked untrained), or None."""
    if not settings.enabled:
        return "dpo.enabled is false"
    if is_untrained(sft_adapter):
        return f"{sft_adapter}: the SFT student is untrained (no fine-tuning records)"
    if not pairs:
        return ("no preference pairs: no failed call of the explorer met a successful one, and no sampled reply of "
                "the student failed")
    return None


def main() -> int:
    parser = job_parser(__doc__)
    parser.add_argument("--adapter", type=Path, required=True, help="the SFT adapter folder")
    parser.add_argument("--data", type=Path, required=True, help="pairs.jsonl")
    args = parser.parse_args()
    return run_job(args, DPOParams, lambda params: train_dpo(args.model, args.adapter, read_jsonl(args.data),
                                                             params.dpo, args.out, args.checkpoints))


if __name__ == "__main__":
    sys.exit(main())
