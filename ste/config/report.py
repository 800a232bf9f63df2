"""What the report stage reads: no section of its own, the configs explored and the modes evaluated."""
from __future__ import annotations

from ste.config.evaluate import EvaluateSection
from ste.config.explore import ExploreSection
from ste.core.config import Sections


class ReportParams(Sections):
    """The explore configs and evaluate modes the report lays out."""

    explore: ExploreSection = ExploreSection()
    evaluate: EvaluateSection = EvaluateSection()
