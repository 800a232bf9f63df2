"""Typed params.yaml: one strict pydantic model per section, one loader for every stage.

An unknown key, a wrong type or a bad value stops the run with a message that names the
file, the dotted key and what is allowed.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from ste.core.errors import ConfigError


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)
    _source: str = PrivateAttr("params.yaml")  # the file it was read from, set by parse_params

    @property
    def source(self) -> str:
        """The params file this section was read from: errors about its keys name it."""
        return self._source


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


# ---------------------------------------------------------------- explore
Imagination = Literal["auto", "query_first", "call_first"]


class ExploreSettings(Strict):
    """One exploration config; `explore.configs.<name>` overrides `explore.defaults`."""

    apis: str | list[str] = "all"  # "all", "category:<name>", or a list of API names
    episodes: int = Field(15, ge=1)
    trials_per_episode: int = Field(4, ge=1)
    max_calls: int = Field(4, ge=1)  # API calls per trial
    stm: bool = True  # short-term memory: trials of an episode share one context
    ltm: bool = True  # long-term memory: earlier queries shown when imagining
    reflection: bool = True
    exec_feedback: bool = True  # off: the explorer never sees real observations
    imagination: Imagination = "auto"  # auto: call_first for a local explorer, else query_first
    query_seeds: bool = True  # show each tool's example questions when imagining
    values_in_query: bool = True  # call-first: the question must state every argument value of its call
    max_reimagine: int = Field(3, ge=0)
    max_query_chars: int = Field(300, ge=20)
    max_query_tokens: int = Field(80, ge=8)  # imagining a query or question: one that is not done by then is dropped
    temperature: float = Field(1.0, ge=0)
    max_new_tokens: int = Field(360, ge=8)
    seed: int = 0


class ExploreSection(Strict):
    concurrency: int = Field(8, ge=1)  # APIs explored at once
    defaults: ExploreSettings = ExploreSettings()
    configs: dict[str, dict[str, Any]] = {"full": {}}

    @model_validator(mode="after")
    def _check_configs(self) -> "ExploreSection":
        for name, override in self.configs.items():
            try:
                ExploreSettings(**{**self.defaults.model_dump(), **(override or {})})
            except ValidationError as err:
                raise ValueError(f"configs.{name}.{_first_error(err)}") from None
        return self

    def resolve(self, name: str) -> ExploreSettings:
        """The settings of config `name`: defaults overridden by its entry."""
        if name not in self.configs:
            raise ConfigError(
                f"{self.source}: explore.configs has no config {name!r}; known: {', '.join(self.configs)}"
            )
        return ExploreSettings(**{**self.defaults.model_dump(), **(self.configs[name] or {})})


# ---------------------------------------------------------------- exploit
class FilterSection(Strict):
    precheck: bool = True  # rule-based check before the judge (last call ok, answer non-empty)
    judge: bool = True  # ask the judge role the three questions
    args_in_query: bool = False  # code check: the call's argument values appear in the query
    cites_observation: bool = False  # code check: the final answer repeats a value the call returned
    max_new_tokens: int = Field(96, ge=8)


class ParaphraseSection(Strict):
    target_per_api: int = Field(150, ge=1)
    max_per_seed: int = Field(6, ge=0)
    temperature: float = Field(1.0, ge=0)
    max_new_tokens: int = Field(80, ge=8)
    seed: int = 0
    final_answer_records: bool = True  # also train observation -> Final Answer
    general_ratio: float = Field(0.0, ge=0, le=1)  # share of general instruction records mixed in
    rounds: int = Field(2, ge=1)  # paraphrase requests per seed, the later ones asking only for what is missing


# ---------------------------------------------------------------- fine-tune / evaluate
class FinetuneSection(Strict):
    method: Literal["lora", "full"] = "lora"
    base_model: str | None = None  # the weights trained: a local HF folder; None: the student role's local model
    epochs: float = Field(3, gt=0)
    lr: float = Field(1e-3, gt=0)
    scheduler: Literal["cosine", "linear", "constant"] = "cosine"
    warmup_ratio: float = Field(0.03, ge=0, le=1)
    batch_size: int = Field(4, ge=1)
    grad_accum: int = Field(1, ge=1)
    lora_r: int = Field(8, ge=1)
    lora_alpha: int = Field(16, ge=1)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    lora_targets: list[str] = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    max_length: int = Field(768, ge=32)
    seed: int = 0
    merge: bool = False  # also write a merged full model
    checkpoint_every: int = Field(50, ge=1)  # optimizer steps between resumable checkpoints
    # Under accelerate (ste/training/loop.py). processes > 1: the stage launches that many training processes (one per GPU;
    # gloo on CPU), each on batch_size rows: the global batch is batch_size x grad_accum x processes.
    processes: int = Field(1, ge=1)
    mixed_precision: Literal["no", "bf16"] = "no"  # bf16 autocast: for GPUs (slow on most CPUs)
    gradient_checkpointing: bool = False  # less activation memory for one more forward pass a step
    fsdp: bool = False  # method full on GPUs: shard weights, gradients and optimizer state (FSDP2) across processes

    @model_validator(mode="after")
    def _check_fsdp(self) -> "FinetuneSection":
        if self.fsdp and self.method != "full":
            raise ValueError("fsdp shards a fully fine-tuned model; LoRA's few weights need no sharding: "
                             "set method: full or fsdp: false")
        return self


Mode = Literal["baseline", "icl", "finetuned", "sft+dpo"]  # sft+dpo: the fine-tuned student after DPO
TRAINED_MODES = ("finetuned", "sft+dpo")  # the modes that score trained weights


class EvaluateSection(Strict):
    modes: list[Mode] = ["baseline", "icl", "finetuned", "sft+dpo"]
    apis: str | list[str] = "explored"  # "explored" (the config's APIs), "all", "category:<name>" or a list
    split: Literal["dev", "test"] = "test"  # gold items scored: tune on dev, report on test
    max_items_per_api: int | None = Field(None, ge=1)
    icl_k: int = Field(8, ge=0)
    retriever: Literal["embedding", "bm25"] = "embedding"
    max_new_tokens: int = Field(96, ge=8)
    batch_size: int = Field(16, ge=1)


class ContinualSection(Strict):
    config: str = "full"  # the exploration config whose exported data is reused (nothing is explored again)
    settings: dict[str, Annotated[float, Field(ge=0, le=1)]] = {"replay": 0.1, "no_replay": 0.0}  # name -> replay ratio
    start_from: Literal["previous", "base"] = "previous"  # each round continues the previous round's weights, or not
    general_ratio: float = Field(0.0, ge=0, le=1)  # share of general instruction records mixed into each round
    seed: int = 0

    def replay_ratio(self, setting: str) -> float:
        """The replay ratio of setting `setting`."""
        if setting not in self.settings:
            raise ConfigError(
                f"{self.source}: continual.settings has no setting {setting!r}; known: {', '.join(self.settings)}"
            )
        return self.settings[setting]


class DPOSection(Strict):
    """Preference training after SFT (ste/dpo/train.py): continues the SFT adapter on pairs from exploration."""

    enabled: bool = True
    # builtin: our loop (ste/training/loop.py), the shared system prompt through the model once per micro-batch and
    # the reference log-probs computed once up front; trl: TRL's DPOTrainer (every row whole, policy and reference).
    engine: Literal["builtin", "trl"] = "builtin"
    beta: float = Field(0.1, gt=0)  # how far the student may move from the SFT model (higher: less)
    loss_type: Literal["sigmoid", "ipo", "hinge", "robust"] = "sigmoid"  # sigmoid: the DPO paper's loss
    sft_weight: float = Field(0.0, ge=0)  # adds this times the chosen calls' SFT loss (RPO): keeps their likelihood up
    label_smoothing: float = Field(0.0, ge=0, lt=0.5)  # robust loss: the share of pairs assumed mislabelled
    epochs: float = Field(2, gt=0)
    lr: float = Field(5e-4, gt=0)  # untuned; DPO overfits a few pairs fast, so below finetune.lr
    scheduler: Literal["cosine", "linear", "constant"] = "linear"
    warmup_ratio: float = Field(0.0, ge=0, lt=1)
    batch_size: int = Field(4, ge=1)  # pairs per micro-batch (each is two sequences)
    grad_accum: int = Field(1, ge=1)
    max_length: int = Field(1024, ge=32)  # prompt + call tokens; a pair whose prompt alone reaches it is skipped
    gradient_checkpointing: bool = False  # less memory for one more forward pass a step: long prompts (many APIs)
    seed: int = 0
    checkpoint_every: int = Field(50, ge=1)  # optimizer steps between resumable checkpoints
    processes: int = Field(1, ge=1)  # as finetune.processes: the global batch is batch_size x grad_accum x processes
    mixed_precision: Literal["no", "bf16"] = "no"  # as finetune.mixed_precision
    # On-policy pairs (ste/dpo/onpolicy.py): replies sampled from the SFT student per training query, each run; a failed
    # one is "rejected" against the example's call. 0: the pairs from exploration only.
    on_policy_samples: int = Field(2, ge=0)
    on_policy_temperature: float = Field(0.8, gt=0)


class OrchestrationSection(Strict):
    task_runner: Literal["threads", "dask"] = "threads"
    dask_address: str | None = None  # None: a local Dask cluster
    schedule: str = "0 3 * * *"  # cron of the `make serve` deployment


class Params(Strict):
    llm: LLMSection = LLMSection()
    tools: ToolsSection = ToolsSection()
    explore: ExploreSection = ExploreSection()
    filter: FilterSection = FilterSection()
    paraphrase: ParaphraseSection = ParaphraseSection()
    finetune: FinetuneSection = FinetuneSection()
    evaluate: EvaluateSection = EvaluateSection()
    continual: ContinualSection = ContinualSection()
    dpo: DPOSection = DPOSection()
    orchestration: OrchestrationSection = OrchestrationSection()


# ---------------------------------------------------------------- loading
def _first_error(err: ValidationError) -> str:
    return "; ".join(_describe(e) for e in err.errors()[:3])


def _describe(e: dict) -> str:
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


def parse_params(data: Any, source: str = "params.yaml") -> Params:
    """Validate a parsed params mapping; raise ConfigError naming the key on any problem."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of sections, got {type(data).__name__}")
    try:
        params = Params(**data)
    except ValidationError as err:
        lines = []
        for e in err.errors()[:5]:
            msg = _describe(e)
            if e["type"] == "extra_forbidden":
                allowed = _allowed_keys(Params, e["loc"])
                if allowed:
                    msg += f"; allowed keys: {', '.join(allowed)}"
            lines.append(msg)
        raise ConfigError(f"{source}: " + "\n  ".join(lines)) from None
    _set_source(params, source)
    return params


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


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate params.yaml (the single loader every stage uses)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: file not found (run from the project root or pass --params)")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML{_yaml_problem(err)}") from None
    return parse_params(data, str(path))


def _yaml_problem(err: yaml.YAMLError) -> str:
    """' at line L, column C: problem (context)' on one line (PyYAML's own text spans several)."""
    mark = getattr(err, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    context, start = getattr(err, "context", None), getattr(err, "context_mark", None)
    if context and start:
        context += f" from line {start.line + 1}, column {start.column + 1}"
    return f"{where}: {problem}" + (f" ({context})" if context else "")
