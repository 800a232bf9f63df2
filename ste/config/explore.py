"""The `explore` section: one exploration config per ablation, each overriding the defaults."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from ste.core.config import LLMSection, OrchestrationSection, Sections, Strict, ToolsSection, first_error
from ste.core.errors import ConfigError

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
                raise ValueError(f"configs.{name}.{first_error(err)}") from None
        return self

    def resolve(self, name: str) -> ExploreSettings:
        """The settings of config `name`: defaults overridden by its entry."""
        if name not in self.configs:
            raise ConfigError(
                f"{self.source}: explore.configs has no config {name!r}; known: {', '.join(self.configs)}"
            )
        return ExploreSettings(**{**self.defaults.model_dump(), **(self.configs[name] or {})})


class ExploreParams(Sections):
    """What the explore stage reads."""

    llm: LLMSection = LLMSection()
    tools: ToolsSection = ToolsSection()
    explore: ExploreSection = ExploreSection()
    orchestration: OrchestrationSection = OrchestrationSection()
