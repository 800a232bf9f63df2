"""python -m ste.config.params [params.yaml]

Every section of params.yaml in one model: the whole file checked at once (`make run` and the orchestrator do it
before DVC starts anything; each stage checks only the sections it reads), exit 2 naming the file and the key.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import model_validator

from ste.config.continual import ContinualSection
from ste.config.dpo import DPOSection
from ste.config.evaluate import EvaluateSection
from ste.config.explore import ExploreSection
from ste.config.filter import FilterSection
from ste.config.finetune import FinetuneSection
from ste.config.paraphrase import ParaphraseSection, check_doc_reading
from ste.core.config import LLMSection, OrchestrationSection, Sections, ToolsSection
from ste.core.errors import ConfigError


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

    @model_validator(mode="after")
    def _across_sections(self) -> "Params":
        check_doc_reading(self.paraphrase, self.explore)
        return self


def parse_params(data: Any, source: str = "params.yaml") -> Params:
    """Validate a parsed params mapping, every section; raise ConfigError naming the key on any problem."""
    return Params.parse(data, source)


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate the whole params.yaml."""
    return Params.load(path)


def main(argv: list[str] | None = None) -> int:
    """Validate the params file; 2 and one error line when it is not valid."""
    args = sys.argv[1:] if argv is None else argv
    try:
        load_params(args[0] if args else "params.yaml")
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
