"""Typed params.yaml, the shared part: each stage validates only the sections it reads (`Sections`).

Every section is a strict pydantic model: the LLM roles, the tools and the orchestration, which the core and
several stages use, here; each stage's own in ste/config/<section>.py (`ste.config.params.Params` composes them
all). An unknown key, a wrong type or a bad value stops the run with a message that names the file, the dotted
key and what is allowed.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from ste.core.errors import ConfigError

# Every section params.yaml may hold, in the order an error lists them.
SECTIONS = ("llm", "tools", "explore", "filter", "paraphrase", "finetune", "evaluate", "continual", "dpo",
            "orchestration")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)
    _source: str = PrivateAttr("params.yaml")  # the file it was read from, set by Sections.parse

    @property
    def source(self) -> str:
        """The params file this section was read from: errors about its keys name it."""
        return self._source


class Sections(Strict):
    """A stage's view of params.yaml: the sections it reads, each validated; the others' names are checked only."""

    model_config = ConfigDict(extra="ignore", validate_default=True)

    @classmethod
    def parse(cls, data: Any, source: str = "params.yaml"):
        """Validate a parsed params mapping; raise ConfigError naming the key on any problem."""
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: the top level must be a mapping of sections, got {type(data).__name__}")
        lines = [f"{key}: unknown key; allowed keys: {', '.join(SECTIONS)}" for key in data if key not in SECTIONS]
        try:
            view = cls(**{key: value for key, value in data.items() if key in cls.model_fields})
        except ValidationError as err:
            for e in err.errors()[:5]:
                msg = describe(e)
                if e["type"] == "extra_forbidden":
                    allowed = _allowed_keys(cls, e["loc"])
                    if allowed:
                        msg += f"; allowed keys: {', '.join(allowed)}"
                lines.append(msg)
        if lines:
            raise ConfigError(f"{source}: " + "\n  ".join(lines[:5]))
        _set_source(view, source)
        return view

    @classmethod
    def load(cls, path: str | Path = "params.yaml"):
        """Read params.yaml and validate the sections this view reads."""
        path = Path(path)
        if not path.exists():
            raise ConfigError(f"{path}: file not found (run from the project root or pass --params)")
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML{_yaml_problem(err)}") from None
        return cls.parse(data, str(path))


# ---------------------------------------------------------------- LLM roles
class LLMSpec(Strict):
    """Which model plays a role, and how to reach it."""

    backend: Literal["local", "openai"] = "local"
    model: str = "embedded"  # "embedded", a local HF directory, or a served model's name
    base_url: str | None = None  # openai backend: any OpenAI-compatible server
    api_key_env: str | None = None  # name of the environment variable that holds the key
    max_concurrency: int = Field(8, ge=1)  # openai: requests in flight
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(5, ge=0)
    workers: int = Field(1, ge=1)  # local: requests decoded at once, one Python thread each (replies do not depend on it)
    kv_cache_tokens: int = Field(32768, ge=0)  # local: KV states kept for conversations that continue (0: none)
    precision: Literal["fp32", "int8", "int4"] = "fp32"  # local: the ONNX export's weights (benchmarks/engine.py)
    revision: str | None = None  # openai: what identifies the weights behind `model` (an adapter's hash); cache key
    load_adapters: bool = False  # openai student: register each trained adapter with the server (vLLM, at run time)
    constrained: bool | None = None  # structured decoding; None = on for local, off for openai
    # openai backend, constrained: the request field the constraint travels in, by server: vllm (>= 0.12,
    # structured_outputs), sglang (regex), llama_cpp (llama-server: grammar, GBNF), openai (response_format, JSON
    # schemas only), none (nothing sent); auto asks the server once (cheap GET probes), falling back to openai.
    protocol: Literal["auto", "vllm", "sglang", "llama_cpp", "openai", "none"] = "auto"

    @model_validator(mode="after")
    def _check_backend(self) -> "LLMSpec":
        if self.backend == "openai" and not self.base_url and not self.api_key_env:
            raise ValueError("the openai backend needs base_url (a local server) or api_key_env (a hosted API)")
        if self.backend == "local" and self.protocol != "auto":
            raise ValueError(f"protocol {self.protocol!r} is for the openai backend (a served model); "
                             "the local backend enforces constraints itself: drop protocol")
        return self

    @property
    def use_constraints(self) -> bool:
        return self.backend == "local" if self.constrained is None else self.constrained


class Roles(Strict):
    explorer: LLMSpec = LLMSpec()
    judge: LLMSpec = LLMSpec()
    paraphraser: LLMSpec = LLMSpec()
    student: LLMSpec = LLMSpec()


class LLMSection(Strict):
    cache: bool = True  # content-addressed cache of every call, outside DVC outputs
    cache_dir: str = ".cache/llm"
    models_dir: str = ".cache/models"  # the embedded GGUF converted once to safetensors
    roles: Roles = Roles()


# ---------------------------------------------------------------- tools
class OpenAPISource(Strict):
    """A user's own HTTP service, turned into tools through its OpenAPI 3 document."""

    spec: str  # a URL or a file path of the OpenAPI document
    base_url: str | None = None  # overrides the document's servers[0]
    auth_header: str = "Authorization"
    auth_env: str | None = None  # environment variable holding the header's value
    allowed_hosts: list[str] = ["127.0.0.1", "localhost"]
    timeout_s: float = Field(10.0, gt=0)
    category: str = "http"


class ToolsSection(Strict):
    today: dt.date = dt.date(2026, 1, 15)  # what time-dependent tools take as "today"
    timeout_s: float = Field(5.0, gt=0)  # per call
    max_output_chars: int = Field(2048, ge=64)
    openapi: list[OpenAPISource] = []


# ---------------------------------------------------------------- orchestration (explore's task runner, make serve)
class OrchestrationSection(Strict):
    task_runner: Literal["threads", "dask"] = "threads"
    dask_address: str | None = None  # None: a local Dask cluster
    schedule: str = "0 3 * * *"  # cron of the `make serve` deployment


# ---------------------------------------------------------------- loading
def first_error(err: ValidationError) -> str:
    """The first few problems of a validation error, one line."""
    return "; ".join(describe(e) for e in err.errors()[:3])


def describe(e: dict) -> str:
    """One pydantic error as `dotted.key: problem`."""
    key = ".".join(str(p) for p in e["loc"]) or "(root)"
    if e["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    if e["type"] == "value_error":  # raised by a validator: its message starts with the sub-key
        msg = e["msg"].removeprefix("Value error, ")
        return f"{key}.{msg}" if msg.startswith("configs.") else f"{key}: {msg}"
    got = e.get("input")
    shown = "" if isinstance(got, (dict, list)) else f" (got {got!r})"
    return f"{key}: {e['msg']}{shown}"


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys a model accepts at `loc` (the parent of an unknown key)."""
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        ann = field.annotation
        candidates = [ann, *get_args(ann)]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if model is None:
            return []
    return list(model.model_fields)


def _set_source(value: Any, source: str) -> None:
    """Record `source` on every section, so that whichever part a function gets can name its file."""
    if isinstance(value, Strict):
        value._source = source
        children = value.__dict__.values()
    elif isinstance(value, dict):
        children = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return
    for child in children:
        _set_source(child, source)


def _yaml_problem(err: yaml.YAMLError) -> str:
    """' at line L, column C: problem (context)' on one line (PyYAML's own text spans several)."""
    mark = getattr(err, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    context, start = getattr(err, "context", None), getattr(err, "context_mark", None)
    if context and start:
        context += f" from line {start.line + 1}, column {start.column + 1}"
    return f"{where}: {problem}" + (f" ({context})" if context else "")
