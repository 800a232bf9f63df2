"""The ablation report from small fake stage outputs: intervals, paired comparisons in numbers and words,
split and leakage columns, the findings, the DVC plot data, the chart; one rounding rule for every figure; the
report flow publishing it to Prefect."""
from __future__ import annotations

import csv
import json
import re
from fractions import Fraction
from pathlib import Path

import pytest

from ste.core.io import write_json, write_jsonl
from ste.evaluate.metrics import summarize
from ste.report.report import comparison_pairs, count_cell, fmt, from_counts, pct, rate_cell
from tasks.report import write_report

ROOT = Path(__file__).resolve().parents[1]

MODES = ["baseline", "icl", "finetuned"]
PAIRS = [("finetuned", "icl")]
# Which of the 10 items each student gets right.
RIGHT = {("baseline", "baseline"): set(), ("full", "icl"): {0}, ("full", "finetuned"): {0, 1, 2, 3, 4, 5},
         ("no_stm", "icl"): {0}, ("no_stm", "finetuned"): {0, 1, 2, 3, 6}}
# Shaped like the leakage entry of metrics/<config>.json (test_fixtures_are_shaped_like_the_committed_metrics).
LEAKAGE = {"items": 10, "shared_value": 1, "value_in_text": 0, "near_duplicate_query": 0, "same_template_query": 0,
           "value_in_dpo_reply": 0, "any": 1, "ids": {"shared_value": ["q3"], "value_in_text": [],
                                                      "near_duplicate_query": [], "same_template_query": [],
                                                      "value_in_dpo_reply": []}}


def make_outputs(root: Path, *, predictions: bool = True, extras: bool = True) -> dict[str, str]:
    """Stage outputs as the pipeline leaves them; `extras`: split, leakage and the metrics' intervals."""
    metrics: dict[str, dict] = {}
    for (config, mode), right in RIGHT.items():
        preds = [{"id": f"q{i}", "api": "convert_units", "well_formed": True, "api_match": i < 8, "correct": i in right,
                  "executable": i in right} for i in range(10)]
        if predictions:
            write_jsonl(root / "eval" / config / mode / "predictions.jsonl", preds)
        m = summarize(preds)
        metrics.setdefault(config, {})[mode] = {**m, "split": "test"} if extras else {  # older files: rates only
            k: v for k, v in m.items() if not (k.endswith("_ci") or k.startswith("n_"))}
    if extras:
        metrics["full"]["leakage"] = LEAKAGE
    for config, m in metrics.items():
        write_json(root / "metrics" / f"{config}.json", m)
    for config in ("full", "no_stm"):
        write_json(root / "explore" / config / "summary.json", {"mode": "call_first", "trials": 4, "valid_queries": 2})
    continual = root / "metrics" / "continual"
    continual.mkdir(parents=True)
    (continual / "replay.csv").write_text("round,batch 0,batch 2,total\n"
                                          "round 1 (batch 0),25.0,,25.0\nround 2 (batch 2),50.0,100.0,75.0\n")
    counts = {"round 1 (batch 0)": {"batch 0": [1, 4], "total": [1, 4]},
              "round 2 (batch 2)": {"batch 0": [2, 4], "batch 2": [4, 4], "total": [6, 8]}}
    write_json(continual / "replay.json", {"rounds": {
        "round 1 (batch 0)": {"batch 0": 25.0, "total": 25.0, **({"counts": counts["round 1 (batch 0)"]} if extras else {})},
        "round 2 (batch 2)": {"batch 0": 50.0, "batch 2": 100.0, "total": 75.0,
                              **({"counts": counts["round 2 (batch 2)"]} if extras else {})}},
        "final_total": 75.0, "skipped_batches": [1], "unbatched_apis": []})
    return {"explore_dir": str(root / "explore"), "metrics_dir": str(root / "metrics"),
            "continual_dir": str(continual), "eval_dir": str(root / "eval"), "out_dir": str(root / "reports"),
            "plots_dir": str(root / "reports" / "plots"), "models_dir": str(root / "models"),
            "paraphrase_dir": str(root / "paraphrase")}


def rows(path: str | Path) -> list[dict]:
    return list(csv.DictReader(open(path)))


