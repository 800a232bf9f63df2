"""Wall time and memory stay out of the DVC outputs (so dvc.lock's hashes can match across runs of the same inputs):
each stage writes them to logs/timings/<stage>.json instead, logs them, and scripts/timings.py prints them."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from ste.core.io import TIMINGS_ENV, read_jsonl, read_timings, timings_dir, write_jsonl, write_timings
from ste.core.schemas import Trial
from tasks.common import timed  # imports Prefect, which sets up logging: before caplog's handler goes in
from tests.helpers import output_timing_keys, react_responder, stub_role, timing_keys
from tests.openai_stub import serve_stub

TESTSET = Path(__file__).resolve().parents[1] / "data" / "testset"


@pytest.fixture
def timings(tmp_path, monkeypatch):
    folder = tmp_path / "timings"
    monkeypatch.setenv(TIMINGS_ENV, str(folder))
    return folder


def test_the_key_check_finds_measurements_at_any_depth():
    found = timing_keys({"n": 3, "wall_s": 1.0, "per_api": [{"api": "a", "peak_rss_mb": 2}],
                         "nested": {"elapsed": 1, "items_per_min": 2, "ok": {"duration_ms": 1}}})
    assert found == ["wall_s", "per_api[0].peak_rss_mb", "nested.elapsed", "nested.items_per_min",
                     "nested.ok.duration_ms"]
    assert timing_keys({"per_api": [], "trials": 4, "resumed_trials": 0, "timeout": None}) == []


def test_a_trial_written_with_a_wall_time_still_loads(tmp_path):
    """trials.jsonl of an earlier run carries `wall_s`: reading drops it; any other unknown field still fails."""
    path = tmp_path / "trials.jsonl"
    old = {"id": "a/e0/t0", "api": "a", "episode": 0, "index": 0, "query": "q", "wall_s": 1.25}
    path.write_text(json.dumps(old) + "\n")
    (trial,) = read_jsonl(path, Trial)
    assert trial.id == "a/e0/t0" and "wall_s" not in trial.model_dump()
    path.write_text(json.dumps({**old, "colour": "red"}) + "\n")
    with pytest.raises(Exception, match="corrupt record"):
        read_jsonl(path, Trial)


def test_timed_writes_the_stage_timings_outside_the_outputs_and_logs_them(timings, caplog):
    assert timings_dir() == timings
    with caplog.at_level(logging.INFO, logger="tasks.common"):
        with timed("evaluate@full") as timing:
            for mode, n in (("icl", 80), ("finetuned", 80)):
                with timing.part(mode) as part:
                    part["test items"] = n
                timing.count("test items", n)
    facts = json.loads((timings / "evaluate@full.json").read_text())
    assert facts["stage"] == "evaluate@full" and facts["counts"] == {"test items": 160}
    assert facts["wall_s"] >= 0 and facts["peak_rss_mb"] > 0 and facts["started_at"].endswith("+00:00")
    assert set(facts["parts"]) == {"icl", "finetuned"} and facts["parts"]["icl"]["counts"] == {"test items": 80}
    assert "evaluate@full took" in caplog.text and "160 test items" in caplog.text and "peak RSS" in caplog.text

    with pytest.raises(RuntimeError):  # a failed stage leaves no timings of a run that did not happen
        with timed("report"):
            raise RuntimeError("boom")
    assert not (timings / "report.json").exists()


def test_timings_that_cannot_be_written_do_not_fail_the_stage(tmp_path, monkeypatch, caplog):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv(TIMINGS_ENV, str(tmp_path / "file" / "timings"))
    with caplog.at_level(logging.INFO, logger="tasks.common"):
        with timed("report"):
            pass
    assert "report took" in caplog.text and "not written" in caplog.text


def test_the_timings_script_prints_one_row_per_stage_and_the_total(timings, capsys):
    from scripts.timings import main

    write_timings("explore", {"started_at": "2025-01-01T10:00:00+00:00", "wall_s": 636.0, "peak_rss_mb": 4096.4,
                              "counts": {"trials": 288}, "per_min": {"trials": 27.2}, "parts": {}})
    write_timings("evaluate@full", {"started_at": "2025-01-01T11:00:00+00:00", "wall_s": 120.0, "peak_rss_mb": 2048,
                                    "counts": {"test items": 240}, "per_min": {"test items": 120.0},
                                    "parts": {"icl": {"wall_s": 30.0, "counts": {"test items": 80},
                                                      "per_min": {"test items": 160.0}}}})
    (timings / "broken.json").write_text("{")
    assert [t["stage"] for t in read_timings()] == ["explore", "evaluate@full"]  # in the order they started
    assert main(["--parts"]) == 0
    out = capsys.readouterr().out
    assert "| explore | 2025-01-01T10:00:00 | 10.6 | 4,096 | 288 trials | 27.2 trials |" in out
    assert "| evaluate@full | 2025-01-01T11:00:00 | 2.0 | 2,048 | 240 test items | 120.0 test items |" in out
    assert "icl | | 0.5 | | 80 test items | 160.0 test items |" in out
    assert "| total (2 stages) | | 12.6 | 4,096 | | |" in out
    assert main(["--dir", str(timings / "none")]) == 1


def test_what_small_real_stages_write_holds_no_measurement_of_the_run(tmp_path, tiny_model_dir, timings):
    """Exploration (scripted explorer), fine-tuning and DPO (tiny model), evaluation (stub student): every JSON
    and JSONL file they write is free of wall times, memory and rates, so a re-run on the same inputs writes the
    same bytes."""
    from ste.config.params import parse_params
    from tasks.dpo import dpo_stage
    from tasks.evaluate import evaluate_mode
    from tasks.finetune import finetune_stage
    from tests.test_dpo import PAIRS
    from tests.test_explore import run as explore
    from tests.test_finetune import RECORDS

    out = tmp_path / "out"
    explore(out, name="explore", apis=["add_numbers", "define_word"], episodes=1, trials_per_episode=2)
    params = parse_params({
        "llm": {"models_dir": str(tmp_path / "models"), "cache": False,
                "roles": {"student": {"backend": "local", "model": str(tiny_model_dir)}}},
        "finetune": {"epochs": 1, "batch_size": 2, "max_length": 256},
        "dpo": {"epochs": 1, "batch_size": 2, "max_length": 256, "on_policy_samples": 0},
        "evaluate": {"apis": ["convert_units"], "max_items_per_api": 2, "max_new_tokens": 16}})
    write_jsonl(tmp_path / "sft.jsonl", RECORDS)
    write_jsonl(tmp_path / "pairs.jsonl", PAIRS)
    sft = finetune_stage.fn(params, str(tmp_path / "sft.jsonl"), str(out / "models"), "full")
    dpo = dpo_stage.fn(params, "full", str(out / "models" / "adapter"), str(tmp_path / "pairs.jsonl"),
                       str(tmp_path / "examples.jsonl"), str(out / "models" / "dpo"))
    assert sft["steps"] > 0 and dpo["steps"] > 0
    with serve_stub(react_responder) as url:
        served = params.model_copy(update={"llm": parse_params(
            {"llm": {"cache": False, "roles": {"student": stub_role(url)}}}).llm})
        metrics = evaluate_mode.fn(served, "baseline", str(out / "eval"), str(TESTSET))
    assert metrics["n"] == 2
    written = {p.relative_to(out).as_posix() for p in out.rglob("*.json*")}
    assert {"explore/trials.jsonl", "explore/summary.json", "models/summary.json", "models/dpo/summary.json",
            "eval/baseline/metrics.json", "eval/baseline/predictions.jsonl"} <= written
    assert output_timing_keys(out) == {}
    assert not timings.exists()  # the tasks measure nothing themselves: their stage's flow does (`timed`)
