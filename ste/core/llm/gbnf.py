"""A regular expression as a GBNF grammar, for llama.cpp's server (its `grammar` request field).

    regex_to_gbnf(r"(Yes|No)")   ->   'root ::= ("Yes" | "No")'

The regex is parsed with Python's own parser (`re._parser`), so the grammar accepts exactly the strings that
`re.fullmatch(regex, s)` accepts: literals, classes (negated ones too, `\\d \\w \\s` and `.` as Python reads them),
alternation, groups and the repeats `? * + {m} {m,} {m,n}` (lazy ones alike: for a whole-reply match, lazy and greedy
accept the same strings). Groups and classes longer than a few dozen characters become named rules, so a JSON
regex that repeats its string pattern a hundred times names it once.

The project's constraint regexes come from `ste.core.llm.constraints`, where outlines_core writes the JSON parts in
Rust's regex syntax. Where Rust and Python differ:
- `\\x{HHHH}` (Rust only) is read as the code point U+HHHH; `\\z` (Rust's end of text) as Python's `\\Z`;
  `(?<name>...)` as `(?P<name>...)`.
- `\\p{...}` / `\\P{...}` (Unicode properties, Rust only) raise ValueError: Python has no equivalent.
- `\\d \\w \\s` are Unicode-aware in both, and translated as Python defines them. For `\\d` the two agree (the
  decimal digits, category Nd); for `\\w` they differ on a few rare code points (Rust adds combining marks, Python
  adds numeric symbols such as "²"); the project's regexes use `\\w` nowhere.
- Rust reads `&&`, `--` and `~~` inside a class as set operations; `constraints.escape` escapes `&`, `-` and `~`,
  so no regex of ours holds them unescaped.
Anything GBNF cannot express (backreferences, lookarounds, inline flags, anchors inside the pattern) raises ValueError.
One approximation, for llama.cpp's sake: a repeat bounded at 2000 or more (`{0,9999}` from a schema's maxItems) loses
its upper bound, which no reply within `max_tokens` reaches anyway.

GBNF escapes are written as llama.cpp's grammar parser reads them (src/llama-grammar.cpp `parse_char`: `\\x` two,
`\\u` four, `\\U` eight hex digits, `\\t \\r \\n \\\\ \\" \\[ \\]`; grammars/README.md for the syntax).
"""
from __future__ import annotations

import functools
import re
from re import _constants as C
from re import _parser as P

MAX_CODE_POINT = 0x10FFFF
RULE_MIN_CHARS = 40  # a group or class at least this long becomes a named rule, written once however often it is used
# llama.cpp refuses a grammar where (grammar elements repeated) x (a repeat's upper bound) reaches this
# (MAX_REPETITION_THRESHOLD in src/llama-grammar.cpp, handle_repetitions): such items become one rule, and
# bounds this large (e.g. maxItems 10000) are dropped.
LLAMA_CPP_MAX_REPETITIONS = 2000
# Written as themselves; everything else is escaped. `&` and `~` too: llguidance, which the tests read the grammar
# with, turns GBNF classes into Rust regex classes, where `&&` and `~~` are operators.
_PLAIN = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !#$%'()*+,./:;<=>?@_`{|}")
_NAMED_ESCAPES = {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}
_REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT)
_RUST_ONLY = re.compile(r"\\x\{([0-9A-Fa-f]{1,6})\}|\\[pP]|\\z|\(\?<(?=[A-Za-z_])|\\.", re.S)


@functools.lru_cache(maxsize=256)
def regex_to_gbnf(regex: str) -> str:
    """A GBNF grammar whose `root` rule accepts exactly the strings that match all of `regex`.

    Args:
        regex: a constraint regex (Python syntax, or the Rust syntax outlines_core writes; see the module docstring).

    Returns:
        The grammar text: `root ::= ...` and the named rules it uses.

    Raises:
        ValueError: the regex does not parse, or holds a construct GBNF cannot express.
    """
    try:
        parsed = P.parse(_from_rust(regex))
    except re.error as e:
        raise ValueError(f"constraint regex does not parse ({e}): {regex[:200]!r}") from None
    flags = parsed.state.flags
    if flags & (re.IGNORECASE | re.MULTILINE | re.VERBOSE | re.LOCALE):
        raise ValueError(f"constraint regex: inline flags other than (?s) and (?a) are not supported: {regex[:200]!r}")
    grammar = _Grammar(dotall=bool(flags & re.DOTALL), ascii=bool(flags & re.ASCII))
    root, _ = grammar.sequence(list(parsed), top=True)
    return "\n".join([f"root ::= {root}", *(f"{name} ::= {body}" for body, name in grammar.rules.items())])


