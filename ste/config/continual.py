"""The `continual` section: the continual-learning settings compared."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ste.config.evaluate import EvaluateSection
from ste.config.explore import ExploreSection
from ste.config.finetune import FinetuneSection
from ste.core.config import LLMSection, Sections, Strict, ToolsSection
from ste.core.errors import ConfigError


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


class ContinualParams(Sections):
    """What the continual stage reads: each round fine-tunes (finetune) and is scored (evaluate)."""

    llm: LLMSection = LLMSection()
    tools: ToolsSection = ToolsSection()
    explore: ExploreSection = ExploreSection()
    finetune: FinetuneSection = FinetuneSection()
    evaluate: EvaluateSection = EvaluateSection()
    continual: ContinualSection = ContinualSection()
