"""Stage summaries as Prefect artifacts: the flattening, and a real flow publishing its table to the server."""
from __future__ import annotations

import json
import math

from ste.core.io import write_jsonl
from ste.core.schemas import Trial, Turn
from tasks.artifacts import MAX_CHARS, artifact_key, summary_rows


def test_artifact_keys_are_lowercase_letters_digits_and_dashes():
    assert artifact_key("evaluate", "no_stm", "summary") == "evaluate-no-stm-summary"
    assert artifact_key("Explore", "Query First!", "summary") == "explore-query-first-summary"


def test_nested_summaries_flatten_to_key_value_rows():
    summary = {"trials": 4, "solved_rate": 0.5, "tokens": {"prompt": 10, "completion": 2}, "skipped_batches": [1, 3],
               "per_api": [{"api": "convert_units", "trials": 3}, {"api": "day_of_week", "trials": 1}],
               "rounds": [{"x": 1}], "loss": math.nan, "empty": {}, "ids": [f"id-{i}" for i in range(200)]}
    rows = {r["key"]: r["value"] for r in summary_rows(summary)}
    assert rows == {"trials": 4, "solved_rate": 0.5, "tokens.prompt": 10, "tokens.completion": 2,
                    "skipped_batches": "[1, 3]", "per_api.convert_units.trials": 3,
                    "per_api.day_of_week.trials": 1, "rounds.0.x": 1, "loss": "nan", "empty": "{}",
                    "ids": rows["ids"]}
    assert len(rows["ids"]) == MAX_CHARS and rows["ids"].endswith("…")


def test_filter_flow_publishes_its_summary_as_a_table_artifact(prefect_env, tmp_path):
    from flows.filter import filter_flow
    from tests.helpers import flow_artifacts

    paris = Turn(raw="...", action="get_country_capital", action_input={"country": "France"}, status="ok",
                 observation='{"capital": "Paris"}')
    trials = [Trial(id=f"get_country_capital/e0/t{i}", api="get_country_capital", episode=0, index=i,
                    query="What is the capital of France?", final_answer=answer,
                    turns=[paris, Turn(raw=f"Final Answer: {answer}", final_answer=answer)])
              for i, answer in enumerate(["Paris.", None])]
    write_jsonl(tmp_path / "trials.jsonl", trials)
    (tmp_path / "params.yaml").write_text("filter: {judge: false}\n")
    out = tmp_path / "data" / "filter" / "full"
    state = filter_flow(str(tmp_path / "trials.jsonl"), str(out), str(tmp_path / "params.yaml"), return_state=True)
    summary = state.result()
    artifacts = flow_artifacts(state.state_details.flow_run_id)
    assert [(a.key, a.type) for a in artifacts] == [("filter-full-summary", "table")]
    table = {r["key"]: r["value"] for r in json.loads(artifacts[0].data)}  # stored as JSON text
    assert table["kept_per_api.get_country_capital"] == summary["kept_per_api"]["get_country_capital"] == 1
    assert table["dropped.no_final_answer"] == 1
