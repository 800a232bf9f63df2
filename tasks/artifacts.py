"""Stage summaries as Prefect artifacts: a (key, value) table per stage run, the report as Markdown.

They show on the flow run's page and under Artifacts in the Prefect UI, each key keeping its history
across runs (e.g. `explore-full-summary`, `evaluate-no-stm-summary`, `ablation-report`).
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact

MAX_CHARS = 300  # a value longer than this (a long list) is cut: the stage's files hold it in full
ITEM_NAMES = ("api", "name", "label", "id")  # what names an item of a list of records, else its index


def artifact_key(*parts: str) -> str:
    """A Prefect artifact key (lowercase letters, digits, dashes): ("evaluate", "no_stm") -> "evaluate-no-stm"."""
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")


def summary_rows(summary: dict, prefix: str = "") -> list[dict[str, Any]]:
    """A nested summary as {"key", "value"} rows: nested keys joined by dots, a list of records keyed by each
    record's api/name/label/id (else its index), other lists and odd numbers as short text."""
    rows = []
    for key, value in summary.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            value = dict(_named(i, v) for i, v in enumerate(value))
        if isinstance(value, dict) and value:
            rows += summary_rows(value, path)
        else:
            rows.append({"key": path, "value": _cell(value)})
    return rows


def _named(index: int, record: dict) -> tuple[str, dict]:
    """(name, the other fields) of one record of a list: its api/name/label/id field, else its index."""
    name = next((k for k in ITEM_NAMES if k in record), None)
    if name is None:
        return str(index), record
    return str(record[name]), {k: v for k, v in record.items() if k != name}


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # NaN is not JSON
    text = json.dumps(value, default=str)
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def publish_summary(summary: dict, stage: str, name: str) -> dict:
    """Publish a stage's summary as the table artifact `<stage>-<name>-summary`; returns `summary` unchanged
    (so a flow can `return publish_summary(...)`)."""
    create_table_artifact(summary_rows(summary), key=artifact_key(stage, name, "summary"),
                          description=f"{stage} {name}: the stage's summary")
    return summary


def publish_markdown(text: str, key: str, description: str | None = None) -> str:
    """Publish Markdown (the report) as the artifact `key`; returns `text` unchanged."""
    create_markdown_artifact(text, key=artifact_key(key), description=description)
    return text
