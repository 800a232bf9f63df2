"""Every explorer message, built only from recorded Trial objects (so a resumed run asks the same).

The templates live in `ste/explore/templates/*.txt`. A recorded trial is replayed into the short-term memory
context without its one-off parts (long-term memory, query seeds, rejected attempts): those are shown
only in the step that imagines, as the method prescribes.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from ste.core.llm.base import Message
from ste.core.prompts import load_prompt
from ste.core.schemas import Trial, Turn
from ste.core.tools.base import Tool

TEMPLATES = Path(__file__).parent / "templates"
# What the explorer sees instead of an API result when execution feedback is off.
HIDDEN_RESULT = "(The API was called. Its result is not shown in this run.)"


def user(text: str) -> Message:
    return {"role": "user", "content": text}


def assistant(text: str) -> Message:
    return {"role": "assistant", "content": text}


def system_message(tool: Tool) -> Message:
    text = load_prompt(TEMPLATES, "explore_system").format(api_description=tool.signature())
    return {"role": "system", "content": text}


def dumps(arguments: Any) -> str:
    return json.dumps(arguments, ensure_ascii=False, sort_keys=True)


# ------------------------------------------------------------------ one-off parts of an imagine step
def seeds_block(seeds: list[str]) -> str:
    return load_prompt(TEMPLATES, "query_seeds").format(seeds="\n".join(f"- {s}" for s in seeds)) if seeds else ""


def ltm_block(earlier: list[Trial], with_arguments: bool) -> str:
    """Long-term memory: every earlier valid query of this API with its solved flag."""
    lines = []
    for t in earlier:
        if not is_valid(t):
            continue
        solved = {True: "Yes", False: "No", None: "not checked"}[t.solved]
        call = t.imagination.get("seed_call") if with_arguments else None
        args = f" | Arguments: {dumps(call['arguments'])}" if call else ""
        lines.append(f"Query: {t.query}{args} | Solved: {solved}")
    return load_prompt(TEMPLATES, "ltm").format(history="\n".join(lines)) if lines else ""


def rejected_block(rejected: list[dict]) -> str:
    lines = [f"- {r['query']!r}: {REASON_TEXT[r['reason']]}" for r in rejected if "query" in r]
    return load_prompt(TEMPLATES, "rejected").format(rejected="\n".join(lines)) if lines else ""


REASON_TEXT = {
    "empty": "it was empty",
    "too_long": "it was too long",
    "names_api": "it named the API; users do not know API names",
    "missing_value": "it left out an argument value",
    "copies_seed": "it copied an example request",
    "duplicate": "it was too close to a request already explored",
}


def _join(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)


# ------------------------------------------------------------------ steps
def imagine_message(first: bool, *, extras: tuple[str, ...] = ()) -> Message:
    """Ask for a new query; `first` is whether the context holds no earlier trial."""
    return user(_join(*extras, load_prompt(TEMPLATES, "imagine" if first else "imagine_next")))


def arguments_message(api: str, *, extras: tuple[str, ...] = ()) -> Message:
    return user(_join(*extras, load_prompt(TEMPLATES, "arguments").format(api=api)))


def question_message(api: str, arguments: dict, *, extras: tuple[str, ...] = ()) -> Message:
    """Ask for the user question that an executed call answers (call-first imagination).

    The call's result is not shown: on the embedded model it pulled the question away from the values
    (measured: 2 of 6 questions stated their call's values with the result shown, 5 of 6 without).
    """
    body = load_prompt(TEMPLATES, "question_from_call").format(api=api, arguments=dumps(arguments))
    return user(_join(*extras, body))


@functools.cache
def question_examples() -> tuple[Message, ...]:
    """Worked examples of the call-first step on made-up APIs (not in any toolbox), as earlier chat turns."""
    text = (TEMPLATES / "question_examples.json").read_text(encoding="utf-8")
    turns: list[Message] = []
    for ex in json.loads(text):
        turns += [question_message(ex["api"], ex["arguments"]), assistant(ex["question"])]
    return tuple(turns)


def act_message(api_names: list[str], query: str) -> Message:
    return user(load_prompt(TEMPLATES, "act").format(api_names=", ".join(api_names), query=query))


def reflect_message() -> Message:
    return user(load_prompt(TEMPLATES, "reflect"))


def observation_message(turn: Turn, exec_feedback: bool) -> Message:
    """What the explorer sees after a step: the parse error, the real result, or the placeholder."""
    if turn.parse_error is not None:  # format feedback comes from our parser, not from the API
        return user(f"Observation: {turn.parse_error}")
    return user(f"Observation: {turn.observation if exec_feedback else HIDDEN_RESULT}")


# ------------------------------------------------------------------ replay
def is_valid(trial: Trial) -> bool:
    """A trial that got an accepted query (the others ran no ReAct turns)."""
    return trial.imagination.get("valid", True) and bool(trial.query)


def replay(trial: Trial, first: bool, exec_feedback: bool) -> list[Message]:
    """The messages a (possibly partial) recorded trial contributes to a chat context."""
    call = trial.imagination.get("seed_call")
    if trial.imagination.get("mode") == "call_first" and call:
        msgs = [question_message(trial.api, call["arguments"])]
    else:
        msgs = [imagine_message(first)]
    msgs += [assistant(trial.query), act_message([trial.api], trial.query)]
    for turn in trial.turns:
        msgs.append(assistant(turn.raw))
        if turn.final_answer is None:
            msgs.append(observation_message(turn, exec_feedback))
    if trial.reflection_raw is not None:
        msgs += [reflect_message(), assistant(trial.reflection_raw)]
    return msgs


def context(tool: Tool, episode_trials: list[Trial], exec_feedback: bool) -> list[Message]:
    """System message plus the episode's earlier valid trials in full (short-term memory)."""
    msgs = [system_message(tool)]
    for t in (t for t in episode_trials if is_valid(t)):
        msgs += replay(t, first=len(msgs) == 1, exec_feedback=exec_feedback)
    return msgs
