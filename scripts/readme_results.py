"""python -m scripts.readme_results [--write]

The README's results section, generated from the committed outputs of the last `dvc repro` (metrics/*.json and
reports/ablation.md, both in git): Correct per config and student with its 95% interval, and the report's
sentences on which differences are significant. Run times are no DVC output (`python -m scripts.timings`). Prints it; `--write` puts it into README.md between the
`<!-- results:begin -->` and `<!-- results:end -->` markers. tests/test_readme.py checks the README is current.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from ste.config.params import load_params
from ste.report.report import rate_cell

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
STUDENTS = [("icl", "ICL"), ("finetuned", "Fine-tuned"), ("sft+dpo", "SFT+DPO")]


def _metrics(name: str) -> dict:
    path = ROOT / "metrics" / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def results_block() -> str:
    """Markdown: the Correct table (every rate with its interval) and the report's significance sentences."""
    configs = list(load_params(ROOT / "params.yaml").explore.configs)
    baseline = _metrics("baseline").get("baseline", {})
    lines = ["Correct calls on the held-out test split (%, 95% Wilson interval; n test items per student; Leaked:",
             "test items sharing a value or a near-identical query with the config's training examples).", ""]
    if baseline:
        lines += [f"Zero-shot baseline (no STE): {rate_cell(baseline, 'correct')} of {baseline.get('n')} items.", ""]
    lines += ["| Config | " + " | ".join(label for _, label in STUDENTS) + " | n | Leaked |",
              "|---|" + "---|" * (len(STUDENTS) + 2)]
    for config in configs:
        metrics = _metrics(config)
        leak = metrics.get("leakage") or {}
        n = next((metrics[k]["n"] for k, _ in STUDENTS if k in metrics), "–")
        cells = [rate_cell(metrics.get(k, {}), "correct") for k, _ in STUDENTS]
        leaked = f"{leak['any']}/{leak['items']}" if leak else "–"
        lines.append(f"| {config} | " + " | ".join(cells) + f" | {n} | {leaked} |")
    report = (ROOT / "reports" / "ablation.md").read_text() if (ROOT / "reports" / "ablation.md").exists() else ""
    said = [line for line in report.splitlines()
            if re.match(r"^\d+ of \d+ differences are significant", line)
            or line.startswith(("DPO on failures", "No config produced a preference pair"))]
    return "\n".join(lines + [part for line in said for part in ("", line)]) + "\n"


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
