"""Parse a ReAct reply (Thought / Action / Action Input, or Final Answer).

Tolerant of the usual slips (extra spaces, markdown bold, code fences, single quotes, Python
literals, trailing commas, text after the JSON) but it never guesses an API name: the name must
be one of the allowed ones, exactly (surrounding quotes/backticks aside). Nothing is evaluated
as code: the JSON repair is a small character-level rewrite followed by `json.loads`.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

_LABEL = r"(?im)^[ \t>*#_-]*{}[ \t*_]*:[ \t*_]*"
_THOUGHT = re.compile(_LABEL.format("thought"))
ACTION_LINE = re.compile(_LABEL.format("action"))
_INPUT = re.compile(_LABEL.format(r"action[ _]?input"))
_INLINE_INPUT = re.compile(r"(?i)[ \t*_]*action[ _]?input[ \t*_]*:")
_FINAL = re.compile(_LABEL.format(r"final[ _]?answer"))
_NEXT_LABEL = re.compile(r"(?im)^[ \t>*#_-]*(action|action[ _]?input|final[ _]?answer|observation)[ \t*_]*:")
_NO_ACTION = {"", "none", "n/a", "na", "null", "no action"}
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
    """Parse one reply against the allowed API names.

    Args:
        text: the model's reply (already cut at the "Observation:" stop string).
        allowed: the API names the model may call.

    Returns:
        A Step; on any problem `error` says precisely what to fix. Never raises.
    """
    try:
        return _parse(text if isinstance(text, str) else "", allowed)
    except Exception as err:  # defensive: a parser bug must not kill a trial
        return Step(error=f"Could not parse the reply ({type(err).__name__}).")


def _parse(text: str, allowed: list[str]) -> Step:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    thought = _section(text, _THOUGHT)
    action_m = ACTION_LINE.search(text)
    final_m = _FINAL.search(text)
    name = _action_name(text, action_m) if action_m else None
    # A Final Answer wins when it comes first, or when the Action line says there is no action.
    if final_m and (not action_m or final_m.start() < action_m.start() or name.lower() in _NO_ACTION):
        answer = text[final_m.end():].strip()
        if not answer:
            return Step(thought=thought, error="Final Answer is empty. Write the answer after 'Final Answer:'.")
        return Step(thought=thought, final_answer=answer)
    if not action_m:
        return Step(thought=thought, error=(
            "No Action found. Reply with 'Action: <one API name>' and 'Action Input: <JSON object>', "
            "or with 'Final Answer: <answer>'."))
    names = ", ".join(allowed)
    if not name:
        return Step(thought=thought, error=f"The Action line is empty. Write exactly one of these API names: {names}.")
    if name not in allowed:
        shown = name if len(name) <= 80 else name[:77] + "..."
        return Step(thought=thought, error=(
            f"{shown!r} is not an available API. Use exactly one of these API names: {names}."))
    rest = _input_text(text, action_m)
    if rest is None:
        return Step(thought=thought, action=name, error="No Action Input found. Add 'Action Input: <JSON object>'.")
    args, problem = parse_json_object(rest)
    if problem:
        return Step(thought=thought, action=name, error=f"Action Input is not a valid JSON object: {problem}")
    return Step(thought=thought, action=name, action_input=args)


def _action_name(text: str, action_m: re.Match) -> str:
    line = text[action_m.end():].split("\n", 1)[0]
    inline = _INLINE_INPUT.search(line)  # "Action: foo Action Input: {...}" on one line
    if inline:
        line = line[: inline.start()]
    return line.strip().strip("`'\"*_ ").strip()


def _input_text(text: str, action_m: re.Match) -> str | None:
    """What follows the Action Input label (on the Action line or on a later line)."""
    line_end = text.find("\n", action_m.end())
    line = text[action_m.end(): len(text) if line_end < 0 else line_end]
    inline = _INLINE_INPUT.search(line)
    if inline:
        return text[action_m.end() + inline.end():]
    input_m = _INPUT.search(text, action_m.end())
    return text[input_m.end():] if input_m else None


def _section(text: str, label: re.Pattern) -> str | None:
    m = label.search(text)
    if not m:
        return None
    rest = text[m.end():]
    stop = _NEXT_LABEL.search(rest)
    return (rest[: stop.start()] if stop else rest).strip() or None


def parse_json_object(text: str) -> tuple[dict | None, str | None]:
    """The first JSON object in `text`, repaired for common slips.

    Args:
        text: what follows "Action Input:" (fences and trailing prose allowed).

    Returns:
        (object, None) on success, or (None, reason) where reason says what to fix.
    """
    text = re.sub(r"^\s*```[a-zA-Z]*", "", text.strip())
    stripped = text.lstrip()
    if stripped.startswith("["):
        return None, "it is a list; give ONE JSON object of named arguments for a single call."
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
    obj, problem = _loads(block)
    if problem is not None:
        repaired = _repair(block)
        obj, second = _loads(repaired) if repaired is not None else (None, problem)
        if second is not None:
            return None, second if second != _NOT_JSON else (
                "it could not be read as JSON (use double quotes, no trailing commas, no comments).")
    if not isinstance(obj, dict):
        return None, "it must be an object of named arguments."
    return obj, None


_NOT_JSON = "not json"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid argument value")


def _loads(block: str) -> tuple[Any, str | None]:
    try:
        obj = json.loads(block, parse_constant=_reject_constant, strict=False)
    except json.JSONDecodeError:
        return None, _NOT_JSON
    except RecursionError:
        return None, f"it is nested deeper than {MAX_DEPTH} levels."
    except ValueError as err:  # NaN/Infinity, or an integer with too many digits
        msg = str(err)
        return None, "a number has too many digits." if "digits" in msg else f"{msg.splitlines()[0][:120]}."
    return (None, problem) if (problem := _bad_value(obj)) else (obj, None)


def _bad_value(value: Any) -> str | None:
    """Why a parsed value cannot be used as arguments: an overflowing number, or a string no file can hold."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            return "numbers must be finite (this one overflows)."
        if isinstance(v, str) and not _encodable(v):
            return "a string holds an invalid \\u escape (a lone surrogate)."
        if isinstance(v, dict):
            stack.extend(v.values())
            stack.extend(v.keys())
        elif isinstance(v, list):
            stack.extend(v)
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # "\\ud800" in JSON decodes to a lone surrogate
        return False
    return True


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
    """Bracket depth, counting brackets inside strings too (conservative, so it only over-refuses)."""
    depth = best = 0
    for ch in block:
        depth += ch in "{["
        depth -= ch in "}]"
        best = max(best, depth)
    return best


