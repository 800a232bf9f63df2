"""A sweep's recorded tables (flows/sweep_report.py): Correct per experiment, then each student paired against
the first experiment's on the same items, from predictions read at the experiments' commits."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flows.sweep_report import read_at, record_sweep, sweep_table


def _predictions(right: range, n: int = 40) -> str:
    return "".join(json.dumps({"id": f"q{i}", "correct": i in right}) + "\n" for i in range(n))


def _rev(name: str, sha: str, lr: float, k: int) -> dict:
    full = {"finetuned": {"n": 40, "n_correct": k, "unseen": {"n": 15, "n_correct": 5}},
            "icl": {"n": 40, "n_correct": 0}, "retriever": "bm25"}
    return {"name": name, "rev": sha,
            "data": {"params": {"params.yaml": {"data": {"finetune": {"lr": lr}}}},
                     "metrics": {"metrics/full.json": {"data": full},
                                 "metrics/baseline.json": {"data": {"baseline": {"n": 80}}}}}}


SHOWN = [{"rev": "workspace", "data": _rev("", "", 4e-3, 21)["data"]},
         {"rev": "abc", "data": _rev("", "", 4e-3, 21)["data"],
          "experiments": [{"revs": [_rev(*r)]} for r in [("b", "r2", 2e-3, 25), ("a", "r1", 1e-3, 10),
                                                            ("old", "r0", 9e-3, 1)]]}]
PREDICTIONS = {  # (path, rev) -> text; icl's unseen items have none: their paired cells are '–'
    ("data/eval/full/icl/predictions.jsonl", "r1"): _predictions(range(0)),
    ("data/eval/full/icl/predictions.jsonl", "r2"): _predictions(range(0)),
    ("data/eval/full/finetuned/predictions.jsonl", "r1"): _predictions(range(10)),
    ("data/eval/full/finetuned/predictions.jsonl", "r2"): _predictions(range(25)),
    ("data/eval/full/finetuned/unseen/predictions.jsonl", "r1"): _predictions(range(5), 15),
    ("data/eval/full/finetuned/unseen/predictions.jsonl", "r2"): _predictions(range(3, 8), 15),
}


def _read(path: Path, rev: str) -> str | None:
    return PREDICTIONS.get((str(path), rev))


def test_a_sweeps_table_gives_each_experiments_values_and_the_students_it_changed():
    lines = sweep_table(SHOWN, ["a", "b"], ["finetune.lr"], read=_read).splitlines()
    assert lines[:4] == [
        "| Experiment | finetune.lr | full finetuned | full finetuned unseen | full icl |",  # baseline.json: unchanged
        "|---|---|---|---|---|",
        "| a | 0.001 | 10/40: 25.0 [14.2, 40.2] | 5/15: 33.3 [15.2, 58.3] | 0/40: 0.0 [0.0, 8.8] |",
        "| b | 0.002 | 25/40: 62.5 [47.0, 75.8] | 5/15: 33.3 [15.2, 58.3] | 0/40: 0.0 [0.0, 8.8] |"]


def test_each_later_experiment_is_paired_against_the_first_on_the_same_items():
    text = sweep_table(SHOWN, ["a", "b"], ["finetune.lr"], read=_read)
    paired = text.split("\n\n", 1)[1].splitlines()
    assert paired[0].startswith("Paired against a, on the items both answered") and "over the 2 comparisons" in paired[0]
    assert paired[2] == "| Experiment | full finetuned | full finetuned unseen | full icl |"
    cells = paired[4].split(" | ")
    assert cells[0] == "| b"
    # 15 items right only in b, none only in a: +37.5 points; McNemar 2 / 2**15; Holm doubles it
    assert cells[1].startswith("+37.5 [") and cells[1].endswith("; 15 vs 0; p < 0.001, Holm < 0.001")
    assert cells[2].startswith("+0.0 [") and cells[2].endswith("; 3 vs 3; p 1.000, Holm 1.000")  # 3-7 vs 0-4
    assert cells[3] == "the same 0 of 40 right |"  # no item tells them apart: not in Holm's family of 2
    assert paired[-1] == "Significant at 0.05 after Holm: b full finetuned."


def test_one_experiment_has_no_paired_table():
    assert "Paired" not in sweep_table(SHOWN, ["a", "gone"], ["finetune.lr"], read=_read)  # "gone": not shown


def test_predictions_are_read_at_each_experiments_commit_from_the_dvc_cache(tmp_path, monkeypatch):
    def run(*cmd: str) -> str:
        return subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True, text=True).stdout.strip()

    run("git", "init", "-q")
    run("git", "config", "user.name", "STE test")
    run("git", "config", "user.email", "ste-test@example.invalid")
    run(sys.executable, "-m", "dvc", "init", "-q")
    revs = []
    for right in (range(2), range(3)):
        (tmp_path / "data" / "eval" / "full" / "finetuned").mkdir(parents=True, exist_ok=True)
        (tmp_path / "data/eval/full/finetuned/predictions.jsonl").write_text(_predictions(right, 4))
        run(sys.executable, "-m", "dvc", "add", "-q", "data/eval/full")
        run("git", "add", "-A")
        run("git", "commit", "-q", "-m", f"{len(right)} right")
        revs.append(run("git", "rev-parse", "HEAD"))
    monkeypatch.chdir(tmp_path)  # the sweep reads from the project it runs in
    path = Path("data/eval/full/finetuned/predictions.jsonl")
    assert [read_at(path, rev) for rev in revs] == [_predictions(range(2), 4), _predictions(range(3), 4)]
    assert read_at(Path("data/eval/full/icl/predictions.jsonl"), revs[0]) is None


def test_a_recorded_sweep_keeps_its_table_under_the_command_that_reruns_it(tmp_path):
    path = tmp_path / "docs" / "sweeps" / "finetune_lr.md"
    command = "python -m flows.orchestrate sweep -S finetune.lr=1e-3,2e-3 --common evaluate.split=dev --record x.md"
    record_sweep(path, command, "abc1234", "| Experiment | lr |\n")
    text = path.read_text()
    assert text.startswith(f"# Sweep finetune_lr\n\nRun at commit abc1234 by\n\n```bash\n{command}\n```\n")
    assert text.endswith("where they ran):\n\n| Experiment | lr |\n")


def test_a_student_without_predictions_at_either_commit_gets_no_paired_cell():
    lines = sweep_table(SHOWN, ["a", "b"], ["finetune.lr"], read=lambda p, rev: _read(p, rev) if "icl" not in str(p)
                        or rev == "r1" else None).splitlines()
    assert lines[-3].endswith(" | – |")  # icl predictions only at the first experiment's commit
    assert not any(line.startswith("Paired") for line in sweep_table(SHOWN, ["a", "b"], ["finetune.lr"],
                                                                      read=lambda p, rev: None).splitlines())
