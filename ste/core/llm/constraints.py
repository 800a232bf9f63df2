"""Regexes for structured decoding, and their compiled token-level form (outlines_core).

`Decoding.constraint` is a regex the whole reply must match; the local backend compiles it once per
tokenizer with outlines_core (cached) and masks the logits each step. Build regexes with the helpers here:

    choice_regex(["Yes", "No"])                  -> "(Yes|No)"                      compiles in ~3 ms
    json_object_regex(schema)                    -> one JSON object, no newlines     ~20 ms
    react_call_regex(names, schemas_by_name)     -> Thought/Action/Action Input     ~0.2 s for 2 tools
    line_with_literals(["CDG", "2"])             -> one line holding both, any order
    question_regex(["CDG"])                      -> "What ... CDG ...?" (a request that states the values)

Fast and slow forms (measured on SmolLM2's 49k-token vocabulary, 2 CPU cores):
- Unbounded repeats are cheap: `Thought: [^\\n]+` adds ~0.2 s. Bound the length with `max_tokens`.
- Bounded repeats of broad classes explode the automaton: `[^\\n]{1,20}` 0.8 s, `[ -~]{1,50}` 49 s,
  `[^\\n]{1,60}` 258 s, `[^\\n]{1,150}` fails after minutes. Never use `{m,n}` on free text.
- JSON whitespace is `[ ]?` (never newlines): the object ends at its closing brace, and the row stops there.
- Masks are cached per automaton state, so a constrained token costs about the same as a free one
  (measured -5%..+7%, within noise). A reply cut by `max_tokens` does not match: give react calls >= 120
  tokens, since the free-text Thought can ramble.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict

_REGEX_META = set("\\.+*?()|[]{}^$#&-~")


def escape(text: str) -> str:
    """Escape `text` as a literal for outlines_core's (Rust) regex syntax."""
    return "".join("\\" + c if c in _REGEX_META else c for c in text).replace("\n", "\\n")


def choice_regex(options: list[str]) -> str:
    """A reply that is exactly one of `options`, e.g. `(Yes|No)`."""
    if not options:
        raise ValueError("choice_regex needs at least one option")
    return "(" + "|".join(escape(o) for o in options) + ")"


def json_object_regex(schema: dict) -> str:
    """One JSON object valid for `schema` (a JSON Schema), on one line, ending at its closing brace."""
    from outlines_core.json_schema import build_regex_from_schema

    return build_regex_from_schema(json.dumps(schema), whitespace_pattern=r"[ ]?")


def line_with_literals(literals: list[str], *, opener: str = "", free: str = r"[^\n]*", end: str = "",
                       max_orders: int = 6) -> str:
    """One line of text that contains every literal (e.g. the argument values a question must state).

    `opener` is a regex the line starts with, `free` what may stand between the literals, `end` what closes
    the line. Up to `max_orders` orders of the literals are allowed (all orders for three or fewer); with
    no literals the line is `opener` + `free` + `end` (never empty).
    """
    import itertools

    literals = [lit for lit in dict.fromkeys(literals) if lit and "\n" not in lit]
    if not literals:
        return opener + (free if opener or end else r"[^\n]+") + end
    orders = itertools.islice(itertools.permutations(literals), max_orders)
    bodies = [free + free.join(escape(lit) for lit in order) + free for order in orders]
    return opener + "(" + "|".join(bodies) + ")" + end


# Only openers that start a question outright: with "Is" the 135M model wrote "Is not the answer you ...".
QUESTION_OPENERS = ("What", "How", "Which", "Where", "When", "Who", "Can", "Could")


def question_regex(literals: list[str]) -> str:
    """One user question that states every literal: it opens like a question and ends at its first `?`, `.` or `!`.

    No commas or colons between the literals and a fixed end are what keep a small model from rambling:
    once it writes `?` the reply is complete.
    """
    opener = "(" + "|".join(QUESTION_OPENERS) + ") "
    return line_with_literals(literals, opener=opener, free=r"[^\n?.!,;:]*", end=r"[?.!]")


