"""The continual-learning tables: one round x batch table per setting, and the report's side-by-side view.

metrics/continual/<setting>.csv holds one row per round ("round 2 (batch 2)") with the Correct % on
each batch trained so far (blank for batches not reached yet) and the total; the <setting>.json beside
it (the DVC metrics) lists the batches that were skipped.
"""
from __future__ import annotations

import json
from pathlib import Path


def round_table(results: list[dict]) -> list[dict]:
    """CSV rows from the rounds' results (each with "label", "batch" and "per_batch" Correct %)."""
    columns = [f"batch {r['batch']}" for r in results]
    return [{"round": r["label"], **{c: r["per_batch"].get(c) for c in columns}, "total": r["per_batch"]["total"]}
            for r in results]


def continual_section(folder: Path) -> str:
    """Markdown from metrics/continual/<setting>.csv files: the settings side by side; empty when there are none."""
    files = sorted(folder.glob("*.csv")) if folder.exists() else []
    if not files:
        return ""
    import pandas as pd

    merged, order = None, []
    for f in files:
        table = pd.read_csv(f)
        order += [c for c in table.columns if c != "round" and c not in order]
        table = table.rename(columns={c: f"{c} · {f.stem}" for c in table.columns if c != "round"})
        merged = table if merged is None else merged.merge(table, on="round", how="outer", sort=False)
    columns = ["round"] + [f"{c} · {f.stem}" for c in order for f in files if f"{c} · {f.stem}" in merged.columns]
    merged = merged[columns].astype(object).where(merged[columns].notna(), "–")
    text = ("\n## Continual learning (Correct %; rows: rounds, columns: API batch · setting)\n\n"
            + merged.to_markdown(index=False, floatfmt=".1f") + "\n")
    skipped = sorted({b for f in files for b in _skipped(f.with_suffix(".json"))})
    if skipped:
        text += ("\nSkipped batches (no API of theirs has training data in the reused exploration): "
                 + ", ".join(str(b) for b in skipped) + ".\n")
    return text


def _skipped(path: Path) -> list[int]:
    return json.loads(path.read_text()).get("skipped_batches", []) if path.exists() else []
