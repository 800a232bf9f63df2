"""Regexes for structured decoding, and the token masks that enforce them (llguidance).

`Decoding.constraint` is a regex the whole reply must match; the local backend turns it into an llguidance
grammar over its tokenizer and masks the logits each step. Build regexes with the helpers here:

    choice_regex(["Yes", "No"])                  -> "(Yes|No)"
    json_object_regex(schema)                    -> one JSON object, no newlines (outlines_core writes it)
    react_call_regex(names, schemas_by_name)     -> Thought/Action/Action Input
    line_with_literals(["CDG", "2"])             -> one line holding both, any order
    question_regex(["CDG"])                      -> "What ... CDG ...?" (a request that states the values)

llguidance computes each step's mask from the regex as it goes (~0.1-1 ms per token on SmolLM2's 49k-token
vocabulary, 2 CPU cores) and builds nothing up front, so any regex is ready in milliseconds. (outlines_core,
used before, built every state's token set first: a question holding 3 values in any order took 15-110 s.)
- Bounded repeats cost nothing up front (`[^\\n]{0,32}`), so free text can be bounded in characters too.
- JSON whitespace is `[ ]?` (never newlines): the object ends at its closing brace, and the row stops there.
- A reply cut by `max_tokens` does not match: give react calls >= 120 tokens, since the free-text Thought can
  ramble.
"""
from __future__ import annotations

import json
import threading

_REGEX_META = set("\\.+*?()|[]{}^$#&-~")


def escape(text: str) -> str:
    """Escape `text` as a literal for the (Rust) regex syntax of llguidance and outlines_core."""
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


FREE = r"[^\n?.!,;:]"  # one character of a question's free text: no newline, no end, no comma or colon
EDGE = r"[^\n?.!,;:\w]"  # one that cannot be part of a word


def line_with_literals(literals: list[str], *, opener: str = "", end: str = "", gap: int = 32,
                       max_orders: int = 6) -> str:
    """One line that states every literal (e.g. the argument values a question must state), in any order.

    `opener` is a regex the line starts with (ending in a space), `end` what closes it. At most `gap` characters
    of free text (no newline, none of `?.!,;:`) stand before, between and after the literals, so the line gets to
    its values soon instead of rambling past the token budget. Each literal stands as a word of its own (a word
    may take a plural ending: "liter" in "liters"), the way `ste.exploit.text.value_in_text` reads values back.
    Up to `max_orders` orders of the literals are allowed (all orders for three or fewer); with no literals the
    line is `opener` + free text + `end` (never empty).
    """
    import itertools

    free = f"{FREE}{{0,{gap}}}"
    literals = [lit for lit in dict.fromkeys(literals) if lit and "\n" not in lit]
    if not literals:
        return opener + free + end if opener or end else r"[^\n]+"
    lead, between, tail = f"(?:{free}{EDGE})?", f"{EDGE}(?:{free}{EDGE})?", f"(?:{EDGE}{free})?"
    orders = itertools.islice(itertools.permutations(literals), max_orders)
    bodies = [lead + between.join(_as_word(lit) for lit in order) + tail for order in orders]
    return opener + "(" + "|".join(bodies) + ")" + end


def _as_word(literal: str) -> str:
    """A literal as a word in text: a number exactly, a word also with a plural ending."""
    try:
        float(literal)
        return escape(literal)
    except ValueError:
        return escape(literal) + "(?:e?s)?"


# Only openers that start a question outright: with "Is" the 135M model wrote "Is not the answer you ...".
QUESTION_OPENERS = ("What", "How", "Which", "Where", "When", "Who", "Can", "Could")


def question_regex(literals: list[str]) -> str:
    """One user question that states every literal: it opens like a question and ends at its first `?`, `.` or `!`.

    No commas or colons, bounded free text and a fixed end are what keep a small model from rambling: once it
    writes `?` the reply is complete.
    """
    opener = "(" + "|".join(QUESTION_OPENERS) + ") "
    return line_with_literals(literals, opener=opener, end=r"[?.!]")


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
    """A constraint regex checked against one tokenizer (llguidance); `start()` gives each reply its own matcher."""

    def __init__(self, grammar: str, tokenizer, vocab_size: int):
        self.grammar, self.tokenizer, self.vocab_size = grammar, tokenizer, vocab_size

    def start(self) -> "Matcher":
        return Matcher(self)


class Matcher:
    """Where one reply stands in its constraint: which tokens may come next, and whether it is complete.

    llguidance computes each step's mask lazily from the regex (well under a millisecond here), so a regex with
    many states costs no more than a small one: no token-level automaton is built up front.
    """

    def __init__(self, compiled: CompiledRegex):
        import llguidance
        import llguidance.numpy

        self._matcher = llguidance.LLMatcher(compiled.tokenizer, compiled.grammar, log_level=1)
        self._bits = llguidance.numpy.allocate_token_bitmask(1, compiled.vocab_size)
        self._fill = llguidance.numpy.fill_next_token_bitmask
        self.vocab_size = compiled.vocab_size

    def allowed(self):
        """A bool array over the vocabulary: True where a token may come next."""
        import numpy as np

        self._fill(self._matcher, self._bits, 0)
        return np.unpackbits(self._bits[0].view(np.uint8), bitorder="little")[:self.vocab_size].astype(bool)

    def advance(self, token: int) -> bool:
        """Take `token`; False when it ends the reply or is not allowed."""
        return bool(self._matcher.consume_token(token)) and not self._matcher.is_stopped()


class RegexCompiler:
    """Turns constraint regexes into llguidance grammars over one tokenizer's vocabulary (thread-safe, cached)."""

    def __init__(self, tokenizer, vocab_size: int, eos_token_ids: frozenset[int] | set[int]):
        import llguidance.hf

        self.vocab_size = vocab_size
        self._tokenizer = llguidance.hf.from_tokenizer(tokenizer, n_vocab=vocab_size,
                                                       eos_token=sorted(eos_token_ids))
        self._compiled: dict[str, CompiledRegex] = {}
        self._lock = threading.Lock()

    def __call__(self, regex: str) -> CompiledRegex:
        """The compiled `regex`; raises ValueError when it cannot be compiled."""
        import llguidance

        with self._lock:
            if regex not in self._compiled:
                grammar = llguidance.LLMatcher.grammar_from_regex(regex)
                error = llguidance.LLMatcher.validate_grammar(grammar, self._tokenizer)
                if error:
                    raise ValueError(f"constraint regex cannot be compiled ({error}): {regex[:200]!r}")
                self._compiled[regex] = CompiledRegex(grammar, self._tokenizer, self.vocab_size)
            return self._compiled[regex]
