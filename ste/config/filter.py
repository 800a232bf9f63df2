"""The `filter` section: which checks keep a trial."""
from __future__ import annotations

from pydantic import Field

from ste.core.config import LLMSection, Sections, Strict, ToolsSection


class FilterSection(Strict):
    precheck: bool = True  # rule-based check before the judge (last call ok, answer non-empty)
    judge: bool = True  # ask the judge role the three questions
    args_in_query: bool = False  # code check: the call's argument values appear in the query
    cites_observation: bool = False  # code check: the final answer repeats a value the call returned
    max_new_tokens: int = Field(96, ge=8)


class FilterParams(Sections):
    """What the filter stage reads."""

    llm: LLMSection = LLMSection()
    tools: ToolsSection = ToolsSection()
    filter: FilterSection = FilterSection()
