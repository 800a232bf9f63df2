"""The report's view of the continual-learning tables: the settings side by side, with intervals.

metrics/continual/<setting>.csv holds one row per round ("round 2 (batch 2)") with the Correct % on
each batch trained so far (blank for batches not reached yet) and the total; the <setting>.json beside
it (the DVC metrics) holds the same figures with their counts ([correct, items], for the intervals) and
lists the batches that were skipped.
"""
from __future__ import annotations

import json
from pathlib import Path

from ste.core.stats import wilson


def continual_section(folder: Path) -> str:
    """Markdown from metrics/continual/<setting>.csv files: the settings side by side, each Correct % with its
    95% Wilson interval (from the counts in <setting>.json; older files without them show the bare figure);
    empty when there are none."""
    files = sorted(folder.glob("*.csv")) if folder.exists() else []
    if not files:
        return ""
    import pandas as pd

    merged, order = None, []
    for f in files:
        table = pd.read_csv(f)
        rounds = _summary(f).get("rounds", {})
        order += [c for c in table.columns if c != "round" and c not in order]
        for c in table.columns.drop("round"):
            table[c] = [_cell(v, rounds.get(r, {}).get("counts", {}).get(c)) for r, v in zip(table["round"], table[c])]
        table = table.rename(columns={c: f"{c} · {f.stem}" for c in table.columns if c != "round"})
        merged = table if merged is None else merged.merge(table, on="round", how="outer", sort=False)
    columns = ["round"] + [f"{c} · {f.stem}" for c in order for f in files if f"{c} · {f.stem}" in merged.columns]
    merged = merged[columns].astype(object).where(merged[columns].notna(), "–")
    text = ("\n## Continual learning (Correct %, 95% interval; rows: rounds, columns: API batch · setting)\n\n"
            + merged.to_markdown(index=False, disable_numparse=True) + "\n")
    skipped = sorted({b for f in files for b in _summary(f).get("skipped_batches", [])})
    if skipped:
        text += ("\nSkipped batches (no API of theirs has training data in the reused exploration): "
                 + ", ".join(str(b) for b in skipped) + ".\n")
    return text


def continual_rows(folder: Path) -> list[dict]:
    """Tidy rows for the DVC plot, from the <setting>.json of each metrics/continual/<setting>.csv: setting,
    round, batch, label, correct, lo, hi (in %)."""
    out = []
    for path in sorted(folder.glob("*.csv")) if folder.exists() else []:
        for label, scores in _summary(path).get("rounds", {}).items():
            counts = scores.get("counts", {})
            for batch, value in scores.items():
                if batch == "counts":
                    continue
                lo, hi = _interval(counts.get(batch)) or (value, value)
                out.append({"setting": path.stem, "round": label, "batch": batch,
                            "label": f"{path.stem} · {label} · {batch}", "correct": value, "lo": lo, "hi": hi})
    return out


def _interval(counts: list[int] | None) -> tuple[float, float] | None:
    """The 95% Wilson interval in % of [correct, items], rounded like the table; None without counts."""
    return None if not counts else tuple(round(100 * v, 1) for v in wilson(*counts))


def _cell(value, counts: list[int] | None) -> str | None:
    if value is None or value != value:  # a batch not reached yet (NaN in the CSV)
        return None
    ci = _interval(counts)
    return f"{value:.1f}" + (f" [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else "")


def _summary(table: Path) -> dict:
    """The <setting>.json beside a <setting>.csv (DVC metrics: rounds with counts, skipped batches)."""
    path = table.with_suffix(".json")
    return json.loads(path.read_text()) if path.exists() else {}
