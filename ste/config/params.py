"""Every section of params.yaml in one model: the whole file checked at once (`make check`, the orchestrator, tests)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ste.config.continual import ContinualSection
from ste.config.dpo import DPOSection
from ste.config.evaluate import EvaluateSection
from ste.config.explore import ExploreSection
from ste.config.filter import FilterSection
from ste.config.finetune import FinetuneSection
from ste.config.orchestration import OrchestrationSection
from ste.config.paraphrase import ParaphraseSection
from ste.core.config import LLMSection, Sections, ToolsSection


class Params(Sections):
    """Every section; a stage reads only its own view (e.g. `ste.config.filter.FilterParams`)."""

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


def parse_params(data: Any, source: str = "params.yaml") -> Params:
    """Validate a parsed params mapping, every section; raise ConfigError naming the key on any problem."""
    return Params.parse(data, source)


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate the whole params.yaml."""
    return Params.load(path)
