"""Which gold items a student is scored on: the APIs under test, the evaluated split, a cap per API."""
from __future__ import annotations

import pytest

from ste.config import EvaluateSection, ToolsSection
from ste.errors import ConfigError
from ste.evaluate import items as items_module
from ste.evaluate.items import eval_items
from ste.schemas import TestItem
from ste.tools import build_registry


def item(api: str, n: int, split: str = "test") -> TestItem:
    return TestItem(id=f"{api}-{n}", api=api, query=f"question {n} about {api}", arguments={}, split=split)


GOLD = [item("convert_units", 1, "dev"), item("convert_units", 2), item("get_country_capital", 1),
        item("convert_units", 3), item("get_airport_by_code", 1), item("convert_units", 4),
        item("get_country_capital", 2, "dev")]


@pytest.fixture(scope="module")
def registry():
    return build_registry(ToolsSection())


@pytest.fixture(autouse=True)
def gold(monkeypatch):
    monkeypatch.setattr(items_module, "load_testset", lambda: list(GOLD))


def ids(items: list[TestItem]) -> list[str]:
    return [i.id for i in items]


def test_explored_apis_the_evaluated_split_and_the_cap(registry):
    explored = ["convert_units", "get_country_capital"]
    apis, items = eval_items(EvaluateSection(), registry, explored)
    assert apis == explored
    assert ids(items) == ["convert_units-2", "get_country_capital-1", "convert_units-3", "convert_units-4"]
    _, items = eval_items(EvaluateSection(split="dev"), registry, explored)
    assert ids(items) == ["convert_units-1", "get_country_capital-2"]
    _, items = eval_items(EvaluateSection(max_items_per_api=1), registry, explored)
    assert ids(items) == ["convert_units-2", "get_country_capital-1"]


def test_an_explicit_selection_wins_over_the_explored_apis(registry):
    apis, items = eval_items(EvaluateSection(apis=["get_airport_by_code"]), registry, ["convert_units"])
    assert apis == ["get_airport_by_code"] and ids(items) == ["get_airport_by_code-1"]
    with pytest.raises(ConfigError):
        eval_items(EvaluateSection(apis=["no_such_api"]), registry)
