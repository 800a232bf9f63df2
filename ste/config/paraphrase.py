"""The `paraphrase` section: balancing by paraphrase, and what the export mixes in."""
from __future__ import annotations

from pydantic import Field

from ste.config.explore import ExploreSection
from ste.core.config import LLMSection, Sections, Strict, ToolsSection


class ParaphraseSection(Strict):
    target_per_api: int = Field(150, ge=1)
    max_per_seed: int = Field(6, ge=0)
    temperature: float = Field(1.0, ge=0)
    max_new_tokens: int = Field(80, ge=8)
    seed: int = 0
    final_answer_records: bool = True  # also train observation -> Final Answer
    general_ratio: float = Field(0.0, ge=0, le=1)  # share of general instruction records mixed in
    rounds: int = Field(2, ge=1)  # paraphrase requests per seed, the later ones asking only for what is missing


class ParaphraseParams(Sections):
    """What the paraphrase stage reads (the explore section for each config's APIs)."""

    llm: LLMSection = LLMSection()
    tools: ToolsSection = ToolsSection()
    explore: ExploreSection = ExploreSection()
    paraphrase: ParaphraseSection = ParaphraseSection()