def test_every_rate_has_its_interval_and_the_split_n_and_leakage(tmp_path):
    paths = make_outputs(tmp_path)
    text = write_report.fn(["full", "no_stm"], MODES, PAIRS, **paths)
    assert "| Config | Student | Split | n | Well-formed | API match | Correct | Executable | Leaked |" in text
    assert "| (no STE) | baseline | test | 10 | 100.0 [72.2, 100.0] | 80.0 [49.0, 94.3] | 0.0 [0.0, 27.8] |" in text
    assert "| full | finetuned | test | 10 | 100.0 [72.2, 100.0] | 80.0 [49.0, 94.3] | 60.0 [31.3, 83.2] |" in text
    assert "| 1/10 |" in text
    assert "full 1/10 (shared_value 1: q3, value_in_text 0, near_duplicate_query 0, same_template_query 0, value_in_dpo_reply 0)." in text
    assert "ids" not in text  # the ids list the leaked items of each kind; they are no kind of leak themselves
    assert text.count("| – |") >= 3  # the baseline and no_stm rows have no leakage counts
    # The continual table: every Correct % with its interval, from the counts beside the CSV.
    squeezed = " ".join(text.split())  # the continual table pads its columns
    assert "| round 2 (batch 2) | 50.0 [15.0, 85.0] | 100.0 [51.0, 100.0] | 75.0 [40.9, 92.9] |" in squeezed
    assert (Path(paths["out_dir"]) / "ablation.md").read_text() == text
    assert (Path(paths["out_dir"]) / "ablation.png").stat().st_size > 10_000


def test_students_are_compared_on_the_same_items_in_numbers_and_words(tmp_path):
    text = write_report.fn(["full", "no_stm"], MODES, PAIRS, **make_outputs(tmp_path))
    table = [line for line in text.splitlines() if line.startswith("| ") and " vs " in line]
    assert table == [
        "| no_stm vs full (icl) | 10 | 1 | 0 | 0 | +0.0 [-27.8, +27.8] | 1.000 | 1.000 |",
        "| no_stm vs full (finetuned) | 10 | 4 | 1 | 2 | -10.0 [-41.3, +24.8] | 1.000 | 1.000 |",
        "| full icl vs baseline | 10 | 0 | 1 | 0 | +10.0 [-18.9, +40.4] | 1.000 | 1.000 |",
        "| full finetuned vs baseline | 10 | 0 | 6 | 0 | +60.0 [+20.1, +83.2] | 0.031 | 0.156 |",
        "| full: finetuned vs icl | 10 | 1 | 5 | 0 | +50.0 [+8.2, +74.6] | 0.063 | 0.250 |",
        "| no_stm: finetuned vs icl | 10 | 1 | 4 | 0 | +40.0 [-0.2, +67.6] | 0.125 | 0.375 |",
    ]
    # p = 0.031 alone would pass 0.05, but not once adjusted for the five comparisons some item tells apart (the
    # icl pair, right on the same item, cannot be significant and stays out of the family).
    assert "p (Holm) = p adjusted over the 5 comparisons of this table that some item tells apart" in text
    assert "0 of 6 differences are significant at 0.05 after Holm's adjustment." in text
    assert ("- full finetuned is 60.0 points above baseline on the same 10 items (95% CI +20.1 to +83.2, "
            "p = 0.031, Holm 0.156): not significant at 0.05.") in text
    assert ("- no_stm finetuned is 10.0 points below full finetuned on the same 10 items (95% CI -41.3 to +24.8, "
            "p = 1.000, Holm 1.000): not significant at 0.05.") in text
    assert "**Warning:** 5 of these differences are smaller than 6 items" in text and "60.0 points on 10 items" in text


def test_plot_data_for_dvc(tmp_path):
    paths = make_outputs(tmp_path)
    write_report.fn(["full", "no_stm"], MODES, PAIRS, **paths)
    correct = rows(Path(paths["plots_dir"]) / "correct.csv")
    assert correct[0] == {"config": "baseline", "mode": "baseline", "label": "baseline", "correct": "0.0", "lo": "0.0",
                          "hi": "27.8"}
    assert {"config": "full", "mode": "finetuned", "label": "full finetuned", "correct": "60.0", "lo": "31.3",
            "hi": "83.2"} in correct and len(correct) == 5
    continual = rows(Path(paths["plots_dir"]) / "continual.csv")
    assert [(r["round"], r["batch"], r["correct"], r["lo"], r["hi"]) for r in continual][-2:] == [
        ("round 2 (batch 2)", "batch 2", "100.0", "51.0", "100.0"), ("round 2 (batch 2)", "total", "75.0", "40.9", "92.9")]