def _from_rust(regex: str) -> str:
    """`regex` with the Rust-only forms outlines_core may write turned into Python's (see the module docstring)."""
    def fix(m: re.Match) -> str:
        token = m.group(0)
        if m.group(1):
            return f"\\U{int(m.group(1), 16):08x}"
        if token in ("\\p", "\\P"):
            raise ValueError(f"constraint regex: Unicode property classes ({token}{{...}}) are not supported")
        if token == "\\z":
            return "\\Z"
        if token == "(?<":
            return "(?P<"
        return token  # any other escape stays as it is (and hides what follows it, e.g. the x of "\\x{")

    return _RUST_ONLY.sub(fix, regex)


class _Grammar:
    """Turns parsed regex items into GBNF expressions; long groups and classes become named rules."""

    def __init__(self, dotall: bool, ascii: bool):
        self.dotall, self.ascii = dotall, ascii
        self.rules: dict[str, str] = {}  # body -> rule name; insertion order is the output order

    def named(self, body: str) -> str:
        if len(body) < RULE_MIN_CHARS:
            return body
        return self.rules.setdefault(body, f"r{len(self.rules) + 1}")

    def sequence(self, items: list, top: bool = False) -> tuple[str, bool]:
        """An expression for items in a row, and whether it is one atom (a repeat may follow it unbracketed)."""
        parts: list[tuple[str, bool]] = []
        literal: list[int] = []
        for i, (op, av) in enumerate(items):
            if op is C.LITERAL:
                literal.append(av)
                continue
            if literal:
                parts.append((_literal(literal), len(literal) == 1))
                literal = []
            if op is C.AT:
                edge = (i == 0 and av in (C.AT_BEGINNING, C.AT_BEGINNING_STRING)) or (
                    i == len(items) - 1 and av in (C.AT_END, C.AT_END_STRING))
                if top and edge:
                    continue  # the whole reply must match anyway
                raise ValueError(f"constraint regex: anchor {av} inside the pattern is not supported")
            parts.append(self.item(op, av))
        if literal:
            parts.append((_literal(literal), len(literal) == 1))
        if not parts:
            return '""', False
        return parts[0] if len(parts) == 1 else (" ".join(text for text, _ in parts), False)

    def item(self, op, av) -> tuple[str, bool]:
        """A GBNF expression for a parsed item other than a literal or an anchor, and whether it is one atom."""
        if op is C.IN:
            return self.named(_class(self.ranges(av))), True
        if op is C.NOT_LITERAL:
            return _class(_complement([(av, av)])), True
        if op is C.ANY:
            return _class([(0, MAX_CODE_POINT)] if self.dotall else _complement([(0x0A, 0x0A)])), True
        if op is C.BRANCH:
            alternatives = [self.sequence(list(alt))[0] for alt in av[1]]
            filled = [a for a in alternatives if a != '""']
            if not filled:
                return '""', False
            group = self.named("(" + " | ".join(filled) + ")")
            return (group, True) if len(filled) == len(alternatives) else (group + "?", False)
        if op is C.SUBPATTERN:
            _, add_flags, del_flags, sub = av
            if add_flags or del_flags:
                raise ValueError("constraint regex: inline flag groups (?flags:...) are not supported")
            return self.sequence(list(sub))
        if op in _REPEATS:
            low, high, sub = av
            text, atomic = self.sequence(list(sub))
            if (low, high) == (1, 1):
                return text, atomic
            text = text if atomic else self.named(f"({text})")
            if high != C.MAXREPEAT and high >= LLAMA_CPP_MAX_REPETITIONS:
                high = C.MAXREPEAT  # a bound no reply reaches within max_tokens, and more than llama.cpp takes
            elif high != C.MAXREPEAT and len(text) * high >= LLAMA_CPP_MAX_REPETITIONS:
                if text not in self.rules.values():  # as one rule it is one element, however long
                    text = self.rules.setdefault(text, f"r{len(self.rules) + 1}")
            if low >= LLAMA_CPP_MAX_REPETITIONS:
                raise ValueError(f"constraint regex: a repeat of at least {low} is more than llama.cpp takes")
            return text + _repeat(low, high), False
        raise ValueError(f"constraint regex: {op} is not supported in GBNF (lookarounds, backreferences, "
                         "possessive or atomic groups)")

    def ranges(self, items) -> list[tuple[int, int]]:
        """The code point ranges a parsed class `[...]` (or `\\d`, `\\w`, `\\s` alone) stands for."""
        ranges: list[tuple[int, int]] = []
        negate = False
        for op, av in items:
            if op is C.NEGATE:
                negate = True
            elif op is C.LITERAL:
                ranges.append((av, av))
            elif op is C.RANGE:
                ranges.append(av)
            elif op is C.CATEGORY:
                ranges.extend(_category(av, self.ascii))
            else:
                raise ValueError(f"constraint regex: {op} inside a character class is not supported")
        return _complement(ranges) if negate else _merge(ranges)


