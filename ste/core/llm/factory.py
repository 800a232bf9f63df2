"""Build the `ChatModel` a role's `LLMSpec` asks for, cached when `llm.cache` is on."""
from __future__ import annotations

import threading
from pathlib import Path

from ste.core.config import LLMSection, LLMSpec
from ste.core.llm.base import ChatModel

# One loaded local model per (folder, constrained, precision, workers, kept KV tokens) in this process: explorer, judge
# and paraphraser share it.
_LOCAL: dict[tuple, ChatModel] = {}
_LOCAL_LOCK = threading.Lock()


def _local_model(spec: LLMSpec, llm: LLMSection) -> ChatModel:
    from ste.core.llm.embedded import resolve_model_dir
    from ste.core.llm.local import LocalChatModel  # heavy (the engine, transformers): only when a role runs locally

    role = next((name for name, s in llm.roles if s is spec), None)  # to name the key in an error
    model_dir = resolve_model_dir(spec.model, llm.models_dir, where=role and f"{spec.source}: llm.roles.{role}.model")
    key = (model_dir.resolve(), spec.use_constraints, spec.precision, spec.workers, spec.kv_cache_tokens)
    with _LOCAL_LOCK:
        if key not in _LOCAL:
            _LOCAL[key] = LocalChatModel(model_dir, precision=spec.precision, use_constraints=spec.use_constraints,
                                         workers=spec.workers, kv_cache_tokens=spec.kv_cache_tokens,
                                         models_dir=llm.models_dir)
        return _LOCAL[key]


def build_chat_model(spec: LLMSpec, llm: LLMSection) -> ChatModel:
    """The chat model for one role.

    Args:
        spec: the role's settings (`llm.roles.<role>` in params.yaml).
        llm: the `llm` section (cache switch and folders).

    Returns:
        An `OpenAIChatModel` or a shared `LocalChatModel`, wrapped in a `CachedChatModel` when `llm.cache` is true.
    """
    if spec.backend == "openai":
        from ste.core.llm.openai_backend import OpenAIChatModel

        model = OpenAIChatModel(spec)
    else:
        model = _local_model(spec, llm)
    if llm.cache:
        from ste.core.llm.cache import CachedChatModel

        model = CachedChatModel(model, llm.cache_dir)
    return model