def test_loss_curves_of_every_config_in_one_tidy_file(tmp_path):
    paths = make_outputs(tmp_path)
    for config, losses in {"full": [2.0, 1.5], "no_stm": [2.1]}.items():
        (tmp_path / "models" / config).mkdir(parents=True)
        (tmp_path / "models" / config / "loss.csv").write_text(
            "step,epoch,loss\n" + "".join(f"{i + 1},0.5,{v}\n" for i, v in enumerate(losses)))
    write_report.fn(["full", "no_stm", "no_ltm"], MODES, PAIRS, **paths)
    assert rows(Path(paths["plots_dir"]) / "loss.csv") == [  # no_ltm trained nothing: no line
        {"config": "full", "step": "1", "loss": "2.0"}, {"config": "full", "step": "2", "loss": "1.5"},
        {"config": "no_stm", "step": "1", "loss": "2.1"}]


def test_older_outputs_without_intervals_split_leakage_or_predictions_still_render(tmp_path):
    paths = make_outputs(tmp_path, predictions=False, extras=False)
    (Path(paths["continual_dir"]) / "replay.json").unlink()
    text = write_report.fn(["full", "no_stm"], MODES, PAIRS, **paths)
    assert "| Config | Student | n | Well-formed | API match | Correct | Executable |\n" in text
    assert "| full | finetuned | 10 | 100.0 | 80.0 | 60.0 | 60.0 |" in text
    assert "Not compared, predictions missing:" in text and "significant" not in text
    assert "| round 2 (batch 2) | 50.0" in text and "Skipped batches" not in text
    assert rows(Path(paths["plots_dir"]) / "continual.csv") == []  # no counts file: no plot rows, the header kept


def test_students_without_items_in_common_are_not_compared(tmp_path):
    paths = make_outputs(tmp_path)
    baseline = Path(paths["eval_dir"]) / "baseline" / "baseline" / "predictions.jsonl"
    baseline.write_text(baseline.read_text().replace('"q', '"dev-q'))  # scored on other items
    text = write_report.fn(["full", "no_stm"], MODES, PAIRS, **paths)
    assert "| full finetuned vs baseline |" not in text and "0 of 4 differences are significant at 0.05 after Holm's adjustment." in text
    assert "Not compared, no test item in common: full icl vs baseline, full finetuned vs baseline." in text


def test_mode_pairs_are_an_argument():
    pairs = comparison_pairs(["full", "no_ltm"], ["baseline", "finetuned", "sft+dpo"], [("sft+dpo", "finetuned")])
    assert pairs == [(("no_ltm", "finetuned"), ("full", "finetuned")), (("no_ltm", "sft+dpo"), ("full", "sft+dpo")),
                     (("full", "finetuned"), ("baseline", "baseline")), (("full", "sft+dpo"), ("baseline", "baseline")),
                     (("full", "sft+dpo"), ("full", "finetuned")), (("no_ltm", "sft+dpo"), ("no_ltm", "finetuned"))]
    # A pair whose modes did not both run is left out; without `full`, only the within-config pairs remain.
    assert comparison_pairs(["a"], ["icl", "finetuned"], [("sft+dpo", "finetuned"), ("finetuned", "icl")]) == [
        (("a", "finetuned"), ("a", "icl"))]


def test_compare_flag_is_checked():
    from flows.report import mode_pair
    from ste.core.errors import ConfigError

    assert mode_pair("sft+dpo:finetuned") == ("sft+dpo", "finetuned")
    with pytest.raises(ConfigError, match="FIRST:SECOND"):
        mode_pair("finetuned")


def test_report_flow_publishes_the_report_as_a_markdown_artifact(prefect_env, tmp_path):
    from flows.report import report_flow
    from tests.helpers import flow_artifacts

    paths = make_outputs(tmp_path)
    params = tmp_path / "params.yaml"
    params.write_text("explore:\n  configs:\n    full: {}\n    no_stm: {stm: false}\n")
    state = report_flow(paths["out_dir"], str(params), paths["explore_dir"], paths["metrics_dir"],
                        paths["continual_dir"], paths["eval_dir"], paths["models_dir"], paths["paraphrase_dir"],
                        paths["plots_dir"], return_state=True)
    text = state.result()
    artifacts = flow_artifacts(state.state_details.flow_run_id)
    assert [(a.key, a.type) for a in artifacts] == [("ablation-report", "markdown")]
    assert artifacts[0].data == text and "| full finetuned vs baseline | 10 | 0 | 6 | 0 |" in text


