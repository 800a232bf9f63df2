"""The ablation report: one Markdown table and one chart from the stages' summaries and metrics."""
from __future__ import annotations

import json
from pathlib import Path

METRICS = [("well_formed", "Well-formed"), ("api_match", "API match"), ("correct", "Correct"),
           ("executable", "Executable")]
EXPLORE_STATS = [("mode", "Imagination"), ("trials", "Trials"), ("valid_query_rate", "Valid queries"),
                 ("solved_rate", "Solved"), ("unique_query_rate", "Unique queries"), ("calls", "Calls"),
                 ("ok_call_rate", "OK calls"), ("tokens", "Tokens"), ("run_wall_s", "Wall (s)")]


def _load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def collect(configs: list[str], explore_dir: Path, metrics_dir: Path) -> dict:
    """{config: {"explore": summary, "modes": {mode: metrics}}}, plus the shared baseline."""
    rows = {c: {"explore": _load(explore_dir / c / "summary.json"), "modes": _load(metrics_dir / f"{c}.json")}
            for c in configs}
    return {"configs": rows, "baseline": _load(metrics_dir / "baseline.json").get("baseline", {})}


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}"


def _stat(stats: dict, key: str) -> str:
    """One exploration figure: rates as percentages, seconds with a decimal, counts whole."""
    if key == "valid_query_rate" and stats.get("trials"):
        v = stats.get("valid_queries", 0) / stats["trials"]
    else:
        v = _tokens(stats) if key == "tokens" else stats.get(key)
    if v is None:
        return "–"
    if key.endswith("_rate"):
        return f"{100 * v:.0f}%"
    if key.endswith("_s"):
        return f"{v:,.1f}"
    return f"{v:,.0f}" if isinstance(v, (int, float)) else str(v)


def markdown(data: dict, modes: list[str]) -> str:
    """The ablation table (paper style: a row per exploration config and student mode) and the exploration stats."""
    head = ["Config", "Student"] + [label for _, label in METRICS]
    lines = ["## Student on the gold test set (%)", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    if data["baseline"]:
        lines.append("| (no STE) | baseline | " + " | ".join(_pct(data["baseline"].get(k)) for k, _ in METRICS) + " |")
    for name, row in data["configs"].items():
        for m in (m for m in modes if m != "baseline"):
            cells = [_pct(row["modes"].get(m, {}).get(k)) for k, _ in METRICS]
            lines.append(f"| {name} | {m} | " + " | ".join(cells) + " |")
    lines += ["", "## Exploration", "", "| Config | " + " | ".join(l for _, l in EXPLORE_STATS) + " |",
              "|" + "---|" * (len(EXPLORE_STATS) + 1)]
    for name, row in data["configs"].items():
        stats = row["explore"]
        cells = [_stat(stats, k) for k, _ in EXPLORE_STATS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _tokens(stats: dict):
    """LLM tokens of the run: the explore summary's prompt + completion counts."""
    if "prompt_tokens" in stats:
        return stats["prompt_tokens"] + stats.get("completion_tokens", 0)
    tok = stats.get("tokens")
    if isinstance(tok, dict):
        return sum(v for v in tok.values() if isinstance(v, (int, float)))
    return tok


def chart(data: dict, modes: list[str], path: Path) -> None:
    """Grouped bars: Correct (%) per config and mode, baseline as a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(data["configs"])
    shown = [m for m in modes if m != "baseline"]
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(names)), 4))
    width = 0.8 / max(1, len(shown))
    for i, mode in enumerate(shown):
        values = [100 * (data["configs"][n]["modes"].get(mode, {}).get("correct") or 0) for n in names]
        ax.bar([x + i * width for x in range(len(names))], values, width, label=mode)
    if data["baseline"].get("correct") is not None:
        ax.axhline(100 * data["baseline"]["correct"], color="gray", linestyle="--", label="baseline")
    ax.set_xticks([x + width * (len(shown) - 1) / 2 for x in range(len(names))], names, rotation=20)
    ax.set_ylabel("Correct (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Student correctness by exploration config")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
