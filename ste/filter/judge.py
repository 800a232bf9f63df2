"""The judge's three yes/no questions: the prompt, its decoding constraint, and a tolerant parser.

Judges (especially small ones) answer in many shapes: "1. Yes", "Q2: no -", "YES.", bullet
lists, answers in reverse order, all on one line, or lines missing. The parser reads what it
can and marks the rest "unknown", so a trial is never kept on an answer nobody gave.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ste.core.llm.base import Message
from ste.core.prompts import load_prompt
from ste.core.schemas import Trial
from ste.core.tools.base import Registry

TEMPLATES = Path(__file__).parent / "templates"
QUESTIONS = ("informative", "faithful", "appropriate")
OBSERVATION_CHARS = 1500  # per call shown to the judge
REASON_CHARS = 80  # per answer, under constrained decoding (keeps the reply within max_new_tokens)

Answer = Literal["yes", "no", "unknown"]


@dataclass(frozen=True)
class JudgeAnswer:
    answer: Answer = "unknown"
    reason: str = ""


def judge_messages(trial: Trial, registry: Registry) -> list[Message]:
    """The single user message that asks the judge about one trial."""
    known = [a for a in dict.fromkeys(t.action for t in trial.turns if t.action) if a in registry]
    apis = registry.describe(known) if known else "(none)"
    calls = []
    for n, turn in enumerate((t for t in trial.turns if t.action), 1):
        obs = (turn.observation or "")[:OBSERVATION_CHARS]
        calls.append(f"Call {n}: {turn.action} {turn.action_input or {}}\nStatus: {turn.status}\nReturned: {obs}")
    prompt = load_prompt(TEMPLATES, "judge_filter").format(
        apis=apis, query=trial.query, calls="\n\n".join(calls) or "(no calls)",
        answer=(trial.final_answer or "").strip() or "(empty)",
    )
    return [{"role": "user", "content": prompt}]


def judge_constraint() -> str:
    """A regex for the three-line reply: backends that support structured decoding must follow it."""
    line = r"{n}\. (Yes|No) - [^\n]+"
    return r"\n".join(line.format(n=n, k=REASON_CHARS) for n in (1, 2, 3))


_BULLET = re.compile(r"^[\s>#*•·\-–—]*")
_NUMBER = re.compile(r"(?i)^(?:q(?:uestion)?\s*#?\s*)?\(?([1-3])(?:\s*[.):\]]|\s*(?=[-–—:])|\s+(?=yes|no))[\s*:\-–—]*")
_KEYWORD = re.compile(r"(?i)^(informative\w*|faithful\w*|appropriate\w*)\b[^:\n]{0,20}?[:\-–—]\s*")
_YES_NO = re.compile(r"(?i)\b(yes|no)\b")
_ONLY_YES_NO = re.compile(r"(?i)[\W_]*(?:(?:yes|no)\b[\W_]*)+")
_ALTERNATIVES = re.compile(r"(?i)\b(?:yes|no)\s*(?:or|/|\|)\s*(?:yes|no)\b")  # the format echoed back
_INLINE_LABEL = re.compile(r"(?i)(?<=\S)\s+(?=(?:q(?:uestion)?\s*)?[1-3][.):]\s)")


def _reason(rest: str) -> str:
    return rest.strip().lstrip(" .,:;-–—)").strip().strip("*").strip()


def parse_judge_reply(text: str) -> list[JudgeAnswer]:
    """Three answers (informative, faithful, appropriate), "unknown" where the reply is unclear.

    Numbered or named lines go to their question whatever their order; lines that start with a
    bare yes/no fill the remaining questions in order; a line with neither continues the
    previous answer's reason. Two different answers to one question, or the format's own
    "Yes or No" copied back, make it unknown.
    """
    # "Yes or No - reason" copied from the prompt is no answer (SmolLM2-135M does this unconstrained).
    text = _ALTERNATIVES.sub("?", (text or "").replace("\r\n", "\n").replace("**", ""))
    if _ONLY_YES_NO.fullmatch(text.strip() or "-"):  # "Yes, No, Yes" / "YES.\nNO.\nYES."
        words = [w.lower() for w in _YES_NO.findall(text)][:3]
        return [JudgeAnswer(w) for w in words] + [JudgeAnswer()] * (3 - len(words))
    labelled: dict[int, list[JudgeAnswer]] = {}
    positional: list[JudgeAnswer] = []
    last: tuple[list[JudgeAnswer], int] | None = None  # where the latest answer lives, for continuations
    for raw in _INLINE_LABEL.sub("\n", text).split("\n"):
        line = _BULLET.sub("", raw).strip()
        if not line:
            continue
        label = _NUMBER.match(line)
        index = int(label.group(1)) - 1 if label else None
        if label is None and (label := _KEYWORD.match(line)):
            index = next(i for i, q in enumerate(QUESTIONS) if label.group(1).lower().startswith(q[:6]))
        rest = line[label.end():] if label else line
        found = _YES_NO.search(rest) if label else _YES_NO.match(rest)
        if found:
            answer = JudgeAnswer(found.group(1).lower(), _reason(rest[found.end():]))
            bucket = labelled.setdefault(index, []) if index is not None else positional
            bucket.append(answer)
            last = (bucket, len(bucket) - 1)
        elif last is not None and label is None:
            bucket, i = last
            bucket[i] = JudgeAnswer(bucket[i].answer, f"{bucket[i].reason} {line}".strip())
    answers: list[JudgeAnswer | None] = [None] * 3
    for index, given in labelled.items():
        same = len({a.answer for a in given}) == 1
        answers[index] = given[0] if same else JudgeAnswer("unknown", "conflicting answers")
    free = iter(positional)
    return [a if a is not None else next(free, JudgeAnswer()) for a in answers]
