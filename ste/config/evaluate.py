"""The `evaluate` section: which students are scored, on which items, how."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from ste.config.explore import ExploreSection
from ste.core.config import LLMSection, Sections, Strict, ToolsSection
from ste.core.weights import Mode


class EvaluateSection(Strict):
    modes: list[Mode] = ["baseline", "icl", "finetuned", "sft+dpo"]
    apis: str | list[str] = "explored"  # "explored" (the config's APIs), "all", "category:<name>" or a list
    # APIs no config explores, scored apart from their documentation alone (a list or "category:<name>"; [] none)
    unseen_apis: str | list[str] = []
    split: Literal["dev", "test"] = "test"  # gold items scored: tune on dev, report on test
    max_items_per_api: int | None = Field(None, ge=1)
    icl_k: int = Field(8, ge=0)
    retriever: Literal["embedding", "bm25"] = "embedding"
    max_new_tokens: int = Field(96, ge=8)
    batch_size: int = Field(16, ge=1)


class EvaluateParams(Sections):
    """What the evaluate stages read (the explore section for each config's APIs)."""

    llm: LLMSection = LLMSection()
    tools: ToolsSection = ToolsSection()
    explore: ExploreSection = ExploreSection()
    evaluate: EvaluateSection = EvaluateSection()
