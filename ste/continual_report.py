"""The continual-learning section of the report (round x batch tables), when its metrics exist."""
from __future__ import annotations

from pathlib import Path


def continual_section(folder: Path) -> str:
    """Markdown tables from metrics/continual/<setting>.csv files; empty when there are none."""
    files = sorted(folder.glob("*.csv")) if folder.exists() else []
    if not files:
        return ""
    import pandas as pd

    parts = ["\n## Continual learning (Correct %, rows: rounds, columns: API batches)\n"]
    for f in files:
        parts.append(f"\n### {f.stem}\n\n" + pd.read_csv(f).to_markdown(index=False) + "\n")
    return "".join(parts)
