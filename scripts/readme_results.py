"""python -m scripts.readme_results [--write]

The README's results block, generated from the committed outputs of the last `dvc repro`: the setup
(params.yaml), Correct per config and student with its 95% interval (metrics/*.json), and the findings, the same
bullets as the report's (ste.report.findings), from metrics/, models/*/dpo/summary.json, metrics/continual/ and
the paired counts in reports/ablation.md's comparisons table (each difference, interval and p-value recomputed
from those counts at full precision). Run times are no DVC output (`python -m scripts.timings`). Prints it;
`--write` puts it into README.md between the `<!-- results:begin -->` and `<!-- results:end -->` markers.
tests/test_readme.py checks the README is current.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ste.config.params import load_params
from ste.report.report import (adjust, collect, comparison_label, comparison_pairs, findings, from_counts,
                               rate_cell, scored_unseen)

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
STUDENTS = [("icl", "ICL"), ("finetuned", "Fine-tuned"), ("sft+dpo", "SFT+DPO")]
COMPARISONS = "## Paired comparisons"
# A row of the report's comparisons table: label, n, both right, only first, only second, then 3 more cells.
COUNTS_ROW = re.compile(r"^\| ([^|]+?) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|(?: [^|]+ \|){3}$", re.M)


def report_comparisons(report: str, configs: list[str], modes: list[str], unseen: list[str] = ()) -> list[dict]:
    """The report's paired comparisons, rebuilt from the counts of its table and Holm-adjusted together."""
    students = {comparison_label(a, b): (a, b) for a, b in comparison_pairs(configs, modes, unseen=unseen)}
    section = report.partition(COMPARISONS)[2].split("\n## ")[0]
    out = []
    for label, n, both, only_a, only_b in COUNTS_ROW.findall(section):
        if label not in students:
            raise ValueError(f"reports/ablation.md compares {label!r}, which params.yaml does not define")
        n, both, only_a, only_b = map(int, (n, both, only_a, only_b))
        out.append(from_counts(*students[label], both, only_a, only_b, n - both - only_a - only_b))
    return adjust(out)


def setup(params, sizes: set[int]) -> str:
    """The study in one sentence, from params.yaml: APIs, configs (each with its override), trials, test items."""
    defaults = params.explore.defaults
    items = (f"the same {min(sizes)}" if len(sizes) == 1 else f"{min(sizes)} to {max(sizes)}" if sizes else "its")
    apis = len(defaults.apis) if isinstance(defaults.apis, list) else f"`{defaults.apis}`"
    reading = params.paraphrase.doc_reading

    def described(name: str, override: dict) -> str:
        said = ", ".join(f"{k}: {str(v).lower()}" for k, v in override.items()) or "the defaults"
        if name in reading.configs:
            low, high = reading.distractors
            said += f"; trained on prompts listing its API among {low}-{high} other tools"
            if reading.rename:
                said += f", all renamed in {reading.rename:.0%} of them"
        return f"`{name}` ({said})"

    configs = ", ".join(described(name, override or {}) for name, override in params.explore.configs.items())
    return (f"Setup (params.yaml): {apis} APIs; {len(params.explore.configs)} exploration configs, each the defaults "
            f"with its overrides: {configs}; {defaults.episodes} episodes x {defaults.trials_per_episode} trials per "
            f"API and config; every student scored on {items} held-out test items.")


def results_block(root: Path = ROOT) -> str:
    """Markdown: the setup, the Correct table (every rate with its interval) and the findings."""
    params = load_params(root / "params.yaml")
    configs, modes = list(params.explore.configs), list(params.evaluate.modes)
    data = collect(configs, root / "data" / "explore", root / "metrics", None, root / "models",
                   root / "metrics" / "continual")
    baseline = data["baseline"]
    rows = {c: data["configs"][c]["modes"] for c in configs}
    sizes = {m["n"] for m in [baseline, *(m for r in rows.values() for m in r.values())] if "n" in m}
    lines = [setup(params, sizes), "",
             "Correct calls on the held-out test split (%, 95% Wilson interval; n test items per student; Leaked:",
             "test items whose value or question the config's training data show: a shared argument, the value in an "
             "example's query, observation or final answer or in a DPO reply, a near-identical query or the same query "
             "template).", ""]
    if baseline:
        lines += [f"Zero-shot baseline (no STE): {rate_cell(baseline, 'correct')} of {baseline.get('n')} items.", ""]
    lines += ["| Config | " + " | ".join(label for _, label in STUDENTS) + " | n | Leaked |",
              "|---|" + "---|" * (len(STUDENTS) + 2)]
    for config in configs:
        leak = data["configs"][config]["leakage"] or {}
        n_items = next((rows[config][k]["n"] for k, _ in STUDENTS if k in rows[config]), "–")
        cells = [rate_cell(rows[config].get(k, {}), "correct") for k, _ in STUDENTS]
        leaked = f"{leak['any']}/{leak['items']}" if leak else "–"
        lines.append(f"| {config} | " + " | ".join(cells) + f" | {n_items} | {leaked} |")
    report = root / "reports" / "ablation.md"
    compared = report_comparisons(report.read_text(), configs, modes, scored_unseen(data)) if report.exists() else []
    said = findings(data, compared)
    return "\n".join(lines + ([""] + said if said else [])) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="replace the README's results section")
    args = parser.parse_args()
    block = results_block()
    if not args.write:
        sys.stdout.write(block)
        return 0
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    readme.write_text(text[:start] + "\n" + block + text[end:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
