"""The README's results block is generated from the committed outputs, and its Results section holds no figure
that is not generated from the data."""
import json
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What a hand-typed result figure looks like: a percentage, a decimal, a count out of a total, a signed difference,
# a bracketed interval, a p-value.
FIGURE = re.compile(r"\d\s*%|\d\.\d|\b\d+/\d+\b|[+\-−±]\d|\[[^\]]*\d[^\]]*\]|\bp\s*[=<>]")


def readme_block(text: str) -> str:
    from scripts.readme_results import BEGIN, END

    return text[text.index(BEGIN) + len(BEGIN):text.index(END)].strip()


def test_readme_results_are_the_committed_outputs():
    """The results block is generated from metrics/ and reports/ (python -m scripts.readme_results --write)."""
    from scripts.readme_results import results_block

    assert readme_block((ROOT / "README.md").read_text()) == results_block().strip()


def results_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("\n## Results\n")
    return text[start:text.index("\n## ", start + 1)]


def test_the_results_section_has_no_hand_typed_figures():
    """Outside the generated block, the Results section holds prose only: every figure there is generated."""
    from scripts.readme_results import BEGIN, END

    section = results_section()
    prose = section[:section.index(BEGIN)] + section[section.index(END):]
    assert not FIGURE.findall(prose), [line for line in prose.splitlines() if FIGURE.search(line)]
    assert FIGURE.search(readme_block(section))  # the pattern does find the generated figures


def copy_outputs(dest: Path) -> Path:
    """What the results block reads: params.yaml, metrics/, the report and the DPO summaries."""
    shutil.copy(ROOT / "params.yaml", dest / "params.yaml")
    shutil.copytree(ROOT / "metrics", dest / "metrics")
    shutil.copytree(ROOT / "reports", dest / "reports", ignore=shutil.ignore_patterns("*.png", "plots"))
    for summary in ROOT.glob("models/*/dpo/summary.json"):
        target = dest / summary.relative_to(ROOT)
        target.parent.mkdir(parents=True)
        shutil.copy(summary, target)
    return dest


def test_a_figure_that_differs_from_the_data_fails_the_readme_check(tmp_path):
    """Change one metric, or one count of the report's comparisons, and the block no longer matches the README."""
    from scripts.readme_results import results_block
    from ste.report.report import count_cell

    root = copy_outputs(tmp_path)
    readme = readme_block((ROOT / "README.md").read_text())
    assert results_block(root).strip() == readme

    path = root / "metrics" / "full.json"
    metrics = json.loads(path.read_text())
    metrics["finetuned"]["n_correct"] += 1  # one more item right than the run scored
    path.write_text(json.dumps(metrics))
    changed = results_block(root).strip()
    row = next(line for line in readme.splitlines() if line.startswith("| full |"))
    assert changed != readme and row not in changed
    assert count_cell(metrics["finetuned"]["n_correct"], metrics["finetuned"]["n"]) in changed

    shutil.copytree(ROOT / "metrics", root / "metrics", dirs_exist_ok=True)
    report = root / "reports" / "ablation.md"
    text = report.read_text()
    row = re.search(r"^\| no_ltm vs full \(finetuned\) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|", text, re.M)
    n, both, only_a, only_b = map(int, row.groups())
    report.write_text(text.replace(row.group(0), f"| no_ltm vs full (finetuned) | {n} | {both} | {only_a + 1} | "
                                                 f"{only_b - 1} |"))
    assert results_block(root).strip() != readme


def test_the_report_comparisons_agree_with_the_metrics():
    """Each student's Correct count in the report's paired table is its count in metrics/ (when paired on all its
    items): the findings, computed from those pairs, and the tables say the same."""
    from scripts.readme_results import report_comparisons
    from ste.config.params import load_params
    from ste.report.report import STUDENT, UNSEEN

    params = load_params(ROOT / "params.yaml")
    configs = list(params.explore.configs)
    unseen = [c for c in configs if "unseen" in json.loads((ROOT / "metrics" / f"{c}.json").read_text())[STUDENT]]
    compared = report_comparisons((ROOT / "reports" / "ablation.md").read_text(), configs,
                                  list(params.evaluate.modes), unseen)
    assert compared and any(t["first"][1] == STUDENT + UNSEEN for t in compared)

    def metrics(student):  # a mode's scores on the unseen APIs sit under its "unseen" entry
        config, mode = student
        scores = json.loads((ROOT / "metrics" / f"{config}.json").read_text())[mode.removesuffix(UNSEEN)]
        return scores["unseen"] if mode.endswith(UNSEEN) else scores

    for t in compared:
        for student, right in ((t["first"], t["both"] + t["only_a"]), (t["second"], t["both"] + t["only_b"])):
            m = metrics(student)
            if m["n"] == t["n"]:
                assert m["n_correct"] == right, (student, t)


def test_the_report_findings_are_the_readme_findings():
    """Once the report stage writes its Findings section, it is the README's (the same function, the same data)."""
    report = (ROOT / "reports" / "ablation.md").read_text()
    if "## Findings" not in report:  # written by an older report stage
        return
    section = report.split("## Findings\n\n", 1)[1].split("\n## ", 1)[0].strip()
    assert section in readme_block((ROOT / "README.md").read_text())


def test_readme_never_points_outside_the_repository():
    assert "../shared" not in (ROOT / "README.md").read_text()
