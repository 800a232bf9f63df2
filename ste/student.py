"""The student's prompt ("tool mode"): shared by fine-tuning records, ICL and evaluation.

Training and evaluation must see the very same prompt, so it is built in one place.
"""
from __future__ import annotations

from pathlib import Path

from ste.config import Params
from ste.errors import ConfigError
from ste.llm.base import Message
from ste.react import format_call
from ste.schemas import Example
from ste.tools.base import Registry

TOOL_MODE = (
    "You are in tool mode. You can call these APIs:\n\n{tools}\n\n"
    "Answer the user's request with one API call, written exactly as:\n"
    "Action: <API name>\nAction Input: <JSON object with the arguments>"
)


def system_message(registry: Registry, apis: list[str]) -> Message:
    return {"role": "system", "content": TOOL_MODE.format(tools=registry.describe(apis))}


def demonstrations(demos: list[Example]) -> str:
    """ICL block: `User Query / Action / Action Input` for each demonstration."""
    return "\n\n".join(f"User Query: {d.query}\n{format_call(d.api, d.arguments)}" for d in demos)


def student_messages(registry: Registry, apis: list[str], query: str, demos: list[Example] = ()) -> list[Message]:
    """System tool-mode message (+ demonstrations), then the user's query."""
    system = system_message(registry, apis)
    if demos:
        system = {"role": "system", "content": system["content"] + "\n\nExamples:\n\n" + demonstrations(list(demos))}
    return [system, {"role": "user", "content": query}]


def target_text(example: Example) -> str:
    """What the student is trained to reply to the query."""
    return format_call(example.api, example.arguments)


def base_weights(params: Params) -> Path:
    """The student's base weights that fine-tuning (and DPO, and continual rounds) train: `finetune.base_model`,
    else the student role's local model. A served student (`backend: openai`) is only evaluated: its weights
    for training must be named by `finetune.base_model`."""
    from ste.llm.embedded import resolve_model_dir

    if params.finetune.base_model:
        return resolve_model_dir(params.finetune.base_model, params.llm.models_dir,
                                 where=f"{params.source}: finetune.base_model")
    spec = params.llm.roles.student
    if spec.backend != "local":
        raise ConfigError(f"{params.source}: llm.roles.student is served (backend: {spec.backend}); set "
                          "finetune.base_model to a local folder of the same base weights, to train on")
    return resolve_model_dir(spec.model, params.llm.models_dir, where=f"{params.source}: llm.roles.student.model")
