"""The student's weights: the base model, trained weights, or an adapter folder marked untrained; and the
chat model they make.

A training stage with nothing to train on leaves an adapter folder holding only the UNTRAINED marker (a
result, not a crash of the whole DAG): that student is the base model. `student_weights` is the one rule
for what a mode then scores.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Literal

from ste.core.config import LLMSection, LLMSpec
from ste.core.errors import ConfigError, DataError, LLMError
from ste.core.io import atomic_write_text
from ste.core.llm.base import ChatModel
from ste.core.llm.embedded import convert_once, resolve_model_dir
from ste.core.llm.factory import build_chat_model
from ste.core.provenance import folder_digest

Mode = Literal["baseline", "icl", "finetuned", "sft+dpo"]  # sft+dpo: the fine-tuned student after DPO
TRAINED_MODES = ("finetuned", "sft+dpo")  # the modes that score trained weights
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


def student_weights(mode: Mode, sft: str | Path | None, dpo: str | Path | None = None) -> tuple[Mode, Path | None]:
    """What `mode` scores: (the mode it is scored as, the trained weights it loads; None: the base model).

    finetuned is the SFT weights; sft+dpo the DPO adapter, or the SFT weights where DPO trained nothing. A
    trained mode whose weights are marked untrained is the base model, scored as "baseline" (its summary says why).
    """
    if mode not in TRAINED_MODES:
        return mode, None
    weights = dpo if mode == "sft+dpo" and dpo is not None and not is_untrained(dpo) else sft
    if is_untrained(weights):
        return "baseline", None
    return mode, None if weights is None else Path(weights)


def base_weights(llm: LLMSection, base_model: str | None) -> Path:
    """The student's base weights that fine-tuning (and DPO, and continual rounds) train: `finetune.base_model`,
    else the student role's local model. A served student (`backend: openai`) is only evaluated: its weights
    for training must be named by `finetune.base_model`."""
    if base_model:
        return resolve_model_dir(base_model, llm.models_dir, where=f"{llm.source}: finetune.base_model")
    spec = llm.roles.student
    if spec.backend != "local":
        raise ConfigError(f"{llm.source}: llm.roles.student is served (backend: {spec.backend}); set "
                          "finetune.base_model to a local folder of the same base weights, to train on")
    return resolve_model_dir(spec.model, llm.models_dir, where=f"{llm.source}: llm.roles.student.model")


def adapter_key(model_dir: Path, adapter_dir: Path) -> str:
    """A short hash of a base model's path and an adapter folder's files: names a merged student, keys a resume."""
    h = hashlib.sha256(str(Path(model_dir).resolve()).encode())
    for f in sorted(adapter_dir.iterdir()):
        if f.is_file():
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def save_merged(peft_model, tok, target: Path) -> None:
    """The adapter folded into the base weights: a plain model folder any loader can read."""
    peft_model.merge_and_unload().save_pretrained(target)
    tok.save_pretrained(target)


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
        import torch
        from peft import PeftModel
        from transformers import AutoModelForCausalLM, AutoTokenizer

        base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        save_merged(PeftModel.from_pretrained(base, adapter_dir), AutoTokenizer.from_pretrained(adapter_dir), tmp)

    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    return convert_once(cache_dir / f"student-{adapter_key(model_dir, adapter_dir)}", merge)


def student_model(llm: LLMSection, mode: Mode, sft: str | Path | None = None,
                  dpo: str | Path | None = None) -> ChatModel:
    """The `llm.roles.student` model as `mode` evaluates it (`student_weights` picks the weights).

    Args:
        llm: the `llm` section (the student role, the models folder, the call cache).
        mode: "baseline" and "icl" use the base model; "finetuned" and "sft+dpo" trained weights.
        sft: the fine-tuned student: a LoRA adapter folder (merged into the base once, cached under
            `llm.models_dir`/merged) or a fully fine-tuned model folder. A served student (`backend: openai`)
            is asked for the adapter by name instead (`served_adapter_name`), vLLM's convention for LoRA adapters.
        dpo: the sft+dpo student's adapter (the dpo stage's).
    """
    spec = llm.roles.student
    mode, weights = student_weights(mode, sft, dpo)
    if mode in TRAINED_MODES:
        if weights is None:
            raise ConfigError(f"evaluate: the {mode} mode needs the trained weights (an adapter folder)")
        if spec.backend == "openai":
            if not (Path(weights) / "adapter_config.json").exists():
                raise ConfigError(f"{weights}: a served student takes LoRA adapters (finetune.method: lora)")
            name, revision = served_adapter_name(weights), folder_digest(weights)
            if spec.load_adapters:
                load_adapter(spec, name, Path(weights))
            return build_chat_model(spec.model_copy(update={"model": name, "revision": revision}), llm)
        base = resolve_model_dir(spec.model, llm.models_dir, where=f"{llm.source}: llm.roles.student.model")
        merged = load_student(base, Path(weights), Path(llm.models_dir) / "merged")
        spec = spec.model_copy(update={"model": str(merged)})
    return build_chat_model(spec, llm)


def served_adapter_name(weights: str | Path) -> str:
    """The model name a served student is asked for: the adapter folder's path in the project, e.g.
    `models/full/adapter` (register it so: `vllm serve BASE --enable-lora --lora-modules
    models/full/adapter=/abs/path/models/full/adapter`)."""
    path = Path(weights)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:  # outside the project: its absolute path
        return path.resolve().as_posix()


def load_adapter(spec: LLMSpec, name: str, weights: Path) -> None:
    """Register a trained adapter with a vLLM server at run time (POST /v1/load_lora_adapter; the server needs
    VLLM_ALLOW_RUNTIME_LORA_UPDATING=True and --enable-lora). An adapter the server already has is fine."""
    import httpx

    key = os.environ.get(spec.api_key_env) if spec.api_key_env else None
    reply = httpx.post(f"{spec.base_url.rstrip('/')}/load_lora_adapter", timeout=spec.timeout_s,
                       json={"lora_name": name, "lora_path": str(weights.resolve())},
                       headers={"Authorization": f"Bearer {key}"} if key else {})
    if reply.status_code >= 400 and "already" not in reply.text:
        raise LLMError(f"{spec.base_url}: could not load the adapter {name} ({reply.status_code}: "
                       f"{reply.text[:200]}); start vLLM with --enable-lora and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True, "
                       "or register it with --lora-modules and set load_adapters: false")
