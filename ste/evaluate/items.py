"""The gold items a student is scored on: the APIs under test, the evaluated split, at most so many per API."""
from __future__ import annotations

from collections import Counter

from ste.config.evaluate import EvaluateSection
from ste.core.schemas import TestItem
from ste.core.tools.base import Registry


def eval_items(settings: EvaluateSection, registry: Registry, testset: list[TestItem],
               explored: str | list[str] = "all") -> tuple[list[str], list[TestItem]]:
    """The APIs under test and their gold items.

    Args:
        settings: the `evaluate` section: `apis`, `split` and `max_items_per_api` are used.
        registry: the tools (it resolves "all" and "category:<name>" and checks API names).
        testset: every gold item (`ste.core.testset.load_testset`).
        explored: the exploration config's `apis`, what `evaluate.apis: explored` stands for.

    Returns:
        (the APIs, in selection order; their test-set items of `settings.split`, in test-set order,
        the first `max_items_per_api` of each API).
    """
    apis = registry.select(explored if settings.apis == "explored" else settings.apis)
    cap = settings.max_items_per_api or float("inf")
    taken: Counter = Counter()
    items = []
    for item in testset:
        if item.api in apis and item.split == settings.split and taken[item.api] < cap:
            taken[item.api] += 1
            items.append(item)
    return apis, items
