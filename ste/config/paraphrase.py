"""The `paraphrase` section: balancing by paraphrase, and what the export mixes in."""
from __future__ import annotations

from pydantic import Field, model_validator

from ste.config.evaluate import EvaluateSection
from ste.config.explore import ExploreSection
from ste.config.finetune import FinetuneSection
from ste.core.config import LLMSection, Sections, Strict, ToolsSection


class DocReading(Strict):
    """Training that makes the student read the tool list: in these configs' fine-tuning prompts, each example's
    API is listed among `distractors` other tools (drawn per example) in a shuffled order; in a `rename` share of
    the examples (drawn per example) every listed tool goes by another name, so that the call is right only if
    its name is read from the list."""

    configs: list[str] = []
    distractors: tuple[int, int] = (2, 7)  # the least and the most other tools a prompt lists
    rename: float = Field(0.0, ge=0, le=1)  # share of examples whose listed tools are renamed

    @model_validator(mode="after")
    def _check_range(self) -> "DocReading":
        low, high = self.distractors
        if not 0 <= low <= high:
            raise ValueError(f"distractors: want [least, most] with 0 <= least <= most, got [{low}, {high}]")
        return self


class ParaphraseSection(Strict):
    target_per_api: int = Field(150, ge=1)
    max_per_seed: int = Field(6, ge=0)
    temperature: float = Field(1.0, ge=0)
    max_new_tokens: int = Field(80, ge=8)
    seed: int = 0
    final_answer_records: bool = True  # also train observation -> Final Answer
    general_ratio: float = Field(0.0, ge=0, le=1)  # share of general instruction records mixed in
    rounds: int = Field(2, ge=1)  # paraphrase requests per seed, the later ones asking only for what is missing
    doc_reading: DocReading = DocReading()


class ParaphraseParams(Sections):
    """What the paraphrase stage reads (the explore section for each config's APIs; the evaluate section for
    the unseen APIs, which no training prompt may list; the student's weights, whose tokenizer measures a
    documentation-reading tool list)."""

    llm: LLMSection = LLMSection()
    tools: ToolsSection = ToolsSection()
    explore: ExploreSection = ExploreSection()
    evaluate: EvaluateSection = EvaluateSection()
    paraphrase: ParaphraseSection = ParaphraseSection()
    finetune: FinetuneSection = FinetuneSection()

    @model_validator(mode="after")
    def _known_configs(self) -> "ParaphraseParams":
        check_doc_reading(self.paraphrase, self.explore)
        return self


def check_doc_reading(paraphrase: ParaphraseSection, explore: ExploreSection) -> None:
    """ValueError when `paraphrase.doc_reading.configs` names a config that explore.configs does not define."""
    unknown = [c for c in paraphrase.doc_reading.configs if c not in explore.configs]
    if unknown:
        raise ValueError(f"paraphrase.doc_reading.configs: {', '.join(unknown)} not in explore.configs "
                         f"({', '.join(explore.configs)})")
