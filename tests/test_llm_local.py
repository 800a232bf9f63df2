"""The local backend: replies independent of concurrency and kept states, stops, seeds, usage and structured decoding
(tiny model); the real model (slow)."""
from __future__ import annotations

import asyncio
import json
import re

import jsonschema
import pytest

from ste.core.errors import ConfigError
from ste.core.llm.base import Decoding
from ste.core.llm.constraints import (QUESTION_OPENERS, choice_regex, json_object_regex, line_with_literals, question_regex,
                                 react_call_regex)
from ste.core.llm.local import LocalChatModel
from tests.helpers import varied_tiny_model

PROMPTS = [
    [{"role": "user", "content": "Hi"}],
    [{"role": "user", "content": "What are the public holidays in France in 2025?"}],
    [{"role": "system", "content": "You answer briefly."}, {"role": "user", "content": "Convert 3 miles to km."}],
]
HOLIDAYS = {"type": "object", "properties": {"country": {"type": "string"}, "year": {"type": "integer"}},
            "required": ["country", "year"]}


@pytest.fixture(scope="module")
def varied_dir(tiny_model_dir, tmp_path_factory):
    """The shared tiny model with larger random weights: its greedy replies then vary with the prompt."""
    return varied_tiny_model(tiny_model_dir, tmp_path_factory.mktemp("tiny-varied"))


@pytest.fixture(scope="module")
def tiny(varied_dir):
    return LocalChatModel(varied_dir, workers=2)


@pytest.fixture(scope="module")
def tiny_alone(varied_dir):
    """The same model, one request at a time, keeping no states: every prompt computed from scratch."""
    return LocalChatModel(varied_dir, workers=1, kv_cache_tokens=0)


def test_concurrent_requests_equal_one_by_one(tiny, tiny_alone):
    """Replies do not depend on what else is decoded at the same time, greedy or sampled."""
    for d in (Decoding(max_tokens=12), Decoding(max_tokens=12, temperature=1.0, seed=7)):
        alone = [tiny_alone.chat(m, d).text for m in PROMPTS * 4]
        together = [c.text for c in tiny.chat_many(PROMPTS * 4, d)]
        assert together == alone
        assert len(set(alone)) == 3 and all(len(t) > 12 for t in alone)  # real, distinct replies


def test_kept_conversations_change_nothing_but_the_work(tiny, tiny_alone):
    """A conversation's next turn reuses its kept states, and computes the very replies a fresh prompt gives."""
    d = Decoding(max_tokens=10, temperature=1.0, seed=3)
    conversation = [PROMPTS[2][0], {"role": "user", "content": "Convert 3 miles to km."}]
    before_reused, before_computed, sent = tiny.kv.reused, tiny.kv.computed, 0
    for turn in range(3):
        reply, fresh = tiny.chat(conversation, d), tiny_alone.chat(conversation, d)
        assert reply.text == fresh.text and reply.prompt_tokens == fresh.prompt_tokens
        sent += reply.prompt_tokens
        conversation += [{"role": "assistant", "content": reply.text},
                         {"role": "user", "content": f"Observation: {turn} km"}]
    assert tiny.kv.reused - before_reused > 0
    other_step = conversation[:2] + [{"role": "user", "content": "Was it solved? Yes or No."}]  # same context,
    assert tiny.chat(other_step, d).text == tiny_alone.chat(other_step, d).text  # another last step: rewound
    assert tiny.kv.computed - before_computed < 0.8 * sent  # each turn computed its new messages, not the rest
    assert tiny_alone.kv.reused == 0 and len(tiny_alone.kv) == 0


def test_rows_with_different_decodings_run_together(tiny):
    async def both():
        return await asyncio.gather(tiny.achat(PROMPTS[0], Decoding(max_tokens=2)),
                                    tiny.achat(PROMPTS[1], Decoding(max_tokens=9)))

    short, long = asyncio.run(both())
    assert (short.completion_tokens, long.completion_tokens) == (2, 9)
    assert long.text == tiny.chat(PROMPTS[1], Decoding(max_tokens=9)).text


def test_kv_store_takes_the_longest_prefix_at_a_chunk_start_and_evicts_the_oldest():
    from ste.core.llm.kv_store import KVStore

    store = KVStore(max_tokens=10)
    store.put([1, 2], "a")
    store.put([1, 2, 3, 4], "b")
    assert store.take([1, 2, 3, 4, 5], [0, 2, 4]) == ("b", 4)
    assert store.take([1, 2, 3, 4, 5], [0, 2, 4]) == ("a", 2)  # b is out of the store until put back
    assert store.take([1, 2, 3, 4, 5], [0, 2, 4]) == (None, 0)
    store.put([1, 2, 3, 4], "b")
    assert store.take([1, 2, 3, 9], [0, 2]) == ("b", 2)  # they part inside a chunk: back to the chunk's start
    store.put([1, 2, 3, 4, 5, 6], "c")
    store.put([7, 8, 9, 10, 11], "d")  # 11 tokens > 10: the oldest goes
    assert len(store) == 1 and store.tokens == 5
    store.put(list(range(11)), "too long")
    assert len(store) == 1


