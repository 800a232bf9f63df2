"""python -m scripts.timings [--dir logs/timings] [--parts]

How long each stage of the last run took, from what every stage writes to logs/timings/<stage>.json (or
$STE_TIMINGS_DIR). Wall time and memory depend on the machine and its load, not on a stage's inputs, so they
are kept out of the DVC outputs (metrics, summaries, the report) and only these files hold them.

Prints one Markdown row per stage, in the order the stages started: wall time in minutes, peak resident memory
in MB (the stage process or a training process it launched), and the work the stage counts (trials, test
items, steps, ...) with its rate per minute; then the total. --parts adds one row per part of a stage (each
evaluated mode, each continual round).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ste.core.io import read_timings, timings_dir


def _work(facts: dict) -> tuple[str, str]:
    """The work cell ("240 test items") and the rate cell ("27.1 test items") of one stage or part."""
    counts, rates = facts.get("counts") or {}, facts.get("per_min") or {}
    work = "; ".join(f"{n} {unit}" for unit, n in counts.items())
    rate = "; ".join(f"{rates[unit]:.1f} {unit}" for unit in counts if unit in rates)
    return work or "–", rate or "–"


def _minutes(facts: dict) -> str:
    wall = facts.get("wall_s")
    return "–" if wall is None else f"{wall / 60:.1f}"


def timings_table(timings: list[dict], parts: bool = False) -> str:
    """The Markdown table of `timings` (`ste.core.io.read_timings`), with a total row (wall times summed: `dvc repro`
    runs one stage at a time)."""
    lines = ["| Stage | Started (UTC) | Wall (min) | Peak RSS (MB) | Work | Per minute |", "|---|---|---|---|---|---|"]
    for t in timings:
        rss = t.get("peak_rss_mb")
        lines.append(f"| {t.get('stage', '?')} | {str(t.get('started_at', '–')).replace('+00:00', '')} | "
                     f"{_minutes(t)} | {'–' if rss is None else f'{rss:,.0f}'} | " + " | ".join(_work(t)) + " |")
        if parts:
            for name, part in (t.get("parts") or {}).items():
                lines.append(f"| &nbsp;&nbsp;{name} | | {_minutes(part)} | | " + " | ".join(_work(part)) + " |")
    total = sum(t.get("wall_s") or 0 for t in timings)
    peak = max((t.get("peak_rss_mb") or 0 for t in timings), default=0)
    lines.append(f"| total ({len(timings)} stages) | | {total / 60:.1f} | {peak:,.0f} | | |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, help="the timings folder (default: logs/timings, or $STE_TIMINGS_DIR)")
    parser.add_argument("--parts", action="store_true", help="also a row per part (evaluated mode, round)")
    args = parser.parse_args(argv)
    folder = args.dir or timings_dir()
    timings = read_timings(folder)
    if not timings:
        print(f"No stage timings in {folder} (each stage writes its own there when it runs).", file=sys.stderr)
        return 1
    sys.stdout.write(timings_table(timings, args.parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