def test_learning_from_failures_and_no_run_timings():
    """The failures section; no wall time or throughput, though older inputs (below) still carry them: they depend
    on the machine's load, and the report is a DVC output (logs/timings holds them, scripts/timings.py prints)."""
    from ste.report.report import adjust, failures_table, markdown

    data = {"baseline": {"n": 80, "wall_s": 60.0}, "configs": {
        "full": {"explore": {"trials": 48, "run_wall_s": 240.0},
                 "modes": {"finetuned": {"n": 80, "wall_s": 30.0}, "sft+dpo": {"n": 80, "wall_s": 30.0}},
                 "pairs": {"pairs": 7, "within_trial": 2, "across_trials": 4, "after_filter": 1},
                 "dpo": {"steps": 4, "final_margin": 0.8125, "on_policy": {"pairs": 5, "failed": 6, "samples": 40}}},
        "no_stm": {"explore": {"trials": 48, "run_wall_s": 240.0}, "modes": {},
                   "pairs": {"pairs": 0}, "dpo": {"untrained": "no preference pairs", "steps": 0}}}}
    dpo = (("full", "sft+dpo"), ("full", "finetuned"))
    compared = adjust([from_counts(*dpo, both=30, only_a=6, only_b=2, neither=42)])
    text = failures_table(data, compared)
    assert "| full | 12 | 2 | 4 | 1 | 5 (6/40) | 4 | 0.813 | +5.0 [-2.2, +12.1] | 0.289 |" in text
    assert "| no_stm | 0 | 0 | 0 | 0 | 0 (0/0) | untrained | – | – | – |" in text
    assert "made no significant difference in any config (of 1 configs compared" in text
    worse = adjust([from_counts(*dpo, both=0, only_a=0, only_b=32, neither=48)])
    assert "DPO on failures helped in no config and hurt significantly in full (of 1" in failures_table(data, worse)
    for row in data["configs"].values():
        row["leakage"] = None
    report = markdown(data, ["baseline", "finetuned", "sft+dpo"])
    assert "## Exploration" in report and "| full | " in report
    assert not any(w in report for w in ("Throughput", "Wall", "per minute", "240.0"))
    assert not re.search(r"\d min\b", report)


def test_an_untrained_dpo_student_is_neither_compared_nor_called_a_result():
    from ste.report.report import failures_table, without_untrained_dpo

    data = {"baseline": {}, "configs": {
        "full": {"modes": {}, "pairs": {"pairs": 3}, "dpo": {"steps": 2}},
        "no_stm": {"modes": {}, "pairs": {"pairs": 0}, "dpo": {"untrained": "no preference pairs"}}}}
    pairs = comparison_pairs(["full", "no_stm"], ["finetuned", "sft+dpo"], [("sft+dpo", "finetuned")])
    assert without_untrained_dpo(pairs, data) == [
        (("no_stm", "finetuned"), ("full", "finetuned")), (("full", "sft+dpo"), ("full", "finetuned"))]
    data["configs"]["full"]["dpo"] = {"untrained": "no preference pairs"}
    assert "this run says nothing about learning from failures" in failures_table(data, [])


def test_fixtures_are_shaped_like_the_committed_metrics():
    """The fixtures above carry every key the real metrics files do (a fixture without `ids` once hid a bug)."""
    real = json.loads((ROOT / "metrics" / "full.json").read_text())
    leakage = real.pop("leakage")
    assert LEAKAGE.keys() == leakage.keys() and LEAKAGE["ids"].keys() == leakage["ids"].keys()
    fixture = summarize([{"well_formed": True, "api_match": True, "correct": True, "executable": True}])
    for metrics in real.values():  # wall_s and retriever: older or mode-specific entries the report does not read
        assert metrics.keys() - {"wall_s", "retriever"} <= fixture.keys() | {"split", "unseen"}
        assert metrics["unseen"].keys() <= fixture.keys()  # the unseen APIs' rates: the seen ones' shape


