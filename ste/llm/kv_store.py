"""Kept KV states for the local backend: engine generators rewound to the start of a reply, by their tokens.

Exploration sends a conversation again and again, one turn longer each time, and every call of a stage starts
with the same system prompt. A request takes the kept generator whose tokens are the longest prefix of its
prompt ending where one of the prompt's chunks starts (a chunk is a message), feeds the chunks it lacks, and
puts the generator back when its reply is done. A generator serves one request at a time: a taken one is out
of the store until it is put back. The least recently used go first once more than `max_tokens` are kept.

What the store holds changes only the speed, never a reply (see `ste.llm.local`).
"""
from __future__ import annotations

import threading
from collections import OrderedDict


class KVStore:
    """Generators by the tokens they hold, `max_tokens` tokens in all (0: keep none)."""

    def __init__(self, max_tokens: int):
        self.max_tokens = max_tokens
        self._kept: OrderedDict[tuple[int, ...], object] = OrderedDict()
        self._tokens = 0
        self._lock = threading.Lock()
        self.reused = 0  # prompt tokens whose states came from the store
        self.computed = 0  # prompt tokens fed to the engine (the caller counts them)

    def take(self, prompt: list[int], chunk_starts: list[int]) -> tuple[object | None, int]:
        """The kept generator with the longest prefix of `prompt` that ends at a chunk start, and that length.

        The generator leaves the store. (None, 0) when none fits.
        """
        starts = set(chunk_starts)
        with self._lock:
            best = max((key for key in self._kept
                        if len(key) in starts and len(key) <= len(prompt) and tuple(prompt[:len(key)]) == key),
                       key=len, default=None)
            if best is None:
                return None, 0
            self._tokens -= len(best)
            self.reused += len(best)
            return self._kept.pop(best), len(best)

    def put(self, tokens: list[int], generator) -> None:
        """Keep `generator`, which holds the states of `tokens`; evict the least recently used past the budget."""
        key = tuple(tokens)
        if not key or len(key) > self.max_tokens:
            return
        with self._lock:
            if key in self._kept:  # the same prefix twice: the newer one stays
                self._tokens -= len(key)
                del self._kept[key]
            self._kept[key] = generator
            self._tokens += len(key)
            while self._tokens > self.max_tokens:
                old, _ = self._kept.popitem(last=False)
                self._tokens -= len(old)

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def tokens(self) -> int:
        return self._tokens