def _repeat(low: int, high: int) -> str:
    if (low, high) == (0, C.MAXREPEAT):
        return "*"
    if (low, high) == (1, C.MAXREPEAT):
        return "+"
    if (low, high) == (0, 1):
        return "?"
    if high == C.MAXREPEAT:
        return f"{{{low},}}"
    return f"{{{low}}}" if low == high else f"{{{low},{high}}}"


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _complement(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out, start = [], 0
    for lo, hi in _merge(ranges):
        if lo > start:
            out.append((start, lo - 1))
        start = hi + 1
    if start <= MAX_CODE_POINT:
        out.append((start, MAX_CODE_POINT))
    return out


@functools.cache
def _category(category, ascii: bool) -> tuple[tuple[int, int], ...]:
    """The code point ranges of `\\d \\D \\w \\W \\s \\S`, as Python's regex engine defines them."""
    name = str(category)
    letter = {"DIGIT": "d", "WORD": "w", "SPACE": "s"}.get(name.removeprefix("CATEGORY_").removeprefix("NOT_"))
    if letter is None:
        raise ValueError(f"constraint regex: character category {name} is not supported")
    pattern = re.compile(f"\\{letter}+", re.ASCII if ascii else 0)
    runs = [(m.start(), m.end() - 1) for m in pattern.finditer(_all_code_points())]
    return tuple(_complement(runs) if "NOT_" in name else runs)


def _all_code_points() -> str:
    return "".join(map(chr, range(MAX_CODE_POINT + 1)))  # 4 MB, so not kept: each category is computed once


def _class(ranges: list[tuple[int, int]]) -> str:
    """A GBNF character class for `ranges`, written as `[...]` or `[^...]`, whichever is shorter."""
    if not ranges:
        raise ValueError("constraint regex: a character class that matches nothing")
    complement = _complement(ranges)
    if not complement:
        return "[\\x00-\\U0010ffff]"
    inside = "".join(_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges)
    outside = "".join(_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in complement)
    return f"[{inside}]" if len(inside) <= len(outside) + 1 else f"[^{outside}]"


def _literal(code_points: list[int]) -> str:
    return '"' + "".join('\\"' if c == 0x22 else "\\\\" if c == 0x5C else _char(c) for c in code_points) + '"'


def _char(c: int) -> str:
    """One code point as GBNF writes it: plain ASCII as is, other ASCII and Latin-1 escaped (`-`, `^`, `]`, `"` and
    `\\` included, so nothing in a class reads as a range or an end), the rest as the character itself.

    Characters past U+00FF go in as UTF-8, which llama.cpp reads like any other character: a `\\u` escape would do
    as well there, but llguidance's GBNF reader (used by the tests) drops their leading zeros. Lone surrogates
    cannot be UTF-8, so they stay escaped.
    """
    ch = chr(c)
    if ch in _PLAIN:
        return ch
    if c in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[c]
    if c < 0x100:
        return f"\\x{c:02x}"
    return f"\\u{c:04x}" if 0xD800 <= c <= 0xDFFF else ch