def test_one_rounding_rule_half_away_from_zero_from_the_exact_value():
    assert pct(Fraction(23, 80)) == "28.8" and pct(0.2875) == "28.7"  # the float 0.2875 is below 23/80: use counts
    assert pct(-Fraction(23, 80), sign=True) == "-28.8" and pct(Fraction(0), sign=True) == "+0.0"
    assert fmt(0.0625, 3) == "0.063" and fmt(Fraction(1, 2), 0) == "1" and fmt(-0.01) == "0.0"
    # The examples: bounds once stored at 4 decimals and rounded again.
    assert count_cell(32, 80) == "40.0 [30.0, 51.0]" and count_cell(37, 80) == "46.3 [35.7, 57.1]"
    assert count_cell(28, 80) == "35.0 [25.5, 45.9]" and count_cell(1, 80) == "1.3 [0.2, 6.7]"
    assert count_cell(0, 0) == "–"
    # A rate comes from its counts; API match is over the well-formed replies.
    metrics = {"n": 80, "n_correct": 23, "correct": 0.2875, "correct_ci": [0.1996, 0.3954], "n_well_formed": 79,
               "n_api_match": 41}
    assert rate_cell(metrics, "correct") == count_cell(23, 80) and rate_cell(metrics, "api_match") == count_cell(41, 79)
    assert rate_cell({"correct": 0.6}, "correct") == "60.0" and rate_cell({}, "correct") == "–"


def test_one_rate_prints_the_same_in_every_table_and_sentence():
    from ste.report.report import adjust, markdown

    right = summarize([{"well_formed": True, "api_match": True, "correct": i < 23} for i in range(80)])
    none = summarize([{"well_formed": False, "api_match": False, "correct": False} for _ in range(80)])
    data = {"baseline": none, "configs": {"full": {"explore": {}, "modes": {"finetuned": right}, "leakage": None}}}
    compared = [from_counts(("full", "finetuned"), ("baseline", "baseline"), 0, 23, 0, 57)]
    text = markdown(data, ["baseline", "finetuned"], compared)
    assert "| full | finetuned | 80 | 100.0 [95.4, 100.0] | 100.0 [95.4, 100.0] | 28.8 [20.0, 39.5] |" in text
    assert "| full finetuned vs baseline | 80 | 0 | 23 | 0 | +28.8 [+18.9, +39.5] |" in text
    assert "28.7" not in text and "is 28.8 points above baseline" in text
    assert ("`full` finetuned against the zero-shot baseline (Correct %, 95% interval): 28.8 [20.0, 39.5] vs 0.0 "
            "[0.0, 4.6] on the same 80 items, +28.8 points (95% CI +18.9 to +39.5), McNemar p < 0.001, Holm p < 0.001: "
            "significant at 0.05.") in text
    assert adjust(compared)[0]["significant"]


def test_findings_are_computed_from_the_data_and_worded_by_it(tmp_path):
    text = write_report.fn(["full", "no_stm"], MODES, PAIRS, **make_outputs(tmp_path))
    said = text[text.index("## Findings"):text.index("## Paired comparisons")].splitlines()
    assert said[2:] == [
        "- Paired comparisons: 0 of 6 differences are significant at 0.05 after Holm's adjustment.",
        "- `full` finetuned against the zero-shot baseline (Correct %, 95% interval): 60.0 [31.3, 83.2] vs 0.0 "
        "[0.0, 27.8] on the same 10 items, +60.0 points (95% CI +20.1 to +83.2), McNemar p = 0.031, Holm p = 0.156: "
        "not significant at 0.05.",
        "- In-context learning (`icl`, retrieved demonstrations in the prompt): Correct 10.0% in every config.",
        "- Each config against `full`, finetuned students (Correct %, 95% interval; difference = the config minus "
        "`full`, in points):",
        "  - `no_stm` vs `full`: 50.0 [23.7, 76.3] vs 60.0 [31.3, 83.2] on the same 10 items, -10.0 points (95% CI "
        "-41.3 to +24.8), McNemar p = 1.000, Holm p = 1.000: not significant at 0.05.",
        "  - Significant after Holm: none; not significant: `no_stm`. Too small to tell: `no_stm` (under 6 items "
        "apart, 60.0 points on 10 items: the least McNemar's exact test can call significant at 0.05, even with "
        "every discordant item one way).",
        # Round 2 trains batch 2 (batch 1 skipped): batch 2 is its current batch, batch 0 the previous one.
        "- Continual learning (Correct %, 95% interval, per setting; each round trains one batch of APIs, the current "
        "one, and is scored on every batch so far; previous = the earlier batches together; settings not compared by "
        "a paired test):",
        "  - round 1 (batch 0): current (batch 0): replay 25.0 [4.6, 69.9]; no previous batch.",
        "  - round 2 (batch 2): current (batch 2): replay 100.0 [51.0, 100.0]; previous (batch 0): replay 50.0 "
        "[15.0, 85.0]; all batches: replay 75.0 [40.9, 92.9].",
        ""]


