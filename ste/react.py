"""Parse a ReAct reply (Thought / Action / Action Input, or Final Answer).

Tolerant of the usual slips (extra spaces, code fences, single quotes, trailing commas,
text after the JSON) but it never guesses an API name: the name must be one of the allowed
ones, exactly (case and surrounding quotes/backticks aside).
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any

_LABEL = r"(?im)^[ \t>*#]*{}[ \t*]*:[ \t]*"
_THOUGHT = re.compile(_LABEL.format("thought"))
_ACTION = re.compile(_LABEL.format("action"))
_INPUT = re.compile(_LABEL.format(r"action[ _]input"))
_FINAL = re.compile(_LABEL.format(r"final[ _]answer"))
MAX_JSON_CHARS = 20_000  # longer inputs are refused, not parsed
MAX_DEPTH = 20


@dataclass
class Step:
    """A parsed reply: either a call (action + action_input), a final answer, or an error."""

    thought: str | None = None
    action: str | None = None
    action_input: dict[str, Any] | None = None
    final_answer: str | None = None
    error: str | None = None  # precise, shown to the model as the observation

    @property
    def is_call(self) -> bool:
        return self.error is None and self.action is not None

    @property
    def is_final(self) -> bool:
        return self.error is None and self.final_answer is not None


def parse_step(text: str, allowed: list[str]) -> Step:
    """Parse one reply against the allowed API names. Never raises."""
    try:
        return _parse(text or "", allowed)
    except Exception as err:  # defensive: a parser bug must not kill a trial
        return Step(error=f"Could not parse the reply ({type(err).__name__}).")


def _parse(text: str, allowed: list[str]) -> Step:
    text = text.replace("\r\n", "\n")
    thought = _section(text, _THOUGHT)
    action_m = _ACTION.search(text)
    final_m = _FINAL.search(text)
    if final_m and (not action_m or final_m.start() < action_m.start()):
        answer = text[final_m.end():].strip()
        if not answer:
            return Step(thought=thought, error="Final Answer is empty. Write the answer after 'Final Answer:'.")
        return Step(thought=thought, final_answer=answer)
    if not action_m:
        return Step(thought=thought, error=(
            "No Action found. Reply with 'Action: <one API name>' and 'Action Input: <JSON object>', "
            "or with 'Final Answer: <answer>'."))
    line = text[action_m.end():].split("\n", 1)[0]
    name = line.strip().strip("`'\"*").strip()
    if name not in allowed:
        return Step(thought=thought, error=(
            f"{name!r} is not an available API. Use exactly one of these API names: {', '.join(allowed)}."))
    input_m = _INPUT.search(text, action_m.end())
    if not input_m:
        return Step(thought=thought, action=name, error="No Action Input found. Add 'Action Input: <JSON object>'.")
    args, problem = parse_json_object(text[input_m.end():])
    if problem:
        return Step(thought=thought, action=name, error=f"Action Input is not a valid JSON object: {problem}")
    return Step(thought=thought, action=name, action_input=args)


def _section(text: str, label: re.Pattern) -> str | None:
    m = label.search(text)
    if not m:
        return None
    rest = text[m.end():]
    stop = re.search(r"(?im)^[ \t>*#]*(action|final[ _]answer)[ \t*]*:", rest)
    return (rest[: stop.start()] if stop else rest).strip() or None


def parse_json_object(text: str) -> tuple[dict | None, str | None]:
    """The first JSON object in `text`, repaired for common slips; (object, None) or (None, reason)."""
    text = re.sub(r"^\s*```(?:json)?", "", text.strip(), flags=re.I)
    start = text.find("{")
    if start < 0:
        return None, "no '{' found; write the arguments as a JSON object such as {\"key\": \"value\"}."
    block = _balanced(text, start)
    if block is None:
        return None, "the braces are not balanced (missing '}')."
    if len(block) > MAX_JSON_CHARS:
        return None, f"it is longer than {MAX_JSON_CHARS} characters."
    if _depth(block) > MAX_DEPTH:
        return None, f"it is nested deeper than {MAX_DEPTH} levels."
    for candidate in (block, re.sub(r",\s*([}\]])", r"\1", block)):
        try:
            obj = json.loads(candidate)
            break
        except (json.JSONDecodeError, RecursionError):
            obj = None
    if obj is None:
        obj = _python_literal(block)
    if obj is None:
        return None, "it could not be read as JSON (use double quotes and no trailing commas)."
    if not isinstance(obj, dict):
        return None, "it must be an object of named arguments."
    return obj, None


def _balanced(text: str, start: int) -> str | None:
    depth, quote, escaped = 0, None, False
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start: i + 1]
    return None


def _depth(block: str) -> int:
    depth = best = 0
    for ch in block:
        depth += ch in "{["
        depth -= ch in "}]"
        best = max(best, depth)
    return best


def _python_literal(block: str) -> Any:
    """Single-quoted or True/None-style objects, read safely as literals (never evaluated as code)."""
    fixed = re.sub(r",\s*([}\]])", r"\1", block)
    fixed = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", re.sub(r"\bnull\b", "None", fixed)))
    try:
        return ast.literal_eval(fixed)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None


def format_call(api: str, arguments: dict[str, Any]) -> str:
    """The canonical call text a model is trained to write."""
    return f"Action: {api}\nAction Input: {json.dumps(arguments, ensure_ascii=False)}"
