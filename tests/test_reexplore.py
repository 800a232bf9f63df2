"""scripts/reexplore.py's comparison: the stage's trials of one API, in order, and the fields that differ."""
from __future__ import annotations

import pytest

from ste.core.io import write_jsonl
from ste.core.schemas import Trial
from scripts.reexplore import differences, stage_trials


def trial(api: str, episode: int, index: int, query: str = "q") -> Trial:
    return Trial(id=f"{api}/e{episode}/t{index}", api=api, episode=episode, index=index, query=query)


def test_the_stage_trials_of_one_api_in_order_from_the_merged_file_else_the_part(tmp_path):
    write_jsonl(tmp_path / "full" / "parts" / "a.jsonl", [trial("a", 1, 0), trial("a", 0, 1), trial("a", 0, 0)])
    assert [t.id for t in stage_trials(tmp_path, "full", "a")] == ["a/e0/t0", "a/e0/t1", "a/e1/t0"]
    write_jsonl(tmp_path / "full" / "trials.jsonl", [trial("b", 0, 0), trial("a", 0, 0)])
    assert [t.id for t in stage_trials(tmp_path, "full", "a")] == ["a/e0/t0"]
    with pytest.raises(SystemExit, match="no trials of other/c"):
        stage_trials(tmp_path, "other", "c")


def test_differences_name_every_field_that_differs():
    assert differences(trial("a", 0, 0), trial("a", 0, 0)) == []
    assert differences(trial("a", 0, 0, "x"), trial("a", 0, 0, "y")) == ["query"]
