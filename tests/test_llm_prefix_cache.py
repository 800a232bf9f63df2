"""Prefix caching in the local backend: the same replies as without it, fewer prompt tokens computed."""
from __future__ import annotations

import pytest
import torch

from ste.llm.base import Decoding
from ste.llm.local import LocalChatModel
from ste.llm.prefix_cache import PrefixCache
from tests.helpers import varied_tiny_model

SYSTEM = {"role": "system", "content": "You are a careful assistant. " * 12}
GREEDY = Decoding(max_tokens=10)


@pytest.fixture(scope="module")
def varied_dir(tiny_model_dir, tmp_path_factory):
    """The tiny model with larger random weights, so that greedy replies depend on the whole prompt."""
    return varied_tiny_model(tiny_model_dir, tmp_path_factory.mktemp("tiny-prefix"), seed=1)


def conversation(question: str, *turns: str) -> list[dict]:
    """A chat: the system prompt, the question, then alternating assistant/user turns."""
    messages = [SYSTEM, {"role": "user", "content": question}]
    for k, text in enumerate(turns):
        messages.append({"role": "assistant" if k % 2 == 0 else "user", "content": text})
    return messages


def test_multi_turn_replies_match_and_reuse_the_earlier_turns(varied_dir):
    cached, plain = LocalChatModel(varied_dir), LocalChatModel(varied_dir, prefix_cache_tokens=0)
    first = conversation("Convert 3 miles to km.")
    reply = cached.chat(first, GREEDY).text
    assert reply == plain.chat(first, GREEDY).text
    before = cached.prefix_cache.computed
    second = conversation("Convert 3 miles to km.", reply, "Observation: 4.828")
    assert cached.chat(second, GREEDY).text == plain.chat(second, GREEDY).text
    second_len = len(cached._encode(second))
    assert cached.prefix_cache.computed - before < second_len - len(cached._encode(first)) + 8
    assert plain.prefix_cache.reused == 0 and plain.prefix_cache.tokens == 0


def test_a_batch_mixing_reused_and_new_prompts_matches(varied_dir):
    cached, plain = LocalChatModel(varied_dir), LocalChatModel(varied_dir, prefix_cache_tokens=0)
    cached.chat(conversation("What is the capital of Peru?"), GREEDY)  # leaves a prefix for one row below
    batch = [conversation("What is the capital of Peru?", "Lima", "And of Chile?"),
             [{"role": "user", "content": "Hi"}],
             conversation("Spell 42 in words.")]
    assert [c.text for c in cached.chat_many(batch, GREEDY)] == [c.text for c in plain.chat_many(batch, GREEDY)]


def test_a_batch_computes_its_shared_system_prompt_once(varied_dir):
    cached, plain = LocalChatModel(varied_dir), LocalChatModel(varied_dir, prefix_cache_tokens=0)
    batch = [conversation(q) for q in ("Convert 3 miles to km.", "Holidays in France?", "Time in Tokyo?")]
    sampled = Decoding(max_tokens=10, temperature=0.9, seed=7)
    assert [c.text for c in cached.chat_many(batch, sampled)] == [c.text for c in plain.chat_many(batch, sampled)]
    lengths = [len(cached._encode(m)) for m in batch]
    assert plain.prefix_cache.computed == sum(lengths)
    assert cached.prefix_cache.computed < sum(lengths) * 0.6  # the system prompt once, then three short suffixes


def kv(n: int) -> list:
    return [(torch.full((1, n, 2), float(n)), torch.zeros(1, n, 2))]


def test_lookup_takes_the_longest_prefix_and_leaves_one_token_to_compute():
    cache = PrefixCache(100)
    cache.store([1, 2, 3], kv(3))
    cache.store([1, 2, 9, 9], kv(4))
    n, states = cache.lookup([1, 2, 9, 9])
    assert n == 3 and states[0][0].shape == (1, 3, 2)  # all but the last token: its logits are needed
    assert cache.lookup([1, 2, 3, 4])[0] == 3
    assert cache.lookup([7, 8]) == (0, None)


def test_a_longer_sequence_replaces_its_prefix_and_the_cap_evicts_the_oldest():
    cache = PrefixCache(10)
    cache.store([1, 2], kv(2))
    cache.store([1, 2, 3, 4], kv(4))  # extends [1, 2]: replaces it
    assert cache.tokens == 4
    cache.store([5, 6, 7, 8], kv(4))
    cache.lookup([1, 2, 3, 4, 5])  # [1, 2, 3, 4] is now the most recently used
    cache.store([9, 9, 9], kv(3))  # 11 tokens: the least recently used ([5, 6, 7, 8]) leaves
    assert cache.tokens == 7
    assert cache.lookup([5, 6, 7, 8, 0])[0] == 0 and cache.lookup([1, 2, 3, 4, 0])[0] == 4
    cache.store(list(range(20)), kv(20))  # longer than the cap: not kept
    assert cache.tokens == 7


def test_rows_of_very_different_new_lengths_are_prefilled_one_by_one_with_the_same_replies(varied_dir, monkeypatch):
    """A long uncached conversation beside short cached ones: each row is computed alone (no padding to the
    longest), stacked for decoding, and the replies are what a batched or a one-by-one run gives."""
    cached = LocalChatModel(varied_dir)
    short = [conversation(f"Question {i}?") for i in range(3)]
    for c in short:
        cached.chat(c, GREEDY)
    batch = [conversation("A long question, never seen: " + "the weather in Lima, " * 20)] + [
        c + [{"role": "assistant", "content": "ok"}, {"role": "user", "content": "more"}] for c in short]
    rows, original = [], LocalChatModel._prefill_rows

    def spy(self, *args):
        rows.append(len(args[0]))
        return original(self, *args)

    monkeypatch.setattr(LocalChatModel, "_prefill_rows", spy)
    together = [c.text for c in cached.chat_many(batch, GREEDY)]
    assert rows, "the per-row prefill did not run"
    alone = LocalChatModel(varied_dir, prefix_cache_tokens=0)
    assert together == [alone.chat(c, GREEDY).text for c in batch]