def test_stop_string_cuts_the_reply(tiny):
    free = tiny.chat(PROMPTS[1], Decoding(max_tokens=12)).text
    stop = free.strip()[len(free.strip()) // 2:][:2]
    cut = tiny.chat(PROMPTS[1], Decoding(max_tokens=12, stop=(stop,)))
    assert stop not in cut.text and free.startswith(cut.text) and len(cut.text) < len(free)
    assert cut.completion_tokens < 12  # the row stopped generating at the stop string


def test_seeded_sampling_is_reproducible(tiny):
    def sample(seed):
        return tiny.chat(PROMPTS[1], Decoding(max_tokens=10, temperature=1.0, seed=seed)).text

    assert sample(1) == sample(1)
    assert len({sample(s) for s in (1, 2, 3)}) > 1


def test_usage_is_counted(tiny_model_dir):
    model = LocalChatModel(tiny_model_dir)
    c = model.chat(PROMPTS[0], Decoding(max_tokens=5))
    prompt = model.tokenizer.apply_chat_template(PROMPTS[0], add_generation_prompt=True, tokenize=False)
    assert c.prompt_tokens == len(model.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert 1 <= c.completion_tokens <= 5
    model.chat(PROMPTS[1], Decoding(max_tokens=5))
    assert model.usage.calls == 2 and model.usage.completion_tokens >= c.completion_tokens + 1


def test_choice_constraint_is_always_matched(tiny):
    d = Decoding(max_tokens=10, temperature=1.0, constraint=choice_regex(["Yes", "No"]))
    replies = [tiny.chat(PROMPTS[i % 3], Decoding(**{**d.__dict__, "seed": i})) for i in range(6)]
    assert all(r.text in ("Yes", "No") for r in replies)
    assert all(r.completion_tokens <= 3 for r in replies)  # "Y"+"e"+"s" at most: it stops right after


def test_json_constraint_is_always_matched(tiny):
    # finite fields only: a random model never closes a free string within any budget
    schema = {"type": "object", "properties": {"country": {"enum": ["FR", "DE"]}, "public": {"type": "boolean"}},
              "required": ["country", "public"]}
    d = Decoding(max_tokens=40, temperature=1.0, constraint=json_object_regex(schema))
    for reply in tiny.chat_many(PROMPTS * 2, d):
        jsonschema.validate(json.loads(reply.text), schema)  # ended at the closing brace, nothing after it
        assert reply.completion_tokens < 40


def test_bad_regex_fails_only_its_own_call(tiny):
    async def both():
        return await asyncio.gather(tiny.achat(PROMPTS[0], Decoding(max_tokens=3, constraint="(Yes")),
                                    tiny.achat(PROMPTS[1], Decoding(max_tokens=3)), return_exceptions=True)

    bad, good = asyncio.run(both())
    assert isinstance(bad, ValueError) and "(Yes" in str(bad)
    assert good.completion_tokens == 3


def test_react_regex_shape():
    rx = react_call_regex(["get_holidays", "convert.units"], {"get_holidays": HOLIDAYS})
    ok = 'Thought: I need the list\nAction: get_holidays\nAction Input: {"country": "FR", "year": 2025}'
    assert re.fullmatch(rx, ok)
    assert not re.fullmatch(rx, ok.replace('"year": 2025', '"year": "2025"'))  # schema types bind
    assert re.fullmatch(rx, 'Thought: x\nAction: convert.units\nAction Input: {"value": 3}')
    assert not re.fullmatch(rx, 'Thought: x\nAction: convertXunits\nAction Input: {}')  # names are literal


def test_constraints_can_be_switched_off(tiny_model_dir):
    free = LocalChatModel(tiny_model_dir, use_constraints=False)
    reply = free.chat(PROMPTS[0], Decoding(max_tokens=6, constraint="(Yes|No)"))
    assert reply.text not in ("Yes", "No") and reply.completion_tokens == 6
    assert free.cache_identity()["constraints"] is False


def test_cache_identity_names_the_model_not_the_path(tiny, tiny_model_dir):
    ident = tiny.cache_identity()
    assert ident["model"] == tiny.model_dir.name and len(ident["config_sha256"]) == 16
    assert str(tiny.model_dir.parent) not in json.dumps(ident)
    assert LocalChatModel(tiny_model_dir).cache_identity()["config_sha256"] != ident["config_sha256"]


def test_bad_model_dir_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=str(tmp_path / "nope")):
        LocalChatModel(tmp_path / "nope")


@pytest.mark.slow
def test_real_model_replies_sensibly(embedded_dir):
    model = LocalChatModel(embedded_dir)
    reply = model.chat([{"role": "user", "content": "What is the capital of France?"}], Decoding(max_tokens=30))
    assert "Paris" in reply.text


@pytest.mark.slow
def test_real_model_constrained_action_input_is_valid_json(embedded_dir):
    model = LocalChatModel(embedded_dir)
    rx = react_call_regex(["get_holidays", "convert_units"], {"get_holidays": HOLIDAYS})
    question = ("Tools: get_holidays(country: ISO code, year: integer) lists public holidays; "
                "convert_units(value, from, to) converts units.\nAnswer in the format Thought / Action / "
                "Action Input.\nQuestion: Which public holidays does Germany have in 2026?")
    reply = model.chat([{"role": "user", "content": question}], Decoding(max_tokens=120, constraint=rx))
    match = re.fullmatch(rx, reply.text)
    assert match, reply.text
    name = reply.text.split("\nAction: ")[1].split("\n")[0]
    args = json.loads(reply.text.split("Action Input: ", 1)[1])
    if name == "get_holidays":
        jsonschema.validate(args, HOLIDAYS)


def test_line_with_literals_needs_every_value_in_any_order(tiny):
    rx = line_with_literals(["CDG", "2.5", "CDG"])
    assert re.fullmatch(rx, "Where is CDG 2.5 km away") and re.fullmatch(rx, "2.5 miles from CDGs")
    assert not re.fullmatch(rx, "Where is CDG?") and not re.fullmatch(rx, "CDG\n2.5")
    assert not re.fullmatch(rx, "Where is xCDG 2.5") and not re.fullmatch(rx, "CDG 2.50")  # each value a word
    assert not re.fullmatch(rx, "CDG " + "a" * 40 + " 2.5")  # at most 32 characters of free text in a row
    assert line_with_literals([]) == r"[^\n]+"
    reply = tiny.chat(PROMPTS[0], Decoding(max_tokens=3, constraint=rx))  # compiles over the real vocabulary
    assert "\n" not in reply.text
    q = question_regex(["NRT", "2"])
    assert re.fullmatch(q, "Which airport is NRT for 2 people?") and re.fullmatch(q, "Where is NRT 2!")
    assert not re.fullmatch(q, "Which airport is NRT, for 2 people?")  # no commas: a short question
    assert not re.fullmatch(q, "NRT 2?") and not re.fullmatch(q, "What is NRT for 2? And more")
    assert tiny.chat(PROMPTS[1], Decoding(max_tokens=3, constraint=q)).text.split(" ")[0] in QUESTION_OPENERS


def test_a_question_with_three_values_in_any_order_is_enforced_token_by_token(tokenizer_dir):
    """Each call-first trial has its own question regex (3 values in 6 orders for convert_units): llguidance
    builds nothing up front, so it is ready at once, and its masks admit exactly the replies that match."""
    import time

    from transformers import AutoTokenizer

    from ste.core.llm.constraints import RegexCompiler, question_regex

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    compiler = RegexCompiler(tokenizer, 49152, {tokenizer.eos_token_id})
    start = time.perf_counter()
    compiled = compiler(question_regex(["250", "liter", "gallon"]))
    assert time.perf_counter() - start < 2  # outlines_core's token index took 15-50 s for this one
    assert compiler(question_regex(["250", "liter", "gallon"])) is compiled

    def admitted(text: str) -> bool:
        matcher = compiled.start()
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        for k, token in enumerate(ids):
            if not matcher.allowed()[token]:
                return False
            if not matcher.advance(token):  # complete: only the last token may complete it
                return k == len(ids) - 1
        return False

    assert admitted("How many gallons are in 250 liters?")
    assert admitted("What is 250 liter in gallon?")
    assert not admitted("How many gallons are in 25 liters?")  # a value missing: "?" is masked
    assert not admitted("How many gallons, in 250 liters?")  # no commas
    with pytest.raises(ValueError, match="cannot be compiled"):
        compiler("(unclosed")


@pytest.mark.slow
def test_real_model_greedy_replies_are_the_same_alone_and_sixteen_at_once(embedded_dir):
    """The embedded model at batch 1 and with 16 requests in flight: the same greedy replies, token for token."""
    questions = [f"Convert {n} miles to kilometres." for n in range(1, 9)] + \
                [f"What is the capital of country number {n} in Europe?" for n in range(1, 9)]
    prompts = [[{"role": "system", "content": "You answer briefly."}, {"role": "user", "content": q}]
               for q in questions]
    d = Decoding(max_tokens=12)
    alone = LocalChatModel(embedded_dir, workers=1, kv_cache_tokens=0)
    one_by_one = [alone.chat(p, d).text for p in prompts]
    together = [c.text for c in LocalChatModel(embedded_dir, workers=16).chat_many(prompts, d)]
    assert together == one_by_one
    assert len(set(one_by_one)) > 8
