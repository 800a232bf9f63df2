"""The regex -> GBNF translator: the grammar accepts exactly what the regex accepts, for every regex the project builds.

The grammar is read by llguidance (its GBNF reader, then its matcher fed one byte per token), and every sample is
also checked against Python's `re.fullmatch`, the reference: the two must agree on each sample and on variants of
it (cut short, extended, with a newline added, upper-cased).
"""
from __future__ import annotations

import json
import re

import pytest
from llguidance import LLMatcher, LLTokenizer, TokenizerWrapper
from llguidance.gbnf_to_lark import gbnf_to_lark

from ste.config.explore import ExploreSettings
from ste.core.config import ToolsSection
from ste.core.llm import constraints as C
from ste.core.llm.gbnf import regex_to_gbnf
from ste.core.tools import build_registry
from ste.explore.trial import Explorer
from ste.filter.judge import judge_constraint
from ste.paraphrase.paraphrase import paraphrase_constraint


class _Bytes:
    """A tokenizer whose tokens are the 256 bytes (and an end token): the matcher then checks text byte by byte."""

    eos_token_id, bos_token_id, special_token_ids = 256, None, [256]
    tokens = [bytes([b]) for b in range(256)] + [b"<eos>"]

    def __call__(self, text):
        return list(text.encode() if isinstance(text, str) else text)


TOKENIZER = LLTokenizer(TokenizerWrapper(_Bytes()), slices=[])


def gbnf_accepts(gbnf: str, text: str) -> bool:
    matcher = LLMatcher(TOKENIZER, LLMatcher.grammar_from_lark(gbnf_to_lark(gbnf)), log_level=0)
    assert not matcher.is_error(), matcher.get_error()
    return matcher.consume_tokens(list(text.encode())) and matcher.is_accepting()


def variants(text: str) -> list[str]:
    return [text, text[:-1], text + "x", text + "\n", "\n" + text, text.upper(), text.replace(" ", "", 1)]


def check(regex: str, samples: list[tuple[str, bool]]) -> None:
    """Each sample is matched as labelled by the regex and by its grammar; variants agree between the two."""
    gbnf = regex_to_gbnf(regex)
    for text, expected in samples:
        assert bool(re.fullmatch(regex, text)) == expected, (text, "regex")
        assert gbnf_accepts(gbnf, text) == expected, (text, "gbnf")
    for text, _ in samples:
        for v in variants(text):
            assert gbnf_accepts(gbnf, v) == bool(re.fullmatch(regex, v)), v
    assert {e for _, e in samples} == {True, False}  # each regex is tried both ways


@pytest.fixture(scope="module")
def registry():
    return build_registry(ToolsSection())


@pytest.fixture(scope="module")
def explorer(registry):
    return Explorer(registry, model=None, settings=ExploreSettings(), constrained=True)


def test_choice_regex():
    check(C.choice_regex(["Yes", "No"]), [("Yes", True), ("No", True), ("yes", False), ("YesNo", False), ("", False)])
    check(C.choice_regex(["a.b", "c|d", 'say "hi"', "back\\slash", "x-~&#"]),
          [("a.b", True), ("axb", False), ("c|d", True), ("c", False), ('say "hi"', True), ("back\\slash", True),
           ("x-~&#", True), ("x-~&", False)])


SUN = [('{"city": "Lisbon"}', True), ('{"city":"Osaka","date":"2026-06-21"}', True), ('{ "city" : "a\\"b" }', True),
       ('{"city": "Cairo", "date": "2026-13-01"}', False), ('{"date": "2026-06-21"}', False),
       ('{"city": "Lis\nbon"}', False), ('{"city": "x"} ', False), ('{\n"city": "x"}', False), ('{"city": 3}', False),
       ('{"city": "日本", "date": "202\u0661-01-31"}', True)]  # \d is Unicode in Rust and Python alike


@pytest.mark.parametrize("api,samples", [
    ("get_sun_times", SUN),
    ("convert_currency", [('{"amount": 100, "from_currency": "USD", "to_currency": "EUR"}', True),
                          ('{"amount":-2.5e+3,"from_currency":"JPY","to_currency":"GBP"}', True),
                          ('{"amount": 01, "from_currency": "USD", "to_currency": "EUR"}', False),
                          ('{"amount": 1, "from_currency": "XXX", "to_currency": "EUR"}', False),
                          ('{"amount": 1, "to_currency": "EUR"}', False)]),
    ("format_phone_number", [('{"number": "+44 20 7946 0958", "style": "E164"}', True),
                             ('{"number": "123", "region": "GB"}', True), ('{"number": "12"}', False),
                             ('{"number": "' + "1" * 41 + '"}', False), ('{"number": "123", "region": "GBR"}', False)]),
    ("describe_numbers", [('{"numbers": [1, 2.5, 3]}', True), ('{"numbers": [1,"a",true,null,{"k": [2]}]}', True),
                          ('{"numbers": [1, 2,]}', False), ('{"numbers": 1}', False)]),
])
def test_json_object_regex_of_real_tool_schemas(registry, api, samples):
    check(C.json_object_regex(registry.get(api).parameters), samples)


