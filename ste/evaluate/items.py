"""The gold items a student is scored on: the APIs under test (seen in training, or unseen), the evaluated split,
at most so many per API."""
from __future__ import annotations

from collections import Counter

from ste.config.evaluate import EvaluateSection
from ste.core.errors import ConfigError
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
    return apis, _items_of(settings, apis, testset)


def unseen_items(settings: EvaluateSection, registry: Registry, testset: list[TestItem],
                 explored: list[str]) -> tuple[list[str], list[TestItem]]:
    """The unseen APIs (`settings.unseen_apis`) and their gold items, chosen as `eval_items` chooses.

    Raises ConfigError when the config explores one of them: an unseen API's documentation is all the
    student has of it."""
    apis = registry.select(settings.unseen_apis) if settings.unseen_apis else []
    both = sorted(set(apis) & set(explored))
    if both:
        raise ConfigError(f"evaluate.unseen_apis: {', '.join(both)} explored by this config; unseen APIs must not be")
    return apis, _items_of(settings, apis, testset)


def _items_of(settings: EvaluateSection, apis: list[str], testset: list[TestItem]) -> list[TestItem]:
    cap = settings.max_items_per_api or float("inf")
    taken: Counter = Counter()
    items = []
    for item in testset:
        if item.api in apis and item.split == settings.split and taken[item.api] < cap:
            taken[item.api] += 1
            items.append(item)
    return items
