"""Prefix caching for the local backend: a prompt that starts like an earlier sequence reuses its KV states.

Exploration sends the same conversation again and again, one turn longer each time, and every call of a stage
starts with the same system prompt; recomputing those tokens was half of a local explore run's time. The cache
keeps the KV states of recent token sequences (least recently used first out, capped in tokens) and hands a new
prompt the states of its longest stored prefix, so only the rest is computed. A sequence that extends a stored
one replaces it. The states are the same numbers a full prefill computes (up to float rounding), so replies do
not change.
"""
from __future__ import annotations

from collections import OrderedDict

import torch

KV = list[tuple[torch.Tensor, torch.Tensor]]  # per layer: keys and values, each [heads, tokens, head_dim]


def common_prefix(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    """How many leading tokens `a` and `b` share."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class PrefixCache:
    """KV states of recent token sequences, at most `max_tokens` tokens in all.

    Args:
        max_tokens: the cap; the least recently used sequences leave first. 0 turns the cache off.
    """

    def __init__(self, max_tokens: int):
        self.max_tokens = max_tokens
        self._entries: OrderedDict[tuple[int, ...], KV] = OrderedDict()
        self.tokens = 0  # stored now
        self.reused = 0  # prompt tokens served from the cache, in all
        self.computed = 0  # prompt tokens computed, in all

    def lookup(self, prompt: list[int]) -> tuple[int, KV | None]:
        """The longest stored prefix of `prompt` (at most all but its last token) and its states, sliced to it."""
        key, best = None, 0
        target = tuple(prompt)
        for stored in self._entries:
            n = min(common_prefix(stored, target), len(prompt) - 1)
            if n > best:
                key, best = stored, n
        if key is None:
            return 0, None
        self._entries.move_to_end(key)
        return best, [(k[:, :best], v[:, :best]) for k, v in self._entries[key]]

    def store(self, tokens: list[int], kv: KV) -> None:
        """Keep `tokens`' states; drop stored sequences it extends, then the oldest ones over the cap."""
        if not self.max_tokens or len(tokens) > self.max_tokens:
            return
        key = tuple(tokens)
        for stored in [s for s in self._entries if len(s) <= len(key) and key[:len(s)] == s]:
            self.tokens -= len(stored)
            del self._entries[stored]
        self._entries[key] = kv
        self.tokens += len(key)
        while self.tokens > self.max_tokens:
            oldest, _ = self._entries.popitem(last=False)
            self.tokens -= len(oldest)

    def count(self, reused: int, computed: int) -> None:
        self.reused += reused
        self.computed += computed


def batch_states(kvs: list[KV | None]) -> KV:
    """Per layer, the rows' reused states stacked, left-padded with zeros to the longest (masked out by the caller).

    A row with nothing reused (None) gets padding only.
    """
    like = next(kv for kv in kvs if kv is not None)
    width = max(kv[0][0].shape[1] for kv in kvs if kv is not None)

    def padded(kv: KV | None, layer: int, part: int) -> torch.Tensor:
        states = like[layer][part][:, :0] if kv is None else kv[layer][part]
        return torch.nn.functional.pad(states, (0, 0, width - states.shape[1], 0))

    return [tuple(torch.stack([padded(kv, layer, part) for kv in kvs]) for part in (0, 1))
            for layer in range(len(like))]


def row_states(cache, row: int, keep: torch.Tensor) -> KV:
    """One batch row's states at the positions `keep` (a bool mask over the cache's length), copied out."""
    return [(layer.keys[row][:, keep], layer.values[row][:, keep]) for layer in cache.layers]
