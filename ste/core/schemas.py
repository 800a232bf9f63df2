"""Records that flow between stages (one JSON object per line in each artifact)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

ToolStatus = Literal["ok", "invalid_args", "not_found", "error", "timeout"]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Turn(Record):
    """One ReAct step of the explorer: its raw reply, what was parsed, what the tool said."""

    raw: str
    thought: str | None = None
    action: str | None = None
    action_input: dict[str, Any] | None = None
    final_answer: str | None = None
    parse_error: str | None = None  # fed back to the explorer as the observation
    observation: str | None = None  # the tool's output (or the parse error)
    status: ToolStatus | None = None  # None when no call was made


class Trial(Record):
    """One simulated trial: imagined query, ReAct turns, final answer, reflection."""

    id: str  # "<api>/e<episode>/t<index>"
    api: str
    episode: int
    index: int  # trial number inside the episode
    query: str
    imagination: dict[str, Any] = {}  # mode, attempts, rejected queries and why, seed call
    turns: list[Turn] = []
    final_answer: str | None = None
    solved: bool | None = None  # the reflection's verdict; None when reflection is off
    reflection_raw: str | None = None
    n_calls: int = 0
    parse_errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    llm_retries: int = 0  # LLM requests retried while it ran (faults of the server, not of the trial)

    @model_validator(mode="before")
    @classmethod
    def _drop_wall_time(cls, data: Any) -> Any:
        """Trials written before wall times left the DVC outputs (logs/timings holds them now) carry `wall_s`:
        dropped on reading, so an old trials.jsonl still loads."""
        if isinstance(data, dict) and "wall_s" in data:
            data = {k: v for k, v in data.items() if k != "wall_s"}
        return data


class Example(Record):
    """One training/demonstration example: a query and the call that answers it."""

    id: str
    api: str
    query: str
    arguments: dict[str, Any]
    observation: str = ""
    final_answer: str = ""
    source: Literal["explore", "paraphrase", "continual_replay"] = "explore"
    seed_id: str | None = None  # the trial or example this one was derived from


class TestItem(Record):
    """A gold test query with the call that answers it."""

    __test__ = False  # not a pytest class
    id: str
    api: str
    query: str
    arguments: dict[str, Any]
    split: Literal["dev", "test"] = "test"  # tune on dev, report on test


class Verdict(Record):
    """Why one trial was kept or dropped."""

    trial_id: str
    api: str  # the API of the kept call (the explored API when there is none)
    kept: bool
    reason: str  # "kept" or the first failed check: no_final_answer, no_successful_call, ...
    checks: dict[str, bool] = {}  # each rule that ran -> passed
    args_in_query: bool | None = None  # all checkable argument values appear in the query; None: none checkable
    missing_args: list[str] = []
    cites_observation: bool | None = None  # the answer repeats a value the call returned; None: not JSON
    judge: dict[str, dict[str, str]] | None = None  # question -> {"answer": yes|no|unknown, "reason": ...}
    judge_raw: str | None = None


def last_successful_call(trial: Trial) -> Turn | None:
    """The trial's last turn whose API call succeeded (the one an example keeps)."""
    return next((t for t in reversed(trial.turns) if t.action and t.status == "ok"), None)