def react_call_regex(api_names: list[str], schemas_by_name: dict[str, dict]) -> str:
    """`Thought: …\\nAction: <name>\\nAction Input: {json}` with each API's arguments bound to its own schema.

    An API without a schema in `schemas_by_name` gets any JSON object with string/number/bool values.
    """
    if not api_names:
        raise ValueError("react_call_regex needs at least one API name")
    any_object = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
    calls = [
        escape(name) + r"\nAction Input: " + json_object_regex(schemas_by_name.get(name, any_object))
        for name in api_names
    ]
    return r"Thought: [^\n]+\nAction: (" + "|".join(calls) + ")"


class CompiledRegex:
    """A regex compiled over one tokenizer's vocabulary: allowed-token masks per automaton state."""

    def __init__(self, regex: str, vocabulary, eos_token_id: int, vocab_size: int):
        import outlines_core

        self.index = outlines_core.Index(regex, vocabulary)
        self.eos = eos_token_id
        self.vocab_size = vocab_size
        self._masks: dict[int, object] = {}
        self._lock = threading.Lock()

    def initial_state(self) -> int:
        return self.index.get_initial_state()

    def next_state(self, state: int, token: int) -> int | None:
        """The state after `token`; None when the token is not allowed (or ends the reply)."""
        if token == self.eos:
            return None
        return self.index.get_next_state(state, token)

    def mask(self, state: int):
        """A bool array over the vocabulary: True where a token may come next (cached per state)."""
        import numpy as np

        with self._lock:
            if state not in self._masks:
                m = np.zeros(self.vocab_size, dtype=bool)
                allowed = [t for t in self.index.get_allowed_tokens(state) if t < self.vocab_size]
                m[allowed] = True
                self._masks[state] = m
            return self._masks[state]

    def is_done(self, state: int) -> bool:
        """True when the regex is complete and only end-of-reply may follow (e.g. after a closing brace)."""
        return self.index.is_final_state(state) and self.index.get_allowed_tokens(state) == [self.eos]


class RegexCompiler:
    """Compiles constraint regexes over one tokenizer's vocabulary (thread-safe), keeping the `keep` most recently
    used: a compiled question regex holds ~60 MB, and each call-first trial has its own (its call's values)."""

    def __init__(self, tokenizer, vocab_size: int, keep: int = 16):
        self.eos = tokenizer.eos_token_id
        self.vocab_size = vocab_size
        self.keep = keep
        self._vocabulary = outlines_vocabulary(tokenizer)
        self._compiled: OrderedDict[str, CompiledRegex] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, regex: str) -> CompiledRegex:
        """The compiled `regex`; raises ValueError when it cannot be compiled."""
        with self._lock:
            if regex in self._compiled:
                self._compiled.move_to_end(regex)
                return self._compiled[regex]
            try:
                compiled = CompiledRegex(regex, self._vocabulary, self.eos, self.vocab_size)
            except (ValueError, RuntimeError) as e:  # outlines_core's regex and DFA errors
                raise ValueError(f"constraint regex cannot be compiled ({e}): {regex[:200]!r}") from e
            self._compiled[regex] = compiled
            while len(self._compiled) > self.keep:  # a row still decoding keeps its own reference
                self._compiled.popitem(last=False)
            return compiled


def outlines_vocabulary(tokenizer):
    """outlines_core's Vocabulary for a Hugging Face tokenizer.

    Tokens that decode to a partial UTF-8 character ("\\ufffd") are left out, so the decoded reply
    always matches the regex (non-ASCII text can still use whole-character tokens).
    """
    import outlines_core

    by_text: dict[str, list[int]] = {}
    special = set(tokenizer.all_special_ids)
    for token, token_id in tokenizer.get_vocab().items():
        if token_id in special:
            continue
        text = tokenizer.convert_tokens_to_string([token])
        if text and "\ufffd" not in text:
            by_text.setdefault(text, []).append(token_id)
    return outlines_core.Vocabulary(tokenizer.eos_token_id, by_text)
