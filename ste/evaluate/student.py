"""The student under evaluation as a chat model: the base model, or the base with its fine-tuned weights."""
from __future__ import annotations

import os
from pathlib import Path

from ste.config import TRAINED_MODES, LLMSection, LLMSpec, Mode
from ste.errors import ConfigError, LLMError
from ste.finetune import is_untrained, load_student
from ste.llm.base import ChatModel
from ste.llm.embedded import resolve_model_dir
from ste.llm.factory import build_chat_model
from ste.provenance import folder_digest


def student_model(llm: LLMSection, mode: Mode, weights: str | Path | None = None) -> ChatModel:
    """The `llm.roles.student` model as `mode` evaluates it.

    Args:
        llm: the `llm` section (the student role, the models folder, the call cache).
        mode: "baseline" and "icl" use the base model; "finetuned" and "sft+dpo" use `weights`.
        weights: the trained student: a LoRA adapter folder (merged into the base once, cached under
            `llm.models_dir`/merged) or a fully fine-tuned model folder. An adapter folder marked untrained
            (the stage had no data) stands for the base model. A served student (`backend: openai`) is asked
            for the adapter by name instead (`served_adapter_name`), vLLM's convention for LoRA adapters.
    """
    spec = llm.roles.student
    if mode in TRAINED_MODES and is_untrained(weights):
        mode = "baseline"  # nothing was trained: the "fine-tuned" student is the base model (its summary says why)
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
