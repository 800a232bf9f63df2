"""General instruction records (data/general/instructions.jsonl in dvc.yaml) mixed into fine-tuning sets, against
forgetting."""
from __future__ import annotations

import random
from pathlib import Path

from ste.core.errors import ConfigError, DataError
from ste.core.io import read_jsonl


def general_records(path: str | Path | None, n_task: int, ratio: float, seed: int) -> list[dict]:
    """A seeded sample of general instruction records making up `ratio` of the mixed total.

    The pool (`path`; only read when `ratio` > 0) is used without repetition, so the share is capped by its size.
    """
    if ratio <= 0 or n_task == 0:
        return []
    if path is None:
        raise ConfigError("a general_ratio above 0 needs the general instruction pool: pass --general FILE")
    pool = read_jsonl(path)
    if not pool or any(not isinstance(r, dict) or "messages" not in r for r in pool):
        raise DataError(f"{path}: every line must be a {{\"messages\": [...]}} chat record")
    want = len(pool) if ratio >= 1 else round(n_task * ratio / (1 - ratio))
    picked = random.Random(seed).sample(pool, min(want, len(pool)))
    return [{"messages": r["messages"], "id": f"general/{i}", "api": None, "kind": "general"}
            for i, r in enumerate(picked)]
