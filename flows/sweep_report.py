"""A sweep's results in Markdown (`python -m flows.orchestrate sweep [--record F]`).

Two tables from `dvc exp show --json` and the experiments' predictions:
- Correct per student and experiment (k/n, %, 95% Wilson interval), beside the swept values;
- each student of each later experiment paired against the same student of the first experiment, on the items
  both answered: the difference with its 95% interval, the discordant items, McNemar's exact p and Holm's p over
  the table's comparisons that some item tells apart. List the reference value first in `-S` (e.g. the default).
Predictions are read at each experiment's commit with `dvc.api.read` (from the local DVC cache, where the
queue's experiments left them).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import dvc.api
from dvc.exceptions import DvcException

from ste.core.stats import ALPHA, paired_test
from ste.report.report import UNSEEN, adjust, count_cell, diff_text, p_text, predictions_path, told_apart

EVAL_DIR = Path("data/eval")
Column = tuple[str, str, bool]  # metrics file, student (mode), scored on the unseen APIs


def read_at(path: Path, rev: str) -> str | None:
    """The text of a DVC- or git-tracked file at git revision `rev`; None when that revision has no such file."""
    try:
        return dvc.api.read(str(path), rev=rev)
    except (DvcException, FileNotFoundError):
        return None


def sweep_table(shown: list[dict], names: list[str], keys: list[str],
                read: Callable[[Path, str], str | None] = read_at) -> str:
    """The experiments `names` of `dvc exp show --json`: the Correct table of every student whose metrics differ
    between them or from their baseline commit, then the paired table against the first experiment."""
    runs, revs, baseline = {}, {}, {}
    for commit in shown:
        for run in commit.get("experiments") or []:
            for rev in run["revs"]:
                if rev["name"] in names and rev.get("data"):
                    runs[rev["name"]], revs[rev["name"]] = rev["data"], rev["rev"]
                    baseline = commit.get("data") or {}
    names = [n for n in names if n in runs]
    metrics = {name: {f: m.get("data") or {} for f, m in runs[name].get("metrics", {}).items()} for name in names}
    columns = _columns(metrics, {f: m.get("data") or {} for f, m in baseline.get("metrics", {}).items()})
    head = [*keys, *(_label(c) for c in columns)]
    lines = ["| Experiment | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    for name in names:
        params = runs[name].get("params", {}).get("params.yaml", {}).get("data", {})
        cells = [str(_dotted(params, key)) for key in keys]
        for f, student, unseen in columns:
            row = metrics[name].get(f, {}).get(student) or {}
            row = (row.get("unseen") or {}) if unseen else row
            cells.append(f"{row['n_correct']}/{row['n']}: {count_cell(row['n_correct'], row['n'])}" if row else "–")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    paired = paired_table(names, [revs[n] for n in names], columns, read) if len(names) > 1 else ""
    return "\n".join(lines) + "\n" + (f"\n{paired}" if paired else "")


def _columns(metrics: dict[str, dict], before: dict) -> list[Column]:
    """(file, student, unseen) of every student row in a metrics file whose content differs between the runs or
    from `before`, in the file's order; an unseen column only where that student was scored on unseen APIs."""
    files = sorted({f for m in metrics.values() for f in m
                    if len({json.dumps(m.get(f), sort_keys=True) for m in [*metrics.values(), before]}) > 1})
    first = {f: next(m[f] for m in metrics.values() if f in m) for f in files}  # the file of the first run that has it
    return [(f, student, unseen) for f in files for student, row in first[f].items()
            if isinstance(row, dict) and "n_correct" in row for unseen in (False, True)
            if not unseen or (row.get("unseen") or {}).get("n")]


def _label(column: Column) -> str:
    f, student, unseen = column
    return f"{Path(f).stem} {student}{' unseen' if unseen else ''}"


def paired_table(names: list[str], revs: list[str], columns: list[Column],
                 read: Callable[[Path, str], str | None]) -> str:
    """Each later experiment against the first, per column, from the predictions at their commits; '–' where
    either has no predictions file (a student that is not a config's, such as continual learning's)."""
    cells: dict[tuple[str, Column], dict] = {}
    for column in columns:
        f, student, unseen = column
        path = predictions_path(EVAL_DIR, Path(f).stem, student + (UNSEEN if unseen else ""))
        first = _correct(read(path, revs[0]))
        for name, rev in zip(names[1:], revs[1:]):
            later = _correct(read(path, rev))
            if first and later:
                cells[name, column] = paired_test(later, first)
    if not cells:
        return ""
    cells = dict(zip(cells, adjust(list(cells.values()))))  # Holm over those some item tells apart, as the report
    lines = [f"Paired against {names[0]}, on the items both answered: difference in points [95% interval]; items "
             f"right only here vs only in {names[0]}; McNemar's exact p, and Holm's p over the "
             f"{sum(map(told_apart, cells.values()))} "
             "comparisons where some item tells the two apart, which decides significance:", "",
             "| Experiment | " + " | ".join(_label(c) for c in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name in names[1:]:
        row = [cells.get((name, c)) for c in columns]
        lines.append(f"| {name} | " + " | ".join(_paired_cell(t) for t in row) + " |")
    significant = [f"{name} {_label(c)}" for (name, c), t in cells.items() if t["significant"]]
    lines += ["", f"Significant at {ALPHA} after Holm: {', '.join(significant) if significant else 'none'}."]
    return "\n".join(lines) + "\n"


def _paired_cell(t: dict | None) -> str:
    if not t:
        return "–"
    if not told_apart(t):
        return f"the same {t['both']} of {t['n']} right"
    return f"{diff_text(t)}; {t['only_a']} vs {t['only_b']}; p {p_text(t['p'])}, Holm {p_text(t['p_holm'])}"


def _correct(text: str | None) -> dict[str, bool] | None:
    """item id -> correct, from a predictions file's text."""
    if text is None:
        return None
    return {p["id"]: bool(p["correct"]) for p in map(json.loads, filter(str.strip, text.splitlines()))}


def _dotted(data: dict, key: str):
    for part in key.split("."):
        data = data.get(part, {}) if isinstance(data, dict) else {}
    return data


def record_sweep(path: Path, command: str, commit: str, tables: str) -> None:
    """Write a sweep's tables under the command that reproduces it and the commit it ran on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# Sweep {path.stem}\n\nRun at commit {commit} by\n\n```bash\n{command}\n```\n\n"
                    "Correct on the swept split: k/n, % [95% Wilson interval]; one row per experiment "
                    f"(`dvc exp show` lists them where they ran):\n\n{tables.strip()}\n", encoding="utf-8")
