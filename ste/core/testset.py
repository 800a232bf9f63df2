"""The gold test set: <folder>/*.jsonl (one TestItem a line; data/testset in dvc.yaml) and the continual-learning
batches (<folder>/batches.json)."""
from __future__ import annotations

from pathlib import Path

from ste.core.errors import DataError
from ste.core.io import read_json, read_jsonl
from ste.core.schemas import TestItem


def load_testset(folder: str | Path) -> list[TestItem]:
    """Every gold item, file by file in name order; ids must be unique."""
    files = sorted(Path(folder).glob("*.jsonl"))
    if not files:
        raise DataError(f"{folder}: no *.jsonl test files found")
    items = [item for f in files for item in read_jsonl(f, TestItem)]
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise DataError(f"{folder}: test item id {item.id!r} appears twice")
        seen.add(item.id)
    return items


def load_batches(folder: str | Path) -> list[list[str]]:
    """The fixed split of the APIs into batches for continual learning (batches.json)."""
    batches = read_json(Path(folder) / "batches.json")
    if not isinstance(batches, list) or not all(isinstance(b, list) for b in batches):
        raise DataError(f"{folder}/batches.json: must be a list of lists of API names")
    return batches