def test_findings_wording_follows_the_data():
    """Significant or not, helped or hurt, trained or not: chosen by the numbers."""
    from ste.report.report import adjust, findings

    data = {"baseline": {}, "configs": {
        "full": {"modes": {}, "dpo": {"pairs": 9, "on_policy": {"failed": 4, "samples": 10}}},
        "no_ltm": {"modes": {}, "dpo": {"untrained": "no preference pairs"}}}}
    compared = adjust([from_counts(("no_ltm", "finetuned"), ("full", "finetuned"), 0, 0, 30, 50),
                       from_counts(("full", "sft+dpo"), ("full", "finetuned"), 10, 20, 0, 50)])
    said = "\n".join(findings(data, compared))
    assert "Significant after Holm: `no_ltm`; not significant: none." in said and "Too small" not in said
    assert "`no_ltm` vs `full`: 0.0 [0.0, 4.6] vs 37.5 [27.7, 48.5] on the same 80 items, -37.5 points" in said
    assert ("  - `full`: 37.5 [27.7, 48.5] vs 12.5 [6.9, 21.5] on the same 80 items, +25.0 points (95% CI +15.1 to "
            "+34.8), McNemar p < 0.001, Holm p < 0.001: significant at 0.05; 9 preference pairs, from 4 failed of 10 "
            "replies sampled from the student.") in said
    assert "`no_ltm`: DPO did not train (no preference pairs)" in said
    assert "DPO on failures helped significantly in full (of 1 configs compared" in said


def test_seen_and_unseen_apis_side_by_side_only_where_unseen_apis_were_scored():
    from ste.report.report import unseen_table

    seen = summarize([{"well_formed": True, "api_match": True, "correct": i < 6, "executable": i < 6}
                      for i in range(10)])
    unseen = summarize([{"well_formed": True, "api_match": True, "correct": i < 1, "executable": i < 1}
                        for i in range(4)])
    data = {"baseline": {**seen, "unseen": unseen},
            "configs": {"full": {"modes": {"finetuned": {**seen, "unseen": unseen}, "icl": seen}}}}
    text = unseen_table(data, ["baseline", "icl", "finetuned"])
    assert "| (no STE) | baseline | 10 | 60.0 [31.3, 83.2] | 4 | 25.0 [4.6, 69.9] |" in text
    assert "| full | finetuned | 10 | 60.0 [31.3, 83.2] | 4 | 25.0 [4.6, 69.9] |" in text
    assert "| full | icl |" not in text  # not scored on unseen APIs
    assert unseen_table({"baseline": seen, "configs": {"full": {"modes": {"finetuned": seen}}}}, ["finetuned"]) == ""


def test_the_findings_give_unseen_against_seen_apis_where_they_were_scored():
    from ste.report.report import findings

    seen = summarize([{"well_formed": True, "api_match": True, "correct": i < 6, "executable": i < 6}
                      for i in range(10)])
    unseen = summarize([{"well_formed": True, "api_match": True, "correct": i < 1, "executable": i < 1}
                        for i in range(4)])
    data = {"baseline": {**seen, "unseen": unseen}, "continual": {},
            "configs": {"full": {"modes": {"finetuned": {**seen, "unseen": unseen}}}}}
    said = [line for line in findings(data, []) if line.startswith("- Unseen APIs")]
    assert said == ["- Unseen APIs (never explored; the prompt lists only their documentation), finetuned students, "
                    "Correct % on the unseen vs the seen APIs (other items and another tool list, so no paired test): the "
                    "baseline 25.0 [4.6, 69.9] vs 60.0 [31.3, 83.2]; `full` 25.0 [4.6, 69.9] vs 60.0 [31.3, 83.2]."]
    data["configs"]["full"]["modes"]["finetuned"] = seen
    data["baseline"] = seen
    assert not [line for line in findings(data, []) if line.startswith("- Unseen APIs")]