def test_react_call_regex_with_and_without_a_schema(registry):
    call = 'Thought: I look it up\nAction: get_sun_times\nAction Input: {"city": "Lisbon"}'
    check(C.react_call_regex(["get_sun_times"], {"get_sun_times": registry.get("get_sun_times").parameters}),
          [(call, True), (call.replace("get_sun_times", "get_day_length"), False),
           (call.replace("I look it up", "two\nlines"), False), (call.replace("Lisbon", "Lisbon\\n"), True),
           ("Thought: x\nFinal Answer: y", False)])
    anything = 'Thought: t\nAction: my_tool\nAction Input: {"a": "b", "n": -1.5, "ok": false}'
    check(C.react_call_regex(["my_tool"], {}), [(anything, True), (anything.replace("false", "null"), False),
                                                ('Thought: t\nAction: my_tool\nAction Input: {}', True)])


def test_explorer_act_or_final_and_final(explorer):
    call = 'Thought: go\nAction: get_moon_phase\nAction Input: {"date": "2026-01-15"}'
    final = "Thought: done\nFinal Answer: It is a full moon."
    check(explorer.constraint("act_or_final", "get_moon_phase"),
          [(call, True), (final, True), (call + "\n" + final, False), ("Final Answer: x", False)])
    check(explorer.constraint("final", "get_moon_phase"), [(final, True), (call, False), (final + "\n", False)])
    check(explorer.constraint("reflect", "get_moon_phase"), [("Yes", True), ("Maybe", False)])
    check(explorer.constraint("query", "get_moon_phase"), [("What is the moon like?", True), ("a\nb", False)])


def test_question_and_paraphrase_regexes():
    check(C.question_regex(["CDG", "2"]),
          [("What is CDG 2?", True), ("How far is 2 from CDG.", True), ("What is CDG?", False),
           ("Is CDG 2?", False), ("What, CDG 2?", False), ("What is CDG 2??", False)])
    check(paraphrase_constraint(2, ["CDG"]),
          [("1. What about CDG?\n2. Which is CDG!", True), ("1. What about CDG?", False),
           ("1. What about CDG?\n2. Which is LHR!", False), ("1. What about CDG?\n3. Which is CDG!", False)])


def test_judge_regex():
    reply = "1. Yes - it answers\n2. No - made up\n3. Yes - fine"
    check(judge_constraint(), [(reply, True), (reply.replace("No", "Maybe"), False), (reply + "\n", False),
                               ("1. Yes - a\n2. No - b", False)])


def test_grammar_is_compact_and_shares_repeated_groups(registry):
    regex = C.json_object_regex(registry.get("describe_numbers").parameters)
    gbnf = regex_to_gbnf(regex)
    string_rule = [line for line in gbnf.splitlines() if "bfnrt" in line]
    assert len(string_rule) == 1 and len(gbnf) < len(regex)  # the JSON string pattern is written once


@pytest.mark.parametrize("regex,samples", [
    (r"a.c", [("abc", True), ("a\nc", False), ("a日c", True)]),
    (r"[^\n]{2,3}x?", [("ab", True), ("abcx", True), ("a", False), ("abcd\n", False)]),
    (r"(ab)*c+", [("ababcc", True), ("c", True), ("abac", False)]),
    (r"^(?:x|y|)z$", [("xz", True), ("z", True), ("xyz", False)]),
    (r"a(|)b", [("ab", True), ("a", False)]),
    (r"[\s\-\]]+", [(" -]\t", True), ("a", False)]),
    (r'"(\\.|[^"\\])*"', [('"a\\"b"', True), ('"a"b"', False)]),
])
def test_translator_features(regex, samples):
    check(regex, samples)


def test_rust_only_syntax_is_read_as_rust_means_it():
    assert regex_to_gbnf(r"\x{263A}\d+\z") == regex_to_gbnf("\u263a\\d+")
    assert regex_to_gbnf(r"(?<n>a)") == regex_to_gbnf("(a)") == 'root ::= "a"'
    assert regex_to_gbnf(r"\\x{2}") == 'root ::= "\\\\" "x"{2}'  # an escaped backslash, then x twice


def test_repeats_stay_within_what_llama_cpp_takes():
    assert regex_to_gbnf("a{0,5000}") == 'root ::= "a"*'  # llama.cpp refuses repeats of 2000 elements or more
    assert regex_to_gbnf("(abcdefghij){0,300}") == 'root ::= r1{0,300}\nr1 ::= ("abcdefghij")'
    assert regex_to_gbnf("[a-c]{2,5}") == 'root ::= [a-c]{2,5}'


@pytest.mark.parametrize("regex", [r"\p{L}+", r"a(?=b)", r"(a)\1", r"(?i)yes", r"a^b", r"(a"])
def test_what_gbnf_cannot_express_is_a_clear_error(regex):
    with pytest.raises(ValueError, match="constraint regex"):
        regex_to_gbnf(regex)


def test_literals_are_escaped_as_llama_cpp_reads_them():
    gbnf = regex_to_gbnf(C.escape('a"b\\c\n-[]^') + r"[\]\-^\"\\\t]")
    assert gbnf == 'root ::= "a\\"b\\\\c\\n\\x2d\\x5b\\x5d\\x5e" [\\t\\x22\\x2d\\x5c-\\x5e]'
    assert json.loads(json.dumps(gbnf)) == gbnf