_WORDS = {"True": "true", "False": "false", "None": "null"}


def _repair(block: str) -> str | None:
    """Rewrite Python-ish JSON into JSON: 'single' quotes, True/False/None, bare keys, trailing commas.

    Works character by character so that text inside strings is never changed.
    """
    out: list[str] = []
    i, n = 0, len(block)
    while i < n:
        ch = block[i]
        if ch in "\"'":
            j, buf = i + 1, []
            while j < n and block[j] != ch:
                if block[j] == "\\" and j + 1 < n:
                    nxt = block[j + 1]
                    buf.append(nxt if nxt == "'" else "\\" + nxt)  # \' is not a JSON escape
                    j += 2
                    continue
                buf.append('\\"' if block[j] == '"' else block[j])
                j += 1
            if j >= n:
                return None
            out.append('"' + "".join(buf).replace("\n", "\\n") + '"')
            i = j + 1
        elif ch.isalpha():
            j = i
            while j < n and (block[j].isalnum() or block[j] == "_"):
                j += 1
            word = block[i:j]
            k = j
            while k < n and block[k] in " \t":
                k += 1
            if k < n and block[k] == ":" and word not in _WORDS:  # a bare key: {city: "Paris"}
                out.append(f'"{word}"')
            else:
                out.append(_WORDS.get(word, word))
            i = j
        elif ch == ",":
            j = i + 1
            while j < n and block[j].isspace():
                j += 1
            if j < n and block[j] in "}]":  # trailing comma
                i = j
                continue
            out.append(ch)
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def format_call(api: str, arguments: dict[str, Any]) -> str:
    """The canonical call text a model is trained to write."""
    return f"Action: {api}\nAction Input: {json.dumps(arguments, ensure_ascii=False)}"