def test_configs_are_compared_with_full_on_the_unseen_apis_item_by_item(tmp_path):
    """Each config scored on the unseen APIs against `full` there (the paired test of documentation reading), in the
    comparisons table, in the Holm family, and in the findings; the README rebuilds it from the table."""
    from scripts.readme_results import report_comparisons

    paths = make_outputs(tmp_path)
    unseen_right = {"full": {0}, "no_stm": {0, 1, 2, 3, 4}}
    for config, right in unseen_right.items():
        preds = [{"id": f"u{i}", "api": "rgb_to_hex", "well_formed": True, "api_match": True, "correct": i in right,
                  "executable": i in right} for i in range(6)]
        write_jsonl(Path(paths["eval_dir"]) / config / "finetuned" / "unseen" / "predictions.jsonl", preds)
        path = Path(paths["metrics_dir"]) / f"{config}.json"
        metrics = json.loads(path.read_text())
        metrics["finetuned"]["unseen"] = summarize(preds)
        write_json(path, metrics)
    text = write_report.fn(["full", "no_stm"], MODES, PAIRS, **paths)
    assert "| no_stm vs full (finetuned, unseen APIs) | 6 | 1 | 4 | 0 |" in text
    assert "of 7 differences are significant" in text  # one family: 6 without the unseen APIs
    assert ("- Each config against `full` on the unseen APIs, finetuned students (Correct %, 95% interval; "
            "difference = the config minus `full`, in points):") in text
    assert "  - `no_stm` vs `full`: 83.3 [43.6, 97.0] vs 16.7 [3.0, 56.4] on the same 6 items, +66.7 points" in text
    rebuilt = report_comparisons(text, ["full", "no_stm"], MODES, ["full", "no_stm"])
    assert [(t["first"], t["n"]) for t in rebuilt][-1] == (("no_stm", "finetuned/unseen"), 6)


def test_examples_per_api_and_config_with_the_ones_short_of_twenty_marked():
    from ste.report.examples import examples_table

    text = examples_table({"full": {"a": {"before": 6, "after": 24}, "b": {"before": 1, "after": 6}},
                           "no_stm": {"a": {"before": 2, "after": 20}}, "query_first": {}, "gone": None})
    assert "| API | full | no_stm | query_first |" in text
    assert "| a | 24 (6) | 20 (2) | 0 (0)* |" in text  # query_first kept nothing at all
    assert "| b | 6 (1)* | 0 (0)* | 0 (0)* |" in text  # no_stm kept nothing of b
    assert text.rstrip().endswith("4 of 6 (config, API) pairs have fewer than 20 examples.")
    assert examples_table({"full": {"a": {"before": 5, "after": 20}}}).rstrip().endswith(
        "Every API of every config has at least 20 examples.")
    assert examples_table({"full": None}) == examples_table({"full": {}}) == ""


def test_the_report_counts_each_configs_examples_from_the_paraphrase_summary(tmp_path):
    paths = make_outputs(tmp_path)
    write_json(Path(paths["paraphrase_dir"]) / "full" / "summary.json",
               {"per_api": {"convert_units": {"before": 3, "after": 21}, "find_city": {"before": 1, "after": 3}},
                "caps": {"target_per_api": 30, "max_per_seed": 2}})
    text = write_report.fn(["full", "no_stm"], MODES, PAIRS, **paths)
    assert "## Training examples per API" in text and "| convert_units | 21 (3) |" in text
    assert "bound by exploration, which kept too few examples" in text and ": find_city (full)" in text


def test_the_examples_table_says_what_bounded_each_short_api():
    from ste.report.examples import examples_table

    caps = {"target_per_api": 6, "max_per_seed": 2}
    text = examples_table({"full": {"a": {"before": 3, "after": 6}, "b": {"before": 1, "after": 3}},
                           "no_stm": {"a": {"before": 2, "after": 4}, "b": {"before": 2, "after": 6}},
                           "query_first": {}}, {"full": caps, "no_stm": caps, "query_first": caps})
    assert text.rstrip().endswith(
        "6 of 6 (config, API) pairs have fewer than 20 examples.\n"
        "Why: 2 stop at `paraphrase.target_per_api` (6); 1 are bound by exploration, which kept too few examples "
        "(each gives itself and at most `paraphrase.max_per_seed` = 2 paraphrases): b (full); 2 kept no example "
        "from exploration: every API of query_first; 1 lost paraphrases to the checks: a (no_stm).")
    assert "Why" not in examples_table({"full": {"b": {"before": 1, "after": 3}}})  # caps unknown: no guess
